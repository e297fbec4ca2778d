/**
 * Writes policy/config/<env>.json, the `--policy-pack-config` files for each environment, from
 * the rules' tiers (config.ts `packConfigFor`). Run after adding or re-tiering a rule:
 *
 *     npx ts-node --transpile-only policy/tools/write-config.ts
 *
 * policy/test/enforcement.test.ts fails while the committed files differ from what this writes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Environment, PolicyConfig, packConfigFor } from "../config";
import { allPolicies } from "../policies";

/** Per-environment knobs; empty means the defaults in config.ts (KNOB_DEFAULTS). */
export const ENVIRONMENT_CONFIG: Readonly<Record<Environment, PolicyConfig>> = {
    dev: { environment: "dev" },
    prod: { environment: "prod" },
};

export const configFile = (env: Environment) => path.join(__dirname, "..", "config", `${env}.json`);

export function render(env: Environment): string {
    return `${JSON.stringify(packConfigFor(allPolicies, ENVIRONMENT_CONFIG[env]), null, 2)}\n`;
}

if (require.main === module) {
    for (const env of Object.keys(ENVIRONMENT_CONFIG) as Environment[]) {
        fs.writeFileSync(configFile(env), render(env));
        console.log(`wrote ${path.relative(process.cwd(), configFile(env))}`);
    }
}
