import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        globalSetup: ["test/support/global-postgres.ts"],
        // Files run in forked workers (pg and bcrypt are native-friendly there); 2 cores here.
        pool: "forks",
        // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
        reporters: ["default", "json"],
        outputFile: { json: ".tmp/vitest-report.json" },
        testTimeout: 30_000,
        hookTimeout: 60_000,
        // A test must say what it checks: a test with no assertion fails.
        expect: { requireAssertions: true },
    },
});
