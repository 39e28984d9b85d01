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

    it("merges RBAC roles and app_metadata.roles after the default role, de-duplicated", async () => {
        const { event, claims } = await claimsFor({
            secrets: { DEFAULT_ROLE: "user" },
            authorization: { roles: ["editor", "user", "admin", "editor"] },
            user: { app_metadata: { roles: ["admin", "billing", "user"] } },
        });
        expect(claims).toEqual({
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user", "editor", "admin", "billing"],
            "x-hasura-user-id": event.user.user_id,
        });
        expect(event.user.user_id).toMatch(/^auth0\|/);
    });

    it("always includes the default role, even with no roles anywhere", async () => {
        const { claims } = await claimsFor({ secrets: { DEFAULT_ROLE: "member" }, authorization: { roles: [] }, user: { app_metadata: {} } });
        expect(claims["x-hasura-default-role"]).toBe("member");
        expect(claims["x-hasura-allowed-roles"]).toEqual(["member"]);
    });

    it.each([
        ["a string", "admin"],
        ["an array with a non-string", ["admin", 7]],
        ["an object", { admin: true }],
    ])("ignores app_metadata.roles when it is %s", async (_label, roles) => {
        const { claims, result } = await claimsFor({
            secrets: { DEFAULT_ROLE: "user" },
            authorization: { roles: ["editor"] },
            user: { app_metadata: { roles } },
        });
        expect(claims["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
        expect(result.logs.map((l) => l.text)).toEqual(["hasura-claims: app_metadata.roles is not an array of strings; ignored"]);
    });

    it("drops blank role names", async () => {
        const { claims } = await claimsFor({ secrets: { DEFAULT_ROLE: "user" }, authorization: { roles: ["", "  ", "editor"] }, user: { app_metadata: { roles: [""] } } });
        expect(claims["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
    });

    it.each([
        ["missing", undefined, "is not set"],
        ["blank", "  ", "is not set"],
        ["malformed", "user role;drop", "is not a role name"],
    ])("denies the login, naming the secret, when DEFAULT_ROLE is %s, and issues no claims", async (_label, value, problem) => {
        const result = await action.invoke(postLoginEvent({ secrets: { DEFAULT_ROLE: value }, authorization: { roles: ["editor"] } }));
        expect(result.error).toBeUndefined();
        expect(result.calls.map((c) => c.method)).toEqual(["access.deny"]);
        expect(result.denied).toContain("DEFAULT_ROLE");
        expect(result.denied).toContain(problem);
        if (value?.trim()) expect(result.denied).not.toContain(value);
        expect(result.logs).toHaveLength(1);
        expect(result.logs[0]).toMatchObject({ level: "error" });
        expect(result.logs[0]!.text).toContain("DEFAULT_ROLE");
    });
});
