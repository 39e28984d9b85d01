/**
 * Finds in a tenant what a stack would create, and says how each found object differs from the
 * stack's config (the update the first `up` makes), what the tenant has that the stack does not
 * declare (and what the first `up` does to it), and what stops the adoption (an object the program
 * would replace, or one it cannot tell from another). Read-only: GETs through `ManagementApi`.
 *
 * Look-ups, as the issue asks: the SPA by name, the API by identifier, roles by name (ignoring case,
 * as Auth0 compares them), Actions by name, the post-login bindings, the connection by name, the
 * management client by name and its grant by client and audience.
 */
import { createHash } from "node:crypto";
import type { ManagementApi } from "./management-api";
import { Auth0Plan, DesiredSettings, PlannedResource } from "./plan";

/** A tenant object as the Management API returns it (the fields the tool reads). */
type Obj = Record<string, unknown>;

export interface Found {
    planned: PlannedResource;
    /** The id `pulumi import` takes for this type; undefined when nothing was found (the first `up` creates it). */
    importId?: string;
    /** What it is in the tenant, for the report: `client "acme (dev)" (AbC123)`. */
    label: string;
    /** Each way it differs from the stack's config, `field: tenant → stack`. */
    differences: string[];
}

export interface Discovery {
    found: Found[];
    /** What the tenant has that the stack does not declare, with what the first `up` does to it. */
    undeclared: string[];
    /** What must be fixed before the first `up` would succeed. */
    beforeFirstUp: string[];
    /** What stops the adoption: no import file is written. */
    blockers: string[];
    /** Objects looked at in the tenant, by kind. */
    counts: Record<string, number>;
}

const show = (v: unknown): string => (v === undefined ? "(unset)" : JSON.stringify(v));
const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);
const sortedCopy = (v: unknown) => (Array.isArray(v) ? [...v].map((x) => (typeof x === "string" ? x : JSON.stringify(x))).sort() : v);

function at(o: Obj | undefined, path: string): unknown {
    let node: unknown = o;
    for (const part of path.split(".")) {
        if (node === null || typeof node !== "object") return undefined;
        node = (node as Obj)[part];
    }
    return node;
}

/** Compares the stack's value (skipped when undefined: the program does not send it) with the tenant's at `path`. */
function compare(out: string[], tenant: Obj | undefined, path: string, desired: unknown, options: { unordered?: boolean; label?: string } = {}): void {
    if (desired === undefined) return;
    const actual = at(tenant, path);
    const a = options.unordered ? sortedCopy(actual) : actual;
    const d = options.unordered ? sortedCopy(desired) : desired;
    if (JSON.stringify(a) !== JSON.stringify(d)) out.push(`${options.label ?? path}: ${show(actual)} → ${show(desired)}`);
}

function spaDifferences(c: Obj, d: DesiredSettings["spa"]): string[] {
    const out: string[] = [];
    compare(out, c, "name", d.name);
    compare(out, c, "app_type", d.appType);
    compare(out, c, "callbacks", d.callbacks);
    compare(out, c, "web_origins", d.webOrigins);
    compare(out, c, "allowed_origins", d.allowedOrigins);
    compare(out, c, "allowed_logout_urls", d.allowedLogoutUrls);
    compare(out, c, "oidc_conformant", d.oidcConformant);
    compare(out, c, "is_first_party", d.isFirstParty);
    compare(out, c, "grant_types", d.grantTypes, { unordered: true });
    compare(out, c, "jwt_configuration.alg", d.jwtConfiguration.alg);
    const r = d.refreshToken;
    compare(out, c, "refresh_token.rotation_type", r.rotationType);
    compare(out, c, "refresh_token.expiration_type", r.expirationType);
    compare(out, c, "refresh_token.leeway", r.leeway);
    compare(out, c, "refresh_token.token_lifetime", r.tokenLifetime);
    compare(out, c, "refresh_token.idle_token_lifetime", r.idleTokenLifetime);
    compare(out, c, "refresh_token.infinite_token_lifetime", r.infiniteTokenLifetime);
    compare(out, c, "refresh_token.infinite_idle_token_lifetime", r.infiniteIdleTokenLifetime);
    return out;
}

function apiDifferences(rs: Obj, d: DesiredSettings["api"]): string[] {
    const out: string[] = [];
    compare(out, rs, "name", d.name);
    compare(out, rs, "signing_alg", d.signingAlg);
    compare(out, rs, "token_lifetime", d.tokenLifetime);
    compare(out, rs, "token_lifetime_for_web", d.tokenLifetimeForWeb);
    compare(out, rs, "enforce_policies", d.enforcePolicies);
    compare(out, rs, "token_dialect", d.tokenDialect);
    compare(out, rs, "skip_consent_for_verifiable_first_party_clients", d.skipConsentForVerifiableFirstPartyClients);
    compare(out, rs, "allow_offline_access", d.allowOfflineAccess);
    return out;
}

function connectionDifferences(c: Obj, d: DesiredSettings["connection"]): string[] {
    const out: string[] = [];
    const o = d.options;
    compare(out, c, "options.enabledDatabaseCustomization", true);
    for (const [name, text] of Object.entries(d.scripts)) {
        const actual = at(c, `options.customScripts.${name}`);
        if (actual !== text)
            out.push(
                `options.customScripts.${name}: ${typeof actual === "string" ? `sha256:${sha(actual)} (${actual.length} chars)` : "(none)"} → the stack's script sha256:${sha(text)} (${text.length} chars)`,
            );
    }
    const keys = Object.keys((at(c, "options.configuration") as Obj | undefined) ?? {}).sort();
    if (JSON.stringify(keys) !== JSON.stringify(d.configurationKeys))
        out.push(`options.configuration keys: ${show(keys)} → ${show(d.configurationKeys)} (values are never shown)`);
    compare(out, c, "options.import_mode", o.importMode);
    compare(out, c, "options.disable_signup", o.disableSignup);
    compare(out, c, "options.requires_username", o.requiresUsername);
    compare(out, c, "options.passwordPolicy", o.passwordPolicy);
    compare(out, c, "options.password_complexity_options.min_length", o.passwordComplexityOptions.minLength);
    compare(out, c, "options.password_history.enable", o.passwordHistories[0]!.enable);
    compare(out, c, "options.password_history.size", o.passwordHistories[0]!.size);
    compare(out, c, "options.password_dictionary.enable", o.passwordDictionary.enable);
    compare(out, c, "options.password_dictionary.dictionary", (o.passwordDictionary as { dictionaries?: string[] }).dictionaries ?? [], { unordered: true });
    compare(out, c, "options.password_no_personal_info.enable", o.passwordNoPersonalInfo.enable);
    compare(out, c, "options.mfa.active", o.mfa.active);
    compare(out, c, "options.mfa.return_enroll_settings", o.mfa.returnEnrollSettings);
    compare(out, c, "options.brute_force_protection", o.bruteForceProtection);
    compare(out, c, "options.disable_self_service_change_password", o.disableSelfServiceChangePassword);
    return out;
}

function clientLabel(c: Obj): string {
    return `client ${show(c.name)} (${String(c.client_id)})`;
}

/** Looks the stack's objects up in the tenant. */
export async function discover(api: ManagementApi, plan: Auth0Plan, desired: DesiredSettings): Promise<Discovery> {
    const found: Found[] = [];
    const undeclared: string[] = [];
    const beforeFirstUp: string[] = [];
    const blockers: string[] = [];
    const resource = (kind: PlannedResource["what"]["kind"], key?: string) =>
        plan.resources.find(
            (r) =>
                r.what.kind === kind &&
                (key === undefined || ("roleKey" in r.what && r.what.roleKey === key) || ("actionKey" in r.what && r.what.actionKey === key)),
        );
    const record = (planned: PlannedResource | undefined, importId: string | undefined, label: string, differences: string[] = []) => {
        if (planned) found.push({ planned, importId, label, differences });
    };
    const single = (what: string, matches: Obj[], describe: (o: Obj) => string): Obj | undefined => {
        if (matches.length > 1) {
            blockers.push(
                `${matches.length} objects match ${what}: ${matches.map(describe).join(", ")}; the stack manages one. Rename or delete the others first`,
            );
            return undefined;
        }
        return matches[0];
    };

    // Applications.
    const clients = await api.listPages<Obj>("/clients", "clients");
    const spa = single(
        `the SPA's name ${show(desired.spa.name)}`,
        clients.filter((c) => c.name === desired.spa.name),
        clientLabel,
    );
    if (spa) record(resource("spa"), String(spa.client_id), clientLabel(spa), spaDifferences(spa, desired.spa));
    else record(resource("spa"), undefined, `no client named ${show(desired.spa.name)}`);

    const servers = await api.listPages<Obj>("/resource-servers", "resource_servers");
    const server = single(
        `the API's identifier ${show(desired.api.identifier)}`,
        servers.filter((s) => s.identifier === desired.api.identifier),
        (s) => `API ${show(s.name)} (${String(s.id)})`,
    );
    if (server) {
        record(resource("api"), String(server.id), `API ${show(server.name)} (${String(server.identifier)})`, apiDifferences(server, desired.api));
        const scopes = ((server.scopes as Obj[] | undefined) ?? []).map((s) => ({ name: s.value, description: s.description }));
        const want = desired.permissions;
        const diff: string[] = [];
        const missing = want.filter((w) => !scopes.some((s) => s.name === w.name)).map((w) => w.name);
        const extra = scopes.filter((s) => !want.some((w) => w.name === s.name)).map((s) => String(s.name));
        const described = want.filter((w) => scopes.some((s) => s.name === w.name && s.description !== w.description)).map((w) => w.name);
        if (missing.length > 0) diff.push(`permissions added: ${missing.join(", ")}`);
        if (extra.length > 0) diff.push(`permissions removed (the stack declares every permission of the API): ${extra.join(", ")}`);
        if (described.length > 0) diff.push(`permission descriptions changed: ${described.join(", ")}`);
        record(resource("apiPermissions"), desired.api.identifier, `permissions of API ${show(server.identifier)} (${scopes.length})`, diff);
    } else {
        record(resource("api"), undefined, `no API with identifier ${show(desired.api.identifier)}`);
        record(resource("apiPermissions"), undefined, "the API's permissions (with the API)");
    }

    // Roles, by name ignoring case; their permissions.
    const roles = await api.listPages<Obj>("/roles", "roles");
    for (const role of desired.roles) {
        const match = single(
            `the role name ${show(role.name)} (ignoring case)`,
            roles.filter((r) => String(r.name).toLowerCase() === role.name.toLowerCase()),
            (r) => `role ${show(r.name)} (${String(r.id)})`,
        );
        if (!match) {
            record(resource("role", role.key), undefined, `no role named ${show(role.name)}`);
            record(resource("rolePermissions", role.key), undefined, `the permissions of role ${show(role.name)} (with the role)`);
            continue;
        }
        const diff: string[] = [];
        compare(diff, match, "name", role.name);
        compare(diff, match, "description", role.description);
        record(resource("role", role.key), String(match.id), `role ${show(match.name)} (${String(match.id)})`, diff);
        const planned = resource("rolePermissions", role.key);
        if (planned) {
            const perms = await api.listPages<Obj>(`/roles/${encodeURIComponent(String(match.id))}/permissions`, "permissions");
            const have = perms.map((p) => `${String(p.resource_server_identifier)} ${String(p.permission_name)}`).sort();
            const want = role.permissions.map((p) => `${desired.api.identifier} ${p}`).sort();
            const pdiff = JSON.stringify(have) === JSON.stringify(want) ? [] : [`permissions: ${show(have)} → ${show(want)}`];
            record(planned, String(match.id), `permissions of role ${show(match.name)} (${perms.length})`, pdiff);
        }
    }
    const declaredRoles = new Set(desired.roles.map((r) => r.name.toLowerCase()));
    const otherRoles = roles.filter((r) => !declaredRoles.has(String(r.name).toLowerCase()));
    if (otherRoles.length > 0)
        undeclared.push(
            `${otherRoles.length} other role(s) in the tenant, left alone by the stack: ${otherRoles
                .slice(0, 10)
                .map((r) => show(r.name))
                .join(", ")}${otherRoles.length > 10 ? ", ..." : ""}`,
        );

    // The management reader (Supabase features only), its credentials and grant.
    if (desired.managementClient && desired.managementGrant) {
        const m = single(
            `the management client's name ${show(desired.managementClient.name)}`,
            clients.filter((c) => c.name === desired.managementClient!.name),
            clientLabel,
        );
        if (m) {
            const diff: string[] = [];
            compare(diff, m, "app_type", desired.managementClient.appType);
            compare(diff, m, "grant_types", desired.managementClient.grantTypes, { unordered: true });
            compare(diff, m, "oidc_conformant", desired.managementClient.oidcConformant);
            compare(diff, m, "is_first_party", desired.managementClient.isFirstParty);
            compare(diff, m, "jwt_configuration.alg", desired.managementClient.jwtConfiguration.alg);
            record(resource("managementClient"), String(m.client_id), clientLabel(m), diff);
            const method = m.token_endpoint_auth_method;
            if (method === "private_key_jwt" || at(m, "client_authentication_methods.private_key_jwt") !== undefined) {
                blockers.push(
                    `${clientLabel(m)} authenticates with private_key_jwt: importing its credentials would make the program replace them; switch it to a client secret first`,
                );
            }
            record(
                resource("managementCredentials"),
                String(m.client_id),
                `credentials of ${clientLabel(m)}`,
                method === desired.managementAuthentication ? [] : [`token_endpoint_auth_method: ${show(method)} → ${show(desired.managementAuthentication)}`],
            );
            const grants = await api.listPages<Obj>("/client-grants", "client_grants", {
                client_id: String(m.client_id),
                audience: desired.managementGrant.audience,
            });
            const g = single(
                `the grant of ${clientLabel(m)} on ${desired.managementGrant.audience}`,
                grants.filter((x) => x.client_id === m.client_id && x.audience === desired.managementGrant!.audience),
                (x) => `grant ${String(x.id)}`,
            );
            if (g) {
                const gdiff: string[] = [];
                compare(gdiff, g, "scope", desired.managementGrant.scopes, { unordered: true });
                record(resource("managementGrant"), String(g.id), `grant ${String(g.id)} (${String(g.audience)})`, gdiff);
            } else {
                record(resource("managementGrant"), undefined, `no grant of ${clientLabel(m)} on ${desired.managementGrant.audience}`);
            }
        } else {
            record(resource("managementClient"), undefined, `no client named ${show(desired.managementClient.name)}`);
            record(resource("managementCredentials"), undefined, "its credentials (with the client)");
            record(resource("managementGrant"), undefined, "its grant (with the client)");
        }
    }

    // The custom-database connection, its enabled clients; the SPA's other connections; the tenant flag.
    const connections = await api.listCheckpoints<Obj>("/connections", "connections");
    const connection = single(
        `the connection name ${show(desired.connection.name)}`,
        connections.filter((c) => c.name === desired.connection.name),
        (c) => `connection ${String(c.id)}`,
    );
    if (connection) {
        const label = `connection ${show(connection.name)} (${String(connection.id)}, strategy ${String(connection.strategy)})`;
        if (connection.strategy !== desired.connection.strategy) {
            blockers.push(
                `${label}: the stack's connection has strategy auth0 (a database connection); the program would replace this one, deleting its users in Auth0. Give the stack another customDb.connectionName`,
            );
        }
        record(resource("connection"), String(connection.id), label, connectionDifferences(connection, desired.connection));
        const held = Object.keys((at(connection, "options.configuration") as Obj | undefined) ?? {});
        const unmanaged = held.filter((k) => !desired.connection.configurationKeys.includes(k)).sort();
        if (unmanaged.length > 0) {
            beforeFirstUp.push(
                `${label} holds configuration key(s) ${unmanaged.join(", ")} that the stack does not send: the provider refuses the update ("Unmanaged Configuration Secret"). Delete them (Authentication > Database > ${String(connection.name)} > Custom Database > Settings) before the first up; the stack's scripts do not read them`,
            );
        }
        const enabled = await api.listCheckpoints<Obj>(`/connections/${encodeURIComponent(String(connection.id))}/clients`, "clients");
        const spaId = spa ? String(spa.client_id) : undefined;
        const others = enabled.map((c) => String(c.client_id)).filter((id) => id !== spaId);
        const named = (id: string) => {
            const c = clients.find((x) => x.client_id === id);
            return c ? clientLabel(c) : `client ${id}`;
        };
        const cdiff = spaId && !enabled.some((c) => c.client_id === spaId) ? ["enabled for the SPA: no → yes"] : [];
        record(resource("connectionClients"), String(connection.id), `clients enabled on ${label} (${enabled.length})`, [
            ...cdiff,
            ...(others.length > 0 ? [`disabled for ${others.length} other client(s)`] : []),
        ]);
        for (const id of others)
            undeclared.push(
                `${label} is enabled for ${named(id)}: the first up disables it there (ConnectionClients owns the connection's clients); enable it again afterwards only by adding it to the program`,
            );
    } else {
        record(resource("connection"), undefined, `no connection named ${show(desired.connection.name)}`);
        record(resource("connectionClients"), undefined, "its enabled clients (with the connection)");
    }
    if (spa) {
        const spaConnections = await api.listCheckpoints<Obj>(`/clients/${encodeURIComponent(String(spa.client_id))}/connections`, "connections");
        for (const c of spaConnections.filter((x) => x.name !== desired.connection.name)) {
            undeclared.push(
                `${clientLabel(spa)} is enabled on connection ${show(c.name)} (${String(c.strategy ?? "?")}): the first up takes it off (ClientConnections: the SPA logs in through ${desired.connection.name} only)`,
            );
        }
    }
    const settings = (await api.get("/tenants/settings", { fields: "flags", include_fields: "true" })) as Obj | undefined;
    if (!desired.enableClientConnections && at(settings, "flags.enable_client_connections") !== false) {
        undeclared.push(
            "the tenant flag enable_client_connections is on (every new client is enabled on every connection): the first up turns it off (auth0.enableClientConnections: true keeps it)",
        );
    }

    // Actions by name, and the post-login trigger's bindings.
    const actions = await api.listPages<Obj>("/actions/actions", "actions");
    for (const a of desired.actions) {
        const match = single(
            `the Action name ${show(a.name)}`,
            actions.filter((x) => x.name === a.name),
            (x) => `Action ${String(x.id)}`,
        );
        if (!match) {
            record(resource("action", a.key), undefined, `no Action named ${show(a.name)}`);
            continue;
        }
        const label = `Action ${show(match.name)} (${String(match.id)})`;
        const triggers = ((match.supported_triggers as Obj[] | undefined) ?? []).map((t) => String(t.id));
        if (!triggers.includes(a.trigger.id))
            blockers.push(
                `${label} runs on ${triggers.join(", ") || "no trigger"}, not ${a.trigger.id}: the program would replace it. Rename it, or give the stack another prefix`,
            );
        const diff: string[] = [];
        const code = typeof match.code === "string" ? match.code : "";
        if (code !== a.code) diff.push(`code: sha256:${sha(code)} (${code.length} chars) → the stack's sha256:${sha(a.code)} (${a.code.length} chars)`);
        compare(diff, match, "runtime", a.runtime);
        const deps = ((match.dependencies as Obj[] | undefined) ?? []).map((d) => `${String(d.name)}@${String(d.version)}`).sort();
        const wantDeps = a.dependencies.map((d) => `${d.name}@${d.version}`).sort();
        if (JSON.stringify(deps) !== JSON.stringify(wantDeps)) diff.push(`dependencies: ${show(deps)} → ${show(wantDeps)}`);
        if (match.all_changes_deployed !== true) diff.push("deployed: the latest version is not deployed → deployed");
        if (a.secretNames.length > 0) diff.push(`secrets: set by the first up (${a.secretNames.join(", ")}); Auth0 never returns their values`);
        record(resource("action", a.key), String(match.id), label, diff);
    }
    const bindings = await api.listPages<Obj>("/actions/triggers/post-login/bindings", "bindings");
    const boundNames = bindings.map((b) => String(at(b, "action.name") ?? b.display_name));
    const ours = desired.actions.map((a) => a.name);
    const wanted = [...desired.keepBindings.before, ...ours, ...desired.keepBindings.after];
    const bdiff = JSON.stringify(boundNames) === JSON.stringify(wanted) ? [] : [`bound, in order: ${show(boundNames)} → ${show(wanted)}`];
    record(resource("binding"), "post-login", `the post-login trigger's bindings (${bindings.length})`, bdiff);
    for (const name of boundNames.filter((n) => !wanted.includes(n))) {
        undeclared.push(
            `Action ${show(name)} is bound to post-login: the first up unbinds it (the stack owns the trigger); list it in postLogin.keepBindings.before or .after to keep it`,
        );
    }
    for (const name of [...desired.keepBindings.before, ...desired.keepBindings.after]) {
        if (!actions.some((x) => x.name === name))
            blockers.push(`postLogin.keepBindings names the Action ${show(name)}, which the tenant does not have: the preview would fail`);
    }

    return {
        found,
        undeclared,
        beforeFirstUp,
        blockers,
        counts: {
            clients: clients.length,
            resourceServers: servers.length,
            roles: roles.length,
            actions: actions.length,
            bindings: bindings.length,
            connections: connections.length,
        },
    };
}
