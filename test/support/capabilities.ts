/**
 * What the Postgres under the tests can do, probed once by `global-postgres.ts` and handed to the
 * test files as `inject("serverCapabilities")`. The embedded server has everything; a server of
 * the user's own (`DATABASE_URL`) may lack a feature a few tests need, and those tests are then
 * skipped with a reason that names the feature and the server version (see `needs.ts`), instead
 * of failing with an error about something else.
 *
 * No vitest import here: `global-postgres.ts` runs in vitest's main process.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { ident } from "../../infra/postgres/privileges";
import { withCredentials } from "./db";

export interface ServerCapabilities {
    /** `server_version_num`, e.g. 170006. */
    versionNum: number;
    /** `server_version`, as the skip reasons name it. */
    version: string;
    /** Whether a login with a wrong password is refused (no `trust` line in pg_hba.conf lets the test roles in). */
    checksPasswords: boolean;
    /** Whether the server offers TLS (`ssl = on`): then a client that demands TLS gets it instead of a refusal. */
    offersTls: boolean;
}

/** What a test may need beyond the requirements every test has (see `prepareServer`). */
export type Feature = "builtin-locale" | "password-check" | "no-tls";

/** The oldest server the tests run against: `CREATE DATABASE ... LOCALE_PROVIDER` is 15's. */
export const MIN_VERSION_NUM = 150000;
/** The builtin locale provider (C.UTF-8 independent of the OS's locales) is 17's. */
export const BUILTIN_LOCALE_VERSION_NUM = 170000;

/** Why a test that needs `feature` cannot run against this server; undefined when it can. */
export function missingFeature(caps: ServerCapabilities, feature: Feature): string | undefined {
    // "15.20 (Debian 15.20-0+deb12u1)": the number is enough.
    const version = caps.version.split(" ")[0];
    switch (feature) {
        case "builtin-locale":
            return caps.versionNum >= BUILTIN_LOCALE_VERSION_NUM
                ? undefined
                : `needs the builtin locale provider (C.UTF-8) of PostgreSQL 17; the server at DATABASE_URL is PostgreSQL ${version}`;
        case "password-check":
            return caps.checksPasswords
                ? undefined
                : `needs a server that refuses a wrong password; the server at DATABASE_URL (PostgreSQL ${version}) let a role in with a wrong one (a "trust" line in pg_hba.conf)`;
        case "no-tls":
            return caps.offersTls
                ? `needs a server without TLS, so that demanding TLS is refused; the server at DATABASE_URL (PostgreSQL ${version}) has ssl = on`
                : undefined;
    }
}

export const FEATURES: readonly Feature[] = ["builtin-locale", "password-check", "no-tls"];

/** Why the tests cannot run against this server at all; undefined when they can. */
export function unsupportedServer(server: { versionNum: number; version: string; superuser: boolean; user: string }): string | undefined {
    if (server.versionNum < MIN_VERSION_NUM)
        return `DATABASE_URL points at PostgreSQL ${server.version}; the tests need PostgreSQL 15 or later (17, as Supabase runs, for every test to run)`;
    if (!server.superuser)
        return `DATABASE_URL logs in as "${server.user}", which is not a superuser; the tests create databases, roles and the Supabase fixture, so they need one`;
    return undefined;
}

export interface PreparedServer {
    /** The superuser URL the tests get: always with a password (see `prepareServer`). */
    url: string;
    capabilities: ServerCapabilities;
    /** The login role created for the probe: dropped at once when the URL carries a password, else the tests' superuser. */
    role: string;
    /** Drops the role `prepareServer` created, if any. */
    release: () => Promise<void>;
}

/** Where a URL points, without its credentials: error messages may be printed. */
function where(url: string): string {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

async function connect(url: string): Promise<Client> {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    return client;
}

/** Whether `url` logs in (closing the session again); the error when it does not. */
async function tryLogin(url: string): Promise<Error | undefined> {
    try {
        await (await connect(url)).end();
        return undefined;
    } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
    }
}

/**
 * Checks that the server at `url` can host the tests at all (stops at once, saying why, when not)
 * and probes what it can do.
 *
 * A login role with a password is created and logged in with, as the tests' stack roles are: with
 * the right password (it must work: the tests log in as roles they create, over the URL's host),
 * then with a wrong one (refused unless pg_hba.conf trusts the host). When the URL itself carries
 * no password (a trusted or .pgpass login), that role is made a superuser and its URL is what the
 * tests get, so that the tests which search output for "the database password" search for a real
 * one; it expires after a day should the run never reach `release()`.
 */
export async function prepareServer(url: string): Promise<PreparedServer> {
    let admin: Client;
    try {
        admin = await connect(url);
    } catch (err) {
        throw new Error(`cannot connect to DATABASE_URL (${where(url)}): ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
        const row = (
            await admin.query<{ num: string; version: string; superuser: boolean; user: string; ssl: string }>(
                `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version,
                        r.rolsuper AS superuser, current_user AS user, current_setting('ssl') AS ssl
                   FROM pg_roles r WHERE r.rolname = current_user`,
            )
        ).rows[0]!;
        const server = { versionNum: Number(row.num), version: row.version, superuser: row.superuser, user: row.user };
        const unsupported = unsupportedServer(server);
        if (unsupported) throw new Error(unsupported);

        const carriesPassword = new URL(url).password !== "";
        const role = `auth0pg_${randomBytes(4).toString("hex")}`;
        const password = randomBytes(18).toString("base64url");
        const validUntil = new Date(Date.now() + 24 * 3600_000).toISOString();
        await admin.query(`CREATE ROLE ${ident(role)} LOGIN ${carriesPassword ? "" : "SUPERUSER"} PASSWORD '${password}' VALID UNTIL '${validUntil}'`);
        const drop = async () => {
            const client = await connect(url);
            try {
                await client.query(`DROP ROLE IF EXISTS ${ident(role)}`);
            } finally {
                await client.end();
            }
        };
        try {
            const refused = await tryLogin(withCredentials(url, role, password));
            if (refused) {
                throw new Error(
                    `a role the tests create cannot log in with its password through DATABASE_URL's host (${where(url)}): ${refused.message}. ` +
                        "The tests log in as roles they create: point DATABASE_URL at a host and port whose pg_hba.conf lets any role in with a password (scram-sha-256 or md5) or trusts it",
                );
            }
            const capabilities: ServerCapabilities = {
                versionNum: server.versionNum,
                version: server.version,
                checksPasswords: (await tryLogin(withCredentials(url, role, `${password}-wrong`))) !== undefined,
                offersTls: row.ssl === "on",
            };
            if (carriesPassword) {
                await drop();
                return { url, capabilities, role, release: async () => {} };
            }
            const release = async () => {
                // A test file that died before its teardown leaves a database the role owns: say so, do not fail the run.
                await drop().catch((err: unknown) =>
                    process.stderr.write(
                        `note: the test role ${role} was not dropped (${err instanceof Error ? err.message : String(err)}); its login expires at ${validUntil}\n`,
                    ),
                );
            };
            return { url: withCredentials(url, role, password), capabilities, role, release };
        } catch (err) {
            await drop().catch(() => undefined);
            throw err;
        }
    } finally {
        await admin.end();
    }
}
