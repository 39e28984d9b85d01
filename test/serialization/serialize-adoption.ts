/**
 * Serializes the `UsersTableAdoption` provider exactly as `pulumi up` does, outside vitest (whose
 * module transform breaks Pulumi's closure serialization), under ts-node as `@pulumi/pulumi/cmd/run`
 * loads the program; writes `<outDir>/UsersTableAdoption.js` for `adoption-host.ts` to load.
 *
 *   node -r ts-node/register test/serialization/serialize-adoption.ts <outDir>
 *
 * Prints one line `REPORT <json>`: the modules the text requires, whether Pulumi saw a secret in
 * it, and how many of the values in `SERIALIZE_FORBIDDEN` (a JSON array) it holds.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { usersTableAdoptionProvider } from "../../infra/dynamic/adoption";

async function main(): Promise<void> {
    const outDir = process.argv[2];
    if (!outDir) throw new Error("usage: serialize-adoption.ts <outDir>");
    mkdirSync(outDir, { recursive: true });
    const forbidden = (JSON.parse(process.env.SERIALIZE_FORBIDDEN ?? "[]") as string[]).filter((v) => v.length >= 6);
    const sf = await pulumi.runtime.serializeFunction(() => usersTableAdoptionProvider, { allowSecrets: true });
    writeFileSync(join(outDir, "UsersTableAdoption.js"), sf.text);
    const requires = [...new Set([...sf.text.matchAll(/require\("([^"]*)"\)/g)].map((m) => m[1]!))].sort();
    const report = {
        exportName: sf.exportName,
        containsSecrets: sf.containsSecrets,
        requires,
        leaks: forbidden.filter((v) => sf.text.includes(v)).length,
        bytes: sf.text.length,
    };
    process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
});
