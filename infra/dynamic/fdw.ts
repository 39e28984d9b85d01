import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "./connection";
import { ident } from "../postgres/privileges";
import { asError, execute, connectionProblems, containsUnknown, identifierProblem, qualifiedIdent, qualifiedNameProblem, sameValue } from "./common";
import { reachesAnotherDatabase } from "./database-identity";
import { assertNoProblems, checkFailures, Problem, problemText } from "./problems";
import {
    extensionVersionProblemIfReachable,
    extensionVersions,
    extensionVersionProblem,
    RequiredExtension,
    requiredExtensionProblems,
} from "./extension-version";
import { withSecretOutputs } from "./secret-outputs";

export interface ForeignDataWrapperInputs {
    connection: PgConnectionInfo;
    name: string;
    handler: string;
    validator: string;
    extension?: RequiredExtension;
}

export type ForeignDataWrapperOutputs = ForeignDataWrapperInputs;

export interface ForeignDataWrapperArgs {
    /** Admin connection; made a secret here whether or not the caller did. */
    connection: pulumi.Input<PgConnectionInfo>;
    /** The wrapper's name, e.g. `auth0_wrapper`. A new name replaces the wrapper. */
    name: pulumi.Input<string>;
    /** Schema-qualified handler function, e.g. `extensions.auth0_fdw_handler`. */
    handler: pulumi.Input<string>;
    /** Schema-qualified validator function, e.g. `extensions.auth0_fdw_validator`. */
    validator: pulumi.Input<string>;
    /**
     * The extension the handler comes from, and its oldest version that works: every preview reads
     * the database's version and fails, naming both, when it is older. Defaults to no check.
     */
    extension?: pulumi.Input<RequiredExtension>;
}

function inputProblems(news: ForeignDataWrapperInputs): Problem[] {
    const problems = connectionProblems(news.connection);
    for (const p of [
        identifierProblem("name", news.name),
        qualifiedNameProblem("handler", news.handler, true),
        qualifiedNameProblem("validator", news.validator, true),
    ]) {
        if (p) problems.push(p);
    }
    if (!containsUnknown(news.extension)) problems.push(...requiredExtensionProblems(news.extension, "extension"));
    return problems;
}

/** Fails, naming the versions, when the database's version of the wrapper's extension is too old. */
async function assertExtensionVersion(client: Parameters<typeof extensionVersions>[0], inputs: ForeignDataWrapperInputs): Promise<void> {
    if (!inputs.extension) return;
    const problem = extensionVersionProblem(
        "extension",
        `the foreign data wrapper ${inputs.name}`,
        inputs.extension,
        await extensionVersions(client, inputs.extension.name),
    );
    if (problem) throw new Error(problemText(problem));
}

/**
 * A foreign data wrapper (`CREATE FOREIGN DATA WRAPPER name HANDLER h VALIDATOR v`).
 *
 * - `check`: with `extension`, reads the installed version (or the one CREATE EXTENSION would
 *   install) at every preview and fails, naming both versions, when it is older than needed; a
 *   database out of reach is checked by `create` and `update` instead.
 * - `diff`: a new name (or another database) replaces it; a new handler or validator is an
 *   `ALTER FOREIGN DATA WRAPPER` in place.
 * - `read`: the wrapper's handler and validator from `pg_foreign_data_wrapper`, schema-qualified.
 * - `delete`: `DROP FOREIGN DATA WRAPPER ... RESTRICT`, which fails, naming the servers, while
 *   foreign servers still use it. A wrapper holds no data.
 */
export const foreignDataWrapperProvider: pulumi.dynamic.ResourceProvider<ForeignDataWrapperInputs, ForeignDataWrapperOutputs> = {
    async check(_olds, news) {
        const problems = inputProblems(news);
        if (problems.length === 0 && news.extension && !containsUnknown(news)) {
            const problem = await extensionVersionProblemIfReachable(news.connection, "extension", `the foreign data wrapper ${news.name}`, news.extension);
            if (problem) problems.push(problem);
        }
        return { inputs: news, failures: checkFailures(problems) };
    },

    async diff(_id, olds, news) {
        const replaces: string[] = [];
        if (containsUnknown(news.name) || olds.name !== news.name) replaces.push("name");
        // Another host or port reaching the same database is no move (see reachesAnotherDatabase).
        if (!containsUnknown(news.connection) && (await reachesAnotherDatabase(undefined, olds.connection, news.connection))) replaces.push("connection");
        const changes =
            replaces.length > 0 ||
            containsUnknown(news) ||
            olds.handler !== news.handler ||
            olds.validator !== news.validator ||
            !sameValue(olds.extension, news.extension) ||
            !sameValue(olds.connection, news.connection);
        // A new name does not collide with the old one: create the new wrapper first.
        return { changes, replaces, deleteBeforeReplace: false };
    },

    async create(inputs) {
        assertNoProblems(`ForeignDataWrapper ${inputs.name}`, inputProblems(inputs));
        const sql = `CREATE FOREIGN DATA WRAPPER ${ident(inputs.name)} HANDLER ${qualifiedIdent("handler", inputs.handler)} VALIDATOR ${qualifiedIdent("validator", inputs.validator)}`;
        try {
            await withClient(inputs.connection, async (client) => {
                await assertExtensionVersion(client, inputs);
                await client.query(sql);
            });
        } catch (err) {
            throw asError(err, `ForeignDataWrapper ${inputs.name}: cannot create`);
        }
        return { id: inputs.name, outs: { ...inputs } };
    },

    async read(id, props) {
        if (!props || connectionProblems(props.connection).length > 0) {
            throw new Error(`ForeignDataWrapper ${id}: cannot read without the connection in the state (import is not supported)`);
        }
        const row = await withClient(props.connection, async (client) => {
            const res = await client.query<{ handler: string | null; validator: string | null }>(
                `SELECT (SELECT hn.nspname || '.' || h.proname FROM pg_proc h JOIN pg_namespace hn ON hn.oid = h.pronamespace WHERE h.oid = w.fdwhandler) AS handler,
                        (SELECT vn.nspname || '.' || v.proname FROM pg_proc v JOIN pg_namespace vn ON vn.oid = v.pronamespace WHERE v.oid = w.fdwvalidator) AS validator
                   FROM pg_foreign_data_wrapper w WHERE w.fdwname = $1`,
                [id],
            );
            return res.rows[0];
        });
        if (!row) return {};
        return { id, props: { ...props, name: id, handler: row.handler ?? "", validator: row.validator ?? "" } };
    },

    async update(id, olds, news) {
        assertNoProblems(`ForeignDataWrapper ${news.name}`, inputProblems(news));
        const clauses: string[] = [];
        if (olds.handler !== news.handler) clauses.push(`HANDLER ${qualifiedIdent("handler", news.handler)}`);
        if (olds.validator !== news.validator) clauses.push(`VALIDATOR ${qualifiedIdent("validator", news.validator)}`);
        try {
            await withClient(news.connection, async (client) => {
                await assertExtensionVersion(client, news);
                if (clauses.length > 0) await client.query(`ALTER FOREIGN DATA WRAPPER ${ident(id)} ${clauses.join(" ")}`);
            });
        } catch (err) {
            throw asError(err, `ForeignDataWrapper ${id}: cannot alter`);
        }
        return { outs: { ...news } };
    },

    async delete(id, props) {
        await execute(
            props.connection,
            `ForeignDataWrapper ${id}: cannot drop`,
            `DROP FOREIGN DATA WRAPPER IF EXISTS ${ident(id)} RESTRICT`,
            [],
            (dependents) => `ForeignDataWrapper ${id}: cannot drop it while foreign servers still use it${dependents}; delete those servers first`,
        );
    },
};

/** A foreign data wrapper. Type token `pulumi-nodejs:dynamic/auth0-postgres:ForeignDataWrapper`. */
export class ForeignDataWrapper extends pulumi.dynamic.Resource {
    // `declare`, not `!:`: with target ES2022 a class field would reset the output super() set.
    declare public readonly name: pulumi.Output<string>;
    declare public readonly handler: pulumi.Output<string>;
    declare public readonly validator: pulumi.Output<string>;

    constructor(name: string, args: ForeignDataWrapperArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            foreignDataWrapperProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection) },
            withSecretOutputs<ForeignDataWrapperOutputs>(opts, "connection"),
            "auth0-postgres",
            "ForeignDataWrapper",
        );
    }
}
