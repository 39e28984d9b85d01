/**
 * (c) The dynamic providers as Pulumi serializes them hold none of this test's secret values.
 *
 * Uses test/serialization/serialize-providers.ts (another suite's tool; its own test checks its
 * secrets): run outside vitest under ts-node, exactly as there, in an environment full of
 * secrets as on a deploy machine: a DATABASE_URL, PGPASSWORD, Auth0 and Hasura secrets, and
 * the stack's secret config keys in PULUMI_CONFIG (where a Pulumi program reads its config).
 * This test reads every provider text the tool wrote and searches it itself for each secret in
 * raw, URL-encoded and base64 forms, and checks the tool's own report agrees.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildRun, runNode } from "../support/child";
import { afterAll, describe, expect, it } from "vitest";
import { SECRET_KEYS } from "../../infra/config/schema";

const TOOL = "test/serialization/serialize-providers.ts";
const TYPES = [
    "ClientConnections",
    "DatabaseSecurity",
    "ForeignDataWrapper",
    "ForeignTable",
    "ManagementApiToken",
    "Migrations",
    "SettingsGuard",
    "SupabaseThirdPartyAuth",
    "VaultSecret",
];

const secret = (label: string) => `${label}-${randomBytes(12).toString("hex")}:/@%`;
const values = {
    dbPassword: secret("db-password"),
    clientSecret: secret("auth0-client-secret"),
    adminSecret: secret("hasura-admin-secret"),
    configPassword: secret("config-postgres-password"),
};
const databaseUrl = `postgres://postgres:${encodeURIComponent(values.dbPassword)}@db.internal.example:5432/postgres`;

function forms(value: string): string[] {
    return [...new Set([value, encodeURIComponent(value), Buffer.from(value).toString("base64"), JSON.stringify(value).slice(1, -1)])];
}
const needles = [databaseUrl, ...Object.values(values).flatMap(forms)];

const work = mkdtempSync(join(tmpdir(), "secrets-serialized-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runTool(): Promise<ChildRun> {
    const pulumiConfig = Object.fromEntries(
        SECRET_KEYS.map((key) => [
            `auth0-postgres:${key}`,
            key === "postgresPassword" ? values.configPassword : key === "hasuraAdminSecret" ? values.adminSecret : values.clientSecret,
        ]),
    );
    return runNode(["-r", "ts-node/register", TOOL, work], {
        env: {
            TS_NODE_PROJECT: "tsconfig.json",
            DATABASE_URL: databaseUrl,
            PGPASSWORD: values.dbPassword,
            AUTH0_CLIENT_SECRET: values.clientSecret,
            HASURA_ADMIN_SECRET: values.adminSecret,
            PULUMI_CONFIG: JSON.stringify(pulumiConfig),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(Object.keys(pulumiConfig)),
            SERIALIZE_FORBIDDEN: JSON.stringify(needles),
        },
    });
}

/** Which needles (by index, never by value) occur in `text`. */
function leaks(text: string): number[] {
    return needles.flatMap((n, i) => (text.includes(n) ? [i] : []));
}

describe("serialized dynamic providers", () => {
    it("hold none of the deploy environment's secrets, in any form", async () => {
        const run = await runTool();
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const line = run.stdout.split("\n").find((l) => l.startsWith("REPORT "));
        expect(line).toBeDefined();
        const report = JSON.parse(line!.slice("REPORT ".length)) as {
            forbiddenChecked: number;
            providers: Record<string, { file: string; leaks: number; containsSecrets: boolean }>;
            canary: { leaks: number };
            mocks: { resources: Record<string, { leaks: number }> };
        };
        // The files this test reads are the ones the tool reports, one per provider.
        expect(Object.keys(report.providers).sort()).toEqual(TYPES);
        expect(readdirSync(work).sort()).toEqual(TYPES.map((t) => `${t}.js`));
        for (const type of TYPES) {
            const text = readFileSync(join(work, `${type}.js`), "utf8");
            expect(report.providers[type]!.file).toBe(join(work, `${type}.js`));
            expect(text.length, type).toBeGreaterThan(1_000);
            expect(leaks(text), `${type} holds secret #`).toEqual([]);
            expect(text).not.toMatch(/PULUMI_CONFIG|process\.env\.(DATABASE_URL|PGPASSWORD)/);
            expect(report.providers[type]).toMatchObject({ leaks: 0, containsSecrets: false });
        }
        // The tool searched for (at least) these values, its mock registrations leak none, and its search can fail.
        expect(report.forbiddenChecked).toBeGreaterThanOrEqual(needles.length);
        for (const [type, r] of Object.entries(report.mocks.resources)) expect(r.leaks, type).toBe(0);
        expect(report.canary.leaks).toBeGreaterThan(0);
        // Nor did the tool print any of them.
        expect(leaks(run.stdout + run.stderr)).toEqual([]);
    });

    it("this search finds a secret in each of its forms (it can fail)", () => {
        for (const value of Object.values(values)) {
            for (const form of forms(value)) expect(leaks(`module.exports = { x: "${form}" };`).length).toBeGreaterThan(0);
        }
    });
});
