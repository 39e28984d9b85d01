import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import type { PgConnectionInfo } from "../dynamic/connection";
import { DatabaseSecurity, Migrations, UsersTableAdoption } from "../dynamic";
import { createGrants } from "./grants";
import { loadMigrations } from "./migrations";
import { foreignDataNames } from "./auth0-fdw";
import { AUTH0_FOREIGN_TABLES } from "./foreign-data";
import { appSchemaGrants, readerFunctionName, RoleKey, roleSpecs, SUPABASE_AUTHENTICATED_ROLE } from "./privileges";
import { securityModel } from "./security";

export interface PostgresDatabaseArgs {
    /** The explicit postgresql provider (built from stack config) every child uses. */
    provider: postgresql.Provider;
    /** Admin connection for the dynamic providers (migrations); pass it as a Pulumi secret. */
    connection: pulumi.Input<PgConnectionInfo>;
    /** The database the stack manages. */
    database: string;
    /** Schema of the user store and the profiles. */
    schema: string;
    /** Prefix of every role the stack creates. */
    rolePrefix: string;
    /** Statement timeout set on the scripts' and the sync's roles, in milliseconds. */
    statementTimeoutMs: number;
    /** Supabase features: installs the `supabase_vault` and `wrappers` extensions. */
    supabase: boolean;
    /** Schema the Supabase extensions live in. Defaults to `extensions` (Supabase's own). */
    extensionsSchema?: string;
    /** Let a delete or replace drop tables and their data. Defaults to false. */
    allowDataLoss?: boolean;
    /** The database is the stack's alone: PUBLIC's CONNECT and TEMP on it are revoked. Defaults to false (Supabase needs them). */
    dedicatedDatabase?: boolean;
    /** Supabase third-party auth: Supabase's `authenticated` role gets the reader's grants and policies. Defaults to false. */
    supabaseAuthenticated?: boolean;
    /** Protect data-holding resources and retain database objects removed from the program. Defaults to false. */
    protect?: boolean;
    /**
     * An existing table in the shape of Auth0's PostgreSQL template (`schema.table`) to adopt as the
     * user store before the migrations run (see `infra/postgres/adopt-users.ts`). Defaults to none:
     * migration 001 creates an empty table.
     */
    adoptUsersTable?: string;
}

/** What a login role needs to connect. `password` is a secret output. */
export interface LoginRole {
    name: pulumi.Output<string>;
    password: pulumi.Output<string>;
}

/**
 * The stack's Postgres side: schema, least-privilege roles with generated passwords, the tables
 * (through recorded, checksummed migrations) and the grants of the privilege model. Supabase's
 * extensions when asked. The Auth0 foreign data lives in {@link Auth0ForeignData}.
 */
export class PostgresDatabase extends pulumi.ComponentResource {
    public readonly schema: pulumi.Output<string>;
    public readonly roleNames: Record<RoleKey, pulumi.Output<string>>;
    public readonly scriptsRole: LoginRole;
    public readonly syncRole: LoginRole;
    public readonly migrations: Migrations;
    public readonly security: DatabaseSecurity;
    /** Everything the grants and later consumers must wait for. */
    public readonly ready: pulumi.Resource[];
    public readonly extensions: postgresql.Extension[];

    constructor(name: string, args: PostgresDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("auth0-postgres:postgres:Database", name, {}, opts);
        const protect = args.protect ?? false;
        const allowDataLoss = args.allowDataLoss ?? false;
        const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        // Database objects removed from the program stay in the database when the stack protects data.
        const retained: pulumi.CustomResourceOptions = { ...child, retainOnDelete: protect };

        this.extensions = args.supabase
            ? ["supabase_vault", "wrappers"].map(
                  (ext) =>
                      new postgresql.Extension(
                          `${name}-ext-${ext.replace(/_/g, "-")}`,
                          {
                              name: ext,
                              database: args.database,
                              schema: ext === "wrappers" ? (args.extensionsSchema ?? "extensions") : undefined,
                              createCascade: false,
                              dropCascade: false,
                          },
                          // Shared by the whole database (Vault holds every secret): never dropped by this stack.
                          { ...child, retainOnDelete: true },
                      ),
              )
            : [];

        const schema = new postgresql.Schema(
            `${name}-schema`,
            { name: args.schema, database: args.database, dropCascade: false, ifNotExists: true },
            // The schema holds the tables: kept unless the stack opted in to data loss.
            { ...child, protect, retainOnDelete: protect || !allowDataLoss },
        );
        this.schema = schema.name;

        const specs = roleSpecs({ rolePrefix: args.rolePrefix, statementTimeoutMs: args.statementTimeoutMs });
        const roles = {} as Record<RoleKey, postgresql.Role>;
        const passwords = {} as Partial<Record<RoleKey, random.RandomPassword>>;
        for (const spec of specs) {
            const suffix = spec.key === "fdwReader" ? "fdw-reader" : spec.key;
            const password = spec.login
                ? new random.RandomPassword(
                      `${name}-${suffix}-password`,
                      { length: 40, special: false, minLower: 4, minUpper: 4, minNumeric: 4 },
                      { parent: this },
                  )
                : undefined;
            if (password) passwords[spec.key] = password;
            roles[spec.key] = new postgresql.Role(
                `${name}-${suffix}-role`,
                {
                    name: spec.name,
                    login: spec.login,
                    password: password?.result,
                    superuser: false,
                    createDatabase: false,
                    createRole: false,
                    replication: false,
                    bypassRowLevelSecurity: false,
                    inherit: false,
                    statementTimeout: spec.statementTimeoutMs > 0 ? spec.statementTimeoutMs : undefined,
                },
                retained,
            );
        }
        this.roleNames = Object.fromEntries(Object.entries(roles).map(([k, r]) => [k, r.name])) as Record<RoleKey, pulumi.Output<string>>;
        const loginRole = (key: "scripts" | "sync"): LoginRole => ({
            name: roles[key].name,
            password: pulumi.secret(passwords[key]!.result),
        });
        this.scriptsRole = loginRole("scripts");
        this.syncRole = loginRole("sync");

        const names = Object.fromEntries(specs.map((s) => [`${s.key === "fdwReader" ? "fdw_reader" : s.key}_role`, s.name]));
        const migrations = loadMigrations({ schema: args.schema, ...names });
        // An adopted template table becomes 001's table in place, before the migrations (which then
        // find 001 applied); its policies name the roles, so they come first.
        const adoption = args.adoptUsersTable
            ? new UsersTableAdoption(
                  `${name}-adopt-users`,
                  {
                      connection: pulumi.secret(args.connection),
                      source: args.adoptUsersTable,
                      schema: args.schema,
                      userStore: migrations[0]!,
                      owner: args.rolePrefix,
                  },
                  { parent: this, dependsOn: [schema, ...Object.values(roles)] },
              )
            : undefined;
        this.migrations = new Migrations(
            `${name}-migrations`,
            {
                connection: pulumi.secret(args.connection),
                schema: args.schema,
                migrations,
                allowDataLoss,
                owner: args.rolePrefix,
            },
            { parent: this, dependsOn: [schema, ...Object.values(roles), ...(adoption ? [adoption] : [])], protect },
        );

        // Policies, row-level security, function privileges and ownership, compared with the catalog on
        // every preview and restored on up (a role's delete drops the policies that name it).
        const roleName = (key: RoleKey) => specs.find((s) => s.key === key)!.name;
        this.security = new DatabaseSecurity(
            `${name}-security`,
            {
                connection: pulumi.secret(args.connection),
                model: securityModel(
                    args.schema,
                    { scripts: roleName("scripts"), sync: roleName("sync"), app: roleName("app") },
                    // The Auth0 foreign tables' reader functions (Auth0ForeignData creates them later; until then, no drift).
                    args.supabase ? AUTH0_FOREIGN_TABLES.map((t) => ({ schema: foreignDataNames(args.rolePrefix).schema, name: readerFunctionName(t) })) : [],
                    args.supabaseAuthenticated ? [SUPABASE_AUTHENTICATED_ROLE] : [],
                ),
            },
            { parent: this, dependsOn: [this.migrations, ...Object.values(roles)] },
        );

        // After the security resource: both rewrite the tables' and functions' catalog rows.
        const grants = createGrants(
            name,
            appSchemaGrants({ schema: args.schema, dedicatedDatabase: args.dedicatedDatabase, supabaseAuthenticated: args.supabaseAuthenticated }),
            { database: args.database, roles: this.roleNames },
            { ...retained, dependsOn: [this.migrations, this.security] },
        );
        this.ready = [schema, this.migrations, this.security, ...Object.values(roles), ...grants];

        this.registerOutputs({
            schema: this.schema,
            roleNames: this.roleNames,
            appliedMigrations: this.migrations.applied,
        });
    }
}
