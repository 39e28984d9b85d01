/**
 * Runs the uploaded custom-database scripts the way Auth0 does: the exact assembled text
 * (`customDbScripts()[name]`, nothing else) compiled with `node:vm` in a context of its own whose
 * globals are Auth0's (`configuration`, `WrongUsernameOrPasswordError`, `ValidationError`,
 * `UnauthorizedError`, an allow-listed `require`, `console`, timers, `Buffer`, and `global`
 * pointing at the context's own global, so state persists across invocations as in one Auth0
 * container). The function is called with Auth0's arguments and an error-first callback.
 *
 * Used by the script tests, the benchmark and the fault tests.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import vm from "node:vm";
import { Pool } from "pg";
import { customDbScripts, SCRIPT_NAMES, SCRIPT_SIGNATURES, ScriptName } from "../../infra/auth0/scripts";

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

/** Modules the scripts may `require`, resolved from the project's node_modules. */
export const ALLOWED_MODULES = ["pg", "bcrypt", "crypto", "node:crypto"] as const;

export const DEFAULT_TIMEOUT_MS = 20_000;

const projectRequire = createRequire(join(__dirname, "..", "..", "package.json"));

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
     * Modules to hand the scripts instead of the real ones (e.g. a bcrypt that counts its calls),
     * by name. Names given here are allowed too. Defaults to none: the allow-list, resolved from
     * the project's node_modules.
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

/** Every pg pool reachable from the context's global (its own properties, a few levels down). */
function poolsIn(root: object, skip: Set<string>): Pool[] {
    const found = new Set<Pool>();
    const seen = new Set<unknown>();
    const walk = (value: unknown, depth: number) => {
        if (value === null || typeof value !== "object" || seen.has(value) || depth > 3) return;
        seen.add(value);
        if (value instanceof Pool) {
            found.add(value);
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
    const overrides = options.modules ?? {};
    const allowed = new Set<string>([...ALLOWED_MODULES, ...Object.keys(overrides)]);
    const sandboxRequire = (id: unknown): unknown => {
        if (typeof id !== "string" || !allowed.has(id)) {
            throw new Error(`Cannot find module '${String(id)}': the sandbox allows only ${[...allowed].join(", ")}`);
        }
        return Object.hasOwn(overrides, id) ? overrides[id] : projectRequire(id);
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

    const texts = customDbScripts();
    const functions = new Map<ScriptName, (...args: unknown[]) => unknown>();
    const compiled = (name: ScriptName) => {
        if (!(SCRIPT_NAMES as readonly string[]).includes(name)) throw new Error(`unknown custom-database script ${JSON.stringify(name)} (known: ${SCRIPT_NAMES.join(", ")})`);
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
            for (const pool of poolsIn(context, installed)) {
                if (!pool.ending) await pool.end();
            }
            if (problems.length > 0) {
                throw new AggregateError(problems, `the scripts broke Auth0's callback contract: ${problems.map((p) => p.message).join("; ")}`);
            }
        },
    };
}
