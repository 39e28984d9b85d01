/**
 * Fault: a statement waits on a lock held by another session longer than DB_STATEMENT_TIMEOUT_MS.
 * The server cancels it (SQLSTATE 57014, "canceling statement due to statement timeout": that
 * error is the proof that the timeout, and nothing else, ended the call), the script calls back
 * with a clear error, nothing is half-written, other rows and reads are not held up, and the same
 * pool serves the next calls.
 */
import { Client } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { ident } from "../../infra/postgres/privileges";
import { Auth0Sandbox, createSandbox, WrongUsernameOrPasswordError } from "../support/auth0-sandbox";
import { createStackDatabase, StackDatabase } from "../support/db";
import { configFor } from "../support/custom-db-scripts";
import { capturingConsole, expectCleanFailure, hashMatches, poolOf, rowOf, usersTable } from "../support/custom-db-faults";

const STATEMENT_TIMEOUT_MS = 500;
const CANCELLED =
    /^(create|verify|change_password|delete) failed: the database cancelled the statement \(statement timeout or cancel request; SQLSTATE 57014: canceling statement due to statement timeout\)$/;

let stack: StackDatabase;
let sandbox: Auth0Sandbox;
const logged = capturingConsole();
let locker: Client;

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "fault_stmt");
    sandbox = createSandbox(configFor(stack, { poolMax: 3, connectTimeoutMs: 1_000, statementTimeoutMs: STATEMENT_TIMEOUT_MS }), { console: logged.console });
});
afterAll(async () => {
    await locker?.end().catch(() => undefined);
    await sandbox?.close();
    await stack?.teardown();
});

let seq = 0;
async function createUser(): Promise<{ email: string; password: string; id: string }> {
    seq += 1;
    const email = `locked.${seq}@faults.test`;
    const password = `pw-locked-${seq}`;
    expect((await sandbox.run("create", { email, password })).err).toBeNull();
    return { email, password, id: (await rowOf(stack, email))!.id };
}

/** A second session (superuser) inside an open transaction. */
async function openTransaction(): Promise<Client> {
    locker = new Client({ connectionString: stack.db.url });
    await locker.connect();
    await locker.query("BEGIN");
    return locker;
}

beforeEach(() => {
    logged.lines.length = 0;
});

describe("a statement that waits on a row lock past DB_STATEMENT_TIMEOUT_MS", () => {
    it("change_password, verify and delete are cancelled by the statement timeout; the row is unchanged; other rows and reads go on", async () => {
        const a = await createUser();
        const b = await createUser();
        const before = await usersTable(stack);
        const session = await openTransaction();
        await session.query(`SELECT 1 FROM ${ident(stack.schema)}.users WHERE id = $1::uuid FOR UPDATE`, [a.id]);
        try {
            for (const [name, args] of [
                ["change_password", [a.email, "pw-new-never-stored"]],
                ["verify", [a.email.toUpperCase()]],
                ["delete", [a.id]],
            ] as const) {
                const { err } = await sandbox.run(name, ...args);
                expectCleanFailure(err, CANCELLED, stack);
            }
            // A row lock holds up writers of that row only: reads and other rows go on. A call that
            // waited on the lock could not succeed (the lock outlives it: it would be cancelled as above).
            const login = await sandbox.run("login", a.email, a.password);
            expect(login.err).toBeNull();
            expect((await sandbox.run("get_user", a.email)).result).toMatchObject({ user_id: a.id });
            expect((await sandbox.run("change_password", b.email, "pw-b-changed")).result).toBe(true);
        } finally {
            await session.query("ROLLBACK");
            await session.end();
        }
        // a is exactly as before; b changed in exactly its hash.
        const after = await usersTable(stack);
        expect(after.find((r) => r.id === a.id)).toEqual(before.find((r) => r.id === a.id));
        const bBefore = before.find((r) => r.id === b.id)!;
        const bAfter = after.find((r) => r.id === b.id)!;
        expect({ ...bAfter, password_hash: "" }).toEqual({ ...bBefore, password_hash: "" });
        expect(await hashMatches(bAfter, "pw-b-changed")).toBe(true);
        expect(after).toHaveLength(before.length);
        // The lock is gone: the same sandbox (same pool) succeeds now.
        expect((await sandbox.run("change_password", a.email, "pw-a-changed")).result).toBe(true);
        expect((await sandbox.run("login", a.email, "pw-a-changed")).err).toBeNull();
        const wrong = await sandbox.run("login", a.email, a.password);
        expect(wrong.err).toBeInstanceOf(WrongUsernameOrPasswordError);
        expect(logged.lines).toEqual([]);
    });

    it("create waits on another session's uncommitted insert of the same email: cancelled, no row; then it succeeds", async () => {
        const email = `pending.${Date.now()}@faults.test`;
        const before = await usersTable(stack);
        const session = await openTransaction();
        const { rows } = await session.query<{ hash: string }>("SELECT password_hash AS hash FROM " + `${ident(stack.schema)}.users LIMIT 1`);
        await session.query(`INSERT INTO ${ident(stack.schema)}.users (email, password_hash) VALUES ($1, $2)`, [email, rows[0]!.hash]);
        try {
            // The unique index on lower(email) makes the insert wait for the other transaction.
            const { err } = await sandbox.run("create", { email: email.toUpperCase(), password: "pw-pending" });
            expectCleanFailure(err, CANCELLED, stack);
        } finally {
            await session.query("ROLLBACK");
            await session.end();
        }
        expect(await usersTable(stack)).toEqual(before);
        expect((await sandbox.run("create", { email, password: "pw-pending" })).err).toBeNull();
        const after = await usersTable(stack);
        expect(after).toHaveLength(before.length + 1);
        expect(await hashMatches((await rowOf(stack, email))!, "pw-pending")).toBe(true);
    });

    it("concurrent calls on the locked row are each cancelled by the statement timeout, and the pool stays within DB_POOL_MAX and usable", async () => {
        const a = await createUser();
        const before = await usersTable(stack);
        const session = await openTransaction();
        await session.query(`SELECT 1 FROM ${ident(stack.schema)}.users WHERE id = $1::uuid FOR UPDATE`, [a.id]);
        let results;
        try {
            // Three calls, three pooled connections (DB_POOL_MAX 3): none waits for a connection.
            results = await Promise.all([
                sandbox.run("verify", a.email),
                sandbox.run("change_password", a.email, "pw-x1"),
                sandbox.run("change_password", a.email, "pw-x2"),
            ]);
        } finally {
            await session.query("ROLLBACK");
            await session.end();
        }
        for (const r of results) expectCleanFailure(r.err, CANCELLED, stack);
        // A cancelled statement leaves its connection usable: it went back to the pool, none was added.
        expect(poolOf(sandbox).totalCount).toBeLessThanOrEqual(3);
        expect(poolOf(sandbox).idleCount).toBe(poolOf(sandbox).totalCount);
        expect(await usersTable(stack)).toEqual(before);
        expect((await sandbox.run("verify", a.email)).result).toBe(true);
    });
});
