/**
 * The README's "Your first hour" block, followed literally as far as a machine without the Pulumi
 * CLI can: the commands are replayed against the committed stack file and the same configuration
 * check the program runs first, so a README that previews before the secrets are set, selects a
 * stack before creating it, or sets a key the program does not know fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { ConfigInput, decodeConfigValue, parseStackConfig, rawConfigSchema, SECRET_KEYS, SecretKey } from "../../infra/config";

const ROOT = join(__dirname, "..", "..");
const PROJECT = "auth0-postgres";
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The commands of the first ```sh block under the heading, comments and blank lines dropped. */
function commandsUnder(heading: string): string[] {
    const section = README.slice(README.indexOf(`\n${heading}\n`));
    const block = /```sh\n([\s\S]*?)```/.exec(section);
    if (!block) throw new Error(`no sh block under ${heading}`);
    return block[1]!
        .split("\n")
        .map((l) => l.replace(/\s+#.*$/, "").trim())
        .filter((l) => l && !l.startsWith("#"));
}

/** What each replayed command did that the test checks. */
interface Replay {
    ran: string[];
    previews: { stack: string; config: ReturnType<typeof parseStackConfig> }[];
}

/** Replays `commands`; throws naming the command that a real first run would fail on. */
function replay(commands: string[]): Replay {
    const ran: string[] = [];
    const previews: Replay["previews"] = [];
    let stack: string | undefined;
    let values: Record<string, unknown> = {};
    const secrets: ConfigInput["secrets"] = {};
    const known = new Set<string>([...Object.keys(rawConfigSchema.shape), ...SECRET_KEYS]);
    for (const command of commands) {
        const words = command.split(/\s+/);
        ran.push(command);
        if (words[0] !== "pulumi") continue;
        const verb = words.slice(1, 3).join(" ");
        if (verb === "stack init") {
            stack = words[3]!;
            const doc = yaml.load(readFileSync(join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
            values = Object.fromEntries(
                Object.entries(doc.config)
                    .filter(([k]) => k.startsWith(`${PROJECT}:`))
                    .map(([k, v]) => [k.slice(PROJECT.length + 1), v]),
            );
            continue;
        }
        if (words[1] === "login") continue;
        if (!stack) throw new Error(`"${command}" runs before any \`pulumi stack init\`: no stack is selected yet`);
        if (verb === "stack select") {
            if (words[3] !== stack) throw new Error(`"${command}": stack ${words[3]} was never created`);
        } else if (verb === "config set" && words[3] === "--secret") {
            const key = words[4]!;
            if (!(SECRET_KEYS as readonly string[]).includes(key)) throw new Error(`"${command}": ${key} is not a secret key`);
            secrets[key as SecretKey] = { encrypted: true };
        } else if (verb === "config set") {
            const [key, value] = [words[3]!, words[4]];
            if (!known.has(key)) throw new Error(`"${command}": ${key} is not a key of the program`);
            if (value === undefined) throw new Error(`"${command}": a plain key needs a value on the command line`);
            values[key] = decodeConfigValue(value);
        } else if (verb === "config rm") {
            if (!(words[3]! in values)) throw new Error(`"${command}": ${words[3]} is not set`);
            delete values[words[3]!];
        } else if (words[1] === "preview" || words[1] === "up") {
            previews.push({ stack, config: parseStackConfig({ project: PROJECT, stack, values: structuredClone(values), secrets: { ...secrets } }) });
        } else {
            throw new Error(`"${command}": not a command this replay knows; teach it, or keep the README to these`);
        }
    }
    return { ran, previews };
}

describe("README: Your first hour", () => {
    const commands = commandsUnder("## Your first hour");

    it("installs and tests with exactly the commands .ci/run runs, before anything needs the Pulumi CLI", () => {
        expect(commands.slice(0, 2)).toEqual(["npm ci", "npm test"]);
        const ci = readFileSync(join(ROOT, ".ci", "run"), "utf8");
        expect(ci).toMatch(/^npm ci$/m);
        expect(ci).toMatch(/^npm test \|\|/m);
    });

    it("creates the stack before using it and sets the secrets before the first preview; every preview passes the configuration check", () => {
        const { previews } = replay(commands);
        // 5a: the Postgres side alone, then 5b: both sides, each previewed and applied.
        expect(previews.map((p) => p.config.postgresOnly)).toEqual([true, true, false, false]);
        expect(previews.every((p) => p.stack === "local")).toBe(true);
    });

    it("the replay itself refuses a preview before the secrets and a select before init (it can fail)", () => {
        expect(() => replay(["pulumi stack init local", "pulumi preview"])).toThrow(/postgresPassword: required/);
        expect(() => replay(["pulumi stack select dev", "pulumi preview"])).toThrow(/before any `pulumi stack init`/);
        expect(() => replay(["pulumi stack init local", "pulumi config set postgresOnyl true"])).toThrow(/not a key of the program/);
    });
});
