import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
    ManagementApiTokenInputs,
    ManagementApiTokenOutputs,
    managementApiTokenProvider as provider,
    tokenNeedsRenewal,
} from "../../infra/dynamic/management-token";
import { freePort } from "../support/embedded";
import { json, startTokenServer, TokenServer } from "../support/auth0-token-server";
import { failedProperty } from "../support/check-failures";

const clientSecret = `cs-${randomBytes(24).toString("base64url")}`;
const client = { clientId: "m2m-client-id", clientSecret, audience: "https://tenant.eu.auth0.com/api/v2/" };
let server: TokenServer;

beforeAll(async () => {
    server = await startTokenServer(client);
});
afterAll(async () => server?.close());
afterEach(() => server.answerWith(undefined));

function inputs(extra: Partial<ManagementApiTokenInputs> = {}): ManagementApiTokenInputs {
    return { tokenUrl: server.url, ...client, refreshBeforeSeconds: 3600, ...extra };
}

/** Outputs as the state holds them, with the token expiring `inSeconds` from now. */
function stateExpiringIn(inSeconds: number, extra: Partial<ManagementApiTokenOutputs> = {}): ManagementApiTokenOutputs {
    return { ...inputs(), token: "eyJ.x.y", scope: "read:users", expiresAt: new Date(Date.now() + inSeconds * 1000).toISOString(), ...extra };
}

async function failure(p: Promise<unknown>): Promise<string> {
    const err = await p.then(
        () => undefined,
        (e: Error) => e,
    );
    if (!err) throw new Error("expected the call to fail");
    return err.message;
}

describe("ManagementApiToken: create and update", () => {
    it("create POSTs the client-credentials grant as JSON and outputs the token, its expiry and scope", async () => {
        const before = Date.now();
        const res = await provider.create(inputs());
        const after = Date.now();
        const request = server.requests.at(-1)!;
        expect(request).toEqual({
            method: "POST",
            path: "/oauth/token",
            contentType: "application/json",
            body: { grant_type: "client_credentials", client_id: client.clientId, client_secret: clientSecret, audience: client.audience },
        });
        expect(res.outs?.token).toBe(server.issued.at(-1));
        expect(res.outs?.scope).toBe("read:users read:user_idp_tokens");
        const expires = Date.parse(res.outs!.expiresAt);
        expect(expires).toBeGreaterThanOrEqual(before + 86_400_000);
        expect(expires).toBeLessThanOrEqual(after + 86_400_000);
        expect(res.outs!.expiresAt).toBe(new Date(expires).toISOString());
    });

    it("update fetches a new token and keeps the id (an update, not a replace)", async () => {
        const created = await provider.create(inputs());
        const updated = await provider.update!(created.id, created.outs!, inputs());
        expect(updated.outs?.token).toBe(server.issued.at(-1));
        expect(updated.outs?.token).not.toBe(created.outs?.token);
        expect(Date.parse(updated.outs!.expiresAt)).toBeGreaterThanOrEqual(Date.parse(created.outs!.expiresAt));
    });

    it("read returns the state as it is and delete has nothing to call", async () => {
        const state = stateExpiringIn(7200);
        expect(await provider.read!("some-id", state)).toEqual({ id: "some-id", props: state });
        const count = server.requests.length;
        await provider.delete!("some-id", state);
        expect(server.requests.length).toBe(count);
    });
});

describe("ManagementApiToken: the renew window in diff", () => {
    it("no change while the token is valid beyond refreshBeforeSeconds", async () => {
        expect(await provider.diff!("id", stateExpiringIn(7200), inputs({ refreshBeforeSeconds: 3600 }))).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    it("an update (never a replace) once within refreshBeforeSeconds of expiring, or expired, or without a valid expiry", async () => {
        const update = { changes: true, replaces: [], deleteBeforeReplace: false };
        expect(await provider.diff!("id", stateExpiringIn(1800), inputs({ refreshBeforeSeconds: 3600 }))).toEqual(update);
        expect(await provider.diff!("id", stateExpiringIn(-60), inputs({ refreshBeforeSeconds: 0 }))).toEqual(update);
        expect(await provider.diff!("id", stateExpiringIn(7200, { expiresAt: "not a date" }), inputs())).toEqual(update);
    });

    it("uses the new refreshBeforeSeconds: widening the window past the expiry asks for a renewal, alone it changes nothing", async () => {
        expect(await provider.diff!("id", stateExpiringIn(7200), inputs({ refreshBeforeSeconds: 10_800 }))).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!("id", stateExpiringIn(7200), inputs({ refreshBeforeSeconds: 60 }))).toMatchObject({ changes: false });
    });

    it("a changed tokenUrl, clientId, audience or client secret (or an unknown one) is an update, not a replace", async () => {
        const state = stateExpiringIn(7200);
        for (const change of [
            { tokenUrl: "https://other.eu.auth0.com/oauth/token" },
            { clientId: "another-client" },
            { audience: "https://other.eu.auth0.com/api/v2/" },
            { clientSecret: "rotated" },
            { clientSecret: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" },
        ]) {
            expect(await provider.diff!("id", state, inputs(change))).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        }
    });

    it("tokenNeedsRenewal at the edges of the window", () => {
        const now = Date.parse("2030-01-01T00:00:00.000Z");
        expect(tokenNeedsRenewal("2030-01-01T01:00:00.000Z", 3600, now)).toBe(true);
        expect(tokenNeedsRenewal("2030-01-01T01:00:00.001Z", 3600, now)).toBe(false);
        expect(tokenNeedsRenewal("2029-12-31T23:59:59.000Z", 0, now)).toBe(true);
        expect(tokenNeedsRenewal(undefined, 0, now)).toBe(true);
    });
});

describe("ManagementApiToken: endpoint errors are clear and never carry the secret or a token", () => {
    const expectClean = (message: string) => {
        expect(message).not.toContain(clientSecret);
        for (const t of server.issued) expect(message).not.toContain(t);
        expect(message).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    };

    it("a wrong client secret: HTTP 401 with Auth0's error and description, naming the endpoint and client", async () => {
        const message = await failure(provider.create(inputs({ clientSecret: "wrong-secret-value" })));
        expect(message).toBe(`ManagementApiToken: token endpoint ${server.url} (client m2m-client-id): HTTP 401 access_denied: Unauthorized`);
        expect(message).not.toContain("wrong-secret-value");
    });

    it("an audience the client may not use: HTTP 403", async () => {
        const message = await failure(provider.create(inputs({ audience: "https://elsewhere.example/api/v2/" })));
        expect(message).toMatch(/HTTP 403 access_denied: Service not enabled within domain/);
    });

    it("an endpoint that echoes the secret or a token in its error has them redacted", async () => {
        server.answerWith((_req, res) =>
            json(res, 400, { error: "invalid_client", error_description: `bad secret ${clientSecret}, token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln` }),
        );
        const message = await failure(provider.create(inputs()));
        expect(message).toMatch(/HTTP 400 invalid_client: bad secret \[redacted\], token \[redacted token\]/);
        expectClean(message);
    });

    it("a non-JSON error page, a non-JSON success, an answer without access_token or expires_in", async () => {
        server.answerWith((_req, res) => {
            res.writeHead(502, { "content-type": "text/html" });
            res.end("<html>Bad gateway</html>");
        });
        // One attempt: the retry of a 502 is test/auth0/retry.test.ts's business.
        expect(await failure(provider.create(inputs({ retry: { maxAttempts: 1 } })))).toMatch(/: HTTP 502 \(not JSON, text\/html\)$/);

        server.answerWith((_req, res) => {
            res.writeHead(200, { "content-type": "text/plain" });
            res.end("ok");
        });
        expect(await failure(provider.create(inputs()))).toMatch(/: HTTP 200 but the answer is not a JSON object \(text\/plain\)$/);

        server.answerWith((_req, res) => json(res, 200, { expires_in: 60 }));
        expect(await failure(provider.create(inputs()))).toMatch(/the answer has no access_token$/);

        const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ5In0.c2lnMg";
        server.answerWith((_req, res) => json(res, 200, { access_token: token, expires_in: "soon" }));
        const message = await failure(provider.create(inputs()));
        expect(message).toMatch(/the answer has no valid expires_in \(seconds\)$/);
        expect(message).not.toContain(token);
    });

    it("no answer within timeoutMs", async () => {
        server.answerWith(() => undefined); // never answers; close() ends the connection
        const message = await failure(provider.create(inputs({ timeoutMs: 200 })));
        expect(message).toBe(`ManagementApiToken: token endpoint ${server.url} (client m2m-client-id): no answer within 200 ms`);
    });

    it("nothing listening: the request fails naming the cause", async () => {
        const url = `http://127.0.0.1:${await freePort()}/oauth/token`;
        expect(await failure(provider.create(inputs({ tokenUrl: url })))).toMatch(/request failed \(ECONNREFUSED\)$/);
    });

    it("a redirect is refused: the body with the secret is never sent elsewhere", async () => {
        const elsewhere: string[] = [];
        const trap = createServer((req, res) => {
            elsewhere.push(req.url ?? "");
            json(res, 200, { access_token: "trap", expires_in: 60 });
        });
        await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
        try {
            const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/steal`;
            server.answerWith((_req, res) => {
                res.writeHead(307, { location: trapUrl });
                res.end();
            });
            expect(await failure(provider.create(inputs()))).toMatch(/request failed \(.*redirect.*\)/i);
            expect(elsewhere).toEqual([]);
        } finally {
            await new Promise<void>((resolve) => trap.close(() => resolve()));
        }
    });
});

describe("ManagementApiToken: check", () => {
    it("accepts https and loopback http; refuses plain http elsewhere, credentials in the URL, bad numbers", async () => {
        expect((await provider.check!({} as ManagementApiTokenInputs, inputs())).failures).toEqual([]);
        expect((await provider.check!({} as ManagementApiTokenInputs, inputs({ tokenUrl: "https://tenant.eu.auth0.com/oauth/token" }))).failures).toEqual([]);
        const res = await provider.check!({} as ManagementApiTokenInputs, {
            ...inputs(),
            tokenUrl: "http://tenant.eu.auth0.com/oauth/token",
            audience: "https://user:pw@tenant.eu.auth0.com/api/v2/",
            clientId: "",
            clientSecret: "",
            refreshBeforeSeconds: -1,
            timeoutMs: 0,
        });
        expect(res.failures?.map(failedProperty)).toEqual(["tokenUrl", "audience", "clientId", "clientSecret", "refreshBeforeSeconds", "timeoutMs"]);
        expect(res.failures?.[0]?.reason).toBe("tokenUrl: must be an https URL (http only on loopback)");
        expect(res.failures?.[1]?.reason).toBe("audience: must not carry credentials");
    });
});
