/**
 * scripts/bootstrap-env.sh: it parses (`bash -n`), documents itself (`--help`), and does what it
 * says against a recording stand-in for the pulumi CLI (the real CLI is not installed here; the
 * stand-in logs each command line and keeps what `config set` reads on stdin). The point of the
 * script is that secrets reach `pulumi config set --secret` on stdin only, so the test checks that
 * no command line and no output carries them.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..");
const SCRIPT = join(ROOT, "scripts", "bootstrap-env.sh");

const FAKE_PULUMI = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >> "$FAKE_DIR/argv.log"
case "$1 \${2:-}" in
  "whoami "*) echo tester ;;
  "org get-default") echo acme ;;
  "stack select") [[ -e "$FAKE_DIR/stack-exists" ]] || { echo "no stack named $3" >&2; exit 255; } ;;
  "stack init") touch "$FAKE_DIR/stack-exists" ;;
  "config get")
    if [[ "$*" == *"--path sync.mode"* ]]; then
      [[ -n "\${FAKE_SYNC_MODE:-}" ]] || exit 255
      echo "$FAKE_SYNC_MODE"; exit 0
    fi
    key="\${!#}"
    [[ -e "$FAKE_DIR/set-$key" ]] || { echo "configuration key '$key' not found" >&2; exit 255; }
    cat "$FAKE_DIR/set-$key" ;;
  "config set") key="\${!#}"; cat > "$FAKE_DIR/set-$key" ;;
  *) echo "fake pulumi: unexpected command: $*" >&2; exit 2 ;;
esac
`;

interface Sandbox {
    dir: string;
    fake: string;
    run: (args: string[], input: string, env?: Record<string, string>) => { status: number | null; output: string };
    argv: () => string;
    stored: (key: string) => string | undefined;
}

const sandboxes: string[] = [];
afterEach(() => {
    for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the repository layout the script needs, with the fake CLI first on PATH. */
function sandbox(): Sandbox {
    const dir = mkdtempSync(join(tmpdir(), "bootstrap-env-"));
    sandboxes.push(dir);
    mkdirSync(join(dir, "scripts"));
    mkdirSync(join(dir, "stacks"));
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "fake"));
    copyFileSync(SCRIPT, join(dir, "scripts", "bootstrap-env.sh"));
    copyFileSync(join(ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    writeFileSync(join(dir, "bin", "pulumi"), FAKE_PULUMI);
    chmodSync(join(dir, "bin", "pulumi"), 0o755);
    const fake = join(dir, "fake");
    return {
        dir,
        fake,
        run: (args, input, env = {}) => {
            const r = spawnSync("bash", [join(dir, "scripts", "bootstrap-env.sh"), ...args], {
                input,
                encoding: "utf8",
                env: { PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}`, HOME: dir, FAKE_DIR: fake, ...env },
                timeout: 20_000,
            });
            return { status: r.status, output: `${r.stdout}${r.stderr}` };
        },
        argv: () => (existsSync(join(fake, "argv.log")) ? readFileSync(join(fake, "argv.log"), "utf8") : ""),
        stored: (key) => (existsSync(join(fake, `set-${key}`)) ? readFileSync(join(fake, `set-${key}`), "utf8") : undefined),
    };
}

const secret = () => `s-${randomBytes(12).toString("base64url")}`;

describe("scripts/bootstrap-env.sh", () => {
    it("parses (bash -n)", () => {
        const r = spawnSync("bash", ["-n", SCRIPT], { encoding: "utf8" });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    it("--help says what it does and where each secret comes from, without touching pulumi", () => {
        const box = sandbox();
        const r = box.run(["--help"], "");
        expect(r.status).toBe(0);
        expect(r.output).toMatch(/^Usage: scripts\/bootstrap-env\.sh \[options\] <stack>/);
        expect(r.output).toContain("pulumi stack init <org>/<stack>");
        for (const key of ["auth0ClientSecret", "postgresPassword", "hasuraAdminSecret", "--template", "--secret", "--org"]) expect(r.output).toContain(key);
        expect(r.output).toMatch(/Client Secret/);
        expect(box.argv()).toBe("");
    });

    it("creates the stack, copies the template without its secrets, and passes each secret on stdin only", () => {
        const box = sandbox();
        const template = readFileSync(join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
        const foreignCiphertext = `v1:${randomBytes(16).toString("base64")}`;
        writeFileSync(
            join(box.dir, "stacks", "Pulumi.dev.yaml"),
            `encryptionsalt: v1:abc:def\n${template.replace("config:\n", `config:\n  auth0-postgres:postgresPassword:\n    secure: ${foreignCiphertext}\n  auth0-postgres:other:\n    secure: ${foreignCiphertext}\n`)}`,
        );
        const values = { auth0ClientSecret: secret(), postgresPassword: secret(), hasuraAdminSecret: secret() };
        const r = box.run(["--template", "dev", "staging"], `${values.auth0ClientSecret}\n${values.postgresPassword}\n${values.hasuraAdminSecret}\n`, {
            FAKE_SYNC_MODE: "hasura",
        });
        expect(r.output).not.toMatch(/bootstrap-env: /);
        expect(r.status).toBe(0);

        const argv = box.argv();
        expect(argv).toContain("stack init acme/staging\n");
        expect(argv).toContain("config set --secret --stack acme/staging auth0ClientSecret\n");
        expect(argv).toContain("config set --secret --stack acme/staging hasuraAdminSecret\n");
        for (const [key, value] of Object.entries(values)) {
            expect(box.stored(key), key).toBe(value);
            expect(argv).not.toContain(value);
            expect(r.output).not.toContain(value);
        }

        const copy = readFileSync(join(box.dir, "stacks", "Pulumi.staging.yaml"), "utf8");
        expect(copy).not.toContain("secure:");
        expect(copy).not.toContain(foreignCiphertext);
        expect(copy).not.toContain("encryptionsalt");
        expect(copy).toContain("  auth0-postgres:environment: staging\n");
        expect(copy).not.toContain("auth0-postgres:environment: dev");
        // Everything else of the template is kept, line for line.
        const kept = template.split("\n").filter((l) => !l.startsWith("  auth0-postgres:environment:"));
        expect(copy.split("\n").filter((l) => !l.startsWith("  auth0-postgres:environment:"))).toEqual(kept);
    });

    it("asks only for the Postgres-sync secrets, keeps set ones, and rotates one with --secret", () => {
        const box = sandbox();
        writeFileSync(join(box.dir, "stacks", "Pulumi.prod.yaml"), "config:\n  auth0-postgres:environment: prod\n");
        writeFileSync(join(box.fake, "stack-exists"), "");
        writeFileSync(join(box.fake, "set-auth0ClientSecret"), "already");
        const password = secret();
        const first = box.run(["--org", "acme", "prod"], `${password}\n`);
        expect(first.status).toBe(0);
        expect(first.output).toContain("auth0ClientSecret is already set");
        expect(box.stored("auth0ClientSecret")).toBe("already");
        expect(box.stored("postgresPassword")).toBe(password);
        expect(box.stored("hasuraAdminSecret")).toBeUndefined();
        expect(box.argv()).not.toContain("stack init");

        const rotated = secret();
        const second = box.run(["--org", "acme", "--secret", "auth0ClientSecret", "prod"], `${rotated}\n`);
        expect(second.status).toBe(0);
        expect(box.stored("auth0ClientSecret")).toBe(rotated);
        expect(box.stored("postgresPassword")).toBe(password);
    });

    it("asks only for the database password when the stack deploys the Postgres side alone (postgresOnly)", () => {
        const box = sandbox();
        writeFileSync(join(box.dir, "stacks", "Pulumi.local.yaml"), "config:\n  auth0-postgres:environment: local\n  auth0-postgres:postgresOnly: true\n");
        writeFileSync(join(box.fake, "stack-exists"), "");
        writeFileSync(join(box.fake, "set-postgresOnly"), "true");
        const password = secret();
        const run = box.run(["--org", "acme", "local"], `${password}\n`);
        expect(run.status).toBe(0);
        expect(box.stored("postgresPassword")).toBe(password);
        expect(box.stored("auth0ClientSecret")).toBeUndefined();
    });

    it("asks for the Supabase access token when the stack turns Supabase third-party auth on", () => {
        const box = sandbox();
        writeFileSync(join(box.dir, "stacks", "Pulumi.dev.yaml"), "config:\n  auth0-postgres:environment: dev\n");
        writeFileSync(join(box.fake, "stack-exists"), "");
        writeFileSync(join(box.fake, "set-supabaseAuth.enabled"), "true");
        const [client, password, token] = [secret(), secret(), secret()];
        const run = box.run(["--org", "acme", "dev"], `${client}\n${password}\n${token}\n`);
        expect(run.status).toBe(0);
        expect(box.stored("supabaseAccessToken")).toBe(token);
        expect(run.output).not.toContain(token);
        expect(box.argv()).not.toContain(token);
    });

    it("fails, naming the problem, on a missing template, an empty secret or an unknown key", () => {
        const box = sandbox();
        const noTemplate = box.run(["--org", "acme", "qa"], "");
        expect(noTemplate.status).toBe(1);
        expect(noTemplate.output).toContain("stacks/Pulumi.qa.yaml is missing; pass --template");

        writeFileSync(join(box.dir, "stacks", "Pulumi.qa.yaml"), "config:\n  auth0-postgres:environment: dev\n");
        const empty = box.run(["--org", "acme", "qa"], "\n");
        expect(empty.status).toBe(1);
        expect(empty.output).toContain("auth0ClientSecret: empty value; nothing was set");
        expect(box.stored("auth0ClientSecret")).toBeUndefined();

        const unknown = box.run(["--secret", "dbUrl", "qa"], "");
        expect(unknown.status).toBe(1);
        expect(unknown.output).toContain("--secret dbUrl: not a secret of this stack");
    });
});
