/**
 * A stack's whole life on the real Postgres, as the engine and the postgresql provider live it:
 * destroy and re-up of a stack whose roles are not kept (the provider deletes a role with
 * REASSIGN OWNED, DROP OWNED, DROP ROLE, and DROP OWNED takes the policies naming the role with it),
 * and a destroy of a stack that allows data loss (nothing of the stack may remain).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { actionSpec } from "../../infra/auth0/actions";
import { connectionFromUrl } from "../../infra/dynamic/connection";
import { databaseSecurityProvider, DatabaseSecurityInputs, DatabaseSecurityOutputs, migrationsProvider } from "../../infra/dynamic";
import { loadMigrations } from "../../infra/postgres/migrations";
import { grantSql, ident, RoleKey } from "../../infra/postgres/privileges";
import { securityModel } from "../../infra/postgres/security";
import { loadAction, postLoginEvent } from "../support/action-runner";
import { createSandbox } from "../support/auth0-sandbox";
import { createStackDatabase, query, StackDatabase } from "../support/db";
import { configFor } from "../support/custom-db-scripts";

let stack: StackDatabase;
let inputs: DatabaseSecurityInputs;
let state: DatabaseSecurityOutputs;

beforeAll(async () => {
    stack = await createStackDatabase(inject("databaseUrl"), "lifecycle");
    const names = Object.fromEntries(Object.values(stack.roles).map((r) => [r.key, r.name])) as Record<RoleKey, string>;
    inputs = { connection: connectionFromUrl(stack.db.url), model: securityModel(stack.schema, names) };
    state = (await databaseSecurityProvider.create!(inputs)).outs as DatabaseSecurityOutputs;
});
afterAll(async () => {
    await stack?.teardown();
});

/** The statements the postgresql provider runs to delete a role (terraform-provider-postgresql `resourcePostgreSQLRoleDelete`), in the stack's database. */
async function providerDeletesRole(role: string): Promise<void> {
    await query(stack.db.url, `REASSIGN OWNED BY ${ident(role)} TO CURRENT_USER`);
    await query(stack.db.url, `DROP OWNED BY ${ident(role)}`);
    await query(stack.db.url, `DROP ROLE ${ident(role)}`);
}

/** What the next `up` creates again: the role (same name, new password) and its grants. */
async function upRecreatesRole(key: RoleKey): Promise<void> {
    const r = stack.roles[key];
    await query(stack.db.url, `CREATE ROLE ${ident(r.name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '${r.password}'`);
    const names = Object.fromEntries(Object.values(stack.roles).map((x) => [x.key, x.name])) as Record<RoleKey, string>;
    for (const g of stack.grants.filter((g) => g.role === key)) await query(stack.db.url, grantSql(g, names, stack.db.name));
}

async function signUpLoginAndSync(label: string) {
    const sandbox = createSandbox(configFor(stack));
    try {
        const email = `${label}.${Date.now()}@lifecycle.test`;
        const created = await sandbox.run("create", { email, password: `pw-${label}-1` });
        const login = await sandbox.run("login", email, `pw-${label}-1`);
        const sync = await loadAction(actionSpec("user-sync"), { timeLimitMs: 10_000 }).invoke(
            postLoginEvent({
                user: { user_id: `auth0|${label}-${Date.now()}` },
                secrets: {
                    SYNC_MODE: "postgres",
                    SYNC_BLOCKS_LOGIN: "true",
                    DB_SCHEMA: stack.schema,
                    DB_URL: stack.urlFor("sync"),
                    DB_SSL: "disable",
                    DB_CONNECT_TIMEOUT_MS: "2000",
                    DB_STATEMENT_TIMEOUT_MS: "2000",
                },
            }),
        );
        return { createErr: created.err, loginErr: login.err, loginUser: login.result as { email?: string } | undefined, syncDenied: sync.denied, email };
    } finally {
        await sandbox.close();
    }
}

describe("destroy and re-up of a stack whose roles are not kept", () => {
    it("before: sign-up, login and sync work, and the catalog matches the model", async () => {
        const before = await signUpLoginAndSync("before");
        expect(before.createErr).toBeFalsy();
        expect(before.loginErr).toBeFalsy();
        expect(before.loginUser?.email?.toLowerCase()).toBe(before.email.toLowerCase());
        expect(before.syncDenied).toBeUndefined();
        const check = await databaseSecurityProvider.check!(state, inputs);
        expect(check.inputs?.drift).toEqual([]);
        expect((await databaseSecurityProvider.diff!(stack.schema, state, check.inputs as DatabaseSecurityInputs)).changes).toBe(false);
    });

    it("the provider's role deletes take the policies; the preview (check + diff) reports each missing one, and up restores them", async () => {
        await providerDeletesRole(stack.roles.scripts.name);
        await providerDeletesRole(stack.roles.sync.name);
        await upRecreatesRole("scripts");
        await upRecreatesRole("sync");

        // Today's failure: the tables are there, the ledger says 001/002 ran, the policies are gone.
        const broken = await signUpLoginAndSync("broken");
        expect(String(broken.createErr)).toMatch(/row-level security|could not create/i);
        expect(broken.syncDenied).toBeDefined();
        const migrations = loadMigrations({
            schema: stack.schema,
            scripts_role: stack.roles.scripts.name,
            sync_role: stack.roles.sync.name,
            app_role: stack.roles.app.name,
        });
        const migrationsDiff = await migrationsProvider.diff!(
            stack.schema,
            { connection: inputs.connection, schema: stack.schema, migrations, allowDataLoss: false, applied: migrations.map((m) => m.id) },
            { connection: inputs.connection, schema: stack.schema, migrations, allowDataLoss: false },
        );
        expect(migrationsDiff.changes).toBe(false);

        // The preview: check reads the catalog and the drift is an input change the engine shows.
        const check = await databaseSecurityProvider.check!(state, inputs);
        const checked = check.inputs as DatabaseSecurityInputs;
        expect(checked.drift).toEqual([
            `policy users_scripts_all on ${stack.schema}.users is missing`,
            `policy profiles_sync_all on ${stack.schema}.profiles is missing`,
        ]);
        expect((await databaseSecurityProvider.diff!(stack.schema, state, checked)).changes).toBe(true);

        // The up.
        state = (await databaseSecurityProvider.update!(stack.schema, state, checked)).outs as DatabaseSecurityOutputs;
        expect(state.drift).toEqual([]);
        const after = await signUpLoginAndSync("after");
        expect(after.createErr).toBeFalsy();
        expect(after.loginErr).toBeFalsy();
        expect(after.loginUser?.email?.toLowerCase()).toBe(after.email.toLowerCase());
        expect(after.syncDenied).toBeUndefined();
        expect((await databaseSecurityProvider.check!(state, inputs)).inputs?.drift).toEqual([]);
    });

    it("an altered policy, RLS turned off and PUBLIC given EXECUTE are drift too, and restored", async () => {
        const s = ident(stack.schema);
        await query(stack.db.url, `ALTER POLICY users_app_own ON ${s}.users USING (true)`);
        await query(stack.db.url, `ALTER TABLE ${s}.profiles DISABLE ROW LEVEL SECURITY`);
        await query(stack.db.url, `GRANT EXECUTE ON FUNCTION ${s}.current_user_id() TO PUBLIC`);
        await query(stack.db.url, `CREATE POLICY team_own ON ${s}.profiles FOR SELECT TO ${ident(stack.roles.app.name)} USING (false)`);
        const checked = (await databaseSecurityProvider.check!(state, inputs)).inputs as DatabaseSecurityInputs;
        expect(checked.drift).toEqual([
            `row-level security is off on ${stack.schema}.profiles`,
            `policy users_app_own on ${stack.schema}.users differs: its expressions were altered`,
            `PUBLIC may execute ${stack.schema}.current_user_id()`,
        ]);
        state = (await databaseSecurityProvider.update!(stack.schema, state, checked)).outs as DatabaseSecurityOutputs;
        // A policy the stack does not declare is reported, never dropped: it may be the team's.
        expect(state.undeclared).toEqual([`${stack.schema}.profiles: team_own`]);
        expect(await query(stack.db.url, "SELECT qual FROM pg_policies WHERE policyname = 'users_app_own'")).toEqual([
            { qual: state.recorded["users.users_app_own"]!.qual },
        ]);
        expect(state.recorded["users.users_app_own"]!.qual).toContain("current_user_id()");
        expect((await databaseSecurityProvider.check!(state, inputs)).inputs?.drift).toEqual([]);
    });
});

describe("the migrations and the security model declare the same policies", () => {
    it("the catalog after the migrations alone equals the catalog after the model is applied", async () => {
        const fresh = await createStackDatabase(inject("databaseUrl"), "policies");
        try {
            const read = async () =>
                query(
                    fresh.db.url,
                    "SELECT tablename, policyname, permissive, roles::text[] AS roles, cmd, qual, with_check FROM pg_policies WHERE schemaname = $1 ORDER BY tablename, policyname",
                    [fresh.schema],
                );
            const fromMigrations = await read();
            expect(fromMigrations.length).toBe(4);
            const names = Object.fromEntries(Object.values(fresh.roles).map((r) => [r.key, r.name])) as Record<RoleKey, string>;
            await databaseSecurityProvider.create!({ connection: connectionFromUrl(fresh.db.url), model: securityModel(fresh.schema, names) });
            expect(await read()).toEqual(fromMigrations);
        } finally {
            await fresh.teardown();
        }
    });
});

describe("destroy of a stack that allows data loss", () => {
    it("leaves no schema, table, ledger or role: the provider's deletes in the engine's order all succeed", async () => {
        const doomed = await createStackDatabase(inject("databaseUrl"), "destroy");
        const names = Object.fromEntries(Object.values(doomed.roles).map((r) => [r.key, r.name])) as Record<RoleKey, string>;
        const connection = connectionFromUrl(doomed.db.url);
        try {
            // Grants first (the provider revokes what each granted), then the security (drops nothing),
            // the migrations (allowDataLoss: reverted), the roles, and the schema (RESTRICT).
            for (const g of doomed.grants) await query(doomed.db.url, grantSql(g, names, doomed.db.name).replace(/^GRANT (.*) TO (.*)$/, "REVOKE $1 FROM $2"));
            await databaseSecurityProvider.delete!(doomed.schema, { connection, model: securityModel(doomed.schema, names), recorded: {}, undeclared: [] });
            await migrationsProvider.delete!(doomed.schema, {
                connection,
                schema: doomed.schema,
                migrations: doomed.migrations,
                allowDataLoss: true,
                applied: doomed.migrations.map((m) => m.id),
            });
            for (const r of Object.values(doomed.roles)) {
                await query(doomed.db.url, `REASSIGN OWNED BY ${ident(r.name)} TO CURRENT_USER`);
                await query(doomed.db.url, `DROP OWNED BY ${ident(r.name)}`);
                await query(doomed.db.url, `DROP ROLE ${ident(r.name)}`);
            }
            await query(doomed.db.url, `DROP SCHEMA ${ident(doomed.schema)} RESTRICT`);
            expect(await query(doomed.db.url, "SELECT nspname FROM pg_namespace WHERE nspname = $1", [doomed.schema])).toEqual([]);
            expect(await query(doomed.db.url, "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", [Object.values(names)])).toEqual([]);
        } finally {
            await doomed.db.drop();
        }
    });
});
