import * as auth0 from "@pulumi/auth0";
import * as pulumi from "@pulumi/pulumi";
import { ACTIONS } from "./actions";

export const ACTION_RUNTIME = "node22";

export interface PostLoginActionsArgs {
    provider: auth0.Provider;
    /** Prefix of the Actions' names in the tenant, e.g. `auth0-postgres-dev`. */
    namePrefix: string;
    /**
     * Values of the Actions' secrets by name. Each Action receives the ones it declares; a
     * declared secret with no value is left out (the Action treats it as unset).
     */
    secrets: Record<string, pulumi.Input<string> | undefined>;
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
        super("auth0-postgres:auth0:PostLoginActions", name, {}, opts);
        const unknown = Object.keys(args.secrets).filter((k) => !declaredSecretNames().includes(k));
        if (unknown.length > 0) throw new Error(`PostLoginActions: no Action reads the secret(s) ${unknown.join(", ")}`);
        const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };

        this.actions = ACTIONS.map(
            (action) =>
                new auth0.Action(
                    `${name}-${action.key}`,
                    {
                        name: `${args.namePrefix}-${action.key}`,
                        code: action.code,
                        runtime: ACTION_RUNTIME,
                        deploy: true,
                        supportedTriggers: { id: "post-login", version: "v3" },
                        dependencies: action.dependencies.map((d) => ({ ...d })),
                        secrets: action.secretNames
                            .filter((s) => args.secrets[s] !== undefined)
                            .map((s) => ({ name: s, value: pulumi.secret(args.secrets[s] as pulumi.Input<string>) })),
                    },
                    { ...child, additionalSecretOutputs: ["secrets"] },
                ),
        );

        this.binding = new auth0.TriggerActions(
            `${name}-binding`,
            {
                trigger: "post-login",
                actions: this.actions.map((a, i) => ({ id: a.id, displayName: ACTIONS[i].name })),
            },
            child,
        );

        this.registerOutputs({ actionIds: this.actions.map((a) => a.id) });
    }
}
