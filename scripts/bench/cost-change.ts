/**
 * `npm run bench`, target 5: login timing across a bcrypt cost change (issue #10 point 3).
 *
 * The stack's `customDb.bcryptCost` was raised (say from 10 to 12) while users keep the hashes
 * they had: the table holds hashes at two costs. An attacker who times failed logins must not
 * tell an unknown email from a known one whatever the cost of that user's hash. So this seeds
 * users at `configured - 2` and at `configured`, runs the uploaded login script with
 * BCRYPT_COST `configured` in one warm sandbox at concurrency 1, and compares the median of an
 * unknown email's failed login with the median of a wrong password for those users (alternating
 * between the two costs, interleaved with the unknown emails so drift favours neither side). It
 * prints the unknown/wrong ratio; the target is 0.95-1.05.
 *
 * Wrong passwords never rehash, so the mix stays as seeded for the whole run.
 */
import { performance } from "node:perf_hooks";
import { ident } from "../../infra/postgres/privileges";
import { createSandbox, WrongUsernameOrPasswordError } from "../../test/support/auth0-sandbox";
import { query, StackDatabase } from "../../test/support/db";
import type { ScriptModuleVersions } from "../../infra/auth0/scripts";

export interface CostChangeOptions {
    stack: StackDatabase;
    /** The scripts' configuration (its BCRYPT_COST is replaced by the raised cost). */
    configuration: Record<string, string>;
    scriptModules: ScriptModuleVersions;
    /** The scripts' bcrypt, to seed the hashes. */
    bcrypt: { hash(data: string, cost: number): Promise<string> };
    /** The bench's --cost: the raised cost, at least 6 (so that the older one is a valid cost). */
    cost: number;
    /** Samples of each side. */
    samples: number;
}

export interface CostChangeResult {
    /** The cost the configuration was raised to, and the one the older hashes have. */
    configured: number;
    older: number;
    unknownP50: number;
    wrongP50: number;
    /** Median of the wrong-password samples per stored cost. */
    wrongP50ByCost: Record<number, number>;
    /** unknownP50 / wrongP50. */
    ratio: number;
    errors: string[];
}

/** The target band of the unknown/wrong ratio. */
export const COST_CHANGE_BAND = [0.95, 1.05] as const;

const SEEDED_PER_COST = 8;

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function measureCostChange(options: CostChangeOptions): Promise<CostChangeResult> {
    const configured = Math.max(options.cost, 6);
    const older = configured - 2;
    const password = "cost-change-Password-1";
    const table = `${ident(options.stack.schema)}.users`;
    const users: { email: string; cost: number }[] = [];
    for (const cost of [older, configured]) {
        const hash = await options.bcrypt.hash(password, cost);
        for (let i = 0; i < SEEDED_PER_COST; i++) users.push({ email: `cost-change-${cost}-${i}@bench.test`, cost });
        await query(
            options.stack.db.url,
            `INSERT INTO ${table} (email, password_hash) SELECT 'cost-change-' || $2::int || '-' || g || '@bench.test', $1 FROM generate_series(0, $3::int - 1) AS g`,
            [hash, cost, SEEDED_PER_COST],
        );
    }
    const quiet = () => undefined;
    const sandbox = createSandbox(
        { ...options.configuration, BCRYPT_COST: String(configured) },
        { scriptModules: options.scriptModules, console: { log: quiet, info: quiet, warn: quiet, error: quiet, debug: quiet }, timeoutMs: 60_000 },
    );
    const errors: string[] = [];
    const failedLogin = async (email: string): Promise<number> => {
        const t0 = performance.now();
        const { err } = await sandbox.run("login", email, `${password}-wrong`);
        const ms = performance.now() - t0;
        if (!(err instanceof WrongUsernameOrPasswordError))
            errors.push(`login ${email}: expected a wrong-password error, got ${err === null ? "a profile" : String((err as Error).message)}`);
        return ms;
    };
    try {
        // Warm up: the pool, the cost ceiling, the dummy hashes of each cost.
        for (const user of [users[0]!, users[users.length - 1]!]) await failedLogin(user.email);
        await failedLogin("cost-change-nobody-warm-up@bench.test");
        const unknown: number[] = [];
        const wrong: { cost: number; ms: number }[] = [];
        for (let i = 0; i < options.samples; i++) {
            // Alternate the stored cost, and the order within each pair.
            const user = users[(i % 2) * SEEDED_PER_COST + (Math.floor(i / 2) % SEEDED_PER_COST)]!;
            const pair: (() => Promise<void>)[] = [
                async () => void unknown.push(await failedLogin(`cost-change-nobody-${i}@bench.test`)),
                async () => void wrong.push({ cost: user.cost, ms: await failedLogin(user.email) }),
            ];
            for (const step of i % 4 < 2 ? pair : pair.reverse()) await step();
        }
        const unknownP50 = median(unknown);
        const wrongP50 = median(wrong.map((w) => w.ms));
        const wrongP50ByCost: Record<number, number> = {};
        for (const cost of [older, configured]) wrongP50ByCost[cost] = median(wrong.filter((w) => w.cost === cost).map((w) => w.ms));
        return { configured, older, unknownP50, wrongP50, wrongP50ByCost, ratio: unknownP50 / wrongP50, errors };
    } finally {
        await sandbox.close();
    }
}

/**
 * The target line's name, measurement and verdict. The ratio over the whole mix is printed first;
 * the target holds only when it and the ratio against each stored cost are in the band (a median
 * over a mix could land between two clusters and hide a leak for one of them).
 */
export function costChangeTarget(r: CostChangeResult): { name: string; measured: string; pass: boolean } {
    const [low, high] = COST_CHANGE_BAND;
    const inBand = (ratio: number) => ratio >= low && ratio <= high;
    const perCost = [r.older, r.configured].map((cost) => ({ cost, ms: r.wrongP50ByCost[cost]!, ratio: r.unknownP50 / r.wrongP50ByCost[cost]! }));
    return {
        name: `login across a bcrypt cost change (users at ${r.older} and ${r.configured}, BCRYPT_COST ${r.configured}), median unknown email / wrong password`,
        measured:
            `${r.ratio.toFixed(3)}x (unknown ${r.unknownP50.toFixed(2)} ms, wrong password ${r.wrongP50.toFixed(2)} ms: ` +
            perCost.map((c) => `stored at ${c.cost} ${c.ms.toFixed(2)} ms, ${c.ratio.toFixed(3)}x`).join("; ") +
            `; need each ${low.toFixed(2)}-${high.toFixed(2)}x)`,
        pass: inBand(r.ratio) && perCost.every((c) => inBand(c.ratio)) && r.errors.length === 0,
    };
}
