/**
 * The code uploaded to Auth0 cannot import infra/config/constants.ts, so it writes the limits and
 * SSL modes it checks at run time itself: the custom-database scripts (shared.js, as assembled into
 * each script) and the user-sync Action. They must be the ones the config accepts, or a stack the
 * preview lets through would fail at login.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIONS_DIR } from "../../infra/auth0/actions/catalog";
import { sharedCode } from "../../infra/auth0/scripts";
import { SCRIPT_LIMITS, SSL_MODES } from "../../infra/config/constants";

const SHARED = sharedCode();
const USER_SYNC = readFileSync(join(ACTIONS_DIR, "user-sync.js"), "utf8");

/** The one match of `pattern` in `text`, its groups. */
function only(text: string, pattern: RegExp): string[] {
    const all = [...text.matchAll(new RegExp(pattern, "g"))];
    expect(all, `${pattern} matches once`).toHaveLength(1);
    return all[0]!.slice(1);
}

const number = (text: string) => Number(text.replace(/_/g, ""));

describe("the custom-database scripts check what the config accepts", () => {
    it("the SSL modes", () => {
        expect(JSON.parse(only(SHARED, /var SSL_MODES = (\[[^\]]*\]);/)[0]!)).toEqual([...SSL_MODES]);
    });

    it.each([
        ["BCRYPT_COST", SCRIPT_LIMITS.bcryptCost],
        ["DB_POOL_MAX", SCRIPT_LIMITS.poolMax],
        ["DB_CONNECT_TIMEOUT_MS", SCRIPT_LIMITS.connectTimeoutMs],
        ["DB_STATEMENT_TIMEOUT_MS", SCRIPT_LIMITS.statementTimeoutMs],
    ])("the range of %s", (key, { min, max }) => {
        const [low, high] = only(SHARED, new RegExp(`integer\\("${key}", ([\\d_]+), ([\\d_]+)\\)`));
        expect([number(low!), number(high!)]).toEqual([min, max]);
    });

    it("the highest bcrypt cost a failed login pays (the configuration's own maximum)", () => {
        expect(number(only(SHARED, /var MAX_BCRYPT_COST = ([\d_]+);/)[0]!)).toBe(SCRIPT_LIMITS.bcryptCost.max);
    });
});

describe("the user-sync Action checks what the config accepts", () => {
    it("the SSL modes", () => {
        expect(JSON.parse(only(USER_SYNC, /const SSL_MODES = (\[[^\]]*\]);/)[0]!)).toEqual([...SSL_MODES]);
    });

    it("the range of its timeouts (the stack sends customDb.connectTimeoutMs and statementTimeoutMs)", () => {
        const [low, high] = only(USER_SYNC, /value >= ([\d_]+) && value <= ([\d_]+)/);
        expect([number(low!), number(high!)]).toEqual([SCRIPT_LIMITS.connectTimeoutMs.min, SCRIPT_LIMITS.connectTimeoutMs.max]);
        expect(SCRIPT_LIMITS.statementTimeoutMs).toEqual(SCRIPT_LIMITS.connectTimeoutMs);
    });
});
