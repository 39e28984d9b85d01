/**
 * The Supabase stand-in of the tests, as Supabase runs it: a test database with the fixture
 * (`test/fixtures/supabase-fixture.sql`, whose header says what is faithful and what is not),
 * administered by a non-superuser holding exactly the attributes and grants Supabase gives its
 * `postgres` role, and, when a test asks for it, a stand-in for the Auth0 Management API that the
 * Auth0 foreign tables read their rows from.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { connectionFromUrl, PgConnectionInfo } from "../../infra/dynamic/connection";
import {
    AUTH0_FDW_HANDLER,
    AUTH0_FDW_VALIDATOR,
    AUTH0_USER_COLUMNS,
    foreignDataNames,
    foreignServerOptions,
    foreignServerSql,
    WRAPPERS_MIN_VERSION,
    WRAPPERS_MIN_VERSION_REASON,
} from "../../infra/postgres/auth0-fdw";
import { foreignDataWrapperProvider, foreignTableProvider, vaultSecretProvider } from "../../infra/dynamic";
import { FOREIGN_COLUMN_TYPES } from "../../infra/dynamic/fdw-table";
import { AUTH0_FOREIGN_TABLES } from "../../infra/postgres/foreign-data";
import { ident, readerFunctionName } from "../../infra/postgres/privileges";
import {
    createTestDatabase,
    deployStack,
    FIXTURE_SQL,
    query,
    StackDatabase,
    TestDatabase,
    uniqueRolePrefix,
    withCredentials,
    withDatabase,
    SUPABASE_API_ROLES_SQL,
} from "./db";

/** The Wrappers version the fixture reports unless told otherwise. */
export const FIXTURE_WRAPPERS_VERSION = "0.5.0";

export interface SupabaseAdmin {
    name: string;
    password: string;
    /** URL of the test database, logged in as the admin. */
    url: string;
    /** The same, as the stack hands it to its dynamic providers. */
    connection: PgConnectionInfo;
}

export interface SupabaseDatabase extends TestDatabase {
    /**
     * The stand-in for Supabase's `postgres`: NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION
     * BYPASSRLS, ALL on the database and on schema `extensions` (supabase/postgres
     * `10000000000000_demote-postgres.sql`), owner of schema `public`, and Vault's grants
     * (`supabase_vault/after-create.sql`).
     */
    admin: SupabaseAdmin;
}

/** Runs the fixture as the superuser, granting Supabase's grants to `adminRole` if given. */
export async function installFixture(url: string, options: { adminRole?: string; wrappersVersion?: string } = {}): Promise<void> {
    const settings = [
        `SET supabase_fixture.admin_role = '${(options.adminRole ?? "").replace(/'/g, "''")}';`,
        `SET supabase_fixture.wrappers_version = '${(options.wrappersVersion ?? FIXTURE_WRAPPERS_VERSION).replace(/'/g, "''")}';`,
    ];
    await query(url, `${settings.join("\n")}\n${FIXTURE_SQL}`);
    // Supabase's Data API roles exist on every Supabase database.
    await query(url, SUPABASE_API_ROLES_SQL);
}

/**
 * A fresh test database with the Supabase fixture, administered by a non-superuser as on
 * Supabase. `drop()` removes the database, the stand-in Auth0 API (if any) and the admin role.
 */
export async function createSupabaseDatabase(serverUrl: string, label: string, options: { wrappersVersion?: string } = {}): Promise<SupabaseDatabase> {
    const db = await createTestDatabase(serverUrl, label);
    const name = `${db.name}_pg`;
    const password = randomBytes(18).toString("base64url");
    await query(serverUrl, `CREATE ROLE ${ident(name)} NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS PASSWORD '${password}'`);
    await query(db.url, `GRANT ALL ON DATABASE ${ident(db.name)} TO ${ident(name)}`);
    await installFixture(db.url, { adminRole: name, wrappersVersion: options.wrappersVersion });
    await query(db.url, `GRANT ALL ON SCHEMA extensions TO ${ident(name)}; GRANT ALL ON ALL ROUTINES IN SCHEMA extensions TO ${ident(name)}`);
    // Supabase's `postgres` owns schema public.
    await query(db.url, `ALTER SCHEMA public OWNER TO ${ident(name)}`);
    const url = withCredentials(db.url, name, password);
    return {
        ...db,
        admin: { name, password, url, connection: connectionFromUrl(url) },
        drop: async () => {
            await db.drop();
            await query(serverUrl, `DROP DATABASE IF EXISTS ${ident(apiName(db))} WITH (FORCE)`);
            for (const role of [apiName(db), name]) await query(serverUrl, `DROP ROLE IF EXISTS ${ident(role)}`);
        },
    };
}

/**
 * A foreign data wrapper of the Auth0 handler, created as Supabase's supautils does for `postgres`
 * (a superuser runs CREATE FOREIGN DATA WRAPPER), which the admin may then use.
 */
export async function createAuth0Wrapper(db: SupabaseDatabase, wrapper: string): Promise<void> {
    await query(db.url, `CREATE FOREIGN DATA WRAPPER ${ident(wrapper)} HANDLER extensions.auth0_fdw_handler VALIDATOR extensions.auth0_fdw_validator`);
    await query(db.url, `GRANT USAGE ON FOREIGN DATA WRAPPER ${ident(wrapper)} TO ${ident(db.admin.name)}`);
}

/** Makes the fixture report another installed Wrappers version (superuser only: it edits pg_extension). */
export async function pretendWrappersVersion(db: TestDatabase, version: string): Promise<void> {
    await query(
        db.url,
        `SET allow_system_table_mods = on; UPDATE pg_catalog.pg_extension SET extversion = '${version.replace(/'/g, "''")}' WHERE extname = 'wrappers'`,
    );
}

function apiName(db: TestDatabase): string {
    return `${db.name}_api`;
}

/** A user as the stand-in Management API returns it: any of the Auth0 users table's columns. */
export type Auth0User = Partial<Record<(typeof AUTH0_USER_COLUMNS)[number]["name"], unknown>>;

/**
 * Serves `users` to the Auth0 foreign tables of schema `schema` (e.g. `auth0.users`): a stand-in
 * Management API database (created once per test database) holds them in `<schema>.users`, and
 * every Auth0 server of the test database reads it through a user mapping FOR PUBLIC (see the
 * fixture's header). A scan still looks the API key up in Vault first, as the querying user.
 */
export async function serveAuth0Users(db: SupabaseDatabase, serverUrl: string, schema: string, users: Auth0User[]): Promise<void> {
    const api = apiName(db);
    const apiUrl = withDatabase(db.url, api);
    const exists = await query(serverUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [api]);
    if (exists.length === 0) {
        const password = randomBytes(18).toString("base64url");
        await query(serverUrl, `CREATE DATABASE ${ident(api)} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc LOCALE 'C'`);
        await query(serverUrl, `CREATE ROLE ${ident(api)} LOGIN NOSUPERUSER PASSWORD '${password}'`);
        const u = new URL(serverUrl);
        await query(db.url, 'INSERT INTO extensions.supabase_fixture_api (host, port, dbname, "user", password) VALUES ($1, $2, $3, $4, $5)', [
            u.hostname,
            Number(u.port || 5432),
            api,
            api,
            password,
        ]);
    }
    const columns = AUTH0_USER_COLUMNS.map((c) => `${ident(c.name)} ${FOREIGN_COLUMN_TYPES[c.type]}`).join(", ");
    await query(apiUrl, `CREATE SCHEMA IF NOT EXISTS ${ident(schema)}; CREATE TABLE IF NOT EXISTS ${ident(schema)}.users (${columns})`);
    await query(apiUrl, `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(api)}; GRANT SELECT ON ${ident(schema)}.users TO ${ident(api)}`);
    for (const user of users) {
        const keys = Object.keys(user);
        await query(
            apiUrl,
            `INSERT INTO ${ident(schema)}.users (${keys.map(ident).join(", ")}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(", ")})`,
            keys.map((k) => {
                const v = user[k as keyof Auth0User];
                return v !== null && typeof v === "object" ? JSON.stringify(v) : v;
            }),
        );
    }
    // Servers created before the API was served get their mapping now; later ones from the event trigger.
    await query(
        db.url,
        `SELECT extensions.supabase_fixture_map_server(s.oid) FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
          WHERE w.fdwhandler = 'extensions.auth0_fdw_handler'::regproc`,
    );
}

/** Where the write-ahead log is now (for {@link occurrencesOnDisk}). */
export async function walPosition(url: string): Promise<string> {
    const [row] = await query(url, "SELECT pg_current_wal_insert_lsn()::text AS lsn");
    return row!.lsn as string;
}

function count(haystack: Buffer, needle: Buffer): number {
    let n = 0;
    for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) n++;
    return n;
}

/**
 * How many times `text` (as UTF-8 bytes) is on disk: in the data files of `relation` (its heap and
 * TOAST) after a CHECKPOINT wrote every dirty page, and in the WAL segments written since `since`.
 * A superuser URL: it reads the server's files.
 */
export async function occurrencesOnDisk(url: string, relation: string, text: string, since: string): Promise<{ heap: number; wal: number }> {
    const needle = Buffer.from(text, "utf8");
    await query(url, "CHECKPOINT");
    const files = await query(
        url,
        `SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c WHERE c.oid = $1::regclass
         UNION ALL SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c WHERE c.oid = $1::regclass AND c.reltoastrelid <> 0`,
        [relation],
    );
    let heap = 0;
    for (const f of files) {
        const [row] = await query(url, "SELECT pg_read_binary_file($1) AS data", [f.path]);
        heap += count(row!.data as Buffer, needle);
    }
    const segments = await query(
        url,
        `SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'
            AND name >= pg_walfile_name($1::pg_lsn) AND name <= pg_walfile_name(pg_current_wal_insert_lsn()) ORDER BY name`,
        [since],
    );
    let wal = 0;
    for (const s of segments) {
        const [row] = await query(url, "SELECT pg_read_binary_file('pg_wal/' || $1) AS data", [s.name]);
        wal += count(row!.data as Buffer, needle);
    }
    return { heap, wal };
}

/** Runs `sql` as `role` (SET ROLE in a superuser session, as a pooler or PostgREST would), in a transaction rolled back afterwards. */
export async function asRole(url: string, role: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
        await client.query("BEGIN");
        await client.query(`SET LOCAL ROLE ${ident(role)}`);
        return (await client.query(sql, params)).rows;
    } finally {
        await client.query("ROLLBACK").catch(() => undefined);
        await client.end();
    }
}

export interface SupabaseStackDatabase extends StackDatabase {
    supabase: SupabaseDatabase;
    /** The foreign-data names (from the role prefix, as the program derives them). */
    foreignData: ReturnType<typeof foreignDataNames>;
    /** The Vault secret the foreign server reads the API key from, by id. */
    vaultSecretId: string;
}

/**
 * The stack's Postgres side with Supabase features, as the program applies it to Supabase: everything
 * as Supabase's `postgres` stand-in, through the same providers and SQL (schema, migrations, security
 * model, then what `Auth0ForeignData` creates: the Vault secret, the wrapper (as supautils would, by the
 * superuser), the server reading the key by Vault id, the schema, the foreign tables with their reader
 * functions), then every grant of the privilege model. The stand-in Management API serves `users`.
 */
export async function createSupabaseStackDatabase(serverUrl: string, label: string, options: { users?: Auth0User[] } = {}): Promise<SupabaseStackDatabase> {
    const supabase = await createSupabaseDatabase(serverUrl, label);
    const rolePrefix = uniqueRolePrefix(label);
    const fd = foreignDataNames(rolePrefix);
    const admin = supabase.admin.connection;
    let vaultSecretId = "";
    try {
        const stack = await deployStack(serverUrl, supabase, supabase.admin.url, label, {
            rolePrefix,
            fdwSchema: fd.schema,
            foreignTables: [...AUTH0_FOREIGN_TABLES],
            definerFunctions: AUTH0_FOREIGN_TABLES.map((t) => ({ schema: fd.schema, name: readerFunctionName(t) })),
            beforeGrants: async () => {
                await serveAuth0Users(supabase, serverUrl, fd.schema, options.users ?? []);
                const secret = await vaultSecretProvider.create({
                    connection: admin,
                    name: fd.vaultSecret,
                    description: "test",
                    secret: `mgmt-token-${randomBytes(16).toString("hex")}`,
                });
                vaultSecretId = secret.id;
                const extension = { name: "wrappers", minVersion: WRAPPERS_MIN_VERSION, reason: WRAPPERS_MIN_VERSION_REASON };
                await foreignDataWrapperProvider.create({
                    connection: connectionFromUrl(supabase.url),
                    name: fd.wrapper,
                    handler: `extensions.${AUTH0_FDW_HANDLER}`,
                    validator: `extensions.${AUTH0_FDW_VALIDATOR}`,
                    extension,
                });
                await query(supabase.url, `GRANT USAGE ON FOREIGN DATA WRAPPER ${ident(fd.wrapper)} TO ${ident(supabase.admin.name)}`);
                await query(supabase.admin.url, foreignServerSql(fd.server, fd.wrapper, foreignServerOptions("tenant.eu.auth0.com", secret.id)));
                await query(supabase.admin.url, `CREATE SCHEMA IF NOT EXISTS ${ident(fd.schema)}`);
                for (const table of AUTH0_FOREIGN_TABLES) {
                    await foreignTableProvider.create({
                        connection: admin,
                        schema: fd.schema,
                        name: table,
                        server: fd.server,
                        columns: AUTH0_USER_COLUMNS.map((c) => ({ ...c })),
                        options: { object: table },
                        readerFunction: readerFunctionName(table),
                    });
                }
            },
        });
        return { ...stack, supabase, foreignData: fd, vaultSecretId };
    } catch (err) {
        await supabase.drop().catch(() => undefined);
        throw err;
    }
}
