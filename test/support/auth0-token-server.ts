/**
 * A real OAuth token endpoint on 127.0.0.1 (port 0) for the ManagementApiToken tests: it checks
 * the client-credentials request the way Auth0 does (JSON body with exactly grant_type, client_id,
 * client_secret and audience) and can be told to answer with errors instead.
 */
import { randomBytes } from "node:crypto";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface TokenRequest {
    method: string;
    path: string;
    contentType: string;
    body: unknown;
}

export type Answer = (req: TokenRequest, res: ServerResponse) => void;

export interface TokenServer {
    /** `http://127.0.0.1:<port>/oauth/token` */
    url: string;
    requests: TokenRequest[];
    /** Tokens handed out, in order. */
    issued: string[];
    /** Answer the next requests with this instead of checking and granting. */
    answerWith(answer: Answer | undefined): void;
    close(): Promise<void>;
}

export interface Client {
    clientId: string;
    clientSecret: string;
    audience: string;
    /** `expires_in` of the tokens granted. Defaults to 86400. */
    expiresIn?: number;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
}

export async function startTokenServer(client: Client): Promise<TokenServer> {
    const requests: TokenRequest[] = [];
    const issued: string[] = [];
    let answer: Answer | undefined;

    const grant: Answer = (req, res) => {
        const b = req.body as Record<string, unknown> | undefined;
        const expected = { grant_type: "client_credentials", client_id: client.clientId, client_secret: client.clientSecret, audience: client.audience };
        const exact = b !== null && typeof b === "object" && JSON.stringify(Object.keys(b).sort()) === JSON.stringify(Object.keys(expected).sort());
        if (req.method !== "POST" || req.path !== "/oauth/token" || !req.contentType.startsWith("application/json")) {
            return json(res, 400, { error: "invalid_request", error_description: `expected a JSON POST to /oauth/token, got ${req.method} ${req.path}` });
        }
        if (!exact || b.grant_type !== "client_credentials") return json(res, 400, { error: "invalid_request", error_description: "unexpected body" });
        if (b.client_id !== client.clientId || b.client_secret !== client.clientSecret) {
            return json(res, 401, { error: "access_denied", error_description: "Unauthorized" });
        }
        if (b.audience !== client.audience)
            return json(res, 403, { error: "access_denied", error_description: `Service not enabled within domain: ${String(b.audience)}` });
        const token = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString("base64url")}.${randomBytes(16).toString("base64url")}`;
        issued.push(token);
        json(res, 200, { access_token: token, expires_in: client.expiresIn ?? 86_400, scope: "read:users read:user_idp_tokens", token_type: "Bearer" });
    };

    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const raw = Buffer.concat(chunks).toString("utf8");
            let body: unknown;
            try {
                body = JSON.parse(raw);
            } catch {
                body = raw;
            }
            const recorded: TokenRequest = { method: req.method ?? "", path: req.url ?? "", contentType: String(req.headers["content-type"] ?? ""), body };
            requests.push(recorded);
            (answer ?? grant)(recorded, res);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}/oauth/token`,
        requests,
        issued,
        answerWith: (a) => {
            answer = a;
        },
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
