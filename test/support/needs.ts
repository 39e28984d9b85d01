/**
 * `needs(ctx, feature)` at the top of a test skips it, with a reason naming the feature and the
 * server version, when the Postgres under the tests lacks that feature (see `capabilities.ts`).
 */
import { inject, TestContext } from "vitest";
import { Feature, missingFeature } from "./capabilities";

export function needs(ctx: TestContext, feature: Feature): void {
    const why = missingFeature(inject("serverCapabilities"), feature);
    if (why !== undefined) ctx.skip(why);
}
