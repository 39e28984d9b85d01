/**
 * How the scripts behave under load and failure: database down, slow statements, bad
 * configuration, concurrent sign-ups, pool reuse, dying connections, and the login timing rule
 * (as a property: an unknown email costs a bcrypt compare like a wrong password).
 */
import { once } from "node:events";
import { createServer, Server, Socket } from "node:net";
import { Client, Pool } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCRIPTS_APPLICATION_NAME } from "../../infra/auth0/scripts";
import { Auth0Sandbox, createSandbox } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase, withCredentials } from "../support/db";
import { freePort } from "../support/embedded";
import { needs } from "../support/needs";
import { scriptModule } from "../support/script-modules";
import { configFor, isError, secretsIn } from "../support/custom-db-scripts";

let stack: StackDatabase;
const sandboxes: Auth0Sandbox[] = [];
/** The scripts' own pg and bcrypt, at the versions they require (not the project's). */
const scriptPg = scriptModule<typeof import("pg")>("pg");
const bcrypt = scriptModule<typeof import("bcrypt")>("bcrypt");

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "scripts_resilience");
});
afterAll(async () => {
    for (const s of sandboxes) await s.close();
    await stack?.teardown();
});

function sandboxWith(configuration: Record<string, string>, options: Parameters<typeof createSandbox>[1] = {}): Auth0Sandbox {
    const s = createSandbox(configuration, options);
    sandboxes.push(s);
    return s;
}

/** The pool the scripts keep in their global. */
function poolOf(s: Auth0Sandbox): Pool {
    const state = (s.context as { __auth0CustomDb?: { pool?: unknown } }).__auth0CustomDb;
    expect(state?.pool).toBeInstanceOf(scriptPg.Pool);
    return state!.pool as Pool;
}

/** A URL on a loopback port nothing listens on. */
async function closedPortUrl(): Promise<string> {
    const u = new URL(stack.urlFor("scripts"));
    u.port = String(await freePort());
    return u.toString();
}

/** A TCP server that accepts connections and never answers (a database host that hangs). */
async function blackhole(): Promise<{ url: string; server: Server; sockets: Socket[]; stop: () => Promise<void> }> {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
        sockets.push(socket);
        socket.on("error", () => undefined);
        // Reads (and drops) what the client sends, so that it sees the client close the connection.
        socket.resume();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    const u = new URL(stack.urlFor("scripts"));
    u.port = String(typeof address === "object" && address ? address.port : 0);
    return {
        url: u.toString(),
        server,
        sockets,
        stop: async () => {
            for (const s of sockets) s.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

describe("database down", () => {
    it("a closed port: every script calls back with a plain Error that names the failure, not the DSN", async () => {
        const url = await closedPortUrl();
        const s = sandboxWith({ ...configFor(stack), DB_URL: url, DB_CONNECT_TIMEOUT_MS: "1000" });
        const calls: [Parameters<Auth0Sandbox["run"]>[0], unknown[]][] = [
            ["login", ["a@example.com", "pw"]],
            ["create", [{ email: "a@example.com", password: "pw-123456" }]],
            ["verify", ["a@example.com"]],
            ["change_password", ["a@example.com", "pw-654321"]],
            ["get_user", ["a@example.com"]],
            ["delete", ["00000000-0000-4000-8000-000000000000"]],
        ];
        for (const [name, args] of calls) {
            // The refusal itself is reported (ECONNREFUSED below), not DB_CONNECT_TIMEOUT_MS running out.
            const { err } = await s.run(name, ...args);
            expect(isError(err)).toBe(true);
            expect((err as Error).name).toBe("Error");
            expect((err as Error).message).toMatch(new RegExp(`^${name} failed: cannot reach the database \\(ECONNREFUSED`));
            expect(secretsIn((err as Error).message, stack, [url])).toEqual([]);
        }
    });

    it("a host that accepts and never answers: a connect-timeout error, no hang; the pool drops the connection", async () => {
        const hole = await blackhole();
        try {
            const s = sandboxWith({ ...configFor(stack), DB_URL: hole.url, DB_CONNECT_TIMEOUT_MS: "400" });
            const reached = once(hole.server, "connection");
            const { err } = await s.run("get_user", "a@example.com");
            // The connection was made and then given up by pg-pool's DB_CONNECT_TIMEOUT_MS timer: its
            // own error, and the socket closed by the client (the host never closes it).
            await reached;
            expect((err as Error).message).toBe(
                "get_user failed: cannot reach the database (no connection within the connect timeout: Connection terminated due to connection timeout)",
            );
            expect(secretsIn((err as Error).message, stack, [hole.url])).toEqual([]);
            expect(hole.sockets).toHaveLength(1);
            if (!hole.sockets[0]!.closed) await once(hole.sockets[0]!, "close");
        } finally {
            await hole.stop();
        }
    });

    it("the runner rejects a script that does not call back in time (Auth0's limit, here 300 ms)", async () => {
        const hole = await blackhole();
        try {
            const s = sandboxWith({ ...configFor(stack), DB_URL: hole.url, DB_CONNECT_TIMEOUT_MS: "15000" }, { timeoutMs: 300 });
            await expect(s.run("verify", "a@example.com")).rejects.toThrow("verify did not call back within 300 ms");
        } finally {
            await hole.stop();
        }
    });

    it("a wrong database password: the login refusal is named, the password is not", async (ctx) => {
        needs(ctx, "password-check");
        const wrongSecret = "Wr0ng-Secret-Value";
        const url = withCredentials(stack.db.url, stack.roles.scripts.name, wrongSecret);
        const s = sandboxWith({ ...configFor(stack), DB_URL: url });
        const { err } = await s.run("get_user", "a@example.com");
        expect((err as Error).message).toMatch(/^get_user failed: the database refused the login \(SQLSTATE 28P01/);
        expect(secretsIn((err as Error).message, stack, [wrongSecret, url])).toEqual([]);
    });

    it.for(["require", "verify-full", "verify-ca"])("DB_SSL=%s asks for TLS (the test server has none, so it is refused)", async (mode, ctx) => {
        needs(ctx, "no-tls");
        const s = sandboxWith({ ...configFor(stack), DB_SSL: mode });
        const { err } = await s.run("get_user", "a@example.com");
        expect((err as Error).message).toMatch(/^get_user failed: .*does not support SSL/);
    });
});

describe("statement timeout", () => {
    it("a statement stuck behind a lock is cancelled by DB_STATEMENT_TIMEOUT_MS (SQLSTATE 57014), and the pool stays usable", async () => {
        const s = sandboxWith({ ...configFor(stack), DB_STATEMENT_TIMEOUT_MS: "300" });
        expect((await s.run("get_user", "warm@example.com")).err).toBeNull();
        const locker = new Client({ connectionString: stack.db.url });
        await locker.connect();
        try {
            await locker.query("BEGIN");
            await locker.query("LOCK TABLE auth0_app.users IN ACCESS EXCLUSIVE MODE");
            // The server's statement_timeout ended it (SQLSTATE 57014), not pg's client-side query timeout.
            const { err } = await s.run("verify", "a@example.com");
            expect((err as Error).message).toBe(
                "verify failed: the database cancelled the statement (statement timeout or cancel request; SQLSTATE 57014: canceling statement due to statement timeout)",
            );
        } finally {
            await locker.query("ROLLBACK");
            await locker.end();
        }
        expect((await s.run("verify", "a@example.com")).result).toBe(false);
    });
});

describe("bad configuration", () => {
    it.each<[string, Record<string, string>, RegExp]>([
        ["DB_SCHEMA", { DB_SCHEMA: 'auth0_app"; DROP TABLE x; --' }, /DB_SCHEMA must match/],
        ["DB_SSL", { DB_SSL: "prefer" }, /DB_SSL must be one of disable, require, verify-ca, verify-full \(got "prefer"\)/],
        ["BCRYPT_COST", { BCRYPT_COST: "3" }, /BCRYPT_COST must be an integer from 4 to 15 \(got "3"\)/],
        ["DB_POOL_MAX", { DB_POOL_MAX: "many" }, /DB_POOL_MAX must be an integer from 1 to 50/],
        ["DB_CONNECT_TIMEOUT_MS", { DB_CONNECT_TIMEOUT_MS: "" }, /DB_CONNECT_TIMEOUT_MS must be an integer from 100 to 15000/],
        [
            "DB_URL (query parameters)",
            { DB_URL: "postgres://u:p4ss-w0rd-x@127.0.0.1:1/db?sslmode=disable" },
            /DB_URL must be a postgres:\/\/ URL without query parameters .*value not shown/,
        ],
        ["DB_URL (not postgres)", { DB_URL: "mysql://u:p4ss-w0rd-x@127.0.0.1/db" }, /DB_URL must be a postgres:\/\/ URL/],
        [
            "DB_CA_CERT (not PEM)",
            { DB_SSL: "verify-full", DB_CA_CERT: "prod-ca-2021.crt" },
            /DB_CA_CERT must be PEM text of one or more CA certificates .*or "none"/,
        ],
        [
            "DB_CA_CERT (with a DB_SSL that ignores it)",
            { DB_SSL: "require", DB_CA_CERT: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----" },
            /DB_CA_CERT is set but DB_SSL is "require", which does not verify the server/,
        ],
    ])("a bad %s: every script errors naming the key, before touching the database", async (_key, change, message) => {
        const s = sandboxWith({ ...configFor(stack), ...change });
        for (const [name, args] of [
            ["get_user", ["a@example.com"]],
            ["login", ["a@example.com", "pw"]],
            ["delete", ["x"]],
        ] as const) {
            const { err } = await s.run(name, ...args);
            expect((err as Error).message).toMatch(/^custom database configuration is invalid: /);
            expect((err as Error).message).toMatch(message);
            expect((err as Error).message).not.toContain("p4ss-w0rd-x");
            expect(secretsIn((err as Error).message, stack)).toEqual([]);
        }
        expect((s.context as { __auth0CustomDb?: { pool: unknown } }).__auth0CustomDb?.pool ?? null).toBeNull();
    });

    it("a missing table in the configured schema is an SQL error named as such", async () => {
        const s = sandboxWith({ ...configFor(stack), DB_SCHEMA: "public" });
        const { err } = await s.run("get_user", "a@example.com");
        expect((err as Error).message).toMatch(/^get_user failed: database error SQLSTATE 42P01: relation "public\.users" does not exist/);
    });
});

describe("concurrency and the pool", () => {
    it("50 concurrent creates of one email through one sandbox: one row, 49 user_exists", async () => {
        const s = sandboxWith(configFor(stack, { poolMax: 5 }));
        expect((await s.run("get_user", "warm-up@example.com")).err).toBeNull();
        let connects = 0;
        poolOf(s).on("connect", () => (connects += 1));
        const email = `race.${Date.now()}@example.com`;
        const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => s.run("create", { email: i % 2 ? email : email.toUpperCase(), password: `pw-race-${i}` })),
        );
        const ok = results.filter((r) => r.err === null);
        const exists = results.filter((r) => (r.err as { code?: string } | null)?.code === "user_exists");
        expect(ok).toHaveLength(1);
        expect(exists).toHaveLength(49);
        for (const r of exists) expect(r.err).toMatchObject({ name: "ValidationError", code: "user_exists" });
        const rows = await query(stack.db.url, "SELECT count(*)::int AS n FROM auth0_app.users WHERE lower(email) = lower($1)", [email]);
        expect(rows[0]!.n).toBe(1);
        // A duplicate is a statement error: the connection goes back to the pool, no new one is opened.
        expect(poolOf(s).totalCount).toBeLessThanOrEqual(5);
        expect(connects).toBeLessThanOrEqual(4);
    });

    it("one pool in global serves every call: across 50 calls, at most DB_POOL_MAX sessions, each reused", async () => {
        const s = sandboxWith(configFor(stack, { poolMax: 3 }));
        const { email, password } = { email: `pool.${Date.now()}@example.com`, password: "pool-password" };
        expect((await s.run("create", { email, password })).err).toBeNull();
        const pool = poolOf(s);
        // Each session is a backend process: its pid tells a reused connection from a new one.
        const pids: number[] = [];
        pool.on("acquire", (client) => pids.push((client as unknown as { processID: number }).processID));
        let connects = 0;
        pool.on("connect", () => (connects += 1));
        for (let i = 0; i < 20; i++) expect((await s.run("get_user", email)).err).toBeNull();
        const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? s.run("login", email, password) : s.run("verify", email))));
        for (const r of burst) expect(r.err).toBeNull();
        expect(poolOf(s)).toBe(pool);
        // The 50 calls, and the first login's read of the bcrypt cost ceiling (kept in global after it).
        expect(pids).toHaveLength(51);
        const distinct = [...new Set(pids)];
        expect(distinct.length).toBeGreaterThanOrEqual(1);
        expect(distinct.length).toBeLessThanOrEqual(3);
        expect(connects).toBeLessThanOrEqual(2);
        expect(pool.totalCount).toBe(distinct.length);
        // The server sees those sessions, under the scripts' role and application name.
        const live = await query(inject("databaseUrl"), "SELECT pid, usename, application_name FROM pg_stat_activity WHERE pid = ANY($1::int[])", [distinct]);
        expect(live).toHaveLength(distinct.length);
        for (const row of live) expect(row).toMatchObject({ usename: stack.roles.scripts.name, application_name: SCRIPTS_APPLICATION_NAME });
        await s.close();
        expect(pool.ended).toBe(true);
    });

    it("a changed configuration gets a new pool and the old one is ended", async () => {
        const s = sandboxWith(configFor(stack, { poolMax: 2 }));
        expect((await s.run("get_user", "a@example.com")).err).toBeNull();
        const first = poolOf(s);
        expect((await s.run("get_user", "a@example.com")).err).toBeNull();
        expect(poolOf(s)).toBe(first);
        s.configure(configFor(stack, { poolMax: 4 }));
        expect((await s.run("get_user", "a@example.com")).err).toBeNull();
        const second = poolOf(s);
        expect(second).not.toBe(first);
        expect(second.options.max).toBe(4);
        expect(first.ending).toBe(true);
    });

    it("an idle connection that dies does not crash anything: the pool logs it (without secrets) and the next call works", async () => {
        const logged: string[] = [];
        const capture = {
            log: () => undefined,
            info: () => undefined,
            debug: () => undefined,
            warn: (m: unknown) => logged.push(String(m)),
            error: (m: unknown) => logged.push(String(m)),
        };
        const s = sandboxWith(configFor(stack, { poolMax: 1 }), { console: capture });
        expect((await s.run("get_user", "a@example.com")).err).toBeNull();
        const pool = poolOf(s);
        const pids: number[] = [];
        pool.on("acquire", (client) => pids.push((client as unknown as { processID: number }).processID));
        expect((await s.run("get_user", "a@example.com")).err).toBeNull();
        expect(pids).toHaveLength(1);
        expect(pool.idleCount).toBe(1);
        // The scripts' own handler is there (without one, an 'error' event would throw).
        expect(pool.listenerCount("error")).toBe(1);
        const errored = once(pool, "error");
        const killed = await query(inject("databaseUrl"), "SELECT pg_terminate_backend($1::int) AS done", [pids[0]]);
        expect(killed[0]!.done).toBe(true);
        await errored;
        expect(logged.join("\n")).toMatch(/auth0 custom database: an idle database connection failed: /);
        expect(secretsIn(logged, stack)).toEqual([]);
        expect((await s.run("get_user", "a@example.com")).err).toBeNull();
    });
});

describe("login timing rule (a property, not a stopwatch)", () => {
    /** A bcrypt that records what it is asked to do. */
    function countingBcrypt() {
        const compares: string[] = [];
        const hashes: number[] = [];
        const wrapped = {
            ...bcrypt,
            compare: (data: string, hash: string) => {
                compares.push(hash);
                return bcrypt.compare(data, hash);
            },
            hash: (data: string, cost: number) => {
                hashes.push(cost);
                return bcrypt.hash(data, cost);
            },
        };
        return { wrapped, compares, hashes };
    }

    it("an unknown email, a wrong password and a right one each cost exactly one compare, against a hash of the configured cost", async () => {
        const b = countingBcrypt();
        const s = sandboxWith(configFor(stack), { modules: { bcrypt: b.wrapped } });
        const email = `timing.${Date.now()}@example.com`;
        expect((await s.run("create", { email, password: "timing-password" })).err).toBeNull();
        const stored = (await query(stack.db.url, "SELECT password_hash FROM auth0_app.users WHERE email = $1", [email]))[0]!.password_hash as string;

        b.compares.length = 0;
        expect((await s.run("login", email, "timing-password")).err).toBeNull();
        expect(b.compares).toEqual([stored]);

        b.compares.length = 0;
        expect((await s.run("login", email, "wrong-password")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
        expect(b.compares).toEqual([stored]);

        b.compares.length = 0;
        b.hashes.length = 0;
        expect((await s.run("login", `nobody.${Date.now()}@example.com`, "wrong-password")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
        expect(b.compares).toHaveLength(1);
        const dummy = b.compares[0]!;
        expect(dummy).not.toBe(stored);
        expect(dummy).toMatch(/^\$2b\$04\$[./A-Za-z0-9]{53}$/);
        // Made without key stretching (a salt and a random digest), so no failed login pays for it.
        expect(b.hashes).toEqual([]);

        // The dummy hash is made once and kept in global: later unknown emails only compare.
        b.compares.length = 0;
        b.hashes.length = 0;
        for (const e of ["x1@example.com", "x2@example.com", undefined]) {
            expect((await s.run("login", e, "wrong-password")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
        }
        expect(b.compares).toEqual([dummy, dummy, dummy]);
        expect(b.hashes).toEqual([]);

        // A known email with an over-long password compares against the dummy too.
        b.compares.length = 0;
        expect((await s.run("login", email, "y".repeat(100))).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
        expect(b.compares).toEqual([dummy]);
    });

    it("at BCRYPT_COST 10 the dummy hash has cost 10 too", async () => {
        const b = countingBcrypt();
        const s = sandboxWith(configFor(stack, { bcryptCost: 10 }), { modules: { bcrypt: b.wrapped } });
        expect((await s.run("login", `nobody10.${Date.now()}@example.com`, "pw")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
        expect(b.hashes).toEqual([]);
        expect(b.compares).toHaveLength(1);
        expect(b.compares[0]).toMatch(/^\$2b\$10\$/);
    });
});
