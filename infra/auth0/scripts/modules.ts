/**
 * The npm modules the custom-database scripts require, and at which versions.
 *
 * Auth0 runs the scripts in its own sandbox, with its own catalogue of npm modules ("Can I
 * require", https://auth0-extensions.github.io/canirequire/). `require("pg")` there gets Auth0's
 * default version of `pg`, which can be years older than the API the scripts use; only
 * `require("pg@8.11.3")` names the version. So every non-core module the scripts require is
 * written `require("<name>@{{version}}")` in the sources, and the assembler fills in the version
 * from the stack config (`customDb.modules.<name>`, defaults below). The result is checked: the
 * uploaded text has no unversioned require of a non-core module.
 *
 * Defaults, and why (see the README, "Modules the custom-database scripts require"):
 * - pg 8.11.3: `Pool` with `connectionTimeoutMillis`, `statement_timeout`, `query_timeout`,
 *   `keepAlive`; pinned by published Auth0 custom-database scripts.
 * - bcrypt 5.0.1: promise and callback `hash`/`compare`, `$2b$` hashes; pinned by published Auth0
 *   custom-database scripts (with pg 8.7.1).
 */
import { isBuiltin } from "node:module";

/** The modules the scripts may require besides Node's own, under their config keys. */
export const SCRIPT_MODULES = ["pg", "bcrypt"] as const;
export type ScriptModuleName = (typeof SCRIPT_MODULES)[number];
export type ScriptModuleVersions = Record<ScriptModuleName, string>;

/** The versions used unless the stack sets `customDb.modules.<name>`. */
export const DEFAULT_SCRIPT_MODULE_VERSIONS: Readonly<ScriptModuleVersions> = Object.freeze({ pg: "8.11.3", bcrypt: "5.0.1" });

/** An exact npm version (no range, tag or `v`): MAJOR.MINOR.PATCH with an optional pre-release. */
export const EXACT_VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** What the sources write where the configured version goes: `require("pg@{{version}}")`. */
export const VERSION_PLACEHOLDER = "{{version}}";

const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** `name@version` (the version exact) as `{ name, version }`, or null for anything else. */
export function parseVersionedId(id: string): { name: string; version: string } | null {
    const at = id.lastIndexOf("@");
    if (at <= 0) return null;
    const name = id.slice(0, at);
    const version = id.slice(at + 1);
    return PACKAGE_NAME.test(name) && EXACT_VERSION.test(version) ? { name, version } : null;
}

/** One `require(...)` in a source: the module id when it is a string literal, null otherwise. */
export interface RequireCall {
    id: string | null;
    line: number;
}

const REQUIRE_CALL = /\brequire\s*\(\s*(?:(["'])([^"'\\\n]*)\1\s*\)|(`)([^`\\$\n]*)`\s*\)|)/g;

/** Every `require(` in `source` (comments included: a commented-out require is still reported). */
export function requireCalls(source: string): RequireCall[] {
    const calls: RequireCall[] = [];
    source.split(/\r?\n/).forEach((text, i) => {
        for (const m of text.matchAll(REQUIRE_CALL)) {
            const id = m[2] ?? m[4];
            calls.push({ id: id ?? null, line: i + 1 });
        }
    });
    return calls;
}

/** Why a required id would not give the scripts a known version in Auth0's sandbox, or null when it does. */
export function unpinnedReason(id: string | null): string | null {
    if (id === null) return "a require whose argument is not a string literal (its module and version cannot be checked)";
    if (isBuiltin(id)) return null;
    if (parseVersionedId(id)) return null;
    return `require("${id}") without an exact version (Auth0 would load its default version of it)`;
}

/**
 * Puts the configured version into each `require("<name>@{{version}}")` of `text`, then checks
 * that every require is a Node core module or `name@exact-version`. Throws naming `where`, the
 * line and what to write instead.
 */
export function pinScriptModules(where: string, text: string, versions: Readonly<ScriptModuleVersions>): string {
    const problems: string[] = [];
    for (const name of SCRIPT_MODULES) {
        if (!EXACT_VERSION.test(versions[name] ?? ""))
            problems.push(`the version of ${name} must be exact, such as 1.2.3 (got ${JSON.stringify(versions[name])})`);
    }
    if (problems.length > 0) throw new Error(`custom-database script ${where}: ${problems.join("; ")}`);
    const placeholder = /(\brequire\s*\(\s*)(["'])([^"'\\\n]*)@\{\{version\}\}\2/g;
    const pinned = text.replace(placeholder, (whole, head: string, quote: string, name: string) => {
        if (!(SCRIPT_MODULES as readonly string[]).includes(name)) {
            problems.push(`require("${name}@${VERSION_PLACEHOLDER}") names a module with no configured version (known: ${SCRIPT_MODULES.join(", ")})`);
            return whole;
        }
        return `${head}${quote}${name}@${versions[name as ScriptModuleName]}${quote}`;
    });
    for (const call of requireCalls(pinned)) {
        const reason = call.id !== null && call.id.includes(VERSION_PLACEHOLDER) ? null : unpinnedReason(call.id);
        if (reason)
            problems.push(`line ${call.line}: ${reason}; write require("<name>@${VERSION_PLACEHOLDER}") and give the module a version in customDb.modules`);
    }
    if (problems.length > 0) throw new Error(`custom-database script ${where}: ${problems.join("; ")}`);
    return pinned;
}
