import { describe, expect, it } from "vitest";
import { ConfigError, ConfigInput, decodeConfigValue, hasuraAllowedRoles, parseStackConfig } from "../../infra/config";

const PROJECT = "auth0-postgres";

function baseValues(): Record<string, unknown> {
    return {
        environment: "dev",
        supabase: true,
        auth0: { domain: "acme-dev.eu.auth0.com", clientId: "DevDeployClientId000000000000000" },
        spa: {
            callbacks: ["https://dev.app.acme.test/callback"],
            webOrigins: ["https://dev.app.acme.test"],
            logoutUrls: ["https://dev.app.acme.test"],
        },
        api: {
            identifier: "https://api.dev.acme.test",
            permissions: [{ value: "read:profiles", description: "Read" }],
            roles: [{ name: "user", permissions: ["read:profiles"] }],
        },
        postgres: { host: "db.ref.supabase.co" },
    };
}

function input(values: Record<string, unknown> = baseValues(), overrides: Partial<ConfigInput> = {}): ConfigInput {
    return {
        project: PROJECT,
        stack: "dev",
        values,
        secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true } },
        ...overrides,
    };
}

/** Sets `path` (dotted) in a copy of the base values; `undefined` deletes it. */
function withValue(path: string, value: unknown): Record<string, unknown> {
    const values = structuredClone(baseValues());
    const parts = path.split(".");
    let node = values as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) {
        node[p] = node[p] ?? {};
        node = node[p] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    if (value === undefined) delete node[last];
    else node[last] = value;
    return values;
}

function problemsOf(i: ConfigInput): string[] {
    try {
        parseStackConfig(i);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected the configuration to be rejected");
}

describe("a valid configuration", () => {
    it("parses, applies defaults and derives what the program needs", () => {
        const c = parseStackConfig(input());
        expect(c.prefix).toBe("auth0-postgres-dev");
        expect(c.protect).toBe(false);
        expect(c.postgres).toMatchObject({
            port: 5432,
            database: "postgres",
            username: "postgres",
            schema: "auth0_app",
            sslMode: "require",
            publicHost: "db.ref.supabase.co",
            publicPort: 5432,
        });
        expect(c.customDb).toMatchObject({ bcryptCost: 10, connectionName: "postgres-users", importMode: false, poolMax: 5 });
        expect(c.sync).toEqual({ mode: "postgres", blocksLogin: false });
        expect(c.api?.tokenLifetime).toBe(86_400);
    });

    it("takes the environment from a stack named after one, and protects prod by default", () => {
        const values = baseValues();
        delete values.environment;
        const c = parseStackConfig(input(values, { stack: "prod" }));
        expect(c.environment).toBe("prod");
        expect(c.protect).toBe(true);
    });

    it("accepts values as the Pulumi CLI stores them (numbers and booleans as text)", () => {
        const c = parseStackConfig(input({ ...withValue("customDb", { bcryptCost: "12", importMode: "true" }), supabase: "false" }));
        expect(c.customDb.bcryptCost).toBe(12);
        expect(c.customDb.importMode).toBe(true);
        expect(c.supabase).toBe(false);
    });

    it("lets the local environment use http on loopback, no TLS and a low bcrypt cost", () => {
        const values = {
            ...withValue("environment", "local"),
            spa: { callbacks: ["http://localhost:3000/callback"], webOrigins: ["http://localhost:3000"], logoutUrls: [] },
            postgres: { host: "127.0.0.1" },
            customDb: { bcryptCost: 4 },
        };
        const c = parseStackConfig(input(values, { stack: "local" }));
        expect(c.postgres.sslMode).toBe("disable");
        expect(c.customDb.bcryptCost).toBe(4);
    });

    it("requires the Hasura admin secret only for the Hasura sync", () => {
        const values = { ...withValue("sync", { mode: "hasura" }), hasura: { graphqlUrl: "https://hasura.acme.test/v1/graphql" } };
        const secrets = { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true }, hasuraAdminSecret: { encrypted: true } };
        expect(parseStackConfig(input(values, { secrets })).sync.mode).toBe("hasura");
        expect(problemsOf(input(values))).toContain(`${PROJECT}:hasuraAdminSecret: required; set it with \`pulumi config set --secret hasuraAdminSecret\``);
    });
});

describe("hosts, URLs and prod's data safety", () => {
    it("accepts an IPv6 database host, and takes ::1 for loopback", () => {
        const c = parseStackConfig(input(withValue("postgres.host", "2001:db8::10")));
        expect(c.postgres.host).toBe("2001:db8::10");
        expect(parseStackConfig(input({ ...withValue("postgres.host", "::1"), postgres: { host: "::1", sslMode: "disable" } })).postgres.sslMode).toBe(
            "disable",
        );
    });

    it("lets prod weaken its data safety only when overrideProdSafety confirms it", () => {
        const values = { ...withValue("environment", "prod"), protect: false, allowDataLoss: true, overrideProdSafety: true };
        const c = parseStackConfig(input(values, { stack: "prod" }));
        expect([c.protect, c.allowDataLoss]).toEqual([false, true]);
    });
});

describe("the Postgres side alone (postgresOnly)", () => {
    const localValues = (extra: Record<string, unknown> = {}) => ({ environment: "local", postgresOnly: true, postgres: { host: "127.0.0.1" }, ...extra });
    const onlyPostgresPassword = { postgresPassword: { encrypted: true } };

    it("needs neither the Auth0 blocks nor the deploy client's secret on local", () => {
        const c = parseStackConfig(input(localValues(), { stack: "local", secrets: onlyPostgresPassword }));
        expect(c.postgresOnly).toBe(true);
        expect(c.auth0).toBeUndefined();
        expect(c.postgres.sslMode).toBe("disable");
    });

    it("keeps Auth0 blocks a stack file already has, unused", () => {
        const { auth0, spa, api } = baseValues();
        const c = parseStackConfig(input(localValues({ auth0, spa, api }), { stack: "local", secrets: onlyPostgresPassword }));
        expect(c.postgresOnly).toBe(true);
        expect(c.spa).toBeUndefined();
    });

    it("is refused outside local, where it would delete the Auth0 side", () => {
        const problems = problemsOf(input({ ...baseValues(), postgresOnly: true, supabase: false }));
        expect(problems).toContain(
            `${PROJECT}:postgresOnly: only the local environment may deploy the Postgres side alone (on "dev" it would delete the Auth0 side)`,
        );
    });

    it("is refused with Supabase features, whose foreign data wrapper needs the Auth0 side", () => {
        const problems = problemsOf(input(localValues({ supabase: true }), { stack: "local", secrets: onlyPostgresPassword }));
        expect(problems.some((p) => p.startsWith(`${PROJECT}:postgresOnly: cannot be combined with ${PROJECT}:supabase`))).toBe(true);
    });

    it("without it, each missing Auth0 block and the deploy client's secret are named, with the way out", () => {
        const problems = problemsOf(input({ environment: "local", postgres: { host: "127.0.0.1" } }, { stack: "local", secrets: onlyPostgresPassword }));
        expect(problems).toContain(`${PROJECT}:auth0ClientSecret: required; set it with \`pulumi config set --secret auth0ClientSecret\``);
        for (const key of ["auth0", "spa", "api"]) {
            expect(problems).toContain(`${PROJECT}:${key}: required (or set ${PROJECT}:postgresOnly to deploy the Postgres side alone, local only)`);
        }
    });
});

/** Each bad configuration, and the key its message must name. */
const INVALID: [string, ConfigInput, string][] = [
    [
        "missing environment on a stack not named after one",
        input(withValue("environment", undefined), { stack: "sandbox" }),
        `${PROJECT}:environment: required`,
    ],
    ["unknown environment", input(withValue("environment", "qa")), `${PROJECT}:environment`],
    ["environment contradicting the stack name", input(withValue("environment", "prod")), `${PROJECT}:environment: is "prod" but the stack is named "dev"`],
    ["unknown top-level key", input({ ...baseValues(), databse: {} }), `${PROJECT}:databse: unknown key`],
    ["unknown nested key", input(withValue("postgres.hots", "x")), `${PROJECT}:postgres.hots: unknown key`],
    [
        "a Supabase schema as the user store's",
        input(withValue("postgres.schema", "graphql_public")),
        `${PROJECT}:postgres.schema: must not be a schema Postgres or Supabase owns`,
    ],
    [
        "a host with a port",
        input(withValue("postgres.host", "db.acme.test:5432")),
        `${PROJECT}:postgres.host: must be a host name, an IPv4 address or an IPv6 address`,
    ],
    [
        "a Hasura URL carrying credentials",
        input(withValue("hasura.graphqlUrl", "https://admin:hunter2@hasura.acme.test/v1/graphql")),
        `${PROJECT}:hasura.graphqlUrl: must not carry credentials`,
    ],
    [
        "a dedicated database with Supabase features",
        input(withValue("postgres.dedicatedDatabase", true)),
        `${PROJECT}:postgres.dedicatedDatabase: cannot be combined with ${PROJECT}:supabase`,
    ],
    [
        "prod unprotected without the override",
        input({ ...withValue("environment", "prod"), protect: false }, { stack: "prod" }),
        `${PROJECT}:protect: false on prod leaves the user store`,
    ],
    [
        "prod allowing data loss without the override",
        input({ ...withValue("environment", "prod"), allowDataLoss: true }, { stack: "prod" }),
        `${PROJECT}:allowDataLoss: true on prod lets a delete or a replace drop the user store; set ${PROJECT}:overrideProdSafety: true to confirm`,
    ],
    [
        "Supabase third-party auth without the project ref",
        input(
            { ...baseValues(), supabaseAuth: { enabled: true } },
            { secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true }, supabaseAccessToken: { encrypted: true } } },
        ),
        `${PROJECT}:supabaseAuth.projectRef: required when ${PROJECT}:supabaseAuth.enabled is true`,
    ],
    [
        "Supabase third-party auth without the access token",
        input({ ...baseValues(), supabaseAuth: { enabled: true, projectRef: "abcdefghijklmnopqrst" } }),
        `${PROJECT}:supabaseAccessToken: required`,
    ],
    [
        "Supabase third-party auth without Supabase features",
        input(
            { ...baseValues(), supabase: false, supabaseAuth: { enabled: true, projectRef: "abcdefghijklmnopqrst" } },
            { secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true }, supabaseAccessToken: { encrypted: true } } },
        ),
        `${PROJECT}:supabaseAuth.enabled: needs ${PROJECT}:supabase: true`,
    ],
    [
        "a project ref that is not one",
        input({ ...baseValues(), supabaseAuth: { enabled: true, projectRef: "My-Project" } }),
        `${PROJECT}:supabaseAuth.projectRef: must be a Supabase project ref`,
    ],
    [
        "a Supabase access token set while third-party auth is off",
        input(baseValues(), {
            secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true }, supabaseAccessToken: { encrypted: true } },
        }),
        `${PROJECT}:supabaseAccessToken: is set but ${PROJECT}:supabaseAuth.enabled is not true`,
    ],
    ["a pg_ user-store schema", input(withValue("postgres.schema", "pg_users")), `${PROJECT}:postgres.schema: must not start with pg_`],
    [
        "the foreign tables' schema (the role prefix) equal to the user store's",
        input(withValue("postgres", { host: "db.ref.supabase.co", schema: "acme", rolePrefix: "acme" })),
        `${PROJECT}:postgres.rolePrefix: with ${PROJECT}:supabase on, the Auth0 foreign tables live in schema "acme" (the role prefix), so it must differ`,
    ],
    [
        "a role prefix naming a Supabase schema, with Supabase features",
        input(withValue("postgres.rolePrefix", "vault")),
        `${PROJECT}:postgres.rolePrefix: with ${PROJECT}:supabase on, the Auth0 foreign tables live in schema "vault" (the role prefix), which Postgres or Supabase owns`,
    ],
    ["missing auth0 block", input(withValue("auth0", undefined)), `${PROJECT}:auth0: required`],
    ["domain with a scheme", input(withValue("auth0.domain", "https://acme.eu.auth0.com")), `${PROJECT}:auth0.domain`],
    ["domain with a path", input(withValue("auth0.domain", "acme.eu.auth0.com/x")), `${PROJECT}:auth0.domain`],
    ["client id with spaces", input(withValue("auth0.clientId", "not a client id")), `${PROJECT}:auth0.clientId`],
    ["client id of the wrong type", input(withValue("auth0.clientId", 42)), `${PROJECT}:auth0.clientId`],
    ["no callbacks", input(withValue("spa.callbacks", [])), `${PROJECT}:spa.callbacks`],
    ["callbacks not a list", input(withValue("spa.callbacks", "https://x.test/cb")), `${PROJECT}:spa.callbacks`],
    [
        "http callback outside local",
        input(withValue("spa.callbacks", ["http://dev.app.acme.test/callback"])),
        `${PROJECT}:spa.callbacks[0]: must be an https URL`,
    ],
    [
        "http logout URL outside local",
        input(withValue("spa.logoutUrls", ["https://ok.test", "http://dev.app.acme.test"])),
        `${PROJECT}:spa.logoutUrls[1]: must be an https URL`,
    ],
    ["web origin with a path", input(withValue("spa.webOrigins", ["https://dev.app.acme.test/app"])), `${PROJECT}:spa.webOrigins[0]: must be an origin`],
    ["callback that is not a URL", input(withValue("spa.callbacks", ["not a url"])), `${PROJECT}:spa.callbacks[0]`],
    ["API identifier that is not a URL", input(withValue("api.identifier", "my api")), `${PROJECT}:api.identifier`],
    ["token lifetime out of range", input(withValue("api.tokenLifetime", 10)), `${PROJECT}:api.tokenLifetime`],
    [
        "role granting an undeclared permission",
        input(withValue("api.roles", [{ name: "admin", permissions: ["delete:everything"] }])),
        `${PROJECT}:api.roles[0].permissions[0]: "delete:everything" is not declared`,
    ],
    [
        "duplicate permission",
        input(withValue("api.permissions", [{ value: "a:b" }, { value: "a:b" }])),
        `${PROJECT}:api.permissions[1].value: duplicate permission`,
    ],
    ["schema name that injects SQL", input(withValue("postgres.schema", 'app"; DROP TABLE users; --')), `${PROJECT}:postgres.schema`],
    ["schema name with upper case", input(withValue("postgres.schema", "AuthApp")), `${PROJECT}:postgres.schema`],
    ["schema Supabase owns", input(withValue("postgres.schema", "auth")), `${PROJECT}:postgres.schema: must not be a schema`],
    ["role prefix that is too long", input(withValue("postgres.rolePrefix", "a".repeat(41))), `${PROJECT}:postgres.rolePrefix`],
    ["role prefix with a quote", input(withValue("postgres.rolePrefix", "x'y")), `${PROJECT}:postgres.rolePrefix`],
    ["port out of range", input(withValue("postgres.port", 70000)), `${PROJECT}:postgres.port`],
    ["port that is not a number", input(withValue("postgres.port", "fivefourthreetwo")), `${PROJECT}:postgres.port`],
    ["database host with a scheme", input(withValue("postgres.host", "postgres://db.example.com")), `${PROJECT}:postgres.host`],
    ["unknown sslMode", input(withValue("postgres.sslMode", "prefer")), `${PROJECT}:postgres.sslMode`],
    [
        "TLS off for a remote database outside local",
        input(withValue("postgres.sslMode", "disable")),
        `${PROJECT}:postgres.sslMode: "disable" sends the database password in clear text`,
    ],
    ["bcrypt cost above range", input(withValue("customDb", { bcryptCost: 20 })), `${PROJECT}:customDb.bcryptCost`],
    [
        "bcrypt cost below 10 outside local",
        input(withValue("customDb", { bcryptCost: 6 })),
        `${PROJECT}:customDb.bcryptCost: must be at least 10 outside the local environment`,
    ],
    ["bcrypt cost that is not an integer", input(withValue("customDb", { bcryptCost: 10.5 })), `${PROJECT}:customDb.bcryptCost`],
    [
        "timeouts past Auth0's script limit",
        input(withValue("customDb", { connectTimeoutMs: 10000, statementTimeoutMs: 10000 })),
        `${PROJECT}:customDb.statementTimeoutMs`,
    ],
    ["unknown password policy", input(withValue("customDb", { passwordPolicy: "strong" })), `${PROJECT}:customDb.passwordPolicy`],
    ["connection name with spaces", input(withValue("customDb", { connectionName: "my users" })), `${PROJECT}:customDb.connectionName`],
    [
        "Hasura sync without a GraphQL URL",
        input(withValue("sync", { mode: "hasura" })),
        `${PROJECT}:hasura.graphqlUrl: required when ${PROJECT}:sync.mode is "hasura"`,
    ],
    ["unknown sync mode", input(withValue("sync", { mode: "kafka" })), `${PROJECT}:sync.mode`],
    [
        "Hasura URL over http outside local",
        input({ ...withValue("sync", { mode: "hasura" }), hasura: { graphqlUrl: "http://hasura.acme.test/v1/graphql" } }),
        `${PROJECT}:hasura.graphqlUrl: must be an https URL`,
    ],
    ["boolean that is not a boolean", input(withValue("supabase", "yes")), `${PROJECT}:supabase`],
    ["missing database password", input(baseValues(), { secrets: { auth0ClientSecret: { encrypted: true } } }), `${PROJECT}:postgresPassword: required`],
    [
        "database password in plain text",
        input(baseValues(), { secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: false } } }),
        `${PROJECT}:postgresPassword: is stored in plain text`,
    ],
    [
        "empty database password",
        input(baseValues(), { secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true, empty: true } } }),
        `${PROJECT}:postgresPassword: is empty`,
    ],
    [
        "client secret in plain text",
        input(baseValues(), { secrets: { auth0ClientSecret: { encrypted: false }, postgresPassword: { encrypted: true } } }),
        `${PROJECT}:auth0ClientSecret: is stored in plain text`,
    ],
    [
        "Hasura secret set without the Hasura sync",
        input(baseValues(), {
            secrets: { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true }, hasuraAdminSecret: { encrypted: true } },
        }),
        `${PROJECT}:hasuraAdminSecret: is set but`,
    ],
    ["refresh window out of range", input(withValue("managementToken", { refreshBeforeSeconds: 5 })), `${PROJECT}:managementToken.refreshBeforeSeconds`],
    [
        "Hasura's admin role as the default role",
        input(withValue("hasura.defaultRole", "admin")),
        `${PROJECT}:hasura.defaultRole: must not be "admin": Hasura's admin role bypasses every permission`,
    ],
    [
        "Hasura's admin role in another case as the default role",
        input(withValue("hasura.defaultRole", "Admin")),
        `${PROJECT}:hasura.defaultRole: must not be "Admin"`,
    ],
    [
        "an allowed Hasura role that reads like admin but is not it",
        input(withValue("hasura.allowedRoles", ["user", "ADMIN"])),
        `${PROJECT}:hasura.allowedRoles[1]: "ADMIN" reads like Hasura's admin role but is not it`,
    ],
    [
        "an allowed Hasura role listed twice",
        input(withValue("hasura.allowedRoles", ["editor", "editor"])),
        `${PROJECT}:hasura.allowedRoles[1]: "editor" is already listed at ${PROJECT}:hasura.allowedRoles[0]`,
    ],
    [
        "an allowed Hasura role that is not a role name",
        input(withValue("hasura.allowedRoles", ["billing admins"])),
        `${PROJECT}:hasura.allowedRoles[0]: must be letters, digits, _ or -`,
    ],
];

describe("an invalid configuration is rejected, naming the key", () => {
    it("has at least 25 distinct cases", () => {
        expect(new Set(INVALID.map(([label]) => label)).size).toBeGreaterThanOrEqual(25);
    });

    it.each(INVALID)("%s", (_label, bad, expected) => {
        const problems = problemsOf(bad);
        expect(problems.some((p) => p.startsWith(expected))).toBe(true);
    });

    it("reports every problem at once", () => {
        const values = { ...withValue("postgres.port", 0), auth0: { domain: "bad domain", clientId: "DevDeployClientId000000000000000" } };
        const problems = problemsOf(input(values, { secrets: {} }));
        expect(problems.filter((p) => /postgres\.port|auth0\.domain|auth0ClientSecret|postgresPassword/.test(p))).toHaveLength(4);
    });

    it("never repeats a secret value in its message", () => {
        // The parser never sees secret values at all: only whether each is set and encrypted.
        const err = (() => {
            try {
                parseStackConfig(input(withValue("auth0.domain", "bad domain"), { secrets: { postgresPassword: { encrypted: false } } }));
            } catch (e) {
                return e as Error;
            }
            return undefined;
        })();
        expect(err?.message).toMatch(/postgresPassword: is stored in plain text/);
        expect(err?.message).toMatch(/auth0ClientSecret: required/);
    });
});

describe("hasura.allowedRoles: the roles the Hasura claims may carry", () => {
    const roles = (names: string[]) => names.map((name) => ({ name, permissions: ["read:profiles"] }));

    it("defaults to the default role and the API's roles, leaving out Hasura's admin role in any case and names that are not role names", () => {
        const c = parseStackConfig(input(withValue("api.roles", roles(["user", "editor", "Admin", "billing team"]))));
        expect(c.hasura.allowedRoles).toEqual(["user", "editor"]);
        const other = parseStackConfig(input({ ...withValue("api.roles", roles(["editor"])), hasura: { defaultRole: "member" } }));
        expect(other.hasura.allowedRoles).toEqual(["member", "editor"]);
    });

    it("is exactly the explicit list, after the default role, when the stack gives one; admin only when it is listed", () => {
        const values = { ...withValue("api.roles", roles(["user", "editor", "admin"])), hasura: { allowedRoles: ["support"] } };
        expect(parseStackConfig(input(values)).hasura.allowedRoles).toEqual(["user", "support"]);
        const withAdmin = { ...values, hasura: { allowedRoles: ["editor", "admin", "user"] } };
        expect(parseStackConfig(input(withAdmin)).hasura.allowedRoles).toEqual(["user", "editor", "admin"]);
        expect(parseStackConfig(input({ ...values, hasura: { allowedRoles: [] } })).hasura.allowedRoles).toEqual(["user"]);
    });

    it("hasuraAllowedRoles is the same rule as a pure function", () => {
        expect(hasuraAllowedRoles("user", undefined, ["editor", "ADMIN", "admin", "user", "a b"])).toEqual(["user", "editor"]);
        expect(hasuraAllowedRoles("user", ["admin"], ["editor"])).toEqual(["user", "admin"]);
    });
});

describe("decodeConfigValue", () => {
    it("parses JSON objects, numbers and booleans, and keeps plain text", () => {
        expect(decodeConfigValue('{"a":1}')).toEqual({ a: 1 });
        expect(decodeConfigValue("5432")).toBe(5432);
        expect(decodeConfigValue("true")).toBe(true);
        expect(decodeConfigValue("acme.eu.auth0.com")).toBe("acme.eu.auth0.com");
    });
});

describe("customDb.modules: the versions the custom-database scripts require", () => {
    it("defaults to the documented versions, and takes exact versions from the stack", () => {
        expect(parseStackConfig(input()).customDb.modules).toEqual({ pg: "8.11.3", bcrypt: "5.0.1" });
        expect(parseStackConfig(input(withValue("customDb.modules", { pg: "8.7.1" }))).customDb.modules).toEqual({ pg: "8.7.1", bcrypt: "5.0.1" });
        expect(parseStackConfig(input(withValue("customDb.modules", { bcrypt: "5.1.0-rc.1" }))).customDb.modules.bcrypt).toBe("5.1.0-rc.1");
    });

    it.each(["8.11", "^8.11.3", "~8.11.3", "latest", "v8.11.3", "8.11.3 || 9.0.0", "08.11.3", ""])("refuses %j, naming the key", (version) => {
        expect(problemsOf(input(withValue("customDb.modules", { pg: version })))).toEqual([
            `${PROJECT}:customDb.modules.pg: must be an exact npm version such as 8.11.3 (no range, tag or v prefix)`,
        ]);
    });

    it("refuses a module the scripts do not require", () => {
        expect(problemsOf(input(withValue("customDb.modules", { lodash: "4.17.21" })))).toEqual([`${PROJECT}:customDb.modules.lodash: unknown key`]);
    });
});
