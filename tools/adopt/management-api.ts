/**
 * A read-only client of a tenant's Management API for the adoption tool. It signs in with the
 * deploy application's client credentials and then only ever sends GET: it cannot change the tenant.
 *
 * - Pagination: offset lists (`page`, `per_page`, `include_totals=true`: `{ <key>: [...], total }`,
 *   or the Actions' `{ <key>: [...], total, page, per_page }`) and checkpoint lists (`from`, `take`:
 *   `{ <key>: [...], next }`) are followed to the end.
 * - Rate limits: a 429 (or a 5xx) is retried with `infra/dynamic/retry.ts`, waiting as `Retry-After`
 *   or `X-RateLimit-Reset` says, within a bound; every wait is counted.
 * - Errors say what to do: a domain that does not answer (or not like an Auth0 tenant), credentials
 *   the tenant refuses, a client not authorized on the Management API, a scope the client lacks.
 *   They never carry the secret or a token.
 */
import { DEFAULT_RETRY_POLICY, RetryPolicy, retryPolicy, withRetry } from "../../infra/dynamic/retry";
import { isLoopbackHost } from "../../infra/config/constants";

export interface ManagementApiOptions {
    /** The tenant's domain (`auth0.domain`). */
    domain: string;
    /** The deploy application (`auth0.clientId`) and its secret. */
    clientId: string;
    clientSecret: string;
    /** Where the tenant answers: `https://<domain>` unless told (http only on loopback, for tests). */
    baseUrl?: string;
    retry?: Partial<RetryPolicy>;
    /** Called before each wait on a 429 (milliseconds). */
    onWait?: (ms: number, path: string) => void;
}

export interface ApiStats {
    requests: number;
    /** Answers that were 429 (each one waited for, then retried). */
    rateLimited: number;
    /** Pages read from list endpoints. */
    pages: number;
    waitedMs: number;
}

export interface ManagementApi {
    readonly domain: string;
    readonly stats: ApiStats;
    get(path: string, query?: Record<string, string>): Promise<unknown>;
    /** Every item of an offset-paginated list. */
    listPages<T>(path: string, key: string, query?: Record<string, string>): Promise<T[]>;
    /** Every item of a checkpoint-paginated list. */
    listCheckpoints<T>(path: string, key: string, query?: Record<string, string>): Promise<T[]>;
}

/** An error the tool reports as it is, without a stack trace. */
export class AdoptError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "AdoptError";
    }
}

const PER_PAGE = 50;
const MAX_PAGES = 1000;
/** Waits up to a minute per call in all: a tenant's rate limit refills within a second or two. */
const POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 8, maxTotalWaitMs: 120_000 };

function redact(text: string, secret: string): string {
    const out = text.replace(/eyJ[\w-]+\.[\w-]+\.?[\w-]*/g, "[redacted token]");
    return secret ? out.split(secret).join("[redacted]") : out;
}

interface Answer {
    status: number;
    headers: Headers;
    text: string;
    json: unknown;
}

function messageOf(a: Answer): string {
    const j = a.json as { message?: unknown; error_description?: unknown; error?: unknown } | undefined;
    const said = [j?.message, j?.error_description, j?.error].find((m): m is string => typeof m === "string");
    return (said ?? (a.text.trim().slice(0, 120) || "no message")).slice(0, 300);
}

/** Signs in and returns the client. Throws an {@link AdoptError} that says what to check. */
export async function connectManagementApi(options: ManagementApiOptions): Promise<ManagementApi> {
    const base = options.baseUrl ?? `https://${options.domain}`;
    const url = new URL(base);
    if (!(url.protocol === "https:" || (url.protocol === "http:" && isLoopbackHost(url.hostname))))
        throw new AdoptError(`${base}: the Management API is reached over https (http only on loopback)`);
    if (!options.clientSecret) throw new AdoptError("the deploy application's client secret is empty");
    const policy = retryPolicy({ ...POLICY, ...options.retry });
    const stats: ApiStats = { requests: 0, rateLimited: 0, pages: 0, waitedMs: 0 };
    const secret = options.clientSecret;

    async function call(
        method: "GET" | "POST",
        path: string,
        body?: unknown,
        token?: string,
    ): Promise<{ answer: Answer; attempts: number; exhausted: boolean }> {
        const target = new URL(path, base);
        let outcome;
        try {
            outcome = await withRetry(
                async () => {
                    stats.requests++;
                    const res = await fetch(target, {
                        method,
                        headers: {
                            accept: "application/json",
                            ...(body === undefined ? {} : { "content-type": "application/json" }),
                            ...(token ? { authorization: `Bearer ${token}` } : {}),
                        },
                        body: body === undefined ? undefined : JSON.stringify(body),
                        redirect: "error",
                        signal: AbortSignal.timeout(20_000),
                    });
                    const text = await res.text();
                    let json: unknown;
                    try {
                        json = text ? JSON.parse(text) : undefined;
                    } catch {
                        json = undefined;
                    }
                    if (res.status === 429) stats.rateLimited++;
                    return { status: res.status, headers: res.headers, text, json };
                },
                (a) => a,
                policy,
                async (ms) => {
                    stats.waitedMs += ms;
                    options.onWait?.(ms, target.pathname);
                    await new Promise((resolve) => setTimeout(resolve, ms));
                },
            );
        } catch (err) {
            const e = err as { name?: string; cause?: { code?: string } };
            const code = e?.cause?.code ?? e?.name ?? "error";
            throw new AdoptError(`cannot reach ${target.origin} (${code}): check auth0.domain (${options.domain}) in the stack file`);
        }
        return { answer: outcome.result, attempts: outcome.attempts, exhausted: outcome.exhausted };
    }

    // Sign in: client credentials for the tenant's Management API.
    const audience = `https://${options.domain}/api/v2/`;
    const signIn = await call("POST", "/oauth/token", { grant_type: "client_credentials", client_id: options.clientId, client_secret: secret, audience });
    const t = signIn.answer;
    const tokenError = (t.json as { error?: unknown } | undefined)?.error;
    if (t.status === 401 || (t.status === 403 && tokenError === "access_denied" && /unauthorized|invalid/i.test(messageOf(t)))) {
        throw new AdoptError(
            `${options.domain} refused the deploy application's credentials (HTTP ${t.status}: ${redact(messageOf(t), secret)}): check auth0.clientId (${options.clientId}) and the client secret`,
        );
    }
    if (t.status === 403) {
        throw new AdoptError(
            `the deploy application ${options.clientId} may not call the Management API of ${options.domain} (HTTP 403: ${redact(messageOf(t), secret)}): authorize it (Auth0 dashboard > Applications > APIs > Auth0 Management API > Machine To Machine Applications) with the scopes the README lists`,
        );
    }
    if (t.status === 429)
        throw new AdoptError(
            `${options.domain} kept answering 429 to the sign-in after ${signIn.attempts} attempts: the tenant's rate limit is spent; try again in a minute`,
        );
    const token = (t.json as { access_token?: unknown } | undefined)?.access_token;
    if (t.status !== 200 || typeof token !== "string" || token === "") {
        throw new AdoptError(
            `${base} does not answer like an Auth0 tenant (POST /oauth/token: HTTP ${t.status}${t.json === undefined ? ", not JSON" : ""}): check auth0.domain (${options.domain})`,
        );
    }

    async function get(path: string, query: Record<string, string> = {}): Promise<unknown> {
        const qs = new URLSearchParams(query).toString();
        const full = `/api/v2${path}${qs ? `?${qs}` : ""}`;
        const { answer: a, attempts, exhausted } = await call("GET", full, undefined, token as string);
        if (a.status >= 200 && a.status <= 299) return a.json;
        const said = redact(messageOf(a), secret);
        if (a.status === 403) {
            const scopes = /expected (?:any|all) of:\s*([\w:, ]+)/i.exec(said)?.[1]?.trim();
            throw new AdoptError(
                `the deploy application ${options.clientId} lacks ${scopes ? `the scope ${scopes}` : "a scope"} (GET /api/v2${path}: HTTP 403 ${said}): grant it on the Auth0 Management API (Applications > APIs > Auth0 Management API > Machine To Machine Applications) as the README lists`,
            );
        }
        if (a.status === 401) throw new AdoptError(`the Management API of ${options.domain} refused the token (GET /api/v2${path}: HTTP 401 ${said})`);
        if (a.status === 429)
            throw new AdoptError(
                `GET /api/v2${path} still answered 429 after ${attempts} attempts${exhausted ? " (retry bound reached)" : ""}: the tenant's rate limit is spent; try again in a minute`,
            );
        throw new AdoptError(`GET /api/v2${path}: HTTP ${a.status} ${said}`);
    }

    async function listPages<T>(path: string, key: string, query: Record<string, string> = {}): Promise<T[]> {
        const items: T[] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
            const body = (await get(path, { ...query, page: String(page), per_page: String(PER_PAGE), include_totals: "true" })) as
                Record<string, unknown> | unknown[] | undefined;
            stats.pages++;
            // Without include_totals (or where the endpoint ignores it) the answer is the bare array.
            const batch = (Array.isArray(body) ? body : ((body?.[key] as T[] | undefined) ?? [])) as T[];
            items.push(...batch);
            const total = Array.isArray(body) ? undefined : typeof body?.total === "number" ? body.total : undefined;
            if (batch.length === 0 || (total !== undefined ? items.length >= total : batch.length < PER_PAGE)) return items;
        }
        throw new AdoptError(`GET /api/v2${path}: more than ${MAX_PAGES} pages`);
    }

    async function listCheckpoints<T>(path: string, key: string, query: Record<string, string> = {}): Promise<T[]> {
        const items: T[] = [];
        let from: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
            const body = (await get(path, { ...query, take: String(PER_PAGE), ...(from ? { from } : {}) })) as Record<string, unknown> | undefined;
            stats.pages++;
            items.push(...((body?.[key] as T[] | undefined) ?? []));
            from = typeof body?.next === "string" && body.next !== "" ? body.next : undefined;
            if (!from) return items;
        }
        throw new AdoptError(`GET /api/v2${path}: more than ${MAX_PAGES} pages`);
    }

    return { domain: options.domain, stats, get, listPages, listCheckpoints };
}
