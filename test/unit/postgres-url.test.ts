import { describe, expect, it } from "vitest";
import { postgresUrl } from "../../infra/stack";
import { valueOf } from "../support/pulumi-mocks";

describe("postgresUrl (the DSN the scripts and the sync get)", () => {
    it("percent-encodes the credentials and brackets an IPv6 host, so pg parses it back", async () => {
        const url = await valueOf(postgresUrl({ user: "a@b", password: "p:w/d", host: "2001:db8::10", port: 6543, database: "postgres" }));
        expect(url).toBe("postgres://a%40b:p%3Aw%2Fd@[2001:db8::10]:6543/postgres");
        const parsed = new URL(url);
        expect([parsed.hostname, parsed.port, decodeURIComponent(parsed.password)]).toEqual(["[2001:db8::10]", "6543", "p:w/d"]);
        expect(await valueOf(postgresUrl({ user: "u", password: "p", host: "db.acme.test", port: 5432, database: "app" }))).toBe(
            "postgres://u:p@db.acme.test:5432/app",
        );
    });
});
