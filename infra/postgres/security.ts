import type { ClientBase } from "pg";
import { ident, RoleKey, TABLES } from "./privileges";

/**
 * The database's security objects that the migrations create and that can disappear without the
 * migrations knowing: row-level security on the tables (enabled and forced), the policies (the postgresql provider deletes
 * a role with REASSIGN OWNED, DROP OWNED, DROP ROLE, and DROP OWNED drops every policy naming the
 * role; the ledger still says the migration ran), PUBLIC's EXECUTE on the schema's functions, and who
 * owns the tables and functions. One declaration here; the `DatabaseSecurity` dynamic resource
 * compares it with the catalog on every preview and restores it on `up`.
 */

export type PolicyCommand = "ALL" | "SELECT" | "INSERT" | "UPDATE" | "DELETE";

export interface PolicySpec {
    table: string;
    name: string;
    command: PolicyCommand;
    /** The roles it applies to, by their names in Postgres. */
    roles: string[];
    using: string;
    withCheck?: string;
}

export interface SecurityModel {
    schema: string;
    /**
     * Tables with row-level security enabled and forced: forced, the owner (the admin role the
     * migrations run as, which Hasura on Supabase often connects as) is held to the policies too,
     * and with none of its own it sees no row.
     */
    rlsTables: string[];
    policies: PolicySpec[];
    /** Functions (no arguments) of the schema that PUBLIC must not execute. */
    privateFunctions: string[];
    /**
     * SECURITY DEFINER functions (no arguments) of other schemas: the Auth0 foreign tables' reader
     * functions (`readerFunctionSql`), which read Vault as their owner. PUBLIC must not execute
     * them, the migrations' owner must own them, and they must stay SECURITY DEFINER with
     * `search_path` pinned. Absent or empty: none.
     */
    definerFunctions?: { schema: string; name: string }[];
}

/**
 * The model for the stack's schema and roles. The policies are the ones migrations 001 and 002
 * create (a test applies both and compares the catalog), so a restored policy is the original.
 */
export function securityModel(
    schema: string,
    roles: Pick<Record<RoleKey, string>, "scripts" | "sync" | "app">,
    definerFunctions: { schema: string; name: string }[] = [],
    /** Roles that read as the app reader does (Supabase's `authenticated`, with third-party auth on). */
    otherReaders: string[] = [],
): SecurityModel {
    const s = ident(schema);
    const readers = [roles.app, ...otherReaders];
    return {
        ...(definerFunctions.length > 0 ? { definerFunctions: definerFunctions.map((f) => ({ ...f })) } : {}),
        schema,
        rlsTables: [TABLES.users, TABLES.profiles],
        policies: [
            { table: TABLES.users, name: "users_scripts_all", command: "ALL", roles: [roles.scripts], using: "true", withCheck: "true" },
            { table: TABLES.users, name: "users_app_own", command: "SELECT", roles: readers, using: `'auth0|' || id::text = ${s}.current_user_id()` },
            { table: TABLES.profiles, name: "profiles_sync_all", command: "ALL", roles: [roles.sync], using: "true", withCheck: "true" },
            { table: TABLES.profiles, name: "profiles_app_own", command: "SELECT", roles: readers, using: `user_id = ${s}.current_user_id()` },
        ],
        privateFunctions: ["current_user_id", "touch_updated_at"],
    };
}

/** A policy's key in the state: `table.name`. */
export function policyKey(p: Pick<PolicySpec, "table" | "name">): string {
    return `${p.table}.${p.name}`;
}

/** The policy's statement. */
export function createPolicySql(schema: string, p: PolicySpec): string {
    const check = p.withCheck !== undefined ? ` WITH CHECK (${p.withCheck})` : "";
    return `CREATE POLICY ${ident(p.name)} ON ${ident(schema)}.${ident(p.table)} AS PERMISSIVE FOR ${p.command} TO ${p.roles.map(ident).join(", ")} USING (${p.using})${check}`;
}

/** What the catalog holds for the model's objects. */
export interface SecurityCatalog {
    currentUser: string;
    tables: { name: string; rls: boolean; forced: boolean; owner: string }[];
    policies: { table: string; name: string; permissive: string; roles: string[]; cmd: string; qual: string | null; withCheck: string | null }[];
    functions: { schema: string; name: string; owner: string; publicExecute: boolean; securityDefiner: boolean; searchPathPinned: boolean }[];
}

/** What Postgres made of each policy's expressions when it was last created: the state keeps it. */
export type RecordedPolicies = Record<string, { qual: string | null; withCheck: string | null }>;

/** Reads the catalog rows of the model's objects (read-only: safe in a preview). */
export async function readSecurityCatalog(client: ClientBase, model: SecurityModel): Promise<SecurityCatalog> {
    const user = await client.query<{ u: string }>("SELECT current_user AS u");
    const tables = await client.query<SecurityCatalog["tables"][number]>(
        `SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, pg_get_userbyid(c.relowner) AS owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p')`,
        [model.schema, model.rlsTables],
    );
    const policies = await client.query<SecurityCatalog["policies"][number]>(
        `SELECT tablename AS "table", policyname AS name, permissive, roles::text[] AS roles, cmd, qual, with_check AS "withCheck"
           FROM pg_policies WHERE schemaname = $1 AND tablename = ANY($2::text[])`,
        [model.schema, model.rlsTables],
    );
    const wanted = [...model.privateFunctions.map((name) => ({ schema: model.schema, name })), ...(model.definerFunctions ?? [])];
    const functions = await client.query<SecurityCatalog["functions"][number]>(
        `SELECT n.nspname AS schema, p.proname AS name, pg_get_userbyid(p.proowner) AS owner,
                EXISTS (SELECT 1 FROM aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) a
                         WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS "publicExecute",
                p.prosecdef AS "securityDefiner",
                COALESCE('search_path=""' = ANY (p.proconfig), false) AS "searchPathPinned"
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           JOIN unnest($1::text[], $2::text[]) AS w(schema, name) ON w.schema = n.nspname AND w.name = p.proname
          WHERE p.pronargs = 0`,
        [wanted.map((f) => f.schema), wanted.map((f) => f.name)],
    );
    return { currentUser: user.rows[0]!.u, tables: tables.rows, policies: policies.rows, functions: functions.rows };
}

/**
 * Every way the catalog differs from the model, one readable line each. A table or function that does
 * not exist yet is not drift (the migrations create it). `recorded` (from the state) lets a policy whose
 * expressions were altered in place (ALTER POLICY) show too. Policies on the tables that the model
 * does not declare are listed but never dropped: they may be the team's own.
 */
export function securityDrift(model: SecurityModel, catalog: SecurityCatalog, recorded: RecordedPolicies = {}): string[] {
    const drift: string[] = [];
    const q = (table: string) => `${model.schema}.${table}`;
    for (const name of model.rlsTables) {
        const t = catalog.tables.find((x) => x.name === name);
        if (!t) continue;
        if (!t.rls) drift.push(`row-level security is off on ${q(name)}`);
        else if (!t.forced) drift.push(`row-level security is not forced on ${q(name)} (its owner sees every row)`);
        if (t.owner !== catalog.currentUser) drift.push(`${q(name)} is owned by ${t.owner}, not by ${catalog.currentUser} (the migrations' owner)`);
    }
    const existing = new Set(catalog.tables.map((t) => t.name));
    for (const p of model.policies) {
        if (!existing.has(p.table)) continue;
        const found = catalog.policies.find((x) => x.table === p.table && x.name === p.name);
        if (!found) {
            drift.push(`policy ${p.name} on ${q(p.table)} is missing`);
            continue;
        }
        const differs: string[] = [];
        if (found.cmd !== p.command) differs.push(`command ${found.cmd}, not ${p.command}`);
        if (found.permissive !== "PERMISSIVE") differs.push(`${found.permissive.toLowerCase()}, not permissive`);
        if ([...found.roles].sort().join(",") !== [...p.roles].sort().join(",")) differs.push(`roles ${found.roles.join(", ")}, not ${p.roles.join(", ")}`);
        const was = recorded[policyKey(p)];
        if (was && (found.qual !== was.qual || found.withCheck !== was.withCheck)) differs.push("its expressions were altered");
        if (differs.length > 0) drift.push(`policy ${p.name} on ${q(p.table)} differs: ${differs.join("; ")}`);
    }
    const fn = (schema: string, name: string) => catalog.functions.find((x) => x.schema === schema && x.name === name);
    for (const f of model.privateFunctions) {
        const found = fn(model.schema, f);
        if (!found) continue;
        if (found.publicExecute) drift.push(`PUBLIC may execute ${model.schema}.${f}()`);
        if (found.owner !== catalog.currentUser) drift.push(`${model.schema}.${f}() is owned by ${found.owner}, not by ${catalog.currentUser}`);
    }
    for (const f of model.definerFunctions ?? []) {
        const found = fn(f.schema, f.name);
        if (!found) continue;
        const q = `${f.schema}.${f.name}()`;
        if (found.publicExecute) drift.push(`PUBLIC may execute ${q}`);
        if (found.owner !== catalog.currentUser) drift.push(`${q} is owned by ${found.owner}, not by ${catalog.currentUser}`);
        if (!found.securityDefiner) drift.push(`${q} is not SECURITY DEFINER (its callers would need Vault's privileges)`);
        else if (!found.searchPathPinned) drift.push(`${q} is SECURITY DEFINER without its search_path pinned`);
    }
    return drift;
}

/** Policies on the model's tables that the model does not declare (reported, never dropped). */
export function undeclaredPolicies(model: SecurityModel, catalog: SecurityCatalog): string[] {
    const declared = new Set(model.policies.map(policyKey));
    return catalog.policies
        .filter((p) => !declared.has(policyKey(p)))
        .map((p) => `${model.schema}.${p.table}: ${p.name}`)
        .sort();
}

/**
 * Restores the model in one transaction: row-level security on, every declared policy recreated as
 * declared, PUBLIC's EXECUTE revoked, ownership back to the migrations' owner, the definer functions
 * SECURITY DEFINER with `search_path` pinned again. Tables and functions that do not exist yet are
 * skipped. Returns what Postgres made of each policy's expressions (for the state).
 */
export async function applySecurity(client: ClientBase, model: SecurityModel): Promise<RecordedPolicies> {
    const s = ident(model.schema);
    await client.query("BEGIN");
    try {
        const before = await readSecurityCatalog(client, model);
        const existing = new Set(before.tables.map((t) => t.name));
        for (const t of before.tables) {
            await client.query(`ALTER TABLE ${s}.${ident(t.name)} ENABLE ROW LEVEL SECURITY`);
            await client.query(`ALTER TABLE ${s}.${ident(t.name)} FORCE ROW LEVEL SECURITY`);
            if (t.owner !== before.currentUser) await client.query(`ALTER TABLE ${s}.${ident(t.name)} OWNER TO CURRENT_USER`);
        }
        for (const p of model.policies.filter((x) => existing.has(x.table))) {
            await client.query(`DROP POLICY IF EXISTS ${ident(p.name)} ON ${s}.${ident(p.table)}`);
            await client.query(createPolicySql(model.schema, p));
        }
        const definer = new Set((model.definerFunctions ?? []).map((f) => `${f.schema}.${f.name}`));
        for (const f of before.functions) {
            const q = `${ident(f.schema)}.${ident(f.name)}()`;
            await client.query(`REVOKE ALL ON FUNCTION ${q} FROM PUBLIC`);
            if (f.owner !== before.currentUser) await client.query(`ALTER FUNCTION ${q} OWNER TO CURRENT_USER`);
            if (definer.has(`${f.schema}.${f.name}`)) await client.query(`ALTER FUNCTION ${q} SECURITY DEFINER SET search_path = ''`);
        }
        const after = await readSecurityCatalog(client, model);
        await client.query("COMMIT");
        const declared = new Set(model.policies.map(policyKey));
        const recorded: RecordedPolicies = {};
        for (const p of after.policies) if (declared.has(policyKey(p))) recorded[policyKey(p)] = { qual: p.qual, withCheck: p.withCheck };
        return recorded;
    } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
    }
}
