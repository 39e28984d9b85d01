/**
 * How Pulumi's own connections (the postgresql provider and the dynamic providers) verify the
 * database, from the stack's `postgres` settings. Auth0's scripts and the user-sync Action get the
 * same sslMode and CA through their configuration and secrets (see infra/stack.ts).
 *
 * The postgresql provider (lib/pq) reads a CA only from a file (`sslrootcert` is a path), so the
 * program writes the configured CA to {@link caCertificateFile} before it registers anything
 * (infra/index.ts) and gives the provider that path, relative to the project directory, where the
 * engine runs both the program and the provider. The path is the same on every machine, so the
 * provider's configuration does not change between CI and a laptop. The file is written by every
 * run of the program: a `pulumi refresh` or `pulumi destroy` that does not run the program needs it
 * from an earlier run on that checkout (or `--run-program`).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { StackConfig } from "../config";
import { isLoopbackHost } from "../config/constants";
import type { PgConnectionInfo } from "../dynamic/connection";

/** Where the CA file of a stack goes, relative to the project directory (ignored by git). */
export function caCertificateFile(stack: string): string {
    return `.pulumi-tls/${stack}-ca.pem`;
}

export interface AdminTls {
    /** `sslmode` of the postgresql provider. */
    providerSslMode: PgConnectionInfo["sslMode"];
    /** `sslrootcert` of the postgresql provider: the CA file's path, when a CA is configured. */
    providerRootCert?: string;
    /** The TLS fields of the dynamic providers' connection. */
    connection: Pick<PgConnectionInfo, "sslMode" | "caCertificate" | "tlsServerName">;
}

/**
 * Behind a tunnel (`host` loopback, `publicHost` the database's own name) `verify-full` cannot check
 * the certificate against `host`: the dynamic providers check it against `publicHost` (pg's
 * `servername`, as libpq's `hostaddr`), and the postgresql provider, whose lib/pq checks only the
 * host it dials, falls back to `verify-ca` (the chain is still checked against the CA; the hop
 * from the loopback tunnel is the machine's own).
 */
export function adminTls(
    config: Pick<StackConfig, "stack"> & { postgres: Pick<StackConfig["postgres"], "host" | "publicHost" | "sslMode" | "caCertificate"> },
): AdminTls {
    const pg = config.postgres;
    const tunnel = pg.sslMode === "verify-full" && isLoopbackHost(pg.host) && pg.publicHost !== pg.host && !isLoopbackHost(pg.publicHost);
    return {
        providerSslMode: tunnel ? "verify-ca" : pg.sslMode,
        ...(pg.caCertificate ? { providerRootCert: caCertificateFile(config.stack) } : {}),
        connection: {
            sslMode: pg.sslMode,
            ...(pg.caCertificate ? { caCertificate: pg.caCertificate } : {}),
            ...(tunnel ? { tlsServerName: pg.publicHost } : {}),
        },
    };
}

/**
 * Writes the stack's CA to {@link caCertificateFile} under `projectDir` (the program's working
 * directory, which is the provider's too), when one is configured and the file does not hold it
 * already. Returns the path written or found, undefined when there is no CA.
 */
export function writeCaCertificateFile(
    config: Pick<StackConfig, "stack"> & { postgres: Pick<StackConfig["postgres"], "caCertificate"> },
    projectDir: string = process.cwd(),
): string | undefined {
    const pem = config.postgres.caCertificate;
    if (!pem) return undefined;
    const path = resolve(projectDir, caCertificateFile(config.stack));
    let current: string | undefined;
    try {
        current = readFileSync(path, "utf8");
    } catch {
        current = undefined;
    }
    if (current !== pem) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, pem, { mode: 0o644 });
    }
    return path;
}
