/**
 * The one privilege model of the stack: which role may do what to which object. It generates the
 * `postgresql.Role` and `postgresql.Grant` resources, and the tests log in as each role and check
 * it against the real database, both what it grants and what it leaves out.
 */

/** The roles the stack creates, by purpose. */
export type RoleKey = "scripts" | "sync" | "app" | "fdwReader";

export const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"] as const;
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];
export type Privilege = TablePrivilege | "USAGE" | "CREATE" | "EXECUTE";

export interface RoleSpec {
    key: RoleKey;
    /** The role's name in Postgres. */
    name: string;
    /** Whether the role can log in (and so gets a generated password). */
    login: boolean;
    /** What the role is for, shown in docs and as the role's comment. */
    purpose: string;
    /** Statement timeout set on the role, in milliseconds (0 = none). */
    statementTimeoutMs: number;
}

/**
 * Who a grant is for: one of the stack's roles; Supabase's `authenticated` (the role its Data API
 * runs third-party-auth requests as: the reader's grants, with Supabase third-party auth on); or
 * PUBLIC (only ever to revoke its defaults).
 */
export type Grantee = RoleKey | "authenticated" | "public";
/** Supabase's role for signed-in requests (it exists on Supabase; the stack does not create it). */
export const SUPABASE_AUTHENTICATED_ROLE = "authenticated";
/** Roles that read as the app reader does. */
type Reader = RoleKey | "authenticated";

export type Grant =
    | { role: RoleKey; objectType: "database"; privileges: ["CONNECT"] }
    /** PUBLIC's default CONNECT and TEMP on the database, revoked (a dedicated database only). */
    | { role: "public"; objectType: "database"; privileges: [] }
    | { role: Reader; objectType: "schema"; schema: string; privileges: ("USAGE" | "CREATE")[] }
    | { role: Reader; objectType: "table"; schema: string; objects: string[]; privileges: TablePrivilege[] }
    | {
          role: Reader;
          objectType: "column";
          schema: string;
          objects: [string];
          columns: string[];
          privileges: ("SELECT" | "INSERT" | "UPDATE" | "REFERENCES")[];
      }
    | { role: Reader; objectType: "function"; schema: string; objects: string[]; privileges: ["EXECUTE"] };

export interface ModelInput {
    /** The database the stack manages. */
    database: string;
    /** Schema of the user store and the profiles. */
    schema: string;
    /** Schema of the Auth0 foreign tables. */
    fdwSchema: string;
    rolePrefix: string;
    /** Whether the Auth0 foreign tables exist (Supabase features on). */
    foreignTables: string[];
    /** Statement timeout of the scripts' and the sync's roles, in milliseconds. */
    statementTimeoutMs: number;
    /**
     * The database is the stack's alone: PUBLIC's default CONNECT and TEMP on it are revoked. Off on
     * Supabase, whose own roles (anon, authenticated, service_role...) connect through PUBLIC.
     */
    dedicatedDatabase?: boolean;
    /** Supabase third-party auth: Supabase's `authenticated` role reads as the app reader does. */
    supabaseAuthenticated?: boolean;
}

/** Tables the migrations create, and the columns of the user store other roles may read. */
export const TABLES = { users: "users", profiles: "profiles" } as const;
export const USER_PUBLIC_COLUMNS = ["id", "email", "nickname", "email_verified", "user_metadata", "created_at", "updated_at"] as const;
/** The only columns of a stored user the scripts change: change_password and a login's rehash, verify. */
export const USER_SCRIPT_UPDATE_COLUMNS = ["password_hash", "email_verified"] as const;
/** The only columns of a profile the sync's upsert changes. */
export const PROFILE_SYNC_UPDATE_COLUMNS = ["user_name", "last_seen"] as const;
export const FUNCTIONS = { currentUserId: "current_user_id" } as const;

export function roleSpecs(input: Pick<ModelInput, "rolePrefix" | "statementTimeoutMs">): RoleSpec[] {
    const p = input.rolePrefix;
    return [
        {
            key: "scripts",
            name: `${p}_scripts`,
            login: true,
            purpose: "Auth0 custom-database scripts: the user store only",
            statementTimeoutMs: input.statementTimeoutMs,
        },
        {
            key: "sync",
            name: `${p}_sync`,
            login: true,
            purpose: "Auth0 post-login user sync: upserts profiles only",
            statementTimeoutMs: input.statementTimeoutMs,
        },
        {
            key: "app",
            name: `${p}_app_reader`,
            login: false,
            purpose: "Application reads governed by row-level security (grant it to Hasura's or PostgREST's role)",
            statementTimeoutMs: 0,
        },
        {
            key: "fdwReader",
            name: `${p}_fdw_reader`,
            login: false,
            purpose: "Reads the Auth0 foreign tables through their reader functions (no Vault access)",
            statementTimeoutMs: 0,
        },
    ];
}

/** The grants, one per (role, schema, object type, objects): the postgresql provider revokes what a grant does not list. */
export function privilegeModel(input: ModelInput): Grant[] {
    const grants = [...appSchemaGrants(input), ...foreignTableGrants(input)];
    assertModelIsSound(grants);
    return grants;
}

/**
 * Grants on the database and the user-store schema (created with the tables). UPDATE is granted on
 * the columns each writer changes, never on the table: the scripts cannot rewrite a user's id, email
 * or app_metadata (which feeds the Hasura roles), the sync cannot rewrite a profile's user_id. Each
 * column grant comes after its role's table grant on the same table (the chain of {@link grantOrder}):
 * revoking a table privilege revokes it on the columns too.
 */
export function appSchemaGrants(input: Pick<ModelInput, "schema" | "dedicatedDatabase" | "supabaseAuthenticated">): Grant[] {
    const { schema } = input;
    const reader = (role: Reader): Grant[] => [
        { role, objectType: "schema", schema, privileges: ["USAGE"] },
        { role, objectType: "table", schema, objects: [TABLES.profiles], privileges: ["SELECT"] },
        { role, objectType: "column", schema, objects: [TABLES.users], columns: [...USER_PUBLIC_COLUMNS], privileges: ["SELECT"] },
        { role, objectType: "function", schema, objects: [FUNCTIONS.currentUserId], privileges: ["EXECUTE"] },
    ];
    return [
        ...(input.dedicatedDatabase ? [{ role: "public", objectType: "database", privileges: [] } as Grant] : []),
        { role: "scripts", objectType: "database", privileges: ["CONNECT"] },
        { role: "sync", objectType: "database", privileges: ["CONNECT"] },
        { role: "scripts", objectType: "schema", schema, privileges: ["USAGE"] },
        { role: "scripts", objectType: "table", schema, objects: [TABLES.users], privileges: ["SELECT", "INSERT", "DELETE"] },
        { role: "scripts", objectType: "column", schema, objects: [TABLES.users], columns: [...USER_SCRIPT_UPDATE_COLUMNS], privileges: ["UPDATE"] },
        { role: "sync", objectType: "schema", schema, privileges: ["USAGE"] },
        { role: "sync", objectType: "table", schema, objects: [TABLES.profiles], privileges: ["SELECT", "INSERT"] },
        { role: "sync", objectType: "column", schema, objects: [TABLES.profiles], columns: [...PROFILE_SYNC_UPDATE_COLUMNS], privileges: ["UPDATE"] },
        ...reader("app"),
        ...(input.supabaseAuthenticated ? reader(SUPABASE_AUTHENTICATED_ROLE) : []),
    ];
}

/** The Postgres name of a grantee. */
export function granteeName(role: Grantee, roles: Record<RoleKey, string>): string {
    return role === "public" || role === SUPABASE_AUTHENTICATED_ROLE ? role : roles[role];
}

/** Grants on the Auth0 foreign tables (created with them, when Supabase features are on). */
export function foreignTableGrants(input: Pick<ModelInput, "fdwSchema" | "foreignTables">): Grant[] {
    if (input.foreignTables.length === 0) return [];
    // EXECUTE on each table's reader function, not SELECT on the table: Wrappers looks the API key
    // up in Vault as whoever runs the query, and the reader must not see Vault (readerFunctionSql).
    return [
        { role: "fdwReader", objectType: "schema", schema: input.fdwSchema, privileges: ["USAGE"] },
        { role: "fdwReader", objectType: "function", schema: input.fdwSchema, objects: input.foreignTables.map(readerFunctionName), privileges: ["EXECUTE"] },
    ];
}

/** The SECURITY DEFINER function the readers read a foreign table through, in the table's schema: `list_users()` for `users`. */
export function readerFunctionName(table: string): string {
    return `list_${table}`;
}

/** The model's invariants: no "all objects" grant, and no two grants the provider would make fight. */
export function assertModelIsSound(grants: Grant[]): void {
    const seen = new Set<string>();
    for (const g of grants) {
        const where = g.objectType === "database" ? "the database" : g.schema;
        if (g.objectType !== "schema" && g.objectType !== "database" && g.objects.length === 0) {
            throw new Error(`privilege model: ${g.role} ${g.objectType} grant in ${where} lists no objects (the provider would grant on ALL of them)`);
        }
        if (g.privileges.length === 0 && g.role !== "public") throw new Error(`privilege model: ${g.role} ${g.objectType} grant in ${where} has no privileges`);
        const key = `${g.role}/${g.objectType}/${where}/${g.objectType === "column" ? g.objects[0] : ""}`;
        if (seen.has(key))
            throw new Error(`privilege model: two ${g.objectType} grants for ${g.role} in ${where}; the postgresql provider would revoke one with the other`);
        seen.add(key);
    }
}

/**
 * The catalog rows a grant rewrites (the ACL it changes lives there): the database's, a schema's, a
 * table's (its columns' ACLs too: a table REVOKE also revokes column privileges), a function's. The
 * server refuses two concurrent rewrites of one row (`tuple concurrently updated`), so grants that
 * share a target must not run at once (postgresql provider bug, cyrilgdn/terraform-provider-postgresql#178).
 */
export function grantTargets(g: Grant): string[] {
    switch (g.objectType) {
        case "database":
            return ["database"];
        case "schema":
            return [`schema:${g.schema}`];
        case "table":
        case "column":
            return g.objects.map((o) => `relation:${g.schema}.${o}`);
        case "function":
            return g.objects.map((o) => `function:${g.schema}.${o}`);
    }
}

/**
 * For each grant (by index), the earlier grants it must wait for: per target, the last earlier grant
 * that touches it. Chained this way, grants on one object run one after the other (on create, and in
 * reverse on delete) whatever the engine's parallelism; grants on different objects still run in parallel.
 */
export function grantOrder(grants: Grant[]): number[][] {
    const last = new Map<string, number>();
    return grants.map((g, i) => {
        const waits = new Set<number>();
        for (const target of grantTargets(g)) {
            const before = last.get(target);
            if (before !== undefined) waits.add(before);
            last.set(target, i);
        }
        return [...waits].sort((a, b) => a - b);
    });
}

/** A stable, readable resource-name suffix for a grant. */
export function grantSuffix(g: Grant): string {
    const objects = g.objectType === "database" ? "db" : g.objectType === "schema" ? g.schema : `${g.schema}-${g.objects.join("-")}`;
    return `${g.role}-${g.objectType}-${objects}`.replace(/_/g, "-");
}

/** Quotes a Postgres identifier. */
export function ident(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The SQL a grant amounts to, as the postgresql provider runs it. Used by the tests to apply the
 * model to a real database (the provider plugin cannot run here) and by the docs.
 */
export function grantSql(g: Grant, roles: Record<RoleKey, string>, database: string): string {
    if (g.role === "public") return `REVOKE ALL ON DATABASE ${ident(database)} FROM PUBLIC`;
    const role = ident(granteeName(g.role, roles));
    const privs = g.privileges.join(", ");
    switch (g.objectType) {
        case "database":
            return `GRANT ${privs} ON DATABASE ${ident(database)} TO ${role}`;
        case "schema":
            return `GRANT ${privs} ON SCHEMA ${ident(g.schema)} TO ${role}`;
        case "table":
            return `GRANT ${privs} ON TABLE ${g.objects.map((o) => `${ident(g.schema)}.${ident(o)}`).join(", ")} TO ${role}`;
        case "column":
            return `GRANT ${g.privileges.map((p) => `${p} (${g.columns.map(ident).join(", ")})`).join(", ")} ON TABLE ${ident(g.schema)}.${ident(g.objects[0])} TO ${role}`;
        case "function":
            return `GRANT EXECUTE ON FUNCTION ${g.objects.map((o) => `${ident(g.schema)}.${ident(o)}()`).join(", ")} TO ${role}`;
    }
}
