/**
 * (a) The code uploaded to Auth0 (the six assembled custom-database scripts and every Action's
 * `code`) holds no secret-looking literal: configuration reaches it only through `configuration`
 * and `event.secrets`. The detector is checked first on texts that must be flagged, one per kind,
 * and on look-alikes that must not be.
 */
import { randomBytes } from "node:crypto";
import bcrypt from "bcrypt";
import { describe, expect, it } from "vitest";
import { ACTIONS } from "../../infra/auth0/actions";
import { customDbScripts } from "../../infra/auth0/scripts";
import { findSecrets } from "./detector";

const UPLOADED: [string, string][] = [
    ...Object.entries(customDbScripts()).map(([name, text]) => [`custom-database script ${name}`, text] as [string, string]),
    ...ACTIONS.map((a) => [`Action ${a.key}`, a.code] as [string, string]),
];

describe("the secret detector", () => {
    // Random, plus one of each character class, so the literal always looks like a key.
    const token = `${randomBytes(24).toString("base64url")}Aa9`;
    it.each([
        ["URL with credentials", `var url = "postgres://scripts:${token}@db.example.com:5432/postgres";`],
        ["URL with credentials", `fetch('https://admin:${token}@hasura.example.com/v1/graphql')`],
        ["JWT", `const t = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.${token}";`],
        ["private key", "const key = `-----BEGIN RSA PRIVATE KEY-----\\nMIIB...`;"],
        ["bcrypt hash", `var dummy = "${bcrypt.hashSync("x", 4)}";`],
        ["AWS access key", 'const id = "AKIAIOSFODNN7EXAMPLE";'],
        ["hex key", `const k = "${randomBytes(16).toString("hex")}";`],
        ["credential assignment", 'var password = "hunter22";'],
        ["credential assignment", "headers: { client_secret: 'abcd1234' }"],
        ["credential assignment", '{ "token": "tok_live_x" }'],
        ["random-looking string literal", `const s = "${token}";`],
    ])("flags a %s", (kind, text) => {
        expect(findSecrets(text).map((f) => f.kind)).toContain(kind);
    });

    it.each([
        ["a URL without credentials", 'const u = "https://hasura.io/jwt/claims";'],
        ["a regex naming the URL form", "var DB_URL = /^postgres(ql)?:\\/\\/[^\\s\\/?#]+(\\/[^\\s?#]*)?$/;"],
        ["a password read from configuration", "var password = configuration.DB_PASSWORD; const t = secrets.TOKEN;"],
        ["names and messages", 'const APPLICATION_NAME = "auth0-action-user-sync"; throw new Error("secret DB_URL is required");'],
        ["an empty or placeholder assignment", 'password: "", token: "..."'],
    ])("does not flag %s", (_label, text) => {
        expect(findSecrets(text)).toEqual([]);
    });
});

describe("the uploaded code", () => {
    it("is the six scripts and the three Actions", () => {
        expect(UPLOADED.map(([name]) => name)).toEqual([
            "custom-database script login",
            "custom-database script create",
            "custom-database script verify",
            "custom-database script change_password",
            "custom-database script get_user",
            "custom-database script delete",
            "Action profile-defaults",
            "Action hasura-claims",
            "Action user-sync",
        ]);
    });

    it.each(UPLOADED)("%s holds no secret-looking literal", (_name, text) => {
        expect(text.length).toBeGreaterThan(100);
        expect(findSecrets(text)).toEqual([]);
    });

    it.each(UPLOADED)("%s reads its settings from Auth0, not from the process environment", (_name, text) => {
        expect(text).not.toMatch(/process\.env/);
        expect(text).toMatch(/\bconfiguration\b|event\.secrets|\bsecrets\b|Reads no secrets/);
    });
});
