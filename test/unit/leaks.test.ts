import { describe, expect, it } from "vitest";
import { expectAbsent, searchable } from "../support/leaks";

describe("the secret search of the tests can fail", () => {
    it("passes when the secret is absent, fails when it is present", () => {
        expect(() => expectAbsent("error: connection refused", "s3cr3t-pw", "the password")).not.toThrow();
        expect(() => expectAbsent("error: s3cr3t-pw refused", "s3cr3t-pw", "the password")).toThrow(/the password appears in the text/);
    });

    it("refuses to search for an empty or missing value instead of deciding by it", () => {
        expect("any text".includes("")).toBe(true);
        expect(() => expectAbsent("any text", "", "the password")).toThrow(/the password: the value to search for is empty/);
        expect(() => searchable(undefined, "the token")).toThrow(/the token: the value to search for is empty/);
        expect(searchable("x", "one character")).toBe("x");
    });

    it("never prints the secret it looked for", () => {
        const secret = "never-print-me-7f3a";
        const err = (() => {
            try {
                expectAbsent(`holds ${secret}`, secret, "the token");
            } catch (e) {
                return e as Error;
            }
            return undefined;
        })();
        expect(err?.message).toMatch(/the token appears in the text/);
        expect(err?.message.includes(secret)).toBe(false);
    });
});
