/**
 * A test tenant for the adoption tool, built from a stack's desired settings as the Management API
 * would return them after a team set it up by hand: the stack's objects (some matching the stack's
 * config, some not), objects of the team's own around them, and more of each kind than one page.
 */
import { createHash, randomBytes } from "node:crypto";
import type { DesiredSettings } from "../../tools/adopt/plan";
import type { FakeTenant, Obj } from "./management-api-server";

const id = (prefix: string) => `${prefix}${randomBytes(8).toString("hex")}`;
const uuid = () => {
    const h = randomBytes(16).toString("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** Auth0's PostgreSQL template's login script (abridged), as a tenant built from the template holds it. */
export const TEMPLATE_LOGIN = `function login(email, password, callback) {
  var conString = "postgres://user:pass@localhost/mydb";
  var bcrypt = require('bcrypt');
  var pg = require('pg');
  pg.connect(conString, function (err, client, done) {
    if (err) return callback(err);
    client.query('SELECT id, nickname, email, password FROM users WHERE email = $1', [email], function (err, result) {
      done();
      if (err) return callback(err);
      if (result.rows.length === 0) return callback(new WrongUsernameOrPasswordError(email));
      var user = result.rows[0];
      bcrypt.compare(password, user.password, function (err, isValid) {
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
        callback(null, { id: user.id, nickname: user.nickname, email: user.email });
      });
    });
  });
}`;

export interface TestTenant {
    tenant: FakeTenant;
    /** The ids the tool must find, by what they are. */
    ids: Record<string, string>;
    /** How many objects of each kind the tenant holds. */
    sizes: Record<string, number>;
}

/**
 * The test tenant of `desired` (a stack with Supabase features, so with the management client):
 * found and matching: the API's permissions, the role "user" and its permissions, the Action
 * profile-defaults, the management client, its credentials and grant; found and differing: the SPA
 * (a callback, the refresh token), the API (token lifetime), the role "editor" (named "Editor", no
 * permissions), the Action user-sync (old code, not deployed), the connection (the template's
 * scripts, a configuration key of its own), its clients, the bindings; not found: the Action
 * hasura-claims. Around them: 130 other clients, 60 APIs, 70 roles, 60 Actions, 55 connections.
 */
export function testTenant(domain: string, desired: DesiredSettings): TestTenant {
    const ids: Record<string, string> = {};
    const clients: Obj[] = [];
    for (let i = 0; i < 130; i++) clients.push({ client_id: id("cli"), name: `Other app ${i}`, app_type: i % 2 ? "regular_web" : "non_interactive" });
    const legacy = { client_id: id("leg"), name: "Legacy portal", app_type: "regular_web" };
    clients.splice(17, 0, legacy);
    ids.legacy = legacy.client_id;

    const s = desired.spa;
    const spa: Obj = {
        client_id: id("spa"),
        name: s.name,
        app_type: "spa",
        callbacks: [...s.callbacks, "https://old.example.test/callback"],
        web_origins: s.webOrigins,
        allowed_origins: s.allowedOrigins,
        allowed_logout_urls: s.allowedLogoutUrls,
        oidc_conformant: true,
        is_first_party: true,
        grant_types: ["refresh_token", "authorization_code"],
        jwt_configuration: { alg: "RS256", lifetime_in_seconds: 36000 },
        refresh_token: {
            rotation_type: "non-rotating",
            expiration_type: "non-expiring",
            leeway: 0,
            token_lifetime: 2_592_000,
            idle_token_lifetime: 1_296_000,
            infinite_token_lifetime: true,
            infinite_idle_token_lifetime: true,
        },
    };
    clients.splice(63, 0, spa);
    ids.spa = String(spa.client_id);

    const m = desired.managementClient!;
    const management: Obj = {
        client_id: id("mgm"),
        name: m.name,
        app_type: m.appType,
        grant_types: m.grantTypes,
        oidc_conformant: m.oidcConformant,
        is_first_party: m.isFirstParty,
        jwt_configuration: { alg: "RS256" },
        token_endpoint_auth_method: "client_secret_post",
    };
    clients.push(management);
    ids.managementClient = String(management.client_id);

    const resourceServers: Obj[] = [{ id: id("rs"), identifier: `https://${domain}/api/v2/`, name: "Auth0 Management API", is_system: true }];
    for (let i = 0; i < 60; i++) resourceServers.push({ id: id("rs"), identifier: `https://api${i}.other.test`, name: `Other API ${i}`, signing_alg: "RS256" });
    const a = desired.api;
    const api: Obj = {
        id: id("rs"),
        identifier: a.identifier,
        name: a.name,
        signing_alg: "RS256",
        token_lifetime: a.tokenLifetime * 2,
        token_lifetime_for_web: a.tokenLifetimeForWeb,
        enforce_policies: true,
        token_dialect: "access_token_authz",
        skip_consent_for_verifiable_first_party_clients: true,
        allow_offline_access: true,
        scopes: desired.permissions.map((p) => ({ value: p.name, description: p.description })),
    };
    resourceServers.splice(40, 0, api);
    ids.api = String(api.id);

    const roles: Obj[] = [];
    for (let i = 0; i < 70; i++) roles.push({ id: id("rol_"), name: `other-role-${i}`, description: "theirs" });
    const rolePermissions: Record<string, Obj[]> = {};
    for (const r of desired.roles) {
        const role = { id: id("rol_"), name: r.key === "editor" ? "Editor" : r.name, description: r.description };
        roles.splice(10 + roles.length / 3, 0, role);
        ids[`role:${r.key}`] = role.id;
        rolePermissions[role.id] =
            r.key === "editor"
                ? []
                : r.permissions.map((p) => ({ permission_name: p, resource_server_identifier: a.identifier, resource_server_name: a.name, description: "x" }));
    }

    const actions: Obj[] = [];
    for (let i = 0; i < 60; i++)
        actions.push({
            id: uuid(),
            name: `other-action-${i}`,
            supported_triggers: [{ id: "post-login", version: "v3" }],
            code: "exports.onExecutePostLogin = async () => {};",
            runtime: "node18",
            all_changes_deployed: true,
        });
    const mfa = {
        id: uuid(),
        name: "Require MFA",
        supported_triggers: [{ id: "post-login", version: "v3" }],
        code: "exports.onExecutePostLogin = async (e, api) => api.multifactor.enable('any');",
        runtime: "node22",
        all_changes_deployed: true,
    };
    actions.splice(5, 0, mfa);
    const actionObjs: Record<string, Obj> = {};
    for (const x of desired.actions) {
        if (x.key === "hasura-claims") continue;
        const action: Obj = {
            id: uuid(),
            name: x.name,
            supported_triggers: [{ id: "post-login", version: "v3" }],
            code: x.key === "user-sync" ? "exports.onExecutePostLogin = async () => { /* old sync */ };" : x.code,
            runtime: x.runtime,
            dependencies: x.dependencies.map((d) => ({ name: d.name, version: d.version })),
            secrets: x.secretNames.map((n) => ({ name: n, updated_at: "2025-01-01T00:00:00.000Z" })),
            all_changes_deployed: x.key !== "user-sync",
        };
        actions.splice(30 + (actions.length % 7), 0, action);
        actionObjs[x.key] = action;
        ids[`action:${x.key}`] = String(action.id);
    }
    const binding = (act: Obj) => ({
        id: uuid(),
        trigger_id: "post-login",
        display_name: act.name,
        action: { id: act.id, name: act.name, supported_triggers: act.supported_triggers },
    });
    const bindings = [binding(mfa), binding(actionObjs["profile-defaults"]!), binding(actionObjs["user-sync"]!)];

    const connections: Obj[] = [];
    for (let i = 0; i < 55; i++) connections.push({ id: id("con_"), name: `other-connection-${i}`, strategy: i % 3 ? "auth0" : "google-oauth2", options: {} });
    const upa = { id: id("con_"), name: "Username-Password-Authentication", strategy: "auth0", options: {} };
    connections.unshift(upa);
    const c = desired.connection;
    const o = c.options;
    const connection: Obj = {
        id: id("con_"),
        name: c.name,
        strategy: "auth0",
        options: {
            enabledDatabaseCustomization: true,
            customScripts: { login: TEMPLATE_LOGIN, get_user: "function getByEmail(email, callback) { callback(null); }" },
            configuration: { DB_PASSWORD: `2.0$${createHash("sha256").update("encrypted").digest("hex")}` },
            import_mode: o.importMode,
            disable_signup: o.disableSignup,
            requires_username: false,
            passwordPolicy: o.passwordPolicy,
            password_complexity_options: { min_length: o.passwordComplexityOptions.minLength },
            password_history: { enable: true, size: 5 },
            password_dictionary: { enable: true, dictionary: [] },
            password_no_personal_info: { enable: true },
            mfa: { active: true, return_enroll_settings: true },
            brute_force_protection: true,
            disable_self_service_change_password: false,
        },
    };
    connections.splice(51, 0, connection);
    ids.connection = String(connection.id);
    const connectionClients: Record<string, string[]> = { [String(connection.id)]: [ids.spa, legacy.client_id], [upa.id]: [ids.spa, legacy.client_id] };

    const grant = { id: id("cgr_"), client_id: management.client_id, audience: desired.managementGrant!.audience, scope: ["read:users"] };
    const clientGrants: Obj[] = [
        grant,
        ...Array.from({ length: 20 }, (_, i) => ({
            id: id("cgr_"),
            client_id: clients[i]!.client_id,
            audience: `https://${domain}/api/v2/`,
            scope: ["read:users"],
        })),
    ];
    ids.grant = grant.id;

    const tenant: FakeTenant = {
        domain,
        clients,
        resourceServers,
        roles,
        rolePermissions,
        actions,
        bindings,
        connections,
        connectionClients,
        clientGrants,
        flags: { enable_client_connections: true },
    };
    return {
        tenant,
        ids,
        sizes: {
            clients: clients.length,
            resourceServers: resourceServers.length,
            roles: roles.length,
            actions: actions.length,
            connections: connections.length,
            bindings: bindings.length,
        },
    };
}
