import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { OidcProvider, PolicyDocument, irsaRole } from "./iam";
import { rotatingKmsKey } from "./shared";

/** Add-on version, pinned; `aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability` lists newer ones. */
// renovate: datasource=aws-eks-addon depName=amazon-cloudwatch-observability packageName={"addonName":"amazon-cloudwatch-observability","kubernetesVersion":"1.33"}
export const CLOUDWATCH_OBSERVABILITY_ADDON_VERSION = "v4.3.0-eksbuild.1";

/** The log groups Container Insights (the amazon-cloudwatch-observability add-on) writes to. */
export const CONTAINER_INSIGHTS_STREAMS = ["application", "dataplane", "host", "performance"] as const;

export const controlPlaneLogGroupName = (cluster: string) => `/aws/eks/${cluster}/cluster`;
export const containerInsightsLogGroupName = (cluster: string, stream: string) =>
    `/aws/containerinsights/${cluster}/${stream}`;

export interface ClusterLogGroupsArgs {
    /** Name of the EKS cluster the groups belong to (the groups' names derive from it). */
    readonly clusterName: string;
    /** Retention of every group, a value CloudWatch accepts. */
    readonly retentionInDays: number;
    /** Encrypt the groups with a customer-managed KMS key (rotation on) created here. */
    readonly kmsEncryption: boolean;
    readonly region: string;
    readonly accountId: pulumi.Input<string>;
    /** AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
    readonly partition: pulumi.Input<string>;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * Key policy for a log-group key: the account administers it, and CloudWatch Logs in this region
 * may use it only for this cluster's log groups (the encryption-context condition).
 */
export function logsKeyPolicy(
    partition: string,
    accountId: string,
    region: string,
    clusterName: string,
): PolicyDocument {
    const logGroupArn = (group: string) => `arn:${partition}:logs:${region}:${accountId}:log-group:${group}`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersKey",
                Effect: "Allow",
                Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "CloudWatchLogsUsesKeyForClusterLogGroups",
                Effect: "Allow",
                Principal: { Service: `logs.${region}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
                Condition: {
                    ArnLike: {
                        "kms:EncryptionContext:aws:logs:arn": [
                            logGroupArn(controlPlaneLogGroupName(clusterName)),
                            logGroupArn(containerInsightsLogGroupName(clusterName, "*")),
                        ],
                    },
                },
            },
        ],
    };
}

/**
 * The cluster's CloudWatch log groups, created before the cluster so their retention and key are
 * ours: EKS and the Container Insights agent otherwise create them on first write, never expiring
 * (terraform-aws-eks #920, pulumi/pulumi #9296).
 */
export class ClusterLogGroups extends pulumi.ComponentResource {
    /** `/aws/eks/<cluster>/cluster`; the cluster must depend on it. */
    readonly controlPlane: aws.cloudwatch.LogGroup;
    readonly containerInsights: aws.cloudwatch.LogGroup[];
    readonly kmsKey?: aws.kms.Key;
    readonly names: pulumi.Output<string[]>;

    constructor(name: string, args: ClusterLogGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:logging:ClusterLogGroups", name, {}, opts);
        const tags = args.tags ?? {};

        if (args.kmsEncryption) {
            this.kmsKey = rotatingKmsKey(
                `${name}-key`,
                {
                    description: `CloudWatch Logs encryption for cluster ${args.clusterName}`,
                    policy: pulumi
                        .all([args.partition, args.accountId])
                        .apply(([partition, account]) =>
                            JSON.stringify(logsKeyPolicy(partition, account, args.region, args.clusterName)),
                        ),
                    tags,
                },
                { parent: this },
            );
            new aws.kms.Alias(
                `${name}-key-alias`,
                { name: `alias/${args.clusterName}-logs`, targetKeyId: this.kmsKey.keyId },
                { parent: this },
            );
        }

        const group = (role: string, groupName: string) =>
            new aws.cloudwatch.LogGroup(
                `${name}-${role}`,
                {
                    name: groupName,
                    retentionInDays: args.retentionInDays,
                    kmsKeyId: this.kmsKey?.arn,
                    tags,
                },
                { parent: this },
            );

        this.controlPlane = group("control-plane", controlPlaneLogGroupName(args.clusterName));
        this.containerInsights = CONTAINER_INSIGHTS_STREAMS.map((stream) =>
            group(`ci-${stream}`, containerInsightsLogGroupName(args.clusterName, stream)),
        );
        this.names = pulumi.all([this.controlPlane, ...this.containerInsights].map((g) => g.name));
        this.registerOutputs({ names: this.names });
    }
}

export interface ContainerInsightsAgentArgs {
    /** The cluster the add-on is installed in. */
    readonly clusterName: pulumi.Input<string>;
    /** The cluster's OIDC provider, for the agent's IRSA role. */
    readonly oidc: OidcProvider;
    /** The groups the agent writes to; they must exist first or the agent creates them unmanaged. */
    readonly logGroups: ClusterLogGroups;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/** Namespace and service account the add-on runs its CloudWatch agent and Fluent Bit under. */
export const CLOUDWATCH_AGENT_SERVICE_ACCOUNT = { namespace: "amazon-cloudwatch", name: "cloudwatch-agent" } as const;

/**
 * The agent that writes container logs and metrics to the Container Insights log groups:
 * the `amazon-cloudwatch-observability` EKS add-on (CloudWatch agent + Fluent Bit), running under
 * its own IRSA role with CloudWatchAgentServerPolicy, not the node role.
 */
export class ContainerInsightsAgent extends pulumi.ComponentResource {
    readonly role: aws.iam.Role;
    readonly addon: aws.eks.Addon;

    constructor(name: string, args: ContainerInsightsAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:logging:ContainerInsightsAgent", name, {}, opts);
        const sa = CLOUDWATCH_AGENT_SERVICE_ACCOUNT;
        this.role = irsaRole(`${name}-role`, args.oidc, sa.namespace, sa.name, { parent: this, tags: args.tags });
        const attachment = new aws.iam.RolePolicyAttachment(
            `${name}-policy`,
            {
                role: this.role.name,
                policyArn: aws.iam.ManagedPolicy.CloudWatchAgentServerPolicy,
            },
            { parent: this },
        );
        this.addon = new aws.eks.Addon(
            `${name}-addon`,
            {
                clusterName: args.clusterName,
                addonName: "amazon-cloudwatch-observability",
                addonVersion: CLOUDWATCH_OBSERVABILITY_ADDON_VERSION,
                serviceAccountRoleArn: this.role.arn,
                configurationValues: JSON.stringify({ containerLogs: { enabled: true } }),
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "OVERWRITE",
                tags: args.tags,
            },
            { parent: this, dependsOn: [attachment, args.logGroups] },
        );
        this.registerOutputs({ roleArn: this.role.arn });
    }
}
