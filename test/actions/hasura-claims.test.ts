import { describe, expect, it } from "vitest";
import { actionSpec, HASURA_CLAIMS_NAMESPACE } from "../../infra/auth0/actions";
import { EventOverrides, loadAction, postLoginEvent } from "../support/action-runner";

const action = loadAction(actionSpec("hasura-claims"));

/** Checks the claims are on both tokens, identical, and returns them. */
async function claimsFor(overrides: EventOverrides) {
    const event = postLoginEvent(overrides);
    const result = await action.invoke(event);
    expect(result.error).toBeUndefined();
    expect(result.denied).toBeUndefined();
    expect(Object.keys(result.accessTokenClaims)).toEqual([HASURA_CLAIMS_NAMESPACE]);
    expect(result.idTokenClaims).toEqual(result.accessTokenClaims);
    const claims = result.accessTokenClaims[HASURA_CLAIMS_NAMESPACE] as Record<string, unknown>;
    // Hasura's types: strings, and an array of strings.
    expect(typeof claims["x-hasura-default-role"]).toBe("string");
    expect(typeof claims["x-hasura-user-id"]).toBe("string");
    expect(Array.isArray(claims["x-hasura-allowed-roles"])).toBe(true);
    for (const role of claims["x-hasura-allowed-roles"] as unknown[]) expect(typeof role).toBe("string");
    return { event, claims, result };
}

describe("hasura-claims", () => {
    it("uses Hasura's default claims namespace", () => {
        expect(HASURA_CLAIMS_NAMESPACE).toBe("https://hasura.io/jwt/claims");
        expect(action.spec.code).toContain(`"${HASURA_CLAIMS_NAMESPACE}"`);
    });

    it("merges the allowed RBAC roles and app_metadata.roles after the default role, de-duplicated", async () => {
        const { event, claims } = await claimsFor({
            secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor,billing" },
            authorization: { roles: ["editor", "user", "editor"] },
            user: { app_metadata: { roles: ["billing", "user"] } },
        });
        expect(claims).toEqual({
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user", "editor", "billing"],
            "x-hasura-user-id": event.user.user_id,
        });
        expect(event.user.user_id).toMatch(/^auth0\|/);
    });

    it("leaves out every role ALLOWED_ROLES does not list, exactly (case counts), after trimming", async () => {
        const { claims, result } = await claimsFor({
            secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
            authorization: { roles: ["Editor", " editor ", "support", "editor\u200b"] },
            user: { app_metadata: { roles: ["billing", "EDITOR"] } },
        });
        expect(claims["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
        expect(result.logs).toEqual([]);
    });

    describe("Hasura's admin role (it bypasses every permission)", () => {
        const ADMIN_VARIANTS = ["admin", "Admin", "ADMIN", " admin ", "\tadmin\n"];

        it("never reaches the claims from RBAC or app_metadata.roles unless ALLOWED_ROLES lists it", async () => {
            const { claims, result } = await claimsFor({
                secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
                authorization: { roles: [...ADMIN_VARIANTS, "editor"] },
                user: { app_metadata: { roles: ADMIN_VARIANTS } },
            });
            expect(claims["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
            expect(JSON.stringify(result.accessTokenClaims).toLowerCase()).not.toContain("admin");
            expect(result.logs.map((l) => l.text)).toEqual([
                "hasura-claims: the user holds an admin role that ALLOWED_ROLES does not list; left out of the claims",
            ]);
        });

        it('is carried, as exactly "admin", only when ALLOWED_ROLES lists it and the user holds it', async () => {
            const listed = { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,admin" };
            const held = await claimsFor({ secrets: listed, authorization: { roles: [" admin ", "Admin"] }, user: { app_metadata: {} } });
            expect(held.claims["x-hasura-allowed-roles"]).toEqual(["user", "admin"]);
            const notHeld = await claimsFor({ secrets: listed, authorization: { roles: ["Admin", "ADMIN"] }, user: { app_metadata: {} } });
            expect(notHeld.claims["x-hasura-allowed-roles"]).toEqual(["user"]);
        });

        it.each(ADMIN_VARIANTS)("is refused as DEFAULT_ROLE (%j): the login is denied, naming the secret, and no claims are issued", async (role) => {
            const result = await action.invoke(
                postLoginEvent({ secrets: { DEFAULT_ROLE: role, ALLOWED_ROLES: "user,admin" }, authorization: { roles: ["admin"] } }),
            );
            expect(result.error).toBeUndefined();
            expect(result.calls.map((c) => c.method)).toEqual(["access.deny"]);
            expect(result.denied).toBe(
                "Login is misconfigured: the hasura-claims Action secret DEFAULT_ROLE is Hasura's admin role, which bypasses every permission.",
            );
            expect(result.accessTokenClaims).toEqual({});
        });
    });

    it("always includes the default role, even with no roles anywhere", async () => {
        const { claims } = await claimsFor({
            secrets: { DEFAULT_ROLE: "member", ALLOWED_ROLES: "editor" },
            authorization: { roles: [] },
            user: { app_metadata: {} },
        });
        expect(claims["x-hasura-default-role"]).toBe("member");
        expect(claims["x-hasura-allowed-roles"]).toEqual(["member"]);
    });

    it.each([
        ["a string", "admin"],
        ["an array with a non-string", ["admin", 7]],
        ["an object", { admin: true }],
    ])("ignores app_metadata.roles when it is %s", async (_label, roles) => {
        const { claims, result } = await claimsFor({
            secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor,admin" },
            authorization: { roles: ["editor"] },
            user: { app_metadata: { roles } },
        });
        expect(claims["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
        expect(result.logs.map((l) => l.text)).toEqual(["hasura-claims: app_metadata.roles is not an array of strings; ignored"]);
    });

    it("drops blank role names", async () => {
        const { claims } = await claimsFor({
            secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "editor" },
            authorization: { roles: ["", "  ", "editor"] },
            user: { app_metadata: { roles: [""] } },
        });
        expect(claims["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
    });

    it.each([
        ["DEFAULT_ROLE", "missing", { DEFAULT_ROLE: undefined, ALLOWED_ROLES: "user" }, "is not set"],
        ["DEFAULT_ROLE", "blank", { DEFAULT_ROLE: "  ", ALLOWED_ROLES: "user" }, "is not set"],
        ["DEFAULT_ROLE", "malformed", { DEFAULT_ROLE: "user role;drop", ALLOWED_ROLES: "user" }, "is not a role name"],
        ["ALLOWED_ROLES", "missing", { DEFAULT_ROLE: "user", ALLOWED_ROLES: undefined }, "is not set"],
        ["ALLOWED_ROLES", "blank", { DEFAULT_ROLE: "user", ALLOWED_ROLES: " " }, "is not set"],
        ["ALLOWED_ROLES", "malformed", { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,,editor;drop" }, "is not a comma-separated list of role names"],
    ])("denies the login, naming the secret, when %s is %s, and issues no claims", async (secret, _label, secrets, problem) => {
        const result = await action.invoke(postLoginEvent({ secrets, authorization: { roles: ["editor"] } }));
        expect(result.error).toBeUndefined();
        expect(result.calls.map((c) => c.method)).toEqual(["access.deny"]);
        expect(result.denied).toContain(secret);
        expect(result.denied).toContain(problem);
        const value = secrets[secret as keyof typeof secrets];
        if (value?.trim()) expect(result.denied).not.toContain(value);
        expect(result.logs).toHaveLength(1);
        expect(result.logs[0]).toMatchObject({ level: "error" });
        expect(result.logs[0]!.text).toContain(secret);
    });
});
