/**
 * Writes the README's configuration table ("Configuration reference") from
 * infra/config/reference.ts, whose types, ranges and defaults come from infra/config/constants.ts,
 * the values the config schema uses. Between the two marker lines only; the rest of the README is
 * left as it is.
 *
 *   node -r ts-node/register/transpile-only scripts/config-docs.ts [--check]   (npm run docs:config)
 *
 * With --check it changes nothing and exits 1 when the README's table is not the generated one.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withConfigReference } from "../infra/config/reference";

export const README = join(__dirname, "..", "README.md");

function main(argv: string[]): number {
    const check = argv.includes("--check");
    const current = readFileSync(README, "utf8");
    const generated = withConfigReference(current);
    if (generated === current) return 0;
    if (check) {
        console.error("README.md: the configuration table is not the generated one; run npm run docs:config");
        return 1;
    }
    writeFileSync(README, generated);
    console.log("README.md: configuration table written");
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
