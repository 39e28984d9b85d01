/**
 * A tenant's Management API on 127.0.0.1 (port 0) for the adoption tool's tests: real HTTP, answers
 * in the Management API's documented shapes.
 *
 * - `POST /oauth/token`: client credentials (JSON body), 401 `access_denied` for wrong credentials,
 *   403 for a client not authorized on the Management API or another audience.
 * - `GET /api/v2/...` with the token: clients, resource servers, roles and their permissions,
 *   client grants (offset pagination: `page`, `per_page`, `include_totals` gives
 *   `{ <key>, start, limit, total }`, without it the bare array), Actions and the trigger's bindings
 *   (`{ <key>, total, page, per_page }`), connections, a connection's clients and a client's
 *   connections (checkpoint pagination: `take`, `from`, `{ <key>, next }`), tenant settings.
 * - Scopes: a GET the token's scopes do not allow is 403 `Insufficient scope, expected any of: ...`.
 * - Rate limits: every `rateLimitEvery`-th API request is 429 with `x-ratelimit-limit`,
 *   `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds), as Auth0 sends them.
 * - Anything but GET on /api/v2 is 405 and recorded: the tests check the tool never writes.
 */
import { randomBytes } from "node:crypto";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Obj = Record<string, unknown>;

export interface FakeTenant {
    domain: string;
    clients: Obj[];
    resourceServers: Obj[];
    roles: Obj[];
    /** Role id to its permissions (`{ permission_name, resource_server_identifier, ... }`). */
    rolePermissions: Record<string, Obj[]>;
    actions: Obj[];
    /** The post-login trigger's bindings, in order. */
    bindings: Obj[];
    connections: Obj[];
    /** Connection id to the client ids enabled on it. */
    connectionClients: Record<string, string[]>;
    clientGrants: Obj[];
    flags: Obj;
}

export interface ServerOptions {
    clientId: string;
    clientSecret: string;
    /** Scopes the token carries. Defaults to every read scope the tool needs. */
    scopes?: string[];
    /** false: the client is not authorized on the Management API (403 at sign-in). */
    authorized?: boolean;
    /** Every n-th API request is answered 429 (0: never). */
    rateLimitEvery?: number;
}

export interface Recorded {
    method: string;
    path: string;
    status: number;
    /** When it arrived (epoch milliseconds). */
    at: number;
    /** For a 429: the x-ratelimit-reset it was told (epoch seconds). */
    reset?: number;
}

export interface FakeManagementApi {
    /** `http://127.0.0.1:<port>` */
    url: string;
    requests: Recorded[];
    close(): Promise<void>;
}

export const READ_SCOPES = [
    "read:clients",
    "read:resource_servers",
    "read:roles",
    "read:actions",
    "read:connections",
    "read:client_grants",
    "read:tenant_settings",
];

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
    return status;
}

function forbidden(res: ServerResponse, scope: string): number {
    return send(res, 403, { statusCode: 403, error: "Forbidden", message: `Insufficient scope, expected any of: ${scope}`, errorCode: "insufficient_scope" });
}

function offset(res: ServerResponse, q: URLSearchParams, key: string, items: Obj[]): number {
    const page = Number(q.get("page") ?? 0);
    const perPage = Math.min(Number(q.get("per_page") ?? 50), 100);
    const slice = items.slice(page * perPage, page * perPage + perPage);
    if (q.get("include_totals") !== "true") return send(res, 200, slice);
    return send(res, 200, { [key]: slice, start: page * perPage, limit: perPage, total: items.length });
}

function actionsPage(res: ServerResponse, q: URLSearchParams, key: string, items: Obj[]): number {
    const page = Number(q.get("page") ?? 0);
    const perPage = Math.min(Number(q.get("per_page") ?? 20), 100);
    return send(res, 200, { total: items.length, page, per_page: perPage, [key]: items.slice(page * perPage, page * perPage + perPage) });
}

function checkpoint(res: ServerResponse, q: URLSearchParams, key: string, items: Obj[]): number {
    const take = Math.min(Number(q.get("take") ?? 50), 1000);
    const from = q.get("from");
    const start = from ? Number(Buffer.from(from, "base64url").toString("utf8").replace(/^at:/, "")) : 0;
    const slice = items.slice(start, start + take);
    const next = start + take < items.length ? Buffer.from(`at:${start + take}`).toString("base64url") : undefined;
    return send(res, 200, { [key]: slice, ...(next ? { next } : {}) });
}

export async function startManagementApi(tenant: FakeTenant, options: ServerOptions): Promise<FakeManagementApi> {
    const requests: Recorded[] = [];
    const tokens = new Set<string>();
    const scopes = new Set(options.scopes ?? READ_SCOPES);
    let apiRequests = 0;
    let lastReset: number | undefined;

    const route = (method: string, url: URL, body: unknown, auth: string, res: ServerResponse): number => {
        if (url.pathname === "/oauth/token") {
            const b = (body ?? {}) as Obj;
            if (method !== "POST" || b.grant_type !== "client_credentials")
                return send(res, 400, { error: "invalid_request", error_description: "expected client credentials" });
            if (b.client_id !== options.clientId || b.client_secret !== options.clientSecret)
                return send(res, 401, { error: "access_denied", error_description: "Unauthorized" });
            const audience = `https://${tenant.domain}/api/v2/`;
            if (b.audience !== audience)
                return send(res, 403, { error: "access_denied", error_description: `Service not enabled within domain: ${String(b.audience)}` });
            if (options.authorized === false) {
                return send(res, 403, {
                    error: "access_denied",
                    error_description: `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API.`,
                });
            }
            const token = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString("base64url")}.${randomBytes(16).toString("base64url")}`;
            tokens.add(token);
            return send(res, 200, { access_token: token, scope: [...scopes].join(" "), expires_in: 86_400, token_type: "Bearer" });
        }
        if (!url.pathname.startsWith("/api/v2/")) return send(res, 404, { statusCode: 404, error: "Not Found", message: "Not Found" });
        if (method !== "GET") return send(res, 405, { statusCode: 405, error: "Method Not Allowed", message: "this stand-in only reads" });
        if (!tokens.has(auth.replace(/^Bearer /, ""))) return send(res, 401, { statusCode: 401, error: "Unauthorized", message: "Invalid token" });
        apiRequests++;
        if (options.rateLimitEvery && apiRequests % options.rateLimitEvery === 0) {
            // The next second boundary: the bucket refills there.
            const reset = Math.ceil(Date.now() / 1000);
            lastReset = reset;
            return send(
                res,
                429,
                { statusCode: 429, error: "Too Many Requests", message: "Global limit has been reached", errorCode: "too_many_requests" },
                { "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
            );
        }
        const need = (scope: string) => (scopes.has(scope) ? undefined : forbidden(res, scope));
        const q = url.searchParams;
        const p = url.pathname.slice("/api/v2".length);
        let m: RegExpExecArray | null;
        if (p === "/clients") return need("read:clients") ?? offset(res, q, "clients", tenant.clients);
        if (p === "/resource-servers") return need("read:resource_servers") ?? offset(res, q, "resource_servers", tenant.resourceServers);
        if (p === "/roles") return need("read:roles") ?? offset(res, q, "roles", tenant.roles);
        if ((m = /^\/roles\/([^/]+)\/permissions$/.exec(p)))
            return need("read:roles") ?? offset(res, q, "permissions", tenant.rolePermissions[decodeURIComponent(m[1]!)] ?? []);
        if (p === "/client-grants") {
            const grants = tenant.clientGrants.filter(
                (g) => (!q.get("client_id") || g.client_id === q.get("client_id")) && (!q.get("audience") || g.audience === q.get("audience")),
            );
            return need("read:client_grants") ?? offset(res, q, "client_grants", grants);
        }
        if (p === "/actions/actions") return need("read:actions") ?? actionsPage(res, q, "actions", tenant.actions);
        if (p === "/actions/triggers/post-login/bindings") return need("read:actions") ?? actionsPage(res, q, "bindings", tenant.bindings);
        if (p === "/connections") return need("read:connections") ?? checkpoint(res, q, "connections", tenant.connections);
        if ((m = /^\/connections\/([^/]+)\/clients$/.exec(p))) {
            return (
                need("read:connections") ??
                checkpoint(
                    res,
                    q,
                    "clients",
                    (tenant.connectionClients[decodeURIComponent(m[1]!)] ?? []).map((id) => ({ client_id: id })),
                )
            );
        }
        if ((m = /^\/clients\/([^/]+)\/connections$/.exec(p))) {
            const id = decodeURIComponent(m[1]!);
            const enabled = tenant.connections.filter((c) => (tenant.connectionClients[String(c.id)] ?? []).includes(id));
            return need("read:connections") ?? checkpoint(res, q, "connections", enabled);
        }
        if (p === "/tenants/settings") return need("read:tenant_settings") ?? send(res, 200, { flags: tenant.flags });
        return send(res, 404, { statusCode: 404, error: "Not Found", message: `no route ${p}` });
    };

    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            let body: unknown;
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
                body = undefined;
            }
            const url = new URL(req.url ?? "/", "http://127.0.0.1");
            const at = Date.now();
            lastReset = undefined;
            const status = route(req.method ?? "", url, body, String(req.headers.authorization ?? ""), res);
            requests.push({ method: req.method ?? "", path: url.pathname + url.search, status, at, ...(lastReset !== undefined ? { reset: lastReset } : {}) });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
