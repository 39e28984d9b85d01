/**
 * Runs an Auth0 Action's exact `code` text the way Auth0 does: as a CommonJS module in its own
 * `node:vm` context, loaded once and then invoked for many logins (so module-scope state, such as
 * a connection pool, survives between invocations, as in a warm Auth0 container).
 *
 * The context gets what the Auth0 Node runtime offers an Action: `exports`, `module`, a `require`
 * limited to Node built-ins and the Action's declared dependencies (resolved from this project's
 * node_modules, and checked to be the declared version), a captured `console`, `fetch`, timers,
 * URL, AbortSignal, TextEncoder, Buffer, crypto. It has no `process`: configuration reaches an
 * Action only through `event.secrets`.
 *
 * `postLoginEvent()` builds an event with the documented post-login shape; `recordingApi()` is
 * the post-login `api` recording every call; `runPostLoginFlow()` runs bound Actions in order,
 * each with its own secrets, carrying metadata changes into the next Action's `event.user` and
 * stopping after a deny, as Auth0 does.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createRequire, isBuiltin } from "node:module";
import { join, resolve } from "node:path";
import { readFileSync } from "node:fs";
import { format } from "node:util";
import vm from "node:vm";
import type { ActionSpec } from "../../infra/auth0/actions";

const PROJECT_ROOT = resolve(__dirname, "..", "..");
const projectRequire = createRequire(join(PROJECT_ROOT, "package.json"));

/** Auth0 stops an Action execution after 20 seconds. */
export const AUTH0_TIME_LIMIT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// The event.

export interface PostLoginUser {
    user_id: string;
    email?: string;
    email_verified?: boolean;
    name?: string;
    nickname?: string;
    given_name?: string;
    family_name?: string;
    picture?: string;
    username?: string;
    phone_number?: string;
    phone_verified?: boolean;
    created_at: string;
    updated_at: string;
    last_password_reset?: string;
    multifactor?: string[];
    app_metadata: Record<string, unknown>;
    user_metadata: Record<string, unknown>;
    identities: { connection: string; isSocial: boolean; provider: string; user_id: string; profile_data?: Record<string, unknown> }[];
}

export interface PostLoginEvent {
    authentication: { methods: { name: string; timestamp: string }[] };
    authorization: { roles: string[] };
    client: { client_id: string; name: string; metadata: Record<string, string> };
    connection: { id: string; name: string; strategy: string; metadata: Record<string, string> };
    organization?: { id: string; name: string; display_name: string; metadata: Record<string, string> };
    request: {
        ip: string;
        method: string;
        hostname: string;
        language: string;
        user_agent: string;
        query: Record<string, unknown>;
        body: Record<string, unknown>;
        geoip: {
            cityName?: string;
            continentCode?: string;
            countryCode?: string;
            countryCode3?: string;
            countryName?: string;
            latitude?: number;
            longitude?: number;
            timeZone?: string;
        };
    };
    resource_server?: { identifier: string };
    stats: { logins_count: number };
    tenant: { id: string };
    transaction: {
        id: string;
        locale: string;
        protocol: string;
        requested_scopes: string[];
        redirect_uri: string;
        response_type: string[];
        response_mode: string;
        state: string;
        ui_locales: string[];
        metadata: Record<string, unknown>;
    };
    secrets: Record<string, string>;
    configuration: Record<string, string>;
    user: PostLoginUser;
}

export interface EventOverrides {
    user?: Partial<PostLoginUser>;
    authorization?: Partial<PostLoginEvent["authorization"]>;
    secrets?: Record<string, string | undefined>;
    connection?: Partial<PostLoginEvent["connection"]>;
    client?: Partial<PostLoginEvent["client"]>;
    request?: Partial<PostLoginEvent["request"]>;
    transaction?: Partial<PostLoginEvent["transaction"]>;
    resource_server?: PostLoginEvent["resource_server"];
    stats?: Partial<PostLoginEvent["stats"]>;
}

/**
 * A post-login event as Auth0 documents it, for a user of the `postgres-users` custom-database
 * connection (user_id `auth0|<uuid>`). Each top-level part can be overridden (shallow merge);
 * secrets whose value is `undefined` are left out.
 */
export function postLoginEvent(overrides: EventOverrides = {}): PostLoginEvent {
    const id = randomUUID();
    const now = new Date().toISOString();
    const user: PostLoginUser = {
        user_id: `auth0|${id}`,
        email: "ada.lovelace@example.com",
        email_verified: true,
        name: "Ada Lovelace",
        nickname: "ada.lovelace",
        given_name: "Ada",
        family_name: "Lovelace",
        picture: "https://s.gravatar.com/avatar/0?s=480&r=pg&d=identicon",
        created_at: "2024-03-01T09:00:00.000Z",
        updated_at: now,
        multifactor: [],
        app_metadata: {},
        user_metadata: {},
        identities: [{ connection: "postgres-users", isSocial: false, provider: "auth0", user_id: id }],
        ...overrides.user,
    };
    const secrets = Object.fromEntries(Object.entries(overrides.secrets ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return {
        authentication: { methods: [{ name: "pwd", timestamp: now }] },
        authorization: { roles: [], ...overrides.authorization },
        client: { client_id: randomBytes(16).toString("hex"), name: "auth0-postgres (test) SPA", metadata: {}, ...overrides.client },
        connection: { id: `con_${randomBytes(8).toString("hex")}`, name: "postgres-users", strategy: "auth0", metadata: {}, ...overrides.connection },
        request: {
            ip: "203.0.113.7",
            method: "POST",
            hostname: "tenant.eu.auth0.com",
            language: "en-GB",
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
            query: { audience: "https://api.example.com", scope: "openid profile email" },
            body: {},
            geoip: {
                cityName: "London",
                continentCode: "EU",
                countryCode: "GB",
                countryCode3: "GBR",
                countryName: "United Kingdom",
                latitude: 51.5,
                longitude: -0.12,
                timeZone: "Europe/London",
            },
            ...overrides.request,
        },
        resource_server: overrides.resource_server ?? { identifier: "https://api.example.com" },
        stats: { logins_count: 3, ...overrides.stats },
        tenant: { id: "test-tenant" },
        transaction: {
            id: randomBytes(12).toString("hex"),
            locale: "en",
            protocol: "oidc-basic-profile",
            requested_scopes: ["openid", "profile", "email"],
            redirect_uri: "http://localhost:5173/callback",
            response_type: ["code"],
            response_mode: "query",
            state: randomBytes(8).toString("hex"),
            ui_locales: ["en"],
            metadata: {},
            ...overrides.transaction,
        },
        secrets,
        configuration: {},
        user,
    };
}

// ---------------------------------------------------------------------------------------------
// The api.

export interface ApiCall {
    method:
        | "access.deny"
        | "accessToken.setCustomClaim"
        | "accessToken.addScope"
        | "accessToken.removeScope"
        | "idToken.setCustomClaim"
        | "user.setUserMetadata"
        | "user.setAppMetadata";
    /** The arguments as Auth0 would serialize them (structured clones taken at call time). */
    args: unknown[];
}

export interface RecordingApi {
    api: unknown;
    calls: ApiCall[];
}

/** The post-login `api` object; every method records its call and returns `api`, as Auth0's do. */
export function recordingApi(): RecordingApi {
    const calls: ApiCall[] = [];
    const api: Record<string, Record<string, (...args: unknown[]) => unknown>> = {};
    const record =
        (method: ApiCall["method"]) =>
        (...args: unknown[]) => {
            calls.push({ method, args: structuredClone(args) });
            return api;
        };
    api.access = { deny: record("access.deny") };
    api.accessToken = {
        setCustomClaim: record("accessToken.setCustomClaim"),
        addScope: record("accessToken.addScope"),
        removeScope: record("accessToken.removeScope"),
    };
    api.idToken = { setCustomClaim: record("idToken.setCustomClaim") };
    api.user = { setUserMetadata: record("user.setUserMetadata"), setAppMetadata: record("user.setAppMetadata") };
    return { api, calls };
}

// ---------------------------------------------------------------------------------------------
// Loading and invoking.

export interface LogLine {
    level: "log" | "info" | "warn" | "error" | "debug";
    text: string;
}

export interface Invocation {
    calls: ApiCall[];
    /** Console output during this invocation. */
    logs: LogLine[];
    /** The reason of `api.access.deny`, if it was called. */
    denied: string | undefined;
    /** What the handler threw or rejected with (Auth0 fails the login then), or the time-limit error. */
    error: unknown;
    durationMs: number;
    /** The claims set on each token, by name. */
    accessTokenClaims: Record<string, unknown>;
    idTokenClaims: Record<string, unknown>;
    /** The metadata changes requested, by key. */
    userMetadata: Record<string, unknown>;
    appMetadata: Record<string, unknown>;
}

export interface LoadOptions {
    /** Fails an invocation that has not settled after this long. Defaults to Auth0's 20 s. */
    timeLimitMs?: number;
    /** Sees (and may wrap) each module the Action requires, e.g. to track pg pools. */
    interceptModule?: (name: string, exports: unknown) => unknown;
}

export interface LoadedAction {
    spec: ActionSpec;
    invoke: (event: PostLoginEvent) => Promise<Invocation>;
    /** Every console line since loading, including lines logged between invocations. */
    allLogs: LogLine[];
    /** The module names the Action required, in order. */
    required: string[];
}

class ActionLoadError extends Error {
    constructor(key: string, message: string) {
        super(`Action "${key}": ${message}`);
        this.name = "ActionLoadError";
    }
}

function makeRequire(spec: ActionSpec, required: string[], intercept: LoadOptions["interceptModule"]): (name: string) => unknown {
    const declared = new Map(spec.dependencies.map((d) => [d.name, d.version]));
    for (const [name, version] of declared) {
        const manifest = JSON.parse(readFileSync(projectRequire.resolve(`${name}/package.json`), "utf8")) as { version: string };
        if (manifest.version !== version) {
            throw new ActionLoadError(
                spec.key,
                `declares ${name}@${version} but node_modules has ${name}@${manifest.version}; the tests would not run what Auth0 installs`,
            );
        }
    }
    return (name: string) => {
        if (typeof name !== "string") throw new TypeError("require() takes a module name");
        let loaded: unknown;
        if (isBuiltin(name)) {
            loaded = projectRequire(name);
        } else {
            const pkg = name.startsWith("@") ? name.split("/").slice(0, 2).join("/") : name.split("/")[0];
            if (!declared.has(pkg)) {
                const error = new Error(`Cannot find module '${name}': Action "${spec.key}" does not declare it as a dependency`) as Error & { code: string };
                error.code = "MODULE_NOT_FOUND";
                throw error;
            }
            loaded = projectRequire(name);
        }
        required.push(name);
        return intercept ? intercept(name, loaded) : loaded;
    };
}

/** Loads an Action's code into a fresh context, once. Invoke it as often as needed. */
export function loadAction(spec: ActionSpec, options: LoadOptions = {}): LoadedAction {
    const timeLimitMs = options.timeLimitMs ?? AUTH0_TIME_LIMIT_MS;
    const allLogs: LogLine[] = [];
    let sink: LogLine[] | null = null;
    const write =
        (level: LogLine["level"]) =>
        (...args: unknown[]) => {
            const line = { level, text: format(...args) };
            allLogs.push(line);
            sink?.push(line);
        };
    const console = { log: write("log"), info: write("info"), warn: write("warn"), error: write("error"), debug: write("debug") };

    const context = vm.createContext(
        {
            console,
            fetch,
            Request,
            Response,
            Headers,
            FormData,
            AbortController,
            AbortSignal,
            URL,
            URLSearchParams,
            TextEncoder,
            TextDecoder,
            Buffer,
            crypto: globalThis.crypto,
            structuredClone,
            atob,
            btoa,
            queueMicrotask,
            performance,
            setTimeout,
            clearTimeout,
            setInterval,
            clearInterval,
            setImmediate,
            clearImmediate,
        },
        { name: `auth0-action:${spec.key}` },
    );
    const required: string[] = [];
    const moduleObject = vm.runInContext("({ exports: {} })", context) as { exports: Record<string, unknown> };
    const filename = `/auth0/actions/${spec.key}.js`;
    const wrapper = vm.compileFunction(spec.code, ["exports", "require", "module", "__filename", "__dirname"], { parsingContext: context, filename });
    wrapper.call(moduleObject.exports, moduleObject.exports, makeRequire(spec, required, options.interceptModule), moduleObject, filename, "/auth0/actions");
    const handler = moduleObject.exports.onExecutePostLogin;
    if (typeof handler !== "function") throw new ActionLoadError(spec.key, "does not export onExecutePostLogin");

    const invoke = async (event: PostLoginEvent): Promise<Invocation> => {
        const { api, calls } = recordingApi();
        const logs: LogLine[] = [];
        sink = logs;
        const started = performance.now();
        let error: unknown;
        let timer: NodeJS.Timeout | undefined;
        try {
            await Promise.race([
                Promise.resolve().then(() => (handler as (e: unknown, a: unknown) => unknown)(event, api)),
                new Promise((_, reject) => {
                    timer = setTimeout(() => reject(new Error(`Action "${spec.key}" did not finish within ${timeLimitMs} ms`)), timeLimitMs);
                }),
            ]);
        } catch (err) {
            error = err;
        } finally {
            clearTimeout(timer);
            sink = null;
        }
        const durationMs = performance.now() - started;
        const pairs = (method: ApiCall["method"]) => Object.fromEntries(calls.filter((c) => c.method === method).map((c) => [c.args[0] as string, c.args[1]]));
        const deny = calls.find((c) => c.method === "access.deny");
        return {
            calls,
            logs,
            denied: deny ? String(deny.args[0]) : undefined,
            error,
            durationMs,
            accessTokenClaims: pairs("accessToken.setCustomClaim"),
            idTokenClaims: pairs("idToken.setCustomClaim"),
            userMetadata: pairs("user.setUserMetadata"),
            appMetadata: pairs("user.setAppMetadata"),
        };
    };
    return { spec, invoke, allLogs, required };
}

export interface FlowResult {
    /** The invocations that ran, in binding order (the flow stops after a deny or an error). */
    steps: { key: string; invocation: Invocation }[];
    denied: string | undefined;
    /** The user as the flow leaves it (metadata changes applied, as Auth0 persists them). */
    user: PostLoginUser;
    accessTokenClaims: Record<string, unknown>;
    idTokenClaims: Record<string, unknown>;
}

export interface BoundAction {
    action: LoadedAction;
    /** The Action's own secrets (Auth0 gives each Action only its own). */
    secrets: Record<string, string | undefined>;
}

/**
 * Runs the Actions bound to the post-login trigger, in order, each with its own secrets.
 * Metadata set by one Action is visible in `event.user` of the next ones; a deny or an error ends
 * the flow after that Action.
 */
export async function runPostLoginFlow(bound: BoundAction[], event: PostLoginEvent): Promise<FlowResult> {
    let current = structuredClone(event);
    const steps: FlowResult["steps"] = [];
    const accessTokenClaims: Record<string, unknown> = {};
    const idTokenClaims: Record<string, unknown> = {};
    for (const { action, secrets } of bound) {
        current.secrets = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== undefined)) as Record<string, string>;
        const invocation = await action.invoke(current);
        steps.push({ key: action.spec.key, invocation });
        Object.assign(accessTokenClaims, invocation.accessTokenClaims);
        Object.assign(idTokenClaims, invocation.idTokenClaims);
        current = structuredClone(current);
        current.user.user_metadata = { ...current.user.user_metadata, ...invocation.userMetadata };
        current.user.app_metadata = { ...current.user.app_metadata, ...invocation.appMetadata };
        if (invocation.denied !== undefined || invocation.error !== undefined) {
            return { steps, denied: invocation.denied, user: current.user, accessTokenClaims, idTokenClaims };
        }
    }
    return { steps, denied: undefined, user: current.user, accessTokenClaims, idTokenClaims };
}

// ---------------------------------------------------------------------------------------------
// pg pools created by an Action.

export interface PgPoolTracker {
    /** Pass as `LoadOptions.interceptModule`: hands the Action pg with a Pool that records its instances. */
    interceptModule: NonNullable<LoadOptions["interceptModule"]>;
    /** Every Pool the Actions created through this tracker, in order. */
    pools: import("pg").Pool[];
    /** Ends every tracked pool (call it before dropping the database). */
    endAll: () => Promise<void>;
}

/** Observes the pg Pools an Action creates (same pg, same behaviour), so tests can count and close them. */
export function trackPgPools(): PgPoolTracker {
    const pools: import("pg").Pool[] = [];
    const interceptModule = (name: string, exports: unknown): unknown => {
        if (name !== "pg") return exports;
        const pg = exports as typeof import("pg");
        class TrackedPool extends pg.Pool {
            constructor(...args: ConstructorParameters<typeof pg.Pool>) {
                super(...args);
                pools.push(this);
            }
        }
        return new Proxy(pg, { get: (target, prop, receiver) => (prop === "Pool" ? TrackedPool : Reflect.get(target, prop, receiver)) });
    };
    const endAll = async () => {
        await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    };
    return { interceptModule, pools, endAll };
}
