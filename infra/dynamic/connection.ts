import { isIP } from "node:net";
import { checkServerIdentity, ConnectionOptions } from "node:tls";
import { Client, ClientConfig } from "pg";
import { SSL_MODES, SslMode } from "../config/constants";

/**
 * How a dynamic provider reaches Postgres. It always travels as a resource input wrapped in a
 * Pulumi secret, never captured in a provider's closure: the serialized provider text that
 * Pulumi stores in the state must hold no credentials.
 */
export interface PgConnectionInfo {
    host: string;
    port: number;
    database: string;
    user: string;
    password: string;
    /** As libpq: `require` encrypts only, `verify-ca` checks the chain, `verify-full` the chain and the name. */
    sslMode: SslMode;
    /** PEM of the CA(s) `verify-ca` and `verify-full` trust. Absent: Node's bundled public roots. */
    caCertificate?: string;
    /**
     * The name `verify-full` checks the server's certificate against, when it is not `host`: Pulumi
     * reaching the database through a tunnel on loopback checks the database's own name (its public
     * host), as libpq does with `host` and `hostaddr`. Absent: `host`.
     */
    tlsServerName?: string;
}

/** The `ssl` option of pg (Node's tls.connect options) for a connection's TLS settings. */
export function sslConfig(c: Pick<PgConnectionInfo, "sslMode" | "caCertificate" | "tlsServerName">): false | ConnectionOptions {
    if (c.sslMode === "disable") return false;
    if (c.sslMode === "require") return { rejectUnauthorized: false };
    const verified: ConnectionOptions = { rejectUnauthorized: true, ...(c.caCertificate ? { ca: c.caCertificate } : {}) };
    if (c.sslMode === "verify-ca") return { ...verified, checkServerIdentity: () => undefined };
    const name = c.tlsServerName;
    if (!name) return verified;
    // SNI may not carry an IP address (RFC 6066): an address is checked without it.
    return isIP(name) === 0 ? { ...verified, servername: name } : { ...verified, checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert) };
}

/** pg client settings for a connection. Timeouts keep a preview from hanging on a dead host. */
export function clientConfig(c: PgConnectionInfo): ClientConfig {
    const ssl = sslConfig(c);
    return {
        host: c.host,
        port: c.port,
        database: c.database,
        user: c.user,
        password: c.password,
        ssl,
        connectionTimeoutMillis: 10_000,
        statement_timeout: 60_000,
        application_name: "auth0-postgres-pulumi",
    };
}

/**
 * Runs `fn` with a connected client and always closes it. Errors name the database but never
 * carry the password (pg's own messages do not include it).
 */
export async function withClient<T>(c: PgConnectionInfo, fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client(clientConfig(c));
    try {
        await client.connect();
    } catch (err) {
        throw new Error(`cannot connect to Postgres ${c.user}@${c.host}:${c.port}/${c.database}: ${(err as Error).message}`);
    }
    try {
        return await fn(client);
    } finally {
        await client.end().catch(() => undefined);
    }
}

/** Parses a postgres:// URL (tests, `DATABASE_URL`) into connection info. */
export function connectionFromUrl(url: string): PgConnectionInfo {
    const u = new URL(url);
    const mode = u.searchParams.get("sslmode");
    return {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres",
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        sslMode: (SSL_MODES as readonly (string | null)[]).includes(mode) ? (mode as SslMode) : "disable",
    };
}
