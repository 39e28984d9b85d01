/**
 * Supabase third-party auth on the database: requests carrying an Auth0 token with
 * `role: authenticated` run, through PostgREST, as Supabase's `authenticated` (NOINHERIT, reached by
 * `authenticator` with SET ROLE) with `request.jwt.claims` from the token. With the switch on, the
 * program gives `authenticated` exactly the reader's grants and names it in the reader policies: the
 * Auth0 user sees their own user row and profile, never a password hash; another user's id sees
 * nothing; `anon` sees nothing. Run on the real Postgres with the roles Supabase creates.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ident } from "../../infra/postgres/privileges";
import { createStackDatabase, query, StackDatabase, withCredentials } from "../support/db";

let stack: StackDatabase;
let ids: { a: string; b: string };
const password = `authenticator-${Date.now().toString(36)}`;

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "sbauth", { supabaseAuthenticated: true });
    await query(inject("databaseUrl"), `ALTER ROLE authenticator PASSWORD '${password}'`);
    const insert = `INSERT INTO ${ident(stack.schema)}.users (email, password_hash) VALUES ($1, '$2b$04$abcdefghijklmnopqrstuuN2yQd0Tf0h3sVwWmYzsv9qCJBhEIM2K') RETURNING id::text AS id`;
    const [a] = await query(stack.urlFor("scripts"), insert, ["supabase-a@example.test"]);
    const [b] = await query(stack.urlFor("scripts"), insert, ["supabase-b@example.test"]);
    ids = { a: a!.id as string, b: b!.id as string };
    for (const id of [ids.a, ids.b])
        await query(stack.urlFor("sync"), `INSERT INTO ${ident(stack.schema)}.profiles (user_id, user_name) VALUES ($1, $2)`, [`auth0|${id}`, id]);
});
afterAll(async () => stack?.teardown());

/** As PostgREST serves a request: log in as authenticator, set the claims, SET ROLE to the token's role. */
async function asPostgrest(role: "authenticated" | "anon", claims: Record<string, unknown>, sql: string): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: withCredentials(stack.db.url, "authenticator", password) });
    await client.connect();
    try {
        await client.query("BEGIN");
        await client.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify(claims)]);
        await client.query(`SET LOCAL ROLE ${ident(role)}`);
        return (await client.query(sql)).rows;
    } finally {
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end();
    }
}

const users = () => `SELECT id::text AS id, email FROM ${ident(stack.schema)}.users`;
const profiles = () => `SELECT user_id FROM ${ident(stack.schema)}.profiles`;

describe("Supabase's authenticated role with third-party auth on", () => {
    it("an Auth0 token's sub sees that user's row and profile, nothing else", async () => {
        const claims = { sub: `auth0|${ids.a}`, role: "authenticated", iss: "https://acme-dev.eu.auth0.com/" };
        expect(await asPostgrest("authenticated", claims, users())).toEqual([{ id: ids.a, email: "supabase-a@example.test" }]);
        expect(await asPostgrest("authenticated", claims, profiles())).toEqual([{ user_id: `auth0|${ids.a}` }]);
    });

    it("another user's id sees nothing, and no token's user sees a password hash or writes", async () => {
        expect(await asPostgrest("authenticated", { sub: "auth0|someone-else", role: "authenticated" }, users())).toEqual([]);
        expect(await asPostgrest("authenticated", { sub: "auth0|someone-else", role: "authenticated" }, profiles())).toEqual([]);
        const claims = { sub: `auth0|${ids.b}`, role: "authenticated" };
        await expect(asPostgrest("authenticated", claims, `SELECT password_hash FROM ${ident(stack.schema)}.users`)).rejects.toThrow(/permission denied/);
        await expect(asPostgrest("authenticated", claims, `UPDATE ${ident(stack.schema)}.profiles SET user_name = 'x'`)).rejects.toThrow(/permission denied/);
    });

    it("anon sees nothing", async () => {
        await expect(asPostgrest("anon", { role: "anon" }, users())).rejects.toThrow(/permission denied/);
    });

    it("authenticated holds exactly the reader's privileges, as the catalog shows", async () => {
        const privileges = async (role: string) =>
            query(
                stack.db.url,
                `SELECT has_schema_privilege($1, $2, 'USAGE') AS usage,
                        has_table_privilege($1, $2 || '.profiles', 'SELECT') AS profiles,
                        has_table_privilege($1, $2 || '.users', 'SELECT') AS users_table,
                        has_column_privilege($1, $2 || '.users', 'email', 'SELECT') AS email,
                        has_column_privilege($1, $2 || '.users', 'password_hash', 'SELECT') AS hash,
                        has_function_privilege($1, $2 || '.current_user_id()', 'EXECUTE') AS fn`,
                [role, stack.schema],
            );
        expect(await privileges("authenticated")).toEqual(await privileges(stack.roles.app.name));
        expect(await privileges("authenticated")).toEqual([{ usage: true, profiles: true, users_table: false, email: true, hash: false, fn: true }]);
    });
});
