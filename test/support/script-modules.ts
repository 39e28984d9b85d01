/**
 * The npm modules of the custom-database scripts, as the test sandbox resolves them.
 *
 * In Auth0 a script's `require("pg@8.11.3")` gets that version from Auth0's catalogue, and an
 * unversioned `require("pg")` gets Auth0's default version, whatever it is. The tests mimic that:
 * the versions the stacks configure (`customDb.modules`) are installed under npm aliases
 * (`"pg-8.11.3": "npm:pg@8.11.3"` in devDependencies), `name@version` resolves to the alias
 * `name-version`, Node's core modules resolve as they are, and anything else (an unversioned
 * package, a version not installed, a path) throws, so a script that would get Auth0's default
 * fails its test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { parseVersionedId, SCRIPT_MODULES, ScriptModuleName, ScriptModuleVersions } from "../../infra/auth0/scripts";
import { rawConfigSchema } from "../../infra/config/schema";

const ROOT = join(__dirname, "..", "..");
const STACKS_DIR = join(ROOT, "stacks");
const PROJECT = "auth0-postgres";
const projectRequire = createRequire(join(ROOT, "package.json"));

/** The npm alias the tests install `name@version` under: `pg@8.11.3` is `pg-8.11.3`. */
export function aliasOf(name: string, version: string): string {
    return `${name}-${version}`;
}

function notFound(message: string): Error {
    const error = new Error(message) as Error & { code: string };
    error.code = "MODULE_NOT_FOUND";
    return error;
}

/**
 * The alias package installed for `name@version`. Throws, naming the module and the line to add
 * to package.json, when it is not installed or is another package or version.
 */
export function aliasFor(name: string, version: string): string {
    const alias = aliasOf(name, version);
    const fix = `add "${alias}": "npm:${name}@${version}" to devDependencies in package.json and run npm install`;
    let manifestPath: string;
    try {
        manifestPath = projectRequire.resolve(`${alias}/package.json`);
    } catch {
        throw notFound(`Cannot find module '${name}@${version}': it is not installed for the tests under the alias ${alias}; ${fix}`);
    }
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { name?: unknown; version?: unknown };
    if (manifest.name !== name || manifest.version !== version) {
        throw notFound(`Cannot find module '${name}@${version}': node_modules/${alias} holds ${String(manifest.name)}@${String(manifest.version)}; ${fix}`);
    }
    return alias;
}

/**
 * What a custom-database script gets for `require(id)` in the test sandbox: a Node core module,
 * or `name@version` from its alias. An unversioned package, a range or tag, or a path throws.
 */
export function requireScriptModule(id: unknown): unknown {
    if (typeof id !== "string") throw new TypeError(`require() takes a module name (got ${typeof id})`);
    if (isBuiltin(id)) return projectRequire(id);
    const versioned = parseVersionedId(id);
    if (!versioned) {
        throw notFound(
            `Cannot find module '${id}': a custom-database script must require a non-core module at an exact version, as require("<name>@<version>"); unversioned, Auth0 would give it its default version`,
        );
    }
    return projectRequire(aliasFor(versioned.name, versioned.version));
}

/** The `customDb.modules` of one committed stack file, defaults applied by the config schema. */
export function stackScriptModules(stack: string): ScriptModuleVersions {
    const file = join(STACKS_DIR, `Pulumi.${stack}.yaml`);
    const doc = yaml.load(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | undefined;
    const parsed = rawConfigSchema.shape.customDb.safeParse(doc?.config?.[`${PROJECT}:customDb`] ?? undefined);
    if (!parsed.success)
        throw new Error(
            `stacks/Pulumi.${stack}.yaml: ${PROJECT}:customDb is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
    return parsed.data.modules;
}

/** The committed stacks (`stacks/Pulumi.<stack>.yaml`). */
export function committedStacks(): string[] {
    return readdirSync(STACKS_DIR)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/**
 * The versions the committed stacks give the scripts: what the tests and the benchmark run them
 * on. Throws when the stacks disagree, since one run of the suite covers one set of versions.
 */
export function committedScriptModules(): ScriptModuleVersions {
    const byStack = committedStacks().map((stack) => [stack, stackScriptModules(stack)] as const);
    if (byStack.length === 0) throw new Error("no stacks/Pulumi.<stack>.yaml found");
    const [first, ...rest] = byStack;
    for (const [stack, modules] of rest) {
        for (const name of SCRIPT_MODULES) {
            if (modules[name] !== first[1][name]) {
                throw new Error(
                    `stacks disagree on customDb.modules.${name} (${first[0]}: ${first[1][name]}, ${stack}: ${modules[name]}); the script tests run one version per module, so pass scriptModules to createSandbox per stack`,
                );
            }
        }
    }
    return { ...first[1] };
}

/** Checks each configured version is installed under its alias; throws naming the config key and the fix. */
export function assertScriptModulesInstalled(versions: Readonly<ScriptModuleVersions>): void {
    const problems: string[] = [];
    for (const name of SCRIPT_MODULES) {
        try {
            aliasFor(name, versions[name]);
        } catch (err) {
            problems.push(`customDb.modules.${name} is ${versions[name]}, but ${(err as Error).message.replace(/^Cannot find module '[^']*': /, "")}`);
        }
    }
    if (problems.length > 0) throw new Error(`the test sandbox cannot run the scripts on the configured modules: ${problems.join("; ")}`);
}

/** Module `name` at the version the scripts require (by default the committed stacks' version), from its alias. */
export function scriptModule<T = unknown>(name: ScriptModuleName, versions: Readonly<ScriptModuleVersions> = committedScriptModules()): T {
    return projectRequire(aliasFor(name, versions[name])) as T;
}
