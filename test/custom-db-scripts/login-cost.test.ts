/**
 * The login script's bcrypt work across a change of `customDb.bcryptCost` (issue #10 point 3), as
 * properties of the uploaded text run against the real Postgres as the scripts role: which hashes
 * a login compares against, at which costs, and what it stores. A failed login, known email or
 * not, does the work of one compare at the cost ceiling (the highest of the configured cost and
 * the stored hashes' costs); a successful one stores the password again at the configured cost.
 * No stopwatch here: `npm run bench` measures the times (its cost-change target).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createSandbox } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { scriptModule } from "../support/script-modules";
import { configFor, secretsIn } from "../support/custom-db-scripts";

const bcrypt = scriptModule<typeof import("bcrypt")>("bcrypt");
/** What the users table accepts as a password hash (migration 001's CHECK). */
const STORED_HASH = /^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$/;

let stack: StackDatabase;

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "login_cost");
});
afterAll(async () => {
    await stack?.teardown();
});

const costOf = (hash: string) => Number(hash.slice(4, 6));
/** bcrypt's work for compares at these costs, in units of one key-schedule round: 2^cost each. */
const work = (costs: number[]) => costs.reduce((sum, cost) => sum + 2 ** cost, 0);

interface Recorder {
    wrapped: typeof bcrypt;
    /** The hash each compare was asked to check against, in order. */
    compares: string[];
    /** The cost of each hash made. */
    hashes: number[];
    reset(): void;
}

/** The scripts' bcrypt, recording each compare and hash; `overrides` replace methods (after recording). */
function recordingBcrypt(
    overrides: { compare?: (data: string, encrypted: string) => Promise<boolean>; hash?: (data: string, cost: number) => Promise<string> } = {},
): Recorder {
    const compares: string[] = [];
    const hashes: number[] = [];
    const compare = overrides.compare ?? ((data: string, encrypted: string) => bcrypt.compare(data, encrypted));
    const hash = overrides.hash ?? ((data: string, cost: number) => bcrypt.hash(data, cost));
    const wrapped = {
        ...bcrypt,
        compare: (data: string, encrypted: string) => {
            compares.push(encrypted);
            return compare(data, encrypted);
        },
        hash: (data: string, cost: number) => {
            hashes.push(cost);
            return hash(data, cost);
        },
    } as typeof bcrypt;
    return {
        wrapped,
        compares,
        hashes,
        reset: () => {
            compares.length = 0;
            hashes.length = 0;
        },
    };
}

function sandbox(cost: number, b: Recorder, lines: string[] = []) {
    const log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
    return createSandbox(configFor(stack, { bcryptCost: cost }), {
        modules: { bcrypt: b.wrapped },
        console: { log, info: log, warn: log, error: log, debug: log },
    });
}

/** A stored user whose password was hashed at `cost` (as when the stack's cost was another). */
async function userAt(cost: number, password = `pw-${randomUUID()}`): Promise<{ email: string; password: string; hash: string }> {
    const email = `cost${cost}.${randomUUID()}@example.com`;
    const hash = await bcrypt.hash(password, cost);
    await query(stack.db.url, `INSERT INTO ${stack.schema}.users (email, password_hash) VALUES ($1, $2)`, [email, hash]);
    return { email, password, hash };
}

async function storedHash(email: string): Promise<string> {
    return (await query(stack.db.url, `SELECT password_hash FROM ${stack.schema}.users WHERE email = $1`, [email]))[0]!.password_hash as string;
}

describe("a successful login stores the password at the configured cost", () => {
    it("raised cost: a hash at 4 becomes one at 6 on the next right password; the password still logs in, and no further rehash", async () => {
        const user = await userAt(4);
        const b = recordingBcrypt();
        const s = sandbox(6, b);
        try {
            const first = await s.run("login", user.email, user.password);
            expect(first.err).toBeNull();
            expect(b.compares).toEqual([user.hash]);
            expect(b.hashes).toEqual([6]);
            const after = await storedHash(user.email);
            expect(after).toMatch(/^\$2b\$06\$/);
            expect(after).toMatch(STORED_HASH);
            expect(await bcrypt.compare(user.password, after)).toBe(true);

            b.reset();
            const second = await s.run("login", user.email, user.password);
            expect(second.err).toBeNull();
            expect(second.result).toEqual(first.result);
            expect(b.compares).toEqual([after]);
            expect(b.hashes).toEqual([]);
            expect(await storedHash(user.email)).toBe(after);
            expect(secretsIn([first, second], stack, [user.password])).toEqual([]);
        } finally {
            await s.close();
        }
    });

    it("lowered cost: a hash at 6 becomes one at 4", async () => {
        const user = await userAt(6);
        const b = recordingBcrypt();
        const s = sandbox(4, b);
        try {
            expect((await s.run("login", user.email, user.password)).err).toBeNull();
            expect(b.hashes).toEqual([4]);
            expect(await storedHash(user.email)).toMatch(/^\$2b\$04\$/);
        } finally {
            await s.close();
        }
    });

    it("a failed login never rehashes, whatever the stored cost", async () => {
        const user = await userAt(4);
        const b = recordingBcrypt();
        const s = sandbox(6, b);
        try {
            for (const wrong of ["not-the-password", "", "x".repeat(100)]) {
                expect((await s.run("login", user.email, wrong)).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
            }
            expect(b.hashes).toEqual([]);
            expect(await storedHash(user.email)).toBe(user.hash);
        } finally {
            await s.close();
        }
    });

    it("a password changed between the check and the rehash wins: the rehash replaces only the hash it checked", async () => {
        const user = await userAt(4);
        const changed = await bcrypt.hash("changed-meanwhile", 4);
        const b = recordingBcrypt({
            hash: async (data: string, cost: number) => {
                // A change_password (another container) lands while this login hashes.
                await query(stack.db.url, `UPDATE ${stack.schema}.users SET password_hash = $1 WHERE email = $2`, [changed, user.email]);
                return bcrypt.hash(data, cost);
            },
        });
        const s = sandbox(6, b);
        try {
            expect((await s.run("login", user.email, user.password)).err).toBeNull();
            expect(b.hashes).toEqual([6]);
            expect(await storedHash(user.email)).toBe(changed);
        } finally {
            await s.close();
        }
    });

    it("a rehash that fails is logged (naming the user, never the password or a hash) and the login succeeds", async () => {
        const user = await userAt(4);
        const lines: string[] = [];
        const b = recordingBcrypt({ hash: async () => Promise.reject(new Error("bcrypt exploded")) });
        const s = sandbox(6, b, lines);
        try {
            const { err, result } = await s.run("login", user.email, user.password);
            expect(err).toBeNull();
            const id = (result as { user_id: string }).user_id;
            expect(lines).toEqual([
                `auth0 custom database: login: the password of user ${id} could not be rehashed at cost 6 (bcrypt exploded); the login goes on`,
            ]);
            expect(secretsIn(lines, stack, [user.password])).toEqual([]);
            expect(await storedHash(user.email)).toBe(user.hash);
        } finally {
            await s.close();
        }
    });
});

describe("every failed login does the work of one compare at the cost ceiling", () => {
    it("users at 4, 5 and 6 with the configuration at 6 (a raise): a wrong password, an unknown email and an unusable password all come to 2^6", async () => {
        const users = [await userAt(4), await userAt(5), await userAt(6)];
        const b = recordingBcrypt();
        const s = sandbox(6, b);
        try {
            const attempts: [string, unknown, unknown][] = [
                ...users.map((u): [string, unknown, unknown] => [`wrong password, stored at ${costOf(u.hash)}`, u.email, "not-the-password"]),
                ["unknown email", `nobody.${randomUUID()}@example.com`, "not-the-password"],
                ["known email, empty password", users[0]!.email, ""],
                ["known email, password over 72 bytes", users[0]!.email, "y".repeat(100)],
                ["no email", undefined, "not-the-password"],
            ];
            const costs: Record<string, number[]> = {};
            for (const [label, email, password] of attempts) {
                b.reset();
                expect((await s.run("login", email, password)).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
                costs[label] = b.compares.map(costOf);
            }
            expect(costs).toEqual({
                // The stored hash, then dummies at 4 and 5: 16 + 16 + 32 = 64.
                "wrong password, stored at 4": [4, 4, 5],
                "wrong password, stored at 5": [5, 5],
                "wrong password, stored at 6": [6],
                "unknown email": [6],
                "known email, empty password": [6],
                "known email, password over 72 bytes": [6],
                "no email": [6],
            });
            for (const spent of Object.values(costs)) expect(work(spent)).toBe(2 ** 6);
            expect(b.hashes).toEqual([]);
        } finally {
            await s.close();
        }
    });

    it("the configuration at 4 while hashes at 6 remain (a lowering): the ceiling is the stored 6, so an unknown email pays 2^6 like them", async () => {
        const users = [await userAt(4), await userAt(6)];
        const b = recordingBcrypt();
        const s = sandbox(4, b);
        try {
            const spent: number[][] = [];
            for (const [email, password] of [
                [users[0]!.email, "wrong"],
                [users[1]!.email, "wrong"],
                [`nobody.${randomUUID()}@example.com`, "wrong"],
            ]) {
                b.reset();
                expect((await s.run("login", email, password)).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
                spent.push(b.compares.map(costOf));
            }
            expect(spent).toEqual([[4, 4, 5], [6], [6]]);
        } finally {
            await s.close();
        }
    });

    it("the unknown email's dummy is a well-formed hash at the ceiling that no password matches, made without key stretching and reused", async () => {
        await userAt(5);
        const b = recordingBcrypt();
        const s = sandbox(4, b);
        try {
            for (const email of ["ghost1@example.com", "ghost2@example.com"]) {
                expect((await s.run("login", email, "any-password")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
            }
            expect(b.compares).toHaveLength(2);
            expect(b.compares[1]).toBe(b.compares[0]);
            const dummy = b.compares[0]!;
            expect(dummy).toMatch(STORED_HASH);
            expect(costOf(dummy)).toBeGreaterThanOrEqual(5);
            expect(bcrypt.getRounds(dummy)).toBe(costOf(dummy));
            expect(await bcrypt.compare("any-password", dummy)).toBe(false);
            expect(await bcrypt.compare("", dummy)).toBe(false);
            expect(b.hashes).toEqual([]);
        } finally {
            await s.close();
        }
    });

    it("a stored hash above 15 (imported) does not raise the ceiling past 15, the configuration's maximum", async () => {
        // A well-formed hash at cost 31 (no password matches it); the compares are stubbed, as a real one would take hours.
        const email = `cost31.${randomUUID()}@example.com`;
        const hash31 = `${await bcrypt.genSalt(31)}${"a".repeat(31)}`;
        await query(stack.db.url, `INSERT INTO ${stack.schema}.users (email, password_hash) VALUES ($1, $2)`, [email, hash31]);
        const b = recordingBcrypt({ compare: async () => false });
        const s = sandbox(4, b);
        try {
            expect((await s.run("login", `nobody.${randomUUID()}@example.com`, "pw")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
            expect(b.compares.map(costOf)).toEqual([15]);
            b.reset();
            expect((await s.run("login", email, "pw")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
            expect(b.compares).toEqual([hash31]);
        } finally {
            await s.close();
            await query(stack.db.url, `DELETE FROM ${stack.schema}.users WHERE email = $1`, [email]);
        }
    });
});
