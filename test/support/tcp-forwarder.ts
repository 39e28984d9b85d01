/**
 * A TCP forwarder on a loopback port of its own to a Postgres server: another host and port that
 * reach the same database, as Supabase's connection pooler does next to the direct host.
 */
import { createConnection, createServer, Socket } from "node:net";

export interface Forwarder {
    port: number;
    close: () => Promise<void>;
}

export async function startForwarder(target: { host: string; port: number }): Promise<Forwarder> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
        const upstream = createConnection({ host: target.host, port: target.port });
        for (const s of [client, upstream]) {
            sockets.add(s);
            s.on("close", () => sockets.delete(s));
            s.on("error", () => undefined);
        }
        client.pipe(upstream).pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    return {
        port: typeof address === "object" && address ? address.port : 0,
        close: async () => {
            for (const s of sockets) s.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
