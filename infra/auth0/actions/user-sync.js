/**
 * Auth0 post-login Action "user-sync" (runtime node22, dependency pg 8). Bound LAST on the
 * post-login trigger, so it sees the displayName "profile-defaults" filled in.
 *
 * Upserts (user_id, user_name, last_seen = now) into `<DB_SCHEMA>.profiles` on every login
 * (and refresh-token exchange, which also runs this trigger).
 * user_name = user_metadata.displayName || name || nickname || email: the first that is usable
 * under the name rule (`cleanName`, shared with "profile-defaults": control characters and
 * bidirectional overrides removed, line breaks made spaces, trimmed), at most 512 characters (the
 * column's limit); null when none is.
 *
 * Secrets (configuration reaches this Action only through `event.secrets`):
 *   SYNC_MODE               "postgres" | "hasura" (required)
 *   SYNC_BLOCKS_LOGIN       "true": a failed sync denies the login; "false" or unset: the login goes
 *                           on and the failure is logged (one line)
 *   DB_SCHEMA               schema of the profiles table, /^[a-z_][a-z0-9_]{0,62}$/ (required)
 *   postgres mode:
 *     DB_URL                postgres://<sync role>:<password>@host:port/database, no query string
 *     DB_SSL                disable | require | verify-ca | verify-full (default require), as libpq
 *                           means them: require encrypts without verifying the server, verify-ca
 *                           checks its certificate chains to DB_CA_CERT, verify-full also that it
 *                           names DB_URL's host
 *     DB_CA_CERT            PEM of the CA certificate(s) verify-ca and verify-full trust; unset:
 *                           Node's public roots. Not a secret, but Actions receive configuration
 *                           only as secrets
 *     DB_CONNECT_TIMEOUT_MS   default 3000 (100..15000)
 *     DB_STATEMENT_TIMEOUT_MS default 3000 (100..15000)
 *   hasura mode:
 *     HASURA_GRAPHQL_URL    the GraphQL endpoint, e.g. https://hasura.example.com/v1/graphql
 *     HASURA_ADMIN_SECRET   sent as x-hasura-admin-secret
 *     HASURA_TIMEOUT_MS     default 5000 (100..15000)
 *
 * postgres mode logs in as the least-privilege sync role (INSERT/UPDATE/SELECT on profiles
 * only) through a pg Pool kept at module scope: Auth0 reuses a loaded Action for many logins, so
 * the connection is reused too. The statement is parameterized; only the validated, quoted
 * schema name is spliced in.
 *
 * hasura mode sends `insert_<table>_one` with `on_conflict` (constraint profiles_pkey,
 * update_columns user_name and last_seen) and the row as a GraphQL variable. <table> is Hasura's
 * default name for a tracked table: `profiles` in schema public, else `<schema>_profiles`.
 * An HTTP error, a GraphQL `errors` array in a 200 answer, a missing result and a timeout are all
 * failures.
 *
 * What is logged or put in a deny reason never contains DB_URL, the database password or the
 * admin secret: messages are built from error codes and messages, then scrubbed of those values.
 */
"use strict";

const { Pool } = require("pg");

// @@SHARED:names@@

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"];
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/;
/** Node's codes for a server certificate that does not chain to a trusted CA. */
const UNTRUSTED_CERTIFICATE = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED|CERT_REJECTED)$/;
const MAX_USER_NAME = 512;
const APPLICATION_NAME = "auth0-action-user-sync";
/** What the user sees when a blocking sync fails: nothing about the database or Hasura. */
const DENY_REASON = "Sign-in could not be completed right now. Please try again in a moment.";

class SyncError extends Error {
    constructor(message) {
        super(message);
        this.name = "SyncError";
    }
}

function ident(name) {
    return `"${name.replace(/"/g, '""')}"`;
}

function milliseconds(secrets, name, fallback) {
    const raw = secrets[name];
    if (raw === undefined || raw === "") return fallback;
    const value = /^\d{1,6}$/.test(String(raw)) ? Number(raw) : NaN;
    if (!(value >= 100 && value <= 15_000)) {
        throw new SyncError(`secret ${name} must be a whole number of milliseconds from 100 to 15000`);
    }
    return value;
}

function sslOption(mode, ca) {
    if (mode === "disable") return false;
    if (mode === "require") return { rejectUnauthorized: false };
    const options = { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
    if (mode === "verify-ca") return { ...options, checkServerIdentity: () => undefined };
    return options;
}

function parseDbUrl(text) {
    let url;
    try {
        url = new URL(String(text));
    } catch {
        throw new SyncError("secret DB_URL is not a valid postgres:// URL");
    }
    if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
        throw new SyncError("secret DB_URL must start with postgres:// or postgresql://");
    }
    if (url.search !== "") throw new SyncError("secret DB_URL must not carry query parameters (TLS is set by DB_SSL)");
    try {
        const connection = {
            host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
            port: url.port === "" ? 5432 : Number(url.port),
            database: decodeURIComponent(url.pathname.replace(/^\//, "")),
            user: decodeURIComponent(url.username),
            password: decodeURIComponent(url.password),
        };
        if (!connection.host || !connection.database || !connection.user) {
            throw new SyncError("secret DB_URL must name a host, a user and a database");
        }
        return connection;
    } catch (err) {
        if (err && err.name === "SyncError") throw err;
        throw new SyncError("secret DB_URL has a malformed percent-escape");
    }
}

/** Validates the secrets of the chosen mode. Messages name the secret, never its value. */
function readConfig(secrets) {
    if (secrets.SYNC_BLOCKS_LOGIN !== undefined && secrets.SYNC_BLOCKS_LOGIN !== "true" && secrets.SYNC_BLOCKS_LOGIN !== "false") {
        throw new SyncError('secret SYNC_BLOCKS_LOGIN must be "true" or "false"');
    }
    const mode = secrets.SYNC_MODE;
    if (mode !== "postgres" && mode !== "hasura") throw new SyncError('secret SYNC_MODE must be "postgres" or "hasura"');
    const schema = secrets.DB_SCHEMA;
    if (typeof schema !== "string" || !IDENTIFIER.test(schema)) {
        throw new SyncError(`secret DB_SCHEMA must be a lower-case Postgres identifier matching ${IDENTIFIER}`);
    }
    if (mode === "postgres") {
        if (!secrets.DB_URL) throw new SyncError('secret DB_URL is required when SYNC_MODE is "postgres"');
        const sslMode = secrets.DB_SSL === undefined || secrets.DB_SSL === "" ? "require" : secrets.DB_SSL;
        if (!SSL_MODES.includes(sslMode)) throw new SyncError(`secret DB_SSL must be one of ${SSL_MODES.join(", ")}`);
        const ca = secrets.DB_CA_CERT === undefined ? "" : String(secrets.DB_CA_CERT).trim();
        if (ca !== "" && !PEM_CERTIFICATE.test(ca)) throw new SyncError('secret DB_CA_CERT must be PEM text of one or more CA certificates ("-----BEGIN CERTIFICATE-----")');
        if (ca !== "" && (sslMode === "disable" || sslMode === "require")) {
            throw new SyncError(`secret DB_CA_CERT is set but DB_SSL is "${sslMode}", which does not verify the server: use verify-ca or verify-full`);
        }
        return {
            mode,
            schema,
            sslMode,
            ca,
            connection: parseDbUrl(secrets.DB_URL),
            connectTimeoutMs: milliseconds(secrets, "DB_CONNECT_TIMEOUT_MS", 3_000),
            statementTimeoutMs: milliseconds(secrets, "DB_STATEMENT_TIMEOUT_MS", 3_000),
        };
    }
    if (!secrets.HASURA_GRAPHQL_URL) throw new SyncError('secret HASURA_GRAPHQL_URL is required when SYNC_MODE is "hasura"');
    if (!secrets.HASURA_ADMIN_SECRET) throw new SyncError('secret HASURA_ADMIN_SECRET is required when SYNC_MODE is "hasura"');
    let url;
    try {
        url = new URL(String(secrets.HASURA_GRAPHQL_URL));
    } catch {
        throw new SyncError("secret HASURA_GRAPHQL_URL is not a valid URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new SyncError("secret HASURA_GRAPHQL_URL must be an http(s) URL");
    if (url.username !== "" || url.password !== "") throw new SyncError("secret HASURA_GRAPHQL_URL must not contain credentials");
    return {
        mode,
        schema,
        url: url.toString(),
        adminSecret: String(secrets.HASURA_ADMIN_SECRET),
        timeoutMs: milliseconds(secrets, "HASURA_TIMEOUT_MS", 5_000),
    };
}

/** A short description of an error: its message (or its cause's), and its code. */
function describe(err) {
    if (!err || typeof err !== "object") return String(err);
    let message = typeof err.message === "string" ? err.message : "";
    if (message === "" && Array.isArray(err.errors) && err.errors[0] && typeof err.errors[0].message === "string") {
        message = err.errors[0].message;
    }
    if (err.cause && typeof err.cause === "object" && typeof err.cause.message === "string" && err.cause.message !== "") {
        message = message === "" ? err.cause.message : `${message}: ${err.cause.message}`;
    }
    const code = typeof err.code === "string" ? err.code : err.cause && typeof err.cause.code === "string" ? err.cause.code : "";
    if (message === "") return code || (typeof err.name === "string" ? err.name : "unknown error");
    return code && !message.includes(code) ? `${message} [${code}]` : message;
}

/** A connection failure in words: TLS verification failures say which check failed. */
function describeConnectFailure(err) {
    const code = err && typeof err.code === "string" ? err.code : "";
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `TLS: the server's certificate does not name the host of DB_URL (DB_SSL verify-full checks the name): ${describe(err)}`;
    if (UNTRUSTED_CERTIFICATE.test(code)) return `TLS: the server's certificate is not signed by a CA of DB_CA_CERT (or, without one, by a public CA): ${describe(err)}`;
    if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return `TLS: the server's certificate is outside its validity period: ${describe(err)}`;
    return describe(err);
}

/** Removes every sensitive secret value (and the DB password, raw and decoded) from a text. */
function redactor(secrets) {
    const values = new Set();
    for (const name of ["DB_URL", "HASURA_ADMIN_SECRET"]) {
        if (typeof secrets[name] === "string") values.add(secrets[name]);
    }
    if (typeof secrets.DB_URL === "string") {
        try {
            const url = new URL(secrets.DB_URL);
            values.add(url.password);
            values.add(decodeURIComponent(url.password));
        } catch {
            // Not a URL: the whole value is redacted above.
        }
    }
    const sorted = [...values].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
    return (text) => sorted.reduce((out, value) => out.split(value).join("[redacted]"), String(text));
}

/** The first of `values` usable as a name under the name rule, cut to the column's limit; null when none is. */
function firstName(...values) {
    for (const value of values) {
        const name = cleanName(value, MAX_USER_NAME);
        if (name !== "") return name;
    }
    return null;
}

function profileRow(user) {
    if (typeof user.user_id !== "string" || user.user_id === "") throw new SyncError("event.user.user_id is missing");
    const metadata = user.user_metadata || {};
    return { user_id: user.user_id, user_name: firstName(metadata.displayName, user.name, user.nickname, user.email) };
}

// ---------------------------------------------------------------------------------------------
// postgres mode: one pool per loaded Action, reused across invocations.

let shared = null;

function poolFor(config, redact) {
    const c = config.connection;
    const key = JSON.stringify([c.host, c.port, c.database, c.user, c.password, config.sslMode, config.ca, config.connectTimeoutMs, config.statementTimeoutMs]);
    if (shared && shared.key === key) return shared.pool;
    if (shared) {
        const previous = shared.pool;
        previous.end().catch(() => undefined);
    }
    const pool = new Pool({
        host: c.host,
        port: c.port,
        database: c.database,
        user: c.user,
        password: c.password,
        ssl: sslOption(config.sslMode, config.ca),
        application_name: APPLICATION_NAME,
        max: 3,
        idleTimeoutMillis: 30_000,
        allowExitOnIdle: true,
        // Bounds the TCP/TLS connect, the startup and the wait for a free pooled client.
        connectionTimeoutMillis: config.connectTimeoutMs,
        // Server-side limit of each statement, and a client-side guard if the server goes silent.
        statement_timeout: config.statementTimeoutMs,
        query_timeout: config.statementTimeoutMs + 1_000,
    });
    // An idle pooled connection that breaks (server restart, failover) must not crash the Action.
    pool.on("error", (err) => console.error(`user-sync: an idle database connection failed: ${redact(describe(err))}`));
    shared = { key, pool };
    return pool;
}

async function syncViaPostgres(config, row, redact) {
    const pool = poolFor(config, redact);
    let client;
    try {
        client = await pool.connect();
    } catch (err) {
        throw new SyncError(`cannot connect to the database (${describeConnectFailure(err)})`);
    }
    const table = `${ident(config.schema)}.${ident("profiles")}`;
    try {
        await client.query(
            `INSERT INTO ${table} (user_id, user_name, last_seen) VALUES ($1, $2, now())
             ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, last_seen = EXCLUDED.last_seen`,
            [row.user_id, row.user_name],
        );
        client.release();
    } catch (err) {
        client.release(true);
        throw new SyncError(`the profile upsert failed (${describe(err)})`);
    }
}

// ---------------------------------------------------------------------------------------------
// hasura mode.

function isTimeout(err) {
    return Boolean(err) && (err.name === "TimeoutError" || err.name === "AbortError");
}

async function syncViaHasura(config, row) {
    const table = config.schema === "public" ? "profiles" : `${config.schema}_profiles`;
    const field = `insert_${table}_one`;
    const query = `mutation UpsertProfile($object: ${table}_insert_input!) {
  ${field}(object: $object, on_conflict: {constraint: profiles_pkey, update_columns: [user_name, last_seen]}) {
    user_id
  }
}`;
    const signal = AbortSignal.timeout(config.timeoutMs);
    let response;
    let body;
    try {
        response = await fetch(config.url, {
            method: "POST",
            headers: { "content-type": "application/json", "x-hasura-admin-secret": config.adminSecret },
            body: JSON.stringify({
                query,
                operationName: "UpsertProfile",
                variables: { object: { ...row, last_seen: new Date().toISOString() } },
            }),
            signal,
        });
        if (!response.ok) {
            await response.body?.cancel().catch(() => undefined);
            throw new SyncError(`Hasura answered HTTP ${response.status}`);
        }
        const text = await response.text();
        try {
            body = JSON.parse(text);
        } catch {
            throw new SyncError(`Hasura answered HTTP ${response.status} with a body that is not JSON`);
        }
    } catch (err) {
        if (err && err.name === "SyncError") throw err;
        if (isTimeout(err)) throw new SyncError(`Hasura did not answer within ${config.timeoutMs} ms`);
        throw new SyncError(`cannot reach Hasura (${describe(err)})`);
    }
    if (body && Array.isArray(body.errors) && body.errors.length > 0) {
        const first = body.errors[0] || {};
        const code = first.extensions && typeof first.extensions.code === "string" ? ` [${first.extensions.code}]` : "";
        const message = typeof first.message === "string" ? first.message.slice(0, 300) : "no message";
        throw new SyncError(`Hasura answered with GraphQL errors: ${message}${code}`);
    }
    const result = body && body.data ? body.data[field] : undefined;
    if (!result || result.user_id !== row.user_id) throw new SyncError(`Hasura's answer has no ${field} result for this user`);
}

// ---------------------------------------------------------------------------------------------

exports.onExecutePostLogin = async (event, api) => {
    const secrets = event.secrets || {};
    const user = event.user || {};
    const blocks = secrets.SYNC_BLOCKS_LOGIN === "true";
    const redact = redactor(secrets);
    try {
        const config = readConfig(secrets);
        const row = profileRow(user);
        if (config.mode === "postgres") await syncViaPostgres(config, row, redact);
        else await syncViaHasura(config, row);
    } catch (err) {
        const reason = redact(err && err.name === "SyncError" ? err.message : `unexpected error (${describe(err)})`);
        const who = typeof user.user_id === "string" ? user.user_id : "unknown user";
        if (blocks) {
            console.error(`user-sync: profile sync for ${who} failed: ${reason}; login denied (SYNC_BLOCKS_LOGIN is "true")`);
            api.access.deny(DENY_REASON);
        } else {
            console.error(`user-sync: profile sync for ${who} failed: ${reason}; login continues`);
        }
    }
};
