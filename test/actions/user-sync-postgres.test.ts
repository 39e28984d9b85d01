/**
 * user-sync in postgres mode, against the real Postgres of the run, logged in as the stack's
 * least-privilege sync role.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, Server, Socket } from "node:net";
import { Client } from "pg";
import type { Pool } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { createStackDatabase, query, StackDatabase, withCredentials } from "../support/db";
import { freePort } from "../support/embedded";
import { needs } from "../support/needs";
import { searchable } from "../support/leaks";
import { EventOverrides, Invocation, LoadedAction, loadAction, PgPoolTracker, postLoginEvent, trackPgPools } from "../support/action-runner";

const spec = actionSpec("user-sync");
const APPLICATION_NAME = "auth0-action-user-sync";

let stack: StackDatabase;
const tracked: PgPoolTracker[] = [];

/** Loads user-sync (a fresh module, as a fresh Auth0 container would) and tracks its pg Pools. */
function loadUserSync(): LoadedAction & { pools: Pool[] } {
    const tracker = trackPgPools();
    tracked.push(tracker);
    const action = loadAction(spec, { timeLimitMs: 10_000, interceptModule: tracker.interceptModule });
    return Object.assign(action, { pools: tracker.pools });
}

function secrets(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    return {
        SYNC_MODE: "postgres",
        DB_SCHEMA: stack.schema,
        DB_URL: stack.urlFor("sync"),
        DB_SSL: "disable",
        DB_CONNECT_TIMEOUT_MS: "2000",
        DB_STATEMENT_TIMEOUT_MS: "2000",
        ...overrides,
    };
}

function event(overrides: EventOverrides & { secrets?: Record<string, string | undefined> } = {}) {
    return postLoginEvent({ ...overrides, secrets: secrets(overrides.secrets) });
}

async function profile(userId: string) {
    // Timestamps as microseconds since the epoch: a JS Date would drop the microseconds.
    const rows = await query(
        stack.db.url,
        `SELECT user_id, user_name,
                (extract(epoch FROM last_seen) * 1000000)::bigint::text AS last_seen_us,
                (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_at_us
         FROM ${stack.schema}.profiles WHERE user_id = $1`,
        [userId],
    );
    const row = rows[0] as { user_id: string; user_name: string | null; last_seen_us: string; created_at_us: string } | undefined;
    return row && { user_id: row.user_id, user_name: row.user_name, last_seen: BigInt(row.last_seen_us), created_at: BigInt(row.created_at_us) };
}

/** Everything a test must never find in a log line or a deny reason. */
function sensitive(dbUrl: string): string[] {
    const u = new URL(dbUrl);
    // Each must be non-empty: an empty one would be "found" in any text (support/leaks.ts).
    return [...new Set([dbUrl, u.password, decodeURIComponent(u.password)])].map((s, i) => searchable(s, `the database URL's secret form #${i}`));
}

function expectNoSecrets(result: Invocation, dbUrl: string) {
    const texts = [...result.logs.map((l) => l.text), result.denied ?? ""];
    for (const secret of sensitive(dbUrl)) for (const text of texts) expect(text).not.toContain(secret);
}

function expectLoggedFailure(result: Invocation, pattern: RegExp) {
    expect(result.error).toBeUndefined();
    expect(result.logs).toHaveLength(1);
    expect(result.logs[0]!.level).toBe("error");
    expect(result.logs[0]!.text).toMatch(/^user-sync: profile sync for auth0\|\S+ failed: /);
    expect(result.logs[0]!.text).toMatch(pattern);
}

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "user_sync");
});

afterAll(async () => {
    await Promise.all(tracked.map((t) => t.endAll()));
    await stack?.teardown();
});

describe("user-sync, postgres mode", () => {
    it("inserts the profile, then updates user_name and moves last_seen forward", async () => {
        const action = loadUserSync();
        const first = event({ user: { user_metadata: { displayName: "Ada" } } });
        const userId = first.user.user_id;

        const r1 = await action.invoke(first);
        expect(r1.error).toBeUndefined();
        expect(r1.denied).toBeUndefined();
        expect(r1.logs).toEqual([]);
        const row1 = await profile(userId);
        expect(row1).toMatchObject({ user_id: userId, user_name: "Ada" });

        const r2 = await action.invoke(event({ user: { user_id: userId, user_metadata: { displayName: "Ada L." } } }));
        expect(r2.logs).toEqual([]);
        const row2 = await profile(userId);
        expect(row2).toMatchObject({ user_id: userId, user_name: "Ada L." });
        expect(row2!.last_seen > row1!.last_seen).toBe(true);
        expect(row2!.created_at).toBe(row1!.created_at);
        const count = await query(stack.db.url, `SELECT count(*)::int AS n FROM ${stack.schema}.profiles WHERE user_id = $1`, [userId]);
        expect(count[0]!.n).toBe(1);
    });

    it("takes user_name from displayName, then name, nickname, email", async () => {
        const action = loadUserSync();
        const cases: [EventOverrides["user"], string][] = [
            [{ user_metadata: { displayName: " Countess " }, name: "Ada Lovelace" }, "Countess"],
            [{ user_metadata: {}, name: "Ada Lovelace", nickname: "ada" }, "Ada Lovelace"],
            [{ user_metadata: { displayName: "  " }, name: undefined, nickname: "ada" }, "ada"],
            [{ user_metadata: {}, name: undefined, nickname: undefined, email: "ada@example.com" }, "ada@example.com"],
        ];
        for (const [user, expected] of cases) {
            const e = event({ user });
            const result = await action.invoke(e);
            expect(result.logs).toEqual([]);
            expect((await profile(e.user.user_id))?.user_name).toBe(expected);
        }
    });

    it("writes through the sync role and reuses the module-scope pool across invocations", async () => {
        const action = loadUserSync();
        const sessions = async () =>
            (await query(stack.db.url, "SELECT pid, usename FROM pg_stat_activity WHERE datname = $1 AND application_name = $2", [
                stack.db.name,
                APPLICATION_NAME,
            ])) as {
                pid: number;
                usename: string;
            }[];
        // Pools of the earlier tests may still hold idle sessions: only new ones are this Action's.
        const before = new Set((await sessions()).map((s) => s.pid));
        const seen: number[][] = [];
        for (let i = 0; i < 3; i++) {
            const result = await action.invoke(event());
            expect(result.logs).toEqual([]);
            const mine = (await sessions()).filter((s) => !before.has(s.pid));
            expect(mine.map((s) => s.usename)).toEqual([stack.roles.sync.name]);
            seen.push(mine.map((s) => s.pid));
        }
        expect(seen[1]).toEqual(seen[0]);
        expect(seen[2]).toEqual(seen[0]);
        expect(action.pools).toHaveLength(1);
        expect(action.required).toEqual(["pg"]);
    });

    it("refuses a DB_SCHEMA that is not a plain identifier, naming the secret", async () => {
        const action = loadUserSync();
        const result = await action.invoke(event({ secrets: { DB_SCHEMA: 'auth0_app"; DROP TABLE x; --' } }));
        expectLoggedFailure(result, /secret DB_SCHEMA must be a lower-case Postgres identifier/);
        expect(result.denied).toBeUndefined();
        expect(action.pools).toHaveLength(0);
    });
});

describe("user-sync, postgres mode, when the database fails", () => {
    let silent: Server;
    let silentPort: number;
    const held: Socket[] = [];

    beforeAll(async () => {
        // Accepts TCP connections and never answers: a hung or black-holed database.
        silent = createServer((socket) => {
            held.push(socket);
            socket.on("error", () => undefined);
        });
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        silentPort = (silent.address() as { port: number }).port;
    });

    afterAll(async () => {
        for (const s of held) s.destroy();
        await new Promise((resolve) => silent.close(resolve));
    });

    async function downUrl(): Promise<string> {
        const u = new URL(stack.urlFor("sync"));
        u.port = String(await freePort());
        return u.toString();
    }

    it.each([
        ["logs one line and lets the login go on", undefined],
        ["logs one line and lets the login go on (SYNC_BLOCKS_LOGIN false)", "false"],
    ])("refused connection: %s", async (_label, blocks) => {
        const action = loadUserSync();
        const dbUrl = await downUrl();
        const result = await action.invoke(event({ secrets: { DB_URL: dbUrl, SYNC_BLOCKS_LOGIN: blocks } }));
        expectLoggedFailure(result, /cannot connect to the database \(.*ECONNREFUSED.*\); login continues$/);
        // The refusal itself is reported: the Action did not sit out DB_CONNECT_TIMEOUT_MS first.
        expect(result.logs[0]!.text).not.toMatch(/timeout/i);
        expect(result.denied).toBeUndefined();
        expectNoSecrets(result, dbUrl);
    });

    it("refused connection with SYNC_BLOCKS_LOGIN true: denies without internals in the reason", async () => {
        const action = loadUserSync();
        const dbUrl = await downUrl();
        const result = await action.invoke(event({ secrets: { DB_URL: dbUrl, SYNC_BLOCKS_LOGIN: "true" } }));
        expectLoggedFailure(result, /cannot connect to the database .*; login denied \(SYNC_BLOCKS_LOGIN is "true"\)$/);
        expect(result.calls.map((c) => c.method)).toEqual(["access.deny"]);
        const { hostname, port, username } = new URL(dbUrl);
        for (const internal of [hostname, port, username, "ECONNREFUSED", "database", "postgres"]) {
            expect(result.denied!.toLowerCase()).not.toContain(internal.toLowerCase());
        }
        expectNoSecrets(result, dbUrl);
    });

    it.each([
        ["goes on", "false", undefined],
        ["is denied", "true", "denied"],
    ])("a database that never answers: gives up with pg's connect-timeout error, and the login %s", async (_label, blocks, outcome) => {
        const action = loadUserSync();
        const u = new URL(stack.urlFor("sync"));
        u.port = String(silentPort);
        const dbUrl = u.toString();
        const reached = once(silent, "connection");
        const result = await action.invoke(event({ secrets: { DB_URL: dbUrl, DB_CONNECT_TIMEOUT_MS: "300", SYNC_BLOCKS_LOGIN: blocks } }));
        // The connection reached the silent server, and pg-pool's DB_CONNECT_TIMEOUT_MS timer ended it
        // (its own error, not a refusal); the Action returned by itself, before the runner's time limit.
        await reached;
        expectLoggedFailure(result, /cannot connect to the database \(Connection terminated due to connection timeout\b/);
        expect(result.denied === undefined ? undefined : "denied").toBe(outcome);
        expectNoSecrets(result, dbUrl);
    });

    it("a statement that hangs on a lock: the server cancels it for DB_STATEMENT_TIMEOUT_MS, and the pool recovers", async () => {
        const action = loadUserSync();
        const e = event({ secrets: { DB_STATEMENT_TIMEOUT_MS: "300" } });
        expect((await action.invoke(e)).logs).toEqual([]);
        // Another session holds the row: the upsert waits on it until the statement timeout.
        const locker = new Client({ connectionString: stack.db.url });
        await locker.connect();
        try {
            await locker.query("BEGIN");
            await locker.query(`SELECT 1 FROM ${stack.schema}.profiles WHERE user_id = $1 FOR UPDATE`, [e.user.user_id]);
            const result = await action.invoke(e);
            // The server's own statement_timeout cancelled it (SQLSTATE 57014), not pg's client-side
            // query_timeout ("Query read timeout") nor the runner's time limit (result.error).
            expectLoggedFailure(result, /the profile upsert failed \(canceling statement due to statement timeout \[57014\]\); login continues$/);
            expect(result.denied).toBeUndefined();
        } finally {
            await locker.query("ROLLBACK");
            await locker.end();
        }
        // The pool recovers: the next login syncs again.
        expect((await action.invoke(e)).logs).toEqual([]);
    });

    it("a wrong password is reported without the password or the DSN", async (ctx) => {
        needs(ctx, "password-check");
        const action = loadUserSync();
        const wrong = `Wr0ng-${randomBytes(9).toString("base64url")}`;
        const dbUrl = withCredentials(stack.db.url, stack.roles.sync.name, wrong);
        const result = await action.invoke(event({ secrets: { DB_URL: dbUrl } }));
        expectLoggedFailure(result, /password authentication failed/);
        expectNoSecrets(result, dbUrl);
        expect(result.logs[0]!.text).not.toContain(wrong);
    });

    it("a configuration error counts as a failed sync: logged, or denied when SYNC_BLOCKS_LOGIN is true", async () => {
        const action = loadUserSync();
        const going = await action.invoke(event({ secrets: { SYNC_MODE: undefined } }));
        expectLoggedFailure(going, /secret SYNC_MODE must be "postgres" or "hasura"; login continues$/);
        expect(going.denied).toBeUndefined();
        const denied = await action.invoke(event({ secrets: { DB_URL: "not a url", SYNC_BLOCKS_LOGIN: "true" } }));
        expectLoggedFailure(denied, /secret DB_URL is not a valid postgres:\/\/ URL; login denied/);
        expect(denied.denied).toBeDefined();
        expect(denied.denied).not.toContain("DB_URL");
        expect(denied.logs[0]!.text).not.toContain("not a url");
    });
});
