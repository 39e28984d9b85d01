import type { ClientBase } from "pg";
import type { Migration } from "./migrations";
import { quoteLiteral } from "../dynamic/common";
import { ident } from "./privileges";

/**
 * The migration runner. Each migration runs in its own transaction and is recorded, with the
 * checksum of its text, in `<schema>.schema_migrations`. Runs are serialized by an advisory lock.
 * An applied migration whose text changed, or an applied migration this program does not know,
 * is an error: nothing is applied then.
 */

export const LEDGER_TABLE = "schema_migrations";

export interface MigrationPlan {
    /** Migrations not applied yet, in the order they will run. */
    pending: string[];
    /** Applied migrations whose text has changed since. */
    drifted: string[];
    /** Applied migrations this program does not know (applied by a newer or another program). */
    unknown: string[];
    /** Applied migrations that match. */
    applied: string[];
    /** The stack that owns the ledger (its role prefix, from the ledger's comment), if recorded. */
    owner?: string;
}

/** The ledger's comment: which stack (by role prefix) the schema's user store belongs to. */
const OWNER_COMMENT = /^auth0-postgres migrations of the stack with role prefix (\S+)$/;
function ownerComment(owner: string): string {
    return `auth0-postgres migrations of the stack with role prefix ${owner}`;
}

export class MigrationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MigrationError";
        // Pulumi's closure serializer (dynamic providers) turns `super(message)` into
        // `Error.call(this, message)`, which sets nothing on `this`: keep the message anyway.
        this.message = message;
    }
}

function ledger(schema: string): string {
    return `${ident(schema)}.${ident(LEDGER_TABLE)}`;
}

async function readLedger(client: ClientBase, schema: string): Promise<Map<string, string>> {
    const exists = await client.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [`${ident(schema)}.${ident(LEDGER_TABLE)}`]);
    if (!exists.rows[0]?.present) return new Map();
    const rows = await client.query<{ id: string; checksum: string }>(`SELECT id, checksum FROM ${ledger(schema)} ORDER BY id`);
    return new Map(rows.rows.map((r) => [r.id, r.checksum]));
}

/** Compares the migrations with what the database has applied, without changing anything. */
export async function planMigrations(client: ClientBase, schema: string, migrations: Migration[]): Promise<MigrationPlan> {
    const done = await readLedger(client, schema);
    const known = new Set(migrations.map((m) => m.id));
    const comment = await client.query<{ c: string | null }>("SELECT obj_description(to_regclass($1), 'pg_class') AS c", [ledger(schema)]);
    const owner = OWNER_COMMENT.exec(comment.rows[0]?.c ?? "")?.[1];
    const plan: MigrationPlan = { pending: [], drifted: [], unknown: [], applied: [], ...(owner ? { owner } : {}) };
    for (const m of migrations) {
        const sum = done.get(m.id);
        if (sum === undefined) plan.pending.push(m.id);
        else if (sum !== m.checksum) plan.drifted.push(m.id);
        else plan.applied.push(m.id);
    }
    for (const id of done.keys()) if (!known.has(id)) plan.unknown.push(id);
    return plan;
}

/**
 * Throws when the plan cannot be applied safely. `schema` and `owner` (this stack's role prefix) let it
 * say plainly when the schema's user store belongs to another stack sharing the database.
 */
export function assertPlanIsSafe(plan: MigrationPlan, schema?: string, owner?: string): void {
    if (owner && plan.owner && plan.owner !== owner) {
        throw new MigrationError(
            `schema ${schema ?? ""} holds the user store of another stack (role prefix ${plan.owner}; this stack's is ${owner}): stacks that share a database need their own postgres.schema and postgres.rolePrefix`,
        );
    }
    const problems: string[] = [];
    if (plan.drifted.length > 0) {
        problems.push(`applied migration(s) ${plan.drifted.join(", ")} changed since they ran; never edit an applied migration, add a new one`);
    }
    if (plan.unknown.length > 0) {
        problems.push(`the database has migration(s) ${plan.unknown.join(", ")} applied that this program does not know; deploy the program that applied them`);
    }
    if (problems.length > 0) throw new MigrationError(problems.join("; "));
}

/** Runs `fn` holding the schema's migration lock (a session advisory lock): one runner at a time per schema. */
export async function withMigrationLock<T>(client: ClientBase, schema: string, fn: () => Promise<T>): Promise<T> {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`auth0-postgres:migrations:${schema}`]);
    try {
        return await fn();
    } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext($1))", [`auth0-postgres:migrations:${schema}`]);
    }
}

/** Creates the schema's ledger when it does not exist yet. */
export async function createLedger(client: ClientBase, schema: string): Promise<void> {
    await client.query(
        `CREATE TABLE IF NOT EXISTS ${ledger(schema)} (id text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
}

/** Records on the ledger which stack (by role prefix) the schema's user store belongs to. */
export async function recordLedgerOwner(client: ClientBase, schema: string, owner: string): Promise<void> {
    await client.query(`COMMENT ON TABLE ${ledger(schema)} IS ${quoteLiteral(ownerComment(owner))}`);
}

/** Records `m` as applied, with its checksum (inside the caller's transaction). */
export async function recordApplied(client: ClientBase, schema: string, m: Pick<Migration, "id" | "checksum">): Promise<void> {
    await client.query(`INSERT INTO ${ledger(schema)} (id, checksum) VALUES ($1, $2)`, [m.id, m.checksum]);
}

/** Applies the pending migrations, each in a transaction. Returns the ids applied. */
export async function applyMigrations(client: ClientBase, schema: string, migrations: Migration[], owner?: string): Promise<string[]> {
    const ids = migrations.map((m) => m.id);
    if (new Set(ids).size !== ids.length) throw new MigrationError(`duplicate migration ids in ${ids.join(", ")}`);
    if ([...ids].sort().join() !== ids.join()) throw new MigrationError(`migrations must be given in id order (got ${ids.join(", ")})`);
    return await withMigrationLock(client, schema, async () => {
        await createLedger(client, schema);
        const plan = await planMigrations(client, schema, migrations);
        assertPlanIsSafe(plan, schema, owner);
        // A ledger from before owners were recorded is taken over by the stack that applies to it.
        if (owner && plan.owner !== owner) await recordLedgerOwner(client, schema, owner);
        const applied: string[] = [];
        for (const m of migrations.filter((x) => plan.pending.includes(x.id))) {
            await client.query("BEGIN");
            try {
                await client.query(m.up);
                await recordApplied(client, schema, m);
                await client.query("COMMIT");
            } catch (err) {
                await client.query("ROLLBACK");
                throw new MigrationError(`migration ${m.id} failed and was rolled back: ${(err as Error).message}`);
            }
            applied.push(m.id);
        }
        return applied;
    });
}

/**
 * Reverts the applied migrations in reverse order (their `-- migrate:down` parts), in one
 * transaction. Drops tables and their data: callers only do this when the stack opted in. When that
 * leaves the ledger empty, the ledger goes too, so the schema can be dropped after it (the
 * postgresql provider drops a schema with RESTRICT).
 */
export async function revertMigrations(client: ClientBase, schema: string, migrations: Migration[]): Promise<string[]> {
    return await withMigrationLock(client, schema, async () => {
        const done = await readLedger(client, schema);
        const targets = migrations.filter((m) => done.has(m.id)).reverse();
        await client.query("BEGIN");
        try {
            for (const m of targets) {
                if (m.down) await client.query(m.down);
                await client.query(`DELETE FROM ${ledger(schema)} WHERE id = $1`, [m.id]);
            }
            if (done.size > 0) {
                const left = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ledger(schema)}`);
                if (left.rows[0]?.n === 0) await client.query(`DROP TABLE ${ledger(schema)}`);
            }
            await client.query("COMMIT");
        } catch (err) {
            await client.query("ROLLBACK");
            throw new MigrationError(`reverting migrations failed and was rolled back: ${(err as Error).message}`);
        }
        return targets.map((m) => m.id);
    });
}
