/**
 * A search for a secret in some text must be able to fail. `text.includes("")` is always true: with
 * an empty value (a password-less URL, a setting that was not set) "it is not there" fails whatever
 * the text says, and "it is there" passes. Every value the tests search texts for goes through
 * `searchable` first, and `expectAbsent` never prints the value it searched for.
 */
import { expect } from "vitest";

/** `value`, after checking that it is a non-empty string (the test fails, naming `what`, when not). */
export function searchable(value: unknown, what: string): string {
    expect(typeof value === "string" && value.length > 0, `${what}: the value to search for is empty, so the search could not tell a leak from none`).toBe(
        true,
    );
    return value as string;
}

/** Asserts that `text` does not hold `secret` (named by `what`, never printed). */
export function expectAbsent(text: string | undefined, secret: unknown, what: string): void {
    const needle = searchable(secret, what);
    expect((text ?? "").includes(needle), `${what} appears in the text`).toBe(false);
}
