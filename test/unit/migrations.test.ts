import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMigrations, renderTemplate, splitMigration } from "../../infra/postgres/migrations";

const NAMES = { schema: "auth0_app", scripts_role: "auth0_scripts", sync_role: "auth0_sync", app_role: "auth0_app" };

describe("migration files", () => {
    it("load in order, rendered with quoted identifiers and checksummed", () => {
        const migrations = loadMigrations(NAMES);
        expect(migrations.map((m) => m.id)).toEqual(["001_user_store", "002_profiles", "003_one_session_user"]);
        for (const m of migrations) {
            expect(m.up).not.toMatch(/\{\{/);
            // Every migration can be reverted (allowDataLoss): a down part undoes what its up did.
            expect(m.down.trim()).not.toBe("");
            expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
        }
        expect(migrations[0]!.up).toContain('CREATE TABLE "auth0_app".users');
    });

    it("change checksum when a rendered name changes", () => {
        const a = loadMigrations(NAMES);
        const b = loadMigrations({ ...NAMES, schema: "other" });
        expect(a[0]!.checksum).not.toBe(b[0]!.checksum);
    });

    it("split into up and down", () => {
        expect(splitMigration("x", "-- header\n-- migrate:up\nA;\n-- migrate:down\nB;\n")).toEqual({ up: "A;", down: "B;" });
        expect(splitMigration("x", "-- migrate:up\nA;")).toEqual({ up: "A;", down: "" });
        expect(() => splitMigration("x", "CREATE TABLE t ();")).toThrow(/migration x: no "-- migrate:up" line/);
    });

    it("refuse an unknown placeholder, and quote what they render", () => {
        expect(() => renderTemplate("004_x", "SELECT {{nope}}", NAMES)).toThrow(/unknown placeholder \{\{nope\}\}/);
        expect(renderTemplate("x", "{{schema}}", { schema: 'a"b' })).toBe('"a""b"');
    });

    it("ignore files that are not NNN_name.sql", () => {
        const dir = mkdtempSync(join(tmpdir(), "migrations-"));
        writeFileSync(join(dir, "001_a.sql"), "-- migrate:up\nSELECT 1;");
        writeFileSync(join(dir, "README.md"), "not a migration");
        writeFileSync(join(dir, "2_b.sql"), "-- migrate:up\nSELECT 2;");
        expect(loadMigrations({}, dir).map((m) => m.id)).toEqual(["001_a"]);
    });
});
