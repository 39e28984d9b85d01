/**
 * The latency mode's report (scripts/bench/latency.ts): the table of rows, the post-login pass, and
 * the targets, each judged per RTT.
 */
import type { Measured } from "./measure";
import { percentile } from "./measure";

/** The user-sync Action's pool size (`max` in user-sync.js). */
export const ACTION_POOL_MAX = 3;
export const OPERATIONS = ["get_user", "login", "create", "upsert"] as const;
export type Operation = (typeof OPERATIONS)[number];
export const IMPLS = ["ours", "baseline"] as const;
export type Impl = (typeof IMPLS)[number];

export interface Row {
    rtt: number;
    operation: Operation;
    impl: Impl;
    concurrency: number;
    measured: Measured;
    /** TCP connections the proxy accepted for this row (warm-up included). */
    opened: number;
}

export interface FlowRow {
    rtt: number;
    flow: "3 Actions" | "without user-sync";
    latencies: number[];
    errors: number;
    firstError: string | null;
    opened: number;
}

function pad(text: string | number, width: number, left = false): string {
    const s = String(text);
    return left ? s.padEnd(width) : s.padStart(width);
}

function inRtt(ms: number, rtt: number): string {
    return rtt > 0 ? (ms / rtt).toFixed(2) : "-";
}

export function printRows(rows: Row[]): void {
    const line = (cells: [string | number, number, boolean?][]) => process.stdout.write(`${cells.map(([c, w, l]) => pad(c, w, l)).join(" ")}\n`);
    line([
        ["rtt ms", 6],
        ["operation", 9, true],
        ["impl", 9, true],
        ["conc", 4],
        ["calls", 6],
        ["calls/s", 9],
        ["p50 ms", 8],
        ["p99 ms", 8],
        ["p50 RTT", 8],
        ["p99 RTT", 8],
        ["opened", 7],
        ["errors", 7],
    ]);
    for (const r of rows) {
        const m = r.measured;
        const p50 = percentile(m.latencies, 0.5);
        const p99 = percentile(m.latencies, 0.99);
        line([
            [r.rtt, 6],
            [r.operation, 9, true],
            [r.impl, 9, true],
            [r.concurrency, 4],
            [m.calls, 6],
            [(m.calls / m.seconds).toFixed(1), 9],
            [p50.toFixed(2), 8],
            [p99.toFixed(2), 8],
            [inRtt(p50, r.rtt), 8],
            [inRtt(p99, r.rtt), 8],
            [r.opened, 7],
            [m.errors, 7],
        ]);
    }
    for (const r of rows.filter((x) => x.measured.errors > 0)) {
        process.stdout.write(`  errors in rtt ${r.rtt} ${r.operation} ${r.impl} c=${r.concurrency}, first: ${r.measured.firstError}\n`);
    }
}

export function printFlows(flows: FlowRow[]): void {
    const line = (cells: [string | number, number, boolean?][]) => process.stdout.write(`${cells.map(([c, w, l]) => pad(c, w, l)).join(" ")}\n`);
    line([
        ["rtt ms", 6],
        ["post-login pass (warm)", 24, true],
        ["samples", 7],
        ["p50 ms", 8],
        ["p99 ms", 8],
        ["p50 RTT", 8],
        ["opened", 7],
        ["errors", 7],
    ]);
    for (const f of flows) {
        const p50 = percentile(f.latencies, 0.5);
        line([
            [f.rtt, 6],
            [f.flow, 24, true],
            [f.latencies.length, 7],
            [p50.toFixed(2), 8],
            [percentile(f.latencies, 0.99).toFixed(2), 8],
            [inRtt(p50, f.rtt), 8],
            [f.opened, 7],
            [f.errors, 7],
        ]);
    }
    for (const f of flows.filter((x) => x.errors > 0))
        process.stdout.write(`  errors in the post-login pass (${f.flow}) at rtt ${f.rtt}, first: ${f.firstError}\n`);
}

interface LatencyTarget {
    /** 1: get_user with a warm pool; 2: what the sync adds per login; 3: the baseline's get_user; 4: connections opened. */
    kind: 1 | 2 | 3 | 4;
    name: string;
    measured: string;
    pass: boolean;
}

export function targetsFor(rtt: number, rows: Row[], flows: FlowRow[], poolMax: number): LatencyTarget[] {
    const at = (operation: Operation, impl: Impl, concurrency: number) =>
        rows.find((r) => r.rtt === rtt && r.operation === operation && r.impl === impl && r.concurrency === concurrency)!;
    const p50 = (r: Row) => percentile(r.measured.latencies, 0.5);
    const bound = 1.2 * rtt + 1;
    const targets: LatencyTarget[] = [];
    const ours = rows.filter((r) => r.rtt === rtt && r.impl === "ours");
    const scriptsOpened = Math.max(...ours.filter((r) => r.operation !== "upsert").map((r) => r.opened));
    const syncOpened = Math.max(...ours.filter((r) => r.operation === "upsert").map((r) => r.opened));
    const [all, without] = [flows.find((f) => f.rtt === rtt && f.flow === "3 Actions")!, flows.find((f) => f.rtt === rtt && f.flow === "without user-sync")!];
    if (rtt > 0) {
        const getUser = at("get_user", "ours", 1);
        targets.push({
            kind: 1,
            name: `rtt ${rtt} ms: get_user p50 with a warm pool (concurrency 1)`,
            measured: `${p50(getUser).toFixed(2)} ms = ${inRtt(p50(getUser), rtt)} RTT (need <= 1.2 RTT + 1 ms = ${bound.toFixed(2)} ms)`,
            pass: p50(getUser) <= bound && getUser.measured.errors === 0,
        });
        const added = percentile(all.latencies, 0.5) - percentile(without.latencies, 0.5);
        targets.push({
            kind: 2,
            name: `rtt ${rtt} ms: the user-sync Action adds per login (post-login pass p50 ${percentile(all.latencies, 0.5).toFixed(2)} ms, without it ${percentile(without.latencies, 0.5).toFixed(2)} ms)`,
            measured: `${added.toFixed(2)} ms = ${inRtt(added, rtt)} RTT (need <= 1.2 RTT + 1 ms = ${bound.toFixed(2)} ms)`,
            pass: added <= bound && all.errors === 0 && without.errors === 0,
        });
        const base = at("get_user", "baseline", 1);
        targets.push({
            kind: 3,
            name: `rtt ${rtt} ms: baseline get_user p50 (a connection per call, concurrency 1)`,
            measured: `${p50(base).toFixed(2)} ms = ${inRtt(p50(base), rtt)} RTT (need >= 3 RTT = ${(3 * rtt).toFixed(2)} ms)`,
            pass: p50(base) >= 3 * rtt && base.measured.errors === 0,
        });
    }
    targets.push({
        kind: 4,
        name: `rtt ${rtt} ms: connections opened never exceed the pool size`,
        measured: `scripts ${scriptsOpened} of DB_POOL_MAX ${poolMax}, user-sync ${syncOpened} of ${ACTION_POOL_MAX}, post-login pass ${all.opened} of ${ACTION_POOL_MAX}`,
        pass: scriptsOpened <= poolMax && syncOpened <= ACTION_POOL_MAX && all.opened <= ACTION_POOL_MAX,
    });
    return targets;
}
