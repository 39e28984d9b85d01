import { describe, expect, it } from "vitest";
import { pinnedSettingProblems, settingsGuardProvider, SettingsGuardInputs } from "../../infra/dynamic/settings-guard";
import { parseStackConfig } from "../../infra/config";
import { pinnedSettings } from "../../infra/stack";

const PROJECT = "auth0-postgres";

function inputs(overrides: { schema?: string; rolePrefix?: string; connectionName?: string; allowDataLoss?: boolean } = {}): SettingsGuardInputs {
    const config = parseStackConfig({
        project: PROJECT,
        stack: "dev",
        values: {
            environment: "dev",
            auth0: { domain: "acme-dev.eu.auth0.com", clientId: "DevDeployClientId000000000000000" },
            spa: { callbacks: ["https://dev.app.acme.test/callback"] },
            api: { identifier: "https://api.dev.acme.test" },
            postgres: { host: "db.acme.test", schema: overrides.schema ?? "auth0_app", rolePrefix: overrides.rolePrefix ?? "auth0" },
            customDb: { connectionName: overrides.connectionName ?? "postgres-users" },
            allowDataLoss: overrides.allowDataLoss ?? false,
        },
        secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true } },
    });
    return { settings: pinnedSettings(config), allowDataLoss: config.allowDataLoss, allowDataLossKey: `${PROJECT}:allowDataLoss` };
}

describe("settings that cannot change in place", () => {
    it.each([
        ["postgres.schema", { schema: "users_v2" }, /the user store's schema/],
        ["postgres.rolePrefix", { rolePrefix: "acme" }, /every role of the stack/],
        ["customDb.connectionName", { connectionName: "users-v2" }, /Auth0 deletes it with its users' Auth0-side data/],
    ])("a changed %s fails check, naming the key, the consequence and the way out", async (key, change, consequence) => {
        const res = await settingsGuardProvider.check!(inputs(), inputs(change));
        expect(res.failures).toHaveLength(1);
        const failure = res.failures![0]!;
        expect(failure.property).toBe("");
        expect(failure.reason.startsWith(`${PROJECT}:${key} cannot change from `)).toBe(true);
        expect(failure.reason).toMatch(consequence);
        expect(failure.reason).toContain(`set ${PROJECT}:allowDataLoss: true`);
    });

    it("passes an unchanged stack, a first deploy, and a change the stack opted in to", async () => {
        expect(pinnedSettingProblems(inputs(), inputs())).toEqual([]);
        expect(pinnedSettingProblems(undefined, inputs({ schema: "other" }))).toEqual([]);
        expect(pinnedSettingProblems(inputs(), inputs({ schema: "other", allowDataLoss: true }))).toEqual([]);
        // An opted-in change is an update of the guard (never a replace), so the new value is remembered.
        expect(await settingsGuardProvider.diff!("settings", inputs(), inputs({ schema: "other", allowDataLoss: true }))).toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });
});
