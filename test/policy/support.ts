/**
 * Runs policy-pack rules without the policy engine: builds the args object the engine would pass
 * (`ResourceValidationArgs` / `StackValidationArgs`) by hand and records every `reportViolation`.
 */
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

export const PROJECT = "auth0-postgres";

export interface Violation {
    message: string;
    urn?: string;
}

class NotApplicable extends Error {}

const OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

export function urnOf(stack: string, type: string, name: string): string {
    return `urn:pulumi:${stack}::${PROJECT}::${type}::${name}`;
}

function typeOf(resourceClass: unknown): string | undefined {
    return (resourceClass as { __pulumiType?: string }).__pulumiType;
}

export interface ResourceOptions {
    /** Stack the resource belongs to (goes into its URN). Defaults to `dev`. */
    stack?: string;
    name?: string;
    /** What `args.getConfig()` returns. Defaults to `{}` (every property at its default). */
    config?: object;
}

/** The args the engine passes to `validateResource` for one resource's inputs. */
export function resourceArgs(type: string, props: Record<string, unknown>, opts: ResourceOptions = {}): ResourceValidationArgs {
    const name = opts.name ?? "test";
    return {
        type,
        props,
        urn: urnOf(opts.stack ?? "dev", type, name),
        name,
        opts: OPTIONS,
        stackTags: new Map(),
        isType: (cls) => typeOf(cls) === type,
        asType: ((cls: unknown) => (typeOf(cls) === type ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => (opts.config ?? {}) as T,
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason);
        },
    };
}

/** A resource as `validateStack` sees it (its outputs). */
export function stackResource(type: string, name: string, props: Record<string, unknown>, stack = "dev"): PolicyResource {
    return {
        type,
        name,
        props,
        urn: urnOf(stack, type, name),
        opts: OPTIONS,
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => typeOf(cls) === type,
        asType: ((cls: unknown) => (typeOf(cls) === type ? props : undefined)) as PolicyResource["asType"],
    };
}

export function stackArgs(resources: PolicyResource[], config: object = {}): StackValidationArgs {
    return {
        resources,
        stackTags: new Map(),
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason);
        },
    };
}

/** Runs every validateResource function of a rule and returns what it reported. */
export async function validateResource(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<Violation[]> {
    const violations: Violation[] = [];
    const fns = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    if (fns.length === 0) throw new Error(`policy ${policy.name} has no validateResource`);
    for (const fn of fns) await fn(args, (message, urn) => violations.push({ message, urn }));
    return violations;
}

export async function validateStack(policy: StackValidationPolicy, args: StackValidationArgs): Promise<Violation[]> {
    const violations: Violation[] = [];
    await policy.validateStack(args, (message, urn) => violations.push({ message, urn }));
    return violations;
}

/**
 * Every violation the policy pack reports on a mocked stack, run as the policy engine runs it: each
 * resource's inputs with secrets unwrapped and behind the engine's unknown-checking proxy, with its
 * dependencies and property dependencies, and the root stack resource carrying the stack's outputs.
 * A rule that touches a value the engine does not know yet (a preview) is reported as
 * "cannot decide during preview": the real engine would downgrade that mandatory rule to advisory.
 */
export async function engineViolations(
    run: {
        resources: {
            type: string;
            name: string;
            urn: string;
            raw: Record<string, unknown>;
            dependencies: string[];
            propertyDependencies: Record<string, string[]>;
        }[];
    },
    stack: string,
    outputs: Record<string, unknown>,
    policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[],
    unwrap: (value: unknown) => unknown,
    options: { preview?: boolean; unknownValue?: string } = {},
): Promise<string[]> {
    const { unknownCheckingProxy, UnknownValueError } = await import("@pulumi/policy");
    const inputsOf = (raw: Record<string, unknown>) => {
        const { __provider: _provider, ...rest } = raw;
        return unwrap(rest) as Record<string, unknown>;
    };
    // Stack rules see each resource's outputs. In the preview of a new resource, every output the
    // provider computes is unknown: any property that is not an input reads as the unknown sentinel.
    const outputsOf = (raw: Record<string, unknown>) => {
        const inputs = inputsOf(raw);
        if (!options.preview) return inputs;
        return new Proxy(inputs, {
            get: (target, key) =>
                typeof key === "string" && !(key in target) && key !== "then" && key !== "toJSON" ? options.unknownValue : Reflect.get(target, key),
        });
    };
    const stackType = "pulumi:pulumi:Stack";
    const resources: PolicyResource[] = run.resources.map((r) => ({
        ...stackResource(r.type, r.name, unknownCheckingProxy(outputsOf(r.raw)) as Record<string, unknown>, stack),
        urn: r.urn,
    }));
    const inputProps = new Map(run.resources.map((r) => [r.urn, unknownCheckingProxy(inputsOf(r.raw)) as Record<string, unknown>]));
    const root: PolicyResource = stackResource(stackType, `${PROJECT}-${stack}`, unknownCheckingProxy(outputs) as Record<string, unknown>, stack);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    run.resources.forEach((r, i) => {
        const resource = resources[i]!;
        resource.dependencies = r.dependencies.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined);
        resource.propertyDependencies = Object.fromEntries(
            Object.entries(r.propertyDependencies).map(([k, urns]) => [k, urns.map((u) => byUrn.get(u)).filter((x): x is PolicyResource => x !== undefined)]),
        );
    });
    const all = [...resources, root];

    const violations: string[] = [];
    const decide = async (policy: { name: string }, what: string, fn: () => Promise<Violation[]>) => {
        try {
            violations.push(...(await fn()).map((v) => `${policy.name}: ${what}${v.message}`));
        } catch (e) {
            if (e instanceof UnknownValueError) violations.push(`${policy.name}: ${what}cannot decide during preview (${(e as Error).message})`);
            else if ((e as Error).constructor.name !== "NotApplicable") throw e;
        }
    };
    for (const policy of policies) {
        if ("validateResource" in policy && policy.validateResource) {
            for (const r of resources) {
                await decide(policy, `${r.type} ${r.name}: `, () =>
                    validateResource(policy as ResourceValidationPolicy, {
                        ...resourceArgs(r.type, inputProps.get(r.urn)!, { stack, name: r.name }),
                        urn: r.urn,
                    }),
                );
            }
        } else {
            await decide(policy, "", () => validateStack(policy as StackValidationPolicy, stackArgs(all)));
        }
    }
    return violations;
}
