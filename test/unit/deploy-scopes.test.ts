/**
 * Issue #11 point 4: the deploy application's scopes, in one place (infra/auth0/deploy-scopes.ts),
 * with the README's list and the bootstrap script's kept equal to it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployClientScopes } from "../../infra/auth0/deploy-scopes";

const ROOT = join(__dirname, "..", "..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const bootstrap = readFileSync(join(ROOT, "scripts", "bootstrap-env.sh"), "utf8");

describe("the deploy application's Management API scopes", () => {
    it("include the connection options scopes and client credentials, besides what each resource type needs", () => {
        expect(deployClientScopes()).toEqual(
            expect.arrayContaining([
                "read:connections_options",
                "update:connections_options",
                "read:client_credentials",
                "read:client_keys",
                "update:actions",
                "update:tenant_settings",
            ]),
        );
    });

    it("the README lists exactly them, between its markers", () => {
        const block = /<!-- deploy-scopes:start -->([\s\S]*?)<!-- deploy-scopes:end -->/.exec(readme);
        expect(block).not.toBeNull();
        expect([...block![1]!.matchAll(/`([a-z_]+:[a-z_]+)`/g)].map((m) => m[1]).sort()).toEqual(deployClientScopes());
    });

    it("scripts/bootstrap-env.sh prints exactly them", () => {
        const block = /readonly -a DEPLOY_SCOPES=\(([\s\S]*?)\)/.exec(bootstrap);
        expect(block).not.toBeNull();
        expect(block![1]!.trim().split(/\s+/).sort()).toEqual(deployClientScopes());
    });
});
