/**
 * Resource names are a contract: a changed type, name or parent makes the engine replace the real
 * resource. So:
 * - names do not depend on the stack's (or the project's) name, so `pulumi stack rename` changes
 *   nothing (the stack is already part of each URN; it stays in the names shown in Auth0);
 * - every URN a stack has ever had (the ledger, test/plans/urns/<stack>.txt) still answers, as the
 *   URN of a resource or as one of its aliases, the engine's way (explicit aliases, and those a child
 *   inherits from its parent's); `vitest -u` adds new URNs to the ledger, never removes one;
 * - the token-refresh workflow's name pattern selects exactly the token and its Vault secret.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { COMMITTED_STACKS, committedStacks, urnsOf } from "../support/pulumi-mocks";

const STACKS = COMMITTED_STACKS;
const built = committedStacks();

function ledger(stack: string): string[] {
    try {
        return readFileSync(join(__dirname, "..", "plans", "urns", `${stack}.txt`), "utf8")
            .split("\n")
            .filter((l) => l.trim() !== "");
    } catch {
        return [];
    }
}

describe.each(STACKS)("names of the %s stack", (stack) => {
    it("every URN of the ledger still answers: a resource's own, or one of its aliases", () => {
        const { run } = built[stack];
        const memo = new Map<string, string[]>();
        const answering = new Set(run.resources.flatMap((r) => urnsOf(run, r, memo)));
        const lost = ledger(stack).filter((urn) => !answering.has(urn));
        expect(
            lost,
            "renamed or moved without an alias (the engine would replace these); add aliases, or remove a URN from the ledger only for a resource deleted on purpose",
        ).toEqual([]);
    });

    it("the ledger holds every current URN (vitest -u adds new ones)", async () => {
        const { run } = built[stack];
        const all = [...new Set([...ledger(stack), ...run.resources.map((r) => r.urn)])].sort();
        await expect(all.join("\n") + "\n").toMatchFileSnapshot(`../plans/urns/${stack}.txt`);
    });

    it("no resource name carries the stack's name", () => {
        const { run } = built[stack];
        expect(run.resources.filter((r) => r.name.split(/[-_]/).includes(stack)).map((r) => `${r.type} ${r.name}`)).toEqual([]);
    });

    it("the token-refresh workflow's pattern selects exactly the Management API token and its Vault secret", () => {
        const { run, config } = built[stack];
        const wf = yaml.load(readFileSync(join(__dirname, "..", "..", ".github", "workflows", "refresh-management-token.yml"), "utf8")) as {
            env: Record<string, string>;
        };
        const pattern = new RegExp(wf.env.TOKEN_RESOURCE_PATTERN!);
        const selected = run.resources
            .filter((r) => pattern.test(r.urn.split("::").at(-1)!))
            .map((r) => r.type)
            .sort();
        expect(selected).toEqual(
            config.supabase ? ["pulumi-nodejs:dynamic/auth0-postgres:ManagementApiToken", "pulumi-nodejs:dynamic/auth0-postgres:VaultSecret"] : [],
        );
    });
});
