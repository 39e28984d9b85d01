/**
 * The three Actions bound in ACTIONS order, run as one post-login flow against the real
 * database: the defaults are filled first, so the claims and the sync see them.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ACTIONS, HASURA_CLAIMS_NAMESPACE } from "../../infra/auth0/actions";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { BoundAction, loadAction, PostLoginEvent, postLoginEvent, runPostLoginFlow, trackPgPools } from "../support/action-runner";

let stack: StackDatabase;
const pools = trackPgPools();
const loaded = ACTIONS.map((spec) => loadAction(spec, { timeLimitMs: 10_000, interceptModule: pools.interceptModule }));

function bound(overrides: Partial<Record<string, Record<string, string | undefined>>> = {}): BoundAction[] {
    const secrets: Record<string, Record<string, string | undefined>> = {
        "profile-defaults": {},
        "hasura-claims": { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
        "user-sync": { SYNC_MODE: "postgres", SYNC_BLOCKS_LOGIN: "true", DB_SCHEMA: stack.schema, DB_URL: stack.urlFor("sync"), DB_SSL: "disable" },
    };
    return loaded.map((action) => ({ action, secrets: { ...secrets[action.spec.key], ...overrides[action.spec.key] } }));
}

async function userName(userId: string): Promise<unknown> {
    const rows = await query(stack.db.url, `SELECT user_name FROM ${stack.schema}.profiles WHERE user_id = $1`, [userId]);
    return rows.length === 0 ? undefined : rows[0]!.user_name;
}

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "action_flow");
});

afterAll(async () => {
    await pools.endAll();
    await stack?.teardown();
});

describe("post-login flow", () => {
    it("binds profile-defaults, then hasura-claims, then user-sync", () => {
        expect(ACTIONS.map((a) => a.key)).toEqual(["profile-defaults", "hasura-claims", "user-sync"]);
    });

    it("the sync stores the displayName the defaults filled in on the same login, and the next login keeps it", async () => {
        const event = postLoginEvent({
            user: { email: "grace@example.com", name: "grace@example.com", nickname: "grace", user_metadata: {} },
            authorization: { roles: ["editor"] },
        });
        const first = await runFlow(event);
        expect(first.denied).toBeUndefined();
        expect(first.steps.map((s) => s.key)).toEqual(["profile-defaults", "hasura-claims", "user-sync"]);
        for (const step of first.steps) {
            expect(step.invocation.error).toBeUndefined();
            expect(step.invocation.logs).toEqual([]);
        }
        expect(first.user.user_metadata).toEqual({ displayName: "grace" });
        expect(await userName(event.user.user_id)).toBe("grace");
        expect(first.accessTokenClaims[HASURA_CLAIMS_NAMESPACE]).toEqual({
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user", "editor"],
            "x-hasura-user-id": event.user.user_id,
        });

        // Next login: Auth0 persisted the metadata; the user renamed themselves meanwhile.
        const again = await runFlow({ ...event, user: { ...first.user, user_metadata: { displayName: "Grace H." } } });
        expect(again.steps[0]!.invocation.calls).toEqual([]);
        expect(await userName(event.user.user_id)).toBe("Grace H.");
    });

    it("a missing DEFAULT_ROLE denies the login at hasura-claims, and the sync never runs", async () => {
        const event = postLoginEvent({ user: { user_metadata: {} } });
        const result = await runFlow(event, { "hasura-claims": { DEFAULT_ROLE: undefined } });
        expect(result.steps.map((s) => s.key)).toEqual(["profile-defaults", "hasura-claims"]);
        expect(result.denied).toContain("DEFAULT_ROLE");
        expect(result.accessTokenClaims).toEqual({});
        expect(await userName(event.user.user_id)).toBeUndefined();
    });
});

function runFlow(event: PostLoginEvent, overrides: Parameters<typeof bound>[0] = {}) {
    return runPostLoginFlow(bound(overrides), event);
}
