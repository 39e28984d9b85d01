import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { Grant, grantOrder, grantSuffix, RoleKey, SUPABASE_AUTHENTICATED_ROLE } from "./privileges";

/**
 * Creates one `postgresql.Grant` per entry of the privilege model, as children of `parent`. Grants
 * that rewrite the same catalog row are chained (see {@link grantOrder}) so no two run at once.
 */
export function createGrants(
    name: string,
    grants: Grant[],
    args: { database: string; roles: Record<RoleKey, pulumi.Input<string>> },
    opts: pulumi.CustomResourceOptions & { dependsOn?: pulumi.Resource[] },
): postgresql.Grant[] {
    const order = grantOrder(grants);
    const created: postgresql.Grant[] = [];
    grants.forEach((g, i) => {
        created.push(
            new postgresql.Grant(
                `${name}-${grantSuffix(g)}`,
                {
                    database: args.database,
                    role: g.role === "public" || g.role === SUPABASE_AUTHENTICATED_ROLE ? g.role : args.roles[g.role],
                    objectType: g.objectType,
                    ...(g.objectType === "database" ? {} : { schema: g.schema }),
                    ...(g.objectType === "database" || g.objectType === "schema" ? {} : { objects: g.objects }),
                    ...(g.objectType === "column" ? { columns: g.columns } : {}),
                    privileges: [...g.privileges],
                    withGrantOption: false,
                },
                { ...opts, dependsOn: [...(opts.dependsOn ?? []), ...order[i]!.map((j) => created[j]!)] },
            ),
        );
    });
    return created;
}
