/**
 * The Postgres under the tests, whichever it is (embedded, or the user's own via DATABASE_URL):
 * what a server lacks makes the tests that need it skip with a reason naming it, a server the
 * tests cannot use at all stops the run with one, and the test databases get the locale the tests
 * assume whatever the server's default.
 */
import { describe, expect, inject, it } from "vitest";
import { FEATURES, missingFeature, prepareServer, ServerCapabilities, unsupportedServer } from "../support/capabilities";
import { createTestDatabase, query } from "../support/db";

const PG17: ServerCapabilities = { versionNum: 170006, version: "17.6", checksPasswords: true, offersTls: false };
const PG15_TRUSTING: ServerCapabilities = { versionNum: 150020, version: "15.20 (Debian 15.20-0+deb12u1)", checksPasswords: false, offersTls: true };

describe("missingFeature", () => {
    it("finds nothing missing on a server like the embedded one", () => {
        expect(FEATURES.map((f) => missingFeature(PG17, f))).toEqual([undefined, undefined, undefined]);
    });

    it("names the feature and the server version for each one a server lacks", () => {
        expect(missingFeature(PG15_TRUSTING, "builtin-locale")).toBe(
            "needs the builtin locale provider (C.UTF-8) of PostgreSQL 17; the server at DATABASE_URL is PostgreSQL 15.20",
        );
        expect(missingFeature(PG15_TRUSTING, "password-check")).toMatch(
            /^needs a server that refuses a wrong password; the server at DATABASE_URL \(PostgreSQL 15\.20\) let a role in .*"trust" line in pg_hba\.conf/,
        );
        expect(missingFeature(PG15_TRUSTING, "no-tls")).toMatch(/^needs a server without TLS, .*\(PostgreSQL 15\.20\) has ssl = on$/);
        expect(missingFeature({ ...PG15_TRUSTING, versionNum: 170000 }, "builtin-locale")).toBeUndefined();
    });
});

describe("unsupportedServer", () => {
    it("accepts a superuser on PostgreSQL 15 or later", () => {
        expect(unsupportedServer({ versionNum: 150000, version: "15.0", superuser: true, user: "postgres" })).toBeUndefined();
        expect(unsupportedServer({ versionNum: 170006, version: "17.6", superuser: true, user: "postgres" })).toBeUndefined();
    });

    it("refuses an older server or a role that is not a superuser, saying what is needed", () => {
        expect(unsupportedServer({ versionNum: 140011, version: "14.11", superuser: true, user: "postgres" })).toMatch(
            /PostgreSQL 14\.11; the tests need PostgreSQL 15 or later/,
        );
        expect(unsupportedServer({ versionNum: 170006, version: "17.6", superuser: false, user: "app" })).toMatch(/logs in as "app", which is not a superuser/);
    });
});

describe("this run's server", () => {
    it("is probed the same way again, and the probe leaves no role behind", async () => {
        const url = inject("databaseUrl");
        const prepared = await prepareServer(url);
        await prepared.release();
        expect(prepared.capabilities).toEqual(inject("serverCapabilities"));
        // The URL the tests got carries a password (see prepareServer), so it is handed back as it is.
        expect(new URL(url).password).not.toBe("");
        expect(prepared.url).toBe(url);
        expect(prepared.role).toMatch(/^auth0pg_[0-9a-f]{8}$/);
        expect(await query(url, "SELECT rolname FROM pg_roles WHERE rolname = $1", [prepared.role])).toEqual([]);
    });

    it("gives a test database the C locale of libc, whatever the server's default", async () => {
        const db = await createTestDatabase(inject("databaseUrl"), "locale_c");
        try {
            const rows = await query(
                db.url,
                "SELECT lower('Ä') AS l, datctype AS ctype, datcollate AS collate, datlocprovider AS provider FROM pg_database WHERE datname = current_database()",
            );
            expect(rows).toEqual([{ l: "Ä", ctype: "C", collate: "C", provider: "c" }]);
        } finally {
            await db.drop();
        }
    });

    it("gives one the builtin C.UTF-8 on PostgreSQL 17, and says why not on an older server", async () => {
        const caps = inject("serverCapabilities");
        const created = createTestDatabase(inject("databaseUrl"), "locale_builtin", { unicodeLocale: true });
        if (missingFeature(caps, "builtin-locale") !== undefined) {
            await expect(created).rejects.toThrow(/^the builtin locale provider \(C\.UTF-8\) needs PostgreSQL 17; this server is PostgreSQL 1[0-6]/);
            return;
        }
        const db = await created;
        try {
            expect(await query(db.url, "SELECT lower('Ä') AS l, datlocprovider AS provider FROM pg_database WHERE datname = current_database()")).toEqual([
                { l: "ä", provider: "b" },
            ]);
        } finally {
            await db.drop();
        }
    });
});
