/**
 * The Pulumi program: read and validate the stack's configuration once (a bad value fails here,
 * before any resource is registered), then register the stack and export its outputs.
 */
import { readStackConfig } from "./config";
import { buildStack } from "./stack";

const { config, secrets } = readStackConfig();
const outputs = buildStack(config, secrets);

export const spaClientId = outputs.spaClientId;
export const apiAudience = outputs.apiAudience;
export const connectionId = outputs.connectionId;
export const hasuraJwtConfig = outputs.hasuraJwtConfig;
export const postgresRoles = outputs.postgresRoles;
export const appliedMigrations = outputs.appliedMigrations;
export const managementTokenVaultSecretId = outputs.managementToken?.vaultSecretId;
export const managementTokenExpiresAt = outputs.managementToken?.expiresAt;
