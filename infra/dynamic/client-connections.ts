import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { isLoopbackHost } from "../config/constants";
import { containsUnknown } from "./common";
import { requestJson } from "./http";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { RetryPolicy, retryPolicy } from "./retry";
import { withSecretOutputs } from "./secret-outputs";

/**
 * Makes sure the stack's clients log in only through the connections the stack declares.
 *
 * With the tenant flag `enable_client_connections` on (Auth0's default), every new client is
 * enabled on every existing connection, and new tenants ship `Username-Password-Authentication` and
 * `google-oauth2`: the SPA's users could sign up and log in through Auth0's own store or Google and
 * never touch the Postgres store. `ConnectionClients` only adds the SPA to our connection; it cannot
 * take it off the others. This resource, on create and update (never on refresh, to spare the
 * Management API and the token budget):
 *
 * 1. turns the tenant flag off (`PATCH /api/v2/tenants/settings`, that flag only: managing the
 *    whole `auth0.Tenant` would reset session lifetimes and other settings to the provider's
 *    defaults), unless `setTenantFlag` is false;
 * 2. lists the connections each client is enabled on (`GET /api/v2/clients/{id}/connections`) and
 *    disables the client on every connection not in `allowedConnections`
 *    (`PATCH /api/v2/connections/{id}/clients`).
 *
 * It runs again whenever the clients, the allowed connections or the flag setting change. Calls use
 * the deploy application's credentials and back off on 429/5xx (`./retry`). Serialized like every
 * dynamic provider: plain functions, no secret in the closure, everything through inputs.
 */

export interface ClientConnectionsInputs {
    /** `https://<tenant domain>` (http only on loopback, for tests). */
    baseUrl: string;
    /** The deploy application (client credentials with the Management API scopes). */
    clientId: string;
    clientSecret: string;
    /** The stack's clients that must use only the allowed connections. */
    clientIds: string[];
    /** Names of the connections those clients may use. */
    allowedConnections: string[];
    /** Turn the tenant flag `enable_client_connections` off. */
    setTenantFlag: boolean;
    retry?: Partial<RetryPolicy>;
}

export interface ClientConnectionsOutputs extends Omit<ClientConnectionsInputs, "clientSecret"> {
    /** `<client id> <connection name>` for every enabling this resource removed, last run. */
    removed: string[];
}

/** Problems with the inputs, each naming the field; never quotes the secret. */
export function clientConnectionsProblems(news: ClientConnectionsInputs): Problem[] {
    const problems: Problem[] = [];
    if (!containsUnknown(news.baseUrl)) {
        const ok = typeof news.baseUrl === "string" && URL.canParse(news.baseUrl);
        const u = ok ? new URL(news.baseUrl) : undefined;
        if (!u || u.pathname !== "/" || u.username || !(u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname)))) {
            problems.push(problem("baseUrl", "must be https://<tenant domain> (http only on loopback)"));
        }
    }
    if (typeof news.clientSecret !== "string" || news.clientSecret === "") problems.push(problem("clientSecret", "required"));
    if (!Array.isArray(news.allowedConnections) || news.allowedConnections.length === 0)
        problems.push(problem("allowedConnections", "at least one connection name"));
    if (!Array.isArray(news.clientIds) || news.clientIds.length === 0) problems.push(problem("clientIds", "at least one client id"));
    return problems;
}

/** One Management API call, through {@link requestJson}: errors start with `ClientConnections: <method> <path>`. */
function call(
    base: string,
    method: "GET" | "POST" | "PATCH",
    path: string,
    token: string | undefined,
    body: unknown,
    policy: RetryPolicy,
): Promise<{ status: number; json: unknown }> {
    return requestJson(`ClientConnections: ${method} ${path.replace(/\?.*$/, "")}`, method, new URL(path, base).toString(), { token, body, policy });
}

/** Applies the flag and removes every undeclared enabling. Returns what it removed. */
export async function enforceClientConnections(inputs: ClientConnectionsInputs): Promise<string[]> {
    assertNoProblems("ClientConnections", clientConnectionsProblems(inputs));
    const policy = retryPolicy(inputs.retry);
    const base = inputs.baseUrl;
    const granted = await call(
        base,
        "POST",
        "/oauth/token",
        undefined,
        { grant_type: "client_credentials", client_id: inputs.clientId, client_secret: inputs.clientSecret, audience: new URL("/api/v2/", base).toString() },
        policy,
    ).catch((err: Error) => {
        throw new Error(err.message.split(inputs.clientSecret).join("[redacted]"));
    });
    const token = (granted.json as { access_token?: unknown } | undefined)?.access_token;
    if (typeof token !== "string" || token === "") throw new Error("ClientConnections: POST /oauth/token: the answer has no access_token");

    if (inputs.setTenantFlag) await call(base, "PATCH", "/api/v2/tenants/settings", token, { flags: { enable_client_connections: false } }, policy);

    const removed: string[] = [];
    for (const clientId of inputs.clientIds) {
        const connections: { id: string; name: string }[] = [];
        let from: string | undefined;
        for (let page = 0; page < 50; page++) {
            const query = `take=100${from ? `&from=${encodeURIComponent(from)}` : ""}`;
            const { json } = await call(base, "GET", `/api/v2/clients/${encodeURIComponent(clientId)}/connections?${query}`, token, undefined, policy);
            const body = json as { connections?: { id?: unknown; name?: unknown }[]; next?: unknown } | undefined;
            for (const c of body?.connections ?? []) if (typeof c.id === "string" && typeof c.name === "string") connections.push({ id: c.id, name: c.name });
            from = typeof body?.next === "string" && body.next !== "" ? body.next : undefined;
            if (!from) break;
        }
        for (const c of connections) {
            if (inputs.allowedConnections.includes(c.name)) continue;
            await call(base, "PATCH", `/api/v2/connections/${encodeURIComponent(c.id)}/clients`, token, [{ client_id: clientId, status: false }], policy);
            removed.push(`${clientId} ${c.name}`);
        }
    }
    return removed.sort();
}

function outputs(inputs: ClientConnectionsInputs, removed: string[]): ClientConnectionsOutputs {
    const { clientSecret: _secret, ...rest } = inputs;
    return { ...rest, removed };
}

const sameList = (a: unknown, b: unknown) => JSON.stringify([...((a as string[]) ?? [])].sort()) === JSON.stringify([...((b as string[]) ?? [])].sort());

export const clientConnectionsProvider: pulumi.dynamic.ResourceProvider<ClientConnectionsInputs, ClientConnectionsOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: checkFailures(clientConnectionsProblems(news)) };
    },
    async diff(_id, olds, news) {
        // A rotated deploy secret alone changes nothing here.
        const changes =
            olds.baseUrl !== news.baseUrl ||
            olds.setTenantFlag !== news.setTenantFlag ||
            !sameList(olds.clientIds, news.clientIds) ||
            !sameList(olds.allowedConnections, news.allowedConnections) ||
            containsUnknown(news);
        return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: randomUUID(), outs: outputs(inputs, await enforceClientConnections(inputs)) };
    },
    async update(_id, _olds, news) {
        return { outs: outputs(news, await enforceClientConnections(news)) };
    },
    async read(id, props) {
        // No Management API call on refresh: the token budget and the rate limit are shared.
        return { id, props };
    },
    async delete() {
        // Leaves the tenant as it is: re-enabling the defaults would reopen the bypass.
    },
};

export interface ClientConnectionsArgs {
    /** The tenant's domain. */
    domain: pulumi.Input<string>;
    clientId: pulumi.Input<string>;
    clientSecret: pulumi.Input<string>;
    clientIds: pulumi.Input<pulumi.Input<string>[]>;
    allowedConnections: pulumi.Input<pulumi.Input<string>[]>;
    /** Defaults to true. */
    setTenantFlag?: pulumi.Input<boolean>;
}

/** See {@link clientConnectionsProvider}. Type token `pulumi-nodejs:dynamic/auth0-postgres:ClientConnections`. */
export class ClientConnections extends pulumi.dynamic.Resource {
    declare public readonly removed: pulumi.Output<string[]>;

    constructor(name: string, args: ClientConnectionsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            clientConnectionsProvider,
            name,
            {
                baseUrl: pulumi.output(args.domain).apply((d) => `https://${d}/`),
                clientId: args.clientId,
                clientSecret: pulumi.secret(args.clientSecret),
                clientIds: args.clientIds,
                allowedConnections: args.allowedConnections,
                setTenantFlag: args.setTenantFlag ?? true,
                removed: undefined,
            },
            withSecretOutputs<ClientConnectionsInputs>(opts, "clientSecret"),
            "auth0-postgres",
            "ClientConnections",
        );
    }
}
