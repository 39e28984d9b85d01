/**
 * Serializes every dynamic provider exactly as `pulumi up` does, OUTSIDE vitest (whose module
 * transform breaks Pulumi's closure serialization): under ts-node with the project's tsconfig,
 * as `@pulumi/pulumi/cmd/run` loads a TypeScript program.
 *
 *   node -r ts-node/register test/serialization/serialize-providers.ts <outDir>
 *
 * 1. `pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })` for each provider
 *    (what `pulumi.dynamic.Resource` does, `dynamic/index.js` serializeFunctionMaybeSecret), the
 *    text written to `<outDir>/<Type>.js` for `host.ts` to load as the provider host does.
 * 2. Each text is searched for secret-looking values: those in `SERIALIZE_FORBIDDEN` (a JSON
 *    array the test passes: the database URL and password) and every environment variable named
 *    like a secret. A canary provider that does capture a secret proves the search finds one.
 * 3. Under Pulumi's mock runtime, each resource class is constructed: its type token, the
 *    `__provider` text it registers (the same text), its secret inputs and
 *    additionalSecretOutputs, and that its declared outputs resolve.
 *
 * Prints one line `REPORT <json>` on stdout; exits non-zero on an unexpected error.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ManagementApiToken, managementApiTokenProvider } from "../../infra/dynamic/management-token";
import { ClientConnections, clientConnectionsProvider } from "../../infra/dynamic/client-connections";
import type { PgConnectionInfo } from "../../infra/dynamic/connection";
import { SettingsGuard, settingsGuardProvider } from "../../infra/dynamic/settings-guard";
import { SupabaseThirdPartyAuth, thirdPartyAuthProvider } from "../../infra/dynamic/supabase-third-party-auth";
import {
    DatabaseSecurity,
    databaseSecurityProvider,
    ForeignDataWrapper,
    foreignDataWrapperProvider,
    ForeignTable,
    foreignTableProvider,
    Migrations,
    migrationsProvider,
    VaultSecret,
    vaultSecretProvider,
} from "../../infra/dynamic";
import { checksum } from "../../infra/postgres/migrations";
import { securityModel } from "../../infra/postgres/security";

const PROVIDERS: Record<string, pulumi.dynamic.ResourceProvider> = {
    Migrations: migrationsProvider,
    VaultSecret: vaultSecretProvider,
    ForeignDataWrapper: foreignDataWrapperProvider,
    ForeignTable: foreignTableProvider,
    ManagementApiToken: managementApiTokenProvider,
    DatabaseSecurity: databaseSecurityProvider,
    SettingsGuard: settingsGuardProvider,
    SupabaseThirdPartyAuth: thirdPartyAuthProvider,
    ClientConnections: clientConnectionsProvider,
};

const SECRET_ENV = /(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE|DATABASE_URL|CREDENTIAL)/i;

function forbiddenValues(): string[] {
    const given: unknown = JSON.parse(process.env.SERIALIZE_FORBIDDEN ?? "[]");
    const values = Array.isArray(given) ? given.filter((v): v is string => typeof v === "string") : [];
    for (const [name, value] of Object.entries(process.env)) {
        if (SECRET_ENV.test(name) && name !== "SERIALIZE_FORBIDDEN" && value && value.length >= 8) values.push(value);
    }
    return values.filter((v) => v.length >= 6);
}

/** How many of the forbidden values appear in `text` (never which: that would print them). */
function countLeaks(text: string, forbidden: string[]): number {
    return forbidden.filter((v) => text.includes(v)).length;
}

/** The module names the text `require`s (node_modules packages and built-ins only, if all is well). */
function requires(text: string): string[] {
    return [...new Set([...text.matchAll(/require\(("[^"]*"|'[^']*')\)/g)].map((m) => JSON.parse(m[1]!.replace(/^'|'$/g, '"')) as string))].sort();
}

async function serialize(provider: unknown): Promise<pulumi.runtime.SerializedFunction> {
    return await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

type Struct = { toJavaScript(): Record<string, unknown> };
interface RegisterRequest {
    getType(): string;
    getObject(): Struct;
    getAdditionalsecretoutputsList(): string[];
}
type Monitor = { registerResource: (req: RegisterRequest, cb: (err: unknown, res: unknown) => void) => void };
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

interface Registered {
    providerText: string;
    secretInputs: string[];
    additionalSecretOutputs: string[];
}

async function underMocks(texts: Record<string, string>, forbidden: string[]) {
    const registered = new Map<string, Registered>();
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                const computed: Record<string, Record<string, unknown>> = {
                    Migrations: { applied: ["001_a"] },
                    VaultSecret: { secretId: "00000000-0000-4000-8000-000000000001" },
                    ManagementApiToken: { token: "mock-token", expiresAt: "2030-01-01T00:00:00.000Z", scope: "read:users" },
                    DatabaseSecurity: { drift: [] },
                    SupabaseThirdPartyAuth: { integrationId: "00000000-0000-4000-8000-0000000000aa", type: "auth0" },
                    ClientConnections: { removed: ["spa google-oauth2"] },
                };
                const type = args.type.split(":").at(-1)!;
                return { id: `${args.name}-id`, state: { ...args.inputs, ...(computed[type] ?? {}) } };
            },
            call: (args) => args.inputs,
        },
        "serialization",
        "test",
        false,
    );
    const monitor = (pulumi.runtime as unknown as { getMonitor(): Monitor }).getMonitor();
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
        const raw = req.getObject().toJavaScript();
        const secretInputs = Object.entries(raw)
            .filter(([, v]) => v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG)
            .map(([k]) => k)
            .sort();
        const providerText = raw.__provider;
        registered.set(req.getType(), {
            providerText: typeof providerText === "string" ? providerText : JSON.stringify(providerText),
            secretInputs,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        });
        original(req, cb);
    };

    // Inputs with a password of their own: it must reach the resource's inputs, never the provider text.
    const inputPassword = `input-password-${randomBytes(9).toString("hex")}`;
    forbidden.push(inputPassword);
    const connection: PgConnectionInfo = {
        host: "db.example",
        port: 5432,
        database: "postgres",
        user: "postgres",
        password: inputPassword,
        sslMode: "require",
    };
    const up = "CREATE TABLE app.a (id int)";
    const migrations = new Migrations("m", { connection, schema: "app", migrations: [{ id: "001_a", up, down: "", checksum: checksum(up) }] });
    const secret = new VaultSecret("v", { connection, name: "n", secret: "vault-value" });
    const fdw = new ForeignDataWrapper("w", { connection, name: "auth0_wrapper", handler: "extensions.h", validator: "extensions.v" });
    const table = new ForeignTable("t", {
        connection,
        schema: "auth0",
        name: "users",
        server: "s",
        columns: [{ name: "email", type: "text" }],
        options: { object: "users" },
    });
    const security = new DatabaseSecurity("s", { connection, model: securityModel("app", { scripts: "p_scripts", sync: "p_sync", app: "p_app_reader" }) });
    const guard = new SettingsGuard("g", {
        settings: [{ key: "p:postgres.schema", value: "app", consequence: "c", instead: "i" }],
        allowDataLoss: false,
        allowDataLossKey: "p:allowDataLoss",
    });
    const tpa = new SupabaseThirdPartyAuth("a", {
        projectRef: "abcdefghijklmnopqrst",
        accessToken: "sbp_mock_access_token_value",
        oidcIssuerUrl: "https://t.example/",
    });
    const clients = new ClientConnections("c", {
        domain: "t.example",
        clientId: "c",
        clientSecret: "deploy-secret-value",
        clientIds: ["spa"],
        allowedConnections: ["users"],
    });
    const token = new ManagementApiToken("k", {
        tokenUrl: "https://t.example/oauth/token",
        clientId: "c",
        clientSecret: "client-secret-value",
        audience: "https://t.example/api/v2/",
        refreshBeforeSeconds: 60,
    });

    const outputs = {
        Migrations: await valueOf(migrations.applied),
        VaultSecret: await valueOf(secret.secretId),
        ForeignDataWrapper: await valueOf(fdw.handler),
        ForeignTable: await valueOf(table.columns),
        ManagementApiToken: [await valueOf(token.token), await valueOf(token.expiresAt)],
        DatabaseSecurity: await valueOf(security.drift),
        SettingsGuard: (await valueOf(guard.settings)).map((x) => x.value),
        SupabaseThirdPartyAuth: await valueOf(tpa.integrationId),
        ClientConnections: await valueOf(clients.removed),
    };
    const resources: Record<string, unknown> = {};
    for (const [type, r] of registered) {
        const name = type.split(":").at(-1)!;
        resources[type] = {
            sameTextAsSerialized: r.providerText === texts[name],
            leaks: countLeaks(r.providerText, forbidden),
            secretInputs: r.secretInputs,
            additionalSecretOutputs: r.additionalSecretOutputs,
        };
    }
    return { resources, outputs };
}

async function main(): Promise<void> {
    const outDir = process.argv[2];
    if (!outDir) throw new Error("usage: serialize-providers.ts <outDir>");
    mkdirSync(outDir, { recursive: true });
    const forbidden = forbiddenValues();
    const started = Date.now();

    const providers: Record<string, unknown> = {};
    const texts: Record<string, string> = {};
    for (const [name, provider] of Object.entries(PROVIDERS)) {
        const sf = await serialize(provider);
        texts[name] = sf.text;
        const file = join(outDir, `${name}.js`);
        writeFileSync(file, sf.text);
        providers[name] = {
            file,
            bytes: sf.text.length,
            exportName: sf.exportName,
            containsSecrets: sf.containsSecrets,
            leaks: countLeaks(sf.text, forbidden),
            requires: requires(sf.text),
        };
    }

    // The search must be able to fail: a provider that captures a secret is caught.
    const canarySecret = `canary-${randomBytes(12).toString("hex")}`;
    const leaky: pulumi.dynamic.ResourceProvider = {
        async create() {
            return { id: canarySecret };
        },
    };
    const canary = await serialize(leaky);

    const mocks = await underMocks(texts, forbidden);
    const report = {
        tsNode: Object.keys(require.cache).some((k) => k.includes(`${"node_modules"}/ts-node/`)),
        forbiddenChecked: forbidden.length,
        providers,
        canary: { leaks: countLeaks(canary.text, [...forbidden, canarySecret]), containsSecrets: canary.containsSecrets },
        mocks,
        ms: Date.now() - started,
    };
    process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
