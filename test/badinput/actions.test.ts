/**
 * Bad input to the post-login Actions (their uploaded code, in the Action runner; user-sync
 * against the real Postgres as the sync role): a user profile without any optional field, SQL
 * metacharacters, very long and Unicode strings, and fields of the wrong type. Each Action does
 * the right thing or fails clearly (a log line, or a deny where the Action denies), and the
 * profiles table changes by exactly the expected row.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ACTIONS, actionSpec, HASURA_CLAIMS_NAMESPACE } from "../../infra/auth0/actions";
import { ident } from "../../infra/postgres/privileges";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { expectAbsent } from "../support/leaks";
import { BoundAction, Invocation, loadAction, PostLoginEvent, postLoginEvent, runPostLoginFlow, trackPgPools } from "../support/action-runner";

let stack: StackDatabase;
const pools = trackPgPools();
const profileDefaults = loadAction(actionSpec("profile-defaults"));
const hasuraClaims = loadAction(actionSpec("hasura-claims"));
const userSync = loadAction(actionSpec("user-sync"), { timeLimitMs: 10_000, interceptModule: pools.interceptModule });

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "badinput_actions");
});
afterAll(async () => {
    await pools.endAll();
    await stack?.teardown();
});

function syncSecrets(blocks: boolean): Record<string, string> {
    return {
        SYNC_MODE: "postgres",
        SYNC_BLOCKS_LOGIN: String(blocks),
        DB_SCHEMA: stack.schema,
        DB_URL: stack.urlFor("sync"),
        DB_SSL: "disable",
        DB_CONNECT_TIMEOUT_MS: "2000",
        DB_STATEMENT_TIMEOUT_MS: "2000",
    };
}

async function profiles(): Promise<{ user_id: string; user_name: string | null }[]> {
    return (await query(stack.db.url, `SELECT user_id, user_name FROM ${ident(stack.schema)}.profiles ORDER BY user_id COLLATE "C"`)) as {
        user_id: string;
        user_name: string | null;
    }[];
}

async function profileOf(userId: string): Promise<{ user_id: string; user_name: string | null } | undefined> {
    return (await profiles()).find((p) => p.user_id === userId);
}

let seq = 0;
function userId(): string {
    seq += 1;
    return `auth0|bad-input-${seq}-${Date.now()}`;
}

/** An event whose user has ONLY what Auth0 always sends (no name, nickname, email, metadata, roles), plus `extra`. */
function bareEvent(extra: Record<string, unknown> = {}, secrets: Record<string, string> = {}): PostLoginEvent {
    const event = postLoginEvent({ secrets });
    const user = event.user as unknown as Record<string, unknown>;
    for (const key of ["email", "email_verified", "name", "nickname", "given_name", "family_name", "picture", "multifactor", "user_metadata", "app_metadata"])
        delete user[key];
    user.user_id = userId();
    Object.assign(user, extra);
    delete (event as unknown as Record<string, unknown>).authorization;
    return event;
}

function expectClean(result: Invocation) {
    expect(result.error).toBeUndefined();
    expect(result.denied).toBeUndefined();
    expect(result.logs).toEqual([]);
}

/** The one line user-sync logs when a sync fails, and what it must not be. */
function expectSyncFailureLogged(result: Invocation, pattern: RegExp) {
    expect(result.error).toBeUndefined();
    expect(result.logs).toHaveLength(1);
    expect(result.logs[0]!.level).toBe("error");
    expect(result.logs[0]!.text).toMatch(pattern);
    expectAbsent(result.logs[0]!.text, stack.roles.sync.password, "the sync role's password");
    expectAbsent(result.logs[0]!.text, stack.urlFor("sync"), "the sync role's URL");
}

describe("a user profile without optional fields", () => {
    it("profile-defaults: displayName from the email's local part, or 'user' without an email", async () => {
        const withEmail = await profileDefaults.invoke(bareEvent({ email: "o'neil+tag@bare.test" }));
        expect(withEmail.userMetadata).toEqual({ displayName: "o'neil+tag" });
        expect(withEmail.logs).toEqual([]);
        const without = await profileDefaults.invoke(bareEvent());
        expect(without.userMetadata).toEqual({ displayName: "user" });
        expect(without.error).toBeUndefined();
    });

    it("hasura-claims: the default role only, no app_metadata or RBAC roles needed", async () => {
        const event = bareEvent({}, { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" });
        const result = await hasuraClaims.invoke(event);
        expectClean(result);
        const claims = { "x-hasura-default-role": "user", "x-hasura-allowed-roles": ["user"], "x-hasura-user-id": event.user.user_id };
        expect(result.accessTokenClaims).toEqual({ [HASURA_CLAIMS_NAMESPACE]: claims });
        expect(result.idTokenClaims).toEqual({ [HASURA_CLAIMS_NAMESPACE]: claims });
    });

    it("user-sync: writes the row with user_name null (no name, nickname or email) or the email", async () => {
        const before = await profiles();
        const nameless = bareEvent({}, syncSecrets(true));
        expectClean(await userSync.invoke(nameless));
        const emailOnly = bareEvent({ email: "only.email@bare.test" }, syncSecrets(true));
        expectClean(await userSync.invoke(emailOnly));
        const after = await profiles();
        expect(after).toHaveLength(before.length + 2);
        expect(await profileOf(nameless.user.user_id)).toEqual({ user_id: nameless.user.user_id, user_name: null });
        expect(await profileOf(emailOnly.user.user_id)).toEqual({ user_id: emailOnly.user.user_id, user_name: "only.email@bare.test" });
    });

    it("the whole flow: the defaults fill displayName, the claims and the sync use it; nothing is denied", async () => {
        const bound: BoundAction[] = [
            { action: profileDefaults, secrets: {} },
            { action: hasuraClaims, secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" } },
            { action: userSync, secrets: syncSecrets(true) },
        ];
        expect(bound.map((b) => b.action.spec.key)).toEqual(ACTIONS.map((a) => a.key));
        const event = bareEvent();
        const flow = await runPostLoginFlow(bound, event);
        expect(flow.denied).toBeUndefined();
        for (const step of flow.steps) expectClean(step.invocation);
        expect(flow.user.user_metadata).toEqual({ displayName: "user" });
        expect(await profileOf(event.user.user_id)).toEqual({ user_id: event.user.user_id, user_name: "user" });
    });
});

describe("SQL metacharacters and Unicode are data", () => {
    it.each([
        ["quotes and a statement", "Robert'); DROP TABLE auth0_app.profiles;--"],
        ["wildcards", "100% _real_ %"],
        ["backslashes", "C:\\Users\\x\\\\'"],
        ["dollar quoting", "$$ $1 $tag$"],
        // Right-to-left text with a mark (U+200F) is data; the overrides (U+202A-U+202E) are not: see the name rule's tests.
        ["right-to-left and emoji", "أحمد 😀 \u200f"],
        ["combining characters", "Zo\u0065\u0301 A\u030a"],
    ])("%s in a name reach the profile exactly, in user_name and in the claims' user id", async (_label, text) => {
        const id = `auth0|${text}`;
        const event = postLoginEvent({
            user: { user_id: id, name: text, user_metadata: {} },
            secrets: { ...syncSecrets(true), DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
        });
        expectClean(await userSync.invoke(event));
        expect(await profileOf(id)).toEqual({ user_id: id, user_name: text });
        const claims = await hasuraClaims.invoke(event);
        expect((claims.accessTokenClaims[HASURA_CLAIMS_NAMESPACE] as Record<string, unknown>)["x-hasura-user-id"]).toBe(id);
        const defaults = await profileDefaults.invoke(event);
        expect(defaults.userMetadata).toEqual({ displayName: Array.from(text.trim()).slice(0, 64).join("").trim() });
        const table = await query(stack.db.url, "SELECT to_regclass($1) IS NOT NULL AS present", [`${stack.schema}.profiles`]);
        expect(table[0]!.present).toBe(true);
    });

    it("a role with metacharacters in app_metadata.roles is left out (no ALLOWED_ROLES entry can be one); a DEFAULT_ROLE or ALLOWED_ROLES with them is refused", async () => {
        const event = postLoginEvent({
            user: { app_metadata: { roles: ["'; DROP TABLE x;--", 'a"b', "editor"] } },
            secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
        });
        const ok = await hasuraClaims.invoke(event);
        expect((ok.accessTokenClaims[HASURA_CLAIMS_NAMESPACE] as Record<string, unknown>)["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
        const refused = await hasuraClaims.invoke(postLoginEvent({ secrets: { DEFAULT_ROLE: "user'; --", ALLOWED_ROLES: "user" } }));
        expect(refused.denied).toMatch(/DEFAULT_ROLE is not a role name/);
        expect(refused.accessTokenClaims).toEqual({});
        expect(refused.logs.map((l) => l.text).join("\n")).not.toContain("user'; --");
        const refusedList = await hasuraClaims.invoke(postLoginEvent({ secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,'; DROP TABLE x;--" } }));
        expect(refusedList.denied).toMatch(/ALLOWED_ROLES is not a comma-separated list of role names/);
        expect(refusedList.accessTokenClaims).toEqual({});
        expect(refusedList.logs.map((l) => l.text).join("\n")).not.toContain("DROP TABLE");
    });
});

describe("very long strings", () => {
    const KB10 = "n".repeat(10 * 1024);
    const MB1 = "m".repeat(1024 * 1024);

    it.each([
        ["10 kB", KB10],
        ["1 MB", MB1],
    ])("a %s name: user_name keeps its first 512 characters, displayName its first 64", async (_label, name) => {
        const event = postLoginEvent({ user: { user_id: userId(), name, user_metadata: {} }, secrets: syncSecrets(true) });
        const defaults = await profileDefaults.invoke(event);
        expect(defaults.userMetadata).toEqual({ displayName: name.slice(0, 64) });
        expectClean(await userSync.invoke(event));
        expect(await profileOf(event.user.user_id)).toEqual({ user_id: event.user.user_id, user_name: name.slice(0, 512) });
    });

    it("truncation counts characters, not UTF-16 units: an emoji at the limit is kept whole", async () => {
        const name = `${"a".repeat(511)}😀tail`;
        const event = postLoginEvent({ user: { user_id: userId(), user_metadata: { displayName: name } }, secrets: syncSecrets(true) });
        expectClean(await userSync.invoke(event));
        const stored = (await profileOf(event.user.user_id))!.user_name!;
        expect(stored).toBe(`${"a".repeat(511)}😀`);
        expect(Array.from(stored)).toHaveLength(512);
    });

    it.each([
        [false, undefined],
        [true, "Sign-in could not be completed right now. Please try again in a moment."],
    ])("a user_id over the column's 255 characters (SYNC_BLOCKS_LOGIN %s): a logged failure naming the check, no row", async (blocks, denied) => {
        const before = await profiles();
        const id = `auth0|${"x".repeat(10 * 1024)}`;
        const result = await userSync.invoke(postLoginEvent({ user: { user_id: id }, secrets: syncSecrets(blocks) }));
        expectSyncFailureLogged(
            result,
            /^user-sync: profile sync for auth0\|x+ failed: the profile upsert failed \(new row for relation "profiles" violates check constraint "profiles_user_id_check" \[23514\]\); login (continues|denied)/,
        );
        expect(result.denied).toBe(denied);
        expect(await profiles()).toEqual(before);
    });

    it("a 1 MB user id is passed on as it is (the Action sets no limit of its own); a 10 kB role, which ALLOWED_ROLES cannot list, is left out", async () => {
        const id = `auth0|${MB1}`;
        const result = await hasuraClaims.invoke(
            postLoginEvent({ user: { user_id: id, app_metadata: { roles: [KB10] } }, secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" } }),
        );
        expectClean(result);
        expect(result.accessTokenClaims[HASURA_CLAIMS_NAMESPACE]).toEqual({
            "x-hasura-default-role": "user",
            "x-hasura-allowed-roles": ["user"],
            "x-hasura-user-id": id,
        });
    });
});

describe("fields of the wrong type", () => {
    it.each<[string, Record<string, unknown>, string | null, string]>([
        ["a numeric name and an object nickname", { name: 42, nickname: { toString: () => "evil" }, email: "typed@bad.test" }, "typed@bad.test", "typed"],
        ["null user_metadata", { user_metadata: null, name: "Null Meta" }, "Null Meta", "Null Meta"],
        ["an array displayName", { user_metadata: { displayName: ["x"] }, nickname: "arr" }, "arr", "__unchanged__"],
        ["a numeric displayName", { user_metadata: { displayName: 7 }, nickname: "num" }, "num", "__unchanged__"],
        ["a blank displayName and a numeric email", { user_metadata: { displayName: "   " }, email: 5, nickname: "nick" }, "nick", "nick"],
        ["a NaN name only", { name: NaN }, null, "user"],
    ])("%s: the strings are used, the rest ignored, nothing coerced", async (_label, fields, userName, displayName) => {
        const event = bareEvent(fields, syncSecrets(true));
        const defaults = await profileDefaults.invoke(event);
        expect(defaults.error).toBeUndefined();
        expect(defaults.userMetadata).toEqual(displayName === "__unchanged__" ? {} : { displayName });
        expectClean(await userSync.invoke(event));
        expect(await profileOf(event.user.user_id)).toEqual({ user_id: event.user.user_id, user_name: userName });
    });

    it.each<[string, unknown]>([
        ["missing", undefined],
        ["a number", 42],
        ["empty", ""],
        ["an object", { id: "auth0|x" }],
    ])("a user_id that is %s: user-sync logs it and writes nothing; hasura-claims denies", async (_label, value) => {
        const before = await profiles();
        const event = bareEvent({ user_id: value, name: "No Id" }, { ...syncSecrets(false), DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" });
        if (value === undefined) delete (event.user as unknown as Record<string, unknown>).user_id;
        const sync = await userSync.invoke(event);
        // (An empty user_id is named as it is, "for  failed": cosmetic, left to the Action's author.)
        expectSyncFailureLogged(sync, /^user-sync: profile sync for (unknown user|) failed: event\.user\.user_id is missing; login continues$/);
        expect(await profiles()).toEqual(before);
        const claims = await hasuraClaims.invoke(event);
        expect(claims.denied).toBe("Login failed: the user has no id.");
        expect(claims.accessTokenClaims).toEqual({});
    });

    it.each<[string, unknown, string[]]>([
        ["a string", "admin", ["user"]],
        ["an array with a number", ["editor", 1], ["user"]],
        ["an object", { 0: "admin" }, ["user"]],
        ["null", null, ["user"]],
    ])("app_metadata.roles that is %s is ignored with a log line (not a deny)", async (_label, roles, allowed) => {
        const result = await hasuraClaims.invoke(
            postLoginEvent({
                user: { app_metadata: { roles } },
                authorization: { roles: [] },
                secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
            }),
        );
        expect(result.denied).toBeUndefined();
        expect((result.accessTokenClaims[HASURA_CLAIMS_NAMESPACE] as Record<string, unknown>)["x-hasura-allowed-roles"]).toEqual(allowed);
        expect(result.logs.map((l) => l.text)).toEqual(["hasura-claims: app_metadata.roles is not an array of strings; ignored"]);
    });

    it("RBAC roles with blanks, duplicates and non-strings keep only the distinct non-blank strings", async () => {
        const event = postLoginEvent({
            authorization: { roles: ["", "editor", null, 3, "editor", "user"] as unknown as string[] },
            secrets: { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" },
        });
        const result = await hasuraClaims.invoke(event);
        expectClean(result);
        expect((result.accessTokenClaims[HASURA_CLAIMS_NAMESPACE] as Record<string, unknown>)["x-hasura-allowed-roles"]).toEqual(["user", "editor"]);
    });

    it("no event.user at all: profile-defaults fills 'user', hasura-claims denies, user-sync logs; nothing is written", async () => {
        const before = await profiles();
        const event = postLoginEvent({ secrets: { ...syncSecrets(false), DEFAULT_ROLE: "user", ALLOWED_ROLES: "user,editor" } });
        delete (event as unknown as Record<string, unknown>).user;
        expect((await profileDefaults.invoke(event)).userMetadata).toEqual({ displayName: "user" });
        expect((await hasuraClaims.invoke(event)).denied).toBe("Login failed: the user has no id.");
        expectSyncFailureLogged(await userSync.invoke(event), /event\.user\.user_id is missing; login continues$/);
        expect(await profiles()).toEqual(before);
    });

    it("control characters (NUL included) are dropped from the name, by the sync and by the defaults alike: the login goes on and the row is written", async () => {
        const id = userId();
        const event = postLoginEvent({ user: { user_id: id, name: "nul\u0000na\u0007me\u001b[2J\u007f", user_metadata: {} }, secrets: syncSecrets(true) });
        const result = await userSync.invoke(event);
        expect(result.denied).toBeUndefined();
        expect((await profiles()).filter((p) => p.user_id === id).map((p) => p.user_name)).toEqual(["nulname[2J"]);
        expect((await profileDefaults.invoke(event)).userMetadata).toEqual({ displayName: "nulname[2J" });
    });
});
