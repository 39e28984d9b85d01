/**
 * Shared set-up of the dynamic-provider tests: one fresh database per test file. With the Supabase
 * fixture (Vault and the Auth0 FDW functions), the providers connect as Supabase's `postgres` does:
 * a non-superuser holding exactly the grants Supabase gives it (`test/support/supabase.ts`);
 * without it, as the superuser. Either way reached as a `PgConnectionInfo`, the way the stack hands
 * it to the providers.
 */
import { connectionFromUrl, PgConnectionInfo } from "../../../infra/dynamic/connection";
import { createTestDatabase, query, TestDatabase } from "../../support/db";
import { freePort } from "../../support/embedded";
import { createSupabaseDatabase, SupabaseDatabase } from "../../support/supabase";

export interface ProviderDatabase {
    db: TestDatabase;
    /** With the fixture, the Supabase database and its admin. */
    supabase?: SupabaseDatabase;
    /** What the providers connect as: the admin with the fixture, the superuser without. */
    connection: PgConnectionInfo;
    /** The superuser: what supautils does for `postgres` (CREATE FOREIGN DATA WRAPPER), and the tests' own look at the catalog. */
    superuser: PgConnectionInfo;
    /** SQL as the superuser. */
    sql: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
    /** SQL as `connection`'s user. */
    asAdmin: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
}

export async function providerDatabase(serverUrl: string, label: string, options: { fixture?: boolean } = {}): Promise<ProviderDatabase> {
    const superuserSql =
        (url: string) =>
        (text: string, params: unknown[] = []) =>
            query(url, text, params);
    if (options.fixture ?? true) {
        const supabase = await createSupabaseDatabase(serverUrl, label);
        return {
            db: supabase,
            supabase,
            connection: supabase.admin.connection,
            superuser: connectionFromUrl(supabase.url),
            sql: superuserSql(supabase.url),
            asAdmin: (text, params = []) => query(supabase.admin.url, text, params),
        };
    }
    const db = await createTestDatabase(serverUrl, label);
    return { db, connection: connectionFromUrl(db.url), superuser: connectionFromUrl(db.url), sql: superuserSql(db.url), asAdmin: superuserSql(db.url) };
}

/** A connection to a loopback port nothing listens on (the database is unreachable). */
export async function unreachable(connection: PgConnectionInfo): Promise<PgConnectionInfo> {
    return { ...connection, port: await freePort() };
}

/** What the engine sends for an input that is not known yet during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
