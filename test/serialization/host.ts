/**
 * Plays Pulumi's dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) for the provider
 * texts `serialize-providers.ts` wrote: loads each with `requireFromString(text).handler()` and
 * runs its create/diff/update/read/delete against the real database and a loopback token endpoint.
 *
 * It runs under plain node, without ts-node: the test transpiles this file alone (it imports
 * nothing from the project; `require-from-string` and `pg` come from the project's node_modules,
 * which the provider texts also resolve from the working directory, as on `pulumi up`).
 *
 *   node host.js <dir of provider texts>
 *   env: HOST_DATABASE_URL (superuser URL of a database with the Supabase fixture),
 *        HOST_TOKEN_URL, HOST_CLIENT_ID, HOST_CLIENT_SECRET, HOST_AUDIENCE (the token endpoint)
 *
 * Prints one line `REPORT <json>` of what it observed; the vitest test asserts on it. Exits 1 if
 * a step failed unexpectedly.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { Client as PgClient } from "pg";

type Provider = Required<dynamic.ResourceProvider>;
type Outs = Record<string, unknown>;

const projectRequire = createRequire(join(process.cwd(), "package.json"));
const requireFromString = projectRequire("require-from-string") as (code: string) => { handler: () => Provider };
const { Client } = projectRequire("pg") as { Client: new (config: { connectionString: string }) => PgClient };

const dir = process.argv[2] ?? "";
const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
};
const databaseUrl = env("HOST_DATABASE_URL");

function load(type: string): Provider {
    return requireFromString(readFileSync(join(dir, `${type}.js`), "utf8")).handler();
}

function connection() {
    const u = new URL(databaseUrl);
    return {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: decodeURIComponent(u.pathname.slice(1)),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        sslMode: "disable" as const,
    };
}

async function sql(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
        return (await client.query(text, params)).rows as Record<string, unknown>[];
    } finally {
        await client.end();
    }
}

/** Props without the connection (it holds the password, which must not reach the report). */
function withoutConnection(props: unknown): Outs {
    const { connection: _connection, ...rest } = (props ?? {}) as Outs;
    return rest;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function errorOf(p: Promise<unknown>): Promise<string> {
    try {
        await p;
        return "(no error)";
    } catch (err) {
        return err instanceof Error ? `Error: ${err.message}` : `not an Error: ${String(err)}`;
    }
}

const report: Record<string, unknown> = {
    tsNodeLoaded: Object.keys(require.cache).some((k) => k.includes("ts-node")) || ".ts" in require.extensions,
};
const failures: string[] = [];

async function step(name: string, fn: () => Promise<Record<string, unknown>>): Promise<void> {
    try {
        report[name] = await fn();
    } catch (err) {
        failures.push(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
}

async function migrations(): Promise<Record<string, unknown>> {
    const p = load("Migrations");
    const schema = "host_app";
    await sql(`CREATE SCHEMA ${schema}`);
    const m = (id: string, up: string, down: string) => ({ id, up, down, checksum: sha256(up) });
    const m1 = m("001_a", `CREATE TABLE ${schema}.a (id int)`, `DROP TABLE ${schema}.a`);
    const m2 = m("002_b", `CREATE TABLE ${schema}.b (id int)`, `DROP TABLE ${schema}.b`);
    const m1Edited = m("001_a", `CREATE TABLE ${schema}.a (id bigint)`, `DROP TABLE ${schema}.a`);
    const inputs = (list: unknown[], allowDataLoss = false) => ({ connection: connection(), schema, migrations: list, allowDataLoss });
    const tables = async () =>
        (await sql("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", [schema])).map((r) => r.table_name);

    const check = await p.check({}, inputs([m1]));
    const created = await p.create(inputs([m1]));
    const diffAdd = await p.diff(created.id, created.outs, inputs([m1, m2]));
    const updated = await p.update(created.id, created.outs, inputs([m1, m2]));
    const outs = updated.outs as Outs;
    const diffSame = await p.diff(created.id, outs, inputs([m1, m2]));
    const diffEdited = await errorOf(p.diff(created.id, outs, inputs([m1Edited, m2])));
    // The runner's own check (a MigrationError from migrate.ts, serialized with the provider).
    const runnerRefuses = await errorOf(p.create(inputs([m1Edited, m2])));
    const read = await p.read(created.id, outs);
    await p.delete(created.id, outs);
    const tablesAfterKeep = await tables();
    await p.delete(created.id, { ...outs, allowDataLoss: true });
    const tablesAfterRevert = await tables();
    return {
        checkFailures: check.failures,
        createdId: created.id,
        createdApplied: (created.outs as Outs).applied,
        diffAdd,
        updatedApplied: outs.applied,
        diffSame,
        diffEdited,
        runnerRefuses,
        readApplied: (read.props as Outs).applied,
        tablesAfterKeep,
        tablesAfterRevert,
    };
}

async function security(): Promise<Record<string, unknown>> {
    const p = load("DatabaseSecurity");
    const schema = "host_sec";
    await sql(`CREATE SCHEMA ${schema}`);
    await sql(`CREATE ROLE host_sec_scripts NOLOGIN`);
    await sql(`CREATE FUNCTION ${schema}.current_user_id() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$`);
    await sql(`CREATE TABLE ${schema}.users (id uuid PRIMARY KEY)`);
    // A reader function of another schema (a definer function of the model).
    await sql(`CREATE SCHEMA host_sec_fd; CREATE FUNCTION host_sec_fd.list_x() RETURNS int LANGUAGE sql SECURITY DEFINER SET search_path = '' AS 'SELECT 1'`);
    const model = {
        schema,
        rlsTables: ["users"],
        policies: [{ table: "users", name: "users_scripts_all", command: "ALL", roles: ["host_sec_scripts"], using: "true", withCheck: "true" }],
        privateFunctions: ["current_user_id"],
        definerFunctions: [{ schema: "host_sec_fd", name: "list_x" }],
    };
    const inputs = { connection: connection(), model };
    const created = await p.create(inputs);
    const checkClean = await p.check(created.outs, inputs);
    await sql(`DROP POLICY users_scripts_all ON ${schema}.users`);
    await sql("GRANT EXECUTE ON FUNCTION host_sec_fd.list_x() TO PUBLIC");
    const checkDrift = await p.check(created.outs, inputs);
    const diff = await p.diff(created.id, created.outs, checkDrift.inputs);
    const updated = await p.update(created.id, created.outs, checkDrift.inputs);
    const policies = (await sql("SELECT policyname FROM pg_policies WHERE schemaname = $1", [schema])).map((r) => r.policyname);
    const definerPublic = await sql("SELECT has_function_privilege('public', 'host_sec_fd.list_x()', 'EXECUTE') AS ok");
    await sql(`DROP SCHEMA ${schema} CASCADE`);
    await sql("DROP SCHEMA host_sec_fd CASCADE");
    await sql(`DROP ROLE host_sec_scripts`);
    return {
        createdDrift: (created.outs as Outs).drift,
        cleanDrift: (checkClean.inputs as Outs).drift,
        drift: (checkDrift.inputs as Outs).drift,
        diffChanges: diff.changes,
        updatedDrift: (updated.outs as Outs).drift,
        policies,
        definerPublicAfter: definerPublic[0]?.ok,
    };
}

async function guard(): Promise<Record<string, unknown>> {
    const p = load("SettingsGuard");
    const settings = (value: string) => [{ key: "p:postgres.schema", value, consequence: "the schema", instead: "keep it" }];
    const inputs = (value: string, allowDataLoss = false) => ({ settings: settings(value), allowDataLoss, allowDataLossKey: "p:allowDataLoss" });
    const created = await p.create(inputs("app"));
    const same = await p.check(created.outs, inputs("app"));
    const changed = await p.check(created.outs, inputs("other"));
    const optedIn = await p.check(created.outs, inputs("other", true));
    return { same: same.failures, changed: changed.failures, optedIn: optedIn.failures };
}

async function supabase(): Promise<Record<string, unknown>> {
    const p = load("SupabaseThirdPartyAuth");
    const inputs = {
        apiUrl: env("HOST_SUPABASE_URL"),
        projectRef: "abcdefghijklmnopqrst",
        accessToken: env("HOST_SUPABASE_TOKEN"),
        oidcIssuerUrl: "https://host.eu.auth0.com/",
        retry: { maxAttempts: 2, maxTotalWaitMs: 100, baseDelayMs: 1, maxDelayMs: 10 },
    };
    const check = await p.check({}, inputs);
    const created = await p.create(inputs);
    const read = await p.read(created.id, created.outs);
    await p.delete(created.id, created.outs);
    const gone = await p.read(created.id, created.outs);
    const refused = await errorOf(p.create({ ...inputs, accessToken: "sbp_wrong" }));
    return { checkFailures: check.failures, type: (created.outs as Outs).type, readId: read.id, gone, refused };
}

async function vault(): Promise<Record<string, unknown>> {
    const p = load("VaultSecret");
    const inputs = { connection: connection(), name: "host_secret", description: "host test", secret: "first-value" };
    const created = await p.create(inputs);
    const next = { ...inputs, secret: "second-value" };
    const diff = await p.diff(created.id, created.outs, next);
    // Another database of the same server: the identity (read through the serialized helper) differs.
    const diffOtherDatabase = await p.diff(created.id, created.outs, { ...next, connection: { ...connection(), database: "postgres" } });
    const updated = await p.update(created.id, created.outs, next);
    const [row] = await sql("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = $1", [created.id]);
    const read = await p.read(created.id, updated.outs);
    // A create for a name that exists adopts the secret (same id, the new value).
    const adopted = await p.create({ ...inputs, secret: "third-value" });
    const [adoptedRow] = await sql("SELECT decrypted_secret FROM vault.decrypted_secrets WHERE id = $1", [created.id]);
    const nul = await p.check({}, { ...inputs, secret: "with\u0000nul" });
    await p.delete(created.id, updated.outs);
    const left = await sql("SELECT id FROM vault.secrets WHERE id = $1", [created.id]);
    return {
        id: created.id,
        secretIdOutput: (created.outs as Outs).secretId,
        databaseRecorded: /^\d+\/\d+$/.test(String((created.outs as Outs).database)),
        diff,
        diffOtherDatabase,
        updatedSecretId: (updated.outs as Outs).secretId,
        storedIsSecondValue: row?.decrypted_secret === "second-value",
        readIsSecondValue: (read.props as Outs).secret === "second-value",
        adoptedId: adopted.id,
        adoptedIsThirdValue: adoptedRow?.decrypted_secret === "third-value",
        nulFailures: nul.failures,
        rowsAfterDelete: left.length,
        readAfterDelete: await p.read(created.id, updated.outs),
    };
}

async function foreignData(): Promise<Record<string, unknown>> {
    const fdwP = load("ForeignDataWrapper");
    const tableP = load("ForeignTable");
    const fdwInputs = {
        connection: connection(),
        name: "host_wrapper",
        handler: "extensions.auth0_fdw_handler",
        validator: "extensions.auth0_fdw_validator",
        extension: { name: "wrappers", minVersion: "0.4.6", reason: "host test" },
    };
    const fdwCheck = await fdwP.check({}, fdwInputs);
    await sql("SET allow_system_table_mods = on; UPDATE pg_catalog.pg_extension SET extversion = '0.4.5' WHERE extname = 'wrappers'");
    const fdwCheckOld = await fdwP.check({}, fdwInputs);
    await sql("SET allow_system_table_mods = on; UPDATE pg_catalog.pg_extension SET extversion = '0.5.0' WHERE extname = 'wrappers'");
    const fdw = await fdwP.create(fdwInputs);
    const fdwDiffName = await fdwP.diff(fdw.id, fdw.outs, { ...fdwInputs, name: "host_wrapper_2" });
    const fdwRead = await fdwP.read(fdw.id, fdw.outs);
    const fdwUpdated = await fdwP.update(fdw.id, fdw.outs, fdwInputs);

    await sql(
        `CREATE SERVER host_server FOREIGN DATA WRAPPER host_wrapper OPTIONS (url 'https://t.example/api/v2/users', api_key_id '00000000-0000-4000-8000-000000000009')`,
    );
    await sql("CREATE SCHEMA IF NOT EXISTS auth0");
    const tableInputs = {
        connection: connection(),
        schema: "auth0",
        name: "host_users",
        server: "host_server",
        columns: [
            { name: "user_id", type: "text" },
            { name: "email_verified", type: "bool" },
        ],
        options: { object: "users", note: "it's" },
        readerFunction: "list_host_users",
    };
    const table = await tableP.create(tableInputs);
    const readerFunction = await sql(
        "SELECT p.prosecdef AS definer, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute FROM pg_proc p WHERE p.proname = 'list_host_users'",
    );
    const next = { ...tableInputs, columns: [...tableInputs.columns, { name: "logins_count", type: "int" }] };
    const tableDiff = await tableP.diff(table.id, table.outs, next);
    const tableDiffServer = await tableP.diff(table.id, table.outs, { ...tableInputs, server: "other" });
    await tableP.update(table.id, table.outs, next);
    const tableRead = await tableP.read(table.id, table.outs);
    const tableCheckBad = await tableP.check({}, { ...tableInputs, columns: [{ name: "x", type: "money" }] });
    await tableP.delete(table.id, next);
    const tableLeft = await sql("SELECT to_regclass('auth0.host_users') AS t");
    const readerLeft = await sql("SELECT 1 FROM pg_proc WHERE proname = 'list_host_users'");

    const fdwDeleteBlocked = await errorOf(fdwP.delete(fdw.id, fdw.outs));
    await sql("DROP SERVER host_server");
    await fdwP.delete(fdw.id, fdw.outs);
    const fdwLeft = await sql("SELECT 1 FROM pg_foreign_data_wrapper WHERE fdwname = 'host_wrapper'");
    return {
        fdwCheck: fdwCheck.failures,
        fdwCheckOld: fdwCheckOld.failures,
        readerFunction: readerFunction[0] ?? null,
        readerLeft: readerLeft.length,
        fdwId: fdw.id,
        fdwDiffName,
        fdwRead: withoutConnection(fdwRead.props),
        fdwUpdated: withoutConnection(fdwUpdated.outs),
        tableId: table.id,
        tableDiff,
        tableDiffServer,
        tableRead: {
            columns: (tableRead.props as Outs).columns,
            options: (tableRead.props as Outs).options,
            server: (tableRead.props as Outs).server,
            readerFunction: (tableRead.props as Outs).readerFunction,
        },
        tableCheckBad: tableCheckBad.failures,
        tableLeft: tableLeft[0]?.t ?? null,
        fdwDeleteBlocked,
        fdwLeft: fdwLeft.length,
    };
}

async function token(): Promise<Record<string, unknown>> {
    const p = load("ManagementApiToken");
    const inputs = {
        tokenUrl: env("HOST_TOKEN_URL"),
        clientId: env("HOST_CLIENT_ID"),
        clientSecret: env("HOST_CLIENT_SECRET"),
        audience: env("HOST_AUDIENCE"),
        refreshBeforeSeconds: 3600,
    };
    const created = await p.create(inputs);
    const outs = created.outs as Outs;
    const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
    const diffFresh = await p.diff(created.id, { ...outs, expiresAt: at(7200) }, inputs);
    const diffWindow = await p.diff(created.id, { ...outs, expiresAt: at(1800) }, inputs);
    const updated = await p.update(created.id, outs, inputs);
    const refused = await errorOf(p.create({ ...inputs, clientSecret: `${inputs.clientSecret}-wrong` }));
    await p.delete(created.id, updated.outs);
    return {
        tokenSha256: sha256(String(outs.token)),
        updatedTokenSha256: sha256(String((updated.outs as Outs).token)),
        expiresAt: outs.expiresAt,
        scope: outs.scope,
        diffFresh,
        diffWindow,
        refused,
    };
}

async function clientConnections(): Promise<Record<string, unknown>> {
    const p = load("ClientConnections");
    // The token endpoint's origin stands in for the tenant: a wrong deploy secret stops at its first call.
    const inputs = {
        baseUrl: new URL("/", env("HOST_TOKEN_URL")).toString(),
        clientId: env("HOST_CLIENT_ID"),
        clientSecret: `${env("HOST_CLIENT_SECRET")}-wrong`,
        clientIds: ["spa"],
        allowedConnections: ["users"],
        setTenantFlag: true,
        retry: { maxAttempts: 1 },
    };
    const check = await p.check({}, inputs);
    const bad = await p.check({}, { ...inputs, baseUrl: "http://tenant.example/", clientIds: [] });
    const diffRotated = await p.diff("id", { ...inputs, removed: [] }, { ...inputs, clientSecret: "rotated" });
    const refused = await errorOf(p.create(inputs));
    return { checkFailures: check.failures, badFailures: bad.failures, diffRotated, refused };
}

async function main(): Promise<void> {
    const started = Date.now();
    await step("migrations", migrations);
    await step("vault", vault);
    await step("foreignData", foreignData);
    await step("token", token);
    await step("security", security);
    await step("guard", guard);
    await step("supabase", supabase);
    await step("clientConnections", clientConnections);
    report.failures = failures;
    report.ms = Date.now() - started;
    process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
    process.exitCode = failures.length > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
});
