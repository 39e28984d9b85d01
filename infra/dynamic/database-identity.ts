import type { ClientBase } from "pg";
import { PgConnectionInfo, withClient } from "./connection";

/**
 * Which database a connection reaches, whatever address it goes through: the direct host and
 * Supabase's pooler reach the same database, so a new host or port alone must not replace what
 * lives in it (its replacement would be created next to it, under the same name, and fail).
 *
 * Serialized into the providers' text like `common.ts`: plain functions over plain values only.
 */

/**
 * The identity of the connected database: the cluster's system identifier (`pg_control_system()`,
 * fixed when the cluster was initialised; a restore into another server has another) and the
 * database's oid. Undefined when the server does not let this role read it.
 */
export async function databaseIdentity(client: ClientBase): Promise<string | undefined> {
    try {
        const res = await client.query<{ id: string }>(
            "SELECT (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) || '/' || (SELECT oid::text FROM pg_catalog.pg_database WHERE datname = current_database()) AS id",
        );
        return res.rows[0]?.id ?? undefined;
    } catch {
        return undefined;
    }
}

/** The identity of the database `connection` reaches, or undefined when it cannot be reached (a preview without access) or read. */
export async function identityIfReachable(connection: PgConnectionInfo): Promise<string | undefined> {
    try {
        return await withClient(connection, databaseIdentity);
    } catch {
        return undefined;
    }
}

/** Whether two connections name the same address: host, port and database (credentials may differ). */
export function sameAddress(a: PgConnectionInfo | undefined, b: PgConnectionInfo | undefined): boolean {
    if (!a || !b) return false;
    return a.host === b.host && Number(a.port) === Number(b.port) && a.database === b.database;
}

/**
 * Whether `after` reaches another database than the one a resource lives in, which `before` (the
 * state's connection) reached and `recorded` (the state's {@link databaseIdentity}, if any) names.
 *
 * The same address is the same database. Otherwise the identities decide when both can be known
 * (the recorded one or one read through `before`, and one read through `after`): the engine runs
 * the diff again during `up`, where the database is reachable. When one cannot be known (a preview
 * without access to the database, or a server that keeps `pg_control_system()` from this role) the
 * database name decides: a new host or port alone is taken for a new way to the same database.
 */
export async function reachesAnotherDatabase(recorded: string | undefined, before: PgConnectionInfo | undefined, after: PgConnectionInfo): Promise<boolean> {
    if (sameAddress(before, after)) return false;
    const now = await identityIfReachable(after);
    const then = recorded ?? (before ? await identityIfReachable(before) : undefined);
    if (now !== undefined && then !== undefined) return now !== then;
    return before?.database !== after.database;
}
