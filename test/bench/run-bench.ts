/** Runs `npm run bench`'s script as a child process, for the benchmark's own tests. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const ROOT = join(__dirname, "..", "..");
const run = promisify(execFile);

/**
 * When a run that never ends is killed. Not a speed bound: a quick run takes some 15 to 40 s on a
 * busy 2-core machine, far less than this; it only stops a hung child. The tests' own timeout is above it.
 */
export const KILL_AFTER_MS = 170_000;
export const TEST_TIMEOUT_MS = KILL_AFTER_MS + 10_000;

/** Runs the benchmark with `args`; resolves with its exit code and output whatever the code. */
export async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(process.execPath, ["-r", "ts-node/register/transpile-only", join("scripts", "bench.ts"), ...args], {
            cwd: ROOT,
            timeout: KILL_AFTER_MS,
            maxBuffer: 4 * 1024 * 1024,
        });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const e = err as { code?: unknown; stdout?: string; stderr?: string };
        if (typeof e.code !== "number") throw err;
        return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
}
