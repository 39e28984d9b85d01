import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assembleAction } from "./assemble";

/**
 * The post-login Actions, in the order they are bound to the trigger. The `code` is the exact
 * text of each file next to this one: what is uploaded is what the tests execute.
 *
 * Code two Actions share (the name rule) is written once in `shared/` and inserted into each by
 * `assembleAction`: `code` is the assembled text.
 *
 * Order matters: "profile-defaults" fills `user_metadata.displayName` with
 * `api.user.setUserMetadata`, which Auth0 makes visible in `event.user` of the later Actions of
 * the same trigger (persisting it once, at the end of the flow), so "hasura-claims" and
 * "user-sync" see the filled value.
 */

export type ActionKey = "profile-defaults" | "hasura-claims" | "user-sync";

/** The namespace of the Hasura claims (Hasura's default `claims_namespace`). */
export const HASURA_CLAIMS_NAMESPACE = "https://hasura.io/jwt/claims";

/** The Auth0 runtime the Actions are written for. */
export const ACTIONS_RUNTIME = "node22";

/** The trigger the Actions are bound to, and its version, as `auth0.Action.supportedTriggers` takes them. */
export const POST_LOGIN_TRIGGER = { id: "post-login", version: "v3" } as const;

export interface ActionDependency {
    name: string;
    version: string;
}

export interface ActionSpec {
    key: ActionKey;
    /** Display name in the Auth0 dashboard. */
    name: string;
    /** The exact source uploaded to Auth0 (the file, with the shared snippets it asks for inserted). */
    code: string;
    /** npm packages Auth0 installs for the Action (exact versions, the ones the tests run). */
    dependencies: ActionDependency[];
    /** Every secret the Action reads (see {@link requiredSecretNames} for which must be set). */
    secretNames: ActionSecretName[];
}

export const USER_SYNC_SECRETS = [
    "SYNC_MODE",
    "SYNC_BLOCKS_LOGIN",
    "DB_SCHEMA",
    "DB_URL",
    "DB_SSL",
    "DB_CA_CERT",
    "DB_CONNECT_TIMEOUT_MS",
    "DB_STATEMENT_TIMEOUT_MS",
    "HASURA_GRAPHQL_URL",
    "HASURA_ADMIN_SECRET",
    "HASURA_TIMEOUT_MS",
] as const;

/**
 * The secrets each Action reads, by name: the catalogue of the names `PostLoginActions` accepts, so
 * that a misspelt name fails `tsc` (see {@link ActionSecretName}).
 */
export const ACTION_SECRET_NAMES = {
    "profile-defaults": [],
    "hasura-claims": ["DEFAULT_ROLE", "ALLOWED_ROLES", "SUPABASE_ROLE"],
    "user-sync": USER_SYNC_SECRETS,
} as const satisfies Record<ActionKey, readonly string[]>;

/** The name of a secret Action `K` reads (any Action's, by default). */
export type ActionSecretName<K extends ActionKey = ActionKey> = (typeof ACTION_SECRET_NAMES)[K][number];

/** Where the Actions' source files are. */
export const ACTIONS_DIR = __dirname;

function source(key: ActionKey): string {
    return assembleAction(key, readFileSync(join(ACTIONS_DIR, `${key}.js`), "utf8"));
}

/** The installed version of a package: the one the tests execute, so the one Auth0 must install. */
function installedVersion(pkg: string): string {
    const manifest = JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version?: unknown };
    if (typeof manifest.version !== "string") throw new Error(`${pkg}/package.json has no version`);
    return manifest.version;
}

export const ACTIONS: readonly ActionSpec[] = [
    {
        key: "profile-defaults",
        name: "Profile defaults",
        code: source("profile-defaults"),
        dependencies: [],
        secretNames: [...ACTION_SECRET_NAMES["profile-defaults"]],
    },
    {
        key: "hasura-claims",
        name: "Hasura claims",
        code: source("hasura-claims"),
        dependencies: [],
        secretNames: [...ACTION_SECRET_NAMES["hasura-claims"]],
    },
    {
        key: "user-sync",
        name: "User sync",
        code: source("user-sync"),
        dependencies: [{ name: "pg", version: installedVersion("pg") }],
        secretNames: [...ACTION_SECRET_NAMES["user-sync"]],
    },
];

export function actionSpec(key: ActionKey): ActionSpec {
    const spec = ACTIONS.find((a) => a.key === key);
    if (!spec) throw new Error(`unknown Action "${key}" (known: ${ACTIONS.map((a) => a.key).join(", ")})`);
    return spec;
}

/**
 * The secrets an Action cannot run without. For "user-sync" they depend on `SYNC_MODE`
 * ("postgres" needs DB_URL, "hasura" needs HASURA_GRAPHQL_URL and HASURA_ADMIN_SECRET).
 */
export function requiredSecretNames(key: ActionKey, syncMode?: "postgres" | "hasura"): string[] {
    switch (key) {
        case "profile-defaults":
            return [];
        case "hasura-claims":
            return ["DEFAULT_ROLE", "ALLOWED_ROLES"];
        case "user-sync": {
            const common = ["SYNC_MODE", "DB_SCHEMA"];
            if (syncMode === "postgres") return [...common, "DB_URL"];
            if (syncMode === "hasura") return [...common, "HASURA_GRAPHQL_URL", "HASURA_ADMIN_SECRET"];
            return common;
        }
    }
}

/**
 * The `secrets` list of an `auth0.Action` for `key`, in the Action's `secretNames` order. `V` is
 * whatever the caller holds (a string, a `pulumi.Input<string>`). Entries whose value is
 * `undefined` are left out (the Action uses its default). Throws, naming the Action, on a name the
 * Action does not read and on a missing required secret; `SYNC_MODE`, when a plain string, decides
 * which "user-sync" secrets are required.
 */
export function actionSecrets<V>(key: ActionKey, values: Readonly<Record<string, V | undefined>>): { name: string; value: V }[] {
    const spec = actionSpec(key);
    // `values` comes from anywhere (plain JavaScript, a config): its names are checked here too.
    const reads: readonly string[] = spec.secretNames;
    const unknown = Object.keys(values).filter((name) => !reads.includes(name));
    if (unknown.length > 0) {
        throw new Error(`Action "${key}" does not read secret(s) ${unknown.join(", ")} (it reads: ${spec.secretNames.join(", ") || "none"})`);
    }
    const mode: unknown = values.SYNC_MODE;
    if (key === "user-sync" && typeof mode === "string" && mode !== "postgres" && mode !== "hasura") {
        throw new Error(`Action "user-sync": SYNC_MODE must be "postgres" or "hasura"`);
    }
    const required = requiredSecretNames(key, mode === "postgres" || mode === "hasura" ? mode : undefined);
    const missing = required.filter((name) => values[name] === undefined);
    if (missing.length > 0) throw new Error(`Action "${key}" needs secret(s) ${missing.join(", ")}`);
    const out: { name: string; value: V }[] = [];
    for (const name of spec.secretNames) {
        const value = values[name];
        if (value !== undefined) out.push({ name, value });
    }
    return out;
}
