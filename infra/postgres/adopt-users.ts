import type { ClientBase } from "pg";
import { quoteLiteral } from "../dynamic/common";
import { createLedger, planMigrations, recordApplied, recordLedgerOwner, withMigrationLock } from "./migrate";
import type { Migration } from "./migrations";
import { ident, TABLES } from "./privileges";

/**
 * Adopting an existing user table in the shape of Auth0's "PostgreSQL as custom database" template
 * as the stack's user store, instead of migration 001 creating an empty one.
 *
 * The template's table: `users (id uuid DEFAULT uuid_generate_v4(), email, nickname varchar(255),
 * password varchar(255) NOT NULL, email_verified boolean DEFAULT false)`, bcrypt hashes in
 * `password`, and scripts that return the uuid as the user id (Auth0 stores `auth0|<id>`).
 *
 * One transaction, under the schema's migration lock and an exclusive lock on the table: every
 * row is checked first (ids present and unique, emails that the user store accepts and that differ
 * in more than case, bcrypt hashes, nicknames of at most 255 characters) and any problem refuses the
 * adoption, naming the rows, before anything changes. Then the table moves into the stack's schema
 * as `users` and is altered in place to what 001 creates (same columns, types, defaults, constraint
 * and index names, trigger, comment, row-level security and policies; the functions 001 creates are
 * created by 001's own text), so every row, id and hash is kept; 001 is recorded as applied with its
 * checksum, and the later migrations run as usual. Extra columns, indexes, constraints, triggers and
 * policies of the team's own are kept and reported; privileges of other roles on the table are
 * revoked (the stack's grants follow). Idempotent: once 001 is on the ledger there is nothing to do.
 *
 * Runs as the stack's admin user, which must own the table (or be a superuser), before
 * `DatabaseSecurity` forces row-level security: with it forced and no policy for the owner, the
 * owner would see no row.
 *
 * Serialized into the `UsersTableAdoption` provider: plain functions over plain values.
 */

export interface AdoptUsersArgs {
    /** The template table, `schema.table` (e.g. `public.users`). */
    source: string;
    /** The stack's schema: where the table ends up, as `users`. */
    schema: string;
    /** Migration 001 as `loadMigrations` renders it for this stack (its text and checksum). */
    userStore: Pick<Migration, "id" | "up" | "checksum">;
    /** The stack's role prefix, recorded on the ledger. */
    owner?: string;
}

export interface TemplateColumn {
    name: string;
    /** `format_type`: `uuid`, `character varying(255)`, `text`, `boolean`, ... */
    type: string;
    notNull: boolean;
    default: string | null;
}

/** What the catalog says about the source table. */
export interface TemplateTable {
    schema: string;
    name: string;
    /** `r` for an ordinary table, `p` partitioned, `v` a view, `f` a foreign table, ... */
    kind: string;
    owner: string;
    currentUser: string;
    superuser: boolean;
    rls: boolean;
    forced: boolean;
    columns: TemplateColumn[];
    constraints: { name: string; type: string; columns: string[]; definition: string }[];
    indexes: { name: string; constraint: string | null; definition: string }[];
    triggers: string[];
    policies: string[];
    /** Roles other than the owner holding privileges on the table (`PUBLIC` for the public pseudo-role). */
    grantees: string[];
    /** Views and rules that depend on the table's columns (an ALTER COLUMN TYPE refuses them). */
    dependentViews: string[];
}

/** The outcome of an adoption, or of looking at one (`inspectAdoption`). */
export interface AdoptionReport {
    /** `already-applied`: 001 is on the ledger, nothing to do; `ready`: can be adopted; `refused`; `adopted`. */
    status: "already-applied" | "ready" | "refused" | "adopted";
    source: string;
    /** Rows in the table (adopted, or to adopt). */
    rows: number;
    /** Everything that refuses the adoption, one line each, offending rows named. */
    problems: string[];
    /** What else the adoption does or keeps, one line each. */
    notes: string[];
}

/** Columns of the template the adoption maps, and the types each may have. */
const TEXT_TYPES = /^(text|character varying(\(\d+\))?|citext)$/;
const TEMPLATE_COLUMNS: Record<string, { required: boolean; type: RegExp; label: string }> = {
    id: { required: true, type: /^uuid$/, label: "uuid" },
    email: { required: true, type: TEXT_TYPES, label: "text or varchar" },
    password: { required: true, type: /^(text|character varying(\(\d+\))?)$/, label: "text or varchar" },
    nickname: { required: false, type: TEXT_TYPES, label: "text or varchar" },
    email_verified: { required: false, type: /^boolean$/, label: "boolean" },
};
/** Columns 001 adds; a template table that has them already is not the template's shape. */
const ADDED_COLUMNS = ["password_hash", "app_metadata", "user_metadata", "created_at", "updated_at"];
/** Names 001 gives to objects on the table (a table of the team's own with one of them is refused). */
const OWN_OBJECTS = {
    constraints: ["users_email_check", "users_password_hash_check", "users_nickname_check", "users_app_metadata_check", "users_user_metadata_check"],
    indexes: ["users_email_lower_key"],
    triggers: ["users_touch_updated_at"],
    policies: ["users_scripts_all", "users_app_own"],
};
/** 001's checks, as 001 writes them. */
const EMAIL_CHECK = "char_length(email) BETWEEN 3 AND 320 AND email = btrim(email) AND position('@' IN email) > 1";
const HASH_CHECK = "password_hash ~ '^\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}$'";
/** The bcrypt hashes 001 accepts, for the source's `password` column. */
const BCRYPT = "^\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}$";
/** How many offending rows a problem names before it says how many more there are. */
const ROWS_NAMED = 20;

/** Splits `schema.table` (each part a lower-case identifier). */
export function parseSourceTable(source: string): { schema: string; name: string } {
    const m = /^([a-z_][a-z0-9_]{0,62})\.([a-z_][a-z0-9_]{0,62})$/.exec(source);
    if (!m) throw new Error(`adoptUsersTable: must be schema.table, each a lower-case identifier (got ${JSON.stringify(source)})`);
    return { schema: m[1]!, name: m[2]! };
}

function qualified(t: { schema: string; name: string }): string {
    return `${ident(t.schema)}.${ident(t.name)}`;
}

/** Reads the source table's catalog rows, or undefined when there is no such relation. */
export async function readTemplateTable(client: ClientBase, source: string): Promise<TemplateTable | undefined> {
    const { schema, name } = parseSourceTable(source);
    const rel = await client.query<{ oid: number; kind: string; owner: string; current_user: string; superuser: boolean; rls: boolean; forced: boolean }>(
        `SELECT c.oid, c.relkind::text AS kind, pg_get_userbyid(c.relowner) AS owner, current_user AS current_user,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
                c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, name],
    );
    const r = rel.rows[0];
    if (!r) return undefined;
    const columns = await client.query<TemplateColumn>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
                pg_get_expr(d.adbin, d.adrelid) AS default
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [r.oid],
    );
    const constraints = await client.query<TemplateTable["constraints"][number]>(
        `SELECT c.conname AS name, c.contype::text AS type,
                COALESCE((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), '{}') AS columns,
                pg_get_constraintdef(c.oid) AS definition
           FROM pg_constraint c WHERE c.conrelid = $1 ORDER BY c.conname`,
        [r.oid],
    );
    const indexes = await client.query<TemplateTable["indexes"][number]>(
        `SELECT i.relname AS name, (SELECT conname FROM pg_constraint WHERE conindid = x.indexrelid AND conrelid = x.indrelid) AS constraint,
                pg_get_indexdef(x.indexrelid) AS definition
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1 ORDER BY i.relname`,
        [r.oid],
    );
    const triggers = await client.query<{ name: string }>("SELECT tgname AS name FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY tgname", [
        r.oid,
    ]);
    const policies = await client.query<{ name: string }>("SELECT polname AS name FROM pg_policy WHERE polrelid = $1 ORDER BY polname", [r.oid]);
    const grantees = await client.query<{ grantee: string }>(
        `SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee
           FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1 AND a.grantee <> c.relowner ORDER BY 1`,
        [r.oid],
    );
    const views = await client.query<{ name: string }>(
        `SELECT DISTINCT vn.nspname || '.' || v.relname AS name
           FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
          WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND v.oid <> $1 ORDER BY 1`,
        [r.oid],
    );
    return {
        schema,
        name,
        kind: r.kind,
        owner: r.owner,
        currentUser: r.current_user,
        superuser: r.superuser === true,
        rls: r.rls,
        forced: r.forced,
        columns: columns.rows,
        constraints: constraints.rows,
        indexes: indexes.rows,
        triggers: triggers.rows.map((t) => t.name),
        policies: policies.rows.map((p) => p.name),
        grantees: grantees.rows.map((g) => g.grantee),
        dependentViews: views.rows.map((v) => v.name),
    };
}

/** Problems with the table itself (not its rows): shape, ownership, names 001 uses, dependent views. */
export function templateShapeProblems(t: TemplateTable, schema: string): string[] {
    const where = `${t.schema}.${t.name}`;
    const problems: string[] = [];
    if (t.kind !== "r") problems.push(`${where} is not an ordinary table (relkind ${t.kind}); only a table can be adopted`);
    for (const [name, spec] of Object.entries(TEMPLATE_COLUMNS)) {
        const c = t.columns.find((x) => x.name === name);
        if (!c) {
            if (spec.required) problems.push(`${where} has no column ${name} (the template's ${name} ${spec.label})`);
        } else if (!spec.type.test(c.type)) {
            problems.push(`${where}.${name} is ${c.type}; the template's is ${spec.label}`);
        }
    }
    for (const name of ADDED_COLUMNS) {
        if (t.columns.some((c) => c.name === name)) problems.push(`${where} already has a column ${name}, which the user store adds: rename or drop it first`);
    }
    const known = new Set([...Object.keys(TEMPLATE_COLUMNS), ...ADDED_COLUMNS]);
    for (const c of t.columns) {
        if (!known.has(c.name) && c.notNull && c.default === null) {
            problems.push(`${where}.${c.name} is NOT NULL without a default: the create script cannot insert a user; give it a default or allow NULL first`);
        }
    }
    const pk = t.constraints.find((c) => c.type === "p");
    if (pk && (pk.columns.length !== 1 || pk.columns[0] !== "id"))
        problems.push(`${where}'s primary key ${pk.name} is on (${pk.columns.join(", ")}), not (id)`);
    for (const name of OWN_OBJECTS.constraints) {
        if (t.constraints.some((c) => c.name === name))
            problems.push(`${where} already has a constraint ${name}, a name the user store uses: rename or drop it first`);
    }
    for (const name of OWN_OBJECTS.indexes) {
        if (t.indexes.some((i) => i.name === name)) problems.push(`${where} already has an index ${name}, a name the user store uses: rename or drop it first`);
    }
    for (const name of OWN_OBJECTS.triggers) {
        if (t.triggers.includes(name)) problems.push(`${where} already has a trigger ${name}, a name the user store uses: rename or drop it first`);
    }
    for (const name of OWN_OBJECTS.policies) {
        if (t.policies.includes(name)) problems.push(`${where} already has a policy ${name}, a name the user store uses: rename or drop it first`);
    }
    if (t.owner !== t.currentUser && !t.superuser) {
        problems.push(
            `${where} is owned by ${t.owner}, not by ${t.currentUser} (the stack's admin user, who adopts it): as ${t.owner} or a superuser, ALTER TABLE ${qualified(t)} OWNER TO ${ident(t.currentUser)}`,
        );
    }
    if (t.dependentViews.length > 0) {
        problems.push(`views depend on ${where} (${t.dependentViews.join(", ")}): drop them first and create them again on ${schema}.users after the adoption`);
    }
    return problems;
}

function listed(rows: string[], total: number): string {
    const more = total > rows.length ? `; and ${total - rows.length} more` : "";
    return `${rows.join("; ")}${more}`;
}

/**
 * Problems with the rows, each naming the offending rows (by id and email; never a password or a
 * hash). Read-only; the caller holds the table so it sees every row (row-level security not forced).
 */
export async function templateRowProblems(client: ClientBase, t: TemplateTable): Promise<string[]> {
    const table = qualified(t);
    const where = `${t.schema}.${t.name}`;
    const problems: string[] = [];
    const hasNickname = t.columns.some((c) => c.name === "nickname");
    const count = async (sql: string) => Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) AS q`)).rows[0]!.n);
    const named = async (sql: string, label: (r: Record<string, unknown>) => string) => {
        const total = await count(sql);
        if (total === 0) return undefined;
        const rows = (await client.query(`${sql} LIMIT ${ROWS_NAMED}`)).rows.map(label);
        return { total, text: listed(rows, total) };
    };
    const row = (r: Record<string, unknown>) => `id ${r.id === null ? "NULL" : String(r.id)} (${r.email === null ? "no email" : JSON.stringify(r.email)})`;

    const noId = await named(`SELECT id::text AS id, email::text AS email FROM ${table} WHERE id IS NULL ORDER BY email`, row);
    if (noId) problems.push(`${noId.total} row(s) of ${where} have no id: ${noId.text}`);
    const sameId = await named(
        `SELECT id::text AS id, count(*) AS n FROM ${table} WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1 ORDER BY id`,
        (r) => `id ${String(r.id)} (${String(r.n)} rows)`,
    );
    if (sameId) problems.push(`${sameId.total} id(s) of ${where} are on more than one row: ${sameId.text}`);
    const badEmail = await named(
        `SELECT id::text AS id, email::text AS email FROM ${table} WHERE email IS NULL OR NOT (${EMAIL_CHECK.replace(/email/g, "email::text")}) ORDER BY id`,
        row,
    );
    if (badEmail) {
        problems.push(
            `${badEmail.total} row(s) of ${where} have no email or one the user store refuses (3 to 320 characters, no surrounding spaces, an @ after the first character): ${badEmail.text}`,
        );
    }
    const caseTwins = await named(
        `SELECT lower(email::text) AS key, array_agg(id::text ORDER BY id) AS ids, array_agg(email::text ORDER BY id) AS emails
           FROM ${table} WHERE email IS NOT NULL GROUP BY lower(email::text) HAVING count(*) > 1 ORDER BY 1`,
        (r) => (r.ids as string[]).map((id, i) => `id ${id} (${JSON.stringify((r.emails as string[])[i])})`).join(" = "),
    );
    if (caseTwins) {
        problems.push(
            `${caseTwins.total} email(s) of ${where} are on more than one row, differing only in case (the user store finds a user by email ignoring case, so only one of each can log in): ${caseTwins.text}. Merge or delete the extra rows (and their Auth0 users) first`,
        );
    }
    const badHash = await named(
        `SELECT id::text AS id, email::text AS email FROM ${table} WHERE password IS NULL OR password !~ ${quoteLiteral(BCRYPT)} ORDER BY id`,
        row,
    );
    if (badHash) problems.push(`${badHash.total} row(s) of ${where} have a password that is not a bcrypt hash ($2a$, $2b$ or $2y$): ${badHash.text}`);
    if (hasNickname) {
        const longNick = await named(`SELECT id::text AS id, email::text AS email FROM ${table} WHERE char_length(nickname::text) > 255 ORDER BY id`, row);
        if (longNick) problems.push(`${longNick.total} row(s) of ${where} have a nickname over 255 characters: ${longNick.text}`);
    }
    return problems;
}

/** Splits 001's text into what comes before its CREATE TABLE of the users and what comes after. */
export function userStoreAroundTable(userStore: Pick<Migration, "id" | "up">, schema: string): { before: string; after: string } {
    const head = `CREATE TABLE ${ident(schema)}.${TABLES.users} (`;
    const start = userStore.up.indexOf(head);
    const end = start < 0 ? -1 : userStore.up.indexOf("\n);", start);
    if (start < 0 || end < 0) throw new Error(`migration ${userStore.id} does not create ${schema}.${TABLES.users} as the adoption expects`);
    return { before: userStore.up.slice(0, start), after: userStore.up.slice(end + "\n);".length) };
}

/**
 * The statements that turn the (moved) template table into 001's table, between 001's own text
 * before and after its CREATE TABLE. Pure: decided from the catalog rows.
 */
export function adoptionStatements(t: TemplateTable, schema: string): string[] {
    const users = `${ident(schema)}.${TABLES.users}`;
    const has = (name: string) => t.columns.some((c) => c.name === name);
    const column = (name: string) => t.columns.find((c) => c.name === name);
    const out: string[] = [];
    if (t.owner !== t.currentUser) out.push(`ALTER TABLE ${qualified(t)} OWNER TO CURRENT_USER`);
    if (t.schema !== schema) out.push(`ALTER TABLE ${qualified(t)} SET SCHEMA ${ident(schema)}`);
    if (t.name !== TABLES.users) out.push(`ALTER TABLE ${ident(schema)}.${ident(t.name)} RENAME TO ${TABLES.users}`);
    for (const grantee of t.grantees) out.push(`REVOKE ALL ON TABLE ${users} FROM ${grantee === "PUBLIC" ? "PUBLIC" : ident(grantee)}`);
    out.push(`ALTER TABLE ${users} RENAME COLUMN password TO password_hash`);

    const pk = t.constraints.find((c) => c.type === "p");
    out.push(`ALTER TABLE ${users} ALTER COLUMN id SET DEFAULT gen_random_uuid()`);
    if (!pk) out.push(`ALTER TABLE ${users} ADD CONSTRAINT users_pkey PRIMARY KEY (id)`);
    else if (pk.name !== "users_pkey") out.push(`ALTER TABLE ${users} RENAME CONSTRAINT ${ident(pk.name)} TO users_pkey`);

    // `name` as the template has it; `as` what it is called by now.
    const toText = (name: string, as = name) => (column(name)!.type === "text" ? [] : [`ALTER TABLE ${users} ALTER COLUMN ${as} TYPE text USING ${as}::text`]);
    const dropDefault = (name: string, as = name) => (column(name)!.default !== null ? [`ALTER TABLE ${users} ALTER COLUMN ${as} DROP DEFAULT`] : []);
    out.push(...toText("email"), ...dropDefault("email"), `ALTER TABLE ${users} ALTER COLUMN email SET NOT NULL`);
    out.push(`ALTER TABLE ${users} ADD CONSTRAINT users_email_check CHECK (${EMAIL_CHECK})`);
    out.push(
        ...toText("password", "password_hash"),
        ...dropDefault("password", "password_hash"),
        `ALTER TABLE ${users} ALTER COLUMN password_hash SET NOT NULL`,
    );
    out.push(`ALTER TABLE ${users} ADD CONSTRAINT users_password_hash_check CHECK (${HASH_CHECK})`);
    if (has("nickname")) {
        out.push(...toText("nickname"), ...dropDefault("nickname"));
        if (column("nickname")!.notNull) out.push(`ALTER TABLE ${users} ALTER COLUMN nickname DROP NOT NULL`);
    } else {
        out.push(`ALTER TABLE ${users} ADD COLUMN nickname text`);
    }
    out.push(`ALTER TABLE ${users} ADD CONSTRAINT users_nickname_check CHECK (char_length(nickname) <= 255)`);
    if (has("email_verified")) {
        out.push(`UPDATE ${users} SET email_verified = false WHERE email_verified IS NULL`);
        out.push(`ALTER TABLE ${users} ALTER COLUMN email_verified SET DEFAULT false`, `ALTER TABLE ${users} ALTER COLUMN email_verified SET NOT NULL`);
    } else {
        out.push(`ALTER TABLE ${users} ADD COLUMN email_verified boolean NOT NULL DEFAULT false`);
    }
    for (const meta of ["app_metadata", "user_metadata"]) {
        out.push(
            `ALTER TABLE ${users} ADD COLUMN ${meta} jsonb NOT NULL DEFAULT '{}'::jsonb CONSTRAINT users_${meta}_check CHECK (jsonb_typeof(${meta}) = 'object')`,
        );
    }
    out.push(
        `ALTER TABLE ${users} ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()`,
        `ALTER TABLE ${users} ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`,
    );
    return out;
}

/** Notes on what the adoption does besides the statements' obvious work, one line each. */
function adoptionNotes(t: TemplateTable, schema: string, emailVerifiedNulls: number): string[] {
    const notes: string[] = [];
    const ours = new Set([...Object.keys(TEMPLATE_COLUMNS), ...ADDED_COLUMNS]);
    if (t.schema !== schema || t.name !== TABLES.users)
        notes.push(`${t.schema}.${t.name} becomes ${schema}.${TABLES.users}: anything that queries it by its old name must use the new one`);
    if (t.owner !== t.currentUser) notes.push(`ownership passes from ${t.owner} to ${t.currentUser}`);
    const extra = t.columns.filter((c) => !ours.has(c.name)).map((c) => c.name);
    if (extra.length > 0) notes.push(`columns of your own kept (the scripts ignore them): ${extra.join(", ")}`);
    const pk = t.constraints.find((c) => c.type === "p");
    const other = t.constraints.filter((c) => c !== pk && c.type !== "n").map((c) => c.name);
    if (other.length > 0) notes.push(`constraints of your own kept: ${other.join(", ")}`);
    const indexes = t.indexes.filter((i) => i.constraint === null).map((i) => i.name);
    if (indexes.length > 0) notes.push(`indexes of your own kept: ${indexes.join(", ")}`);
    if (t.triggers.length > 0) notes.push(`triggers of your own kept: ${t.triggers.join(", ")}`);
    if (t.policies.length > 0)
        notes.push(`row-level security policies of your own kept (listed, never dropped, by DatabaseSecurity): ${t.policies.join(", ")}`);
    if (t.grantees.length > 0) notes.push(`privileges on the table revoked from ${t.grantees.join(", ")} (the stack grants its own roles what they need)`);
    if (emailVerifiedNulls > 0) notes.push(`${emailVerifiedNulls} row(s) with email_verified NULL set to false`);
    notes.push("created_at and updated_at of the existing rows are the adoption's time (the template records neither)");
    return notes;
}

/**
 * Whether the table can be adopted, read-only. `status` is `already-applied` when 001 is on the
 * ledger (nothing to do), `refused` with the problems, or `ready`. A table with row-level
 * security forced is looked at inside a transaction that lifts the force and is rolled back, so the
 * owner sees its rows; nothing changes.
 */
export async function inspectAdoption(client: ClientBase, args: AdoptUsersArgs): Promise<AdoptionReport> {
    const base = { source: args.source, rows: 0, problems: [] as string[], notes: [] as string[] };
    const plan = await planMigrations(client, args.schema, [args.userStore as Migration]);
    if (plan.applied.includes(args.userStore.id) || plan.drifted.includes(args.userStore.id)) return { ...base, status: "already-applied" };
    const t = await readTemplateTable(client, args.source);
    if (!t) return { ...base, status: "refused", problems: [`${args.source} does not exist (postgres.adoptUsersTable names the table to adopt)`] };
    const shape = templateShapeProblems(t, args.schema);
    if (shape.length > 0) return { ...base, status: "refused", problems: shape };
    await client.query("BEGIN");
    try {
        await client.query("SET LOCAL lock_timeout = '10s'");
        if (t.forced) await client.query(`ALTER TABLE ${qualified(t)} NO FORCE ROW LEVEL SECURITY`);
        const problems = await templateRowProblems(client, t);
        const rows = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t)}`)).rows[0]!.n);
        const nulls = t.columns.some((c) => c.name === "email_verified")
            ? Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(t)} WHERE email_verified IS NULL`)).rows[0]!.n)
            : 0;
        return {
            ...base,
            rows,
            status: problems.length > 0 ? "refused" : "ready",
            problems,
            notes: problems.length > 0 ? [] : adoptionNotes(t, args.schema, nulls),
        };
    } finally {
        await client.query("ROLLBACK");
    }
}

/** The error an adoption refuses with: every problem, each on its own line. */
export function refusal(report: Pick<AdoptionReport, "source" | "problems">): string {
    return `cannot adopt ${report.source} as the user store; nothing was changed:\n${report.problems.map((p) => `  - ${p}`).join("\n")}`;
}

/**
 * Adopts the table (see the module comment). Returns the report; throws, having changed nothing,
 * when the table cannot be adopted.
 */
export async function adoptUsersTable(client: ClientBase, args: AdoptUsersArgs): Promise<AdoptionReport> {
    const source = parseSourceTable(args.source);
    return await withMigrationLock(client, args.schema, async () => {
        await client.query("BEGIN");
        try {
            await createLedger(client, args.schema);
            const plan = await planMigrations(client, args.schema, [args.userStore as Migration]);
            if (plan.applied.includes(args.userStore.id) || plan.drifted.includes(args.userStore.id)) {
                await client.query("ROLLBACK");
                return { status: "already-applied", source: args.source, rows: 0, problems: [], notes: [] } satisfies AdoptionReport;
            }
            if (args.owner && plan.owner && plan.owner !== args.owner) {
                throw new Error(`schema ${args.schema} holds the user store of another stack (role prefix ${plan.owner}; this stack's is ${args.owner})`);
            }
            const t = await readTemplateTable(client, args.source);
            if (!t)
                throw new Error(
                    refusal({ source: args.source, problems: [`${args.source} does not exist (postgres.adoptUsersTable names the table to adopt)`] }),
                );
            const shape = templateShapeProblems(t, args.schema);
            if (shape.length > 0) throw new Error(refusal({ source: args.source, problems: shape }));
            // No writer may slip a row in between the checks and the change.
            await client.query(`LOCK TABLE ${qualified(source)} IN ACCESS EXCLUSIVE MODE`);
            if (t.forced) await client.query(`ALTER TABLE ${qualified(source)} NO FORCE ROW LEVEL SECURITY`);
            const problems = await templateRowProblems(client, t);
            if (problems.length > 0) throw new Error(refusal({ source: args.source, problems }));
            const rows = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(source)}`)).rows[0]!.n);
            const nulls = t.columns.some((c) => c.name === "email_verified")
                ? Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(source)} WHERE email_verified IS NULL`)).rows[0]!.n)
                : 0;

            const { before, after } = userStoreAroundTable(args.userStore, args.schema);
            await client.query(before);
            for (const statement of adoptionStatements(t, args.schema)) await client.query(statement);
            await client.query(after);
            if (args.owner) await recordLedgerOwner(client, args.schema, args.owner);
            await recordApplied(client, args.schema, args.userStore);
            const kept = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(args.schema)}.${TABLES.users}`)).rows[0]!.n);
            if (kept !== rows) throw new Error(`adopting ${args.source}: ${rows} rows before, ${kept} after; rolled back`);
            await client.query("COMMIT");
            return { status: "adopted", source: args.source, rows, problems: [], notes: adoptionNotes(t, args.schema, nulls) } satisfies AdoptionReport;
        } catch (err) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw err;
        }
    });
}
