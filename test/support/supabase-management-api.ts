/**
 * A stand-in for Supabase's Management API on 127.0.0.1 (port 0), modelled on its documented
 * third-party-auth endpoints: `GET|POST /v1/projects/{ref}/config/auth/third-party-auth` and
 * `GET|DELETE .../third-party-auth/{tpa_id}`, bearer-token auth, 404 for an unknown project, 400 for a
 * body without an issuer, and answers in the API's shapes. It can be told to rate-limit the next
 * requests (429 with Retry-After).
 */
import { randomUUID } from "node:crypto";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StoredIntegration {
    id: string;
    type: string;
    oidc_issuer_url: string | null;
    jwks_url: string | null;
    custom_jwks: unknown;
    resolved_jwks: unknown;
    inserted_at: string;
    updated_at: string;
    resolved_at: string | null;
}

export interface SupabaseApi {
    url: string;
    /** Integrations per project ref. */
    projects: Map<string, StoredIntegration[]>;
    requests: { method: string; path: string; authorization: string | undefined }[];
    /** The next `count` requests get 429 with `Retry-After: retryAfter` seconds. */
    rateLimitNext(count: number, retryAfter?: string): void;
    close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body === undefined ? "" : JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<unknown> {
    let text = "";
    for await (const chunk of req) text += chunk;
    try {
        return text ? JSON.parse(text) : undefined;
    } catch {
        return undefined;
    }
}

export async function startSupabaseApi(token: string, refs: string[]): Promise<SupabaseApi> {
    const projects = new Map(refs.map((r) => [r, [] as StoredIntegration[]]));
    const requests: SupabaseApi["requests"] = [];
    let limited = 0;
    let retryAfter = "0";
    const server = createServer(async (req, res) => {
        const path = new URL(req.url ?? "/", "http://x").pathname;
        requests.push({ method: req.method ?? "", path, authorization: req.headers.authorization });
        if (limited > 0) {
            limited--;
            res.writeHead(429, { "content-type": "application/json", "retry-after": retryAfter });
            return res.end(JSON.stringify({ message: "Too many requests" }));
        }
        if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { message: "Unauthorized" });
        const m = /^\/v1\/projects\/([^/]+)\/config\/auth\/third-party-auth(?:\/([^/]+))?$/.exec(path);
        if (!m) return send(res, 404, { message: "Not found" });
        const list = projects.get(decodeURIComponent(m[1]!));
        if (!list) return send(res, 404, { message: "Project not found" });
        const id = m[2] && decodeURIComponent(m[2]);
        if (req.method === "GET" && !id) return send(res, 200, list);
        if (req.method === "GET" && id) {
            const found = list.find((i) => i.id === id);
            return found ? send(res, 200, found) : send(res, 404, { message: "Third-party auth integration not found" });
        }
        if (req.method === "POST" && !id) {
            const b = (await bodyOf(req)) as { oidc_issuer_url?: unknown } | undefined;
            if (typeof b?.oidc_issuer_url !== "string" || !b.oidc_issuer_url.startsWith("https://"))
                return send(res, 400, { message: "oidc_issuer_url must be an https URL" });
            const now = new Date().toISOString();
            const created: StoredIntegration = {
                id: randomUUID(),
                type: /\.auth0\.com\/$/.test(b.oidc_issuer_url) ? "auth0" : "custom",
                oidc_issuer_url: b.oidc_issuer_url,
                jwks_url: null,
                custom_jwks: null,
                resolved_jwks: null,
                inserted_at: now,
                updated_at: now,
                resolved_at: null,
            };
            list.push(created);
            return send(res, 201, created);
        }
        if (req.method === "DELETE" && id) {
            const at = list.findIndex((i) => i.id === id);
            if (at < 0) return send(res, 404, { message: "Third-party auth integration not found" });
            const [gone] = list.splice(at, 1);
            return send(res, 200, gone);
        }
        return send(res, 405, { message: "Method not allowed" });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        projects,
        requests,
        rateLimitNext: (count, after = "0") => {
            limited = count;
            retryAfter = after;
        },
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}
