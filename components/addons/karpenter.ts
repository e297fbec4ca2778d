import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SYSTEM_NODE_LABELS } from "../cluster-spec";
import { EKS_VERSIONS } from "../eks-versions";
import { EC2_TRUST_POLICY } from "../iam";
import { HelmAddon, PodIdentityContext, helmAddon } from "./helm-addon";
import {
    INTERRUPTION_EVENTS,
    KARPENTER_NODE_POLICIES,
    interruptionEventPattern,
    interruptionQueuePolicy,
    karpenterControllerPolicy,
} from "./karpenter-aws";
import {
    ControllerResources,
    KARPENTER_CHARTS,
    KARPENTER_CONTROLLER_RESOURCES,
    KARPENTER_DISCOVERY_TAG,
    KARPENTER_NAMES,
    NodePoolSettings,
    karpenterValues,
    nodeClassProblems,
    nodeClassSpec,
    nodePoolProblems,
    nodePoolSpec,
} from "./karpenter-spec";

export * from "./karpenter-aws";
export * from "./karpenter-spec";

export interface KarpenterArgs {
    /** The EKS cluster; also the value of the discovery tag on the subnets and the security group. */
    readonly clusterName: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly accountId: pulumi.Input<string>;
    /** @default "aws" */
    readonly partition?: pulumi.Input<string>;
    /** Pod Identity for the controller's service account. */
    readonly identity: PodIdentityContext;
    /**
     * The managed system node group the controller runs on (its release waits for the pods, and
     * Karpenter cannot run on the nodes it manages).
     */
    readonly systemNodes: pulumi.Resource;
    /** Labels of the system nodes, required of the controller's nodes. @default SYSTEM_NODE_LABELS */
    readonly systemNodeLabels?: Readonly<Record<string, string>>;
    /**
     * The one security group Karpenter's nodes get, tagged here for discovery: the cluster security
     * group the managed nodes already have (`Cluster.nodeSecurityGroupId`).
     */
    readonly nodeSecurityGroupId: pulumi.Input<string>;
    /** What the NodePool allows: capacity types, instance types, limits, disruption. */
    readonly nodePool: NodePoolSettings;
    /** Name of the NodePool and the EC2NodeClass (cluster-scoped). @default "default" */
    readonly poolName?: string;
    /** Root volume of Karpenter's nodes in GiB. @default 50 */
    readonly diskSizeGiB?: number;
    /** KMS key of the nodes' volumes. @default the account's `aws/ebs` key */
    readonly volumeKmsKeyArn?: string;
    /** AL2023 AMI release (`v<yyyymmdd>`). @default EKS_VERSIONS.nodeAmiRelease */
    readonly amiRelease?: string;
    /** Controller replicas, on different system nodes. @default 2 */
    readonly replicas?: number;
    /** @default KARPENTER_CONTROLLER_RESOURCES */
    readonly resources?: ControllerResources;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * Karpenter: node capacity for everything the system group does not run.
 *
 * Creates the CRD release, the interruption queue (SQS, SQS-managed encryption, TLS only) fed by
 * five EventBridge rules, the nodes' IAM role with an `EC2_LINUX` access entry, the controller
 * release in kube-system under Pod Identity, the discovery tag on the node security group, and one
 * EC2NodeClass and NodePool. Order of a first `up`: the CRDs, then the controller once the system
 * nodes, the Pod Identity agent and the association exist (its release waits for two pods on the
 * system nodes, never for capacity of its own), then the EC2NodeClass (after the nodes' access entry,
 * so the first node can join) and the NodePool. Destroy runs it backwards: the NodePool and the
 * EC2NodeClass go while the controller still runs to terminate their nodes and remove the finalizers.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class Karpenter extends pulumi.ComponentResource {
    readonly crds: HelmAddon;
    readonly controller: HelmAddon;
    readonly nodeRole: aws.iam.Role;
    readonly nodeAccess: aws.eks.AccessEntry;
    readonly queue: aws.sqs.Queue;
    readonly queuePolicy: aws.sqs.QueuePolicy;
    readonly eventRules: aws.cloudwatch.EventRule[];
    readonly securityGroupTag: aws.ec2.Tag;
    readonly nodeClass: k8s.apiextensions.CustomResource;
    readonly nodePool: k8s.apiextensions.CustomResource;

    constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:Karpenter", name, {}, opts);
        const tags = args.tags ?? {};
        const poolName = args.poolName ?? "default";
        const diskSizeGiB = args.diskSizeGiB ?? 50;
        const amiRelease = args.amiRelease ?? EKS_VERSIONS.nodeAmiRelease;
        const problems = [
            ...nodePoolProblems(args.nodePool).map((p) => `nodePool.${p}`),
            ...nodeClassProblems({ nodeRoleName: "", discoveryValue: "", amiRelease, diskSizeGiB, tags }),
        ];
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(poolName))
            problems.push(`poolName ${JSON.stringify(poolName)} must be a DNS label (lowercase letters, digits, '-')`);
        if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
        const partition = args.partition ?? "aws";
        const spot = args.nodePool.capacityTypes.includes("spot");

        // Interruption: EventBridge -> SQS -> the controller, which drains a node before EC2 takes it.
        this.queue = new aws.sqs.Queue(
            `${name}-interruption`,
            { messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags },
            { parent: this },
        );
        this.queuePolicy = new aws.sqs.QueuePolicy(
            `${name}-interruption`,
            {
                queueUrl: this.queue.url,
                policy: this.queue.arn.apply((arn) => JSON.stringify(interruptionQueuePolicy(arn))),
            },
            { parent: this },
        );
        this.eventRules = INTERRUPTION_EVENTS.map((e) => {
            const rule = new aws.cloudwatch.EventRule(
                `${name}-${e.key}`,
                {
                    description: `${e.detailType} -> Karpenter's interruption queue`,
                    eventPattern: JSON.stringify(interruptionEventPattern(e)),
                    tags,
                },
                { parent: this },
            );
            // After the policy, or EventBridge's first deliveries are refused.
            new aws.cloudwatch.EventTarget(
                `${name}-${e.key}`,
                { rule: rule.name, arn: this.queue.arn, targetId: "KarpenterInterruptionQueueTarget" },
                { parent: this, dependsOn: [this.queuePolicy] },
            );
            return rule;
        });

        // The nodes' role: Karpenter builds an instance profile from it (EC2NodeClass `role`).
        // Its own role, not the managed group's: EKS already made an access entry for that one, and a
        // second one for the same principal fails with 409.
        this.nodeRole = new aws.iam.Role(
            `${name}-node-role`,
            {
                description: `Nodes Karpenter launches for ${poolName}`,
                assumeRolePolicy: JSON.stringify(EC2_TRUST_POLICY),
                tags,
            },
            { parent: this },
        );
        const nodePolicies = KARPENTER_NODE_POLICIES.map(
            (policy) =>
                new aws.iam.RolePolicyAttachment(
                    `${name}-node-${policy}`,
                    {
                        role: this.nodeRole.name,
                        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}`,
                    },
                    { parent: this },
                ),
        );
        // Lets the nodes join: EC2_LINUX maps the role to system:nodes (EKS user guide, access entries).
        this.nodeAccess = new aws.eks.AccessEntry(
            `${name}-node-access`,
            { clusterName: args.clusterName, principalArn: this.nodeRole.arn, type: "EC2_LINUX", tags },
            { parent: this, dependsOn: nodePolicies },
        );

        // Exactly one security group carries the discovery tag (the EC2NodeClass selects by it).
        this.securityGroupTag = new aws.ec2.Tag(
            `${name}-sg-discovery`,
            { resourceId: args.nodeSecurityGroupId, key: KARPENTER_DISCOVERY_TAG, value: args.clusterName },
            { parent: this },
        );

        // The CRDs as a release of their own: templates, so every version bump upgrades them.
        this.crds = helmAddon(this, `${name}-crds`, {
            namespace: KARPENTER_NAMES.namespace,
            createNamespace: false,
            releaseName: KARPENTER_NAMES.crdRelease,
            chart: KARPENTER_CHARTS.crds,
            values: {},
            tags,
        });

        const values = karpenterValues({
            clusterName: args.clusterName,
            queueName: this.queue.name,
            region: args.region,
            replicas: args.replicas ?? 2,
            systemNodeLabels: args.systemNodeLabels ?? SYSTEM_NODE_LABELS,
            resources: args.resources ?? KARPENTER_CONTROLLER_RESOURCES,
        });
        this.controller = helmAddon(this, name, {
            namespace: KARPENTER_NAMES.namespace,
            createNamespace: false,
            releaseName: KARPENTER_NAMES.release,
            chart: KARPENTER_CHARTS.controller,
            values,
            // The chart's crds/ would be installed once and never upgraded; the CRD release owns them.
            skipCrds: true,
            identity: {
                ...args.identity,
                serviceAccount: KARPENTER_NAMES.serviceAccount,
                policy: pulumi
                    .all([partition, args.region, args.accountId, args.clusterName, this.nodeRole.arn, this.queue.arn])
                    .apply(([p, region, accountId, clusterName, nodeRoleArn, queueArn]) =>
                        karpenterControllerPolicy({
                            partition: p,
                            region,
                            accountId,
                            clusterName,
                            nodeRoleArn,
                            queueArn,
                            spot,
                        }),
                    ),
                description: `Karpenter controller of ${poolName}`,
            },
            dependsOn: [this.crds.release, args.systemNodes],
            tags,
        });

        const crdsAndController = [this.crds.release, this.controller.release];
        this.nodeClass = new k8s.apiextensions.CustomResource(
            `${name}-node-class`,
            {
                apiVersion: "karpenter.k8s.aws/v1",
                kind: "EC2NodeClass",
                metadata: { name: poolName },
                spec: nodeClassSpec({
                    nodeRoleName: this.nodeRole.name,
                    discoveryValue: args.clusterName,
                    amiRelease,
                    diskSizeGiB,
                    volumeKmsKeyArn: args.volumeKmsKeyArn,
                    tags,
                }),
            },
            { parent: this, dependsOn: [...crdsAndController, this.nodeAccess, this.securityGroupTag] },
        );
        this.nodePool = new k8s.apiextensions.CustomResource(
            `${name}-node-pool`,
            {
                apiVersion: "karpenter.sh/v1",
                kind: "NodePool",
                metadata: { name: poolName },
                // By name (known in a preview); the dependsOn orders it after the class.
                spec: nodePoolSpec({ ...args.nodePool, nodeClassName: poolName }),
            },
            { parent: this, dependsOn: [...crdsAndController, this.nodeClass] },
        );

        this.registerOutputs({
            queueName: this.queue.name,
            nodeRoleArn: this.nodeRole.arn,
            nodePool: this.nodePool.metadata.name,
        });
    }
}
