/**
 * The `pulumi import --file` document for what was found, in the format of the Pulumi CLI's import
 * file (`pkg/cmd/pulumi/operations/import.go`, `importFile`/`importSpec`):
 *
 *     { "nameTable": { "<name>": "<urn>" },
 *       "resources": [ { "type", "name", "id", "parent", "provider", "component", "logicalName" } ] }
 *
 * - `name` is how other entries refer to an entry; `logicalName` the Pulumi resource name (the two
 *   are the same here: every name of the stack is unique).
 * - A `parent` is a name: of an entry of the file (resolved by the CLI since 3.94) or of the
 *   `nameTable`, which maps it to a URN of a resource already in the state.
 * - `component: true` entries (no id) create empty component resources as parents (3.94).
 * - A `provider` must be in the `nameTable` and already in the state: the engine does not import
 *   providers. Hence the step before the import (see `bootstrapTargets`): a targeted `pulumi up` of
 *   the stack's root component, its settings guard and its Auth0 provider, which creates nothing in
 *   the tenant.
 */
import type { Found } from "./discover";
import { Auth0Plan, urnOf } from "./plan";

export interface ImportSpec {
    type: string;
    name: string;
    id?: string;
    parent?: string;
    provider?: string;
    component?: boolean;
    logicalName?: string;
}

export interface ImportFile {
    nameTable: Record<string, string>;
    resources: ImportSpec[];
}

/** The import file: the Auth0 components as empty components, then every found object. */
export function buildImportFile(plan: Auth0Plan, found: Found[]): ImportFile {
    const nameTable: Record<string, string> = {
        [plan.root.name]: urnOf(plan, plan.root),
        [plan.provider.name]: urnOf(plan, plan.provider),
    };
    const imported = found.filter((f) => f.importId !== undefined);
    const used = new Set(imported.map((f) => f.planned.parent));
    const components = Object.values(plan.components)
        .filter((c) => used.has(c.name))
        .map((c): ImportSpec => ({ type: c.type, name: c.name, component: true, parent: c.parent }));
    const resources = imported.map((f): ImportSpec => ({
        type: f.planned.type,
        name: f.planned.name,
        id: f.importId,
        parent: f.planned.parent,
        provider: plan.provider.name,
    }));
    return { nameTable, resources: [...components, ...resources] };
}

/**
 * What must be in the state before `pulumi import` can use the stack's explicit Auth0 provider: the
 * root component (the provider's parent), the settings guard (which the provider waits for) and the
 * provider. `pulumi up --target` each of them registers them and creates nothing in the tenant.
 */
export function bootstrapTargets(plan: Auth0Plan): string[] {
    return [urnOf(plan, plan.root), urnOf(plan, plan.settingsGuard), urnOf(plan, plan.provider)];
}
