import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ident } from "./privileges";

/** A migration ready to run: placeholders replaced, split into its up and down parts. */
export interface Migration {
    /** File name without `.sql`, e.g. `001_user_store`. Migrations run in id order. */
    id: string;
    up: string;
    down: string;
    /** sha256 of the rendered `up` text: an applied migration whose checksum changes is an error. */
    checksum: string;
}

export const MIGRATIONS_DIR = join(__dirname, "migrations");

const UP = /^--\s*migrate:up\s*$/m;
const DOWN = /^--\s*migrate:down\s*$/m;
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** Splits a migration file into its up and down parts. */
export function splitMigration(id: string, text: string): { up: string; down: string } {
    const up = UP.exec(text);
    if (!up) throw new Error(`migration ${id}: no "-- migrate:up" line`);
    const rest = text.slice(up.index + up[0].length);
    const down = DOWN.exec(rest);
    return {
        up: (down ? rest.slice(0, down.index) : rest).trim(),
        down: down ? rest.slice(down.index + down[0].length).trim() : "",
    };
}

/** Replaces each `{{name}}` with the quoted identifier `names[name]`; an unknown name is an error. */
export function renderTemplate(id: string, text: string, names: Record<string, string>): string {
    return text.replace(PLACEHOLDER, (_, name: string) => {
        const value = names[name];
        if (value === undefined) throw new Error(`migration ${id}: unknown placeholder {{${name}}} (known: ${Object.keys(names).join(", ")})`);
        return ident(value);
    });
}

export function checksum(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** Loads and renders every `NNN_name.sql` in `dir`, in order. */
export function loadMigrations(names: Record<string, string>, dir: string = MIGRATIONS_DIR): Migration[] {
    const files = readdirSync(dir)
        .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
        .sort();
    return files.map((file) => {
        const id = file.replace(/\.sql$/, "");
        const { up, down } = splitMigration(id, readFileSync(join(dir, file), "utf8"));
        const rendered = { up: renderTemplate(id, up, names), down: renderTemplate(id, down, names) };
        return { id, ...rendered, checksum: checksum(rendered.up) };
    });
}
