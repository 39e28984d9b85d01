import * as auth0 from "@pulumi/auth0";
import * as pulumi from "@pulumi/pulumi";
import { ACTIONS, ACTIONS_RUNTIME, ActionSecretName, actionSecrets, POST_LOGIN_TRIGGER } from "./actions";
import { nonEmpty } from "./applications";
import { AUTH0_COMPONENT_TYPES, actionTenantName, postLoginChildNames } from "./names";

export interface PostLoginActionsArgs {
    provider: auth0.Provider;
    /** Prefix of the Actions' names in the tenant, e.g. `auth0-postgres-dev`. */
    namePrefix: string;
    /**
     * Values of the Actions' secrets by name (only names an Action reads: a misspelt one fails
     * `tsc`). Each Action receives the ones it declares; a declared secret with no value is left out
     * (the Action treats it as unset).
     */
    secrets: Partial<Record<ActionSecretName, pulumi.Input<string>>>;
    /**
     * Actions of the tenant bound to the post-login trigger that must stay bound, by name, before and
     * after this component's Actions (the binding owns the whole trigger). Defaults to none.
     */
    keepBindings?: { before: string[]; after: string[] };
    /** Protect the binding, so that a destroy cannot unbind every Action of the trigger. Defaults to false. */
    protect?: boolean;
}

function pick<V>(values: Record<string, V>, names: string[]): Record<string, V> {
    return Object.fromEntries(Object.entries(values).filter(([k]) => names.includes(k)));
}

/** Every name an Action declares, for validation and docs. */
export function declaredSecretNames(): string[] {
    return [...new Set(ACTIONS.flatMap((a) => a.secretNames))].sort();
}

/**
 * The post-login Actions, deployed on the pinned runtime with their secrets, and bound to the
 * post-login trigger in the fixed order of {@link ACTIONS}.
 */
export class PostLoginActions extends pulumi.ComponentResource {
    public readonly actions: auth0.Action[];
    public readonly binding: auth0.TriggerActions;

    constructor(name: string, args: PostLoginActionsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(AUTH0_COMPONENT_TYPES.postLogin, name, {}, opts);
        const unknown = Object.keys(args.secrets).filter((k) => !declaredSecretNames().includes(k));
        if (unknown.length > 0) throw new Error(`PostLoginActions: no Action reads the secret(s) ${unknown.join(", ")}`);
        const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        const names = postLoginChildNames(name);

        this.actions = ACTIONS.map(
            (action) =>
                new auth0.Action(
                    names.action(action.key),
                    {
                        name: actionTenantName(args.namePrefix, action.key),
                        code: action.code,
                        runtime: ACTIONS_RUNTIME,
                        deploy: true,
                        supportedTriggers: { ...POST_LOGIN_TRIGGER },
                        // Never `[]`: the provider stores an empty list as an absent one (a perpetual diff).
                        dependencies: nonEmpty(action.dependencies.map((d) => ({ ...d }))),
                        // Checks that every secret the Action needs is set, before anything is registered.
                        secrets: nonEmpty(
                            actionSecrets(action.key, pick(args.secrets, action.secretNames)).map((s) => ({ name: s.name, value: pulumi.secret(s.value) })),
                        ),
                    },
                    { ...child, additionalSecretOutputs: ["secrets"] },
                ),
        );

        // `TriggerActions` owns the whole trigger: an Action bound by anyone else is unbound by the
        // next `up` unless it is listed in keepBindings, so those are looked up by name and bound
        // around ours. The plan shows every binding, kept ones included.
        const keep = args.keepBindings ?? { before: [], after: [] };
        const kept = (names: string[]) =>
            names.map((actionName) => ({
                id: auth0.getActionOutput({ name: actionName }, { provider: args.provider, parent: this }).apply((found) => {
                    if (!found.id) throw new Error(`postLogin.keepBindings: the tenant has no Action named "${actionName}"`);
                    return found.id;
                }),
                displayName: actionName,
            }));
        this.binding = new auth0.TriggerActions(
            names.binding,
            {
                trigger: "post-login",
                actions: [...kept(keep.before), ...this.actions.map((a, i) => ({ id: a.id, displayName: ACTIONS[i].name })), ...kept(keep.after)],
            },
            // Deleting it unbinds every Action of the trigger, kept ones too: protected stacks refuse that.
            { ...child, protect: args.protect ?? false },
        );

        this.registerOutputs({ actionIds: this.actions.map((a) => a.id) });
    }
}
