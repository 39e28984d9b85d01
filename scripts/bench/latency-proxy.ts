/**
 * A TCP proxy on loopback that makes a WAN of it: every chunk is held for half the round-trip
 * time in each direction, in order, so a client behind it pays the round trips Auth0's scripts pay
 * to a database in another region (TLS handshake, SCRAM authentication, each query).
 *
 * - One-way delay: RTT / 2 per chunk, per direction; chunks leave in the order they came.
 * - TCP's own handshake: the client's connect() resolves at once on loopback, where a real one
 *   takes a round trip; so the client's first bytes are held until a full RTT after the
 *   connection was accepted, plus the one-way delay, as if they were sent once connect() had.
 * - FIN follows the data in order; an error or a reset on either side closes both.
 * - Counts the connections it accepts (each a real TCP connection the database sees).
 *
 * `startLatencyProxy` runs it in a worker thread, so that its timers fire on time while the
 * benchmark's own thread is busy (TLS, bcrypt callbacks, driving the calls). Everything listens and
 * connects on 127.0.0.1.
 */
import { createServer, Server, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export interface LatencyProxyOptions {
    /** The database's address. */
    targetPort: number;
    targetHost?: string;
    /** Round-trip time added, in milliseconds (0 relays without holding anything). */
    rttMs: number;
}

/** One direction of a connection: chunks in order, each released at its due time. */
class DelayedPipe {
    private readonly queue: { due: number; chunk: Buffer | null }[] = [];
    private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
    private closed = false;

    constructor(
        private readonly to: Socket,
        private readonly delayMs: number,
    ) {}

    /** Queues `chunk` (null: the end of the stream) to leave no earlier than `notBefore` + the delay. */
    push(chunk: Buffer | null, notBefore = performance.now()): void {
        if (this.closed) return;
        if (this.delayMs === 0 && this.queue.length === 0 && notBefore <= performance.now()) {
            this.emit(chunk);
            return;
        }
        const last = this.queue[this.queue.length - 1];
        // Never before a chunk queued earlier: order is kept even if the clock says otherwise.
        this.queue.push({ due: Math.max(notBefore + this.delayMs, last ? last.due : 0), chunk });
        this.schedule();
    }

    close(): void {
        this.closed = true;
        clearTimeout(this.timer as NodeJS.Timeout);
        clearImmediate(this.timer as NodeJS.Immediate);
        this.queue.length = 0;
    }

    private emit(chunk: Buffer | null): void {
        if (this.to.destroyed) return;
        if (chunk === null) this.to.end();
        else this.to.write(chunk);
    }

    /**
     * Node's timers have a resolution of 1 ms and round down (a 2.5 ms wait fires after 2 to 3 ms,
     * and a wait under 1 ms takes 1 ms or more), which would add a millisecond or two to every
     * round trip. So a timer wakes the pipe up to 1.5 ms early and the rest is waited out on the
     * event loop's check phase (setImmediate), which keeps serving I/O in between.
     */
    private schedule(): void {
        if (this.timer !== undefined || this.queue.length === 0) return;
        const tick = () => {
            this.timer = undefined;
            const now = performance.now();
            while (this.queue.length > 0 && this.queue[0]!.due <= now) this.emit(this.queue.shift()!.chunk);
            this.schedule();
        };
        const wait = this.queue[0]!.due - performance.now();
        this.timer = wait > 1.5 ? setTimeout(tick, Math.floor(wait - 1.5)) : setImmediate(tick);
    }
}

export interface RunningProxy {
    port: number;
    /** Connections accepted since the proxy started. */
    connections(): number;
    close(): Promise<void>;
}

/** The proxy, in this thread (see `startLatencyProxy` for the worker). */
export async function createLatencyProxy(
    options: LatencyProxyOptions,
    onConnection: () => void = () => undefined,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
    const oneWay = options.rttMs / 2;
    const sockets = new Set<Socket>();
    // Half-open both ways: a FIN must not close the other direction, whose data is still on its way.
    const server = createServer({ allowHalfOpen: true }, (client) => {
        const accepted = performance.now();
        onConnection();
        const upstream = new Socket({ allowHalfOpen: true });
        sockets.add(client);
        sockets.add(upstream);
        client.setNoDelay(true);
        upstream.setNoDelay(true);
        const toServer = new DelayedPipe(upstream, oneWay);
        const toClient = new DelayedPipe(client, oneWay);
        const teardown = () => {
            toServer.close();
            toClient.close();
            client.destroy();
            upstream.destroy();
            sockets.delete(client);
            sockets.delete(upstream);
        };
        // The client's bytes leave no earlier than one RTT after accept: the TCP handshake it skipped.
        client.on("data", (chunk: Buffer) => toServer.push(chunk, Math.max(performance.now(), accepted + options.rttMs)));
        client.on("end", () => toServer.push(null, Math.max(performance.now(), accepted + options.rttMs)));
        upstream.on("data", (chunk: Buffer) => toClient.push(chunk));
        upstream.on("end", () => toClient.push(null));
        client.on("error", teardown);
        upstream.on("error", teardown);
        client.on("close", () => sockets.delete(client));
        // The server went away: the client learns it once what was on the way has arrived.
        upstream.on("close", () => {
            sockets.delete(upstream);
            toClient.push(null);
        });
        upstream.connect(options.targetPort, options.targetHost ?? "127.0.0.1");
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return {
        server,
        port,
        close: async () => {
            for (const s of sockets) s.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

interface WorkerInput extends LatencyProxyOptions {
    counter: SharedArrayBuffer;
}

/** Starts the proxy in a worker thread; `connections()` reads a counter the worker shares. */
export async function startLatencyProxy(options: LatencyProxyOptions): Promise<RunningProxy> {
    const counter = new SharedArrayBuffer(4);
    const count = new Int32Array(counter);
    // The worker runs this file under ts-node, as the benchmark does.
    const worker = new Worker(`require("ts-node/register/transpile-only"); require(${JSON.stringify(__filename)});`, {
        eval: true,
        workerData: { ...options, counter } satisfies WorkerInput,
    });
    const port = await new Promise<number>((resolve, reject) => {
        worker.once("message", (m: { port?: number; error?: string }) =>
            m.port ? resolve(m.port) : reject(new Error(`latency proxy: ${m.error ?? "no port"}`)),
        );
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`latency proxy: the worker exited with ${code} before listening`)));
    });
    return {
        port,
        connections: () => Atomics.load(count, 0),
        close: async () => {
            const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
            worker.postMessage("close");
            await exited;
        },
    };
}

// In the worker: run the proxy until told to close.
if (!isMainThread && parentPort && (workerData as Partial<WorkerInput> | undefined)?.counter) {
    const input = workerData as WorkerInput;
    const count = new Int32Array(input.counter);
    const port = parentPort;
    createLatencyProxy(input, () => Atomics.add(count, 0, 1)).then(
        (proxy) => {
            port.on("message", (m) => {
                if (m === "close") void proxy.close().then(() => process.exit(0));
            });
            port.postMessage({ port: proxy.port });
        },
        (err: unknown) => port.postMessage({ error: err instanceof Error ? err.message : String(err) }),
    );
}
