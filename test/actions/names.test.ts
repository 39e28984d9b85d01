/**
 * One rule for names, everywhere: the name rule (`shared/names.js`) is written once and assembled
 * into both Actions that store a name, "profile-defaults" (user_metadata.displayName) and
 * "user-sync" (profiles.user_name), and a name comes out the same from both, through the uploaded
 * code, against the real database.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ACTIONS, ACTIONS_DIR, actionSpec, assembleAction, sharedMarker, sharedSnippet, sharedSnippetsOf } from "../../infra/auth0/actions";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { loadAction, postLoginEvent, runPostLoginFlow, trackPgPools } from "../support/action-runner";

const NAMES = sharedSnippet("names");

/** The rule as the snippet defines it, run alone. */
const cleanName = (() => {
    const context = vm.createContext({});
    vm.runInContext(`${NAMES}\nthis.cleanName = cleanName;`, context);
    return context.cleanName as (value: unknown, max: number) => string;
})();

/** Names and what the rule makes of them (max 64). */
const CORPUS: [string, unknown, string][] = [
    ["plain", "Grace Hopper", "Grace Hopper"],
    ["surrounding spaces", "  Grace Hopper \u00a0", "Grace Hopper"],
    ["NUL", "Gra\u0000ce", "Grace"],
    ["BEL", "\u0007Grace", "Grace"],
    ["ESC with a terminal sequence", "\u001b[2JGrace\u001b]0;pwned\u0007", "[2JGrace]0;pwned"],
    ["DEL", "Grace\u007f", "Grace"],
    ["C1 CSI", "Grace\u009b31m", "Grace31m"],
    ["NEL, a line break", "Grace\u0085Hopper", "Grace Hopper"],
    ["CR LF and tabs, one space for the run", "Grace\r\n\t\tHopper", "Grace Hopper"],
    ["line and paragraph separators", "Grace\u2028Hopper\u2029", "Grace Hopper"],
    ["bidi override (Trojan Source)", "Grace \u202egnp.exe\u202c", "Grace gnp.exe"],
    ["bidi isolates", "\u2066Grace\u2069 \u2067Hopper\u2069", "Grace Hopper"],
    ["right-to-left text with a mark", "أحمد \u200f", "أحمد \u200f"],
    ["emoji sequence with joiners", "👩‍💻 Grace", "👩‍💻 Grace"],
    ["combining characters (not normalized)", "Zoe\u0301", "Zoe\u0301"],
    ["a lone surrogate", "Grace\ud800", "Grace\ufffd"],
    ["only control characters", "\u0000\u0007\u001b\u007f\u0085", ""],
    ["not a string", 42, ""],
    ["over 64 characters, cut on a character", `${"a".repeat(63)}😀tail`, `${"a".repeat(63)}😀`],
];

describe("the name rule", () => {
    it.each(CORPUS)("%s", (_label, value, expected) => {
        expect(cleanName(value, 64)).toBe(expected);
    });

    it("is assembled, once and byte for byte, into the two Actions that store a name, and into no other", () => {
        for (const spec of ACTIONS) {
            const source = readFileSync(join(ACTIONS_DIR, `${spec.key}.js`), "utf8");
            const uses = spec.key === "profile-defaults" || spec.key === "user-sync";
            expect(sharedSnippetsOf(source)).toEqual(uses ? ["names"] : []);
            expect(spec.code.split(NAMES).length - 1).toBe(uses ? 1 : 0);
            expect(spec.code).not.toContain("@@SHARED:");
            // The sources do not define a name rule of their own.
            expect(source).not.toMatch(/function cleanName|\\u0000-\\u001f/);
        }
    });

    it("the assembler refuses a snippet asked for twice, a snippet holding a marker, and an unknown snippet", () => {
        const twice = `"use strict";\n${sharedMarker("names")}\n  ${sharedMarker("names")}\n`;
        expect(() => assembleAction("profile-defaults", twice)).toThrow(/profile-defaults\.js has the line "\/\/ @@SHARED:names@@" more than once/);
        expect(() => assembleAction("x", `${sharedMarker("a")}\n`, () => `// @@SHARED:b@@`)).toThrow(/snippet a\.js must not contain/);
        expect(() => assembleAction("x", `${sharedMarker("no-such-snippet")}\n`)).toThrow(/cannot read the shared Action snippet .*no-such-snippet\.js/);
        // A marker not alone on its line is not a marker.
        expect(assembleAction("x", `const a = 1; ${sharedMarker("names")}\n`)).toBe(`const a = 1; ${sharedMarker("names")}\n`);
    });
});

describe("one name, wherever it is stored", () => {
    let stack: StackDatabase;
    const pools = trackPgPools();
    const defaults = loadAction(actionSpec("profile-defaults"));
    const sync = loadAction(actionSpec("user-sync"), { timeLimitMs: 10_000, interceptModule: pools.interceptModule });

    beforeAll(async () => {
        stack = await createStackDatabase(inject("databaseUrl"), "action_names");
    });
    afterAll(async () => {
        await pools.endAll();
        await stack?.teardown();
    });

    const syncSecrets = () => ({ SYNC_MODE: "postgres", SYNC_BLOCKS_LOGIN: "true", DB_SCHEMA: stack.schema, DB_URL: stack.urlFor("sync"), DB_SSL: "disable" });
    const userName = async (id: string) => (await query(stack.db.url, `SELECT user_name FROM ${stack.schema}.profiles WHERE user_id = $1`, [id]))[0]?.user_name;
    const named = CORPUS.filter(([, value, expected]) => typeof value === "string" && expected !== "");

    it.each(named)("%s: the displayName the defaults fill is the user_name the sync stores, on the same login", async (_label, name, expected) => {
        const event = postLoginEvent({ user: { name: name as string, nickname: undefined, user_metadata: {} } });
        const flow = await runPostLoginFlow(
            [
                { action: defaults, secrets: {} },
                { action: sync, secrets: syncSecrets() },
            ],
            event,
        );
        expect(flow.denied).toBeUndefined();
        for (const step of flow.steps) expect(step.invocation.logs).toEqual([]);
        expect(flow.user.user_metadata.displayName).toBe(expected);
        expect(await userName(event.user.user_id)).toBe(expected);
    });

    it.each(named)(
        "%s: the sync alone (no displayName yet) stores what the defaults would fill, up to the lengths (64, the column's 512)",
        async (_label, name) => {
            const event = postLoginEvent({ user: { name: name as string, nickname: undefined, user_metadata: {} }, secrets: syncSecrets() });
            const synced = await sync.invoke(event);
            expect(synced.logs).toEqual([]);
            const filled = (await defaults.invoke(event)).userMetadata.displayName;
            const stored = await userName(event.user.user_id);
            expect(stored).toBe(cleanName(name, 512));
            expect(filled).toBe(cleanName(name, 64));
            expect(
                Array.from(stored as string)
                    .slice(0, 64)
                    .join("")
                    .trim(),
            ).toBe(filled);
        },
    );

    it("a displayName an app wrote with control characters is cleaned by the defaults and stored cleaned by the sync", async () => {
        const event = postLoginEvent({ user: { user_metadata: { displayName: "Eve\u001b[31m \u202eadmin" } } });
        const flow = await runPostLoginFlow(
            [
                { action: defaults, secrets: {} },
                { action: sync, secrets: syncSecrets() },
            ],
            event,
        );
        expect(flow.user.user_metadata.displayName).toBe("Eve[31m admin");
        expect(await userName(event.user.user_id)).toBe("Eve[31m admin");
    });
});
