/**
 * Auth0 post-login Action "profile-defaults" (runtime node22). Bound FIRST on the post-login
 * trigger, before "hasura-claims" and "user-sync".
 *
 * Fills `user_metadata.displayName` when it is missing or blank, from the first usable of:
 * `name` (unless it is just the e-mail address, which Auth0 puts there for database users
 * without a name), `nickname`, the local part of `email`, else "user". Every candidate goes
 * through the name rule (`cleanName`, shared with "user-sync": control characters and
 * bidirectional overrides removed, line breaks made spaces, trimmed) and is kept to at most 64
 * characters; a candidate with nothing left is not usable.
 *
 * An existing displayName is never replaced by another name. When it is a string the name rule
 * changes (say, it holds an ESC or a NUL), it is stored back cleaned, never shortened; when
 * nothing is left of it, it counts as missing. So `user_metadata.displayName` and the synced
 * `user_name` never differ by a control character.
 *
 * `api.user.setUserMetadata` updates the `event.user` that the next Actions of this trigger
 * receive (Auth0 persists all metadata changes once, at the end of the flow), so "user-sync"
 * sees the filled displayName on the same login.
 *
 * Reads no secrets.
 */
"use strict";

// @@SHARED:names@@

const MAX_DISPLAY_NAME = 64;

function emailLocalPart(email) {
    if (typeof email !== "string") return "";
    const at = email.lastIndexOf("@");
    return at === -1 ? email : email.slice(0, at);
}

function defaultDisplayName(user) {
    const email = cleanName(user.email, Infinity);
    const name = cleanName(user.name, Infinity);
    const candidates = [
        email !== "" && name.toLowerCase() === email.toLowerCase() ? "" : user.name,
        user.nickname,
        emailLocalPart(email),
    ];
    for (const candidate of candidates) {
        const value = cleanName(candidate, MAX_DISPLAY_NAME);
        if (value !== "") return value;
    }
    return "user";
}

exports.onExecutePostLogin = async (event, api) => {
    const user = event.user || {};
    const current = (user.user_metadata || {}).displayName;
    if (typeof current === "string") {
        const cleaned = cleanName(current, Infinity);
        if (cleaned !== "") {
            if (cleaned !== current) api.user.setUserMetadata("displayName", cleaned);
            return;
        }
    } else if (current !== undefined && current !== null) {
        // Not a string (an app wrote it): not ours to coerce or replace.
        return;
    }
    api.user.setUserMetadata("displayName", defaultDisplayName(user));
};
