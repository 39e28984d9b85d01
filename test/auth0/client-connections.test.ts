/**
 * Issue #11 point 1: the SPA logs in only through the connections the stack declares. The
 * ClientConnections provider is driven against a loopback stand-in for the Management API that
 * behaves like a new tenant: the flag on, Username-Password-Authentication and google-oauth2 with
 * the SPA enabled on both (as Auth0 does for a client created while the flag is on).
 */
import { randomBytes } from "node:crypto";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientConnectionsInputs, clientConnectionsProvider as provider } from "../../infra/dynamic/client-connections";
import { failedProperty } from "../support/check-failures";

const deploySecret = `deploy-${randomBytes(16).toString("base64url")}`;
const SPA = "spa-client-id";
interface Tenant {
    flag: boolean;
    connections: { id: string; name: string; clients: Set<string> }[];
    calls: string[];
    /** Answer the next N Management API calls with 429. */
    rateLimitNext: number;
}
let tenant: Tenant;
let base: string;
let close: () => Promise<void>;

function newTenant(): Tenant {
    return {
        flag: true,
        connections: [
            { id: "con_upa", name: "Username-Password-Authentication", clients: new Set([SPA, "other-app"]) },
            { id: "con_google", name: "google-oauth2", clients: new Set([SPA]) },
            { id: "con_pg", name: "postgres-users", clients: new Set([SPA]) },
        ],
        calls: [],
        rateLimitNext: 0,
    };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
}

beforeAll(async () => {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
            const url = new URL(req.url ?? "/", "http://x");
            tenant.calls.push(`${req.method} ${url.pathname}`);
            if (url.pathname === "/oauth/token") {
                if (body?.client_secret !== deploySecret) return send(res, 401, { error: "access_denied", error_description: "Unauthorized" });
                return send(res, 200, { access_token: "eyJhbGciOiJSUzI1NiJ9.mgmt.sig", expires_in: 86400 });
            }
            if (req.headers.authorization !== "Bearer eyJhbGciOiJSUzI1NiJ9.mgmt.sig") return send(res, 401, { message: "Invalid token" });
            if (tenant.rateLimitNext > 0) {
                tenant.rateLimitNext -= 1;
                return send(
                    res,
                    429,
                    { statusCode: 429, error: "Too Many Requests", message: "Global limit has been reached" },
                    { "x-ratelimit-reset": String(Math.floor(Date.now() / 1000)) },
                );
            }
            if (req.method === "PATCH" && url.pathname === "/api/v2/tenants/settings") {
                tenant.flag = body.flags.enable_client_connections;
                return send(res, 200, { flags: { enable_client_connections: tenant.flag } });
            }
            const list = /^\/api\/v2\/clients\/([^/]+)\/connections$/.exec(url.pathname);
            if (req.method === "GET" && list) {
                const client = decodeURIComponent(list[1]!);
                const all = tenant.connections.filter((c) => c.clients.has(client));
                // Pages of two, with a checkpoint, as the endpoint pages.
                const from = Number(url.searchParams.get("from") ?? 0);
                return send(res, 200, {
                    connections: all.slice(from, from + 2).map((c) => ({ id: c.id, name: c.name, strategy: "auth0" })),
                    ...(from + 2 < all.length ? { next: String(from + 2) } : {}),
                });
            }
            const patch = /^\/api\/v2\/connections\/([^/]+)\/clients$/.exec(url.pathname);
            if (req.method === "PATCH" && patch) {
                const c = tenant.connections.find((x) => x.id === decodeURIComponent(patch[1]!));
                if (!c) return send(res, 404, { message: "connection not found" });
                for (const e of body as { client_id: string; status: boolean }[]) {
                    if (e.status) c.clients.add(e.client_id);
                    else c.clients.delete(e.client_id);
                }
                return send(res, 204, "");
            }
            send(res, 404, { message: `no route ${req.method} ${url.pathname}` });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(async () => close?.());

function inputs(extra: Partial<ClientConnectionsInputs> = {}): ClientConnectionsInputs {
    return {
        baseUrl: base,
        clientId: "deploy-client",
        clientSecret: deploySecret,
        clientIds: [SPA],
        allowedConnections: ["postgres-users"],
        setTenantFlag: true,
        retry: { baseDelayMs: 5, maxDelayMs: 1_000 },
        ...extra,
    };
}
const enabledFor = (client: string) => tenant.connections.filter((c) => c.clients.has(client)).map((c) => c.name);

describe("ClientConnections on a new tenant", () => {
    it("takes the SPA off Username-Password-Authentication and google-oauth2, keeps it on the declared connection, turns the flag off", async () => {
        tenant = newTenant();
        const res = await provider.create(inputs());
        expect(enabledFor(SPA)).toEqual(["postgres-users"]);
        expect(tenant.flag).toBe(false);
        expect(res.outs?.removed).toEqual([`${SPA} Username-Password-Authentication`, `${SPA} google-oauth2`].sort());
        // Other applications' enablings are not the stack's business.
        expect(enabledFor("other-app")).toEqual(["Username-Password-Authentication"]);
        expect(JSON.stringify(res.outs)).not.toContain(deploySecret);
    });

    it("leaves the tenant flag alone when told to, and backs off on 429", async () => {
        tenant = newTenant();
        tenant.rateLimitNext = 2;
        await provider.create(inputs({ setTenantFlag: false }));
        expect(tenant.flag).toBe(true);
        expect(enabledFor(SPA)).toEqual(["postgres-users"]);
        expect(tenant.calls.filter((c) => c.startsWith("PATCH /api/v2/tenants"))).toEqual([]);
    });

    it("a wrong deploy secret fails naming the call, never the secret", async () => {
        tenant = newTenant();
        const message = await provider.create(inputs({ clientSecret: "wrong-deploy-secret" })).then(
            () => "",
            (e: Error) => e.message,
        );
        expect(message).toBe("ClientConnections: POST /oauth/token: HTTP 401 access_denied");
        expect(enabledFor(SPA)).toContain("google-oauth2");
    });

    it("check refuses a plain-http tenant and an empty client list, naming them in the reason and never the secret", async () => {
        const res = await provider.check!({} as never, inputs({ baseUrl: "http://tenant.example/", clientIds: [] }));
        expect(res.failures!.map(failedProperty)).toEqual(["baseUrl", "clientIds"]);
        expect(JSON.stringify(res.failures)).not.toContain(deploySecret);
        expect((await provider.check!({} as never, inputs())).failures).toEqual([]);
    });

    it("runs again when the clients, the allowed connections or the flag setting change, not for a rotated secret; refresh makes no call", async () => {
        const state = { ...inputs(), removed: [] } as never;
        expect((await provider.diff!("id", state, inputs({ clientSecret: "rotated" }))).changes).toBe(false);
        expect((await provider.diff!("id", state, inputs({ allowedConnections: ["postgres-users", "google-oauth2"] }))).changes).toBe(true);
        expect((await provider.diff!("id", state, inputs({ clientIds: [SPA, "new-spa"] }))).changes).toBe(true);
        tenant = newTenant();
        await provider.read!("id", state);
        expect(tenant.calls).toEqual([]);
    });
});
