import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OidcProvider } from "./iam";
import { rotatingKmsKey } from "./shared";

/**
 * Versions this component pins, in one place. vpc-cni, coredns and kube-proxy are left to
 * @pulumi/eks, which resolves the add-on version EKS recommends for `version` (so a control-plane
 * upgrade brings matching add-ons); metrics-server is a community add-on and is pinned here.
 * `aws eks describe-addon-versions --kubernetes-version <v> --addon-name metrics-server` lists others.
 */
export const CLUSTER_VERSIONS = {
    // renovate: datasource=aws-eks-addon depName=metrics-server packageName={"addonName":"metrics-server","kubernetesVersion":"1.33"}
    metricsServerAddon: "v0.8.0-eksbuild.2",
} as const;

/** EKS access policy that grants cluster-admin to an access entry. */
export const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/** Managed policies every node role needs (kubelet, the VPC CNI, pulling from ECR). */
export const NODE_ROLE_POLICIES = [
    aws.iam.ManagedPolicy.AmazonEKSWorkerNodePolicy,
    aws.iam.ManagedPolicy.AmazonEKS_CNI_Policy,
    aws.iam.ManagedPolicy.AmazonEC2ContainerRegistryReadOnly,
] as const;

export interface ClusterArgs {
    /** EKS cluster name, explicit so the control-plane log group name is known before creation. */
    readonly clusterName: string;
    /** Kubernetes minor version, e.g. "1.33". */
    readonly version: string;
    /** STANDARD, or EXTENDED (paid extended support). Always explicit: EKS defaults to EXTENDED. */
    readonly upgradePolicy: "STANDARD" | "EXTENDED";
    readonly vpcId: pulumi.Input<string>;
    /** Subnets for the nodes (and the control plane's ENIs); private, so nodes get no public IPs. */
    readonly privateSubnetIds: pulumi.Input<string[]>;
    /** Subnets for internet-facing load balancers. */
    readonly publicSubnetIds: pulumi.Input<string[]>;
    /** Public API endpoint on (reachable only from `publicAccessCidrs`); the private one is always on. */
    readonly endpointPublicAccess: boolean;
    /** CIDRs allowed to reach the public endpoint; must be empty when it is off. */
    readonly publicAccessCidrs: readonly string[];
    /** Control-plane log types sent to CloudWatch. */
    readonly logTypes: readonly string[];
    /** The pre-created `/aws/eks/<name>/cluster` log group; the cluster waits for it. */
    readonly controlPlaneLogGroup: pulumi.Resource;
    readonly deletionProtection: boolean;
    /** IAM role given cluster-admin through an access entry. */
    readonly adminRoleArn: string;
    readonly nodes: {
        readonly instanceTypes: readonly string[];
        readonly amiType: string;
        readonly diskSizeGiB: number;
        readonly minSize: number;
        readonly desiredSize: number;
        readonly maxSize: number;
    };
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The EKS control plane and everything in-cluster resources need from it: KMS envelope encryption
 * of Secrets, access entries (no aws-auth ConfigMap), the OIDC provider for IRSA, one managed node
 * group in the private subnets, the core add-ons with NetworkPolicy enforcement, metrics-server,
 * and the one Kubernetes provider every Kubernetes resource of the program uses.
 */
export class Cluster extends pulumi.ComponentResource {
    readonly eksCluster: eks.Cluster;
    readonly name: pulumi.Output<string>;
    readonly secretsKey: aws.kms.Key;
    readonly nodeGroup: eks.ManagedNodeGroup;
    readonly provider: k8s.Provider;
    readonly oidc: OidcProvider;
    readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:cluster:Cluster", name, {}, opts);
        const tags = args.tags ?? {};

        this.secretsKey = rotatingKmsKey(
            `${name}-secrets-key`,
            { description: `Envelope encryption of Kubernetes Secrets in ${args.clusterName}`, tags },
            { parent: this },
        );

        const nodeRole = new aws.iam.Role(
            `${name}-node-role`,
            {
                description: `Managed node group role of ${args.clusterName}`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
                    ],
                }),
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
                version: args.version,
                upgradePolicy: { supportType: args.upgradePolicy },
                vpcId: args.vpcId,
                privateSubnetIds: args.privateSubnetIds,
                publicSubnetIds: args.publicSubnetIds,
                nodeAssociatePublicIpAddress: false,
                skipDefaultNodeGroup: true,
                createInstanceRole: false,
                authenticationMode: eks.AuthenticationMode.Api,
                accessEntries: {
                    platformAdmin: {
                        principalArn: args.adminRoleArn,
                        accessPolicies: {
                            clusterAdmin: { policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } },
                        },
                    },
                },
                createOidcProvider: true,
                encryptionConfigKeyArn: this.secretsKey.arn,
                enabledClusterLogTypes: [...args.logTypes],
                endpointPrivateAccess: true,
                endpointPublicAccess: args.endpointPublicAccess,
                // eks throws if CIDRs are given with the public endpoint off; the loader rejects that too.
                publicAccessCidrs: args.endpointPublicAccess ? [...args.publicAccessCidrs] : undefined,
                deletionProtection: args.deletionProtection,
                // NetworkPolicies are only enforced when the VPC CNI runs its network policy agent.
                vpcCniOptions: { enableNetworkPolicy: true },
                corednsAddonOptions: { enabled: true },
                kubeProxyAddonOptions: { enabled: true },
                tags,
            },
            { parent: this, dependsOn: [args.controlPlaneLogGroup] },
        );
        this.name = this.eksCluster.eksCluster.name;
        this.oidc = { arn: this.eksCluster.oidcProviderArn, issuerUrl: this.eksCluster.oidcIssuer };

        this.nodeGroup = new eks.ManagedNodeGroup(
            `${name}-nodes`,
            {
                cluster: this.eksCluster,
                nodeRole,
                version: args.version,
                subnetIds: args.privateSubnetIds,
                instanceTypes: [...args.nodes.instanceTypes],
                amiType: args.nodes.amiType,
                diskSize: args.nodes.diskSizeGiB,
                scalingConfig: {
                    minSize: args.nodes.minSize,
                    desiredSize: args.nodes.desiredSize,
                    maxSize: args.nodes.maxSize,
                },
                // A cluster autoscaler (or people) own the desired size after creation.
                ignoreScalingChanges: true,
                enableIMDSv2: true,
                labels: { "platform/node-group": "general" },
                tags,
            },
            { parent: this, dependsOn: nodePolicies },
        );

        // The HPA reads pod CPU and memory from the metrics API; EKS ships metrics-server as an add-on.
        new aws.eks.Addon(
            `${name}-metrics-server`,
            {
                clusterName: this.name,
                addonName: "metrics-server",
                addonVersion: CLUSTER_VERSIONS.metricsServerAddon,
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "OVERWRITE",
                tags,
            },
            { parent: this, dependsOn: [this.nodeGroup] },
        );

        this.kubeconfig = pulumi.secret(this.eksCluster.kubeconfigJson);
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            // In-cluster workloads (cert-manager's webhook above all) need nodes before they can become ready.
            { parent: this, dependsOn: [this.nodeGroup] },
        );

        this.registerOutputs({
            name: this.name,
            oidcProviderArn: this.eksCluster.oidcProviderArn,
            kubeconfig: this.kubeconfig,
        });
    }
}
