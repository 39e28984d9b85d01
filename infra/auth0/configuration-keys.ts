/**
 * The ledger of the custom-database connection's `options.configuration` keys: every key ever
 * uploaded, and where it is in its life. Never delete an entry.
 *
 * Why a ledger: the provider refuses an update when Auth0 holds a configuration key the program does
 * not send ("Unmanaged Configuration Secret"), and Auth0 returns configuration values encrypted, so
 * nothing in a refresh or a preview shows which keys Auth0 holds. Removing or renaming a key in the
 * scripts in one step would therefore fail the next `up` on every stack. With the ledger it is a
 * supported two-step change:
 *
 * 1. **retire**: the scripts stop reading the key; the ledger marks it `retired`. Every update keeps
 *    sending it, with the value {@link RETIRED_VALUE}, so Auth0 and the provider agree. (A rename is
 *    a new `live` key plus the old one `retired`, in the same change.) Deploy it to every stack.
 * 2. **delete**: once every stack runs step 1, mark the key `deleted`: the program stops sending it.
 *    If an update then fails with "Unmanaged Configuration Secret", delete the key by hand (Auth0
 *    dashboard > Authentication > Database > the connection > Custom Database > Settings) and re-run.
 *
 * A live key that vanishes from the scripts' configuration without going through step 1 is refused
 * when the program runs (at preview), with these steps in the message.
 *
 * By design the values are invisible to drift detection: Auth0 never returns them in clear, so the
 * state keeps what the program last sent. A value changed in the dashboard is overwritten by the
 * next update that touches the connection, and never shown as drift before that.
 */

export type ConfigurationKeyState = "live" | "retired" | "deleted";

/** Every configuration key ever uploaded. Add new keys as `live`; never remove an entry. */
export const CONFIGURATION_KEY_LEDGER: Readonly<Record<string, ConfigurationKeyState>> = {
    DB_URL: "live",
    DB_SSL: "live",
    BCRYPT_COST: "live",
    DB_POOL_MAX: "live",
    DB_CONNECT_TIMEOUT_MS: "live",
    DB_STATEMENT_TIMEOUT_MS: "live",
    DB_SCHEMA: "live",
    DB_CA_CERT: "live",
};

/** The value a retired key keeps in Auth0 until it is deleted. The scripts never read it. */
export const RETIRED_VALUE = "retired";

const STEPS =
    "Removing or renaming a configuration key takes two steps (infra/auth0/configuration-keys.ts): " +
    '1) mark it "retired" in CONFIGURATION_KEY_LEDGER (it is still sent, as "retired") and deploy every stack; ' +
    '2) then mark it "deleted" (if an update then fails with "Unmanaged Configuration Secret", delete the key in the dashboard and re-run).';

/** Problems between the keys the scripts' configuration has now and the ledger; each names the key and what to do. */
export function configurationLedgerProblems(
    keys: readonly string[],
    ledger: Readonly<Record<string, ConfigurationKeyState>> = CONFIGURATION_KEY_LEDGER,
): string[] {
    const problems: string[] = [];
    for (const key of keys) {
        const state = ledger[key];
        if (state === undefined) problems.push(`configuration key ${key} is not in CONFIGURATION_KEY_LEDGER: add it as "live"`);
        else if (state !== "live")
            problems.push(
                `configuration key ${key} is "${state}" in CONFIGURATION_KEY_LEDGER but the scripts' configuration has it again: use a new key name (a ${state} key cannot come back)`,
            );
    }
    for (const [key, state] of Object.entries(ledger)) {
        if (state === "live" && !keys.includes(key))
            problems.push(`configuration key ${key} is "live" in CONFIGURATION_KEY_LEDGER but the scripts' configuration no longer has it. ${STEPS}`);
    }
    return problems;
}

/** Throws one error listing every ledger problem, or does nothing. Call it before registering the connection. */
export function assertConfigurationLedger(keys: readonly string[], ledger: Readonly<Record<string, ConfigurationKeyState>> = CONFIGURATION_KEY_LEDGER): void {
    const problems = configurationLedgerProblems(keys, ledger);
    if (problems.length > 0) throw new Error(`custom-database configuration keys:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

/** The configuration as uploaded: the live values, and every retired key with {@link RETIRED_VALUE}. */
export function uploadedConfiguration(
    live: Record<string, string>,
    ledger: Readonly<Record<string, ConfigurationKeyState>> = CONFIGURATION_KEY_LEDGER,
): Record<string, string> {
    const retired = Object.entries(ledger)
        .filter(([, state]) => state === "retired")
        .map(([key]) => [key, RETIRED_VALUE] as const);
    return { ...Object.fromEntries(retired), ...live };
}
