/**
 * The latency mode's proxy (scripts/bench/latency-proxy.ts): what it relays, not how fast. Bytes
 * arrive complete and in order in both directions however they are chunked, the end of a stream
 * follows its data, and it counts the connections it accepts, in this thread and in its worker.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { AddressInfo, createServer, Server, Socket, connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLatencyProxy, startLatencyProxy } from "../../scripts/bench/latency-proxy";

let echo: Server;
let echoPort: number;

beforeAll(async () => {
    // Echoes every byte back, and ends its side when the client ends.
    echo = createServer((socket) => {
        socket.on("data", (chunk) => socket.write(chunk));
        socket.on("end", () => socket.end());
        socket.on("error", () => undefined);
    });
    echo.listen(0, "127.0.0.1");
    await once(echo, "listening");
    echoPort = (echo.address() as AddressInfo).port;
});

afterAll(async () => {
    await new Promise((resolve) => echo.close(resolve));
});

/** Sends `chunks` one per tick through `port`, ends, and resolves with everything received before the end. */
async function roundTrip(port: number, chunks: Buffer[]): Promise<Buffer> {
    const socket: Socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (b) => received.push(b));
    await once(socket, "connect");
    for (const c of chunks) {
        socket.write(c);
        await new Promise((resolve) => setImmediate(resolve));
    }
    socket.end();
    await once(socket, "end");
    socket.destroy();
    return Buffer.concat(received);
}

describe("the latency proxy", () => {
    it("relays every byte in order both ways, and the end after the data", async () => {
        const proxy = await createLatencyProxy({ targetPort: echoPort, rttMs: 6 });
        try {
            const chunks = Array.from({ length: 120 }, (_, i) => randomBytes(1 + ((i * 37) % 700)));
            expect((await roundTrip(proxy.port, chunks)).equals(Buffer.concat(chunks))).toBe(true);
            // Several connections at once keep their own streams.
            const many = Array.from({ length: 5 }, () => Array.from({ length: 30 }, () => randomBytes(50)));
            const results = await Promise.all(many.map((c) => roundTrip(proxy.port, c)));
            results.forEach((r, i) => expect(r.equals(Buffer.concat(many[i]!))).toBe(true));
        } finally {
            await proxy.close();
        }
    });

    it("at RTT 0 relays without holding", async () => {
        const proxy = await createLatencyProxy({ targetPort: echoPort, rttMs: 0 });
        try {
            const chunks = Array.from({ length: 40 }, () => randomBytes(64));
            expect((await roundTrip(proxy.port, chunks)).equals(Buffer.concat(chunks))).toBe(true);
        } finally {
            await proxy.close();
        }
    });

    it("in its worker thread, counts each connection it accepts", async () => {
        const proxy = await startLatencyProxy({ targetPort: echoPort, rttMs: 4 });
        try {
            expect(proxy.connections()).toBe(0);
            for (let i = 0; i < 3; i++) expect((await roundTrip(proxy.port, [Buffer.from(`hello ${i}`)])).toString()).toBe(`hello ${i}`);
            expect(proxy.connections()).toBe(3);
        } finally {
            await proxy.close();
        }
    });
});
