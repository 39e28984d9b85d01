/**
 * The SQL the stack runs, as a reviewer reads it in a pull request: the migrations rendered with
 * the default names, the security model as DatabaseSecurity restores it, and the grants of the
 * privilege model as the postgresql provider applies them.
 */
import { describe, expect, it } from "vitest";
import { loadMigrations } from "../../infra/postgres/migrations";
import { grantSql, ident, privilegeModel, RoleKey, roleSpecs } from "../../infra/postgres/privileges";
import { createPolicySql, securityModel } from "../../infra/postgres/security";

describe("generated SQL", () => {
    it("matches the committed snapshot (update with `npx vitest -u` and review the diff)", async () => {
        const input = {
            database: "postgres",
            schema: "auth0_app",
            fdwSchema: "auth0",
            rolePrefix: "auth0",
            foreignTables: ["users"],
            statementTimeoutMs: 5000,
        };
        const roles = Object.fromEntries(roleSpecs(input).map((r) => [r.key, r.name])) as Record<RoleKey, string>;
        const migrations = loadMigrations({ schema: input.schema, scripts_role: roles.scripts, sync_role: roles.sync, app_role: roles.app });
        const text = [
            ...migrations.map((m) => `-- ${m.id} (sha256 ${m.checksum})\n-- up\n${m.up}\n-- down\n${m.down}\n`),
            `-- security (DatabaseSecurity, on every up)\n${securitySql(input.schema, roles)}\n`,
            `-- grants\n${privilegeModel(input)
                .map((g) => `${grantSql(g, roles, input.database)};`)
                .join("\n")}\n`,
        ].join("\n");
        expect(text).toContain('GRANT SELECT, INSERT, DELETE ON TABLE "auth0_app"."users" TO "auth0_scripts"');
        expect(text).toContain('GRANT UPDATE ("password_hash", "email_verified") ON TABLE "auth0_app"."users" TO "auth0_scripts"');
        await expect(text).toMatchFileSnapshot("../plans/postgres.sql");
    });
});

function securitySql(schema: string, roles: Record<RoleKey, string>): string {
    const model = securityModel(schema, roles);
    const s = ident(schema);
    return [
        ...model.rlsTables.flatMap((t) => [
            `ALTER TABLE ${s}.${ident(t)} ENABLE ROW LEVEL SECURITY;`,
            `ALTER TABLE ${s}.${ident(t)} FORCE ROW LEVEL SECURITY;`,
        ]),
        ...model.policies.map((p) => `${createPolicySql(schema, p)};`),
        ...model.privateFunctions.map((f) => `REVOKE ALL ON FUNCTION ${s}.${ident(f)}() FROM PUBLIC;`),
    ].join("\n");
}
