import { z } from "zod";
import { DEFAULT_SCRIPT_MODULE_VERSIONS, EXACT_VERSION } from "../auth0/scripts/modules";

/**
 * The stack configuration: one schema, validated once in the entry point, then passed down as
 * typed args. Components never read `pulumi.Config` themselves.
 *
 * Keys live in the project namespace (`auth0-postgres:<key>`). Secret values live in their own
 * top-level keys (see {@link SECRET_KEYS}) and must be stored encrypted (`pulumi config set --secret`).
 */

export const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Config keys that hold secrets. They must be set with `--secret`; plain text is rejected. */
export const SECRET_KEYS = ["auth0ClientSecret", "postgresPassword", "hasuraAdminSecret", "supabaseAccessToken"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** A Postgres identifier we are willing to interpolate (always quoted as well): lower-case, <= 63 bytes. */
export const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** Schemas Postgres or Supabase own: never the stack's. */
export const RESERVED_SCHEMAS: ReadonlySet<string> = new Set([
    "pg_catalog",
    "information_schema",
    "public",
    // Supabase's own.
    "vault",
    "extensions",
    "auth",
    "storage",
    "realtime",
    "_realtime",
    "graphql",
    "graphql_public",
    "pgsodium",
    "pgsodium_masks",
    "pgbouncer",
    "net",
    "cron",
    "supabase_functions",
    "supabase_migrations",
    "_analytics",
]);

/** A DNS host name (no scheme, no path, no port). */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const pgIdentifier = (what: string) =>
    z.string().regex(PG_IDENTIFIER, `${what} must be a lower-case Postgres identifier matching ${PG_IDENTIFIER}`);

/** Auth0's pattern for a connection name (Management API): alphanumerics, single dashes between them, at most 128. */
export const AUTH0_CONNECTION_NAME = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;

const hostname = z.string().regex(HOSTNAME, "must be a bare host name such as tenant.eu.auth0.com (no scheme, path or port)");

/** A database host: a DNS name, an IPv4 or an IPv6 address (without brackets). */
const hostAddress = z.string().refine(
    (v) => HOSTNAME.test(v) || z.ipv4().safeParse(v).success || z.ipv6().safeParse(v).success,
    "must be a host name, an IPv4 address or an IPv6 address (no brackets, scheme, path or port)",
);

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const boolish = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

const urlString = z.string().refine((v) => URL.canParse(v), "must be an absolute URL");

const permission = z.object({
    value: z.string().regex(/^[a-z0-9:_.-]+$/i, "permission names are letters, digits and : _ . -"),
    description: z.string().min(1).default("Permission"),
}).strict();

/** A role's stable key: what its resource names derive from, so that its display name can change in place. */
export const ROLE_KEY = /^[a-z0-9](?:-?[a-z0-9])*$/;

/** The default key of a role: its name, lower-cased, with every run of other characters made one dash. */
export function defaultRoleKey(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

const role = z.object({
    name: z.string().min(1).max(64),
    /**
     * Stable key of the role; its Pulumi resource names derive from it, never from `name`. Change
     * `name` freely (an update in place, assignments kept); a changed key replaces the role (refused
     * where `protect` is on). Defaults to the name lower-cased, other characters made dashes.
     */
    key: z.string().max(63).regex(ROLE_KEY, "must be lower-case letters and digits, single dashes between them").optional(),
    description: z.string().default(""),
    permissions: z.array(z.string()).default([]),
}).strict();

const spaSchema = z.object({
    /** Display name of the single-page application in Auth0. Defaults to "<project> (<stack>)". */
    name: z.string().min(1).optional(),
    callbacks: z.array(urlString).min(1, "at least one callback URL is required"),
    webOrigins: z.array(urlString).default([]),
    logoutUrls: z.array(urlString).default([]),
}).strict();

const apiSchema = z.object({
    /** The API identifier, i.e. the audience of access tokens. */
    identifier: urlString,
    name: z.string().min(1).optional(),
    /** Access-token lifetime in seconds. Defaults to 86400 (one day). */
    tokenLifetime: integer(60, 2_592_000).default(86_400),
    permissions: z.array(permission).default([]),
    roles: z.array(role).default([]),
}).strict();

const postgresSchema = z.object({
    host: hostAddress,
    port: integer(1, 65_535).default(5432),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be a Postgres database name").default("postgres"),
    /** The administrative user Pulumi connects as (Supabase: `postgres`). */
    username: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.$-]{0,62}$/, "must be a Postgres user name").default("postgres"),
    /**
     * TLS to the database, as libpq means it (see infra/config/tls.ts). Defaults to `verify-full`
     * when `caCertificate` is set, else `require`, or `disable` on the `local` environment when the
     * host Auth0 connects to is loopback. `disable` is refused whenever that host is not loopback.
     */
    sslMode: z.enum(["disable", "require", "verify-ca", "verify-full"]).optional(),
    /**
     * PEM text of the CA certificate(s) the database's server certificate chains to (Supabase: the
     * project's "SSL certificate", Supabase Root 2021 CA). Public, not a secret. Used by Auth0's
     * scripts, the user-sync Action, the dynamic providers and the postgresql provider to verify the
     * server. Defaults to none: `verify-ca` / `verify-full` then trust Node's bundled public roots.
     */
    caCertificate: z.string().optional(),
    /** Host the Auth0 scripts and Actions connect to (e.g. a pooler). Defaults to `host`. */
    publicHost: hostAddress.optional(),
    /** Port the Auth0 scripts and Actions connect to. Defaults to `port`. */
    publicPort: integer(1, 65_535).optional(),
    /** Schema holding the user store and profiles. Defaults to `auth0_app`. */
    schema: pgIdentifier("postgres.schema").refine((v) => !RESERVED_SCHEMAS.has(v), "must not be a schema Postgres or Supabase owns").default("auth0_app"),
    /** Prefix of every role this stack creates. Defaults to `auth0`. */
    rolePrefix: pgIdentifier("postgres.rolePrefix").refine((v) => v.length <= 40, "must be at most 40 characters (role names get suffixes)").default("auth0"),
    /**
     * The database is this stack's alone: revoke PUBLIC's default CONNECT and TEMP on it, so only the
     * roles granted CONNECT can log in. Defaults to false; not with Supabase features (Supabase's own
     * roles connect through PUBLIC).
     */
    dedicatedDatabase: boolish.default(false),
    /**
     * An existing user table in the shape of Auth0's "PostgreSQL as custom database" template, as
     * `schema.table` (e.g. `public.users`), to adopt as the user store: the first `up` moves it into
     * `schema` as `users` and brings it to the user store's shape in place (every row and id kept,
     * bcrypt hashes still log in), instead of creating an empty table. Refused, naming the rows and
     * changing nothing, when emails differ only in case or a row cannot be held. Never a schema
     * Postgres or Supabase owns (Supabase's `auth.users` is not this table), except `public`.
     * Defaults to none.
     */
    adoptUsersTable: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/, "must be schema.table, each a lower-case Postgres identifier (e.g. public.users)")
        .refine((v) => v.startsWith("public.") || !RESERVED_SCHEMAS.has(v.split(".")[0]!), "must not be in a schema Postgres or Supabase owns (public excepted)")
        .optional(),
}).strict();

const exactVersion = z.string().regex(EXACT_VERSION, "must be an exact npm version such as 8.11.3 (no range, tag or v prefix)");

const scriptModulesSchema = z.object({
    /** node-postgres. Defaults to 8.11.3. */
    pg: exactVersion.default(DEFAULT_SCRIPT_MODULE_VERSIONS.pg),
    /** bcrypt (native). Defaults to 5.0.1. */
    bcrypt: exactVersion.default(DEFAULT_SCRIPT_MODULE_VERSIONS.bcrypt),
}).strict();

const customDbSchema = z.object({
    /** Auth0 connection name. Defaults to `postgres-users`. */
    connectionName: z.string().max(128).regex(AUTH0_CONNECTION_NAME, "must be letters and digits with single dashes between them (Auth0's pattern: no leading, trailing or double dash)").default("postgres-users"),
    /** bcrypt cost factor for new and changed passwords. Defaults to 10. */
    bcryptCost: integer(4, 15).default(10),
    /** Lazy migration: Auth0 imports users on first login. Defaults to false. */
    importMode: boolish.default(false),
    /** Disable sign-ups through this connection. Defaults to false. */
    disableSignup: boolish.default(false),
    /** Auth0 password policy. Defaults to `good`. */
    passwordPolicy: z.enum(["none", "low", "fair", "good", "excellent"]).default("good"),
    /**
     * The connection's other security options. Every one is declared here and sent on every
     * update: the provider sends only the options the program sets and Auth0 replaces the whole
     * `options` object, so an option left out would be silently reset by the next script edit or
     * DSN rotation (and a refresh shows nothing: they are computed fields). Change them here, not
     * in the dashboard.
     */
    passwordMinLength: integer(1, 128).default(12),
    /** Refuse the last `size` passwords. Defaults to on, 5. */
    passwordHistory: z.object({ enable: boolish.default(true), size: integer(1, 24).default(5) }).strict().default({ enable: true, size: 5 }),
    /** Refuse Auth0's 10,000 most common passwords, plus `entries` (case-insensitive). Defaults to on, no extra entries. */
    passwordDictionary: z.object({ enable: boolish.default(true), entries: z.array(z.string().min(1).max(50)).max(2000).default([]) }).strict().default({ enable: true, entries: [] }),
    /** Refuse passwords that contain the user's name, email or username. Defaults to true. */
    passwordNoPersonalInfo: boolish.default(true),
    /** Multi-factor authentication on this connection (`active`) and whether enrollment settings are returned. Defaults to on, on. */
    mfa: z.object({ active: boolish.default(true), returnEnrollSettings: boolish.default(true) }).strict().default({ active: true, returnEnrollSettings: true }),
    /** Auth0's brute-force protection of this connection. Defaults to true. */
    bruteForceProtection: boolish.default(true),
    /** Hide the self-service "forgot password" flow. Defaults to false. */
    disableSelfServiceChangePassword: boolish.default(false),
    /** Largest pool the scripts open per Auth0 container. Defaults to 5. */
    poolMax: integer(1, 50).default(5),
    /** Connect timeout of the scripts, in milliseconds. Defaults to 5000. */
    connectTimeoutMs: integer(100, 15_000).default(5_000),
    /** Statement timeout of the scripts, in milliseconds. Defaults to 5000. */
    statementTimeoutMs: integer(100, 15_000).default(5_000),
    /**
     * The exact version of each npm module the scripts require, as `require("<name>@<version>")`:
     * one that Auth0's "Can I require" catalogue lists. Defaults in `infra/auth0/scripts/modules.ts`.
     */
    modules: scriptModulesSchema.default(scriptModulesSchema.parse({})),
}).strict();

/** A Hasura role name as the claims carry it (the hasura-claims Action checks the same pattern). */
export const HASURA_ROLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const hasuraRole = z.string().regex(HASURA_ROLE_NAME, "must be letters, digits, _ or -");

const hasuraSchema = z.object({
    /**
     * Role put in `x-hasura-default-role` and always in `x-hasura-allowed-roles`. Never `admin` (in
     * any case): Hasura's admin role bypasses every permission. Defaults to `user`.
     */
    defaultRole: hasuraRole.default("user"),
    /**
     * The roles `x-hasura-allowed-roles` may carry besides the default role: a user's RBAC role or
     * `app_metadata.roles` entry reaches the claims only when it is listed here, exactly. Hasura's
     * `admin` role, which bypasses every permission, only when this list names it. Defaults to the
     * API's role names (`api.roles[].name`) that are role names, never `admin`.
     */
    allowedRoles: z.array(hasuraRole).optional(),
    /** Hasura GraphQL endpoint, required when `sync.mode` is `hasura`. */
    graphqlUrl: urlString
        .refine((v) => !URL.canParse(v) || (new URL(v).username === "" && new URL(v).password === ""), "must not carry credentials (user:password@); the admin secret goes in the hasuraAdminSecret secret")
        .optional(),
}).strict();

const syncSchema = z.object({
    /** Where the post-login sync writes: straight to Postgres (`postgres`) or through Hasura (`hasura`). Defaults to `postgres`. */
    mode: z.enum(["postgres", "hasura"]).default("postgres"),
    /** Deny the login when the sync fails. Defaults to false: a failed sync is logged and the login goes on. */
    blocksLogin: boolish.default(false),
}).strict();

/** The name of an Action in the tenant, as the dashboard shows it. */
const actionName = z.string().min(1).max(100);

const postLoginSchema = z.object({
    /**
     * Other Actions bound to the post-login trigger that the stack must keep bound, by name: the
     * stack owns the whole trigger (one `TriggerActions`), so any binding not listed here is removed
     * by the next `up`. `before` run before the stack's Actions, `after` after them, in the order
     * given (MFA, fraud checks, marketplace Actions). Each must exist and be deployed. Defaults to none.
     */
    keepBindings: z.object({ before: z.array(actionName).default([]), after: z.array(actionName).default([]) }).strict().default({ before: [], after: [] }),
}).strict();

/** A Supabase project ref: 20 lower-case letters (the `<ref>` of `<ref>.supabase.co`). */
export const SUPABASE_PROJECT_REF = /^[a-z]{20}$/;

const supabaseAuthSchema = z.object({
    /**
     * Supabase accepts the tenant's tokens (third-party auth): the stack registers the tenant's issuer
     * with the Supabase project, the claims Action puts `role: "authenticated"` in the tokens, and
     * Supabase's `authenticated` role gets the reader's privileges and policies. Needs `supabase`
     * and the secret `supabaseAccessToken`. Defaults to false.
     */
    enabled: boolish.default(false),
    /** The Supabase project's ref (20 lower-case letters). Required when enabled. */
    projectRef: z.string().regex(SUPABASE_PROJECT_REF, "must be a Supabase project ref (20 lower-case letters)").optional(),
    /** Supabase's Management API. Defaults to https://api.supabase.com. */
    apiUrl: urlString.refine((v) => !URL.canParse(v) || new URL(v).protocol === "https:", "must be an https URL").default("https://api.supabase.com"),
}).strict();

const managementTokenSchema = z.object({
    /** Renew the Management API token in Vault when it expires within this many seconds. Defaults to 43200 (12 h). */
    refreshBeforeSeconds: integer(60, 2_592_000).default(43_200),
}).strict();

/** The raw (pre-derivation) shape of the configuration. */
export const rawConfigSchema = z.object({
    environment: z.enum(ENVIRONMENTS),
    /** Supabase features (Vault, Wrappers' Auth0 FDW). Defaults to false. */
    supabase: boolish.default(false),
    /**
     * Deploy only the Postgres side (schema, roles, grants, migrations): no Auth0 provider and no
     * Auth0 resource, so `auth0`, `spa`, `api` and `auth0ClientSecret` are not needed. For trying
     * the database side without a tenant; only the `local` environment, without Supabase features.
     * Defaults to false.
     */
    postgresOnly: boolish.default(false),
    /** Protect resources that hold data or identity against deletion. Defaults to true on `prod`, else false. */
    protect: boolish.optional(),
    /** Let a delete or replace drop tables and their data. Defaults to false. */
    allowDataLoss: boolish.default(false),
    /**
     * Confirms, on `prod`, a setting that weakens its data safety (`protect: false` or
     * `allowDataLoss: true`): without it such a setting is refused. Defaults to false.
     */
    overrideProdSafety: boolish.default(false),
    /** Required unless `postgresOnly`. */
    auth0: z.object({
        domain: hostname,
        /** Client id of the Auth0 application Pulumi deploys with (Management API, client credentials). */
        clientId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "must be an Auth0 client id (16-64 letters, digits, - or _)"),
        /**
         * The tenant flag `enable_client_connections` (every new client enabled on every connection).
         * Defaults to false: the stack turns it off. Set true only if other applications of the
         * tenant rely on it; the stack still takes the SPA off every connection it does not declare.
         */
        enableClientConnections: boolish.default(false),
    }).strict().optional(),
    /** Required unless `postgresOnly`. */
    spa: spaSchema.optional(),
    /** Required unless `postgresOnly`. */
    api: apiSchema.optional(),
    postgres: postgresSchema,
    customDb: customDbSchema.default(customDbSchema.parse({})),
    hasura: hasuraSchema.default(hasuraSchema.parse({})),
    sync: syncSchema.default(syncSchema.parse({})),
    managementToken: managementTokenSchema.default(managementTokenSchema.parse({})),
    supabaseAuth: supabaseAuthSchema.default(supabaseAuthSchema.parse({})),
    postLogin: postLoginSchema.default(postLoginSchema.parse({})),
}).strict();

export type RawConfig = z.infer<typeof rawConfigSchema>;
