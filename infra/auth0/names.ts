/**
 * The names of the Auth0 side, in one place: the Pulumi resource names the components register
 * (the last segment of each URN, so a changed name is a replace) and the names the objects carry in
 * the tenant. The components build their children's names from these functions, and
 * `tools/adopt` maps a tenant's existing objects to the same names for `pulumi import`. Pure: no
 * Pulumi runtime, no I/O.
 */

/** Type tokens of the Auth0 side's components (the parents in an import file). */
export const AUTH0_COMPONENT_TYPES = {
    stack: "auth0-postgres:index:Stack",
    applications: "auth0-postgres:auth0:Applications",
    connection: "auth0-postgres:auth0:CustomDatabaseConnection",
    postLogin: "auth0-postgres:auth0:PostLoginActions",
} as const;

/** The stack's top-level names of the Auth0 side, from its prefix (`<project>-<stack>`). */
export function auth0StackNames(prefix: string) {
    return {
        /** The `SettingsGuard` every provider of the stack, the Auth0 one included, waits for. */
        settingsGuard: `${prefix}-settings-guard`,
        /** The explicit `auth0.Provider`. */
        provider: `${prefix}-auth0`,
        /** {@link Auth0Applications}. */
        applications: `${prefix}-apps`,
        /** {@link CustomDatabaseConnection}. */
        connection: `${prefix}-users`,
        /** {@link PostLoginActions}; also the prefix of the Actions' names in the tenant. */
        postLogin: `${prefix}-post-login`,
        /** The `ClientConnections` dynamic resource. */
        clientConnections: `${prefix}-client-connections`,
    };
}

/** The children of the applications component named `component`. */
export function applicationsChildNames(component: string) {
    return {
        spa: `${component}-spa`,
        api: `${component}-api`,
        apiPermissions: `${component}-api-permissions`,
        /** Named by the role's stable key, never by its display name. */
        role: (key: string) => `${component}-role-${key}`,
        rolePermissions: (key: string) => `${component}-role-${key}-permissions`,
        managementClient: `${component}-management-client`,
        managementCredentials: `${component}-management-client-credentials`,
        managementGrant: `${component}-management-grant`,
    };
}

/** The children of the connection component named `component`. */
export function connectionChildNames(component: string) {
    return { connection: `${component}-connection`, clients: `${component}-clients` };
}

/** The children of the post-login component named `component`. */
export function postLoginChildNames(component: string) {
    return { action: (key: string) => `${component}-${key}`, binding: `${component}-binding` };
}

/** The name of an Action in the tenant: `<namePrefix>-<key>`, e.g. `auth0-postgres-dev-user-sync`. */
export function actionTenantName(namePrefix: string, key: string): string {
    return `${namePrefix}-${key}`;
}

/** The SPA's name in the tenant when `spa.name` is not set. */
export function defaultSpaName(project: string, stack: string): string {
    return `${project} (${stack})`;
}

/** The API's name in the tenant when `api.name` is not set. */
export function defaultApiName(project: string, stack: string): string {
    return `${project} API (${stack})`;
}

/** The name in the tenant of the machine-to-machine client that reads users for the database. */
export function managementClientTenantName(spaName: string): string {
    return `${spaName} (user reader for the database)`;
}

/** The Management API's audience of a tenant. */
export function managementApiAudience(domain: string): string {
    return `https://${domain}/api/v2/`;
}
