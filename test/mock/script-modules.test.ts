/**
 * `customDb.modules` flows from the stack config into the uploaded scripts: each non-core require
 * of the connection's `customScripts` names the stack's version.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { requireCalls, SCRIPT_NAMES } from "../../infra/auth0/scripts";
import { buildMockedStackOf } from "../support/pulumi-mocks";
import { stackScriptModules } from "../support/script-modules";

const PROJECT = "auth0-postgres";
const CONNECTION = "auth0:index/connection:Connection";

function uploadedRequires(run: Awaited<ReturnType<typeof buildMockedStackOf>>["run"]): Record<string, (string | null)[]> {
    const connection = run.resources.find((r) => r.type === CONNECTION);
    if (!connection) throw new Error("no custom-database connection registered");
    const scripts = (connection.inputs.options as { customScripts: Record<string, string> }).customScripts;
    return Object.fromEntries(SCRIPT_NAMES.map((name) => [name, requireCalls(scripts[name]!).map((c) => c.id)]));
}

describe("customDb.modules in the uploaded scripts", () => {
    it("the dev stack uploads scripts that require its configured versions", async () => {
        const { run, config } = await buildMockedStackOf(PROJECT, "dev");
        expect(config.customDb.modules).toEqual(stackScriptModules("dev"));
        for (const ids of Object.values(uploadedRequires(run))) {
            expect(ids).toEqual([`pg@${config.customDb.modules.pg}`, `bcrypt@${config.customDb.modules.bcrypt}`, "crypto", "tls"]);
        }
    });

    it("a stack that sets other versions uploads those, without a code change", async () => {
        const doc = yaml.load(readFileSync(join(__dirname, "..", "..", "stacks", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
        const customDb = { ...(doc.config[`${PROJECT}:customDb`] as object), modules: { pg: "8.7.1", bcrypt: "5.1.0" } };
        const { run, config } = await buildMockedStackOf(PROJECT, "dev", { values: { customDb } });
        expect(config.customDb.modules).toEqual({ pg: "8.7.1", bcrypt: "5.1.0" });
        for (const ids of Object.values(uploadedRequires(run))) expect(ids).toEqual(["pg@8.7.1", "bcrypt@5.1.0", "crypto", "tls"]);
    });
});
