import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createStackDatabase, query, StackDatabase } from "../support/db";

let stack: StackDatabase;
beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "smoke");
});
afterAll(async () => stack?.teardown());

describe("smoke", () => {
    it("applies", async () => {
        const rows = await query(stack.db.url, "select id from auth0_app.schema_migrations order by id");
        expect(rows.map((r) => r.id)).toEqual(["001_user_store", "002_profiles"]);
    });
});
