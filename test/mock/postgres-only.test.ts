/**
 * The local stack with `postgresOnly`: the Postgres side alone, for a newcomer without an Auth0
 * tenant. Nothing of Auth0 is registered (not even its provider, which would need credentials), the
 * Postgres side is the same as in the full local stack, and only the outputs that exist are exported.
 */
import { describe, expect, it, vi } from "vitest";
import { buildMockedStack, buildMockedStackOf, installMocks, loadStackConfig, POSTGRES_ONLY, settle } from "../support/pulumi-mocks";

const PROJECT = "auth0-postgres";
const describeResource = (r: { type: string; name: string }) => `${r.type} ${r.name}`;

describe("the local stack with postgresOnly", () => {
    it("registers no Auth0 resource or provider, and the same Postgres side as the full local stack", async () => {
        const alone = await buildMockedStackOf(PROJECT, "local", POSTGRES_ONLY);
        expect(alone.run.resources.filter((r) => r.type.startsWith("auth0:") || r.type === "pulumi:providers:auth0").map(describeResource)).toEqual([]);
        expect(alone.run.resources.filter((r) => r.type.startsWith("auth0-postgres:auth0:")).map(describeResource)).toEqual([]);

        const full = await buildMockedStack(PROJECT, "local");
        const postgresSide = (rs: { type: string; name: string }[]) =>
            rs
                .filter(
                    (r) =>
                        r.type.startsWith("postgresql:") ||
                        r.type === "pulumi:providers:postgresql" ||
                        (r.type.startsWith("pulumi-nodejs:dynamic/") && r.type !== CLIENT_CONNECTIONS) ||
                        r.type.startsWith("random:"),
                )
                .map(describeResource)
                .sort();
        // The one dynamic resource of the Auth0 side (it calls the Management API).
        expect(alone.run.ofType(CLIENT_CONNECTIONS)).toEqual([]);
        expect(full.run.ofType(CLIENT_CONNECTIONS)).toHaveLength(1);
        expect(postgresSide(alone.run.resources).length).toBeGreaterThan(10);
        expect(postgresSide(alone.run.resources)).toEqual(postgresSide(full.run.resources));
    });

    it("exports only the Postgres side's outputs", async () => {
        const run = await installMocks(PROJECT, "local");
        loadStackConfig(PROJECT, "local", POSTGRES_ONLY);
        vi.resetModules();
        const program = (await import("../../infra/index.js")) as Record<string, unknown>;
        await settle(run);
        expect(exportedKeys(program)).toEqual(["appliedMigrations", "postgresRoles"]);
    });
});

const CLIENT_CONNECTIONS = "pulumi-nodejs:dynamic/auth0-postgres:ClientConnections";

describe("the program's exports", () => {
    it.each([
        ["local", ["apiAudience", "appliedMigrations", "connectionId", "hasuraJwtConfig", "postgresRoles", "spaClientId"]],
        [
            "dev",
            [
                "apiAudience",
                "appliedMigrations",
                "connectionId",
                "hasuraJwtConfig",
                "managementTokenExpiresAt",
                "managementTokenVaultSecretId",
                "postgresRoles",
                "spaClientId",
                "supabaseClient",
            ],
        ],
    ])("of %s are exactly what exists, none undefined", async (stack, expected) => {
        const run = await installMocks(PROJECT, stack);
        loadStackConfig(PROJECT, stack);
        vi.resetModules();
        const program = (await import("../../infra/index.js")) as Record<string, unknown>;
        await settle(run);
        expect(exportedKeys(program)).toEqual(expected);
        for (const key of expected) expect(program[key], key).toBeDefined();
    });
});

/** The stack outputs the engine sees: the module's own keys (vitest adds `default` for `export =`). */
function exportedKeys(program: Record<string, unknown>): string[] {
    return Object.keys(program)
        .filter((k) => k !== "default" && k !== "__esModule")
        .sort();
}
