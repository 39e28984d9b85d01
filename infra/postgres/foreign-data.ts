import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { ManagementApiToken } from "../dynamic/management-token";
import type { PgConnectionInfo } from "../dynamic/connection";
import {
    AUTH0_FDW_HANDLER,
    AUTH0_FDW_VALIDATOR,
    AUTH0_USER_COLUMNS,
    foreignDataNames,
    foreignServerOptions,
    WRAPPERS_MIN_VERSION,
    WRAPPERS_MIN_VERSION_REASON,
} from "./auth0-fdw";
import { ForeignDataWrapper, ForeignTable, VaultSecret } from "../dynamic";
import { createGrants } from "./grants";
import { foreignTableGrants, readerFunctionName, RoleKey } from "./privileges";

/** The foreign tables this component creates in the FDW schema. */
export const AUTH0_FOREIGN_TABLES = ["users"] as const;

export interface Auth0ForeignDataArgs {
    provider: postgresql.Provider;
    /** Admin connection for the dynamic providers; pass it as a Pulumi secret. */
    connection: pulumi.Input<PgConnectionInfo>;
    database: string;
    /** The Auth0 tenant's domain, e.g. `acme.eu.auth0.com`. */
    auth0Domain: string;
    /** Schema the Wrappers extension's functions live in. Defaults to `extensions`. */
    extensionsSchema?: string;
    /** Prefix of the stack's roles; also names the wrapper, the schema, the server and the Vault secret (`foreignDataNames`). */
    rolePrefix: string;
    /** Role names from {@link PostgresDatabase}; only `fdwReader` is granted here. */
    roleNames: Record<RoleKey, pulumi.Input<string>>;
    /** The machine-to-machine client that may read users from the Management API. */
    managementClient: { clientId: pulumi.Input<string>; clientSecret: pulumi.Input<string> };
    /** Renew the token in Vault when it expires within this many seconds. */
    refreshBeforeSeconds: number;
    /** Token endpoint. Defaults to `https://<auth0Domain>/oauth/token`. */
    tokenUrl?: pulumi.Input<string>;
    /** Retain database objects removed from the program. Defaults to false. */
    protect?: boolean;
    /** Resources (the extensions) that must exist first. */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Supabase Wrappers' Auth0 foreign data: a Management API token kept fresh in a Vault secret, the
 * `<prefix>_wrapper` FDW (Wrappers 0.4.6 or later, checked at preview), a foreign server that reads
 * the token by Vault id (`api_key_id`, never the key itself), the `<prefix>.users` foreign table with
 * its SECURITY DEFINER reader function `<prefix>.list_users()`, and the reader role's grants: EXECUTE
 * on the function, nothing on the table or on Vault (with the default prefix: `auth0_wrapper`,
 * `auth0.users` and `auth0.list_users()`). Wrappers looks the key up in Vault as the user a query
 * runs as; through the function that is the admin, who owns it.
 */
export class Auth0ForeignData extends pulumi.ComponentResource {
    public readonly vaultSecretId: pulumi.Output<string>;
    public readonly serverName: pulumi.Output<string>;
    public readonly tokenExpiresAt: pulumi.Output<string>;

    constructor(name: string, args: Auth0ForeignDataArgs, opts?: pulumi.ComponentResourceOptions) {
        super("auth0-postgres:postgres:Auth0ForeignData", name, {}, opts);
        const names = foreignDataNames(args.rolePrefix);
        const schemaName = names.schema;
        const extensions = args.extensionsSchema ?? "extensions";
        const connection = pulumi.secret(args.connection);
        const retain = args.protect ?? false;
        const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider, retainOnDelete: retain };

        const token = new ManagementApiToken(
            `${name}-management-token`,
            {
                tokenUrl: args.tokenUrl ?? `https://${args.auth0Domain}/oauth/token`,
                clientId: args.managementClient.clientId,
                clientSecret: pulumi.secret(args.managementClient.clientSecret),
                audience: `https://${args.auth0Domain}/api/v2/`,
                refreshBeforeSeconds: args.refreshBeforeSeconds,
            },
            { parent: this },
        );
        this.tokenExpiresAt = token.expiresAt;

        const secret = new VaultSecret(
            `${name}-vault-secret`,
            {
                connection,
                name: names.vaultSecret,
                description: `Auth0 Management API token for the ${names.wrapper} foreign server (renewed by pulumi up)`,
                secret: pulumi.secret(token.token),
            },
            // The foreign server reads it by id: a lost secret breaks every query of the foreign tables.
            { parent: this, dependsOn: args.dependsOn, protect: retain, retainOnDelete: retain },
        );
        this.vaultSecretId = secret.secretId;

        const fdw = new ForeignDataWrapper(
            `${name}-fdw`,
            {
                connection,
                name: names.wrapper,
                handler: `${extensions}.${AUTH0_FDW_HANDLER}`,
                validator: `${extensions}.${AUTH0_FDW_VALIDATOR}`,
                // Checked at every preview: an older Wrappers cannot read the key by its Vault id.
                extension: { name: "wrappers", minVersion: WRAPPERS_MIN_VERSION, reason: WRAPPERS_MIN_VERSION_REASON },
            },
            { parent: this, dependsOn: args.dependsOn, retainOnDelete: retain },
        );

        const server = new postgresql.Server(
            `${name}-server`,
            {
                serverName: names.server,
                fdwName: names.wrapper,
                options: secret.secretId.apply((id) => foreignServerOptions(args.auth0Domain, id)),
                dropCascade: false,
            },
            { ...child, dependsOn: [fdw] },
        );
        this.serverName = server.serverName;

        const schema = new postgresql.Schema(`${name}-schema`, { name: schemaName, database: args.database, ifNotExists: true, dropCascade: false }, child);

        const tables = AUTH0_FOREIGN_TABLES.map(
            (table) =>
                new ForeignTable(
                    `${name}-${table}-table`,
                    {
                        connection,
                        schema: schemaName,
                        name: table,
                        server: server.serverName,
                        columns: AUTH0_USER_COLUMNS.map((c) => ({ ...c })),
                        options: { object: table },
                        // How the reader role reads it: Wrappers reads Vault as the querying user.
                        readerFunction: readerFunctionName(table),
                    },
                    { parent: this, dependsOn: [schema, server], retainOnDelete: retain },
                ),
        );

        const readerGrants = foreignTableGrants({ fdwSchema: schemaName, foreignTables: [...AUTH0_FOREIGN_TABLES] });
        createGrants(name, readerGrants, { database: args.database, roles: args.roleNames }, { ...child, dependsOn: tables });

        this.registerOutputs({ vaultSecretId: this.vaultSecretId, serverName: this.serverName, tokenExpiresAt: this.tokenExpiresAt });
    }
}
