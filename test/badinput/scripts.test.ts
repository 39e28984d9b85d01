/**
 * Bad input to the six custom-database scripts (the uploaded text, in the Auth0 sandbox, against
 * the real Postgres): SQL metacharacters, very long strings, mixed case and Unicode, missing and
 * non-string arguments. Each call gets the right answer or a clear error, and the table changes
 * by exactly what the successful calls did.
 *
 * Email identity, as the code decides it: an email is trimmed (JavaScript's trim(), so also
 * no-break spaces) and compared, and kept unique, by Postgres `lower()`. Nothing else is
 * normalized: no Unicode normalization (NFC "é" and NFD "e" + U+0301 are two users) and no IDNA
 * (bücher.test and xn--bcher-kva.test are two domains). Whether "Ä@x.test" and "ä@x.test" are the
 * same user depends on the database's character classification: under C.UTF-8 (Supabase's hosted
 * databases) lower() maps Ä to ä and they are ONE user; under the C locale (the test databases',
 * whatever the server's default) lower() maps only ASCII and they are TWO users. Either way the
 * lookup and the unique index use the same lower(), so create, login and get_user always agree;
 * both are tested.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Auth0Sandbox, createSandbox, ValidationError, WrongUsernameOrPasswordError } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { needs } from "../support/needs";
import { configFor, isError, secretsIn } from "../support/custom-db-scripts";
import { capturingConsole, hashMatches, rowOf, usersTable } from "../support/custom-db-faults";

type Script = Parameters<Auth0Sandbox["run"]>[0];

let stack: StackDatabase;
let sandbox: Auth0Sandbox;
const logged = capturingConsole();
const outputs: unknown[] = [];

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "badinput_scripts");
    sandbox = createSandbox(configFor(stack, { connectTimeoutMs: 2_000, statementTimeoutMs: 2_000 }), { console: logged.console });
});
afterAll(async () => {
    await sandbox?.close();
    await stack?.teardown();
    // Nothing any call handed back or logged holds a hash or the database credentials.
    expect(secretsIn(outputs, stack)).toEqual([]);
    expect(logged.lines).toEqual([]);
});

async function run(name: Script, ...args: unknown[]) {
    const out = await sandbox.run(name, ...args);
    outputs.push(out.err, out.result);
    return out;
}

async function tableExists(): Promise<boolean> {
    const rows = await query(stack.db.url, "SELECT to_regclass($1) IS NOT NULL AS present", [`${stack.schema}.users`]);
    return rows[0]!.present === true;
}

function expectValidation(err: unknown, code: string) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe(code);
}

function expectWrongCredentials(err: unknown) {
    expect(err).toBeInstanceOf(WrongUsernameOrPasswordError);
    expect((err as Error).message).toBe("Wrong email or password.");
}

describe("SQL metacharacters", () => {
    const emails = [
        "o'brien@meta.test",
        "a';--@meta.test",
        'x@meta.test";DROP_TABLE_users;--',
        "x@meta.test';DELETE/**/FROM/**/auth0_app.users;--",
        "back\\slash@meta.test",
        "100%@meta.test",
        "under_score@meta.test",
        "dollar$1@meta.test",
        "semi;colon@meta.test",
    ];

    it("are stored and matched literally in emails, through every script", async () => {
        const before = await usersTable(stack);
        for (const [i, email] of emails.entries()) {
            const password = `pw-meta-${i}`;
            expect((await run("create", { email, password })).err).toBeNull();
            const row = await rowOf(stack, email);
            expect(row?.email).toBe(email);
            const profile = (await run("get_user", email)).result as { user_id: string; email: string };
            expect(profile).toMatchObject({ user_id: row!.id, email });
            expect((await run("login", email, password)).result).toMatchObject({ user_id: row!.id });
            expect((await run("verify", email)).result).toBe(true);
            expect((await run("change_password", email, `${password}-2`)).result).toBe(true);
            expect((await run("login", email, `${password}-2`)).err).toBeNull();
        }
        expect(await tableExists()).toBe(true);
        const after = await usersTable(stack);
        expect(after.map((r) => r.email).sort()).toEqual([...before.map((r) => r.email), ...emails].sort());
        // Every row is whole: the password it was last given, verified.
        for (const [i, email] of emails.entries()) {
            const row = after.find((r) => r.email === email)!;
            expect(row.email_verified).toBe(true);
            expect(await hashMatches(row, `pw-meta-${i}-2`)).toBe(true);
        }
    });

    it("% and _ are not wildcards, and a backslash is not an escape", async () => {
        const before = await usersTable(stack);
        for (const probe of [
            "under-score@meta.test",
            "underXscore@meta.test",
            "1000@meta.test",
            "10%@meta.test",
            "%@meta.test",
            "%",
            "_%",
            "backslash@meta.test",
            "back\\\\slash@meta.test",
        ]) {
            expect((await run("get_user", probe)).result, probe).toBeUndefined();
            expectWrongCredentials((await run("login", probe, "pw-meta-6")).err);
            expect((await run("verify", probe)).result, probe).toBe(false);
            expect((await run("change_password", probe, "pw-wildcard")).result, probe).toBe(false);
        }
        expect(await usersTable(stack)).toEqual(before);
    });

    it("an email with spaces and SQL is refused by create and matches nothing elsewhere; the table is untouched", async () => {
        const before = await usersTable(stack);
        const evil = "'; DROP TABLE auth0_app.users; --@meta.test";
        expectValidation((await run("create", { email: evil, password: "pw-evil-1" })).err, "invalid_email");
        expectWrongCredentials((await run("login", evil, "pw-evil-1")).err);
        expect((await run("get_user", evil)).result).toBeUndefined();
        expect((await run("verify", evil)).result).toBe(false);
        expect((await run("change_password", evil, "pw-evil-2")).result).toBe(false);
        expect((await run("delete", "'; DROP TABLE auth0_app.users; --")).err).toBeNull();
        expect(await tableExists()).toBe(true);
        expect(await usersTable(stack)).toEqual(before);
    });

    it("passwords and nicknames with metacharacters, quotes, backslashes and a NUL are kept exactly", async () => {
        const cases = [
            { email: "pw1@meta.test", password: "'; DROP TABLE auth0_app.users; --", nickname: "Robert'); DROP TABLE Students;--" },
            { email: "pw2@meta.test", password: "%_\\\\%'\"`$$", nickname: "50% off_\\n" },
            { email: "pw3@meta.test", password: "nul\u0000first", nickname: "tab\there" },
        ];
        for (const c of cases) {
            expect((await run("create", c)).err).toBeNull();
            expect((await run("login", c.email, c.password)).err).toBeNull();
            expect((await rowOf(stack, c.email))!.nickname).toBe(c.nickname);
        }
        // bcrypt sees the whole password: what follows a NUL counts.
        expectWrongCredentials((await run("login", "pw3@meta.test", "nul\u0000other")).err);
        expectWrongCredentials((await run("login", "pw3@meta.test", "nul")).err);
        expect(await tableExists()).toBe(true);
    });

    it("an email with a NUL (or another control character) is no email: a clear error, the login's usual answer, nothing written", async () => {
        const before = await usersTable(stack);
        for (const email of ["nul\u0000byte@meta.test", "bell\u0007@meta.test"]) {
            expectValidation((await run("create", { email, password: "pw-nul" })).err, "invalid_email");
            expectWrongCredentials((await run("login", email, "pw-nul")).err);
            for (const name of ["get_user", "verify"] as Script[]) {
                const { err } = await run(name, email);
                expect(isError(err)).toBe(true);
                expect((err as Error).message).toMatch(/the email is missing or not a string/);
                expect((err as Error).message).not.toMatch(/SQLSTATE/);
            }
        }
        expect(await usersTable(stack)).toEqual(before);
    });
});

describe("very long strings", () => {
    const KB10 = "a".repeat(10 * 1024);
    const MB1 = "b".repeat(1024 * 1024);
    let user: { email: string; password: string };

    beforeAll(async () => {
        user = { email: "long.owner@long.test", password: "pw-long-owner" };
        expect((await run("create", user)).err).toBeNull();
    });

    it.each([
        ["10 kB", KB10],
        ["1 MB", MB1],
    ])("a %s email: refused by create, matches no one elsewhere; nothing changes", async (_label, local) => {
        const before = await usersTable(stack);
        const email = `${local}@long.test`;
        // Each answer below is the right one, so no statement was cancelled by the statement timeout.
        expectValidation((await run("create", { email, password: "pw-long" })).err, "invalid_email");
        expectWrongCredentials((await run("login", email, "pw-long")).err);
        expect((await run("get_user", email)).result).toBeUndefined();
        expect((await run("verify", email)).result).toBe(false);
        expect((await run("change_password", email, "pw-long-2")).result).toBe(false);
        expect((await run("delete", email)).err).toBeNull();
        expect(await usersTable(stack)).toEqual(before);
    });

    it.each([
        ["10 kB", KB10],
        ["1 MB", MB1],
    ])("a %s password: refused by create and change_password (bcrypt reads 72 bytes), a wrong password at login", async (_label, password) => {
        const before = await usersTable(stack);
        expectValidation((await run("create", { email: "long.pw@long.test", password })).err, "invalid_password");
        expectValidation((await run("change_password", user.email, password)).err, "invalid_password");
        expectWrongCredentials((await run("login", user.email, password)).err);
        // The first 72 bytes of a long password are not enough to log in either.
        expectWrongCredentials((await run("login", user.email, user.password + password)).err);
        expect(await usersTable(stack)).toEqual(before);
    });

    it("72 bytes is the limit in bytes, not characters", async () => {
        const fits = "€".repeat(24); // 72 bytes
        const over = "€".repeat(25); // 75 bytes, 25 characters
        expect((await run("create", { email: "euro@long.test", password: fits })).err).toBeNull();
        expect((await run("login", "euro@long.test", fits)).err).toBeNull();
        expectValidation((await run("change_password", "euro@long.test", over)).err, "invalid_password");
        expect(await hashMatches((await rowOf(stack, "euro@long.test"))!, fits)).toBe(true);
    });

    it("a nickname over 255 characters is refused; 255 fit; a 10 kB one changes nothing", async () => {
        const before = await usersTable(stack);
        expectValidation((await run("create", { email: "nick@long.test", password: "pw-nick", nickname: KB10 })).err, "invalid_nickname");
        expectValidation((await run("create", { email: "nick@long.test", password: "pw-nick", nickname: "n".repeat(256) })).err, "invalid_nickname");
        expect(await usersTable(stack)).toEqual(before);
        expect((await run("create", { email: "nick@long.test", password: "pw-nick", nickname: "n".repeat(255) })).err).toBeNull();
        expect((await rowOf(stack, "nick@long.test"))!.nickname).toBe("n".repeat(255));
    });

    it("1 MB of user_metadata is stored and handed back exactly", async () => {
        const metadata = { note: MB1, nested: { quote: "'; DROP TABLE x; --", unicode: "ä😀" } };
        expect((await run("create", { email: "meta.big@long.test", password: "pw-meta-big", user_metadata: metadata })).err).toBeNull();
        const profile = (await run("get_user", "meta.big@long.test")).result as { user_metadata: unknown };
        expect(profile.user_metadata).toEqual(metadata);
    });
});

describe("mixed case, white space and Unicode in emails", () => {
    it("one user whatever the ASCII case and surrounding white space (no-break spaces too); the email is stored as first given, trimmed", async () => {
        const given = "  Ada.Lovelace@Example.TEST\u00a0";
        expect((await run("create", { email: given, password: "pw-ada" })).err).toBeNull();
        const row = (await rowOf(stack, "ada.lovelace@example.test"))!;
        expect(row.email).toBe("Ada.Lovelace@Example.TEST");
        for (const variant of ["ada.lovelace@example.test", "ADA.LOVELACE@EXAMPLE.TEST", "\tAda.Lovelace@example.test\n", "\ufeffada.lovelace@Example.test"]) {
            expect((await run("login", variant, "pw-ada")).result, variant).toMatchObject({ user_id: row.id, email: "Ada.Lovelace@Example.TEST" });
            expect((await run("get_user", variant)).result, variant).toMatchObject({ user_id: row.id });
            expectValidation((await run("create", { email: variant, password: "pw-other" })).err, "user_exists");
        }
        expectValidation((await run("create", { email: "ada\u00a0lovelace@example.test", password: "pw-x" })).err, "invalid_email");
    });

    /**
     * For each pair, the first email is created; then the second must behave consistently: if
     * create says user_exists, the second logs in as the first user; otherwise it is a user of its
     * own. `same` is what the database's lower() decides in this locale.
     */
    const PAIRS: [string, string, { c: boolean; unicode: boolean }][] = [
        ["Ä@umlaut.test", "ä@umlaut.test", { c: false, unicode: true }],
        ["ÉLODIE@accent.test", "élodie@accent.test", { c: false, unicode: true }],
        ["ΣΊΣΥΦΟΣ@greek.test", "σίσυφοσ@greek.test", { c: false, unicode: true }],
        // lower() maps Σ to σ, never to the final form ς: these are two users even under C.UTF-8.
        ["ΣΊΣΥΦΟΣ@final.test", "σίσυφος@final.test", { c: false, unicode: false }],
        ["user@BÜCHER.test", "user@bücher.test", { c: false, unicode: true }],
        ["user@bücher.test", "user@xn--bcher-kva.test", { c: false, unicode: false }],
        // Emails are stored and matched in Unicode NFC: a composed é and e + combining accent are one user.
        ["caf\u00e9@combining.test", "cafe\u0301@combining.test", { c: true, unicode: true }],
        ["x@ＦＵＬＬ.test", "x@full.test", { c: false, unicode: false }],
        ["x@ＦＵＬＬ.test", "x@ｆｕｌｌ.test", { c: false, unicode: true }],
    ];

    async function checkPairs(s: Auth0Sandbox, db: StackDatabase, locale: "c" | "unicode") {
        for (const [i, [first, second, same]] of PAIRS.entries()) {
            const a = `${first.replace("@", `.${locale}${i}@`)}`;
            const b = `${second.replace("@", `.${locale}${i}@`)}`;
            expect((await s.run("create", { email: a, password: `pw-a-${i}` })).err, a).toBeNull();
            const idA = ((await s.run("get_user", a)).result as { user_id: string }).user_id;
            const created = await s.run("create", { email: b, password: `pw-b-${i}` });
            if (same[locale]) {
                expect(created.err, `${b} is ${a}`).not.toBeNull();
                expectValidation(created.err, "user_exists");
                expect((await s.run("login", b, `pw-a-${i}`)).result, `${b} logs in as ${a}`).toMatchObject({ user_id: idA, email: a });
                expect((await s.run("get_user", b)).result).toMatchObject({ user_id: idA });
            } else {
                expect(created.err, `${b} is a user of its own`).toBeNull();
                expectWrongCredentials((await s.run("login", b, `pw-a-${i}`)).err);
                expect((await s.run("login", b, `pw-b-${i}`)).result).not.toMatchObject({ user_id: idA });
                expect((await s.run("login", a, `pw-a-${i}`)).result).toMatchObject({ user_id: idA });
            }
        }
        const rows = await usersTable(db);
        const mine = rows.filter((r) => new RegExp(`\\.${locale}\\d+@`).test(r.email));
        expect(mine).toHaveLength(PAIRS.length + PAIRS.filter(([, , same]) => !same[locale]).length);
    }

    it("in this test cluster's C locale, lower() folds ASCII only: Ä@ and ä@ are two users", async () => {
        const rows = await query(
            stack.db.url,
            "SELECT lower('Ä') AS l, datctype AS ctype, datlocprovider AS provider FROM pg_database WHERE datname = current_database()",
        );
        expect(rows[0]).toEqual({ l: "Ä", ctype: "C", provider: "c" });
        await checkPairs(sandbox, stack, "c");
    });

    it("under C.UTF-8 (as Supabase's hosted databases), lower() folds Unicode letters: Ä@ and ä@ are one user", async (ctx) => {
        needs(ctx, "builtin-locale");
        const unicode = await createStackDatabase(inject("databaseUrl"), "badinput_unicode", { unicodeLocale: true });
        const s = createSandbox(configFor(unicode), { console: logged.console });
        try {
            const rows = await query(unicode.db.url, "SELECT lower('Ä') AS l");
            expect(rows[0]).toEqual({ l: "ä" });
            await checkPairs(s, unicode, "unicode");
        } finally {
            await s.close();
            await unicode.teardown();
        }
    });
});

describe("missing, null and non-string arguments", () => {
    const ODD: [string, unknown][] = [
        ["undefined", undefined],
        ["null", null],
        ["a number", 42],
        ["NaN", NaN],
        ["true", true],
        ["an object", { email: "odd@odd.test" }],
        ["an array", ["odd@odd.test"]],
        ["an object whose toString is an email", { toString: () => "odd@odd.test" }],
        ["an empty string", ""],
        ["white space", " \t\n"],
    ];
    let user: { email: string; password: string; id: string };

    beforeAll(async () => {
        user = { email: "odd@odd.test", password: "pw-odd", id: "" };
        expect((await run("create", user)).err).toBeNull();
        user.id = (await rowOf(stack, user.email))!.id;
    });

    it.each(ODD)(
        "an email that is %s: login says wrong credentials; get_user, verify and change_password name the problem; nothing changes",
        async (_label, value) => {
            const before = await usersTable(stack);
            expectWrongCredentials((await run("login", value, user.password)).err);
            for (const name of ["get_user", "verify", "change_password"] as const) {
                const { err, result } = name === "change_password" ? await run(name, value, "pw-new-odd") : await run(name, value);
                expect(result).toBeUndefined();
                expect(isError(err)).toBe(true);
                expect((err as Error).message).toBe(`${name}: the email is missing or not a string`);
            }
            expect(await usersTable(stack)).toEqual(before);
        },
    );

    it.each(ODD.filter(([, v]) => typeof v !== "string"))(
        "a password that is %s: wrong credentials at login, invalid_password for create and change_password",
        async (_label, value) => {
            const before = await usersTable(stack);
            expectWrongCredentials((await run("login", user.email, value)).err);
            expectValidation((await run("create", { email: "odd.new@odd.test", password: value })).err, "invalid_password");
            expectValidation((await run("change_password", user.email, value)).err, "invalid_password");
            expect(await usersTable(stack)).toEqual(before);
        },
    );

    it.each(ODD)("a create user that is %s, or whose email is: invalid_email; nothing is written", async (label, value) => {
        const before = await usersTable(stack);
        // ({ email } is a user without a password: see the password case.)
        if (label !== "an object") expectValidation((await run("create", value)).err, "invalid_email");
        expectValidation((await run("create", { email: value, password: "pw-odd-new" })).err, "invalid_email");
        expect(await usersTable(stack)).toEqual(before);
    });

    it.each([
        ["an array", []],
        ["a string", "{}"],
        ["a number", 7],
        ["true", true],
    ])("app_metadata or user_metadata that is %s: invalid_<field>; nothing is written", async (_label, value) => {
        const before = await usersTable(stack);
        expectValidation((await run("create", { email: "odd.meta@odd.test", password: "pw", app_metadata: value })).err, "invalid_app_metadata");
        expectValidation((await run("create", { email: "odd.meta@odd.test", password: "pw", user_metadata: value })).err, "invalid_user_metadata");
        expect(await usersTable(stack)).toEqual(before);
    });

    it("odd optional fields of create are ignored, not coerced: a non-string nickname, a non-boolean email_verified", async () => {
        const email = "odd.fields@odd.test";
        const created = await run("create", {
            email,
            password: "pw-fields",
            nickname: { toString: () => "evil" },
            username: 42,
            email_verified: "true",
            app_metadata: null,
        });
        expect(created.err).toBeNull();
        const row = (await rowOf(stack, email))!;
        expect(row).toMatchObject({ email, nickname: null, email_verified: false, app_metadata: {}, user_metadata: {} });
        expect(await hashMatches(row, "pw-fields")).toBe(true);
    });

    it.each(ODD.filter(([, v]) => typeof v !== "string"))("a delete id that is %s: a clear error, nothing deleted", async (_label, value) => {
        const before = await usersTable(stack);
        const { err } = await run("delete", value);
        expect(isError(err)).toBe(true);
        expect((err as Error).message).toBe("delete: the user id is missing or not a string");
        expect(await usersTable(stack)).toEqual(before);
    });

    it("a delete id that is not a uuid (SQL, wildcards, 10 kB) deletes nothing; the real id in another case deletes exactly that user", async () => {
        const before = await usersTable(stack);
        for (const id of ["' OR '1'='1", "%", "auth0|%", `${user.id}' OR 'x'='x`, "x".repeat(10 * 1024), `${user.id} `.repeat(2)]) {
            expect((await run("delete", id)).err, id.slice(0, 40)).toBeNull();
        }
        expect(await usersTable(stack)).toEqual(before);
        expect((await run("delete", `auth0|${user.id.toUpperCase()}`)).err).toBeNull();
        expect(await usersTable(stack)).toEqual(before.filter((r) => r.id !== user.id));
    });
});
