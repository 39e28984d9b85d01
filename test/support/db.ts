/**
 * Helpers for tests against the real Postgres started by `global-postgres.ts`.
 *
 * Each test file gets its own database (and its own role-name prefix, since roles are
 * cluster-wide), so files run in parallel without seeing each other.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "pg";
import { loadMigrations, Migration } from "../../infra/postgres/migrations";
import { applyMigrations } from "../../infra/postgres/migrate";
import { applySecurity, securityModel } from "../../infra/postgres/security";
import { grantSql, ident, privilegeModel, RoleKey, roleSpecs, ModelInput, Grant, RoleSpec, SUPABASE_AUTHENTICATED_ROLE } from "../../infra/postgres/privileges";

/** Supabase's Data API roles (anon, authenticated, service_role, authenticator), cluster-wide and idempotent. */
export const SUPABASE_API_ROLES_SQL = readFileSync(join(__dirname, "..", "fixtures", "supabase-api-roles.sql"), "utf8");

export const FIXTURE_SQL = readFileSync(join(__dirname, "..", "fixtures", "supabase-fixture.sql"), "utf8");

export function withDatabase(url: string, database: string): string {
    const u = new URL(url);
    u.pathname = `/${database}`;
    return u.toString();
}

export function withCredentials(url: string, user: string, password: string): string {
    const u = new URL(url);
    u.username = encodeURIComponent(user);
    u.password = encodeURIComponent(password);
    return u.toString();
}

export async function query(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
        return (await client.query(sql, params)).rows;
    } finally {
        await client.end();
    }
}

export interface TestDatabase {
    /** Superuser URL of the new database. */
    url: string;
    name: string;
    drop: () => Promise<void>;
}

/**
 * Creates a fresh database named after `label`; `drop()` removes it. Its locale is set here, not
 * inherited, so a server of the user's own (`DATABASE_URL`, often en_US.UTF-8 or C.UTF-8, maybe
 * ICU) gives the same lower() and ordering as the embedded one: libc's C, whose lower() maps only
 * ASCII; or, with `unicodeLocale`, Postgres's builtin C.UTF-8 (PostgreSQL 17), whose lower() maps
 * non-ASCII letters as the C.UTF-8 locale of Supabase's hosted databases does. template0, as any
 * other locale than the template's requires (and nothing the user put into template1 comes along).
 */
export async function createTestDatabase(serverUrl: string, label: string, options: { unicodeLocale?: boolean } = {}): Promise<TestDatabase> {
    const name = `t_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
    const locale = options.unicodeLocale ? "LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8' LOCALE 'C'" : "LOCALE_PROVIDER libc LOCALE 'C'";
    try {
        await query(serverUrl, `CREATE DATABASE ${ident(name)} TEMPLATE template0 ENCODING 'UTF8' ${locale}`);
    } catch (err) {
        const version = (await query(serverUrl, "SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS v"))[0]!;
        if (options.unicodeLocale && Number(version.num) < 170000) {
            throw new Error(`the builtin locale provider (C.UTF-8) needs PostgreSQL 17; this server is PostgreSQL ${String(version.v)}`, { cause: err });
        }
        throw err;
    }
    return {
        url: withDatabase(serverUrl, name),
        name,
        drop: async () => {
            await query(serverUrl, `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
        },
    };
}

/** A role-name prefix no other test file uses. */
export function uniqueRolePrefix(label: string): string {
    return `t${randomBytes(3).toString("hex")}_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`.slice(0, 40);
}

/** Installs the Supabase stand-in (Vault and the Auth0 FDW functions) into a test database. */
export async function installSupabaseFixture(url: string): Promise<void> {
    await query(url, FIXTURE_SQL);
}

export interface StackDatabase {
    db: TestDatabase;
    schema: string;
    roles: Record<RoleKey, RoleSpec & { password: string }>;
    /** URL logging in as a login role of the stack. */
    urlFor: (role: "scripts" | "sync") => string;
    grants: Grant[];
    migrations: Migration[];
    model: ModelInput;
    /** Drops the database and the roles. */
    teardown: () => Promise<void>;
}

/**
 * Applies to a fresh database what the stack's Postgres side does, in the same order, and nothing
 * more: schema, roles (from the same role specs), migrations (the same files and runner), the
 * security model (row-level security forced, policies, function privileges), then the grants (the
 * same privilege model, as the SQL the postgresql provider runs; PUBLIC keeps its defaults on the
 * database unless `dedicatedDatabase`, as the program does).
 */
export async function createStackDatabase(
    serverUrl: string,
    label: string,
    options: {
        foreignTables?: string[];
        statementTimeoutMs?: number;
        unicodeLocale?: boolean;
        dedicatedDatabase?: boolean;
        supabaseAuthenticated?: boolean;
    } = {},
): Promise<StackDatabase> {
    const db = await createTestDatabase(serverUrl, label, { unicodeLocale: options.unicodeLocale });
    return await deployStack(serverUrl, db, db.url, label, options);
}

export interface DeployOptions {
    foreignTables?: string[];
    /** Schema of the foreign tables. Defaults to `auth0`. */
    fdwSchema?: string;
    statementTimeoutMs?: number;
    dedicatedDatabase?: boolean;
    /**
     * Supabase third-party auth: Supabase's Data API roles exist (test/fixtures/supabase-api-roles.sql)
     * and `authenticated` gets the reader's grants and policies, as the program gives them.
     */
    supabaseAuthenticated?: boolean;
    /** Extra definer functions for the security model (the Auth0 foreign tables' reader functions). */
    definerFunctions?: { schema: string; name: string }[];
    /** Runs after the security model and before the grants: the Supabase side creates the foreign data there. */
    beforeGrants?: (stack: Omit<StackDatabase, "teardown">) => Promise<void>;
}

/**
 * What {@link createStackDatabase} applies, to the database `db`, everything inside it as `adminUrl`
 * (the superuser's URL of `db`, or Supabase's `postgres` stand-in): roles are created by the
 * superuser (`serverUrl`). `teardown()` drops `db` and the roles.
 */
export async function deployStack(
    serverUrl: string,
    db: TestDatabase,
    adminUrl: string,
    label: string,
    options: DeployOptions & { rolePrefix?: string } = {},
): Promise<StackDatabase> {
    const rolePrefix = options.rolePrefix ?? uniqueRolePrefix(label);
    const model: ModelInput = {
        database: db.name,
        schema: "auth0_app",
        fdwSchema: options.fdwSchema ?? "auth0",
        rolePrefix,
        foreignTables: options.foreignTables ?? [],
        statementTimeoutMs: options.statementTimeoutMs ?? 5000,
        dedicatedDatabase: options.dedicatedDatabase ?? false,
        supabaseAuthenticated: options.supabaseAuthenticated ?? false,
    };
    if (model.supabaseAuthenticated) await query(serverUrl, SUPABASE_API_ROLES_SQL);
    const specs = roleSpecs(model);
    const roles = Object.fromEntries(specs.map((s) => [s.key, { ...s, password: randomBytes(18).toString("base64url") }])) as StackDatabase["roles"];
    const names = Object.fromEntries(specs.map((s) => [s.key, s.name])) as Record<RoleKey, string>;

    for (const r of Object.values(roles)) {
        await query(
            serverUrl,
            `CREATE ROLE ${ident(r.name)} ${r.login ? "LOGIN" : "NOLOGIN"} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ${r.login ? `'${r.password}'` : "NULL"}`,
        );
        if (r.statementTimeoutMs > 0) await query(serverUrl, `ALTER ROLE ${ident(r.name)} SET statement_timeout = ${Number(r.statementTimeoutMs)}`);
    }
    await query(adminUrl, `CREATE SCHEMA ${ident(model.schema)}`);

    const migrations = loadMigrations({ schema: model.schema, scripts_role: names.scripts, sync_role: names.sync, app_role: names.app });
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
        await applyMigrations(client, model.schema, migrations, rolePrefix);
        await applySecurity(
            client,
            securityModel(model.schema, names, options.definerFunctions ?? [], model.supabaseAuthenticated ? [SUPABASE_AUTHENTICATED_ROLE] : []),
        );
    } finally {
        await client.end();
    }
    const grants = privilegeModel(model);
    const stack = {
        db,
        schema: model.schema,
        roles,
        grants,
        migrations,
        model,
        urlFor: (role: "scripts" | "sync") => withCredentials(db.url, roles[role].name, roles[role].password),
    };
    await options.beforeGrants?.(stack);
    for (const g of grants) await query(adminUrl, grantSql(g, names, db.name));

    return {
        ...stack,
        teardown: async () => {
            await db.drop();
            for (const r of Object.values(roles)) await query(serverUrl, `DROP ROLE IF EXISTS ${ident(r.name)}`);
        },
    };
}
