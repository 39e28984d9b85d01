/**
 * Adopting a user table in the shape of Auth0's "PostgreSQL as custom database" template, on the
 * real Postgres: a few thousand users adopted (every row, id and hash kept), each logging in with
 * their old password through the uploaded scripts as the least-privilege scripts role, get_user
 * answering the user_id the template's scripts answered; the adopted table is 001's table (the
 * catalog compared with a fresh stack's); a table with emails that differ only in case, or rows the
 * user store cannot hold, is refused with the rows named and nothing changed.
 */
import { randomBytes } from "node:crypto";
import bcrypt from "bcrypt";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connectionFromUrl } from "../../infra/dynamic/connection";
import { adoptionStatements, adoptUsersTable, inspectAdoption, readTemplateTable, templateShapeProblems } from "../../infra/postgres/adopt-users";
import { usersTableAdoptionProvider } from "../../infra/dynamic/adoption";
import { applyMigrations } from "../../infra/postgres/migrate";
import { loadMigrations, Migration } from "../../infra/postgres/migrations";
import { grantSql, ident, privilegeModel, RoleKey, roleSpecs } from "../../infra/postgres/privileges";
import { applySecurity, readSecurityCatalog, securityDrift, securityModel } from "../../infra/postgres/security";
import { createSandbox } from "../support/auth0-sandbox";
import { createStackDatabase, createTestDatabase, query, StackDatabase, TestDatabase, uniqueRolePrefix, withCredentials } from "../support/db";
import { configFor } from "../support/custom-db-scripts";

const USERS = 3000;
const SCHEMA = "auth0_app";

/** The template's table, as the issue and Auth0's template describe it (no primary key, nullable email). */
const TEMPLATE_TABLE = `CREATE TABLE public.users (
  id uuid DEFAULT uuid_generate_v4(),
  email varchar(255),
  nickname varchar(255),
  password varchar(255) NOT NULL,
  email_verified boolean DEFAULT false
)`;

/** uuid-ossp as the template uses it; a stand-in on a server without the contrib module. */
async function withUuidOssp(url: string): Promise<void> {
    try {
        await query(url, 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp" SCHEMA public');
    } catch {
        await query(url, "CREATE FUNCTION public.uuid_generate_v4() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()'");
    }
}

/** A `$2a$` hash, as bcrypt@0.8 (Auth0's template era) wrote them. */
function variantA(hash: string): string {
    return hash.replace(/^\$2b\$/, "$2a$");
}

interface TemplateUser {
    email: string;
    password: string;
    /** What the template's login and get_user answered as the user's id (`id: user.id`, pg's uuid text). */
    templateUserId: string;
}

/** The stack's Postgres side on `db`, in the program's order: roles, schema, adoption, migrations, security, grants. */
async function deployWithAdoption(
    serverUrl: string,
    db: TestDatabase,
    source: string,
): Promise<StackDatabase & { report: Awaited<ReturnType<typeof adoptUsersTable>> }> {
    const rolePrefix = uniqueRolePrefix("adopt");
    const model = { database: db.name, schema: SCHEMA, fdwSchema: "auth0", rolePrefix, foreignTables: [], statementTimeoutMs: 5000, dedicatedDatabase: false };
    const specs = roleSpecs(model);
    const roles = Object.fromEntries(specs.map((s) => [s.key, { ...s, password: randomBytes(18).toString("base64url") }])) as StackDatabase["roles"];
    const names = Object.fromEntries(specs.map((s) => [s.key, s.name])) as Record<RoleKey, string>;
    for (const r of Object.values(roles)) {
        await query(serverUrl, `CREATE ROLE ${ident(r.name)} ${r.login ? "LOGIN" : "NOLOGIN"} NOINHERIT PASSWORD ${r.login ? `'${r.password}'` : "NULL"}`);
        if (r.statementTimeoutMs > 0) await query(serverUrl, `ALTER ROLE ${ident(r.name)} SET statement_timeout = ${r.statementTimeoutMs}`);
    }
    await query(db.url, `CREATE SCHEMA ${ident(SCHEMA)}`);
    const migrations = loadMigrations({ schema: SCHEMA, scripts_role: names.scripts, sync_role: names.sync, app_role: names.app });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    let report;
    try {
        report = await adoptUsersTable(client, { source, schema: SCHEMA, userStore: migrations[0]!, owner: rolePrefix });
        await applyMigrations(client, SCHEMA, migrations, rolePrefix);
        await applySecurity(client, securityModel(SCHEMA, names));
    } finally {
        await client.end();
    }
    const grants = privilegeModel(model);
    for (const g of grants) await query(db.url, grantSql(g, names, db.name));
    return {
        db,
        schema: SCHEMA,
        roles,
        grants,
        migrations,
        model,
        report,
        urlFor: (role) => withCredentials(db.url, roles[role].name, roles[role].password),
        teardown: async () => {
            await db.drop();
            for (const r of Object.values(roles)) await query(serverUrl, `DROP ROLE IF EXISTS ${ident(r.name)}`);
        },
    };
}

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
    const out: R[] = [];
    for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map((item, j) => fn(item, i + j)))));
    return out;
}

describe(`a template table of ${USERS} users, adopted`, () => {
    let stack: Awaited<ReturnType<typeof deployWithAdoption>>;
    let users: TemplateUser[];
    let sandbox: ReturnType<typeof createSandbox>;
    /** Figures for the report at the end. */
    const figures = { rows: 0, logins: 0, secondLogins: 0, getUsers: 0, rehashed: 0 };

    beforeAll(async () => {
        const server = inject("databaseUrl");
        const db = await createTestDatabase(server, "adopt_users");
        await withUuidOssp(db.url);
        await query(db.url, TEMPLATE_TABLE);
        // Users as the template's create script stored them: bcrypt hashes (here cost 4, half of them
        // in the $2a$ form older bcrypt wrote), emails as typed, some verified, some NULL.
        const plain = Array.from({ length: USERS }, (_, i) => ({
            email: `${i % 3 === 0 ? "User" : "user"}.${i}@${i % 2 === 0 ? "Example.com" : "example.org"}`,
            password: `old-pw-${i}-${randomBytes(6).toString("hex")}`,
            nickname: i % 4 === 0 ? null : `nick${i}`,
            verified: i % 5 === 0 ? null : i % 2 === 0,
        }));
        const hashes = await inBatches(plain, 100, async (u, i) => {
            const h = await bcrypt.hash(u.password, 4);
            return i % 2 === 0 ? variantA(h) : h;
        });
        const client = new Client({ connectionString: db.url });
        await client.connect();
        try {
            for (let i = 0; i < USERS; i += 500) {
                const chunk = plain.slice(i, i + 500);
                await client.query(
                    "INSERT INTO public.users (email, nickname, password, email_verified) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[])",
                    [chunk.map((u) => u.email), chunk.map((u) => u.nickname), hashes.slice(i, i + 500), chunk.map((u) => u.verified)],
                );
            }
            // The template's scripts answered `id: user.id`, the uuid as pg hands it back.
            const ids = await client.query<{ id: string; email: string }>("SELECT id, email FROM public.users");
            const idOf = new Map(ids.rows.map((r) => [r.email, String(r.id)]));
            users = plain.map((u) => ({ email: u.email, password: u.password, templateUserId: idOf.get(u.email)! }));
        } finally {
            await client.end();
        }
        stack = await deployWithAdoption(server, db, "public.users");
        figures.rows = stack.report.rows;
        sandbox = createSandbox(configFor(stack, { bcryptCost: 5 }));
    });
    afterAll(async () => {
        await sandbox?.close();
        await stack?.teardown();
        // The closing figures of issue #14, printed for the record.
        console.info(`adopt-users figures: ${JSON.stringify(figures)}`);
    });

    it("keeps every row and every id, moves the table into the stack's schema and records 001 as applied", async () => {
        expect(stack.report).toMatchObject({ status: "adopted", rows: USERS, problems: [] });
        expect(stack.report.notes.join("\n")).toMatch(/public\.users becomes auth0_app\.users/);
        expect(stack.report.notes.join("\n")).toMatch(/\d+ row\(s\) with email_verified NULL set to false/);
        expect(await query(stack.db.url, "SELECT to_regclass('public.users') AS t")).toEqual([{ t: null }]);
        const rows = await query(stack.db.url, `SELECT id::text AS id, email FROM ${SCHEMA}.users`);
        expect(rows).toHaveLength(USERS);
        const byEmail = new Map(rows.map((r) => [r.email as string, r.id as string]));
        for (const u of users) expect(byEmail.get(u.email), u.email).toBe(u.templateUserId);
        const ledger = await query(stack.db.url, `SELECT id FROM ${SCHEMA}.schema_migrations ORDER BY id`);
        expect(ledger.map((r) => r.id)).toEqual(stack.migrations.map((m) => m.id));
        const checksum = await query(stack.db.url, `SELECT checksum FROM ${SCHEMA}.schema_migrations WHERE id = '001_user_store'`);
        expect(checksum[0]!.checksum).toBe(stack.migrations[0]!.checksum);
    });

    it("leaves the security model with no drift (row-level security forced, 001's policies, owner)", async () => {
        const client = new Client({ connectionString: stack.db.url });
        await client.connect();
        try {
            const names = Object.fromEntries(Object.values(stack.roles).map((r) => [r.key, r.name])) as Record<RoleKey, string>;
            const model = securityModel(SCHEMA, names);
            expect(securityDrift(model, await readSecurityCatalog(client, model))).toEqual([]);
        } finally {
            await client.end();
        }
    });

    it(`every user logs in with their old password through the uploaded scripts, as user_id the template's id`, { timeout: 240_000 }, async () => {
        const results = await inBatches(users, 10, (u) => sandbox.run("login", u.email, u.password));
        const failed = results
            .map((r, i) => ({ r, u: users[i]! }))
            .filter(({ r, u }) => r.err !== null || (r.result as { user_id?: string }).user_id !== u.templateUserId);
        expect(failed.map(({ u, r }) => `${u.email}: ${String((r.err as Error | null)?.message ?? JSON.stringify(r.result))}`)).toEqual([]);
        figures.logins = results.length;
        // A wrong password is still refused.
        expect((await sandbox.run("login", users[0]!.email, "not-the-password")).err).toMatchObject({ name: "WrongUsernameOrPasswordError" });
    });

    it("the old hashes were rehashed at the configured cost on login, and the new ones log in", { timeout: 120_000 }, async () => {
        const hashes = await query(stack.db.url, `SELECT substr(password_hash, 1, 7) AS prefix, count(*)::int AS n FROM ${SCHEMA}.users GROUP BY 1`);
        expect(hashes).toEqual([{ prefix: "$2b$05$", n: USERS }]);
        figures.rehashed = USERS;
        const sample = users.filter((_, i) => i % 60 === 0);
        const again = await inBatches(sample, 10, (u) => sandbox.run("login", u.email, u.password));
        expect(again.filter((r) => r.err !== null)).toEqual([]);
        figures.secondLogins = again.length;
    });

    it("get_user answers the user_id the template's scripts answered, for every user", { timeout: 120_000 }, async () => {
        const results = await inBatches(users, 20, (u) => sandbox.run("get_user", u.email));
        const wrong = results.filter((r, i) => r.err !== null || (r.result as { user_id?: string }).user_id !== users[i]!.templateUserId);
        expect(wrong).toEqual([]);
        figures.getUsers = results.length;
    });

    it("adopting again is a no-op: 001 is on the ledger", async () => {
        const client = new Client({ connectionString: stack.db.url });
        await client.connect();
        try {
            const again = await adoptUsersTable(client, {
                source: "public.users",
                schema: SCHEMA,
                userStore: stack.migrations[0]!,
                owner: stack.model.rolePrefix,
            });
            expect(again.status).toBe("already-applied");
            expect((await inspectAdoption(client, { source: "public.users", schema: SCHEMA, userStore: stack.migrations[0]! })).status).toBe("already-applied");
        } finally {
            await client.end();
        }
    });
});

/** Everything about the schema's user store a reviewer would compare, with the role prefix made neutral. */
async function userStoreCatalog(url: string, rolePrefix: string): Promise<unknown> {
    const neutral = (v: unknown) => JSON.parse(JSON.stringify(v).split(rolePrefix).join("PREFIX")) as unknown;
    const rel = `'${SCHEMA}.users'::regclass`;
    const sql = async (text: string) => neutral(await query(url, text));
    return {
        columns: await sql(
            `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
               FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
              WHERE a.attrelid = ${rel} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attname`,
        ),
        constraints: await sql(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = ${rel} ORDER BY conname`),
        indexes: await sql(`SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = ${rel} ORDER BY 1`),
        triggers: await sql(`SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = ${rel} AND NOT tgisinternal ORDER BY tgname`),
        policies: await sql(
            `SELECT policyname, permissive, roles::text[] AS roles, cmd, qual, with_check FROM pg_policies WHERE schemaname = '${SCHEMA}' AND tablename = 'users' ORDER BY policyname`,
        ),
        table: await sql(
            `SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) AS owner, obj_description(oid, 'pg_class') AS comment, relacl::text[] AS acl FROM pg_class WHERE oid = ${rel}`,
        ),
        functions: await sql(
            `SELECT p.proname, pg_get_functiondef(p.oid) AS def, pg_get_userbyid(p.proowner) AS owner, p.proacl::text[] AS acl
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '${SCHEMA}' ORDER BY p.proname`,
        ),
    };
}

describe("the adopted table is 001's table", () => {
    let fresh: StackDatabase;
    let adopted: Awaited<ReturnType<typeof deployWithAdoption>>;
    beforeAll(async () => {
        const server = inject("databaseUrl");
        fresh = await createStackDatabase(server, "adopt_fresh");
        const db = await createTestDatabase(server, "adopt_shape");
        await withUuidOssp(db.url);
        await query(db.url, TEMPLATE_TABLE);
        await query(db.url, "INSERT INTO public.users (email, password) VALUES ('a@example.com', $1)", [await bcrypt.hash("pw", 4)]);
        adopted = await deployWithAdoption(server, db, "public.users");
    });
    afterAll(async () => {
        await fresh?.teardown();
        await adopted?.teardown();
    });

    it("same columns, types, defaults, constraints, indexes, trigger, policies, row-level security, comment, grants and functions", async () => {
        expect(await userStoreCatalog(adopted.db.url, adopted.model.rolePrefix)).toEqual(await userStoreCatalog(fresh.db.url, fresh.model.rolePrefix));
    });
});

describe("tables the user store cannot take are refused, rows named, nothing changed", () => {
    let db: TestDatabase;
    let userStore: Migration;
    beforeAll(async () => {
        db = await createTestDatabase(inject("databaseUrl"), "adopt_refused");
        await withUuidOssp(db.url);
        await query(db.url, `CREATE SCHEMA ${SCHEMA}`);
        userStore = loadMigrations({ schema: SCHEMA, scripts_role: "s", sync_role: "y", app_role: "a" })[0]!;
    });
    afterAll(async () => {
        await db?.drop();
    });

    /** A fingerprint of the source table (its columns and every row) and of the stack's schema. */
    async function fingerprint(table: string): Promise<unknown> {
        return {
            columns: await query(
                db.url,
                `SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attnum > 0 ORDER BY attnum`,
            ),
            rows: await query(db.url, `SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest, count(*)::int AS n FROM ${table} t`),
            stackSchema: await query(db.url, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${SCHEMA}'`),
            functions: await query(db.url, `SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '${SCHEMA}'`),
        };
    }

    async function attempt(table: string) {
        const client = new Client({ connectionString: db.url });
        await client.connect();
        try {
            const inspected = await inspectAdoption(client, { source: table, schema: SCHEMA, userStore });
            const error = await adoptUsersTable(client, { source: table, schema: SCHEMA, userStore, owner: "t" }).then(
                () => undefined,
                (e: Error) => e.message,
            );
            return { inspected, error };
        } finally {
            await client.end();
        }
    }

    it("emails that differ only in case: refused before anything changes, both rows of each pair named", async () => {
        await query(db.url, TEMPLATE_TABLE.replace("public.users", "public.twins"));
        const hash = await bcrypt.hash("pw", 4);
        const rows = await query(
            db.url,
            `INSERT INTO public.twins (email, password) VALUES ('Ann.Lee@example.com', $1), ('ann.lee@EXAMPLE.com', $1), ('bob@example.com', $1),
                    ('Carol@example.com', $1), ('carol@example.com', $1), ('CAROL@example.com', $1) RETURNING id::text AS id, email`,
            [hash],
        );
        const before = await fingerprint("public.twins");
        const { inspected, error } = await attempt("public.twins");
        expect(inspected.status).toBe("refused");
        expect(error).toMatch(/^cannot adopt public\.twins as the user store; nothing was changed:/);
        expect(error).toMatch(/2 email\(s\) of public\.twins are on more than one row, differing only in case/);
        for (const r of rows.filter((x) => x.email !== "bob@example.com")) {
            expect(error).toContain(`id ${String(r.id)} (${JSON.stringify(r.email)})`);
        }
        expect(error).not.toContain("bob@example.com");
        expect(error).not.toContain(hash);
        expect(inspected.problems).toEqual(
            error!
                .split("\n")
                .slice(1)
                .map((l) => l.replace(/^ {2}- /, "")),
        );
        expect(await fingerprint("public.twins")).toEqual(before);
        expect(await query(db.url, `SELECT to_regclass('${SCHEMA}.schema_migrations') AS t`)).toEqual([{ t: null }]);
    });

    it("no email, an email with spaces, a password that is not a bcrypt hash: each row named, never the password", async () => {
        await query(db.url, TEMPLATE_TABLE.replace("public.users", "public.broken"));
        const hash = await bcrypt.hash("pw", 4);
        const rows = await query(
            db.url,
            `INSERT INTO public.broken (email, password) VALUES (NULL, $1), (' padded@example.com', $1), ('plain@example.com', 'hunter2'), ('fine@example.com', $1)
             RETURNING id::text AS id, email`,
            [hash],
        );
        const before = await fingerprint("public.broken");
        const { inspected, error } = await attempt("public.broken");
        expect(inspected.status).toBe("refused");
        expect(error).toMatch(/2 row\(s\) of public\.broken have no email or one the user store refuses/);
        expect(error).toMatch(/1 row\(s\) of public\.broken have a password that is not a bcrypt hash/);
        expect(error).toContain(`id ${String(rows[0]!.id)} (no email)`);
        expect(error).toContain(`id ${String(rows[1]!.id)} (" padded@example.com")`);
        expect(error).toContain(`id ${String(rows[2]!.id)} ("plain@example.com")`);
        expect(error).not.toContain("hunter2");
        expect(error).not.toContain("fine@example.com");
        expect(await fingerprint("public.broken")).toEqual(before);
    });

    it("a table that is not the template's shape, or missing: refused with what is wrong", async () => {
        await query(db.url, "CREATE TABLE public.accounts (id integer PRIMARY KEY, email text, passwd text)");
        const { error } = await attempt("public.accounts");
        expect(error).toMatch(/public\.accounts\.id is integer; the template's is uuid/);
        expect(error).toMatch(/public\.accounts has no column password/);
        expect((await attempt("public.nothing_here")).error).toMatch(/public\.nothing_here does not exist/);
        expect(await query(db.url, `SELECT to_regclass('${SCHEMA}.users') AS t`)).toEqual([{ t: null }]);
    });

    it("the provider's check fails the preview with the same refusal; an unreachable database shows nothing", async () => {
        const connection = connectionFromUrl(db.url);
        const news = { connection, source: "public.twins", schema: SCHEMA, userStore };
        const checked = await usersTableAdoptionProvider.check!({} as never, news);
        expect(checked.failures?.map((f) => f.reason).join("\n")).toMatch(
            /cannot adopt public\.twins as the user store; nothing was changed:\n {2}- 2 email\(s\)/,
        );
        const offline = await usersTableAdoptionProvider.check!({} as never, { ...news, connection: { ...connection, port: 1 } });
        expect(offline.failures).toEqual([]);
    });
});

describe("a template table with the team's own additions", () => {
    let stack: Awaited<ReturnType<typeof deployWithAdoption>>;
    beforeAll(async () => {
        const server = inject("databaseUrl");
        const db = await createTestDatabase(server, "adopt_extras");
        await withUuidOssp(db.url);
        // A primary key under another name, a case-sensitive unique email, a column of their own,
        // an index, a policy, row-level security forced, privileges for another role.
        await query(
            db.url,
            "CREATE TABLE public.members (id uuid DEFAULT uuid_generate_v4() CONSTRAINT members_pk PRIMARY KEY, email varchar(255) UNIQUE, nickname varchar(255), password varchar(255) NOT NULL, email_verified boolean DEFAULT false, plan text DEFAULT 'free')",
        );
        await query(db.url, "CREATE INDEX members_plan_idx ON public.members (plan)");
        await query(db.url, "INSERT INTO public.members (email, password, plan) VALUES ('x@example.com', $1, 'pro'), ('y@example.com', $1, 'free')", [
            await bcrypt.hash("pw", 4),
        ]);
        await query(db.url, "ALTER TABLE public.members ENABLE ROW LEVEL SECURITY");
        await query(db.url, "ALTER TABLE public.members FORCE ROW LEVEL SECURITY");
        await query(db.url, "CREATE POLICY members_nobody ON public.members FOR SELECT TO PUBLIC USING (false)");
        await query(db.url, "GRANT SELECT ON public.members TO PUBLIC");
        stack = await deployWithAdoption(server, db, "public.members");
    });
    afterAll(async () => {
        await stack?.teardown();
    });

    it("adopts with RLS forced (the owner sees its rows), keeps what is the team's, reports it, revokes foreign privileges", async () => {
        expect(stack.report).toMatchObject({ status: "adopted", rows: 2 });
        const notes = stack.report.notes.join("\n");
        expect(notes).toMatch(/public\.members becomes auth0_app\.users/);
        expect(notes).toMatch(/columns of your own kept \(the scripts ignore them\): plan/);
        expect(notes).toMatch(/constraints of your own kept: members_email_key/);
        expect(notes).toMatch(/indexes of your own kept: members_plan_idx/);
        expect(notes).toMatch(/policies of your own kept .*: members_nobody/);
        expect(notes).toMatch(/privileges on the table revoked from PUBLIC/);
        const kept = await query(stack.db.url, `SELECT email, plan FROM ${SCHEMA}.users ORDER BY email`);
        expect(kept).toEqual([
            { email: "x@example.com", plan: "pro" },
            { email: "y@example.com", plan: "free" },
        ]);
        const pk = await query(stack.db.url, `SELECT conname FROM pg_constraint WHERE conrelid = '${SCHEMA}.users'::regclass AND contype = 'p'`);
        expect(pk).toEqual([{ conname: "users_pkey" }]);
        const acl = await query(stack.db.url, `SELECT relacl::text FROM pg_class WHERE oid = '${SCHEMA}.users'::regclass`);
        expect(String(acl[0]!.relacl)).not.toMatch(/(^|[{,])=/);
        const sandbox = createSandbox(configFor(stack));
        try {
            const out = await sandbox.run("login", "X@example.com", "pw");
            expect(out.err).toBeNull();
            expect(out.result).toMatchObject({ email: "x@example.com" });
        } finally {
            await sandbox.close();
        }
    });
});

describe("adoption statements (pure)", () => {
    it("for the bare template: move, rename, the password column, a primary key, 001's checks and columns", () => {
        const table = {
            schema: "public",
            name: "users",
            kind: "r",
            owner: "postgres",
            currentUser: "postgres",
            superuser: false,
            rls: false,
            forced: false,
            columns: [
                { name: "id", type: "uuid", notNull: false, default: "uuid_generate_v4()" },
                { name: "email", type: "character varying(255)", notNull: false, default: null },
                { name: "nickname", type: "character varying(255)", notNull: false, default: null },
                { name: "password", type: "character varying(255)", notNull: true, default: null },
                { name: "email_verified", type: "boolean", notNull: false, default: "false" },
            ],
            constraints: [],
            indexes: [],
            triggers: [],
            policies: [],
            grantees: [],
            dependentViews: [],
        };
        expect(templateShapeProblems(table, SCHEMA)).toEqual([]);
        const statements = adoptionStatements(table, SCHEMA);
        expect(statements.slice(0, 3)).toEqual([
            'ALTER TABLE "public"."users" SET SCHEMA "auth0_app"',
            'ALTER TABLE "auth0_app".users RENAME COLUMN password TO password_hash',
            'ALTER TABLE "auth0_app".users ALTER COLUMN id SET DEFAULT gen_random_uuid()',
        ]);
        expect(statements).toContain('ALTER TABLE "auth0_app".users ADD CONSTRAINT users_pkey PRIMARY KEY (id)');
        expect(statements).toContain('ALTER TABLE "auth0_app".users ALTER COLUMN email TYPE text USING email::text');
        expect(statements).toContain('UPDATE "auth0_app".users SET email_verified = false WHERE email_verified IS NULL');
        expect(statements.filter((s) => / ADD COLUMN /.test(s)).map((s) => / ADD COLUMN (\w+)/.exec(s)![1])).toEqual([
            "app_metadata",
            "user_metadata",
            "created_at",
            "updated_at",
        ]);
    });

    it("refuses a table owned by another role (without superuser), dependent views, and names 001 uses", () => {
        const base = {
            schema: "public",
            name: "users",
            kind: "r",
            owner: "someone",
            currentUser: "postgres",
            superuser: false,
            rls: false,
            forced: false,
            constraints: [],
            indexes: [],
            triggers: ["users_touch_updated_at"],
            policies: [],
            grantees: [],
            dependentViews: ["public.user_emails"],
        };
        const columns = [
            { name: "id", type: "uuid", notNull: false, default: null },
            { name: "email", type: "text", notNull: false, default: null },
            { name: "password", type: "text", notNull: true, default: null },
            { name: "team_id", type: "integer", notNull: true, default: null },
        ];
        const problems = templateShapeProblems({ ...base, columns }, SCHEMA);
        expect(problems).toEqual([
            "public.users.team_id is NOT NULL without a default: the create script cannot insert a user; give it a default or allow NULL first",
            "public.users already has a trigger users_touch_updated_at, a name the user store uses: rename or drop it first",
            'public.users is owned by someone, not by postgres (the stack\'s admin user, who adopts it): as someone or a superuser, ALTER TABLE "public"."users" OWNER TO "postgres"',
            "views depend on public.users (public.user_emails): drop them first and create them again on auth0_app.users after the adoption",
        ]);
    });
});

it("the catalog reader sees the template's columns as the adoption maps them", async () => {
    const db = await createTestDatabase(inject("databaseUrl"), "adopt_reader");
    try {
        await withUuidOssp(db.url);
        await query(db.url, TEMPLATE_TABLE);
        const client = new Client({ connectionString: db.url });
        await client.connect();
        try {
            const t = await readTemplateTable(client, "public.users");
            expect(t?.columns.map((c) => `${c.name} ${c.type}${c.notNull ? " not null" : ""}`)).toEqual([
                "id uuid",
                "email character varying(255)",
                "nickname character varying(255)",
                "password character varying(255) not null",
                "email_verified boolean",
            ]);
            expect(await readTemplateTable(client, "public.absent")).toBeUndefined();
        } finally {
            await client.end();
        }
    } finally {
        await db.drop();
    }
});
