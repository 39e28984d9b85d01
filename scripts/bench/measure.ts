/**
 * Measuring helpers of `npm run bench` (scripts/bench.ts) and its latency mode
 * (scripts/bench/latency.ts): driving calls at a concurrency, percentiles, and a pg whose Client
 * counts its connects.
 */
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { invokeWithCallback } from "../../test/support/auth0-sandbox";

/** A prepared call: resolves with null when it did what it should, else with what went wrong. */
export type Call = () => Promise<string | null>;

export interface Measured {
    /** Calls made (fewer than asked when the time budget ran out). */
    calls: number;
    seconds: number;
    latencies: number[];
    errors: number;
    firstError: string | null;
}

/**
 * Makes up to `calls` calls, `concurrency` at a time (each caller starts its next call when the
 * previous one is over). No call starts after `budgetMs` (at least `concurrency` calls are made).
 */
export async function drive(calls: number, concurrency: number, prepare: (i: number) => Call, budgetMs = Infinity): Promise<Measured> {
    const latencies: number[] = [];
    let next = 0;
    let errors = 0;
    let firstError: string | null = null;
    const started = performance.now();
    const worker = async () => {
        for (;;) {
            const i = next++;
            if (i >= calls || (i >= concurrency && performance.now() - started > budgetMs)) return;
            const call = prepare(i);
            const t0 = performance.now();
            const problem = await call();
            latencies.push(performance.now() - t0);
            if (problem !== null) {
                errors += 1;
                firstError ??= problem;
            }
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
    return { calls: latencies.length, seconds: (performance.now() - started) / 1000, latencies, errors, firstError };
}

/** The nearest-rank percentile `q` (0-1) of `values`. */
export function percentile(values: number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

export function describeError(err: unknown): string {
    return err instanceof Error || (typeof err === "object" && err !== null && "message" in err) ? String((err as Error).message) : String(err);
}

export interface CountingPg {
    /** pg, with a Client that counts its successful connects and a Pool that uses that Client. */
    module: typeof pg;
    opened(): number;
    /** Ends every pool created through `module`. */
    endPools(): Promise<void>;
}

/** `base` with a connection counter: each successful `connect()` is one backend session. */
export function countingPg(base: typeof pg): CountingPg {
    let opened = 0;
    const pools: pg.Pool[] = [];
    type ConnectCallback = ((err: Error) => void) | ((err: null, c: pg.Client) => void);
    class CountingClient extends base.Client {
        override connect(): Promise<pg.Client>;
        override connect(callback: ConnectCallback): void;
        override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
            if (callback) {
                const counted = (err: Error | null, client?: pg.Client) => {
                    if (!err) opened += 1;
                    (callback as (err: Error | null, client?: pg.Client) => void)(err, client);
                };
                super.connect(counted as ConnectCallback);
                return;
            }
            return super.connect().then((client) => {
                opened += 1;
                return client;
            });
        }
    }
    class CountingPool extends base.Pool {
        constructor(config?: pg.PoolConfig) {
            super({ ...config, Client: CountingClient as unknown as new () => pg.ClientBase });
            pools.push(this);
        }
    }
    const module = new Proxy(base, {
        get: (target, prop, receiver) => (prop === "Client" ? CountingClient : prop === "Pool" ? CountingPool : Reflect.get(target, prop, receiver)),
    });
    return {
        module,
        opened: () => opened,
        endPools: async () => {
            await Promise.all(pools.map((p) => (p.ending ? undefined : p.end().catch(() => undefined))));
        },
    };
}

/** An integer flag (`--name`): `fallback` when absent, else a whole number from `min` to `max`, or an error naming the flag. */
export function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
    if (raw === undefined) return fallback;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new Error(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return n;
}

/**
 * One call of a baseline (connection-per-call) script function, driven through Auth0's callback
 * contract: null when `ok` accepts the result, else what went wrong.
 */
export async function baselineCall(
    operation: string,
    fn: (...args: unknown[]) => unknown,
    args: unknown[],
    ok: (result: unknown) => boolean,
): Promise<string | null> {
    const { err, result } = await invokeWithCallback(fn, args, { label: `baseline ${operation}`, timeoutMs: 60_000, onLateCall: () => undefined });
    if (err !== null) return `baseline ${operation}: ${describeError(err)}`;
    return ok(result) ? null : `baseline ${operation}: unexpected result ${JSON.stringify(result)}`;
}
