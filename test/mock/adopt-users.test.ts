/**
 * `postgres.adoptUsersTable` in the resource graph and the config: the adoption runs before the
 * migrations (which wait for it), after the schema and the roles its policies name, with the
 * connection as a secret and migration 001 as the stack renders it; without the key nothing of it
 * is registered; a name that is not schema.table, or in a schema Postgres or Supabase owns, is refused.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../../infra/config";
import { buildMockedStackOf, isSecretValue } from "../support/pulumi-mocks";
import { STACK_ROOT_NAME } from "../../infra/stack";

const PROJECT = "auth0-postgres";
const T = {
    adoption: "pulumi-nodejs:dynamic/auth0-postgres:UsersTableAdoption",
    migrations: "pulumi-nodejs:dynamic/auth0-postgres:Migrations",
    schema: "postgresql:index/schema:Schema",
    role: "postgresql:index/role:Role",
};

describe("the adoption in the resource graph", () => {
    it("runs before the migrations, after the schema and the roles, with 001 as the stack renders it", async () => {
        const { run, config } = await buildMockedStackOf(PROJECT, "dev", {
            values: { postgres: { host: "db.devprojectref.supabase.co", sslMode: "require", adoptUsersTable: "public.users" } },
        });
        const [adoption] = run.ofType(T.adoption);
        expect(adoption).toBeDefined();
        expect(adoption!.name).toBe(`${STACK_ROOT_NAME}-db-adopt-users`);
        expect(adoption!.parentUrn).toBe(run.find("auth0-postgres:postgres:Database", `${STACK_ROOT_NAME}-db`).urn);
        expect(adoption!.inputs).toMatchObject({ source: "public.users", schema: config.postgres.schema, owner: config.postgres.rolePrefix });
        const migrations = run.ofType(T.migrations)[0]!;
        expect((adoption!.inputs.userStore as { id: string }).id).toBe("001_user_store");
        expect(adoption!.inputs.userStore).toEqual((migrations.inputs.migrations as unknown[])[0]);
        expect(isSecretValue(adoption!.raw.connection)).toBe(true);
        expect(adoption!.additionalSecretOutputs).toContain("connection");
        expect(migrations.dependencies).toContain(adoption!.urn);
        const schema = run.ofType(T.schema).find((s) => s.inputs.name === config.postgres.schema)!;
        expect(adoption!.dependencies).toContain(schema.urn);
        for (const role of run.ofType(T.role)) expect(adoption!.dependencies, role.name).toContain(role.urn);
    });

    it("is not registered without postgres.adoptUsersTable", async () => {
        const { run } = await buildMockedStackOf(PROJECT, "dev");
        expect(run.ofType(T.adoption)).toEqual([]);
        expect(run.ofType(T.migrations)[0]!.dependencies.some((urn) => urn.includes("UsersTableAdoption"))).toBe(false);
    });
});

describe("postgres.adoptUsersTable in the config", () => {
    const parse = (adoptUsersTable: unknown) =>
        parseStackConfig({
            project: PROJECT,
            stack: "local",
            values: { environment: "local", postgresOnly: true, postgres: { host: "localhost", adoptUsersTable } },
            secrets: { postgresPassword: { encrypted: true } },
        });
    const problems = (value: unknown) => {
        try {
            parse(value);
            return [];
        } catch (err) {
            return (err as ConfigError).problems;
        }
    };

    it("takes schema.table, public included", () => {
        expect(parse("public.users").postgres.adoptUsersTable).toBe("public.users");
        expect(parse("legacy.customers").postgres.adoptUsersTable).toBe("legacy.customers");
    });

    it("refuses a bare name, quoting, and Supabase's own auth.users", () => {
        expect(problems("users")).toEqual([
            `${PROJECT}:postgres.adoptUsersTable: must be schema.table, each a lower-case Postgres identifier (e.g. public.users)`,
        ]);
        expect(problems('public."Users"')).toHaveLength(1);
        expect(problems("auth.users")).toEqual([`${PROJECT}:postgres.adoptUsersTable: must not be in a schema Postgres or Supabase owns (public excepted)`]);
        expect(problems("pg_catalog.pg_authid")).toHaveLength(1);
    });
});
