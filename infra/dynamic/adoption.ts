import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "./connection";
import { AdoptionReport, adoptUsersTable, inspectAdoption, refusal } from "../postgres/adopt-users";
import { checksum, Migration } from "../postgres/migrations";
import { asError, connectionProblems, containsUnknown, identifierProblem, qualifiedNameProblem, sameValue } from "./common";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { withSecretOutputs } from "./secret-outputs";

/** What the engine hands the provider: the resolved {@link UsersTableAdoptionArgs}. */
export interface UsersTableAdoptionInputs {
    connection: PgConnectionInfo;
    /** The template table to adopt, `schema.table`. */
    source: string;
    /** The stack's schema. */
    schema: string;
    /** Migration 001 as rendered for the stack. */
    userStore: Migration;
    /** The stack's role prefix (the ledger's owner). */
    owner?: string;
}

export interface UsersTableAdoptionOutputs extends UsersTableAdoptionInputs {
    /** `adopted` (this resource did it) or `already-applied` (001 was on the ledger: nothing to adopt). */
    status: string;
    /** Rows adopted (0 when nothing was adopted). */
    rows: number;
    /** What the adoption did or kept besides, one line each. */
    notes: string[];
}

export interface UsersTableAdoptionArgs {
    /** Admin connection (the migrations' owner); made a secret here whether or not the caller did. */
    connection: pulumi.Input<PgConnectionInfo>;
    source: pulumi.Input<string>;
    schema: pulumi.Input<string>;
    userStore: pulumi.Input<Migration>;
    owner?: pulumi.Input<string>;
}

function inputProblems(news: UsersTableAdoptionInputs): Problem[] {
    const problems = connectionProblems(news.connection);
    const source = qualifiedNameProblem("source", news.source, true);
    if (source) problems.push(source);
    const schema = identifierProblem("schema", news.schema);
    if (schema) problems.push(schema);
    if (!containsUnknown(news.userStore)) {
        const m = news.userStore;
        if (!m || typeof m.id !== "string" || typeof m.up !== "string" || m.checksum !== checksum(m.up)) {
            problems.push(problem("userStore", "migration 001 as loadMigrations renders it (id, up, checksum of up)"));
        }
    }
    return problems;
}

/** Whether the table can be adopted, read-only; undefined when the database cannot be reached (a preview without access). */
async function inspectIfReachable(news: UsersTableAdoptionInputs): Promise<AdoptionReport | undefined> {
    let connected = false;
    try {
        return await withClient(news.connection, async (client) => {
            connected = true;
            return await inspectAdoption(client, news);
        });
    } catch (err) {
        if (!connected) return undefined;
        throw asError(err, `UsersTableAdoption ${news.source}: cannot look at the table`);
    }
}

async function adopt(news: UsersTableAdoptionInputs): Promise<UsersTableAdoptionOutputs> {
    assertNoProblems(`UsersTableAdoption ${news.source}`, inputProblems(news));
    try {
        const report = await withClient(news.connection, (client) => adoptUsersTable(client, news));
        if (report.status === "already-applied") {
            console.warn(
                `UsersTableAdoption ${news.source}: ${news.userStore.id} is already applied in schema ${news.schema}: nothing adopted, ${news.source} is left as it is.`,
            );
        } else {
            console.warn(
                `UsersTableAdoption: adopted ${report.rows} row(s) of ${news.source} as ${news.schema}.users.${report.notes.map((n) => `\n  - ${n}`).join("")}`,
            );
        }
        return { ...news, status: report.status, rows: report.rows, notes: report.notes };
    } catch (err) {
        throw asError(err, `UsersTableAdoption ${news.source}`);
    }
}

/**
 * Adopts an existing user table in the shape of Auth0's PostgreSQL template as the stack's user
 * store (`infra/postgres/adopt-users.ts`), before the migrations run: the table is brought to
 * migration 001's shape in place and 001 is recorded as applied.
 *
 * - `check` looks at the table (read-only) when 001 is not applied yet, so the preview of the
 *   first `up` fails, naming the rows, when the table cannot be adopted (emails that differ only in
 *   case, rows the user store cannot hold), before anything changes. Unreachable: nothing shown.
 * - `create`/`update` adopt (idempotent: nothing to do once 001 is on the ledger).
 * - `read` makes no call; `delete` changes nothing (the table is the user store now).
 */
export const usersTableAdoptionProvider: pulumi.dynamic.ResourceProvider<UsersTableAdoptionInputs, UsersTableAdoptionOutputs> = {
    async check(_olds, news) {
        const problems = inputProblems(news);
        if (problems.length === 0 && !containsUnknown(news)) {
            const report = await inspectIfReachable(news);
            // The refusal names the table and its rows itself: no property before it.
            if (report?.status === "refused") problems.push(problem("", refusal(report)));
        }
        return { inputs: news, failures: checkFailures(problems) };
    },

    async diff(_id, olds, news) {
        if (containsUnknown(news)) return { changes: true, replaces: [], deleteBeforeReplace: false };
        const changes =
            olds.source !== news.source ||
            olds.schema !== news.schema ||
            olds.owner !== news.owner ||
            !sameValue(olds.connection, news.connection) ||
            olds.userStore?.checksum !== news.userStore.checksum;
        return { changes, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs) {
        const outs = await adopt(inputs);
        return { id: `${inputs.schema}.users`, outs };
    },

    async read(id, props) {
        return { id, props };
    },

    async update(_id, _olds, news) {
        return { outs: await adopt(news) };
    },

    async delete(id) {
        console.warn(`UsersTableAdoption ${id}: removed from the stack; the adopted table stays the user store.`);
    },
};

/**
 * Adopts a template user table before the migrations. Type token
 * `pulumi-nodejs:dynamic/auth0-postgres:UsersTableAdoption`.
 */
export class UsersTableAdoption extends pulumi.dynamic.Resource {
    declare public readonly status: pulumi.Output<string>;
    declare public readonly rows: pulumi.Output<number>;

    constructor(name: string, args: UsersTableAdoptionArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            usersTableAdoptionProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection), status: undefined, rows: undefined, notes: undefined },
            withSecretOutputs<UsersTableAdoptionOutputs>(opts, "connection"),
            "auth0-postgres",
            "UsersTableAdoption",
        );
    }
}
