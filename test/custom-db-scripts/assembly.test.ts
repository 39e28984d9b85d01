import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import {
    assembleScript,
    customDbScripts,
    SCRIPT_CONFIGURATION_KEYS,
    SCRIPT_NAMES,
    SCRIPT_SIGNATURES,
    scriptConfiguration,
    ScriptConfigurationArgs,
    SCRIPTS_DIR,
    sharedCode,
    SHARED_CODE_MARKER,
    DEFAULT_SCRIPT_MODULE_VERSIONS,
    pinScriptModules,
    requireCalls,
    unpinnedReason,
} from "../../infra/auth0/scripts";

const scripts = customDbScripts();
const shared = sharedCode();

function occurrences(text: string, needle: string): number {
    return text.split(needle).length - 1;
}

describe("customDbScripts", () => {
    it("has exactly Auth0's six script keys", () => {
        expect(Object.keys(scripts).sort()).toEqual([...SCRIPT_NAMES].sort());
        expect([...SCRIPT_NAMES].sort()).toEqual(["change_password", "create", "delete", "get_user", "login", "verify"]);
    });

    it.each(SCRIPT_NAMES)("%s is one function declaration, with Auth0's name and parameters, that parses on its own", (name) => {
        const text = scripts[name];
        const { functionName, params } = SCRIPT_SIGNATURES[name];
        // Parenthesized, anything besides one function would be a syntax error.
        expect(() => new vm.Script("(" + text + ")")).not.toThrow();
        const fn: unknown = vm.runInNewContext("(" + text + ")");
        expect(typeof fn).toBe("function");
        expect((fn as { name: string }).name).toBe(functionName);
        expect((fn as { length: number }).length).toBe(params.length);
        // As a script, it declares that function and nothing else.
        const context = vm.createContext({});
        vm.runInContext(text, context);
        expect(Object.keys(context)).toEqual([functionName]);
        expect(typeof context[functionName]).toBe("function");
        expect(text.startsWith(`function ${functionName}(${params.join(", ")}) {`)).toBe(true);
    });

    it.each(SCRIPT_NAMES)("%s contains the shared code exactly once, and no marker", (name) => {
        expect(shared.length).toBeGreaterThan(1000);
        expect(occurrences(scripts[name], shared)).toBe(1);
        expect(scripts[name]).not.toContain(SHARED_CODE_MARKER);
        // The source file itself has the marker, once, and not the shared code.
        const source = readFileSync(join(SCRIPTS_DIR, `${name}.js`), "utf8");
        expect(occurrences(source, SHARED_CODE_MARKER)).toBe(1);
        expect(source).not.toContain("function readConfiguration");
    });

    it("holds no connection string or credentials", () => {
        for (const text of Object.values(scripts)) {
            expect(text).not.toMatch(/postgres(ql)?:\/\/\S+@/);
            expect(text).toContain("configuration");
        }
    });
});

describe("the modules the scripts require", () => {
    it.each(SCRIPT_NAMES)("%s requires pg and bcrypt at the default versions, crypto and tls as core modules, and nothing unversioned", (name) => {
        const ids = requireCalls(scripts[name]).map((c) => c.id);
        expect(ids).toEqual([`pg@${DEFAULT_SCRIPT_MODULE_VERSIONS.pg}`, `bcrypt@${DEFAULT_SCRIPT_MODULE_VERSIONS.bcrypt}`, "crypto", "tls"]);
        expect(ids.map(unpinnedReason)).toEqual([null, null, null, null]);
        expect(DEFAULT_SCRIPT_MODULE_VERSIONS).toEqual({ pg: "8.11.3", bcrypt: "5.0.1" });
    });

    it("puts the configured versions into the uploaded text", () => {
        const pinned = customDbScripts({ pg: "8.7.1", bcrypt: "5.1.0" });
        for (const name of SCRIPT_NAMES) {
            expect(pinned[name]).toContain('var pg = require("pg@8.7.1");');
            expect(pinned[name]).toContain('var bcrypt = require("bcrypt@5.1.0");');
            expect(pinned[name]).not.toContain("{{version}}");
        }
        expect(sharedCode({ pg: "8.7.1", bcrypt: "5.1.0" })).toContain('require("pg@8.7.1")');
    });

    it("refuses a version that is not exact", () => {
        for (const bad of ["8.11", "^8.11.3", "latest", "v8.11.3", "8.11.3 || 9"]) {
            expect(() => customDbScripts({ ...DEFAULT_SCRIPT_MODULE_VERSIONS, pg: bad })).toThrow(/shared\.js: the version of pg must be exact/);
        }
    });

    it("refuses a source with an unversioned require of a non-core module, a placeholder for an unknown module, or a computed require", () => {
        const versions = DEFAULT_SCRIPT_MODULE_VERSIONS;
        expect(() => pinScriptModules("x.js", 'var a = require("crypto");\nvar l = require("lodash");', versions)).toThrow(
            /custom-database script x\.js: line 2: require\("lodash"\) without an exact version \(Auth0 would load its default version of it\); write require\("<name>@\{\{version\}\}"\)/,
        );
        expect(() => pinScriptModules("x.js", 'var l = require("lodash@{{version}}");', versions)).toThrow(
            /require\("lodash@\{\{version\}\}"\) names a module with no configured version \(known: pg, bcrypt\)/,
        );
        expect(() => pinScriptModules("x.js", "var m = require(name);", versions)).toThrow(/line 1: a require whose argument is not a string literal/);
        expect(pinScriptModules("x.js", "var b = require('bcrypt@{{version}}'); var f = require('node:fs'); var p = require('pg@8.7.1');", versions)).toBe(
            "var b = require('bcrypt@5.0.1'); var f = require('node:fs'); var p = require('pg@8.7.1');",
        );
    });
});

describe("assembleScript", () => {
    const good = "function verify(email, callback) {\n  // @@SHARED_CODE@@\n  callback(null, true);\n}\n";

    it("replaces the marker line with the shared code", () => {
        expect(assembleScript("verify", good, "var x = 1;")).toBe("function verify(email, callback) {\nvar x = 1;\n  callback(null, true);\n}");
    });

    it("keeps $ sequences of the shared code literally", () => {
        expect(assembleScript("verify", good, "var re = '$&$1';")).toContain("var re = '$&$1';");
    });

    it("fails loudly, naming the script, when the marker is missing or repeated", () => {
        expect(() => assembleScript("verify", good.replace("// @@SHARED_CODE@@", "// nothing here"), "var x;")).toThrow(
            /verify\.js must contain the line "\/\/ @@SHARED_CODE@@" exactly once \(found 0\)/,
        );
        expect(() => assembleScript("verify", good.replace("// @@SHARED_CODE@@", "// @@SHARED_CODE@@\n  // @@SHARED_CODE@@"), "var x;")).toThrow(/found 2/);
    });

    it("fails when the source is not Auth0's function declaration", () => {
        expect(() => assembleScript("get_user", good, "var x;")).toThrow(/get_user\.js must be one declaration "function getByEmail\(email, callback\)/);
        expect(() => assembleScript("verify", "const verify = " + good, "var x;")).toThrow(/verify\.js must be one declaration/);
        expect(() => assembleScript("verify", good + "verify();\n", "var x;")).toThrow(/verify\.js must be one declaration/);
    });

    it("refuses shared code that contains the marker", () => {
        expect(() => assembleScript("verify", good, "// @@SHARED_CODE@@")).toThrow(/shared\.js must not contain the marker/);
    });
});

describe("scriptConfiguration", () => {
    const secret = "pa55-w0rd-not-to-show";
    const args: ScriptConfigurationArgs = {
        dbUrl: `postgres://auth0_scripts:${secret}@db.example.com:6543/postgres`,
        ssl: "verify-full",
        bcryptCost: 10,
        poolMax: 5,
        connectTimeoutMs: 5000,
        statementTimeoutMs: 4000,
        schema: "auth0_app",
    };

    it("builds the configuration map, every value a string, under exactly the documented keys", () => {
        const cfg = scriptConfiguration(args);
        expect(Object.keys(cfg).sort()).toEqual([...SCRIPT_CONFIGURATION_KEYS].sort());
        expect(cfg).toEqual({
            DB_URL: args.dbUrl,
            DB_SSL: "verify-full",
            BCRYPT_COST: "10",
            DB_POOL_MAX: "5",
            DB_CONNECT_TIMEOUT_MS: "5000",
            DB_STATEMENT_TIMEOUT_MS: "4000",
            DB_SCHEMA: "auth0_app",
            // No CA configured: the key is sent all the same (see configuration-keys.ts).
            DB_CA_CERT: "none",
        });
        for (const v of Object.values(cfg)) expect(typeof v).toBe("string");
    });

    it.each<[string, Partial<ScriptConfigurationArgs>, RegExp]>([
        ["a non-postgres URL", { dbUrl: `https://user:${secret}@db.example.com/x` }, /dbUrl must be a postgres:\/\//],
        [
            "a URL with query parameters",
            { dbUrl: `${"postgres://u:" + secret}@db.example.com/postgres?sslmode=disable` },
            /dbUrl must be a postgres:\/\/ .* without query parameters/,
        ],
        ["a URL without a user", { dbUrl: "postgres://db.example.com/postgres" }, /dbUrl must name a host and a user/],
        ["an unknown SSL mode", { ssl: "prefer" as never }, /ssl must be one of disable, require, verify-ca, verify-full \(got "prefer"\)/],
        ["a schema that is not a plain identifier", { schema: 'auth0"; drop' }, /schema must match/],
        ["an upper-case schema", { schema: "Auth0" }, /schema must match/],
        ["a bcrypt cost below 4", { bcryptCost: 3 }, /bcryptCost must be an integer from 4 to 15 \(got 3\)/],
        ["a fractional pool size", { poolMax: 2.5 }, /poolMax must be an integer from 1 to 50/],
        ["a connect timeout above 15 s", { connectTimeoutMs: 20_000 }, /connectTimeoutMs must be an integer from 100 to 15000/],
        [
            "timeouts over Auth0's budget",
            { connectTimeoutMs: 10_000, statementTimeoutMs: 9_000 },
            /connectTimeoutMs \+ statementTimeoutMs must be at most 18000/,
        ],
    ])("rejects %s, naming the field, never showing the URL", (_label, change, message) => {
        let thrown: unknown;
        try {
            scriptConfiguration({ ...args, ...change });
        } catch (err) {
            thrown = err;
        }
        expect(thrown).toBeInstanceOf(Error);
        expect((thrown as Error).message).toMatch(message);
        expect((thrown as Error).message).not.toContain(secret);
        expect((thrown as Error).message).not.toContain("db.example.com");
    });
});
