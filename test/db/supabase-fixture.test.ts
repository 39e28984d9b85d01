/**
 * The Supabase stand-in behaves like real Vault (supabase_vault 0.3.1) and Wrappers where the stack
 * depends on it (issue #12 point 2): what Supabase grants its `postgres` role and nothing to PUBLIC,
 * Vault 0.3's create_secret/update_secret (description NOT NULL, no key_id stored, plaintext first,
 * ciphertext bound to its row), and Wrappers' Vault lookup as the querying user when a query on an
 * Auth0 foreign table is planned, by id or (before Wrappers 0.4.6) by key_id.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AUTH0_FDW_HANDLER } from "../../infra/postgres/auth0-fdw";
import { ident } from "../../infra/postgres/privileges";
import { query } from "../support/db";
import {
    asRole,
    createAuth0Wrapper,
    createSupabaseDatabase,
    FIXTURE_WRAPPERS_VERSION,
    occurrencesOnDisk,
    pretendWrappersVersion,
    serveAuth0Users,
    SupabaseDatabase,
    walPosition,
} from "../support/supabase";

let db: SupabaseDatabase;
let reader: string;
beforeAll(async () => {
    db = await createSupabaseDatabase(inject("databaseUrl"), "fixture");
    reader = `${db.name}_reader`;
    await query(db.url, `CREATE ROLE ${ident(reader)} NOLOGIN`);
});
afterAll(async () => {
    await db?.drop();
    if (reader) await query(inject("databaseUrl"), `DROP ROLE IF EXISTS ${ident(reader)}`);
});

const token = () => `tok-${randomBytes(12).toString("hex")}`;
const name = () => `fx_${randomBytes(4).toString("hex")}`;

async function privileges(role: string) {
    const [row] = await query(
        db.url,
        `SELECT has_schema_privilege($1, 'vault', 'USAGE') AS vault_usage,
                has_schema_privilege($1, 'vault', 'CREATE') AS vault_create,
                ARRAY(SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p WHERE has_table_privilege($1, 'vault.secrets', p)) AS secrets,
                ARRAY(SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p WHERE has_table_privilege($1, 'vault.decrypted_secrets', p)) AS decrypted,
                ARRAY(SELECT f FROM unnest(ARRAY['vault.create_secret(text,text,text,uuid)', 'vault.update_secret(uuid,text,text,text,uuid)',
                                                 'vault._crypto_aead_det_decrypt(bytea,bytea,bigint,bytea,bytea)',
                                                 'vault._crypto_aead_det_encrypt(bytea,bytea,bigint,bytea,bytea)', 'vault._crypto_aead_det_noncegen()']) f
                       WHERE has_function_privilege($1, f, 'EXECUTE')) AS functions`,
        [role],
    );
    return row;
}

describe("Vault as Supabase runs it", () => {
    it("gives the admin exactly Supabase's grants to `postgres`, and PUBLIC nothing", async () => {
        expect(await query(db.url, "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1", [db.admin.name])).toEqual([
            { rolsuper: false, rolcreaterole: true, rolcreatedb: true, rolbypassrls: true },
        ]);
        expect(await privileges(db.admin.name)).toEqual({
            vault_usage: true,
            vault_create: false,
            secrets: ["SELECT", "DELETE"],
            decrypted: ["SELECT", "DELETE"],
            functions: [
                "vault.create_secret(text,text,text,uuid)",
                "vault.update_secret(uuid,text,text,text,uuid)",
                "vault._crypto_aead_det_decrypt(bytea,bytea,bigint,bytea,bytea)",
            ],
        });
        expect(await privileges(reader)).toEqual({ vault_usage: false, vault_create: false, secrets: [], decrypted: [], functions: [] });
    });

    it("the admin creates, reads, rotates and deletes a secret; it cannot write the table directly", async () => {
        const n = name();
        const [created] = await query(db.admin.url, "SELECT vault.create_secret($1, $2, 'd') AS id", [token(), n]);
        const next = token();
        await query(db.admin.url, "SELECT vault.update_secret($1, $2)", [created!.id, next]);
        expect(await query(db.admin.url, "SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = $1", [created!.id])).toEqual([
            { decrypted_secret: next },
        ]);
        await expect(query(db.admin.url, "UPDATE vault.secrets SET description = 'x' WHERE id = $1", [created!.id])).rejects.toThrow(
            /permission denied for table secrets/,
        );
        await query(db.admin.url, "DELETE FROM vault.secrets WHERE id = $1", [created!.id]);
        expect(await query(db.admin.url, "SELECT id FROM vault.secrets WHERE name = $1", [n])).toEqual([]);
    });

    it("create_secret as in 0.3: description NOT NULL, new_key_id not stored, the plaintext first in the heap", async () => {
        await expect(query(db.admin.url, "SELECT vault.create_secret('x', $1, NULL)", [name()])).rejects.toThrow(/null value in column "description"/);
        const t = token();
        const since = await walPosition(db.url);
        const [row] = await query(db.admin.url, "SELECT vault.create_secret($1, $2, '', gen_random_uuid()) AS id", [t, name()]);
        expect(await query(db.url, "SELECT key_id, secret <> $2 AS encrypted FROM vault.secrets WHERE id = $1", [row!.id, t])).toEqual([
            { key_id: null, encrypted: true },
        ]);
        // The INSERT of the plaintext, then the UPDATE to ciphertext: the first row version stays on disk.
        await query(db.url, "VACUUM vault.secrets");
        const disk = await occurrencesOnDisk(db.url, "vault.secrets", t, since);
        expect(disk.heap).toBeGreaterThan(0);
        expect(disk.wal).toBeGreaterThan(0);
    });

    it("binds the ciphertext to its row: moved to another row it no longer decrypts", async () => {
        const [a] = await query(db.admin.url, "SELECT vault.create_secret($1, $2) AS id", [token(), name()]);
        const [b] = await query(db.admin.url, "SELECT vault.create_secret($1, $2) AS id", [token(), name()]);
        await query(db.url, "UPDATE vault.secrets SET secret = (SELECT secret FROM vault.secrets WHERE id = $1) WHERE id = $2", [a!.id, b!.id]);
        await expect(query(db.admin.url, "SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = $1", [b!.id])).rejects.toThrow(
            /Wrong key or corrupt data/,
        );
        await query(db.url, "DELETE FROM vault.secrets WHERE id = $1", [b!.id]);
    });
});

describe("Wrappers' Auth0 FDW as Supabase runs it", () => {
    const wrapper = "fx_auth0_wrapper";
    const schema = "fx_auth0";
    let secretId: string;

    beforeAll(async () => {
        await createAuth0Wrapper(db, wrapper);
        const [s] = await query(db.admin.url, "SELECT vault.create_secret($1, $2) AS id", [token(), name()]);
        secretId = s!.id as string;
        await serveAuth0Users(db, inject("databaseUrl"), schema, [{ user_id: "auth0|fx1", email: "fx1@example.test", logins_count: 3 }]);
        await query(
            db.admin.url,
            `CREATE SERVER fx_server FOREIGN DATA WRAPPER ${ident(wrapper)} OPTIONS (url 'https://t.example/api/v2/users', api_key_id '${secretId}');
             CREATE SCHEMA ${ident(schema)};
             CREATE FOREIGN TABLE ${ident(schema)}.users (user_id text, email text, logins_count integer) SERVER fx_server OPTIONS (object 'users');
             GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(reader)};
             GRANT SELECT ON ${ident(schema)}.users TO ${ident(reader)};
             CREATE VIEW ${ident(schema)}.users_view AS SELECT * FROM ${ident(schema)}.users;
             GRANT SELECT ON ${ident(schema)}.users_view TO ${ident(reader)};
             CREATE FUNCTION ${ident(schema)}.list_users() RETURNS SETOF ${ident(schema)}.users LANGUAGE sql SECURITY DEFINER SET search_path = ''
               AS 'SELECT * FROM ${ident(schema)}.users';
             REVOKE ALL ON FUNCTION ${ident(schema)}.list_users() FROM PUBLIC;
             GRANT EXECUTE ON FUNCTION ${ident(schema)}.list_users() TO ${ident(reader)};`,
        );
    });

    it("the handler and validator are in `extensions`; the installed version is in pg_extension", async () => {
        expect(await query(db.url, "SELECT fdwhandler::regproc::text AS h FROM pg_foreign_data_wrapper WHERE fdwname = $1", [wrapper])).toEqual([
            { h: `extensions.${AUTH0_FDW_HANDLER}` },
        ]);
        expect(await query(db.url, "SELECT extversion FROM pg_extension WHERE extname = 'wrappers'")).toEqual([{ extversion: FIXTURE_WRAPPERS_VERSION }]);
    });

    it("a query looks the key up in Vault as the querying user: the admin reads, a reader without Vault access gets `permission denied for schema vault`", async () => {
        expect(await query(db.admin.url, `SELECT user_id, logins_count FROM ${ident(schema)}.users`)).toEqual([{ user_id: "auth0|fx1", logins_count: 3 }]);
        await expect(asRole(db.url, reader, `SELECT user_id FROM ${ident(schema)}.users`)).rejects.toThrow(/^permission denied for schema vault$/);
    });

    it("a view owned by the admin does not help; a SECURITY DEFINER function owned by the admin does", async () => {
        await expect(asRole(db.url, reader, `SELECT user_id FROM ${ident(schema)}.users_view`)).rejects.toThrow(/^permission denied for schema vault$/);
        expect(await asRole(db.url, reader, `SELECT user_id, email FROM ${ident(schema)}.list_users()`)).toEqual([
            { user_id: "auth0|fx1", email: "fx1@example.test" },
        ]);
    });

    it("before Wrappers 0.4.6 the key is looked up by key_id only, which Vault 0.3 leaves NULL: no secret found", async () => {
        await pretendWrappersVersion(db, "0.4.5");
        try {
            await expect(query(db.admin.url, `SELECT user_id FROM ${ident(schema)}.users`)).rejects.toThrow(`no secret found in vault with id ${secretId}`);
        } finally {
            await pretendWrappersVersion(db, FIXTURE_WRAPPERS_VERSION);
        }
        expect(await query(db.admin.url, `SELECT count(*)::int AS n FROM ${ident(schema)}.users`)).toEqual([{ n: 1 }]);
    });
});
