/**
 * The dynamic-provider host's side of `UsersTableAdoption`: loads the text serialize-adoption.ts
 * wrote with `requireFromString(text).handler()`, as Pulumi's provider host does, under plain node
 * (the test transpiles this file alone), and drives check and create against the real database.
 *
 *   node adoption-host.js <dir of the provider text>
 *   env: HOST_DATABASE_URL (superuser URL of a database holding public.users in the template's
 *        shape, public.twins with emails that differ only in case, and the empty schema app),
 *        HOST_USER_STORE (migration 001 for schema app, as JSON)
 *
 * Prints one line `REPORT <json>`; exits 1 when a step fails unexpectedly.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { Client as PgClient } from "pg";

type Provider = Required<dynamic.ResourceProvider>;

const projectRequire = createRequire(join(process.cwd(), "package.json"));
const requireFromString = projectRequire("require-from-string") as (code: string) => { handler: () => Provider };
const { Client } = projectRequire("pg") as { Client: new (config: { connectionString: string }) => PgClient };

const databaseUrl = process.env.HOST_DATABASE_URL ?? "";
const userStore: unknown = JSON.parse(process.env.HOST_USER_STORE ?? "null");

async function sql(text: string): Promise<Record<string, unknown>[]> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
        return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
        await client.end();
    }
}

async function main(): Promise<void> {
    const provider = requireFromString(readFileSync(join(process.argv[2] ?? "", "UsersTableAdoption.js"), "utf8")).handler();
    const u = new URL(databaseUrl);
    const connection = {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: decodeURIComponent(u.pathname.slice(1)),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        sslMode: "disable",
    };
    const inputs = { connection, source: "public.users", schema: "app", userStore, owner: "host" };
    const refused = await provider.check({}, { ...inputs, source: "public.twins" });
    const checked = await provider.check({}, inputs);
    const created = await provider.create(checked.inputs);
    const again = await provider.create(checked.inputs);
    const rows = await sql("SELECT count(*)::int AS n FROM app.users");
    const ledger = await sql("SELECT id FROM app.schema_migrations");
    const report = {
        refused: refused.failures?.map((f) => f.reason) ?? [],
        checkFailures: checked.failures ?? [],
        createdId: created.id,
        status: created.outs.status,
        rows: created.outs.rows,
        againStatus: again.outs.status,
        tableRows: rows[0]?.n,
        ledger: ledger.map((r) => r.id),
    };
    process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
});
