/**
 * The custom-database scripts under faults (test/faults, test/badinput, test/secrets): the users
 * table as rows to compare, a console that keeps what the scripts log, the error forms a database
 * failure may take, and a check that nothing secret got out.
 */
import bcrypt from "bcrypt";
import type { Pool } from "pg";
import { expect } from "vitest";
import { ident } from "../../infra/postgres/privileges";
import type { Auth0Sandbox } from "./auth0-sandbox";
import { scriptModule } from "./script-modules";
import { query, StackDatabase } from "./db";
import { isError, secretsIn } from "./custom-db-scripts";

export interface UserRow {
    id: string;
    email: string;
    password_hash: string;
    nickname: string | null;
    email_verified: boolean;
    app_metadata: unknown;
    user_metadata: unknown;
}

/** Every row of the users table, by email (superuser view, unaffected by RLS). */
export async function usersTable(stack: StackDatabase): Promise<UserRow[]> {
    const rows = await query(
        stack.db.url,
        `SELECT id::text AS id, email, password_hash, nickname, email_verified, app_metadata, user_metadata
         FROM ${ident(stack.schema)}.users ORDER BY email COLLATE "C"`,
    );
    return rows as unknown as UserRow[];
}

export async function rowOf(stack: StackDatabase, email: string): Promise<UserRow | undefined> {
    return (await usersTable(stack)).find((r) => r.email.toLowerCase() === email.toLowerCase());
}

/** Whether `password` matches the row's stored hash. */
export async function hashMatches(row: UserRow, password: string): Promise<boolean> {
    return await bcrypt.compare(password, row.password_hash);
}

export interface CapturedConsole {
    console: {
        log: (...a: unknown[]) => void;
        info: (...a: unknown[]) => void;
        warn: (...a: unknown[]) => void;
        error: (...a: unknown[]) => void;
        debug: (...a: unknown[]) => void;
    };
    lines: string[];
}

/** A console for the sandbox that keeps every line. */
export function capturingConsole(): CapturedConsole {
    const lines: string[] = [];
    const keep = (...args: unknown[]) => {
        lines.push(args.map((a) => (isError(a) ? `${a.name}: ${a.message}` : typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    };
    return { console: { log: keep, info: keep, warn: keep, error: keep, debug: keep }, lines };
}

/** The pg pool the scripts keep in their global. */
export function poolOf(sandbox: Auth0Sandbox): Pool {
    const state = (sandbox.context as { __auth0CustomDb?: { pool?: unknown } }).__auth0CustomDb;
    // The scripts' pg is the version they require, not the project's.
    const { Pool: ScriptPool } = scriptModule<typeof import("pg")>("pg", sandbox.scriptModules);
    if (!(state?.pool instanceof ScriptPool)) throw new Error("the scripts have no pool in global yet");
    return state.pool as Pool;
}

/** How a script reports that the database was unreachable or went away (never WrongUsernameOrPassword). */
export const DATABASE_FAILURE =
    /^(login|create|verify|change_password|get_user|delete) failed: (cannot reach the database \(|the database connection was lost \(|the database connection failed \(SQLSTATE (57P01|57P02|57P03|08\d\d\d))/;

/** Checks a callback error is a plain Error (not Auth0's credential or validation errors) with a message matching `form`, and carries no secret. */
export function expectCleanFailure(err: unknown, form: RegExp, stack: StackDatabase, extra: string[] = []): void {
    expect(isError(err), `expected an Error, got ${String(err)}`).toBe(true);
    const e = err as Error;
    expect(e.name).toBe("Error");
    expect(e.message).toMatch(form);
    expect(secretsIn(e.message, stack, extra)).toEqual([]);
}

export function messageOf(err: unknown): string {
    return isError(err) ? err.message : String(err);
}
