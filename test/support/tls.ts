/**
 * Certificates for the TLS tests and the latency benchmark, made at run time: a certificate
 * authority of our own and server certificates it signs, as a database provider (Supabase signs
 * its servers with its own "Supabase Root 2021 CA") does.
 *
 * Keys are P-256 keys from node:crypto; the certificates are signed by the `openssl` command (Node
 * can read certificates, not make them), found on the PATH: OpenSSL 1.1 or later, or LibreSSL 3.
 * Everything happens in a temporary directory that is removed again; nothing leaves the machine.
 */
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IssuedCertificate {
    /** The certificate, PEM. */
    certPem: string;
    /** Its private key, PEM (PKCS #8). */
    keyPem: string;
}

export interface CertificateAuthority extends IssuedCertificate {
    commonName: string;
    /** A server certificate signed by this authority, valid for the DNS names and IP addresses given. */
    issueServer(subject: { commonName: string; dns?: string[]; ip?: string[] }): IssuedCertificate;
}

function newKeyPem(): string {
    return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** Runs `openssl` in `dir`; a missing command or a failure is reported with what to install. */
function openssl(dir: string, args: string[]): void {
    try {
        execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
        if (e.code === "ENOENT")
            throw new Error(
                "the TLS tests and the latency benchmark need the `openssl` command on the PATH (OpenSSL 1.1+ or LibreSSL 3+) to sign their test certificates",
            );
        throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
    }
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
function inTempDir<T>(fn: (dir: string) => T): T {
    const dir = mkdtempSync(join(tmpdir(), "auth0pg-tls-"));
    try {
        return fn(dir);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

const REQ_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;

/** A new self-signed certificate authority named `commonName`, valid for ten years. */
export function createCertificateAuthority(commonName: string): CertificateAuthority {
    const keyPem = newKeyPem();
    const certPem = inTempDir((dir) => {
        writeFileSync(join(dir, "ca.key"), keyPem, { mode: 0o600 });
        writeFileSync(join(dir, "req.cnf"), REQ_CONFIG);
        openssl(dir, [
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            `/CN=${commonName}`,
            "-days",
            "3650",
            "-sha256",
            "-config",
            "req.cnf",
            "-extensions",
            "ca",
            "-out",
            "ca.crt",
        ]);
        return readFileSync(join(dir, "ca.crt"), "utf8");
    });
    if (!new X509Certificate(certPem).ca) throw new Error("openssl made a certificate authority that is not marked as one");
    return {
        commonName,
        certPem,
        keyPem,
        issueServer({ commonName: cn, dns = [], ip = [] }) {
            const serverKey = newKeyPem();
            const names = [...dns.map((d) => `DNS:${d}`), ...ip.map((a) => `IP:${a}`)];
            const serverCert = inTempDir((dir) => {
                writeFileSync(join(dir, "ca.key"), keyPem, { mode: 0o600 });
                writeFileSync(join(dir, "ca.crt"), certPem);
                writeFileSync(join(dir, "server.key"), serverKey, { mode: 0o600 });
                writeFileSync(join(dir, "req.cnf"), REQ_CONFIG);
                writeFileSync(
                    join(dir, "server.ext"),
                    [
                        "basicConstraints = critical, CA:FALSE",
                        "keyUsage = critical, digitalSignature, keyEncipherment",
                        "extendedKeyUsage = serverAuth",
                        "authorityKeyIdentifier = keyid",
                        ...(names.length > 0 ? [`subjectAltName = ${names.join(", ")}`] : []),
                        "",
                    ].join("\n"),
                );
                openssl(dir, ["req", "-new", "-key", "server.key", "-subj", `/CN=${cn}`, "-config", "req.cnf", "-out", "server.csr"]);
                openssl(dir, [
                    "x509",
                    "-req",
                    "-in",
                    "server.csr",
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    `0x${randomBytes(12).toString("hex")}`,
                    "-days",
                    "825",
                    "-sha256",
                    "-extfile",
                    "server.ext",
                    "-out",
                    "server.crt",
                ]);
                return readFileSync(join(dir, "server.crt"), "utf8");
            });
            return { certPem: serverCert, keyPem: serverKey };
        },
    };
}
