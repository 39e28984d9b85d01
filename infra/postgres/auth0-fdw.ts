import { ident } from "./privileges";
import type { ForeignColumn } from "../dynamic/fdw-table";
import { optionsSql } from "../dynamic/common";

/**
 * Supabase Wrappers' Auth0 foreign data wrapper: names, the users table's columns and the foreign
 * server's options (https://supabase.github.io/wrappers/catalog/auth0/).
 */

/**
 * The stack's foreign-data object names, from its role prefix, so that two stacks can share a
 * database (with distinct prefixes). The default prefix `auth0` gives the names Supabase's docs use:
 * the wrapper `auth0_wrapper` and the schema `auth0` (so `auth0.users`).
 */
export function foreignDataNames(rolePrefix: string): { wrapper: string; schema: string; server: string; vaultSecret: string } {
    return {
        wrapper: `${rolePrefix}_wrapper`,
        schema: rolePrefix,
        server: `${rolePrefix}_auth0_server`,
        vaultSecret: `${rolePrefix}_auth0_management_api`,
    };
}
/**
 * The Supabase Vault the stack is tested against: supabase_vault 0.3.1, the version Supabase pins
 * (its secrets' `key_id` is always NULL; `create_secret` writes its argument in clear first).
 */
export const VAULT_VERSION = "0.3.1";

/**
 * The oldest Wrappers whose Auth0 FDW reads the stack's key: the foreign server names it by Vault
 * secret id (`api_key_id`), which Wrappers looks up by id from 0.4.6 on (supabase/wrappers#446).
 */
export const WRAPPERS_MIN_VERSION = "0.4.6";

/** Why an older Wrappers does not work, as the preview says it. */
export const WRAPPERS_MIN_VERSION_REASON =
    "before 0.4.6 Wrappers looks the API key up in Vault by key_id only, which Vault 0.3 leaves NULL, so every query of the foreign tables would fail with `no secret found in vault with id ...`";

/** Handler function of the `wrappers` extension (in its schema, `extensions` on Supabase). */
export const AUTH0_FDW_HANDLER = "auth0_fdw_handler";
/** Validator function of the `wrappers` extension. */
export const AUTH0_FDW_VALIDATOR = "auth0_fdw_validator";

/**
 * Columns of the `users` object. Types follow what the wrapper produces for each field
 * (wrappers `auth0_fdw/auth0_client/row.rs`): dates arrive as text, `identities` and the metadata
 * as jsonb, `logins_count` as a 32-bit integer. The wrapper expects `identities` in every user.
 */
export const AUTH0_USER_COLUMNS: readonly ForeignColumn[] = [
    { name: "user_id", type: "text" },
    { name: "email", type: "text" },
    { name: "email_verified", type: "bool" },
    { name: "username", type: "text" },
    { name: "phone_number", type: "text" },
    { name: "created_at", type: "text" },
    { name: "updated_at", type: "text" },
    { name: "identities", type: "jsonb" },
    { name: "app_metadata", type: "jsonb" },
    { name: "user_metadata", type: "jsonb" },
    { name: "name", type: "text" },
    { name: "nickname", type: "text" },
    { name: "picture", type: "text" },
    { name: "last_login", type: "text" },
    { name: "logins_count", type: "int" },
    { name: "blocked", type: "bool" },
    { name: "given_name", type: "text" },
    { name: "family_name", type: "text" },
];

/** The Management API's list-users endpoint the wrapper reads. */
export function auth0UsersUrl(domain: string): string {
    return `https://${domain}/api/v2/users`;
}

/** Options of the wrapper's foreign server: the URL, and the API key by its Vault id (never the key itself). */
export function foreignServerOptions(domain: string, vaultSecretId: string): { url: string; api_key_id: string } {
    return { url: auth0UsersUrl(domain), api_key_id: vaultSecretId };
}

/**
 * The statement `postgresql.Server` runs for `{ serverName, fdwName, options }` (the Terraform
 * provider's create: quoted name and wrapper, `OPTIONS` keys quoted as identifiers and values as
 * literals, lib/pq style). Options are in key order here; the provider uses its map's order. The
 * tests run it, since the provider plugin cannot run there.
 */
export function foreignServerSql(serverName: string, fdwName: string, options: Record<string, string>): string {
    const list = Object.keys(options).length > 0 ? ` OPTIONS (${optionsSql(options)})` : "";
    return `CREATE SERVER ${ident(serverName)} FOREIGN DATA WRAPPER ${ident(fdwName)}${list}`;
}
