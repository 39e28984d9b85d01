import { z } from "zod";
import { EXACT_VERSION } from "../auth0/scripts/modules";
import { CONFIG_DEFAULTS as D, CONFIG_LIMITS, IntegerRange, PASSWORD_POLICIES, SCRIPT_LIMITS, SSL_MODES, SYNC_MODES } from "./constants";

/**
 * The stack configuration: one schema, validated once in the entry point, then passed down as
 * typed args. Components never read `pulumi.Config` themselves.
 *
 * Keys live in the project namespace (`auth0-postgres:<key>`). Secret values live in their own
 * top-level keys (see {@link SECRET_KEYS}) and must be stored encrypted (`pulumi config set --secret`).
 *
 * Ranges and defaults are not written here but in `constants.ts`, which the README's configuration
 * table is generated from too (`npm run docs:config`): a comment below says what a default is only
 * when it is a rule rather than a value.
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

const pgIdentifier = (what: string) => z.string().regex(PG_IDENTIFIER, `${what} must be a lower-case Postgres identifier matching ${PG_IDENTIFIER}`);

/** Auth0's pattern for a connection name (Management API): alphanumerics, single dashes between them, at most 128. */
export const AUTH0_CONNECTION_NAME = /^[a-zA-Z0-9](?:-?[a-zA-Z0-9])*$/;

const hostname = z.string().regex(HOSTNAME, "must be a bare host name such as tenant.eu.auth0.com (no scheme, path or port)");

/** A database host: a DNS name, an IPv4 or an IPv6 address (without brackets). */
const hostAddress = z
    .string()
    .refine(
        (v) => HOSTNAME.test(v) || z.ipv4().safeParse(v).success || z.ipv6().safeParse(v).success,
        "must be a host name, an IPv4 address or an IPv6 address (no brackets, scheme, path or port)",
    );

const integer = ({ min, max }: IntegerRange) => z.coerce.number().int().min(min).max(max);

const boolish = z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean());

const urlString = z.string().refine((v) => URL.canParse(v), "must be an absolute URL");

const permission = z
    .object({
        value: z.string().regex(/^[a-z0-9:_.-]+$/i, "permission names are letters, digits and : _ . -"),
        description: z.string().min(1).default(D.api.permissionDescription),
    })
    .strict();

/** A role's stable key: what its resource names derive from, so that its display name can change in place. */
export const ROLE_KEY = /^[a-z0-9](?:-?[a-z0-9])*$/;

/** The default key of a role: its name, lower-cased, with every run of other characters made one dash. */
export function defaultRoleKey(name: string): string {
    return name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "");
}

const role = z
    .object({
        name: z.string().min(1).max(64),
        /**
         * Stable key of the role; its Pulumi resource names derive from it, never from `name`. Change
         * `name` freely (an update in place, assignments kept); a changed key replaces the role (refused
         * where `protect` is on). Defaults to the name lower-cased, other characters made dashes.
         */
        key: z.string().max(63).regex(ROLE_KEY, "must be lower-case letters and digits, single dashes between them").optional(),
        description: z.string().default(D.api.roleDescription),
        permissions: z.array(z.string()).default(D.api.rolePermissions),
    })
    .strict();

const spaSchema = z
    .object({
        /** Display name of the single-page application in Auth0. Defaults to "<project> (<stack>)". */
        name: z.string().min(1).optional(),
        callbacks: z.array(urlString).min(1, "at least one callback URL is required"),
        webOrigins: z.array(urlString).default(D.spa.webOrigins),
        logoutUrls: z.array(urlString).default(D.spa.logoutUrls),
    })
    .strict();

const apiSchema = z
    .object({
        /** The API identifier, i.e. the audience of access tokens. */
        identifier: urlString,
        name: z.string().min(1).optional(),
        /** Access-token lifetime in seconds. */
        tokenLifetime: integer(CONFIG_LIMITS.tokenLifetime).default(D.api.tokenLifetime),
        permissions: z.array(permission).default(D.api.permissions),
        roles: z.array(role).default(D.api.roles),
    })
    .strict();

const postgresSchema = z
    .object({
        host: hostAddress,
        port: integer(CONFIG_LIMITS.port).default(D.postgres.port),
        database: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be a Postgres database name")
            .default(D.postgres.database),
        /** The administrative user Pulumi connects as (Supabase: `postgres`). */
        username: z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_.$-]{0,62}$/, "must be a Postgres user name")
            .default(D.postgres.username),
        /**
         * TLS to the database, as libpq means it (see infra/config/tls.ts). Defaults to `verify-full`
         * when `caCertificate` is set, else `require`, or `disable` on the `local` environment when the
         * host Auth0 connects to is loopback. `disable` is refused whenever that host is not loopback.
         */
        sslMode: z.enum(SSL_MODES).optional(),
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
        publicPort: integer(CONFIG_LIMITS.port).optional(),
        /** Schema holding the user store and profiles. */
        schema: pgIdentifier("postgres.schema")
            .refine((v) => !RESERVED_SCHEMAS.has(v), "must not be a schema Postgres or Supabase owns")
            .default(D.postgres.schema),
        /** Prefix of every role this stack creates. */
        rolePrefix: pgIdentifier("postgres.rolePrefix")
            .max(CONFIG_LIMITS.rolePrefixChars, `must be at most ${CONFIG_LIMITS.rolePrefixChars} characters (role names get suffixes)`)
            .default(D.postgres.rolePrefix),
        /**
         * The database is this stack's alone: revoke PUBLIC's default CONNECT and TEMP on it, so only the
         * roles granted CONNECT can log in. Not with Supabase features (Supabase's own roles connect
         * through PUBLIC).
         */
        dedicatedDatabase: boolish.default(D.postgres.dedicatedDatabase),
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
            .refine(
                (v) => v.startsWith("public.") || !RESERVED_SCHEMAS.has(v.split(".")[0]!),
                "must not be in a schema Postgres or Supabase owns (public excepted)",
            )
            .optional(),
    })
    .strict();

const exactVersion = z.string().regex(EXACT_VERSION, "must be an exact npm version such as 8.11.3 (no range, tag or v prefix)");

const scriptModulesSchema = z
    .object({
        /** node-postgres. */
        pg: exactVersion.default(D.customDb.modules.pg),
        /** bcrypt (native). */
        bcrypt: exactVersion.default(D.customDb.modules.bcrypt),
    })
    .strict();

const customDbSchema = z
    .object({
        /** Auth0 connection name. */
        connectionName: z
            .string()
            .max(CONFIG_LIMITS.connectionNameChars)
            .regex(AUTH0_CONNECTION_NAME, "must be letters and digits with single dashes between them (Auth0's pattern: no leading, trailing or double dash)")
            .default(D.customDb.connectionName),
        /** bcrypt cost factor for new and changed passwords (at least `MIN_BCRYPT_COST_OUTSIDE_LOCAL` outside local, see load.ts). */
        bcryptCost: integer(SCRIPT_LIMITS.bcryptCost).default(D.customDb.bcryptCost),
        /** Lazy migration: Auth0 imports users on first login. */
        importMode: boolish.default(D.customDb.importMode),
        /** Disable sign-ups through this connection. */
        disableSignup: boolish.default(D.customDb.disableSignup),
        /** Auth0 password policy. */
        passwordPolicy: z.enum(PASSWORD_POLICIES).default(D.customDb.passwordPolicy),
        /**
         * The connection's other security options. Every one is declared here and sent on every
         * update: the provider sends only the options the program sets and Auth0 replaces the whole
         * `options` object, so an option left out would be silently reset by the next script edit or
         * DSN rotation (and a refresh shows nothing: they are computed fields). Change them here, not
         * in the dashboard.
         */
        passwordMinLength: integer(CONFIG_LIMITS.passwordMinLength).default(D.customDb.passwordMinLength),
        /** Refuse the last `size` passwords. */
        passwordHistory: z
            .object({
                enable: boolish.default(D.customDb.passwordHistory.enable),
                size: integer(CONFIG_LIMITS.passwordHistorySize).default(D.customDb.passwordHistory.size),
            })
            .strict()
            .default({ ...D.customDb.passwordHistory }),
        /** Refuse Auth0's 10,000 most common passwords, plus `entries` (case-insensitive). */
        passwordDictionary: z
            .object({
                enable: boolish.default(D.customDb.passwordDictionary.enable),
                entries: z
                    .array(z.string().min(1).max(CONFIG_LIMITS.dictionaryEntryChars))
                    .max(CONFIG_LIMITS.dictionaryEntries)
                    .default(D.customDb.passwordDictionary.entries),
            })
            .strict()
            .default({ ...D.customDb.passwordDictionary }),
        /** Refuse passwords that contain the user's name, email or username. */
        passwordNoPersonalInfo: boolish.default(D.customDb.passwordNoPersonalInfo),
        /** Multi-factor authentication on this connection (`active`) and whether enrollment settings are returned. */
        mfa: z
            .object({ active: boolish.default(D.customDb.mfa.active), returnEnrollSettings: boolish.default(D.customDb.mfa.returnEnrollSettings) })
            .strict()
            .default({ ...D.customDb.mfa }),
        /** Auth0's brute-force protection of this connection. */
        bruteForceProtection: boolish.default(D.customDb.bruteForceProtection),
        /** Hide the self-service "forgot password" flow. */
        disableSelfServiceChangePassword: boolish.default(D.customDb.disableSelfServiceChangePassword),
        /** Largest pool the scripts open per Auth0 container. */
        poolMax: integer(SCRIPT_LIMITS.poolMax).default(D.customDb.poolMax),
        /** Connect timeout of the scripts, in milliseconds (with `statementTimeoutMs`, at most `SCRIPT_TIME_BUDGET_MS`, see load.ts). */
        connectTimeoutMs: integer(SCRIPT_LIMITS.connectTimeoutMs).default(D.customDb.connectTimeoutMs),
        /** Statement timeout of the scripts, in milliseconds. */
        statementTimeoutMs: integer(SCRIPT_LIMITS.statementTimeoutMs).default(D.customDb.statementTimeoutMs),
        /**
         * The exact version of each npm module the scripts require, as `require("<name>@<version>")`:
         * one that Auth0's "Can I require" catalogue lists (why the defaults: `infra/auth0/scripts/modules.ts`).
         */
        modules: scriptModulesSchema.default(scriptModulesSchema.parse({})),
    })
    .strict();

/** A Hasura role name as the claims carry it (the hasura-claims Action checks the same pattern). */
export const HASURA_ROLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const hasuraRole = z.string().regex(HASURA_ROLE_NAME, "must be letters, digits, _ or -");

const hasuraSchema = z
    .object({
        /**
         * Role put in `x-hasura-default-role` and always in `x-hasura-allowed-roles`. Never `admin` (in
         * any case): Hasura's admin role bypasses every permission.
         */
        defaultRole: hasuraRole.default(D.hasura.defaultRole),
        /**
         * The roles `x-hasura-allowed-roles` may carry besides the default role: a user's RBAC role or
         * `app_metadata.roles` entry reaches the claims only when it is listed here, exactly. Hasura's
         * `admin` role, which bypasses every permission, only when this list names it. Defaults to the
         * API's role names (`api.roles[].name`) that are role names, never `admin`.
         */
        allowedRoles: z.array(hasuraRole).optional(),
        /** Hasura GraphQL endpoint, required when `sync.mode` is `hasura`. */
        graphqlUrl: urlString
            .refine(
                (v) => !URL.canParse(v) || (new URL(v).username === "" && new URL(v).password === ""),
                "must not carry credentials (user:password@); the admin secret goes in the hasuraAdminSecret secret",
            )
            .optional(),
    })
    .strict();

const syncSchema = z
    .object({
        /** Where the post-login sync writes: straight to Postgres (`postgres`) or through Hasura (`hasura`). */
        mode: z.enum(SYNC_MODES).default(D.sync.mode),
        /** Deny the login when the sync fails. When false, a failed sync is logged and the login goes on. */
        blocksLogin: boolish.default(D.sync.blocksLogin),
    })
    .strict();

/** The name of an Action in the tenant, as the dashboard shows it. */
const actionName = z.string().min(1).max(100);

const postLoginSchema = z
    .object({
        /**
         * Other Actions bound to the post-login trigger that the stack must keep bound, by name: the
         * stack owns the whole trigger (one `TriggerActions`), so any binding not listed here is removed
         * by the next `up`. `before` run before the stack's Actions, `after` after them, in the order
         * given (MFA, fraud checks, marketplace Actions). Each must exist and be deployed.
         */
        keepBindings: z
            .object({
                before: z.array(actionName).default(D.postLogin.keepBindings.before),
                after: z.array(actionName).default(D.postLogin.keepBindings.after),
            })
            .strict()
            .default({ ...D.postLogin.keepBindings }),
    })
    .strict();

/** A Supabase project ref: 20 lower-case letters (the `<ref>` of `<ref>.supabase.co`). */
export const SUPABASE_PROJECT_REF = /^[a-z]{20}$/;

const supabaseAuthSchema = z
    .object({
        /**
         * Supabase accepts the tenant's tokens (third-party auth): the stack registers the tenant's issuer
         * with the Supabase project, the claims Action puts `role: "authenticated"` in the tokens, and
         * Supabase's `authenticated` role gets the reader's privileges and policies. Needs `supabase`
         * and the secret `supabaseAccessToken`.
         */
        enabled: boolish.default(D.supabaseAuth.enabled),
        /** The Supabase project's ref (20 lower-case letters). Required when enabled. */
        projectRef: z.string().regex(SUPABASE_PROJECT_REF, "must be a Supabase project ref (20 lower-case letters)").optional(),
        /** Supabase's Management API. */
        apiUrl: urlString.refine((v) => !URL.canParse(v) || new URL(v).protocol === "https:", "must be an https URL").default(D.supabaseAuth.apiUrl),
    })
    .strict();

const managementTokenSchema = z
    .object({
        /** Renew the Management API token in Vault when it expires within this many seconds. */
        refreshBeforeSeconds: integer(CONFIG_LIMITS.refreshBeforeSeconds).default(D.managementToken.refreshBeforeSeconds),
    })
    .strict();

/** The raw (pre-derivation) shape of the configuration. */
export const rawConfigSchema = z
    .object({
        environment: z.enum(ENVIRONMENTS),
        /** Supabase features (Vault, Wrappers' Auth0 FDW). */
        supabase: boolish.default(D.supabase),
        /**
         * Deploy only the Postgres side (schema, roles, grants, migrations): no Auth0 provider and no
         * Auth0 resource, so `auth0`, `spa`, `api` and `auth0ClientSecret` are not needed. For trying
         * the database side without a tenant; only the `local` environment, without Supabase features.
         */
        postgresOnly: boolish.default(D.postgresOnly),
        /** Protect resources that hold data or identity against deletion. Defaults to true on `prod`, else false. */
        protect: boolish.optional(),
        /** Let a delete or replace drop tables and their data. */
        allowDataLoss: boolish.default(D.allowDataLoss),
        /**
         * Confirms, on `prod`, a setting that weakens its data safety (`protect: false` or
         * `allowDataLoss: true`): without it such a setting is refused.
         */
        overrideProdSafety: boolish.default(D.overrideProdSafety),
        /** Required unless `postgresOnly`. */
        auth0: z
            .object({
                domain: hostname,
                /** Client id of the Auth0 application Pulumi deploys with (Management API, client credentials). */
                clientId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "must be an Auth0 client id (16-64 letters, digits, - or _)"),
                /**
                 * The tenant flag `enable_client_connections` (every new client enabled on every connection).
                 * Left false, the stack turns it off. Set true only if other applications of the tenant
                 * rely on it; the stack still takes the SPA off every connection it does not declare.
                 */
                enableClientConnections: boolish.default(D.auth0.enableClientConnections),
            })
            .strict()
            .optional(),
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
    })
    .strict();

export type RawConfig = z.infer<typeof rawConfigSchema>;
