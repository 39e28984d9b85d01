/**
 * (b) Secrets never reach a log line, an error or a value handed back. Every error path of the
 * six custom-database scripts and of the Actions is run with a DB_URL, database passwords and a
 * Hasura admin secret of known, unique values (with characters that URL-encode, so the raw, the
 * encoded and the decoded forms differ); the sandbox's and the Action runner's console are
 * captured, and everything is searched for each form of each secret.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer, IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import { createServer, Server, Socket } from "node:net";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { ScriptName } from "../../infra/auth0/scripts";
import { ident } from "../../infra/postgres/privileges";
import { Invocation, loadAction, LoadedAction, postLoginEvent, trackPgPools } from "../support/action-runner";
import { Auth0Sandbox, createSandbox, RunResult } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase, withCredentials } from "../support/db";
import { freePort } from "../support/embedded";
import { needs } from "../support/needs";
import { searchable } from "../support/leaks";
import { configFor, isError } from "../support/custom-db-scripts";
import { capturingConsole } from "../support/custom-db-faults";

/** A unique secret with characters that change under URL encoding (but no quote: it goes into SQL via %L anyway). */
function uniqueSecret(label: string): string {
    return `${label}-${randomBytes(9).toString("hex")}:/@?#%& +=`;
}

const SCRIPTS_PASSWORD = uniqueSecret("scripts-pw");
const SYNC_PASSWORD = uniqueSecret("sync-pw");
const WRONG_PASSWORD = uniqueSecret("wrong-pw");
const ADMIN_SECRET = `admin-${randomBytes(12).toString("hex")}`;
const BAD_ROLE = `role-${randomBytes(6).toString("hex")}!`;

let stack: StackDatabase;
let scriptsUrl: string;
let syncUrl: string;
/** Every form of every secret: none may appear anywhere. */
let needles: string[];

/** Everything to search: console lines, and what was handed back. */
const seen: { where: string; text: string }[] = [];

function serialize(value: unknown): string {
    if (value === undefined) return "";
    return JSON.stringify(value, (_key, v: unknown) => {
        if (isError(v)) return { ...v, name: v.name, message: v.message, stack: v.stack, cause: (v as { cause?: unknown }).cause };
        if (typeof v === "bigint") return String(v);
        return v;
    });
}

function record(where: string, value: unknown) {
    seen.push({ where, text: typeof value === "string" ? value : serialize(value) });
}

/** The forms of a password as it may appear: raw, URL-encoded (two encoders), decoded-from-encoded. */
function forms(secret: string): string[] {
    const encoded = encodeURIComponent(secret);
    const u = new URL("postgres://u@h/d");
    u.password = encoded;
    return [...new Set([secret, encoded, u.password, encodeURI(secret)])];
}

async function setPassword(role: string, password: string) {
    const rows = await query(stack.db.url, "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text) AS sql", [role, password]);
    await query(stack.db.url, rows[0]!.sql as string);
}

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "secrets_logs");
    await setPassword(stack.roles.scripts.name, SCRIPTS_PASSWORD);
    await setPassword(stack.roles.sync.name, SYNC_PASSWORD);
    scriptsUrl = withCredentials(stack.db.url, stack.roles.scripts.name, SCRIPTS_PASSWORD);
    syncUrl = withCredentials(stack.db.url, stack.roles.sync.name, SYNC_PASSWORD);
    needles = [
        scriptsUrl,
        syncUrl,
        ...forms(SCRIPTS_PASSWORD),
        ...forms(SYNC_PASSWORD),
        ...forms(WRONG_PASSWORD),
        ADMIN_SECRET,
        BAD_ROLE,
        stack.db.url,
        ...forms(decodeURIComponent(new URL(stack.db.url).password)),
    ];
});

const sandboxes: Auth0Sandbox[] = [];
const syncPools = trackPgPools();
afterAll(async () => {
    for (const s of sandboxes) await s.close().catch(() => undefined);
    await syncPools.endAll();
    await stack?.teardown();
});

/** A loopback TCP port nothing listens on, and one that accepts and never answers. */
async function closedPort(): Promise<number> {
    return await freePort();
}
async function blackhole(): Promise<{ port: number; close: () => Promise<void> }> {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => {
        sockets.push(s);
        s.on("error", () => undefined);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    return {
        port,
        close: async () => {
            for (const s of sockets) s.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

function withPort(url: string, port: number): string {
    const u = new URL(url);
    u.port = String(port);
    return u.toString();
}

// ---------------------------------------------------------------------------------------------
// The scripts.

const SCRIPT_CALLS: [ScriptName, unknown[]][] = [
    ["login", ["leak.user@secrets.test", "pw-leak-user"]],
    ["login", ["leak.user@secrets.test", "pw-wrong"]],
    ["login", ["nobody@secrets.test", "pw"]],
    ["create", [{ email: "leak.user@secrets.test", password: "pw-leak-user" }]],
    ["create", [{ email: "no-at-sign", password: "pw" }]],
    ["verify", ["leak.user@secrets.test"]],
    ["change_password", ["leak.user@secrets.test", "x".repeat(100)]],
    ["change_password", ["leak.user@secrets.test", "pw-leak-user"]],
    ["get_user", ["leak.user@secrets.test"]],
    ["get_user", [42]],
    ["delete", ["00000000-0000-4000-8000-000000000000"]],
    ["delete", [null]],
];

async function runScripts(
    label: string,
    configuration: Record<string, string>,
    options: { timeoutMs?: number; calls?: [ScriptName, unknown[]][] } = {},
): Promise<RunResult[]> {
    const logged = capturingConsole();
    const s = createSandbox(configuration, { console: logged.console, timeoutMs: options.timeoutMs ?? 10_000 });
    sandboxes.push(s);
    const results: RunResult[] = [];
    for (const [name, args] of options.calls ?? SCRIPT_CALLS) {
        const r = await s.run(name, ...args);
        results.push(r);
        record(`${label}: ${name} callback`, r.args);
    }
    await s.close();
    for (const line of logged.lines) record(`${label}: console`, line);
    return results;
}

function scriptsConfig(overrides: Record<string, string> = {}): Record<string, string> {
    return { ...configFor(stack, { dbUrl: scriptsUrl, connectTimeoutMs: 1_000, statementTimeoutMs: 1_000 }), ...overrides };
}

function messages(results: RunResult[]): string[] {
    return results.map((r) => (isError(r.err) ? r.err.message : String(r.err)));
}

describe("the custom-database scripts' error paths", () => {
    it("work with the unique password at all (so the searches below search real output)", async () => {
        const results = await runScripts("baseline", scriptsConfig(), { calls: [SCRIPT_CALLS[3]!, ...SCRIPT_CALLS] });
        expect(results[0]!.err).toBeNull();
        expect(results[1]!.result).toMatchObject({ email: "leak.user@secrets.test" });
        expect(messages(results)).toContain("Wrong email or password.");
        expect(messages(results)).toContain("A user with this email already exists.");
    });

    it("a configuration error whose DB_URL carries the password in its query string", async () => {
        const results = await runScripts("config", scriptsConfig({ DB_URL: `${scriptsUrl}?password=${encodeURIComponent(SCRIPTS_PASSWORD)}` }));
        for (const m of messages(results)) expect(m).toMatch(/^custom database configuration is invalid: DB_URL must be/);
    });

    it("a DB_URL whose password is a malformed percent-escape", async (ctx) => {
        needs(ctx, "password-check");
        const u = new URL(scriptsUrl);
        const bad = scriptsUrl.replace(`:${u.password}@`, `:%ZZ${u.password}@`);
        needles.push(bad, `%ZZ${u.password}`);
        const results = await runScripts("malformed", scriptsConfig({ DB_URL: bad }));
        expect(messages(results).filter((m) => /28P01: password authentication failed/.test(m)).length).toBeGreaterThan(0);
    });

    it("a wrong password (SQLSTATE 28P01)", async (ctx) => {
        needs(ctx, "password-check");
        const wrongUrl = withCredentials(stack.db.url, stack.roles.scripts.name, WRONG_PASSWORD);
        const results = await runScripts("wrong-password", scriptsConfig({ DB_URL: wrongUrl }));
        expect(messages(results).filter((m) => /28P01/.test(m)).length).toBeGreaterThan(0);
    });

    it("TLS required by DB_SSL but not offered", async (ctx) => {
        needs(ctx, "no-tls");
        const results = await runScripts("tls", scriptsConfig({ DB_SSL: "require" }));
        expect(messages(results).filter((m) => /SSL/.test(m)).length).toBeGreaterThan(0);
    });

    it("a refused connection and a host that never answers", async () => {
        const refused = await runScripts("refused", scriptsConfig({ DB_URL: withPort(scriptsUrl, await closedPort()) }));
        expect(messages(refused).filter((m) => /ECONNREFUSED/.test(m)).length).toBeGreaterThan(0);
        const hole = await blackhole();
        try {
            const hung = await runScripts("blackhole", scriptsConfig({ DB_URL: withPort(scriptsUrl, hole.port), DB_CONNECT_TIMEOUT_MS: "200" }), {
                calls: SCRIPT_CALLS.slice(0, 4),
            });
            expect(messages(hung).filter((m) => /connect timeout/.test(m)).length).toBeGreaterThan(0);
        } finally {
            await hole.close();
        }
    });

    it("a statement timeout, an exhausted pool and a missing table", async () => {
        const locker = new Client({ connectionString: stack.db.url });
        await locker.connect();
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE ${ident(stack.schema)}.users IN ACCESS EXCLUSIVE MODE`);
        try {
            const timedOut = await runScripts("statement-timeout", scriptsConfig({ DB_STATEMENT_TIMEOUT_MS: "200" }), { calls: SCRIPT_CALLS.slice(0, 4) });
            expect(messages(timedOut).filter((m) => /57014/.test(m)).length).toBeGreaterThan(0);
            const logged = capturingConsole();
            const s = createSandbox(scriptsConfig({ DB_POOL_MAX: "1", DB_CONNECT_TIMEOUT_MS: "200", DB_STATEMENT_TIMEOUT_MS: "600" }), {
                console: logged.console,
            });
            sandboxes.push(s);
            const burst = await Promise.all([s.run("verify", "leak.user@secrets.test"), s.run("get_user", "leak.user@secrets.test")]);
            for (const r of burst) record("pool: callback", r.args);
            expect(burst.map((r) => (r.err as Error).message).join("\n")).toMatch(/no pooled database connection became free/);
            await s.close();
            for (const line of logged.lines) record("pool: console", line);
        } finally {
            await locker.query("ROLLBACK");
            await locker.end();
        }
        const missing = await runScripts("missing-table", scriptsConfig({ DB_SCHEMA: "public" }));
        expect(messages(missing).filter((m) => /42P01/.test(m)).length).toBeGreaterThan(0);
    });

    it("an idle connection killed by the server (logged by the pool's error handler)", async () => {
        const logged = capturingConsole();
        const s = createSandbox(scriptsConfig({ DB_POOL_MAX: "1" }), { console: logged.console });
        sandboxes.push(s);
        expect((await s.run("get_user", "leak.user@secrets.test")).err).toBeNull();
        const pool = (s.context as { __auth0CustomDb: { pool: import("pg").Pool } }).__auth0CustomDb.pool;
        const failed = once(pool, "error");
        await query(inject("databaseUrl"), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [stack.roles.scripts.name]);
        await failed;
        await s.close();
        expect(logged.lines.join("\n")).toMatch(/an idle database connection failed/);
        for (const line of logged.lines) record("idle: console", line);
    });
});

// ---------------------------------------------------------------------------------------------
// The Actions.

function syncSecrets(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
        SYNC_MODE: "postgres",
        SYNC_BLOCKS_LOGIN: "true",
        DB_SCHEMA: stack.schema,
        DB_URL: syncUrl,
        DB_SSL: "disable",
        DB_CONNECT_TIMEOUT_MS: "1000",
        DB_STATEMENT_TIMEOUT_MS: "1000",
        HASURA_ADMIN_SECRET: ADMIN_SECRET,
        ...overrides,
    };
}

function loadSync(): LoadedAction {
    return loadAction(actionSpec("user-sync"), { timeLimitMs: 10_000, interceptModule: syncPools.interceptModule });
}

async function invoke(
    label: string,
    action: LoadedAction,
    secrets: Record<string, string | undefined>,
    user: Record<string, unknown> = {},
): Promise<Invocation> {
    const event = postLoginEvent({ secrets, user: { user_id: "auth0|secrets-test", ...user } });
    const result = await action.invoke(event);
    for (const line of result.logs) record(`${label}: log`, line.text);
    record(`${label}: denied`, result.denied);
    record(`${label}: error`, result.error);
    record(`${label}: api calls`, result.calls);
    return result;
}

function logText(result: Invocation): string {
    return result.logs.map((l) => l.text).join("\n");
}

/** A Hasura stand-in whose every answer quotes the admin secret it was sent and the request body. */
async function hostileHasura(): Promise<{ url: (path: string) => string; close: () => Promise<void> }> {
    const server: HttpServer = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
            const secret = String(req.headers["x-hasura-admin-secret"] ?? "");
            const echo = `admin secret ${secret} for ${body} and ${syncUrl}`;
            switch (req.url) {
                case "/http-500":
                    res.writeHead(500, { "content-type": "text/plain" }).end(echo);
                    return;
                case "/graphql-errors":
                    res.writeHead(200, { "content-type": "application/json" }).end(
                        JSON.stringify({ errors: [{ message: echo, extensions: { code: secret } }] }),
                    );
                    return;
                case "/not-json":
                    res.writeHead(200, { "content-type": "text/html" }).end(`<html>${echo}</html>`);
                    return;
                case "/no-result":
                    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: { other: echo } }));
                    return;
                case "/hang":
                    return; // never answers
                default:
                    res.writeHead(404).end(echo);
            }
        });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    return {
        url: (path) => `http://127.0.0.1:${port}${path}`,
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

describe("the Actions' error paths", () => {
    it("user-sync works with the unique password at all", async () => {
        const result = await invoke("sync ok", loadSync(), syncSecrets());
        expect([result.error, result.denied, result.logs]).toEqual([undefined, undefined, []]);
    });

    it.each<[string, Record<string, string | undefined>, RegExp]>([
        ["a DB_URL that is not a URL", { DB_URL: `not a url ${SYNC_PASSWORD}` }, /DB_URL is not a valid postgres:\/\/ URL/],
        [
            "a DB_URL with query parameters",
            { DB_URL: `${"postgres"}://u:${encodeURIComponent(SYNC_PASSWORD)}@127.0.0.1/db?password=${encodeURIComponent(SYNC_PASSWORD)}` },
            /must not carry query parameters/,
        ],
        ["a DB_URL of another scheme", { DB_URL: `mysql://u:${encodeURIComponent(SYNC_PASSWORD)}@127.0.0.1/db` }, /must start with postgres:\/\//],
        [
            "a DB_URL with a malformed percent-escape",
            { DB_URL: `postgres://u:%ZZ${encodeURIComponent(SYNC_PASSWORD)}@127.0.0.1/db` },
            /malformed percent-escape/,
        ],
        ["a bad DB_SCHEMA", { DB_SCHEMA: `x"; --${SYNC_PASSWORD}` }, /DB_SCHEMA must be a lower-case Postgres identifier/],
        ["a bad timeout", { DB_CONNECT_TIMEOUT_MS: SYNC_PASSWORD }, /DB_CONNECT_TIMEOUT_MS must be a whole number/],
        ["a missing table", { DB_SCHEMA: "public" }, /relation "public\.profiles" does not exist/],
    ])("user-sync, %s", async (label, overrides, pattern) => {
        for (const blocks of ["true", "false"]) {
            const result = await invoke(`sync ${label}`, loadSync(), syncSecrets({ ...overrides, SYNC_BLOCKS_LOGIN: blocks }));
            expect(logText(result)).toMatch(pattern);
        }
    });

    it("user-sync, TLS required but not offered", async (ctx) => {
        needs(ctx, "no-tls");
        for (const blocks of ["true", "false"]) {
            const result = await invoke("sync TLS required but not offered", loadSync(), syncSecrets({ DB_SSL: "require", SYNC_BLOCKS_LOGIN: blocks }));
            expect(logText(result)).toMatch(/SSL/);
        }
    });

    it("user-sync, a wrong password", async (ctx) => {
        needs(ctx, "password-check");
        const wrong = await invoke(
            "sync wrong password",
            loadSync(),
            syncSecrets({ DB_URL: withCredentials(stack.db.url, stack.roles.sync.name, WRONG_PASSWORD) }),
        );
        expect(logText(wrong)).toMatch(/28P01/);
    });

    it("user-sync, a refused connection, a silent host, a statement timeout", async () => {
        const refused = await invoke("sync refused", loadSync(), syncSecrets({ DB_URL: withPort(syncUrl, await closedPort()) }));
        expect(logText(refused)).toMatch(/ECONNREFUSED/);
        const hole = await blackhole();
        try {
            const silent = await invoke("sync silent", loadSync(), syncSecrets({ DB_URL: withPort(syncUrl, hole.port), DB_CONNECT_TIMEOUT_MS: "200" }));
            expect(logText(silent)).toMatch(/cannot connect to the database/);
        } finally {
            await hole.close();
        }
        const locker = new Client({ connectionString: stack.db.url });
        await locker.connect();
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE ${ident(stack.schema)}.profiles IN ACCESS EXCLUSIVE MODE`);
        try {
            const slow = await invoke("sync statement timeout", loadSync(), syncSecrets({ DB_STATEMENT_TIMEOUT_MS: "200" }));
            expect(logText(slow)).toMatch(/statement timeout/);
        } finally {
            await locker.query("ROLLBACK");
            await locker.end();
        }
    });

    it("user-sync, an idle pooled connection killed by the server (logged between logins)", async () => {
        const action = loadSync();
        await invoke("sync idle warm", action, syncSecrets());
        const pool = syncPools.pools.at(-1)!;
        const failed = once(pool, "error");
        await query(inject("databaseUrl"), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [stack.roles.sync.name]);
        await failed;
        expect(action.allLogs.map((l) => l.text).join("\n")).toMatch(/an idle database connection failed/);
        for (const line of action.allLogs) record("sync idle: all logs", line.text);
    });

    it("user-sync in hasura mode, against a Hasura that quotes the admin secret back in every answer", async () => {
        const hasura = await hostileHasura();
        try {
            const cases: [string, string, RegExp][] = [
                ["/http-500", "5000", /Hasura answered HTTP 500/],
                ["/graphql-errors", "5000", /Hasura answered with GraphQL errors: admin secret \[redacted\]/],
                ["/not-json", "5000", /body that is not JSON/],
                ["/no-result", "5000", /has no insert_auth0_app_profiles_one result/],
                ["/hang", "200", /did not answer within 200 ms/],
            ];
            for (const [path, timeout, pattern] of cases) {
                const result = await invoke(
                    `hasura ${path}`,
                    loadSync(),
                    syncSecrets({ SYNC_MODE: "hasura", HASURA_GRAPHQL_URL: hasura.url(path), HASURA_TIMEOUT_MS: timeout }),
                );
                expect(logText(result)).toMatch(pattern);
            }
        } finally {
            await hasura.close();
        }
        const refused = await invoke(
            "hasura refused",
            loadSync(),
            syncSecrets({ SYNC_MODE: "hasura", HASURA_GRAPHQL_URL: `http://127.0.0.1:${await closedPort()}/v1/graphql` }),
        );
        expect(logText(refused)).toMatch(/cannot reach Hasura/);
        const withCredentialsInUrl = await invoke(
            "hasura url credentials",
            loadSync(),
            syncSecrets({ SYNC_MODE: "hasura", HASURA_GRAPHQL_URL: `https://admin:${ADMIN_SECRET}@hasura.example/v1/graphql` }),
        );
        expect(logText(withCredentialsInUrl)).toMatch(/must not contain credentials/);
    });

    it("hasura-claims with a DEFAULT_ROLE that is not a role name, and profile-defaults", async () => {
        const claims = await invoke("claims bad role", loadAction(actionSpec("hasura-claims")), { DEFAULT_ROLE: BAD_ROLE });
        expect(claims.denied).toMatch(/DEFAULT_ROLE is not a role name/);
        const defaults = await invoke("defaults", loadAction(actionSpec("profile-defaults")), { DB_URL: syncUrl }, { name: undefined, user_metadata: {} });
        expect(defaults.userMetadata).toHaveProperty("displayName");
    });
});

/** Where a secret appears, by place and index of the secret, never by value. */
function leaksIn(entries: { where: string; text: string }[]): string[] {
    return entries.flatMap(({ where, text }) =>
        needles.map((n, i) => (text.includes(n) ? `${where} holds secret #${i}` : null)).filter((x): x is string => x !== null),
    );
}

describe("everything logged, thrown or handed back", () => {
    it("was collected from every path above, and the search finds a secret in any of its forms", () => {
        expect(seen.length).toBeGreaterThan(150);
        expect(needles.length).toBeGreaterThanOrEqual(15);
        // An empty needle would be "found" everywhere: every one is a real value (support/leaks.ts).
        needles.forEach((n, i) => searchable(n, `secret #${i}`));
        const canaries = [syncUrl, SYNC_PASSWORD, encodeURIComponent(SCRIPTS_PASSWORD), ADMIN_SECRET, WRONG_PASSWORD].map((secret, i) => ({
            where: `canary ${i}`,
            text: `failed: (${secret})`,
        }));
        expect(leaksIn(canaries).map((l) => l.split(" holds")[0])).toEqual(expect.arrayContaining(canaries.map((c) => c.where)));
    });

    it("holds none of the secrets, in any form", () => {
        expect(leaksIn(seen)).toEqual([]);
    });
});
