/** The runner itself: Auth0's globals, Auth0's versioned require, and the callback contract. */
import vm from "node:vm";
import pg from "pg";
import { describe, expect, it, vi } from "vitest";
import { SCRIPT_NAMES } from "../../infra/auth0/scripts";
import { createSandbox, invokeWithCallback, RunResult, ValidationError, WrongUsernameOrPasswordError } from "../support/auth0-sandbox";
import { committedScriptModules, scriptModule } from "../support/script-modules";

const configuration = {
    DB_URL: "postgres://u:p@127.0.0.1:1/db",
    DB_SSL: "disable",
    BCRYPT_COST: "4",
    DB_POOL_MAX: "1",
    DB_CONNECT_TIMEOUT_MS: "100",
    DB_STATEMENT_TIMEOUT_MS: "100",
    DB_SCHEMA: "auth0_app",
};

describe("createSandbox", () => {
    it("gives the scripts Auth0's globals, with global pointing at the context's own global", () => {
        const s = createSandbox(configuration);
        const probe = (code: string): unknown => vm.runInContext(code, s.context);
        expect(probe("global === globalThis")).toBe(true);
        expect(probe("configuration.DB_SCHEMA")).toBe("auth0_app");
        expect(probe("Object.isFrozen(configuration)")).toBe(true);
        for (const name of [
            "WrongUsernameOrPasswordError",
            "ValidationError",
            "UnauthorizedError",
            "require",
            "setTimeout",
            "clearTimeout",
            "setImmediate",
            "Buffer",
            "console",
        ]) {
            expect(probe(`typeof ${name}`), name).not.toBe("undefined");
        }
        const v = probe("new ValidationError('user_exists', 'taken')");
        expect(v).toBeInstanceOf(ValidationError);
        expect(v).toMatchObject({ name: "ValidationError", code: "user_exists", message: "taken" });
        expect(probe("new WrongUsernameOrPasswordError('a@example.com', 'nope')")).toMatchObject({
            name: "WrongUsernameOrPasswordError",
            username: "a@example.com",
            message: "nope",
        });
        expect(probe("new WrongUsernameOrPasswordError('a@example.com', 'nope')")).toBeInstanceOf(WrongUsernameOrPasswordError);
    });

    it("keeps state in global across invocations of one sandbox, and not across sandboxes", () => {
        const a = createSandbox(configuration);
        const b = createSandbox(configuration);
        const bump = "global.counter = (global.counter || 0) + 1";
        vm.runInContext(bump, a.context);
        expect(vm.runInContext(bump, a.context)).toBe(2);
        expect(vm.runInContext(bump, b.context)).toBe(1);
    });

    it("resolves name@version to the npm alias of that version, core modules as they are, and refuses an unversioned package", () => {
        const s = createSandbox(configuration);
        const { pg: pgVersion, bcrypt: bcryptVersion } = committedScriptModules();
        expect(s.scriptModules).toEqual({ pg: pgVersion, bcrypt: bcryptVersion });
        expect(vm.runInContext(`require('pg@${pgVersion}')`, s.context)).toBe(scriptModule("pg"));
        expect(scriptModule("pg")).not.toBe(pg); // not the project's own pg
        expect(typeof vm.runInContext(`require('bcrypt@${bcryptVersion}').compare`, s.context)).toBe("function");
        expect(typeof vm.runInContext("require('crypto').createHash", s.context)).toBe("function");
        expect(typeof vm.runInContext("require('node:crypto').createHash", s.context)).toBe("function");
        for (const id of ["pg", "bcrypt", "vitest", "pg@^8.11.3", "pg@latest", "../../infra/auth0/scripts"]) {
            expect(() => vm.runInContext(`require(${JSON.stringify(id)})`, s.context), id).toThrow(
                `Cannot find module '${id}': a custom-database script must require a non-core module at an exact version`,
            );
        }
        expect(() => vm.runInContext("require('pg@1.0.0')", s.context)).toThrow(
            `Cannot find module 'pg@1.0.0': it is not installed for the tests under the alias pg-1.0.0; add "pg-1.0.0": "npm:pg@1.0.0" to devDependencies`,
        );
    });

    it("hands over replacement modules by name or name@version, and still refuses an unversioned require", () => {
        const fake = { compare: () => "fake" };
        const version = committedScriptModules().bcrypt;
        for (const key of ["bcrypt", `bcrypt@${version}`]) {
            const s = createSandbox(configuration, { modules: { [key]: fake } });
            expect(vm.runInContext(`require('bcrypt@${version}')`, s.context)).toBe(fake);
            expect(() => vm.runInContext("require('bcrypt')", s.context)).toThrow(/must require a non-core module at an exact version/);
        }
    });

    it("compiles exactly the six uploaded scripts, and checks the argument count", async () => {
        const s = createSandbox(configuration);
        for (const name of SCRIPT_NAMES) expect(typeof s.compiled(name)).toBe("function");
        expect(() => s.compiled("change_email" as never)).toThrow(/unknown custom-database script "change_email"/);
        await expect(s.run("login", "only-the-email")).rejects.toThrow("login takes 2 argument(s) besides the callback (got 1)");
        await s.close();
    });

    it("close() ends the pools the scripts left in global", async () => {
        const s = createSandbox(configuration);
        const { err } = await s.run("get_user", "a@example.com");
        expect((err as Error).message).toMatch(/^get_user failed: cannot reach the database/);
        const pool = (s.context as { __auth0CustomDb: { pool: pg.Pool } }).__auth0CustomDb.pool;
        // The scripts' own pg, at the version they require, not the project's.
        expect(pool).toBeInstanceOf(scriptModule<typeof pg>("pg").Pool);
        expect(pool.ending).toBe(false);
        await s.close();
        expect(pool.ending).toBe(true);
    });
});

describe("invokeWithCallback", () => {
    const options = (late: Error[] = [], timeoutMs = 1000) => ({ label: "script", timeoutMs, onLateCall: (p: Error) => late.push(p) });

    it("resolves with the callback's arguments", async () => {
        const out: RunResult = await invokeWithCallback(
            (a, cb) => setTimeout(() => (cb as (...x: unknown[]) => void)(null, `got ${String(a)}`), 1),
            ["x"],
            options(),
        );
        expect(out).toEqual({ err: null, result: "got x", args: [null, "got x"] });
    });

    it("rejects a script that never calls back, once the timeout has run out and not before", async () => {
        // A fake clock, not a stopwatch: still pending 1 ms before the timeout, rejected at it.
        vi.useFakeTimers();
        try {
            let outcome = "pending";
            void invokeWithCallback(() => undefined, [], options([], 50)).then(
                () => (outcome = "resolved"),
                (err: Error) => (outcome = err.message),
            );
            await vi.advanceTimersByTimeAsync(49);
            expect(outcome).toBe("pending");
            await vi.advanceTimersByTimeAsync(1);
            expect(outcome).toBe("script did not call back within 50 ms");
        } finally {
            vi.useRealTimers();
        }
    });

    it("rejects a callback called twice in a row", async () => {
        const fn = (cb: unknown) => {
            (cb as (...x: unknown[]) => void)(null, 1);
            (cb as (...x: unknown[]) => void)(null, 2);
        };
        await expect(invokeWithCallback(fn, [], options())).rejects.toThrow("script called its callback 2 times (Auth0 expects exactly one call)");
    });

    it("reports a second call that comes after the result was handed on", async () => {
        const late: Error[] = [];
        let again: () => void = () => undefined;
        const fn = (cb: unknown) => {
            (cb as (...x: unknown[]) => void)(null, 1);
            again = () => (cb as (...x: unknown[]) => void)(new Error("again"));
        };
        const out = await invokeWithCallback(fn, [], options(late));
        expect(out.result).toBe(1);
        again();
        expect(late.map((e) => e.message)).toEqual(["script called its callback 2 times (Auth0 expects exactly one call)"]);
    });

    it("rejects a script that throws instead of calling back", async () => {
        await expect(
            invokeWithCallback(
                () => {
                    throw new TypeError("boom");
                },
                [],
                options(),
            ),
        ).rejects.toThrow("script threw instead of calling back: boom");
    });
});
