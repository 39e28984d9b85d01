/**
 * The dynamic providers survive Pulumi's serialization: serialized under ts-node as `pulumi up`
 * does (serialize-providers.ts), loaded and driven under plain node as the dynamic-provider host
 * does (host.ts), against the real database and a loopback token endpoint. vitest only starts the
 * child processes and asserts on what they report: its own module transform would break the
 * closure serializer.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ts from "typescript";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTokenServer, TokenServer } from "../support/auth0-token-server";
import { startSupabaseApi, SupabaseApi } from "../support/supabase-management-api";
import { runNode } from "../support/child";
import { createTestDatabase, installSupabaseFixture, query, TestDatabase } from "../support/db";
import { expectAbsent } from "../support/leaks";

const TYPES = [
    "Migrations",
    "VaultSecret",
    "ForeignDataWrapper",
    "ForeignTable",
    "ManagementApiToken",
    "DatabaseSecurity",
    "SettingsGuard",
    "SupabaseThirdPartyAuth",
    "ClientConnections",
] as const;
const client = { clientId: "host-client", clientSecret: `host-secret-${Date.now().toString(36)}-value`, audience: "https://tenant.eu.auth0.com/api/v2/" };

let db: TestDatabase;
let server: TokenServer;
let supabaseApi: SupabaseApi;
const supabaseToken = `sbp_${Date.now().toString(36)}host0token0value`;
let work: string;
let password: string;

beforeAll(async () => {
    db = await createTestDatabase(inject("databaseUrl"), "serialization");
    await installSupabaseFixture(db.url);
    password = decodeURIComponent(new URL(db.url).password);
    server = await startTokenServer(client);
    supabaseApi = await startSupabaseApi(supabaseToken, ["abcdefghijklmnopqrst"]);
    work = mkdtempSync(join(tmpdir(), "providers-serialized-"));
});
afterAll(async () => {
    await server?.close();
    await supabaseApi?.close();
    await db?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON a child process reported, read field by field
    report: Record<string, any>;
}

/** Runs node with `args` in the project root and a clean environment; parses its `REPORT` line. */
async function runNodeReport(args: string[], env: Record<string, string>): Promise<Run> {
    const run = await runNode(args, { env });
    const line = run.stdout.split("\n").find((l) => l.startsWith("REPORT "));
    return { ...run, report: line ? JSON.parse(line.slice("REPORT ".length)) : {} };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const update = { changes: true, replaces: [], deleteBeforeReplace: false };
const noChange = { changes: false, replaces: [], deleteBeforeReplace: false };

describe("dynamic providers, serialized as pulumi does and run as its provider host does", () => {
    let serialized: Run;

    it("serializes every provider under ts-node, with no secret in their text", async () => {
        serialized = await runNodeReport(["-r", "ts-node/register", "test/serialization/serialize-providers.ts", work], {
            TS_NODE_PROJECT: "tsconfig.json",
            // A secret-looking environment, as on a deploy machine: none of it may end up in the texts.
            DATABASE_URL: db.url,
            PGPASSWORD: password,
            SERIALIZE_FORBIDDEN: JSON.stringify([db.url, password]),
        });
        expect(serialized.stderr).toBe("");
        expect(serialized.code).toBe(0);
        const r = serialized.report;
        expect(r.tsNode).toBe(true);
        expect(r.forbiddenChecked).toBeGreaterThanOrEqual(3);
        expect(Object.keys(r.providers).sort()).toEqual([...TYPES].sort());
        for (const type of TYPES) {
            const p = r.providers[type];
            expect(p, type).toMatchObject({ exportName: "handler", containsSecrets: false, leaks: 0 });
            // Only packages and built-ins: local modules are inlined, nothing points at a .ts file.
            // (net and tls: the connection's TLS options, see infra/dynamic/connection.ts.)
            for (const mod of p.requires) expect(mod, `${type} requires ${mod}`).toMatch(/^(pg|crypto|net|tls)$/);
            const text = readFileSync(p.file, "utf8");
            expectAbsent(text, password, `${type} text: the database password`);
            expect(text).not.toMatch(/\.ts["']/);
        }
        expect(r.providers.Migrations.requires).toEqual(["crypto", "net", "pg", "tls"]);
        // The leak search can fail: a provider that captures a secret is caught.
        expect(r.canary.leaks).toBe(1);
    });

    it("registers each resource with the same provider text, its secret inputs and additionalSecretOutputs, and resolves its outputs", () => {
        const { resources, outputs } = serialized.report.mocks;
        const token = (type: string) => `pulumi-nodejs:dynamic/auth0-postgres:${type}`;
        expect(Object.keys(resources).sort()).toEqual(TYPES.map(token).sort());
        for (const type of TYPES) expect(resources[token(type)], type).toMatchObject({ sameTextAsSerialized: true, leaks: 0 });
        expect(resources[token("Migrations")]).toMatchObject({ secretInputs: ["connection"], additionalSecretOutputs: ["connection"] });
        expect(resources[token("VaultSecret")]).toMatchObject({ secretInputs: ["connection", "secret"], additionalSecretOutputs: ["connection", "secret"] });
        expect(resources[token("ForeignDataWrapper")]).toMatchObject({ secretInputs: ["connection"], additionalSecretOutputs: ["connection"] });
        expect(resources[token("ForeignTable")]).toMatchObject({ secretInputs: ["connection"], additionalSecretOutputs: ["connection"] });
        expect(resources[token("ManagementApiToken")]).toMatchObject({ secretInputs: ["clientSecret"], additionalSecretOutputs: ["clientSecret", "token"] });
        // Declared outputs carry the engine's values (a `x!:` class field would have reset them).
        expect(outputs).toEqual({
            Migrations: ["001_a"],
            VaultSecret: "00000000-0000-4000-8000-000000000001",
            ForeignDataWrapper: "extensions.h",
            ForeignTable: [{ name: "email", type: "text" }],
            ManagementApiToken: ["mock-token", "2030-01-01T00:00:00.000Z"],
            DatabaseSecurity: [],
            SettingsGuard: ["app"],
            SupabaseThirdPartyAuth: "00000000-0000-4000-8000-0000000000aa",
            ClientConnections: ["spa google-oauth2"],
        });
        expect(resources[token("ClientConnections")]).toMatchObject({ secretInputs: ["clientSecret"], additionalSecretOutputs: ["clientSecret"] });
        expect(resources[token("SupabaseThirdPartyAuth")]).toMatchObject({ secretInputs: ["accessToken"], additionalSecretOutputs: ["accessToken"] });
        expect(resources[token("DatabaseSecurity")]).toMatchObject({ secretInputs: ["connection"], additionalSecretOutputs: ["connection"] });
    });

    it("loads each text with requireFromString(text).handler() under plain node and drives it against the real database and token endpoint", async () => {
        const source = readFileSync(join(__dirname, "host.ts"), "utf8");
        const js = ts.transpileModule(source, {
            fileName: "host.ts",
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
        const hostJs = join(work, "host.js");
        writeFileSync(hostJs, js);

        const issuedAfter = Date.now();
        const host = await runNodeReport([hostJs, work], {
            HOST_DATABASE_URL: db.url,
            HOST_TOKEN_URL: server.url,
            HOST_CLIENT_ID: client.clientId,
            HOST_CLIENT_SECRET: client.clientSecret,
            HOST_AUDIENCE: client.audience,
            HOST_SUPABASE_URL: supabaseApi.url,
            HOST_SUPABASE_TOKEN: supabaseToken,
        });
        const r = host.report;
        expect(r.failures, host.stderr).toEqual([]);
        expect(host.code).toBe(0);
        expect(r.tsNodeLoaded).toBe(false);
        // Booleans, so that a failure does not print the secret it found.
        expectAbsent(host.stdout + host.stderr, password, "host output: the database password");
        expectAbsent(host.stdout + host.stderr, client.clientSecret, "host output: the client secret");

        expect(r.migrations).toEqual({
            checkFailures: [],
            createdId: "host_app",
            createdApplied: ["001_a"],
            diffAdd: update,
            updatedApplied: ["001_a", "002_b"],
            diffSame: noChange,
            diffEdited: expect.stringMatching(/^Error: Migrations host_app: migrations: applied migration\(s\) 001_a changed since they ran/),
            runnerRefuses: expect.stringMatching(/^Error: Migrations host_app: MigrationError: applied migration\(s\) 001_a changed since they ran/),
            readApplied: ["001_a", "002_b"],
            tablesAfterKeep: ["a", "b", "schema_migrations"],
            tablesAfterRevert: [],
        });
        expect(host.stderr).toMatch(/Migrations host_app: removed from the stack but NOT reverted/);

        expect(r.vault).toEqual({
            id: expect.stringMatching(/^[0-9a-f-]{36}$/),
            secretIdOutput: r.vault.id,
            databaseRecorded: true,
            diff: update,
            diffOtherDatabase: { changes: true, replaces: ["connection"], deleteBeforeReplace: false },
            updatedSecretId: r.vault.id,
            storedIsSecondValue: true,
            readIsSecondValue: true,
            adoptedId: r.vault.id,
            adoptedIsThirdValue: true,
            nulFailures: [{ property: "", reason: "secret: must not contain a NUL character (Postgres text cannot hold one)" }],
            rowsAfterDelete: 0,
            readAfterDelete: {},
        });

        expect(r.foreignData).toMatchObject({
            fdwCheck: [],
            fdwCheckOld: [
                {
                    property: "",
                    reason: expect.stringMatching(
                        /^extension: wrappers 0\.4\.5 is installed; the foreign data wrapper host_wrapper needs wrappers 0\.4\.6 or later \(host test\)/,
                    ),
                },
            ],
            readerFunction: { definer: true, public_execute: false },
            readerLeft: 0,
            fdwId: "host_wrapper",
            fdwDiffName: { changes: true, replaces: ["name"], deleteBeforeReplace: false },
            fdwRead: { name: "host_wrapper", handler: "extensions.auth0_fdw_handler", validator: "extensions.auth0_fdw_validator" },
            tableId: "auth0.host_users",
            tableDiff: update,
            tableDiffServer: { changes: true, replaces: ["server"], deleteBeforeReplace: true },
            tableRead: {
                columns: [
                    { name: "user_id", type: "text" },
                    { name: "email_verified", type: "boolean" },
                    { name: "logins_count", type: "integer" },
                ],
                options: { object: "users", note: "it's" },
                server: "host_server",
                readerFunction: "list_host_users",
            },
            tableCheckBad: [expect.objectContaining({ property: "", reason: expect.stringMatching(/columns\[0\]\.type: must be one of/) })],
            tableLeft: null,
            fdwDeleteBlocked: expect.stringMatching(
                /^Error: ForeignDataWrapper host_wrapper: cannot drop it while foreign servers still use it \(server host_server depends on/,
            ),
            fdwLeft: 0,
        });
        expect(await query(db.url, "SELECT count(*)::int AS n FROM pg_foreign_data_wrapper WHERE fdwname LIKE 'host_%'")).toEqual([{ n: 0 }]);

        expect(server.issued).toHaveLength(2);
        expect(r.token).toMatchObject({
            tokenSha256: sha256(server.issued[0]!),
            updatedTokenSha256: sha256(server.issued[1]!),
            scope: "read:users read:user_idp_tokens",
            diffFresh: noChange,
            diffWindow: update,
            refused: `Error: ManagementApiToken: token endpoint ${server.url} (client host-client): HTTP 401 access_denied: Unauthorized`,
        });
        // The token's expires_in (86400 s) counted from its issue, which came after issuedAfter: data, not a stopwatch.
        expect(Date.parse(r.token.expiresAt)).toBeGreaterThanOrEqual(issuedAfter + 86_400_000);
        expect(server.requests[0]?.body).toEqual({
            grant_type: "client_credentials",
            client_id: client.clientId,
            client_secret: client.clientSecret,
            audience: client.audience,
        });

        // The security provider reads the catalog in check (the preview shows the drift) and restores it.
        expect(r.security).toEqual({
            createdDrift: [],
            cleanDrift: [],
            drift: ["policy users_scripts_all on host_sec.users is missing", "PUBLIC may execute host_sec_fd.list_x()"],
            diffChanges: true,
            updatedDrift: [],
            policies: ["users_scripts_all"],
            definerPublicAfter: false,
        });
        expect(r.supabase).toEqual({
            checkFailures: [],
            type: "auth0",
            readId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            gone: {},
            refused: "Error: SupabaseThirdPartyAuth abcdefghijklmnopqrst: list: HTTP 401 Unauthorized",
        });
        expect(r.supabase.readId).not.toBe("");
        expect(r.clientConnections).toEqual({
            checkFailures: [],
            badFailures: [
                { property: "", reason: "baseUrl: must be https://<tenant domain> (http only on loopback)" },
                { property: "", reason: "clientIds: at least one client id" },
            ],
            diffRotated: noChange,
            refused: "Error: ClientConnections: POST /oauth/token: HTTP 401 access_denied",
        });
        expect(r.guard).toEqual({
            same: [],
            changed: [
                {
                    property: "",
                    reason: expect.stringMatching(
                        /^p:postgres\.schema cannot change from "app" to "other": the change would replace the schema\. Nothing was changed\./,
                    ),
                },
            ],
            optedIn: [],
        });
    });
});
