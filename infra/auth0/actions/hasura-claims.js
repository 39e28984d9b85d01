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
 * a string. So:
 *   x-hasura-default-role   secret DEFAULT_ROLE
 *   x-hasura-allowed-roles  DEFAULT_ROLE, then the RBAC roles (`event.authorization.roles`), then
 *                           `app_metadata.roles` when that is an array of strings (anything else is
 *                           ignored, with a log line); blank names dropped, de-duplicated, first
 *                           occurrence kept
 *   x-hasura-user-id        `event.user.user_id`
 *
 * Secrets: DEFAULT_ROLE (required, letters, digits, `_` or `-`, at most 64 characters).
 *
 * A missing or malformed DEFAULT_ROLE is a deployment error. The login is then DENIED with a
 * reason naming the secret (never its value) and one log line: issuing tokens without the
 * claims would silently lock the user out of Hasura or, worse, let a wrong default apply.
 */
"use strict";

const NAMESPACE = "https://hasura.io/jwt/claims";
const ROLE = /^[A-Za-z0-9_-]{1,64}$/;

function stringRoles(value) {
    if (!Array.isArray(value)) return [];
    return value.filter((role) => typeof role === "string" && role.trim() !== "");
}

exports.onExecutePostLogin = async (event, api) => {
    const secrets = event.secrets || {};
    const defaultRole = typeof secrets.DEFAULT_ROLE === "string" ? secrets.DEFAULT_ROLE.trim() : "";
    if (!ROLE.test(defaultRole)) {
        const problem = defaultRole === "" ? "is not set" : "is not a role name (letters, digits, _ or -, at most 64)";
        console.error(`hasura-claims: Action secret DEFAULT_ROLE ${problem}; login denied`);
        api.access.deny(`Login is misconfigured: the hasura-claims Action secret DEFAULT_ROLE ${problem}.`);
        return;
    }

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
    const allowedRoles = [...new Set([defaultRole, ...stringRoles(rbacRoles), ...(appRolesUsable ? stringRoles(appRoles) : [])])];

    const claims = {
        "x-hasura-default-role": defaultRole,
        "x-hasura-allowed-roles": allowedRoles,
        "x-hasura-user-id": user.user_id,
    };
    api.accessToken.setCustomClaim(NAMESPACE, claims);
    api.idToken.setCustomClaim(NAMESPACE, claims);
};
