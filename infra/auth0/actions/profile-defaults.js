/**
 * Auth0 post-login Action "profile-defaults" (runtime node22). Bound FIRST on the post-login
 * trigger, before "hasura-claims" and "user-sync".
 *
 * Fills `user_metadata.displayName` when it is missing or blank, from the first usable of:
 * `name` (unless it is just the e-mail address, which Auth0 puts there for database users
 * without a name), `nickname`, the local part of `email`, else "user". The value is trimmed and
 * at most 64 characters. An existing value is never overwritten.
 *
 * `api.user.setUserMetadata` updates the `event.user` that the next Actions of this trigger
 * receive (Auth0 persists all metadata changes once, at the end of the flow), so "user-sync"
 * sees the filled displayName on the same login.
 *
 * Reads no secrets.
 */
"use strict";

const MAX_DISPLAY_NAME = 64;

/** Trims, keeps at most `max` characters (code points, so no half surrogate pair), trims again. */
function clean(value, max) {
    if (typeof value !== "string") return "";
    return Array.from(value.trim()).slice(0, max).join("").trim();
}

function isMissing(value) {
    return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

function emailLocalPart(email) {
    if (typeof email !== "string") return "";
    const at = email.lastIndexOf("@");
    return at === -1 ? email : email.slice(0, at);
}

function defaultDisplayName(user) {
    const email = typeof user.email === "string" ? user.email.trim() : "";
    const name = clean(user.name, Number.MAX_SAFE_INTEGER);
    const candidates = [
        email !== "" && name.toLowerCase() === email.toLowerCase() ? "" : user.name,
        user.nickname,
        emailLocalPart(email),
    ];
    for (const candidate of candidates) {
        const value = clean(candidate, MAX_DISPLAY_NAME);
        if (value !== "") return value;
    }
    return "user";
}

exports.onExecutePostLogin = async (event, api) => {
    const user = event.user || {};
    const metadata = user.user_metadata || {};
    if (!isMissing(metadata.displayName)) return;
    api.user.setUserMetadata("displayName", defaultDisplayName(user));
};
