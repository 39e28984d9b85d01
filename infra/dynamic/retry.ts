/**
 * Retry with backoff for calls to Auth0 (the token endpoint, the Management API), for the dynamic
 * providers that make them.
 *
 * Why: Auth0 limits non-production tenants to about 1-2 Management API requests per second, and
 * that budget is shared with everything else calling the tenant (the foreign data wrapper's reads,
 * the Pulumi provider itself). A 429 or a 5xx in the middle of `pulumi up` is normal, not a bug.
 *
 * What: 429 and 5xx are retried. The wait honours `Retry-After` (seconds or an HTTP date), else
 * Auth0's `X-RateLimit-Reset` (epoch seconds when the bucket refills), else an exponential backoff
 * with jitter; every wait is capped, and the whole retry is bounded by a number of attempts and a
 * total wait. Anything else (2xx, other 4xx, a network error, a timeout) is returned or thrown at
 * once: retrying a 401 would only burn the rate limit.
 *
 * These functions are serialized into the providers' text by Pulumi's closure serializer: plain
 * functions over plain values, no imports but the import-free `./problems`, no module-level state,
 * never a secret.
 */

import { Problem, problem } from "./problems";

export interface RetryPolicy {
    /** Attempts in all, the first included. 1 means no retry. */
    maxAttempts: number;
    /** The most time spent waiting between attempts, in all, in milliseconds. */
    maxTotalWaitMs: number;
    /** The first backoff step when the answer says nothing about when to come back, in milliseconds. */
    baseDelayMs: number;
    /** The longest single wait, in milliseconds. */
    maxDelayMs: number;
}

/** 5 attempts, at most 60 s of waiting in all, backoff from 1 s, no single wait over 30 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, maxTotalWaitMs: 60_000, baseDelayMs: 1_000, maxDelayMs: 30_000 };

/** Read access to response headers (a `Headers` object or a plain lower-case record). */
export type HeaderSource = { get(name: string): string | null } | Record<string, string | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
    if (typeof (headers as { get?: unknown }).get === "function") return (headers as { get(n: string): string | null }).get(name) ?? undefined;
    return (headers as Record<string, string | undefined>)[name];
}

/** Whether an HTTP status is worth another attempt: rate limited, or a server-side failure. */
export function isRetryableStatus(status: number): boolean {
    return status === 429 || (status >= 500 && status <= 599);
}

/**
 * How long the answer asks us to wait, in milliseconds, from `Retry-After` (delta-seconds or an
 * HTTP date) or `X-RateLimit-Reset` (epoch seconds); undefined when it says nothing usable.
 */
export function serverRequestedDelayMs(headers: HeaderSource, now: number): number | undefined {
    const retryAfter = header(headers, "retry-after")?.trim();
    if (retryAfter) {
        if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.max(0, Math.round(Number(retryAfter) * 1000));
        const at = Date.parse(retryAfter);
        if (!Number.isNaN(at)) return Math.max(0, at - now);
    }
    const reset = header(headers, "x-ratelimit-reset")?.trim();
    if (reset && /^\d+(\.\d+)?$/.test(reset)) return Math.max(0, Math.round(Number(reset) * 1000 - now));
    return undefined;
}

/**
 * The wait before the next attempt after attempt number `attempt` (1-based) got `status`, or
 * undefined when the status is not retried. `random` in [0, 1) spreads the backoff (jitter).
 */
export function retryDelayMs(status: number, headers: HeaderSource, attempt: number, policy: RetryPolicy, now: number, random: number): number | undefined {
    if (!isRetryableStatus(status)) return undefined;
    const asked = serverRequestedDelayMs(headers, now);
    const backoff = policy.baseDelayMs * 2 ** Math.max(0, attempt - 1);
    // "Equal jitter": half the step fixed, half random, so concurrent callers drift apart.
    const delay = asked !== undefined ? asked : backoff / 2 + (backoff / 2) * random;
    return Math.min(policy.maxDelayMs, Math.max(0, Math.round(delay)));
}

/** What a retried call ended with. */
export interface RetryOutcome<R> {
    /** The last answer (a success, a status that is not retried, or the last retryable one). */
    result: R;
    /** Attempts made, the first included. */
    attempts: number;
    /** Time spent waiting between attempts, in milliseconds. */
    waitedMs: number;
    /** True when the last answer was still retryable and the bound stopped us. */
    exhausted: boolean;
}

/**
 * Calls `attempt` until it answers with a status that is not retried, or the policy's bound is
 * reached. `statusOf` reads the status of an answer. Errors thrown by `attempt` (network errors,
 * timeouts) are not retried. `sleep` is injectable for tests.
 */
export async function withRetry<R>(
    attempt: () => Promise<R>,
    statusOf: (r: R) => { status: number; headers: HeaderSource },
    policy: RetryPolicy,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<RetryOutcome<R>> {
    let waitedMs = 0;
    for (let n = 1; ; n++) {
        const result = await attempt();
        const { status, headers } = statusOf(result);
        const delay = retryDelayMs(status, headers, n, policy, Date.now(), Math.random());
        if (delay === undefined) return { result, attempts: n, waitedMs, exhausted: false };
        if (n >= policy.maxAttempts || waitedMs + delay > policy.maxTotalWaitMs) return { result, attempts: n, waitedMs, exhausted: true };
        await sleep(delay);
        waitedMs += delay;
    }
}

/** Problems with a retry policy given as inputs, each naming the field. */
export function retryPolicyProblems(value: unknown, property = "retry"): Problem[] {
    if (value === undefined) return [];
    if (value === null || typeof value !== "object") return [problem(property, "must be an object with maxAttempts and maxTotalWaitMs")];
    const v = value as Record<string, unknown>;
    const problems: Problem[] = [];
    const whole = (key: string, min: number, max: number) => {
        const x = v[key];
        if (x === undefined) return;
        if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max)
            problems.push(problem(`${property}.${key}`, `must be a whole number from ${min} to ${max}`));
    };
    whole("maxAttempts", 1, 10);
    whole("maxTotalWaitMs", 0, 300_000);
    whole("baseDelayMs", 0, 60_000);
    whole("maxDelayMs", 0, 120_000);
    for (const key of Object.keys(v))
        if (!["maxAttempts", "maxTotalWaitMs", "baseDelayMs", "maxDelayMs"].includes(key)) problems.push(problem(`${property}.${key}`, "unknown"));
    return problems;
}

/** The policy with the defaults filled in. */
export function retryPolicy(given: Partial<RetryPolicy> | undefined): RetryPolicy {
    return { ...DEFAULT_RETRY_POLICY, ...(given ?? {}) };
}
