/**
 * Smoke test of `scripts/bench.ts` (`npm run bench`): run as a child process with tiny counts
 * (`--quick`), it must print every figure: a row per operation, implementation and concurrency,
 * the ours/baseline ratios and the five target lines. The figures themselves are not judged here
 * (a quick run is too small for that), except the connection counts, which do not depend on speed.
 * How long the run takes is not judged either: speed belongs in `npm run bench`, not in a test.
 */
import { describe, expect, it } from "vitest";
import { bench, TEST_TIMEOUT_MS } from "./run-bench";

const OPERATIONS = ["login", "get_user", "create", "verify", "change_password", "upsert"];
const NUMBER = String.raw`\d+(?:\.\d+)?`;

describe("npm run bench --quick", () => {
    it(
        "prints a row for every operation, implementation and concurrency, the ratios and the five targets; --strict fails exactly when a target does",
        async () => {
            const { code, stdout, stderr } = await bench(["--quick", "--strict"]);
            expect(stderr).toBe("");
            expect(code).toBe(/^TARGET \d FAIL /m.test(stdout) ? 1 : 0);

            for (const operation of OPERATIONS) {
                for (const impl of ["ours", "baseline"]) {
                    for (const conc of [1, 10, 50]) {
                        // operation impl conc calls calls/s p50 p99 opened errors
                        const row = new RegExp(
                            `^${operation}\\s+${impl}\\s+${conc}\\s+(\\d+)\\s+${NUMBER}\\s+${NUMBER}\\s+${NUMBER}\\s+(\\d+)\\s+(\\d+)$`,
                            "m",
                        );
                        const match = row.exec(stdout);
                        expect(match, `row ${operation} ${impl} c=${conc}`).not.toBeNull();
                        const [, calls, opened, errors] = match!.map(Number);
                        expect(errors, `errors in ${operation} ${impl} c=${conc}`).toBe(0);
                        if (impl === "baseline") {
                            // One connection per call: that is what the baseline stands for.
                            expect(opened).toBe(calls);
                        } else {
                            // The scripts' pool (DB_POOL_MAX 5) or the Action's (max 3), never more than the concurrency.
                            expect(opened).toBeGreaterThanOrEqual(1);
                            expect(opened).toBeLessThanOrEqual(Math.min(conc, operation === "upsert" ? 3 : 5));
                        }
                    }
                    expect(stdout).toMatch(new RegExp(`^ratio ${operation}\\s+(1|10|50)\\s+${NUMBER}x\\s+${NUMBER}x\\s+${NUMBER}x$`, "m"));
                }
            }
            const targets = [...stdout.matchAll(/^TARGET (\d) (PASS|FAIL) (.+): (\d+\.\d+)x \(.*\)$/gm)];
            expect(targets.map((t) => t[1])).toEqual(["1", "2", "3", "4", "5"]);
            expect(targets[0]![3]).toMatch(/get_user at concurrency 10/);
            expect(targets[1]![3]).toMatch(/connections opened over a \d+-call run/);
            expect(targets[2]![3]).toMatch(/login p50 \/ bare bcrypt compare p50/);
            expect(targets[3]![3]).toMatch(/unknown email vs wrong password/);
            // Target 5: users at two bcrypt costs (a quick run raises 4 to 6), the unknown/wrong ratio and each cost's median.
            expect(targets[4]![3]).toBe("login across a bcrypt cost change (users at 4 and 6, BCRYPT_COST 6), median unknown email / wrong password");
            expect(targets[4]![0]).toMatch(
                /\(unknown \d+\.\d+ ms, wrong password \d+\.\d+ ms: stored at 4 \d+\.\d+ ms, \d+\.\d+x; stored at 6 \d+\.\d+ ms, \d+\.\d+x; need each 0\.95-1\.05x\)$/,
            );
            // Connections do not depend on the machine's speed: the pool's maximum is never exceeded.
            expect(targets[1]![2]).toBe("PASS");
            expect(stdout).toMatch(/^targets: [0-5]\/5 passed; call errors: 0; script log lines: 0; /m);
            expect(stdout).not.toMatch(/cost-change run:/);
        },
        TEST_TIMEOUT_MS,
    );

    it(
        "rejects a bad flag before starting anything, naming it",
        async () => {
            const failed = await bench(["--cost", "3"]);
            expect(failed.code).toBe(2);
            expect(failed.stderr).toMatch(/--cost must be an integer from 4 to 15 \(got "3"\)/);
            expect(failed.stdout).toBe("");
        },
        TEST_TIMEOUT_MS,
    );
});
