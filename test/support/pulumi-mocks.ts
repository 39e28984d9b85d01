/**
 * The resource graph under Pulumi's mock runtime: every registered resource is recorded with its
 * inputs twice, once plain and once as the engine receives it (secrets still wrapped), so tests can
 * check both what a resource gets and whether it gets it as a secret.
 *
 * Dynamic providers: vitest's module transform breaks Pulumi's closure serialization, so here the
 * provider text is replaced by a marker; `test/serialization/` proves the real serialization
 * outside vitest, under ts-node as `pulumi up` runs it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as serializeClosure from "@pulumi/pulumi/runtime/closure/serializeClosure";
import * as yaml from "js-yaml";
import { beforeAll, vi } from "vitest";
import { Auth0SideConfig, readStackConfig, SECRET_KEYS, SecretKey, StackConfig } from "../../infra/config";
import { buildStack, StackOutputs } from "../../infra/stack";

/** The signature Pulumi puts on a serialized secret value. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const PROVIDER_PLACEHOLDER = "/* dynamic provider: serialized outside vitest, see test/serialization */";

export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    /** The parent's URN, or undefined for a root resource. */
    parentUrn?: string;
    inputs: Record<string, unknown>;
    /** Inputs as sent to the engine: secret values are `{ [SIG_KEY]: SECRET_SIG, value }`. */
    raw: Record<string, unknown>;
    /** The provider reference (`<urn>::<id>`) the resource was registered with, if any. */
    provider?: string;
    protect: boolean;
    retainOnDelete: boolean;
    additionalSecretOutputs: string[];
    /** URNs of the resources it depends on (`dependsOn` and the inputs' resources). */
    dependencies: string[];
    /** Per input property, the URNs of the resources its value came from. */
    propertyDependencies: Record<string, string[]>;
    /** The aliases the program gave it (not those the engine infers from its parent's), as sent. */
    aliases: AliasSpec[];
}

/** An alias as the SDK sends it: an old URN, or a spec whose missing parts are the resource's own. */
export interface AliasSpec {
    urn?: string;
    name?: string;
    type?: string;
    parentUrn?: string;
    noParent?: boolean;
}

export interface MockRun {
    resources: RecordedResource[];
    find(type: string, name: string): RecordedResource;
    ofType(type: string): RecordedResource[];
}

type Struct = { toJavaScript(): Record<string, unknown> };
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getObject(): Struct;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getAdditionalsecretoutputsList(): string[];
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
    getAliasesList(): {
        hasUrn(): boolean;
        getUrn(): string;
        getSpec(): { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
    }[];
}
type Monitor = { registerResource: (req: RegisterRequest, cb: (err: unknown, res: unknown) => void) => void };

/**
 * Installs the mocks for `project`/`stack`. Call before building any resource. With `preview`, the
 * runtime is a dry run as `pulumi preview` is, and each new resource's outputs are its inputs only:
 * what a provider computes (ids of clients, generated passwords, applied migrations, Vault ids) is
 * unknown, as the engine reports it during a real preview of a new stack.
 */
export async function installMocks(project: string, stack: string, options: { preview?: boolean } = {}): Promise<MockRun> {
    const resources: RecordedResource[] = [];
    const inputsByKey = new Map<string, { inputs: Record<string, unknown>; provider?: string }>();
    vi.spyOn(serializeClosure, "serializeFunction").mockResolvedValue({
        text: PROVIDER_PLACEHOLDER,
        exportName: "handler",
        containsSecrets: false,
    } as Awaited<ReturnType<typeof serializeClosure.serializeFunction>>);

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                inputsByKey.set(`${args.type}::${args.name}`, { inputs: args.inputs, provider: args.provider || undefined });
                const id = args.type.startsWith("pulumi:providers:") ? `${args.name}_id` : `${args.name}-id`;
                if (options.preview) return { id: undefined as unknown as string, state: { ...args.inputs } };
                return { id, state: { ...args.inputs, ...mockComputedState(args.type, args.name, args.inputs) } };
            },
            // Invokes echo their inputs; getAction (kept post-login bindings) also answers an id.
            call: (args) =>
                args.token === "auth0:index/getAction:getAction" ? { ...args.inputs, id: `existing-action-${String(args.inputs.name)}` } : args.inputs,
        },
        project,
        stack,
        options.preview ?? false,
    );
    const monitor = (pulumi.runtime as unknown as { getMonitor(): Monitor }).getMonitor();
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
        original(req, (err, res) => {
            if (!err && res) {
                const urn = (res as { getUrn(): string }).getUrn();
                const type = req.getType();
                const name = req.getName();
                resources.push({
                    type,
                    name,
                    urn,
                    parentUrn: req.getParent() || undefined,
                    inputs: unwrapSecrets(inputsByKey.get(`${type}::${name}`)?.inputs ?? {}) as Record<string, unknown>,
                    provider: inputsByKey.get(`${type}::${name}`)?.provider,
                    raw: req.getObject().toJavaScript(),
                    protect: req.getProtect() ?? false,
                    retainOnDelete: req.getRetainondelete() ?? false,
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    dependencies: req.getDependenciesList(),
                    propertyDependencies: propertyDependencies(req),
                    aliases: req.getAliasesList().map((a): AliasSpec => {
                        if (a.hasUrn()) return { urn: a.getUrn() };
                        const spec = a.getSpec();
                        return {
                            ...(spec?.getName() ? { name: spec.getName() } : {}),
                            ...(spec?.getType() ? { type: spec.getType() } : {}),
                            ...(spec?.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
                            ...(spec?.getNoparent() ? { noParent: true } : {}),
                        };
                    }),
                });
            }
            cb(err, res);
        });
    };
    const find = (type: string, name: string) => {
        const r = resources.find((x) => x.type === type && x.name === name);
        if (!r) throw new Error(`no ${type} named ${name}; have: ${resources.map((x) => `${x.type} ${x.name}`).join(", ")}`);
        return r;
    };
    return { resources, find, ofType: (type) => resources.filter((r) => r.type === type) };
}

function propertyDependencies(req: RegisterRequest): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        out[key] = deps.getUrnsList();
    });
    return out;
}

/** Outputs real providers compute, so that the program's wiring has values to flow. */
function mockComputedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "auth0:index/client:Client":
            return { clientId: `${name}-client-id` };
        case "auth0:index/clientCredentials:ClientCredentials":
            return { clientSecret: `${name}-client-secret-value` };
        case "random:index/randomPassword:RandomPassword":
            return { result: `${name}-generated-password-value` };
        case "pulumi-nodejs:dynamic/auth0-postgres:Migrations":
            return { applied: ((inputs.migrations as { id: string }[]) ?? []).map((m) => m.id) };
        case "pulumi-nodejs:dynamic/auth0-postgres:VaultSecret":
            return { secretId: "00000000-0000-4000-8000-000000000001" };
        case "pulumi-nodejs:dynamic/auth0-postgres:ManagementApiToken":
            return { token: `${name}-management-token-value`, expiresAt: "2030-01-01T00:00:00.000Z" };
        default:
            return {};
    }
}

/** Resolves an Output's value in tests. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Whether an Output is secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}

/** Waits until every resource registration the program started has reached the mock monitor. */
export async function settle(run: MockRun): Promise<void> {
    let last = -1;
    for (let i = 0; i < 200 && last !== run.resources.length; i++) {
        last = run.resources.length;
        await new Promise((r) => setTimeout(r, 25));
    }
}

/** True when `value` is a serialized secret. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/**
 * Every plain (non-secret) string in a serialized value, with its path. A secret anywhere inside a
 * secret wrapper is not plain.
 */
export function plainStrings(value: unknown, path = ""): { path: string; value: string }[] {
    if (isSecretValue(value)) return [];
    if (typeof value === "string") return [{ path, value }];
    if (Array.isArray(value)) return value.flatMap((v, i) => plainStrings(v, `${path}[${i}]`));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => plainStrings(v, path ? `${path}.${k}` : k));
    return [];
}

/** The value with every secret wrapper replaced by what it wraps. */
export function unwrapSecrets(value: unknown): unknown {
    if (isSecretValue(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    return value;
}

/** The value with every secret replaced by "[secret]" (what a reviewer may see). */
export function maskSecrets(value: unknown): unknown {
    if (isSecretValue(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(maskSecrets);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
    return value;
}

/** The fake secret values tests put in a stack's config; each is unique so leaks are traceable. */
export function fakeSecrets(stack: string): Record<SecretKey, string> {
    return Object.fromEntries(SECRET_KEYS.map((k) => [k, `${k}-${stack}-s3cr3t-value`])) as Record<SecretKey, string>;
}

/** Loads a committed stack file into the runtime's config, with fake secrets set as secrets. */
export function loadStackConfig(
    project: string,
    stack: string,
    overrides: { values?: Record<string, unknown>; secrets?: Partial<Record<SecretKey, string>> } = {},
): Record<string, string> {
    const file = join(__dirname, "..", "..", "stacks", `Pulumi.${stack}.yaml`);
    const doc = yaml.load(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc.config)) all[key] = typeof value === "string" ? value : JSON.stringify(value);
    for (const [key, value] of Object.entries(overrides.values ?? {})) {
        if (value === undefined) delete all[`${project}:${key}`];
        else all[`${project}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const secrets = { ...fakeSecrets(stack), ...overrides.secrets };
    const needsHasura = JSON.parse(all[`${project}:sync`] ?? "{}").mode === "hasura";
    const needsSupabase = String(JSON.parse(all[`${project}:supabaseAuth`] ?? "{}").enabled) === "true";
    const secretKeys: string[] = [];
    for (const key of SECRET_KEYS) {
        if (key === "hasuraAdminSecret" && !needsHasura) continue;
        if (key === "supabaseAccessToken" && !needsSupabase) continue;
        if (overrides.secrets && key in overrides.secrets && overrides.secrets[key] === undefined) continue;
        all[`${project}:${key}`] = secrets[key]!;
        secretKeys.push(`${project}:${key}`);
    }
    pulumi.runtime.setAllConfig(all, secretKeys);
    return all;
}

export interface MockedStack<C extends StackConfig = StackConfig & Auth0SideConfig> {
    run: MockRun;
    config: C;
    outputs: StackOutputs;
}

/**
 * Overrides that turn the committed `local` stack into the Postgres side alone, as the README tells a
 * newcomer without a tenant to do: `postgresOnly: true`, the Auth0 blocks and the deploy client's
 * secret removed.
 */
export const POSTGRES_ONLY = {
    values: { postgresOnly: true, auth0: undefined, spa: undefined, api: undefined },
    secrets: { auth0ClientSecret: undefined },
};

/** Builds a stack under the mocks, as `pulumi up` would: a committed stack file, fake secrets, `overrides` on top. */
export async function buildMockedStackOf(
    project: string,
    stack: string,
    overrides: Parameters<typeof loadStackConfig>[2] = {},
    options: { preview?: boolean } = {},
): Promise<MockedStack<StackConfig>> {
    const run = await installMocks(project, stack, options);
    loadStackConfig(project, stack, overrides);
    const { config, secrets } = readStackConfig();
    const outputs = buildStack(config, secrets);
    // In a preview the applied migrations are unknown: an apply on them never runs.
    if (!options.preview) await valueOf(outputs.appliedMigrations);
    await settle(run);
    return { run, config, outputs };
}

/** The sentinel the engine sends for a value not known during a preview (`runtime/rpc` unknownValue). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The stack outputs as the engine holds them: known values as they are, values not known yet (a
 * preview) as the unknown sentinel. Secrets unwrapped, as the policy engine deserializes them.
 */
export async function engineOutputs(outputs: StackOutputs): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(outputs) as [string, pulumi.Output<unknown>][]) {
        const internal = output as unknown as { isKnown: Promise<boolean>; promise(): Promise<unknown> };
        out[key] = (await internal.isKnown) ? await internal.promise() : UNKNOWN_VALUE;
    }
    return out;
}

/** Builds a committed stack (`stacks/Pulumi.<stack>.yaml`, fake secrets), which deploys both sides. */
export async function buildMockedStack(project: string, stack: string): Promise<MockedStack> {
    const built = await buildMockedStackOf(project, stack);
    const { config } = built;
    if (config.postgresOnly) throw new Error(`stacks/Pulumi.${stack}.yaml: a committed stack deploys the Auth0 side too`);
    return { ...built, config };
}

/** The parts of a URN: `urn:pulumi:<stack>::<project>::<parent types$><type>::<name>`. */
function urnParts(urn: string): { prefix: string; typeChain: string; name: string } {
    const m = /^(urn:pulumi:[^:]+::[^:]+)::(.+?)::(.*)$/.exec(urn);
    if (!m) throw new Error(`not a URN: ${urn}`);
    return { prefix: m[1]!, typeChain: m[2]!, name: m[3]! };
}

/**
 * Every URN a resource answers to: its own, those of the aliases the program gave it, and those the
 * engine infers from its parent's aliases (a child whose name starts with its parent's name gets
 * the parent's alias name in its place, under the parent's alias URN), as the engine computes them.
 */
export function urnsOf(run: MockRun, resource: RecordedResource, memo = new Map<string, string[]>()): string[] {
    const known = memo.get(resource.urn);
    if (known) return known;
    const own = urnParts(resource.urn);
    const parent = resource.parentUrn ? run.resources.find((r) => r.urn === resource.parentUrn) : undefined;
    const parentUrns = parent ? urnsOf(run, parent, memo) : [];
    // Qualified as the mock monitor qualifies a child's type (its parent's own type, then `$`); the
    // engine puts the whole chain there, and the names and parents, which this is about, are the same.
    const make = (parentUrn: string | undefined, type: string, name: string) =>
        `${own.prefix}::${parentUrn ? `${urnParts(parentUrn).typeChain.split("$").pop()}$` : ""}${type}::${name}`;
    const urns = new Set<string>([resource.urn]);
    for (const a of resource.aliases) {
        if (a.urn) {
            urns.add(a.urn);
            continue;
        }
        const type = a.type ?? resource.type;
        const name = a.name ?? resource.name;
        // The alias's parent: the one it names, else the resource's own parent (under any of its URNs), else none.
        const parents: (string | undefined)[] = a.noParent ? [undefined] : a.parentUrn ? [a.parentUrn] : parent ? parentUrns : [undefined];
        for (const p of parents) urns.add(make(p, type, name));
    }
    if (parent) {
        for (const parentAlias of parentUrns.slice(1)) {
            const parentAliasName = urnParts(parentAlias).name;
            const name = resource.name.startsWith(parent.name) ? parentAliasName + resource.name.slice(parent.name.length) : resource.name;
            urns.add(make(parentAlias, resource.type, name));
        }
    }
    const out = [...urns];
    memo.set(resource.urn, out);
    return out;
}

/** The project and the committed stacks (stacks/Pulumi.<stack>.yaml). */
export const PROJECT = "auth0-postgres";
export const COMMITTED_STACKS = ["local", "dev", "staging", "prod"] as const;
export type CommittedStack = (typeof COMMITTED_STACKS)[number];

/**
 * Every committed stack built once for the calling test file: call at the file's top level; the
 * record is filled in its `beforeAll`, before the file's tests run.
 */
export function committedStacks(): Record<CommittedStack, MockedStack> {
    const built = {} as Record<CommittedStack, MockedStack>;
    beforeAll(async () => {
        for (const stack of COMMITTED_STACKS) built[stack] = await buildMockedStack(PROJECT, stack);
    });
    return built;
}
