import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        globalSetup: ["test/support/global-postgres.ts"],
        // Files run in forked workers (pg and bcrypt are native-friendly there); 2 cores here.
        pool: "forks",
        testTimeout: 30_000,
        hookTimeout: 60_000,
        // A test must say what it checks: a test with no assertion fails.
        expect: { requireAssertions: true },
    },
});
