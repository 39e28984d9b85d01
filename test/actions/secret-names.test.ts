/**
 * The Actions' secret names come from one catalogue (ACTION_SECRET_NAMES), which types
 * PostLoginActions' `secrets`: a misspelt name is a `tsc` error (the @ts-expect-error below fails
 * `npm run typecheck` when it no longer is one), and still a runtime error for plain JavaScript.
 */
import { describe, expect, it } from "vitest";
import { ACTION_SECRET_NAMES, ACTIONS, actionSecrets } from "../../infra/auth0/actions";
import type { PostLoginActionsArgs } from "../../infra/auth0/post-login";

describe("the Actions' secret names", () => {
    it("each Action reads the catalogue's names", () => {
        for (const action of ACTIONS) expect(action.secretNames, action.key).toEqual([...ACTION_SECRET_NAMES[action.key]]);
    });

    it("type PostLoginActions' secrets: known names pass, a misspelt one fails tsc and the runtime check", () => {
        const names = (secrets: PostLoginActionsArgs["secrets"]) => Object.keys(secrets);
        expect(names({ DB_SCHEMA: "app", SUPABASE_ROLE: undefined })).toEqual(["DB_SCHEMA", "SUPABASE_ROLE"]);
        // @ts-expect-error DB_SHEMA is no Action's secret
        const misspelt: PostLoginActionsArgs["secrets"] = { DB_SHEMA: "app" };
        expect(() => actionSecrets("user-sync", misspelt)).toThrow(/Action "user-sync" does not read secret\(s\) DB_SHEMA/);
    });
});
