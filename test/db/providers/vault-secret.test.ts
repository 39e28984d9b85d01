import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VaultSecretInputs, VaultSecretOutputs, vaultSecretProvider as provider } from "../../../infra/postgres/dynamic";
import { providerDatabase, ProviderDatabase, UNKNOWN } from "./support";
import { failedProperty } from "../../support/check-failures";

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
        expect(raw!.secret).not.toContain(i.secret);
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
        await created(i);
        // The fixture, like Vault, has a unique index on the name.
        const dup = { ...i, secret: secretValue() };
        const err = await provider.create(dup).then(() => undefined, (e: Error) => e);
        expect(err?.message).toMatch(new RegExp(`VaultSecret ${i.name}: cannot create: .*duplicate key value violates unique constraint`));
        expect(err?.message).not.toContain(dup.secret);
        expect(err?.message.includes(pg.connection.password), "the error holds the password").toBe(false);

        const res = await provider.check!({} as VaultSecretInputs, { ...i, name: "", secret: "" });
        expect(res.failures?.map(failedProperty).sort()).toEqual(["name", "secret"]);
        expect(res.inputs?.description).toBe("for a test");
        expect((await provider.check!({} as VaultSecretInputs, { ...i, description: undefined })).inputs?.description).toBe("");
    });
});
