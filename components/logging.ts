import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EKS_VERSIONS } from "./eks-versions";
import { PodIdentityContext, podIdentityTrustPolicy } from "./addons/helm-addon";
import { accountAdministersKey, PolicyDocument } from "./iam";
import { rotatingKmsKey } from "./common";

/** Pinned with the other EKS add-ons, for the cluster's Kubernetes version (components/eks-versions.ts). */
export const CLOUDWATCH_OBSERVABILITY_ADDON_VERSION = EKS_VERSIONS.addons["amazon-cloudwatch-observability"];

/** The log groups Container Insights can write, `/aws/containerinsights/<cluster>/<stream>`. */
export const CONTAINER_INSIGHTS_STREAMS = ["application", "dataplane", "host", "performance"] as const;
export type ContainerInsightsStream = (typeof CONTAINER_INSIGHTS_STREAMS)[number];

/**
 * The add-on's `configurationValues` this program sets: Container Insights metrics and container
 * logs, and no Application Signals auto-monitoring.
 *
 * From add-on 5.0.0 `manager.applicationSignals.autoMonitor.monitorAllServices` is on by default
 * in commercial regions (AWS "What's New", February 2026, default application performance
 * monitoring for EKS; aws-observability/helm-charts #240, `_helpers.tpl`
 * `manager.modify-auto-monitor-config`). Its operator (aws/amazon-cloudwatch-agent-operator v3.6.0,
 * `pkg/instrumentation/auto/monitor.go`) then annotates every Deployment, StatefulSet and DaemonSet
 * that a Service selects, outside a short list of system namespaces, for Java, Python, .NET and
 * Node.js auto-instrumentation whenever its pod template changes; the pod webhook injects init
 * containers with no securityContext (`pkg/instrumentation/nodejs.go` and siblings), which the
 * Pod Security "restricted" namespaces of this program reject, so checkout's next rollout would
 * create no pods. checkout carries its own SDK; the agent's receiver stays on (`agentOtlpEndpoint`).
 * The CloudWatch user guide ("Opt out of Application Signals") gives this setting for the add-on.
 */
export const CONTAINER_INSIGHTS_CONFIGURATION = {
    containerLogs: { enabled: true },
    manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } },
} as const;

/**
 * The Fluent Bit config files the add-on ships, and the group each one fills on the nodes this
 * program runs: AL2023 and Bottlerocket (the AMI types the config schema allows; EKS publishes no
 * AL2 AMIs from Kubernetes 1.33). Read in aws-observability/helm-charts, the chart the add-on
 * packages (add-on vX.Y.Z-eksbuild.N ships chart X.Y.Z: add-on v5.3.0 carried chart change
 * helm-charts#287, see aws-observability/application-signals-demo#334),
 * `charts/amazon-cloudwatch-observability/values.yaml` at tags amazon-cloudwatch-observability-4.3.0
 * to -4.8.0 and -6.4.0:
 * - `application-log.conf` tails /var/log/containers/*.log: written on every node;
 * - `dataplane-log.conf` tails the aws-node and kube-proxy container logs (DaemonSets on every
 *   node), plus the journal for kubelet/containerd once the Fluent Bit image can read AL2023's
 *   journal (aws/aws-for-fluent-bit#831; image 3.x from chart 4.6.0): written on every node;
 * - `host-log.conf` tails /var/log/dmesg, /var/log/messages and /var/log/secure up to chart 4.5.x.
 *   AL2023 has no rsyslog and Bottlerocket logs only to the journal, so those files never exist
 *   (aws-observability/helm-charts#229, "Default host-log.conf assumes rsyslog, not installed in
 *   AL2023"): nothing writes the host group. From chart 4.6.0 it reads the journal instead
 *   (aws-observability/helm-charts#247, "Use systemd plugins for retrieving host logs").
 */
function defaultFluentBitFiles(chart: readonly number[]): Record<string, ContainerInsightsStream[]> {
    const hostFromJournal = compareVersions(chart, [4, 6, 0]) >= 0;
    return {
        "application-log.conf": ["application"],
        "dataplane-log.conf": ["dataplane"],
        "host-log.conf": hostFromJournal ? ["host"] : [],
    };
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}

/** `v4.3.0-eksbuild.1` -> [4, 3, 0]. */
function addonChartVersion(addonVersion: string): number[] {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-eksbuild\.\d+)?$/.exec(addonVersion);
    if (!m) throw new Error(`not an amazon-cloudwatch-observability add-on version: ${JSON.stringify(addonVersion)}`);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
}

const get = (obj: unknown, ...path: string[]): unknown =>
    path.reduce<unknown>(
        (v, k) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
        obj,
    );

/**
 * The Container Insights log groups the amazon-cloudwatch-observability add-on writes at
 * `addonVersion` with `configurationValues`, on AL2023 and Bottlerocket nodes (see
 * `defaultFluentBitFiles`). `performance` is the CloudWatch agent's metrics (unless
 * `containerInsights.enabled` is false); the rest come from Fluent Bit when `containerLogs.enabled`
 * is not false. A file given in `containerLogs.fluentBit.config.extraFiles` replaces the default
 * file of that name (Helm merges maps key by key) and writes to the groups its `log_group_name`
 * lines name.
 */
export function containerInsightsStreams(
    addonVersion: string,
    configurationValues: unknown,
): ContainerInsightsStream[] {
    const written = new Set<ContainerInsightsStream>();
    if (get(configurationValues, "containerInsights", "enabled") !== false) written.add("performance");
    if (get(configurationValues, "containerLogs", "enabled") !== false) {
        const files: Record<string, ContainerInsightsStream[]> = defaultFluentBitFiles(addonChartVersion(addonVersion));
        const extra = get(configurationValues, "containerLogs", "fluentBit", "config", "extraFiles");
        for (const [file, text] of Object.entries(extra !== null && typeof extra === "object" ? extra : {})) {
            files[file] = CONTAINER_INSIGHTS_STREAMS.filter((stream) =>
                new RegExp(
                    `^\\s*log_group_name\\s+/aws/containerinsights/\\$\\{CLUSTER_NAME\\}/${stream}\\s*$`,
                    "m",
                ).test(String(text)),
            );
        }
        for (const streams of Object.values(files)) streams.forEach((s) => written.add(s));
    }
    return CONTAINER_INSIGHTS_STREAMS.filter((s) => written.has(s));
}

/** Where a workload sends OTLP in the cluster, and the pods a NetworkPolicy must let it reach. */
export interface AgentOtlpEndpoint {
    /** OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP base URL; the SDK sends traces to `<url>/v1/traces`. */
    readonly url: string;
    readonly port: number;
    /** Namespace of the agent's pods and Service. */
    readonly namespace: string;
    /**
     * Labels of the agent's pods that its Service's selector also carries: an egress rule must name
     * the agent by these, not by address (see `agentOtlpEndpoint`).
     */
    readonly podLabels: Readonly<Record<string, string>>;
}

/** The chart's DaemonSet agent (its AmazonCloudWatchAgent resource, and so its Service's name). */
const DEFAULT_AGENT = { namespace: "amazon-cloudwatch", name: "cloudwatch-agent" } as const;

/** The add-on major versions whose chart and operator were read for `agentOtlpEndpoint`. */
export const OTLP_ENDPOINT_READ_AT_MAJORS: readonly number[] = [6];

/**
 * The OTLP receiver the add-on's CloudWatch agent serves on every node, or undefined when this
 * configuration turns it off.
 *
 * It is the Application Signals receiver (OTLP/HTTP on 4316, gRPC on 4315), not the generic OTLP
 * endpoint on 4317/4318 that AWS documents from add-on 8.0.0 ("OTLP ingestion"). Read at chart
 * 6.4.0 (aws-observability/helm-charts, tag amazon-cloudwatch-observability-6.4.0) and its operator
 * v3.6.0 (aws/amazon-cloudwatch-agent-operator):
 * - values.yaml: `applicationSignals.enabled: true` targets the DaemonSet agent `cloudwatch-agent`
 *   (`hostNetwork: true`); `_helpers.tpl` `cloudwatch-agent.build-default-config` then writes
 *   `traces.traces_collected.application_signals` into its config (a custom `agent.config` replaces
 *   that default).
 * - operator `internal/manifests/collector/ports.go`: that config opens 4315/4316; `service.go`
 *   puts them on the Service named after the agent, `internalTrafficPolicy: Local` for a DaemonSet,
 *   selecting `manifestutils.SelectorLabels` (component `amazon-cloudwatch-agent`, instance
 *   `<namespace>.<name>`); `pkg/instrumentation/defaultinstrumentation.go` points Node.js
 *   auto-instrumentation at `http://cloudwatch-agent.amazon-cloudwatch:4316/v1/traces`.
 * - the agent (aws/amazon-cloudwatch-agent v1.300070.0, the chart's image) exports that pipeline's
 *   spans to X-Ray; CloudWatchAgentServerPolicy allows `xray:PutTraceSegments`.
 *
 * Why the egress rule names pods: the VPC CNI network policy agent sees a packet before kube-proxy
 * rewrites a ClusterIP, and aws/amazon-network-policy-controller-k8s
 * (`pkg/resolvers/endpoints.go`, `getMatchingServiceClusterIPs`) adds a Service's ClusterIP to an
 * egress rule only for a pod-selector peer whose labels the Service's selector contains; an
 * `ipBlock` of the node subnets would never match the ClusterIP and the spans would be dropped.
 */
export function agentOtlpEndpoint(addonVersion: string, configurationValues: unknown): AgentOtlpEndpoint | undefined {
    addonChartVersion(addonVersion);
    if (get(configurationValues, "applicationSignals", "enabled") === false) return undefined;
    const custom = get(configurationValues, "agent", "config");
    if (
        custom !== undefined &&
        custom !== "default" &&
        get(custom, "traces", "traces_collected", "application_signals") === undefined
    )
        return undefined;
    const renamed = [["agent", "name"], ["agents"], ["applicationSignals", "targetAgent"]].filter(
        (path) => get(configurationValues, ...path) !== undefined,
    );
    if (renamed.length > 0)
        throw new Error(
            `amazon-cloudwatch-observability configuration sets ${renamed.map((p) => p.join(".")).join(", ")}: ` +
                `the OTLP endpoint is known only for the chart's default agent "${DEFAULT_AGENT.name}"`,
        );
    const { namespace, name } = DEFAULT_AGENT;
    const port = 4316;
    return {
        url: `http://${name}.${namespace}:${port}`,
        port,
        namespace,
        podLabels: {
            "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            "app.kubernetes.io/instance": `${namespace}.${name}`,
        },
    };
}

/** The groups the pinned add-on writes with this program's configuration: the ones to pre-create. */
export const CONTAINER_INSIGHTS_WRITTEN_STREAMS = containerInsightsStreams(
    CLOUDWATCH_OBSERVABILITY_ADDON_VERSION,
    CONTAINER_INSIGHTS_CONFIGURATION,
);

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
    /**
     * The Container Insights groups to create: exactly the ones the agent writes, so that none
     * stays empty and none is created by the agent without retention.
     * @default CONTAINER_INSIGHTS_WRITTEN_STREAMS (what the pinned add-on writes)
     */
    readonly containerInsightsStreams?: readonly ContainerInsightsStream[];
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
            accountAdministersKey(partition, accountId),
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
    /** The Container Insights streams whose groups exist, in `containerInsights` order. */
    readonly containerInsightsStreams: readonly ContainerInsightsStream[];
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
        this.containerInsightsStreams = [...(args.containerInsightsStreams ?? CONTAINER_INSIGHTS_WRITTEN_STREAMS)];
        this.containerInsights = this.containerInsightsStreams.map((stream) =>
            group(`ci-${stream}`, containerInsightsLogGroupName(args.clusterName, stream)),
        );
        this.names = pulumi.all([this.controlPlane, ...this.containerInsights].map((g) => g.name));
        this.registerOutputs({ names: this.names });
    }
}

export interface ContainerInsightsAgentArgs {
    /** The cluster the add-on is installed in. */
    readonly clusterName: pulumi.Input<string>;
    /**
     * EKS Pod Identity for the agent's role: the add-on supports it from v3.1.0 and AWS recommends it
     * over IRSA (CloudWatch user guide, "Quick start with the Amazon CloudWatch Observability EKS
     * add-on"). The add-on waits for the Pod Identity agent, which its pods need at creation.
     */
    readonly identity: PodIdentityContext;
    /** The groups the agent writes to; they must exist first or the agent creates them unmanaged. */
    readonly logGroups: ClusterLogGroups;
    /**
     * The add-on version; which groups it writes depends on it (see `containerInsightsStreams`).
     * @default CLOUDWATCH_OBSERVABILITY_ADDON_VERSION, the version pinned with the other add-ons
     */
    readonly addonVersion?: string;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/** Namespace and service account the add-on runs its CloudWatch agent and Fluent Bit under. */
export const CLOUDWATCH_AGENT_SERVICE_ACCOUNT = { namespace: "amazon-cloudwatch", name: "cloudwatch-agent" } as const;

/**
 * The agent that writes container logs and metrics to the Container Insights log groups:
 * the `amazon-cloudwatch-observability` EKS add-on (CloudWatch agent + Fluent Bit), running under
 * its own Pod Identity role with CloudWatchAgentServerPolicy, not the node role.
 */
export class ContainerInsightsAgent extends pulumi.ComponentResource {
    readonly role: aws.iam.Role;
    readonly addon: aws.eks.Addon;
    /** The agent's OTLP receiver for workloads' traces (`agentOtlpEndpoint`); undefined when off. */
    readonly otlp?: AgentOtlpEndpoint;

    constructor(name: string, args: ContainerInsightsAgentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:logging:ContainerInsightsAgent", name, {}, opts);
        // Every pre-created group needs a writer, and every group the agent writes needs to be
        // pre-created (or the agent creates it with no retention and no key).
        const addonVersion = args.addonVersion ?? CLOUDWATCH_OBSERVABILITY_ADDON_VERSION;
        const written = containerInsightsStreams(addonVersion, CONTAINER_INSIGHTS_CONFIGURATION);
        const created = args.logGroups.containerInsightsStreams;
        const unwritten = created.filter((s) => !written.includes(s));
        const unmanaged = written.filter((s) => !created.includes(s));
        if (unwritten.length > 0 || unmanaged.length > 0)
            throw new Error(
                `${name}: add-on ${addonVersion} writes the Container Insights groups ${written.join(", ")}; ` +
                    [
                        unwritten.length > 0 ? `nothing writes the pre-created ${unwritten.join(", ")}` : "",
                        unmanaged.length > 0 ? `${unmanaged.join(", ")} would be created by the agent, unmanaged` : "",
                    ]
                        .filter(Boolean)
                        .join("; "),
            );
        this.otlp = agentOtlpEndpoint(addonVersion, CONTAINER_INSIGHTS_CONFIGURATION);
        const sa = CLOUDWATCH_AGENT_SERVICE_ACCOUNT;
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `Pod Identity role of ${sa.namespace}/${sa.name} (amazon-cloudwatch-observability)`,
                assumeRolePolicy: pulumi
                    .output(args.identity.clusterName)
                    .apply((cluster) => JSON.stringify(podIdentityTrustPolicy(cluster, sa.namespace, sa.name))),
                tags: args.tags,
            },
            { parent: this },
        );
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
                addonVersion,
                // The add-on creates the association for its service account itself.
                podIdentityAssociations: [{ roleArn: this.role.arn, serviceAccount: sa.name }],
                configurationValues: JSON.stringify(CONTAINER_INSIGHTS_CONFIGURATION),
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "OVERWRITE",
                tags: args.tags,
            },
            {
                parent: this,
                dependsOn: [attachment, args.logGroups, ...(args.identity.agent ? [args.identity.agent] : [])],
            },
        );
        this.registerOutputs({ roleArn: this.role.arn });
    }
}
