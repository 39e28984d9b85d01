import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * One stack per Auth0 tenant. The post-login trigger's bindings, the connection name and the role
 * names are singletons of a tenant: two stacks pointing at one tenant would each overwrite the
 * other's bindings on every `up`. The program refuses that before registering anything, by reading
 * the tenant (`auth0.domain`) of every other stack file of the project.
 */

/** Another stack and the tenant its stack file names. */
export interface StackTenant {
    stack: string;
    /** The stack file, relative to the project. */
    file: string;
    /** `auth0.domain`, or undefined when the file deploys no Auth0 side or names none. */
    domain?: string;
}

/**
 * The `auth0.domain` a stack file names, for the project `project`: block style (as every committed
 * file and the bootstrap template write it) or flow style (`{domain: ..., clientId: ...}`). Undefined
 * when the file has no Auth0 block or sets `postgresOnly: true`.
 */
export function stackFileTenant(project: string, text: string): string | undefined {
    const lines = text.split(/\r?\n/);
    if (lines.some((l) => new RegExp(`^\\s+${project}:postgresOnly:\\s*["']?true["']?\\s*(#.*)?$`).test(l))) return undefined;
    const start = lines.findIndex((l) => new RegExp(`^(\\s+)${project}:auth0:`).test(l));
    if (start < 0) return undefined;
    const clean = (v: string) =>
        v
            .replace(/\s+#.*$/, "")
            .trim()
            .replace(/^["']|["']$/g, "")
            .toLowerCase() || undefined;
    const head = lines[start]!;
    const flow = /:auth0:\s*\{(.*)\}/.exec(head);
    if (flow) {
        const m = /(?:^|,)\s*["']?domain["']?\s*:\s*([^,}]+)/.exec(flow[1]!);
        return m ? clean(m[1]!) : undefined;
    }
    const indent = /^(\s*)/.exec(head)![1]!.length;
    for (const line of lines.slice(start + 1)) {
        if (line.trim() === "" || line.trim().startsWith("#")) continue;
        if (/^(\s*)/.exec(line)![1]!.length <= indent) break;
        const m = /^\s+domain:\s*(.+)$/.exec(line);
        if (m) return clean(m[1]!);
    }
    return undefined;
}

/** The other stacks whose tenant is `domain` (case-insensitive). */
export function otherStacksOnTenant(stack: string, domain: string, others: StackTenant[]): StackTenant[] {
    const mine = domain.toLowerCase();
    return others.filter((o) => o.stack !== stack && o.domain === mine);
}

/**
 * The tenants of the project's other stack files (`<dir>/Pulumi.<stack>.yaml`), read from the
 * project directory (where Pulumi runs the program). A missing directory gives none.
 */
export function readSiblingStackTenants(project: string, stack: string, dir = join(process.cwd(), "stacks")): StackTenant[] {
    if (!existsSync(dir)) return [];
    const found: StackTenant[] = [];
    for (const name of readdirSync(dir).sort()) {
        const m = /^Pulumi\.(.+)\.ya?ml$/.exec(name);
        if (!m || m[1] === stack) continue;
        found.push({ stack: m[1]!, file: `stacks/${name}`, domain: stackFileTenant(project, readFileSync(join(dir, name), "utf8")) });
    }
    return found;
}
