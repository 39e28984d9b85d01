import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "../../dynamic/connection";
import { asError, assertNoProblems, checkFailures, execute, connectionProblems, containsUnknown, sameDatabase, sameValue } from "./common";

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

function inputProblems(news: VaultSecretInputs): string[] {
    const problems = connectionProblems(news.connection);
    if (!containsUnknown(news.name) && (typeof news.name !== "string" || news.name.trim() === "" || news.name.length > 255)) {
        problems.push("name: required, a non-empty string of at most 255 characters");
    }
    if (news.description !== undefined && !containsUnknown(news.description) && typeof news.description !== "string") {
        problems.push("description: must be a string");
    }
    // Never quote the value: it is the secret.
    if (!containsUnknown(news.secret) && (typeof news.secret !== "string" || news.secret === "")) problems.push("secret: required, a non-empty string");
    return problems;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A Supabase Vault secret (`vault.create_secret` / `vault.update_secret`). The id is the secret's
 * uuid and stays the same when the value, name or description change (an update in place), so a
 * foreign server's `api_key_id` keeps pointing at it. Only a move to another database replaces it.
 * `read` decrypts the stored value through `vault.decrypted_secrets`, so a refresh shows a value
 * changed outside Pulumi as drift. `delete` removes the row.
 */
export const vaultSecretProvider: pulumi.dynamic.ResourceProvider<VaultSecretInputs, VaultSecretOutputs> = {
    async check(_olds, news) {
        return { inputs: { ...news, description: news.description ?? "" }, failures: checkFailures(inputProblems(news)) };
    },

    async diff(_id, olds, news) {
        if (!containsUnknown(news.connection) && !sameDatabase(olds.connection, news.connection)) {
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
            const id = await withClient(inputs.connection, async (client) => {
                const res = await client.query<{ id: string }>("SELECT vault.create_secret($1, $2, $3) AS id", [inputs.secret, inputs.name, description]);
                return res.rows[0]!.id;
            });
            return { id, outs: { ...inputs, description, secretId: id } };
        } catch (err) {
            throw asError(err, `VaultSecret ${inputs.name}: cannot create`);
        }
    },

    async read(id, props) {
        if (!props || connectionProblems(props.connection).length > 0) {
            throw new Error(`VaultSecret ${id}: cannot read without the connection in the state (import is not supported)`);
        }
        if (!UUID.test(id)) throw new Error(`VaultSecret: id ${JSON.stringify(id)} is not a Vault secret uuid`);
        const row = await withClient(props.connection, async (client) => {
            const res = await client.query<{ name: string | null; description: string; decrypted_secret: string | null }>(
                "SELECT name, description, decrypted_secret FROM vault.decrypted_secrets WHERE id = $1",
                [id],
            );
            return res.rows[0];
        });
        // Gone from Vault: no id tells the engine the resource no longer exists.
        if (!row) return {};
        return {
            id,
            props: { ...props, name: row.name ?? "", description: row.description ?? "", secret: row.decrypted_secret ?? "", secretId: id },
        };
    },

    async update(id, _olds, news) {
        assertNoProblems(`VaultSecret ${news.name}`, inputProblems(news));
        const description = news.description ?? "";
        try {
            await withClient(news.connection, async (client) => {
                const present = await client.query("SELECT 1 FROM vault.secrets WHERE id = $1", [id]);
                if (present.rowCount === 0) {
                    throw new Error(`secret ${id} no longer exists in vault.secrets; run \`pulumi refresh\` so it is created again`);
                }
                await client.query("SELECT vault.update_secret($1, $2, $3, $4)", [id, news.secret, news.name, description]);
            });
        } catch (err) {
            throw asError(err, `VaultSecret ${news.name}: cannot update`);
        }
        return { outs: { ...news, description, secretId: id } };
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
            { ...args, connection: pulumi.secret(args.connection), secret: pulumi.secret(args.secret), secretId: undefined },
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection", "secret"] },
            "auth0-postgres",
            "VaultSecret",
        );
    }
}
