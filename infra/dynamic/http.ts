import { RetryPolicy, withRetry } from "./retry";

/**
 * One JSON call to an HTTP API for a dynamic provider: retried on 429 and 5xx within `policy`
 * (`./retry.ts`), bounded in time, redirects refused. A non-2xx answer throws an Error that
 * starts with `where` and names the status and the API's own message, with anything that looks like
 * a bearer token or a JWT redacted; a network failure throws naming only its code.
 *
 * Serialized into the providers' text by Pulumi's closure serializer: no module-level state, never
 * a secret (the token arrives as an argument from the resource's secret inputs).
 */
export async function requestJson(
    where: string,
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    options: { token?: string; body?: unknown; policy: RetryPolicy; timeoutMs?: number; okStatuses?: number[] },
): Promise<{ status: number; json: unknown }> {
    const outcome = await withRetry(
        async () => {
            const res = await fetch(url, {
                method,
                headers: {
                    accept: "application/json",
                    ...(options.body === undefined ? {} : { "content-type": "application/json" }),
                    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
                },
                body: options.body === undefined ? undefined : JSON.stringify(options.body),
                redirect: "error",
                signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
            });
            return { status: res.status, headers: res.headers, text: await res.text() };
        },
        (r) => r,
        options.policy,
    ).catch((err: { name?: string; cause?: { code?: string } }) => {
        throw new Error(`${where}: request failed (${err?.cause?.code ?? err?.name ?? "error"})`);
    });
    const { status, text } = outcome.result;
    let json: unknown;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    const ok = (status >= 200 && status <= 299) || (options.okStatuses ?? []).includes(status);
    if (!ok) {
        const j = json as { message?: unknown; error?: unknown; msg?: unknown } | undefined;
        const said = [j?.message, j?.msg, j?.error].find((m): m is string => typeof m === "string") ?? "no message";
        const tries = outcome.exhausted && outcome.attempts > 1 ? ` after ${outcome.attempts} attempts (retry bound reached)` : "";
        const redacted = said
            .slice(0, 200)
            .replace(/eyJ[\w-]+\.[\w-]+\.?[\w-]*/g, "[redacted token]")
            .replace(/\bsbp_[A-Za-z0-9]+/g, "[redacted token]");
        throw new Error(`${where}: HTTP ${status} ${redacted}${tries}`);
    }
    return { status, json };
}
