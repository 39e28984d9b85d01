/**
 * The README's Supabase section says what the code requires and does (issue #12): the Vault and
 * Wrappers versions (the constants the preview checks against), what the reader role can and cannot
 * see (the function the privilege model grants it), and that statement logging shows the token.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VAULT_VERSION, WRAPPERS_MIN_VERSION } from "../../infra/postgres/auth0-fdw";
import { foreignTableGrants, readerFunctionName } from "../../infra/postgres/privileges";

const README = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");

function section(heading: string): string {
    const start = README.indexOf(`\n### ${heading}\n`);
    expect(start, `README has a section "${heading}"`).toBeGreaterThan(0);
    const next = README.slice(start + heading.length + 6).search(/\n##+ /);
    return README.slice(start, next < 0 ? undefined : start + heading.length + 6 + next);
}

describe("README: Supabase", () => {
    const supabase = () => section("Supabase: Vault, Wrappers and the reader role");

    it("names the Vault and Wrappers versions the stack needs, as the code checks them", () => {
        expect(supabase()).toContain(`\`supabase_vault\` 0.3.x (tested against ${VAULT_VERSION}`);
        expect(supabase()).toContain(`Supabase Wrappers **${WRAPPERS_MIN_VERSION} or later**`);
    });

    it("says what the reader role can see (the function the model grants it) and cannot (the table, Vault)", () => {
        const fn = readerFunctionName("users");
        const granted = foreignTableGrants({ fdwSchema: "auth0", foreignTables: ["users"] }).filter((g) => g.objectType === "function");
        expect(granted.flatMap((g) => (g.objectType === "function" ? g.objects : []))).toEqual([fn]);
        expect(supabase()).toContain(`it **can** use schema \`<prefix>\` and execute \`<prefix>.${fn}()\``);
        expect(supabase()).toContain("it **cannot** read `<prefix>.users` directly");
        expect(supabase()).toMatch(/nor anything in schema `vault`/);
    });

    it("warns that statement logging puts the token in the server log", () => {
        expect(README).toMatch(/\*\*Operations note: statement logging shows the Management API token\.\*\*/);
        expect(README).toMatch(/`log_statement = 'all'` or `'mod'`/);
    });
});
