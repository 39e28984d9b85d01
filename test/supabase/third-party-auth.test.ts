/**
 * The Supabase third-party auth registration against a loopback stand-in of Supabase's Management
 * API (real HTTP): create, adopt, read (drift), delete, import, errors and rate limiting.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThirdPartyAuthInputs, thirdPartyAuthProvider as provider, ThirdPartyAuthOutputs } from "../../infra/dynamic/supabase-third-party-auth";
import { failedProperty } from "../support/check-failures";
import { startSupabaseApi, SupabaseApi } from "../support/supabase-management-api";
import { expectAbsent } from "../support/leaks";

const token = `sbp_${randomBytes(20).toString("hex")}`;
const REF = "abcdefghijklmnopqrst";
const OTHER = "tsrqponmlkjihgfedcba";
let api: SupabaseApi;

beforeAll(async () => {
    api = await startSupabaseApi(token, [REF, OTHER]);
});
afterAll(async () => api?.close());

const inputs = (extra: Partial<ThirdPartyAuthInputs> = {}): ThirdPartyAuthInputs => ({
    apiUrl: api.url,
    projectRef: REF,
    accessToken: token,
    oidcIssuerUrl: "https://acme-dev.eu.auth0.com/",
    retry: { maxAttempts: 3, maxTotalWaitMs: 1_000, baseDelayMs: 1, maxDelayMs: 10 },
    ...extra,
});

async function failure(p: Promise<unknown>): Promise<string> {
    try {
        await p;
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("expected a failure");
}

describe("SupabaseThirdPartyAuth", () => {
    it("registers the tenant's issuer, reads it back, and a second create adopts it instead of adding a duplicate", async () => {
        const created = await provider.create!(inputs());
        const outs = created.outs as ThirdPartyAuthOutputs;
        expect(outs).toMatchObject({ integrationId: created.id, type: "auth0", oidcIssuerUrl: "https://acme-dev.eu.auth0.com/" });
        expect(api.projects.get(REF)).toHaveLength(1);
        expect(await provider.read!(created.id, outs)).toEqual({ id: created.id, props: outs });

        const again = await provider.create!(inputs());
        expect(again.id).toBe(created.id);
        expect(api.projects.get(REF)).toHaveLength(1);
        await provider.delete!(created.id, outs);
        expect(api.projects.get(REF)).toEqual([]);
    });

    it("a deleted or changed integration shows as drift on refresh", async () => {
        const { id, outs } = await provider.create!(inputs({ projectRef: OTHER }));
        const stored = api.projects.get(OTHER)!;
        stored[0]!.oidc_issuer_url = "https://someone-else.eu.auth0.com/";
        expect(((await provider.read!(id, outs as ThirdPartyAuthOutputs)).props as ThirdPartyAuthOutputs).oidcIssuerUrl).toBe(
            "https://someone-else.eu.auth0.com/",
        );
        stored.splice(0);
        expect(await provider.read!(id, outs as ThirdPartyAuthOutputs)).toEqual({});
        // Already gone is not an error on delete.
        await provider.delete!(id, outs as ThirdPartyAuthOutputs);
    });

    it("import: read with the declared inputs finds an integration made elsewhere", async () => {
        const made = await fetch(`${api.url}/v1/projects/${REF}/config/auth/third-party-auth`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ oidc_issuer_url: "https://acme-dev.eu.auth0.com/" }),
        }).then((r) => r.json() as Promise<{ id: string }>);
        const read = await provider.read!(made.id, inputs() as ThirdPartyAuthOutputs);
        expect(read).toMatchObject({ id: made.id, props: { integrationId: made.id, type: "auth0" } });
        await provider.delete!(made.id, read.props as ThirdPartyAuthOutputs);
    });

    it("a new issuer or project is a replace (delete first), a rotated token only an update", async () => {
        const olds = { ...inputs(), integrationId: "x", type: "auth0" };
        expect(await provider.diff!("x", olds, inputs({ oidcIssuerUrl: "https://acme.eu.auth0.com/" }))).toEqual({
            changes: true,
            replaces: ["oidcIssuerUrl"],
            deleteBeforeReplace: true,
        });
        expect(await provider.diff!("x", olds, inputs({ accessToken: "sbp_rotated" }))).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
        expect((await provider.diff!("x", olds, inputs())).changes).toBe(false);
    });

    it("retries 429 within the bound, then succeeds", async () => {
        api.rateLimitNext(2, "0");
        const before = api.requests.length;
        const { id, outs } = await provider.create!(inputs());
        expect(api.requests.slice(before).filter((r) => r.method === "GET")).toHaveLength(3);
        await provider.delete!(id, outs as ThirdPartyAuthOutputs);
    });

    it("fails clearly, without the token: a wrong token, an unknown project, a rate limit past the bound", async () => {
        const wrong = await failure(provider.create!(inputs({ accessToken: "sbp_not_the_token" })));
        expect(wrong).toBe(`SupabaseThirdPartyAuth ${REF}: list: HTTP 401 Unauthorized`);
        expect(await failure(provider.create!(inputs({ projectRef: "zzzzzzzzzzzzzzzzzzzz" })))).toBe(
            "SupabaseThirdPartyAuth zzzzzzzzzzzzzzzzzzzz: list: HTTP 404 Project not found",
        );
        api.rateLimitNext(5, "0");
        const limited = await failure(provider.create!(inputs()));
        expect(limited).toBe(`SupabaseThirdPartyAuth ${REF}: list: HTTP 429 Too many requests after 3 attempts (retry bound reached)`);
        for (const m of [wrong, limited]) expectAbsent(m, token, "the access token");
        api.rateLimitNext(0);
    });

    it("check names each bad input, never the token, and prints no value", async () => {
        const res = await provider.check!(
            {} as ThirdPartyAuthInputs,
            { apiUrl: "http://api.supabase.com", projectRef: "ABC", accessToken: "", oidcIssuerUrl: "http://acme.eu.auth0.com" } as ThirdPartyAuthInputs,
        );
        expect(res.failures?.map(failedProperty)).toEqual(["apiUrl", "projectRef", "accessToken", "oidcIssuerUrl"]);
        expect((await provider.check!({} as ThirdPartyAuthInputs, inputs())).failures).toEqual([]);
    });
});
