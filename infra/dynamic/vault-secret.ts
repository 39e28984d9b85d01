import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "./connection";
import { asError, execute, connectionProblems, containsUnknown, sameValue } from "./common";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { databaseIdentity, reachesAnotherDatabase } from "./database-identity";
import { withSecretOutputs } from "./secret-outputs";

export interface VaultSecretInputs {
    connection: PgConnectionInfo;
    name: string;
    description?: string;
    secret: string;
}

/** The state: the inputs plus the secret's uuid (also the resource id). */
export interface VaultSecretOutputs extends VaultSecretInputs {
    description: string;
    secretId: string;
    /**
     * Which database holds the secret (`databaseIdentity`: the cluster's system identifier and the
     * database's oid), so that a later connection through another host or port can tell whether it
     * reaches the same database. Absent when the server would not say.
     */
    database?: string;
}

export interface VaultSecretArgs {
    /** Admin connection; made a secret here whether or not the caller did. */
    connection: pulumi.Input<PgConnectionInfo>;
    /** The secret's unique name in `vault.secrets`. */
    name: pulumi.Input<string>;
    /** Shown next to the secret in Vault. Defaults to "" (no description). */
    description?: pulumi.Input<string>;
    /** The value to store; made a secret here whether or not the caller did. */
    secret: pulumi.Input<string>;
}

/** Postgres text cannot hold a NUL character: such a value would pass here and fail in the database. */
const NUL = "\u0000";

function inputProblems(news: VaultSecretInputs): Problem[] {
    const problems = connectionProblems(news.connection);
    if (!containsUnknown(news.name) && (typeof news.name !== "string" || news.name.trim() === "" || news.name.length > 255)) {
        problems.push(problem("name", "required, a non-empty string of at most 255 characters"));
    } else if (typeof news.name === "string" && news.name.includes(NUL)) {
        problems.push(problem("name", "must not contain a NUL character (Postgres text cannot hold one)"));
    }
    if (news.description !== undefined && !containsUnknown(news.description) && typeof news.description !== "string") {
        problems.push(problem("description", "must be a string"));
    } else if (typeof news.description === "string" && news.description.includes(NUL)) {
        problems.push(problem("description", "must not contain a NUL character (Postgres text cannot hold one)"));
    }
    // Never quote the value: it is the secret.
    if (!containsUnknown(news.secret) && (typeof news.secret !== "string" || news.secret === ""))
        problems.push(problem("secret", "required, a non-empty string"));
    else if (typeof news.secret === "string" && news.secret.includes(NUL))
        problems.push(problem("secret", "must not contain a NUL character (Postgres text cannot hold one)"));
    return problems;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What `vault.create_secret` is given instead of the secret. It INSERTs its argument as it is and
 * only then UPDATEs the row to ciphertext, so the first row version, in clear, stays in the table's
 * heap (VACUUM marks it free, it does not erase it) and in the WAL. The real value goes in through
 * `vault.update_secret`, which encrypts before it writes, in the same transaction.
 */
const PLACEHOLDER = "(set by vault.update_secret in the same transaction)";

/**
 * A Supabase Vault secret (supabase_vault 0.3). The id is the secret's uuid and stays the same when
 * the value, name or description change (an update in place), so a foreign server's `api_key_id`
 * keeps pointing at it.
 *
 * - `check` refuses an empty value, and a NUL character anywhere (Postgres text cannot hold one).
 * - `diff`: a replace only when the connection reaches another database (`reachesAnotherDatabase`:
 *   by the databases' identity, not by host or port; Supabase's pooler reaches the same database as
 *   its direct host).
 * - `create` adopts a secret that already has the name (an interrupted create, a lost state, a
 *   stack created again against a database that kept it): it takes its id and sets its value.
 *   Otherwise it creates the row with a placeholder and sets the value with `vault.update_secret`
 *   in the same transaction, so the value is never written in clear (see {@link PLACEHOLDER}).
 * - `read` decrypts the stored value through `vault.decrypted_secrets`, so a refresh shows a value
 *   changed outside Pulumi as drift.
 * - `delete` removes the row.
 *
 * The value travels to Postgres as a bind parameter: with statement logging on (`log_statement`,
 * `log_min_duration_statement`) it reaches the server log (README, operations notes).
 */
export const vaultSecretProvider: pulumi.dynamic.ResourceProvider<VaultSecretInputs, VaultSecretOutputs> = {
    async check(_olds, news) {
        return { inputs: { ...news, description: news.description ?? "" }, failures: checkFailures(inputProblems(news)) };
    },

    async diff(_id, olds, news) {
        if (!containsUnknown(news.connection) && (await reachesAnotherDatabase(olds.database, olds.connection, news.connection))) {
            // The secret lives in one database: another database needs a new secret (and a new id).
            return { changes: true, replaces: ["connection"], deleteBeforeReplace: false };
        }
        const changed = (["name", "description", "secret"] as const).filter((k) => {
            const next = k === "description" ? (news.description ?? "") : news[k];
            return containsUnknown(next) || olds[k] !== next;
        });
        const changes = changed.length > 0 || containsUnknown(news.connection) || !sameValue(olds.connection, news.connection);
        return { changes, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs) {
        assertNoProblems(`VaultSecret ${inputs.name}`, inputProblems(inputs));
        const description = inputs.description ?? "";
        try {
            const { id, database } = await withClient(inputs.connection, async (client) => {
                const database = await databaseIdentity(client);
                await client.query("BEGIN");
                try {
                    const existing = await client.query<{ id: string }>("SELECT id FROM vault.secrets WHERE name = $1", [inputs.name]);
                    let secretId = existing.rows[0]?.id;
                    if (secretId === undefined) {
                        const res = await client.query<{ id: string }>("SELECT vault.create_secret($1, $2, $3) AS id", [PLACEHOLDER, inputs.name, description]);
                        secretId = res.rows[0]!.id;
                    }
                    await client.query("SELECT vault.update_secret($1, $2, $3, $4)", [secretId, inputs.secret, inputs.name, description]);
                    await client.query("COMMIT");
                    return { id: secretId, database };
                } catch (err) {
                    await client.query("ROLLBACK").catch(() => undefined);
                    throw err;
                }
            });
            return { id, outs: { ...inputs, description, secretId: id, ...(database ? { database } : {}) } };
        } catch (err) {
            throw asError(err, `VaultSecret ${inputs.name}: cannot create`);
        }
    },

    async read(id, props) {
        if (!props || connectionProblems(props.connection).length > 0) {
            throw new Error(
                `VaultSecret ${id}: cannot read without the connection in the state (import is not supported: declare the secret with its name, and the next up adopts it)`,
            );
        }
        if (!UUID.test(id)) throw new Error(`VaultSecret: id ${JSON.stringify(id)} is not a Vault secret uuid`);
        const found = await withClient(props.connection, async (client) => {
            const res = await client.query<{ name: string | null; description: string; decrypted_secret: string | null }>(
                "SELECT name, description, decrypted_secret FROM vault.decrypted_secrets WHERE id = $1",
                [id],
            );
            return { row: res.rows[0], database: props.database ?? (await databaseIdentity(client)) };
        });
        // Gone from Vault: no id tells the engine the resource no longer exists.
        const row = found.row;
        if (!row) return {};
        return {
            id,
            props: {
                ...props,
                name: row.name ?? "",
                description: row.description ?? "",
                secret: row.decrypted_secret ?? "",
                secretId: id,
                ...(found.database ? { database: found.database } : {}),
            },
        };
    },

    async update(id, olds, news) {
        assertNoProblems(`VaultSecret ${news.name}`, inputProblems(news));
        const description = news.description ?? "";
        let database: string | undefined;
        try {
            database = await withClient(news.connection, async (client) => {
                const present = await client.query("SELECT 1 FROM vault.secrets WHERE id = $1", [id]);
                if (present.rowCount === 0) {
                    throw new Error(`secret ${id} no longer exists in vault.secrets; run \`pulumi refresh\` so it is created again`);
                }
                await client.query("SELECT vault.update_secret($1, $2, $3, $4)", [id, news.secret, news.name, description]);
                return (await databaseIdentity(client)) ?? olds.database;
            });
        } catch (err) {
            throw asError(err, `VaultSecret ${news.name}: cannot update`);
        }
        return { outs: { ...news, description, secretId: id, ...(database ? { database } : {}) } };
    },

    async delete(id, props) {
        await execute(props.connection, `VaultSecret ${props.name}: cannot delete`, "DELETE FROM vault.secrets WHERE id = $1", [id]);
    },
};

/** A secret in Supabase Vault. Type token `pulumi-nodejs:dynamic/auth0-postgres:VaultSecret`. */
export class VaultSecret extends pulumi.dynamic.Resource {
    // `declare`, not `!:`: with target ES2022 a class field would reset the output super() set.
    /** The secret's uuid in `vault.secrets` (what a foreign server's `api_key_id` takes). */
    declare public readonly secretId: pulumi.Output<string>;
    declare public readonly name: pulumi.Output<string>;
    declare public readonly description: pulumi.Output<string>;
    declare public readonly secret: pulumi.Output<string>;

    constructor(name: string, args: VaultSecretArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            vaultSecretProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection), secret: pulumi.secret(args.secret), secretId: undefined, database: undefined },
            withSecretOutputs<VaultSecretOutputs>(opts, "connection", "secret"),
            "auth0-postgres",
            "VaultSecret",
        );
    }
}
