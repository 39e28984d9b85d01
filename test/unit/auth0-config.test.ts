/**
 * Issue #11 point 9 (connection names, role names, one stack per tenant) and issue #9 point 10
 * (role keys): the configuration rules, each as a pair (accepted / refused).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, ConfigInput, parseStackConfig } from "../../infra/config";
import { otherStacksOnTenant, readSiblingStackTenants, stackFileTenant } from "../../infra/config/tenants";

const PROJECT = "auth0-postgres";

function values(extra: Record<string, unknown> = {}, roles: unknown[] = [{ name: "user", permissions: ["read:profiles"] }]): Record<string, unknown> {
    return {
        environment: "dev",
        auth0: { domain: "acme-dev.eu.auth0.com", clientId: "DevDeployClientId000000000000000" },
        spa: { callbacks: ["https://dev.app.acme.test/callback"] },
        api: { identifier: "https://api.dev.acme.test", permissions: [{ value: "read:profiles", description: "Read" }], roles },
        postgres: { host: "db.ref.supabase.co" },
        ...extra,
    };
}

function input(v: Record<string, unknown>, overrides: Partial<ConfigInput> = {}): ConfigInput {
    return {
        project: PROJECT,
        stack: "dev",
        values: v,
        secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true } },
        ...overrides,
    };
}

function problemsOf(i: ConfigInput): string[] {
    try {
        parseStackConfig(i);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected the configuration to be rejected");
}

describe("customDb.connectionName follows Auth0's pattern", () => {
    it("accepts letters and digits with single dashes, up to 128", () => {
        for (const name of ["postgres-users", "A1", "x", `a${"-b".repeat(63)}`]) {
            expect(parseStackConfig(input(values({ customDb: { connectionName: name } }))).customDb.connectionName).toBe(name);
        }
    });

    it("refuses a double dash (which Auth0 rejects), edge dashes, other characters, and more than 128", () => {
        for (const name of ["postgres--users", "-users", "users-", "pg_users", "pg users", "a".repeat(129)]) {
            expect(problemsOf(input(values({ customDb: { connectionName: name } })))[0], name).toMatch(/^auth0-postgres:customDb\.connectionName: /);
        }
    });
});

describe("roles: names unique ignoring case, resources keyed by a stable key", () => {
    it("derives each role's key from its name unless given, and keeps keys through a rename", () => {
        const config = parseStackConfig(input(values({}, [{ name: "Profile Editors" }, { name: "Readers (beta)", key: "readers" }])));
        if (config.postgresOnly) throw new Error("unexpected");
        expect(config.api.roles.map((r) => [r.name, r.key])).toEqual([
            ["Profile Editors", "profile-editors"],
            ["Readers (beta)", "readers"],
        ]);
    });

    it("refuses names that differ only in case (User, user): a duplicate URN before, a clear error now", () => {
        expect(problemsOf(input(values({}, [{ name: "User" }, { name: "user" }])))).toEqual([
            'auth0-postgres:api.roles[1].name: duplicate role "user" (same as "User" ignoring case)',
            'auth0-postgres:api.roles[1].name: role key "user" is also the key of auth0-postgres:api.roles[0]; give one of them another `key`',
        ]);
    });

    it("refuses two roles whose keys collide (a b / a-b), and a key that is not a slug", () => {
        expect(problemsOf(input(values({}, [{ name: "a b" }, { name: "a-b" }])))).toEqual([
            'auth0-postgres:api.roles[1].name: role key "a-b" is also the key of auth0-postgres:api.roles[0]; give one of them another `key`',
        ]);
        expect(problemsOf(input(values({}, [{ name: "x", key: "X--y" }])))[0]).toMatch(/^auth0-postgres:api\.roles\[0\]\.key: must be lower-case/);
        expect(problemsOf(input(values({}, [{ name: "***" }])))[0]).toMatch(/^auth0-postgres:api\.roles\[0\]\.key: required/);
    });
});

describe("one stack per tenant", () => {
    const others = [
        { stack: "staging", file: "stacks/Pulumi.staging.yaml", domain: "acme-staging.eu.auth0.com" },
        { stack: "qa", file: "stacks/Pulumi.qa.yaml", domain: "acme-dev.eu.auth0.com" },
    ];

    it("refuses a tenant another stack file names, naming that stack", () => {
        expect(problemsOf(input(values(), { otherStacks: others }))).toEqual([
            'auth0-postgres:auth0.domain: acme-dev.eu.auth0.com is also the tenant of stack "qa" (stacks/Pulumi.qa.yaml); two stacks on one tenant overwrite each other\'s post-login bindings, connection and roles. Give each stack its own tenant',
        ]);
    });

    it("accepts distinct tenants, and compares domains ignoring case", () => {
        expect(() => parseStackConfig(input(values(), { otherStacks: [others[0]!] }))).not.toThrow();
        expect(otherStacksOnTenant("dev", "ACME-dev.eu.auth0.com", others).map((o) => o.stack)).toEqual(["qa"]);
    });

    it("reads the tenant of a stack file in block or flow style; none for postgresOnly", () => {
        expect(stackFileTenant(PROJECT, "config:\n  auth0-postgres:auth0:\n    domain: Acme.EU.auth0.com   # replace\n    clientId: x\n")).toBe(
            "acme.eu.auth0.com",
        );
        expect(stackFileTenant(PROJECT, 'config:\n  auth0-postgres:auth0: {clientId: x, domain: "t.us.auth0.com"}\n')).toBe("t.us.auth0.com");
        expect(stackFileTenant(PROJECT, "config:\n  auth0-postgres:postgresOnly: true\n  auth0-postgres:auth0:\n    domain: a.auth0.com\n")).toBeUndefined();
        expect(stackFileTenant(PROJECT, "config:\n  auth0-postgres:supabase: false\n")).toBeUndefined();
    });

    it("the committed stack files name four distinct tenants, and each passes the check against the others", () => {
        const dir = join(__dirname, "..", "..", "stacks");
        const tenants = ["local", "dev", "staging", "prod"].map((s) => stackFileTenant(PROJECT, readFileSync(join(dir, `Pulumi.${s}.yaml`), "utf8")));
        expect(new Set(tenants).size).toBe(4);
        for (const s of ["local", "dev", "staging", "prod"]) {
            const mine = readSiblingStackTenants(PROJECT, s, dir);
            expect(mine.map((o) => o.stack)).not.toContain(s);
            expect(otherStacksOnTenant(s, tenants[["local", "dev", "staging", "prod"].indexOf(s)]!, mine)).toEqual([]);
        }
    });
});

describe("point 2: the connection's options, with safe defaults", () => {
    it("defaults: 12 characters, history of 5, dictionary, no personal info, MFA, brute-force protection", () => {
        expect(parseStackConfig(input(values())).customDb).toMatchObject({
            passwordMinLength: 12,
            passwordHistory: { enable: true, size: 5 },
            passwordDictionary: { enable: true, entries: [] },
            passwordNoPersonalInfo: true,
            mfa: { active: true, returnEnrollSettings: true },
            bruteForceProtection: true,
            disableSelfServiceChangePassword: false,
        });
    });

    it("refuses out-of-range values and unknown option keys, naming each", () => {
        expect(problemsOf(input(values({ customDb: { passwordMinLength: 0, passwordHistory: { size: 25 }, mfa: { enabled: true } } })))).toEqual([
            "auth0-postgres:customDb.passwordMinLength: Too small: expected number to be >=1",
            "auth0-postgres:customDb.passwordHistory.size: Too big: expected number to be <=24",
            "auth0-postgres:customDb.mfa.enabled: unknown key",
        ]);
    });
});

describe("point 5: postLogin.keepBindings", () => {
    it("defaults to none, and takes names before and after", () => {
        expect(parseStackConfig(input(values())).postLogin.keepBindings).toEqual({ before: [], after: [] });
        expect(parseStackConfig(input(values({ postLogin: { keepBindings: { after: ["Require MFA"] } } }))).postLogin.keepBindings).toEqual({
            before: [],
            after: ["Require MFA"],
        });
    });

    it("refuses an Action listed twice, and one named like the stack's own", () => {
        expect(problemsOf(input(values({ postLogin: { keepBindings: { before: ["MFA"], after: ["MFA", "auth0-postgres-dev-user-sync"] } } })))).toEqual([
            'auth0-postgres:postLogin.keepBindings.after[0]: "MFA" is already listed at auth0-postgres:postLogin.keepBindings.before[0]; an Action is bound once',
            'auth0-postgres:postLogin.keepBindings.after[1]: "auth0-postgres-dev-user-sync" is named like this stack\'s own Actions (auth0-postgres-dev-*), which the stack binds itself',
        ]);
    });
});
