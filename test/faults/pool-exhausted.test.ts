/**
 * Fault: the pool is exhausted. With DB_POOL_MAX 2 and the users table locked against writes by
 * another session, two calls hold both connections waiting on the lock and the others queue for a
 * connection. When the lock goes in time, every call succeeds; when it does not, the two holders
 * are cancelled by the statement timeout and the queued ones give up after the connect timeout,
 * each with a clear error. Never more than two sessions; the table ends up exactly as the
 * successful calls say.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { SCRIPTS_APPLICATION_NAME } from "../../infra/auth0/scripts";
import { ident } from "../../infra/postgres/privileges";
import { Auth0Sandbox, createSandbox, RunResult } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { configFor } from "../support/custom-db-scripts";
import { capturingConsole, expectCleanFailure, hashMatches, poolOf, rowOf, usersTable } from "../support/custom-db-faults";

const POOL_MAX = 2;

let stack: StackDatabase;
const sandboxes: Auth0Sandbox[] = [];
const logged = capturingConsole();

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "fault_pool");
});
afterAll(async () => {
    for (const s of sandboxes) await s.close();
    await stack?.teardown();
});

function sandboxWith(connectTimeoutMs: number, statementTimeoutMs: number): Auth0Sandbox {
    const s = createSandbox(configFor(stack, { poolMax: POOL_MAX, connectTimeoutMs, statementTimeoutMs }), { console: logged.console });
    sandboxes.push(s);
    return s;
}

/** Sessions of the scripts' application on this database, and how many of them wait on a lock. */
async function scriptSessions(): Promise<{ total: number; waitingOnLock: number }> {
    const rows = await query(
        stack.db.url,
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting
         FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
        [stack.db.name, SCRIPTS_APPLICATION_NAME],
    );
    return { total: rows[0]!.total as number, waitingOnLock: rows[0]!.waiting as number };
}

/**
 * Resolves once `count` script sessions wait on a lock (polled: the server sends no event for it),
 * or as soon as one of `calls` has settled (then something else happened: the caller's checks say what).
 * No deadline of its own: a run that never gets there is ended by vitest's test timeout.
 */
async function untilWaitingOnLock(count: number, calls: Promise<unknown>[]): Promise<{ total: number; waitingOnLock: number }> {
    let settled = false;
    for (const call of calls)
        void call.then(
            () => (settled = true),
            () => (settled = true),
        );
    for (;;) {
        const seen = await scriptSessions();
        if (seen.waitingOnLock >= count || settled) return seen;
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

/** Another session holding SHARE on the users table: reads go on, inserts and updates wait. */
async function lockAgainstWrites(): Promise<Client> {
    const locker = new Client({ connectionString: stack.db.url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query(`LOCK TABLE ${ident(stack.schema)}.users IN SHARE MODE`);
    return locker;
}

let seq = 0;
async function seedUsers(sandbox: Auth0Sandbox, n: number): Promise<{ email: string; password: string }[]> {
    const users = Array.from({ length: n }, () => {
        seq += 1;
        return { email: `pool.${seq}@faults.test`, password: `pw-pool-${seq}` };
    });
    for (const u of users) expect((await sandbox.run("create", u)).err).toBeNull();
    return users;
}

describe(`the pool exhausted (DB_POOL_MAX ${POOL_MAX}, writes locked)`, () => {
    it("calls queue for a connection and all succeed once the lock goes; the table holds exactly what they did", async () => {
        // Timeouts far above what the calls need, so that only the lock decides when they finish.
        const sandbox = sandboxWith(8_000, 8_000);
        const existing = await seedUsers(sandbox, 4);
        const newcomers = Array.from({ length: 4 }, (_, i) => ({ email: `queued.${Date.now()}.${i}@faults.test`, password: `pw-queued-${i}` }));
        const locker = await lockAgainstWrites();
        let pending: Promise<RunResult>[];
        let blocked;
        try {
            pending = [
                ...newcomers.map((u) => sandbox.run("create", u)),
                ...existing.slice(0, 2).map((u) => sandbox.run("verify", u.email)),
                ...existing.slice(2).map((u) => sandbox.run("change_password", u.email, `${u.password}-new`)),
            ];
            blocked = await untilWaitingOnLock(POOL_MAX, pending);
            // Both connections wait on the lock; the other six calls wait for a connection.
            expect(poolOf(sandbox).totalCount).toBe(POOL_MAX);
            expect(poolOf(sandbox).waitingCount).toBeGreaterThan(0);
        } finally {
            await locker.query("COMMIT");
            await locker.end();
        }
        expect(blocked).toEqual({ total: POOL_MAX, waitingOnLock: POOL_MAX });
        const results = await Promise.all(pending);
        expect(results.map((r) => r.err)).toEqual(new Array(8).fill(null));
        expect(results.slice(4).map((r) => r.result)).toEqual([true, true, true, true]);
        for (const u of newcomers) expect(await hashMatches((await rowOf(stack, u.email))!, u.password)).toBe(true);
        for (const u of existing.slice(0, 2)) expect((await rowOf(stack, u.email))!.email_verified).toBe(true);
        for (const u of existing.slice(2)) expect(await hashMatches((await rowOf(stack, u.email))!, `${u.password}-new`)).toBe(true);
        expect(await usersTable(stack)).toHaveLength(8);
        expect(poolOf(sandbox).totalCount).toBeLessThanOrEqual(POOL_MAX);
        expect(logged.lines).toEqual([]);
    });

    it("when the lock outlasts both timeouts: holders are cancelled, queued calls give up after the connect timeout; nothing is written; then calls succeed", async () => {
        const CONNECT_MS = 500;
        const STATEMENT_MS = 1_200;
        const sandbox = sandboxWith(CONNECT_MS, STATEMENT_MS);
        const existing = await seedUsers(sandbox, 3);
        const before = await usersTable(stack);
        const locker = await lockAgainstWrites();
        const outcomes: { name: string; err: unknown }[] = [];
        try {
            const calls: [string, Promise<RunResult>][] = [
                ["create", sandbox.run("create", { email: `never.${Date.now()}@faults.test`, password: "pw-never" })],
                ...existing.map((u) => ["verify", sandbox.run("verify", u.email)] as [string, Promise<RunResult>]),
                ...existing.map((u) => ["change_password", sandbox.run("change_password", u.email, "pw-never-stored")] as [string, Promise<RunResult>]),
            ];
            await Promise.all(
                calls.map(async ([name, p]) => {
                    const { err } = await p;
                    outcomes.push({ name, err });
                }),
            );
            expect(poolOf(sandbox).totalCount).toBeLessThanOrEqual(POOL_MAX);
        } finally {
            await locker.query("ROLLBACK");
            await locker.end();
        }
        // Which timeout ended each call is told by its error, not by a stopwatch: the two holders were
        // cancelled by the server's statement_timeout (SQLSTATE 57014), the five queued calls by
        // pg-pool's connect timeout for a pooled connection.
        const cancelled = outcomes.filter((o) => /SQLSTATE 57014/.test(String((o.err as Error)?.message)));
        const gaveUp = outcomes.filter((o) => !cancelled.includes(o));
        expect(cancelled).toHaveLength(POOL_MAX);
        for (const o of cancelled) {
            expectCleanFailure(
                o.err,
                new RegExp(
                    `^${o.name} failed: the database cancelled the statement \\(statement timeout or cancel request; SQLSTATE 57014: canceling statement due to statement timeout\\)$`,
                ),
                stack,
            );
        }
        expect(gaveUp).toHaveLength(5);
        for (const o of gaveUp) {
            expectCleanFailure(
                o.err,
                new RegExp(
                    `^${o.name} failed: no pooled database connection became free within the connect timeout \\(all DB_POOL_MAX connections busy or still connecting: timeout exceeded when trying to connect\\)$`,
                ),
                stack,
            );
        }
        expect(await usersTable(stack)).toEqual(before);
        // The lock is gone: the same pool (no connection was broken) serves the next calls.
        const again = await Promise.all(existing.map((u) => sandbox.run("verify", u.email)));
        expect(again.map((r) => r.result)).toEqual([true, true, true]);
        expect(poolOf(sandbox).totalCount).toBeLessThanOrEqual(POOL_MAX);
    });
});
