/**
 * Supabase third-party auth in the resource graph: with the switch on (the committed dev stack) the
 * tenant's issuer is registered with the project (the access token a secret), Supabase's
 * `authenticated` role gets exactly the reader's grants and is named by the reader policies, the
 * claims Action gets SUPABASE_ROLE, and the app's client settings are an output; with it off (the
 * same stack, switched off) none of that exists.
 */
import { describe, expect, it } from "vitest";
import { buildMockedStack, buildMockedStackOf, isSecretValue, valueOf } from "../support/pulumi-mocks";

const PROJECT = "auth0-postgres";
const TPA = "pulumi-nodejs:dynamic/auth0-postgres:SupabaseThirdPartyAuth";
const GRANT = "postgresql:index/grant:Grant";
const SECURITY = "pulumi-nodejs:dynamic/auth0-postgres:DatabaseSecurity";

describe("Supabase third-party auth", () => {
    it("on: registers the tenant's issuer, grants authenticated the reader's privileges, names it in the reader policies, exports the client settings", async () => {
        const { run, config, outputs } = await buildMockedStack(PROJECT, "dev");
        const [tpa] = run.ofType(TPA);
        expect(tpa!.inputs).toMatchObject({
            projectRef: config.supabaseAuth.projectRef,
            oidcIssuerUrl: `https://${config.auth0.domain}/`,
            apiUrl: "https://api.supabase.com",
        });
        expect(isSecretValue(tpa!.raw.accessToken)).toBe(true);
        expect(tpa!.additionalSecretOutputs).toContain("accessToken");

        const grantsOf = (role: string) =>
            run
                .ofType(GRANT)
                .filter((g) => g.inputs.role === role)
                .map((g) => ({
                    objectType: g.inputs.objectType,
                    objects: g.inputs.objects ?? null,
                    columns: g.inputs.columns ?? null,
                    privileges: g.inputs.privileges,
                }));
        expect(grantsOf("authenticated")).toEqual(grantsOf(`${config.postgres.rolePrefix}_app_reader`));
        expect(grantsOf("authenticated").length).toBe(4);

        const model = run.ofType(SECURITY)[0]!.inputs.model as { policies: { name: string; roles: string[] }[] };
        for (const name of ["users_app_own", "profiles_app_own"]) {
            expect(model.policies.find((p) => p.name === name)!.roles).toEqual([`${config.postgres.rolePrefix}_app_reader`, "authenticated"]);
        }
        expect(await valueOf(outputs.supabaseClient!)).toEqual({
            supabaseUrl: `https://${config.supabaseAuth.projectRef}.supabase.co`,
            auth0Domain: config.auth0.domain,
            auth0ClientId: await valueOf(outputs.spaClientId!),
            audience: config.api.identifier,
            sendToken: "access_token",
        });
    });

    it("off: no registration, no grant or policy for authenticated, no role claim, no client output", async () => {
        const { run, outputs } = await buildMockedStackOf(PROJECT, "dev", {
            values: { supabaseAuth: { enabled: false } },
            secrets: { supabaseAccessToken: undefined },
        });
        expect(run.ofType(TPA)).toEqual([]);
        expect(run.ofType(GRANT).filter((g) => g.inputs.role === "authenticated")).toEqual([]);
        const model = run.ofType(SECURITY)[0]!.inputs.model as { policies: { roles: string[] }[] };
        expect(model.policies.every((p) => !p.roles.includes("authenticated"))).toBe(true);
        const claims = run.ofType("auth0:index/action:Action").find((a) => a.name.endsWith("hasura-claims"))!;
        expect((claims.inputs.secrets as { name: string }[]).map((s) => s.name)).not.toContain("SUPABASE_ROLE");
        expect(outputs.supabaseClient).toBeUndefined();
    });
});
