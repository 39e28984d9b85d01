/**
 * The `auth0-postgres` policy pack. Run it with every preview and update:
 *
 *     pulumi preview --policy-pack policy
 *     pulumi up --policy-pack policy
 *
 * (CI passes `policyPacks: policy` to pulumi/actions.) The rules live in `rules.ts` so the unit
 * tests can run them without the policy engine. `@pulumi/policy` resolves from the project's
 * node_modules; `package.json` here only gives the pack its version, which the SDK requires.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("auth0-postgres", { policies });
