/**
 * Enforcement: every rule is a well-formed policy the engine accepts, P rules are exactly the
 * prod-only guardrails listed below, and the committed policy-pack config files say what config.ts
 * derives from the tiers.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    DEFAULT_ENVIRONMENT,
    KNOB_DEFAULTS,
    effectiveLevel,
    levelForTier,
    packConfigFor,
    resolveKnobs,
} from "../config";
import { allPolicies } from "../policies";
import { configFile, render } from "../tools/write-config";

const P_RULES = [
    "cert-manager-high-availability",
    "cloudwatch-log-kms",
    "cloudwatch-log-retention-minimum",
    "ecr-kms-encryption",
    "ecr-no-force-delete",
    "eks-control-plane-all-log-types",
    "eks-deletion-protection",
    "eks-endpoint-restricted",
    "eks-kubernetes-version-supported",
    "eks-nodegroup-min-size",
    "k8s-hpa-prod-min-replicas",
    "karpenter-nodepool-on-demand",
    "vpc-nat-gateway-per-az",
];

describe("enforcement", () => {
    it("every policy is well formed for the engine", () => {
        const names = allPolicies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length, "policy names are unique");
        for (const p of allPolicies) {
            assert.match(p.name, /^[a-z0-9-]+$/);
            assert.notEqual(p.name, "all", '"all" is reserved by the engine');
            assert.ok(p.description.length > 10, `${p.name} has a description`);
            assert.equal(
                p.enforcementLevel,
                p.tier === "W" ? "advisory" : "mandatory",
                `${p.name} defaults to its prod level`,
            );
            assert.ok(["B", "P", "W"].includes(p.tier));
            assert.ok(p.remediationSteps && p.remediationSteps === p.remediation, `${p.name} has remediation text`);
            assert.ok(
                !("enforcementLevel" in (p.configSchema?.properties ?? {})),
                "the engine rejects enforcementLevel in a schema",
            );
        }
    });

    it("the W rules are warnings: advisory in every environment", () => {
        assert.deepEqual(
            allPolicies.filter((p) => p.tier === "W").map((p) => p.name),
            ["eks-kubernetes-version-support-ending"],
        );
        for (const env of ["dev", "prod"] as const) assert.equal(levelForTier("W", env), "advisory");
    });

    it("the P rules are the prod-only ones", () => {
        assert.deepEqual(
            allPolicies
                .filter((p) => p.tier === "P")
                .map((p) => p.name)
                .sort(),
            P_RULES,
        );
    });

    it("levels: B mandatory everywhere, P advisory in dev only", () => {
        assert.equal(levelForTier("B", "dev"), "mandatory");
        assert.equal(levelForTier("B", "prod"), "mandatory");
        assert.equal(levelForTier("P", "dev"), "advisory");
        assert.equal(levelForTier("P", "prod"), "mandatory");
        assert.equal(DEFAULT_ENVIRONMENT, "prod");
        const p = { name: "x", tier: "P" as const };
        assert.equal(effectiveLevel(p, {}), "mandatory");
        assert.equal(effectiveLevel(p, { environment: "dev", enforcementLevels: { x: "disabled" } }), "disabled");
    });

    it("packConfigFor: every policy gets a level; knobs only where they differ from the defaults", () => {
        const dev = packConfigFor(allPolicies, {
            environment: "dev",
            minLogRetentionDays: 30,
            allowedRegistries: KNOB_DEFAULTS.allowedRegistries,
        });
        assert.deepEqual(Object.keys(dev).sort(), allPolicies.map((p) => p.name).sort());
        assert.deepEqual(dev["eks-deletion-protection"], { enforcementLevel: "advisory" });
        assert.deepEqual(dev["eks-secrets-encryption"], { enforcementLevel: "mandatory" });
        assert.deepEqual(dev["cloudwatch-log-retention-minimum"], {
            enforcementLevel: "advisory",
            minLogRetentionDays: 30,
        });
        assert.deepEqual(dev["k8s-image-allowed-registry"], { enforcementLevel: "mandatory" });
    });

    it("knob schemas carry the defaults the rules fall back to", () => {
        for (const p of allPolicies) {
            for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
                assert.deepEqual(
                    (schema as { default?: unknown }).default,
                    (KNOB_DEFAULTS as unknown as Record<string, unknown>)[key],
                    `${p.name}.${key}`,
                );
            }
        }
        assert.deepEqual(resolveKnobs({}), KNOB_DEFAULTS);
        assert.throws(() => resolveKnobs({ minLogRetentionDays: "90" }), /minLogRetentionDays/);
        assert.throws(() => resolveKnobs({ allowedRegistries: "ecr" }), /allowedRegistries/);
        assert.equal(resolveKnobs({ eksSupportAsOf: "2026-12-01" }).eksSupportAsOf, "2026-12-01");
        assert.throws(() => resolveKnobs({ eksSupportAsOf: "1 Dec 2026" }), /eksSupportAsOf/);
    });

    it("policy/README.md lists every rule with its tier", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
        const listed = [...readme.matchAll(/^\| `([a-z0-9-]+)`\s*\| ([BPW])\s*\|/gm)].map((m) => `${m[1]} ${m[2]}`);
        assert.deepEqual(
            listed,
            allPolicies.map((p) => `${p.name} ${p.tier}`),
        );
    });

    for (const env of ["dev", "prod"] as const) {
        it(`policy/config/${env}.json is up to date (npx ts-node --transpile-only policy/tools/write-config.ts)`, () => {
            assert.equal(fs.readFileSync(configFile(env), "utf8"), render(env));
        });
    }
});
