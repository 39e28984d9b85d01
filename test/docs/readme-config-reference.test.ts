/**
 * The README's "Configuration reference" table against the config schema it documents: every key
 * of the schema has a row, no row names a key the schema lacks, and each default, range, length
 * limit and choice the table gives is the schema's own (read from the zod schema, whose values come
 * from infra/config/constants.ts). And the table is the one `npm run docs:config` writes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rawConfigSchema, SECRET_KEYS } from "../../infra/config";
import { formatDefault, withConfigReference } from "../../infra/config/reference";

const README = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");

interface Row {
    key: string;
    type: string;
    default: string;
    meaning: string;
}

/** The rows of the table in the README's "Configuration reference" section. */
function readmeRows(): Row[] {
    const start = README.indexOf("\n## Configuration reference\n");
    expect(start, 'README has a "Configuration reference" section').toBeGreaterThan(0);
    const end = README.indexOf("\n## ", start + 1);
    const lines = README.slice(start, end < 0 ? undefined : end).split("\n");
    return lines
        .filter((l) => l.startsWith("| `"))
        .map((l) => {
            // Cells are split on | that is not escaped (\| stands in a cell for "or").
            const cells = l
                .slice(1, -1)
                .split(/(?<!\\)\|/)
                .map((c) => c.trim());
            const key = /^`([^`]+)`$/.exec(cells[0]!)?.[1] ?? cells[0]!;
            return { key, type: cells[1] ?? "", default: cells[2] ?? "", meaning: cells[3] ?? "" };
        });
}

/** A key of the schema that holds a value (not an object): its path (`[]` for a list's items) and schema. */
interface Leaf {
    path: string;
    // zod's internals: `_zod.def` describes the node.
    schema: { _zod: { def: Record<string, unknown> } } & Record<string, unknown>;
    /** The schema's default, when it has one. */
    default?: unknown;
}

function leaves(node: Leaf["schema"], path: string, out: Leaf[], dflt?: unknown): Leaf[] {
    const def = node._zod.def as {
        type: string;
        innerType?: Leaf["schema"];
        out?: Leaf["schema"];
        element?: Leaf["schema"];
        shape?: Record<string, Leaf["schema"]>;
        defaultValue?: unknown;
    };
    switch (def.type) {
        case "object":
            for (const [k, v] of Object.entries(def.shape!)) leaves(v, path ? `${path}.${k}` : k, out);
            return out;
        case "optional":
            return leaves(def.innerType!, path, out, dflt);
        case "default":
            return leaves(def.innerType!, path, out, def.defaultValue);
        case "pipe":
            return leaves(def.out!, path, out, dflt);
        case "array":
            if (def.element!._zod.def.type === "object") return leaves(def.element!, `${path}[]`, out);
            out.push({ path, schema: node, default: dflt });
            return out;
        default:
            out.push({ path, schema: node, default: dflt });
            return out;
    }
}

const LEAVES = leaves(rawConfigSchema as unknown as Leaf["schema"], "", []);
/** The top-level objects (`customDb`, ...): a row for one of them would document nothing in particular. */
const SECTIONS = new Set(LEAVES.filter((l) => l.path.includes(".")).map((l) => l.path.split(/[.[]/)[0]!));

/** The row that documents `path`: its own, else the row of the object or list it is in. */
function rowOf(rows: Row[], path: string): Row | undefined {
    return (
        rows.find((r) => r.key === path) ??
        rows
            .filter((r) => !SECTIONS.has(r.key) && (path.startsWith(`${r.key}.`) || path.startsWith(`${r.key}[]`)))
            .sort((a, b) => b.key.length - a.key.length)[0]
    );
}

describe("README: the configuration table", () => {
    it("has a row for every key of the schema and every secret", () => {
        const rows = readmeRows();
        const missing = [...LEAVES.map((l) => l.path), ...SECRET_KEYS].filter((path) => !rowOf(rows, path));
        expect(missing).toEqual([]);
    });

    it("names no key the schema does not have", () => {
        const paths = LEAVES.map((l) => l.path);
        const unknown = readmeRows()
            .map((r) => r.key)
            .filter(
                (key) =>
                    !(SECRET_KEYS as readonly string[]).includes(key) && !paths.some((p) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[]`)),
            );
        expect(unknown).toEqual([]);
    });

    it("gives each key's default as the schema has it", () => {
        const rows = readmeRows();
        const wrong: string[] = [];
        for (const leaf of LEAVES.filter((l) => l.default !== undefined && !l.path.includes("[]"))) {
            const row = rowOf(rows, leaf.path);
            if (!row) continue; // reported by the first test
            const expected = row.key === leaf.path ? formatDefault(leaf.default) : `${leaf.path.slice(row.key.length + 1)}: ${formatDefault(leaf.default)}`;
            const ok = row.key === leaf.path ? row.default.startsWith(expected) : row.default.includes(expected);
            if (!ok) wrong.push(`${leaf.path}: the table says ${JSON.stringify(row.default)}, the schema's default is ${expected}`);
        }
        expect(wrong).toEqual([]);
    });

    it("gives each integer's range, each string's length limit and each choice as the schema has them", () => {
        const rows = readmeRows();
        const wrong: string[] = [];
        for (const leaf of LEAVES.filter((l) => !l.path.includes("[]"))) {
            const row = rowOf(rows, leaf.path);
            if (!row) continue;
            const text = `${row.type} ${row.meaning}`;
            const s = leaf.schema as { minValue?: number | null; maxValue?: number | null; maxLength?: number | null; options?: string[] };
            const type = leaf.schema._zod.def.type;
            if (type === "number" && Number.isFinite(s.minValue) && Number.isFinite(s.maxValue) && !text.includes(`${s.minValue} – ${s.maxValue}`)) {
                wrong.push(`${leaf.path}: the schema takes ${s.minValue} – ${s.maxValue}; the table says ${JSON.stringify(text)}`);
            }
            if (type === "string" && typeof s.maxLength === "number" && !text.includes(`≤ ${s.maxLength}`)) {
                wrong.push(`${leaf.path}: the schema takes at most ${s.maxLength} characters; the table says ${JSON.stringify(text)}`);
            }
            if (type === "enum") {
                for (const option of s.options ?? [])
                    if (!row.type.includes(`\`${option}\``)) wrong.push(`${leaf.path}: the table's type leaves out ${option}`);
            }
        }
        expect(wrong).toEqual([]);
    });

    it("is the table npm run docs:config writes from infra/config/reference.ts", () => {
        expect(withConfigReference(README)).toBe(README);
    });
});
