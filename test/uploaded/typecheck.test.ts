/**
 * The JavaScript uploaded to Auth0, type-checked as Auth0 runs it: each custom-database script and
 * each Action as its assembled text (the fragments alone name functions defined in shared code), with
 * TypeScript's checkJs and a small declaration of what Auth0's sandboxes provide (`auth0-globals.d.ts`
 * beside this file: the scripts' callback errors and `configuration`; the Actions' `exports`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { ACTIONS } from "../../infra/auth0/actions";
import { customDbScripts } from "../../infra/auth0/scripts";

const dir = mkdtempSync(join(tmpdir(), "uploaded-typecheck-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(files: Record<string, string>): string[] {
    const names = Object.entries(files).map(([name, text]) => {
        const path = join(dir, name);
        writeFileSync(path, `// @ts-check\n${text}`);
        return path;
    });
    const program = ts.createProgram([...names, join(__dirname, "auth0-globals.d.ts")], {
        allowJs: true,
        checkJs: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        lib: ["lib.es2024.d.ts", "lib.dom.d.ts"],
        types: ["node"],
        typeRoots: [join(__dirname, "..", "..", "node_modules", "@types")],
        strict: false,
        skipLibCheck: true,
    });
    return ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.file && names.includes(d.file.fileName))
        .map(
            (d) =>
                `${d.file!.fileName.slice(dir.length + 1)}:${d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
        );
}

describe("the uploaded JavaScript, type-checked as assembled", () => {
    it("the six custom-database scripts", () => {
        const scripts = customDbScripts();
        // Each script is its own file in Auth0: checked one at a time, each with its shared code.
        for (const [name, text] of Object.entries(scripts)) expect(check({ [`${name}.js`]: text }), name).toEqual([]);
    }, 60_000);

    it("reports a type error in uploaded code (the check can fail)", () => {
        const errors = check({
            "broken.js": "async function login(email, password, callback) { callback(new WrongUsernameOrPasswordError(email, 42)); return 'x'.toUpperCas(); }",
        });
        expect(errors).toEqual([
            expect.stringMatching(/Argument of type 'number' is not assignable/),
            expect.stringMatching(/Property 'toUpperCas' does not exist/),
        ]);
    });

    it("the post-login Actions", () => {
        for (const a of ACTIONS) expect(check({ [`${a.key}.js`]: a.code }), a.key).toEqual([]);
    }, 60_000);
});
