import type { ClientBase } from "pg";
import { Problem, problem } from "./problems";
import { PgConnectionInfo, withClient } from "./connection";

/**
 * The version of a Postgres extension a resource depends on, read from the catalog at preview.
 * Serialized into the providers' text like `common.ts`: plain functions over plain values only.
 */

/** An extension a resource needs, from a version on. */
export interface RequiredExtension {
    /** The extension's name, e.g. `wrappers`. */
    name: string;
    /** The oldest version that works, e.g. `0.4.6`. */
    minVersion: string;
    /** Why older versions do not work: shown in the failure. */
    reason?: string;
}

/** `0.4.6` → [0, 4, 6]; a suffix (`0.5.0-rc1`) and anything after it is ignored. */
export function versionParts(version: string): number[] {
    const parts: number[] = [];
    for (const part of version.split(".")) {
        const m = /^(\d+)/.exec(part);
        if (!m) break;
        parts.push(Number(m[1]));
        if (m[1]!.length !== part.length) break;
    }
    return parts;
}

/** Whether version `a` is older than `b` (missing parts count as 0). */
export function versionOlderThan(a: string, b: string): boolean {
    const x = versionParts(a);
    const y = versionParts(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const d = (x[i] ?? 0) - (y[i] ?? 0);
        if (d !== 0) return d < 0;
    }
    return false;
}

/** Problems with a {@link RequiredExtension} input, each naming the field (`property`). */
export function requiredExtensionProblems(value: unknown, property: string): Problem[] {
    if (value === undefined) return [];
    const v = value as Partial<RequiredExtension> | null;
    const problems: Problem[] = [];
    if (!v || typeof v !== "object") return [problem(property, "must be an object with name and minVersion")];
    if (typeof v.name !== "string" || !/^[a-z_][a-z0-9_]*$/.test(v.name)) problems.push(problem(`${property}.name`, "must be an extension name"));
    if (typeof v.minVersion !== "string" || versionParts(v.minVersion).length === 0)
        problems.push(problem(`${property}.minVersion`, "must be a version such as 0.4.6"));
    if (v.reason !== undefined && typeof v.reason !== "string") problems.push(problem(`${property}.reason`, "must be a string"));
    return problems;
}

/** The installed version of extension `name`, and the version CREATE EXTENSION would install. */
export async function extensionVersions(client: ClientBase, name: string): Promise<{ installed?: string; available?: string }> {
    const res = await client.query<{ installed: string | null; available: string | null }>(
        `SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = $1) AS installed,
                (SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = $1) AS available`,
        [name],
    );
    const row = res.rows[0];
    return { installed: row?.installed ?? undefined, available: row?.available ?? undefined };
}

/** Why the database's version of the extension will not do for `what`, or undefined. */
export function extensionVersionProblem(
    property: string,
    what: string,
    req: RequiredExtension,
    found: { installed?: string; available?: string },
): Problem | undefined {
    const needs = `${what} needs ${req.name} ${req.minVersion} or later${req.reason ? ` (${req.reason})` : ""}`;
    const update = `update it first (ALTER EXTENSION ${req.name} UPDATE; on Supabase a project gets newer extensions with a newer Postgres image: Project Settings > Infrastructure)`;
    if (found.installed !== undefined) {
        return versionOlderThan(found.installed, req.minVersion)
            ? problem(property, `${req.name} ${found.installed} is installed; ${needs}: ${update}`)
            : undefined;
    }
    if (found.available !== undefined) {
        return versionOlderThan(found.available, req.minVersion)
            ? problem(property, `${req.name} is not installed, and CREATE EXTENSION would install ${found.available} on this server; ${needs}`)
            : undefined;
    }
    return problem(property, `${req.name} is neither installed nor available on this server; ${needs}`);
}

/**
 * The extension-version problem for a resource's database, or undefined: also when the database
 * cannot be reached (a preview without access; `create` checks again).
 */
export async function extensionVersionProblemIfReachable(
    connection: PgConnectionInfo,
    property: string,
    what: string,
    req: RequiredExtension,
): Promise<Problem | undefined> {
    let found: { installed?: string; available?: string };
    try {
        found = await withClient(connection, (client) => extensionVersions(client, req.name));
    } catch {
        return undefined;
    }
    return extensionVersionProblem(property, what, req, found);
}
