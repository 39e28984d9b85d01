/**
 * Shared set-up of the dynamic-provider tests: one fresh database per test file, with the Supabase
 * fixture (Vault and the Auth0 FDW functions), reached as a `PgConnectionInfo` the way the stack
 * hands it to the providers.
 */
import { connectionFromUrl, PgConnectionInfo } from "../../../infra/dynamic/connection";
import { createTestDatabase, installSupabaseFixture, query, TestDatabase } from "../../support/db";
import { freePort } from "../../support/embedded";

export interface ProviderDatabase {
    db: TestDatabase;
    connection: PgConnectionInfo;
    sql: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
}

export async function providerDatabase(serverUrl: string, label: string, options: { fixture?: boolean } = {}): Promise<ProviderDatabase> {
    const db = await createTestDatabase(serverUrl, label);
    if (options.fixture ?? true) await installSupabaseFixture(db.url);
    return { db, connection: connectionFromUrl(db.url), sql: (text, params = []) => query(db.url, text, params) };
}

/** A connection to a loopback port nothing listens on (the database is unreachable). */
export async function unreachable(connection: PgConnectionInfo): Promise<PgConnectionInfo> {
    return { ...connection, port: await freePort() };
}

/** What the engine sends for an input that is not known yet during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

