/**
 * Finds secret-looking literals in source text: credentials in URLs, JWTs, private keys, bcrypt
 * hashes, cloud keys, `password = "..."`-style assignments and long random-looking string
 * literals. It reports the kind and where, never the matched text (that could be a real secret).
 */

export interface Finding {
    kind: string;
    /** 1-based line of the match. */
    line: number;
}

const PATTERNS: [string, RegExp][] = [
    ["URL with credentials", /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"`]+:[^\s@/'"`]+@[^\s'"`]+/gi],
    ["JWT", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
    ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/g],
    ["bcrypt hash", /\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}/g],
    ["AWS access key", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g],
    ["hex key", /\b[0-9a-f]{32,}\b/gi],
    [
        "credential assignment",
        /\b(password|passwd|pwd|secret|client_?secret|admin_?secret|api_?key|token|access_?token)\b["'`]?\s*[:=]\s*(["'`])(?!\2)[^"'`\s]{4,}\2/gi,
    ],
];

/** Bits of Shannon entropy per character. */
function entropy(text: string): number {
    const counts = new Map<string, number>();
    for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    let bits = 0;
    for (const n of counts.values()) {
        const p = n / text.length;
        bits -= p * Math.log2(p);
    }
    return bits;
}

const STRING_LITERAL = /(["'`])((?:\\.|(?!\1)[^\\\n])*)\1/g;

function lineOf(text: string, index: number): number {
    return text.slice(0, index).split("\n").length;
}

/** Secret-looking things in `text`. */
export function findSecrets(text: string): Finding[] {
    const findings: Finding[] = [];
    for (const [kind, pattern] of PATTERNS) {
        for (const m of text.matchAll(pattern)) findings.push({ kind, line: lineOf(text, m.index ?? 0) });
    }
    // A token-like string literal: 20+ characters of a key alphabet, with upper case, lower case and digits, and high entropy.
    for (const m of text.matchAll(STRING_LITERAL)) {
        const body = m[2]!;
        for (const word of body.split(/[^A-Za-z0-9+/=_-]+/)) {
            if (word.length >= 20 && /[a-z]/.test(word) && /[A-Z]/.test(word) && /\d/.test(word) && entropy(word) >= 4) {
                findings.push({ kind: "random-looking string literal", line: lineOf(text, m.index ?? 0) });
            }
        }
    }
    return findings;
}
