/**
 * `npm run adopt` against a Management API on loopback (real HTTP, the API's documented shapes):
 * a tenant with more objects of each kind than one page, rate limiting, objects that match and
 * differ from the dev stack's config, objects the stack does not declare. The import file is checked
 * under the mock runtime: every entry resolves to a resource the program registers, with its type,
 * name, parent and the stack's Auth0 provider. Errors for bad credentials, a missing scope, a client
 * not authorized, a wrong domain; refusals when an object would be replaced or is ambiguous; the
 * command line never takes the secret as an argument and never prints it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdoptResult, adoptTenant } from "../../tools/adopt/adopt";
import { bootstrapTargets, ImportFile } from "../../tools/adopt/import-file";
import { parseArgs, readSecret, UsageError } from "../../tools/adopt/index";
import { AdoptError } from "../../tools/adopt/management-api";
import { auth0Plan, Auth0StackConfig, desiredSettings } from "../../tools/adopt/plan";
import { readStackConfig } from "../../tools/adopt/stack-config";
import { ROOT, runNode } from "../support/child";
import { freePort } from "../support/embedded";
import { buildMockedStack, MockedStack } from "../support/pulumi-mocks";
import { FakeManagementApi, FakeTenant, READ_SCOPES, startManagementApi } from "./management-api-server";
import { testTenant, TestTenant } from "./tenant";
import { STACK_ROOT_NAME } from "../../infra/stack";

const SECRET = `deploy-secret-${Date.now().toString(36)}-value`;
const STACKS = ["local", "dev", "staging", "prod"] as const;

let config: Auth0StackConfig;
let t: TestTenant;
let server: FakeManagementApi;
let result: AdoptResult;
const servers: FakeManagementApi[] = [];

async function serve(tenant: FakeTenant, options: Partial<Parameters<typeof startManagementApi>[1]> = {}): Promise<FakeManagementApi> {
    const s = await startManagementApi(tenant, { clientId: config.auth0.clientId, clientSecret: SECRET, ...options });
    servers.push(s);
    return s;
}

async function adopt(s: FakeManagementApi, overrides: Partial<Parameters<typeof adoptTenant>[0]> = {}): Promise<AdoptResult> {
    return await adoptTenant({ config, stackRef: "acme/dev", clientSecret: SECRET, baseUrl: s.url, importFilePath: ".adopt/dev.import.json", ...overrides });
}

beforeAll(async () => {
    config = readStackConfig(ROOT, "dev").config;
    t = testTenant(config.auth0.domain, desiredSettings(config));
    server = await serve(t.tenant, { rateLimitEvery: 5 });
    result = await adopt(server);
});
afterAll(async () => {
    for (const s of servers) await s.close();
});

describe("adopting the test tenant", () => {
    it("finds each object the stack would create: the SPA by name, the API by identifier, roles by name, Actions by name, the bindings, the connection, the management client and its grant", () => {
        const byName = Object.fromEntries(result.discovery.found.map((f) => [f.planned.name, f.importId]));
        const p = STACK_ROOT_NAME;
        expect(byName).toEqual({
            [`${p}-apps-spa`]: t.ids.spa,
            [`${p}-apps-api`]: t.ids.api,
            [`${p}-apps-api-permissions`]: config.api.identifier,
            [`${p}-apps-role-user`]: t.ids["role:user"],
            [`${p}-apps-role-user-permissions`]: t.ids["role:user"],
            [`${p}-apps-role-editor`]: t.ids["role:editor"],
            [`${p}-apps-role-editor-permissions`]: t.ids["role:editor"],
            [`${p}-apps-management-client`]: t.ids.managementClient,
            [`${p}-apps-management-client-credentials`]: t.ids.managementClient,
            [`${p}-apps-management-grant`]: t.ids.grant,
            [`${p}-users-connection`]: t.ids.connection,
            [`${p}-users-clients`]: t.ids.connection,
            [`${p}-post-login-profile-defaults`]: t.ids["action:profile-defaults"],
            [`${p}-post-login-hasura-claims`]: undefined,
            [`${p}-post-login-user-sync`]: t.ids["action:user-sync"],
            [`${p}-post-login-binding`]: "post-login",
        });
        expect(result.discovery.blockers).toEqual([]);
        expect(result.importFile).toBeDefined();
    });

    it("follows both kinds of pagination to the end and waits out the 429s as the rate-limit headers say", () => {
        for (const size of Object.values(t.sizes).slice(0, 5)) expect(size).toBeGreaterThan(50);
        expect(result.discovery.counts).toMatchObject({
            clients: t.sizes.clients,
            resourceServers: t.sizes.resourceServers,
            roles: t.sizes.roles,
            actions: t.sizes.actions,
            connections: t.sizes.connections,
        });
        const paths = server.requests.map((r) => r.path);
        expect(paths).toContain("/api/v2/clients?page=2&per_page=50&include_totals=true");
        expect(paths).toContain("/api/v2/actions/actions?page=1&per_page=50&include_totals=true");
        expect(paths.some((p) => /^\/api\/v2\/connections\?take=50&from=[\w-]+$/.test(p))).toBe(true);
        const limited = server.requests.filter((r) => r.status === 429);
        expect(limited.length).toBeGreaterThan(2);
        expect(result.stats.rateLimited).toBe(limited.length);
        // Each 429 was followed by the same request, not before the x-ratelimit-reset it was told, and answered.
        for (const r of limited) {
            const i = server.requests.indexOf(r);
            const retry = server.requests.slice(i + 1).find((x) => x.path === r.path);
            expect(retry?.status, r.path).toBe(200);
            expect(retry!.at, r.path).toBeGreaterThanOrEqual(r.reset! * 1000 - 5);
        }
    });

    it("never writes to the tenant: one sign-in, then GETs only", () => {
        const writes = server.requests.filter((r) => r.method !== "GET").map(({ method, path, status }) => ({ method, path, status }));
        expect(writes).toEqual([{ method: "POST", path: "/oauth/token", status: 200 }]);
    });

    it("prints per object what the first up changes, and what the tenant has that the stack does not declare", () => {
        const r = result.report;
        expect(r).toMatch(/^Adoption of tenant acme-dev\.eu\.auth0\.com by stack acme\/dev \(read-only: nothing in the tenant was changed\)\./);
        expect(r).toMatch(/Found, to import \(15 of the 16 Auth0 resources the stack registers\):/);
        expect(r).toMatch(
            new RegExp(
                `= ${STACK_ROOT_NAME}-apps-spa \\(auth0:index/client:Client\\) <- client "auth0-postgres \\(dev\\)" \\(${t.ids.spa}\\)\\n {6}~ callbacks: `,
            ),
        );
        expect(r).toContain('~ refresh_token.rotation_type: "non-rotating" → "rotating"');
        expect(r).toContain("~ token_lifetime: 7200 → 3600");
        expect(r).toMatch(/= auth0-postgres-apps-role-user \(auth0:index\/role:Role\) <- role "user" \([\w_]+\)\n {6}matches the stack's config/);
        expect(r).toContain('~ name: "Editor" → "editor"');
        expect(r).toContain('~ permissions: [] → ["https://api.dev.acme.test read:profiles","https://api.dev.acme.test write:profiles"]');
        expect(r).toMatch(/~ code: sha256:[0-9a-f]{12} \(\d+ chars\) → the stack's sha256:[0-9a-f]{12} \(\d+ chars\)/);
        expect(r).toContain("~ deployed: the latest version is not deployed → deployed");
        expect(r).toMatch(/~ options\.customScripts\.login: sha256:[0-9a-f]{12} \(\d+ chars\) → the stack's script/);
        expect(r).toContain('~ options.configuration keys: ["DB_PASSWORD"] →');
        expect(r).toContain(
            '~ bound, in order: ["Require MFA","auth0-postgres-dev-profile-defaults","auth0-postgres-dev-user-sync"] → ["auth0-postgres-dev-profile-defaults","auth0-postgres-dev-hasura-claims","auth0-postgres-dev-user-sync"]',
        );
        expect(r).toMatch(
            /Not found: the first up creates them \(1\):\n {2}\+ auth0-postgres-post-login-hasura-claims \(auth0:index\/action:Action\): no Action named "auth0-postgres-dev-hasura-claims"/,
        );
        expect(r).toContain('Action "Require MFA" is bound to post-login: the first up unbinds it');
        expect(r).toContain(`is enabled for client "Legacy portal" (${t.ids.legacy}): the first up disables it there`);
        expect(r).toContain('is enabled on connection "Username-Password-Authentication" (auth0): the first up takes it off');
        expect(r).toContain("the tenant flag enable_client_connections is on");
        expect(r).toContain("70 other role(s) in the tenant, left alone by the stack");
        expect(r).toMatch(
            /Fix before the first up:\n {2}- connection "postgres-users" .* holds configuration key\(s\) DB_PASSWORD that the stack does not send/,
        );
        expect(r).toContain("--target 'urn:pulumi:dev::auth0-postgres::auth0-postgres:index:Stack$pulumi:providers:auth0::auth0-postgres-auth0'");
        expect(r).toContain("pulumi import --stack acme/dev --file .adopt/dev.import.json --generate-code=false --yes");
        expect(r).not.toContain(SECRET);
    });
});

describe("the import file under the mock runtime", () => {
    const built = {} as Record<(typeof STACKS)[number], MockedStack>;
    beforeAll(async () => {
        for (const stack of STACKS) built[stack] = await buildMockedStack("auth0-postgres", stack);
    });

    /**
     * The chain of `type name` from an entry up through its parents (entries of the file, then the
     * name table's URNs). Compared with the registered resources' chains rather than URN texts:
     * the mock monitor builds a child's URN with its parent's own type only, where the engine puts
     * the parent's whole type chain; names, types and parents are what the import must match.
     */
    function chainOfEntry(file: ImportFile, name: string): string[] {
        const urn = file.nameTable[name];
        if (urn) return [`${urn.split("::")[2]!.split("$").pop()} ${urn.split("::").at(-1)}`];
        const spec = file.resources.find((r) => r.name === name);
        if (!spec) throw new Error(`no entry ${name}`);
        return [`${spec.type} ${spec.logicalName ?? spec.name}`, ...(spec.parent ? chainOfEntry(file, spec.parent) : [])];
    }

    function chainOfRegistered(run: MockedStack["run"], urn: string | undefined): string[] {
        const r = run.resources.find((x) => x.urn === urn);
        return r ? [`${r.type} ${r.name}`, ...chainOfRegistered(run, r.parentUrn)] : [];
    }

    it("each entry is a resource the program registers: same type, name and parents, the stack's Auth0 provider", () => {
        const { run } = built.dev;
        const file = result.importFile!;
        const provider = run.ofType("pulumi:providers:auth0")[0]!;
        const root = run.ofType("auth0-postgres:index:Stack")[0]!;
        // Both are children of the stack itself: their URNs are the same in the engine and the mocks.
        expect(file.nameTable).toEqual({ [root.name]: root.urn, [provider.name]: provider.urn });
        const imported = new Set<string>();
        for (const spec of file.resources) {
            const registered = run.resources.filter((r) => r.type === spec.type && r.name === (spec.logicalName ?? spec.name));
            expect(registered, `${spec.type} ${spec.name}`).toHaveLength(1);
            const r = registered[0]!;
            imported.add(r.urn);
            expect(chainOfEntry(file, spec.name), spec.name).toEqual(chainOfRegistered(run, r.urn));
            if (spec.component) {
                expect(spec.id).toBeUndefined();
            } else {
                expect(spec.id, spec.name).toMatch(/.+/);
                expect(spec.provider).toBe(provider.name);
                expect(r.provider).toBe(`${provider.urn}::${provider.name}_id`);
            }
        }
        // Every Auth0 resource the program registers is imported, but the one Action the tenant lacks.
        const notImported = run.resources.filter((r) => r.type.startsWith("auth0:index/") && !imported.has(r.urn)).map((r) => r.name);
        expect(notImported).toEqual([`${STACK_ROOT_NAME}-post-login-hasura-claims`]);
    });

    it("the targets of the step before the import are the root component, the settings guard and the Auth0 provider the program registers", () => {
        const urns = new Set(built.dev.run.resources.map((r) => r.urn));
        const targets = bootstrapTargets(result.plan);
        expect(targets).toHaveLength(3);
        for (const urn of targets) expect(urns.has(urn), urn).toBe(true);
        expect(targets.map((u) => u.split("::").at(-1))).toEqual([STACK_ROOT_NAME, `${STACK_ROOT_NAME}-settings-guard`, `${STACK_ROOT_NAME}-auth0`]);
    });

    it.each(STACKS)("for the %s stack the tool plans exactly the Auth0 resources the program registers (type, name, parent)", (stack) => {
        const { run } = built[stack];
        const plan = auth0Plan(readStackConfig(ROOT, stack).config);
        const nameOf = new Map(run.resources.map((r) => [r.urn, r.name]));
        const registered = run.resources
            .filter((r) => r.type.startsWith("auth0:index/") || r.type.startsWith("auth0-postgres:auth0:") || r.type === "pulumi:providers:auth0")
            .map((r) => `${r.type} ${r.name} < ${nameOf.get(r.parentUrn ?? "") ?? "-"}`)
            .sort();
        const planned = [...plan.resources, ...Object.values(plan.components), plan.provider].map((r) => `${r.type} ${r.name} < ${r.parent ?? "-"}`).sort();
        expect(planned).toEqual(registered);
        expect(plan.root.name).toBe(STACK_ROOT_NAME);
    });
});

describe("errors say what to check, never the secret", () => {
    const expectError = async (p: Promise<unknown>, message: RegExp) => {
        const err = await p.then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AdoptError);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message).not.toContain(SECRET);
        return err as Error;
    };

    it("bad credentials", async () => {
        const s = await serve(t.tenant);
        await expectError(
            adopt(s, { clientSecret: `${SECRET}-wrong` }),
            /acme-dev\.eu\.auth0\.com refused the deploy application's credentials \(HTTP 401: Unauthorized\): check auth0\.clientId \(DevDeployClientId0+\) and the client secret/,
        );
    });

    it("a missing scope, named", async () => {
        const s = await serve(t.tenant, { scopes: READ_SCOPES.filter((x) => x !== "read:roles") });
        await expectError(
            adopt(s),
            /lacks the scope read:roles \(GET \/api\/v2\/roles: HTTP 403 Insufficient scope, expected any of: read:roles\): grant it on the Auth0 Management API/,
        );
    });

    it("a deploy application not authorized on the Management API", async () => {
        const s = await serve(t.tenant, { authorized: false });
        await expectError(adopt(s), /may not call the Management API of acme-dev\.eu\.auth0\.com \(HTTP 403: Client is not authorized/);
    });

    it("a wrong domain: nothing answers, or not like an Auth0 tenant", async () => {
        const port = await freePort();
        await expectError(
            adopt(server, { baseUrl: `http://127.0.0.1:${port}` }),
            /^cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): check auth0\.domain \(acme-dev\.eu\.auth0\.com\) in the stack file$/,
        );
        const web = createServer((_req, res) => {
            res.writeHead(404, { "content-type": "text/html" });
            res.end("<html>Not here</html>");
        });
        await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
        try {
            const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
            await expectError(
                adopt(server, { baseUrl: url }),
                /does not answer like an Auth0 tenant \(POST \/oauth\/token: HTTP 404, not JSON\): check auth0\.domain/,
            );
        } finally {
            await new Promise<void>((r) => web.close(() => r()));
        }
    });

    it("a rate limit that does not lift within the bound", async () => {
        const s = await serve(t.tenant, { rateLimitEvery: 1 });
        await expectError(adopt(s, { retry: { maxAttempts: 2 } }), /GET \/api\/v2\/clients still answered 429 after 2 attempts \(retry bound reached\)/);
    });
});

describe("refusals: nothing is written when an object would be replaced or cannot be told apart", () => {
    it("a connection of the stack's name with another strategy, two clients with the SPA's name", async () => {
        const tenant: FakeTenant = structuredClone(t.tenant);
        tenant.connections.find((c) => c.name === config.customDb.connectionName)!.strategy = "google-oauth2";
        tenant.clients.push({ client_id: "duplicateSpaClient0000", name: desiredSettings(config).spa.name, app_type: "spa" });
        const r = await adopt(await serve(tenant));
        expect(r.importFile).toBeUndefined();
        expect(r.discovery.blockers).toEqual([
            `2 objects match the SPA's name "auth0-postgres (dev)": client "auth0-postgres (dev)" (${t.ids.spa}), client "auth0-postgres (dev)" (duplicateSpaClient0000); the stack manages one. Rename or delete the others first`,
            `connection "postgres-users" (${t.ids.connection}, strategy google-oauth2): the stack's connection has strategy auth0 (a database connection); the program would replace this one, deleting its users in Auth0. Give the stack another customDb.connectionName`,
        ]);
        expect(r.report).toMatch(/Blocked: no import file was written, because:/);
    });
});

describe("the command line", () => {
    let work: string;
    beforeAll(() => {
        work = mkdtempSync(join(tmpdir(), "adopt-cli-"));
    });
    afterAll(() => {
        rmSync(work, { recursive: true, force: true });
    });

    it("npm run adopt -- --stack dev: the secret from the environment, the import file written, the report printed, the secret nowhere", async () => {
        const out = join(work, "dev.import.json");
        const run = await runNode(
            ["-r", "ts-node/register/transpile-only", "tools/adopt/index.ts", "--stack", "acme/dev", "--management-url", server.url, "--out", out],
            {
                env: { AUTH0_CLIENT_SECRET: SECRET },
                timeoutMs: 120_000,
            },
        );
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toMatch(/Found, to import \(15 of the 16/);
        expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
        const file = JSON.parse(readFileSync(out, "utf8")) as ImportFile;
        expect(file).toEqual(result.importFile && { ...result.importFile, resources: result.importFile.resources.map((r) => ({ ...r })) });
    });

    it("refuses the secret as an argument, without echoing it", async () => {
        const run = await runNode(["-r", "ts-node/register/transpile-only", "tools/adopt/index.ts", "--stack", "dev", `--client-secret=${SECRET}`], {
            timeoutMs: 60_000,
        });
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(/--client-secret: the deploy application's secret is never an argument/);
        expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
        expect(() => parseArgs(["--stack", "dev", "--secret", "x"])).toThrow(UsageError);
        expect(() => parseArgs(["--stack", "dev", "--password=x"])).toThrow(/never an argument/);
        expect(parseArgs(["--stack", "acme/dev", "--client-secret-stdin"])).toEqual({ stack: "acme/dev", secretFromStdin: true });
    });

    it("reads the secret from AUTH0_CLIENT_SECRET or stdin, and says so when there is none", () => {
        expect(readSecret({ AUTH0_CLIENT_SECRET: " s1 " }, false, true, () => "")).toBe("s1");
        expect(readSecret({}, true, true, () => "s2\n")).toBe("s2");
        expect(readSecret({}, false, false, () => "s3\nignored")).toBe("s3");
        expect(readSecret({ AUTH0_CLIENT_SECRET: "env" }, true, false, () => "stdin")).toBe("stdin");
        expect(() => readSecret({}, false, true, () => "")).toThrow(/set AUTH0_CLIENT_SECRET, or pipe it in/);
    });

    it("a stack without the Auth0 side, or without a stack file, is refused plainly", async () => {
        const run = await runNode(["-r", "ts-node/register/transpile-only", "tools/adopt/index.ts", "--stack", "nosuch"], {
            env: { AUTH0_CLIENT_SECRET: SECRET },
            timeoutMs: 60_000,
        });
        expect(run.code).toBe(1);
        expect(run.stderr).toBe("adopt: no stack file stacks/Pulumi.nosuch.yaml for stack nosuch\n");
    });
});
