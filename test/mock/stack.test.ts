/**
 * The resource graph of each committed stack under Pulumi's mock runtime: parents, names, wiring
 * between the Postgres and Auth0 sides, secrets, protection, and a reviewable plan per stack.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SCRIPT_NAMES } from "../../infra/auth0/scripts";
import { ACTIONS, ACTIONS_RUNTIME } from "../../infra/auth0/actions";
import {
    fakeSecrets,
    isSecret,
    isSecretValue,
    maskSecrets,
    MockRun,
    plainStrings,
    RecordedResource,
    valueOf,
    COMMITTED_STACKS,
    committedStacks,
    PROJECT,
    CommittedStack,
} from "../support/pulumi-mocks";
import { STACK_ROOT_NAME } from "../../infra/stack";

const STACKS = COMMITTED_STACKS;
type StackName = CommittedStack;
const built = committedStacks();

const T = {
    stack: "auth0-postgres:index:Stack",
    client: "auth0:index/client:Client",
    api: "auth0:index/resourceServer:ResourceServer",
    grant: "auth0:index/clientGrant:ClientGrant",
    action: "auth0:index/action:Action",
    trigger: "auth0:index/triggerActions:TriggerActions",
    connection: "auth0:index/connection:Connection",
    connectionClients: "auth0:index/connectionClients:ConnectionClients",
    role: "postgresql:index/role:Role",
    pgGrant: "postgresql:index/grant:Grant",
    schema: "postgresql:index/schema:Schema",
    extension: "postgresql:index/extension:Extension",
    server: "postgresql:index/server:Server",
    migrations: "pulumi-nodejs:dynamic/auth0-postgres:Migrations",
    vault: "pulumi-nodejs:dynamic/auth0-postgres:VaultSecret",
    fdw: "pulumi-nodejs:dynamic/auth0-postgres:ForeignDataWrapper",
    foreignTable: "pulumi-nodejs:dynamic/auth0-postgres:ForeignTable",
    token: "pulumi-nodejs:dynamic/auth0-postgres:ManagementApiToken",
};

function one(run: MockRun, type: string): RecordedResource {
    const all = run.ofType(type);
    expect(all, type).toHaveLength(1);
    return all[0]!;
}

describe.each(STACKS)("stack %s", (stack) => {
    it("registers every resource under the stack component, named from it", () => {
        const { run } = built[stack];
        const root = one(run, T.stack);
        expect(root.parentUrn).toBeUndefined();
        for (const r of run.resources) {
            if (r === root) continue;
            expect(r.parentUrn, `${r.type} ${r.name} has no parent`).toBeDefined();
            expect(r.name.startsWith(`${STACK_ROOT_NAME}-`), `${r.name} is not derived from ${STACK_ROOT_NAME}`).toBe(true);
        }
        expect(new Set(run.resources.map((r) => r.urn)).size).toBe(run.resources.length);
    });

    it("gives every provider-backed resource an explicit provider", () => {
        const { run } = built[stack];
        const auth0 = one(run, "pulumi:providers:auth0");
        const pg = one(run, "pulumi:providers:postgresql");
        for (const r of run.resources) {
            if (r.type.startsWith("auth0:index/")) expect(r.provider, `${r.type} ${r.name}`).toBe(`${auth0.urn}::${auth0.name}_id`);
            if (r.type.startsWith("postgresql:index/")) expect(r.provider, `${r.type} ${r.name}`).toBe(`${pg.urn}::${pg.name}_id`);
        }
        expect(isSecretValue(auth0.raw.clientSecret)).toBe(true);
        expect(isSecretValue(pg.raw.password)).toBe(true);
    });

    it("wires the scripts role's generated password into the connection's configuration, as a secret", () => {
        const { run, config } = built[stack];
        const connection = one(run, T.connection);
        const scriptsPassword = run.find("random:index/randomPassword:RandomPassword", `${STACK_ROOT_NAME}-db-scripts-password`);
        const options = connection.inputs.options as { configuration: Record<string, string>; customScripts: Record<string, string> };
        const url = new URL(options.configuration.DB_URL!);
        expect(decodeURIComponent(url.password)).toBe(`${scriptsPassword.name}-generated-password-value`);
        expect(decodeURIComponent(url.username)).toBe(`${config.postgres.rolePrefix}_scripts`);
        expect(url.hostname).toBe(config.postgres.publicHost);
        expect(options.configuration.BCRYPT_COST).toBe(String(config.customDb.bcryptCost));
        expect(isSecretValue((connection.raw.options as Record<string, unknown>).configuration) || isSecretValue(connection.raw.options)).toBe(true);
        expect(connection.additionalSecretOutputs).toContain("options");
        expect(Object.keys(options.customScripts).sort()).toEqual([...SCRIPT_NAMES].sort());
        expect(connection.inputs).toMatchObject({ strategy: "auth0", name: config.customDb.connectionName });
    });

    it("enables the connection for the single-page application", () => {
        const { run } = built[stack];
        const spa = run.ofType(T.client).find((c) => c.inputs.appType === "spa")!;
        expect(one(run, T.connectionClients).inputs.enabledClients).toEqual([`${spa.name}-client-id`]);
    });

    it("deploys the Actions on the pinned runtime, with secret secrets, bound in a fixed order", () => {
        const { run, config } = built[stack];
        const actions = run.ofType(T.action);
        expect(actions.map((a) => a.inputs.runtime)).toEqual(ACTIONS.map(() => ACTIONS_RUNTIME));
        for (const a of actions) {
            expect(a.inputs.deploy).toBe(true);
            for (const s of (a.raw.secrets as unknown[]) ?? []) expect(isSecretValue(s) || isSecretValue((s as Record<string, unknown>).value)).toBe(true);
            expect(a.additionalSecretOutputs).toContain("secrets");
        }
        const binding = one(run, T.trigger);
        expect(binding.inputs.trigger).toBe("post-login");
        expect((binding.inputs.actions as { id: string }[]).map((a) => a.id)).toEqual(ACTIONS.map((a) => `${STACK_ROOT_NAME}-post-login-${a.key}-id`));
        const sync = actions.find((a) => a.name.endsWith("user-sync"))!;
        const syncSecrets = Object.fromEntries((sync.inputs.secrets as { name: string; value: string }[]).map((s) => [s.name, s.value]));
        const syncUrl = new URL(syncSecrets.DB_URL!);
        expect(decodeURIComponent(syncUrl.username)).toBe(`${config.postgres.rolePrefix}_sync`);
        expect(decodeURIComponent(syncUrl.password)).toBe(`${STACK_ROOT_NAME}-db-sync-password-generated-password-value`);
        expect(syncSecrets.SYNC_BLOCKS_LOGIN).toBe(String(config.sync.blocksLogin));
        // The claims carry only the stack's allow-list (the default role and the API's roles), never Hasura's admin role.
        const claims = actions.find((a) => a.name.endsWith("hasura-claims"))!;
        const claimsSecrets = Object.fromEntries((claims.inputs.secrets as { name: string; value: string }[]).map((s) => [s.name, s.value]));
        expect(claimsSecrets).toEqual({
            DEFAULT_ROLE: "user",
            ALLOWED_ROLES: stack === "local" ? "user" : "user,editor",
            // Supabase third-party auth is on in the committed dev, staging and prod stacks.
            ...(stack === "local" ? {} : { SUPABASE_ROLE: "authenticated" }),
        });
    });

    it("declares the API with RS256 and the audience, and the SPA with rotating refresh tokens", () => {
        const { run, config } = built[stack];
        expect(one(run, T.api).inputs).toMatchObject({
            identifier: config.api.identifier,
            signingAlg: "RS256",
            tokenLifetime: config.api.tokenLifetime,
            enforcePolicies: true,
        });
        const spa = run.ofType(T.client).find((c) => c.inputs.appType === "spa")!;
        expect(spa.inputs).toMatchObject({
            callbacks: config.spa.callbacks,
            webOrigins: config.spa.webOrigins,
            allowedLogoutUrls: config.spa.logoutUrls,
            oidcConformant: true,
            grantTypes: ["authorization_code", "refresh_token"],
            jwtConfiguration: { alg: "RS256" },
            refreshToken: { rotationType: "rotating", expirationType: "expiring" },
        });
    });

    it("exports the Hasura JWT config for this tenant and API", async () => {
        const { outputs, config } = built[stack];
        expect(JSON.parse(await valueOf(outputs.hasuraJwtConfig!))).toEqual({
            jwk_url: `https://${config.auth0.domain}/.well-known/jwks.json`,
            issuer: `https://${config.auth0.domain}/`,
            audience: config.api.identifier,
            claims_namespace: "https://hasura.io/jwt/claims",
        });
        expect(await isSecret(outputs.hasuraJwtConfig!)).toBe(false);
    });

    it("never creates a privileged database role", () => {
        for (const role of built[stack].run.ofType(T.role)) {
            expect(role.inputs).toMatchObject({
                superuser: false,
                createRole: false,
                createDatabase: false,
                replication: false,
                bypassRowLevelSecurity: false,
            });
            if (role.inputs.login) expect(isSecretValue(role.raw.password)).toBe(true);
            else expect(role.inputs.password).toBeUndefined();
        }
    });

    it("keeps every secret of the stack's config and every generated credential out of plain inputs", () => {
        const { run } = built[stack];
        const secretValues = [
            ...Object.values(fakeSecrets(stack)),
            ...run.ofType("random:index/randomPassword:RandomPassword").map((r) => `${r.name}-generated-password-value`),
            ...run.ofType("auth0:index/clientCredentials:ClientCredentials").map((r) => `${r.name}-client-secret-value`),
            ...run.ofType(T.token).map((r) => `${r.name}-management-token-value`),
        ];
        for (const r of run.resources) {
            for (const { path, value } of plainStrings(r.raw)) {
                for (const secret of secretValues) expect(value.includes(secret), `${r.type} ${r.name} ${path} holds a secret in plain text`).toBe(false);
            }
        }
    });
});

describe("per-environment differences", () => {
    it("Supabase features only where the stack turns them on", () => {
        for (const stack of STACKS) {
            const { run, config } = built[stack];
            const expected = config.supabase ? 1 : 0;
            for (const type of [T.vault, T.fdw, T.foreignTable, T.token, T.server, T.grant]) expect(run.ofType(type).length, `${stack} ${type}`).toBe(expected);
            expect(
                run
                    .ofType(T.extension)
                    .map((e) => e.inputs.name)
                    .sort(),
            ).toEqual(config.supabase ? ["supabase_vault", "wrappers"] : []);
        }
        expect(built.local.config.supabase).toBe(false);
        expect(built.prod.config.supabase).toBe(true);
    });

    it("the foreign server reads the token by Vault id, and the token is for the Management API", () => {
        const { run, config } = built.dev;
        const server = one(run, T.server);
        expect(server.inputs).toMatchObject({
            fdwName: "auth0_wrapper",
            options: { url: `https://${config.auth0.domain}/api/v2/users`, api_key_id: "00000000-0000-4000-8000-000000000001" },
        });
        expect((server.inputs.options as Record<string, string>).api_key).toBeUndefined();
        expect(one(run, T.grant).inputs).toMatchObject({ audience: `https://${config.auth0.domain}/api/v2/`, scopes: ["read:users"] });
        const token = one(run, T.token);
        expect(token.inputs).toMatchObject({ audience: `https://${config.auth0.domain}/api/v2/`, tokenUrl: `https://${config.auth0.domain}/oauth/token` });
        expect(isSecretValue(token.raw.clientSecret)).toBe(true);
        const vault = one(run, T.vault);
        expect(isSecretValue(vault.raw.secret)).toBe(true);
        expect(vault.inputs.secret).toBe(`${token.name}-management-token-value`);
    });

    it("prod protects what holds data or identity and retains database objects", () => {
        const { run, config } = built.prod;
        expect(config.protect).toBe(true);
        for (const type of [T.schema, T.migrations, T.connection, T.api, T.vault]) {
            for (const r of run.ofType(type).filter((x) => type !== T.schema || x.inputs.name === config.postgres.schema)) {
                expect(r.protect, `${type} ${r.name}`).toBe(true);
            }
        }
        for (const type of [T.role, T.pgGrant, T.schema, T.server, T.extension, T.vault, T.fdw, T.foreignTable]) {
            for (const r of run.ofType(type)) expect(r.retainOnDelete, `${type} ${r.name}`).toBe(true);
        }
    });

    it("dev and local protect nothing, and only local may drop tables", () => {
        for (const stack of ["local", "dev"] as const) {
            for (const r of built[stack].run.resources) expect(r.protect, `${stack} ${r.type} ${r.name}`).toBe(false);
        }
        expect(built.local.run.ofType(T.migrations)[0]!.inputs.allowDataLoss).toBe(true);
        expect(built.dev.run.ofType(T.migrations)[0]!.inputs.allowDataLoss).toBe(false);
    });

    it("http callbacks only on local", () => {
        const spaOf = (s: StackName) => built[s].run.ofType(T.client).find((c) => c.inputs.appType === "spa")!;
        expect((spaOf("local").inputs.callbacks as string[]).every((u) => u.startsWith("http://localhost"))).toBe(true);
        for (const s of ["dev", "staging", "prod"] as const) expect((spaOf(s).inputs.callbacks as string[]).every((u) => u.startsWith("https://"))).toBe(true);
    });
});

/** A reviewable plan: what a `pulumi preview` would create, secrets masked, long code digested. */
function plan(run: MockRun): unknown[] {
    const nameOf = new Map(run.resources.map((r) => [r.urn, r.name]));
    const digestLong = (v: unknown): unknown => {
        if (typeof v === "string" && v.length > 240) return `sha256:${createHash("sha256").update(v).digest("hex").slice(0, 16)} (${v.length} chars)`;
        if (Array.isArray(v)) return v.map(digestLong);
        if (v && typeof v === "object")
            return Object.fromEntries(
                Object.entries(v)
                    .filter(([k]) => k !== "__provider")
                    .map(([k, x]) => [k, digestLong(x)]),
            );
        return v;
    };
    return run.resources
        .map((r) => ({
            type: r.type,
            name: r.name,
            parent: r.parentUrn ? nameOf.get(r.parentUrn) : undefined,
            ...(r.protect ? { protect: true } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            inputs: digestLong(maskSecrets(r.raw)),
        }))
        .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

describe.each(STACKS)("grant ordering in the %s stack", (stack) => {
    /** The catalog row each grant rewrites, from its inputs (as the provider reads them). */
    const targets = (g: RecordedResource): string[] => {
        const i = g.inputs as { database: string; objectType: string; schema?: string; objects?: string[] };
        if (i.objectType === "database") return [`database:${i.database}`];
        if (i.objectType === "schema") return [`schema:${i.database}.${i.schema}`];
        const kind = i.objectType === "function" ? "function" : "relation";
        return (i.objects ?? []).map((o) => `${kind}:${i.database}.${i.schema}.${o}`);
    };

    it("two grants that rewrite one catalog row (database, schema, table with its columns, function) never run at once", () => {
        const { run } = built[stack];
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        // Everything a resource waits for, directly or through what it waits for (and its parents' waits).
        const waitsFor = (r: RecordedResource, seen = new Set<string>()): Set<string> => {
            for (const urn of r.dependencies) {
                if (seen.has(urn)) continue;
                seen.add(urn);
                const dep = byUrn.get(urn);
                if (dep) waitsFor(dep, seen);
            }
            return seen;
        };
        const grants = run.ofType(T.pgGrant);
        expect(grants.length).toBeGreaterThan(5);
        const racing: string[] = [];
        let pairs = 0;
        for (const [i, a] of grants.entries()) {
            for (const b of grants.slice(i + 1)) {
                if (!targets(a).some((t) => targets(b).includes(t))) continue;
                pairs++;
                if (!waitsFor(a).has(b.urn) && !waitsFor(b).has(a.urn)) racing.push(`${a.name} / ${b.name}`);
            }
        }
        expect(pairs).toBeGreaterThan(3);
        expect(racing).toEqual([]);
    });
});

describe.each(STACKS)("the settings guard of the %s stack", (stack) => {
    it("pins the schema, the role prefix and the connection name, and both providers wait for it", () => {
        const { run, config } = built[stack];
        const guard = one(run, "pulumi-nodejs:dynamic/auth0-postgres:SettingsGuard");
        expect((guard.inputs.settings as { key: string; value: string }[]).map((s) => [s.key, s.value])).toEqual([
            [`${PROJECT}:postgres.schema`, config.postgres.schema],
            [`${PROJECT}:postgres.rolePrefix`, config.postgres.rolePrefix],
            [`${PROJECT}:customDb.connectionName`, config.customDb.connectionName],
        ]);
        expect(guard.inputs.allowDataLoss).toBe(config.allowDataLoss);
        for (const type of ["pulumi:providers:postgresql", "pulumi:providers:auth0"]) {
            expect(one(run, type).dependencies, type).toContain(guard.urn);
        }
    });
});

describe("reviewable plans", () => {
    it.each(STACKS)("the %s plan matches the committed snapshot (update with `npx vitest -u` and review the diff)", async (stack) => {
        await expect(JSON.stringify(plan(built[stack].run), null, 2) + "\n").toMatchFileSnapshot(`../plans/${stack}.json`);
    });
});
