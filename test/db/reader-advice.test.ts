/**
 * The README's advice for the roles applications connect as, followed as written on the real
 * Postgres: Hasura as its own login role holding `<prefix>_app_reader` (never as the tables' owner),
 * and PostgREST/Supabase's `authenticated` (NOINHERIT, reached through `authenticator`) holding it
 * with INHERIT. Each sees its own rows and never a password hash; the tables' owner, held to the
 * policies by FORCE ROW LEVEL SECURITY, sees nothing. A dedicated database keeps PUBLIC out.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ident } from "../../infra/postgres/privileges";
import { createStackDatabase, query, StackDatabase, uniqueRolePrefix, withCredentials } from "../support/db";

let stack: StackDatabase;
const extraRoles: string[] = [];
const password = "reader-advice-pw-1";
let ids: { a: string; b: string };

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "advice");
    const insert = `INSERT INTO ${ident(stack.schema)}.users (email, password_hash) VALUES ($1, $2) RETURNING id::text AS id`;
    const hash = "$2b$04$abcdefghijklmnopqrstuuN2yQd0Tf0h3sVwWmYzsv9qCJBhEIM2K";
    const [a] = await query(stack.urlFor("scripts"), insert, ["advice-a@example.test", hash]);
    const [b] = await query(stack.urlFor("scripts"), insert, ["advice-b@example.test", hash]);
    ids = { a: a!.id as string, b: b!.id as string };
});
afterAll(async () => {
    await stack?.teardown();
    for (const r of extraRoles) await query(inject("databaseUrl"), `DROP ROLE IF EXISTS ${ident(r)}`);
});

async function role(sql: (name: string) => string, label: string): Promise<string> {
    const name = uniqueRolePrefix(label);
    await query(stack.db.url, sql(name));
    extraRoles.push(name);
    return name;
}

/** Logs in as `user`, optionally SET ROLE, sets the session's claims, runs `sql`. */
async function as(user: string, sql: string, settings: Record<string, string>, setRole?: string): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: withCredentials(stack.db.url, user, password) });
    await client.connect();
    try {
        await client.query("BEGIN");
        for (const [k, v] of Object.entries(settings)) await client.query("SELECT set_config($1, $2, true)", [k, v]);
        if (setRole) await client.query(`SET LOCAL ROLE ${ident(setRole)}`);
        return (await client.query(sql)).rows;
    } finally {
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end();
    }
}

const users = () => `SELECT id::text AS id FROM ${ident(stack.schema)}.users ORDER BY id`;
const hashes = () => `SELECT password_hash FROM ${ident(stack.schema)}.users`;

describe("the README's advice for application roles", () => {
    it("Hasura as its own login role holding the reader role: its own rows, never a hash", async () => {
        const hasura = await role((n) => `CREATE ROLE ${ident(n)} LOGIN INHERIT PASSWORD '${password}'`, "hasura");
        await query(stack.db.url, `GRANT ${ident(stack.roles.app.name)} TO ${ident(hasura)}`);
        const claims = { "hasura.user": JSON.stringify({ "x-hasura-user-id": `auth0|${ids.a}` }) };
        expect(await as(hasura, users(), claims)).toEqual([{ id: ids.a }]);
        expect(await as(hasura, users(), {})).toEqual([]);
        await expect(as(hasura, hashes(), claims)).rejects.toThrow(/permission denied/);
    });

    it("PostgREST/Supabase: authenticated (NOINHERIT, via authenticator) holding the reader role WITH INHERIT: its own rows, never a hash", async (ctx) => {
        const [{ v }] = (await query(stack.db.url, "SELECT current_setting('server_version_num')::int AS v")) as [{ v: number }];
        if (v < 160000)
            ctx.skip(`GRANT ... WITH INHERIT needs PostgreSQL 16 (this server is ${v}); on 15 grant the reader's privileges to authenticated itself`);
        const authenticated = await role((n) => `CREATE ROLE ${ident(n)} NOLOGIN NOINHERIT`, "authenticated");
        const authenticator = await role((n) => `CREATE ROLE ${ident(n)} LOGIN NOINHERIT PASSWORD '${password}'`, "authenticator");
        await query(stack.db.url, `GRANT ${ident(authenticated)} TO ${ident(authenticator)}`);
        await query(stack.db.url, `GRANT ${ident(stack.roles.app.name)} TO ${ident(authenticated)} WITH INHERIT TRUE`);
        const claims = { "request.jwt.claims": JSON.stringify({ sub: `auth0|${ids.b}`, role: "authenticated" }) };
        expect(await as(authenticator, users(), claims, authenticated)).toEqual([{ id: ids.b }]);
        await expect(as(authenticator, hashes(), claims, authenticated)).rejects.toThrow(/permission denied/);
    });

    it("the tables' owner sees no row: row-level security is forced", async () => {
        const owner = await role((n) => `CREATE ROLE ${ident(n)} LOGIN PASSWORD '${password}'`, "owner");
        const forced = await createStackDatabase(inject("databaseUrl"), "forced");
        try {
            // The tables handed to a non-superuser owner (a superuser, like the test's admin, bypasses RLS).
            await query(forced.db.url, `GRANT USAGE ON SCHEMA ${ident(forced.schema)} TO ${ident(owner)}`);
            await query(
                forced.db.url,
                `INSERT INTO ${ident(forced.schema)}.users (email, password_hash) VALUES ('owned@example.test', '$2b$04$abcdefghijklmnopqrstuuN2yQd0Tf0h3sVwWmYzsv9qCJBhEIM2K')`,
            );
            await query(forced.db.url, `ALTER TABLE ${ident(forced.schema)}.users OWNER TO ${ident(owner)}`);
            const asOwner = withCredentials(forced.db.url, owner, password);
            expect(await query(asOwner, `SELECT email FROM ${ident(forced.schema)}.users`)).toEqual([]);
            await query(forced.db.url, `ALTER TABLE ${ident(forced.schema)}.users NO FORCE ROW LEVEL SECURITY`);
            expect(await query(asOwner, `SELECT email FROM ${ident(forced.schema)}.users`)).toEqual([{ email: "owned@example.test" }]);
        } finally {
            await forced.teardown();
        }
    });
});

describe("a dedicated database (postgres.dedicatedDatabase)", () => {
    it("PUBLIC has neither CONNECT nor TEMP; the stack's login roles connect; elsewhere PUBLIC keeps its defaults", async () => {
        const dedicated = await createStackDatabase(inject("databaseUrl"), "dedicated", { dedicatedDatabase: true });
        try {
            const privileges = (db: string) =>
                query(
                    dedicated.db.url,
                    "SELECT has_database_privilege('public', $1, 'CONNECT') AS connect, has_database_privilege('public', $1, 'TEMP') AS temp",
                    [db],
                );
            expect(await privileges(dedicated.db.name)).toEqual([{ connect: false, temp: false }]);
            expect(await privileges(stack.db.name)).toEqual([{ connect: true, temp: true }]);
            expect(await query(dedicated.urlFor("scripts"), "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
            expect(await query(dedicated.urlFor("sync"), "SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
            const outsider = await role((n) => `CREATE ROLE ${ident(n)} LOGIN PASSWORD '${password}'`, "outsider");
            await expect(query(withCredentials(dedicated.db.url, outsider, password), "SELECT 1")).rejects.toThrow(/permission denied for database/);
        } finally {
            await dedicated.teardown();
        }
    });
});
