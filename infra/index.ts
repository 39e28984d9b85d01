/**
 * The Pulumi program: read and validate the stack's configuration once (a bad value fails here,
 * before any resource is registered), then register the stack and export its outputs (only those that exist).
 */
import { readStackConfig } from "./config";
import { writeCaCertificateFile } from "./postgres/tls";
import { buildStack } from "./stack";

const { config, secrets } = readStackConfig();

// The postgresql provider reads a CA only from a file: put postgres.caCertificate where its
// sslrootcert points (see infra/postgres/tls.ts), before the provider is registered.
writeCaCertificateFile(config);

// `export =`: the stack's outputs are exactly the keys buildStack returns, so a stack without the
// Auth0 side or Supabase features exports nothing undefined (the engine warns on those).
export = buildStack(config, secrets);
