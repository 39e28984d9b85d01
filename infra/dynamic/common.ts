import { SSL_MODES } from "../config/constants";
import { PG_IDENTIFIER } from "../config/schema";
import { PgConnectionInfo, withClient } from "./connection";
import { ident } from "../postgres/privileges";
import { Problem, problem, problemText } from "./problems";

/**
 * Helpers shared by the dynamic providers (unknown values, connection and name checks, errors), and
 * the SQL quoting the Postgres side and the Auth0 foreign-data module use.
 *
 * Everything here is serialized into each provider's text by Pulumi's closure serializer (see
 * README.md here, and `test/serialization`): keep it to plain functions over plain values. No
 * classes (the serializer drops the prototype chain of a class that extends a built-in, so such
 * errors lose their message), no `import()`, no module-level state, and never a secret.
 */

/** The value the engine sends, during a preview, for an input that is not known yet (`runtime/rpc` `unknownValue`). */
const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Whether `value` is, or contains, a value the engine does not know yet (a preview of a computed input). */
export function containsUnknown(value: unknown): boolean {
    if (value === UNKNOWN_VALUE) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
    return false;
}

/** Structural equality of JSON-like values (what the engine hands a provider). Key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
    }
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
        const ka = Object.keys(a)
            .filter((k) => (a as Record<string, unknown>)[k] !== undefined)
            .sort();
        const kb = Object.keys(b)
            .filter((k) => (b as Record<string, unknown>)[k] !== undefined)
            .sort();
        return sameValue(ka, kb) && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
    }
    return false;
}

/**
 * Problems with a connection input, each naming the field. Never quotes the password. An unknown
 * connection (preview) has no problems yet.
 */
export function connectionProblems(value: unknown, property = "connection"): Problem[] {
    if (containsUnknown(value)) return [];
    if (value === null || typeof value !== "object") return [problem(property, "required, an object with host, port, database, user, password and sslMode")];
    const c = value as Record<string, unknown>;
    const problems: Problem[] = [];
    for (const key of ["host", "database", "user"]) {
        if (typeof c[key] !== "string" || c[key] === "") problems.push(problem(`${property}.${key}`, "required, a non-empty string"));
    }
    if (typeof c.password !== "string") problems.push(problem(`${property}.password`, "required, a string"));
    const port = Number(c.port);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) problems.push(problem(`${property}.port`, "must be an integer from 1 to 65535"));
    if (!(SSL_MODES as readonly string[]).includes(String(c.sslMode))) {
        problems.push(problem(`${property}.sslMode`, `must be one of ${SSL_MODES.join(", ")}`));
    }
    if (c.caCertificate !== undefined && (typeof c.caCertificate !== "string" || !c.caCertificate.includes("-----BEGIN CERTIFICATE-----"))) {
        problems.push(problem(`${property}.caCertificate`, "must be PEM text of one or more certificates"));
    }
    if (c.tlsServerName !== undefined && (typeof c.tlsServerName !== "string" || c.tlsServerName === "")) {
        problems.push(problem(`${property}.tlsServerName`, "must be a non-empty host name"));
    }
    return problems;
}

/** A problem with an identifier input, or undefined. Unknown values pass (they are checked once known). */
export function identifierProblem(property: string, value: unknown): Problem | undefined {
    if (containsUnknown(value)) return undefined;
    if (typeof value !== "string" || !PG_IDENTIFIER.test(value)) {
        return problem(property, `must be a lower-case Postgres identifier matching ${PG_IDENTIFIER} (got ${JSON.stringify(value)})`);
    }
    return undefined;
}

/**
 * Quotes a string as a SQL literal the way lib/pq's `QuoteLiteral` does (which the postgresql
 * provider uses): quotes doubled, and when there is a backslash, backslashes doubled inside an
 * `E'...'` string, so the result means the same whatever `standard_conforming_strings` says.
 */
export function quoteLiteral(value: string): string {
    if (typeof value !== "string") throw new Error(`cannot quote a ${typeof value} as a SQL literal`);
    if (value.includes("\u0000")) throw new Error("a SQL literal cannot contain a NUL character");
    const quoted = value.replace(/'/g, "''");
    return quoted.includes("\\") ? ` E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

/** Quotes a possibly schema-qualified name (`schema.name`), each part checked and quoted. */
export function qualifiedIdent(property: string, name: string): string {
    const found = qualifiedNameProblem(property, name, false);
    if (found) throw new Error(problemText(found));
    return name.split(".").map(ident).join(".");
}

/** A problem with a (schema-qualified when `requireSchema`) name, or undefined. */
export function qualifiedNameProblem(property: string, value: unknown, requireSchema: boolean): Problem | undefined {
    if (containsUnknown(value)) return undefined;
    const parts = typeof value === "string" ? value.split(".") : [];
    const ok = parts.length === 2 || (!requireSchema && parts.length === 1);
    if (!ok || !parts.every((p) => PG_IDENTIFIER.test(p))) {
        return problem(
            property,
            `must be ${requireSchema ? "a schema-qualified name such as extensions.auth0_fdw_handler" : "a name or schema.name"}, each part a lower-case Postgres identifier (got ${JSON.stringify(value)})`,
        );
    }
    return undefined;
}

/** The `OPTIONS (...)` list of a CREATE statement: keys quoted as identifiers, values as literals, in key order. */
export function optionsSql(options: Record<string, string>): string {
    const keys = Object.keys(options).sort();
    return keys.map((k) => `${ident(k)} ${quoteLiteral(options[k]!)}`).join(", ");
}

/** Parses a catalog options array (`{key=value,...}`, e.g. `ftoptions`) into a record; values may contain `=`. */
export function parseCatalogOptions(options: string[] | null | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of options ?? []) {
        const at = entry.indexOf("=");
        if (at > 0) out[entry.slice(0, at)] = entry.slice(at + 1);
    }
    return out;
}

/**
 * A real `Error` with the message of whatever was thrown. Errors of classes the closure serializer
 * rebuilt may not be `Error` instances any more; the dynamic-provider host reads `.message`.
 */
export function asError(err: unknown, context: string): Error {
    const e = err as { message?: unknown; name?: unknown; code?: unknown } | null;
    const message = e && typeof e.message === "string" && e.message !== "" ? e.message : String(err);
    // pg's errors are named "error": only a specific name (MigrationError, ...) says something.
    const name = e && typeof e.name === "string" && !/^(error)?$/i.test(e.name) ? `${e.name}: ` : "";
    return new Error(`${context}: ${name}${message}`);
}

/** The SQLSTATE of a pg error, if any. */
export function sqlState(err: unknown): string | undefined {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === "string" ? code : undefined;
}

/**
 * Runs one statement on its own connection. A failure becomes an Error that starts with `context`;
 * a drop that dependent objects block (SQLSTATE 2BP01) is explained by `blocked`, given the
 * dependents Postgres lists as " (...)" (or "").
 */
export async function execute(
    connection: PgConnectionInfo,
    context: string,
    sql: string,
    params: unknown[] = [],
    blocked?: (dependents: string) => string,
): Promise<void> {
    try {
        await withClient(connection, (client) => client.query(sql, params));
    } catch (err) {
        if (blocked && sqlState(err) === "2BP01") {
            const detail = (err as { detail?: string }).detail;
            throw new Error(blocked(detail ? ` (${detail.replace(/\n/g, "; ")})` : ""));
        }
        throw asError(err, context);
    }
}
