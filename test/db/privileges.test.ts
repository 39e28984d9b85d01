/**
 * The privilege model against a real Postgres, deployed as on Supabase (by a non-superuser holding
 * Supabase's grants, with Vault, the Auth0 foreign data and a stand-in Management API): every
 * (role, object, privilege) the model grants is held, and every one it does not grant is not; then
 * each login role really does, and really cannot do, what the model says; then row-level security
 * with two users; then the Auth0 foreign tables, read as the reader role, with Vault closed to it.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connectionFromUrl } from "../../infra/dynamic/connection";
import { databaseSecurityProvider, DatabaseSecurityInputs, DatabaseSecurityOutputs } from "../../infra/dynamic";
import { Grant, ident, readerFunctionName, RoleKey, TABLE_PRIVILEGES, TABLES, USER_PUBLIC_COLUMNS } from "../../infra/postgres/privileges";
import { LEDGER_TABLE } from "../../infra/postgres/migrate";
import { securityModel } from "../../infra/postgres/security";
import { query } from "../support/db";
import { asRole, createSupabaseStackDatabase, SupabaseStackDatabase } from "../support/supabase";

let stack: SupabaseStackDatabase;
const ROLE_KEYS: RoleKey[] = ["scripts", "sync", "app", "fdwReader"];
const AUTH0_USERS = [
    { user_id: "auth0|priv-1", email: "priv-1@example.test", email_verified: true, logins_count: 2, identities: [{ provider: "auth0" }] },
    { user_id: "auth0|priv-2", email: "priv-2@example.test", email_verified: false, logins_count: 0, identities: [{ provider: "auth0" }] },
];

beforeAll(async () => {
    stack = await createSupabaseStackDatabase(inject("databaseUrl"), "privileges", { users: AUTH0_USERS });
});
afterAll(async () => stack?.teardown());

type TableGrant = Extract<Grant, { objectType: "table" }>;
function tableGrant(role: RoleKey, table: string): TableGrant | undefined {
    return stack.grants.find((g): g is TableGrant => g.role === role && g.objectType === "table" && g.schema === stack.schema && g.objects.includes(table));
}

async function expectDenied(url: string, sql: string, params: unknown[] = []): Promise<void> {
    await expect(query(url, sql, params)).rejects.toThrow(/permission denied/);
}

describe("the catalog matches the model, both ways", () => {
    it.each(ROLE_KEYS)("table privileges of %s", async (key) => {
        const role = stack.roles[key].name;
        for (const table of [TABLES.users, TABLES.profiles, LEDGER_TABLE]) {
            const granted = tableGrant(key, table)?.privileges ?? [];
            for (const priv of TABLE_PRIVILEGES) {
                const [row] = await query(stack.db.url, "SELECT has_table_privilege($1, $2, $3) AS ok", [role, `${stack.schema}.${table}`, priv]);
                expect({ role: key, table, priv, ok: row!.ok }).toEqual({ role: key, table, priv, ok: granted.includes(priv) });
            }
        }
    });

    it.each(ROLE_KEYS)("column privileges of %s on the user store and the profiles", async (key) => {
        const role = stack.roles[key].name;
        for (const table of [TABLES.users, TABLES.profiles]) {
            const columns = (
                await query(stack.db.url, "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped", [
                    `${stack.schema}.${table}`,
                ])
            ).map((r) => r.attname as string);
            if (table === TABLES.users) expect(columns).toContain("password_hash");
            const onTable = tableGrant(key, table)?.privileges ?? [];
            const columnGrants = stack.grants.filter(
                (g): g is Extract<Grant, { objectType: "column" }> => g.role === key && g.objectType === "column" && g.objects[0] === table,
            );
            for (const priv of ["SELECT", "INSERT", "UPDATE"] as const) {
                for (const column of columns) {
                    const expected =
                        (onTable as string[]).includes(priv) ||
                        columnGrants.some((g) => (g.privileges as string[]).includes(priv) && g.columns.includes(column));
                    const [row] = await query(stack.db.url, "SELECT has_column_privilege($1, $2, $3, $4) AS ok", [
                        role,
                        `${stack.schema}.${table}`,
                        column,
                        priv,
                    ]);
                    expect({ key, table, column, priv, ok: row!.ok }).toEqual({ key, table, column, priv, ok: expected });
                }
            }
        }
    });

    it("the writers may UPDATE only the columns they write (never a user's id, email or app_metadata, never a profile's user_id)", () => {
        const updates = stack.grants.filter((g) => (g.privileges as string[]).includes("UPDATE"));
        expect(updates.map((g) => [g.role, g.objectType, g.objectType === "column" ? g.columns : []])).toEqual([
            ["scripts", "column", ["password_hash", "email_verified"]],
            ["sync", "column", ["user_name", "last_seen"]],
        ]);
    });

    it.each(ROLE_KEYS)("schema, function and database privileges of %s", async (key) => {
        const role = stack.roles[key].name;
        const usage = stack.grants.some((g) => g.role === key && g.objectType === "schema" && g.schema === stack.schema && g.privileges.includes("USAGE"));
        const [schema] = await query(stack.db.url, "SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_schema_privilege($1, $2, 'CREATE') AS create", [
            role,
            stack.schema,
        ]);
        expect(schema).toEqual({ usage, create: false });

        const execute = stack.grants.some(
            (g) => g.role === key && g.objectType === "function" && g.schema === stack.schema && g.objects.includes("current_user_id"),
        );
        const [fn] = await query(stack.db.url, "SELECT has_function_privilege($1, $2, 'EXECUTE') AS ok", [role, `${stack.schema}.current_user_id()`]);
        expect(fn!.ok).toBe(execute);

        // Not a dedicated database (the default): PUBLIC keeps its CONNECT, as the program leaves it.
        const connect = stack.grants.some((g) => g.role === key && g.objectType === "database") || !stack.model.dedicatedDatabase;
        const [db] = await query(stack.db.url, "SELECT has_database_privilege($1, $2, 'CONNECT') AS ok, has_database_privilege($1, $2, 'CREATE') AS create", [
            role,
            stack.db.name,
        ]);
        expect(db).toEqual({ ok: connect, create: false });
    });

    it("no role the stack creates is privileged", async () => {
        const names = Object.values(stack.roles).map((r) => r.name);
        const rows = await query(
            stack.db.url,
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname",
            [names],
        );
        expect(rows).toHaveLength(4);
        for (const r of rows) {
            expect(r).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false });
            expect(r.rolcanlogin).toBe(Object.values(stack.roles).find((x) => x.name === r.rolname)!.login);
        }
    });
});

describe("logged in as each role", () => {
    const email = "priv-check@example.test";
    const hash = "$2b$04$abcdefghijklmnopqrstuuN2yQd0Tf0h3sVwWmYzsv9qCJBhEIM2K";

    it("the scripts role works the user store and nothing else", async () => {
        const url = stack.urlFor("scripts");
        const [row] = await query(url, `INSERT INTO ${ident(stack.schema)}.users (email, password_hash) VALUES ($1, $2) RETURNING id`, [email, hash]);
        expect(row!.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(await query(url, `SELECT email FROM ${ident(stack.schema)}.users WHERE lower(email) = lower($1)`, [email.toUpperCase()])).toEqual([{ email }]);
        await expectDenied(url, `SELECT * FROM ${ident(stack.schema)}.profiles`);
        await expectDenied(url, `TRUNCATE ${ident(stack.schema)}.users`);
        await expectDenied(url, `CREATE TABLE ${ident(stack.schema)}.evil (x int)`);
        await expectDenied(url, `SELECT * FROM ${ident(stack.schema)}.${ident(LEDGER_TABLE)}`);
        await expect(
            query(url, `UPDATE ${ident(stack.schema)}.users SET password_hash = $2, email_verified = true WHERE id = $1`, [row!.id, hash]),
        ).resolves.toEqual([]);
        for (const column of [
            'app_metadata = \'{"roles": ["admin"]}\'',
            "email = 'other@example.test'",
            "id = gen_random_uuid()",
            "user_metadata = '{}'",
            "nickname = 'x'",
        ]) {
            await expectDenied(url, `UPDATE ${ident(stack.schema)}.users SET ${column} WHERE id = $1`, [row!.id]);
        }
        await expect(query(url, `DELETE FROM ${ident(stack.schema)}.users WHERE id = $1`, [row!.id])).resolves.toEqual([]);
    });

    it("the sync role upserts profiles and nothing else", async () => {
        const url = stack.urlFor("sync");
        const upsert = `INSERT INTO ${ident(stack.schema)}.profiles (user_id, user_name) VALUES ($1, $2)
                        ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, last_seen = now() RETURNING user_name`;
        expect(await query(url, upsert, ["auth0|sync-check", "first"])).toEqual([{ user_name: "first" }]);
        expect(await query(url, upsert, ["auth0|sync-check", "second"])).toEqual([{ user_name: "second" }]);
        await expectDenied(url, `DELETE FROM ${ident(stack.schema)}.profiles`);
        await expectDenied(url, `UPDATE ${ident(stack.schema)}.profiles SET user_id = 'auth0|someone-else' WHERE user_id = 'auth0|sync-check'`);
        await expectDenied(url, `UPDATE ${ident(stack.schema)}.profiles SET created_at = now() WHERE user_id = 'auth0|sync-check'`);
        await expectDenied(url, `SELECT email FROM ${ident(stack.schema)}.users`);
        await expectDenied(url, `CREATE TABLE ${ident(stack.schema)}.evil (x int)`);
    });

    it("the NOLOGIN roles cannot log in", async () => {
        for (const key of ["app", "fdwReader"] as const) {
            const u = new URL(stack.db.url);
            u.username = stack.roles[key].name;
            u.password = "whatever";
            await expect(query(u.toString(), "SELECT 1")).rejects.toThrow(/not permitted to log in|password authentication failed/);
        }
    });
});

describe("row-level security: a session sees only its own rows", () => {
    let ids: { a: string; b: string };

    beforeAll(async () => {
        const scripts = stack.urlFor("scripts");
        const insert = `INSERT INTO ${ident(stack.schema)}.users (email, password_hash) VALUES ($1, $2) RETURNING id`;
        const hash = "$2b$04$abcdefghijklmnopqrstuuN2yQd0Tf0h3sVwWmYzsv9qCJBhEIM2K";
        const [a] = await query(scripts, insert, ["rls-a@example.test", hash]);
        const [b] = await query(scripts, insert, ["rls-b@example.test", hash]);
        ids = { a: a!.id as string, b: b!.id as string };
        const sync = stack.urlFor("sync");
        for (const id of [ids.a, ids.b]) {
            await query(sync, `INSERT INTO ${ident(stack.schema)}.profiles (user_id, user_name) VALUES ($1, $2)`, [`auth0|${id}`, id]);
        }
    });

    /** Runs `sql` as the app role (as Hasura or PostgREST would: SET ROLE inside a transaction) with the given session settings. */
    async function asApp(settings: Record<string, string>, sql: string): Promise<Record<string, unknown>[]> {
        const client = new Client({ connectionString: stack.db.url });
        await client.connect();
        try {
            await client.query("BEGIN");
            for (const [k, v] of Object.entries(settings)) await client.query("SELECT set_config($1, $2, true)", [k, v]);
            await client.query(`SET LOCAL ROLE ${ident(stack.roles.app.name)}`);
            const rows = (await client.query(sql)).rows;
            await client.query("ROLLBACK");
            return rows;
        } finally {
            await client.end();
        }
    }

    const profiles = () => `SELECT user_id FROM ${ident(stack.schema)}.profiles ORDER BY user_id`;
    const users = () => `SELECT id::text AS id, email FROM ${ident(stack.schema)}.users ORDER BY email`;

    it("with Hasura's session variables", async () => {
        const a = await asApp({ "hasura.user": JSON.stringify({ "x-hasura-user-id": `auth0|${ids.a}`, "x-hasura-role": "user" }) }, profiles());
        expect(a).toEqual([{ user_id: `auth0|${ids.a}` }]);
        const b = await asApp({ "hasura.user": JSON.stringify({ "x-hasura-user-id": `auth0|${ids.b}` }) }, users());
        expect(b).toEqual([{ id: ids.b, email: "rls-b@example.test" }]);
    });

    it("with Supabase's request.jwt.claims", async () => {
        const b = await asApp({ "request.jwt.claims": JSON.stringify({ sub: `auth0|${ids.b}`, role: "authenticated" }) }, profiles());
        expect(b).toEqual([{ user_id: `auth0|${ids.b}` }]);
        const a = await asApp({ "request.jwt.claims": JSON.stringify({ sub: `auth0|${ids.a}` }) }, users());
        expect(a).toEqual([{ id: ids.a, email: "rls-a@example.test" }]);
    });

    it("without a user, nothing; and never the password hash", async () => {
        expect(await asApp({}, profiles())).toEqual([]);
        expect(await asApp({ "hasura.user": "" }, users())).toEqual([]);
        await expect(
            asApp({ "request.jwt.claims": JSON.stringify({ sub: `auth0|${ids.a}` }) }, `SELECT password_hash FROM ${ident(stack.schema)}.users`),
        ).rejects.toThrow(/permission denied/);
        expect(USER_PUBLIC_COLUMNS).not.toContain("password_hash");
    });

    it("a session that names two different users (JWT sub and hasura.user) is no user", async () => {
        const both = (hasuraId: string) => ({
            "request.jwt.claims": JSON.stringify({ sub: `auth0|${ids.a}` }),
            "hasura.user": JSON.stringify({ "x-hasura-user-id": hasuraId }),
        });
        expect(await asApp(both(`auth0|${ids.b}`), profiles())).toEqual([]);
        expect(await asApp(both(`auth0|${ids.b}`), users())).toEqual([]);
        // Both naming the same user is that user.
        expect(await asApp(both(`auth0|${ids.a}`), profiles())).toEqual([{ user_id: `auth0|${ids.a}` }]);
    });

    it("the app role cannot write", async () => {
        await expect(
            asApp({ "request.jwt.claims": JSON.stringify({ sub: `auth0|${ids.a}` }) }, `UPDATE ${ident(stack.schema)}.profiles SET user_name = 'x'`),
        ).rejects.toThrow(/permission denied/);
    });
});

describe("the Auth0 foreign tables on Supabase: the reader reads them, Vault stays closed to it", () => {
    const fd = () => stack.foreignData;
    const reader = () => stack.roles.fdwReader.name;
    type ReaderGrant = Extract<Grant, { objectType: "table" | "function" }>;
    const readerGrants = () =>
        stack.grants.filter((g): g is ReaderGrant => g.role === "fdwReader" && (g.objectType === "table" || g.objectType === "function"));

    it("the reader reads the Auth0 users through what the model grants it", async () => {
        expect(readerGrants().length).toBeGreaterThan(0);
        for (const g of readerGrants()) {
            for (const object of g.objects) {
                const from = g.objectType === "function" ? `${ident(g.schema)}.${ident(object)}()` : `${ident(g.schema)}.${ident(object)}`;
                const rows = await asRole(
                    stack.db.url,
                    reader(),
                    `SELECT user_id, email, email_verified, logins_count, identities FROM ${from} ORDER BY user_id`,
                );
                expect(rows).toEqual(AUTH0_USERS);
            }
        }
    });

    it("the reader holds no privilege on Vault and cannot read any secret, an unrelated one included", async () => {
        const [other] = await query(stack.supabase.admin.url, "SELECT vault.create_secret($1, $2) AS id", [
            `sk_live_${randomBytes(12).toString("hex")}`,
            `stripe_key_${randomBytes(3).toString("hex")}`,
        ]);
        const [privileges] = await query(
            stack.db.url,
            `SELECT has_schema_privilege($1, 'vault', 'USAGE') AS usage,
                    has_table_privilege($1, 'vault.secrets', 'SELECT') OR has_table_privilege($1, 'vault.decrypted_secrets', 'SELECT') AS "select",
                    has_function_privilege($1, 'vault._crypto_aead_det_decrypt(bytea,bytea,bigint,bytea,bytea)', 'EXECUTE') AS decrypt`,
            [reader()],
        );
        expect(privileges).toEqual({ usage: false, select: false, decrypt: false });
        for (const id of [other!.id, stack.vaultSecretId]) {
            await expect(asRole(stack.db.url, reader(), "SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = $1", [id])).rejects.toThrow(
                /permission denied for schema vault/,
            );
        }
        // Nor through the foreign table itself: Wrappers would look the key up as the reader.
        await expect(asRole(stack.db.url, reader(), `SELECT user_id FROM ${ident(fd().schema)}.users`)).rejects.toThrow(/permission denied/);
    });

    it("the reader function is SECURITY DEFINER, owned by the admin, search_path pinned, and PUBLIC may not execute it", async () => {
        const rows = await query(
            stack.db.url,
            `SELECT p.proname AS name, pg_get_userbyid(p.proowner) AS owner, p.prosecdef AS definer, p.proconfig AS config,
                    has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
                    has_function_privilege($2, p.oid, 'EXECUTE') AS reader_execute
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
            [fd().schema, reader()],
        );
        expect(rows).toEqual([
            {
                name: readerFunctionName("users"),
                owner: stack.supabase.admin.name,
                definer: true,
                config: ['search_path=""'],
                public_execute: false,
                reader_execute: true,
            },
        ]);
        const someone = `${stack.supabase.name}_someone`;
        await query(stack.db.url, `CREATE ROLE ${ident(someone)} NOLOGIN`);
        try {
            await expect(asRole(stack.db.url, someone, `SELECT * FROM ${ident(fd().schema)}.${readerFunctionName("users")}()`)).rejects.toThrow(
                /permission denied for (schema|function)/,
            );
        } finally {
            await query(stack.db.url, `DROP ROLE ${ident(someone)}`);
        }
    });

    it("DatabaseSecurity shows PUBLIC's EXECUTE, another owner or SECURITY INVOKER on the reader function as drift, and restores it", async () => {
        const names = Object.fromEntries(Object.values(stack.roles).map((r) => [r.key, r.name])) as Record<RoleKey, string>;
        const inputs: DatabaseSecurityInputs = {
            connection: connectionFromUrl(stack.supabase.admin.url),
            model: securityModel(stack.schema, names, [{ schema: fd().schema, name: readerFunctionName("users") }]),
        };
        const state = (await databaseSecurityProvider.create!(inputs)).outs as DatabaseSecurityOutputs;
        expect((await databaseSecurityProvider.check!(state, inputs)).inputs?.drift).toEqual([]);
        const f = `${ident(fd().schema)}.${readerFunctionName("users")}()`;
        await query(stack.supabase.admin.url, `GRANT EXECUTE ON FUNCTION ${f} TO PUBLIC; ALTER FUNCTION ${f} SECURITY INVOKER`);
        const checked = (await databaseSecurityProvider.check!(state, inputs)).inputs as DatabaseSecurityInputs;
        expect(checked.drift).toEqual([
            `PUBLIC may execute ${fd().schema}.${readerFunctionName("users")}()`,
            `${fd().schema}.${readerFunctionName("users")}() is not SECURITY DEFINER (its callers would need Vault's privileges)`,
        ]);
        await databaseSecurityProvider.update!(stack.schema, state, checked);
        expect((await databaseSecurityProvider.check!(state, inputs)).inputs?.drift).toEqual([]);
        expect(await asRole(stack.db.url, reader(), `SELECT count(*)::int AS n FROM ${f}`)).toEqual([{ n: AUTH0_USERS.length }]);
    });
});
