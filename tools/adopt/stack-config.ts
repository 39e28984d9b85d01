/**
 * The stack's validated configuration, read from its stack file without the Pulumi runtime: the
 * same `parseStackConfig` the program runs, so the tool sees exactly the names and settings the
 * program would use. Secrets are never read: the tool only needs to know they are set (and set
 * encrypted) to validate the rest, and a secret that comes from a Pulumi ESC environment is not in
 * the file at all, so a required secret the file lacks is taken as set elsewhere (whatever the
 * config check requires, so a new secret key needs no change here).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { ConfigError, ConfigInput, decodeConfigValue, parseStackConfig, SECRET_KEYS, SecretKey } from "../../infra/config";
import { AdoptError } from "./management-api";
import { readSiblingStackTenants } from "../../infra/config/tenants";
import type { Auth0StackConfig } from "./plan";

/** The config check's problem for a required secret that is not set. */
const REQUIRED_SECRET = /^[^:]+:(\w+): required; set it with `pulumi config set --secret /;

/** The stack as the user names it (`dev` or `acme/dev`) and as URNs and stack files name it (`dev`). */
export function stackName(given: string): string {
    const parts = given.split("/");
    const name = parts[parts.length - 1] ?? "";
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || parts.length > 3) throw new AdoptError(`--stack: "${given}" is not a stack name (dev, or <org>/dev)`);
    return name;
}

/** The project's name and its stack files' directory, from Pulumi.yaml. */
export function readProject(root: string): { name: string; stackConfigDir: string } {
    const file = join(root, "Pulumi.yaml");
    if (!existsSync(file)) throw new AdoptError(`no Pulumi.yaml in ${root}: run the tool from the project's directory`);
    const doc = yaml.load(readFileSync(file, "utf8")) as { name?: unknown; stackConfigDir?: unknown };
    if (typeof doc?.name !== "string") throw new AdoptError(`${file} has no project name`);
    return { name: doc.name, stackConfigDir: typeof doc.stackConfigDir === "string" ? doc.stackConfigDir : "." };
}

/** The config values and secrets of a stack file, as `parseStackConfig` takes them. */
export function stackFileInput(project: string, stack: string, text: string, file: string): Pick<ConfigInput, "values" | "secrets"> {
    const doc = (yaml.load(text) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, unknown> = {};
    const secrets: ConfigInput["secrets"] = {};
    for (const [fullKey, value] of Object.entries(doc.config ?? {})) {
        if (!fullKey.startsWith(`${project}:`)) continue;
        const key = fullKey.slice(project.length + 1);
        if ((SECRET_KEYS as readonly string[]).includes(key)) {
            const encrypted = value !== null && typeof value === "object" && typeof (value as { secure?: unknown }).secure === "string";
            secrets[key as SecretKey] = { encrypted };
            continue;
        }
        // The CLI hands the program every value as text (objects as JSON); so does this.
        values[key] = typeof value === "string" ? decodeConfigValue(value) : value;
    }
    if (Object.keys(values).length === 0) throw new AdoptError(`${file} sets no ${project}:* key for stack ${stack}`);
    return { values, secrets };
}

/** Reads and validates the stack's configuration; refuses a stack without the Auth0 side. */
export function readStackConfig(root: string, given: string): { config: Auth0StackConfig; file: string } {
    const stack = stackName(given);
    const project = readProject(root);
    const file = join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
    const path = join(root, file);
    if (!existsSync(path)) throw new AdoptError(`no stack file ${file} for stack ${stack}`);
    const input = stackFileInput(project.name, stack, readFileSync(path, "utf8"), file);
    const otherStacks = readSiblingStackTenants(project.name, stack, join(root, project.stackConfigDir));
    const parse = (secrets: ConfigInput["secrets"]) => parseStackConfig({ project: project.name, stack, values: input.values, secrets, otherStacks });
    let config;
    try {
        config = parse(input.secrets);
    } catch (err) {
        // A required secret the file does not hold is taken as set elsewhere (a Pulumi ESC
        // environment): the tool never needs its value. Whatever else is wrong stays an error.
        const missing =
            err instanceof ConfigError
                ? err.problems.map((p) => REQUIRED_SECRET.exec(p)?.[1]).filter((k): k is SecretKey => (SECRET_KEYS as readonly string[]).includes(k ?? ""))
                : [];
        if (missing.length === 0) throw err;
        config = parse({ ...input.secrets, ...Object.fromEntries(missing.map((k) => [k, { encrypted: true }])) });
    }
    if (config.postgresOnly) throw new AdoptError(`stack ${stack} is postgresOnly: it deploys no Auth0 side, there is nothing to adopt`);
    return { config, file };
}
