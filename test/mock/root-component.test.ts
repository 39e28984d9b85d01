/**
 * The root component is constructed like any other, `(name, { config, secrets }, opts)`: every
 * resource's name derives from the name it is given, and its aliases are the caller's (buildStack
 * gives it STACK_ROOT_NAME and the alias to `<project>-<stack>`).
 */
import { describe, expect, it } from "vitest";
import { AUTH0_COMPONENT_TYPES } from "../../infra/auth0/names";
import { readStackConfig } from "../../infra/config";
import { Auth0PostgresStack, STACK_ROOT_NAME } from "../../infra/stack";
import { installMocks, loadStackConfig, settle, valueOf } from "../support/pulumi-mocks";

describe("Auth0PostgresStack(name, { config, secrets }, opts)", () => {
    it("names every resource after the name it is given, with no alias but the caller's", async () => {
        const run = await installMocks("auth0-postgres", "dev");
        loadStackConfig("auth0-postgres", "dev");
        const { config, secrets } = readStackConfig();
        const stack = new Auth0PostgresStack("second", { config, secrets });
        await valueOf(stack.outputs.appliedMigrations);
        await settle(run);

        const root = run.find(AUTH0_COMPONENT_TYPES.stack, "second");
        expect(root.aliases).toEqual([]);
        const others = run.resources.filter((r) => r !== root);
        expect(others.length).toBeGreaterThan(20);
        expect(others.filter((r) => !r.name.startsWith("second-")).map((r) => `${r.type} ${r.name}`)).toEqual([]);
        expect(run.resources.filter((r) => r.name.startsWith(STACK_ROOT_NAME)).map((r) => r.name)).toEqual([]);
    });
});
