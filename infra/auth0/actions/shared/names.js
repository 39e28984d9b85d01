/*
 * The one rule for a person's name, shared by the post-login Actions that handle one:
 * "profile-defaults" (user_metadata.displayName) and "user-sync" (profiles.user_name).
 *
 * This file is not a module. The assembler (infra/auth0/actions/assemble.ts) inserts it in place
 * of its marker line in each Action that has one, so both upload the same text and a name comes
 * out the same wherever it is stored.
 *
 * A name keeps its text as the user wrote it (no case folding or Unicode normalization), except:
 *   - every control character goes: C0 (U+0000-U+001F, NUL, BEL and ESC included), DEL (U+007F)
 *     and C1 (U+0080-U+009F, CSI and NEL included): Postgres text cannot hold NUL, and the others
 *     ring bells, drive terminals (ESC [ ...) or break lines wherever the name is shown or logged;
 *   - a run of line breaks or tabs (\t \n \v \f \r, NEL, U+2028, U+2029) becomes one space first, so
 *     "Grace\nHopper" is "Grace Hopper", not "GraceHopper";
 *   - the bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069)
 *     go: they reorder the text displayed after the name ("Trojan Source" spoofing). The marks
 *     (U+200E, U+200F, U+061C) stay: they affect only the neutral characters next to them;
 *   - a lone UTF-16 surrogate becomes U+FFFD (what Postgres would store anyway);
 *   - then it is trimmed, cut to at most `max` characters (code points, never half a pair), and
 *     trimmed again.
 */
const NAME_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
const NAME_REMOVED = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `value` under the name rule, at most `max` characters; "" when it is not a string or nothing is left. */
function cleanName(value, max) {
    if (typeof value !== "string") return "";
    const text = value.toWellFormed().replace(NAME_BREAKS, " ").replace(NAME_REMOVED, "").trim();
    return Array.from(text).slice(0, max).join("").trim();
}
