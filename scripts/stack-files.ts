/**
 * Keeps the committed stack files (stacks/Pulumi.<stack>.yaml) in the form the Pulumi CLI writes
 * them, so that `pulumi stack init`, `pulumi config set` and the bootstrap script leave no diff:
 *
 * - a top-level config value that is a scalar is a string (`"true"`, `"8"`): the CLI always writes
 *   top-level values as strings (booleans and numbers are told apart only inside objects, set with
 *   `--path`), and the program parses them back (`boolish`, `z.coerce.number`);
 * - keys in sorted order at every level (the CLI marshals Go maps, whose keys it sorts), two-space
 *   indentation, no line folding;
 * - comments only in the header above `config:`: the CLI re-encodes the body, so a comment beside
 *   a value ends up elsewhere.
 *
 *   node -r ts-node/register/transpile-only scripts/stack-files.ts [--check]   (npm run stacks:format)
 *
 * With --check it changes nothing and exits 1 listing the files that are not canonical.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";

export const STACKS_DIR = join(__dirname, "..", "stacks");

/** The canonical text of a stack file: its header comment, then the body as the CLI writes it. */
export function canonicalStackFile(text: string): string {
    const lines = text.split("\n");
    const bodyStart = lines.findIndex((l) => l.trim() !== "" && !l.startsWith("#"));
    const header = lines.slice(0, bodyStart === -1 ? lines.length : bodyStart).filter((l) => l.startsWith("#"));
    const doc = (yaml.load(lines.slice(bodyStart).join("\n")) ?? {}) as Record<string, unknown>;
    const config = (doc.config ?? {}) as Record<string, unknown>;
    const stringified = Object.fromEntries(
        Object.entries(config).map(([key, value]) => [key, value !== null && typeof value === "object" ? value : String(value)]),
    );
    const body = yaml.dump({ ...doc, config: stringified }, { indent: 2, sortKeys: true, lineWidth: -1, quoteStyle: "double" });
    return [...header, body].join("\n");
}

/** The stack files of the project, by file name. */
export function stackFiles(dir: string = STACKS_DIR): string[] {
    return readdirSync(dir)
        .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
        .sort();
}

function main(): void {
    const check = process.argv.includes("--check");
    const off: string[] = [];
    for (const file of stackFiles()) {
        const path = join(STACKS_DIR, file);
        const text = readFileSync(path, "utf8");
        const canonical = canonicalStackFile(text);
        if (canonical === text) continue;
        off.push(file);
        if (!check) writeFileSync(path, canonical);
    }
    if (check && off.length > 0) {
        process.stderr.write(`not in the form the Pulumi CLI writes: ${off.join(", ")} (run npm run stacks:format)\n`);
        process.exit(1);
    }
    if (!check) process.stdout.write(off.length > 0 ? `rewrote ${off.join(", ")}\n` : "stack files already canonical\n");
}

if (require.main === module) main();
