/**
 * The README's configuration table, as data: one row per key (a row for an object, such as
 * `customDb.mfa`, documents each of its keys). Types, ranges and defaults come from
 * `constants.ts`, the same values the schema uses; only what they mean is written here.
 * `npm run docs:config` writes the table into the README between {@link CONFIG_REFERENCE_START}
 * and {@link CONFIG_REFERENCE_END}; `test/docs/readme-config-reference.test.ts` checks that the
 * README holds exactly that table, that every key of the schema has a row, and that each default
 * and range in it is the schema's.
 *
 * Not used by the program: documentation kept beside the schema, so that a new key and its row
 * are written in one place.
 */
import { defaultApiName, defaultSpaName } from "../auth0/names";
import {
    CONFIG_DEFAULTS as D,
    CONFIG_LIMITS,
    IntegerRange,
    MIN_BCRYPT_COST_OUTSIDE_LOCAL,
    PASSWORD_POLICIES,
    SCRIPT_LIMITS,
    SCRIPT_TIME_BUDGET_MS,
    SSL_MODES,
    SYNC_MODES,
} from "./constants";
import { ENVIRONMENTS, SECRET_KEYS, SecretKey } from "./schema";

export interface ConfigReferenceRow {
    /** The key, without the `auth0-postgres:` namespace; `[]` marks the items of a list (`api.roles[].key`). */
    key: string;
    type: string;
    default: string;
    meaning: string;
}

/** `value` in backticks. */
const code = (value: string) => `\`${value}\``;
/** Alternatives, as a Markdown table cell writes them. */
const oneOf = (values: readonly string[]) => values.map(code).join(" \\| ");
/** An integer range, as the table writes it. */
export const range = ({ min, max }: IntegerRange) => `${min} – ${max}`;

/** A value inside an object default: JSON-like, keys unquoted. */
function inner(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value);
    if (Array.isArray(value)) return `[${value.map(inner).join(", ")}]`;
    if (value !== null && typeof value === "object")
        return `{${Object.entries(value)
            .map(([k, v]) => `${k}: ${inner(v)}`)
            .join(", ")}}`;
    return String(value);
}

/** A default value as the table writes it: a string or an object in backticks (`{key: value, ...}`), anything else as it is. */
export function formatDefault(value: unknown): string {
    if (typeof value === "string") return code(value);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return code(inner(value));
    return inner(value);
}

const f = formatDefault;
const unlessPostgresOnly = "required (unless `postgresOnly`)";

/** When each secret is required, and what it is. */
const SECRET_ROWS: Record<SecretKey, { default: string; meaning: string }> = {
    auth0ClientSecret: { default: unlessPostgresOnly, meaning: "The deploy application's client secret." },
    postgresPassword: { default: "required", meaning: "The admin user's password." },
    hasuraAdminSecret: { default: "required with the Hasura sync", meaning: "" },
    supabaseAccessToken: {
        default: "required with `supabaseAuth.enabled`",
        meaning: "A Supabase access token that may manage the project's auth config (Dashboard > Account > Access Tokens).",
    },
};

/** The rows of the table, in its order. */
export const CONFIG_REFERENCE: readonly ConfigReferenceRow[] = [
    {
        key: "environment",
        type: oneOf(ENVIRONMENTS),
        default: "the stack name, if it is one of these",
        meaning: "Must equal the stack name when the stack is named after an environment.",
    },
    { key: "supabase", type: "bool", default: f(D.supabase), meaning: "Vault secret, Wrappers Auth0 FDW, M2M client and token." },
    { key: "protect", type: "bool", default: "true on prod, else false", meaning: "See Data safety. `false` on prod only with `overrideProdSafety`." },
    { key: "allowDataLoss", type: "bool", default: f(D.allowDataLoss), meaning: "Let a delete drop tables. On prod only with `overrideProdSafety`." },
    {
        key: "overrideProdSafety",
        type: "bool",
        default: f(D.overrideProdSafety),
        meaning: "Confirms `protect: false` or `allowDataLoss: true` on prod (refused without it).",
    },
    {
        key: "postgresOnly",
        type: "bool",
        default: f(D.postgresOnly),
        meaning:
            "Deploy the Postgres side alone: no Auth0 provider or resource; `auth0`, `spa`, `api` and `auth0ClientSecret` not needed. `local` only, not with `supabase`.",
    },
    { key: "auth0.domain", type: "host name", default: unlessPostgresOnly, meaning: "Tenant domain, no scheme." },
    { key: "auth0.clientId", type: "string", default: unlessPostgresOnly, meaning: "The deploy application's client id." },
    {
        key: "auth0.enableClientConnections",
        type: "bool",
        default: f(D.auth0.enableClientConnections),
        meaning: "Leave the tenant flag on (the stack turns it off otherwise); the SPA is taken off undeclared connections either way.",
    },
    { key: "spa.name", type: "string", default: code(defaultSpaName("<project>", "<stack>")), meaning: "" },
    { key: "spa.callbacks", type: "URL[]", default: "required, ≥ 1 (unless `postgresOnly`)", meaning: "https outside `local`." },
    { key: "spa.webOrigins", type: "origin[]", default: f(D.spa.webOrigins), meaning: "https outside `local`; no path." },
    { key: "spa.logoutUrls", type: "URL[]", default: f(D.spa.logoutUrls), meaning: "https outside `local`." },
    { key: "api.identifier", type: "URL", default: unlessPostgresOnly, meaning: "The audience." },
    { key: "api.name", type: "string", default: code(defaultApiName("<project>", "<stack>")), meaning: "" },
    { key: "api.tokenLifetime", type: `seconds, ${range(CONFIG_LIMITS.tokenLifetime)}`, default: f(D.api.tokenLifetime), meaning: "Access-token lifetime." },
    {
        key: "api.permissions",
        type: "`{value, description}`[]",
        default: f(D.api.permissions),
        meaning: `RBAC permissions; \`description\` defaults to ${f(D.api.permissionDescription)}.`,
    },
    {
        key: "api.roles",
        type: "`{name, key, description, permissions}`[]",
        default: f(D.api.roles),
        meaning: "Auth0 roles; permissions must be declared above.",
    },
    {
        key: "api.roles[].key",
        type: "slug",
        default: "name lower-cased, dashes",
        meaning: "Stable key the role's resources are named by; rename freely, never change the key.",
    },
    {
        key: "postgres.host",
        type: "host",
        default: "required",
        meaning: "Where Pulumi connects as admin: a DNS name, an IPv4 or an IPv6 address (no brackets).",
    },
    { key: "postgres.port", type: range(CONFIG_LIMITS.port), default: f(D.postgres.port), meaning: "" },
    { key: "postgres.database", type: "database name", default: f(D.postgres.database), meaning: "" },
    { key: "postgres.username", type: "user name", default: f(D.postgres.username), meaning: "The admin user (Supabase: `postgres`)." },
    {
        key: "postgres.sslMode",
        type: oneOf(SSL_MODES),
        default: "`verify-full` with a CA, else `require` (`disable` on local when Auth0's host is loopback)",
        meaning:
            "As libpq; see [TLS to the database](#tls-to-the-database). `disable` refused whenever the host Auth0 connects to is not loopback (`localhost`, 127.0.0.0/8, `::1`).",
    },
    {
        key: "postgres.caCertificate",
        type: "PEM text",
        default: "none",
        meaning: `The CA(s) the server's certificate chains to (Supabase: \`prod-ca-2021.crt\`); public, not a secret; at most ${CONFIG_LIMITS.caCertificateChars} characters.`,
    },
    { key: "postgres.publicHost", type: "host", default: "`host`", meaning: "Where Auth0's scripts and Actions connect (e.g. a pooler)." },
    { key: "postgres.publicPort", type: range(CONFIG_LIMITS.port), default: "`port`", meaning: "" },
    {
        key: "postgres.schema",
        type: "identifier",
        default: f(D.postgres.schema),
        meaning: "Not a schema Postgres or Supabase owns, not `pg_*`. Cannot change in place.",
    },
    {
        key: "postgres.dedicatedDatabase",
        type: "bool",
        default: f(D.postgres.dedicatedDatabase),
        meaning: "Revoke PUBLIC's CONNECT and TEMP on the database. Not with `supabase`.",
    },
    {
        key: "postgres.adoptUsersTable",
        type: "`schema.table`",
        default: "none",
        meaning:
            "An existing table in the shape of Auth0's PostgreSQL template to adopt as the user store on the first `up` (rows and ids kept; refused, rows named, on case-duplicate emails); not in a schema Postgres or Supabase owns (`public` excepted). See [Adopting an existing tenant](#adopting-an-existing-tenant).",
    },
    {
        key: "postgres.rolePrefix",
        type: `identifier ≤ ${CONFIG_LIMITS.rolePrefixChars}`,
        default: f(D.postgres.rolePrefix),
        meaning:
            "Prefix of every role, and with `supabase` the foreign-data names (schema `<prefix>`); stacks sharing a database need distinct prefixes and schemas. Cannot change in place.",
    },
    {
        key: "customDb.connectionName",
        type: `string ≤ ${CONFIG_LIMITS.connectionNameChars}`,
        default: f(D.customDb.connectionName),
        meaning: "Cannot change in place.",
    },
    {
        key: "customDb.bcryptCost",
        type: range(SCRIPT_LIMITS.bcryptCost),
        default: f(D.customDb.bcryptCost),
        meaning: `At least ${MIN_BCRYPT_COST_OUTSIDE_LOCAL} outside local.`,
    },
    { key: "customDb.importMode", type: "bool", default: f(D.customDb.importMode), meaning: "Lazy migration into Auth0." },
    { key: "customDb.disableSignup", type: "bool", default: f(D.customDb.disableSignup), meaning: "" },
    { key: "customDb.passwordPolicy", type: oneOf(PASSWORD_POLICIES), default: f(D.customDb.passwordPolicy), meaning: "" },
    {
        key: "customDb.passwordMinLength",
        type: range(CONFIG_LIMITS.passwordMinLength),
        default: f(D.customDb.passwordMinLength),
        meaning: "Password complexity: minimum length.",
    },
    {
        key: "customDb.passwordHistory",
        type: "`{enable, size}`",
        default: f(D.customDb.passwordHistory),
        meaning: `Refuse the last \`size\` passwords (${range(CONFIG_LIMITS.passwordHistorySize)}).`,
    },
    {
        key: "customDb.passwordDictionary",
        type: "`{enable, entries}`",
        default: f(D.customDb.passwordDictionary),
        meaning: `Refuse common passwords, plus \`entries\` (at most ${CONFIG_LIMITS.dictionaryEntries}, each at most ${CONFIG_LIMITS.dictionaryEntryChars} characters).`,
    },
    {
        key: "customDb.passwordNoPersonalInfo",
        type: "bool",
        default: f(D.customDb.passwordNoPersonalInfo),
        meaning: "Refuse passwords containing the user's name or email.",
    },
    { key: "customDb.mfa", type: "`{active, returnEnrollSettings}`", default: f(D.customDb.mfa), meaning: "MFA on the connection." },
    { key: "customDb.bruteForceProtection", type: "bool", default: f(D.customDb.bruteForceProtection), meaning: "" },
    { key: "customDb.disableSelfServiceChangePassword", type: "bool", default: f(D.customDb.disableSelfServiceChangePassword), meaning: "" },
    { key: "customDb.poolMax", type: range(SCRIPT_LIMITS.poolMax), default: f(D.customDb.poolMax), meaning: "Pool size per Auth0 container." },
    {
        key: "customDb.connectTimeoutMs",
        type: `ms, ${range(SCRIPT_LIMITS.connectTimeoutMs)}`,
        default: f(D.customDb.connectTimeoutMs),
        meaning: `With \`statementTimeoutMs\`, at most ${SCRIPT_TIME_BUDGET_MS} (Auth0 stops a script after about 20 s).`,
    },
    {
        key: "customDb.statementTimeoutMs",
        type: `ms, ${range(SCRIPT_LIMITS.statementTimeoutMs)}`,
        default: f(D.customDb.statementTimeoutMs),
        meaning: `With \`connectTimeoutMs\`, at most ${SCRIPT_TIME_BUDGET_MS}; also set on the roles.`,
    },
    ...(["pg", "bcrypt"] as const).map((name) => ({
        key: `customDb.modules.${name}`,
        type: "exact version",
        default: f(D.customDb.modules[name]),
        meaning: "What the scripts `require` in Auth0; see [Modules the custom-database scripts require](#modules-the-custom-database-scripts-require).",
    })),
    {
        key: "hasura.defaultRole",
        type: "string",
        default: f(D.hasura.defaultRole),
        meaning: "`x-hasura-default-role`, always in the allowed roles. Never `admin` (in any case): Hasura's admin role bypasses every permission.",
    },
    {
        key: "hasura.allowedRoles",
        type: "role name[]",
        default: "the API's role names, `admin` left out",
        meaning:
            "The only roles `x-hasura-allowed-roles` may carry besides the default role: a user's RBAC role or `app_metadata.roles` entry not listed here, exactly, is left out. `admin` reaches the claims only when listed here by name; a look-alike (`Admin`) is refused.",
    },
    { key: "hasura.graphqlUrl", type: "URL", default: "none", meaning: "Required when `sync.mode` is `hasura`; https outside local." },
    { key: "sync.mode", type: oneOf(SYNC_MODES), default: f(D.sync.mode), meaning: "Where the user-sync Action writes." },
    { key: "sync.blocksLogin", type: "bool", default: f(D.sync.blocksLogin), meaning: "Deny the login when the sync fails (otherwise log and go on)." },
    {
        key: "managementToken.refreshBeforeSeconds",
        type: `seconds, ${range(CONFIG_LIMITS.refreshBeforeSeconds)}`,
        default: f(D.managementToken.refreshBeforeSeconds),
        meaning: "Renew the token in Vault when it expires within this window.",
    },
    {
        key: "postLogin.keepBindings",
        type: "`{before, after}` of Action names",
        default: f(D.postLogin.keepBindings),
        meaning: "Other Actions kept bound to post-login, before / after the stack's.",
    },
    {
        key: "supabaseAuth.enabled",
        type: "bool",
        default: `${f(D.supabaseAuth.enabled)} (true in the committed dev, staging, prod)`,
        meaning:
            "Supabase third-party auth: register the tenant with the project, `role: authenticated` in the tokens, the reader's grants and policies for `authenticated`. Needs `supabase`.",
    },
    { key: "supabaseAuth.projectRef", type: "20 lower-case letters", default: "required when enabled", meaning: "The Supabase project (`<ref>.supabase.co`)." },
    { key: "supabaseAuth.apiUrl", type: "https URL", default: f(D.supabaseAuth.apiUrl), meaning: "Supabase's Management API." },
    ...SECRET_KEYS.map((key): ConfigReferenceRow => ({ key, type: "secret", ...SECRET_ROWS[key] })),
];

/** The line before the generated table. */
export const CONFIG_REFERENCE_START = "<!-- config-reference: written by `npm run docs:config` from infra/config/reference.ts; edit it there -->";
/** The line after it. */
export const CONFIG_REFERENCE_END = "<!-- /config-reference -->";

/** The table, as Markdown. */
export function configReferenceTable(rows: readonly ConfigReferenceRow[] = CONFIG_REFERENCE): string {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [
        line(["Key", "Type", "Default", "Meaning"]),
        line(["---", "---", "---", "---"]),
        ...rows.map((r) => line([code(r.key), r.type, r.default, r.meaning]).replace(/ {2}\|$/, " |")),
    ].join("\n");
}

/** `readme` with the text between the markers replaced by the table. Throws when the markers are not there, once each, in order. */
export function withConfigReference(readme: string): string {
    const start = readme.indexOf(CONFIG_REFERENCE_START);
    const end = readme.indexOf(CONFIG_REFERENCE_END);
    if (start < 0 || end < start || readme.indexOf(CONFIG_REFERENCE_START, start + 1) >= 0 || readme.indexOf(CONFIG_REFERENCE_END, end + 1) >= 0) {
        throw new Error(`README.md must hold the lines "${CONFIG_REFERENCE_START}" and "${CONFIG_REFERENCE_END}", once each, in this order`);
    }
    return `${readme.slice(0, start)}${CONFIG_REFERENCE_START}\n${configReferenceTable()}\n${readme.slice(end)}`;
}
