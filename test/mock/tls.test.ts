/**
 * postgres.caCertificate and sslMode reach every client of the database (issue #10 point 8): the
 * scripts' configuration, the user-sync Action's secrets, the dynamic providers' connection and the
 * postgresql provider (a CA file path, the file written by the entry point). Behind a tunnel
 * (`host` loopback, `publicHost` the database's name), Auth0's side verifies the public name, and
 * so do the dynamic providers; the postgresql provider checks the chain only.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { StackConfig } from "../../infra/config";
import { buildMockedStackOf, MockedStack, RecordedResource } from "../support/pulumi-mocks";
import { CertificateAuthority, createCertificateAuthority } from "../support/tls";

const PROJECT = "auth0-postgres";
const T = {
    pgProvider: "pulumi:providers:postgresql",
    connection: "auth0:index/connection:Connection",
    action: "auth0:index/action:Action",
    migrations: "pulumi-nodejs:dynamic/auth0-postgres:Migrations",
};

let ca: CertificateAuthority;
beforeAll(() => {
    ca = createCertificateAuthority("auth0pg mock CA");
});

function only(built: MockedStack<StackConfig>, type: string, filter: (r: RecordedResource) => boolean = () => true): RecordedResource {
    const found = built.run.ofType(type).filter(filter);
    expect(found, type).toHaveLength(1);
    return found[0]!;
}

function syncSecrets(built: MockedStack<StackConfig>): Record<string, string> {
    const sync = only(built, T.action, (r) => r.name.endsWith("-user-sync"));
    return Object.fromEntries((sync.inputs.secrets as { name: string; value: string }[]).map((s) => [s.name, s.value]));
}

function scriptsConfiguration(built: MockedStack<StackConfig>): Record<string, string> {
    return (only(built, T.connection).inputs.options as { configuration: Record<string, string> }).configuration;
}

describe("a stack with postgres.caCertificate", () => {
    it("verifies the server everywhere with that CA (verify-full by default)", async () => {
        const built = await buildMockedStackOf(PROJECT, "dev", {
            values: { postgres: { host: "db.devprojectref.supabase.co", caCertificate: ca.certPem } },
        });
        expect(only(built, T.pgProvider).inputs).toMatchObject({ sslmode: "verify-full", sslrootcert: ".pulumi-tls/dev-ca.pem" });
        expect(scriptsConfiguration(built)).toMatchObject({ DB_SSL: "verify-full", DB_CA_CERT: ca.certPem });
        expect(syncSecrets(built)).toMatchObject({ DB_SSL: "verify-full", DB_CA_CERT: ca.certPem });
        expect(only(built, T.migrations).inputs.connection).toMatchObject({
            host: "db.devprojectref.supabase.co",
            sslMode: "verify-full",
            caCertificate: ca.certPem,
        });
        expect((only(built, T.migrations).inputs.connection as Record<string, unknown>).tlsServerName).toBeUndefined();
    });

    it("behind a tunnel on prod: Auth0 verifies the public name, the dynamic providers check it through the tunnel, lib/pq the chain", async () => {
        const built = await buildMockedStackOf(PROJECT, "prod", {
            values: { postgres: { host: "127.0.0.1", port: 15432, publicHost: "db.prodprojectref.supabase.co", publicPort: 5432, caCertificate: ca.certPem } },
        });
        expect(new URL(scriptsConfiguration(built).DB_URL!).host).toBe("db.prodprojectref.supabase.co:5432");
        expect(scriptsConfiguration(built)).toMatchObject({ DB_SSL: "verify-full", DB_CA_CERT: ca.certPem });
        expect(new URL(syncSecrets(built).DB_URL!).hostname).toBe("db.prodprojectref.supabase.co");
        expect(syncSecrets(built)).toMatchObject({ DB_SSL: "verify-full", DB_CA_CERT: ca.certPem });
        expect(only(built, T.migrations).inputs.connection).toMatchObject({
            host: "127.0.0.1",
            port: 15432,
            sslMode: "verify-full",
            tlsServerName: "db.prodprojectref.supabase.co",
        });
        expect(only(built, T.pgProvider).inputs).toMatchObject({ host: "127.0.0.1", sslmode: "verify-ca", sslrootcert: ".pulumi-tls/prod-ca.pem" });
    });
});

describe("the committed stacks (no CA)", () => {
    it.for(["local", "dev"] as const)("%s: the scripts get DB_CA_CERT none, the Action no DB_CA_CERT, the provider no sslrootcert", async (stack) => {
        const built = await buildMockedStackOf(PROJECT, stack);
        expect(scriptsConfiguration(built).DB_CA_CERT).toBe("none");
        expect(syncSecrets(built)).not.toHaveProperty("DB_CA_CERT");
        expect(only(built, T.pgProvider).inputs).not.toHaveProperty("sslrootcert");
        expect(only(built, T.pgProvider).inputs.sslmode).toBe(stack === "local" ? "disable" : "require");
    });
});
