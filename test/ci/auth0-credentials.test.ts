/**
 * Issue #11 points 7 and 8, in the workflows: a refresh configures providers from the current stack
 * config (so a rotated deploy secret works at once), and the scheduled renewal runs no update, so
 * fetches no Management API token, when the token is not due. docs/ci.md gives the runbook and the
 * token budget these make true.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";

const DIR = join(__dirname, "..", "..", ".github", "workflows");
type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; id?: string };
const jobsOf = (file: string) => (yaml.load(readFileSync(join(DIR, file), "utf8")) as { jobs: Record<string, { steps: Step[] }> }).jobs;
const docs = readFileSync(join(__dirname, "..", "..", "docs", "ci.md"), "utf8");

describe("point 7: rotating the deploy application's secret", () => {
    it("every Pulumi step that refreshes runs the program for it (PULUMI_RUN_PROGRAM), so the state's old secret is never used", () => {
        let refreshing = 0;
        for (const file of ["deploy.yml", "pull-request.yml", "refresh-management-token.yml"]) {
            for (const [id, job] of Object.entries(jobsOf(file))) {
                for (const step of job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.refresh === true)) {
                    refreshing += 1;
                    expect(step.env?.PULUMI_RUN_PROGRAM, `${file} ${id} ${step.name}`).toBe("true");
                }
            }
        }
        expect(refreshing).toBeGreaterThanOrEqual(3);
    });

    it("the scheduled renewal never refreshes", () => {
        for (const job of Object.values(jobsOf("refresh-management-token.yml"))) {
            for (const step of job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command)) expect(step.with?.refresh).toBeUndefined();
        }
    });

    it("docs/ci.md has the runbook", () => {
        expect(docs).toMatch(/## Rotating the deploy application's secret/);
        expect(docs).toMatch(/--run-program/);
    });
});

describe("point 8: the Management API token budget", () => {
    it("the scheduled renewal stops before the update when the token is not due", () => {
        const steps = jobsOf("refresh-management-token.yml").refresh!.steps;
        const find = steps.findIndex((s) => s.id === "targets");
        const up = steps.findIndex((s) => s.with?.command === "up");
        expect(find).toBeGreaterThanOrEqual(0);
        expect(up).toBeGreaterThan(find);
        expect(steps[find]!.run).toMatch(/managementTokenExpiresAt/);
        expect(steps[find]!.run).toMatch(/refreshBeforeSeconds/);
        expect(steps[find]!.run).toMatch(/skip=true/);
        expect(steps[up]!.if).toMatch(/steps\.targets\.outputs\.skip != 'true'/);
    });

    it("docs/ci.md states the tokens a pull-request push, a deploy and the scheduled jobs use", () => {
        const section = /## Management API token budget([\s\S]*?)(\n## |$)/.exec(docs)?.[1] ?? "";
        for (const what of [/pull-request push/i, /deploy/i, /scheduled/i, /cap/i]) expect(section).toMatch(what);
    });
});
