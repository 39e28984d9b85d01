/**
 * `npm run bench -- --latency`: the uploaded scripts and the user-sync Action across the network
 * Auth0 really sees (issue #13). In production they run in Auth0's cloud and reach the database
 * (often Supabase) over a WAN: 10-50 ms round trips, TLS, and an authentication handshake per new
 * connection. Here:
 *
 * - an embedded Postgres serves TLS with a certificate a CA made for the run signs
 *   (tls-postgres.ts); every client connects `verify-full` against that CA, as the stack does with
 *   `postgres.caCertificate`;
 * - every client reaches it through a loopback TCP proxy (latency-proxy.ts) that holds each chunk
 *   for half the RTT per direction, and a new connection's first bytes for TCP's handshake too;
 * - per RTT (default 0, 10 and 40 ms): `get_user`, `login`, `create` (the uploaded scripts in the
 *   Auth0 sandbox) and the user-sync Action's upsert, ours against the connection-per-call
 *   baseline (Auth0's old templates ported to pg 8, with the same TLS settings), at concurrency 1
 *   and 10: p50 and p99 in ms and in RTT units, calls/s, and connections opened (TCP connections
 *   the proxy accepted). Ours runs warm: each row's fresh sandbox or Action container first makes
 *   `concurrency` calls of the row's operation (their connections count in "opened"), then is
 *   measured;
 * - a whole post-login pass: the three Actions in their binding order for one login, warm, with
 *   and without user-sync, so the difference is what the sync adds per login;
 * - targets, per RTT above 0: get_user p50 (warm, concurrency 1) <= 1.2 RTT + 1 ms; the sync adds
 *   <= 1.2 RTT + 1 ms per login; the baseline's get_user p50 >= 3 RTT (the proxy is real); and at
 *   every RTT, connections opened never exceed the pool size (DB_POOL_MAX for the scripts, 3 for the
 *   Action).
 *
 * Every row has a time budget (no call starts after it), so the run is bounded whatever the
 * machine. The figures are printed; nothing here is asserted by `npm test` but the lines and the
 * connection counts (test/bench/bench.test.ts).
 */
import { connect as tcpConnect } from "node:net";
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { actionSpec, ActionKey } from "../../infra/auth0/actions";
import { scriptConfiguration } from "../../infra/auth0/scripts";
import { sslConfig } from "../../infra/dynamic/connection";
import { ident } from "../../infra/postgres/privileges";
import { BoundAction, loadAction, LoadedAction, postLoginEvent, runPostLoginFlow, trackPgPools } from "../../test/support/action-runner";
import { Auth0Sandbox, createSandbox, WrongUsernameOrPasswordError } from "../../test/support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../../test/support/db";
import { committedScriptModules, scriptModule } from "../../test/support/script-modules";
import { startLatencyProxy, RunningProxy } from "./latency-proxy";
import { ACTION_POOL_MAX, FlowRow, Impl, IMPLS, Operation, OPERATIONS, printFlows, printRows, Row, targetsFor } from "./latency-report";
import { baselineCall, Call, countingPg, describeError, drive, intFlag, percentile } from "./measure";
import { startTlsPostgres } from "./tls-postgres";

const SCRIPT_MODULES = committedScriptModules();
const scriptPg = scriptModule<typeof pg>("pg", SCRIPT_MODULES);
const bcrypt = scriptModule<typeof import("bcrypt")>("bcrypt", SCRIPT_MODULES);

const PASSWORD = "bench-Password-1";
const CONCURRENCY = [1, 10] as const;
/** Call indexes of the warm-up calls, apart from the measured ones (create makes unique emails from them). */
const WARM_UP_INDEX = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Options.

export interface LatencyOptions {
    rtts: number[];
    cost: number;
    poolMax: number;
    /** No call of a row starts after this many seconds. */
    rowSeconds: number;
    quick: boolean;
    strict: boolean;
    /** Calls per row: [impl][cheap or bcrypt][concurrency index]. */
    calls: Record<Impl, { cheap: [number, number]; bcrypt: [number, number] }>;
    passSamples: number;
    seedUsers: number;
}

export const LATENCY_USAGE = `usage: bench.ts --latency [--rtt LIST] [--cost N] [--pool-max N] [--row-seconds N] [--quick] [--strict]
  --rtt LIST          round-trip times to simulate, in ms, comma-separated (default 0,10,40; quick: 0,5)
  --cost N            bcrypt cost (default 10)
  --pool-max N        DB_POOL_MAX of the scripts (default 5)
  --row-seconds N     no call of a row starts after this (default 12; quick: 2)
  --quick             tiny counts and cost 4 (a smoke run; the figures are not meaningful)
  --strict            exit 1 when a target fails`;

export function parseLatencyOptions(argv: string[]): LatencyOptions {
    const { values } = parseArgs({
        args: argv,
        options: {
            latency: { type: "boolean" },
            rtt: { type: "string" },
            cost: { type: "string" },
            "pool-max": { type: "string" },
            "row-seconds": { type: "string" },
            quick: { type: "boolean", default: false },
            strict: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(`${LATENCY_USAGE}\n`);
        process.exit(0);
    }
    const quick = values.quick === true;
    const int = intFlag;
    const rttText = values.rtt ?? (quick ? "0,5" : "0,10,40");
    const rtts = rttText.split(",").map((t) => int("rtt", t.trim(), 0, 0, 500));
    if (new Set(rtts).size !== rtts.length) throw new Error(`--rtt lists a round-trip time twice (got ${JSON.stringify(rttText)})`);
    return {
        rtts,
        cost: int("cost", values.cost, quick ? 4 : 10, 4, 15),
        poolMax: int("pool-max", values["pool-max"], 5, 1, 50),
        rowSeconds: int("row-seconds", values["row-seconds"], quick ? 2 : 12, 1, 600),
        quick,
        strict: values.strict === true,
        calls: quick
            ? { ours: { cheap: [8, 20], bcrypt: [3, 10] }, baseline: { cheap: [4, 10], bcrypt: [3, 10] } }
            : { ours: { cheap: [100, 300], bcrypt: [20, 40] }, baseline: { cheap: [30, 100], bcrypt: [15, 30] } },
        passSamples: quick ? 6 : 60,
        seedUsers: quick ? 50 : 200,
    };
}

// ---------------------------------------------------------------------------------------------
// What one row runs.

interface Harness {
    prepare: (i: number) => Call;
    /** Calls that open the pool's connections before the row is measured (ours only). */
    warmUp?: (i: number) => Call;
    close: () => Promise<void>;
}

function seededEmail(i: number, seedUsers: number): string {
    return `bench-${i % seedUsers}@bench.test`;
}

const isProfile = (r: unknown) => typeof r === "object" && r !== null && typeof (r as { email?: unknown }).email === "string";

class LatencyBench {
    private rowSerial = 0;
    logLines = 0;
    private readonly quiet = (() => {
        const count = () => {
            this.logLines += 1;
        };
        return { log: count, info: count, debug: count, warn: count, error: count };
    })();

    constructor(
        private readonly stack: StackDatabase,
        private readonly options: LatencyOptions,
        private readonly caPem: string,
    ) {}

    /** A URL of the stack's `role` that goes through the proxy. */
    private urlVia(proxy: RunningProxy, role: "scripts" | "sync"): string {
        const u = new URL(this.stack.urlFor(role));
        u.hostname = "127.0.0.1";
        u.port = String(proxy.port);
        return u.toString();
    }

    private sandbox(proxy: RunningProxy): Auth0Sandbox {
        const configuration = scriptConfiguration({
            dbUrl: this.urlVia(proxy, "scripts"),
            ssl: "verify-full",
            caCertificate: this.caPem,
            bcryptCost: this.options.cost,
            poolMax: this.options.poolMax,
            connectTimeoutMs: 10_000,
            statementTimeoutMs: 5_000,
            schema: this.stack.schema,
        });
        return createSandbox(configuration, { scriptModules: SCRIPT_MODULES, console: this.quiet, timeoutMs: 60_000 });
    }

    private syncSecrets(proxy: RunningProxy): Record<string, string> {
        return {
            SYNC_MODE: "postgres",
            SYNC_BLOCKS_LOGIN: "true",
            DB_SCHEMA: this.stack.schema,
            DB_URL: this.urlVia(proxy, "sync"),
            DB_SSL: "verify-full",
            DB_CA_CERT: this.caPem,
            DB_CONNECT_TIMEOUT_MS: "10000",
            DB_STATEMENT_TIMEOUT_MS: "5000",
        };
    }

    static scriptCall(sandbox: Auth0Sandbox, name: "get_user" | "login" | "create", args: unknown[], ok: (result: unknown) => boolean): Call {
        return async () => {
            const { err, result } = await sandbox.run(name, ...args);
            if (err !== null) return `${name}: ${describeError(err)}`;
            return ok(result) ? null : `${name}: unexpected result ${JSON.stringify(result)}`;
        };
    }

    static actionCall(action: LoadedAction, secrets: Record<string, string>, userId: string): Call {
        return async () => {
            const result = await action.invoke(postLoginEvent({ user: { user_id: userId, name: `Bench ${userId}` }, secrets }));
            if (result.error !== undefined) return `upsert: ${describeError(result.error)}`;
            if (result.denied !== undefined || result.logs.length > 0) return `upsert: ${result.logs.map((l) => l.text).join("; ") || result.denied}`;
            return null;
        };
    }

    /** Ours: a fresh sandbox or Action container (an empty pool), warmed up by the row. */
    ours(operation: Operation, proxy: RunningProxy): Harness {
        const row = ++this.rowSerial;
        const seed = this.options.seedUsers;
        if (operation === "upsert") {
            // The Action's pool lives in its module scope: the tracker hands it pg with a Pool it can end.
            const pools = trackPgPools();
            const action = loadAction(actionSpec("user-sync"), { timeLimitMs: 60_000, interceptModule: pools.interceptModule });
            const secrets = this.syncSecrets(proxy);
            return {
                prepare: (i) => LatencyBench.actionCall(action, secrets, `auth0|bench-${i % seed}`),
                warmUp: (i) => LatencyBench.actionCall(action, secrets, `auth0|bench-warm-${i}`),
                close: pools.endAll,
            };
        }
        const sandbox = this.sandbox(proxy);
        const prepare = (i: number): Call => {
            const email = seededEmail(i, seed);
            switch (operation) {
                case "get_user":
                    return LatencyBench.scriptCall(sandbox, "get_user", [email], isProfile);
                case "login":
                    return LatencyBench.scriptCall(sandbox, "login", [email, PASSWORD], isProfile);
                case "create":
                    return LatencyBench.scriptCall(
                        sandbox,
                        "create",
                        [{ email: `bench-new-${row}-${i}@bench.test`, password: PASSWORD }],
                        (r) => r === undefined,
                    );
            }
        };
        return {
            prepare,
            // The row's own operation, so that what a container caches (the dummy hash, the pool) is warm too.
            warmUp: (i) => prepare(WARM_UP_INDEX + i),
            close: () => sandbox.close(),
        };
    }

    /** The baseline: Auth0's old templates, one `new Client` + connect + query + end per call, with the stack's TLS. */
    baseline(operation: Operation, proxy: RunningProxy): Harness {
        const row = ++this.rowSerial;
        const { Client } = countingPg(scriptPg).module;
        const ends: Promise<void>[] = [];
        const table = `${ident(this.stack.schema)}.users`;
        const cost = this.options.cost;
        // pg 8.11.3 checks an IP host's certificate against "localhost": name the host explicitly, as the scripts do.
        const ssl = sslConfig({ sslMode: "verify-full", caCertificate: this.caPem, tlsServerName: "127.0.0.1" });
        const run = async (role: "scripts" | "sync", work: (client: pg.Client) => Promise<unknown>): Promise<unknown> => {
            const client = new Client({ connectionString: this.urlVia(proxy, role), ssl, application_name: "bench-baseline" }) as pg.Client;
            await client.connect();
            try {
                return await work(client);
            } finally {
                ends.push(client.end().catch(() => undefined));
            }
        };
        type Cb = (err?: unknown, value?: unknown) => void;
        const fns: Record<Operation, (...args: unknown[]) => void> = {
            get_user: (email, callback) => {
                run("scripts", (c) => c.query(`SELECT id, nickname, email FROM ${table} WHERE lower(email) = lower($1)`, [email])).then(
                    (r) => {
                        const user = (r as pg.QueryResult).rows[0] as { id: string; email: string } | undefined;
                        (callback as Cb)(null, user && { user_id: user.id, email: user.email });
                    },
                    (err) => (callback as Cb)(err),
                );
            },
            login: (email, password, callback) => {
                const cb = callback as Cb;
                run("scripts", (c) => c.query(`SELECT id, email, password_hash FROM ${table} WHERE lower(email) = lower($1)`, [email])).then((r) => {
                    const user = (r as pg.QueryResult).rows[0] as { id: string; email: string; password_hash: string } | undefined;
                    if (!user) return cb(new WrongUsernameOrPasswordError(String(email)));
                    bcrypt
                        .compare(String(password), user.password_hash)
                        .then((ok) => (ok ? cb(null, { user_id: user.id, email: user.email }) : cb(new WrongUsernameOrPasswordError(String(email)))), cb);
                }, cb);
            },
            create: (user, callback) => {
                const u = user as { email: string; password: string };
                // As the template: connect first, then hash while holding the connection.
                run("scripts", async (c) =>
                    c.query(`INSERT INTO ${table} (email, password_hash) VALUES ($1, $2)`, [u.email, await bcrypt.hash(u.password, cost)]),
                ).then(
                    () => (callback as Cb)(null),
                    (err) => (callback as Cb)(err),
                );
            },
            upsert: (userId, userName, callback) => {
                run("sync", (c) =>
                    c.query(
                        `INSERT INTO ${ident(this.stack.schema)}.profiles (user_id, user_name, last_seen) VALUES ($1, $2, now())
                         ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, last_seen = EXCLUDED.last_seen`,
                        [userId, userName],
                    ),
                ).then(
                    () => (callback as Cb)(null),
                    (err) => (callback as Cb)(err),
                );
            },
        };
        const call =
            (args: unknown[], ok: (result: unknown) => boolean): Call =>
            () =>
                baselineCall(operation, fns[operation], args, ok);
        const seed = this.options.seedUsers;
        return {
            prepare: (i) => {
                const email = seededEmail(i, seed);
                switch (operation) {
                    case "get_user":
                        return call([email], isProfile);
                    case "login":
                        return call([email, PASSWORD], isProfile);
                    case "create":
                        return call([{ email: `bench-base-${row}-${i}@bench.test`, password: PASSWORD }], (r) => r === undefined);
                    case "upsert":
                        return call([`auth0|bench-${i % seed}`, `Bench User ${i}`], (r) => r === undefined);
                }
            },
            close: async () => {
                await Promise.all(ends);
            },
        };
    }

    async row(rtt: number, proxy: RunningProxy, operation: Operation, impl: Impl, concurrency: number): Promise<Row> {
        const kind = operation === "login" || operation === "create" ? "bcrypt" : "cheap";
        const calls = Math.max(concurrency, this.options.calls[impl][kind][concurrency === 1 ? 0 : 1]);
        const before = proxy.connections();
        const harness = impl === "ours" ? this.ours(operation, proxy) : this.baseline(operation, proxy);
        try {
            if (harness.warmUp) {
                const warm = await drive(concurrency, concurrency, harness.warmUp);
                if (warm.errors > 0) throw new Error(`warming up ${operation} at rtt ${rtt} ms failed: ${warm.firstError}`);
            }
            const measured = await drive(calls, concurrency, harness.prepare, this.options.rowSeconds * 1000);
            return { rtt, operation, impl, concurrency, measured, opened: proxy.connections() - before };
        } finally {
            await harness.close();
        }
    }

    /**
     * The post-login pass: profile-defaults, hasura-claims, user-sync in their binding order for one
     * login, each loaded once (a warm container), interleaved with the same pass without user-sync.
     */
    async postLoginPass(rtt: number, proxy: RunningProxy): Promise<[FlowRow, FlowRow]> {
        const before = proxy.connections();
        const pools = trackPgPools();
        const load = (key: ActionKey) => loadAction(actionSpec(key), { timeLimitMs: 60_000, interceptModule: pools.interceptModule });
        const claims = actionSpec("hasura-claims");
        const claimSecrets = Object.fromEntries(
            claims.secretNames.map((name) => [name, name === "DEFAULT_ROLE" || name === "ALLOWED_ROLES" ? "user" : undefined]),
        );
        const sync = load("user-sync");
        const first: BoundAction[] = [
            { action: load("profile-defaults"), secrets: {} },
            { action: load("hasura-claims"), secrets: claimSecrets },
        ];
        const all: BoundAction[] = [...first, { action: sync, secrets: this.syncSecrets(proxy) }];
        const rows: [FlowRow, FlowRow] = [
            { rtt, flow: "3 Actions", latencies: [], errors: 0, firstError: null, opened: 0 },
            { rtt, flow: "without user-sync", latencies: [], errors: 0, firstError: null, opened: 0 },
        ];
        const pass = async (bound: BoundAction[], i: number, into: FlowRow | null) => {
            const event = postLoginEvent({ user: { user_id: `auth0|bench-${i % this.options.seedUsers}`, name: `Bench User ${i}` } });
            const t0 = performance.now();
            const result = await runPostLoginFlow(bound, event);
            const ms = performance.now() - t0;
            const problem =
                result.denied !== undefined
                    ? `denied: ${result.denied}`
                    : result.steps
                          .map((s) => (s.invocation.error !== undefined ? describeError(s.invocation.error) : s.invocation.logs.map((l) => l.text).join("; ")))
                          .find((t) => t !== "");
            if (!into) return;
            into.latencies.push(ms);
            if (problem) {
                into.errors += 1;
                into.firstError ??= problem;
            }
        };
        try {
            // Warm: the sync's pool connection, and every Action's first run.
            for (let i = 0; i < 3; i++) await pass(all, i, null);
            for (let i = 0; i < this.options.passSamples; i++) {
                const order: [BoundAction[], FlowRow][] = [
                    [all, rows[0]],
                    [first, rows[1]],
                ];
                for (const [bound, into] of i % 2 ? order.reverse() : order) await pass(bound, i, into);
            }
            rows[0].opened = proxy.connections() - before;
            return rows;
        } finally {
            await pools.endAll();
        }
    }
}

/** One round trip through the proxy: an SSLRequest and the server's one-byte answer, on a connection a full RTT old. */
async function probeRoundTrip(port: number, rtt: number): Promise<number> {
    return await new Promise<number>((resolve, reject) => {
        const socket = tcpConnect(port, "127.0.0.1");
        socket.setNoDelay(true);
        let t0 = 0;
        socket.once("error", reject);
        socket.once("data", () => {
            const ms = performance.now() - t0;
            socket.destroy();
            resolve(ms);
        });
        socket.once("connect", () => {
            setTimeout(() => {
                t0 = performance.now();
                // SSLRequest: length 8, code 80877103.
                socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
            }, rtt + 5);
        });
    });
}

// ---------------------------------------------------------------------------------------------

/** Runs the latency mode; resolves with the exit code. */
export async function runLatencyBench(argv: string[]): Promise<number> {
    const options = parseLatencyOptions(argv);
    const started = performance.now();
    const { server, caPem } = await startTlsPostgres();
    let stack: StackDatabase | undefined;
    const proxies: RunningProxy[] = [];
    try {
        stack = await createStackDatabase(server.url, "latency");
        const version = String((await query(server.url, "SHOW server_version"))[0]!.server_version);
        const seedHash = await bcrypt.hash(PASSWORD, options.cost);
        await query(
            stack.db.url,
            `INSERT INTO ${ident(stack.schema)}.users (email, password_hash, nickname)
             SELECT 'bench-' || g || '@bench.test', $1, 'bench ' || g FROM generate_series(0, $2::int - 1) AS g`,
            [seedHash, options.seedUsers],
        );
        const cpu = cpus();
        process.stdout.write(
            `bench: node ${process.version}, Postgres ${version}, ${cpu.length} CPU(s) ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM\n` +
                `bench: latency mode: every client through a loopback proxy adding RTT ${options.rtts.join(", ")} ms, TLS verify-full against a generated CA; ` +
                `bcrypt cost ${options.cost}, DB_POOL_MAX ${options.poolMax}, user-sync pool ${ACTION_POOL_MAX}, ${options.seedUsers} seeded users, at most ${options.rowSeconds} s per row${options.quick ? ", QUICK run" : ""}\n` +
                `bench: scripts and baseline on pg ${SCRIPT_MODULES.pg} and bcrypt ${SCRIPT_MODULES.bcrypt}; the Actions on pg ${String((require("pg/package.json") as { version: string }).version)}\n\n`,
        );
        const bench = new LatencyBench(stack, options, caPem);
        const rows: Row[] = [];
        const flows: FlowRow[] = [];
        const probes: string[] = [];
        for (const rtt of options.rtts) {
            const proxy = await startLatencyProxy({ targetPort: Number(new URL(server.url).port), rttMs: rtt });
            proxies.push(proxy);
            const trips: number[] = [];
            for (let i = 0; i < 5; i++) trips.push(await probeRoundTrip(proxy.port, rtt));
            probes.push(`proxy rtt ${rtt} ms: one round trip through it (an SSLRequest and its answer, 5 probes), p50 ${percentile(trips, 0.5).toFixed(2)} ms`);
            for (const operation of OPERATIONS) {
                for (const concurrency of CONCURRENCY) {
                    for (const impl of IMPLS) rows.push(await bench.row(rtt, proxy, operation, impl, concurrency));
                }
            }
            flows.push(...(await bench.postLoginPass(rtt, proxy)));
        }
        for (const p of probes) process.stdout.write(`${p}\n`);
        process.stdout.write("\n");
        printRows(rows);
        process.stdout.write("\n");
        printFlows(flows);
        const targets = options.rtts.flatMap((rtt) => targetsFor(rtt, rows, flows, options.poolMax));
        process.stdout.write("\n");
        for (const t of targets) process.stdout.write(`LATENCY TARGET ${t.kind} ${t.pass ? "PASS" : "FAIL"} ${t.name}: ${t.measured}\n`);
        const failed = targets.filter((t) => !t.pass).length;
        const errors = rows.reduce((n, r) => n + r.measured.errors, 0) + flows.reduce((n, f) => n + f.errors, 0);
        process.stdout.write(
            `\nlatency targets: ${targets.length - failed}/${targets.length} passed; call errors: ${errors}; script log lines: ${bench.logLines}; ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
        return options.strict && failed > 0 ? 1 : 0;
    } finally {
        for (const p of proxies) await p.close().catch(() => undefined);
        await stack?.teardown();
        await server.stop();
    }
}
