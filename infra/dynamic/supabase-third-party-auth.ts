import * as pulumi from "@pulumi/pulumi";
import { CONFIG_DEFAULTS, isLoopbackHost } from "../config/constants";
import { RetryPolicy, retryPolicy, retryPolicyProblems } from "./retry";
import { requestJson } from "./http";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { withSecretOutputs } from "./secret-outputs";

/**
 * Registers the Auth0 tenant as a third-party auth provider of a Supabase project, through Supabase's
 * Management API (`/v1/projects/{ref}/config/auth/third-party-auth`): Supabase then accepts the
 * tenant's tokens (by their issuer) for its Data API, Storage and Realtime. There is no Pulumi package
 * for it on the npm registry; this is the Terraform provider's `supabase_third_party_auth` as a
 * dynamic resource.
 *
 * - `create` adopts an integration that already names the issuer (an interrupted create, a re-created
 *   stack), else creates one. `read` (refresh, import) finds it by id: gone or changed shows as drift.
 * - A new project, issuer or API URL is a replace (the API has no update); a new token updates the state.
 * - `delete` removes it; already gone is fine.
 *
 * Serialized by Pulumi's closure serializer (see README.md here): plain functions,
 * the token only ever in the resource's secret inputs.
 */

export const SUPABASE_API_URL = CONFIG_DEFAULTS.supabaseAuth.apiUrl;
/** A Supabase project ref: 20 lower-case letters. */
export const PROJECT_REF = /^[a-z]{20}$/;

export interface ThirdPartyAuthInputs {
    /** Supabase's Management API. Defaults to https://api.supabase.com (loopback http for tests). */
    apiUrl: string;
    projectRef: string;
    /** A Supabase access token allowed to manage the project's auth config. Secret. */
    accessToken: string;
    /** The tenant's issuer, `https://<domain>/`. */
    oidcIssuerUrl: string;
    retry?: Partial<RetryPolicy>;
}

export interface ThirdPartyAuthOutputs extends ThirdPartyAuthInputs {
    /** The integration's id in Supabase. */
    integrationId: string;
    /** What Supabase calls it (e.g. `auth0`, or `custom`). */
    type: string;
}

interface Integration {
    id: string;
    type?: string;
    oidc_issuer_url?: string | null;
}

/** Problems with the inputs, each starting with the property's name; never quotes the token. */
export function thirdPartyAuthProblems(news: Partial<ThirdPartyAuthInputs>): Problem[] {
    const problems: Problem[] = [];
    const api = typeof news.apiUrl === "string" && URL.canParse(news.apiUrl) ? new URL(news.apiUrl) : undefined;
    if (!api || !(api.protocol === "https:" || (api.protocol === "http:" && isLoopbackHost(api.hostname)))) {
        problems.push(problem("apiUrl", "must be an https URL (http only on loopback)"));
    }
    if (typeof news.projectRef !== "string" || !PROJECT_REF.test(news.projectRef))
        problems.push(problem("projectRef", "must be a Supabase project ref (20 lower-case letters)"));
    if (typeof news.accessToken !== "string" || news.accessToken.trim() === "") problems.push(problem("accessToken", "required, a Supabase access token"));
    const issuer = typeof news.oidcIssuerUrl === "string" && URL.canParse(news.oidcIssuerUrl) ? new URL(news.oidcIssuerUrl) : undefined;
    if (!issuer || issuer.protocol !== "https:" || !news.oidcIssuerUrl!.endsWith("/"))
        problems.push(problem("oidcIssuerUrl", "must be the tenant's https issuer, ending in / (https://<domain>/)"));
    problems.push(...retryPolicyProblems(news.retry));
    return problems;
}

function endpoint(inputs: ThirdPartyAuthInputs, id?: string): string {
    const base = inputs.apiUrl.replace(/\/+$/, "");
    return `${base}/v1/projects/${encodeURIComponent(inputs.projectRef)}/config/auth/third-party-auth${id ? `/${encodeURIComponent(id)}` : ""}`;
}

async function list(inputs: ThirdPartyAuthInputs): Promise<Integration[]> {
    const { json } = await requestJson(`SupabaseThirdPartyAuth ${inputs.projectRef}: list`, "GET", endpoint(inputs), {
        token: inputs.accessToken,
        policy: retryPolicy(inputs.retry),
    });
    if (!Array.isArray(json)) throw new Error(`SupabaseThirdPartyAuth ${inputs.projectRef}: list: the answer is not a list`);
    return json as Integration[];
}

function assertValid(inputs: ThirdPartyAuthInputs): void {
    assertNoProblems("SupabaseThirdPartyAuth", thirdPartyAuthProblems(inputs));
}

export const thirdPartyAuthProvider: pulumi.dynamic.ResourceProvider<ThirdPartyAuthInputs, ThirdPartyAuthOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: checkFailures(thirdPartyAuthProblems(news)) };
    },

    async diff(_id, olds, news) {
        const replaces = (["apiUrl", "projectRef", "oidcIssuerUrl"] as const).filter((k) => olds[k] !== news[k]);
        const changes =
            replaces.length > 0 || olds.accessToken !== news.accessToken || JSON.stringify(olds.retry ?? null) !== JSON.stringify(news.retry ?? null);
        return { changes, replaces, deleteBeforeReplace: true };
    },

    async create(inputs) {
        assertValid(inputs);
        const existing = (await list(inputs)).find((i) => i.oidc_issuer_url === inputs.oidcIssuerUrl);
        const integration =
            existing ??
            ((
                await requestJson(`SupabaseThirdPartyAuth ${inputs.projectRef}: create`, "POST", endpoint(inputs), {
                    token: inputs.accessToken,
                    body: { oidc_issuer_url: inputs.oidcIssuerUrl },
                    policy: retryPolicy(inputs.retry),
                })
            ).json as Integration);
        if (!integration || typeof integration.id !== "string") throw new Error(`SupabaseThirdPartyAuth ${inputs.projectRef}: create: the answer has no id`);
        return { id: integration.id, outs: { ...inputs, integrationId: integration.id, type: integration.type ?? "" } };
    },

    async read(id, props) {
        const inputs = props as ThirdPartyAuthOutputs;
        assertValid(inputs);
        const found = (await list(inputs)).find((i) => i.id === id);
        // Gone: an empty result tells the engine the resource no longer exists (drift on refresh).
        if (!found) return {};
        return { id, props: { ...inputs, integrationId: found.id, type: found.type ?? "", oidcIssuerUrl: found.oidc_issuer_url ?? "" } };
    },

    async update(_id, _olds, news) {
        assertValid(news);
        return { outs: { ...news, integrationId: _olds.integrationId, type: _olds.type } };
    },

    async delete(id, props) {
        await requestJson(`SupabaseThirdPartyAuth ${props.projectRef}: delete`, "DELETE", endpoint(props, id), {
            token: props.accessToken,
            policy: retryPolicy(props.retry),
            okStatuses: [404],
        });
    },
};

export interface SupabaseThirdPartyAuthArgs {
    apiUrl?: pulumi.Input<string>;
    projectRef: pulumi.Input<string>;
    /** Made a secret here whether or not the caller did. */
    accessToken: pulumi.Input<string>;
    oidcIssuerUrl: pulumi.Input<string>;
    retry?: pulumi.Input<Partial<RetryPolicy>>;
}

/** Type token `pulumi-nodejs:dynamic/auth0-postgres:SupabaseThirdPartyAuth`. */
export class SupabaseThirdPartyAuth extends pulumi.dynamic.Resource {
    declare public readonly integrationId: pulumi.Output<string>;
    declare public readonly type: pulumi.Output<string>;

    constructor(name: string, args: SupabaseThirdPartyAuthArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            thirdPartyAuthProvider,
            name,
            { ...args, apiUrl: args.apiUrl ?? SUPABASE_API_URL, accessToken: pulumi.secret(args.accessToken), integrationId: undefined, type: undefined },
            withSecretOutputs<ThirdPartyAuthOutputs>(opts, "accessToken"),
            "auth0-postgres",
            "SupabaseThirdPartyAuth",
        );
    }
}
