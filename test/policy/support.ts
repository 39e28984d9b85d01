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
