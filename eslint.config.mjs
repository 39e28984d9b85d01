// ESLint: typescript-eslint's recommended rules and Pulumi's plugin (an Output in a template
// literal is a bug: pulumi.interpolate or apply). Prettier owns the formatting.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "node_modules/",
            "bin/",
            ".tmp/",
            ".adopt/",
            "test/plans/",
            "test/fixtures/",
            "test/ci/fixtures/",
            "**/*.mjs",
            "**/*.mts",
            // The code uploaded to Auth0: fragments (shared.js, shared/names.js) assembled into each
            // uploaded text, so linted one file at a time every name looks undefined or unused. What
            // Auth0 runs is proven by running the assembled text (test/custom-db-scripts,
            // test/actions) and by the policy pack.
            "infra/auth0/scripts/*.js",
            "infra/auth0/actions/**/*.js",
            // Auth0's globals, for the type check of the assembled uploaded code only (test/uploaded).
            "test/uploaded/auth0-globals.d.ts",
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { pulumi },
        rules: {
            "pulumi/no-output-in-template-literal": "error",
            // The unused-locals check is tsc's (noUnusedLocals, noUnusedParameters).
            "@typescript-eslint/no-unused-vars": "off",
            // Errors are rewritten on purpose to say what failed without what they carried (a pg
            // error can hold connection details, a fetch error the request): no `cause` attached.
            "preserve-caught-error": "off",
            // Reading a package's own package.json (its version) is a plain require.
            "@typescript-eslint/no-require-imports": ["error", { allow: ["/package\\.json$"] }],
        },
    },
);
