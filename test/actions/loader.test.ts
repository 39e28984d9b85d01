/**
 * The Action list the lead deploys (code, dependencies, secrets) and the runner the other tests
 * execute it with.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIONS, ActionSpec, actionSecrets, actionSpec, assembleAction, requiredSecretNames } from "../../infra/auth0/actions";
import { freePort } from "../support/embedded";
import { loadAction, postLoginEvent, trackPgPools } from "../support/action-runner";

const ACTIONS_DIR = join(__dirname, "..", "..", "infra", "auth0", "actions");

/** Runs `spec` with an event whose secrets record every name the Action reads. */
async function secretsRead(spec: ActionSpec, values: Record<string, string>): Promise<Set<string>> {
    const read = new Set<string>();
    const event = postLoginEvent({ user: { user_metadata: {} } });
    event.secrets = new Proxy(values, {
        get(target, name) {
            if (typeof name === "string") read.add(name);
            return target[name as string];
        },
    });
    const pools = trackPgPools();
    try {
        const result = await loadAction(spec, { timeLimitMs: 10_000, interceptModule: pools.interceptModule }).invoke(event);
        expect(result.error).toBeUndefined();
    } finally {
        await pools.endAll();
    }
    return read;
}

describe("ACTIONS", () => {
    it("carries each file's text with its shared snippets inserted, in binding order", () => {
        expect(ACTIONS.map((a) => a.key)).toEqual(["profile-defaults", "hasura-claims", "user-sync"]);
        for (const a of ACTIONS) {
            expect(a.code).toBe(assembleAction(a.key, readFileSync(join(ACTIONS_DIR, `${a.key}.js`), "utf8")));
            expect(a.name.length).toBeGreaterThan(0);
        }
        expect(new Set(ACTIONS.map((a) => a.name)).size).toBe(ACTIONS.length);
    });

    it("declares pg at the version installed in node_modules for user-sync, and nothing else", () => {
        const pg = JSON.parse(readFileSync(join(__dirname, "..", "..", "node_modules", "pg", "package.json"), "utf8")) as { version: string };
        expect(actionSpec("user-sync").dependencies).toEqual([{ name: "pg", version: pg.version }]);
        expect(pg.version).toMatch(/^8\.\d+\.\d+$/);
        expect(actionSpec("profile-defaults").dependencies).toEqual([]);
        expect(actionSpec("hasura-claims").dependencies).toEqual([]);
    });

    it("lists exactly the secrets each Action reads", async () => {
        expect([...(await secretsRead(actionSpec("profile-defaults"), {}))]).toEqual([]);
        expect([...(await secretsRead(actionSpec("hasura-claims"), { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user" }))].sort()).toEqual(
            [...actionSpec("hasura-claims").secretNames].sort(),
        );

        const port = await freePort();
        const postgres = await secretsRead(actionSpec("user-sync"), {
            SYNC_MODE: "postgres",
            SYNC_BLOCKS_LOGIN: "false",
            DB_SCHEMA: "auth0_app",
            DB_URL: `postgres://sync:pw-${port}@127.0.0.1:${port}/app`,
            DB_SSL: "disable",
            DB_CONNECT_TIMEOUT_MS: "500",
            DB_STATEMENT_TIMEOUT_MS: "500",
        });
        const hasura = await secretsRead(actionSpec("user-sync"), {
            SYNC_MODE: "hasura",
            DB_SCHEMA: "auth0_app",
            HASURA_GRAPHQL_URL: `http://127.0.0.1:${port}/v1/graphql`,
            HASURA_ADMIN_SECRET: "admin-secret",
            HASURA_TIMEOUT_MS: "500",
        });
        const all = new Set([...postgres, ...hasura]);
        expect([...all].sort()).toEqual([...actionSpec("user-sync").secretNames].sort());
    });

    it("actionSecrets keeps the Action's order, drops unset values and checks names", () => {
        expect(actionSecrets("user-sync", { DB_URL: "u", SYNC_MODE: "postgres", DB_SCHEMA: "s", DB_SSL: undefined })).toEqual([
            { name: "SYNC_MODE", value: "postgres" },
            { name: "DB_SCHEMA", value: "s" },
            { name: "DB_URL", value: "u" },
        ]);
        expect(() => actionSecrets("hasura-claims", { DEFAULT_ROLE: "user", ALLOWED_ROLES: "user", DB_URL: "x" })).toThrow(
            /Action "hasura-claims" does not read secret\(s\) DB_URL/,
        );
        expect(() => actionSecrets("hasura-claims", {})).toThrow(/Action "hasura-claims" needs secret\(s\) DEFAULT_ROLE, ALLOWED_ROLES/);
        expect(() => actionSecrets("hasura-claims", { DEFAULT_ROLE: "user" })).toThrow(/Action "hasura-claims" needs secret\(s\) ALLOWED_ROLES/);
        expect(() => actionSecrets("user-sync", { SYNC_MODE: "postgres", DB_SCHEMA: "s" })).toThrow(/needs secret\(s\) DB_URL/);
        expect(() => actionSecrets("user-sync", { SYNC_MODE: "hasura", DB_SCHEMA: "s" })).toThrow(/needs secret\(s\) HASURA_GRAPHQL_URL, HASURA_ADMIN_SECRET/);
        expect(() => actionSecrets("user-sync", { SYNC_MODE: "mysql", DB_SCHEMA: "s" })).toThrow(/SYNC_MODE must be "postgres" or "hasura"/);
        // A value the caller cannot inspect (e.g. a pulumi Output) is passed through untouched.
        const opaque = { secret: true };
        expect(actionSecrets<unknown>("hasura-claims", { DEFAULT_ROLE: opaque, ALLOWED_ROLES: opaque })).toEqual([
            { name: "DEFAULT_ROLE", value: opaque },
            { name: "ALLOWED_ROLES", value: opaque },
        ]);
        for (const key of ["profile-defaults", "hasura-claims", "user-sync"] as const) {
            for (const name of requiredSecretNames(key, "postgres")) expect(actionSpec(key).secretNames).toContain(name);
            for (const name of requiredSecretNames(key, "hasura")) expect(actionSpec(key).secretNames).toContain(name);
        }
    });
});

describe("action runner", () => {
    const spec = (code: string, dependencies: ActionSpec["dependencies"] = []): ActionSpec => ({
        key: "profile-defaults",
        name: "t",
        code,
        dependencies,
        secretNames: [],
    });

    it("lets an Action require Node built-ins and its declared dependencies only", async () => {
        const code = `
            const { createHash } = require("node:crypto");
            exports.onExecutePostLogin = async (event, api) => {
                api.user.setAppMetadata("hash", createHash("sha256").update("x").digest("hex").length);
                api.user.setAppMetadata("zod", (() => { try { require("zod"); return "loaded"; } catch (e) { return e.code; } })());
            };`;
        const result = await loadAction(spec(code)).invoke(postLoginEvent());
        expect(result.appMetadata).toEqual({ hash: 64, zod: "MODULE_NOT_FOUND" });
    });

    it("refuses a declared dependency whose version is not the installed one", () => {
        expect(() => loadAction(spec("exports.onExecutePostLogin = async () => {};", [{ name: "pg", version: "7.0.0" }]))).toThrow(
            /declares pg@7\.0\.0 but node_modules has pg@8\./,
        );
    });

    it("gives the Action no process (configuration comes only from event.secrets) and captures console", async () => {
        const code = `exports.onExecutePostLogin = async (event) => { console.log("secrets:", Object.keys(event.secrets).length, typeof process); };`;
        const result = await loadAction(spec(code)).invoke(postLoginEvent({ secrets: { A: "1" } }));
        expect(result.logs).toEqual([{ level: "log", text: "secrets: 1 undefined" }]);
    });

    it("keeps module scope across invocations of one loaded Action, and not across loads", async () => {
        const code = `let n = 0; exports.onExecutePostLogin = async (event, api) => { n += 1; api.user.setAppMetadata("n", n); };`;
        const one = loadAction(spec(code));
        await one.invoke(postLoginEvent());
        expect((await one.invoke(postLoginEvent())).appMetadata).toEqual({ n: 2 });
        expect((await loadAction(spec(code)).invoke(postLoginEvent())).appMetadata).toEqual({ n: 1 });
    });

    it("reports an Action that throws, and one that does not finish in time", async () => {
        const thrown = await loadAction(spec(`exports.onExecutePostLogin = async () => { throw new Error("boom"); };`)).invoke(postLoginEvent());
        expect((thrown.error as Error).message).toBe("boom");
        const hung = await loadAction(spec(`exports.onExecutePostLogin = () => new Promise(() => {});`), { timeLimitMs: 50 }).invoke(postLoginEvent());
        expect((hung.error as Error).message).toMatch(/did not finish within 50 ms/);
    });
});
