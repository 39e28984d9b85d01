import * as pulumi from "@pulumi/pulumi";
import { defaultRoleKey, ENVIRONMENTS, HASURA_ROLE_NAME, RESERVED_SCHEMAS, Environment, RawConfig, rawConfigSchema, SECRET_KEYS, SecretKey } from "./schema";
import { isLoopbackHost, MIN_BCRYPT_COST_OUTSIDE_LOCAL, SCRIPT_TIME_BUDGET_MS, SslMode } from "./constants";
import { otherStacksOnTenant, readSiblingStackTenants, StackTenant } from "./tenants";
import { parseCaCertificate } from "./tls";

interface CommonStackConfig extends Omit<RawConfig, "protect" | "postgres" | "postgresOnly" | "auth0" | "spa" | "api" | "hasura"> {
    project: string;
    /** `allowedRoles`: every role the Hasura claims may carry, the default role first (see {@link hasuraAllowedRoles}). */
    hasura: Omit<RawConfig["hasura"], "allowedRoles"> & { allowedRoles: string[] };
    stack: string;
    /** Resource-name prefix: `<project>-<stack>`. */
    prefix: string;
    protect: boolean;
    postgres: RawConfig["postgres"] & {
        sslMode: SslMode;
        /** The CA certificate(s), normalized PEM (see `parseCaCertificate`); absent when not configured. */
        caCertificate?: string;
        publicHost: string;
        publicPort: number;
    };
}

/** The Auth0 side's settings: present exactly when the stack deploys the Auth0 side. */
/** A role of the API, its stable key derived (see `key` in the schema). */
export type ApiRoleConfig = NonNullable<RawConfig["api"]>["roles"][number] & { key: string };

export interface Auth0SideConfig {
    postgresOnly: false;
    auth0: NonNullable<RawConfig["auth0"]>;
    spa: NonNullable<RawConfig["spa"]>;
    api: Omit<NonNullable<RawConfig["api"]>, "roles"> & { roles: ApiRoleConfig[] };
}

/** A stack that deploys the Postgres side alone (see `postgresOnly` in the schema). */
export interface PostgresOnlyConfig {
    postgresOnly: true;
    auth0?: undefined;
    spa?: undefined;
    api?: undefined;
}

/** The validated, derived configuration of one stack. Plain values only: secrets are in {@link StackSecrets}. */
export type StackConfig = CommonStackConfig & (Auth0SideConfig | PostgresOnlyConfig);

/** Secret configuration values, only ever held as Pulumi secrets. */
export interface StackSecrets {
    /** Present unless the stack is `postgresOnly`. */
    auth0ClientSecret?: pulumi.Output<string>;
    postgresPassword: pulumi.Output<string>;
    /** Present when `sync.mode` is `hasura`. */
    hasuraAdminSecret?: pulumi.Output<string>;
    /** Present when `supabaseAuth.enabled`: Supabase's Management API token. */
    supabaseAccessToken?: pulumi.Output<string>;
}

/** A configuration error: every problem found, each naming its full key. Never contains a secret value. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** What the parser needs to know about the stack, independent of the Pulumi runtime. */
export interface ConfigInput {
    project: string;
    stack: string;
    /** Non-secret keys (without the `<project>:` prefix) to their values, already parsed from YAML/JSON. */
    values: Record<string, unknown>;
    /** Secret keys that are set, whether each was stored encrypted, and whether it is empty. */
    secrets: Partial<Record<SecretKey, { encrypted: boolean; empty?: boolean }>>;
    /**
     * The tenant of every other stack of the project (from its stack file), so that two stacks never
     * share one: the post-login trigger, connection names and role names are per-tenant singletons.
     */
    otherStacks?: StackTenant[];
}

function keyPath(project: string, path: PropertyKey[]): string {
    const [head, ...rest] = path;
    let key = `${project}:${String(head ?? "")}`;
    for (const part of rest) key += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
    return key;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
    let node = root;
    for (const part of path) {
        if (node === null || typeof node !== "object") return undefined;
        node = (node as Record<PropertyKey, unknown>)[part];
    }
    return node;
}

function isHttps(url: string): boolean {
    return new URL(url).protocol === "https:";
}

/**
 * Validates and derives the stack configuration. Pure: no Pulumi runtime needed, so every rule
 * is unit-testable. Throws {@link ConfigError} naming each bad key.
 */
export function parseStackConfig(input: ConfigInput): StackConfig {
    const { project, stack } = input;
    const problems: string[] = [];
    const known = [...Object.keys(rawConfigSchema.shape), ...SECRET_KEYS].sort();
    for (const key of Object.keys(input.values)) {
        if (!known.includes(key)) problems.push(`${project}:${key}: unknown key (known keys: ${known.join(", ")})`);
    }
    // Unknown keys are reported above, so the schema sees only the keys it knows.
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input.values)) {
        if (key in rawConfigSchema.shape) values[key] = value;
    }
    if (values.environment === undefined && (ENVIRONMENTS as readonly string[]).includes(stack)) {
        values.environment = stack;
    }

    // Secrets: present when needed, and never in plain text.
    // Checked before the schema, so a bad shape elsewhere does not hide them.
    const syncMode = (values.sync as { mode?: unknown } | undefined)?.mode ?? "postgres";
    const postgresOnly = values.postgresOnly === true || values.postgresOnly === "true";
    const required: SecretKey[] = postgresOnly ? ["postgresPassword"] : ["auth0ClientSecret", "postgresPassword"];
    if (syncMode === "hasura" && !postgresOnly) required.push("hasuraAdminSecret");
    const supabaseAuthOn = (values.supabaseAuth as { enabled?: unknown } | undefined)?.enabled ?? false;
    const supabaseAuth = supabaseAuthOn === true || supabaseAuthOn === "true";
    if (supabaseAuth) required.push("supabaseAccessToken");
    for (const key of SECRET_KEYS) {
        const entry = input.secrets[key];
        if (!entry) {
            if (required.includes(key)) problems.push(`${project}:${key}: required; set it with \`pulumi config set --secret ${key}\``);
            continue;
        }
        if (!entry.encrypted) problems.push(`${project}:${key}: is stored in plain text; set it with \`pulumi config set --secret ${key}\``);
        if (entry.empty) problems.push(`${project}:${key}: is empty`);
        if (key === "hasuraAdminSecret" && syncMode === "hasura" && postgresOnly) {
            problems.push(`${project}:${key}: is set but ${project}:postgresOnly is true, which deploys no sync Action; remove it`);
        } else if (key === "hasuraAdminSecret" && syncMode !== "hasura") {
            problems.push(`${project}:${key}: is set but ${project}:sync.mode is not "hasura"; remove it or switch the sync mode`);
        } else if (key === "supabaseAccessToken" && !supabaseAuth) {
            problems.push(`${project}:${key}: is set but ${project}:supabaseAuth.enabled is not true; remove it or turn Supabase third-party auth on`);
        }
    }

    const parsed = rawConfigSchema.safeParse(values);
    if (!parsed.success) {
        for (const issue of parsed.error.issues) {
            if (issue.code === "unrecognized_keys") {
                for (const k of issue.keys) problems.push(`${keyPath(project, [...issue.path, k])}: unknown key`);
            } else if (issue.path.length === 0) {
                problems.push(`${project}: ${issue.message}`);
            } else {
                const missing = valueAt(values, issue.path) === undefined;
                problems.push(`${keyPath(project, issue.path)}: ${missing ? "required" : issue.message}`);
            }
        }
        throw new ConfigError(problems);
    }
    const raw = parsed.data;
    const local = raw.environment === "local";
    const at = (...path: PropertyKey[]) => keyPath(project, path);

    // The Auth0 side: required, unless the stack deploys the Postgres side alone.
    if (raw.postgresOnly) {
        if (!local) {
            problems.push(
                `${at("postgresOnly")}: only the local environment may deploy the Postgres side alone (on "${raw.environment}" it would delete the Auth0 side)`,
            );
        }
        if (raw.supabase) {
            problems.push(
                `${at("postgresOnly")}: cannot be combined with ${at("supabase")}: the foreign data wrapper needs the Auth0 side's Management API client`,
            );
        }
    } else {
        for (const key of ["auth0", "spa", "api"] as const) {
            if (raw[key] === undefined) problems.push(`${at(key)}: required (or set ${at("postgresOnly")} to deploy the Postgres side alone, local only)`);
        }
    }
    const spa = raw.spa ?? { callbacks: [], webOrigins: [], logoutUrls: [] };
    const api = raw.api ?? { permissions: [], roles: [] };

    if ((ENVIRONMENTS as readonly string[]).includes(stack) && raw.environment !== stack) {
        problems.push(
            `${at("environment")}: is "${raw.environment}" but the stack is named "${stack}"; a stack named after an environment must be that environment`,
        );
    }

    // URLs users are redirected to or served from: https everywhere but local.
    const urlLists: [string, string[]][] = [
        ["callbacks", spa.callbacks],
        ["webOrigins", spa.webOrigins],
        ["logoutUrls", spa.logoutUrls],
    ];
    for (const [field, urls] of urlLists) {
        urls.forEach((url, i) => {
            if (!local && !isHttps(url)) problems.push(`${at("spa", field, i)}: must be an https URL outside the local environment (got ${url})`);
        });
    }
    spa.webOrigins.forEach((origin, i) => {
        const u = new URL(origin);
        if (u.pathname !== "/" || origin.endsWith("/") || u.search || u.hash) {
            problems.push(`${at("spa", "webOrigins", i)}: must be an origin (scheme://host[:port]) with no path or trailing slash`);
        }
    });
    if (raw.hasura.graphqlUrl && !local && !isHttps(raw.hasura.graphqlUrl)) {
        problems.push(`${at("hasura", "graphqlUrl")}: must be an https URL outside the local environment`);
    }

    // Permissions and roles.
    const permissionNames = new Set<string>();
    api.permissions.forEach((p, i) => {
        if (permissionNames.has(p.value)) problems.push(`${at("api", "permissions", i, "value")}: duplicate permission "${p.value}"`);
        permissionNames.add(p.value);
    });
    // Names are compared case-insensitively, as Auth0 and the resource names (keys) see them.
    const roleNames = new Map<string, string>();
    const roleKeys = new Map<string, number>();
    api.roles.forEach((r, i) => {
        const folded = r.name.toLowerCase();
        if (roleNames.has(folded))
            problems.push(`${at("api", "roles", i, "name")}: duplicate role "${r.name}" (same as "${roleNames.get(folded)}" ignoring case)`);
        roleNames.set(folded, r.name);
        const key = r.key ?? defaultRoleKey(r.name);
        if (key === "") {
            problems.push(`${at("api", "roles", i, "key")}: required: "${r.name}" has no letter or digit to derive a key from`);
        } else if (roleKeys.has(key)) {
            problems.push(
                `${at("api", "roles", i, r.key ? "key" : "name")}: role key "${key}" is also the key of ${at("api", "roles", roleKeys.get(key)!)}; give one of them another \`key\``,
            );
        } else {
            roleKeys.set(key, i);
        }
        r.permissions.forEach((p, j) => {
            if (!permissionNames.has(p)) problems.push(`${at("api", "roles", i, "permissions", j)}: "${p}" is not declared in ${at("api", "permissions")}`);
        });
    });

    // Database transport and cost.
    // TLS: judged by the host Auth0's scripts and the sync Action connect to (publicHost, else host)
    // as well as the one Pulumi connects to (host), which differ behind a tunnel or a pooler.
    let caCertificate: string | undefined;
    if (raw.postgres.caCertificate !== undefined) {
        const ca = parseCaCertificate(raw.postgres.caCertificate);
        if (ca.ok) caCertificate = ca.pem;
        else for (const problem of ca.problems) problems.push(`${at("postgres", "caCertificate")}: ${problem}`);
    }
    const hasCa = raw.postgres.caCertificate !== undefined;
    const auth0Host = raw.postgres.publicHost ?? raw.postgres.host;
    const auth0Reaches = !raw.postgresOnly;
    const sslMode = raw.postgres.sslMode ?? (hasCa ? "verify-full" : local && (!auth0Reaches || isLoopbackHost(auth0Host)) ? "disable" : "require");
    if (sslMode === "disable" && auth0Reaches && !isLoopbackHost(auth0Host)) {
        problems.push(
            `${at("postgres", "sslMode")}: "disable" sends the database password in clear text: Auth0's scripts and the user-sync Action connect to ${auth0Host} ` +
                `(${raw.postgres.publicHost !== undefined ? at("postgres", "publicHost") : at("postgres", "host")}), which is not loopback; ` +
                `use verify-full with ${at("postgres", "caCertificate")} (or require, which encrypts without verifying the server)`,
        );
    } else if (sslMode === "disable" && !local && !isLoopbackHost(raw.postgres.host)) {
        problems.push(`${at("postgres", "sslMode")}: "disable" sends the database password in clear text; only the local environment may use it`);
    }
    if (hasCa && (sslMode === "disable" || sslMode === "require")) {
        problems.push(
            `${at("postgres", "sslMode")}: "${sslMode}" does not verify the server, so ${at("postgres", "caCertificate")} would not be used; ` +
                `leave sslMode unset (verify-full when a CA is given) or set verify-ca or verify-full`,
        );
    }
    if (!local && raw.customDb.bcryptCost < MIN_BCRYPT_COST_OUTSIDE_LOCAL) {
        problems.push(
            `${at("customDb", "bcryptCost")}: must be at least ${MIN_BCRYPT_COST_OUTSIDE_LOCAL} outside the local environment (got ${raw.customDb.bcryptCost})`,
        );
    }
    if (raw.customDb.statementTimeoutMs + raw.customDb.connectTimeoutMs > SCRIPT_TIME_BUDGET_MS) {
        problems.push(
            `${at("customDb", "statementTimeoutMs")}: connectTimeoutMs + statementTimeoutMs must stay under Auth0's ~20 s script limit (at most ${SCRIPT_TIME_BUDGET_MS} ms together)`,
        );
    }

    // Schemas: the user store's, and with Supabase features the foreign tables' (named after the role
    // prefix, see foreignDataNames), must be distinct and neither Postgres's nor Supabase's.
    if (raw.postgres.schema.startsWith("pg_")) {
        problems.push(`${at("postgres", "schema")}: must not start with pg_ (Postgres reserves those schema names)`);
    }
    if (raw.supabaseAuth.enabled) {
        if (!raw.supabase)
            problems.push(`${at("supabaseAuth", "enabled")}: needs ${at("supabase")}: true (Supabase's authenticated role gets the reader's privileges)`);
        if (raw.postgresOnly) problems.push(`${at("supabaseAuth", "enabled")}: needs the Auth0 side (it registers the tenant); not with ${at("postgresOnly")}`);
        if (!raw.supabaseAuth.projectRef) problems.push(`${at("supabaseAuth", "projectRef")}: required when ${at("supabaseAuth", "enabled")} is true`);
    }
    if (raw.supabase && raw.postgres.dedicatedDatabase) {
        problems.push(
            `${at("postgres", "dedicatedDatabase")}: cannot be combined with ${at("supabase")}: Supabase's own roles (anon, authenticated, authenticator) connect through PUBLIC`,
        );
    }
    // prod: a weaker data safety only when confirmed.
    if (raw.environment === "prod" && !raw.overrideProdSafety) {
        if (raw.protect === false) {
            problems.push(
                `${at("protect")}: false on prod leaves the user store, the connection, the API and the Vault secret deletable; set ${at("overrideProdSafety")}: true to confirm`,
            );
        }
        if (raw.allowDataLoss) {
            problems.push(
                `${at("allowDataLoss")}: true on prod lets a delete or a replace drop the user store; set ${at("overrideProdSafety")}: true to confirm`,
            );
        }
    }
    if (raw.supabase) {
        const prefix = raw.postgres.rolePrefix;
        if (prefix === raw.postgres.schema) {
            problems.push(
                `${at("postgres", "rolePrefix")}: with ${at("supabase")} on, the Auth0 foreign tables live in schema "${prefix}" (the role prefix), so it must differ from ${at("postgres", "schema")}`,
            );
        } else if (RESERVED_SCHEMAS.has(prefix) || prefix.startsWith("pg_")) {
            problems.push(
                `${at("postgres", "rolePrefix")}: with ${at("supabase")} on, the Auth0 foreign tables live in schema "${prefix}" (the role prefix), which Postgres or Supabase owns; choose another prefix`,
            );
        }
    }

    // Hasura roles: the admin role bypasses every permission, so it is never the default and is
    // allowed only when named in an explicit list; a look-alike ("Admin") is refused as a mistake.
    if (raw.hasura.defaultRole.toLowerCase() === HASURA_ADMIN_ROLE) {
        problems.push(
            `${at("hasura", "defaultRole")}: must not be "${raw.hasura.defaultRole}": Hasura's admin role bypasses every permission, so every user would act as an administrator; use a role with permissions (e.g. user)`,
        );
    }
    const listed = new Map<string, number>();
    (raw.hasura.allowedRoles ?? []).forEach((role, i) => {
        if (listed.has(role))
            problems.push(`${at("hasura", "allowedRoles", i)}: "${role}" is already listed at ${at("hasura", "allowedRoles", listed.get(role)!)}`);
        else listed.set(role, i);
        if (role !== HASURA_ADMIN_ROLE && role.toLowerCase() === HASURA_ADMIN_ROLE) {
            problems.push(
                `${at("hasura", "allowedRoles", i)}: "${role}" reads like Hasura's admin role but is not it (role names are case-sensitive); write "${HASURA_ADMIN_ROLE}" only if users may bypass every permission, else choose another name`,
            );
        }
    });

    // Supabase-only features and the sync.
    if (raw.sync.mode === "hasura" && !raw.hasura.graphqlUrl) {
        problems.push(`${at("hasura", "graphqlUrl")}: required when ${at("sync", "mode")} is "hasura"`);
    }

    // Post-login bindings kept next to the stack's own: each once, and none of the stack's own Actions.
    const kept = new Map<string, string>();
    for (const side of ["before", "after"] as const) {
        raw.postLogin.keepBindings[side].forEach((actionName, i) => {
            const where = at("postLogin", "keepBindings", side, i);
            if (kept.has(actionName)) problems.push(`${where}: "${actionName}" is already listed at ${kept.get(actionName)}; an Action is bound once`);
            else kept.set(actionName, where);
            if (actionName.startsWith(`${project}-${stack}-`))
                problems.push(`${where}: "${actionName}" is named like this stack's own Actions (${project}-${stack}-*), which the stack binds itself`);
        });
    }

    // One stack per tenant.
    if (raw.auth0) {
        for (const other of otherStacksOnTenant(stack, raw.auth0.domain, input.otherStacks ?? [])) {
            problems.push(
                `${at("auth0", "domain")}: ${raw.auth0.domain} is also the tenant of stack "${other.stack}" (${other.file}); two stacks on one tenant overwrite each other's post-login bindings, connection and roles. Give each stack its own tenant`,
            );
        }
    }

    if (problems.length > 0) throw new ConfigError(problems);

    const { postgresOnly: _postgresOnly, auth0, spa: _spa, api: _api, ...common } = raw;
    const side: Auth0SideConfig | PostgresOnlyConfig = raw.postgresOnly
        ? { postgresOnly: true }
        : {
              postgresOnly: false,
              auth0: auth0!,
              spa: raw.spa!,
              api: { ...raw.api!, roles: raw.api!.roles.map((r) => ({ ...r, key: r.key ?? defaultRoleKey(r.name) })) },
          };
    return {
        ...common,
        ...side,
        project,
        stack,
        prefix: `${project}-${stack}`,
        hasura: {
            defaultRole: raw.hasura.defaultRole,
            graphqlUrl: raw.hasura.graphqlUrl,
            allowedRoles: hasuraAllowedRoles(
                raw.hasura.defaultRole,
                raw.hasura.allowedRoles,
                api.roles.map((r) => r.name),
            ),
        },
        protect: raw.protect ?? raw.environment === "prod",
        postgres: {
            ...raw.postgres,
            sslMode,
            caCertificate,
            publicHost: raw.postgres.publicHost ?? raw.postgres.host,
            publicPort: raw.postgres.publicPort ?? raw.postgres.port,
        },
    };
}

/** Hasura's built-in role: it bypasses every permission. */
export const HASURA_ADMIN_ROLE = "admin";

/**
 * Every role the Hasura claims may carry, the default role first: the stack's explicit
 * `hasura.allowedRoles` when it has one, else the API's role names that are Hasura role names,
 * leaving out `admin` in any case (only an explicit list can allow Hasura's admin role).
 */
export function hasuraAllowedRoles(defaultRole: string, explicit: readonly string[] | undefined, apiRoleNames: readonly string[]): string[] {
    const others = explicit ?? apiRoleNames.filter((name) => HASURA_ROLE_NAME.test(name) && name.toLowerCase() !== HASURA_ADMIN_ROLE);
    return [...new Set([defaultRole, ...others])];
}

/** Parses a config value as the Pulumi CLI stores it (objects, arrays, numbers and booleans as JSON text). */
export function decodeConfigValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** `pulumi.runtime.isConfigSecret` exists at run time but is not in the SDK's typings. */
function isConfigSecret(fullKey: string): boolean {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    if (typeof runtime.isConfigSecret !== "function") {
        throw new Error("this @pulumi/pulumi has no runtime.isConfigSecret; cannot verify that secrets are encrypted");
    }
    return runtime.isConfigSecret(fullKey);
}

/**
 * Reads the stack's configuration once, from the Pulumi runtime, and validates it. Call it in
 * the entry point before registering any resource.
 */
export function readStackConfig(): { config: StackConfig; secrets: StackSecrets } {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const all = pulumi.runtime.allConfig();
    const values: Record<string, unknown> = {};
    const secretEntries: ConfigInput["secrets"] = {};
    const secretTexts: Partial<Record<SecretKey, string>> = {};
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(`${project}:`)) continue;
        const key = fullKey.slice(project.length + 1);
        if ((SECRET_KEYS as readonly string[]).includes(key)) {
            secretEntries[key as SecretKey] = { encrypted: isConfigSecret(fullKey), empty: text.trim() === "" };
            secretTexts[key as SecretKey] = text;
        } else {
            values[key] = decodeConfigValue(text);
        }
    }
    const config = parseStackConfig({ project, stack, values, secrets: secretEntries, otherStacks: readSiblingStackTenants(project, stack) });
    const secret = (key: SecretKey) => pulumi.secret(secretTexts[key] ?? "");
    return {
        config,
        secrets: {
            ...(config.postgresOnly ? {} : { auth0ClientSecret: secret("auth0ClientSecret") }),
            postgresPassword: secret("postgresPassword"),
            ...(config.sync.mode === "hasura" && !config.postgresOnly ? { hasuraAdminSecret: secret("hasuraAdminSecret") } : {}),
            ...(config.supabaseAuth.enabled ? { supabaseAccessToken: secret("supabaseAccessToken") } : {}),
        },
    };
}

export type { Environment };
