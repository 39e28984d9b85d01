/**
 * TLS to the database: the certificate authority a stack trusts (`postgres.caCertificate`). Pure
 * functions, so every rule is unit-testable. Which hosts count as loopback, and the SSL modes, are
 * in constants.ts.
 *
 * sslMode means what it means to libpq, for every client of the stack (Auth0's scripts, the
 * user-sync Action, the dynamic providers, the postgresql provider):
 * - `disable`: no TLS;
 * - `require`: TLS, but the server is not verified (encryption only: a man in the middle can
 *   present any certificate);
 * - `verify-ca`: TLS, and the server's certificate must chain to a trusted CA;
 * - `verify-full`: `verify-ca`, and the certificate must name the host connected to.
 * The trusted CAs are `postgres.caCertificate` when it is set, else Node's bundled public roots.
 */
import { X509Certificate } from "node:crypto";
import { CONFIG_LIMITS } from "./constants";

/** The most characters the CA may take once normalized (see `CONFIG_LIMITS.caCertificateChars`). */
export const MAX_CA_CERTIFICATE_CHARS = CONFIG_LIMITS.caCertificateChars;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

export interface CaCertificateSummary {
    subject: string;
    validTo: Date;
    fingerprint256: string;
}

export type CaCertificateResult = { ok: true; pem: string; certificates: CaCertificateSummary[] } | { ok: false; problems: string[] };

function commonName(x: X509Certificate): string {
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject);
    return cn ? cn[1]! : x.subject.replace(/\n/g, ", ");
}

/** The DER of a certificate as a PEM block: base64 in lines of 64, LF line ends. */
function pemOf(x: X509Certificate): string {
    const lines = x.raw.toString("base64").match(/.{1,64}/g) ?? [];
    return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/**
 * Parses the PEM text of one or more CA certificates (a root, or a root and its intermediates) and
 * returns it normalized: each certificate re-encoded from its DER, text outside the blocks (e.g.
 * OpenSSL's "subject=" lines) dropped. Problems never quote the text: a pasted private key must not
 * end up in a log.
 */
export function parseCaCertificate(text: string, now: Date = new Date()): CaCertificateResult {
    const problems: string[] = [];
    const blocks = [...String(text).replace(/\r\n?/g, "\n").matchAll(PEM_BLOCK)];
    const certificates: X509Certificate[] = [];
    blocks.forEach((m, i) => {
        const label = m[1]!;
        const n = i + 1;
        if (/PRIVATE KEY/.test(label)) {
            problems.push(
                `block ${n} is a private key (BEGIN ${label}): a CA certificate is public, a key never belongs in the stack config; remove it and treat that key as exposed`,
            );
            return;
        }
        if (label !== "CERTIFICATE") {
            problems.push(`block ${n} is a ${label}, not a CERTIFICATE`);
            return;
        }
        try {
            certificates.push(new X509Certificate(m[0]));
        } catch (err) {
            problems.push(`block ${n} does not parse as an X.509 certificate (${(err as Error).message})`);
        }
    });
    if (blocks.length === 0) problems.push('must be PEM text: one or more "-----BEGIN CERTIFICATE-----" blocks');
    certificates.forEach((x, i) => {
        const validTo = new Date(x.validTo);
        if (validTo.getTime() < now.getTime()) problems.push(`certificate ${i + 1} (CN=${commonName(x)}) expired on ${validTo.toISOString()}`);
    });
    if (problems.length > 0) return { ok: false, problems };
    const pem = certificates.map(pemOf).join("");
    if (pem.length > MAX_CA_CERTIFICATE_CHARS) {
        return {
            ok: false,
            problems: [
                `is ${pem.length} characters once normalized (${certificates.length} certificate(s)); Auth0 holds at most ${MAX_CA_CERTIFICATE_CHARS} in an Action secret, which is how the user-sync Action receives it: give only the root (and the intermediate the server does not send)`,
            ],
        };
    }
    return {
        ok: true,
        pem,
        certificates: certificates.map((x) => ({ subject: commonName(x), validTo: new Date(x.validTo), fingerprint256: x.fingerprint256 })),
    };
}
