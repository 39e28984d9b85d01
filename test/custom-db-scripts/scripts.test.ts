/**
 * The six custom-database scripts, run as Auth0 runs them (the uploaded text in a vm sandbox),
 * against the real Postgres, logged in as the least-privilege scripts role.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { customDbScripts } from "../../infra/auth0/scripts";
import { Auth0Sandbox, createSandbox } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { configFor, isError, secretsIn } from "../support/custom-db-scripts";

let stack: StackDatabase;
let sandbox: Auth0Sandbox;
/** Everything the scripts handed back, checked for secrets at the end. */
const outputs: unknown[] = [];

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "scripts");
    sandbox = createSandbox(configFor(stack));
});
afterAll(async () => {
    await sandbox?.close();
    await stack?.teardown();
});

async function run(name: Parameters<Auth0Sandbox["run"]>[0], ...args: unknown[]) {
    const out = await sandbox.run(name, ...args);
    outputs.push(out.err, out.result);
    return out;
}

async function rowOf(email: string) {
    const rows = await query(
        stack.db.url,
        "SELECT id::text AS id, email, password_hash, nickname, email_verified, app_metadata, user_metadata FROM auth0_app.users WHERE lower(email) = lower($1)",
        [email],
    );
    return rows[0];
}

let seq = 0;
function freshEmail(): string {
    seq += 1;
    return `User.${seq}.${Date.now()}@Example.com`;
}

async function createUser(extra: Record<string, unknown> = {}) {
    const email = freshEmail();
    const password = `pw-${seq}-${Math.random().toString(36).slice(2)}`;
    const { err } = await run("create", { email, password, tenant: "t", client_id: "c", connection: "postgres-users", ...extra });
    expect(err).toBeNull();
    return { email, password };
}

describe("create", () => {
    it("stores the user with a bcrypt hash at BCRYPT_COST, the trimmed email and what Auth0 passed", async () => {
        const email = freshEmail();
        const { err, args } = await run("create", {
            email: `  ${email} `,
            password: "correct horse battery staple",
            username: "horsey",
            email_verified: true,
            app_metadata: { plan: "pro" },
            user_metadata: { lang: "fr" },
            tenant: "t",
            client_id: "c",
            connection: "postgres-users",
        });
        expect(err).toBeNull();
        expect(args).toEqual([null]);
        const row = await rowOf(email);
        expect(row).toMatchObject({ email, nickname: "horsey", email_verified: true, app_metadata: { plan: "pro" }, user_metadata: { lang: "fr" } });
        expect(row!.password_hash).toMatch(/^\$2b\$04\$/);
        expect(row!.password_hash).not.toContain("correct horse");
    });

    it("prefers nickname over username, and defaults the flags and metadata", async () => {
        const email = freshEmail();
        expect((await run("create", { email, password: "pw-123456", nickname: "Nick", username: "user" })).err).toBeNull();
        expect(await rowOf(email)).toMatchObject({ nickname: "Nick", email_verified: false, app_metadata: {}, user_metadata: {} });
        const bare = freshEmail();
        expect((await run("create", { email: bare, password: "pw-123456" })).err).toBeNull();
        expect(await rowOf(bare)).toMatchObject({ nickname: null });
    });

    it("answers user_exists for an existing email in another case or with spaces, and keeps the first row", async () => {
        const { email } = await createUser();
        const before = await rowOf(email);
        const { err } = await run("create", { email: `  ${email.toUpperCase()}  `, password: "another-password" });
        expect(err).toMatchObject({ name: "ValidationError", code: "user_exists" });
        expect(await rowOf(email)).toEqual(before);
    });

    it.each<[string, Record<string, unknown>, string, RegExp]>([
        ["no email", { password: "pw-123456" }, "invalid_email", /email is missing or not a valid email address/],
        ["an email without @", { email: "not-an-email", password: "pw-123456" }, "invalid_email", /not a valid email address/],
        ["an email that is not a string", { email: 42, password: "pw-123456" }, "invalid_email", /email/],
        ["an email with inner spaces", { email: "a b@example.com", password: "pw-123456" }, "invalid_email", /email/],
        ["no password", { email: "nopw@example.com" }, "invalid_password", /password is missing/],
        ["an empty password", { email: "emptypw@example.com", password: "" }, "invalid_password", /password is missing/],
        ["a password over 72 bytes", { email: "longpw@example.com", password: "é".repeat(37) }, "invalid_password", /longer than 72 bytes/],
        [
            "app_metadata that is not an object",
            { email: "meta@example.com", password: "pw-123456", app_metadata: ["x"] },
            "invalid_app_metadata",
            /app_metadata must be an object/,
        ],
        [
            "user_metadata that is a string",
            { email: "meta2@example.com", password: "pw-123456", user_metadata: "x" },
            "invalid_user_metadata",
            /user_metadata must be an object/,
        ],
    ])("rejects %s with a clear ValidationError and stores nothing", async (_label, user, code, message) => {
        const { err } = await run("create", user);
        expect(err).toMatchObject({ name: "ValidationError", code });
        expect((err as Error).message).toMatch(message);
        if (typeof user.email === "string") expect(await rowOf(user.email.trim())).toBeUndefined();
    });
});

describe("login", () => {
    it("returns the profile for the right password, whatever the email's case and spaces", async () => {
        const { email, password } = await createUser({ nickname: "Logan", user_metadata: { a: 1 }, app_metadata: { b: 2 } });
        const row = await rowOf(email);
        const { err, result } = await run("login", `  ${email.toLowerCase()}`, password);
        expect(err).toBeNull();
        expect(result).toEqual({
            user_id: row!.id,
            email,
            email_verified: false,
            nickname: "Logan",
            app_metadata: { b: 2 },
            user_metadata: { a: 1 },
        });
    });

    it("gives the same WrongUsernameOrPasswordError for a wrong password and for an unknown email", async () => {
        const { email } = await createUser();
        const unknown = `nobody.${Date.now()}@example.com`;
        const wrong = await run("login", email, "not-the-password");
        const missing = await run("login", unknown, "not-the-password");
        expect(wrong.err).toMatchObject({ name: "WrongUsernameOrPasswordError", username: email });
        expect(missing.err).toMatchObject({ name: "WrongUsernameOrPasswordError", username: unknown });
        expect((wrong.err as Error).message).toBe((missing.err as Error).message);
        expect(wrong.args).toHaveLength(1);
        expect(missing.args).toHaveLength(1);
    });

    it("refuses an empty password, a password over 72 bytes and non-string input", async () => {
        const { email, password } = await createUser();
        for (const [e, p] of [
            [email, ""],
            [email, password + "x".repeat(80)],
            [email, undefined],
            [undefined, password],
            [123, password],
        ] as const) {
            const { err } = await run("login", e, p);
            expect(err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
        }
    });
});

describe("get_user", () => {
    it("returns the same user_id as login, without the hash", async () => {
        const { email, password } = await createUser({ username: "gu" });
        const viaLogin = await run("login", email, password);
        const viaGet = await run("get_user", email.toUpperCase());
        expect(viaGet.err).toBeNull();
        expect(viaGet.result).toEqual(viaLogin.result);
        expect((viaGet.result as { user_id: string }).user_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect((viaGet.result as { user_id: string }).user_id).toBe((await rowOf(email))!.id);
    });

    it("calls back with no error and no profile for an unknown user", async () => {
        const { err, result, args } = await run("get_user", `ghost.${Date.now()}@example.com`);
        expect(err).toBeNull();
        expect(result).toBeUndefined();
        expect(args).toEqual([null]);
    });

    it("errors clearly when the email is not a string", async () => {
        const { err } = await run("get_user", undefined);
        expect(isError(err)).toBe(true);
        expect((err as Error).message).toBe("get_user: the email is missing or not a string");
    });
});

describe("verify", () => {
    it("sets email_verified and calls back true", async () => {
        const { email, password } = await createUser();
        const { err, result } = await run("verify", ` ${email.toLowerCase()} `);
        expect(err).toBeNull();
        expect(result).toBe(true);
        expect((await rowOf(email))!.email_verified).toBe(true);
        expect((await run("login", email, password)).result).toMatchObject({ email_verified: true });
    });

    it("calls back false when no user has the email", async () => {
        const { err, result, args } = await run("verify", `ghost.${Date.now()}@example.com`);
        expect(err).toBeNull();
        expect(result).toBe(false);
        expect(args).toEqual([null, false]);
    });
});

describe("change_password", () => {
    it("stores a new hash: the new password logs in, the old one does not", async () => {
        const { email, password } = await createUser();
        const before = (await rowOf(email))!.password_hash;
        const { err, result } = await run("change_password", email.toUpperCase(), "brand-new-password");
        expect(err).toBeNull();
        expect(result).toBe(true);
        const after = (await rowOf(email))!.password_hash;
        expect(after).not.toBe(before);
        expect(after).toMatch(/^\$2b\$04\$/);
        expect((await run("login", email, "brand-new-password")).err).toBeNull();
        expect((await run("login", email, password)).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
    });

    it("calls back false for an unknown email", async () => {
        const { err, result } = await run("change_password", `ghost.${Date.now()}@example.com`, "whatever-password");
        expect(err).toBeNull();
        expect(result).toBe(false);
    });

    it("refuses an empty or over-long new password and keeps the old hash", async () => {
        const { email } = await createUser();
        const before = (await rowOf(email))!.password_hash;
        expect((await run("change_password", email, "")).err).toMatchObject({ name: "ValidationError", code: "invalid_password" });
        expect((await run("change_password", email, "x".repeat(73))).err).toMatchObject({ name: "ValidationError", code: "invalid_password" });
        expect((await rowOf(email))!.password_hash).toBe(before);
    });
});

describe("delete", () => {
    it("deletes by the user_id the scripts returned, and again is a no-op", async () => {
        const { email, password } = await createUser();
        const id = ((await run("login", email, password)).result as { user_id: string }).user_id;
        const first = await run("delete", id);
        expect(first.err).toBeNull();
        expect(first.args).toEqual([null]);
        expect(await rowOf(email)).toBeUndefined();
        expect((await run("delete", id)).err).toBeNull();
        expect((await run("get_user", email)).result).toBeUndefined();
    });

    it("accepts the auth0| prefix", async () => {
        const { email } = await createUser();
        const id = (await rowOf(email))!.id as string;
        expect((await run("delete", `auth0|${id}`)).err).toBeNull();
        expect(await rowOf(email)).toBeUndefined();
    });

    it("treats an id that is not a uuid as naming no user (no SQL error), and deletes nothing", async () => {
        const { email } = await createUser();
        for (const id of ["not-a-uuid", "auth0|12345", "'; DELETE FROM auth0_app.users; --", ""]) {
            const { err } = await run("delete", id);
            expect(err).toBeNull();
        }
        expect(await rowOf(email)).toBeDefined();
    });

    it("errors clearly when the id is not a string", async () => {
        const { err } = await run("delete", 42);
        expect(isError(err)).toBe(true);
        expect((err as Error).message).toBe("delete: the user id is missing or not a string");
    });
});

describe("outputs", () => {
    it("never contain a password hash or the database credentials", () => {
        expect(outputs.length).toBeGreaterThan(40);
        expect(secretsIn(outputs, stack)).toEqual([]);
    });

    it("come from the uploaded text: the function the runner calls is that text, byte for byte", () => {
        const uploaded = customDbScripts();
        for (const name of Object.keys(uploaded) as (keyof typeof uploaded)[]) {
            expect(sandbox.compiled(name).toString()).toBe(uploaded[name]);
        }
    });
});
