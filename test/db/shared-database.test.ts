/**
 * Two stacks on one database, as the README allows: each with its own `postgres.schema` and
 * `postgres.rolePrefix`, and Supabase features on. Everything each stack creates there (roles, the
 * migrations and their ledger, the security model, the grants, the Auth0 foreign data: Vault secret,
 * wrapper, server, schema, foreign table) is applied for real, by the same providers and SQL; both
 * apply. A third stack pointed at a schema another stack owns is refused plainly.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connectionFromUrl } from "../../infra/dynamic/connection";
import {
    AUTH0_FDW_HANDLER,
    AUTH0_FDW_VALIDATOR,
    AUTH0_USER_COLUMNS,
    foreignDataNames,
    foreignServerOptions,
    foreignServerSql,
} from "../../infra/postgres/auth0-fdw";
import { databaseSecurityProvider, foreignDataWrapperProvider, foreignTableProvider, migrationsProvider, vaultSecretProvider } from "../../infra/dynamic";
import { loadMigrations } from "../../infra/postgres/migrations";
import { grantSql, ident, privilegeModel, readerFunctionName, RoleKey, roleSpecs } from "../../infra/postgres/privileges";
import { securityModel } from "../../infra/postgres/security";
import { createTestDatabase, installSupabaseFixture, query, TestDatabase, uniqueRolePrefix } from "../support/db";

let db: TestDatabase;
const createdRoles: string[] = [];

beforeAll(async () => {
    db = await createTestDatabase(inject("databaseUrl"), "shared");
    await installSupabaseFixture(db.url);
});
afterAll(async () => {
    await db?.drop();
    for (const role of createdRoles) await query(inject("databaseUrl"), `DROP ROLE IF EXISTS ${ident(role)}`);
});

/** Deploys one stack's Postgres side into the shared database, in the program's order. */
async function deployStack(schema: string, rolePrefix: string): Promise<Record<RoleKey, string>> {
    const connection = connectionFromUrl(db.url);
    const specs = roleSpecs({ rolePrefix, statementTimeoutMs: 5000 });
    const names = Object.fromEntries(specs.map((s) => [s.key, s.name])) as Record<RoleKey, string>;
    for (const spec of specs) {
        await query(db.url, `CREATE ROLE ${ident(spec.name)} ${spec.login ? "LOGIN" : "NOLOGIN"} NOINHERIT PASSWORD '${randomBytes(12).toString("hex")}'`);
        createdRoles.push(spec.name);
    }
    await query(db.url, `CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
    const migrations = loadMigrations({ schema, scripts_role: names.scripts, sync_role: names.sync, app_role: names.app, fdw_reader_role: names.fdwReader });
    await migrationsProvider.create({ connection, schema, migrations, allowDataLoss: false, owner: rolePrefix });
    await databaseSecurityProvider.create!({ connection, model: securityModel(schema, names) });

    const fd = foreignDataNames(rolePrefix);
    const secret = await vaultSecretProvider.create({ connection, name: fd.vaultSecret, secret: `token-${rolePrefix}` });
    await foreignDataWrapperProvider.create({
        connection,
        name: fd.wrapper,
        handler: `extensions.${AUTH0_FDW_HANDLER}`,
        validator: `extensions.${AUTH0_FDW_VALIDATOR}`,
    });
    await query(db.url, foreignServerSql(fd.server, fd.wrapper, foreignServerOptions("tenant.eu.auth0.com", secret.id)));
    await query(db.url, `CREATE SCHEMA IF NOT EXISTS ${ident(fd.schema)}`);
    await foreignTableProvider.create({
        connection,
        schema: fd.schema,
        name: "users",
        server: fd.server,
        columns: AUTH0_USER_COLUMNS.map((c) => ({ ...c })),
        options: { object: "users" },
        readerFunction: readerFunctionName("users"),
    });

    const model = { database: db.name, schema, fdwSchema: fd.schema, rolePrefix, foreignTables: ["users"], statementTimeoutMs: 5000 };
    for (const g of privilegeModel(model)) await query(db.url, grantSql(g, names, db.name));
    return names;
}

describe("two stacks on one database", () => {
    it("both apply, each with its own ledger and foreign-data objects; the default prefix keeps Supabase's names", async () => {
        const a = uniqueRolePrefix("a");
        const b = uniqueRolePrefix("b");
        await deployStack(`${a}_app`, a);
        await deployStack(`${b}_app`, b);

        const wrappers = (await query(db.url, "SELECT fdwname FROM pg_foreign_data_wrapper ORDER BY 1")).map((r) => r.fdwname);
        expect(wrappers).toEqual([`${a}_wrapper`, `${b}_wrapper`].sort());
        for (const p of [a, b]) {
            expect(await query(db.url, `SELECT count(*)::int AS n FROM ${ident(`${p}_app`)}.schema_migrations`)).toEqual([{ n: 3 }]);
            expect(await query(db.url, "SELECT to_regclass($1) IS NOT NULL AS present", [`${ident(p)}.users`])).toEqual([{ present: true }]);
        }
        expect(foreignDataNames("auth0")).toMatchObject({ wrapper: "auth0_wrapper", schema: "auth0" });
    });

    it("a stack pointed at a schema another stack owns is refused, naming both prefixes and what to change", async () => {
        const owner = uniqueRolePrefix("own");
        await deployStack(`${owner}_app`, owner);
        const intruder = uniqueRolePrefix("int");
        const schema = `${owner}_app`;
        const names = Object.fromEntries(roleSpecs({ rolePrefix: intruder, statementTimeoutMs: 0 }).map((s) => [s.key, s.name]));
        const migrations = loadMigrations({
            schema,
            scripts_role: names.scripts!,
            sync_role: names.sync!,
            app_role: names.app!,
            fdw_reader_role: names.fdwReader!,
        });
        const error = new RegExp(
            `schema ${schema} holds the user store of another stack \\(role prefix ${owner}; this stack's is ${intruder}\\): stacks that share a database need their own postgres.schema and postgres.rolePrefix`,
        );
        const inputs = { connection: connectionFromUrl(db.url), schema, migrations, allowDataLoss: false, owner: intruder };
        await expect(migrationsProvider.create(inputs)).rejects.toThrow(error);
        // The preview says so too (the diff reads the ledger).
        await expect(migrationsProvider.diff!(schema, { ...inputs, applied: [] }, inputs)).rejects.toThrow(error);
    });
});
