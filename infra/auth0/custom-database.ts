import * as auth0 from "@pulumi/auth0";
import * as pulumi from "@pulumi/pulumi";
import { assertConfigurationLedger, uploadedConfiguration } from "./configuration-keys";
import { AUTH0_COMPONENT_TYPES, connectionChildNames } from "./names";
import { customDbScripts, SCRIPT_CONFIGURATION_KEYS, ScriptModuleVersions } from "./scripts";

export interface CustomDatabaseConnectionArgs {
    provider: auth0.Provider;
    /** The connection's name in the tenant. */
    name: string;
    /**
     * The scripts' `configuration` (see `scriptConfiguration`): it carries the scripts role's DSN,
     * so it is always handled as a secret.
     */
    configuration: pulumi.Input<Record<string, string>>;
    /** The version of each npm module the scripts require (the stack's `customDb.modules`). */
    scriptModules: ScriptModuleVersions;
    /** Client ids of the applications that may use the connection. */
    enabledClients: pulumi.Input<string>[];
    /** Lazy migration into Auth0's own store. */
    importMode: boolean;
    disableSignup: boolean;
    passwordPolicy: string;
    /** Every other option the connection depends on (see `ConnectionSecurityOptions`). */
    security: ConnectionSecurityOptions;
    /** Protect the connection (deleting it deletes the tenant's record of its users). Defaults to false. */
    protect?: boolean;
}

/** The connection's security options, from the stack's `customDb` config. */
export interface ConnectionSecurityOptions {
    passwordMinLength: number;
    passwordHistory: { enable: boolean; size: number };
    passwordDictionary: { enable: boolean; entries: string[] };
    passwordNoPersonalInfo: boolean;
    mfa: { active: boolean; returnEnrollSettings: boolean };
    bruteForceProtection: boolean;
    disableSelfServiceChangePassword: boolean;
}

/**
 * Every option of the connection besides the scripts and their configuration. The provider sends
 * only what is set and Auth0 replaces the whole `options` object on update, so whatever is left out
 * here is reset by the next update: nothing the connection depends on may be left out. Password is
 * the one authentication method (a custom database cannot hold passkeys).
 */
export function connectionSecurityOptions(args: { importMode: boolean; disableSignup: boolean; passwordPolicy: string; security: ConnectionSecurityOptions }) {
    const s = args.security;
    return {
        importMode: args.importMode,
        disableSignup: args.disableSignup,
        requiresUsername: false,
        passwordPolicy: args.passwordPolicy,
        passwordComplexityOptions: { minLength: s.passwordMinLength },
        passwordHistories: [{ enable: s.passwordHistory.enable, size: s.passwordHistory.size }],
        // Never `[]` (the provider stores it as absent): no extra entries means no `dictionaries`.
        passwordDictionary: {
            enable: s.passwordDictionary.enable,
            ...(s.passwordDictionary.entries.length > 0 ? { dictionaries: s.passwordDictionary.entries } : {}),
        },
        passwordNoPersonalInfo: { enable: s.passwordNoPersonalInfo },
        mfa: { active: s.mfa.active, returnEnrollSettings: s.mfa.returnEnrollSettings },
        bruteForceProtection: s.bruteForceProtection,
        disableSelfServiceChangePassword: s.disableSelfServiceChangePassword,
        authenticationMethods: [{ password: { enabled: true }, passkey: { enabled: false } }],
    };
}

/**
 * The Postgres-backed custom-database connection: strategy `auth0` with database customization,
 * the six scripts, and their configuration (the scripts role's DSN, bcrypt cost, pool and timeouts).
 */
export class CustomDatabaseConnection extends pulumi.ComponentResource {
    public readonly connection: auth0.Connection;
    public readonly connectionId: pulumi.Output<string>;

    constructor(name: string, args: CustomDatabaseConnectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(AUTH0_COMPONENT_TYPES.connection, name, {}, opts);
        // A configuration key removed or renamed in one step would fail the next update: refuse it now, with the steps.
        assertConfigurationLedger(SCRIPT_CONFIGURATION_KEYS);
        const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
        const names = connectionChildNames(name);

        this.connection = new auth0.Connection(
            names.connection,
            {
                name: args.name,
                strategy: "auth0",
                options: {
                    enabledDatabaseCustomization: true,
                    customScripts: customDbScripts(args.scriptModules),
                    configuration: pulumi.secret(pulumi.output(args.configuration).apply((live) => uploadedConfiguration(live))),
                    ...connectionSecurityOptions(args),
                },
            },
            // The options carry the DSN: the whole block is a secret output in the state.
            { ...child, protect: args.protect ?? false, additionalSecretOutputs: ["options"] },
        );
        this.connectionId = this.connection.id;

        new auth0.ConnectionClients(names.clients, { connectionId: this.connection.id, enabledClients: args.enabledClients }, child);

        this.registerOutputs({ connectionId: this.connectionId });
    }
}
