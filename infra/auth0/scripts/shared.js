/*
 * Shared code of the Auth0 custom-database scripts (infra/auth0/scripts/shared.js).
 *
 * This file is not a module. The assembler (assemble.ts) inserts it, once, in place of the marker
 * line in the body of each script, so it runs in Auth0's sandbox with the script's globals:
 * `configuration`, `global`, `require`, `ValidationError`, `WrongUsernameOrPasswordError`,
 * `Buffer` and `console`. Each invocation runs it again; what must outlive one invocation (the
 * pg pool, the dummy bcrypt hashes, the bcrypt cost of a failed login) lives in
 * `global.__auth0CustomDb`.
 *
 * SQL is parameterized; the only identifier is the schema, validated and quoted. Errors given to
 * the callback never carry DB_URL, its password or a password hash.
 */
// Auth0's sandbox gives an unversioned require its own default version: the assembler writes
// the stack's `customDb.modules` version after each "@" (see modules.ts).
var pg = require("pg@{{version}}");
var bcrypt = require("bcrypt@{{version}}");
var crypto = require("crypto");
var tls = require("tls");

var SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
var SSL_MODES = ["disable", "require", "verify-ca", "verify-full"];
var NO_CA = "none";
var PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+\/=\s]+-----END CERTIFICATE-----/;
var MAX_PASSWORD_BYTES = 72;
var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
var EMAIL = /^[^\s@]+@[^\s@]+$/;
var PROFILE_COLUMNS = "id::text AS id, email, nickname, email_verified, app_metadata, user_metadata";
var APPLICATION_NAME = "auth0-custom-db";
var OWN_ERRORS = new WeakSet();
var STATE = global.__auth0CustomDb || (global.__auth0CustomDb = { pool: null, poolKey: null, dummyHashes: {}, ceiling: null });

/** An error whose message this code wrote (safe to hand to Auth0 as it is). */
function failure(message) {
  var err = new Error(message);
  OWN_ERRORS.add(err);
  return err;
}

/** Auth0's ValidationError, for input the caller must fix. */
function invalid(code, message) {
  return new ValidationError(code, message);
}

/** Parses and checks the connection's configuration; throws naming every bad key (never DB_URL's value). */
function readConfiguration() {
  var c = typeof configuration === "object" && configuration !== null ? configuration : {};
  var problems = [];
  function text(key) {
    var v = c[key];
    return v === undefined || v === null ? "" : String(v).trim();
  }
  function integer(key, min, max) {
    var raw = text(key);
    var n = /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) {
      problems.push(key + " must be an integer from " + min + " to " + max + " (got " + JSON.stringify(raw) + ")");
    }
    return n;
  }
  var dbUrl = text("DB_URL");
  if (!/^postgres(ql)?:\/\/[^\s\/?#]+(\/[^\s?#]*)?$/.test(dbUrl)) {
    problems.push("DB_URL must be a postgres:// URL without query parameters (SSL comes from DB_SSL, timeouts from DB_*_TIMEOUT_MS); value not shown");
  }
  var ssl = text("DB_SSL");
  if (SSL_MODES.indexOf(ssl) === -1) {
    problems.push("DB_SSL must be one of " + SSL_MODES.join(", ") + " (got " + JSON.stringify(ssl) + ")");
  }
  // The CA certificate(s) verify-ca and verify-full trust (PEM); "none" (or no key) for Node's public roots.
  var ca = text("DB_CA_CERT");
  if (ca === NO_CA) ca = "";
  if (ca && !PEM_CERTIFICATE.test(ca)) {
    problems.push('DB_CA_CERT must be PEM text of one or more CA certificates ("-----BEGIN CERTIFICATE-----"), or "none"');
  } else if (ca && (ssl === "disable" || ssl === "require")) {
    problems.push('DB_CA_CERT is set but DB_SSL is "' + ssl + '", which does not verify the server: use verify-ca or verify-full, or set DB_CA_CERT to "none"');
  }
  var schema = text("DB_SCHEMA");
  if (!SCHEMA_NAME.test(schema)) {
    problems.push("DB_SCHEMA must match " + String(SCHEMA_NAME) + " (got " + JSON.stringify(schema) + ")");
  }
  var host = /^postgres(?:ql)?:\/\/(?:[^@\/?#]*@)?(\[[^\]\/?#]+\]|[^:\/?#]+)/.exec(dbUrl);
  var cfg = {
    dbUrl: dbUrl,
    host: host ? host[1].replace(/^\[(.*)\]$/, "$1") : "",
    ssl: ssl,
    ca: ca,
    schema: schema,
    bcryptCost: integer("BCRYPT_COST", 4, 15),
    poolMax: integer("DB_POOL_MAX", 1, 50),
    connectTimeoutMs: integer("DB_CONNECT_TIMEOUT_MS", 100, 15000),
    statementTimeoutMs: integer("DB_STATEMENT_TIMEOUT_MS", 100, 15000),
  };
  if (problems.length > 0) {
    throw failure("custom database configuration is invalid: " + problems.join("; "));
  }
  return cfg;
}

/** The quoted users table of the configured schema. */
function usersTable(cfg) {
  return '"' + cfg.schema.replace(/"/g, '""') + '".users';
}

/**
 * pg's `ssl` option, with libpq's meaning of each mode: require encrypts without verifying the
 * server; verify-ca checks that its certificate chains to DB_CA_CERT (or a public CA when there is
 * none); verify-full checks that too and that it names the host of DB_URL.
 */
function sslOptions(cfg) {
  if (cfg.ssl === "disable") return false;
  if (cfg.ssl === "require") return { rejectUnauthorized: false };
  var options = { rejectUnauthorized: true };
  if (cfg.ca) options.ca = cfg.ca;
  if (cfg.ssl === "verify-ca") {
    options.checkServerIdentity = function () {
      return undefined;
    };
  } else {
    // The name is checked here, against DB_URL's host: for a host given as an IP address, pg 8.11.3
    // hands tls.connect neither servername nor host, and Node would check the name "localhost".
    var host = cfg.host;
    options.checkServerIdentity = function (_name, cert) {
      return tls.checkServerIdentity(host, cert);
    };
  }
  return options;
}

/** Node's codes for a certificate that does not chain to a trusted CA. */
var UNTRUSTED_CERTIFICATE = /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED|CERT_REJECTED)$/;

/** Removes DB_URL and its password from a text. */
function scrub(text) {
  var url = typeof configuration === "object" && configuration !== null && typeof configuration.DB_URL === "string" ? configuration.DB_URL.trim() : "";
  var secrets = [];
  if (url) {
    secrets.push(url);
    var m = /^[a-z]+:\/\/[^:@\/?#]*:([^@\/?#]+)@/i.exec(url);
    if (m) {
      secrets.push(m[1]);
      try {
        secrets.push(decodeURIComponent(m[1]));
      } catch (e) {
        // not percent-encoded text: the raw form is removed already
      }
    }
  }
  var out = String(text);
  for (var i = 0; i < secrets.length; i++) {
    if (secrets[i]) out = out.split(secrets[i]).join("[redacted]");
  }
  return out;
}

/** What went wrong, in words, for a pg, network or bcrypt error. */
function describeFailure(err) {
  var e = err !== null && typeof err === "object" ? err : {};
  var message = typeof e.message === "string" && e.message ? e.message : String(err);
  var code = typeof e.code === "string" ? e.code : "";
  var text;
  if (typeof e.severity === "string" && code) {
    if (code === "57014") text = "the database cancelled the statement (statement timeout or cancel request; SQLSTATE 57014: " + message + ")";
    else if (code.slice(0, 2) === "28") text = "the database refused the login (SQLSTATE " + code + ": " + message + ")";
    else if (code.slice(0, 2) === "08" || code.slice(0, 2) === "57") text = "the database connection failed (SQLSTATE " + code + ": " + message + ")";
    else text = "database error SQLSTATE " + code + ": " + message;
  } else if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    text = "TLS to the database failed: the server's certificate does not name the host of DB_URL (DB_SSL verify-full checks the name; " + code + ": " + message + ")";
  } else if (UNTRUSTED_CERTIFICATE.test(code)) {
    text = "TLS to the database failed: the server's certificate is not signed by a CA of DB_CA_CERT (or, without one, by a public CA) (" + code + ": " + message + ")";
  } else if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    text = "TLS to the database failed: the server's certificate is outside its validity period (" + code + ": " + message + ")";
  } else if (/^E[A-Z_]+$/.test(code) && !/^ERR_(TLS|SSL)/.test(code)) {
    text = "cannot reach the database (" + code + ": " + message + ")";
  } else if (/timeout exceeded when trying to connect/i.test(message)) {
    // pg-pool's error for a call that queued for a pooled connection and got none in time.
    text = "no pooled database connection became free within the connect timeout (all DB_POOL_MAX connections busy or still connecting: " + message + ")";
  } else if (/connection timeout/i.test(message)) {
    text = "cannot reach the database (no connection within the connect timeout: " + message + ")";
  } else if (/Query read timeout/.test(message)) {
    text = "the database did not answer within the statement timeout (" + message + ")";
  } else if (/Connection terminated/i.test(message)) {
    text = "the database connection was lost (" + message + ")";
  } else if (/SSL|TLS|certificate/i.test(message) || /^ERR_TLS|CERT|SSL/.test(code)) {
    text = "TLS to the database failed (" + (code ? code + ": " : "") + message + ")";
  } else {
    text = message;
  }
  return scrub(text);
}

/** The error handed to Auth0: Auth0's own error types and ours as they are, anything else as a plain Error. */
function toCallbackError(operation, err) {
  if (typeof WrongUsernameOrPasswordError === "function" && err instanceof WrongUsernameOrPasswordError) return err;
  if (typeof ValidationError === "function" && err instanceof ValidationError) return err;
  if (err !== null && typeof err === "object" && OWN_ERRORS.has(err)) return err;
  return new Error(operation + " failed: " + describeFailure(err));
}

/** Runs `work` and calls back exactly once, with Auth0's error-first contract. */
function settle(operation, callback, work) {
  var called = false;
  function finish(err, value) {
    if (called) return;
    called = true;
    if (err) return callback(err);
    if (value === undefined) return callback(null);
    return callback(null, value);
  }
  Promise.resolve()
    .then(work)
    .then(
      function (value) {
        finish(null, value);
      },
      function (err) {
        finish(toCallbackError(operation, err));
      },
    );
}

/** The pool of this configuration, kept in `global` across invocations; a changed configuration gets a new one. */
function getPool(cfg) {
  var key = crypto
    .createHash("sha256")
    .update(JSON.stringify([cfg.dbUrl, cfg.ssl, cfg.ca, cfg.poolMax, cfg.connectTimeoutMs, cfg.statementTimeoutMs]))
    .digest("hex");
  if (STATE.pool && STATE.poolKey === key && !STATE.pool.ending) return STATE.pool;
  var previous = STATE.pool;
  var pool = new pg.Pool({
    connectionString: cfg.dbUrl,
    ssl: sslOptions(cfg),
    max: cfg.poolMax,
    connectionTimeoutMillis: cfg.connectTimeoutMs,
    statement_timeout: cfg.statementTimeoutMs,
    // Client side: a server that stops answering (network gone) fails the query too. A little
    // longer than statement_timeout, so the server's own cancel normally wins.
    query_timeout: cfg.statementTimeoutMs + 1000,
    idleTimeoutMillis: 30000,
    keepAlive: true,
    application_name: APPLICATION_NAME,
  });
  // An idle client whose connection dies must not crash the process: pg-pool drops it and emits here.
  pool.on("error", function (err) {
    console.error("auth0 custom database: an idle database connection failed: " + describeFailure(err));
  });
  STATE.pool = pool;
  STATE.poolKey = key;
  if (previous && !previous.ending) {
    previous.end().catch(function () {
      // already ending
    });
  }
  return pool;
}

function isServerError(err) {
  return err !== null && typeof err === "object" && typeof err.severity === "string" && typeof err.code === "string";
}

/**
 * Runs one parameterized statement on a pooled client. A statement the server rejected leaves
 * the connection usable, so it goes back to the pool; a broken connection is discarded.
 */
async function runQuery(cfg, text, values) {
  var client = await getPool(cfg).connect();
  var broken = null;
  function onError(err) {
    broken = broken || err;
  }
  client.on("error", onError);
  try {
    return await client.query(text, values);
  } catch (err) {
    if (!isServerError(err)) broken = broken || err;
    throw err;
  } finally {
    client.removeListener("error", onError);
    client.release(broken || undefined);
  }
}

/** The trimmed text, or null when `value` is not a string with something besides white space. */
function trimmedText(value) {
  if (typeof value !== "string") return null;
  var trimmed = value.trim();
  return trimmed ? trimmed : null;
}

/**
 * The email as it is looked up and stored: trimmed and in Unicode NFC (so a composed "é" and "e"
 * plus a combining accent are one user), matched case-insensitively by lower() in SQL. An email
 * with a control character (NUL included) is no email: null, like a missing one.
 */
function normalizeEmail(email) {
  var text = trimmedText(email);
  if (text === null || /[\u0000-\u001f\u007f]/.test(text)) return null;
  return text.normalize("NFC");
}

function requireEmail(operation, email) {
  var key = normalizeEmail(email);
  if (!key) throw failure(operation + ": the email is missing or not a string");
  return key;
}

function passwordFits(password) {
  return typeof password === "string" && password.length > 0 && Buffer.byteLength(password, "utf8") <= MAX_PASSWORD_BYTES;
}

/** Checks a new password: bcrypt only reads the first 72 bytes, so a longer one is refused, not truncated. */
function checkNewPassword(operation, password) {
  if (typeof password !== "string" || password.length === 0) {
    throw invalid("invalid_password", operation + ": the password is missing");
  }
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw invalid("invalid_password", operation + ": the password is longer than " + MAX_PASSWORD_BYTES + " bytes");
  }
}

// ---------------------------------------------------------------------------------------------
// The bcrypt work of a login. A failed login must not tell whether the email exists, however the
// stored hashes' costs differ (users hashed before customDb.bcryptCost was raised or lowered): every
// failed login does the work of one compare at the same cost, the ceiling; a successful one
// stores the password again at the configured cost when its hash has another one.

/** A stored hash above this cost (imported from elsewhere) does not raise the ceiling: the configuration's own maximum. */
var MAX_BCRYPT_COST = 15;
/** How long the ceiling read from the table is kept before it is read again. */
var CEILING_TTL_MS = 5 * 60 * 1000;
var BCRYPT_HASH = /^\$2[aby]\$([0-9]{2})\$[.\/A-Za-z0-9]{53}$/;

/** The cost of a bcrypt hash, or null when the text is not one. */
function hashCost(hash) {
  var m = typeof hash === "string" ? BCRYPT_HASH.exec(hash) : null;
  return m ? Number(m[1]) : null;
}

/**
 * A well-formed bcrypt hash at `cost` that no password matches, cached in `global`: a fresh salt
 * (bcrypt.genSalt, which does no key stretching) and a random digest. A compare against it costs
 * what one against a real hash of that cost does (bcrypt derives the digest from the password,
 * then compares the texts), and making it costs nothing, so no first failed login pays twice.
 */
function dummyHash(cost) {
  var cached = STATE.dummyHashes[cost];
  if (!cached) {
    cached = Promise.resolve(bcrypt.genSalt(cost)).then(function (salt) {
      // 31 characters of bcrypt's alphabet (base64's, with "." for "+").
      return salt + crypto.randomBytes(24).toString("base64").replace(/\+/g, ".").slice(0, 31);
    });
    STATE.dummyHashes[cost] = cached;
    cached.catch(function () {
      if (STATE.dummyHashes[cost] === cached) delete STATE.dummyHashes[cost];
    });
  }
  return cached;
}

/**
 * The bcrypt cost every failed login pays for: the highest of the configured cost and the stored
 * hashes' costs (at most MAX_BCRYPT_COST). Read from the table once per CEILING_TTL_MS per
 * container; every login, known email or not, waits for the same read.
 */
function costCeiling(cfg) {
  var key = crypto.createHash("sha256").update(JSON.stringify([cfg.dbUrl, cfg.schema, cfg.bcryptCost])).digest("hex");
  var entry = STATE.ceiling;
  if (entry && entry.key === key && Date.now() - entry.at < CEILING_TTL_MS) return entry.value;
  var value = runQuery(
    cfg,
    "SELECT max(substr(password_hash, 5, 2)) AS cost FROM " + usersTable(cfg) + " WHERE password_hash LIKE '$2_$__$%'",
    [],
  ).then(function (result) {
    var text = result.rows.length > 0 ? String(result.rows[0].cost) : "";
    var stored = /^[0-9]{2}$/.test(text) ? Math.min(Number(text), MAX_BCRYPT_COST) : 0;
    return Math.max(cfg.bcryptCost, stored);
  });
  var fresh = { key: key, at: Date.now(), value: value };
  STATE.ceiling = fresh;
  value.catch(function () {
    if (STATE.ceiling === fresh) STATE.ceiling = null;
  });
  return value;
}

/**
 * The rest of a failed login's bcrypt work, so that it comes to one compare at `ceiling`. `spent`
 * is the cost of the compare against the stored hash, or null when there was none (unknown email,
 * unusable password or hash): then one compare at the ceiling. Else bcrypt's work doubles with each
 * cost step, so compares at spent, spent+1, ..., ceiling-1 add 2^ceiling - 2^spent to the 2^spent
 * already done. (A stored cost above the ceiling, beyond MAX_BCRYPT_COST, adds nothing.)
 */
async function payFailedLogin(password, spent, ceiling) {
  var costs = [];
  if (spent === null) costs.push(ceiling);
  else for (var cost = spent; cost < ceiling; cost++) costs.push(cost);
  for (var i = 0; i < costs.length; i++) {
    await bcrypt.compare(password, await dummyHash(costs[i]));
  }
  return costs;
}

/**
 * After a successful login whose stored hash has another cost than the configured one: stores the
 * password hashed at the configured cost, only if the row still holds the hash just checked (a
 * password change made meanwhile wins). A failure is logged and the login goes on: the password
 * was right. Resolves true when the hash was replaced.
 */
async function rehashAfterLogin(cfg, row, password, spent) {
  if (spent === cfg.bcryptCost) return false;
  try {
    var hash = await bcrypt.hash(password, cfg.bcryptCost);
    var result = await runQuery(
      cfg,
      "UPDATE " + usersTable(cfg) + " SET password_hash = $1 WHERE id = $2::uuid AND password_hash = $3",
      [hash, row.id, row.password_hash],
    );
    return result.rowCount > 0;
  } catch (err) {
    console.error(
      "auth0 custom database: login: the password of user " + row.id + " could not be rehashed at cost " + cfg.bcryptCost +
        " (" + describeFailure(err) + "); the login goes on",
    );
    return false;
  }
}

/** The row of an email (case-insensitive), or null. */
async function findUser(cfg, email, withHash) {
  var columns = withHash ? PROFILE_COLUMNS + ", password_hash" : PROFILE_COLUMNS;
  var result = await runQuery(cfg, "SELECT " + columns + " FROM " + usersTable(cfg) + " WHERE lower(email) = lower($1)", [email]);
  return result.rows.length > 0 ? result.rows[0] : null;
}

/** The Auth0 profile of a row: never the password hash. */
function toProfile(row) {
  var profile = {
    user_id: String(row.id),
    email: row.email,
    email_verified: row.email_verified === true,
    app_metadata: row.app_metadata || {},
    user_metadata: row.user_metadata || {},
  };
  if (row.nickname) profile.nickname = row.nickname;
  return profile;
}

/** A metadata object given to create, as JSON text for a jsonb column ({} when absent). */
function metadataJson(field, value) {
  if (value === undefined || value === null) return "{}";
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalid("invalid_" + field, "create: " + field + " must be an object");
  }
  return JSON.stringify(value);
}
