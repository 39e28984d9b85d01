import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
    AUTH0_FDW_HANDLER,
    WRAPPERS_MIN_VERSION,
    WRAPPERS_MIN_VERSION_REASON,
    foreignDataNames,
    AUTH0_FDW_VALIDATOR,
    AUTH0_USER_COLUMNS,
    auth0UsersUrl,
    foreignServerOptions,
    foreignServerSql,
} from "../../../infra/postgres/auth0-fdw";
import {
    FOREIGN_COLUMN_TYPES,
    foreignDataWrapperProvider as fdwProvider,
    ForeignDataWrapperInputs,
    ForeignTableInputs,
    ForeignTableOutputs,
    foreignTableProvider as tableProvider,
    vaultSecretProvider,
} from "../../../infra/dynamic";
import { ident } from "../../../infra/postgres/privileges";
import { providerDatabase, ProviderDatabase, UNKNOWN, unreachable } from "./support";
import { FIXTURE_WRAPPERS_VERSION, pretendWrappersVersion } from "../../support/supabase";
import { failedProperty } from "../../support/check-failures";
import { startForwarder } from "../../support/tcp-forwarder";

let pg: ProviderDatabase;
const DOMAIN = "tenant.eu.auth0.com";
const handler = `extensions.${AUTH0_FDW_HANDLER}`;
const validator = `extensions.${AUTH0_FDW_VALIDATOR}`;

beforeAll(async () => {
    pg = await providerDatabase(inject("databaseUrl"), "prov_fdw");
    // A second validator, to prove ALTER FOREIGN DATA WRAPPER: accepts anything.
    await pg.sql("CREATE FUNCTION extensions.lenient_validator(text[], oid) RETURNS void LANGUAGE plpgsql AS 'BEGIN END'");
});
afterAll(async () => pg?.db.drop());

const suffix = () => randomBytes(3).toString("hex");

/**
 * A wrapper's inputs. The wrapper provider connects as the superuser: stock Postgres lets only a
 * superuser CREATE FOREIGN DATA WRAPPER, which Supabase's `postgres` does through supautils.
 */
function fdwInputs(extra: Partial<ForeignDataWrapperInputs> = {}): ForeignDataWrapperInputs {
    return { connection: pg.superuser, name: `fdw_${suffix()}`, handler, validator, ...extra };
}

/** Creates the wrapper, and lets the admin use it (as supautils leaves it to `postgres`). */
async function createWrapper(fdw: ForeignDataWrapperInputs): Promise<void> {
    await fdwProvider.create(fdw);
    await pg.sql(`GRANT USAGE ON FOREIGN DATA WRAPPER ${ident(fdw.name)} TO ${ident(pg.connection.user)}`);
}

/** A wrapper, a Vault secret and a server using it by id, as the stack builds them (all but the wrapper as the admin). */
async function chain() {
    const fdw = fdwInputs();
    await createWrapper(fdw);
    const secret = await vaultSecretProvider.create({ connection: pg.connection, name: `mgmt_${suffix()}`, secret: `token-${suffix()}` });
    const server = `srv_${suffix()}`;
    await pg.asAdmin(foreignServerSql(server, fdw.name, foreignServerOptions(DOMAIN, secret.id)));
    return { fdw, server, secretId: secret.id };
}

async function tableInfo(schema: string, name: string) {
    const columns = await pg.sql(
        "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [`${ident(schema)}.${ident(name)}`],
    );
    const [row] = await pg.sql(
        "SELECT s.srvname AS server, ft.ftoptions AS options FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = to_regclass($1)",
        [`${ident(schema)}.${ident(name)}`],
    );
    return { columns, server: row?.server, options: row?.options };
}

describe("ForeignDataWrapper provider", () => {
    it("creates the wrapper with the schema-qualified handler and validator; read reports them", async () => {
        const i = fdwInputs();
        const res = await fdwProvider.create(i);
        expect(res.id).toBe(i.name);
        const [row] = await pg.sql(
            "SELECT fdwhandler::regproc::text AS handler, fdwvalidator::regproc::text AS validator FROM pg_foreign_data_wrapper WHERE fdwname = $1",
            [i.name],
        );
        expect(row).toEqual({ handler: handler, validator: validator });
        expect((await fdwProvider.read!(res.id, res.outs!)).props).toMatchObject({ name: i.name, handler, validator });
    });

    it("a new validator is an ALTER in place; a new name is a replace", async () => {
        const i = fdwInputs();
        const { id, outs } = await fdwProvider.create(i);
        const lenient = { ...i, validator: "extensions.lenient_validator" };
        expect(await fdwProvider.diff!(id, outs!, i)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await fdwProvider.diff!(id, outs!, lenient)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        expect(await fdwProvider.diff!(id, outs!, { ...i, name: `${i.name}_v2` })).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: false });
        expect(await fdwProvider.diff!(id, outs!, { ...i, name: UNKNOWN })).toMatchObject({ replaces: ["name"] });

        await fdwProvider.update!(id, outs!, lenient);
        expect((await fdwProvider.read!(id, outs!)).props?.validator).toBe("extensions.lenient_validator");
        // The lenient validator now lets a server without url through.
        await pg.sql(`CREATE SERVER ${ident(`lenient_${suffix()}`)} FOREIGN DATA WRAPPER ${ident(i.name)}`);
    });

    it("check wants identifiers and schema-qualified functions", async () => {
        const res = await fdwProvider.check!(
            {} as ForeignDataWrapperInputs,
            fdwInputs({ name: "Auth0 Wrapper", handler: AUTH0_FDW_HANDLER, validator: "a.b.c" }),
        );
        expect(res.failures?.map(failedProperty)).toEqual(["name", "handler", "validator"]);
        expect(res.failures?.[1]?.reason).toMatch(/handler: must be a schema-qualified name such as extensions.auth0_fdw_handler/);
        expect((await fdwProvider.check!({} as ForeignDataWrapperInputs, fdwInputs())).failures).toEqual([]);
    });

    it("fails the preview when the installed Wrappers is older than the wrapper needs, naming both versions; create refuses too", async () => {
        const extension = { name: "wrappers", minVersion: WRAPPERS_MIN_VERSION, reason: WRAPPERS_MIN_VERSION_REASON };
        const i = fdwInputs({ extension });
        expect((await fdwProvider.check!({} as ForeignDataWrapperInputs, i)).failures).toEqual([]);
        await pretendWrappersVersion(pg.db, "0.4.5");
        try {
            const res = await fdwProvider.check!({} as ForeignDataWrapperInputs, i);
            expect(res.failures?.map(failedProperty)).toEqual(["extension"]);
            expect(res.failures?.[0]?.reason).toBe(
                `extension: wrappers 0.4.5 is installed; the foreign data wrapper ${i.name} needs wrappers 0.4.6 or later (${WRAPPERS_MIN_VERSION_REASON}): ` +
                    "update it first (ALTER EXTENSION wrappers UPDATE; on Supabase a project gets newer extensions with a newer Postgres image: Project Settings > Infrastructure)",
            );
            // Out of reach (a preview without access): nothing to say yet; create checks.
            expect((await fdwProvider.check!({} as ForeignDataWrapperInputs, { ...i, connection: await unreachable(i.connection) })).failures).toEqual([]);
            await expect(fdwProvider.create(i)).rejects.toThrow(`ForeignDataWrapper ${i.name}: cannot create: extension: wrappers 0.4.5 is installed`);
            expect(await pg.sql("SELECT 1 FROM pg_foreign_data_wrapper WHERE fdwname = $1", [i.name])).toEqual([]);
            await pretendWrappersVersion(pg.db, "0.4.6");
            expect((await fdwProvider.check!({} as ForeignDataWrapperInputs, i)).failures).toEqual([]);
        } finally {
            await pretendWrappersVersion(pg.db, FIXTURE_WRAPPERS_VERSION);
        }
        // Not installed: the version CREATE EXTENSION would install decides; none at all is a failure.
        const absent = await fdwProvider.check!({} as ForeignDataWrapperInputs, fdwInputs({ extension: { name: "no_such_extension", minVersion: "1.0" } }));
        expect(absent.failures?.[0]?.reason).toMatch(
            /^extension: no_such_extension is neither installed nor available on this server; the foreign data wrapper fdw_\w+ needs no_such_extension 1.0 or later$/,
        );
        const older = await fdwProvider.check!({} as ForeignDataWrapperInputs, fdwInputs({ extension: { name: "pgcrypto", minVersion: "99.0" } }));
        expect(older.failures?.[0]?.reason).toMatch(
            /^extension: pgcrypto \d+\.\d+ is installed; the foreign data wrapper fdw_\w+ needs pgcrypto 99.0 or later: update it first/,
        );
        const bad = await fdwProvider.check!({} as ForeignDataWrapperInputs, fdwInputs({ extension: { name: "Bad Name", minVersion: "x" } }));
        expect(bad.failures?.map((f) => f.reason)).toEqual([
            "extension.name: must be an extension name",
            "extension.minVersion: must be a version such as 0.4.6",
        ]);
    });

    it("delete is RESTRICT: it fails naming the servers that still use it, then succeeds once they are gone", async () => {
        const { fdw, server } = await chain();
        await expect(fdwProvider.delete!(fdw.name, fdw)).rejects.toThrow(
            new RegExp(
                `ForeignDataWrapper ${fdw.name}: cannot drop it while foreign servers still use it \\(server ${server} depends on foreign-data wrapper ${fdw.name}\\)`,
            ),
        );
        await pg.sql(`DROP SERVER ${ident(server)}`);
        await fdwProvider.delete!(fdw.name, fdw);
        expect(await pg.sql("SELECT 1 FROM pg_foreign_data_wrapper WHERE fdwname = $1", [fdw.name])).toEqual([]);
        expect(await fdwProvider.read!(fdw.name, fdw)).toEqual({});
    });
});

describe("the Auth0 chain: wrapper -> server (api_key_id = a Vault secret id) -> foreign table in schema auth0", () => {
    it("builds for real with the Wrappers names, the server options and the users columns", async () => {
        const fdw = fdwInputs({ name: foreignDataNames("auth0").wrapper });
        await createWrapper(fdw);
        const secret = await vaultSecretProvider.create({ connection: pg.connection, name: `auth0_mgmt_${suffix()}`, secret: `token-${suffix()}` });
        const options = foreignServerOptions(DOMAIN, secret.id);
        expect(options).toEqual({ url: auth0UsersUrl(DOMAIN), api_key_id: secret.id });
        await pg.asAdmin(foreignServerSql("auth0_server", foreignDataNames("auth0").wrapper, options));
        const [srv] = await pg.sql(
            "SELECT w.fdwname, s.srvoptions FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE s.srvname = 'auth0_server'",
        );
        expect(srv).toEqual({ fdwname: "auth0_wrapper", srvoptions: ["api_key_id=" + secret.id, "url=https://tenant.eu.auth0.com/api/v2/users"] });

        await pg.asAdmin("CREATE SCHEMA auth0");
        const table: ForeignTableInputs = {
            connection: pg.connection,
            schema: "auth0",
            name: "users",
            server: "auth0_server",
            columns: AUTH0_USER_COLUMNS.map((c) => ({ ...c })),
            options: { object: "users" },
        };
        expect((await tableProvider.check!({} as ForeignTableInputs, table)).failures).toEqual([]);
        const res = await tableProvider.create(table);
        expect(res.id).toBe("auth0.users");
        const info = await tableInfo("auth0", "users");
        expect(info.server).toBe("auth0_server");
        expect(info.options).toEqual(["object=users"]);
        expect(info.columns).toEqual(AUTH0_USER_COLUMNS.map((c) => ({ name: c.name, type: FOREIGN_COLUMN_TYPES[c.type] })));
        expect(info.columns).toContainEqual({ name: "logins_count", type: "integer" });
        expect(info.columns).toContainEqual({ name: "identities", type: "jsonb" });
        // What read reports matches the inputs: a refresh shows no drift.
        const read = await tableProvider.read!(res.id, res.outs!);
        expect(await tableProvider.diff!(res.id, read.props!, table)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("the validator rejects a server without url, one with both api_key and api_key_id, and a table without object", async () => {
        const { fdw, server, secretId } = await chain();
        await expect(pg.asAdmin(foreignServerSql(`nourl_${suffix()}`, fdw.name, { api_key_id: secretId }))).rejects.toThrow(
            /required option "url" is not specified/,
        );
        await expect(
            pg.asAdmin(foreignServerSql(`both_${suffix()}`, fdw.name, { url: auth0UsersUrl(DOMAIN), api_key: "k", api_key_id: secretId })),
        ).rejects.toThrow(/exactly one of the options "api_key" and "api_key_id"/);
        const table: ForeignTableInputs = {
            connection: pg.connection,
            schema: "public",
            name: `noobj_${suffix()}`,
            server,
            columns: [{ name: "email", type: "text" }],
            options: {},
        };
        await expect(tableProvider.create(table)).rejects.toThrow(
            new RegExp(`ForeignTable public.${table.name}: cannot create: required option "object" is not specified`),
        );
    });
});

describe("ForeignTable provider", () => {
    async function tableSetup() {
        const { server } = await chain();
        const table: ForeignTableInputs = {
            connection: pg.connection,
            schema: "public",
            name: `users_${suffix()}`,
            server,
            columns: [
                { name: "user_id", type: "text" },
                { name: "email_verified", type: "bool" },
                { name: "logins_count", type: "int" },
            ],
            options: { object: "users" },
        };
        const res = await tableProvider.create(table);
        return { table, server, id: res.id, outs: res.outs! as ForeignTableOutputs };
    }

    it("readerFunction: created with the table (SECURITY DEFINER, search_path pinned, PUBLIC revoked), re-created by an update, dropped with the table", async () => {
        const { table, id, outs } = await tableSetup();
        const withReader: ForeignTableInputs = { ...table, readerFunction: `list_${table.name}` };
        expect(await tableProvider.diff!(id, outs, withReader)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        await tableProvider.update!(id, outs, withReader);
        const fn = async (name: string) =>
            pg.sql(
                `SELECT pg_get_userbyid(p.proowner) AS owner, p.prosecdef AS definer, p.proconfig AS config, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
                        pg_get_function_result(p.oid) AS result
                   FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proname = $1`,
                [name],
            );
        expect(await fn(withReader.readerFunction!)).toEqual([
            { owner: pg.connection.user, definer: true, config: ['search_path=""'], public_execute: false, result: `SETOF ${table.name}` },
        ]);
        expect((await tableProvider.read!(id, withReader)).props?.readerFunction).toBe(withReader.readerFunction);

        // Column changes with the function in place; a function dropped outside is drift, and the update brings it back.
        const wider = { ...withReader, columns: [...withReader.columns, { name: "email", type: "text" }] };
        await tableProvider.update!(id, withReader, wider);
        await pg.sql(`DROP FUNCTION public.${ident(withReader.readerFunction!)}()`);
        const drifted = (await tableProvider.read!(id, wider)).props!;
        expect(drifted.readerFunction).toBeUndefined();
        expect(await tableProvider.diff!(id, drifted, wider)).toMatchObject({ changes: true, replaces: [] });
        await tableProvider.update!(id, drifted, wider);
        expect(await fn(withReader.readerFunction!)).toHaveLength(1);

        // Renamed: the old one goes; a create makes both in one transaction; delete drops both.
        const renamed = { ...wider, readerFunction: `read_${table.name}` };
        await tableProvider.update!(id, wider, renamed);
        expect(await fn(withReader.readerFunction!)).toEqual([]);
        expect(await fn(renamed.readerFunction)).toHaveLength(1);
        await tableProvider.delete!(id, renamed);
        expect(await fn(renamed.readerFunction)).toEqual([]);
        expect(await pg.sql("SELECT to_regclass($1) AS t", [`public.${table.name}`])).toEqual([{ t: null }]);
        const created = await tableProvider.create(renamed);
        expect(await fn(renamed.readerFunction)).toHaveLength(1);
        expect((await tableProvider.check!({} as ForeignTableInputs, { ...renamed, readerFunction: "Bad Name" })).failures?.map(failedProperty)).toEqual([
            "readerFunction",
        ]);
        await tableProvider.delete!(created.id, renamed);
    });

    it("quotes option values: a quote and a backslash arrive intact", async () => {
        const { table, id, outs } = await tableSetup();
        const tricky = `it's a \\ test'); DROP TABLE x; --`;
        const next = { ...table, options: { object: "users", note: tricky } };
        await tableProvider.update!(id, outs, next);
        expect((await tableInfo("public", table.name)).options).toEqual(["object=users", `note=${tricky}`]);
        expect((await tableProvider.read!(id, outs)).props?.options).toEqual({ object: "users", note: tricky });

        const created = await tableProvider.create({ ...table, name: `${table.name}_2`, options: { object: "users", note: tricky } });
        expect((await tableProvider.read!(created.id, created.outs!)).props?.options).toEqual({ object: "users", note: tricky });
    });

    it("column and option changes are one ALTER in place (grants survive); the diff says update, not replace", async () => {
        const { table, id, outs } = await tableSetup();
        const role = `reader_${suffix()}`;
        await pg.sql(`CREATE ROLE ${ident(role)} NOLOGIN`);
        try {
            await pg.sql(`GRANT SELECT ON ${ident("public")}.${ident(table.name)} TO ${ident(role)}`);
            const next: ForeignTableInputs = {
                ...table,
                columns: [
                    { name: "user_id", type: "text" },
                    { name: "logins_count", type: "bigint" },
                    { name: "identities", type: "jsonb" },
                ],
                options: { object: "users", limit: "100" },
            };
            expect(await tableProvider.diff!(id, outs, next)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
            await tableProvider.update!(id, outs, next);

            const info = await tableInfo("public", table.name);
            expect(info.columns).toEqual([
                { name: "user_id", type: "text" },
                { name: "logins_count", type: "bigint" },
                { name: "identities", type: "jsonb" },
            ]);
            expect(info.options).toEqual(["object=users", "limit=100"]);
            const [grant] = await pg.sql("SELECT has_table_privilege($1, $2, 'SELECT') AS ok", [role, `public.${table.name}`]);
            expect(grant).toEqual({ ok: true });

            // And back: an option dropped.
            const back = { ...next, options: { object: "users" } };
            await tableProvider.update!(id, { ...outs, ...next }, back);
            expect((await tableInfo("public", table.name)).options).toEqual(["object=users"]);
        } finally {
            await pg.sql(`DROP OWNED BY ${ident(role)}`);
            await pg.sql(`DROP ROLE ${ident(role)}`);
        }
    });

    it("diff: same columns in another order or spelling is no change; a new server replaces (delete first), a new name replaces", async () => {
        const { table, id, outs } = await tableSetup();
        const respelled = {
            ...table,
            columns: [...table.columns].reverse().map((c) => ({ ...c, type: c.type === "bool" ? "boolean" : c.type === "int" ? "integer" : c.type })),
        };
        expect(await tableProvider.diff!(id, outs, respelled)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await tableProvider.diff!(id, outs, { ...table, server: "other_server" })).toEqual({
            changes: true,
            replaces: ["server"],
            deleteBeforeReplace: true,
        });
        expect(await tableProvider.diff!(id, outs, { ...table, name: "renamed" })).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: false });
        expect(await tableProvider.diff!(id, outs, { ...table, columns: UNKNOWN as unknown as ForeignTableInputs["columns"] })).toMatchObject({
            changes: true,
            replaces: [],
        });
    });

    it("another host or port that reaches the same database is no replace, for the table and the wrapper; another database is", async () => {
        const { table, id, outs } = await tableSetup();
        const fdw = fdwInputs();
        await fdwProvider.create(fdw);
        const pooler = await startForwarder({ host: pg.connection.host, port: pg.connection.port });
        try {
            const viaPooler = { ...table, connection: { ...pg.connection, port: pooler.port } };
            expect(await tableProvider.diff!(id, outs, viaPooler)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
            await tableProvider.update!(id, outs, viaPooler);
            expect((await tableInfo("public", table.name)).server).toBe(table.server);
            expect(await fdwProvider.diff!(fdw.name, fdw, { ...fdw, connection: { ...fdw.connection, port: pooler.port } })).toEqual({
                changes: true,
                replaces: [],
                deleteBeforeReplace: false,
            });
        } finally {
            await pooler.close();
        }
        expect(await tableProvider.diff!(id, outs, { ...table, connection: { ...pg.connection, database: "postgres" } })).toMatchObject({
            replaces: ["connection"],
        });
        expect(await fdwProvider.diff!(fdw.name, fdw, { ...fdw, connection: { ...fdw.connection, database: "postgres" } })).toMatchObject({
            replaces: ["connection"],
        });
    });

    it("a replace for a new server, done the way the engine does it (delete first, then create), works", async () => {
        const { table, id, outs } = await tableSetup();
        const { server: other } = await chain();
        const next = { ...table, server: other };
        expect((await tableProvider.diff!(id, outs, next)).deleteBeforeReplace).toBe(true);
        await tableProvider.delete!(id, outs);
        await tableProvider.create(next);
        expect((await tableInfo("public", table.name)).server).toBe(other);
    });

    it("read reports a column changed outside Pulumi, and the update puts it back", async () => {
        const { table, id, outs } = await tableSetup();
        await pg.sql(`ALTER FOREIGN TABLE public.${ident(table.name)} ALTER COLUMN logins_count TYPE varchar(10)`);
        const read = (await tableProvider.read!(id, outs)).props!;
        expect(read.columns).toContainEqual({ name: "logins_count", type: "character varying(10)" });
        expect(await tableProvider.diff!(id, read, table)).toMatchObject({ changes: true, replaces: [] });
        await tableProvider.update!(id, read, table);
        expect((await tableInfo("public", table.name)).columns).toContainEqual({ name: "logins_count", type: "integer" });
    });

    it("check refuses types outside the allow-list, bad names and duplicate columns", async () => {
        const { table } = await tableSetup();
        const res = await tableProvider.check!({} as ForeignTableInputs, {
            ...table,
            schema: "Public",
            columns: [
                { name: "ok", type: "text" },
                { name: "ok", type: "bool" },
                { name: "evil", type: "text); DROP TABLE x; --" },
                { name: "Bad Name", type: "varchar(10)" },
            ],
            options: { "bad key": "v" },
        });
        const reasons = res.failures!.map((f) => f.reason);
        expect(res.failures!.map(failedProperty)).toEqual(["schema", "columns", "columns", "columns", "columns", "options"]);
        expect(reasons[1]).toMatch(/columns\[1\].name: duplicate column "ok"/);
        expect(reasons[2]).toMatch(/columns\[2\].type: must be one of text, bool, boolean, int, integer, bigint, jsonb, timestamp/);
        expect(reasons[3]).toMatch(/columns\[3\].name: must be a lower-case Postgres identifier/);
        // create refuses them too, before touching the database.
        await expect(tableProvider.create({ ...table, name: "x", columns: [{ name: "a", type: "text); DROP TABLE x; --" }] })).rejects.toThrow(
            /invalid inputs/,
        );
    });

    it("delete drops the table (RESTRICT: a dependent view makes it fail clearly)", async () => {
        const { table, id, outs } = await tableSetup();
        const view = `v_${suffix()}`;
        await pg.sql(`CREATE VIEW public.${ident(view)} AS SELECT user_id FROM public.${ident(table.name)}`);
        await expect(tableProvider.delete!(id, outs)).rejects.toThrow(
            new RegExp(`ForeignTable ${id}: cannot drop it while other objects depend on it \\(view ${view} depends on`),
        );
        await pg.sql(`DROP VIEW public.${ident(view)}`);
        await tableProvider.delete!(id, outs);
        expect(await pg.sql("SELECT to_regclass($1) AS t", [`public.${table.name}`])).toEqual([{ t: null }]);
        expect(await tableProvider.read!(id, outs)).toEqual({});
        // Deleting what is already gone succeeds.
        await tableProvider.delete!(id, outs);
    });
});

describe("foreignServerSql", () => {
    it("is the statement postgresql.Server runs: quoted name and wrapper, options as quoted identifiers and literals", () => {
        expect(foreignServerSql("auth0_server", "auth0_wrapper", { url: "https://t.auth0.com/api/v2/users", api_key_id: "0b0e" })).toBe(
            `CREATE SERVER "auth0_server" FOREIGN DATA WRAPPER "auth0_wrapper" OPTIONS ("api_key_id" '0b0e', "url" 'https://t.auth0.com/api/v2/users')`,
        );
        expect(foreignServerSql("s", "w", { a: "it's" })).toBe(`CREATE SERVER "s" FOREIGN DATA WRAPPER "w" OPTIONS ("a" 'it''s')`);
        expect(foreignServerSql("s", "w", {})).toBe(`CREATE SERVER "s" FOREIGN DATA WRAPPER "w"`);
    });
});
