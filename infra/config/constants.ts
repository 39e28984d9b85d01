/**
 * Every limit, mode and default of the stack configuration, written once. The zod schema
 * (`schema.ts`) takes its ranges and defaults from here; the config rules (`load.ts`), the
 * custom-database scripts' configuration check (`infra/auth0/scripts/assemble.ts`), the TLS rules
 * and the dynamic providers take their limits, SSL modes and loopback hosts from here; and
 * `npm run docs:config` writes the README's configuration table from here (`reference.ts`).
 *
 * Plain values and one pure function, importing nothing that runs: dynamic providers import from
 * this module, and Pulumi's closure serializer copies what they use into each provider's text.
 */
import { DEFAULT_SCRIPT_MODULE_VERSIONS } from "../auth0/scripts/modules";

/**
 * TLS to the database, as libpq means each mode (see `tls.ts`), for every client of the stack:
 * Auth0's scripts, the user-sync Action, the dynamic providers and the postgresql provider.
 */
export const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * Loopback: `localhost`, 127.0.0.0/8 and `::1` (bare, or in brackets as `URL.hostname` gives it),
 * in any case. Traffic to these never leaves the machine, so they alone may go without TLS (the
 * database) or over plain http (the Management APIs a test stands in for).
 */
// Module-local, exported under an alias: a use of an exported const inside its own module compiles
// to `exports.X`, which would make a serialized provider capture this whole module (infra/dynamic/README.md).
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;
export const LOOPBACK_HOST = LOOPBACK;

/** Whether `host` (a host name, an address, or `URL.hostname`) is loopback (see {@link LOOPBACK_HOST}). */
export function isLoopbackHost(host: string): boolean {
    return LOOPBACK.test(host);
}

/** An inclusive range of integers. */
export interface IntegerRange {
    readonly min: number;
    readonly max: number;
}

/**
 * The ranges the custom-database scripts accept, checked by the config schema, by the program
 * before it registers anything (`scriptSettingsProblems`), and by the scripts themselves at run
 * time (`shared.js` writes the same numbers; a test keeps them equal).
 */
export const SCRIPT_LIMITS = {
    /** bcrypt cost of new and changed passwords; above 15 a login takes seconds. */
    bcryptCost: { min: 4, max: 15 },
    /** Pool size per Auth0 container. */
    poolMax: { min: 1, max: 50 },
    /** Connect timeout, ms. */
    connectTimeoutMs: { min: 100, max: 15_000 },
    /** Statement timeout, ms. */
    statementTimeoutMs: { min: 100, max: 15_000 },
} as const satisfies Record<string, IntegerRange>;

/** Auth0 stops a script after about 20 s: connecting and one statement must fit in this, together. */
export const SCRIPT_TIME_BUDGET_MS = 18_000;

/** The lowest bcrypt cost outside the local environment. */
export const MIN_BCRYPT_COST_OUTSIDE_LOCAL = 10;

/** The other ranges and sizes of the configuration. */
export const CONFIG_LIMITS = {
    /** A TCP port. */
    port: { min: 1, max: 65_535 },
    /** `api.tokenLifetime`, seconds: a minute to 30 days. */
    tokenLifetime: { min: 60, max: 2_592_000 },
    /** `customDb.passwordMinLength`. */
    passwordMinLength: { min: 1, max: 128 },
    /** `customDb.passwordHistory.size`. */
    passwordHistorySize: { min: 1, max: 24 },
    /** `managementToken.refreshBeforeSeconds`: a minute to 30 days. */
    refreshBeforeSeconds: { min: 60, max: 2_592_000 },
    /** Characters of `postgres.rolePrefix` (role names get suffixes, within Postgres's 63). */
    rolePrefixChars: 40,
    /** Characters of an Auth0 connection name. */
    connectionNameChars: 128,
    /** Entries of `customDb.passwordDictionary.entries`, and characters of each (Auth0's limits). */
    dictionaryEntries: 2000,
    dictionaryEntryChars: 50,
    /**
     * Characters of `postgres.caCertificate` once normalized: it travels to the user-sync Action as
     * an Action secret, whose values Auth0 limits to 4096 characters. (Supabase's root CA is about
     * 1,400; a root and an intermediate together about 2,800.)
     */
    caCertificateChars: 4096,
} as const;

/** Auth0's password policies, weakest first. */
export const PASSWORD_POLICIES = ["none", "low", "fair", "good", "excellent"] as const;

/** Where the post-login sync writes. */
export const SYNC_MODES = ["postgres", "hasura"] as const;

/**
 * The default of every configuration key that has a fixed one, in the shape of the configuration.
 * Defaults that depend on other keys (`environment`, `protect`, `postgres.sslMode`,
 * `postgres.publicHost`/`publicPort`, `spa.name`, `api.name`, `api.roles[].key`,
 * `hasura.allowedRoles`) are rules of `load.ts` and are described in the README's table.
 */
export const CONFIG_DEFAULTS = {
    supabase: false,
    postgresOnly: false,
    allowDataLoss: false,
    overrideProdSafety: false,
    auth0: { enableClientConnections: false },
    spa: { webOrigins: [] as string[], logoutUrls: [] as string[] },
    api: {
        /** Seconds: one day. */
        tokenLifetime: 86_400,
        permissions: [] as { value: string; description: string }[],
        permissionDescription: "Permission",
        roles: [] as never[],
        roleDescription: "",
        rolePermissions: [] as string[],
    },
    postgres: {
        port: 5432,
        database: "postgres",
        username: "postgres",
        schema: "auth0_app",
        rolePrefix: "auth0",
        dedicatedDatabase: false,
    },
    customDb: {
        connectionName: "postgres-users",
        bcryptCost: 10,
        importMode: false,
        disableSignup: false,
        passwordPolicy: "good" as (typeof PASSWORD_POLICIES)[number],
        passwordMinLength: 12,
        passwordHistory: { enable: true, size: 5 },
        passwordDictionary: { enable: true, entries: [] as string[] },
        passwordNoPersonalInfo: true,
        mfa: { active: true, returnEnrollSettings: true },
        bruteForceProtection: true,
        disableSelfServiceChangePassword: false,
        poolMax: 5,
        connectTimeoutMs: 5_000,
        statementTimeoutMs: 5_000,
        /** Why these versions: `infra/auth0/scripts/modules.ts`. */
        modules: DEFAULT_SCRIPT_MODULE_VERSIONS,
    },
    hasura: { defaultRole: "user" },
    sync: { mode: "postgres" as (typeof SYNC_MODES)[number], blocksLogin: false },
    managementToken: {
        /** Seconds: 12 hours. */
        refreshBeforeSeconds: 43_200,
    },
    supabaseAuth: { enabled: false, apiUrl: "https://api.supabase.com" },
    postLogin: { keepBindings: { before: [] as string[], after: [] as string[] } },
};
