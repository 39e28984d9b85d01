import { describe, expect, it } from "vitest";
import { assertModelIsSound, Grant, grantSql, grantSuffix, privilegeModel, roleSpecs, grantOrder } from "../../infra/postgres/privileges";

const INPUT = { database: "postgres", schema: "auth0_app", fdwSchema: "auth0", rolePrefix: "auth0", foreignTables: ["users"], statementTimeoutMs: 5000 };

describe("the privilege model", () => {
    it("names roles from the prefix, and only the scripts and sync roles log in", () => {
        const specs = roleSpecs(INPUT);
        expect(specs.map((s) => [s.name, s.login])).toEqual([
            ["auth0_scripts", true],
            ["auth0_sync", true],
            ["auth0_app_reader", false],
            ["auth0_fdw_reader", false],
        ]);
    });

    it("grants the foreign-table reader only when foreign tables exist", () => {
        expect(privilegeModel(INPUT).filter((g) => g.role === "fdwReader")).toEqual([
            { role: "fdwReader", objectType: "schema", schema: "auth0", privileges: ["USAGE"] },
            // Through the SECURITY DEFINER reader function, never SELECT on the foreign table (Wrappers reads Vault as the querying user).
            { role: "fdwReader", objectType: "function", schema: "auth0", objects: ["list_users"], privileges: ["EXECUTE"] },
        ]);
        expect(privilegeModel({ ...INPUT, foreignTables: [] }).filter((g) => g.role === "fdwReader")).toHaveLength(0);
    });

    it("gives every grant a distinct resource-name suffix", () => {
        const suffixes = privilegeModel(INPUT).map(grantSuffix);
        expect(new Set(suffixes).size).toBe(suffixes.length);
    });

    it("accepts its own output (compliant case)", () => {
        expect(() => assertModelIsSound(privilegeModel(INPUT))).not.toThrow();
    });

    it("refuses a grant with no objects: the provider would grant on ALL tables", () => {
        const bad: Grant[] = [{ role: "app", objectType: "table", schema: "auth0_app", objects: [], privileges: ["SELECT"] }];
        expect(() => assertModelIsSound(bad)).toThrow(/lists no objects/);
    });

    it("refuses two grants the provider would make fight", () => {
        const bad: Grant[] = [
            { role: "sync", objectType: "table", schema: "auth0_app", objects: ["a"], privileges: ["SELECT"] },
            { role: "sync", objectType: "table", schema: "auth0_app", objects: ["b"], privileges: ["INSERT"] },
        ];
        expect(() => assertModelIsSound(bad)).toThrow(/two table grants for sync/);
    });

    it("refuses a grant with no privileges", () => {
        expect(() => assertModelIsSound([{ role: "app", objectType: "schema", schema: "s", privileges: [] }])).toThrow(/has no privileges/);
    });

    it("renders quoted SQL for every grant", () => {
        const roles = { scripts: 'r"s', sync: "sync", app: "app", fdwReader: "reader" };
        expect(grantSql({ role: "scripts", objectType: "table", schema: "a b", objects: ["users"], privileges: ["SELECT", "INSERT"] }, roles, "db")).toBe(
            'GRANT SELECT, INSERT ON TABLE "a b"."users" TO "r""s"',
        );
        expect(
            grantSql({ role: "app", objectType: "column", schema: "s", objects: ["users"], columns: ["id", "email"], privileges: ["SELECT"] }, roles, "db"),
        ).toBe('GRANT SELECT ("id", "email") ON TABLE "s"."users" TO "app"');
        expect(grantSql({ role: "sync", objectType: "database", privileges: ["CONNECT"] }, roles, "my db")).toBe('GRANT CONNECT ON DATABASE "my db" TO "sync"');
    });
});

describe("grantOrder", () => {
    it("chains grants that share a catalog row, and only those", () => {
        const grants: Grant[] = [
            { role: "scripts", objectType: "database", privileges: ["CONNECT"] },
            { role: "scripts", objectType: "schema", schema: "s", privileges: ["USAGE"] },
            { role: "sync", objectType: "database", privileges: ["CONNECT"] },
            { role: "scripts", objectType: "table", schema: "s", objects: ["users"], privileges: ["SELECT"] },
            { role: "app", objectType: "column", schema: "s", objects: ["users"], columns: ["id"], privileges: ["SELECT"] },
            { role: "app", objectType: "table", schema: "s", objects: ["profiles"], privileges: ["SELECT"] },
            { role: "sync", objectType: "schema", schema: "s", privileges: ["USAGE"] },
            { role: "app", objectType: "function", schema: "s", objects: ["f"], privileges: ["EXECUTE"] },
        ];
        expect(grantOrder(grants)).toEqual([[], [], [0], [], [3], [], [1], []]);
    });
});
