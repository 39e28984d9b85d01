/**
 * Faults of the server itself, on an embedded Postgres of this file's own (the shared one must
 * not be stopped): the database is down when the scripts run, and it restarts (same port, same
 * data) in the middle of a run. The scripts' pool must recover by itself: only calls that were
 * in flight or made while the server was down fail, each with a clear error (the refusal itself,
 * never a timeout or a hang); every call made after the server is back succeeds; and the table holds exactly what the successful
 * calls reported (a call that failed before reaching the server wrote nothing; one whose
 * connection was cut may or may not have committed, and nothing else).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { ident } from "../../infra/postgres/privileges";
import { loadAction, postLoginEvent, trackPgPools } from "../support/action-runner";
import { Auth0Sandbox, createSandbox, RunResult } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { RunningPostgres, startPostgres } from "../support/embedded";
import { configFor, secretsIn } from "../support/custom-db-scripts";
import { capturingConsole, DATABASE_FAILURE, expectCleanFailure, hashMatches, messageOf, poolOf, usersTable, UserRow } from "../support/custom-db-faults";

const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 1_000;
/**
 * The connect timeout while the server is down: long, so that a call reporting a timeout there
 * waited for nothing but a timeout (a connection refused is answered at once), however busy the machine.
 */
const DOWN_CONNECT_TIMEOUT_MS = 8_000;
/** What a call that met a stopped server must report: the refusal, or the connection it had lost; no timeout. */
const REFUSED_OR_LOST = /\(ECONNREFUSED: |the database connection was lost \(|\(SQLSTATE 57P0[123]: /;

let server: RunningPostgres;
let stack: StackDatabase;
const sandboxes: Auth0Sandbox[] = [];
const actionPools = trackPgPools();

beforeAll(async () => {
    server = await startPostgres({ ignoreDatabaseUrl: true });
    stack = await createStackDatabase(server.url, "fault_server");
});
afterAll(async () => {
    for (const s of sandboxes) await s.close().catch(() => undefined);
    await actionPools.endAll();
    await stack?.teardown().catch(() => undefined);
    await server?.stop();
});

function sandboxWith(poolMax: number, console = capturingConsole().console, connectTimeoutMs = CONNECT_TIMEOUT_MS): Auth0Sandbox {
    const s = createSandbox(configFor(stack, { poolMax, connectTimeoutMs, statementTimeoutMs: STATEMENT_TIMEOUT_MS }), { console });
    sandboxes.push(s);
    return s;
}

describe("the database is down when the scripts run", () => {
    it("every script calls back with the refusal itself (never a timeout, a hang or a wrong-password answer), writes nothing, and works again when the server is back", async () => {
        const logged = capturingConsole();
        const s = sandboxWith(3, logged.console, DOWN_CONNECT_TIMEOUT_MS);
        const user = { email: "down.user@faults.test", password: "pw-down-user" };
        expect((await s.run("create", user)).err).toBeNull();
        const profile = (await s.run("get_user", user.email)).result as { user_id: string };
        const before = await usersTable(stack);
        expect(poolOf(s).idleCount).toBeGreaterThan(0);

        await server.halt();
        try {
            const calls: [Parameters<Auth0Sandbox["run"]>[0], unknown[]][] = [
                ["login", [user.email, user.password]],
                ["login", ["nobody@faults.test", "pw"]],
                ["get_user", [user.email]],
                ["create", [{ email: "down.new@faults.test", password: "pw-never-stored" }]],
                ["verify", [user.email]],
                ["change_password", [user.email, "pw-never-stored"]],
                ["delete", [profile.user_id]],
            ];
            for (const [name, args] of calls) {
                const { err } = await s.run(name, ...args);
                expectCleanFailure(err, DATABASE_FAILURE, stack);
                expect(messageOf(err).startsWith(`${name} failed: `)).toBe(true);
                // Not a timeout: the script reported what the stopped server answered, without waiting.
                expect(messageOf(err)).toMatch(REFUSED_OR_LOST);
                expect(messageOf(err)).not.toMatch(/timeout/i);
            }
            // A burst: each call fails on its own with the refusal, none waits for a timeout (the pool's
            // wait for a free connection included), none hangs.
            const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => s.run("get_user", `burst.${i}@faults.test`)));
            for (const r of burst) {
                expectCleanFailure(r.err, DATABASE_FAILURE, stack);
                expect(messageOf(r.err)).toMatch(REFUSED_OR_LOST);
                expect(messageOf(r.err)).not.toMatch(/timeout/i);
            }
        } finally {
            await server.resume();
        }

        // The same sandbox, untouched: its pool dropped the dead connections and opens new ones.
        expect((await s.run("login", user.email, user.password)).err).toBeNull();
        expect(await usersTable(stack)).toEqual(before);
        expect((await s.run("verify", user.email)).result).toBe(true);
        expect(poolOf(s).totalCount).toBeLessThanOrEqual(3);
        // What it logged about the dead idle connections names no secret.
        expect(secretsIn(logged.lines, stack)).toEqual([]);
    });
});

interface Outcome {
    worker: number;
    name: string;
    email: string;
    password?: string;
    /** Positions in the run's sequence of events (a counter, not a clock). */
    started: number;
    ended: number;
    result: RunResult;
}

describe("the database restarts in the middle of a run", () => {
    it("only calls in flight or made while it is down fail; the pool recovers by itself; no row is lost, duplicated or half-written", async () => {
        const WORKERS = 5;
        const logged = capturingConsole();
        const s = sandboxWith(WORKERS, logged.console);
        const outcomes: Outcome[] = [];
        let running = true;
        // Event order, not wall-clock time: each call's start and end, and the restart's start and
        // end, take the next number, so "before" and "after" cannot be confused by a slow machine.
        let events = 0;
        let restartAt = Infinity;
        let backAt = Infinity;
        // Each worker runs its own users through create, change_password, verify, get_user and login,
        // so the expected state of every row is known from that worker's outcomes alone.
        const progress = new Map<number, number>();
        let onProgress: () => void = () => undefined;
        const worker = async (w: number) => {
            for (let k = 0; running; k++) {
                const email = `restart.w${w}.u${k}@faults.test`;
                const steps: [string, unknown[], string?][] = [
                    ["create", [{ email, password: `pw-${w}-${k}-0`, nickname: `w${w} u${k}` }], `pw-${w}-${k}-0`],
                    ["change_password", [email, `pw-${w}-${k}-1`], `pw-${w}-${k}-1`],
                    ["verify", [email]],
                    ["get_user", [email]],
                    ["login", [email, `pw-${w}-${k}-1`]],
                ];
                for (const [name, args, password] of steps) {
                    const started = ++events;
                    const result = await s.run(name as Parameters<Auth0Sandbox["run"]>[0], ...args);
                    outcomes.push({ worker: w, name, email, password, started, ended: ++events, result });
                    if (result.err !== null) {
                        // This user's state is now uncertain: go on with a new one, after a pause so
                        // that the down window does not turn into a busy loop.
                        await new Promise((resolve) => setTimeout(resolve, 20));
                        break;
                    }
                }
                progress.set(w, (progress.get(w) ?? 0) + 1);
                onProgress();
            }
        };
        /** Resolves when every worker has finished `n` more users than now. */
        const everyWorkerDoes = (n: number) => {
            const target = new Map([...Array(WORKERS).keys()].map((w) => [w, (progress.get(w) ?? 0) + n]));
            return new Promise<void>((resolve) => {
                onProgress = () => {
                    if ([...target].every(([w, t]) => (progress.get(w) ?? 0) >= t)) resolve();
                };
            });
        };
        const workers = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
        try {
            await everyWorkerDoes(2);
            restartAt = ++events;
            await server.restart();
            backAt = ++events;
            await everyWorkerDoes(3);
        } finally {
            running = false;
            await workers;
        }

        const failed = outcomes.filter((o) => o.result.err !== null);
        const finishedBefore = outcomes.filter((o) => o.ended < restartAt);
        const startedAfter = outcomes.filter((o) => o.started > backAt);
        // The restart did hit the run, and the run went on both sides of it.
        expect(failed.length).toBeGreaterThan(0);
        expect(finishedBefore.length).toBeGreaterThanOrEqual(WORKERS * 5);
        expect(startedAfter.length).toBeGreaterThanOrEqual(WORKERS * 5);
        // Only calls that overlapped the restart failed; each said why, clearly.
        for (const o of failed) {
            expect(o.ended, `${o.name} failed before the restart`).toBeGreaterThan(restartAt);
            expect(o.started, `${o.name} started after the server was back and failed`).toBeLessThan(backAt);
            expectCleanFailure(o.result.err, DATABASE_FAILURE, stack);
        }
        for (const o of [...finishedBefore, ...startedAfter]) expect(o.result.err, `${o.name} ${o.email}`).toBeNull();
        expect(poolOf(s).totalCount).toBeLessThanOrEqual(WORKERS);

        // The table against what the calls reported.
        const table = await usersTable(stack);
        const byEmail = new Map<string, UserRow[]>();
        for (const row of table) byEmail.set(row.email.toLowerCase(), [...(byEmail.get(row.email.toLowerCase()) ?? []), row]);
        const emails = new Set(outcomes.filter((o) => o.name === "create").map((o) => o.email));
        for (const email of emails) {
            const own = outcomes.filter((o) => o.email === email);
            const rows = byEmail.get(email.toLowerCase()) ?? [];
            expect(rows.length, `rows of ${email}`).toBeLessThanOrEqual(1);
            const create = own.find((o) => o.name === "create")!;
            const createOk = create.result.err === null;
            // A create that failed before reaching the server (refused, timed out connecting) wrote nothing.
            const neverSent = !createOk && /cannot reach the database/.test(messageOf(create.result.err));
            if (createOk) expect(rows, `${email} was created`).toHaveLength(1);
            if (neverSent) expect(rows, `${email} was never sent`).toHaveLength(0);
            const row = rows[0];
            if (!row) continue;
            // Not half-written: the whole row as create sent it, a hash of a password this user was given.
            expect(row.nickname).toBe(create.email.replace(/^restart\.(w\d+)\.(u\d+)@.*$/, "$1 $2"));
            expect(row.app_metadata).toEqual({});
            const change = own.find((o) => o.name === "change_password");
            const candidates = change?.result.err === null ? [change.password!] : [create.password!, ...(change ? [change.password!] : [])];
            const matches = await Promise.all(candidates.map((p) => hashMatches(row, p)));
            expect(matches.some(Boolean), `the hash of ${email} is one of ${candidates.join(", ")}`).toBe(true);
            const verify = own.find((o) => o.name === "verify");
            if (verify?.result.err === null) expect(row.email_verified).toBe(verify.result.result);
        }
        // No row that no call created.
        for (const email of byEmail.keys()) expect(emails.has(email) || email === "down.user@faults.test").toBe(true);
        // What the pool logged about the connections the restart killed names no secret.
        expect(secretsIn(logged.lines, stack)).toEqual([]);
    });
});

describe("the user-sync Action when the database goes down and comes back", () => {
    it("a login while it is down fails on the refusal, no timeout, no hang (denied, as SYNC_BLOCKS_LOGIN says); the next one syncs through the same module pool", async () => {
        const action = loadAction(actionSpec("user-sync"), { timeLimitMs: 10_000, interceptModule: actionPools.interceptModule });
        const secrets = {
            SYNC_MODE: "postgres",
            SYNC_BLOCKS_LOGIN: "true",
            DB_SCHEMA: stack.schema,
            DB_URL: stack.urlFor("sync"),
            DB_SSL: "disable",
            // Long (but under the runner's 10 s limit), as DOWN_CONNECT_TIMEOUT_MS above: a refusal is answered at once.
            DB_CONNECT_TIMEOUT_MS: "5000",
            DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
        };
        const event = (displayName: string) => postLoginEvent({ user: { user_id: "auth0|restart-sync", user_metadata: { displayName } }, secrets });
        const userName = async () =>
            (await query(stack.db.url, `SELECT user_name FROM ${ident(stack.schema)}.profiles WHERE user_id = $1`, ["auth0|restart-sync"]))[0]?.user_name;

        const first = await action.invoke(event("Before"));
        expect([first.error, first.denied, first.logs]).toEqual([undefined, undefined, []]);
        expect(await userName()).toBe("Before");

        await server.halt();
        let down;
        try {
            down = await action.invoke(event("While down"));
        } finally {
            await server.resume();
        }
        // The Action ended the invocation itself (no runner time limit) on what the stopped server
        // answered: the refusal, or the pooled connection it had lost; not a timeout.
        expect(down.error).toBeUndefined();
        expect(down.denied).toBe("Sign-in could not be completed right now. Please try again in a moment.");
        expect(down.logs.map((l) => l.text)).toContainEqual(
            expect.stringMatching(
                /^user-sync: profile sync for auth0\|restart-sync failed: (cannot connect to the database|the profile upsert failed) \(.+\); login denied/,
            ),
        );
        const failure = down.logs.find((l) => /failed: /.test(l.text))!.text;
        expect(failure).toMatch(/ECONNREFUSED|Connection terminated|terminating connection/);
        expect(failure).not.toMatch(/timeout/i);

        const after = await action.invoke(event("After"));
        expect([after.error, after.denied, after.logs]).toEqual([undefined, undefined, []]);
        expect(await userName()).toBe("After");
        expect(actionPools.pools).toHaveLength(1);
        // Everything it logged, during the invocations and between them, names no secret.
        expect(
            secretsIn(
                action.allLogs.map((l) => l.text),
                stack,
                [stack.roles.sync.password, stack.urlFor("sync")],
            ),
        ).toEqual([]);
    });
});
