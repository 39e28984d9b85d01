/**
 * The README's "Adopting an existing tenant" section against the code it describes: the commands
 * it tells a team to run are the ones the tool prints (and the tool's own command line), every config
 * key it names exists, and the Actions' names it gives are the program's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rawConfigSchema } from "../../infra/config";
import { renderReport } from "../../tools/adopt/adopt";
import { auth0Plan, desiredSettings } from "../../tools/adopt/plan";
import { readStackConfig } from "../../tools/adopt/stack-config";

const ROOT = join(__dirname, "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const start = README.indexOf("\n## Adopting an existing tenant\n");
const SECTION = README.slice(start, README.indexOf("\n## ", start + 10));

/** The commands of every ```sh block of the section, comments dropped. */
const COMMANDS = [...SECTION.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
        .split("\n")
        .map((l) => l.replace(/\s+#.*$/, "").trim())
        .filter((l) => l && !l.startsWith("#")),
);

describe("README: Adopting an existing tenant", () => {
    it("exists, with its five steps", () => {
        expect(start).toBeGreaterThan(0);
        expect([...SECTION.matchAll(/^### (\d)\. /gm)].map((m) => m[1])).toEqual(["1", "2", "3", "4", "5"]);
    });

    it("runs the tool as package.json defines it, with the secret from the environment, never as an argument", () => {
        const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
        expect(pkg.scripts.adopt).toBe("node -r ts-node/register/transpile-only tools/adopt/index.ts");
        expect(COMMANDS).toContain("npm run adopt -- --stack acme/dev");
        expect(COMMANDS).toContain("read -rs AUTH0_CLIENT_SECRET && export AUTH0_CLIENT_SECRET");
        expect(COMMANDS.join("\n")).not.toMatch(/--client-secret[ =]/);
    });

    it("tells the same next commands the tool prints", () => {
        const { config } = readStackConfig(ROOT, "dev");
        const plan = auth0Plan(config);
        const report = renderReport(
            { config, stackRef: "acme/dev", importFilePath: ".adopt/dev.import.json" },
            plan,
            { found: [], undeclared: [], beforeFirstUp: [], blockers: [], counts: {} },
            { nameTable: {}, resources: [] },
            { requests: 0, rateLimited: 0, pages: 0, waitedMs: 0 },
        );
        const printed = report
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l.startsWith("pulumi "));
        expect(printed).toHaveLength(3);
        const [up, imp, preview] = printed;
        // The targeted up: the README shows placeholders where the tool prints the URNs.
        expect(up!.replace(/ --target '[^']+'/g, " --target <urn>")).toBe("pulumi up --stack acme/dev --yes --target <urn> --target <urn> --target <urn>");
        expect(COMMANDS.find((c) => c.startsWith("pulumi up "))!.replace(/ --target '[^']+'/g, " --target <urn>")).toBe(
            "pulumi up --stack acme/dev --yes --target <urn> --target <urn> --target <urn>",
        );
        expect(COMMANDS).toContain(imp);
        expect(COMMANDS).toContain(preview);
    });

    it("names only config keys the program has", () => {
        const keys = [...new Set([...SECTION.matchAll(/`((?:spa|api|customDb|postLogin|postgres)\.[A-Za-z.[\]]+)`/g)].map((m) => m[1]!))];
        expect(keys.length).toBeGreaterThan(6);
        for (const key of keys) {
            let shape: unknown = rawConfigSchema;
            for (const part of key.replace(/\[\]/g, "").split(".")) {
                let node = shape as { shape?: Record<string, unknown>; unwrap?: () => unknown; element?: unknown; def?: { innerType?: unknown } };
                // Through defaults, optionals and arrays to the object that has the part.
                for (let i = 0; i < 5 && !node.shape; i++) node = (node.def?.innerType ?? node.element ?? node.unwrap?.()) as typeof node;
                expect(node.shape, `${key}: ${part}`).toBeDefined();
                shape = node.shape![part];
                expect(shape, `${key} is not a config key`).toBeDefined();
            }
        }
    });

    it("gives the Actions the names the program gives them", () => {
        const { config } = readStackConfig(ROOT, "dev");
        const names = desiredSettings(config).actions.map((a) => a.name.replace(`${config.project}-${config.stack}-`, ""));
        expect(SECTION).toContain(`\`<project>-<stack>-${names[0]}\`, \`-${names[1]}\`, \`-${names[2]}\``);
    });
});
