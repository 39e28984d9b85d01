import * as pulumi from "@pulumi/pulumi";
import { PgConnectionInfo, withClient } from "./connection";
import { ident } from "../postgres/privileges";
import { asError, connectionProblems, containsUnknown, identifierProblem, optionsSql, parseCatalogOptions, quoteLiteral, sameValue, sqlState } from "./common";
import { reachesAnotherDatabase } from "./database-identity";
import { assertNoProblems, checkFailures, Problem, problem } from "./problems";
import { withSecretOutputs } from "./secret-outputs";

/** A column of a foreign table. */
export interface ForeignColumn {
    name: string;
    /** One of {@link FOREIGN_COLUMN_TYPES}. */
    type: string;
}

// Not exported directly: the provider's methods reference a module-local constant rather than
// `exports.X`, so the closure serializer captures the table and not the module.
const COLUMN_TYPES: Readonly<Record<string, string>> = {
    text: "text",
    bool: "boolean",
    boolean: "boolean",
    int: "integer",
    integer: "integer",
    bigint: "bigint",
    jsonb: "jsonb",
    timestamp: "timestamp without time zone",
    "timestamp without time zone": "timestamp without time zone",
    timestamptz: "timestamp with time zone",
    "timestamp with time zone": "timestamp with time zone",
    numeric: "numeric",
};

/**
 * The column types a foreign table may use, each with the name Postgres reports back
 * (`format_type`). Anything else is refused by `check`.
 */
export const FOREIGN_COLUMN_TYPES = COLUMN_TYPES;

export interface ForeignTableInputs {
    connection: PgConnectionInfo;
    schema: string;
    name: string;
    server: string;
    columns: ForeignColumn[];
    options: Record<string, string>;
    readerFunction?: string;
}

export type ForeignTableOutputs = ForeignTableInputs;

export interface ForeignTableArgs {
    /** Admin connection; made a secret here whether or not the caller did. */
    connection: pulumi.Input<PgConnectionInfo>;
    /** Schema of the table (must exist). A new schema replaces the table. */
    schema: pulumi.Input<string>;
    /** The table's name. A new name replaces the table. */
    name: pulumi.Input<string>;
    /** The foreign server. A new server replaces the table (Postgres cannot move a foreign table). */
    server: pulumi.Input<string>;
    /** The columns; types from {@link FOREIGN_COLUMN_TYPES}. Changes are ALTERed in place (order is not managed). */
    columns: pulumi.Input<ForeignColumn[]>;
    /** The table's options, e.g. `{ object: "users" }`. Changes are ALTERed in place. */
    options: pulumi.Input<Record<string, string>>;
    /**
     * A function `<schema>.<readerFunction>()` returning the table's rows, SECURITY DEFINER and owned
     * by the connection's user, `search_path` pinned, PUBLIC's EXECUTE revoked (see
     * {@link readerFunctionSql}): the way roles read the table without Vault privileges. Defaults to
     * none.
     */
    readerFunction?: pulumi.Input<string>;
}

/** The name Postgres reports for a column type (unknown types are kept as they are). */
function canonicalType(type: string): string {
    return COLUMN_TYPES[type] ?? type;
}

/** Columns by name with canonical types: what a diff compares (the order is not managed). */
function columnMap(columns: ForeignColumn[] | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of columns ?? []) out[c.name] = canonicalType(c.type);
    return out;
}

function inputProblems(news: ForeignTableInputs): Problem[] {
    const problems = connectionProblems(news.connection);
    for (const p of [identifierProblem("schema", news.schema), identifierProblem("name", news.name), identifierProblem("server", news.server)]) {
        if (p) problems.push(p);
    }
    if (!containsUnknown(news.columns)) {
        if (!Array.isArray(news.columns) || news.columns.length === 0) {
            problems.push(problem("columns", "required, a non-empty array of { name, type }"));
        } else {
            const seen = new Set<string>();
            news.columns.forEach((c, i) => {
                const nameProblem = identifierProblem(`columns[${i}].name`, c?.name);
                if (nameProblem) problems.push(nameProblem);
                if (c && typeof c.name === "string" && seen.has(c.name)) problems.push(problem(`columns[${i}].name`, `duplicate column "${c.name}"`));
                if (c && typeof c.name === "string") seen.add(c.name);
                if (!c || typeof c.type !== "string" || !Object.prototype.hasOwnProperty.call(COLUMN_TYPES, c.type)) {
                    problems.push(problem(`columns[${i}].type`, `must be one of ${Object.keys(COLUMN_TYPES).join(", ")} (got ${JSON.stringify(c?.type)})`));
                }
            });
        }
    }
    if (news.readerFunction !== undefined) {
        const p = identifierProblem("readerFunction", news.readerFunction);
        if (p) problems.push(p);
    }
    if (!containsUnknown(news.options)) {
        if (news.options === null || typeof news.options !== "object" || Array.isArray(news.options)) {
            problems.push(problem("options", "required, an object of option names to string values"));
        } else {
            for (const [k, v] of Object.entries(news.options)) {
                const keyProblem = identifierProblem(`options.${k}`, k);
                if (keyProblem) problems.push(keyProblem);
                if (typeof v !== "string" || v.includes("\u0000")) problems.push(problem(`options.${k}`, "the value must be a string without NUL characters"));
            }
        }
    }
    return problems;
}

function tableName(t: Pick<ForeignTableInputs, "schema" | "name">): string {
    return `${ident(t.schema)}.${ident(t.name)}`;
}

function columnSql(c: ForeignColumn): string {
    return `${ident(c.name)} ${canonicalType(c.type)}`;
}

/** The `ALTER FOREIGN TABLE` actions that turn `olds` into `news` (same table and server). */
function alterActions(olds: ForeignTableInputs, news: ForeignTableInputs): string[] {
    const before = columnMap(olds.columns);
    const after = columnMap(news.columns);
    const actions: string[] = [];
    for (const name of Object.keys(before)) if (!(name in after)) actions.push(`DROP COLUMN ${ident(name)}`);
    for (const c of news.columns) {
        if (!(c.name in before)) actions.push(`ADD COLUMN ${columnSql(c)}`);
        else if (before[c.name] !== after[c.name]) actions.push(`ALTER COLUMN ${ident(c.name)} TYPE ${canonicalType(c.type)}`);
    }
    const oldOptions = olds.options ?? {};
    const optionActions: string[] = [];
    for (const k of Object.keys(oldOptions).sort()) if (!(k in news.options)) optionActions.push(`DROP ${ident(k)}`);
    for (const k of Object.keys(news.options).sort()) {
        if (!(k in oldOptions)) optionActions.push(`ADD ${ident(k)} ${quoteLiteral(news.options[k]!)}`);
        else if (oldOptions[k] !== news.options[k]) optionActions.push(`SET ${ident(k)} ${quoteLiteral(news.options[k]!)}`);
    }
    if (optionActions.length > 0) actions.push(`OPTIONS (${optionActions.join(", ")})`);
    return actions;
}

/**
 * The statements of a table's reader function. Supabase Wrappers looks the server's API key up in
 * Vault as the user a query runs as, when the query is planned: a role reading the foreign table
 * itself needs USAGE on `vault`, SELECT on `vault.decrypted_secrets` and EXECUTE on
 * `vault._crypto_aead_det_decrypt`, which would show it every secret of the database (column grants
 * still return every row, and Supabase's `postgres` cannot put row-level security on
 * `vault.secrets`). A view does not help (it is planned as its caller). A SECURITY DEFINER function
 * is planned as its owner, the admin, who holds Vault's grants: the reader needs EXECUTE on it and
 * nothing of Vault. `search_path` is pinned to nothing (every name in it is qualified), and PUBLIC's
 * EXECUTE, which every new function has, is revoked in the same transaction as the CREATE.
 */
export function readerFunctionSql(t: Pick<ForeignTableInputs, "schema" | "name">, fn: string, orReplace = false): string[] {
    const f = `${ident(t.schema)}.${ident(fn)}()`;
    return [
        `CREATE ${orReplace ? "OR REPLACE " : ""}FUNCTION ${f} RETURNS SETOF ${tableName(t)} LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS ${quoteLiteral(`SELECT * FROM ${tableName(t)}`)}`,
        `REVOKE ALL ON FUNCTION ${f} FROM PUBLIC`,
        `COMMENT ON FUNCTION ${f} IS ${quoteLiteral(`Reads ${t.schema}.${t.name} as its owner (who holds the Vault grants the foreign data wrapper needs); grant EXECUTE instead of SELECT on the table.`)}`,
    ];
}

/**
 * Runs `statements` in one transaction on a connection of its own. A failure starts with `context`;
 * a drop that dependent objects block (SQLSTATE 2BP01) says so after `blocked`, naming them.
 */
async function inTransaction(connection: PgConnectionInfo, context: string, statements: string[], blocked = context): Promise<void> {
    try {
        await withClient(connection, async (client) => {
            await client.query("BEGIN");
            try {
                for (const sql of statements) await client.query(sql);
                await client.query("COMMIT");
            } catch (err) {
                await client.query("ROLLBACK").catch(() => undefined);
                throw err;
            }
        });
    } catch (err) {
        if (sqlState(err) === "2BP01") {
            const detail = (err as { detail?: string }).detail;
            throw new Error(`${blocked}: cannot drop it while other objects depend on it${detail ? ` (${detail.replace(/\n/g, "; ")})` : ""}`);
        }
        throw asError(err, context);
    }
}

/** The CREATE statement of a foreign table (exported for the docs and the tests). */
export function foreignTableSql(t: Pick<ForeignTableInputs, "schema" | "name" | "server" | "columns" | "options">): string {
    const options = Object.keys(t.options).length > 0 ? ` OPTIONS (${optionsSql(t.options)})` : "";
    return `CREATE FOREIGN TABLE ${tableName(t)} (${t.columns.map(columnSql).join(", ")}) SERVER ${ident(t.server)}${options}`;
}

/**
 * A foreign table. Column types come from a small allow-list, names are checked identifiers and
 * option values quoted literals.
 *
 * - `diff`: a new schema, name or server (or another database) replaces the table, deleting the
 *   old one first when the new one has the same name. Column and option changes are an update:
 *   one `ALTER FOREIGN TABLE` (so grants on the table survive). Column order is not managed.
 * - `readerFunction`: created with the table in one transaction (see {@link readerFunctionSql}),
 *   re-created by an update (a new name drops the old one), dropped with the table.
 * - `read`: columns (`format_type` names), server and options from the catalog, and the reader
 *   function if it exists as a SECURITY DEFINER function (else it is drift).
 * - `delete`: the reader function, then `DROP FOREIGN TABLE ... RESTRICT`; a foreign table holds no
 *   data of its own.
 */
export const foreignTableProvider: pulumi.dynamic.ResourceProvider<ForeignTableInputs, ForeignTableOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: checkFailures(inputProblems(news)) };
    },

    async diff(_id, olds, news) {
        const replaces: string[] = [];
        for (const k of ["schema", "name", "server"] as const) if (containsUnknown(news[k]) || olds[k] !== news[k]) replaces.push(k);
        // Another host or port reaching the same database is no move (see reachesAnotherDatabase).
        const otherDatabase = !containsUnknown(news.connection) && (await reachesAnotherDatabase(undefined, olds.connection, news.connection));
        if (otherDatabase) replaces.push("connection");
        const columnsChanged = containsUnknown(news.columns) || !sameValue(columnMap(olds.columns), columnMap(news.columns));
        const optionsChanged = containsUnknown(news.options) || !sameValue(olds.options ?? {}, news.options);
        const readerChanged = containsUnknown(news.readerFunction) || olds.readerFunction !== news.readerFunction;
        const changes = replaces.length > 0 || columnsChanged || optionsChanged || readerChanged || !sameValue(olds.connection, news.connection);
        // Same table name in the same database: the old table must go before the new one is created.
        const sameName = !otherDatabase && !replaces.includes("schema") && !replaces.includes("name");
        return { changes, replaces, deleteBeforeReplace: replaces.length > 0 && sameName };
    },

    async create(inputs) {
        assertNoProblems(`ForeignTable ${inputs.schema}.${inputs.name}`, inputProblems(inputs));
        const reader = inputs.readerFunction ? readerFunctionSql(inputs, inputs.readerFunction) : [];
        await inTransaction(inputs.connection, `ForeignTable ${inputs.schema}.${inputs.name}: cannot create`, [foreignTableSql(inputs), ...reader]);
        return { id: `${inputs.schema}.${inputs.name}`, outs: { ...inputs } };
    },

    async read(id, props) {
        if (!props || connectionProblems(props.connection).length > 0) {
            throw new Error(`ForeignTable ${id}: cannot read without the connection in the state (import is not supported)`);
        }
        const found = await withClient(props.connection, async (client) => {
            const table = await client.query<{ oid: number; server: string; options: string[] | null }>(
                `SELECT c.oid, s.srvname AS server, ft.ftoptions AS options
                   FROM pg_foreign_table ft
                   JOIN pg_class c ON c.oid = ft.ftrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_foreign_server s ON s.oid = ft.ftserver
                  WHERE n.nspname = $1 AND c.relname = $2`,
                [props.schema, props.name],
            );
            const row = table.rows[0];
            if (!row) return undefined;
            const columns = await client.query<ForeignColumn>(
                "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                [row.oid],
            );
            const reader = props.readerFunction
                ? await client.query(
                      `SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0 AND p.prosecdef`,
                      [props.schema, props.readerFunction],
                  )
                : undefined;
            return {
                server: row.server,
                options: parseCatalogOptions(row.options),
                columns: columns.rows,
                readerFunction: reader?.rowCount ? props.readerFunction : undefined,
            };
        });
        if (!found) return {};
        return { id, props: { ...props, ...found } };
    },

    async update(_id, olds, news) {
        assertNoProblems(`ForeignTable ${news.schema}.${news.name}`, inputProblems(news));
        const actions = alterActions(olds, news);
        const statements = actions.length > 0 ? [`ALTER FOREIGN TABLE ${tableName(news)} ${actions.join(", ")}`] : [];
        if (olds.readerFunction && olds.readerFunction !== news.readerFunction)
            statements.push(`DROP FUNCTION IF EXISTS ${ident(news.schema)}.${ident(olds.readerFunction)}()`);
        // Re-created every time: the same text, and PUBLIC's EXECUTE revoked again.
        if (news.readerFunction) statements.push(...readerFunctionSql(news, news.readerFunction, true));
        if (statements.length > 0) await inTransaction(news.connection, `ForeignTable ${news.schema}.${news.name}: cannot alter`, statements);
        return { outs: { ...news } };
    },

    async delete(id, props) {
        const reader = props.readerFunction ? [`DROP FUNCTION IF EXISTS ${ident(props.schema)}.${ident(props.readerFunction)}()`] : [];
        await inTransaction(
            props.connection,
            `ForeignTable ${id}: cannot drop`,
            [...reader, `DROP FOREIGN TABLE IF EXISTS ${tableName(props)} RESTRICT`],
            `ForeignTable ${id}`,
        );
    },
};

/** A foreign table. Type token `pulumi-nodejs:dynamic/auth0-postgres:ForeignTable`. */
export class ForeignTable extends pulumi.dynamic.Resource {
    // `declare`, not `!:`: with target ES2022 a class field would reset the output super() set.
    declare public readonly schema: pulumi.Output<string>;
    declare public readonly name: pulumi.Output<string>;
    declare public readonly server: pulumi.Output<string>;
    declare public readonly columns: pulumi.Output<ForeignColumn[]>;
    declare public readonly options: pulumi.Output<Record<string, string>>;
    declare public readonly readerFunction: pulumi.Output<string | undefined>;

    constructor(name: string, args: ForeignTableArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            foreignTableProvider,
            name,
            { ...args, connection: pulumi.secret(args.connection) },
            withSecretOutputs<ForeignTableOutputs>(opts, "connection"),
            "auth0-postgres",
            "ForeignTable",
        );
    }
}
