import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { isLoopbackHost } from "../config/constants";
import { containsUnknown } from "./common";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { RetryPolicy, retryPolicy, retryPolicyProblems, withRetry } from "./retry";
import { withSecretOutputs } from "./secret-outputs";

/**
 * An Auth0 Management API access token from the client-credentials grant, kept fresh by
 * `pulumi up`: the provider's `diff` asks for an update (never a replace) once the token is within
 * `refreshBeforeSeconds` of expiring, so a scheduled `pulumi up` renews it and whatever consumes
 * `token` (a Vault secret, updated in place) follows.
 *
 * Like every dynamic provider here, it is serialized into the state as text: no secret in its
 * closure, no classes, everything through inputs.
 *
 * A 429 or 5xx from the token endpoint is retried with backoff (see `./retry`), honouring Auth0's
 * `Retry-After` / `X-RateLimit-Reset`, within a bound; then it fails naming the status and the attempts.
 */

export interface ManagementApiTokenInputs {
    tokenUrl: string;
    clientId: string;
    clientSecret: string;
    audience: string;
    refreshBeforeSeconds: number;
    timeoutMs?: number;
    /** Retry of 429 and 5xx answers; defaults in `DEFAULT_RETRY_POLICY`. */
    retry?: Partial<RetryPolicy>;
}

export interface ManagementApiTokenOutputs extends ManagementApiTokenInputs {
    /** The access token (secret). */
    token: string;
    /** When the token expires, ISO 8601 (from `expires_in`). */
    expiresAt: string;
    /** The scopes granted, space-separated ("" when the answer has none). */
    scope: string;
}

export interface ManagementApiTokenArgs {
    /** The tenant's token endpoint, `https://<domain>/oauth/token` (http only on loopback). */
    tokenUrl: pulumi.Input<string>;
    /** Client id of the machine-to-machine application. */
    clientId: pulumi.Input<string>;
    /** Its client secret; made a secret here whether or not the caller did. */
    clientSecret: pulumi.Input<string>;
    /** The Management API's audience, `https://<domain>/api/v2/`. */
    audience: pulumi.Input<string>;
    /** Renew the token when it expires within this many seconds. */
    refreshBeforeSeconds: pulumi.Input<number>;
    /** How long to wait for the token endpoint, in milliseconds. Defaults to 10000. */
    timeoutMs?: pulumi.Input<number>;
    /** Retry of 429 and 5xx answers. Defaults to 5 attempts and at most 60 s of waiting. */
    retry?: pulumi.Input<Partial<RetryPolicy>>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function urlProblem(property: string, value: unknown): Problem | undefined {
    if (containsUnknown(value)) return undefined;
    if (typeof value !== "string" || !URL.canParse(value)) return problem(property, "must be an absolute URL");
    const u = new URL(value);
    if (u.username || u.password) return problem(property, "must not carry credentials");
    if (u.protocol !== "https:" && !(u.protocol === "http:" && isLoopbackHost(u.hostname)))
        return problem(property, "must be an https URL (http only on loopback)");
    return undefined;
}

/** Problems with the inputs, each naming the field; never quotes the client secret. */
export function tokenInputProblems(news: ManagementApiTokenInputs): Problem[] {
    const problems: Problem[] = [];
    for (const p of [urlProblem("tokenUrl", news.tokenUrl), urlProblem("audience", news.audience)]) if (p) problems.push(p);
    if (!containsUnknown(news.clientId) && (typeof news.clientId !== "string" || news.clientId.trim() === ""))
        problems.push(problem("clientId", "required, a non-empty string"));
    if (!containsUnknown(news.clientSecret) && (typeof news.clientSecret !== "string" || news.clientSecret === ""))
        problems.push(problem("clientSecret", "required, a non-empty string"));
    const refresh = news.refreshBeforeSeconds;
    if (!containsUnknown(refresh) && (typeof refresh !== "number" || !Number.isInteger(refresh) || refresh < 0)) {
        problems.push(problem("refreshBeforeSeconds", "must be a whole number of seconds, 0 or more"));
    }
    const timeout = news.timeoutMs;
    if (timeout !== undefined && !containsUnknown(timeout) && (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 1 || timeout > 120_000)) {
        problems.push(problem("timeoutMs", "must be a whole number of milliseconds from 1 to 120000"));
    }
    if (!containsUnknown(news.retry)) problems.push(...retryPolicyProblems(news.retry));
    return problems;
}

/**
 * Whether a token expiring at `expiresAt` must be renewed at `now` (epoch ms): within
 * `refreshBeforeSeconds` of expiring, expired, or with no valid expiry at all.
 */
export function tokenNeedsRenewal(expiresAt: string | undefined, refreshBeforeSeconds: number, now: number): boolean {
    const expires = typeof expiresAt === "string" ? Date.parse(expiresAt) : NaN;
    if (Number.isNaN(expires)) return true;
    return now >= expires - refreshBeforeSeconds * 1000;
}

/** Replaces the client secret and anything that looks like a JWT in text that may end up in an error message. */
function redact(text: string, secrets: string[]): string {
    let out = text;
    for (const s of secrets) if (s) out = out.split(s).join("[redacted]");
    return out.replace(/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*/g, "[redacted token]").slice(0, 300);
}

interface TokenAnswer {
    token: string;
    expiresAt: string;
    scope: string;
}

/** POSTs the client-credentials grant. Errors name the endpoint and the client, never the secret or a token. */
async function requestToken(inputs: ManagementApiTokenInputs): Promise<TokenAnswer> {
    assertNoProblems("ManagementApiToken", tokenInputProblems(inputs));
    const endpoint = new URL(inputs.tokenUrl);
    const where = `ManagementApiToken: token endpoint ${endpoint.origin}${endpoint.pathname} (client ${inputs.clientId})`;
    const timeoutMs = inputs.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const secrets = [inputs.clientSecret];
    const failed = (err: unknown): Error => {
        const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
        if (e?.name === "TimeoutError" || e?.name === "AbortError") return new Error(`${where}: no answer within ${timeoutMs} ms`);
        const reason = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
        return new Error(`${where}: request failed (${redact(String(reason), secrets)})`);
    };

    let status: number;
    let contentType: string;
    let text: string;
    let tries = "";
    const policy = retryPolicy(inputs.retry);
    try {
        const outcome = await withRetry(
            async () => {
                const res = await fetch(endpoint, {
                    method: "POST",
                    headers: { "content-type": "application/json", accept: "application/json" },
                    body: JSON.stringify({
                        grant_type: "client_credentials",
                        client_id: inputs.clientId,
                        client_secret: inputs.clientSecret,
                        audience: inputs.audience,
                    }),
                    // The body carries the client secret: never follow a redirect elsewhere.
                    redirect: "error",
                    signal: AbortSignal.timeout(timeoutMs),
                });
                return { status: res.status, headers: res.headers, contentType: res.headers.get("content-type") ?? "no content-type", text: await res.text() };
            },
            (r) => r,
            policy,
        );
        ({ status, contentType, text } = outcome.result);
        // Say so when the retry bound, not the answer, ended it (not when retries were turned off).
        if (outcome.exhausted && policy.maxAttempts > 1) {
            tries = ` after ${outcome.attempts} attempt${outcome.attempts === 1 ? "" : "s"} and ${Math.round(outcome.waitedMs / 100) / 10} s of backoff (retry bound reached)`;
        }
    } catch (err) {
        throw failed(err);
    }

    let body: Record<string, unknown> | undefined;
    try {
        const parsed: unknown = JSON.parse(text);
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
        body = undefined;
    }
    const token = body && typeof body.access_token === "string" ? body.access_token : undefined;
    if (token) secrets.push(token);
    if (body && typeof body.error === "string") {
        const description = typeof body.error_description === "string" ? `: ${body.error_description}` : "";
        throw new Error(`${where}: HTTP ${status} ${redact(`${body.error}${description}`, secrets)}${tries}`);
    }
    if (status < 200 || status > 299) {
        throw new Error(`${where}: HTTP ${status} (${body ? "JSON without an error field" : `not JSON, ${redact(contentType, secrets)}`})${tries}`);
    }
    if (!body) throw new Error(`${where}: HTTP ${status} but the answer is not a JSON object (${redact(contentType, secrets)})`);
    const expiresIn = body.expires_in;
    if (!token) throw new Error(`${where}: the answer has no access_token`);
    if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new Error(`${where}: the answer has no valid expires_in (seconds)`);
    }
    return {
        token,
        expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString(),
        scope: typeof body.scope === "string" ? body.scope : "",
    };
}

/**
 * - `create` / `update`: request a token (update keeps the id).
 * - `diff`: an update (never a replace) when the token is within `refreshBeforeSeconds` of
 *   expiring or expired, or when `tokenUrl`, `clientId`, `audience` or `clientSecret` changed. A
 *   changed `refreshBeforeSeconds` or `timeoutMs` alone changes nothing until the window is reached.
 * - `read`: the state as it is (a token cannot be read back from Auth0).
 * - `delete`: nothing to do; client-credentials tokens cannot be revoked and expire at `expiresAt`.
 */
export const managementApiTokenProvider: pulumi.dynamic.ResourceProvider<ManagementApiTokenInputs, ManagementApiTokenOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: checkFailures(tokenInputProblems(news)) };
    },

    async diff(_id, olds, news) {
        const changed = (["tokenUrl", "clientId", "audience", "clientSecret"] as const).filter((k) => containsUnknown(news[k]) || olds[k] !== news[k]);
        const refresh = containsUnknown(news.refreshBeforeSeconds) ? olds.refreshBeforeSeconds : news.refreshBeforeSeconds;
        const due = tokenNeedsRenewal(olds.expiresAt, Number(refresh), Date.now());
        return { changes: changed.length > 0 || due, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs) {
        const answer = await requestToken(inputs);
        return { id: randomUUID(), outs: { ...inputs, ...answer } };
    },

    async read(id, props) {
        return { id, props };
    },

    async update(_id, _olds, news) {
        const answer = await requestToken(news);
        return { outs: { ...news, ...answer } };
    },

    async delete() {
        // Nothing to delete: the token expires on its own.
    },
};

/**
 * A Management API token. Type token `pulumi-nodejs:dynamic/auth0-postgres:ManagementApiToken`.
 * `token` and `clientSecret` are secret outputs.
 */
export class ManagementApiToken extends pulumi.dynamic.Resource {
    // `declare`, not `!:`: with target ES2022 a class field would reset the output super() set.
    declare public readonly token: pulumi.Output<string>;
    declare public readonly expiresAt: pulumi.Output<string>;
    declare public readonly scope: pulumi.Output<string>;

    constructor(name: string, args: ManagementApiTokenArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            managementApiTokenProvider,
            name,
            { ...args, clientSecret: pulumi.secret(args.clientSecret), token: undefined, expiresAt: undefined, scope: undefined },
            withSecretOutputs<ManagementApiTokenOutputs>(opts, "clientSecret", "token"),
            "auth0-postgres",
            "ManagementApiToken",
        );
    }
}
