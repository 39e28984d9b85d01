/**
 * The `UsersTableAdoption` provider survives Pulumi's serialization: serialized under ts-node as
 * `pulumi up` does (serialize-adoption.ts), loaded and driven under plain node as the provider host
 * does (adoption-host.ts) against the real database: a refusal at check, an adoption at create, and
 * a second create that finds 001 applied. vitest only starts the child processes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcrypt";
import * as ts from "typescript";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadMigrations } from "../../infra/postgres/migrations";
import { runNode } from "../support/child";
import { ident } from "../../infra/postgres/privileges";
import { createTestDatabase, query, TestDatabase, uniqueRolePrefix } from "../support/db";

let db: TestDatabase;
let work: string;
/** The roles 001's policies name (roles are the cluster's: a prefix of this file's own). */
const prefix = uniqueRolePrefix("serialize_adoption");
const roles = { scripts: `${prefix}_scripts`, app: `${prefix}_app` };

beforeAll(async () => {
    db = await createTestDatabase(inject("databaseUrl"), "serialize_adoption");
    work = mkdtempSync(join(tmpdir(), "adoption-serialized-"));
    const template = (name: string) =>
        `CREATE TABLE public.${name} (id uuid DEFAULT gen_random_uuid(), email varchar(255), nickname varchar(255), password varchar(255) NOT NULL, email_verified boolean DEFAULT false)`;
    await query(db.url, template("users"));
    await query(db.url, template("twins"));
    const hash = await bcrypt.hash("pw", 4);
    await query(db.url, "INSERT INTO public.users (email, password) VALUES ('a@example.com', $1), ('b@example.com', $1), ('c@example.com', $1)", [hash]);
    await query(db.url, "INSERT INTO public.twins (email, password) VALUES ('Same@example.com', $1), ('same@example.com', $1)", [hash]);
    await query(db.url, "CREATE SCHEMA app");
    for (const role of Object.values(roles)) await query(db.url, `CREATE ROLE ${ident(role)} NOLOGIN`);
});
afterAll(async () => {
    await db?.drop();
    for (const role of Object.values(roles)) await query(inject("databaseUrl"), `DROP ROLE IF EXISTS ${ident(role)}`);
    if (work) rmSync(work, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON a child process reported, read field by field
function report(stdout: string): Record<string, any> {
    const line = stdout.split("\n").find((l) => l.startsWith("REPORT "));
    return line ? JSON.parse(line.slice("REPORT ".length)) : {};
}

describe("UsersTableAdoption, serialized as pulumi does and run as its provider host does", () => {
    it("serializes under ts-node with no secret and only packages and built-ins required", async () => {
        const password = decodeURIComponent(new URL(db.url).password);
        const run = await runNode(["-r", "ts-node/register", "test/serialization/serialize-adoption.ts", work], {
            env: { TS_NODE_PROJECT: "tsconfig.json", DATABASE_URL: db.url, SERIALIZE_FORBIDDEN: JSON.stringify([db.url, password]) },
            timeoutMs: 60_000,
        });
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const r = report(run.stdout);
        expect(r).toMatchObject({ exportName: "handler", containsSecrets: false, leaks: 0 });
        for (const mod of r.requires as string[]) expect(mod).toMatch(/^(pg|crypto|net|tls)$/);
        expect(readFileSync(join(work, "UsersTableAdoption.js"), "utf8")).not.toMatch(/\.ts["']/);
    });

    it("its text refuses a table with case twins at check, adopts at create, and finds 001 applied the second time", async () => {
        const js = ts.transpileModule(readFileSync(join(__dirname, "adoption-host.ts"), "utf8"), {
            fileName: "adoption-host.ts",
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
        const hostJs = join(work, "adoption-host.js");
        writeFileSync(hostJs, js);
        const userStore = loadMigrations({ schema: "app", scripts_role: roles.scripts, sync_role: roles.app, app_role: roles.app })[0];
        const run = await runNode([hostJs, work], { env: { HOST_DATABASE_URL: db.url, HOST_USER_STORE: JSON.stringify(userStore) }, timeoutMs: 60_000 });
        expect(run.code, run.stderr).toBe(0);
        const r = report(run.stdout);
        expect(r.refused).toHaveLength(1);
        expect(r.refused[0]).toMatch(
            /^cannot adopt public\.twins as the user store; nothing was changed:\n {2}- 1 email\(s\) of public\.twins are on more than one row, differing only in case/,
        );
        expect(r).toMatchObject({
            checkFailures: [],
            createdId: "app.users",
            status: "adopted",
            rows: 3,
            againStatus: "already-applied",
            tableRows: 3,
            ledger: ["001_user_store"],
        });
    });
});
