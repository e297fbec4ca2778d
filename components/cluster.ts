import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    ApiAccess,
    ClusterAccess,
    NODE_METADATA_OPTIONS,
    SYSTEM_NODE_LABELS,
    accessEntries,
    apiAccessProblems,
    apiIngressSources,
    nodeBlockDevices,
    systemNodeProblems,
} from "./cluster-spec";
import { EKS_VERSIONS, EksAddonName, EksVersionSet } from "./eks-versions";
import { EC2_TRUST_POLICY, OidcProvider } from "./iam";
import { rotatingKmsKey } from "./common";

export { ACCESS_POLICY, SYSTEM_NODE_LABELS } from "./cluster-spec";
export type { ApiAccess, ClusterAccess } from "./cluster-spec";

/** Managed policies every node role needs (kubelet, the VPC CNI, pulling from ECR). */
export const NODE_ROLE_POLICIES = [
    aws.iam.ManagedPolicy.AmazonEKSWorkerNodePolicy,
    aws.iam.ManagedPolicy.AmazonEKS_CNI_Policy,
    aws.iam.ManagedPolicy.AmazonEC2ContainerRegistryReadOnly,
] as const;

export interface ClusterArgs {
    /** EKS cluster name, explicit so the control-plane log group name is known before creation. */
    readonly clusterName: string;
    /**
     * Kubernetes version and the add-on builds chosen for it, bumped together.
     * @default EKS_VERSIONS (components/eks-versions.ts)
     */
    readonly versions?: EksVersionSet;
    /** STANDARD, or EXTENDED (paid extended support). Always explicit: EKS defaults to EXTENDED. */
    readonly upgradePolicy: "STANDARD" | "EXTENDED";
    readonly vpcId: pulumi.Input<string>;
    /** Subnets for the nodes (and the control plane's ENIs); private, so nodes get no public IPs. */
    readonly privateSubnetIds: pulumi.Input<string[]>;
    /** Subnets for internet-facing load balancers. */
    readonly publicSubnetIds: pulumi.Input<string[]>;
    /** Where the Kubernetes API is reachable from (the runners of `up` and `preview`, operators). */
    readonly api: ApiAccess;
    /** Who may use the Kubernetes API, and which principal creates the cluster. */
    readonly access: ClusterAccess;
    /** Control-plane log types sent to CloudWatch. */
    readonly logTypes: readonly string[];
    /** The pre-created `/aws/eks/<name>/cluster` log group; the cluster waits for it. */
    readonly controlPlaneLogGroup: pulumi.Resource;
    readonly deletionProtection: boolean;
    readonly nodes: {
        readonly instanceTypes: readonly string[];
        /** AL2023_* or BOTTLEROCKET_* (the launch template maps the root volumes of those). */
        readonly amiType: string;
        readonly diskSizeGiB: number;
        readonly minSize: number;
        readonly desiredSize: number;
        readonly maxSize: number;
        /**
         * Customer-managed KMS key for the node volumes; its key policy must let the Auto Scaling
         * service-linked role use it (see `nodeBlockDevices`).
         * @default the account's AWS-managed `aws/ebs` key
         */
        readonly volumeKmsKeyArn?: string;
    };
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The EKS control plane and everything in-cluster resources need from it: KMS envelope encryption
 * of Secrets, access entries for the declared principals (no aws-auth ConfigMap), the API's network
 * path, the OIDC provider for IRSA, the managed system node group (>= 2 nodes; Karpenter adds
 * the rest) in the private subnets on encrypted disks, the add-ons at pinned builds (those that
 * need nodes created after the node group), and the one Kubernetes provider every Kubernetes
 * resource of the program uses.
 */
export class Cluster extends pulumi.ComponentResource {
    readonly eksCluster: eks.Cluster;
    readonly name: pulumi.Output<string>;
    readonly secretsKey: aws.kms.Key;
    readonly nodeLaunchTemplate: aws.ec2.LaunchTemplate;
    readonly nodeGroup: eks.ManagedNodeGroup;
    /** Cluster DNS, created once nodes exist (inside eks.Cluster it would deadlock: pulumi-eks#1819). */
    readonly coredns: aws.eks.Addon;
    /** The EKS Pod Identity agent; a pod picks up its association only if the agent ran first. */
    readonly podIdentityAgent: aws.eks.Addon;
    readonly metricsServer: aws.eks.Addon;
    /** The security group of the control plane's ENIs; the private endpoint's 443 rules live on it. */
    readonly securityGroupId: pulumi.Output<string>;
    /**
     * The security group EKS creates for the cluster (`vpcConfig.clusterSecurityGroupId`). A managed
     * node whose launch template names no security group gets this one (pulumi-eks 4.3.0
     * nodes/nodegroup.ts createMNGCustomLaunchTemplate; EKS user guide, "cluster security group");
     * it admits all traffic from itself, so Karpenter's nodes join it to reach the system nodes.
     */
    readonly nodeSecurityGroupId: pulumi.Output<string>;
    readonly provider: k8s.Provider;
    readonly oidc: OidcProvider;
    readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:cluster:Cluster", name, {}, opts);
        const tags = args.tags ?? {};
        const versions = args.versions ?? EKS_VERSIONS;
        const apiProblems = apiAccessProblems(args.api);
        if (apiProblems.length > 0) throw new Error(`${name}: invalid API access: ${apiProblems.join("; ")}`);
        const nodeProblems = systemNodeProblems(args.nodes);
        if (nodeProblems.length > 0) throw new Error(`${name}: ${nodeProblems.join("; ")}`);

        this.secretsKey = rotatingKmsKey(
            `${name}-secrets-key`,
            { description: `Envelope encryption of Kubernetes Secrets in ${args.clusterName}`, tags },
            { parent: this },
        );

        const nodeRole = new aws.iam.Role(
            `${name}-node-role`,
            {
                description: `Managed node group role of ${args.clusterName}`,
                assumeRolePolicy: JSON.stringify(EC2_TRUST_POLICY),
                tags,
            },
            { parent: this },
        );
        const nodePolicies = NODE_ROLE_POLICIES.map(
            (policyArn, i) =>
                new aws.iam.RolePolicyAttachment(
                    `${name}-node-policy-${i}`,
                    { role: nodeRole.name, policyArn },
                    { parent: this },
                ),
        );

        this.eksCluster = new eks.Cluster(
            `${name}-eks`,
            {
                name: args.clusterName,
                version: versions.kubernetes,
                upgradePolicy: { supportType: args.upgradePolicy },
                vpcId: args.vpcId,
                privateSubnetIds: args.privateSubnetIds,
                publicSubnetIds: args.publicSubnetIds,
                nodeAssociatePublicIpAddress: false,
                skipDefaultNodeGroup: true,
                createInstanceRole: false,
                authenticationMode: eks.AuthenticationMode.Api,
                // Children of the component, so everything that waits for the cluster (the
                // Kubernetes provider above all) waits for the runner's access too.
                accessEntries: accessEntries(args.access),
                createOidcProvider: true,
                encryptionConfigKeyArn: this.secretsKey.arn,
                enabledClusterLogTypes: [...args.logTypes],
                endpointPrivateAccess: true,
                endpointPublicAccess: args.api.endpointPublicAccess,
                // eks throws if CIDRs are given with the public endpoint off (cluster.ts 708-716).
                publicAccessCidrs: args.api.endpointPublicAccess ? [...args.api.publicAccessCidrs] : undefined,
                deletionProtection: args.deletionProtection,
                // vpc-cni and kube-proxy run as DaemonSets: with no node their desired count is 0 and
                // EKS reports them ACTIVE, so creating them inside the component (cluster.ts 764-797,
                // 1091-1111) is safe, and the CNI must be there before nodes can turn Ready. Without a
                // version pulumi-eks resolves the most recent build (mostRecent: true): pinned here.
                // NetworkPolicies are only enforced when the VPC CNI runs its network policy agent.
                vpcCniOptions: { enableNetworkPolicy: true, addonVersion: versions.addons["vpc-cni"] },
                kubeProxyAddonOptions: { enabled: true, version: versions.addons["kube-proxy"] },
                // coredns is a Deployment: created in here it has no node to run on, stays DEGRADED
                // and the component never answers (cluster.ts 1175-1233, pulumi-eks#1819). Created
                // below, after the node group.
                corednsAddonOptions: { enabled: false },
                tags,
            },
            { parent: this, dependsOn: [args.controlPlaneLogGroup] },
        );
        this.name = this.eksCluster.eksCluster.name;
        this.oidc = { arn: this.eksCluster.oidcProviderArn, issuerUrl: this.eksCluster.oidcIssuer };
        // pulumi-eks's own cluster security group (cluster.ts 550-585), attached to the control
        // plane's ENIs only, so a 443 rule here opens the API and nothing on the nodes.
        this.securityGroupId = this.eksCluster.clusterSecurityGroupId;
        this.nodeSecurityGroupId = this.eksCluster.eksCluster.vpcConfig.clusterSecurityGroupId;

        // The private endpoint answers only what its security groups admit (EKS user guide, "Cluster
        // API server endpoint": a bastion or connected network needs ingress on 443). With the public
        // endpoint off, pulumi-eks skips its API health wait (cluster.ts 806), so without this rule the
        // cluster is created and every Kubernetes resource then times out (pulumi-eks#1134).
        // aws.ec2.SecurityGroupRule, not aws.vpc.SecurityGroupIngressRule: pulumi-eks manages this
        // group's other rules with SecurityGroupRule, and the AWS provider warns that mixing the two
        // kinds on one group makes them overwrite each other.
        const apiRules = apiIngressSources(args.api).map(
            (source) =>
                new aws.ec2.SecurityGroupRule(
                    `${name}-api-${source.key}`,
                    {
                        type: "ingress",
                        description: `Kubernetes API (443) from ${source.cidr ?? source.securityGroupId}`,
                        securityGroupId: this.securityGroupId,
                        protocol: "tcp",
                        fromPort: 443,
                        toPort: 443,
                        ...(source.cidr !== undefined
                            ? { cidrBlocks: [source.cidr] }
                            : { sourceSecurityGroupId: source.securityGroupId }),
                    },
                    { parent: this },
                ),
        );

        // Our own launch template, because the one pulumi-eks builds for `enableIMDSv2` maps only the
        // volume size and never `encrypted` (nodes/nodegroup.ts createMNGCustomLaunchTemplate,
        // 2261-2270 at 4.3.0), and a launch template of our own excludes `enableIMDSv2` and
        // `diskSize` (its validation, 2016-2023; EKS takes the disk size from the template). The AMI
        // is still EKS's for amiType and version: no imageId, so EKS adds its bootstrap user data.
        this.nodeLaunchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-nodes-lt`,
            {
                description: `Managed node group of ${args.clusterName}: encrypted gp3 disks, IMDSv2 required`,
                blockDeviceMappings: nodeBlockDevices(
                    args.nodes.amiType,
                    args.nodes.diskSizeGiB,
                    args.nodes.volumeKmsKeyArn,
                ).map((d) => ({ deviceName: d.deviceName, ebs: { ...d.ebs } })),
                metadataOptions: { ...NODE_METADATA_OPTIONS },
                updateDefaultVersion: true,
                tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags })),
                tags,
            },
            { parent: this },
        );

        this.nodeGroup = new eks.ManagedNodeGroup(
            `${name}-nodes`,
            {
                cluster: this.eksCluster,
                nodeRole,
                version: versions.kubernetes,
                subnetIds: args.privateSubnetIds,
                instanceTypes: [...args.nodes.instanceTypes],
                amiType: args.nodes.amiType,
                launchTemplate: {
                    id: this.nodeLaunchTemplate.id,
                    version: this.nodeLaunchTemplate.latestVersion.apply((v) => `${v}`),
                },
                scalingConfig: {
                    minSize: args.nodes.minSize,
                    desiredSize: args.nodes.desiredSize,
                    maxSize: args.nodes.maxSize,
                },
                // People own the desired size after creation (Karpenter scales its own nodes, not this group).
                ignoreScalingChanges: true,
                labels: { ...SYSTEM_NODE_LABELS },
                tags,
            },
            { parent: this, dependsOn: nodePolicies },
        );

        // Add-ons created once nodes exist, each at the build pinned for this Kubernetes version:
        // coredns and metrics-server run Deployments (no node, no pod: DEGRADED until the 20-minute
        // timeout), and a pod that uses Pod Identity needs the agent running on its node first.
        const addon = (addonName: EksAddonName, extra: Partial<aws.eks.AddonArgs> = {}) =>
            new aws.eks.Addon(
                `${name}-${addonName}`,
                {
                    clusterName: this.name,
                    addonName,
                    addonVersion: versions.addons[addonName],
                    // EKS installs self-managed coredns with the cluster; OVERWRITE adopts it.
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "OVERWRITE",
                    tags,
                    ...extra,
                },
                { parent: this, dependsOn: [this.nodeGroup] },
            );
        // preserve: deleting the resource (a rename) must not take cluster DNS down with it.
        this.coredns = addon("coredns", { preserve: true });
        this.podIdentityAgent = addon("eks-pod-identity-agent");
        // The HPA reads pod CPU and memory from the metrics API.
        this.metricsServer = addon("metrics-server");

        this.kubeconfig = pulumi.secret(this.eksCluster.kubeconfigJson);
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            // Workloads need nodes to become ready and cluster DNS to resolve anything; the runner
            // needs its 443 path before the first request.
            { parent: this, dependsOn: [this.nodeGroup, this.coredns, ...apiRules] },
        );

        this.registerOutputs({
            name: this.name,
            oidcProviderArn: this.eksCluster.oidcProviderArn,
            securityGroupId: this.securityGroupId,
            nodeSecurityGroupId: this.nodeSecurityGroupId,
            kubeconfig: this.kubeconfig,
        });
    }
}
