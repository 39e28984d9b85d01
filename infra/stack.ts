import * as auth0 from "@pulumi/auth0";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { HASURA_CLAIMS_NAMESPACE } from "./auth0/actions";
import { Auth0Applications } from "./auth0/applications";
import { ClientConnections } from "./dynamic/client-connections";
import { CustomDatabaseConnection } from "./auth0/custom-database";
import { AUTH0_COMPONENT_TYPES, auth0StackNames, defaultApiName, defaultSpaName } from "./auth0/names";
import { PostLoginActions } from "./auth0/post-login";
import { checkScriptSettings, scriptConfiguration, ScriptSettings } from "./auth0/scripts";
import type { StackConfig, StackSecrets } from "./config";
import type { PgConnectionInfo } from "./dynamic/connection";
import { PinnedSetting, SettingsGuard } from "./dynamic/settings-guard";
import { Auth0ForeignData } from "./postgres/foreign-data";
import { PostgresDatabase } from "./postgres/database";
import { adminTls } from "./postgres/tls";
import { RoleKey, SUPABASE_AUTHENTICATED_ROLE } from "./postgres/privileges";
import { SupabaseThirdPartyAuth } from "./dynamic/supabase-third-party-auth";

/**
 * What the stack exports: only what exists (the engine warns on an undefined output). Secret values
 * are Pulumi secrets; everything else is safe to print.
 */
export interface StackOutputs {
    postgresRoles: pulumi.Output<Record<RoleKey, string>>;
    appliedMigrations: pulumi.Output<string[]>;
    /** The Auth0 side's outputs: absent when the stack is `postgresOnly`. */
    spaClientId?: pulumi.Output<string>;
    apiAudience?: pulumi.Output<string>;
    connectionId?: pulumi.Output<string>;
    /** JSON for `HASURA_GRAPHQL_JWT_SECRET`: jwk_url, issuer, audience, claims_namespace. */
    hasuraJwtConfig?: pulumi.Output<string>;
    /** With Supabase features: the Vault secret id the foreign server reads, and when its token expires. */
    managementTokenVaultSecretId?: pulumi.Output<string>;
    managementTokenExpiresAt?: pulumi.Output<string>;
    /**
     * With Supabase third-party auth: what an app's Supabase client needs (see the README's snippet):
     * the project URL, the tenant and the SPA to sign in with, the audience to ask for, and that the
     * Auth0 *access* token is the one to send.
     */
    supabaseClient?: pulumi.Output<SupabaseClientOutput>;
}

/** The `supabaseClient` output. Nothing in it is secret. */
export interface SupabaseClientOutput {
    supabaseUrl: string;
    auth0Domain: string;
    auth0ClientId: string;
    audience: string;
    /** Which Auth0 token Supabase accepts: the access token (it carries `role: authenticated`). */
    sendToken: "access_token";
}

/** A `postgres://` URL with the credentials percent-encoded. Secret in, secret out. */
export function postgresUrl(args: {
    user: pulumi.Input<string>;
    password: pulumi.Input<string>;
    host: string;
    port: number;
    database: string;
}): pulumi.Output<string> {
    return pulumi.secret(
        pulumi
            .all([args.user, args.password])
            // An IPv6 address goes in brackets, as in any URL.
            .apply(
                ([user, password]) =>
                    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${args.host.includes(":") ? `[${args.host}]` : args.host}:${args.port}/${encodeURIComponent(args.database)}`,
            ),
    );
}

/** The Hasura JWT config for this tenant and API, as Hasura reads it from `HASURA_GRAPHQL_JWT_SECRET`. */
export function hasuraJwtConfig(domain: string, audience: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.jsonStringify({
        jwk_url: `https://${domain}/.well-known/jwks.json`,
        issuer: `https://${domain}/`,
        audience,
        claims_namespace: HASURA_CLAIMS_NAMESPACE,
    });
}

export interface Auth0PostgresStackArgs {
    /** The stack's validated config (`readStackConfig`). */
    config: StackConfig;
    /** The stack's secrets, as Pulumi secrets. */
    secrets: StackSecrets;
}

/**
 * The whole stack as one component: explicit providers, the Postgres side, the Auth0 side, and the
 * wiring between them. Everything is derived from validated `config` and `secrets`; nothing here
 * reads `pulumi.Config`. Every resource is a descendant of this component, named after it
 * (`<name>-db`, `<name>-auth0`, ...).
 */
export class Auth0PostgresStack extends pulumi.ComponentResource {
    public readonly outputs: StackOutputs;

    constructor(name: string, args: Auth0PostgresStackArgs, opts?: pulumi.ComponentResourceOptions) {
        const { config, secrets } = args;
        // The scripts' settings fail here, before anything is registered: the check inside the
        // `apply` below never runs on a new stack's first preview (the password is unknown).
        if (!config.postgresOnly) checkScriptSettings(customDbScriptSettings(config));
        super(AUTH0_COMPONENT_TYPES.stack, name, {}, opts);
        this.outputs = registerStack(this, name, config, secrets);
        this.registerOutputs({ ...this.outputs });
    }
}

/** The `supabaseClient` output for a project, tenant, SPA and API. */
export function supabaseClientOutput(
    projectRef: string,
    auth0Domain: string,
    clientId: pulumi.Input<string>,
    audience: pulumi.Input<string>,
): pulumi.Output<SupabaseClientOutput> {
    return pulumi.all([clientId, audience]).apply(([auth0ClientId, aud]) => ({
        supabaseUrl: `https://${projectRef}.supabase.co`,
        auth0Domain,
        auth0ClientId,
        audience: aud,
        sendToken: "access_token" as const,
    }));
}

/**
 * The name of the stack's root component, and so the prefix of every resource name. Fixed: the stack
 * is already part of each URN, and a name that carried it would make `pulumi stack rename` plan to
 * replace everything.
 */
export const STACK_ROOT_NAME = "auth0-postgres";

/** Registers the stack (see {@link Auth0PostgresStack}) and returns its outputs. */
export function buildStack(config: StackConfig, secrets: StackSecrets): StackOutputs {
    // A fixed name, so that renaming the stack or the project renames nothing; the alias carries the
    // names from before (`<project>-<stack>`), and every descendant inherits it (their names start
    // with this one's).
    return new Auth0PostgresStack(STACK_ROOT_NAME, { config, secrets }, { aliases: [{ name: config.prefix }] }).outputs;
}

/** What the custom-database scripts get besides their URL: known from the config alone, so checked before anything is registered. */
export function customDbScriptSettings(config: StackConfig): ScriptSettings {
    return {
        ssl: config.postgres.sslMode,
        bcryptCost: config.customDb.bcryptCost,
        poolMax: config.customDb.poolMax,
        connectTimeoutMs: config.customDb.connectTimeoutMs,
        statementTimeoutMs: config.customDb.statementTimeoutMs,
        schema: config.postgres.schema,
        caCertificate: config.postgres.caCertificate,
        modules: config.customDb.modules,
    };
}

/** The settings that cannot change in place (see {@link SettingsGuard}), with what a change would destroy. */
export function pinnedSettings(config: StackConfig): PinnedSetting[] {
    const key = (k: string) => `${config.project}:${k}`;
    const settings: PinnedSetting[] = [
        {
            key: key("postgres.schema"),
            value: config.postgres.schema,
            consequence: "the user store's schema: the migrations refuse to move, and the scripts and the sync would use a schema without the users",
            instead: "to move the user store, deploy a new stack with the new schema and copy the rows",
        },
        {
            key: key("postgres.rolePrefix"),
            value: config.postgres.rolePrefix,
            consequence: "every role of the stack (new names and passwords) while the migrations' policies and grants still name the old roles",
            instead: "roles cannot be renamed by the stack: keep the prefix",
        },
    ];
    if (!config.postgresOnly) {
        settings.push({
            key: key("customDb.connectionName"),
            value: config.customDb.connectionName,
            consequence: "the Auth0 connection: Auth0 deletes it with its users' Auth0-side data (role assignments, MFA enrolments, metadata)",
            instead: "Auth0 cannot rename a database connection: to move users, add a second connection and migrate them",
        });
    }
    return settings;
}

function registerStack(root: pulumi.ComponentResource, name: string, config: StackConfig, secrets: StackSecrets): StackOutputs {
    const pg = config.postgres;
    const parent: pulumi.ComponentResourceOptions = { parent: root };

    // Settings that cannot change in place fail the preview here, before any provider starts.
    const guard = new SettingsGuard(
        auth0StackNames(name).settingsGuard,
        { settings: pinnedSettings(config), allowDataLoss: config.allowDataLoss, allowDataLossKey: `${config.project}:allowDataLoss` },
        parent,
    );
    const guarded: pulumi.CustomResourceOptions = { ...parent, dependsOn: [guard] };

    // TLS of Pulumi's own connections; Auth0's scripts and the sync Action get sslMode and the CA below.
    const tls = adminTls(config);
    const pgProvider = new postgresql.Provider(
        `${name}-postgres`,
        {
            host: pg.host,
            port: pg.port,
            database: pg.database,
            username: pg.username,
            password: secrets.postgresPassword,
            sslmode: tls.providerSslMode,
            // A path: infra/index.ts writes the CA there before anything is registered.
            sslrootcert: tls.providerRootCert,
            // Supabase's `postgres` user is not a superuser; do not attempt superuser-only statements.
            superuser: false,
        },
        guarded,
    );
    const adminConnection: pulumi.Output<PgConnectionInfo> = pulumi.secret(
        secrets.postgresPassword.apply((password) => ({
            host: pg.host,
            port: pg.port,
            database: pg.database,
            user: pg.username,
            password,
            ...tls.connection,
        })),
    );

    const database = new PostgresDatabase(
        `${name}-db`,
        {
            provider: pgProvider,
            connection: adminConnection,
            database: pg.database,
            schema: pg.schema,
            rolePrefix: pg.rolePrefix,
            statementTimeoutMs: config.customDb.statementTimeoutMs,
            supabase: config.supabase,
            dedicatedDatabase: config.postgres.dedicatedDatabase,
            supabaseAuthenticated: config.supabaseAuth.enabled,
            allowDataLoss: config.allowDataLoss,
            protect: config.protect,
            adoptUsersTable: pg.adoptUsersTable,
        },
        parent,
    );

    const postgresOutputs = { postgresRoles: pulumi.output(database.roleNames), appliedMigrations: database.migrations.applied };
    if (config.postgresOnly) return postgresOutputs;
    if (!secrets.auth0ClientSecret) throw new Error("auth0ClientSecret is required unless postgresOnly (the config check should have said so)");

    const names = auth0StackNames(name);
    const auth0Provider = new auth0.Provider(
        names.provider,
        { domain: config.auth0.domain, clientId: config.auth0.clientId, clientSecret: secrets.auth0ClientSecret },
        guarded,
    );
    const apps = new Auth0Applications(
        names.applications,
        {
            provider: auth0Provider,
            domain: config.auth0.domain,
            spa: {
                name: config.spa.name ?? defaultSpaName(config.project, config.stack),
                callbacks: config.spa.callbacks,
                webOrigins: config.spa.webOrigins,
                logoutUrls: config.spa.logoutUrls,
            },
            api: {
                name: config.api.name ?? defaultApiName(config.project, config.stack),
                identifier: config.api.identifier,
                tokenLifetime: config.api.tokenLifetime,
                permissions: config.api.permissions,
                roles: config.api.roles,
            },
            managementReader: config.supabase,
            protect: config.protect,
        },
        parent,
    );

    const publicAddress = { host: pg.publicHost, port: pg.publicPort, database: pg.database };
    const scriptsUrl = postgresUrl({ user: database.scriptsRole.name, password: database.scriptsRole.password, ...publicAddress });
    const connection = new CustomDatabaseConnection(
        names.connection,
        {
            provider: auth0Provider,
            name: config.customDb.connectionName,
            // The settings are checked already (see the constructor); this adds the URL once the password is known.
            configuration: scriptsUrl.apply((dbUrl) => scriptConfiguration({ dbUrl, ...customDbScriptSettings(config) })),
            scriptModules: config.customDb.modules,
            enabledClients: [apps.spa.clientId],
            importMode: config.customDb.importMode,
            disableSignup: config.customDb.disableSignup,
            passwordPolicy: config.customDb.passwordPolicy,
            security: config.customDb,
            protect: config.protect,
        },
        { ...parent, dependsOn: database.ready },
    );

    // The SPA logs in through the declared connection only: off every other connection (new tenants
    // enable every new client on Username-Password-Authentication and google-oauth2), tenant flag off.
    new ClientConnections(
        names.clientConnections,
        {
            domain: config.auth0.domain,
            clientId: config.auth0.clientId,
            clientSecret: secrets.auth0ClientSecret,
            clientIds: [apps.spa.clientId],
            allowedConnections: [config.customDb.connectionName],
            setTenantFlag: !config.auth0.enableClientConnections,
        },
        { ...parent, dependsOn: [connection] },
    );

    const syncViaPostgres = config.sync.mode === "postgres";
    new PostLoginActions(
        names.postLogin,
        {
            provider: auth0Provider,
            // The names shown in the tenant keep the stack: `<project>-<stack>-<action>`.
            namePrefix: config.prefix,
            keepBindings: config.postLogin.keepBindings,
            protect: config.protect,
            secrets: {
                DEFAULT_ROLE: config.hasura.defaultRole,
                ALLOWED_ROLES: config.hasura.allowedRoles.join(","),
                SUPABASE_ROLE: config.supabaseAuth.enabled ? SUPABASE_AUTHENTICATED_ROLE : undefined,
                SYNC_MODE: config.sync.mode,
                SYNC_BLOCKS_LOGIN: String(config.sync.blocksLogin),
                DB_SCHEMA: pg.schema,
                DB_URL: syncViaPostgres ? postgresUrl({ user: database.syncRole.name, password: database.syncRole.password, ...publicAddress }) : undefined,
                DB_SSL: syncViaPostgres ? pg.sslMode : undefined,
                DB_CA_CERT: syncViaPostgres ? pg.caCertificate : undefined,
                DB_CONNECT_TIMEOUT_MS: String(config.customDb.connectTimeoutMs),
                DB_STATEMENT_TIMEOUT_MS: String(config.customDb.statementTimeoutMs),
                HASURA_GRAPHQL_URL: syncViaPostgres ? undefined : config.hasura.graphqlUrl,
                HASURA_ADMIN_SECRET: syncViaPostgres ? undefined : secrets.hasuraAdminSecret,
            },
        },
        { ...parent, dependsOn: database.ready },
    );

    const outputs: StackOutputs = {
        ...postgresOutputs,
        spaClientId: apps.spa.clientId,
        apiAudience: apps.audience,
        connectionId: connection.connectionId,
        hasuraJwtConfig: hasuraJwtConfig(config.auth0.domain, apps.audience),
    };
    if (config.supabaseAuth.enabled) {
        // Supabase accepts the tenant's tokens: its issuer registered with the project.
        if (!secrets.supabaseAccessToken || !config.supabaseAuth.projectRef)
            throw new Error("supabaseAuth needs projectRef and supabaseAccessToken (the config check should have said so)");
        new SupabaseThirdPartyAuth(
            `${name}-supabase-auth`,
            {
                apiUrl: config.supabaseAuth.apiUrl,
                projectRef: config.supabaseAuth.projectRef,
                accessToken: secrets.supabaseAccessToken,
                oidcIssuerUrl: `https://${config.auth0.domain}/`,
            },
            parent,
        );
        outputs.supabaseClient = supabaseClientOutput(config.supabaseAuth.projectRef, config.auth0.domain, apps.spa.clientId, apps.audience);
    }
    if (config.supabase && apps.managementReader) {
        const foreign = new Auth0ForeignData(
            `${name}-auth0-fdw`,
            {
                provider: pgProvider,
                connection: adminConnection,
                database: pg.database,
                auth0Domain: config.auth0.domain,
                rolePrefix: pg.rolePrefix,
                roleNames: database.roleNames,
                managementClient: { clientId: apps.managementReader.clientId, clientSecret: apps.managementReader.clientSecret },
                refreshBeforeSeconds: config.managementToken.refreshBeforeSeconds,
                protect: config.protect,
                dependsOn: [...database.extensions, ...database.ready, apps.managementReader.grant],
            },
            parent,
        );
        outputs.managementTokenVaultSecretId = foreign.vaultSecretId;
        outputs.managementTokenExpiresAt = foreign.tokenExpiresAt;
    }
    return outputs;
}
