/**
 * The Auth0 custom-database scripts: the text uploaded as the connection's
 * `options.customScripts`, and the `configuration` map they read.
 *
 * Each script lives in its own file (`<name>.js`, named as Auth0 names it), as one function
 * declaration with a marker line in its body; `shared.js` is inserted there, once per script,
 * so the shared code is written once and each uploaded script is self-contained.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SCRIPT_LIMITS, SCRIPT_TIME_BUDGET_MS, SSL_MODES, SslMode } from "../../config/constants";
import { DEFAULT_SCRIPT_MODULE_VERSIONS, EXACT_VERSION, pinScriptModules, SCRIPT_MODULES, ScriptModuleVersions } from "./modules";

/** The six scripts, under the keys Auth0 uses in `options.customScripts`. */
export const SCRIPT_NAMES = ["login", "create", "verify", "change_password", "get_user", "delete"] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** The function each script declares, with its parameters (Auth0's templates' names and signatures). */
export const SCRIPT_SIGNATURES: Record<ScriptName, { functionName: string; params: string[] }> = {
    login: { functionName: "login", params: ["email", "password", "callback"] },
    create: { functionName: "create", params: ["user", "callback"] },
    verify: { functionName: "verify", params: ["email", "callback"] },
    change_password: { functionName: "changePassword", params: ["email", "newPassword", "callback"] },
    get_user: { functionName: "getByEmail", params: ["email", "callback"] },
    delete: { functionName: "remove", params: ["id", "callback"] },
};

/** The line, inside each script's body, that the shared code replaces. */
export const SHARED_CODE_MARKER = "// @@SHARED_CODE@@";

/** Where the script sources are. */
export const SCRIPTS_DIR = __dirname;

/** `application_name` of the scripts' database sessions (see shared.js). */
export const SCRIPTS_APPLICATION_NAME = "auth0-custom-db";

const MARKER_LINE = /^[ \t]*\/\/ @@SHARED_CODE@@[ \t]*$/gm;

/**
 * Inserts `shared` in place of the marker line of one script's source. Throws, naming the
 * script, when the source is not one function declaration with Auth0's name and parameters, or
 * does not hold exactly one marker line.
 */
export function assembleScript(name: ScriptName, source: string, shared: string): string {
    const { functionName, params } = SCRIPT_SIGNATURES[name];
    const text = source.trim();
    const head = new RegExp(`^function ${functionName}\\s*\\(\\s*${params.join("\\s*,\\s*")}\\s*\\)\\s*\\{`);
    if (!head.test(text) || !text.endsWith("}")) {
        throw new Error(`custom-database script ${name}.js must be one declaration "function ${functionName}(${params.join(", ")}) { ... }"`);
    }
    const markers = text.match(MARKER_LINE) ?? [];
    if (markers.length !== 1) {
        throw new Error(`custom-database script ${name}.js must contain the line "${SHARED_CODE_MARKER}" exactly once (found ${markers.length})`);
    }
    if (shared.includes(SHARED_CODE_MARKER)) {
        throw new Error(`shared.js must not contain the marker "${SHARED_CODE_MARKER}"`);
    }
    // A function replacement, so `$` sequences in the shared code are not replacement patterns.
    return text.replace(MARKER_LINE, () => shared.trim());
}

function readSource(file: string): string {
    const path = join(SCRIPTS_DIR, file);
    try {
        return readFileSync(path, "utf8");
    } catch (err) {
        throw new Error(`cannot read custom-database script source ${path}: ${(err as Error).message}`);
    }
}

/** The shared code as it is inserted into each script, with the versions of `modules` in its requires. */
export function sharedCode(modules: Readonly<ScriptModuleVersions> = DEFAULT_SCRIPT_MODULE_VERSIONS): string {
    return pinScriptModules("shared.js", readSource("shared.js").trim(), modules);
}

/**
 * The assembled text of each script: what is uploaded to Auth0 as `options.customScripts`. Each
 * `require("<name>@{{version}}")` gets the version in `modules` (the stack's `customDb.modules`);
 * throws when a script would require a non-core module without an exact version.
 */
export function customDbScripts(modules: Readonly<ScriptModuleVersions> = DEFAULT_SCRIPT_MODULE_VERSIONS): Record<ScriptName, string> {
    const shared = sharedCode(modules);
    const out = {} as Record<ScriptName, string>;
    for (const name of SCRIPT_NAMES) out[name] = pinScriptModules(`${name}.js`, assembleScript(name, readSource(`${name}.js`), shared), modules);
    return out;
}

/** The keys of the connection's `configuration` map the scripts read. */
export const SCRIPT_CONFIGURATION_KEYS = [
    "DB_URL",
    "DB_SSL",
    "BCRYPT_COST",
    "DB_POOL_MAX",
    "DB_CONNECT_TIMEOUT_MS",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_SCHEMA",
    "DB_CA_CERT",
] as const;
export type ScriptConfigurationKey = (typeof SCRIPT_CONFIGURATION_KEYS)[number];

/** The SSL modes and the scripts' limits: one definition, in infra/config/constants.ts. */
export { SCRIPT_LIMITS, SCRIPT_TIME_BUDGET_MS, SSL_MODES };
export type { SslMode };

/**
 * The non-secret part of the scripts' configuration: everything but the URL, which holds the
 * scripts role's generated password. Known from the stack config alone, so the program checks it
 * (see {@link scriptSettingsProblems}) before it registers anything, in a preview too: the URL is
 * known only once the password is, which a new stack's first preview never sees.
 */
export interface ScriptSettings {
    ssl: SslMode;
    /** bcrypt cost of new and changed passwords (`SCRIPT_LIMITS.bcryptCost`). */
    bcryptCost: number;
    /** Largest pool per Auth0 container (`SCRIPT_LIMITS.poolMax`). */
    poolMax: number;
    /** Connect timeout in milliseconds (`SCRIPT_LIMITS.connectTimeoutMs`). */
    connectTimeoutMs: number;
    /** Statement timeout in milliseconds (`SCRIPT_LIMITS.statementTimeoutMs`); with the connect timeout, at most `SCRIPT_TIME_BUDGET_MS`. */
    statementTimeoutMs: number;
    /** Schema of the user store. */
    schema: string;
    /**
     * PEM of the CA certificate(s) `verify-ca` and `verify-full` trust (the stack's
     * `postgres.caCertificate`). Defaults to none: sent as {@link NO_CA_CERTIFICATE}, and the
     * scripts trust Node's public roots.
     */
    caCertificate?: string;
    /**
     * The version of each module the scripts require (the stack's `customDb.modules`; not part of
     * the configuration map, see `customDbScripts`). Left out, not checked.
     */
    modules?: Readonly<ScriptModuleVersions>;
}

export interface ScriptConfigurationArgs extends ScriptSettings {
    /** postgres:// URL logging in as the scripts role. A secret: keep the result in a Pulumi secret. */
    dbUrl: string;
}

/**
 * DB_CA_CERT when there is no CA. The key is always sent (see configuration-keys.ts: a key that
 * comes and goes would need the two-step removal), with this value when there is nothing to send.
 */
export const NO_CA_CERTIFICATE = "none";

const PEM_CERTIFICATE = /^(?:-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?)+$/;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const DB_URL = /^postgres(ql)?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;

/**
 * What the scripts would refuse in the non-secret settings, each naming the field: what `shared.js`
 * checks at run time, and the module versions. Pure, and needs no password.
 */
export function scriptSettingsProblems(settings: ScriptSettings): string[] {
    const problems: string[] = [];
    if (!(SSL_MODES as readonly string[]).includes(settings.ssl))
        problems.push(`ssl must be one of ${SSL_MODES.join(", ")} (got ${JSON.stringify(settings.ssl)})`);
    if (typeof settings.schema !== "string" || !SCHEMA_NAME.test(settings.schema))
        problems.push(`schema must match ${SCHEMA_NAME} (got ${JSON.stringify(settings.schema)})`);
    if (settings.caCertificate !== undefined) {
        if (typeof settings.caCertificate !== "string" || !PEM_CERTIFICATE.test(settings.caCertificate)) {
            problems.push("caCertificate must be normalized PEM text of one or more certificates (see parseCaCertificate)");
        } else if (settings.ssl === "disable" || settings.ssl === "require") {
            problems.push(`caCertificate is given but ssl is ${JSON.stringify(settings.ssl)}, which does not verify the server: use verify-ca or verify-full`);
        }
    }
    let inRange = true;
    for (const field of Object.keys(SCRIPT_LIMITS) as (keyof typeof SCRIPT_LIMITS)[]) {
        const { min, max } = SCRIPT_LIMITS[field];
        const value = settings[field];
        if (!Number.isInteger(value) || value < min || value > max) {
            inRange = false;
            problems.push(`${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
        }
    }
    if (inRange && settings.connectTimeoutMs + settings.statementTimeoutMs > SCRIPT_TIME_BUDGET_MS) {
        problems.push(`connectTimeoutMs + statementTimeoutMs must be at most ${SCRIPT_TIME_BUDGET_MS} (Auth0 stops a script after about 20 s)`);
    }
    if (settings.modules !== undefined) {
        for (const name of SCRIPT_MODULES) {
            const version = settings.modules[name];
            if (typeof version !== "string" || !EXACT_VERSION.test(version))
                problems.push(`modules.${name} must be an exact version such as 1.2.3 (got ${JSON.stringify(version)})`);
        }
    }
    return problems;
}

/**
 * Throws, naming each bad field, when the scripts would refuse `settings` (see
 * {@link scriptSettingsProblems}); returns them otherwise. Call it where the stack config is known,
 * outside any `apply`.
 */
export function checkScriptSettings<T extends ScriptSettings>(settings: T): T {
    const problems = scriptSettingsProblems(settings);
    if (problems.length > 0) throw new Error(`custom-database script configuration: ${problems.join("; ")}`);
    return settings;
}

/**
 * The connection's `configuration` map (every value a string). Throws naming each bad field; the
 * message never contains the URL. The result holds the database password: wrap it in a secret.
 */
export function scriptConfiguration(args: ScriptConfigurationArgs): Record<ScriptConfigurationKey, string> {
    const problems: string[] = [];
    if (typeof args.dbUrl !== "string" || !DB_URL.test(args.dbUrl) || !URL.canParse(args.dbUrl)) {
        problems.push("dbUrl must be a postgres:// or postgresql:// URL without query parameters or fragment (value not shown)");
    } else {
        const u = new URL(args.dbUrl);
        if (!u.hostname || !u.username) problems.push("dbUrl must name a host and a user (value not shown)");
    }
    problems.push(...scriptSettingsProblems(args));
    if (problems.length > 0) throw new Error(`custom-database script configuration: ${problems.join("; ")}`);
    return {
        DB_URL: args.dbUrl,
        DB_SSL: args.ssl,
        BCRYPT_COST: String(args.bcryptCost),
        DB_POOL_MAX: String(args.poolMax),
        DB_CONNECT_TIMEOUT_MS: String(args.connectTimeoutMs),
        DB_STATEMENT_TIMEOUT_MS: String(args.statementTimeoutMs),
        DB_SCHEMA: args.schema,
        DB_CA_CERT: args.caCertificate ?? NO_CA_CERTIFICATE,
    };
}
