/**
 * The VaultSecret provider against the Supabase stand-in, connected as Supabase's `postgres` (a
 * non-superuser with exactly Supabase's Vault grants).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VaultSecretInputs, VaultSecretOutputs, vaultSecretProvider as provider } from "../../../infra/dynamic";
import { providerDatabase, ProviderDatabase, UNKNOWN, unreachable } from "./support";
import { failedProperty } from "../../support/check-failures";
import { expectAbsent } from "../../support/leaks";
import { occurrencesOnDisk, walPosition } from "../../support/supabase";
import { startForwarder } from "../../support/tcp-forwarder";

let pg: ProviderDatabase;
beforeAll(async () => {
    pg = await providerDatabase(inject("databaseUrl"), "prov_vault");
});
afterAll(async () => pg?.db.drop());

const secretValue = () => `s3cr3t-${randomBytes(12).toString("base64url")}`;

function inputs(extra: Partial<VaultSecretInputs> = {}): VaultSecretInputs {
    return { connection: pg.connection, name: `test_${randomBytes(4).toString("hex")}`, description: "for a test", secret: secretValue(), ...extra };
}

async function decrypted(id: string) {
    return (await pg.sql("SELECT name, description, decrypted_secret FROM vault.decrypted_secrets WHERE id = $1", [id]))[0];
}

async function created(i: VaultSecretInputs): Promise<{ id: string; outs: VaultSecretOutputs }> {
    const res = await provider.create(i);
    return { id: res.id, outs: res.outs! };
}

describe("VaultSecret provider", () => {
    it("create stores the secret with vault.create_secret; the id is its uuid", async () => {
        const i = inputs();
        const { id, outs } = await created(i);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(outs.secretId).toBe(id);
        expect(await decrypted(id)).toEqual({ name: i.name, description: "for a test", decrypted_secret: i.secret });
        // Stored encrypted, not as given.
        const [raw] = await pg.sql("SELECT secret FROM vault.secrets WHERE id = $1", [id]);
        expectAbsent(raw!.secret as string, i.secret, "the stored secret column");
        expect(outs.database).toMatch(/^\d+\/\d+$/);
    });

    it("never writes the value in clear: 0 times in the table's heap (after VACUUM) and in the WAL, on create and on update", async () => {
        const since = await walPosition(pg.db.url);
        const i = inputs();
        const { id, outs } = await created(i);
        const next = secretValue();
        await provider.update!(id, outs, { ...i, secret: next });
        await pg.sql("VACUUM vault.secrets");
        expect(await occurrencesOnDisk(pg.db.url, "vault.secrets", i.secret, since)).toEqual({ heap: 0, wal: 0 });
        expect(await occurrencesOnDisk(pg.db.url, "vault.secrets", next, since)).toEqual({ heap: 0, wal: 0 });
        // The search can find a value: vault.create_secret alone leaves it in both.
        const direct = secretValue();
        await pg.asAdmin("SELECT vault.create_secret($1, $2)", [direct, `direct_${randomBytes(4).toString("hex")}`]);
        const found = await occurrencesOnDisk(pg.db.url, "vault.secrets", direct, since);
        expect(found.heap).toBeGreaterThan(0);
        expect(found.wal).toBeGreaterThan(0);
    });

    it("a new value, name or description is an update in place: the id stays the same", async () => {
        const i = inputs();
        const { id, outs } = await created(i);
        const next = { ...i, secret: secretValue(), name: `${i.name}_renamed`, description: "renewed" };

        expect(await provider.diff!(id, outs, next)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const updated = await provider.update!(id, outs, next);
        expect(updated.outs?.secretId).toBe(id);
        expect(await decrypted(id)).toEqual({ name: next.name, description: "renewed", decrypted_secret: next.secret });
        expect(await pg.sql("SELECT count(*)::int AS n FROM vault.secrets WHERE name LIKE $1", [`${i.name}%`])).toEqual([{ n: 1 }]);
    });

    it("diff: no change for the same inputs; a change for each field, an unknown value or rotated credentials; a replace only for another database", async () => {
        const i = inputs();
        const { id, outs } = await created(i);
        expect(await provider.diff!(id, outs, i)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
        expect(await provider.diff!(id, outs, { ...i, description: undefined })).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!(id, outs, { ...i, secret: UNKNOWN })).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!(id, outs, { ...i, connection: { ...pg.connection, password: "rotated" } })).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!(id, outs, { ...i, connection: { ...pg.connection, database: "another_db" } })).toEqual({
            changes: true,
            replaces: ["connection"],
            deleteBeforeReplace: false,
        });
    });

    it("another host or port that reaches the same database (the pooler for the direct host) is an update in place, not a replace", async () => {
        const i = inputs();
        const { id, outs } = await created(i);
        const pooler = await startForwarder({ host: pg.connection.host, port: pg.connection.port });
        try {
            const viaPooler = { ...i, connection: { ...pg.connection, port: pooler.port } };
            expect(await provider.diff!(id, outs, viaPooler)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
            // Also for a state written before the identity was recorded: the old address is read too.
            const { database: _recorded, ...older } = outs;
            expect(await provider.diff!(id, older, viaPooler)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
            const next = { ...viaPooler, secret: secretValue() };
            const updated = await provider.update!(id, outs, next);
            expect(updated.outs).toMatchObject({ secretId: id, database: outs.database });
            expect((await decrypted(id))?.decrypted_secret).toBe(next.secret);
            expect(await pg.sql("SELECT count(*)::int AS n FROM vault.secrets WHERE name = $1", [i.name])).toEqual([{ n: 1 }]);
        } finally {
            await pooler.close();
        }
        // Another database of the same server is another database, though host and port are the same.
        expect(await provider.diff!(id, outs, { ...i, connection: { ...pg.connection, database: "postgres" } })).toMatchObject({ replaces: ["connection"] });
        // Out of reach (a preview without access): the database name decides.
        const away = await unreachable(pg.connection);
        expect(await provider.diff!(id, outs, { ...i, connection: away })).toMatchObject({ replaces: [] });
        expect(await provider.diff!(id, outs, { ...i, connection: { ...away, database: "elsewhere" } })).toMatchObject({ replaces: ["connection"] });
    });

    it("create adopts a secret that already has the name (interrupted create, lost state): same id, the new value", async () => {
        const i = inputs();
        // An earlier create that committed, and whose id never reached the state.
        const [lost] = await pg.asAdmin("SELECT vault.create_secret($1, $2, $3) AS id", [secretValue(), i.name, "left behind"]);
        const { id, outs } = await created(i);
        expect(id).toBe(lost!.id);
        expect(outs.secretId).toBe(lost!.id);
        expect(await decrypted(id)).toEqual({ name: i.name, description: "for a test", decrypted_secret: i.secret });
        expect(await pg.sql("SELECT count(*)::int AS n FROM vault.secrets WHERE name = $1", [i.name])).toEqual([{ n: 1 }]);
        // A stack created again: the same inputs, a state that knows nothing, the same secret.
        const again = await created({ ...i, secret: secretValue() });
        expect(again.id).toBe(id);
    });

    it("read decrypts the stored value: a value changed outside Pulumi shows as drift", async () => {
        const i = inputs();
        const { id, outs } = await created(i);
        const same = await provider.read!(id, outs);
        expect(same.id).toBe(id);
        expect(same.props?.secret).toBe(i.secret);
        expect(await provider.diff!(id, same.props!, i)).toMatchObject({ changes: false });

        const tampered = secretValue();
        await pg.sql("SELECT vault.update_secret($1, $2)", [id, tampered]);
        const drifted = await provider.read!(id, outs);
        expect(drifted.props?.secret).toBe(tampered);
        expect(await provider.diff!(id, drifted.props!, i)).toMatchObject({ changes: true, replaces: [] });
        await provider.update!(id, drifted.props!, i);
        expect((await decrypted(id))?.decrypted_secret).toBe(i.secret);
    });

    it("delete removes the row; read then reports it gone and update asks for a refresh", async () => {
        const i = inputs();
        const { id, outs } = await created(i);
        await provider.delete!(id, outs);
        expect(await pg.sql("SELECT id FROM vault.secrets WHERE id = $1", [id])).toEqual([]);
        expect(await provider.read!(id, outs)).toEqual({});
        await expect(provider.update!(id, outs, i)).rejects.toThrow(/no longer exists in vault.secrets; run `pulumi refresh`/);
    });

    it("errors and check failures never carry the secret value", async () => {
        const i = inputs();
        // A database without Vault: the create fails in Postgres.
        const elsewhere = { ...i, connection: { ...pg.connection, database: "postgres" } };
        const err = await provider.create(elsewhere).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.message).toMatch(new RegExp(`VaultSecret ${i.name}: cannot create: .*vault`));
        expectAbsent(err?.message, i.secret, "the secret value");
        expectAbsent(err?.message, pg.connection.password, "the database password");

        const res = await provider.check!({} as VaultSecretInputs, { ...i, name: "", secret: "" });
        expect(res.failures?.map(failedProperty).sort()).toEqual(["name", "secret"]);
        expect(res.inputs?.description).toBe("for a test");
        expect((await provider.check!({} as VaultSecretInputs, { ...i, description: undefined })).inputs?.description).toBe("");
    });

    it("check refuses a NUL character in the value, the name or the description (Postgres would refuse it later), without quoting the value", async () => {
        const i = inputs();
        const secret = `${secretValue()}\u0000tail`;
        const res = await provider.check!({} as VaultSecretInputs, { ...i, secret, name: `${i.name}\u0000`, description: "a\u0000b" });
        expect(res.failures?.map(failedProperty).sort()).toEqual(["description", "name", "secret"]);
        expect(res.failures?.find((f) => f.reason.startsWith("secret:"))?.reason).toBe(
            "secret: must not contain a NUL character (Postgres text cannot hold one)",
        );
        for (const f of res.failures ?? []) expectAbsent(f.reason, secret.slice(0, 12), "the secret value");
        // What Postgres does with it: the reason check refuses it.
        await expect(provider.create({ ...i, secret })).rejects.toThrow(/invalid inputs:\n {2}- secret: must not contain a NUL character/);
        await expect(pg.asAdmin("SELECT vault.create_secret($1, $2)", [secret, `${i.name}_nul`])).rejects.toThrow(
            /invalid byte sequence for encoding "UTF8": 0x00/,
        );
    });
});
