/**
 * A live preview sends values that are not known yet as sentinels behind a proxy that throws on
 * access (@pulumi/policy `unknownCheckingProxy`). Rules must not fail on those, and must still fail
 * on a known bad value next to them. The mock view may carry the same sentinel as plain data.
 */
import * as assert from "node:assert/strict";
import { unknownCheckingProxy } from "@pulumi/policy";
import * as eks from "../rules/aws-eks";
import * as iam from "../rules/aws-iam";
import * as logs from "../rules/aws-logs";
import * as wl from "../rules/k8s-workload";
import * as k8s from "../rules/k8s-stack";
import { PULUMI_UNKNOWN_SENTINEL, UNKNOWN, at, plain } from "../lib/values";
import { awsEksCluster, compliantStack, deployment, eksClusterComponent, irsaRole, logGroup } from "./fixtures";
import { runResourceRule, runStackRule } from "./helpers";
import { set } from "./paths";

/** What @pulumi/policy's deserializer produces for an unknown string. */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const UNKNOWN_BOOL = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7";
const UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2";

const live = (p: Record<string, unknown>) => unknownCheckingProxy(p) as Record<string, unknown>;

describe("unknown values (live preview)", () => {
    it("plain() turns proxied and raw sentinels into UNKNOWN", () => {
        const p = plain(live({ a: UNKNOWN_STRING, b: { c: [1, UNKNOWN_BOOL] }, d: "known" }));
        assert.equal(at(p, "a"), UNKNOWN);
        assert.equal(at(p, "b", "c", 1), UNKNOWN);
        assert.equal(at(p, "d"), "known");
        assert.equal(at(plain({ x: PULUMI_UNKNOWN_SENTINEL }), "x"), UNKNOWN);
    });

    it("an unknown KMS key ARN is not a violation; a missing one is", () => {
        const unknownKey = { ...eksClusterComponent(), encryptionConfigKeyArn: UNKNOWN_STRING };
        assert.deepEqual(runResourceRule(eks.eksSecretsEncryption, "eks:index:Cluster", live(unknownKey)).messages, []);
        const { encryptionConfigKeyArn: _gone, ...missing } = eksClusterComponent();
        assert.equal(runResourceRule(eks.eksSecretsEncryption, "eks:index:Cluster", live(missing)).messages.length, 1);
    });

    it("a known bad value fails next to unknown ones", () => {
        const p = {
            ...awsEksCluster(),
            deletionProtection: false,
            encryptionConfig: UNKNOWN_STRING,
            enabledClusterLogTypes: UNKNOWN_ARRAY,
        };
        assert.equal(runResourceRule(eks.eksDeletionProtection, "aws:eks/cluster:Cluster", live(p)).messages.length, 1);
        assert.deepEqual(runResourceRule(eks.eksSecretsEncryption, "aws:eks/cluster:Cluster", live(p)).messages, []);
        assert.deepEqual(
            runResourceRule(eks.eksControlPlaneAuditLogging, "aws:eks/cluster:Cluster", live(p)).messages,
            [],
        );
    });

    it("an unknown trust policy (built from the OIDC provider's outputs) is skipped", () => {
        const p = { ...irsaRole(), assumeRolePolicy: UNKNOWN_STRING };
        assert.deepEqual(runResourceRule(iam.iamIrsaTrustPinned, "aws:iam/role:Role", live(p)).messages, []);
    });

    it("an unknown retention is skipped; an unknown key id counts as set", () => {
        const p = { ...logGroup(), retentionInDays: "3eeb2bf0-c639-47a8-9e75-3b44932eb421", kmsKeyId: UNKNOWN_STRING };
        assert.deepEqual(
            runResourceRule(logs.cloudwatchLogRetentionValid, "aws:cloudwatch/logGroup:LogGroup", live(p)).messages,
            [],
        );
        assert.deepEqual(
            runResourceRule(logs.cloudwatchLogKms, "aws:cloudwatch/logGroup:LogGroup", live(p)).messages,
            [],
        );
    });

    it("an image from another resource's output is skipped, a :latest one next to it is not", () => {
        const d = deployment();
        const containers = (d.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec
            .containers;
        containers.push({
            ...containers[0],
            name: "sidecar",
            image: `${String(containers[0].image).split(":")[0]}:latest`,
        });
        containers[0].image = UNKNOWN_STRING;
        const out = runResourceRule(wl.k8sImagePinned, "kubernetes:apps/v1:Deployment", live(d)).messages;
        assert.equal(out.length, 1);
        assert.match(out[0], /sidecar/);
    });

    it("stack rules skip a workload whose namespace is unknown", () => {
        const stack = compliantStack().filter((r) => r.key !== "checkout-pdb");
        const dep = stack.find((r) => r.key === "checkout-deployment");
        if (!dep) throw new Error("fixture");
        set(dep.props, "metadata.namespace", UNKNOWN_STRING);
        assert.deepEqual(
            runStackRule(
                k8s.k8sPdbPerWorkload,
                stack.map((r) => ({ ...r, props: live(r.props) })),
            ),
            [],
        );
    });
});
