import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "./connection";
import { applySecurity, readSecurityCatalog, RecordedPolicies, securityDrift, SecurityModel, undeclaredPolicies } from "../postgres/security";
import { asError, connectionProblems, containsUnknown, identifierProblem, sameValue } from "./common";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { withSecretOutputs } from "./secret-outputs";

/** What the engine hands the provider: the resolved {@link DatabaseSecurityArgs}, plus `drift`, which `check` fills. */
export interface DatabaseSecurityInputs {
    connection: PgConnectionInfo;
    model: SecurityModel;
    /**
     * How the catalog differs from the model, read by `check` on every preview of an existing
     * resource. It is an input so that the preview shows it as a change (`drift: [] => [...]`), and
     * `up` restores what it lists; after that it is `[]` again.
     */
    drift?: string[];
}

export interface DatabaseSecurityOutputs extends DatabaseSecurityInputs {
    /** What Postgres made of each policy's expressions when the stack last created it. */
    recorded: RecordedPolicies;
    /** Policies on the stack's tables that the stack does not declare (set by create, update and refresh; never dropped). */
    undeclared: string[];
}

export interface DatabaseSecurityArgs {
    /** Admin connection (the migrations' owner); made a secret here whether or not the caller did. */
    connection: pulumi.Input<PgConnectionInfo>;
    model: pulumi.Input<SecurityModel>;
}

function inputProblems(news: DatabaseSecurityInputs): Problem[] {
    const problems = connectionProblems(news.connection);
    if (containsUnknown(news.model)) return problems;
    const m = news.model;
    if (!m || typeof m !== "object") return [...problems, problem("model", "required, the security model (securityModel())")];
    const schemaProblem = identifierProblem("model.schema", m.schema);
    if (schemaProblem) problems.push(schemaProblem);
    if (!Array.isArray(m.rlsTables) || !Array.isArray(m.policies) || !Array.isArray(m.privateFunctions)) {
        problems.push(problem("model", "must have rlsTables, policies and privateFunctions arrays"));
    }
    if (m.definerFunctions !== undefined) {
        if (!Array.isArray(m.definerFunctions)) problems.push(problem("model.definerFunctions", "must be an array of { schema, name }"));
        else {
            m.definerFunctions.forEach((f, i) => {
                for (const p of [
                    identifierProblem(`model.definerFunctions[${i}].schema`, f?.schema),
                    identifierProblem(`model.definerFunctions[${i}].name`, f?.name),
                ]) {
                    if (p) problems.push(p);
                }
            });
        }
    }
    return problems;
}

/** The catalog's drift from the model, or undefined when the database cannot be reached (a preview without access). */
async function driftIfReachable(inputs: DatabaseSecurityInputs, recorded: RecordedPolicies | undefined): Promise<string[] | undefined> {
    let connected = false;
    try {
        return await withClient(inputs.connection, async (client) => {
            connected = true;
            return securityDrift(inputs.model, await readSecurityCatalog(client, inputs.model), recorded);
        });
    } catch (err) {
        if (!connected) return undefined;
        throw asError(err, `DatabaseSecurity ${inputs.model.schema}: cannot read the catalog`);
    }
}

async function apply(news: DatabaseSecurityInputs): Promise<DatabaseSecurityOutputs> {
    assertNoProblems(`DatabaseSecurity ${news.model?.schema}`, inputProblems(news));
    try {
        return await withClient(news.connection, async (client) => {
            const recorded = await applySecurity(client, news.model);
            const undeclared = undeclaredPolicies(news.model, await readSecurityCatalog(client, news.model));
            return { ...news, drift: [], recorded, undeclared };
        });
    } catch (err) {
        throw asError(err, `DatabaseSecurity ${news.model.schema}`);
    }
}

/**
 * Keeps the database's security objects (row-level security, policies, PUBLIC's EXECUTE on the
 * schema's functions, ownership) as the model declares them, whatever happened to them since the
 * migrations ran.
 *
 * - `check` reads the catalog (read-only) for an existing resource and puts what differs into the
 *   `drift` input, so the preview shows it; an unreachable database shows nothing.
 * - `diff`: any drift, or a changed model or connection, is an update; never a replace.
 * - `create`/`update` restore the model in one transaction; `read` (refresh) reports the drift.
 * - `delete` drops nothing: the policies go with their tables (the migrations' down parts).
 */
export const databaseSecurityProvider: pulumi.dynamic.ResourceProvider<DatabaseSecurityInputs, DatabaseSecurityOutputs> = {
    async check(olds, news) {
        const problems = inputProblems(news);
        let drift: string[] = [];
        const existing = olds && typeof olds === "object" && "model" in olds;
        if (problems.length === 0 && existing && !containsUnknown(news)) {
            drift = (await driftIfReachable(news, (olds as Partial<DatabaseSecurityOutputs>).recorded)) ?? [];
        }
        return { inputs: { ...news, drift }, failures: checkFailures(problems) };
    },

    async diff(_id, olds, news) {
        if (containsUnknown(news)) return { changes: true, replaces: [], deleteBeforeReplace: false };
        const changes = (news.drift ?? []).length > 0 || !sameValue(olds.model, news.model) || !sameValue(olds.connection, news.connection);
        return { changes, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs) {
        const outs = await apply(inputs);
        return { id: inputs.model.schema, outs };
    },

    async read(id, props) {
        if (!props || connectionProblems(props.connection).length > 0) {
            throw new Error(`DatabaseSecurity ${id}: cannot read without the connection in the state (import is not supported)`);
        }
        return await withClient(props.connection, async (client) => {
            const catalog = await readSecurityCatalog(client, props.model);
            // `drift` stays as the last update left it ([]): the next preview's check reads it anew.
            return { id, props: { ...props, undeclared: undeclaredPolicies(props.model, catalog) } };
        });
    },

    async update(_id, _olds, news) {
        return { outs: await apply(news) };
    },

    async delete() {
        // Nothing to drop: the policies live and die with their tables.
    },
};

/**
 * The stack's row-level security, policies, function privileges and ownership, reconciled with the
 * catalog on every `up`. Type token `pulumi-nodejs:dynamic/auth0-postgres:DatabaseSecurity`.
 */
export class DatabaseSecurity extends pulumi.dynamic.Resource {
    declare public readonly drift: pulumi.Output<string[]>;
    declare public readonly undeclared: pulumi.Output<string[]>;

    constructor(name: string, args: DatabaseSecurityArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            databaseSecurityProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection), drift: undefined, recorded: undefined, undeclared: undefined },
            withSecretOutputs<DatabaseSecurityOutputs>(opts, "connection"),
            "auth0-postgres",
            "DatabaseSecurity",
        );
    }
}
