/** The offline runner: hand-made args for every policy, effective levels, providers, parents, the report. */
import * as assert from "node:assert/strict";
import type { GuardrailPolicy } from "../lib/rule";
import { resourceRule, stackRule } from "../lib/rule";
import {
    PULUMI_UNKNOWN_SENTINEL,
    RecordedResource,
    formatViolations,
    fromWire,
    mandatoryViolations,
    parseUrn,
    runPolicies,
    runPoliciesAsync,
    shortResource,
} from "../offline";
import { T, awsEksCluster, compliantStack, toRecorded } from "./fixtures";
import { urnOf } from "./helpers";
import { del, set } from "./paths";

function recorded(change?: (r: RecordedResource[]) => void): RecordedResource[] {
    const rs = toRecorded(compliantStack());
    change?.(rs);
    return rs;
}

function props(rs: RecordedResource[], name: string): Record<string, unknown> {
    const r = rs.find((x) => x.name === name);
    if (!r) throw new Error(`no ${name}`);
    return r.props;
}

/** The dev stack's differences from prod (Pulumi.dev.yaml): all P-level, none B-level. */
function devLike(rs: RecordedResource[]): void {
    set(props(rs, "control-plane-logs"), "retentionInDays", 30);
    del(props(rs, "control-plane-logs"), "kmsKeyId");
    set(props(rs, "eks"), "deletionProtection", false);
    set(props(rs, "eks"), "enabledClusterLogTypes", ["api", "audit", "authenticator"]);
    set(props(rs, "repo"), "forceDelete", true);
    set(props(rs, "checkout-hpa"), "spec.minReplicas", 2);
}

describe("offline runner", () => {
    it("the compliant stack has no violations in either environment", () => {
        assert.deepEqual(runPolicies(recorded(), { environment: "prod" }), []);
        assert.deepEqual(runPolicies(recorded(), { environment: "dev" }), []);
    });

    it("P rules are advisory in dev and mandatory in prod", () => {
        const dev = runPolicies(recorded(devLike), { environment: "dev" });
        const prod = runPolicies(recorded(devLike), { environment: "prod" });
        const expected = [
            "cloudwatch-log-kms",
            "cloudwatch-log-retention-minimum",
            "ecr-no-force-delete",
            "eks-control-plane-all-log-types",
            "eks-deletion-protection",
            "k8s-hpa-prod-min-replicas",
        ];
        assert.deepEqual([...new Set(dev.map((v) => v.policy))].sort(), expected);
        assert.ok(dev.every((v) => v.enforcementLevel === "advisory"));
        assert.deepEqual([...new Set(prod.map((v) => v.policy))].sort(), expected);
        assert.ok(prod.every((v) => v.enforcementLevel === "mandatory"));
    });

    it("the environment defaults to prod", () => {
        const out = runPolicies(recorded(devLike));
        assert.ok(out.length > 0 && out.every((v) => v.enforcementLevel === "mandatory"));
    });

    it("B rules are mandatory in dev too", () => {
        const out = runPolicies(
            recorded((rs) =>
                set(props(rs, "checkout-deployment"), "spec.template.spec.containers.0.image", "nginx:latest"),
            ),
            {
                environment: "dev",
            },
        );
        assert.deepEqual([...new Set(out.map((v) => v.policy))].sort(), [
            "k8s-image-allowed-registry",
            "k8s-image-pinned",
        ]);
        assert.ok(out.every((v) => v.enforcementLevel === "mandatory"));
        assert.equal(out[0].resource, urnOf(T.deployment, "checkout-deployment"));
    });

    it("per-policy levels override the tier (disabled runs nothing)", () => {
        const out = runPolicies(recorded(devLike), {
            environment: "prod",
            enforcementLevels: { "eks-deletion-protection": "advisory", "ecr-no-force-delete": "disabled" },
        });
        assert.equal(out.find((v) => v.policy === "eks-deletion-protection")?.enforcementLevel, "advisory");
        assert.equal(out.filter((v) => v.policy === "ecr-no-force-delete").length, 0);
    });

    it("passes knobs through getConfig, as the engine does from the policy-pack config", () => {
        const out = runPolicies(recorded(), {
            allowedRegistries: ["111111111111.dkr.ecr.eu-west-1.amazonaws.com/"],
            minLogRetentionDays: 400,
        });
        assert.deepEqual([...new Set(out.map((v) => v.policy))].sort(), [
            "cloudwatch-log-retention-minimum",
            "k8s-image-allowed-registry",
        ]);
    });

    it("stack violations carry the URN the rule names", () => {
        const out = runPolicies(
            recorded((rs) =>
                rs.splice(
                    rs.findIndex((r) => r.name === "checkout-pdb"),
                    1,
                ),
            ),
        );
        assert.deepEqual(
            out.map((v) => [v.policy, v.resource]),
            [["k8s-pdb-per-workload", urnOf(T.deployment, "checkout-deployment")]],
        );
    });

    it("resolves provider references (urn::id) to the recorded provider and its props", () => {
        const rs = recorded((r) => {
            set(props(r, "platform-k8s"), "namespace", "checkout");
            del(props(r, "checkout-service"), "metadata.namespace");
        });
        assert.deepEqual(runPolicies(rs), []);
        const withDefault = recorded((r) => {
            const svc = r.find((x) => x.name === "checkout-service");
            if (svc)
                svc.provider =
                    "urn:pulumi:prod::checkout-platform::pulumi:providers:kubernetes::default_4_34_2::04da6b54";
        });
        assert.deepEqual(
            runPolicies(withDefault).map((v) => v.policy),
            ["k8s-explicit-provider"],
        );
    });

    it("reads props from the wire form when recorded, so preview unknowns stay unknown", () => {
        const SIG = "4dabf18193072939515e22adb298388d";
        const unknownOutput = { [SIG]: "d0e6a833031e9bbcd3f4e8bde6ca49a4", dependencies: ["urn:x"] };
        const secret = { [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "s3cr3t" };
        const ref = { [SIG]: "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:y", id: "i" };
        assert.deepEqual(fromWire({ a: [unknownOutput, secret, ref], b: PULUMI_UNKNOWN_SENTINEL }), {
            a: [PULUMI_UNKNOWN_SENTINEL, "s3cr3t", "urn:y"],
            b: PULUMI_UNKNOWN_SENTINEL,
        });
        // The recorder's props drop the unknown key ARN (looks unset); its wire form keeps it unknown.
        const rs = recorded((r) => {
            const eks = r.find((x) => x.type === T.eks);
            if (!eks) throw new Error("fixture");
            const { encryptionConfigKeyArn: _arn, ...rest } = eks.props;
            eks.props = rest;
        });
        assert.deepEqual(
            runPolicies(rs).map((v) => v.policy),
            ["eks-secrets-encryption"],
        );
        for (const r of rs) if (r.type === T.eks) r.wire = { ...r.props, encryptionConfigKeyArn: unknownOutput };
        assert.deepEqual(runPolicies(rs), []);
    });

    it("picks the resource's package provider from a component's provider list", () => {
        const rs = recorded((r) => {
            const ns = r.find((x) => x.type === T.ns);
            if (!ns) throw new Error("fixture");
            ns.provider = `urn:pulumi:prod::checkout-platform::pulumi:providers:aws::default_7_48_0::id1,${ns.provider ?? ""}`;
        });
        assert.deepEqual(runPolicies(rs), []);
    });

    it("builds parent chains from `parent` (live view: the cluster child inherits the component's dependsOn)", () => {
        const rs = recorded((r) => {
            const component = r.find((x) => x.type === T.eks);
            if (!component) throw new Error("fixture");
            r.push({
                type: "aws:eks/cluster:Cluster",
                name: "checkout-prod-eksCluster",
                urn: urnOf("aws:eks/cluster:Cluster", "checkout-prod-eksCluster", T.eks),
                custom: true,
                props: awsEksCluster(),
                parent: component.urn,
                dependencies: [],
            });
        });
        assert.deepEqual(runPolicies(rs), []);
        const orphan = rs.map((r) =>
            r.type === T.eks
                ? { ...r, dependencies: r.dependencies.filter((d) => !d.includes("control-plane-logs")) }
                : r,
        );
        assert.deepEqual([...new Set(runPolicies(orphan).map((v) => v.policy))], ["eks-control-plane-log-group"]);
    });

    it("counts dependsOn as dependencies", () => {
        const rs = recorded((r) => {
            const issuer = r.find((x) => x.type === T.issuer);
            if (!issuer) throw new Error("fixture");
            issuer.dependsOn = issuer.dependencies;
            issuer.dependencies = [];
        });
        assert.deepEqual(runPolicies(rs), []);
    });

    it("rejects asynchronous policies in the synchronous runner; the async one awaits them", async () => {
        const asyncRule: GuardrailPolicy = {
            ...resourceRule({
                name: "async",
                description: "d",
                tier: "B",
                remediation: "r",
                types: [T.ns],
                check: () => undefined,
            }),
            validateResource: async (_args, report) => report("async violation"),
        };
        assert.throws(() => runPolicies(recorded(), {}, { policies: [asyncRule] }), /asynchronous/);
        const out = await runPoliciesAsync(recorded(), {}, { policies: [asyncRule] });
        assert.ok(out.length > 0 && out.every((v) => v.message === "async violation"));
    });

    it("names the policy and resource when a rule throws", () => {
        const broken = stackRule({
            name: "broken",
            description: "d",
            tier: "B",
            remediation: "r",
            check: () => {
                throw new Error("boom");
            },
        });
        assert.throws(
            () => runPolicies(recorded(), {}, { policies: [broken] }),
            /policy broken failed on the stack: boom/,
        );
    });

    it("mandatoryViolations filters", () => {
        const out = runPolicies(recorded(devLike), {
            environment: "dev",
            enforcementLevels: { "eks-deletion-protection": "mandatory" },
        });
        assert.deepEqual(
            mandatoryViolations(out).map((v) => v.policy),
            ["eks-deletion-protection"],
        );
    });

    describe("report", () => {
        it("lists rule, resource, level and message, mandatory first", () => {
            const out = runPolicies(recorded(devLike), {
                environment: "dev",
                enforcementLevels: { "k8s-hpa-prod-min-replicas": "mandatory" },
            });
            const text = formatViolations(out);
            const lines = text.split("\n");
            assert.match(
                lines[0],
                /^MANDATORY\s+k8s-hpa-prod-min-replicas\s+kubernetes:autoscaling\/v2:HorizontalPodAutoscaler::checkout-hpa$/,
            );
            assert.match(lines[1], /^ {4}minReplicas is 2\. Remediation: set minReplicas >= 3\.$/);
            assert.match(text, /ADVISORY\s+eks-deletion-protection\s+eks:index:Cluster::eks/);
            assert.match(text, /1 mandatory, 5 advisory violation\(s\)\.\n$/);
        });

        it("says so when there is nothing to report", () => {
            assert.equal(formatViolations([]), "No policy violations.\n");
        });

        it("shortens URNs, including nested types", () => {
            assert.equal(
                shortResource(urnOf("aws:eks/cluster:Cluster", "c", "eks:index:Cluster")),
                "aws:eks/cluster:Cluster::c",
            );
            assert.equal(shortResource(undefined), "(stack)");
            assert.deepEqual(parseUrn("urn:pulumi:dev::p::a:b:C$d:e:F::name::with::colons"), {
                type: "d:e:F",
                name: "name::with::colons",
            });
        });
    });
});
