import { createRequire } from "node:module";
/**
 * The scripts run on exactly the module versions the stacks configure (`customDb.modules`), as
 * Auth0 would load them: each installed under its npm alias, resolved by `name@version`, and an
 * unversioned require of a package (Auth0's default version) failing the script's run.
 */
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCRIPT_MODULE_VERSIONS, requireCalls, SCRIPT_MODULES } from "../../infra/auth0/scripts";
import { createSandbox, invokeWithCallback } from "../support/auth0-sandbox";
import { aliasFor, aliasOf, committedScriptModules, committedStacks, requireScriptModule, scriptModule, stackScriptModules } from "../support/script-modules";

/** The project's require: these tests resolve packages by computed names (the npm aliases). */
const load = createRequire(__filename);

const configuration = {
    DB_URL: "postgres://u:p@127.0.0.1:1/db",
    DB_SSL: "disable",
    BCRYPT_COST: "4",
    DB_POOL_MAX: "1",
    DB_CONNECT_TIMEOUT_MS: "100",
    DB_STATEMENT_TIMEOUT_MS: "100",
    DB_SCHEMA: "auth0_app",
};

describe("the versions the stacks configure", () => {
    it("are read from every committed stack, and are the ones the test sandbox runs", () => {
        expect(committedStacks()).toEqual(["dev", "local", "prod", "staging"]);
        for (const stack of committedStacks()) expect(stackScriptModules(stack), stack).toEqual(committedScriptModules());
        const s = createSandbox(configuration);
        expect(s.scriptModules).toEqual(committedScriptModules());
        // What the sandbox compiled is what it was given: the uploaded text requires those versions.
        const ids = requireCalls(s.compiled("login").toString()).map((c) => c.id);
        expect(ids).toEqual([`pg@${s.scriptModules.pg}`, `bcrypt@${s.scriptModules.bcrypt}`, "crypto", "tls"]);
    });

    it.each(SCRIPT_MODULES)("%s: each stack's version is installed under its alias, as that exact package and version", (name) => {
        for (const stack of committedStacks()) {
            const version = stackScriptModules(stack)[name];
            expect(aliasFor(name, version)).toBe(aliasOf(name, version));
            expect(scriptModule(name, stackScriptModules(stack))).toBe(requireScriptModule(`${name}@${version}`));
            expect(load(`${aliasOf(name, version)}/package.json`) as { name: string; version: string }).toMatchObject({ name, version });
        }
    });

    it("the project's own pg and bcrypt are other versions: a test that resolved bare names would not run what Auth0 runs", () => {
        const own = {
            pg: (load("pg/package.json") as { version: string }).version,
            bcrypt: (load("bcrypt/package.json") as { version: string }).version,
        };
        expect(own.pg).not.toBe(DEFAULT_SCRIPT_MODULE_VERSIONS.pg);
        expect(own.bcrypt).not.toBe(DEFAULT_SCRIPT_MODULE_VERSIONS.bcrypt);
        expect(scriptModule("pg")).not.toBe(load("pg"));
        expect(scriptModule("bcrypt")).not.toBe(load("bcrypt"));
    });
});

describe("a version that is not installed", () => {
    it("fails createSandbox, naming the config key, the version and the line to add to package.json", () => {
        expect(() => createSandbox(configuration, { scriptModules: { ...committedScriptModules(), pg: "9.9.9" } })).toThrow(
            'the test sandbox cannot run the scripts on the configured modules: customDb.modules.pg is 9.9.9, but it is not installed for the tests under the alias pg-9.9.9; add "pg-9.9.9": "npm:pg@9.9.9" to devDependencies in package.json and run npm install',
        );
        expect(() => createSandbox(configuration, { scriptModules: { pg: "9.9.9", bcrypt: "0.8.5" } })).toThrow(
            /customDb\.modules\.pg is 9\.9\.9, .*; customDb\.modules\.bcrypt is 0\.8\.5, but it is not installed for the tests under the alias bcrypt-0\.8\.5/,
        );
    });
});

describe("a script that would get Auth0's default version", () => {
    it("fails its run: an unversioned require throws in the sandbox, so the script never calls back", async () => {
        const s = createSandbox(configuration);
        for (const [id, error] of [
            ["pg", "Cannot find module 'pg': a custom-database script must require a non-core module at an exact version"],
            ["bcrypt@5", "Cannot find module 'bcrypt@5': a custom-database script must require a non-core module at an exact version"],
            ["pg@8.7.1", "Cannot find module 'pg@8.7.1': it is not installed for the tests under the alias pg-8.7.1"],
        ]) {
            const fn = vm.runInContext(
                `(function login(email, password, callback) { var pg = require(${JSON.stringify(id)}); callback(null, { user_id: "1" }); })`,
                s.context,
            ) as (...a: unknown[]) => unknown;
            await expect(invokeWithCallback(fn, ["a@example.com", "pw"], { label: "login", timeoutMs: 1000, onLateCall: () => undefined })).rejects.toThrow(
                `login threw instead of calling back: ${error}`,
            );
        }
        await s.close();
    });
});
