/**
 * Every committed stack, as the program registers it under the mock runtime, passes every rule of
 * the policy pack CI runs with preview and up (the rules' own tests prove each can fail).
 */
import { describe, expect, it } from "vitest";
import { policies } from "../../policy/rules";
import { buildMockedStack, buildMockedStackOf, engineOutputs, POSTGRES_ONLY, UNKNOWN_VALUE, unwrapSecrets } from "../support/pulumi-mocks";
import { engineViolations, PROJECT } from "./support";

describe.each(["local", "dev", "staging", "prod"])("the %s stack", (stack) => {
    it("passes every policy after an update (every value known)", async () => {
        const { run, outputs } = await buildMockedStack(PROJECT, stack);
        expect(run.resources.length).toBeGreaterThan(20);
        expect(await engineViolations(run, stack, await engineOutputs(outputs), policies, unwrapSecrets)).toEqual([]);
    });

    it("passes every policy in the preview of a new stack, where computed values are unknown: every mandatory rule decides", async () => {
        const { run, outputs } = await buildMockedStackOf(PROJECT, stack, {}, { preview: true });
        const known = await engineOutputs(outputs);
        // The preview really carries unknowns: the applied migrations, the SPA's client id, the Vault secret id.
        expect(known.appliedMigrations).toBe(UNKNOWN_VALUE);
        expect(JSON.stringify(run.resources.map((r) => r.raw))).toContain(UNKNOWN_VALUE);
        expect(await engineViolations(run, stack, known, policies, unwrapSecrets, { preview: true, unknownValue: UNKNOWN_VALUE })).toEqual([]);
    });
});

describe("the local stack with postgresOnly (the Postgres side alone, no tenant needed)", () => {
    it.each([false, true])("passes every policy (preview: %s)", async (preview) => {
        const { run, outputs } = await buildMockedStackOf(PROJECT, "local", POSTGRES_ONLY, { preview });
        expect(run.ofType("postgresql:index/role:Role").length).toBeGreaterThan(0);
        expect(await engineViolations(run, "local", await engineOutputs(outputs), policies, unwrapSecrets, { preview, unknownValue: UNKNOWN_VALUE })).toEqual(
            [],
        );
    });
});
