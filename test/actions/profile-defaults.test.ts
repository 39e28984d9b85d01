import { describe, expect, it } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { EventOverrides, loadAction, postLoginEvent } from "../support/action-runner";

const action = loadAction(actionSpec("profile-defaults"));

async function displayNameSet(user: EventOverrides["user"]) {
    const result = await action.invoke(postLoginEvent({ user }));
    expect(result.error).toBeUndefined();
    expect(result.denied).toBeUndefined();
    return result;
}

describe("profile-defaults", () => {
    it("fills a missing displayName from the user's name, trimmed", async () => {
        const result = await displayNameSet({ name: "  Grace Hopper  ", user_metadata: {} });
        expect(result.calls).toEqual([{ method: "user.setUserMetadata", args: ["displayName", "Grace Hopper"] }]);
    });

    it.each([["   "], [""], [null]])("treats a blank or null displayName (%j) as missing", async (blank) => {
        const result = await displayNameSet({ name: "Grace Hopper", user_metadata: { displayName: blank, theme: "dark" } });
        expect(result.userMetadata).toEqual({ displayName: "Grace Hopper" });
    });

    it("never overwrites an existing displayName", async () => {
        const result = await displayNameSet({ name: "Grace Hopper", user_metadata: { displayName: "Amazing Grace" } });
        expect(result.calls).toEqual([]);
    });

    it.each([
        ["NUL", "Grace\u0000 Hopper", "Grace Hopper"],
        ["BEL", "\u0007Grace Hopper\u0007", "Grace Hopper"],
        ["ESC (a terminal sequence)", "Grace \u001b[31mHopper\u001b[0m", "Grace [31mHopper[0m"],
        ["DEL", "Grace\u007f Hopper", "Grace Hopper"],
        ["C1 controls (CSI, NEL)", "Grace\u009b Hopper\u0085", "Grace Hopper"],
        ["line breaks and tabs", "Grace\r\n\tHopper", "Grace Hopper"],
        ["a bidirectional override", "Grace \u202eHopper\u202c", "Grace Hopper"],
    ])("removes %s from the name, as user-sync does", async (_label, name, displayName) => {
        const result = await displayNameSet({ name, user_metadata: {} });
        expect(result.userMetadata).toEqual({ displayName });
    });

    it("skips a name, nickname or e-mail that is only control characters", async () => {
        const result = await displayNameSet({ name: "\u0000\u0007\u001b", nickname: " \u007f ", email: "\u0000@example.com", user_metadata: {} });
        expect(result.userMetadata).toEqual({ displayName: "user" });
    });

    it("cleans an existing displayName holding control characters in place (never shortening it), and fills one with nothing left", async () => {
        const long = `Amazing\u001b Grace ${"x".repeat(80)}`;
        const cleaned = await displayNameSet({ name: "Grace Hopper", user_metadata: { displayName: long } });
        expect(cleaned.calls).toEqual([{ method: "user.setUserMetadata", args: ["displayName", `Amazing Grace ${"x".repeat(80)}`] }]);
        const empty = await displayNameSet({ name: "Grace Hopper", user_metadata: { displayName: "\u0000\u202e" } });
        expect(empty.userMetadata).toEqual({ displayName: "Grace Hopper" });
    });

    it("skips a name that is only the e-mail address (Auth0's default) and uses the nickname", async () => {
        const result = await displayNameSet({ email: "grace@example.com", name: "Grace@Example.com", nickname: "gracie", user_metadata: {} });
        expect(result.userMetadata).toEqual({ displayName: "gracie" });
    });

    it('falls back to the nickname, then the e-mail\'s local part, then "user"', async () => {
        const nick = await displayNameSet({ name: undefined, nickname: " hopper ", email: "g.hopper@navy.example", user_metadata: {} });
        expect(nick.userMetadata).toEqual({ displayName: "hopper" });
        const local = await displayNameSet({ name: " ", nickname: undefined, email: "g.hopper@navy.example", user_metadata: {} });
        expect(local.userMetadata).toEqual({ displayName: "g.hopper" });
        const none = await displayNameSet({ name: undefined, nickname: undefined, email: undefined, user_metadata: {} });
        expect(none.userMetadata).toEqual({ displayName: "user" });
    });

    it("keeps at most 64 characters and never splits a character in two", async () => {
        const long = `${"x".repeat(63)}😀tail`;
        const result = await displayNameSet({ name: long, user_metadata: {} });
        const value = result.userMetadata.displayName as string;
        expect(Array.from(value)).toHaveLength(64);
        expect(value).toBe(Array.from(long).slice(0, 64).join(""));
        expect(value.endsWith("😀")).toBe(true);
    });
});
