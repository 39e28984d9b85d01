/**
 * The committed stack files are in the form the Pulumi CLI writes them, so `pulumi stack init`,
 * `pulumi config set` and the bootstrap script leave no diff in them (scripts/stack-files.ts says
 * what that form is; `npm run stacks:format` rewrites a file into it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { canonicalStackFile, stackFiles, STACKS_DIR } from "../../scripts/stack-files";

describe("committed stack files", () => {
    it.each(stackFiles())("%s is in the CLI's form (top-level values as strings, sorted keys, comments only in the header)", (file) => {
        const text = readFileSync(join(STACKS_DIR, file), "utf8");
        expect(text, "run npm run stacks:format").toBe(canonicalStackFile(text));
        const config = (yaml.load(text) as { config: Record<string, unknown> }).config;
        for (const [key, value] of Object.entries(config)) {
            if (value === null || typeof value !== "object") expect(typeof value, key).toBe("string");
        }
        const bodyStart = text.indexOf("\nconfig:");
        expect(text.slice(bodyStart)).not.toMatch(/#/);
    });

    it("the formatter rewrites what the CLI would: a top-level boolean, unsorted keys, a comment beside a value; the values stay the same", () => {
        const handWritten = "# header\nconfig:\n  p:zeta: true\n  p:alpha:\n    port: 5432 # the port\n    host: h\n";
        const canonical = canonicalStackFile(handWritten);
        expect(canonical).toBe('# header\nconfig:\n  p:alpha:\n    host: h\n    port: 5432\n  p:zeta: "true"\n');
        expect(canonicalStackFile(canonical)).toBe(canonical);
        expect(yaml.load(canonical)).toEqual({ config: { "p:alpha": { host: "h", port: 5432 }, "p:zeta": "true" } });
    });
});
