/**
 * Issue #11 (the stack owns exactly what it declares in the Auth0 tenant) and the Auth0 half of
 * issue #9 point 10 (protection on prod), checked on the resource graph under Pulumi's mock runtime.
 */
import { describe, expect, it } from "vitest";
import { buildMockedStackOf, COMMITTED_STACKS, committedStacks, MockRun, PROJECT, RecordedResource } from "../support/pulumi-mocks";
import { STACK_ROOT_NAME } from "../../infra/stack";

const STACKS = COMMITTED_STACKS;
const built = committedStacks();

const T = {
    client: "auth0:index/client:Client",
    role: "auth0:index/role:Role",
    rolePermissions: "auth0:index/rolePermissions:RolePermissions",
    action: "auth0:index/action:Action",
    trigger: "auth0:index/triggerActions:TriggerActions",
    connection: "auth0:index/connection:Connection",
    connectionClients: "auth0:index/connectionClients:ConnectionClients",
};

const spaOf = (run: MockRun): RecordedResource => run.ofType(T.client).find((c) => c.inputs.appType === "spa")!;

/** Paths of every empty array in a value. */
function emptyArrays(value: unknown, path = ""): string[] {
    if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((v, i) => emptyArrays(v, `${path}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => emptyArrays(v, path ? `${path}.${k}` : k));
    return [];
}

describe("point 9: no empty array reaches the Auth0 provider", () => {
    it.each(STACKS)("%s: no Auth0 resource input is []", (stack) => {
        for (const r of built[stack].run.resources.filter((x) => x.type.startsWith("auth0:"))) {
            expect(emptyArrays(r.inputs), `${r.type} ${r.name}`).toEqual([]);
        }
    });

    it("a stack without web origins or logout URLs leaves them unset rather than []", async () => {
        const { run } = await buildMockedStackOf(PROJECT, "dev", { values: { spa: { callbacks: ["https://dev.app.acme.test/callback"] } } });
        const spa = spaOf(run);
        for (const field of ["webOrigins", "allowedOrigins", "allowedLogoutUrls"]) expect(spa.inputs[field], field).toBeUndefined();
    });
});

describe("issue #9 point 10: roles keyed by a stable key; the SPA and the roles protected on prod", () => {
    it("prod protects the SPA and every role; dev protects neither", () => {
        const prod = built.prod.run;
        expect(spaOf(prod).protect).toBe(true);
        expect(prod.ofType(T.role).length).toBeGreaterThan(0);
        for (const r of prod.ofType(T.role)) expect(r.protect, r.name).toBe(true);
        expect(spaOf(built.dev.run).protect).toBe(false);
        for (const r of built.dev.run.ofType(T.role)) expect(r.protect, r.name).toBe(false);
    });

    it("renaming a role keeps its resource name (an update in place, assignments kept); its key names it", async () => {
        const roles = (name: string, key?: string) => ({
            values: {
                api: {
                    identifier: "https://api.dev.acme.test",
                    permissions: [{ value: "read:profiles", description: "Read profiles" }],
                    roles: [{ name, ...(key ? { key } : {}), description: "Signed-in user", permissions: ["read:profiles"] }],
                },
            },
        });
        const before = (await buildMockedStackOf(PROJECT, "dev", roles("user"))).run.ofType(T.role);
        const after = (await buildMockedStackOf(PROJECT, "dev", roles("Member", "user"))).run.ofType(T.role);
        expect(after.map((r) => r.name)).toEqual(before.map((r) => r.name));
        expect(after.map((r) => r.name)).toEqual(["auth0-postgres-apps-role-user"]);
        expect(after[0]!.inputs.name).toBe("Member");
    });
});

/** The options the connection depends on: a connection update replaces the whole `options` object. */
const DECLARED_OPTIONS = [
    "authenticationMethods",
    "bruteForceProtection",
    "disableSelfServiceChangePassword",
    "disableSignup",
    "importMode",
    "mfa",
    "passwordComplexityOptions",
    "passwordDictionary",
    "passwordHistories",
    "passwordNoPersonalInfo",
    "passwordPolicy",
    "requiresUsername",
];

describe("point 2: the connection declares every option it depends on, from config", () => {
    it.each(STACKS)("%s: password complexity, history, dictionary, no personal info, MFA and authentication methods are all sent", (stack) => {
        const { run, config } = built[stack];
        const options = run.ofType(T.connection)[0]!.inputs.options as Record<string, unknown>;
        for (const key of DECLARED_OPTIONS) expect(options[key], `${stack} options.${key}`).toBeDefined();
        expect(options).toMatchObject({
            passwordPolicy: config.customDb.passwordPolicy,
            passwordComplexityOptions: { minLength: config.customDb.passwordMinLength },
            passwordHistories: [{ enable: true, size: 5 }],
            passwordDictionary: { enable: true },
            passwordNoPersonalInfo: { enable: true },
            mfa: { active: true, returnEnrollSettings: true },
            bruteForceProtection: true,
            authenticationMethods: [{ password: { enabled: true }, passkey: { enabled: false } }],
        });
    });

    it("each option follows the stack's config", async () => {
        const { run } = await buildMockedStackOf(PROJECT, "dev", {
            values: {
                customDb: {
                    passwordPolicy: "excellent",
                    passwordMinLength: 16,
                    passwordHistory: { size: 10 },
                    passwordDictionary: { entries: ["acme", "acme2030"] },
                    passwordNoPersonalInfo: false,
                    mfa: { active: false },
                },
            },
        });
        expect(run.ofType(T.connection)[0]!.inputs.options).toMatchObject({
            passwordPolicy: "excellent",
            passwordComplexityOptions: { minLength: 16 },
            passwordHistories: [{ enable: true, size: 10 }],
            passwordDictionary: { enable: true, dictionaries: ["acme", "acme2030"] },
            passwordNoPersonalInfo: { enable: false },
            mfa: { active: false, returnEnrollSettings: true },
        });
    });
});

describe("point 5: the post-login trigger keeps the bindings the config lists", () => {
    it("binds the kept Actions before and after the stack's own, in the plan, and protects the binding on prod", async () => {
        const { run } = await buildMockedStackOf(PROJECT, "dev", {
            values: { postLogin: { keepBindings: { before: ["Fraud check"], after: ["Require MFA", "Marketplace: Lists"] } } },
        });
        const binding = run.ofType(T.trigger)[0]!;
        const actions = binding.inputs.actions as { id: string; displayName: string }[];
        expect(actions.map((a) => a.displayName)).toEqual([
            "Fraud check",
            "Profile defaults",
            "Hasura claims",
            "User sync",
            "Require MFA",
            "Marketplace: Lists",
        ]);
        expect(actions[0]!.id).toBe("existing-action-Fraud check");
        expect(actions[1]!.id).toBe(`${STACK_ROOT_NAME}-post-login-profile-defaults-id`);
        expect(actions.at(-1)!.id).toBe("existing-action-Marketplace: Lists");
        expect(binding.protect).toBe(false);
        expect(built.prod.run.ofType(T.trigger)[0]!.protect).toBe(true);
    });
});

describe("point 1: the SPA logs in only through the connections the stack declares", () => {
    it.each(STACKS)("%s: the SPA is enabled on exactly the declared connection and taken off every other one, tenant flag off", (stack) => {
        const { run, config } = built[stack];
        const spa = spaOf(run);
        const guard = run.ofType("pulumi-nodejs:dynamic/auth0-postgres:ClientConnections");
        expect(guard).toHaveLength(1);
        expect(guard[0]!.inputs).toMatchObject({
            baseUrl: `https://${config.auth0.domain}/`,
            clientId: config.auth0.clientId,
            clientIds: [`${spa.name}-client-id`],
            allowedConnections: [config.customDb.connectionName],
            setTenantFlag: true,
        });
        expect(guard[0]!.additionalSecretOutputs).toContain("clientSecret");
        expect(JSON.stringify(guard[0]!.raw.clientSecret)).toContain("1b47061264138c4ac30d75fd1eb44270");
        // The only connection the stack enables the SPA on is the one it declares.
        const enabled = run.ofType(T.connectionClients).filter((c) => (c.inputs.enabledClients as string[]).includes(`${spa.name}-client-id`));
        expect(enabled).toHaveLength(1);
        expect(run.ofType(T.connection).map((c) => c.inputs.name)).toEqual(guard[0]!.inputs.allowedConnections);
    });

    it("auth0.enableClientConnections: true leaves the tenant flag alone (the SPA is still taken off the others)", async () => {
        const { run } = await buildMockedStackOf(PROJECT, "dev", {
            values: { auth0: { domain: "acme-dev.eu.auth0.com", clientId: "DevDeployClientId000000000000000", enableClientConnections: true } },
        });
        expect(run.ofType("pulumi-nodejs:dynamic/auth0-postgres:ClientConnections")[0]!.inputs.setTenantFlag).toBe(false);
    });
});
