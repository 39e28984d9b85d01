/**
 * Runs the uploaded custom-database scripts the way Auth0 does: the exact assembled text
 * (`customDbScripts(modules)[name]`, nothing else, with the module versions the stacks configure)
 * compiled with `node:vm` in a context of its own whose globals are Auth0's (`configuration`,
 * `WrongUsernameOrPasswordError`, `ValidationError`, `UnauthorizedError`, `require`, `console`,
 * timers, `Buffer`, and `global` pointing at the context's own global, so state persists across
 * invocations as in one Auth0 container). The function is called with Auth0's arguments and an
 * error-first callback.
 *
 * `require` is Auth0's as far as versions go (see script-modules.ts): Node's core modules, and
 * `name@version` from the npm alias `name-version` the tests install; an unversioned package (which
 * Auth0 would resolve to its default version) or a version not installed throws.
 *
 * Used by the script tests, the benchmark and the fault tests.
 */
import { isBuiltin } from "node:module";
import vm from "node:vm";
import { Pool } from "pg";
import { customDbScripts, parseVersionedId, SCRIPT_NAMES, SCRIPT_SIGNATURES, ScriptModuleVersions, ScriptName } from "../../infra/auth0/scripts";
import { assertScriptModulesInstalled, committedScriptModules, requireScriptModule } from "./script-modules";

/** Auth0's `new ValidationError(code, message)`. */
export class ValidationError extends Error {
    readonly statusCode = 400;
    constructor(
        readonly code: string,
        message?: string,
    ) {
        super(message);
        this.name = "ValidationError";
    }
}

/** Auth0's `new WrongUsernameOrPasswordError(emailOrUserId, message)`. */
export class WrongUsernameOrPasswordError extends Error {
    readonly statusCode = 401;
    constructor(
        readonly username?: string,
        message?: string,
    ) {
        super(message);
        this.name = "WrongUsernameOrPasswordError";
    }
}

/** Auth0's `new UnauthorizedError(message)`. */
export class UnauthorizedError extends Error {
    readonly statusCode = 401;
    constructor(message?: string) {
        super(message);
        this.name = "UnauthorizedError";
    }
}

export const DEFAULT_TIMEOUT_MS = 20_000;

export interface RunResult {
    /** The callback's first argument (null when it was null or undefined). */
    err: unknown;
    /** The callback's second argument. */
    result: unknown;
    /** Every argument the callback got. */
    args: unknown[];
}

type ConsoleLike = Pick<Console, "log" | "info" | "warn" | "error" | "debug">;

export interface SandboxOptions {
    /** A script that has not called back by then makes `run` reject. Defaults to 20000 ms (Auth0's limit). */
    timeoutMs?: number;
    /**
     * The version of each npm module the scripts require (`customDb.modules`), put into the
     * uploaded text. Defaults to the committed stacks' versions. Each must be installed under its
     * npm alias, or `createSandbox` throws naming it.
     */
    scriptModules?: ScriptModuleVersions;
    /**
     * Modules to hand the scripts instead of the real ones (e.g. a bcrypt that counts its calls),
     * by `name@version` or by name (any version). A script's require must still be a core module
     * or versioned. Defaults to none.
     */
    modules?: Record<string, unknown>;
    /** The scripts' `console`. Defaults to the process's console. */
    console?: ConsoleLike;
}

export interface Auth0Sandbox {
    /** Calls script `name` with `args` and a callback; resolves with what it called back. */
    run(name: ScriptName, ...args: unknown[]): Promise<RunResult>;
    /** Replaces the `configuration` global (as when the connection's settings change in a warm container). */
    configure(configuration: Record<string, string>): void;
    /** The function the runner calls for `name`, as compiled in the context from the uploaded text. */
    compiled(name: ScriptName): (...args: unknown[]) => unknown;
    /** The context's global object (`global` inside the scripts). */
    readonly context: vm.Context;
    /** The module versions the scripts were assembled with (and require). */
    readonly scriptModules: Readonly<ScriptModuleVersions>;
    /** Contract violations seen after a run had resolved (a callback called again later). */
    readonly problems: readonly Error[];
    /** Ends every pg pool the scripts left in `global`; rejects if a contract violation was seen. */
    close(): Promise<void>;
}

function errorText(err: unknown): string {
    return err instanceof Error || (typeof err === "object" && err !== null && "message" in err) ? String((err as Error).message) : String(err);
}

/**
 * Calls `fn(...args, callback)` with Auth0's callback contract: resolves with the first call's
 * arguments once the current macrotask is over; rejects when the function throws, never calls
 * back within `timeoutMs`, or calls back twice before that. A second call after the result was
 * handed on goes to `onLateCall`.
 */
export function invokeWithCallback(
    fn: (...args: unknown[]) => unknown,
    args: unknown[],
    options: { label: string; timeoutMs: number; onLateCall: (problem: Error) => void },
): Promise<RunResult> {
    const { label, timeoutMs, onLateCall } = options;
    return new Promise<RunResult>((resolve, reject) => {
        let calls = 0;
        let settled = false;
        const timer = setTimeout(() => {
            if (settled) return;
            settled = true;
            reject(new Error(`${label} did not call back within ${timeoutMs} ms`));
        }, timeoutMs);
        const settle = (outcome: () => void) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            outcome();
        };
        const callback = (...cbArgs: unknown[]) => {
            calls += 1;
            if (calls === 1) {
                // Hand the result on after this macrotask, so a second call made right away is caught.
                setImmediate(() => settle(() => resolve({ err: cbArgs[0] ?? null, result: cbArgs[1], args: cbArgs })));
                return;
            }
            const problem = new Error(`${label} called its callback ${calls} times (Auth0 expects exactly one call)`);
            if (settled) onLateCall(problem);
            else settle(() => reject(problem));
        };
        try {
            fn(...args, callback);
        } catch (err) {
            settle(() => reject(new Error(`${label} threw instead of calling back: ${errorText(err)}`, { cause: err })));
        }
    });
}

/** Every pg pool (an instance of one of `poolClasses`) reachable from the context's global (its own properties, a few levels down). */
function poolsIn(root: object, skip: Set<string>, poolClasses: Set<new (...args: never[]) => Pool>): Pool[] {
    const found = new Set<Pool>();
    const seen = new Set<unknown>();
    const walk = (value: unknown, depth: number) => {
        if (value === null || typeof value !== "object" || seen.has(value) || depth > 3) return;
        seen.add(value);
        if ([...poolClasses].some((cls) => value instanceof cls)) {
            found.add(value as Pool);
            return;
        }
        const children = value instanceof Map ? [...value.values()] : Object.values(value as Record<string, unknown>);
        for (const child of children) walk(child, depth + 1);
    };
    for (const key of Object.getOwnPropertyNames(root)) {
        if (skip.has(key)) continue;
        walk((root as Record<string, unknown>)[key], 0);
    }
    return [...found];
}

/** A fresh Auth0-like context with `configuration`; see the module comment. */
export function createSandbox(configuration: Record<string, string>, options: SandboxOptions = {}): Auth0Sandbox {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const scriptModules = Object.freeze({ ...(options.scriptModules ?? committedScriptModules()) });
    assertScriptModulesInstalled(scriptModules);
    const overrides = options.modules ?? {};
    const poolClasses = new Set<new (...args: never[]) => Pool>([Pool]);
    const sandboxRequire = (id: unknown): unknown => {
        let loaded: unknown;
        if (typeof id === "string" && Object.hasOwn(overrides, id) && (isBuiltin(id) || parseVersionedId(id))) {
            loaded = overrides[id];
        } else {
            // Refuses what Auth0 would resolve to another version, even when a stand-in is given by name.
            loaded = requireScriptModule(id);
            const name = parseVersionedId(id as string)?.name;
            if (name !== undefined && Object.hasOwn(overrides, name)) loaded = overrides[name];
        }
        const poolClass = (loaded as { Pool?: unknown } | null)?.Pool;
        if (typeof poolClass === "function") poolClasses.add(poolClass as new (...args: never[]) => Pool);
        return loaded;
    };
    const globals: Record<string, unknown> = {
        configuration: Object.freeze({ ...configuration }),
        WrongUsernameOrPasswordError,
        ValidationError,
        UnauthorizedError,
        require: sandboxRequire,
        console: options.console ?? console,
        Buffer,
        setTimeout,
        clearTimeout,
        setInterval,
        clearInterval,
        setImmediate,
        clearImmediate,
        queueMicrotask,
    };
    const installed = new Set([...Object.keys(globals), "global"]);
    const context = vm.createContext(globals, { name: "auth0-custom-db-sandbox" });
    vm.runInContext("globalThis.global = globalThis;", context);

    const texts = customDbScripts(scriptModules);
    const functions = new Map<ScriptName, (...args: unknown[]) => unknown>();
    const compiled = (name: ScriptName) => {
        if (!(SCRIPT_NAMES as readonly string[]).includes(name))
            throw new Error(`unknown custom-database script ${JSON.stringify(name)} (known: ${SCRIPT_NAMES.join(", ")})`);
        let fn = functions.get(name);
        if (!fn) {
            // The uploaded text as an expression: a function declaration evaluates to the function.
            const value: unknown = new vm.Script(`(${texts[name]}\n)`, { filename: `${name}.js` }).runInContext(context);
            if (typeof value !== "function") throw new Error(`custom-database script ${name} did not evaluate to a function`);
            fn = value as (...args: unknown[]) => unknown;
            functions.set(name, fn);
        }
        return fn;
    };

    const problems: Error[] = [];
    return {
        context,
        scriptModules,
        problems,
        compiled,
        configure(next) {
            (context as Record<string, unknown>).configuration = Object.freeze({ ...next });
        },
        async run(name, ...args) {
            const fn = compiled(name);
            const expected = SCRIPT_SIGNATURES[name].params.length - 1;
            if (args.length !== expected) throw new Error(`${name} takes ${expected} argument(s) besides the callback (got ${args.length})`);
            return await invokeWithCallback(fn, args, { label: name, timeoutMs, onLateCall: (p) => problems.push(p) });
        },
        async close() {
            for (const pool of poolsIn(context, installed, poolClasses)) {
                if (!pool.ending) await pool.end();
            }
            if (problems.length > 0) {
                throw new AggregateError(problems, `the scripts broke Auth0's callback contract: ${problems.map((p) => p.message).join("; ")}`);
            }
        },
    };
}
