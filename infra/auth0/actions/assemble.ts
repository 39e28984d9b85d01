import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Code shared by several post-login Actions is written once, in `shared/<name>.js`, and inserted
 * into each Action that has the line `// @@SHARED:<name>@@`, so every uploaded Action stays one
 * self-contained file (Auth0 runs each alone) and the tests run the text that is uploaded.
 */

/** Where the shared snippets are. */
export const SHARED_SNIPPETS_DIR = join(__dirname, "shared");

/** A marker line: `// @@SHARED:<name>@@` alone on its line. */
const MARKER_LINE = /^[ \t]*\/\/ @@SHARED:([a-z][a-z0-9-]*)@@[ \t]*$/gm;

/** The marker line of snippet `name`. */
export function sharedMarker(name: string): string {
    return `// @@SHARED:${name}@@`;
}

/** The text of snippet `name` as it is inserted. */
export function sharedSnippet(name: string): string {
    const path = join(SHARED_SNIPPETS_DIR, `${name}.js`);
    try {
        return readFileSync(path, "utf8").trim();
    } catch (err) {
        throw new Error(`cannot read the shared Action snippet ${path}: ${(err as Error).message}`);
    }
}

/**
 * The Action `key`'s `source` with each marker line replaced by its snippet (`snippet(name)`).
 * Throws, naming the Action, on a snippet used twice or one that holds a marker itself.
 */
export function assembleAction(key: string, source: string, snippet: (name: string) => string = sharedSnippet): string {
    const seen = new Set<string>();
    return source.replace(MARKER_LINE, (_line, name: string) => {
        if (seen.has(name)) throw new Error(`Action ${key}.js has the line "${sharedMarker(name)}" more than once`);
        seen.add(name);
        const text = snippet(name);
        if (/@@SHARED:/.test(text)) throw new Error(`shared Action snippet ${name}.js must not contain a "@@SHARED:" marker`);
        return text;
    });
}

/** The names of the snippets an Action's source asks for, in order. */
export function sharedSnippetsOf(source: string): string[] {
    return [...source.matchAll(MARKER_LINE)].map((m) => m[1]!);
}
