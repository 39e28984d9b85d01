/**
 * The rules of the `auth0-postgres` policy pack, as plain policy objects. `index.ts` hands them to
 * `new PolicyPack(...)`; the unit tests call each `validateResource` / `validateStack` directly with
 * a hand-built args object and a recording `reportViolation`, without the policy engine.
 *
 * Two facts about the engine shape these rules:
 *
 * - `validateResource` sees a resource's *inputs* with Pulumi secrets already unwrapped (the SDK
 *   deserializes them to plain values), so a policy cannot tell a secret from a literal by its
 *   value. The secret-literal rule therefore scans only the text that is uploaded to Auth0 (Action
 *   `code`, custom-database `customScripts`) and never the fields made to carry secrets (Action
 *   `secrets` / `secretsWos`, connection `options.configuration`), which is where Pulumi secrets
 *   belong. A Pulumi secret interpolated into the code is still flagged: it would sit in Auth0's
 *   code store in clear text.
 * - `validateStack` sees every resource's *outputs*, including the root `pulumi:pulumi:Stack`
 *   resource whose outputs are the stack outputs. During a preview, what providers compute is
 *   unknown, and reading an unknown value through the SDK's props proxy makes the engine run the
 *   rule as advisory only ("can't run policy ... during preview"). Every rule reads with `peek` and
 *   decides from what a preview knows (inputs, resource types, property dependencies), so mandatory
 *   rules are enforced on pull-request previews too (`test/policy/stacks.test.ts` runs each stack's
 *   preview, with its unknowns, through the pack).
 *
 * The stack name is read from each resource's URN (`urn:pulumi:<stack>::<project>::...`), not from
 * `pulumi.getStack()` (the policy pack runs in its own process, outside the program) nor from a
 * per-stack policy config: the URN is always there and cannot be out of step with the stack being
 * checked. Which stacks may use loopback URLs is policy config (`loopbackStacks`, default `local`).
 *
 * Messages name the resource field and what to do; they never repeat a matched value.
 */
import { isBuiltin } from "node:module";
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

export const TYPES = {
    action: "auth0:index/action:Action",
    connection: "auth0:index/connection:Connection",
    client: "auth0:index/client:Client",
    resourceServer: "auth0:index/resourceServer:ResourceServer",
    pgServer: "postgresql:index/server:Server",
    vaultSecret: "pulumi-nodejs:dynamic/auth0-postgres:VaultSecret",
    pgRole: "postgresql:index/role:Role",
    pgGrant: "postgresql:index/grant:Grant",
    pgDefaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
    pgSchema: "postgresql:index/schema:Schema",
    pgDatabase: "postgresql:index/database:Database",
    stack: "pulumi:pulumi:Stack",
} as const;

/** The Action runtime every Action must pin. */
export const ACTION_RUNTIME = "node22";
/** The Supabase Wrappers foreign-data wrapper of the Auth0 FDW. */
export const AUTH0_FDW = "auth0_wrapper";
/** Privileges that only read; a role granted nothing else must own nothing. */
export const READ_ONLY_PRIVILEGES: readonly string[] = ["SELECT", "USAGE"];
/** Role attributes the stack never grants. */
export const FORBIDDEN_ROLE_ATTRIBUTES = ["superuser", "createRole", "createDatabase", "replication", "bypassRowLevelSecurity"] as const;
/** Stacks allowed to use loopback http URLs (see {@link LOOPBACK_HOST}) unless policy config says otherwise. */
export const DEFAULT_LOOPBACK_STACKS: readonly string[] = ["local"];

// ---------------------------------------------------------------------------------------------
// Helpers (exported for the tests)

/** The stack part of a resource URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string): string {
    const match = /^urn:pulumi:([^:]+)::/.exec(urn);
    if (!match) throw new Error(`not a Pulumi URN: ${urn}`);
    return match[1];
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The engine's sentinels for values not known during a preview (@pulumi/policy `proxy.ts`; a test
 * checks they are the SDK's). Reading such a value through the SDK's props proxy throws, and the
 * engine then downgrades a mandatory rule to advisory for that preview: rules read with {@link peek}.
 */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** What {@link peek} returns for a value the engine does not know yet. */
export const UNKNOWN = Symbol("unknown during preview");

/** A property of a resource's props, or {@link UNKNOWN}, without tripping the SDK's unknown-checking proxy. */
export function peek(props: Record<string, unknown>, key: string): unknown {
    const target = ((props as Record<string, unknown>)["__getSpecialProxyTarget"] as Record<string, unknown> | undefined) ?? props;
    const value = target[key];
    return typeof value === "string" && UNKNOWN_SENTINELS.has(value) ? UNKNOWN : value;
}

/** The names of props (unknown or not), without reading their values. */
function keysOf(props: Record<string, unknown>): string[] {
    const target = ((props as Record<string, unknown>)["__getSpecialProxyTarget"] as Record<string, unknown> | undefined) ?? props;
    return Object.keys(target);
}

/**
 * A role-name property: its value, or when it is not known yet (a role created in the same update),
 * the name of the Postgres role it comes from (its property dependency). Undefined when neither is known.
 */
function roleNameOf(resource: PolicyResource, key: string): string | undefined {
    const value = peek(resource.props, key);
    if (typeof value === "string") return value;
    if (value !== UNKNOWN) return undefined;
    const roles = (resource.propertyDependencies?.[key] ?? []).filter((d) => d.type === TYPES.pgRole);
    const name = roles.length === 1 ? peek(roles[0]!.props, "name") : undefined;
    return typeof name === "string" ? name : undefined;
}

/** A secret-looking literal found in uploaded text: what it looks like and where, never the value. */
export interface SecretFinding {
    kind: string;
    line: number;
}

interface SecretPattern {
    kind: string;
    pattern: RegExp;
}

/**
 * What a hard-coded credential looks like in JavaScript source. Each pattern wants a literal:
 * a reference (`event.secrets.DB_PASSWORD`, `configuration.PASSWORD`, `${password}`) never matches.
 */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
    {
        // The name ends with the keyword (`dbPassword`, `API_KEY`, `accessToken`), so `tokenType` or
        // `PASSWORD_FIELD` are not taken for credentials.
        kind: "a hard-coded password, secret, token or API key assigned to a variable or property",
        pattern: /\b[\w$]*(?:password|passwd|pwd|secret|api[_-]?key|token)["']?\s*[:=]\s*(["'`])(?!\$\{)[^"'`\s]{6,}\1/i,
    },
    {
        kind: "a database URL with an inline user:password",
        pattern: /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?):\/\/(?!\$\{)[^\s:@/'"`]+:(?!\$\{)[^\s@/'"`]+@/i,
    },
    {
        // `clientSecret: "..."` is caught by the first pattern; this one is the form-encoded body.
        kind: "a client_secret literal in a form or query string",
        pattern: /\bclient_secret=(?!\$\{)[\w.~%-]{8,}/i,
    },
    {
        kind: "a JSON Web Token",
        pattern: /\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/,
    },
    {
        kind: "an AWS access key id",
        pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/,
    },
    {
        kind: "an AWS secret access key",
        pattern: /\baws_?secret_?access_?key["']?\s*[:=]\s*["'`]?[A-Za-z0-9/+=]{40}\b/i,
    },
    {
        kind: "a private key",
        pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/,
    },
];

/** Finds secret-looking literals in source text, one finding per (kind, line). */
export function findSecretLiterals(source: string): SecretFinding[] {
    const findings: SecretFinding[] = [];
    const lines = source.split(/\r?\n/);
    lines.forEach((text, i) => {
        for (const { kind, pattern } of SECRET_PATTERNS) {
            if (pattern.test(text)) findings.push({ kind, line: i + 1 });
        }
    });
    return findings;
}

/**
 * Loopback hosts: `localhost`, 127.0.0.0/8 and `::1`, as `URL.hostname` gives them. A copy of
 * `LOOPBACK_HOST` in infra/config/constants.ts, which the pack cannot import: a pull request's
 * preview runs the base branch's `policy/` alone (a sparse checkout, see pull-request.yml).
 * test/policy/rules.test.ts keeps the two equal.
 */
export const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

/** Whether a URL is https, or loopback http (see {@link LOOPBACK_HOST}, any port). */
export function classifyUrl(url: string): "https" | "loopback" | "insecure" {
    if (/^https:\/\//i.test(url)) return "https";
    const u = URL.canParse(url) ? new URL(url) : undefined;
    if (u?.protocol === "http:" && LOOPBACK_HOST.test(u.hostname)) return "loopback";
    return "insecure";
}

interface LoopbackConfig {
    loopbackStacks?: string[];
}

/** A module id Auth0's sandbox resolves to one version: `name@MAJOR.MINOR.PATCH[-pre]`, no range or tag. */
export const PINNED_MODULE_ID =
    /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*@(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** A require in a custom-database script that does not name a version: what it is and where. */
export interface UnpinnedRequire {
    /** The module id, or null when the argument is not a string literal. */
    id: string | null;
    line: number;
}

const REQUIRE_CALL = /\brequire\s*\(\s*(?:(["'])([^"'\\\n]*)\1\s*\)|`([^`\\$\n]*)`\s*\)|)/g;

/**
 * Every `require(...)` in `source` that Auth0's sandbox would not resolve to a known version: a
 * non-core module without an exact `@version`, or an argument that is not a string literal.
 * Comments are scanned too (a commented-out require is reported; move it out or version it).
 */
export function findUnpinnedRequires(source: string): UnpinnedRequire[] {
    const found: UnpinnedRequire[] = [];
    source.split(/\r?\n/).forEach((text, i) => {
        for (const m of text.matchAll(REQUIRE_CALL)) {
            const id = m[2] ?? m[3] ?? null;
            if (id !== null && (isBuiltin(id) || PINNED_MODULE_ID.test(id))) continue;
            found.push({ id, line: i + 1 });
        }
    });
    return found;
}

// ---------------------------------------------------------------------------------------------
// Resource rules

export const noSecretLiteralsInUploadedCode: ResourceValidationPolicy = {
    name: "no-secret-literals-in-uploaded-code",
    description:
        "Auth0 Action code and custom-database scripts contain no hard-coded credentials; they read them from Action secrets or the connection's configuration (Pulumi secrets).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        const sources: [string, unknown][] = [];
        if (args.type === TYPES.action) {
            sources.push(["code", args.props.code]);
        } else if (args.type === TYPES.connection) {
            const options = args.props.options;
            const scripts = isRecord(options) ? options.customScripts : undefined;
            if (isRecord(scripts)) {
                for (const [script, text] of Object.entries(scripts)) sources.push([`options.customScripts.${script}`, text]);
            }
        } else {
            return;
        }
        for (const [field, text] of sources) {
            if (typeof text !== "string") continue;
            for (const f of findSecretLiterals(text)) {
                reportViolation(
                    `${field} line ${f.line} contains ${f.kind}. Keep credentials out of uploaded code: pass them as Action secrets (event.secrets) or connection configuration values (configuration.*), set from Pulumi secrets.`,
                );
            }
        }
    },
};

export const customDbModulesPinned: ResourceValidationPolicy = {
    name: "custom-db-scripts-pin-module-versions",
    description:
        'Custom-database scripts require every npm module at an exact version that Auth0\'s "Can I require" catalogue lists (require("pg@8.11.3")); unversioned, Auth0\'s sandbox loads its own default version of the module. Node core modules need no version.',
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (args.type !== TYPES.connection) return;
        const options = args.props.options;
        const scripts = isRecord(options) ? options.customScripts : undefined;
        if (!isRecord(scripts)) return;
        for (const [script, text] of Object.entries(scripts)) {
            if (typeof text !== "string") continue;
            for (const r of findUnpinnedRequires(text)) {
                const what =
                    r.id === null
                        ? "requires a module given by an expression, whose version cannot be checked"
                        : `requires "${r.id}" without an exact version, so Auth0 would load its default version of it`;
                reportViolation(
                    `options.customScripts.${script} line ${r.line} ${what}. Require npm modules as "<name>@<version>" with a version Auth0's "Can I require" catalogue lists (this project: the stack's customDb.modules).`,
                );
            }
        }
    },
};

export const clientUrlsHttps: ResourceValidationPolicy = {
    name: "client-urls-https",
    description:
        "Callbacks, allowed (web) origins and logout URLs of Auth0 clients are https; loopback http (localhost, 127.0.0.0/8, [::1]) is allowed only on the stacks in `loopbackStacks` (default: local). The stack is read from the resource URN.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: {
            loopbackStacks: { type: "array", items: { type: "string" }, default: [...DEFAULT_LOOPBACK_STACKS] },
        },
    },
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (args.type !== TYPES.client) return;
        const stack = stackOfUrn(args.urn);
        const loopbackStacks = args.getConfig<LoopbackConfig>().loopbackStacks ?? DEFAULT_LOOPBACK_STACKS;
        const loopbackAllowed = loopbackStacks.includes(stack);
        for (const field of ["callbacks", "webOrigins", "allowedOrigins", "allowedLogoutUrls"]) {
            const urls = args.props[field];
            if (!Array.isArray(urls)) continue;
            urls.forEach((url: unknown, i: number) => {
                if (typeof url !== "string") return;
                const kind = classifyUrl(url);
                if (kind === "insecure") {
                    reportViolation(`${field}[${i}] is not an https URL (${url}); only https, or loopback http on ${loopbackStacks.join("/")}, is allowed.`);
                } else if (kind === "loopback" && !loopbackAllowed) {
                    reportViolation(
                        `${field}[${i}] is a loopback http URL (${url}) on stack "${stack}"; only ${loopbackStacks.join("/")} may use loopback hosts (localhost, 127.0.0.0/8, [::1]).`,
                    );
                }
            });
        }
    },
};

export const actionRuntimePinned: ResourceValidationPolicy = {
    name: "action-runtime-pinned-and-deployed",
    description: `Auth0 Actions pin runtime ${ACTION_RUNTIME} and are deployed (deploy: true), so what is previewed is what runs.`,
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (args.type !== TYPES.action) return;
        const { runtime, deploy } = args.props;
        if (runtime !== ACTION_RUNTIME) {
            reportViolation(`runtime must be "${ACTION_RUNTIME}" (got ${runtime === undefined ? "nothing, i.e. Auth0's default" : JSON.stringify(runtime)}).`);
        }
        if (deploy !== true) {
            reportViolation("deploy must be true: an undeployed Action keeps running its previous version.");
        }
    },
};

/** A foreign server of a Supabase Wrappers wrapper (named `<prefix>_wrapper` by this stack). */
export const WRAPPERS_FDW = /^[a-z_][a-z0-9_]*_wrapper$/;

export const auth0FdwUsesVaultKeyId: StackValidationPolicy = {
    name: "auth0-fdw-uses-vault-key-id",
    description: `A foreign server of a Supabase Wrappers FDW (e.g. ${AUTH0_FDW}) takes its API key from Supabase Vault (option api_key_id), never inline (api_key). In a preview, where the options wait for the Vault secret's id, it checks that they come from a Vault secret.`,
    enforcementLevel: "mandatory",
    severity: "critical",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        for (const r of args.resources) {
            if (r.type !== TYPES.pgServer) continue;
            const fdwName = peek(r.props, "fdwName");
            if (typeof fdwName !== "string" || !WRAPPERS_FDW.test(fdwName)) continue;
            const options = peek(r.props, "options");
            if (options === UNKNOWN) {
                const fromVault = (r.propertyDependencies?.options ?? []).some((d) => d.type === TYPES.vaultSecret);
                if (!fromVault) {
                    reportViolation(
                        `options are not known yet and come from no Vault secret: the ${fdwName} server must take api_key_id from the Vault secret holding the Management API token.`,
                        r.urn,
                    );
                }
                continue;
            }
            const known = isRecord(options) ? options : {};
            if ("api_key" in known) {
                reportViolation(
                    `options.api_key puts the Auth0 Management API token in the server definition (readable in pg_foreign_server); store it in Vault and pass options.api_key_id.`,
                    r.urn,
                );
            }
            if (!("api_key_id" in known)) {
                reportViolation(`options.api_key_id is missing: the ${fdwName} server must name the Vault secret holding the Management API token.`, r.urn);
            }
        }
    },
};

export const apiIdentifierAndRs256: ResourceValidationPolicy = {
    name: "api-identifier-and-rs256",
    description:
        "The Auth0 API (resource server) has an identifier, the audience Hasura's JWT config checks, and signs access tokens with RS256 so Hasura can verify them with the tenant's JWKS.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (args.type !== TYPES.resourceServer) return;
        const { identifier, signingAlg } = args.props;
        if (typeof identifier !== "string" || identifier.trim() === "") {
            reportViolation("identifier is missing: it is the audience of access tokens and of the Hasura JWT config.");
        }
        if (signingAlg !== "RS256") {
            reportViolation(
                `signingAlg must be "RS256" (got ${signingAlg === undefined ? "nothing" : JSON.stringify(signingAlg)}); HS256 tokens cannot be verified against the JWKS in the Hasura JWT config.`,
            );
        }
    },
};

export const postgresRoleLeastPrivilege: ResourceValidationPolicy = {
    name: "postgres-role-least-privilege",
    description: `Postgres roles the stack creates have none of: ${FORBIDDEN_ROLE_ATTRIBUTES.join(", ")}.`,
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        if (args.type !== TYPES.pgRole) return;
        for (const attribute of FORBIDDEN_ROLE_ATTRIBUTES) {
            if (args.props[attribute] === true) {
                reportViolation(`${attribute} is true; roles this stack creates must not have it (grant specific privileges instead).`);
            }
        }
    },
};

// ---------------------------------------------------------------------------------------------
// Stack rules

/** Privileges granted to each role by the stack's Grant and DefaultPrivileges resources. */
export function privilegesByRole(resources: readonly PolicyResource[]): Map<string, Set<string>> {
    const byRole = new Map<string, Set<string>>();
    for (const r of resources) {
        if (r.type !== TYPES.pgGrant && r.type !== TYPES.pgDefaultPrivileges) continue;
        const role = roleNameOf(r, "role");
        const privileges = peek(r.props, "privileges");
        if (typeof role !== "string" || !Array.isArray(privileges)) continue;
        const set = byRole.get(role) ?? new Set<string>();
        for (const p of privileges) if (typeof p === "string") set.add(p.toUpperCase());
        byRole.set(role, set);
    }
    return byRole;
}

export const readOnlyRolesOwnNothing: StackValidationPolicy = {
    name: "read-only-roles-own-nothing",
    description: `No schema or database is owned by a role whose grants are only ${READ_ONLY_PRIVILEGES.join("/")}: an owner holds every privilege on what it owns, whatever it was granted.`,
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const readOnly = new Set<string>();
        for (const [role, privileges] of privilegesByRole(args.resources)) {
            if (privileges.size > 0 && [...privileges].every((p) => READ_ONLY_PRIVILEGES.includes(p))) readOnly.add(role);
        }
        for (const r of args.resources) {
            if (r.type !== TYPES.pgSchema && r.type !== TYPES.pgDatabase) continue;
            // Not known yet (a preview): either it comes from a role (checked by that role's name),
            // or it was not set and the provider's admin role, which creates it, will own it.
            const owner = roleNameOf(r, "owner");
            if (owner !== undefined && readOnly.has(owner)) {
                const what = r.type === TYPES.pgSchema ? "schema" : "database";
                const name = peek(r.props, "name");
                reportViolation(
                    `${what} ${JSON.stringify(typeof name === "string" ? name : r.name)} is owned by ${JSON.stringify(owner)}, a role granted only ${READ_ONLY_PRIVILEGES.join("/")}; let the admin role own it.`,
                    r.urn,
                );
            }
        }
    },
};

/** The shape of the Hasura JWT config stack output (HASURA_GRAPHQL_JWT_SECRET). */
export interface HasuraJwtConfig {
    jwk_url: string;
    issuer: string;
    audience: string | string[];
    claims_namespace: string;
}

const HASURA_JWT_KEYS = ["jwk_url", "issuer", "audience", "claims_namespace"] as const;

/** Stack outputs that look like a Hasura JWT config: a JSON string or object with any of its keys. */
export function findHasuraJwtOutputs(outputs: Record<string, unknown>): { name: string; value: Record<string, unknown> }[] {
    const found: { name: string; value: Record<string, unknown> }[] = [];
    for (const [name, raw] of Object.entries(outputs)) {
        let value: unknown = raw;
        if (typeof raw === "string" && raw.trimStart().startsWith("{")) {
            try {
                value = JSON.parse(raw);
            } catch {
                continue;
            }
        }
        if (isRecord(value) && HASURA_JWT_KEYS.some((k) => k in value) && ("jwk_url" in value || "claims_namespace" in value)) {
            found.push({ name, value });
        }
    }
    return found;
}

export const hasuraJwtMatchesApi: StackValidationPolicy = {
    name: "hasura-jwt-config-matches-api",
    description:
        "The Hasura JWT config stack output has jwk_url, issuer, audience and claims_namespace, and its audience is the identifier of an Auth0 API in the stack. In a preview it checks the config when it is known (it is built from the API's identifier, an input); outputs not known yet are checked on `pulumi up`.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
        const stackResource = args.resources.find((r) => r.type === TYPES.stack);
        if (!stackResource) return;
        const identifiers = new Set(
            args.resources
                .filter((r) => r.type === TYPES.resourceServer)
                .map((r) => peek(r.props, "identifier"))
                .filter((i): i is string => typeof i === "string"),
        );
        const knownOutputs = Object.fromEntries(
            keysOf(stackResource.props)
                .map((k) => [k, peek(stackResource.props, k)] as const)
                .filter(([, v]) => v !== UNKNOWN),
        );
        for (const { name, value } of findHasuraJwtOutputs(knownOutputs)) {
            for (const key of HASURA_JWT_KEYS) {
                const v = value[key];
                const ok = typeof v === "string" ? v !== "" : Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x !== "");
                if (!ok) reportViolation(`stack output ${name}: ${key} is missing or empty.`, stackResource.urn);
            }
            const audience = value.audience;
            const audiences =
                typeof audience === "string" ? [audience] : Array.isArray(audience) ? audience.filter((a): a is string => typeof a === "string") : [];
            for (const a of audiences) {
                if (!identifiers.has(a)) {
                    reportViolation(
                        `stack output ${name}: audience ${JSON.stringify(a)} is not the identifier of any Auth0 API in this stack (${[...identifiers].map((i) => JSON.stringify(i)).join(", ") || "none"}).`,
                        stackResource.urn,
                    );
                }
            }
            if (typeof value.jwk_url === "string" && typeof value.issuer === "string" && URL.canParse(value.jwk_url) && URL.canParse(value.issuer)) {
                if (new URL(value.jwk_url).host !== new URL(value.issuer).host) {
                    reportViolation(`stack output ${name}: jwk_url and issuer are on different hosts; both must be the Auth0 tenant.`, stackResource.urn);
                }
            }
        }
    },
};

/** Every rule of the pack, in the order they are reported. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    noSecretLiteralsInUploadedCode,
    customDbModulesPinned,
    clientUrlsHttps,
    actionRuntimePinned,
    auth0FdwUsesVaultKeyId,
    apiIdentifierAndRs256,
    postgresRoleLeastPrivilege,
    readOnlyRolesOwnNothing,
    hasuraJwtMatchesApi,
];
