import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { Grant, grantSuffix, RoleKey } from "./privileges";

/** Creates one `postgresql.Grant` per entry of the privilege model, as children of `parent`. */
export function createGrants(
    name: string,
    grants: Grant[],
    args: { database: string; roles: Record<RoleKey, pulumi.Input<string>> },
    opts: pulumi.CustomResourceOptions,
): postgresql.Grant[] {
    return grants.map(
        (g) =>
            new postgresql.Grant(
                `${name}-${grantSuffix(g)}`,
                {
                    database: args.database,
                    role: args.roles[g.role],
                    objectType: g.objectType,
                    ...(g.objectType === "database" ? {} : { schema: g.schema }),
                    ...(g.objectType === "database" || g.objectType === "schema" ? {} : { objects: g.objects }),
                    ...(g.objectType === "column" ? { columns: g.columns } : {}),
                    privileges: [...g.privileges],
                    withGrantOption: false,
                },
                opts,
            ),
    );
}
