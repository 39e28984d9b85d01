import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { migrationsProvider as provider, MigrationsInputs, MigrationsOutputs } from "../../../infra/dynamic";
import { checksum, Migration } from "../../../infra/postgres/migrations";
import { ident } from "../../../infra/postgres/privileges";
import { providerDatabase, ProviderDatabase, UNKNOWN, unreachable } from "./support";
import { expectAbsent } from "../../support/leaks";
import { failedProperty } from "../../support/check-failures";

let pg: ProviderDatabase;
beforeAll(async () => {
    pg = await providerDatabase(inject("databaseUrl"), "prov_migrations", { fixture: false });
});
afterAll(async () => pg?.db.drop());

function migration(id: string, up: string, down: string): Migration {
    return { id, up, down, checksum: checksum(up) };
}

/** Three migrations in `schema`, and a fresh schema for each test. */
async function setup(label: string) {
    const schema = `m_${label}_${randomBytes(3).toString("hex")}`;
    await pg.sql(`CREATE SCHEMA ${ident(schema)}`);
    const s = ident(schema);
    const m1 = migration("001_items", `CREATE TABLE ${s}.items (id int PRIMARY KEY, label text NOT NULL)`, `DROP TABLE ${s}.items`);
    const m2 = migration("002_tags", `CREATE TABLE ${s}.tags (name text PRIMARY KEY)`, `DROP TABLE ${s}.tags`);
    const m3 = migration("003_notes", `CREATE TABLE ${s}.notes (body text)`, `DROP TABLE ${s}.notes`);
    const inputs = (migrations: Migration[], extra: Partial<MigrationsInputs> = {}): MigrationsInputs => ({
        connection: pg.connection,
        schema,
        migrations,
        ...extra,
    });
    const tables = async () =>
        (await pg.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", [schema])).map((r) => r.table_name);
    const ledger = async () =>
        (await pg.sql(`SELECT id, checksum, applied_at FROM ${s}.schema_migrations ORDER BY id`)) as { id: string; checksum: string; applied_at: Date }[];
    return { schema, s, m1, m2, m3, inputs, tables, ledger };
}

async function created(inputs: MigrationsInputs): Promise<{ id: string; outs: MigrationsOutputs }> {
    const res = await provider.create(inputs);
    return { id: res.id, outs: res.outs! };
}

describe("Migrations provider: apply", () => {
    it("create applies the migrations in order and records them; outputs the applied ids", async () => {
        const t = await setup("create");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        expect(id).toBe(t.schema);
        expect(outs.applied).toEqual(["001_items", "002_tags"]);
        expect(outs.allowDataLoss).toBe(false);
        expect(await t.tables()).toEqual(["items", "schema_migrations", "tags"]);
        expect((await t.ledger()).map((r) => [r.id, r.checksum])).toEqual([
            ["001_items", t.m1.checksum],
            ["002_tags", t.m2.checksum],
        ]);
    });

    it("re-applying the same migrations is a no-op: diff says no change, update runs nothing and keeps the data", async () => {
        const t = await setup("noop");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        await pg.sql(`INSERT INTO ${t.s}.items VALUES (1, 'kept')`);
        const before = await t.ledger();

        expect(await provider.diff!(id, outs, t.inputs([t.m1, t.m2]))).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        const updated = await provider.update!(id, outs, t.inputs([t.m1, t.m2]));
        expect(updated.outs?.applied).toEqual(["001_items", "002_tags"]);
        expect(await t.ledger()).toEqual(before);
        expect(await pg.sql(`SELECT label FROM ${t.s}.items`)).toEqual([{ label: "kept" }]);
    });

    it("an added migration is an update (never a replace) that applies only the new one", async () => {
        const t = await setup("add");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        const [first] = await t.ledger();

        const diff = await provider.diff!(id, outs, t.inputs([t.m1, t.m2, t.m3]));
        expect(diff).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const updated = await provider.update!(id, outs, t.inputs([t.m1, t.m2, t.m3]));
        expect(updated.outs?.applied).toEqual(["001_items", "002_tags", "003_notes"]);
        expect(await t.tables()).toContain("notes");
        expect((await t.ledger())[0]).toEqual(first);
    });

    it("a changed connection or allowDataLoss is a state-only update, not a replace", async () => {
        const t = await setup("state");
        const { id, outs } = await created(t.inputs([t.m1]));
        expect(await provider.diff!(id, outs, t.inputs([t.m1], { allowDataLoss: true }))).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        // A rotated password: the state must hold the new one (delete needs it), nothing else changes.
        expect(await provider.diff!(id, outs, t.inputs([t.m1], { connection: { ...pg.connection, password: "rotated-elsewhere" } }))).toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        expect(await provider.diff!(id, outs, t.inputs([t.m1], { connection: { ...pg.connection } }))).toMatchObject({ changes: false });
    });
});

describe("Migrations provider: changed or removed applied migrations are refused", () => {
    it("a changed applied migration fails check, diff and update, and nothing is applied", async () => {
        const t = await setup("changed");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        const edited = migration("002_tags", `CREATE TABLE ${t.s}.tags (name text PRIMARY KEY, color text)`, `DROP TABLE ${t.s}.tags`);
        const news = t.inputs([t.m1, edited, t.m3]);

        const check = await provider.check!(t.inputs([t.m1, t.m2]), news);
        expect(check.failures?.map(failedProperty)).toEqual(["migrations"]);
        expect(check.failures?.[0]?.reason).toMatch(/002_tags changed since they ran/);
        await expect(provider.diff!(id, outs, news)).rejects.toThrow(/applied migration\(s\) 002_tags changed since they ran/);
        await expect(provider.update!(id, outs, news)).rejects.toThrow(/002_tags changed since they ran/);

        expect((await t.ledger()).map((r) => r.id)).toEqual(["001_items", "002_tags"]);
        expect(await t.tables()).not.toContain("notes");
    });

    it("the database's ledger is checked too: a migration applied with other text fails the diff even when the state never saw it", async () => {
        const t = await setup("ledger");
        // Another run applied 001 and 002; this stack's state only knows 001.
        await created(t.inputs([t.m1, t.m2]));
        const stateKnowsOnlyFirst: MigrationsOutputs = { ...t.inputs([t.m1]), allowDataLoss: false, applied: ["001_items"] };
        const edited = migration("002_tags", `CREATE TABLE ${t.s}.tags (name text PRIMARY KEY, color text)`, "");

        await expect(provider.diff!(t.schema, stateKnowsOnlyFirst, t.inputs([t.m1, edited]))).rejects.toThrow(
            /the database refuses this program's migrations: MigrationError: applied migration\(s\) 002_tags changed since they ran/,
        );
        // create goes through the same runner check and applies nothing.
        await expect(provider.create(t.inputs([t.m1, edited, t.m3]))).rejects.toThrow(/002_tags changed since they ran/);
        expect(await t.tables()).not.toContain("notes");
    });

    it("removing an applied migration from the program fails check and diff", async () => {
        const t = await setup("removed");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        const check = await provider.check!(t.inputs([t.m1, t.m2]), t.inputs([t.m1]));
        expect(check.failures?.map((f) => f.reason)).toEqual([expect.stringMatching(/002_tags are no longer in the program/)]);
        await expect(provider.diff!(id, outs, t.inputs([t.m1]))).rejects.toThrow(/002_tags are no longer in the program/);
    });

    it("without the database (unreachable) the diff still compares against the state", async () => {
        const t = await setup("offline");
        const { id, outs } = await created(t.inputs([t.m1]));
        const offline = await unreachable(pg.connection);
        const offlineOuts = { ...outs, connection: offline };
        expect(await provider.diff!(id, offlineOuts, { ...t.inputs([t.m1, t.m2]), connection: offline })).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!(id, offlineOuts, { ...t.inputs([t.m1]), connection: offline })).toMatchObject({ changes: false });
        const edited = migration("001_items", `${t.m1.up} -- edited`, t.m1.down);
        await expect(provider.diff!(id, offlineOuts, { ...t.inputs([edited]), connection: offline })).rejects.toThrow(/001_items changed since they ran/);
    });

    it("an unknown input during a preview is a change, without touching the database", async () => {
        const t = await setup("unknown");
        const { id, outs } = await created(t.inputs([t.m1]));
        const news = { ...t.inputs([t.m1]), connection: UNKNOWN as unknown as MigrationsInputs["connection"] };
        expect(await provider.diff!(id, outs, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    });
});

describe("Migrations provider: check", () => {
    it("accepts good inputs and defaults allowDataLoss to false", async () => {
        const t = await setup("checkok");
        const res = await provider.check!({} as MigrationsInputs, t.inputs([t.m1, t.m2]));
        expect(res.failures).toEqual([]);
        expect(res.inputs?.allowDataLoss).toBe(false);
    });

    it("names each bad field, never the password", async () => {
        const t = await setup("checkbad");
        const tampered = { ...t.m2, checksum: t.m1.checksum };
        const res = await provider.check!({} as MigrationsInputs, {
            connection: { ...pg.connection, port: 0 },
            schema: "Bad-Schema",
            migrations: [tampered, t.m1],
        });
        const reasons = res.failures!.map((f) => f.reason).join("\n");
        expect(res.failures!.map(failedProperty).sort()).toEqual(["connection", "migrations", "migrations", "schema"]);
        expect(reasons).toMatch(/schema: must be a lower-case Postgres identifier/);
        expect(reasons).toMatch(/migrations\[0\]\.checksum: does not match/);
        expect(reasons).toMatch(/migrations: must be in id order/);
        expectAbsent(reasons, pg.connection.password, "the database password");
    });

    it("refuses a schema change (the tables would be left behind)", async () => {
        const t = await setup("schema");
        const res = await provider.check!(t.inputs([t.m1]), { ...t.inputs([t.m1]), schema: "elsewhere" });
        expect(res.failures?.map(failedProperty)).toEqual(["schema"]);
        expect(res.failures?.[0]?.reason).toMatch(/cannot change from "m_schema_\w+" to "elsewhere"/);
    });
});

describe("Migrations provider: read and delete", () => {
    it("read reports what the ledger holds, so a refresh shows a migration that vanished", async () => {
        const t = await setup("read");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        expect((await provider.read!(id, outs)).props?.applied).toEqual(["001_items", "002_tags"]);

        await pg.sql(`DROP TABLE ${t.s}.tags`);
        await pg.sql(`DELETE FROM ${t.s}.schema_migrations WHERE id = '002_tags'`);
        const refreshed = (await provider.read!(id, outs)).props!;
        expect(refreshed.applied).toEqual(["001_items"]);
        expect(await provider.diff!(id, refreshed, t.inputs([t.m1, t.m2]))).toMatchObject({ changes: true, replaces: [] });
        expect((await provider.update!(id, refreshed, t.inputs([t.m1, t.m2]))).outs?.applied).toEqual(["001_items", "002_tags"]);
        expect(await t.tables()).toContain("tags");
    });

    it("delete without allowDataLoss keeps tables, data and ledger, and says so", async () => {
        const t = await setup("keep");
        const { id, outs } = await created(t.inputs([t.m1, t.m2]));
        await pg.sql(`INSERT INTO ${t.s}.items VALUES (7, 'precious')`);
        const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
        try {
            await provider.delete!(id, outs);
            expect(warn).toHaveBeenCalledWith(expect.stringMatching(/NOT reverted: tables, data .* stay in the database \(allowDataLoss is false\)/));
        } finally {
            warn.mockRestore();
        }
        expect(await t.tables()).toEqual(["items", "schema_migrations", "tags"]);
        expect(await pg.sql(`SELECT label FROM ${t.s}.items`)).toEqual([{ label: "precious" }]);
    });

    it("delete with allowDataLoss reverts every applied migration (down parts, reverse order)", async () => {
        const t = await setup("revert");
        const { id, outs } = await created(t.inputs([t.m1, t.m2], { allowDataLoss: true }));
        const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
        try {
            await provider.delete!(id, outs);
            expect(warn).toHaveBeenCalledWith(expect.stringMatching(/reverted 002_tags, 001_items/));
        } finally {
            warn.mockRestore();
        }
        // Nothing of the migrations is left, not even the ledger: the postgresql provider's schema
        // delete (DROP SCHEMA ... RESTRICT, dropCascade false) then succeeds, as `pulumi destroy` needs.
        expect(await t.tables()).toEqual([]);
        await pg.sql(`DROP SCHEMA ${t.s} RESTRICT`);
        expect(await pg.sql("SELECT 1 FROM pg_namespace WHERE nspname = $1", [t.schema])).toEqual([]);
    });
});
