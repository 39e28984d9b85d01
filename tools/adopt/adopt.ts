/**
 * The adoption of a tenant, as a function: reads the stack's config, signs in to the tenant's
 * Management API with the deploy application, finds what the stack would create, and returns the
 * import file and the report. Writes nothing anywhere; `index.ts` is the command line around it.
 */
import type { RetryPolicy } from "../../infra/dynamic/retry";
import { discover, Discovery } from "./discover";
import { bootstrapTargets, buildImportFile, ImportFile } from "./import-file";
import { ApiStats, connectManagementApi } from "./management-api";
import { Auth0Plan, auth0Plan, Auth0StackConfig, desiredSettings } from "./plan";

export interface AdoptOptions {
    config: Auth0StackConfig;
    /** The stack as the user named it (`dev` or `acme/dev`), for the commands printed. */
    stackRef: string;
    clientSecret: string;
    /** `https://<auth0.domain>` unless told (http only on loopback, for tests). */
    baseUrl?: string;
    /** Where the import file is written (for the commands printed). */
    importFilePath: string;
    onWait?: (ms: number, path: string) => void;
    /** The retry bound on 429s (defaults: management-api.ts). */
    retry?: Partial<RetryPolicy>;
}

export interface AdoptResult {
    plan: Auth0Plan;
    discovery: Discovery;
    /** Undefined when the adoption is blocked. */
    importFile?: ImportFile;
    stats: ApiStats;
    /** The report, as printed. */
    report: string;
}

export async function adoptTenant(options: AdoptOptions): Promise<AdoptResult> {
    const { config } = options;
    const plan = auth0Plan(config);
    const desired = desiredSettings(config);
    const api = await connectManagementApi({
        domain: config.auth0.domain,
        clientId: config.auth0.clientId,
        clientSecret: options.clientSecret,
        baseUrl: options.baseUrl,
        onWait: options.onWait,
        retry: options.retry,
    });
    const discovery = await discover(api, plan, desired);
    const importFile = discovery.blockers.length === 0 ? buildImportFile(plan, discovery.found) : undefined;
    return { plan, discovery, importFile, stats: api.stats, report: renderReport(options, plan, discovery, importFile, api.stats) };
}

function section(title: string, lines: string[]): string[] {
    return lines.length === 0 ? [] : ["", title, ...lines.map((l) => `  - ${l}`)];
}

/** The report: per object what was found and what the first `up` changes; what the stack does not declare; the next steps. */
export function renderReport(
    options: Pick<AdoptOptions, "config" | "stackRef" | "importFilePath">,
    plan: Auth0Plan,
    d: Discovery,
    importFile: ImportFile | undefined,
    stats: ApiStats,
): string {
    const { config } = options;
    const found = d.found.filter((f) => f.importId !== undefined);
    const missing = d.found.filter((f) => f.importId === undefined);
    const out: string[] = [
        `Adoption of tenant ${config.auth0.domain} by stack ${options.stackRef} (read-only: nothing in the tenant was changed).`,
        `Looked at ${Object.entries(d.counts)
            .map(([k, n]) => `${n} ${k}`)
            .join(
                ", ",
            )} in ${stats.requests} requests (${stats.pages} pages${stats.rateLimited > 0 ? `, ${stats.rateLimited} rate-limited and retried after ${Math.round(stats.waitedMs / 100) / 10} s` : ""}).`,
    ];
    out.push("", `Found, to import (${found.length} of the ${d.found.length} Auth0 resources the stack registers):`);
    for (const f of found) {
        out.push(`  = ${f.planned.name} (${f.planned.type}) <- ${f.label}`);
        if (f.differences.length === 0) out.push("      matches the stack's config");
        for (const diff of f.differences) out.push(`      ~ ${diff}`);
    }
    if (missing.length > 0) {
        out.push("", `Not found: the first up creates them (${missing.length}):`);
        for (const f of missing) out.push(`  + ${f.planned.name} (${f.planned.type}): ${f.label}`);
    }
    out.push(...section("In the tenant but not declared by the stack, and what the first up does:", d.undeclared));
    out.push(...section("Fix before the first up:", d.beforeFirstUp));
    if (d.blockers.length > 0) {
        out.push(...section("Blocked: no import file was written, because:", d.blockers));
        return out.join("\n") + "\n";
    }
    const stack = options.stackRef;
    const targets = bootstrapTargets(plan);
    const components = (importFile?.resources ?? []).filter((r) => r.component).length;
    out.push(
        "",
        `Wrote ${options.importFilePath}: ${(importFile?.resources.length ?? 0) - components} resources to import, under ${components} components, with the stack's own Auth0 provider.`,
        "",
        "Next (README, Adopting an existing tenant):",
        "  1. Put the stack's root component, its settings guard and its Auth0 provider in the state (creates nothing in the tenant):",
        `     pulumi up --stack ${stack} --yes ${targets.map((t) => `--target '${t}'`).join(" ")}`,
        "  2. Import what was found:",
        `     pulumi import --stack ${stack} --file ${options.importFilePath} --generate-code=false --yes`,
        "  3. Preview: updates to the objects above, creates of what was not found, and nothing replaced:",
        `     pulumi preview --stack ${stack} --diff --policy-pack policy`,
    );
    return out.join("\n") + "\n";
}
