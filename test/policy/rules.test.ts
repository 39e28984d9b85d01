/**
 * Each policy rule, run without the engine: a compliant resource (no violation) and a
 * non-compliant one (the violation, naming the field). Secret-looking test values are built at
 * run time so the repository holds no credential-shaped literal.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
    actionRuntimePinned,
    apiIdentifierAndRs256,
    auth0FdwUsesVaultKeyId,
    classifyUrl,
    clientUrlsHttps,
    customDbModulesPinned,
    findSecretLiterals,
    findUnpinnedRequires,
    hasuraJwtMatchesApi,
    LOOPBACK_HOST,
    noSecretLiteralsInUploadedCode,
    peek,
    policies,
    postgresRoleLeastPrivilege,
    readOnlyRolesOwnNothing,
    stackOfUrn,
    TYPES,
    UNKNOWN,
    UNKNOWN_SENTINELS,
} from "../../policy/rules";
import { customDbScripts } from "../../infra/auth0/scripts";
import { isLoopbackHost, LOOPBACK_HOST as PROGRAM_LOOPBACK_HOST } from "../../infra/config/constants";
import { resourceArgs, stackArgs, stackResource, validateResource, validateStack } from "./support";

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const randomUpper = (n: number) => Array.from(randomBytes(n), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32]).join("");
const randomPassword = () => `pw${randomBytes(9).toString("base64url")}`;

/** A structurally real JWT (header.payload.signature). */
const jwt = () => [b64url({ alg: "RS256", typ: "JWT" }), b64url({ sub: "auth0|x", aud: "https://api.test" }), randomBytes(24).toString("base64url")].join(".");

const actionProps = (code: string, extra: Record<string, unknown> = {}) => ({
    code,
    runtime: "node22",
    deploy: true,
    supportedTriggers: { id: "post-login", version: "v3" },
    ...extra,
});

describe("no-secret-literals-in-uploaded-code", () => {
    const rule = noSecretLiteralsInUploadedCode;

    it("passes Action code that reads its credentials from event.secrets, with the values in `secrets`", async () => {
        const code = [
            "exports.onExecutePostLogin = async (event, api) => {",
            "  const password = event.secrets.DB_PASSWORD;",
            "  const url = `postgres://${event.secrets.DB_USER}:${event.secrets.DB_PASSWORD}@db.example.com/postgres`;",
            "  const headers = { 'x-hasura-admin-secret': event.secrets.HASURA_ADMIN_SECRET, tokenType: 'Bearer' };",
            "  if (password === '') throw new Error('Wrong password');",
            "};",
        ].join("\n");
        // The secrets field carries Pulumi secrets; the engine shows them unwrapped, and they are fine there.
        const secrets = [
            { name: "DB_PASSWORD", value: randomPassword() },
            { name: "HASURA_ADMIN_SECRET", value: jwt() },
        ];
        expect(await validateResource(rule, resourceArgs(TYPES.action, actionProps(code, { secrets })))).toEqual([]);
    });

    it("passes custom-database scripts that use `configuration`, with the DSN in options.configuration", async () => {
        const login =
            "function login(email, password, callback) {\n  const pool = new Pool({ connectionString: configuration.DB_URL, password: configuration.DB_PASSWORD });\n}";
        const props = {
            strategy: "auth0",
            options: {
                customScripts: { login, get_user: "function getByEmail(email, callback) { callback(null); }" },
                configuration: { DB_URL: `postgres://auth0_scripts:${randomPassword()}@db.example.com:5432/postgres` },
            },
        };
        expect(await validateResource(rule, resourceArgs(TYPES.connection, props))).toEqual([]);
    });

    const literalCases: [string, () => string, RegExp][] = [
        ["a password assignment", () => `const dbPassword = "${randomPassword()}";`, /hard-coded password/],
        ["a password property", () => `const opts = { user: "auth0_scripts", password: '${randomPassword()}' };`, /hard-coded password/],
        ["a database URL with credentials", () => `const url = "postgres://auth0_scripts:${randomPassword()}@db.example.com/postgres";`, /database URL/],
        ["a clientSecret literal", () => `const body = { client_id: "abc", clientSecret: "${randomPassword()}" };`, /hard-coded password, secret/],
        ["a form-encoded client_secret", () => `const body = "grant_type=client_credentials&client_secret=${randomPassword()}";`, /client_secret literal/],
        ["a JWT", () => `const token = ${JSON.stringify(jwt()).replace(/^"|"$/g, "'")}.trim();`, /JSON Web Token/],
        ["an AWS access key id", () => `const id = "AKIA${randomUpper(16)}";`, /AWS access key id/],
        ["an AWS secret key", () => `const aws_secret_access_key = "${randomBytes(30).toString("base64")}";`, /AWS secret access key/],
    ];

    for (const [what, line, kind] of literalCases) {
        it(`flags ${what} in Action code, by line, without repeating the value`, async () => {
            const text = line();
            const code = `exports.onExecutePostLogin = async (event, api) => {\n  ${text}\n};`;
            const violations = await validateResource(rule, resourceArgs(TYPES.action, actionProps(code)));
            expect(violations.length).toBeGreaterThan(0);
            expect(violations.some((v) => kind.test(v.message) && v.message.startsWith("code line 2 "))).toBe(true);
            for (const token of text.match(/[A-Za-z0-9+/=_.-]{12,}/g) ?? []) {
                for (const v of violations) expect(v.message).not.toContain(token);
            }
        });
    }

    it("flags a literal in one custom-database script and names the script", async () => {
        const props = {
            options: {
                customScripts: {
                    login: "function login(email, password, callback) { callback(null); }",
                    create: `function create(user, callback) {\n  const client = new Client("postgresql://postgres:${randomPassword()}@db.example.com/postgres");\n}`,
                },
            },
        };
        const violations = await validateResource(rule, resourceArgs(TYPES.connection, props));
        expect(violations.map((v) => v.message.split(" contains ")[0])).toEqual(["options.customScripts.create line 2"]);
    });

    it("finds nothing in the scripts and Actions this project uploads", () => {
        const root = join(__dirname, "..", "..", "infra", "auth0");
        const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) {
            expect({ file, findings: findSecretLiterals(readFileSync(join(root, file), "utf8")) }).toEqual({ file, findings: [] });
        }
    });
});

describe("custom-db-scripts-pin-module-versions", () => {
    const rule = customDbModulesPinned;
    const connection = (customScripts: Record<string, string>) => ({
        strategy: "auth0",
        options: { customScripts, configuration: { DB_URL: "postgres://x" } },
    });

    it("passes scripts that require npm modules at exact versions and core modules as they are", async () => {
        const login = [
            "function login(email, password, callback) {",
            '  var pg = require("pg@8.11.3");',
            "  var bcrypt = require('bcrypt@5.0.1');",
            '  var crypto = require("crypto"), fs = require("node:fs");',
            '  var scoped = require("@scope/pkg@1.2.3-beta.1");',
            "}",
        ].join("\n");
        expect(
            await validateResource(
                rule,
                resourceArgs(TYPES.connection, connection({ login, verify: "function verify(email, callback) { callback(null, true); }" })),
            ),
        ).toEqual([]);
    });

    it("passes the scripts this project uploads, at the default and at other configured versions", async () => {
        expect(await validateResource(rule, resourceArgs(TYPES.connection, connection(customDbScripts())))).toEqual([]);
        expect(await validateResource(rule, resourceArgs(TYPES.connection, connection(customDbScripts({ pg: "8.7.1", bcrypt: "5.1.0" }))))).toEqual([]);
    });

    it("flags an unversioned require, a range or tag, and a computed require, naming the script and the line", async () => {
        const create = [
            "function create(user, callback) {",
            '  var pg = require("pg");',
            "  var bcrypt = require('bcrypt@^5.0.0'); var jwt = require(`jsonwebtoken@latest`);",
            "  var other = require(configuration.MODULE);",
            "}",
        ].join("\n");
        const violations = await validateResource(
            rule,
            resourceArgs(TYPES.connection, connection({ login: "function login(e, p, cb) { cb(null); }", create })),
        );
        expect(violations.map((v) => v.message.split(". Require")[0])).toEqual([
            'options.customScripts.create line 2 requires "pg" without an exact version, so Auth0 would load its default version of it',
            'options.customScripts.create line 3 requires "bcrypt@^5.0.0" without an exact version, so Auth0 would load its default version of it',
            'options.customScripts.create line 3 requires "jsonwebtoken@latest" without an exact version, so Auth0 would load its default version of it',
            "options.customScripts.create line 4 requires a module given by an expression, whose version cannot be checked",
        ]);
        expect(violations.every((v) => v.message.includes('Auth0\'s "Can I require" catalogue'))).toBe(true);
    });

    it("applies to custom-database connections only (Actions declare their dependencies instead)", async () => {
        expect(await validateResource(rule, resourceArgs(TYPES.action, actionProps('const { Pool } = require("pg");')))).toEqual([]);
        expect(findUnpinnedRequires('requireEmail("x"); var x = require ( "lodash" );')).toEqual([{ id: "lodash", line: 1 }]);
    });
});

describe("client-urls-https", () => {
    const rule = clientUrlsHttps;
    const client = (urls: string[]) => ({
        name: "spa",
        appType: "spa",
        callbacks: urls,
        webOrigins: urls.map((u) => new URL(u).origin),
        allowedLogoutUrls: urls,
    });

    it("classifies https, loopback http and other http", () => {
        expect(
            ["https://app.test/cb", "http://localhost:3000/cb", "http://127.0.0.1/cb", "http://localhost.evil.test/cb", "http://app.test"].map(classifyUrl),
        ).toEqual(["https", "loopback", "loopback", "insecure", "insecure"]);
        expect(
            ["http://127.1.2.3:8080/cb", "http://[::1]:3000/cb", "http://LOCALHOST/cb", "http://127.0.0.1@app.test/cb", "http://128.0.0.1/cb"].map(classifyUrl),
        ).toEqual(["loopback", "loopback", "loopback", "insecure", "insecure"]);
    });

    it("means by loopback what the program means (its own copy: the pack runs without infra/)", () => {
        expect(LOOPBACK_HOST.source).toBe(PROGRAM_LOOPBACK_HOST.source);
        expect(LOOPBACK_HOST.flags).toBe(PROGRAM_LOOPBACK_HOST.flags);
        for (const host of ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "localhost.evil.test", "10.0.0.1"]) {
            expect(classifyUrl(`http://${host}/cb`) === "loopback").toBe(isLoopbackHost(host));
        }
    });

    it("reads the stack from the URN", () => {
        expect(stackOfUrn("urn:pulumi:staging::auth0-postgres::auth0:index/client:Client::spa")).toBe("staging");
        expect(() => stackOfUrn("not-a-urn")).toThrow(/not a Pulumi URN/);
    });

    it("passes https everywhere, and loopback http on the local stack", async () => {
        expect(await validateResource(rule, resourceArgs(TYPES.client, client(["https://app.test/callback"]), { stack: "prod" }))).toEqual([]);
        expect(await validateResource(rule, resourceArgs(TYPES.client, client(["http://localhost:3000/callback"]), { stack: "local" }))).toEqual([]);
    });

    it("rejects loopback http on dev, naming each field", async () => {
        const violations = await validateResource(rule, resourceArgs(TYPES.client, client(["http://localhost:3000/callback"]), { stack: "dev" }));
        expect(violations.map((v) => v.message.split(" ")[0])).toEqual(["callbacks[0]", "webOrigins[0]", "allowedLogoutUrls[0]"]);
        expect(violations[0].message).toContain('stack "dev"');
    });

    it("rejects non-loopback http even on local", async () => {
        const violations = await validateResource(
            rule,
            resourceArgs(TYPES.client, { callbacks: ["http://app.test/callback"], allowedOrigins: ["http://app.test"] }, { stack: "local" }),
        );
        expect(violations.map((v) => v.message.split(" ")[0])).toEqual(["callbacks[0]", "allowedOrigins[0]"]);
    });

    it("takes the loopback stacks from policy config", async () => {
        const args = resourceArgs(TYPES.client, client(["http://127.0.0.1:8080/cb"]), { stack: "sandbox", config: { loopbackStacks: ["local", "sandbox"] } });
        expect(await validateResource(rule, args)).toEqual([]);
        const local = resourceArgs(TYPES.client, client(["http://127.0.0.1:8080/cb"]), { stack: "local", config: { loopbackStacks: ["sandbox"] } });
        expect(await validateResource(rule, local)).toHaveLength(3);
    });
});

describe("action-runtime-pinned-and-deployed", () => {
    const rule = actionRuntimePinned;

    it("passes node22 and deploy: true", async () => {
        expect(await validateResource(rule, resourceArgs(TYPES.action, actionProps("exports.onExecutePostLogin = async () => {};")))).toEqual([]);
    });

    it("rejects another or a missing runtime, and an undeployed Action", async () => {
        const old = await validateResource(rule, resourceArgs(TYPES.action, actionProps("x", { runtime: "node18", deploy: false })));
        expect(old.map((v) => v.message.split(" ")[0])).toEqual(["runtime", "deploy"]);
        const unset = await validateResource(rule, resourceArgs(TYPES.action, { code: "x", supportedTriggers: { id: "post-login", version: "v3" } }));
        expect(unset.map((v) => v.message.split(" ")[0])).toEqual(["runtime", "deploy"]);
    });

    it("ignores other resource types", async () => {
        expect(await validateResource(rule, resourceArgs(TYPES.client, { runtime: "node12" }))).toEqual([]);
    });
});

describe("auth0-fdw-uses-vault-key-id (stack)", () => {
    const rule = auth0FdwUsesVaultKeyId;
    const server = (options: unknown, fdwName = "auth0_wrapper") =>
        stackResource(TYPES.pgServer, "server", { serverName: "auth0_auth0_server", fdwName, options });
    const vault = stackResource(TYPES.vaultSecret, "vault", { name: "auth0_auth0_management_api" });

    it("passes api_key_id, on any prefix's wrapper", async () => {
        const options = { url: "https://acme.eu.auth0.com/api/v2/users", api_key_id: "5b2c3f1e-0000-4000-8000-000000000000" };
        expect(await validateStack(rule, stackArgs([server(options), server(options, "acme_dev_wrapper")]))).toEqual([]);
    });

    it("rejects an inline api_key, without repeating it", async () => {
        const key = jwt();
        const violations = await validateStack(rule, stackArgs([server({ url: "https://acme.eu.auth0.com/api/v2/users", api_key: key })]));
        expect(violations.map((v) => v.message.split(" ")[0])).toEqual(["options.api_key", "options.api_key_id"]);
        for (const v of violations) expect(v.message).not.toContain(key);
    });

    it("in a preview, where the options wait for the Vault secret's id: passes when they come from a Vault secret, rejects otherwise", async () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const fromVault = { ...server(unknown), propertyDependencies: { options: [vault] } };
        expect(await validateStack(rule, stackArgs([vault, fromVault]))).toEqual([]);
        const fromElsewhere = { ...server(unknown), propertyDependencies: { options: [stackResource(TYPES.client, "c", {})] } };
        const violations = await validateStack(rule, stackArgs([fromElsewhere]));
        expect(violations.map((v) => v.message)).toEqual([expect.stringMatching(/^options are not known yet and come from no Vault secret/)]);
    });

    it("leaves servers of other wrappers alone", async () => {
        expect(await validateStack(rule, stackArgs([server({ api_key: "x" }, "postgres_fdw")]))).toEqual([]);
    });
});

describe("the engine's unknown-value sentinels", () => {
    it("are the policy SDK's, so peek() recognises every kind", async () => {
        const sdk = createRequire(__filename)("@pulumi/policy/proxy") as Record<string, string>;
        const names = [
            "unknownBooleanValue",
            "unknownNumberValue",
            "unknownStringValue",
            "unknownArrayValue",
            "unknownAssetValue",
            "unknownArchiveValue",
            "unknownObjectValue",
        ];
        expect(new Set(names.map((n) => sdk[n]))).toEqual(UNKNOWN_SENTINELS);
        expect(peek({ a: sdk.unknownObjectValue }, "a")).toBe(UNKNOWN);
    });
});

describe("api-identifier-and-rs256", () => {
    const rule = apiIdentifierAndRs256;

    it("passes an identifier and RS256", async () => {
        expect(await validateResource(rule, resourceArgs(TYPES.resourceServer, { identifier: "https://api.test", signingAlg: "RS256" }))).toEqual([]);
    });

    it("rejects a missing identifier and HS256 or unset signingAlg", async () => {
        const hs = await validateResource(rule, resourceArgs(TYPES.resourceServer, { identifier: "", signingAlg: "HS256" }));
        expect(hs.map((v) => v.message.split(" ")[0])).toEqual(["identifier", "signingAlg"]);
        const unset = await validateResource(rule, resourceArgs(TYPES.resourceServer, { identifier: "https://api.test" }));
        expect(unset.map((v) => v.message.split(" ")[0])).toEqual(["signingAlg"]);
    });
});

describe("postgres-role-least-privilege", () => {
    const rule = postgresRoleLeastPrivilege;

    it("passes a login role with no attributes", async () => {
        const role = {
            name: "auth0_scripts",
            login: true,
            superuser: false,
            createRole: false,
            createDatabase: false,
            replication: false,
            bypassRowLevelSecurity: false,
        };
        expect(await validateResource(rule, resourceArgs(TYPES.pgRole, role))).toEqual([]);
    });

    it("rejects each forbidden attribute", async () => {
        const role = {
            name: "auth0_scripts",
            login: true,
            superuser: true,
            createRole: true,
            createDatabase: true,
            replication: true,
            bypassRowLevelSecurity: true,
        };
        const violations = await validateResource(rule, resourceArgs(TYPES.pgRole, role));
        expect(violations.map((v) => v.message.split(" ")[0])).toEqual(["superuser", "createRole", "createDatabase", "replication", "bypassRowLevelSecurity"]);
    });
});

describe("read-only-roles-own-nothing (stack)", () => {
    const rule = readOnlyRolesOwnNothing;
    const grant = (name: string, role: string, privileges: string[], objectType = "table") =>
        stackResource(TYPES.pgGrant, name, { role, privileges, objectType, database: "postgres", schema: "auth0_app" });

    it("passes when schemas are owned by the admin and read roles own nothing", async () => {
        const resources = [
            grant("app-schema", "auth0_app", ["USAGE"], "schema"),
            grant("app-profiles", "auth0_app", ["SELECT"]),
            grant("scripts-users", "auth0_scripts", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
            stackResource(TYPES.pgSchema, "schema", { name: "auth0_app", owner: "postgres" }),
            stackResource(TYPES.pgDatabase, "db", { name: "app", owner: "postgres" }),
        ];
        expect(await validateStack(rule, stackArgs(resources))).toEqual([]);
    });

    it("rejects a schema or database owned by a role granted only SELECT/USAGE, reporting the owned resource", async () => {
        const schema = stackResource(TYPES.pgSchema, "schema", { name: "auth0_app", owner: "auth0_app" });
        const database = stackResource(TYPES.pgDatabase, "db", { name: "app", owner: "auth0_fdw_reader" });
        const resources = [
            grant("app-schema", "auth0_app", ["USAGE"], "schema"),
            grant("app-profiles", "auth0_app", ["select"]),
            grant("reader", "auth0_fdw_reader", ["SELECT"]),
            schema,
            database,
        ];
        const violations = await validateStack(rule, stackArgs(resources));
        expect(violations.map((v) => v.urn)).toEqual([schema.urn, database.urn]);
        expect(violations[0].message).toMatch(/^schema "auth0_app" is owned by "auth0_app"/);
    });

    it("in a preview: an owner not known yet is the role it comes from, or the admin when it comes from none", async () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const reader = stackResource(TYPES.pgRole, "reader-role", { name: "auth0_fdw_reader" });
        const readerGrant = { ...grant("reader", unknown, ["SELECT"]), propertyDependencies: { role: [reader] } };
        const ownedByReader = { ...stackResource(TYPES.pgSchema, "schema", { name: "auth0", owner: unknown }), propertyDependencies: { owner: [reader] } };
        const violations = await validateStack(rule, stackArgs([reader, readerGrant, ownedByReader]));
        expect(violations.map((v) => v.urn)).toEqual([ownedByReader.urn]);
        const ownedByAdmin = stackResource(TYPES.pgSchema, "schema", { name: "auth0", owner: unknown });
        expect(await validateStack(rule, stackArgs([reader, readerGrant, ownedByAdmin]))).toEqual([]);
    });

    it("does not count a role with a write privilege as read-only", async () => {
        const resources = [grant("sync", "auth0_sync", ["SELECT", "INSERT"]), stackResource(TYPES.pgSchema, "schema", { name: "s", owner: "auth0_sync" })];
        expect(await validateStack(rule, stackArgs(resources))).toEqual([]);
    });
});

describe("hasura-jwt-config-matches-api (stack)", () => {
    const rule = hasuraJwtMatchesApi;
    const api = stackResource(TYPES.resourceServer, "api", { identifier: "https://api.acme.test", signingAlg: "RS256" });
    const jwtConfig = (audience: unknown, issuer = "https://acme.eu.auth0.com/") =>
        JSON.stringify({ jwk_url: "https://acme.eu.auth0.com/.well-known/jwks.json", issuer, audience, claims_namespace: "https://hasura.io/jwt/claims" });
    const stack = (outputs: Record<string, unknown>) => stackResource(TYPES.stack, "auth0-postgres-dev", outputs);

    it("passes when the output's audience is the API identifier", async () => {
        expect(await validateStack(rule, stackArgs([api, stack({ hasuraJwtConfig: jwtConfig("https://api.acme.test"), spaClientId: "abc" })]))).toEqual([]);
    });

    it("has nothing to check while outputs are unknown (preview)", async () => {
        expect(await validateStack(rule, stackArgs([api, stack({})]))).toEqual([]);
    });

    it("in a preview, checks the config when it is known even though other outputs are not", async () => {
        const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        expect(await validateStack(rule, stackArgs([api, stack({ hasuraJwtConfig: jwtConfig("https://api.acme.test"), appliedMigrations: unknown })]))).toEqual(
            [],
        );
        const violations = await validateStack(
            rule,
            stackArgs([api, stack({ hasuraJwtConfig: jwtConfig("https://api.other.test"), appliedMigrations: unknown })]),
        );
        expect(violations).toHaveLength(1);
    });

    it("rejects an audience no API has, a missing key, and a jwk_url on another host", async () => {
        const bad = JSON.stringify({
            jwk_url: "https://evil.test/.well-known/jwks.json",
            issuer: "https://acme.eu.auth0.com/",
            audience: "https://api.other.test",
        });
        const s = stack({ hasuraJwtConfig: bad });
        const violations = await validateStack(rule, stackArgs([api, s]));
        expect(violations.map((v) => v.message)).toEqual([
            "stack output hasuraJwtConfig: claims_namespace is missing or empty.",
            'stack output hasuraJwtConfig: audience "https://api.other.test" is not the identifier of any Auth0 API in this stack ("https://api.acme.test").',
            "stack output hasuraJwtConfig: jwk_url and issuer are on different hosts; both must be the Auth0 tenant.",
        ]);
        expect(violations.every((v) => v.urn === s.urn)).toBe(true);
    });
});

describe("the pack", () => {
    it("has unique names, a description and mandatory enforcement for every rule", () => {
        const names = policies.map((p) => p.name);
        expect(new Set(names).size).toBe(names.length);
        for (const p of policies) {
            expect(p.description.length, p.name).toBeGreaterThan(20);
            expect(p.enforcementLevel, p.name).toBe("mandatory");
        }
    });
});
