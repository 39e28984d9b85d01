/**
 * hasura-claims with Supabase third-party auth on (secret SUPABASE_ROLE = "authenticated"): both
 * tokens carry the top-level `role` claim Supabase reads, always exactly "authenticated", for new,
 * returning and role-carrying users; nothing a user can edit changes it; without the secret there
 * is no `role` claim; any other value is a deployment error that denies the login.
 */
import { describe, expect, it } from "vitest";
import { actionSpec, HASURA_CLAIMS_NAMESPACE } from "../../infra/auth0/actions";
import { EventOverrides, loadAction, postLoginEvent } from "../support/action-runner";

const action = loadAction(actionSpec("hasura-claims"));
const on = { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor", SUPABASE_ROLE: "authenticated" };

async function run(overrides: EventOverrides) {
    const result = await action.invoke(postLoginEvent(overrides));
    expect(result.error).toBeUndefined();
    return result;
}

describe("hasura-claims with Supabase third-party auth", () => {
    it.each([
        ["a new user (first login, no metadata)", { user: { app_metadata: {}, user_metadata: {} }, stats: { logins_count: 1 } }],
        ["a returning user", { stats: { logins_count: 42 } }],
        ["a user with RBAC and app_metadata roles", { authorization: { roles: ["editor"] }, user: { app_metadata: { roles: ["editor", "service_role"] } } }],
        [
            "a user whose metadata asks for another Postgres role",
            { user: { app_metadata: { role: "service_role", roles: ["supabase_admin"] }, user_metadata: { role: "service_role" } } },
        ],
    ])("%s: role is exactly authenticated on both tokens, next to the Hasura claims", async (_label, overrides) => {
        const result = await run({ ...(overrides as EventOverrides), secrets: on });
        expect(result.denied).toBeUndefined();
        expect(result.accessTokenClaims.role).toBe("authenticated");
        expect(result.idTokenClaims.role).toBe("authenticated");
        expect(Object.keys(result.accessTokenClaims).sort()).toEqual([HASURA_CLAIMS_NAMESPACE, "role"].sort());
    });

    it("without SUPABASE_ROLE there is no role claim", async () => {
        const result = await run({ secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user" } });
        expect(result.accessTokenClaims.role).toBeUndefined();
        expect(result.idTokenClaims.role).toBeUndefined();
    });

    it.each(["service_role", "anon", "postgres", "Authenticated"])(
        "SUPABASE_ROLE %s is a deployment error: the login is denied, naming the secret",
        async (value) => {
            const result = await run({ secrets: { ...on, SUPABASE_ROLE: value } });
            expect(result.denied).toBe('Login is misconfigured: the hasura-claims Action secret SUPABASE_ROLE is not "authenticated".');
            expect(result.accessTokenClaims).toEqual({});
        },
    );
});
