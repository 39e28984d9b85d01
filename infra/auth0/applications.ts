import * as auth0 from "@pulumi/auth0";
import * as pulumi from "@pulumi/pulumi";
import { AUTH0_COMPONENT_TYPES, applicationsChildNames, managementApiAudience, managementClientTenantName } from "./names";

export interface ApiPermission {
    value: string;
    description: string;
}

export interface ApiRole {
    /** Stable key: the role's resource names derive from it, so a changed `name` is an update in place. */
    key: string;
    name: string;
    description: string;
    permissions: string[];
}

export interface Auth0ApplicationsArgs {
    provider: auth0.Provider;
    /** The tenant's domain; the Management API audience is `https://<domain>/api/v2/`. */
    domain: string;
    spa: { name: string; callbacks: string[]; webOrigins: string[]; logoutUrls: string[] };
    api: { name: string; identifier: string; tokenLifetime: number; permissions: ApiPermission[]; roles: ApiRole[] };
    /** Create the machine-to-machine client that reads users (for the foreign data wrapper). Defaults to true. */
    managementReader?: boolean;
    /**
     * Protect what holds identity or assignments against deletion: the API (its identifier is the
     * audience every token carries), the SPA (its client id is in every app's configuration and its
     * users' consents and refresh tokens hang on it) and the roles (deleting one drops every user's
     * assignment of it). Defaults to false.
     */
    protect?: boolean;
}

/**
 * A list input as the provider should get it: undefined when empty. The Terraform provider's SDK
 * stores an empty list and an absent one alike (`#=0`), so an explicit `[]` only shows up as a
 * perpetual diff in Pulumi; it never clears anything in Auth0 either (terraform-provider-auth0#1108).
 */
export function nonEmpty<T>(list: T[]): T[] | undefined {
    return list.length > 0 ? list : undefined;
}

/** The single-page application's settings (what `auth0.Client` gets), from the stack's `spa` config. */
export function spaClientArgs(spa: Auth0ApplicationsArgs["spa"]) {
    return {
        name: spa.name,
        appType: "spa",
        callbacks: spa.callbacks,
        webOrigins: nonEmpty(spa.webOrigins),
        allowedOrigins: nonEmpty(spa.webOrigins),
        allowedLogoutUrls: nonEmpty(spa.logoutUrls),
        oidcConformant: true,
        isFirstParty: true,
        grantTypes: ["authorization_code", "refresh_token"],
        jwtConfiguration: { alg: "RS256" },
        refreshToken: {
            rotationType: "rotating",
            expirationType: "expiring",
            leeway: 0,
            tokenLifetime: 2_592_000,
            idleTokenLifetime: 1_296_000,
            infiniteTokenLifetime: false,
            infiniteIdleTokenLifetime: false,
        },
    };
}

/** The API's settings (what `auth0.ResourceServer` gets), from the stack's `api` config. */
export function apiResourceServerArgs(api: Auth0ApplicationsArgs["api"]) {
    return {
        name: api.name,
        identifier: api.identifier,
        signingAlg: "RS256",
        tokenLifetime: api.tokenLifetime,
        tokenLifetimeForWeb: Math.min(api.tokenLifetime, 7200),
        enforcePolicies: true,
        tokenDialect: "access_token_authz",
        skipConsentForVerifiableFirstPartyClients: true,
        allowOfflineAccess: true,
    };
}

/** A role's settings (what `auth0.Role` gets). */
export function roleArgs(role: ApiRole) {
    return { name: role.name, description: role.description || role.name };
}

/** The machine-to-machine client that reads users for the database (what `auth0.Client` gets). */
export function managementClientArgs(spaName: string) {
    return {
        name: managementClientTenantName(spaName),
        appType: "non_interactive",
        grantTypes: ["client_credentials"],
        oidcConformant: true,
        isFirstParty: true,
        jwtConfiguration: { alg: "RS256" },
    };
}

/** How the management client authenticates (what `auth0.ClientCredentials` gets besides the client id). */
export const MANAGEMENT_CLIENT_AUTHENTICATION = "client_secret_post";

/** The management client's grant on the tenant's Management API (besides the client id). */
export function managementGrantArgs(domain: string) {
    return { audience: managementApiAudience(domain), scopes: ["read:users"] };
}

/** The Management API client, when one was asked for. `clientSecret` is a secret. */
export interface ManagementReader {
    clientId: pulumi.Output<string>;
    clientSecret: pulumi.Output<string>;
    /** The grant of `read:users`; a Management API token can only be had once it exists. */
    grant: auth0.ClientGrant;
}

/**
 * The tenant's applications: the single-page application, the API (resource server, RS256, RBAC
 * with its permissions and roles), and the machine-to-machine client that may read users from the
 * Management API (for the Auth0 foreign data wrapper).
 */
export class Auth0Applications extends pulumi.ComponentResource {
    public readonly spa: auth0.Client;
    public readonly api: auth0.ResourceServer;
    public readonly audience: pulumi.Output<string>;
    public readonly roleIds: Record<string, pulumi.Output<string>>;
    public readonly managementReader?: ManagementReader;

    constructor(name: string, args: Auth0ApplicationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(AUTH0_COMPONENT_TYPES.applications, name, {}, opts);
        const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        const names = applicationsChildNames(name);

        this.spa = new auth0.Client(names.spa, spaClientArgs(args.spa), { ...child, protect: args.protect ?? false });

        this.api = new auth0.ResourceServer(names.api, apiResourceServerArgs(args.api), { ...child, protect: args.protect ?? false });
        this.audience = this.api.identifier;

        const scopes =
            args.api.permissions.length > 0
                ? new auth0.ResourceServerScopes(
                      names.apiPermissions,
                      {
                          resourceServerIdentifier: this.api.identifier,
                          scopes: args.api.permissions.map((p) => ({ name: p.value, description: p.description })),
                      },
                      child,
                  )
                : undefined;

        this.roleIds = {};
        for (const role of args.api.roles) {
            // Named by the stable key, never by the display name: renaming a role is an update in place.
            const r = new auth0.Role(names.role(role.key), roleArgs(role), { ...child, protect: args.protect ?? false });
            this.roleIds[role.name] = r.id;
            if (role.permissions.length > 0) {
                new auth0.RolePermissions(
                    names.rolePermissions(role.key),
                    {
                        roleId: r.id,
                        permissions: role.permissions.map((p) => ({ name: p, resourceServerIdentifier: this.api.identifier })),
                    },
                    { ...child, dependsOn: scopes ? [scopes] : [] },
                );
            }
        }

        if (args.managementReader ?? true) this.managementReader = this.createManagementReader(name, args, child);

        this.registerOutputs({ spaClientId: this.spa.clientId, audience: this.audience, managementClientId: this.managementReader?.clientId });
    }

    private createManagementReader(name: string, args: Auth0ApplicationsArgs, child: pulumi.CustomResourceOptions): ManagementReader {
        const names = applicationsChildNames(name);
        const m2m = new auth0.Client(names.managementClient, managementClientArgs(args.spa.name), child);
        const credentials = new auth0.ClientCredentials(
            names.managementCredentials,
            { clientId: m2m.clientId, authenticationMethod: MANAGEMENT_CLIENT_AUTHENTICATION },
            child,
        );
        const grant = new auth0.ClientGrant(names.managementGrant, { clientId: m2m.clientId, ...managementGrantArgs(args.domain) }, child);
        return { clientId: m2m.clientId, clientSecret: pulumi.secret(credentials.clientSecret), grant };
    }
}
