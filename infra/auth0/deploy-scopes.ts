/**
 * The Management API scopes the deploy application (the client Pulumi deploys with, `auth0.clientId`)
 * needs, and why. The README's list and `scripts/bootstrap-env.sh` are kept equal to this one by
 * `test/unit/deploy-scopes.test.ts`.
 */
export const DEPLOY_CLIENT_SCOPES: Readonly<Record<string, string>> = {
    "read:clients": "the SPA and the M2M client",
    "create:clients": "the SPA and the M2M client",
    "update:clients": "the SPA and the M2M client",
    "delete:clients": "the SPA and the M2M client",
    "read:client_keys": "the M2M client's secret (ClientCredentials)",
    "read:client_credentials": "the M2M client's credentials (ClientCredentials)",
    "create:client_credentials": "the M2M client's credentials (ClientCredentials)",
    "update:client_credentials": "the M2M client's credentials (ClientCredentials)",
    "delete:client_credentials": "the M2M client's credentials (ClientCredentials)",
    "read:client_grants": "the M2M client's read:users grant",
    "create:client_grants": "the M2M client's read:users grant",
    "update:client_grants": "the M2M client's read:users grant",
    "delete:client_grants": "the M2M client's read:users grant",
    "read:resource_servers": "the API and its permissions",
    "create:resource_servers": "the API and its permissions",
    "update:resource_servers": "the API and its permissions",
    "delete:resource_servers": "the API and its permissions",
    "read:roles": "the roles and their permissions",
    "create:roles": "the roles and their permissions",
    "update:roles": "the roles and their permissions",
    "delete:roles": "the roles and their permissions",
    "read:actions": "the Actions, the post-login bindings and keepBindings look-ups",
    "create:actions": "the Actions",
    "update:actions": "the Actions and the post-login bindings",
    "delete:actions": "the Actions",
    "read:connections": "the custom-database connection, and the connections the SPA is enabled on",
    "create:connections": "the custom-database connection",
    "update:connections": "the connection, its enabled clients, taking the SPA off other connections",
    "delete:connections": "the custom-database connection",
    "read:connections_options": "reads of the connection include its options (without it they are omitted)",
    "update:connections_options": "updates that carry the connection's options (refused without it once the tenant leaves Auth0's migration period)",
    "read:tenant_settings": "the tenant check (enable_client_connections)",
    "update:tenant_settings": "turning enable_client_connections off (ClientConnections)",
};

/** The scopes, sorted. */
export function deployClientScopes(): string[] {
    return Object.keys(DEPLOY_CLIENT_SCOPES).sort();
}
