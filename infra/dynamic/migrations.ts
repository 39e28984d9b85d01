import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "./connection";
import { applyMigrations, assertPlanIsSafe, MigrationPlan, planMigrations, revertMigrations } from "../postgres/migrate";
import { checksum, Migration } from "../postgres/migrations";
import { asError, connectionProblems, containsUnknown, identifierProblem, sameValue } from "./common";
import { assertNoProblems, checkFailures, Problem, problem, problemText } from "./problems";
import { withSecretOutputs } from "./secret-outputs";

/** What the engine hands the provider: the resolved {@link MigrationsArgs}. */
export interface MigrationsInputs {
    connection: PgConnectionInfo;
    schema: string;
    migrations: Migration[];
    allowDataLoss?: boolean;
    /** The stack's role prefix, recorded on the ledger: another stack's ledger in the schema is refused plainly. */
    owner?: string;
}

/** The state: the inputs plus the ids of the migrations applied in the database, in id order. */
export interface MigrationsOutputs extends MigrationsInputs {
    applied: string[];
}

export interface MigrationsArgs {
    /** Admin connection; made a secret here whether or not the caller did. */
    connection: pulumi.Input<PgConnectionInfo>;
    /** Schema holding the tables and the `schema_migrations` ledger. It cannot change once created. */
    schema: pulumi.Input<string>;
    /** The rendered migrations in id order (`loadMigrations`). Applied ones must never change or disappear. */
    migrations: pulumi.Input<Migration[]>;
    /**
     * Let deleting this resource revert every applied migration (their `-- migrate:down` parts, which
     * drop the tables and their data). Defaults to false: a delete leaves tables, data and ledger in place.
     */
    allowDataLoss?: pulumi.Input<boolean>;
    /** The stack's role prefix, recorded on the ledger (two stacks on one database need distinct schemas). */
    owner?: pulumi.Input<string>;
}

/** Problems with the inputs alone, each naming the field. */
function inputProblems(news: MigrationsInputs): Problem[] {
    const problems = connectionProblems(news.connection);
    const schemaProblem = identifierProblem("schema", news.schema);
    if (schemaProblem) problems.push(schemaProblem);
    if (news.allowDataLoss !== undefined && !containsUnknown(news.allowDataLoss) && typeof news.allowDataLoss !== "boolean") {
        problems.push(problem("allowDataLoss", "must be a boolean"));
    }
    if (containsUnknown(news.migrations)) return problems;
    if (!Array.isArray(news.migrations)) return [...problems, problem("migrations", "required, an array of { id, up, down, checksum }")];
    news.migrations.forEach((m, i) => {
        if (!m || typeof m.id !== "string" || !/^\d{3}_[a-z0-9_]+$/.test(m.id)) problems.push(problem(`migrations[${i}].id`, "must look like 001_name"));
        if (!m || typeof m.up !== "string" || m.up.trim() === "") problems.push(problem(`migrations[${i}].up`, "required, the SQL to apply"));
        if (!m || typeof m.down !== "string") problems.push(problem(`migrations[${i}].down`, "required, a string (may be empty)"));
        if (m && typeof m.up === "string" && m.checksum !== checksum(m.up)) {
            problems.push(problem(`migrations[${i}].checksum`, "does not match the sha256 of its up text; build migrations with loadMigrations"));
        }
    });
    const ids = news.migrations.map((m) => m?.id);
    if (new Set(ids).size !== ids.length) problems.push(problem("migrations", `duplicate ids in ${ids.join(", ")}`));
    if ([...ids].sort().join() !== ids.join()) problems.push(problem("migrations", `must be in id order (got ${ids.join(", ")})`));
    return problems;
}

/**
 * Compares the new migrations with what the state says was applied: an applied migration whose
 * checksum changed, or that is gone from the program, is an error (whatever the database says).
 */
function stateProblems(olds: Partial<MigrationsOutputs> | undefined, news: MigrationsInputs): Problem[] {
    const problems: Problem[] = [];
    if (olds && typeof olds.schema === "string" && !containsUnknown(news.schema) && olds.schema !== news.schema) {
        problems.push(
            problem(
                "schema",
                `cannot change from "${olds.schema}" to "${news.schema}": the tables live in "${olds.schema}"; add a new Migrations resource for the new schema`,
            ),
        );
    }
    const previous = olds?.migrations;
    if (!Array.isArray(previous) || containsUnknown(news.migrations) || !Array.isArray(news.migrations)) return problems;
    const before = new Map(previous.map((m) => [m.id, m.checksum]));
    const now = new Map(news.migrations.map((m) => [m.id, m.checksum]));
    // `applied` is in the outputs (diff, update); `check` only has the old inputs, all applied then.
    const done = Array.isArray(olds?.applied) ? olds.applied : previous.map((m) => m.id);
    const changed = done.filter((id) => now.has(id) && before.has(id) && now.get(id) !== before.get(id));
    const removed = done.filter((id) => !now.has(id));
    if (changed.length > 0) {
        problems.push(
            problem(
                "migrations",
                `applied migration(s) ${changed.join(", ")} changed since they ran (checksum differs from the state); never edit an applied migration, add a new one`,
            ),
        );
    }
    if (removed.length > 0) {
        problems.push(problem("migrations", `applied migration(s) ${removed.join(", ")} are no longer in the program; never remove an applied migration`));
    }
    return problems;
}

/** Reads the plan from the database, or undefined when the database cannot be reached. */
async function planIfReachable(news: MigrationsInputs): Promise<MigrationPlan | undefined> {
    let connected = false;
    try {
        return await withClient(news.connection, async (client) => {
            connected = true;
            return await planMigrations(client, news.schema, news.migrations);
        });
    } catch (err) {
        if (!connected) return undefined;
        throw asError(err, `Migrations ${news.schema}: cannot read the migration ledger`);
    }
}

async function apply(news: MigrationsInputs): Promise<MigrationsOutputs> {
    assertNoProblems(`Migrations ${news.schema}`, inputProblems(news));
    try {
        return await withClient(news.connection, async (client) => {
            await applyMigrations(client, news.schema, news.migrations, news.owner);
            const plan = await planMigrations(client, news.schema, news.migrations);
            return { ...news, allowDataLoss: news.allowDataLoss ?? false, applied: plan.applied };
        });
    } catch (err) {
        throw asError(err, `Migrations ${news.schema}`);
    }
}

/**
 * Applies checksummed migrations with the project's runner (`infra/postgres/migrate.ts`).
 *
 * - `diff`: new migrations are an update, never a replace. An applied migration whose text changed
 *   (against the state, and against the database's ledger when it is reachable) fails the preview.
 *   A changed `schema` is refused by `check`: create a new resource instead.
 * - `delete`: with `allowDataLoss` reverts every applied migration; otherwise leaves tables, data
 *   and ledger in place and says so on the provider's output.
 */
export const migrationsProvider: pulumi.dynamic.ResourceProvider<MigrationsInputs, MigrationsOutputs> = {
    async check(olds, news) {
        const problems = [...inputProblems(news), ...stateProblems(olds, news)];
        return { inputs: { ...news, allowDataLoss: news.allowDataLoss ?? false }, failures: checkFailures(problems) };
    },

    async diff(_id, olds, news) {
        const fromState = stateProblems(olds, news);
        if (fromState.length > 0) throw new Error(`Migrations ${olds.schema}: ${fromState.map(problemText).join("; ")}`);
        if (containsUnknown(news)) return { changes: true, replaces: [], deleteBeforeReplace: false };

        const plan = await planIfReachable(news);
        if (plan) {
            try {
                assertPlanIsSafe(plan, news.schema, news.owner);
            } catch (err) {
                throw asError(err, `Migrations ${news.schema}: the database refuses this program's migrations`);
            }
        }
        const appliedBefore = new Set(olds.applied ?? []);
        const pending = plan ? plan.pending : news.migrations.map((m) => m.id).filter((id) => !appliedBefore.has(id));
        const changes =
            pending.length > 0 ||
            !sameValue(olds.migrations, news.migrations) ||
            !sameValue(olds.connection, news.connection) ||
            olds.owner !== news.owner ||
            (olds.allowDataLoss ?? false) !== (news.allowDataLoss ?? false);
        return { changes, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs) {
        const outs = await apply(inputs);
        return { id: inputs.schema, outs };
    },

    async read(id, props) {
        if (!props || connectionProblems(props.connection).length > 0) {
            throw new Error(`Migrations ${id}: cannot read without the connection in the state (import is not supported)`);
        }
        const plan = await withClient(props.connection, (client) => planMigrations(client, props.schema, props.migrations ?? []));
        // Everything the ledger lists, so a refresh shows drift (a changed or unknown migration) too.
        const applied = [...plan.applied, ...plan.drifted, ...plan.unknown].sort();
        return { id, props: { ...props, applied } };
    },

    async update(_id, olds, news) {
        const fromState = stateProblems(olds, news);
        if (fromState.length > 0) throw new Error(`Migrations ${olds.schema}: ${fromState.map(problemText).join("; ")}`);
        return { outs: await apply(news) };
    },

    async delete(id, props) {
        if (props.allowDataLoss !== true) {
            console.warn(
                `Migrations ${props.schema ?? id}: removed from the stack but NOT reverted: tables, data and the ${props.schema}.schema_migrations ledger stay in the database (allowDataLoss is false).`,
            );
            return;
        }
        try {
            const reverted = await withClient(props.connection, (client) => revertMigrations(client, props.schema, props.migrations));
            console.warn(`Migrations ${props.schema}: reverted ${reverted.length > 0 ? reverted.join(", ") : "nothing"} (allowDataLoss is true).`);
        } catch (err) {
            throw asError(err, `Migrations ${props.schema}: cannot revert`);
        }
    },
};

/**
 * The stack's checksummed migrations in one schema. Type token
 * `pulumi-nodejs:dynamic/auth0-postgres:Migrations`. Never replaced; deleting it keeps the tables
 * unless `allowDataLoss` is true.
 */
export class Migrations extends pulumi.dynamic.Resource {
    // `declare`, not `!:`: with target ES2022 a class field would reset the output super() set.
    declare public readonly schema: pulumi.Output<string>;
    /** Ids of the migrations applied in the database, in id order. */
    declare public readonly applied: pulumi.Output<string[]>;
    declare public readonly allowDataLoss: pulumi.Output<boolean>;

    constructor(name: string, args: MigrationsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            migrationsProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection), applied: undefined },
            withSecretOutputs<MigrationsOutputs>(opts, "connection"),
            "auth0-postgres",
            "Migrations",
        );
    }
}
