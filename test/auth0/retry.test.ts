/**
 * Issue #11 point 6: calls to Auth0 back off on 429 and 5xx, honouring the rate-limit headers,
 * within a bound, and then fail with a clear error that carries no secret. The pure helper is
 * checked directly; the token provider is driven against the loopback token endpoint.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManagementApiTokenInputs, managementApiTokenProvider as provider } from "../../infra/dynamic/management-token";
import { DEFAULT_RETRY_POLICY, retryDelayMs, serverRequestedDelayMs, withRetry } from "../../infra/dynamic/retry";
import { json, startTokenServer, TokenServer } from "../support/auth0-token-server";

const clientSecret = `cs-${randomBytes(24).toString("base64url")}`;
const client = { clientId: "m2m-client-id", clientSecret, audience: "https://tenant.eu.auth0.com/api/v2/" };
let server: TokenServer;
/** When each request reached the server (ms since epoch), in order. */
const arrivals: number[] = [];

beforeAll(async () => {
    server = await startTokenServer(client);
});
afterAll(async () => server?.close());
afterEach(() => {
    server.answerWith(undefined);
    arrivals.length = 0;
});

const fast = { baseDelayMs: 5, maxDelayMs: 2_000, maxTotalWaitMs: 5_000 };
function inputs(extra: Partial<ManagementApiTokenInputs> = {}): ManagementApiTokenInputs {
    return { tokenUrl: server.url, ...client, refreshBeforeSeconds: 3600, retry: fast, ...extra };
}

/** Answers the first `failures` requests with `fail`, then grants a token as the real endpoint does. */
function failFirst(failures: number, fail: Parameters<TokenServer["answerWith"]>[0]): void {
    let seen = 0;
    server.answerWith((req, res) => {
        arrivals.push(Date.now());
        seen += 1;
        if (seen <= failures) return fail!(req, res);
        server.answerWith(undefined);
        json(res, 200, { access_token: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(12).toString("base64url")}.sig`, expires_in: 86_400, scope: "read:users" });
    });
}

const rateLimited = (headers: Record<string, string>) => (_req: unknown, res: import("node:http").ServerResponse) => {
    res.writeHead(429, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ statusCode: 429, error: "Too Many Requests", message: "Global limit has been reached" }));
};

describe("retryDelayMs: what the answer asks for, else backoff", () => {
    const now = Date.parse("2030-01-01T00:00:00.000Z");
    it("Retry-After in seconds or as an HTTP date wins over X-RateLimit-Reset", () => {
        expect(serverRequestedDelayMs({ "retry-after": "3", "x-ratelimit-reset": String(now / 1000 + 30) }, now)).toBe(3_000);
        expect(serverRequestedDelayMs({ "retry-after": new Date(now + 7_000).toUTCString() }, now)).toBe(7_000);
    });

    it("X-RateLimit-Reset (epoch seconds) when there is no Retry-After; a reset in the past means now", () => {
        expect(serverRequestedDelayMs({ "x-ratelimit-reset": String(now / 1000 + 2) }, now)).toBe(2_000);
        expect(serverRequestedDelayMs({ "x-ratelimit-reset": String(now / 1000 - 5) }, now)).toBe(0);
        expect(serverRequestedDelayMs({ "x-ratelimit-reset": "soon" }, now)).toBeUndefined();
    });

    it("429 and 5xx are retried, capped at maxDelayMs; other statuses are not", () => {
        const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1_000, maxDelayMs: 30_000 };
        expect(retryDelayMs(429, { "x-ratelimit-reset": String(now / 1000 + 4) }, 1, p, now, 0.5)).toBe(4_000);
        expect(retryDelayMs(429, { "retry-after": "3600" }, 1, p, now, 0.5)).toBe(30_000);
        // Exponential with equal jitter: attempt 3 waits between 2 s and 4 s.
        expect(retryDelayMs(503, {}, 3, p, now, 0)).toBe(2_000);
        expect(retryDelayMs(503, {}, 3, p, now, 0.999)).toBeLessThanOrEqual(4_000);
        for (const status of [200, 400, 401, 403, 404]) expect(retryDelayMs(status, {}, 1, p, now, 0.5)).toBeUndefined();
    });

    it("withRetry stops at maxAttempts and at maxTotalWaitMs, and says it was exhausted", async () => {
        const slept: number[] = [];
        const sleep = async (ms: number) => void slept.push(ms);
        let calls = 0;
        const always503 = async () => ({ status: 503, headers: {}, n: ++calls });
        const byAttempts = await withRetry(always503, (r) => r, { maxAttempts: 3, maxTotalWaitMs: 60_000, baseDelayMs: 100, maxDelayMs: 1_000 }, sleep);
        expect(byAttempts).toMatchObject({ attempts: 3, exhausted: true });
        expect(slept).toHaveLength(2);
        slept.length = 0;
        const byWait = await withRetry(
            async () => ({ status: 429, headers: { "retry-after": "2" } }),
            (r) => r,
            { maxAttempts: 10, maxTotalWaitMs: 5_000, baseDelayMs: 100, maxDelayMs: 10_000 },
            sleep,
        );
        expect(byWait).toMatchObject({ attempts: 3, exhausted: true, waitedMs: 4_000 });
        expect(slept).toEqual([2_000, 2_000]);
    });
});

describe("ManagementApiToken against a rate-limited or failing token endpoint", () => {
    it("429 with X-RateLimit-Reset: waits for the reset, then gets the token", async () => {
        const reset = Math.ceil(Date.now() / 1000) + 1;
        failFirst(1, rateLimited({ "x-ratelimit-limit": "2", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }));
        const res = await provider.create(inputs());
        expect(res.outs?.token).toMatch(/^eyJ/);
        expect(arrivals).toHaveLength(2);
        // The second request came no earlier than the reset the first answer named (a lower bound only).
        expect(arrivals[1]!).toBeGreaterThanOrEqual(reset * 1000 - 50);
    });

    it("429 with Retry-After, then 503 twice: three retries, then the token", async () => {
        let n = 0;
        failFirst(3, (req, res) => {
            n += 1;
            if (n === 1) return rateLimited({ "retry-after": "0" })(req, res);
            res.writeHead(503, { "content-type": "text/html" });
            res.end("<html>Service Unavailable</html>");
        });
        const res = await provider.create(inputs());
        expect(res.outs?.token).toMatch(/^eyJ/);
        expect(arrivals).toHaveLength(4);
    });

    it("gives up after maxAttempts with an error naming the status and attempts, never the secret", async () => {
        failFirst(100, rateLimited({ "retry-after": "0", "x-ratelimit-remaining": "0" }));
        const err = await provider.create(inputs({ retry: { ...fast, maxAttempts: 3 } })).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(arrivals).toHaveLength(3);
        expect(err?.message).toBe(
            `ManagementApiToken: token endpoint ${server.url} (client m2m-client-id): HTTP 429 Too Many Requests after 3 attempts and 0 s of backoff (retry bound reached)`,
        );
        expect(err?.message).not.toContain(clientSecret);
    });

    it("gives up when the next wait would pass maxTotalWaitMs (a reset an hour away is not waited for)", async () => {
        failFirst(100, rateLimited({ "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 3600) }));
        const message = await provider.create(inputs({ retry: { ...fast, maxDelayMs: 120_000, maxTotalWaitMs: 10_000 } })).then(
            () => "",
            (e: Error) => e.message,
        );
        expect(arrivals).toHaveLength(1);
        expect(message).toMatch(/HTTP 429 .* after 1 attempt and 0 s of backoff \(retry bound reached\)$/);
    });

    it("a 401 is not retried", async () => {
        const before = server.requests.length;
        const message = await provider.create(inputs({ clientSecret: "wrong-secret-value" })).then(
            () => "",
            (e: Error) => e.message,
        );
        expect(message).toMatch(/HTTP 401 access_denied: Unauthorized$/);
        expect(server.requests.length - before).toBe(1);
    });

    it("check refuses a bad retry policy, naming the field", async () => {
        const res = await provider.check!({} as ManagementApiTokenInputs, inputs({ retry: { maxAttempts: 0, bogus: 1 } as never }));
        expect(res.failures?.map((f) => f.reason)).toEqual(["retry.maxAttempts: must be a whole number from 1 to 10", "retry.bogus: unknown"]);
    });
});
