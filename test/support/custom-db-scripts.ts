/**
 * Running the custom-database scripts against a stack database: their configuration, and checks that
 * what they hand back holds no secret. (The fault tests' own helpers: `custom-db-faults.ts`.)
 */
import { scriptConfiguration, ScriptConfigurationArgs } from "../../infra/auth0/scripts";
import type { StackDatabase } from "./db";

/** The scripts' configuration for a stack database, logging in as the scripts role (bcrypt cost 4 unless told). */
export function configFor(stack: StackDatabase, overrides: Partial<ScriptConfigurationArgs> = {}): Record<string, string> {
    return scriptConfiguration({
        dbUrl: stack.urlFor("scripts"),
        ssl: "disable",
        bcryptCost: 4,
        poolMax: 5,
        connectTimeoutMs: 5_000,
        statementTimeoutMs: 5_000,
        schema: stack.schema,
        ...overrides,
    });
}

/** Fails when a value handed back by a script holds a password, a hash or the database credentials. */
export function secretsIn(value: unknown, stack: StackDatabase, extra: string[] = []): string[] {
    const text =
        typeof value === "string" ? value : (JSON.stringify(value, (_k, v: unknown) => (isError(v) ? { ...v, name: v.name, message: v.message } : v)) ?? "");
    const needles = [stack.roles.scripts.password, stack.urlFor("scripts"), "password_hash", "$2a$", "$2b$", "$2y$", ...extra];
    return needles.filter((n) => n && text.includes(n));
}

/** An Error of any realm (the scripts' errors come from the sandbox's own Error). */
export function isError(value: unknown): value is Error & Record<string, unknown> {
    return Object.prototype.toString.call(value) === "[object Error]";
}
