import * as pulumi from "@pulumi/pulumi";
import { checkFailures, Problem, problem } from "./problems";

/**
 * Settings that name things which cannot be renamed in place: changing one makes the engine replace
 * what it names (the Auth0 connection with its users' Auth0-side data, every role, the schema with the
 * tables). This resource remembers them and fails the preview, before anything is touched, when one
 * changes, unless the stack opted in to data loss. Every provider of the stack depends on it, so an
 * `up` cannot start either.
 *
 * No imports beyond @pulumi/pulumi and ./problems, no captured state: the provider below is serialized by
 * Pulumi's closure serializer (see README.md here).
 */

/** A pinned setting: its full config key, its value, and what a change would do and how to make one safely. */
export interface PinnedSetting {
    key: string;
    value: string;
    /** What replacing it destroys, e.g. "the Auth0 connection and its users' role assignments, MFA enrolments and metadata". */
    consequence: string;
    /** How to make the change without losing data, or that there is no such way. */
    instead: string;
}

export interface SettingsGuardInputs {
    settings: PinnedSetting[];
    /** The stack's `allowDataLoss`: when true a change goes through (and replaces what it names). */
    allowDataLoss: boolean;
    /** The full key of `allowDataLoss`, for the message. */
    allowDataLossKey: string;
}

/** The problems a change of pinned settings makes, one per changed key, or none. */
export function pinnedSettingProblems(olds: Partial<SettingsGuardInputs> | undefined, news: SettingsGuardInputs): Problem[] {
    if (news.allowDataLoss === true || !olds || !Array.isArray(olds.settings)) return [];
    const problems: Problem[] = [];
    for (const setting of news.settings) {
        const before = olds.settings.find((s) => s.key === setting.key);
        if (!before || before.value === setting.value) continue;
        // No property: what changed is a config key, not an input, and the reason starts with it.
        problems.push(
            problem(
                "",
                `${setting.key} cannot change from ${JSON.stringify(before.value)} to ${JSON.stringify(setting.value)}: ` +
                    `the change would replace ${setting.consequence}. Nothing was changed. Put the old value back; ${setting.instead}; ` +
                    `or, to accept the loss, set ${news.allowDataLossKey}: true for this one deploy.`,
            ),
        );
    }
    return problems;
}

export const settingsGuardProvider: pulumi.dynamic.ResourceProvider<SettingsGuardInputs, SettingsGuardInputs> = {
    async check(olds, news) {
        return { inputs: news, failures: checkFailures(pinnedSettingProblems(olds, news)) };
    },
    async diff(_id, olds, news) {
        const changes = JSON.stringify(olds.settings) !== JSON.stringify(news.settings) || olds.allowDataLoss !== news.allowDataLoss;
        return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: "settings", outs: inputs };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
    async delete() {
        // Nothing outside the state.
    },
};

/** Type token `pulumi-nodejs:dynamic/auth0-postgres:SettingsGuard`. */
export class SettingsGuard extends pulumi.dynamic.Resource {
    declare public readonly settings: pulumi.Output<PinnedSetting[]>;

    constructor(name: string, args: SettingsGuardInputs, opts?: pulumi.CustomResourceOptions) {
        super(settingsGuardProvider, name, { ...args }, opts, "auth0-postgres", "SettingsGuard");
    }
}
