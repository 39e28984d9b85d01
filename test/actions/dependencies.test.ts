/**
 * Each post-login Action requires only Node's core modules and the npm packages it declares in
 * `dependencies` (what Auth0 installs for it), each declared at the exact version the action
 * runner loads in the tests. So what the tests execute is what Auth0 would install.
 */
import { readFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIONS, ActionSpec } from "../../infra/auth0/actions";
import { EXACT_VERSION, requireCalls } from "../../infra/auth0/scripts";
import { loadAction } from "../support/action-runner";

/** Resolves from the project root, as the action runner does. */
const projectRequire = createRequire(join(__dirname, "..", "..", "package.json"));

/** The package of a module id: `pg` for `pg/lib/x`, `@scope/name` for `@scope/name/x`. */
function packageOf(id: string): string {
    return id.startsWith("@") ? id.split("/").slice(0, 2).join("/") : id.split("/")[0]!;
}

/** The version of `name` the action runner loads (node_modules, from the project root). */
function runnerVersion(name: string): string | undefined {
    try {
        return (JSON.parse(readFileSync(projectRequire.resolve(`${name}/package.json`), "utf8")) as { version: string }).version;
    } catch {
        return undefined;
    }
}

/** What is wrong with an Action's requires and dependencies, one line each (empty when nothing). */
function dependencyProblems(spec: ActionSpec): string[] {
    const problems: string[] = [];
    const declared = new Map(spec.dependencies.map((d) => [d.name, d.version]));
    const used = new Set<string>();
    for (const { id, line } of requireCalls(spec.code)) {
        if (id === null) {
            problems.push(`line ${line}: a require whose argument is not a string literal`);
            continue;
        }
        if (isBuiltin(id)) continue;
        const name = packageOf(id);
        used.add(name);
        if (!declared.has(name)) problems.push(`line ${line}: requires "${id}" but does not declare ${name} in dependencies`);
    }
    for (const [name, version] of declared) {
        if (!EXACT_VERSION.test(version)) problems.push(`declares ${name}@${version}, not an exact version`);
        const installed = runnerVersion(name);
        if (installed !== version) problems.push(`declares ${name}@${version} but the tests run ${name}@${installed ?? "(not installed)"}`);
        if (!used.has(name)) problems.push(`declares ${name} but never requires it`);
    }
    return problems;
}

const spec = (code: string, dependencies: ActionSpec["dependencies"] = []): ActionSpec => ({
    key: "profile-defaults",
    name: "t",
    code,
    dependencies,
    secretNames: [],
});

describe("the Actions' requires and dependencies", () => {
    it.each(ACTIONS.map((a) => [a.key, a] as const))(
        "%s requires only core modules and its declared dependencies, each at the version the tests run",
        (_key, action) => {
            expect(dependencyProblems(action)).toEqual([]);
        },
    );

    it("user-sync requires pg, declared at the installed version, and the runner hands it exactly that pg", async () => {
        const action = ACTIONS.find((a) => a.key === "user-sync")!;
        expect(requireCalls(action.code).map((c) => c.id)).toEqual(["pg"]);
        const seen: Record<string, unknown> = {};
        const loaded = loadAction(action, { interceptModule: (name, exports) => ((seen[name] = exports), exports) });
        expect(loaded.required).toEqual(["pg"]);
        expect(seen.pg).toBe(projectRequire("pg"));
        expect(action.dependencies).toEqual([{ name: "pg", version: runnerVersion("pg") }]);
    });

    it("the check fails for an undeclared package, a computed require, a version that is not the one the tests run, and an unused declaration", () => {
        expect(dependencyProblems(spec('const z = require("node:crypto"); const fs = require("fs");'))).toEqual([]);
        expect(dependencyProblems(spec('const z = require("zod");\nconst m = require(name);'))).toEqual([
            'line 1: requires "zod" but does not declare zod in dependencies',
            "line 2: a require whose argument is not a string literal",
        ]);
        expect(dependencyProblems(spec('const { Pool } = require("pg/lib/index.js");', [{ name: "pg", version: "8.7.1" }]))).toEqual([
            `declares pg@8.7.1 but the tests run pg@${runnerVersion("pg")}`,
        ]);
        expect(dependencyProblems(spec("exports.x = 1;", [{ name: "pg", version: "^8.0.0" }]))).toEqual([
            "declares pg@^8.0.0, not an exact version",
            `declares pg@^8.0.0 but the tests run pg@${runnerVersion("pg")}`,
            "declares pg but never requires it",
        ]);
    });
});
