/**
 * TLS against a real TLS Postgres (issue #10 point 8): an embedded server of its own, whose
 * certificate a CA generated for this run signs, valid for 127.0.0.1 and db.auth0pg.test.
 *
 * For each client of the database (the uploaded scripts in the Auth0 sandbox, the user-sync Action,
 * a dynamic provider): the right CA under verify-full connects over TLS; another CA is refused with
 * an error that says the certificate is not signed by a trusted CA; a host the certificate does not
 * name (127.0.0.2, where the same server also listens) is refused under verify-full and accepted
 * under verify-ca. `require` encrypts without verifying.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, TestContext } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { SslMode } from "../../infra/auth0/scripts";
import { PgConnectionInfo } from "../../infra/dynamic/connection";
import { migrationsProvider } from "../../infra/dynamic/migrations";
import { loadAction, postLoginEvent, trackPgPools } from "../support/action-runner";
import { Auth0Sandbox, createSandbox } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { RunningPostgres, startPostgres } from "../support/embedded";
import { CertificateAuthority, createCertificateAuthority } from "../support/tls";
import { configFor } from "../support/custom-db-scripts";

const SERVER_NAME = "db.auth0pg.test";
/** Another loopback address the server listens on, which its certificate does not name. */
const OTHER_ADDRESS = "127.0.0.2";

let ca: CertificateAuthority;
let wrongCa: CertificateAuthority;
let server: RunningPostgres;
let stack: StackDatabase;
let otherAddressWorks = false;
const sandboxes: Auth0Sandbox[] = [];
const pools = trackPgPools();

beforeAll(async () => {
    ca = createCertificateAuthority("auth0pg test CA");
    wrongCa = createCertificateAuthority("auth0pg another CA");
    server = await startPostgres({
        tls: ca.issueServer({ commonName: SERVER_NAME, dns: [SERVER_NAME], ip: ["127.0.0.1"] }),
        listenAddresses: ["127.0.0.1", OTHER_ADDRESS],
    });
    stack = await createStackDatabase(server.url, "tls");
    // Linux routes all of 127.0.0.0/8 to loopback; elsewhere the server may not have bound it.
    otherAddressWorks = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(new URL(server.url).port), OTHER_ADDRESS, () => {
            socket.destroy();
            resolve(true);
        });
        socket.on("error", () => resolve(false));
    });
}, 120_000);

afterAll(async () => {
    for (const s of sandboxes) await s.close().catch(() => undefined);
    await pools.endAll();
    await stack?.teardown();
    await server?.stop();
});

function needsOtherAddress(ctx: TestContext): void {
    if (!otherAddressWorks) ctx.skip(`needs the loopback address ${OTHER_ADDRESS} (Linux has all of 127.0.0.0/8 on lo)`);
}

function atHost(url: string, host: string): string {
    const u = new URL(url);
    u.hostname = host;
    return u.toString();
}

/** Whether the sessions of `applicationName` on the stack's database are all encrypted (and there is one). */
async function encryptedSessions(applicationName: string): Promise<boolean[]> {
    const rows = await query(
        server.url,
        `SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.datname = $1 AND a.application_name = $2`,
        [stack.db.name, applicationName],
    );
    return rows.map((r) => r.ssl as boolean);
}

// ---------------------------------------------------------------------------------------------

function scripts(ssl: SslMode, options: { caPem?: string; host?: string } = {}): Auth0Sandbox {
    const configuration = configFor(stack, {
        ssl,
        dbUrl: atHost(stack.urlFor("scripts"), options.host ?? "127.0.0.1"),
        ...(options.caPem ? { caCertificate: options.caPem } : {}),
    });
    const sandbox = createSandbox(configuration, { timeoutMs: 15_000 });
    sandboxes.push(sandbox);
    return sandbox;
}

describe("the custom-database scripts (uploaded text, Auth0 sandbox)", () => {
    it("verify-full with the right CA: create, login and get_user work, over TLS", async () => {
        const s = scripts("verify-full", { caPem: ca.certPem });
        expect((await s.run("create", { email: "tls@example.com", password: "Tls-Password-1" })).err).toBeNull();
        const login = await s.run("login", "tls@example.com", "Tls-Password-1");
        expect(login.err).toBeNull();
        expect((await s.run("get_user", "tls@example.com")).result).toMatchObject({ email: "tls@example.com" });
        const sessions = await encryptedSessions("auth0-custom-db");
        expect(sessions.length).toBeGreaterThan(0);
        expect(sessions.every(Boolean)).toBe(true);
    });

    it("verify-full with another CA is refused: the certificate is not signed by a CA of DB_CA_CERT", async () => {
        const { err } = await scripts("verify-full", { caPem: wrongCa.certPem }).run("get_user", "tls@example.com");
        expect((err as Error).message).toMatch(
            /^get_user failed: TLS to the database failed: the server's certificate is not signed by a CA of DB_CA_CERT .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE: /,
        );
    });

    it("verify-full without a CA trusts only public CAs, so a private CA's server is refused", async () => {
        const { err } = await scripts("verify-full").run("get_user", "tls@example.com");
        expect((err as Error).message).toMatch(/^get_user failed: TLS to the database failed: the server's certificate is not signed by a CA/);
    });

    it("a host the certificate does not name: refused under verify-full, accepted under verify-ca", async (ctx) => {
        needsOtherAddress(ctx);
        const full = await scripts("verify-full", { caPem: ca.certPem, host: OTHER_ADDRESS }).run("get_user", "tls@example.com");
        expect((full.err as Error).message).toMatch(
            /^get_user failed: TLS to the database failed: the server's certificate does not name the host of DB_URL \(DB_SSL verify-full checks the name; ERR_TLS_CERT_ALTNAME_INVALID: .*127\.0\.0\.2/,
        );
        const chainOnly = await scripts("verify-ca", { caPem: ca.certPem, host: OTHER_ADDRESS }).run("get_user", "tls@example.com");
        expect(chainOnly.err).toBeNull();
        expect(chainOnly.result).toMatchObject({ email: "tls@example.com" });
        // verify-ca still checks the chain.
        const wrong = await scripts("verify-ca", { caPem: wrongCa.certPem, host: OTHER_ADDRESS }).run("get_user", "tls@example.com");
        expect((wrong.err as Error).message).toMatch(/not signed by a CA of DB_CA_CERT/);
    });

    it("require encrypts without verifying (libpq's meaning): any certificate is accepted", async () => {
        const { err, result } = await scripts("require", { host: otherAddressWorks ? OTHER_ADDRESS : "127.0.0.1" }).run("get_user", "tls@example.com");
        expect(err).toBeNull();
        expect(result).toMatchObject({ email: "tls@example.com" });
    });
});

// ---------------------------------------------------------------------------------------------

function sync(secrets: Record<string, string | undefined>) {
    const action = loadAction(actionSpec("user-sync"), { timeLimitMs: 15_000, interceptModule: pools.interceptModule });
    return (userId: string, host = "127.0.0.1") =>
        action.invoke(
            postLoginEvent({
                user: { user_id: userId, name: "TLS User" },
                secrets: { SYNC_MODE: "postgres", SYNC_BLOCKS_LOGIN: "true", DB_SCHEMA: stack.schema, DB_URL: atHost(stack.urlFor("sync"), host), ...secrets },
            }),
        );
}

async function profileOf(userId: string): Promise<unknown> {
    return (await query(stack.db.url, `SELECT user_name FROM ${stack.schema}.profiles WHERE user_id = $1`, [userId]))[0];
}

describe("the user-sync Action (uploaded code, Action runner)", () => {
    it("verify-full with the right CA upserts the profile, over TLS", async () => {
        const result = await sync({ DB_SSL: "verify-full", DB_CA_CERT: ca.certPem })("auth0|tls-1");
        expect(result.logs).toEqual([]);
        expect(result.denied).toBeUndefined();
        expect(await profileOf("auth0|tls-1")).toEqual({ user_name: "TLS User" });
        const sessions = await encryptedSessions("auth0-action-user-sync");
        expect(sessions.length).toBeGreaterThan(0);
        expect(sessions.every(Boolean)).toBe(true);
    });

    it("verify-full with another CA is refused, the log saying why, and the login denied (SYNC_BLOCKS_LOGIN)", async () => {
        const result = await sync({ DB_SSL: "verify-full", DB_CA_CERT: wrongCa.certPem })("auth0|tls-2");
        expect(result.denied).toBeDefined();
        expect(result.logs.map((l) => l.text).join("\n")).toMatch(
            /cannot connect to the database \(TLS: the server's certificate is not signed by a CA of DB_CA_CERT .*UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
        );
        expect(await profileOf("auth0|tls-2")).toBeUndefined();
    });

    it("a host the certificate does not name: refused under verify-full, accepted under verify-ca", async (ctx) => {
        needsOtherAddress(ctx);
        const full = await sync({ DB_SSL: "verify-full", DB_CA_CERT: ca.certPem })("auth0|tls-3", OTHER_ADDRESS);
        expect(full.logs.map((l) => l.text).join("\n")).toMatch(
            /TLS: the server's certificate does not name the host of DB_URL .*ERR_TLS_CERT_ALTNAME_INVALID/,
        );
        expect(await profileOf("auth0|tls-3")).toBeUndefined();
        const chainOnly = await sync({ DB_SSL: "verify-ca", DB_CA_CERT: ca.certPem })("auth0|tls-3", OTHER_ADDRESS);
        expect(chainOnly.logs).toEqual([]);
        expect(await profileOf("auth0|tls-3")).toEqual({ user_name: "TLS User" });
    });

    it("refuses a CA that is not PEM, or with a mode that would not use it, naming the secrets", async () => {
        const result = await sync({ DB_SSL: "require", DB_CA_CERT: ca.certPem })("auth0|tls-4");
        expect(result.logs.map((l) => l.text).join("\n")).toMatch(/secret DB_CA_CERT is set but DB_SSL is "require", which does not verify the server/);
        const notPem = await sync({ DB_SSL: "verify-full", DB_CA_CERT: "prod-ca-2021.crt" })("auth0|tls-4");
        expect(notPem.logs.map((l) => l.text).join("\n")).toMatch(/secret DB_CA_CERT must be PEM text of one or more CA certificates/);
        expect(await profileOf("auth0|tls-4")).toBeUndefined();
    });
});

// ---------------------------------------------------------------------------------------------

describe("a dynamic provider (Migrations, reading the ledger through withClient)", () => {
    function connection(overrides: Partial<PgConnectionInfo>): PgConnectionInfo {
        const u = new URL(stack.db.url);
        return {
            host: "127.0.0.1",
            port: Number(u.port),
            database: stack.db.name,
            user: decodeURIComponent(u.username),
            password: decodeURIComponent(u.password),
            sslMode: "verify-full",
            ...overrides,
        };
    }
    const read = (c: PgConnectionInfo) =>
        migrationsProvider.read!(stack.schema, { connection: c, schema: stack.schema, migrations: stack.migrations, applied: [] });

    it("verify-full with the right CA reads the ledger", async () => {
        const result = await read(connection({ caCertificate: ca.certPem }));
        expect(result.props?.applied).toEqual(stack.migrations.map((m) => m.id));
    });

    it("verify-full with another CA is refused, naming the database", async () => {
        await expect(read(connection({ caCertificate: wrongCa.certPem }))).rejects.toThrow(
            /^cannot connect to Postgres .*@127\.0\.0\.1:\d+\/t_tls_\w+: unable to verify the first certificate/,
        );
    });

    it("a host the certificate does not name: refused under verify-full, accepted under verify-ca, and through a tunnel checked against the real name", async (ctx) => {
        needsOtherAddress(ctx);
        await expect(read(connection({ host: OTHER_ADDRESS, caCertificate: ca.certPem }))).rejects.toThrow(
            /Hostname\/IP does not match certificate's altnames/,
        );
        expect((await read(connection({ host: OTHER_ADDRESS, sslMode: "verify-ca", caCertificate: ca.certPem }))).props?.applied).toHaveLength(
            stack.migrations.length,
        );
        // A tunnel: Pulumi dials a loopback address, the certificate must name the database's public host.
        expect((await read(connection({ host: OTHER_ADDRESS, caCertificate: ca.certPem, tlsServerName: SERVER_NAME }))).props?.applied).toHaveLength(
            stack.migrations.length,
        );
        await expect(read(connection({ host: OTHER_ADDRESS, caCertificate: ca.certPem, tlsServerName: "db.elsewhere.test" }))).rejects.toThrow(
            /does not match certificate's altnames/,
        );
    });
});
