/**
 * The scheduled drift check (.github/workflows/drift.yml): what it runs, where, with which
 * credentials and permissions; the workflow rules that cover it (each with a case that must trip
 * it); and scripts/drift-issue.sh, which keeps one issue per stack, run against a recording
 * stand-in for the gh CLI.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { actionlint, checkWorkflow, DEPLOY_ORDER, formatLint, parseWorkflow, pulumiCommands, stacksIn } from "./workflow-rules";

const ROOT = join(__dirname, "..", "..");
const FILE = join(ROOT, ".github", "workflows", "drift.yml");
const text = readFileSync(FILE, "utf8");
const SCRIPT = join(ROOT, "scripts", "drift-issue.sh");

describe("drift.yml", () => {
    const wf = parseWorkflow(text, "drift.yml");

    it("runs once a day and on demand, passes actionlint and the project's rules", async () => {
        expect(wf.triggers.sort()).toEqual(["schedule", "workflow_dispatch"]);
        expect((wf.raw.on as { schedule: { cron: string }[] }).schedule).toEqual([{ cron: "41 5 * * *" }]);
        const lint = await actionlint(text, ".github/workflows/drift.yml");
        expect(lint, formatLint("drift.yml", lint)).toEqual([]);
        expect(checkWorkflow(text, "drift.yml")).toEqual([]);
    });

    it("checks each stack in its <stack>-preview environment, holding its pulumi-<stack> group, with the read-only token exchanged by OIDC", () => {
        const variants = wf.jobs.get("check") ?? [];
        expect(variants.map((v) => v.matrix.stack)).toEqual([...DEPLOY_ORDER]);
        for (const v of variants) {
            const stack = v.matrix.stack!;
            expect(v.environment).toBe(`${stack}-preview`);
            expect(v.concurrencyGroup).toBe(`pulumi-${stack}`);
            expect(v.cancelInProgress).toBe(false);
            expect(v.permissions).toEqual({ contents: "read", deployments: "read", "id-token": "write" });
            const commands = pulumiCommands(v, wf.env);
            expect(commands.map((c) => [c.command, stacksIn(c.stack)])).toEqual([
                ["stack", [stack]],
                ["preview", [stack]],
            ]);
            const exchange = v.steps.findIndex((s) => s.uses?.startsWith("pulumi/auth-actions@"));
            expect(exchange).toBeGreaterThan(-1);
            expect(exchange).toBeLessThan(commands[0]!.step);
        }
        const preview = variants[0]!.steps.find((s) => s.name === "Refresh-preview, expecting no changes")!;
        expect(preview.run).toMatch(/pulumi preview --stack "\$STACK" --refresh --diff --expect-no-changes --policy-pack policy /);
        expect(preview.run).toMatch(/--exclude "\$urn"/);
        expect(preview.env).toEqual({ PULUMI_RUN_PROGRAM: "true" });
        // Drift is told from a failure by the CLI's own message.
        expect(preview.run).toContain("grep -Eq 'no changes were expected( for [^ ]+)? but changes were proposed'");
        // At the commit last deployed to the stack, found before any token is exchanged.
        const raw = (wf.raw.jobs as Record<string, { steps: { id?: string; uses?: string; if?: string; with?: Record<string, string> }[] }>).check.steps;
        const checkout = raw.find((s) => s.uses?.startsWith("actions/checkout@"))!;
        expect(checkout.with?.ref).toBe("${{ steps.deployed.outputs.sha }}");
        expect(raw.find((s) => s.uses?.startsWith("pulumi/auth-actions@"))!.if).toBe("steps.deployed.outputs.sha != ''");
    });

    it("keeps the issue in a job of its own: issues: write, no Pulumi, no token, fed by the check's artifact", () => {
        const [issue] = wf.jobs.get("issue") ?? [];
        expect(issue!.permissions).toEqual({ contents: "read", issues: "write" });
        expect(issue!.needs).toEqual(["check"]);
        expect(issue!.environment).toBeUndefined();
        expect(pulumiCommands(issue!, wf.env)).toEqual([]);
        expect(issue!.steps.some((s) => s.uses?.startsWith("pulumi/"))).toBe(false);
        expect(issue!.steps.at(-1)!.run).toBe('scripts/drift-issue.sh "$STACK_NAME" drift');
        expect(issue!.steps.at(-1)!.env).toMatchObject({ GH_TOKEN: "${{ github.token }}" });
        expect((wf.raw.jobs as Record<string, { if?: string }>).issue.if).toBe("${{ !cancelled() }}");
    });
});

describe("the workflow rules that cover it", () => {
    const edit = (from: string, to: string) => {
        if (!text.includes(from)) throw new Error(`test setup: ${JSON.stringify(from)} is not in drift.yml`);
        return checkWorkflow(text.replace(from, to), "case.yml").map((f) => `[${f.rule}] ${f.message}`);
    };

    it("issues: write on the job that runs Pulumi is refused", () => {
        expect(edit("      deployments: read\n", "      deployments: read\n      issues: write\n").join("\n")).toMatch(
            /\[pull-requests-write-only-for-comments\] case\.yml: job "check" has issues: write and runs Pulumi or holds a Pulumi token/,
        );
    });

    it("issues: write on a job that keeps no issue is refused", () => {
        expect(edit('        run: scripts/drift-issue.sh "$STACK_NAME" drift\n', "        run: cat drift/status\n").join("\n")).toMatch(
            /\[pull-requests-write-only-for-comments\] case\.yml: job "issue" has issues: write but opens, edits or closes no issue/,
        );
    });

    it("another write permission on the issue job is refused", () => {
        expect(edit("      issues: write\n", "      issues: write\n      packages: write\n").join("\n")).toMatch(
            /job "issue" has packages: write; only pull-requests: write/,
        );
    });

    it("a scheduled preview outside the stack's group, or cancellable, is refused", () => {
        expect(edit("      group: pulumi-${{ matrix.stack }}\n", "      group: drift-${{ matrix.stack }}\n").join("\n")).toMatch(
            /\[pulumi-concurrency\] case\.yml: job "check" \(stack=dev\) runs pulumi preview on dev in concurrency group "drift-dev"; it must be "pulumi-dev"/,
        );
        expect(
            edit(
                "      group: pulumi-${{ matrix.stack }}\n      cancel-in-progress: false\n",
                "      group: pulumi-${{ matrix.stack }}\n      cancel-in-progress: true\n",
            ).join("\n"),
        ).toMatch(/cancel-in-progress must be false/);
    });

    it("the check in an environment of another stack, or without the OIDC exchange, is refused", () => {
        expect(edit("    environment: ${{ matrix.stack }}-preview\n", "    environment: prod-preview\n").join("\n")).toMatch(
            /\[pulumi-environment\] .*job "check" \(stack=dev\) runs pulumi stack on dev in environment "prod-preview"/,
        );
        const noExchange = text.replace(/ {6}- name: Pulumi token for \$\{\{ matrix\.stack \}\}-preview \(OIDC\)\n(?: {8}.*\n)+/, "");
        expect(
            checkWorkflow(noExchange, "case.yml")
                .map((f) => f.message)
                .join("\n"),
        ).toMatch(/runs pulumi stack without a pulumi\/auth-actions step/);
    });
});

// ---------------------------------------------------------------------------------------------
// scripts/drift-issue.sh

/** A gh stand-in: issues kept in $FAKE_DIR/issues.json, every command line logged. */
const FAKE_GH = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$*" >> "$FAKE_DIR/argv.log"
store="$FAKE_DIR/issues.json"
[[ -e "$store" ]] || echo '[]' > "$store"
arg() { local name="$1"; shift; while [[ $# -gt 0 ]]; do if [[ "$1" == "$name" ]]; then echo "$2"; return; fi; shift; done; }
case "$1 $2" in
  "issue list") jq '[.[] | select(.state == "open") | {number, title}]' "$store" ;;
  "issue view") jq --argjson n "$3" '.[] | select(.number == $n) | {body}' "$store" ;;
  "issue create")
    n=$(( $(jq 'length' "$store") + 1 ))
    jq --argjson n "$n" --arg t "$(arg --title "$@")" --rawfile b "$(arg --body-file "$@")" '. + [{number: $n, title: $t, body: $b, state: "open", comments: []}]' "$store" > "$store.new" && mv "$store.new" "$store"
    echo "https://github.example/acme/repo/issues/$n" ;;
  "issue edit")
    jq --argjson n "$3" --rawfile b "$(arg --body-file "$@")" 'map(if .number == $n then .body = $b else . end)' "$store" > "$store.new" && mv "$store.new" "$store" ;;
  "issue comment")
    jq --argjson n "$3" --arg c "$(arg --body "$@")" 'map(if .number == $n then .comments += [$c] else . end)' "$store" > "$store.new" && mv "$store.new" "$store" ;;
  "issue close")
    jq --argjson n "$3" 'map(if .number == $n then .state = "closed" else . end)' "$store" > "$store.new" && mv "$store.new" "$store" ;;
  "label create") ;;
  *) echo "fake gh: unexpected command: $*" >&2; exit 2 ;;
esac
`;

interface Issue {
    number: number;
    title: string;
    body: string;
    state: string;
    comments: string[];
}

const PREVIEW_DRIFT = (changed: string) => `Previewing update (acme/dev)

View in Browser (Ctrl+O): https://app.pulumi.com/acme/auth0-postgres/dev/previews/${Math.random().toString(36).slice(2)}

     Type                      Name                            Plan       Info
     pulumi:pulumi:Stack       auth0-postgres-dev
 ~   └─ auth0:index:Client     auth0-postgres-dev-apps-spa     update     [diff: ~callbacks]

  auth0:index/client:Client: (update)
      ~ callbacks: [
          ~ [0]: "${changed}" => "https://dev.app.acme.test/callback"
        ]
Resources:
    ~ 1 to update
    70 unchanged

Duration: ${Math.floor(Math.random() * 90)}s
error: no changes were expected but changes were proposed
`;

const dirs: string[] = [];
afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sandbox() {
    const dir = mkdtempSync(join(tmpdir(), "drift-issue-"));
    dirs.push(dir);
    for (const d of ["bin", "fake", "drift"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "bin", "gh"), FAKE_GH);
    chmodSync(join(dir, "bin", "gh"), 0o755);
    const result = (status: string, preview = "", commit = "0123456789abcdef0123456789abcdef01234567") => {
        writeFileSync(join(dir, "drift", "status"), `${status}\n`);
        writeFileSync(join(dir, "drift", "commit"), `${commit}\n`);
        writeFileSync(join(dir, "drift", "preview.txt"), preview);
    };
    const run = (stack = "dev") => {
        const r = spawnSync("bash", [SCRIPT, stack, join(dir, "drift")], {
            encoding: "utf8",
            env: {
                PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}`,
                HOME: dir,
                FAKE_DIR: join(dir, "fake"),
                RUN_URL: "https://github.example/acme/repo/actions/runs/42",
            },
            timeout: 20_000,
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    const issues = (): Issue[] =>
        existsSync(join(dir, "fake", "issues.json")) ? (JSON.parse(readFileSync(join(dir, "fake", "issues.json"), "utf8")) as Issue[]) : [];
    const argv = () => (existsSync(join(dir, "fake", "argv.log")) ? readFileSync(join(dir, "fake", "argv.log"), "utf8") : "");
    return { result, run, issues, argv };
}

describe("scripts/drift-issue.sh", () => {
    it("parses", () => {
        expect(spawnSync("bash", ["-n", SCRIPT]).status).toBe(0);
    });

    it("opens one issue on drift, with the diff; the same drift again only updates it; a new drift adds a comment", () => {
        const s = sandbox();
        s.result("drift", PREVIEW_DRIFT("https://old.example.test/callback"));
        expect(s.run().status).toBe(0);
        let [issue] = s.issues();
        expect(issue).toMatchObject({ number: 1, title: "Drift: dev differs from the code deployed to it", state: "open", comments: [] });
        expect(issue!.body).toContain("**dev**");
        expect(issue!.body).toContain("commit `0123456789abcdef0123456789abcdef01234567`");
        expect(issue!.body).toContain('~ [0]: "https://old.example.test/callback" => "https://dev.app.acme.test/callback"');
        expect(issue!.body).not.toMatch(/View in Browser|Duration:/);
        expect(s.argv()).toMatch(/^label create drift /m);

        // The same drift (another permalink, another duration): no second issue, no comment.
        s.result("drift", PREVIEW_DRIFT("https://old.example.test/callback"));
        expect(s.run().status).toBe(0);
        expect(s.issues()).toHaveLength(1);
        expect(s.issues()[0]!.comments).toEqual([]);

        // Another drift: the description shows it, a comment says so.
        s.result("drift", PREVIEW_DRIFT("https://other.example.test/callback"));
        expect(s.run().output).toContain("updated issue #1");
        [issue] = s.issues();
        expect(issue!.body).toContain("https://other.example.test/callback");
        expect(issue!.comments).toEqual([
            "The drift of dev changed (https://github.example/acme/repo/actions/runs/42): the description shows the latest diff.",
        ]);
        expect(s.argv().match(/^issue create/gm)).toHaveLength(1);
    });

    it("closes the open issue on the first clean check, with a comment; a clean check without an issue does nothing", () => {
        const s = sandbox();
        s.result("clean");
        expect(s.run().status).toBe(0);
        expect(s.argv()).toBe("issue list --state open --label drift --limit 100 --json number,title\n");
        s.result("drift", PREVIEW_DRIFT("https://old.example.test/callback"));
        s.run();
        s.result("clean");
        expect(s.run().output).toContain("closed issue #1");
        expect(s.issues()[0]).toMatchObject({
            state: "closed",
            comments: [
                "No drift in dev any more (https://github.example/acme/repo/actions/runs/42, commit `0123456789abcdef0123456789abcdef01234567`): closing.",
            ],
        });
        // Drift again later: a new issue (the closed one is history).
        s.result("drift", PREVIEW_DRIFT("https://again.example.test/callback"));
        s.run();
        expect(s.issues().map((i) => [i.number, i.state])).toEqual([
            [1, "closed"],
            [2, "open"],
        ]);
    });

    it("keeps one issue per stack, and leaves the issue alone when the check failed or the stack was never deployed", () => {
        const s = sandbox();
        s.result("drift", PREVIEW_DRIFT("https://old.example.test/callback"));
        s.run("dev");
        s.run("prod");
        expect(s.issues().map((i) => i.title)).toEqual(["Drift: dev differs from the code deployed to it", "Drift: prod differs from the code deployed to it"]);
        const before = JSON.stringify(s.issues());
        s.result("failed", "error: failed to get a token");
        const failed = s.run("dev");
        expect(failed.status).toBe(0);
        expect(failed.output).toContain("::warning::the drift check of dev did not run to the end");
        s.result("not-deployed");
        expect(s.run("staging").output).toContain("staging has no successful deployment yet");
        expect(JSON.stringify(s.issues())).toBe(before);
        s.result("weird");
        expect(s.run().status).toBe(1);
    });

    it("cuts a diff longer than an issue can hold", () => {
        const s = sandbox();
        s.result("drift", `${"~ a long line of the diff\n".repeat(5000)}error: no changes were expected but changes were proposed\n`);
        expect(s.run().status).toBe(0);
        const body = s.issues()[0]!.body;
        expect(body.length).toBeLessThan(65_536);
        expect(body).toContain("... (cut: the whole preview is in the run's log)");
    });
});
