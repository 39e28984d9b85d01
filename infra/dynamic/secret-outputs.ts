import type * as pulumi from "@pulumi/pulumi";

/**
 * `opts` with `names` added to its `additionalSecretOutputs`, after any the caller gave: the outputs
 * of a dynamic resource that echo a secret input (a connection, a token, a client secret), which
 * the state must keep encrypted. `T` is the resource's outputs, so a misspelt name fails `tsc`.
 *
 * Used by the resource classes' constructors only, never by a provider (it is not serialized).
 */
export function withSecretOutputs<T>(opts: pulumi.CustomResourceOptions | undefined, ...names: (keyof T & string)[]): pulumi.CustomResourceOptions {
    return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...names] };
}
