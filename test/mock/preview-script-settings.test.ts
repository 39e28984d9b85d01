/**
 * The custom-database scripts' settings are checked where the stack config is known, not inside the
 * `apply` on the scripts role's generated password: on a new stack's first preview that password is
 * unknown, so a check inside the `apply` never runs and a bad setting would pass the preview, then
 * fail `pulumi up` after the database side is created.
 *
 * Today the config schema refuses everything the scripts refuse (both take their limits from
 * infra/config/constants.ts), so the bad values here are put into an already validated config: as
 * they would reach the stack if the schema and the scripts' checks ever disagreed.
 */
import { describe, expect, it } from "vitest";
import { readStackConfig, StackConfig } from "../../infra/config";
import { buildStack } from "../../infra/stack";
import { installMocks, loadStackConfig, settle } from "../support/pulumi-mocks";

const PROJECT = "auth0-postgres";

/** Each bad setting, made on a validated config, and what the scripts' check says. */
const BAD: [string, (c: StackConfig) => void, RegExp][] = [
    ["a pool of 0", (c) => (c.customDb.poolMax = 0), /poolMax must be an integer from 1 to 50 \(got 0\)/],
    ["a bcrypt cost of 16", (c) => (c.customDb.bcryptCost = 16), /bcryptCost must be an integer from 4 to 15 \(got 16\)/],
    [
        "timeouts over Auth0's budget",
        (c) => Object.assign(c.customDb, { connectTimeoutMs: 10_000, statementTimeoutMs: 9_000 }),
        /connectTimeoutMs \+ statementTimeoutMs must be at most 18000/,
    ],
    [
        "an SSL mode the scripts do not know",
        (c) => (c.postgres.sslMode = "prefer" as never),
        /ssl must be one of disable, require, verify-ca, verify-full \(got "prefer"\)/,
    ],
    ["a schema that is not a plain identifier", (c) => (c.postgres.schema = "Auth0"), /schema must match/],
    [
        "a CA with a mode that does not verify",
        (c) => Object.assign(c.postgres, { sslMode: "require", caCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }),
        /caCertificate is given but ssl is "require"/,
    ],
    ["a module version that is a range", (c) => (c.customDb.modules = { ...c.customDb.modules, pg: "^8.11.3" }), /modules\.pg must be an exact version/],
];

describe("the scripts' settings on a new stack's first preview (generated passwords unknown)", () => {
    it.each(BAD)("%s fails the preview before anything is registered", async (_label, spoil, message) => {
        const run = await installMocks(PROJECT, "dev", { preview: true });
        loadStackConfig(PROJECT, "dev");
        const { config, secrets } = readStackConfig();
        spoil(config);
        let thrown: unknown;
        try {
            buildStack(config, secrets);
        } catch (err) {
            thrown = err;
        }
        await settle(run);
        expect(thrown).toBeInstanceOf(Error);
        expect((thrown as Error).message).toMatch(/^custom-database script configuration: /);
        expect((thrown as Error).message).toMatch(message);
        expect(run.resources).toEqual([]);
    });

    it("a good config registers the stack in the same preview (the check refuses only bad settings)", async () => {
        const run = await installMocks(PROJECT, "dev", { preview: true });
        loadStackConfig(PROJECT, "dev");
        const { config, secrets } = readStackConfig();
        buildStack(config, secrets);
        await settle(run);
        expect(run.resources.some((r) => r.type === "auth0:index/connection:Connection")).toBe(true);
    });
});
