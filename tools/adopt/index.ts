/**
 * npm run adopt -- --stack <name> [--out <file>] [--client-secret-stdin]
 *
 * Finds in the stack's Auth0 tenant what the stack would create, writes a `pulumi import --file`
 * document that maps each found object to the resource name and parent the program uses, and prints
 * what differs from the stack's config and what the tenant has that the stack does not declare.
 * Read-only: it never writes to the tenant.
 *
 * The deploy application's secret comes from the environment (AUTH0_CLIENT_SECRET) or from stdin
 * (--client-secret-stdin, or whenever stdin is not a terminal), never from an argument: arguments
 * end up in shell history and process lists.
 *
 * Exit codes: 0 written; 1 an error (what to check is in the message); 2 a usage error; 3 blocked
 * (an object the program would replace or cannot tell apart: nothing written, the report says why).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ConfigError } from "../../infra/config";
import { adoptTenant } from "./adopt";
import { AdoptError } from "./management-api";
import { readStackConfig, stackName } from "./stack-config";

export interface CliArgs {
    stack: string;
    out?: string;
    secretFromStdin: boolean;
    managementUrl?: string;
}

const USAGE = "usage: npm run adopt -- --stack <name> [--out <file>] [--client-secret-stdin]";

/** Parses the arguments; refuses anything that looks like a secret given as an argument. */
export function parseArgs(argv: string[]): CliArgs {
    const args: Partial<CliArgs> & { secretFromStdin: boolean } = { secretFromStdin: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i]!;
        const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
        const value = () => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "") throw new UsageError(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        if (/secret|password|token/i.test(flag) && flag !== "--client-secret-stdin") {
            throw new UsageError(
                `${flag}: the deploy application's secret is never an argument (shell history, process lists): set AUTH0_CLIENT_SECRET or pipe it in with --client-secret-stdin`,
            );
        }
        if (flag === "--stack" || flag === "-s") args.stack = value();
        else if (flag === "--out") args.out = value();
        else if (flag === "--client-secret-stdin") args.secretFromStdin = true;
        else if (flag === "--management-url") args.managementUrl = value();
        else if (flag === "--help" || flag === "-h") throw new UsageError(USAGE);
        else throw new UsageError(`unknown argument ${flag}\n${USAGE}`);
    }
    if (!args.stack) throw new UsageError(`--stack is required\n${USAGE}`);
    return args as CliArgs;
}

export class UsageError extends Error {}

/** The secret: AUTH0_CLIENT_SECRET, else stdin (first line, trimmed). */
export function readSecret(env: NodeJS.ProcessEnv, fromStdin: boolean, stdinIsTty: boolean, readStdin: () => string): string {
    const fromEnv = env.AUTH0_CLIENT_SECRET;
    if (fromEnv && !fromStdin) return fromEnv.trim();
    if (fromStdin || !stdinIsTty) {
        const line = readStdin().split(/\r?\n/)[0]?.trim() ?? "";
        if (line) return line;
        throw new AdoptError("no client secret on stdin");
    }
    throw new AdoptError("the deploy application's secret is needed: set AUTH0_CLIENT_SECRET, or pipe it in (--client-secret-stdin)");
}

export async function main(
    argv: string[],
    io: { cwd: string; env: NodeJS.ProcessEnv; stdout: (s: string) => void; stderr: (s: string) => void; stdinIsTty: boolean; readStdin: () => string },
): Promise<number> {
    try {
        const args = parseArgs(argv);
        const { config } = readStackConfig(io.cwd, args.stack);
        const secret = readSecret(io.env, args.secretFromStdin, io.stdinIsTty, io.readStdin);
        const out = resolve(io.cwd, args.out ?? join(".adopt", `${stackName(args.stack)}.import.json`));
        const shown = relative(io.cwd, out) || out;
        const result = await adoptTenant({
            config,
            stackRef: args.stack,
            clientSecret: secret,
            baseUrl: args.managementUrl,
            importFilePath: shown,
            onWait: (ms, path) => io.stderr(`rate limited on ${path}: waiting ${ms} ms\n`),
        });
        if (result.importFile) {
            mkdirSync(dirname(out), { recursive: true });
            writeFileSync(out, `${JSON.stringify(result.importFile, null, 4)}\n`);
        }
        io.stdout(result.report);
        return result.importFile ? 0 : 3;
    } catch (err) {
        if (err instanceof UsageError) {
            io.stderr(`${err.message}\n`);
            return 2;
        }
        if (err instanceof AdoptError || err instanceof ConfigError) {
            io.stderr(`adopt: ${err.message}\n`);
            return 1;
        }
        throw err;
    }
}

if (require.main === module) {
    main(process.argv.slice(2), {
        cwd: process.cwd(),
        env: process.env,
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
        stdinIsTty: process.stdin.isTTY === true,
        readStdin: () => readFileSync(0, "utf8"),
    }).then(
        (code) => process.exit(code),
        (err: unknown) => {
            process.stderr.write(`adopt: ${err instanceof Error ? err.message : String(err)}\n`);
            process.exit(1);
        },
    );
}
