import { spawn } from "node:child_process";
import { resolve } from "node:path";

/** The project root: child processes run there, as `pulumi` and `npm run` do. */
export const ROOT = resolve(__dirname, "..", "..");

export interface ChildRun {
    /** Exit code, or null when killed. */
    code: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Runs this Node with `args` in the project root and resolves with its exit code and output,
 * whatever the code. `env` replaces the environment (PATH and HOME are kept) unless `inheritEnv`.
 * The child is killed after `timeoutMs`.
 */
export function runNode(args: string[], options: { env?: Record<string, string>; inheritEnv?: boolean; timeoutMs?: number } = {}): Promise<ChildRun> {
    const base = options.inheritEnv ? process.env : { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
    return new Promise((resolvePromise, reject) => {
        const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...base, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 25_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolvePromise({ code, stdout, stderr });
        });
    });
}
