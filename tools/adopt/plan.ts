/**
 * What the program registers on the Auth0 side for a stack, derived from the same pure functions
 * the components use (`infra/auth0/names.ts`, the settings functions of `infra/auth0/applications.ts`
 * and `custom-database.ts`, the Actions catalog): every resource's type, Pulumi name and parent, and
 * the settings it sends. `test/adopt/` checks it against what the program registers under the mock
 * runtime, so the two cannot drift apart.
 */
import { ACTIONS, ACTIONS_RUNTIME, ActionKey, POST_LOGIN_TRIGGER } from "../../infra/auth0/actions";
import {
    apiResourceServerArgs,
    managementClientArgs,
    managementGrantArgs,
    MANAGEMENT_CLIENT_AUTHENTICATION,
    roleArgs,
    spaClientArgs,
} from "../../infra/auth0/applications";
import { connectionSecurityOptions } from "../../infra/auth0/custom-database";
import { uploadedConfiguration } from "../../infra/auth0/configuration-keys";
import {
    actionTenantName,
    applicationsChildNames,
    AUTH0_COMPONENT_TYPES,
    auth0StackNames,
    connectionChildNames,
    defaultApiName,
    defaultSpaName,
    postLoginChildNames,
} from "../../infra/auth0/names";
import { customDbScripts, SCRIPT_CONFIGURATION_KEYS } from "../../infra/auth0/scripts";
import type { Auth0SideConfig, StackConfig } from "../../infra/config";
import { STACK_ROOT_NAME } from "../../infra/stack";

/** Type tokens of the Auth0 provider's resources the program registers. */
export const AUTH0_TYPES = {
    client: "auth0:index/client:Client",
    resourceServer: "auth0:index/resourceServer:ResourceServer",
    resourceServerScopes: "auth0:index/resourceServerScopes:ResourceServerScopes",
    role: "auth0:index/role:Role",
    rolePermissions: "auth0:index/rolePermissions:RolePermissions",
    action: "auth0:index/action:Action",
    triggerActions: "auth0:index/triggerActions:TriggerActions",
    connection: "auth0:index/connection:Connection",
    connectionClients: "auth0:index/connectionClients:ConnectionClients",
    clientCredentials: "auth0:index/clientCredentials:ClientCredentials",
    clientGrant: "auth0:index/clientGrant:ClientGrant",
} as const;

export const PROVIDER_TYPE = "pulumi:providers:auth0";
export const SETTINGS_GUARD_TYPE = "pulumi-nodejs:dynamic/auth0-postgres:SettingsGuard";

/** What a planned resource is, for the tool's look-ups. */
export type PlannedKind =
    | { kind: "spa" }
    | { kind: "api" }
    | { kind: "apiPermissions" }
    | { kind: "role"; roleKey: string }
    | { kind: "rolePermissions"; roleKey: string }
    | { kind: "action"; actionKey: ActionKey }
    | { kind: "binding" }
    | { kind: "connection" }
    | { kind: "connectionClients" }
    | { kind: "managementClient" }
    | { kind: "managementCredentials" }
    | { kind: "managementGrant" };

export interface PlannedResource {
    type: string;
    /** The Pulumi resource name (the last segment of its URN). */
    name: string;
    /** The Pulumi name of its parent component. */
    parent: string;
    what: PlannedKind;
}

export interface PlannedComponent {
    type: string;
    name: string;
    /** The Pulumi name of its parent; undefined for the root component (a child of the stack). */
    parent?: string;
}

export interface Auth0Plan {
    project: string;
    /** The stack's name as URNs carry it (without the organization). */
    stack: string;
    /** The stack's root component. */
    root: PlannedComponent;
    settingsGuard: PlannedComponent;
    provider: PlannedComponent;
    /** The Auth0 side's components, children of the root. */
    components: { applications: PlannedComponent; connection: PlannedComponent; postLogin: PlannedComponent };
    resources: PlannedResource[];
}

export type Auth0StackConfig = StackConfig & Auth0SideConfig;

/** The Auth0 side's resources the program registers for `config`, in registration order. */
export function auth0Plan(config: Auth0StackConfig): Auth0Plan {
    const names = auth0StackNames(STACK_ROOT_NAME);
    const root: PlannedComponent = { type: AUTH0_COMPONENT_TYPES.stack, name: STACK_ROOT_NAME };
    const applications: PlannedComponent = { type: AUTH0_COMPONENT_TYPES.applications, name: names.applications, parent: root.name };
    const connection: PlannedComponent = { type: AUTH0_COMPONENT_TYPES.connection, name: names.connection, parent: root.name };
    const postLogin: PlannedComponent = { type: AUTH0_COMPONENT_TYPES.postLogin, name: names.postLogin, parent: root.name };
    const apps = applicationsChildNames(applications.name);
    const conn = connectionChildNames(connection.name);
    const actions = postLoginChildNames(postLogin.name);
    const child = (component: PlannedComponent, type: string, name: string, what: PlannedKind): PlannedResource => ({
        type,
        name,
        parent: component.name,
        what,
    });

    const resources: PlannedResource[] = [
        child(applications, AUTH0_TYPES.client, apps.spa, { kind: "spa" }),
        child(applications, AUTH0_TYPES.resourceServer, apps.api, { kind: "api" }),
    ];
    if (config.api.permissions.length > 0)
        resources.push(child(applications, AUTH0_TYPES.resourceServerScopes, apps.apiPermissions, { kind: "apiPermissions" }));
    for (const role of config.api.roles) {
        resources.push(child(applications, AUTH0_TYPES.role, apps.role(role.key), { kind: "role", roleKey: role.key }));
        if (role.permissions.length > 0)
            resources.push(child(applications, AUTH0_TYPES.rolePermissions, apps.rolePermissions(role.key), { kind: "rolePermissions", roleKey: role.key }));
    }
    // The management reader exists exactly when the stack has Supabase features (stack.ts).
    if (config.supabase) {
        resources.push(
            child(applications, AUTH0_TYPES.client, apps.managementClient, { kind: "managementClient" }),
            child(applications, AUTH0_TYPES.clientCredentials, apps.managementCredentials, { kind: "managementCredentials" }),
            child(applications, AUTH0_TYPES.clientGrant, apps.managementGrant, { kind: "managementGrant" }),
        );
    }
    resources.push(
        child(connection, AUTH0_TYPES.connection, conn.connection, { kind: "connection" }),
        child(connection, AUTH0_TYPES.connectionClients, conn.clients, { kind: "connectionClients" }),
    );
    for (const action of ACTIONS) resources.push(child(postLogin, AUTH0_TYPES.action, actions.action(action.key), { kind: "action", actionKey: action.key }));
    resources.push(child(postLogin, AUTH0_TYPES.triggerActions, actions.binding, { kind: "binding" }));

    return {
        project: config.project,
        stack: config.stack,
        root,
        settingsGuard: { type: SETTINGS_GUARD_TYPE, name: names.settingsGuard, parent: root.name },
        provider: { type: PROVIDER_TYPE, name: names.provider, parent: root.name },
        components: { applications, connection, postLogin },
        resources,
    };
}

/** The names and settings the stack gives each Auth0 object, as the components send them. */
export function desiredSettings(config: Auth0StackConfig) {
    const spaName = config.spa.name ?? defaultSpaName(config.project, config.stack);
    const spa = spaClientArgs({ name: spaName, callbacks: config.spa.callbacks, webOrigins: config.spa.webOrigins, logoutUrls: config.spa.logoutUrls });
    const api = apiResourceServerArgs({
        name: config.api.name ?? defaultApiName(config.project, config.stack),
        identifier: config.api.identifier,
        tokenLifetime: config.api.tokenLifetime,
        permissions: config.api.permissions,
        roles: config.api.roles,
    });
    return {
        spa,
        api,
        permissions: config.api.permissions.map((p) => ({ name: p.value, description: p.description })),
        roles: config.api.roles.map((r) => ({ key: r.key, ...roleArgs(r), permissions: r.permissions })),
        actions: ACTIONS.map((a) => ({
            key: a.key,
            displayName: a.name,
            name: actionTenantName(config.prefix, a.key),
            code: a.code,
            runtime: ACTIONS_RUNTIME,
            trigger: { ...POST_LOGIN_TRIGGER },
            dependencies: a.dependencies,
            secretNames: a.secretNames,
        })),
        keepBindings: config.postLogin.keepBindings,
        connection: {
            name: config.customDb.connectionName,
            strategy: "auth0",
            scripts: customDbScripts(config.customDb.modules),
            /** The keys the program sends (live and retired): Auth0 refuses an update while it holds another. */
            configurationKeys: Object.keys(uploadedConfiguration(Object.fromEntries(SCRIPT_CONFIGURATION_KEYS.map((k) => [k, ""])))).sort(),
            options: connectionSecurityOptions({
                importMode: config.customDb.importMode,
                disableSignup: config.customDb.disableSignup,
                passwordPolicy: config.customDb.passwordPolicy,
                security: config.customDb,
            }),
        },
        managementClient: config.supabase ? managementClientArgs(spaName) : undefined,
        managementAuthentication: MANAGEMENT_CLIENT_AUTHENTICATION,
        managementGrant: config.supabase ? managementGrantArgs(config.auth0.domain) : undefined,
        enableClientConnections: config.auth0.enableClientConnections,
    };
}

export type DesiredSettings = ReturnType<typeof desiredSettings>;

/** A URN as the engine builds it: the parent's type chain (the root stack's type left out), type, name. */
export function urn(plan: Pick<Auth0Plan, "project" | "stack">, typeChain: string[], name: string): string {
    return `urn:pulumi:${plan.stack}::${plan.project}::${typeChain.join("$")}::${name}`;
}

/** The type chain of a component or resource whose parent is `parent` (a component of the plan). */
export function typeChainOf(plan: Auth0Plan, type: string, parent: string | undefined): string[] {
    const components: PlannedComponent[] = [plan.root, plan.components.applications, plan.components.connection, plan.components.postLogin];
    const chain: string[] = [type];
    let at = parent;
    while (at !== undefined) {
        const c = components.find((x) => x.name === at);
        if (!c) throw new Error(`no component ${at} in the plan`);
        chain.unshift(c.type);
        at = c.parent;
    }
    return chain;
}

/** The URN of a component or resource of the plan. */
export function urnOf(plan: Auth0Plan, item: { type: string; name: string; parent?: string }): string {
    return urn(plan, typeChainOf(plan, item.type, item.parent), item.name);
}
