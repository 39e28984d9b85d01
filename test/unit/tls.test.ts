/**
 * TLS settings (issue #10 point 8), as pure functions: the CA certificate's validation and
 * normalization, sslMode's defaults and refusals (judged by the host Auth0 connects to as well as the
 * one Pulumi connects to), the TLS options every client derives from them, and the CA file the
 * postgresql provider reads. The connections themselves are tested against a TLS Postgres in
 * test/tls/.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { NO_CA_CERTIFICATE, scriptConfiguration } from "../../infra/auth0/scripts";
import { ConfigError, ConfigInput, parseStackConfig } from "../../infra/config";
import { isLoopbackHost } from "../../infra/config/constants";
import { MAX_CA_CERTIFICATE_CHARS, parseCaCertificate } from "../../infra/config/tls";
import { sslConfig } from "../../infra/dynamic/connection";
import { adminTls, caCertificateFile, writeCaCertificateFile } from "../../infra/postgres/tls";
import { CertificateAuthority, createCertificateAuthority } from "../support/tls";

const PROJECT = "auth0-postgres";
let ca: CertificateAuthority;
let other: CertificateAuthority;

beforeAll(() => {
    ca = createCertificateAuthority("auth0pg unit CA");
    other = createCertificateAuthority("auth0pg other CA");
});

function values(stack: string, postgres: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const https = stack !== "local";
    const origin = https ? `https://${stack}.app.acme.test` : "http://localhost:3000";
    return {
        environment: stack,
        auth0: { domain: `acme-${stack}.eu.auth0.com`, clientId: "DeployClientId000000000000000000" },
        spa: { callbacks: [`${origin}/callback`] },
        api: { identifier: `https://api.${stack}.acme.test` },
        postgres,
        ...extra,
    };
}

function input(stack: string, postgres: Record<string, unknown>, extra: Record<string, unknown> = {}): ConfigInput {
    return {
        project: PROJECT,
        stack,
        values: values(stack, postgres, extra),
        secrets: extra.postgresOnly
            ? { postgresPassword: { encrypted: true } }
            : { auth0ClientSecret: { encrypted: true }, postgresPassword: { encrypted: true } },
    };
}

function problemsOf(i: ConfigInput): string[] {
    try {
        parseStackConfig(i);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
    }
    throw new Error("expected the configuration to be rejected");
}

describe("postgres.caCertificate", () => {
    it("is parsed with node:crypto and normalized: CRLF, text around the blocks and a root plus an intermediate", () => {
        const messy = `subject=CN = auth0pg unit CA\r\n${ca.certPem.replace(/\n/g, "\r\n")}\r\n# and another\r\n${other.certPem}`;
        const result = parseCaCertificate(messy);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.pem).toBe(`${ca.certPem}${other.certPem}`.replace(/\r/g, ""));
        expect(result.certificates.map((c) => c.subject)).toEqual(["auth0pg unit CA", "auth0pg other CA"]);
    });

    it.for([
        ["not PEM at all", (): string => "MIIBkTCB+wIJ", /must be PEM text/],
        ["a private key, without echoing it", (): string => ca.keyPem, /block 1 is a private key \(BEGIN PRIVATE KEY\): .*never belongs in the stack config/],
        [
            "another kind of block",
            (): string => "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----",
            /block 1 is a CERTIFICATE REQUEST, not a CERTIFICATE/,
        ],
        [
            "a block that is no certificate",
            (): string => "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----",
            /block 1 does not parse as an X\.509 certificate/,
        ],
    ] as const)("refuses %s", ([, text, pattern]) => {
        const result = parseCaCertificate(text());
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.problems.join("; ")).toMatch(pattern);
        expect(result.problems.join("; ")).not.toContain(ca.keyPem.split("\n")[1]!);
    });

    it("refuses an expired certificate, naming it", () => {
        const result = parseCaCertificate(ca.certPem, new Date("2200-01-01T00:00:00Z"));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems).toEqual([expect.stringMatching(/^certificate 1 \(CN=auth0pg unit CA\) expired on \d{4}-/)]);
    });

    it(`refuses more than ${MAX_CA_CERTIFICATE_CHARS} characters, the most an Action secret holds`, () => {
        const bundle = Array.from({ length: Math.ceil(MAX_CA_CERTIFICATE_CHARS / ca.certPem.length) + 1 }, () => ca.certPem).join("");
        const result = parseCaCertificate(bundle);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems[0]).toMatch(/^is \d+ characters once normalized .*at most 4096 in an Action secret/);
    });
});

describe("sslMode: defaults and refusals, each naming the key", () => {
    it("defaults to verify-full when a CA is given, and hands the normalized CA on", () => {
        const c = parseStackConfig(input("prod", { host: "db.ref.supabase.co", caCertificate: `${ca.certPem}\n\n` }));
        expect(c.postgres.sslMode).toBe("verify-full");
        expect(c.postgres.caCertificate).toBe(ca.certPem);
        expect(parseStackConfig(input("prod", { host: "db.ref.supabase.co", caCertificate: ca.certPem, sslMode: "verify-ca" })).postgres.sslMode).toBe(
            "verify-ca",
        );
    });

    it("defaults to require without a CA outside local, and to disable on local only when Auth0's host is loopback", () => {
        expect(parseStackConfig(input("dev", { host: "db.ref.supabase.co" })).postgres.sslMode).toBe("require");
        expect(parseStackConfig(input("local", { host: "127.0.0.1" })).postgres.sslMode).toBe("disable");
        // A tunnel to a local Postgres: Auth0 connects over the internet, so TLS by default.
        expect(parseStackConfig(input("local", { host: "127.0.0.1", publicHost: "0.tcp.eu.ngrok.io" })).postgres.sslMode).toBe("require");
        // The Postgres side alone: Auth0 connects to nothing.
        expect(
            parseStackConfig(
                input(
                    "local",
                    { host: "127.0.0.1", publicHost: "0.tcp.eu.ngrok.io" },
                    { postgresOnly: true, auth0: undefined, spa: undefined, api: undefined },
                ),
            ).postgres.sslMode,
        ).toBe("disable");
    });

    it("refuses disable whenever the host Auth0 uses is not loopback, even when Pulumi's host is (a tunnel on prod)", () => {
        const problems = problemsOf(input("prod", { host: "127.0.0.1", publicHost: "db.ref.supabase.co", sslMode: "disable" }));
        expect(problems).toEqual([
            `${PROJECT}:postgres.sslMode: "disable" sends the database password in clear text: Auth0's scripts and the user-sync Action connect to db.ref.supabase.co (${PROJECT}:postgres.publicHost), which is not loopback; use verify-full with ${PROJECT}:postgres.caCertificate (or require, which encrypts without verifying the server)`,
        ]);
        // On local too, when a tunnel makes the database public.
        expect(problemsOf(input("local", { host: "127.0.0.1", publicHost: "0.tcp.eu.ngrok.io", sslMode: "disable" }))[0]).toMatch(
            new RegExp(
                `^${PROJECT}:postgres\\.sslMode: "disable" sends the database password in clear text: .* connect to 0\\.tcp\\.eu\\.ngrok\\.io \\(${PROJECT}:postgres\\.publicHost\\)`,
            ),
        );
        // Without publicHost, the host is the one Auth0 uses, and the key says so.
        expect(problemsOf(input("dev", { host: "db.ref.supabase.co", sslMode: "disable" }))[0]).toMatch(
            /connect to db\.ref\.supabase\.co \(auth0-postgres:postgres\.host\)/,
        );
    });

    it("accepts disable where nothing leaves the machine", () => {
        expect(parseStackConfig(input("dev", { host: "127.0.0.1", sslMode: "disable" })).postgres.sslMode).toBe("disable");
        expect(parseStackConfig(input("local", { host: "localhost", publicHost: "127.0.0.1", sslMode: "disable" })).postgres.sslMode).toBe("disable");
    });

    it("refuses a CA with a mode that would not use it", () => {
        for (const sslMode of ["require", "disable"]) {
            expect(problemsOf(input("local", { host: "127.0.0.1", caCertificate: ca.certPem, sslMode }))).toContain(
                `${PROJECT}:postgres.sslMode: "${sslMode}" does not verify the server, so ${PROJECT}:postgres.caCertificate would not be used; leave sslMode unset (verify-full when a CA is given) or set verify-ca or verify-full`,
            );
        }
    });

    it("refuses a CA that is not one, naming postgres.caCertificate", () => {
        expect(problemsOf(input("dev", { host: "db.ref.supabase.co", caCertificate: "prod-ca-2021.crt" }))).toEqual([
            `${PROJECT}:postgres.caCertificate: must be PEM text: one or more "-----BEGIN CERTIFICATE-----" blocks`,
        ]);
        const withKey = problemsOf(input("dev", { host: "db.ref.supabase.co", caCertificate: `${ca.certPem}${ca.keyPem}` }));
        expect(withKey).toEqual([expect.stringMatching(new RegExp(`^${PROJECT}:postgres\\.caCertificate: block 2 is a private key`))]);
        expect(withKey.join("\n")).not.toContain(ca.keyPem.split("\n")[1]!);
    });

    it("knows loopback hosts", () => {
        expect(["localhost", "127.0.0.1", "127.1.2.3", "::1"].map(isLoopbackHost)).toEqual([true, true, true, true]);
        expect(["db.ref.supabase.co", "10.0.0.5", "128.0.0.1", "localhost.example.com"].map(isLoopbackHost)).toEqual([false, false, false, false]);
    });
});

describe("what each client gets", () => {
    it("pg's ssl option, per mode, as libpq means it", () => {
        expect(sslConfig({ sslMode: "disable" })).toBe(false);
        expect(sslConfig({ sslMode: "require", caCertificate: ca.certPem })).toEqual({ rejectUnauthorized: false });
        const verifyCa = sslConfig({ sslMode: "verify-ca", caCertificate: ca.certPem });
        expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca: ca.certPem });
        expect(verifyCa && verifyCa.checkServerIdentity?.("any.host", {} as never)).toBeUndefined();
        expect(sslConfig({ sslMode: "verify-full", caCertificate: ca.certPem })).toEqual({ rejectUnauthorized: true, ca: ca.certPem });
        expect(sslConfig({ sslMode: "verify-full" })).toEqual({ rejectUnauthorized: true });
        expect(sslConfig({ sslMode: "verify-full", tlsServerName: "db.ref.supabase.co" })).toEqual({
            rejectUnauthorized: true,
            servername: "db.ref.supabase.co",
        });
        // SNI carries no address: an address is checked without it.
        const byAddress = sslConfig({ sslMode: "verify-full", tlsServerName: "203.0.113.9" });
        expect(byAddress && byAddress.servername).toBeUndefined();
        expect(
            byAddress && byAddress.checkServerIdentity?.("127.0.0.1", { subject: { CN: "x" }, subjectaltname: "IP Address:203.0.113.9" } as never),
        ).toBeUndefined();
        expect(
            byAddress && byAddress.checkServerIdentity?.("127.0.0.1", { subject: { CN: "x" }, subjectaltname: "IP Address:127.0.0.1" } as never),
        ).toBeInstanceOf(Error);
    });

    it("the scripts' DB_CA_CERT: the CA, or none; a CA with a mode that ignores it is refused", () => {
        const base = {
            dbUrl: "postgres://u:p@db.example.com/postgres",
            bcryptCost: 10,
            poolMax: 5,
            connectTimeoutMs: 5000,
            statementTimeoutMs: 5000,
            schema: "auth0_app",
        };
        expect(scriptConfiguration({ ...base, ssl: "verify-full", caCertificate: ca.certPem }).DB_CA_CERT).toBe(ca.certPem);
        expect(scriptConfiguration({ ...base, ssl: "require" }).DB_CA_CERT).toBe(NO_CA_CERTIFICATE);
        expect(() => scriptConfiguration({ ...base, ssl: "require", caCertificate: ca.certPem })).toThrow(
            /caCertificate is given but ssl is "require", which does not verify the server/,
        );
        expect(() => scriptConfiguration({ ...base, ssl: "verify-full", caCertificate: "not pem" })).toThrow(/caCertificate must be normalized PEM text/);
    });

    it("Pulumi's connections: the CA file for the postgresql provider; behind a tunnel, the public name for the dynamic providers and verify-ca for lib/pq", () => {
        const direct = adminTls({
            stack: "prod",
            postgres: { host: "db.ref.supabase.co", publicHost: "db.ref.supabase.co", sslMode: "verify-full", caCertificate: ca.certPem },
        });
        expect(direct).toEqual({
            providerSslMode: "verify-full",
            providerRootCert: ".pulumi-tls/prod-ca.pem",
            connection: { sslMode: "verify-full", caCertificate: ca.certPem },
        });
        const tunnel = adminTls({
            stack: "prod",
            postgres: { host: "127.0.0.1", publicHost: "db.ref.supabase.co", sslMode: "verify-full", caCertificate: ca.certPem },
        });
        expect(tunnel).toEqual({
            providerSslMode: "verify-ca",
            providerRootCert: ".pulumi-tls/prod-ca.pem",
            connection: { sslMode: "verify-full", caCertificate: ca.certPem, tlsServerName: "db.ref.supabase.co" },
        });
        expect(adminTls({ stack: "dev", postgres: { host: "db.ref.supabase.co", publicHost: "pooler.supabase.com", sslMode: "require" } })).toEqual({
            providerSslMode: "require",
            connection: { sslMode: "require" },
        });
    });

    it("writes the CA file the provider's sslrootcert names, under the project directory", () => {
        const dir = mkdtempSync(join(tmpdir(), "auth0pg-cafile-"));
        try {
            expect(writeCaCertificateFile({ stack: "dev", postgres: {} }, dir)).toBeUndefined();
            const path = writeCaCertificateFile({ stack: "dev", postgres: { caCertificate: ca.certPem } }, dir);
            expect(path).toBe(join(dir, caCertificateFile("dev")));
            expect(readFileSync(path!, "utf8")).toBe(ca.certPem);
            writeCaCertificateFile({ stack: "dev", postgres: { caCertificate: other.certPem } }, dir);
            expect(readFileSync(path!, "utf8")).toBe(other.certPem);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
