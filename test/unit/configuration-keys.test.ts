/**
 * Issue #11 point 3: a configuration key of the custom-database connection cannot be removed or
 * renamed in one step (the provider refuses "Unmanaged Configuration Secret"); the ledger makes it
 * a two-step change and refuses the one-step version before anything is registered.
 */
import { describe, expect, it } from "vitest";
import {
    assertConfigurationLedger,
    CONFIGURATION_KEY_LEDGER,
    configurationLedgerProblems,
    RETIRED_VALUE,
    uploadedConfiguration,
} from "../../infra/auth0/configuration-keys";
import { SCRIPT_CONFIGURATION_KEYS } from "../../infra/auth0/scripts";

const live = SCRIPT_CONFIGURATION_KEYS.filter((k) => k !== "DB_POOL_MAX");

describe("the configuration-key ledger", () => {
    it("today's scripts' configuration matches the ledger", () => {
        expect(configurationLedgerProblems(SCRIPT_CONFIGURATION_KEYS)).toEqual([]);
        expect(
            Object.entries(CONFIGURATION_KEY_LEDGER)
                .filter(([, s]) => s === "live")
                .map(([k]) => k)
                .sort(),
        ).toEqual([...SCRIPT_CONFIGURATION_KEYS].sort());
    });

    it("refuses a key dropped in one step, with the two steps in the message", () => {
        const problems = configurationLedgerProblems(live);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(
            /^configuration key DB_POOL_MAX is "live" in CONFIGURATION_KEY_LEDGER but the scripts' configuration no longer has it\. Removing or renaming .* 1\) mark it "retired" .* 2\) then mark it "deleted"/,
        );
        expect(() => assertConfigurationLedger(live)).toThrow(/DB_POOL_MAX/);
    });

    it("step 1 (retired): accepted, and the key is still uploaded with the retired value", () => {
        const ledger = { ...CONFIGURATION_KEY_LEDGER, DB_POOL_MAX: "retired" as const };
        expect(configurationLedgerProblems(live, ledger)).toEqual([]);
        const uploaded = uploadedConfiguration({ DB_URL: "postgres://u:p@h:5432/d" }, ledger);
        expect(uploaded).toEqual({ DB_POOL_MAX: RETIRED_VALUE, DB_URL: "postgres://u:p@h:5432/d" });
    });

    it("step 2 (deleted): accepted, and the key is no longer uploaded", () => {
        const ledger = { ...CONFIGURATION_KEY_LEDGER, DB_POOL_MAX: "deleted" as const };
        expect(configurationLedgerProblems(live, ledger)).toEqual([]);
        expect(uploadedConfiguration({ DB_URL: "x" }, ledger)).toEqual({ DB_URL: "x" });
    });

    it("a rename is a new live key plus the old one retired; a new key missing from the ledger, or a retired key coming back, is refused", () => {
        const renamed = [...live, "DB_POOL_SIZE"];
        expect(configurationLedgerProblems(renamed, { ...CONFIGURATION_KEY_LEDGER, DB_POOL_MAX: "retired", DB_POOL_SIZE: "live" })).toEqual([]);
        expect(configurationLedgerProblems(renamed, { ...CONFIGURATION_KEY_LEDGER, DB_POOL_MAX: "retired" })).toEqual([
            'configuration key DB_POOL_SIZE is not in CONFIGURATION_KEY_LEDGER: add it as "live"',
        ]);
        expect(configurationLedgerProblems(SCRIPT_CONFIGURATION_KEYS, { ...CONFIGURATION_KEY_LEDGER, DB_POOL_MAX: "retired" })[0]).toMatch(
            /DB_POOL_MAX is "retired" .* use a new key name/,
        );
    });
});
