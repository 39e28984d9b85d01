/**
 * The suite runs on the Node major that Auth0 runs Actions on (`node22`), from the `node` package
 * pinned in package.json, whatever Node the machine has: npm scripts put `node_modules/.bin` (where
 * that package puts its binary) first on PATH. A silent fall-back to the machine's Node fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIONS_RUNTIME } from "../../infra/auth0/actions";
import { runNode } from "../support/child";

const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
};

describe("the Node the tests run on", () => {
    it("is the pinned `node` package's version, the major Auth0's Action runtime names", () => {
        const pinned = pkg.devDependencies.node;
        expect(pinned, "package.json pins the node package to an exact version").toMatch(/^\d+\.\d+\.\d+$/);
        expect(process.version).toBe(`v${pinned}`);
        expect(ACTIONS_RUNTIME).toBe(`node${process.versions.node.split(".")[0]}`);
    });

    it("is what child processes (serialization proof, benchmark) get too", async () => {
        const run = await runNode(["-p", "process.version"]);
        expect(run.code).toBe(0);
        expect(run.stdout.trim()).toBe(`v${pkg.devDependencies.node}`);
    });

    it("satisfies package.json's engines range", () => {
        const min = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
        expect(min, `engines.node is ">=MAJOR.MINOR" (got ${pkg.engines.node})`).not.toBeNull();
        const [major, minor] = process.versions.node.split(".").map(Number);
        expect(major! > Number(min![1]) || (major === Number(min![1]) && minor! >= Number(min![2]))).toBe(true);
    });
});
