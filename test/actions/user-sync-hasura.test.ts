/**
 * user-sync in hasura mode, against a real HTTP server on 127.0.0.1 standing in for Hasura's
 * GraphQL endpoint. The server rejects (HTTP 400) any request that is not the upsert Hasura
 * expects, so a passing sync proves the request's shape; it can also fail in the ways Hasura does.
 */
import { randomBytes } from "node:crypto";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { freePort } from "../support/embedded";
import { EventOverrides, Invocation, loadAction, postLoginEvent } from "../support/action-runner";

const ADMIN_SECRET = `hasura-${randomBytes(18).toString("base64url")}`;
const PATH = "/v1/graphql";

type Answer = "upserted" | "http-500" | "graphql-errors" | "graphql-errors-echoing-secret" | "no-result" | "stall-headers" | "stall-body";

interface Seen {
    method: string;
    path: string;
    headers: IncomingMessage["headers"];
    body: { query?: unknown; variables?: { object?: Record<string, unknown> }; operationName?: unknown };
}

let server: Server;
let url: string;
let answer: Answer = "upserted";
const seen: Seen[] = [];
const stalled: ServerResponse[] = [];
/** One promise per stalled answer, resolved when the client closes that connection. */
const stallsClosed: Promise<void>[] = [];

/** GraphQL tokens, so formatting and commas (insignificant in GraphQL) do not matter. */
function tokens(query: string): string[] {
    return query.match(/\$?[A-Za-z_][A-Za-z0-9_]*|[!(){}[\]:=@]/g) ?? [];
}

/** The upsert as Hasura's API reference gives it for a table tracked with its default names. */
function expectedQuery(schema: string): string {
    const table = schema === "public" ? "profiles" : `${schema}_profiles`;
    return `mutation UpsertProfile($object: ${table}_insert_input!) {
        insert_${table}_one(
            object: $object,
            on_conflict: { constraint: profiles_pkey, update_columns: [user_name, last_seen] }
        ) { user_id }
    }`;
}

let expectedSchema = "auth0_app";

function problemsWith(s: Seen): string[] {
    const problems: string[] = [];
    if (s.method !== "POST") problems.push(`method ${s.method}`);
    if (s.path !== PATH) problems.push(`path ${s.path}`);
    if (s.headers["x-hasura-admin-secret"] !== ADMIN_SECRET) problems.push("wrong or missing x-hasura-admin-secret");
    if (!String(s.headers["content-type"]).startsWith("application/json")) problems.push("content-type is not JSON");
    if (typeof s.body.query !== "string" || tokens(s.body.query).join(" ") !== tokens(expectedQuery(expectedSchema)).join(" "))
        problems.push("unexpected query");
    const object = s.body.variables?.object;
    if (!object || Object.keys(object).sort().join() !== "last_seen,user_id,user_name")
        problems.push("variables.object must be exactly user_id, user_name, last_seen");
    else if (
        typeof object.user_id !== "string" ||
        !(typeof object.user_name === "string" || object.user_name === null) ||
        typeof object.last_seen !== "string" ||
        Number.isNaN(Date.parse(object.last_seen))
    ) {
        problems.push("variables.object has wrong types");
    }
    return problems;
}

function json(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
}

beforeAll(async () => {
    server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        let body: Seen["body"] = {};
        try {
            body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Seen["body"];
        } catch {
            // Left empty: problemsWith reports it.
        }
        const s: Seen = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
        seen.push(s);
        const problems = problemsWith(s);
        if (problems.length > 0) return json(res, 400, { errors: [{ message: `test server: ${problems.join("; ")}`, extensions: { code: "bad-request" } }] });
        const field = `insert_${expectedSchema === "public" ? "profiles" : `${expectedSchema}_profiles`}_one`;
        switch (answer) {
            case "upserted":
                return json(res, 200, { data: { [field]: { user_id: body.variables!.object!.user_id } } });
            case "http-500":
                return json(res, 500, { error: "internal error", code: "unexpected" });
            case "graphql-errors":
                return json(res, 200, {
                    errors: [
                        {
                            message: `field '${field}' not found in type: 'mutation_root'`,
                            extensions: { path: `$.selectionSet.${field}`, code: "validation-failed" },
                        },
                    ],
                });
            case "graphql-errors-echoing-secret":
                return json(res, 200, { errors: [{ message: `invalid admin secret ${ADMIN_SECRET}`, extensions: { code: "access-denied" } }] });
            case "no-result":
                return json(res, 200, { data: { [field]: null } });
            case "stall-headers":
                stall(res);
                return;
            case "stall-body":
                res.writeHead(200, { "content-type": "application/json" });
                res.write('{"data":');
                stall(res);
                return;
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}${PATH}`;
});

/** Keeps an answer open forever; only the client can end it. */
function stall(res: ServerResponse) {
    stalled.push(res);
    stallsClosed.push(new Promise((resolve) => res.once("close", () => resolve())));
}

afterEach(() => {
    for (const res of stalled.splice(0)) res.destroy();
    stallsClosed.length = 0;
    seen.length = 0;
    answer = "upserted";
    expectedSchema = "auth0_app";
});

afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
});

const action = loadAction(actionSpec("user-sync"), { timeLimitMs: 10_000 });

function event(secretOverrides: Record<string, string | undefined> = {}, user: EventOverrides["user"] = {}) {
    return postLoginEvent({
        user,
        secrets: {
            SYNC_MODE: "hasura",
            DB_SCHEMA: "auth0_app",
            HASURA_GRAPHQL_URL: url,
            HASURA_ADMIN_SECRET: ADMIN_SECRET,
            HASURA_TIMEOUT_MS: "250",
            ...secretOverrides,
        },
    });
}

function expectNoSecret(result: Invocation) {
    for (const text of [...result.logs.map((l) => l.text), result.denied ?? ""]) expect(text).not.toContain(ADMIN_SECRET);
}

function expectFailure(result: Invocation, pattern: RegExp, blocks: boolean) {
    expect(result.error).toBeUndefined();
    expect(result.logs).toHaveLength(1);
    expect(result.logs[0]!.level).toBe("error");
    expect(result.logs[0]!.text).toMatch(pattern);
    if (blocks) {
        expect(result.logs[0]!.text).toMatch(/; login denied \(SYNC_BLOCKS_LOGIN is "true"\)$/);
        expect(result.calls.map((c) => c.method)).toEqual(["access.deny"]);
        expect(result.denied).not.toMatch(/hasura|graphql|http|500|timeout/i);
    } else {
        expect(result.logs[0]!.text).toMatch(/; login continues$/);
        expect(result.calls).toEqual([]);
    }
    expectNoSecret(result);
}

describe("user-sync, hasura mode", () => {
    it("POSTs the insert_<table>_one upsert with the row as variables and the admin secret header", async () => {
        const e = event({}, { user_metadata: { displayName: "Ada" } });
        const before = Date.now();
        const result = await action.invoke(e);
        const after = Date.now();
        expect(result.error).toBeUndefined();
        expect(result.logs).toEqual([]);
        expect(result.calls).toEqual([]);
        expect(seen).toHaveLength(1);
        expect(problemsWith(seen[0]!)).toEqual([]);
        const object = seen[0]!.body.variables!.object!;
        expect(object).toMatchObject({ user_id: e.user.user_id, user_name: "Ada" });
        const lastSeen = Date.parse(object.last_seen as string);
        expect(lastSeen).toBeGreaterThanOrEqual(before);
        expect(lastSeen).toBeLessThanOrEqual(after);
    });

    it("keeps user values out of the query text, whatever they contain", async () => {
        const hostile = 'x"}) { delete_auth0_app_profiles(where: {}) { affected_rows } } #';
        const e = event({}, { user_metadata: { displayName: hostile } });
        const result = await action.invoke(e);
        expect(result.logs).toEqual([]);
        expect(seen[0]!.body.variables!.object!.user_name).toBe(hostile);
        expect(seen[0]!.body.query).not.toContain("delete_");
        expect(seen[0]!.body.query).not.toContain(e.user.user_id);
    });

    it("uses Hasura's unprefixed names for a table in schema public", async () => {
        expectedSchema = "public";
        const result = await action.invoke(event({ DB_SCHEMA: "public" }));
        expect(result.logs).toEqual([]);
        expect(seen[0]!.body.query).toContain("insert_profiles_one");
    });

    it.each([
        [false, "false"],
        [true, "true"],
    ])("HTTP 500 is a failure (SYNC_BLOCKS_LOGIN %s)", async (blocks, flag) => {
        answer = "http-500";
        const result = await action.invoke(event({ SYNC_BLOCKS_LOGIN: flag }));
        expectFailure(result, /failed: Hasura answered HTTP 500;/, blocks);
    });

    it.each([
        [false, "false"],
        [true, "true"],
    ])("a 200 answer carrying GraphQL errors is a failure (SYNC_BLOCKS_LOGIN %s)", async (blocks, flag) => {
        answer = "graphql-errors";
        const result = await action.invoke(event({ SYNC_BLOCKS_LOGIN: flag }));
        expectFailure(
            result,
            /failed: Hasura answered with GraphQL errors: field 'insert_auth0_app_profiles_one' not found in type: 'mutation_root' \[validation-failed\];/,
            blocks,
        );
    });

    it("a 200 answer without the upserted row is a failure", async () => {
        answer = "no-result";
        const result = await action.invoke(event());
        expectFailure(result, /failed: Hasura's answer has no insert_auth0_app_profiles_one result for this user;/, false);
    });

    it("scrubs the admin secret even when Hasura's error message repeats it", async () => {
        answer = "graphql-errors-echoing-secret";
        const result = await action.invoke(event());
        expectFailure(result, /invalid admin secret \[redacted\] \[access-denied\]/, false);
    });

    it.each([
        ["never sends headers", "stall-headers", false, "false"],
        ["never finishes the body", "stall-body", false, "false"],
        ["never sends headers", "stall-headers", true, "true"],
    ] as const)(
        "a Hasura that %s: gives up on its HASURA_TIMEOUT_MS signal and drops the request (SYNC_BLOCKS_LOGIN %s)",
        async (_label, stalling, blocks, flag) => {
            answer = stalling;
            const result = await action.invoke(event({ SYNC_BLOCKS_LOGIN: flag }));
            // The message is the Action's own, given only when its AbortSignal.timeout(HASURA_TIMEOUT_MS)
            // aborted the fetch; expectFailure also checks the runner's time limit did not end it.
            expectFailure(result, /failed: Hasura did not answer within 250 ms;/, blocks);
            // The request did reach the server, which never finished its answer: the Action closed the connection.
            expect(seen).toHaveLength(1);
            expect(problemsWith(seen[0]!)).toEqual([]);
            expect(stalled).toHaveLength(1);
            expect(stalled[0]!.writableEnded).toBe(false);
            await stallsClosed[0];
        },
    );

    it("an unreachable Hasura is a failure, reported without the secret", async () => {
        const down = `http://127.0.0.1:${await freePort()}${PATH}`;
        const result = await action.invoke(event({ HASURA_GRAPHQL_URL: down }));
        expectFailure(result, /failed: cannot reach Hasura \(fetch failed: .*ECONNREFUSED.*\);/, false);
    });

    it("a wrong admin secret is refused by the server and so fails the sync", async () => {
        const result = await action.invoke(event({ HASURA_ADMIN_SECRET: `${ADMIN_SECRET}-old` }));
        expectFailure(result, /Hasura answered HTTP 400/, false);
        expect(seen[0]!.headers["x-hasura-admin-secret"]).toBe(`${ADMIN_SECRET}-old`);
    });

    it.each([
        ["HASURA_ADMIN_SECRET", { HASURA_ADMIN_SECRET: undefined }, /secret HASURA_ADMIN_SECRET is required when SYNC_MODE is "hasura"/],
        ["HASURA_GRAPHQL_URL", { HASURA_GRAPHQL_URL: undefined }, /secret HASURA_GRAPHQL_URL is required when SYNC_MODE is "hasura"/],
        ["HASURA_TIMEOUT_MS", { HASURA_TIMEOUT_MS: "soon" }, /secret HASURA_TIMEOUT_MS must be a whole number of milliseconds/],
    ])("a missing or bad %s fails the sync without calling Hasura", async (_label, overrides, pattern) => {
        const result = await action.invoke(event(overrides));
        expectFailure(result, pattern, false);
        expect(seen).toEqual([]);
    });
});
