/**
 * Smoke test of the benchmark's latency mode (`npm run bench -- --latency`, scripts/bench/latency.ts):
 * run as a child process with tiny counts (`--quick`: RTT 0 and 5 ms), it must print every line:
 * the proxy's round trip per RTT, a row per RTT, operation, implementation and concurrency, the
 * post-login pass with and without user-sync, and the target lines. Only the connection counts are
 * judged, since they do not depend on speed; no timing is asserted here (speed belongs in
 * `npm run bench`, not in a test).
 */
import { describe, expect, it } from "vitest";
import { bench, TEST_TIMEOUT_MS } from "./run-bench";

const NUMBER = String.raw`\d+(?:\.\d+)?`;
const RTTS = [0, 5];
/** The pool each of ours uses: the scripts' DB_POOL_MAX (5) and the user-sync Action's (3). */
const POOL = { get_user: 5, login: 5, create: 5, upsert: 3 } as const;

describe("npm run bench -- --latency --quick", () => {
    it(
        "prints the proxy check, a row per RTT, operation, implementation and concurrency, the post-login pass and the targets; connections stay within the pools",
        async () => {
            const { code, stdout, stderr } = await bench(["--latency", "--quick", "--strict"]);
            expect(stderr).toBe("");
            expect(code).toBe(/^LATENCY TARGET \d FAIL /m.test(stdout) ? 1 : 0);
            expect(stdout).toMatch(/^bench: latency mode: every client through a loopback proxy adding RTT 0, 5 ms, TLS verify-full against a generated CA; /m);

            for (const rtt of RTTS) {
                expect(stdout).toMatch(new RegExp(`^proxy rtt ${rtt} ms: one round trip through it .*, p50 ${NUMBER} ms$`, "m"));
                for (const operation of Object.keys(POOL) as (keyof typeof POOL)[]) {
                    for (const impl of ["ours", "baseline"]) {
                        for (const conc of [1, 10]) {
                            // rtt operation impl conc calls calls/s p50 p99 p50RTT p99RTT opened errors
                            const inRtt = rtt > 0 ? NUMBER : "-";
                            const row = new RegExp(
                                `^\\s*${rtt}\\s+${operation}\\s+${impl}\\s+${conc}\\s+(\\d+)\\s+${NUMBER}\\s+${NUMBER}\\s+${NUMBER}\\s+${inRtt}\\s+${inRtt}\\s+(\\d+)\\s+(\\d+)$`,
                                "m",
                            );
                            const match = row.exec(stdout);
                            expect(match, `row rtt ${rtt} ${operation} ${impl} c=${conc}`).not.toBeNull();
                            const [, calls, opened, errors] = match!.map(Number);
                            expect(errors, `errors in rtt ${rtt} ${operation} ${impl} c=${conc}`).toBe(0);
                            if (impl === "baseline") {
                                // One TCP connection per call, as the proxy saw them.
                                expect(opened).toBe(calls);
                            } else {
                                // A fresh, warmed pool: at least one connection, never more than the pool or the concurrency.
                                expect(opened).toBeGreaterThanOrEqual(1);
                                expect(opened).toBeLessThanOrEqual(Math.min(conc, POOL[operation]));
                            }
                        }
                    }
                }
                const flow = (name: string) =>
                    new RegExp(`^\\s*${rtt}\\s+${name}\\s+(\\d+)\\s+${NUMBER}\\s+${NUMBER}\\s+${rtt > 0 ? NUMBER : "-"}\\s+(\\d+)\\s+(\\d+)$`, "m").exec(
                        stdout,
                    );
                const all = flow("3 Actions");
                const without = flow("without user-sync");
                expect(all, `post-login pass at rtt ${rtt}`).not.toBeNull();
                expect(without, `post-login pass without user-sync at rtt ${rtt}`).not.toBeNull();
                expect(Number(all![3])).toBe(0);
                expect(Number(without![3])).toBe(0);
                // One warm container: the sync's pool holds one connection for the whole pass; the other Actions open none.
                expect(Number(all![2])).toBe(1);
                expect(Number(without![2])).toBe(0);
            }

            const targets = [...stdout.matchAll(/^LATENCY TARGET (\d) (PASS|FAIL) rtt (\d+) ms: (.+)$/gm)].map((m) => ({
                kind: m[1],
                pass: m[2],
                rtt: Number(m[3]),
                text: m[4]!,
            }));
            expect(targets.map((t) => `${t.rtt}:${t.kind}`)).toEqual(["0:4", "5:1", "5:2", "5:3", "5:4"]);
            expect(targets.find((t) => t.rtt === 5 && t.kind === "1")!.text).toMatch(
                new RegExp(`^get_user p50 with a warm pool \\(concurrency 1\\): ${NUMBER} ms = ${NUMBER} RTT \\(need <= 1\\.2 RTT \\+ 1 ms = 7\\.00 ms\\)$`),
            );
            expect(targets.find((t) => t.rtt === 5 && t.kind === "2")!.text).toMatch(
                /^the user-sync Action adds per login \(post-login pass p50 .* ms, without it .* ms\): -?\d+\.\d+ ms = -?\d+\.\d+ RTT \(need <= 1\.2 RTT \+ 1 ms = 7\.00 ms\)$/,
            );
            expect(targets.find((t) => t.rtt === 5 && t.kind === "3")!.text).toMatch(
                new RegExp(`^baseline get_user p50 \\(a connection per call, concurrency 1\\): ${NUMBER} ms = ${NUMBER} RTT \\(need >= 3 RTT = 15\\.00 ms\\)$`),
            );
            // Connections do not depend on the machine's speed: the pools' sizes are never exceeded.
            for (const t of targets.filter((x) => x.kind === "4")) {
                expect(t.pass).toBe("PASS");
                expect(t.text).toMatch(
                    /^connections opened never exceed the pool size: scripts [1-5] of DB_POOL_MAX 5, user-sync [1-3] of 3, post-login pass 1 of 3$/,
                );
            }
            expect(stdout).toMatch(/^latency targets: [0-5]\/5 passed; call errors: 0; script log lines: 0; /m);
        },
        TEST_TIMEOUT_MS,
    );

    it(
        "rejects a bad flag before starting anything, naming it",
        async () => {
            const twice = await bench(["--latency", "--rtt", "10,10"]);
            expect(twice.code).toBe(2);
            expect(twice.stderr).toMatch(/--rtt lists a round-trip time twice \(got "10,10"\)/);
            expect(twice.stdout).toBe("");
            const unknown = await bench(["--latency", "--calls", "5"]);
            expect(unknown.code).toBe(2);
            expect(unknown.stderr).toMatch(/Unknown option '--calls'/);
        },
        TEST_TIMEOUT_MS,
    );
});
