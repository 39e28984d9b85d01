/**
 * Check failures built as `{ property, reason }` where they are found, and the two ways they leave
 * a provider: as `check`'s failures, or as one thrown error.
 *
 * No imports: `retry.ts` and `settings-guard.ts` use it too. Serialized into the providers' text
 * like everything here (see README.md).
 */

/**
 * Something wrong with a provider's inputs, built where it is found: the input's path
 * (`connection.port`, `migrations[0].id`), or "" when the reason says itself what it is about (a
 * config key, a table that cannot be adopted), and what is wrong. {@link problemText} is how every
 * message shows it; {@link checkFailures} and {@link assertNoProblems} are the two ways out.
 */
export interface Problem {
    property: string;
    reason: string;
}

export function problem(property: string, reason: string): Problem {
    return { property, reason };
}

/** `property: reason` (the reason alone when the property is ""). */
export function problemText(p: Problem): string {
    return p.property === "" ? p.reason : `${p.property}: ${p.reason}`;
}

/**
 * The failures `check` returns. The property is left empty on purpose: for a failure that names a
 * property the engine prints that property's whole value before the reason (60 lines of migration
 * SQL, or the connection object unredacted). The reason starts with the property's path instead
 * ({@link problemText}), so the message says what was wrong and nothing else.
 */
export function checkFailures(problems: Problem[]): { property: string; reason: string }[] {
    return problems.map((p) => ({ property: "", reason: problemText(p) }));
}

/** Throws one error listing every problem (`<what>: invalid inputs:` and a line each), or does nothing. */
export function assertNoProblems(what: string, problems: Problem[]): void {
    if (problems.length > 0) throw new Error(`${what}: invalid inputs:\n${problems.map((p) => `  - ${problemText(p)}`).join("\n")}`);
}
