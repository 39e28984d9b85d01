/**
 * Every committed stack, as the program registers it under the mock runtime, passes every rule of
 * the policy pack CI runs with preview and up (the rules' own tests prove each can fail).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { policies } from "../../policy/rules";
import { buildMockedStack, buildMockedStackOf, MockRun, POSTGRES_ONLY } from "../support/pulumi-mocks";
import { resourceArgs, stackArgs, stackResource, validateResource, validateStack, PROJECT } from "./support";

/** Every violation the policy pack reports on a mocked stack's resources, as "policy: resource: message". */
export async function policyViolations(run: MockRun, stack: string): Promise<string[]> {
    const violations: string[] = [];
    for (const policy of policies) {
        if ("validateResource" in policy && policy.validateResource) {
            for (const r of run.resources) {
                const found = await validateResource(policy as ResourceValidationPolicy, resourceArgs(r.type, r.inputs, { stack, name: r.name })).catch((e: Error) =>
                    e.constructor.name === "NotApplicable" ? [] : Promise.reject(e),
                );
                violations.push(...found.map((v) => `${policy.name}: ${r.type} ${r.name}: ${v.message}`));
            }
        } else {
            const resources = run.resources.map((r) => stackResource(r.type, r.name, r.inputs, stack));
            const found = await validateStack(policy as StackValidationPolicy, stackArgs(resources));
            violations.push(...found.map((v) => `${policy.name}: ${v.message}`));
        }
    }
    return violations;
}

describe.each(["local", "dev", "staging", "prod"])("the %s stack", (stack) => {
    it("passes every policy", async () => {
        const { run } = await buildMockedStack(PROJECT, stack);
        expect(run.resources.length).toBeGreaterThan(20);
        expect(await policyViolations(run, stack)).toEqual([]);
    });
});

describe("the local stack with postgresOnly (the Postgres side alone, no tenant needed)", () => {
    it("passes every policy", async () => {
        const { run } = await buildMockedStackOf(PROJECT, "local", POSTGRES_ONLY);
        expect(run.ofType("postgresql:index/role:Role").length).toBeGreaterThan(0);
        expect(await policyViolations(run, "local")).toEqual([]);
    });
});
