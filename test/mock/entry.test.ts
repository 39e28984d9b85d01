/**
 * The entry point as `pulumi up` runs it: configuration is read and validated before anything is
 * registered, so a bad stack config registers nothing at all.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../infra/config";
import { installMocks, loadStackConfig, settle, valueOf } from "../support/pulumi-mocks";
import { expectAbsent } from "../support/leaks";

const PROJECT = "auth0-postgres";

describe("the Pulumi program", () => {
    it("registers nothing when the stack config is bad, and names every bad key", async () => {
        const run = await installMocks(PROJECT, "staging");
        loadStackConfig(PROJECT, "staging", {
            values: { postgres: { host: "db.example.com", schema: "x; DROP SCHEMA public" }, spa: { callbacks: ["http://staging.app.acme.test/cb"] } },
            secrets: { postgresPassword: "" },
        });
        vi.resetModules();
        const error = await import("../../infra/index.js").then(
            () => undefined,
            (e: unknown) => e,
        );
        await settle(run);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).name).toBe(ConfigError.name);
        expect((error as Error).message).toContain(`${PROJECT}:postgres.schema`);
        expect((error as Error).message).toContain(`${PROJECT}:postgresPassword: is empty`);
        expect(run.resources).toEqual([]);
    });

    it("rejects a secret stored in plain text without echoing it", async () => {
        const run = await installMocks(PROJECT, "dev");
        const all = loadStackConfig(PROJECT, "dev");
        // The same values, but no key marked secret: as if someone ran `pulumi config set postgresPassword ...`.
        pulumi.runtime.setAllConfig(all, []);
        vi.resetModules();
        const error = (await import("../../infra/index.js").then(
            () => undefined,
            (e: unknown) => e,
        )) as Error;
        await settle(run);
        expect(error.message).toContain(`${PROJECT}:postgresPassword: is stored in plain text`);
        expectAbsent(error.message, all[`${PROJECT}:postgresPassword`], "the postgres password");
        expect(run.resources).toEqual([]);
    });

    it("registers the stack and exports its outputs when the config is good", async () => {
        const run = await installMocks(PROJECT, "dev");
        loadStackConfig(PROJECT, "dev");
        vi.resetModules();
        const program = await import("../../infra/index.js");
        const config = JSON.parse(await valueOf(program.hasuraJwtConfig!));
        await settle(run);
        expect(config.audience).toBe("https://api.dev.acme.test");
        expect(await valueOf(program.appliedMigrations)).toEqual(["001_user_store", "002_profiles", "003_one_session_user"]);
        expect(program.managementTokenVaultSecretId).toBeDefined();
        expect(run.resources.length).toBeGreaterThan(40);
    });
});
