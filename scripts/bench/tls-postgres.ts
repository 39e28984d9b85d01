/**
 * The latency mode's database: an embedded Postgres serving TLS with a certificate that a CA made
 * for this run signs (as Supabase signs its databases with its own CA), so clients connect as the
 * stack makes them: `verify-full` against that CA. The certificate names 127.0.0.1, the address of
 * the latency proxy the clients dial.
 */
import { RunningPostgres, startPostgres } from "../../test/support/embedded";
import { createCertificateAuthority } from "../../test/support/tls";

export interface TlsPostgres {
    server: RunningPostgres;
    /** The CA the server's certificate chains to (PEM): the stack's `postgres.caCertificate`. */
    caPem: string;
}

/** Starts it; `DATABASE_URL` is not used (the server must serve TLS with a certificate of ours). */
export async function startTlsPostgres(): Promise<TlsPostgres> {
    const ca = createCertificateAuthority("auth0-postgres bench CA");
    const certificate = ca.issueServer({ commonName: "auth0-postgres bench database", ip: ["127.0.0.1"], dns: ["localhost"] });
    const server = await startPostgres({ tls: certificate });
    return { server, caPem: ca.certPem };
}
