/**
 * Auth0 post-login Action "hasura-claims" (runtime node22). Bound after "profile-defaults".
 *
 * Puts Hasura's session claims under the namespace `https://hasura.io/jwt/claims` (Hasura's
 * default `claims_namespace`) on BOTH tokens:
 *   - the access token, which is what an API (Hasura with `audience` = the API identifier) should
 *     verify;
 *   - the ID token, for clients that send the ID token to Hasura (Hasura `audience` = the client
 *     id), as Hasura's own Auth0 guide did.
 * Hasura (JWT mode) requires `x-hasura-default-role` (a string) and `x-hasura-allowed-roles`
 * (an array of strings that contains the default role); every other `x-hasura-*` value must be
 * a string. A request may name any allowed role in its `x-hasura-role` header, so every role in
 * the claims is a role the user can act as. So:
 *   x-hasura-default-role   secret DEFAULT_ROLE
 *   x-hasura-allowed-roles  DEFAULT_ROLE, then those of the user's roles that ALLOWED_ROLES lists:
 *                           the RBAC roles (`event.authorization.roles`), then `app_metadata.roles`
 *                           when that is an array of strings (anything else is ignored, with a log
 *                           line). Each name is trimmed, then must equal an ALLOWED_ROLES entry
 *                           exactly (case counts: "Admin" is not "admin"); the rest are left out.
 *                           De-duplicated, first occurrence kept.
 *   x-hasura-user-id        `event.user.user_id`
 *
 * Hasura's `admin` role bypasses every permission. It is never the default role (in any case:
 * "Admin" and " ADMIN " are refused too, as look-alikes), and it reaches the claims only when
 * ALLOWED_ROLES lists `admin` itself, which the stack does only when `hasura.allowedRoles` names
 * it explicitly. A user's `admin` role that ALLOWED_ROLES does not list is left out, with a log line.
 *
 * Supabase third-party auth (when the stack turns it on): the top-level `role` claim is set to
 * `authenticated` on both tokens, so Supabase's Data API, Storage and Realtime run the request as
 * Supabase's `authenticated` Postgres role, with `request.jwt.claims` (and so `sub`) from the token.
 * The value is this file's constant, never anything from the user's (editable) data: SUPABASE_ROLE
 * only switches it on, and any value but `authenticated` is a deployment error.
 *
 * Secrets:
 *   DEFAULT_ROLE   required; letters, digits, `_` or `-`, at most 64 characters; not `admin`
 *   ALLOWED_ROLES  required; the roles the claims may carry, comma-separated role names (the
 *                  default role is always allowed)
 *   SUPABASE_ROLE  optional; `authenticated` turns the `role` claim on
 *
 * A missing or malformed secret is a deployment error. The login is then DENIED with a reason
 * naming the secret (never its value) and one log line: issuing tokens without the claims would
 * silently lock the user out of Hasura or, worse, let a wrong role apply.
 */
"use strict";

const NAMESPACE = "https://hasura.io/jwt/claims";
const ROLE = /^[A-Za-z0-9_-]{1,64}$/;
/** Hasura's built-in role that bypasses every permission. */
const ADMIN_ROLE = "admin";
/** The one Postgres role Supabase may run these tokens' requests as. */
const SUPABASE_ROLE = "authenticated";

function stringRoles(value) {
    if (!Array.isArray(value)) return [];
    return value.filter((role) => typeof role === "string").map((role) => role.trim()).filter((role) => role !== "");
}

function isAdminLike(role) {
    return role.trim().toLowerCase() === ADMIN_ROLE;
}

/** The problem with DEFAULT_ROLE, or null. */
function defaultRoleProblem(role) {
    if (role === "") return "is not set";
    if (!ROLE.test(role)) return "is not a role name (letters, digits, _ or -, at most 64)";
    if (isAdminLike(role)) return "is Hasura's admin role, which bypasses every permission";
    return null;
}

/** The set of ALLOWED_ROLES, or a problem. */
function readAllowedRoles(raw) {
    if (typeof raw !== "string" || raw.trim() === "") return { problem: "is not set" };
    const roles = raw.split(",").map((role) => role.trim());
    if (!roles.every((role) => ROLE.test(role))) return { problem: "is not a comma-separated list of role names (letters, digits, _ or -, at most 64)" };
    return { roles: new Set(roles) };
}

function misconfigured(api, secret, problem) {
    console.error(`hasura-claims: Action secret ${secret} ${problem}; login denied`);
    api.access.deny(`Login is misconfigured: the hasura-claims Action secret ${secret} ${problem}.`);
}

exports.onExecutePostLogin = async (event, api) => {
    const secrets = event.secrets || {};
    const defaultRole = typeof secrets.DEFAULT_ROLE === "string" ? secrets.DEFAULT_ROLE.trim() : "";
    const roleProblem = defaultRoleProblem(defaultRole);
    if (roleProblem !== null) return misconfigured(api, "DEFAULT_ROLE", roleProblem);
    const allowed = readAllowedRoles(secrets.ALLOWED_ROLES);
    if (allowed.problem) return misconfigured(api, "ALLOWED_ROLES", allowed.problem);
    const supabaseRole = typeof secrets.SUPABASE_ROLE === "string" ? secrets.SUPABASE_ROLE.trim() : "";
    if (supabaseRole !== "" && supabaseRole !== SUPABASE_ROLE) return misconfigured(api, "SUPABASE_ROLE", `is not "${SUPABASE_ROLE}"`);

    const user = event.user || {};
    if (typeof user.user_id !== "string" || user.user_id === "") {
        console.error("hasura-claims: event.user.user_id is missing; login denied");
        api.access.deny("Login failed: the user has no id.");
        return;
    }
    const appRoles = user.app_metadata ? user.app_metadata.roles : undefined;
    const appRolesUsable = Array.isArray(appRoles) && appRoles.every((role) => typeof role === "string");
    if (appRoles !== undefined && !appRolesUsable) {
        console.log("hasura-claims: app_metadata.roles is not an array of strings; ignored");
    }
    const rbacRoles = event.authorization ? event.authorization.roles : undefined;
    const userRoles = [...stringRoles(rbacRoles), ...(appRolesUsable ? stringRoles(appRoles) : [])];
    const granted = userRoles.filter((role) => allowed.roles.has(role));
    if (userRoles.some((role) => isAdminLike(role) && !allowed.roles.has(role))) {
        console.log("hasura-claims: the user holds an admin role that ALLOWED_ROLES does not list; left out of the claims");
    }
    const allowedRoles = [...new Set([defaultRole, ...granted])];

    const claims = {
        "x-hasura-default-role": defaultRole,
        "x-hasura-allowed-roles": allowedRoles,
        "x-hasura-user-id": user.user_id,
    };
    api.accessToken.setCustomClaim(NAMESPACE, claims);
    api.idToken.setCustomClaim(NAMESPACE, claims);
    if (supabaseRole !== "") {
        api.accessToken.setCustomClaim("role", SUPABASE_ROLE);
        api.idToken.setCustomClaim("role", SUPABASE_ROLE);
    }
};
