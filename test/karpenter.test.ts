// Karpenter (components/addons/karpenter.ts, karpenter-spec.ts): the pure functions table-driven
// (IAM policy, queue policy, event patterns, values, NodePool and EC2NodeClass specs, argument
// checks), then the component under the mock engine: built twice for two clusters without a
// collision, every edge a first `up` (and a destroy) depends on, its objects against their schemas
// and the whole pack, and the policy rules on the broken forms.
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN, runWithMocks } from "../harness/engine";
import type { ProgramRun } from "../harness/engine";
import {
    INTERRUPTION_EVENTS,
    KARPENTER,
    KARPENTER_CHARTS,
    KARPENTER_CONTROLLER_RESOURCES,
    Karpenter,
    KarpenterArgs,
    NodePoolSettings,
    interruptionEventPattern,
    interruptionQueuePolicy,
    karpenterControllerPolicy,
    karpenterSupports,
    karpenterValues,
    nodeClassProblems,
    nodeClassSpec,
    nodePoolProblems,
    nodePoolSpec,
} from "../components/addons/karpenter";
import { SYSTEM_NODE_LABELS, systemNodeProblems } from "../components/cluster-spec";
import { EKS_VERSIONS } from "../components/eks-versions";
import { subnetRoleTags } from "../components/network";
import { formatViolations, mandatoryViolations, runPolicies } from "../policy/offline";
import { formatSchemaResults, validateKubernetesObjects } from "../policy/schema/kubernetes";
import { volumeEncryptionProblems } from "../policy/lib/volumes";
import { isKubernetesObject } from "../scripts/lib/render";
import { at, find, ofType, waitsFor } from "./helpers";

const components = (init: () => void) =>
    runWithMocks(init, { project: "checkout-platform", stack: "unit", mode: "test" });

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";
const TAG = "aws:ec2/tag:Tag";

const POOL: NodePoolSettings = {
    capacityTypes: ["spot", "on-demand"],
    instanceCategories: ["c", "m", "r"],
    limits: { cpu: 64, memory: "256Gi" },
    expireAfter: "720h",
    consolidateAfter: "5m",
};

const POLICY_ARGS = {
    partition: "aws",
    region: "eu-west-1",
    accountId: "123456789012",
    clusterName: "c1",
    nodeRoleArn: "arn:aws:iam::123456789012:role/c1-nodes",
    queueArn: "arn:aws:sqs:eu-west-1:123456789012:c1-interruption",
    spot: false,
};

describe("Karpenter pure functions", () => {
    it("the pin: both charts at one exact version that supports the cluster's Kubernetes version", () => {
        assert.match(KARPENTER.version, /^\d+\.\d+\.\d+$/);
        assert.strictEqual(KARPENTER_CHARTS.crds.version, KARPENTER_CHARTS.controller.version);
        assert.strictEqual(KARPENTER_CHARTS.crds.chart, "oci://public.ecr.aws/karpenter/karpenter-crd");
        assert.strictEqual(KARPENTER_CHARTS.controller.chart, "oci://public.ecr.aws/karpenter/karpenter");
        assert.strictEqual(
            karpenterSupports(EKS_VERSIONS.kubernetes),
            true,
            `Karpenter for ${EKS_VERSIONS.kubernetes}`,
        );
        const table: [string, string, boolean | undefined][] = [
            ["1.36", "1.13.0", true],
            ["1.36", "1.12.9", false],
            ["1.36", "1.14.1", true],
            ["1.35", "1.8.5", false],
            ["1.99", "1.14.1", undefined],
        ];
        for (const [k, v, want] of table) assert.strictEqual(karpenterSupports(k, v), want, `${k} / ${v}`);
    });

    it("the AMI release is a dated amazon-eks-ami release, never latest", () => {
        assert.match(EKS_VERSIONS.nodeAmiRelease, /^v\d{8}$/);
    });

    it("karpenterControllerPolicy: upstream's statements, scoped to the cluster, the node role and the queue", () => {
        const doc = karpenterControllerPolicy(POLICY_ARGS);
        const bySid = (sid: string) => doc.Statement.find((s) => s.Sid === sid)!;
        const table: [string, string, unknown][] = [
            ["AllowPassingInstanceRole", "Resource", POLICY_ARGS.nodeRoleArn],
            ["AllowPassingInstanceRole", "Action", "iam:PassRole"],
            ["AllowInterruptionQueueActions", "Resource", POLICY_ARGS.queueArn],
            ["AllowAPIServerEndpointDiscovery", "Resource", "arn:aws:eks:eu-west-1:123456789012:cluster/c1"],
            ["AllowUnscopedInstanceProfileListAction", "Action", "iam:ListInstanceProfiles"],
            [
                "AllowScopedDeletion",
                "Condition",
                {
                    StringEquals: { "aws:ResourceTag/kubernetes.io/cluster/c1": "owned" },
                    StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                },
            ],
            ["AllowRegionalReadActions", "Condition", { StringEquals: { "aws:RequestedRegion": "eu-west-1" } }],
            ["AllowSSMReadActions", "Resource", "arn:aws:ssm:eu-west-1::parameter/aws/service/*"],
        ];
        for (const [sid, field, want] of table)
            assert.deepStrictEqual((bySid(sid) as Record<string, unknown>)[field], want, `${sid}.${field}`);
        // Every write is conditioned on the cluster's tags or names one resource.
        const writes = doc.Statement.filter((s) =>
            [s.Action]
                .flat()
                .some((a) =>
                    /:(RunInstances|CreateFleet|CreateLaunchTemplate|CreateTags|TerminateInstances|DeleteLaunchTemplate|CreateInstanceProfile|TagInstanceProfile|AddRoleToInstanceProfile|RemoveRoleFromInstanceProfile|DeleteInstanceProfile)$/.test(
                        a,
                    ),
                ),
        );
        assert.strictEqual(writes.length, 9);
        for (const s of writes.filter((w) => w.Sid !== "AllowScopedEC2InstanceAccessActions"))
            assert.ok(
                JSON.stringify(s.Condition).includes("kubernetes.io/cluster/c1"),
                `${s.Sid} is scoped to the cluster`,
            );
        const star = doc.Statement.filter((s) => s.Resource === "*").map((s) => s.Sid);
        assert.deepStrictEqual(star, [
            "AllowRegionalReadActions",
            "AllowPricingReadActions",
            "AllowUnscopedInstanceProfileListAction",
        ]);
        const actions = doc.Statement.flatMap((s) => [s.Action].flat());
        assert.ok(!actions.some((a) => a === "*" || a.endsWith(":*")), "no wildcard action");
        assert.ok(
            !doc.Statement.some((s) => s.Sid === "AllowSpotServiceLinkedRoleCreation"),
            "on-demand only: no SLR grant",
        );
        // IAM's limit for a role's inline policies together (whitespace excluded) is 10,240 characters.
        const size = JSON.stringify(
            karpenterControllerPolicy({
                ...POLICY_ARGS,
                spot: true,
                clusterName: "a-63-character-cluster-name-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            }),
        ).length;
        assert.ok(size < 10_240, `${size} characters`);
    });

    it("karpenterControllerPolicy with spot: only the Spot service-linked role may be created", () => {
        const doc = karpenterControllerPolicy({ ...POLICY_ARGS, spot: true });
        const slr = doc.Statement.find((s) => s.Sid === "AllowSpotServiceLinkedRoleCreation")!;
        assert.deepStrictEqual(slr, {
            Sid: "AllowSpotServiceLinkedRoleCreation",
            Effect: "Allow",
            Resource: "arn:aws:iam::123456789012:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
            Action: "iam:CreateServiceLinkedRole",
            Condition: { StringEquals: { "iam:AWSServiceName": "spot.amazonaws.com" } },
        });
    });

    it("interruptionQueuePolicy: EventBridge may send, nothing without TLS", () => {
        const doc = interruptionQueuePolicy("arn:q");
        assert.deepStrictEqual(doc.Statement[0].Principal, { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] });
        assert.strictEqual(doc.Statement[0].Action, "sqs:SendMessage");
        assert.deepStrictEqual(doc.Statement[1], {
            Sid: "DenyHTTP",
            Effect: "Deny",
            Principal: "*",
            Action: "sqs:*",
            Resource: "arn:q",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        });
    });

    it("the five interruption event patterns", () => {
        assert.deepStrictEqual(
            INTERRUPTION_EVENTS.map((e) => interruptionEventPattern(e)),
            [
                { source: ["aws.health"], "detail-type": ["AWS Health Event"] },
                { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
                { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
                { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
                { source: ["aws.ec2"], "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"] },
            ],
        );
    });

    it("karpenterValues: cluster and queue, two replicas on different system nodes, never on its own nodes", () => {
        const v = karpenterValues({
            clusterName: "c1",
            queueName: "q1",
            region: "eu-west-1",
            replicas: 2,
            systemNodeLabels: SYSTEM_NODE_LABELS,
            resources: KARPENTER_CONTROLLER_RESOURCES,
        });
        const table: [string, unknown][] = [
            ["settings.clusterName", "c1"],
            ["settings.interruptionQueue", "q1"],
            ["controller.env", [{ name: "AWS_REGION", value: "eu-west-1" }]],
            ["replicas", 2],
            ["serviceAccount.name", "karpenter"],
            ["controller.resources.requests.cpu", "200m"],
            ["controller.resources.limits.memory", "1Gi"],
            ["podSecurityContext.runAsNonRoot", true],
            ["podSecurityContext.seccompProfile.type", "RuntimeDefault"],
            ["podDisruptionBudget.maxUnavailable", 1],
            [
                "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                [
                    {
                        matchExpressions: [
                            { key: "karpenter.sh/nodepool", operator: "DoesNotExist" },
                            { key: "platform/node-group", operator: "In", values: ["system"] },
                        ],
                    },
                ],
            ],
            [
                "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                [{ topologyKey: "kubernetes.io/hostname" }],
            ],
        ];
        for (const [path, want] of table) assert.deepStrictEqual(at(v, path), want, path);
    });

    it("nodePoolSpec: capacity types, instance shape, limits, lifetime and budgets as given", () => {
        const spec = nodePoolSpec({ ...POOL, nodeClassName: "default", instanceFamilies: ["m7i"] });
        const reqs = at(spec, "template.spec.requirements") as { key: string; operator: string; values: string[] }[];
        const req = (key: string) => reqs.find((r) => r.key === key);
        assert.deepStrictEqual(req("karpenter.sh/capacity-type"), {
            key: "karpenter.sh/capacity-type",
            operator: "In",
            values: ["spot", "on-demand"],
        });
        assert.deepStrictEqual(req("karpenter.k8s.aws/instance-category")?.values, ["c", "m", "r"]);
        assert.deepStrictEqual(req("karpenter.k8s.aws/instance-family")?.values, ["m7i"]);
        assert.deepStrictEqual(req("karpenter.k8s.aws/instance-generation"), {
            key: "karpenter.k8s.aws/instance-generation",
            operator: "Gt",
            values: ["5"],
        });
        assert.deepStrictEqual(req("kubernetes.io/arch")?.values, ["amd64"]);
        const table: [string, unknown][] = [
            ["template.spec.nodeClassRef", { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "default" }],
            ["template.spec.expireAfter", "720h"],
            ["template.spec.terminationGracePeriod", "24h"],
            ["limits", { cpu: "64", memory: "256Gi" }],
            ["disruption.consolidationPolicy", "WhenEmptyOrUnderutilized"],
            ["disruption.consolidateAfter", "5m"],
            ["disruption.budgets", [{ nodes: "10%" }]],
        ];
        for (const [path, want] of table) assert.deepStrictEqual(at(spec, path), want, path);
        const prod = nodePoolSpec({
            ...POOL,
            nodeClassName: "x",
            capacityTypes: ["on-demand"],
            disruptionBudgets: [
                { nodes: "10%" },
                { nodes: "0", reasons: ["Underutilized"], schedule: "0 8 * * mon-fri", duration: "10h" },
            ],
        });
        assert.deepStrictEqual(at(prod, "template.spec.requirements.0.values"), ["on-demand"]);
        assert.deepStrictEqual(at(prod, "disruption.budgets.1"), {
            nodes: "0",
            reasons: ["Underutilized"],
            schedule: "0 8 * * mon-fri",
            duration: "10h",
        });
        assert.strictEqual(
            reqs.length - 1,
            (at(nodePoolSpec({ ...POOL, nodeClassName: "d" }), "template.spec.requirements") as unknown[]).length,
            "no family requirement unless families are given",
        );
    });

    it("nodePoolProblems: what the CRD would reject, with the field and the value", () => {
        assert.deepStrictEqual(nodePoolProblems(POOL), []);
        const table: [Partial<NodePoolSettings>, RegExp][] = [
            [{ capacityTypes: [] }, /capacityTypes is empty/],
            [
                { capacityTypes: ["spot", "reserved" as never] },
                /capacityTypes has "reserved"; allowed: spot, on-demand/,
            ],
            [{ instanceCategories: ["C"] }, /instanceCategories has "C"/],
            [{ instanceFamilies: ["M7i!"] }, /instanceFamilies has "M7i!"/],
            [{ limits: { cpu: 0, memory: "1Gi" } }, /limits\.cpu must be .* got 0/],
            [{ limits: { cpu: 8, memory: "lots" } }, /limits\.memory .* got "lots"/],
            [{ expireAfter: "Never" }, /expireAfter must be a duration .* got "Never"/],
            [{ expireAfter: "30d" }, /expireAfter .* got "30d"/],
            [{ consolidateAfter: "soon" }, /consolidateAfter .* got "soon"/],
            [{ terminationGracePeriod: "1d" }, /terminationGracePeriod .* got "1d"/],
            [{ disruptionBudgets: [] }, /disruptionBudgets is empty/],
            [{ disruptionBudgets: [{ nodes: "110%" }] }, /disruptionBudgets\[0\]\.nodes .* got "110%"/],
            [{ disruptionBudgets: [{ nodes: "0", schedule: "@daily" }] }, /schedule and duration together/],
            [{ disruptionBudgets: [{ nodes: "0", schedule: "@daily", duration: "1d" }] }, /duration must be hours/],
        ];
        for (const [change, re] of table) {
            const problems = nodePoolProblems({ ...POOL, ...change });
            assert.ok(
                problems.some((p) => re.test(p)),
                `${JSON.stringify(change)}: ${problems.join(" | ")}`,
            );
        }
    });

    it("nodeClassSpec: pinned AL2023 alias, discovery by tag, encrypted gp3 root, IMDSv2, Karpenter's instance profile", () => {
        const spec = nodeClassSpec({
            nodeRoleName: "c1-nodes",
            discoveryValue: "c1",
            amiRelease: "v20260714",
            diskSizeGiB: 80,
            tags: { project: "p" },
        });
        const table: [string, unknown][] = [
            ["role", "c1-nodes"],
            ["amiSelectorTerms", [{ alias: "al2023@v20260714" }]],
            ["subnetSelectorTerms", [{ tags: { "karpenter.sh/discovery": "c1" } }]],
            ["securityGroupSelectorTerms", [{ tags: { "karpenter.sh/discovery": "c1" } }]],
            [
                "blockDeviceMappings",
                [
                    {
                        deviceName: "/dev/xvda",
                        rootVolume: true,
                        ebs: { volumeSize: "80Gi", volumeType: "gp3", encrypted: true, deleteOnTermination: true },
                    },
                ],
            ],
            ["metadataOptions.httpTokens", "required"],
            ["metadataOptions.httpEndpoint", "enabled"],
            ["tags", { project: "p" }],
        ];
        for (const [path, want] of table) assert.deepStrictEqual(at(spec, path), want, path);
        assert.deepStrictEqual(volumeEncryptionProblems(spec.blockDeviceMappings, "EC2NodeClass"), []);
        const kms = nodeClassSpec({
            nodeRoleName: "r",
            discoveryValue: "c",
            amiRelease: "v20260714",
            diskSizeGiB: 50,
            volumeKmsKeyArn: "arn:aws:kms:eu-west-1:1:key/k",
        });
        assert.strictEqual(at(kms, "blockDeviceMappings.0.ebs.kmsKeyID"), "arn:aws:kms:eu-west-1:1:key/k");
        assert.strictEqual(at(kms, "tags"), undefined);
    });

    it("nodeClassProblems: unpinned AMI, disk size out of range, tags Karpenter reserves", () => {
        const ok = { nodeRoleName: "r", discoveryValue: "c", amiRelease: "v20260714", diskSizeGiB: 50 };
        assert.deepStrictEqual(nodeClassProblems(ok), []);
        const table: [object, RegExp][] = [
            [{ amiRelease: "latest" }, /amiRelease .*never latest\); got "latest"/],
            [{ amiRelease: "20260714" }, /got "20260714"/],
            [{ diskSizeGiB: 10 }, /diskSizeGiB .* got 10/],
            [{ tags: { "kubernetes.io/cluster/c": "owned" } }, /"kubernetes\.io\/cluster\/c" are set by Karpenter/],
            [{ tags: { "eks:eks-cluster-name": "c" } }, /"eks:eks-cluster-name"/],
        ];
        for (const [change, re] of table) {
            const problems = nodeClassProblems({ ...ok, ...change });
            assert.ok(
                problems.some((p) => re.test(p)),
                `${JSON.stringify(change)}: ${problems.join(" | ")}`,
            );
        }
    });

    it("the system group: at least two nodes for Karpenter's two replicas; private subnets carry the discovery tag", () => {
        assert.deepStrictEqual(systemNodeProblems({ minSize: 2 }), []);
        assert.match(
            systemNodeProblems({ minSize: 1 }).join(),
            /nodes\.minSize is 1; the system node group needs at least 2/,
        );
        assert.strictEqual(subnetRoleTags("c1", "private")["karpenter.sh/discovery"], "c1");
        assert.strictEqual(
            subnetRoleTags("c1", "public")["karpenter.sh/discovery"],
            undefined,
            "never the public subnets",
        );
    });
});

/** A resource of any type, for what other components would create. */
class Stub extends pulumi.CustomResource {
    constructor(type: string, name: string, props: Record<string, unknown>) {
        super(type, name, props);
    }
}

function karpenterArgs(
    cluster: string,
    nodes: pulumi.Resource,
    agent: pulumi.Resource,
    pool: Partial<NodePoolSettings> = {},
): KarpenterArgs {
    return {
        clusterName: cluster,
        region: "eu-west-1",
        accountId: "123456789012",
        identity: { clusterName: cluster, agent },
        systemNodes: nodes,
        nodeSecurityGroupId: `sg-${cluster}`,
        nodePool: { ...POOL, ...pool },
        tags: { project: "p" },
    };
}

function fakeCluster(n = "") {
    const agent = new Stub("aws:eks/addon:Addon", `pod-identity-agent${n}`, {
        clusterName: "c1",
        addonName: "eks-pod-identity-agent",
        addonVersion: EKS_VERSIONS.addons["eks-pod-identity-agent"],
    });
    const nodes = new Stub("test:index:Capacity", `system-nodes${n}`, {});
    return { agent, nodes };
}

describe("Karpenter under the mock engine", () => {
    let run: ProgramRun;
    before(async () => {
        run = await components(() => {
            const { agent, nodes } = fakeCluster();
            new Karpenter("karpenter", karpenterArgs("c1", nodes, agent));
        });
    });

    it("the CRD chart as its own release; the controller skips the chart's crds/ and waits for it", () => {
        const crds = find(run, RELEASE, "karpenter-crds-release");
        const controller = find(run, RELEASE, "karpenter-release");
        assert.deepStrictEqual(
            [crds.props.chart, crds.props.version, crds.props.namespace, crds.props.name],
            [KARPENTER_CHARTS.crds.chart, KARPENTER.version, "kube-system", "karpenter-crd"],
        );
        assert.deepStrictEqual(
            [controller.props.chart, controller.props.version, controller.props.namespace, controller.props.name],
            [KARPENTER_CHARTS.controller.chart, KARPENTER.version, "kube-system", "karpenter"],
        );
        assert.strictEqual(controller.props.skipCrds, true);
        assert.strictEqual(controller.props.skipAwait, false);
        assert.ok(waitsFor(run, controller, crds));
        assert.deepStrictEqual(
            ofType(run, "kubernetes:core/v1:Namespace"),
            [],
            "kube-system exists; nothing creates it",
        );
    });

    it("the controller waits for the system nodes, the Pod Identity agent and its association; it runs as karpenter in kube-system", () => {
        const controller = find(run, RELEASE, "karpenter-release");
        const association = find(
            run,
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            "karpenter-pod-identity",
        );
        for (const [what, target] of [
            ["system nodes", find(run, "test:index:Capacity", "system-nodes")],
            ["agent", find(run, "aws:eks/addon:Addon", "pod-identity-agent")],
            ["association", association],
        ] as const)
            assert.ok(waitsFor(run, controller, target), `the controller waits for the ${what}`);
        assert.deepStrictEqual(
            [association.props.namespace, association.props.serviceAccount, association.props.clusterName],
            ["kube-system", "karpenter", "c1"],
        );
        assert.strictEqual(at(controller.props, "values.settings.clusterName"), "c1");
        const queue = find(run, "aws:sqs/queue:Queue", "karpenter-interruption");
        // Autonamed (the mock names like Pulumi: the logical name and a suffix), so two stacks never share it.
        assert.match(String(at(controller.props, "values.settings.interruptionQueue")), /^karpenter-interruption-\w+$/);
        assert.strictEqual(queue.props.name, undefined);
        const policy = JSON.parse(String(find(run, "aws:iam/rolePolicy:RolePolicy", "karpenter-policy").props.policy));
        const pass = policy.Statement.find((s: { Sid: string }) => s.Sid === "AllowPassingInstanceRole");
        assert.match(pass.Resource, /^arn:aws:iam::123456789012:role\/karpenter-node-role-\w+$/);
        assert.ok(
            policy.Statement.some((s: { Sid: string }) => s.Sid === "AllowSpotServiceLinkedRoleCreation"),
            "spot allowed",
        );
    });

    it("the nodes' role: four managed policies and an EC2_LINUX access entry", () => {
        const role = find(run, "aws:iam/role:Role", "karpenter-node-role");
        assert.deepStrictEqual(JSON.parse(String(role.props.assumeRolePolicy)).Statement[0].Principal, {
            Service: "ec2.amazonaws.com",
        });
        assert.deepStrictEqual(
            ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                .map((a) => String(a.props.policyArn))
                .sort(),
            [
                "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            ],
        );
        const entry = find(run, "aws:eks/accessEntry:AccessEntry", "karpenter-node-access");
        assert.deepStrictEqual(
            [entry.props.type, entry.props.clusterName, entry.propertyDependencies.principalArn],
            ["EC2_LINUX", "c1", [role.urn]],
        );
    });

    it("the interruption queue: SQS-managed encryption, TLS only, fed by the five rules after its policy", () => {
        const queue = find(run, "aws:sqs/queue:Queue", "karpenter-interruption");
        assert.strictEqual(queue.props.sqsManagedSseEnabled, true);
        assert.strictEqual(queue.props.messageRetentionSeconds, 300);
        const qp = find(run, "aws:sqs/queuePolicy:QueuePolicy", "karpenter-interruption");
        assert.deepStrictEqual(qp.propertyDependencies.queueUrl, [queue.urn]);
        const queueArn = "arn:aws:sqs:eu-west-1:123456789012:karpenter-interruption-0123456";
        assert.deepStrictEqual(JSON.parse(String(qp.props.policy)), interruptionQueuePolicy(queueArn));
        const rules = ofType(run, "aws:cloudwatch/eventRule:EventRule");
        assert.deepStrictEqual(
            rules.map((r) => JSON.parse(String(r.props.eventPattern))),
            INTERRUPTION_EVENTS.map(interruptionEventPattern),
        );
        const targets = ofType(run, "aws:cloudwatch/eventTarget:EventTarget");
        assert.strictEqual(targets.length, 5);
        for (const t of targets) {
            assert.strictEqual(t.props.arn, queueArn);
            assert.ok(waitsFor(run, t, qp), `${t.name} after the queue policy`);
        }
    });

    it("discovery: exactly one security group tagged, with the value the EC2NodeClass selects", () => {
        const tags = ofType(run, TAG).filter((t) => t.props.key === "karpenter.sh/discovery");
        assert.strictEqual(tags.length, 1);
        assert.deepStrictEqual([tags[0].props.resourceId, tags[0].props.value], ["sg-c1", "c1"]);
        const nc = find(run, NODE_CLASS, "karpenter-node-class");
        assert.deepStrictEqual(at(nc.props, "spec.securityGroupSelectorTerms"), [
            { tags: { "karpenter.sh/discovery": "c1" } },
        ]);
        assert.deepStrictEqual(at(nc.props, "spec.subnetSelectorTerms"), [
            { tags: { "karpenter.sh/discovery": "c1" } },
        ]);
    });

    it("the EC2NodeClass and NodePool: after the CRDs and the controller; the class after the access entry and the tag; the pool after the class", () => {
        const crds = find(run, RELEASE, "karpenter-crds-release");
        const controller = find(run, RELEASE, "karpenter-release");
        const nc = find(run, NODE_CLASS, "karpenter-node-class");
        const np = find(run, NODE_POOL, "karpenter-node-pool");
        for (const [r, target, why] of [
            [nc, crds, "the class after its CRD"],
            [np, crds, "the pool after its CRD"],
            // Destroy deletes them first, while the controller still runs to remove their finalizers.
            [nc, controller, "the class after the controller"],
            [np, controller, "the pool after the controller"],
            [nc, find(run, "aws:eks/accessEntry:AccessEntry", "karpenter-node-access"), "nodes can join"],
            [nc, find(run, TAG, "karpenter-sg-discovery"), "the security group is discoverable"],
            [np, nc, "the pool after its class"],
        ] as const)
            assert.ok(waitsFor(run, r, target), why);
        assert.match(String(at(nc.props, "spec.role")), /^karpenter-node-role-\w+$/);
        assert.ok(nc.propertyDependencies.spec.includes(find(run, "aws:iam/role:Role", "karpenter-node-role").urn));
        assert.strictEqual(at(nc.props, "spec.amiSelectorTerms.0.alias"), `al2023@${EKS_VERSIONS.nodeAmiRelease}`);
        assert.strictEqual(at(np.props, "spec.template.spec.nodeClassRef.name"), at(nc.props, "metadata.name"));
        assert.deepStrictEqual(at(np.props, "metadata.name"), "default");
    });

    it("its objects pass their schemas (@kubernetes-models/karpenter) and every mandatory guardrail", async () => {
        const objects = run.resources.filter(isKubernetesObject).map((r) => r.props);
        const schema = await validateKubernetesObjects(objects);
        assert.strictEqual(formatSchemaResults(schema), "");
        assert.deepStrictEqual(schema.map((r) => r.kind).sort(), ["EC2NodeClass", "NodePool"]);
        for (const environment of ["dev", "prod"] as const) {
            const mandatory = mandatoryViolations(runPolicies(run.resources, { environment })).filter(
                (v) => environment === "dev" || v.policy !== "karpenter-nodepool-on-demand",
            );
            assert.deepStrictEqual(mandatory, [], formatViolations(mandatory));
        }
    });

    it("the pack fails the component's own objects in their broken forms", () => {
        /** The run with one resource's props changed, and the mandatory rules that then fail. */
        const failing = (type: string, name: string, change: (p: Record<string, unknown>) => void) => {
            const resources = run.resources.map((r) => {
                if (r.type !== type || r.name !== name) return r;
                // The pack reads the wire form when there is one: drop it, the test run has no unknowns.
                const props = JSON.parse(JSON.stringify(r.props)) as Record<string, unknown>;
                change(props);
                return { ...r, props, wire: undefined };
            });
            return [
                ...new Set(mandatoryViolations(runPolicies(resources, { environment: "dev" })).map((v) => v.policy)),
            ];
        };
        const spec = (p: Record<string, unknown>) => p.spec as Record<string, unknown>;
        const table: [string, string, string, (p: Record<string, unknown>) => void, string][] = [
            [
                "an unencrypted root volume",
                NODE_CLASS,
                "karpenter-node-class",
                (p) => delete (at(p, "spec.blockDeviceMappings.0.ebs") as Record<string, unknown>).encrypted,
                "eks-nodes-encrypted-volumes",
            ],
            [
                "the AMI at @latest",
                NODE_CLASS,
                "karpenter-node-class",
                (p) => (spec(p).amiSelectorTerms = [{ alias: "al2023@latest" }]),
                "karpenter-ami-pinned",
            ],
            [
                "IMDSv1 allowed",
                NODE_CLASS,
                "karpenter-node-class",
                (p) => ((spec(p).metadataOptions as Record<string, unknown>).httpTokens = "optional"),
                "eks-nodes-imdsv2",
            ],
            [
                "a pool without limits",
                NODE_POOL,
                "karpenter-node-pool",
                (p) => delete spec(p).limits,
                "karpenter-nodepool-limits",
            ],
            [
                "a pool without budgets",
                NODE_POOL,
                "karpenter-node-pool",
                (p) => delete (spec(p).disruption as Record<string, unknown>).budgets,
                "karpenter-nodepool-disruption",
            ],
            [
                "a queue policy without the TLS deny",
                "aws:sqs/queuePolicy:QueuePolicy",
                "karpenter-interruption",
                (p) => {
                    const doc = JSON.parse(String(p.policy)) as { Statement: unknown[] };
                    p.policy = JSON.stringify({ ...doc, Statement: doc.Statement.slice(0, 1) });
                },
                "sqs-queue-tls-only",
            ],
            [
                "an unencrypted queue",
                "aws:sqs/queue:Queue",
                "karpenter-interruption",
                (p) => delete p.sqsManagedSseEnabled,
                "sqs-queue-encrypted",
            ],
            [
                "nodes whose role cannot join",
                "aws:eks/accessEntry:AccessEntry",
                "karpenter-node-access",
                (p) => (p.type = "STANDARD"),
                "karpenter-nodes-can-join",
            ],
        ];
        for (const [why, type, name, change, rule] of table)
            assert.deepStrictEqual(failing(type, name, change), [rule], why);
    });

    it("the schemas reject a broken EC2NodeClass and NodePool (they are really checked)", async () => {
        const nc = find(run, NODE_CLASS, "karpenter-node-class").props as Record<string, unknown>;
        const np = find(run, NODE_POOL, "karpenter-node-pool").props as Record<string, unknown>;
        const broken = [
            { ...nc, spec: { ...(nc.spec as object), metadataOptions: { httpTokens: "sometimes" } } },
            { ...np, spec: { ...(np.spec as object), disruption: { consolidationPolicy: "Always" } } },
        ];
        const out = formatSchemaResults(await validateKubernetesObjects(broken));
        assert.match(out, /EC2NodeClass default: \/spec\/metadataOptions\/httpTokens/);
        assert.match(out, /NodePool default: \/spec\/disruption/);
    });

    it("prod's form: on-demand only passes the P rule; spot in prod fails it, and the controller gets no SLR grant", async () => {
        const prod = await components(() => {
            const { agent, nodes } = fakeCluster();
            new Karpenter("karpenter", karpenterArgs("c1", nodes, agent, { capacityTypes: ["on-demand"] }));
        });
        const policy = JSON.parse(String(find(prod, "aws:iam/rolePolicy:RolePolicy", "karpenter-policy").props.policy));
        assert.ok(!policy.Statement.some((s: { Sid: string }) => s.Sid === "AllowSpotServiceLinkedRoleCreation"));
        const names = (r: ProgramRun) =>
            mandatoryViolations(runPolicies(r.resources, { environment: "prod" })).map((v) => v.policy);
        assert.deepStrictEqual(names(prod), []);
        assert.deepStrictEqual(names(run), ["karpenter-nodepool-on-demand"]);
    });

    it("preview: only the autonamed role and queue are unknown; the AMI, disks, selectors and pool stay reviewable", async () => {
        const preview = await runWithMocks(
            () => {
                const { agent, nodes } = fakeCluster();
                new Karpenter("karpenter", karpenterArgs("c1", nodes, agent));
            },
            { project: "checkout-platform", stack: "unit", mode: "preview" },
        );
        // The wire form keeps the engine's unknown marker where `props` has nothing.
        const nc = find(preview, NODE_CLASS, "karpenter-node-class").wire;
        const np = find(preview, NODE_POOL, "karpenter-node-pool").wire;
        const controller = find(preview, RELEASE, "karpenter-release").wire;
        assert.strictEqual(at(nc, "spec.role"), UNKNOWN);
        assert.strictEqual(at(controller, "values.settings.interruptionQueue"), UNKNOWN);
        for (const [what, v] of [
            ["AMI alias", at(nc, "spec.amiSelectorTerms.0.alias")],
            ["root volume encrypted", at(nc, "spec.blockDeviceMappings.0.ebs.encrypted")],
            ["subnet selector", at(nc, "spec.subnetSelectorTerms.0.tags")],
            ["pool limits", at(np, "spec.limits")],
            ["pool class", at(np, "spec.template.spec.nodeClassRef.name")],
            ["controller cluster", at(controller, "values.settings.clusterName")],
            ["controller affinity", at(controller, "values.affinity")],
        ] as const)
            assert.ok(v !== undefined && !JSON.stringify(v).includes(UNKNOWN), `${what} is known in a preview`);
    });

    it("bad arguments fail at construction, naming the argument and the value", async () => {
        const table: [Partial<KarpenterArgs>, RegExp][] = [
            [{ nodePool: { ...POOL, capacityTypes: [] } }, /k: nodePool\.capacityTypes is empty/],
            [{ nodePool: { ...POOL, expireAfter: "Never" } }, /nodePool\.expireAfter .* got "Never"/],
            [{ amiRelease: "latest" }, /amiRelease .* got "latest"/],
            [{ poolName: "Default" }, /poolName "Default" must be a DNS label/],
            [{ tags: { "kubernetes.io/cluster/c1": "owned" } }, /set by Karpenter itself/],
        ];
        for (const [change, re] of table)
            await assert.rejects(
                components(() => {
                    const { agent, nodes } = fakeCluster();
                    new Karpenter("k", { ...karpenterArgs("c1", nodes, agent), ...change });
                }),
                re,
            );
    });

    it("two clusters, two instances: no URN and no Kubernetes object twice", async () => {
        const two = await components(() => {
            for (const n of ["a", "b"]) {
                const { agent, nodes } = fakeCluster(`-${n}`);
                const provider = new k8s.Provider(`k8s-${n}`, { kubeconfig: "{}" });
                new Karpenter(`karpenter-${n}`, karpenterArgs(`c-${n}`, nodes, agent), {
                    providers: { kubernetes: provider },
                });
            }
        });
        const urns = two.resources.map((r) => r.urn);
        assert.deepStrictEqual(
            urns.filter((u, i) => urns.indexOf(u) !== i),
            [],
        );
        const keys = two.resources
            .filter((r) => r.type.startsWith("kubernetes:") && r.custom)
            .map((r) => `${r.provider ?? ""} ${r.type} ${String(at(r.props, "metadata.name") ?? r.props.name)}`);
        assert.deepStrictEqual(
            keys.filter((k, i) => keys.indexOf(k) !== i),
            [],
        );
        assert.strictEqual(ofType(two, NODE_POOL).length, 2);
        assert.strictEqual(ofType(two, TAG).length, 2, "one discovery tag per cluster");
        const mandatory = mandatoryViolations(runPolicies(two.resources, { environment: "dev" }));
        assert.deepStrictEqual(mandatory, [], formatViolations(mandatory));
    });
});
