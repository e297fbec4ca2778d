/**
 * The pure Kubernetes side of the Karpenter add-on: the pins, the Helm values, and the NodePool
 * and EC2NodeClass specs (the AWS side is karpenter-aws.ts). No resources here; karpenter.ts turns
 * these into resources and the tests check them table-driven.
 *
 * Upstream read at aws/karpenter-provider-aws v1.14.1: charts/karpenter/values.yaml,
 * charts/karpenter/templates/deployment.yaml, charts/karpenter-crd/templates/*,
 * website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml and
 * its scripts/, and the v1.14 upgrading guide
 * (aws/karpenter-provider-aws:website/content/en/v1.14/upgrading/compatibility.md,
 * aws/karpenter-provider-aws:website/content/en/v1.14/upgrading/upgrade-guide.md).
 */
import type * as pulumi from "@pulumi/pulumi";
import { NODE_METADATA_OPTIONS, nodeBlockDevices } from "../cluster-spec";
import { ChartPin } from "./helm-addon";

/** The tag Karpenter finds its subnets and security group by (EC2NodeClass selector terms). */
export const KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery";

/**
 * Karpenter and its CRD chart move together: CRDs are coupled to the controller version (upgrade
 * guide, "CRD Upgrades"). The CRDs come from the separate `karpenter-crd` chart, whose CRDs are
 * templates and so upgrade with the release; the `karpenter` chart's own `crds/` folder is
 * installed once and never upgraded by Helm (karpenter-provider-aws#6778, #7420), so its release skips it.
 */
export const KARPENTER = {
    // renovate: datasource=docker depName=public.ecr.aws/karpenter/karpenter
    version: "1.14.1",
    /**
     * The oldest Karpenter that supports each Kubernetes version (the compatibility matrix of the v1.14 docs).
     * A Kubernetes bump without a row here fails the tests.
     */
    minimumForKubernetes: { "1.34": "1.6.0", "1.35": "1.9.0", "1.36": "1.13.0" } as Readonly<Record<string, string>>,
} as const;

export const KARPENTER_CHARTS = {
    crds: { chart: "oci://public.ecr.aws/karpenter/karpenter-crd", version: KARPENTER.version } satisfies ChartPin,
    controller: { chart: "oci://public.ecr.aws/karpenter/karpenter", version: KARPENTER.version } satisfies ChartPin,
} as const;

/**
 * kube-system, as upstream installs it: the chart's pods are `system-cluster-critical`, a priority
 * class the API server admits outside kube-system only under a ResourceQuota that allows it. kube-system
 * is not Pod Security labelled; the controller passes "restricted" anyway (deployment.yaml at v1.14.1:
 * runAsNonRoot, UID 65532, drop ALL, no privilege escalation, read-only root; seccomp RuntimeDefault
 * on the pod, set explicitly in the values).
 */
export const KARPENTER_NAMES = {
    namespace: "kube-system",
    crdRelease: "karpenter-crd",
    release: "karpenter",
    serviceAccount: "karpenter",
} as const;

const semver = (v: string) => v.split(".").map(Number);
/** Whether Karpenter `version` supports Kubernetes `kubernetes` (`undefined`: no row for that version). */
export function karpenterSupports(kubernetes: string, version: string = KARPENTER.version): boolean | undefined {
    const min = KARPENTER.minimumForKubernetes[kubernetes];
    if (min === undefined) return undefined;
    const [a, b] = [semver(version), semver(min)];
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return true;
}

// ---- Helm values ------------------------------------------------------------------------------------

/**
 * Inputs of the values and the EC2NodeClass spec may be Outputs (the queue's and the role's
 * autonames): nested in the object, so the rest stays known in a preview.
 */
export interface KarpenterValuesArgs {
    readonly clusterName: pulumi.Input<string>;
    readonly queueName: pulumi.Input<string>;
    /** Set explicitly: without AWS_REGION the controller asks IMDS (pkg/operator/operator.go at v1.14.1). */
    readonly region: pulumi.Input<string>;
    readonly replicas: number;
    /** Labels of the managed system nodes; the controller is required to run there. */
    readonly systemNodeLabels: Readonly<Record<string, string>>;
    readonly resources: ControllerResources;
}

export interface ControllerResources {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly memory: string };
}

/**
 * A controller that fits next to the other add-ons on two small system nodes. Upstream's guide sets
 * 1 CPU / 1 GiB, sized for large clusters; the memory limit also sets the controller's GOMEMLIMIT
 * (MEMORY_LIMIT from limits.memory, deployment.yaml).
 */
export const KARPENTER_CONTROLLER_RESOURCES: ControllerResources = {
    requests: { cpu: "200m", memory: "512Mi" },
    limits: { memory: "1Gi" },
};

/**
 * Helm values (chart 1.14.1 values.yaml).
 * - settings.clusterName is required by the chart; interruptionQueue turns interruption handling on.
 * - The controller never runs on capacity it manages: the chart's `karpenter.sh/nodepool
 *   DoesNotExist` term is kept and ANDed with the system nodes' labels (one nodeSelectorTerm: terms
 *   are ORed, expressions within a term ANDed). With required host anti-affinity (the chart's
 *   default, restated because `affinity` is replaced as a whole) two replicas need two system nodes.
 * - podSecurityContext restates the chart's default and adds runAsNonRoot, so a chart default
 *   change cannot drop the pod below "restricted".
 */
export function karpenterValues(a: KarpenterValuesArgs): Record<string, unknown> {
    return {
        replicas: a.replicas,
        serviceAccount: { create: true, name: KARPENTER_NAMES.serviceAccount },
        settings: { clusterName: a.clusterName, interruptionQueue: a.queueName },
        controller: { resources: a.resources, env: [{ name: "AWS_REGION", value: a.region }] },
        podSecurityContext: { fsGroup: 65532, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                        {
                            matchExpressions: [
                                { key: "karpenter.sh/nodepool", operator: "DoesNotExist" },
                                ...Object.entries(a.systemNodeLabels).map(([key, value]) => ({
                                    key,
                                    operator: "In",
                                    values: [value],
                                })),
                            ],
                        },
                    ],
                },
            },
            podAntiAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname" }],
            },
        },
        podDisruptionBudget: { name: "karpenter", maxUnavailable: 1 },
    };
}

// ---- NodePool and EC2NodeClass ------------------------------------------------------------------------

export type CapacityType = "spot" | "on-demand";
export type Architecture = "amd64" | "arm64";
export type DisruptionReason = "Underutilized" | "Empty" | "Drifted";

export interface DisruptionBudget {
    /** Nodes (count or percentage) that may be disrupted at once. */
    readonly nodes: string;
    /** The disruption methods the budget applies to. @default all */
    readonly reasons?: readonly DisruptionReason[];
    /** Cron schedule when the budget is active, with `duration`. @default always */
    readonly schedule?: string;
    readonly duration?: string;
}

export interface NodePoolSettings {
    /** Capacity types Karpenter may buy; on-demand only in production. */
    readonly capacityTypes: readonly CapacityType[];
    /** EC2 instance categories (`c`, `m`, `r`, ...). */
    readonly instanceCategories: readonly string[];
    /** Narrower: EC2 instance families (`m7i`, `c7g`, ...). @default any family of the categories */
    readonly instanceFamilies?: readonly string[];
    /** Instance generations above this one only. @default 5 */
    readonly minGenerationExclusive?: number;
    /** @default ["amd64"] */
    readonly architectures?: readonly Architecture[];
    /** Ceiling of the pool: total vCPUs and memory of its nodes (Kubernetes quantities). */
    readonly limits: { readonly cpu: number; readonly memory: string };
    /** Node lifetime before replacement (Go duration, e.g. `720h`). */
    readonly expireAfter: string;
    /** How long a node stays empty or underutilized before consolidation (e.g. `5m`). */
    readonly consolidateAfter: string;
    /** @default "WhenEmptyOrUnderutilized" */
    readonly consolidationPolicy?: "WhenEmpty" | "WhenEmptyOrUnderutilized" | "Balanced";
    /** @default [{ nodes: "10%" }] */
    readonly disruptionBudgets?: readonly DisruptionBudget[];
    /**
     * Longest a node may drain before it is forced (so a PDB that never allows an eviction cannot
     * keep an expired node forever). @default "24h"
     */
    readonly terminationGracePeriod?: string;
}

/** The NodePool CRD's patterns (karpenter.sh_nodepools.yaml); the stack config validates with them too. */
export const NODEPOOL_PATTERNS = {
    duration: /^([0-9]+(s|m|h))+$/,
    budgetDuration: /^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$/,
    budgetNodes: /^((100|[0-9]{1,2})%|[0-9]+)$/,
    memory: /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/,
    category: /^[a-z]+$/,
    family: /^[a-z][a-z0-9-]*$/,
} as const;
const {
    duration: DURATION,
    budgetDuration: BUDGET_DURATION,
    budgetNodes: BUDGET_NODES,
    memory: MEMORY,
    category: CATEGORY,
    family: FAMILY,
} = NODEPOOL_PATTERNS;

/** Why `s` would be rejected by the NodePool CRD (patterns from karpenter.sh_nodepools.yaml) or is unusable. */
export function nodePoolProblems(s: NodePoolSettings): string[] {
    const p: string[] = [];
    const types: readonly string[] = ["spot", "on-demand"];
    if (s.capacityTypes.length === 0) p.push("capacityTypes is empty; allowed: spot, on-demand");
    for (const t of s.capacityTypes)
        if (!types.includes(t)) p.push(`capacityTypes has ${JSON.stringify(t)}; allowed: spot, on-demand`);
    if (s.instanceCategories.length === 0) p.push("instanceCategories is empty");
    for (const c of s.instanceCategories)
        if (!CATEGORY.test(c))
            p.push(`instanceCategories has ${JSON.stringify(c)}; expected lowercase letters (c, m, r)`);
    for (const f of s.instanceFamilies ?? [])
        if (!FAMILY.test(f)) p.push(`instanceFamilies has ${JSON.stringify(f)}; expected a family such as m7i`);
    if (!Number.isInteger(s.limits.cpu) || s.limits.cpu < 1)
        p.push(`limits.cpu must be a whole number of vCPUs >= 1; got ${JSON.stringify(s.limits.cpu)}`);
    if (!MEMORY.test(s.limits.memory))
        p.push(`limits.memory must be a Kubernetes quantity such as 256Gi; got ${JSON.stringify(s.limits.memory)}`);
    if (!DURATION.test(s.expireAfter))
        p.push(
            `expireAfter must be a duration such as 720h (never "Never": nodes must be replaced to pick up new AMIs); got ${JSON.stringify(s.expireAfter)}`,
        );
    if (!DURATION.test(s.consolidateAfter) && s.consolidateAfter !== "Never")
        p.push(`consolidateAfter must be a duration such as 5m, or Never; got ${JSON.stringify(s.consolidateAfter)}`);
    const grace = s.terminationGracePeriod;
    if (grace !== undefined && !DURATION.test(grace))
        p.push(`terminationGracePeriod must be a duration such as 24h; got ${JSON.stringify(grace)}`);
    const budgets = s.disruptionBudgets;
    if (budgets !== undefined && budgets.length === 0)
        p.push("disruptionBudgets is empty; give at least one (e.g. { nodes: '10%' })");
    (budgets ?? []).forEach((b, i) => {
        if (!BUDGET_NODES.test(b.nodes))
            p.push(
                `disruptionBudgets[${i}].nodes must be a count or a percentage such as 10%; got ${JSON.stringify(b.nodes)}`,
            );
        if ((b.schedule === undefined) !== (b.duration === undefined))
            p.push(`disruptionBudgets[${i}] must set schedule and duration together`);
        if (b.duration !== undefined && !BUDGET_DURATION.test(b.duration))
            p.push(
                `disruptionBudgets[${i}].duration must be hours and minutes such as 8h; got ${JSON.stringify(b.duration)}`,
            );
    });
    return p;
}

export interface NodePoolSpecArgs extends NodePoolSettings {
    /** metadata.name of the EC2NodeClass the pool launches from. */
    readonly nodeClassName: string;
}

/** The NodePool spec (karpenter.sh/v1). */
export function nodePoolSpec(a: NodePoolSpecArgs): Record<string, unknown> {
    const requirement = (key: string, operator: string, values: readonly string[]) => ({
        key,
        operator,
        values: [...values],
    });
    return {
        template: {
            spec: {
                nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: a.nodeClassName },
                requirements: [
                    requirement("karpenter.sh/capacity-type", "In", a.capacityTypes),
                    requirement("kubernetes.io/os", "In", ["linux"]),
                    requirement("kubernetes.io/arch", "In", a.architectures ?? ["amd64"]),
                    requirement("karpenter.k8s.aws/instance-category", "In", a.instanceCategories),
                    ...(a.instanceFamilies && a.instanceFamilies.length > 0
                        ? [requirement("karpenter.k8s.aws/instance-family", "In", a.instanceFamilies)]
                        : []),
                    requirement("karpenter.k8s.aws/instance-generation", "Gt", [`${a.minGenerationExclusive ?? 5}`]),
                ],
                expireAfter: a.expireAfter,
                terminationGracePeriod: a.terminationGracePeriod ?? "24h",
            },
        },
        limits: { cpu: `${a.limits.cpu}`, memory: a.limits.memory },
        disruption: {
            consolidationPolicy: a.consolidationPolicy ?? "WhenEmptyOrUnderutilized",
            consolidateAfter: a.consolidateAfter,
            budgets: (a.disruptionBudgets ?? [{ nodes: "10%" }]).map((b) => ({
                nodes: b.nodes,
                ...(b.reasons ? { reasons: [...b.reasons] } : {}),
                ...(b.schedule !== undefined ? { schedule: b.schedule, duration: b.duration } : {}),
            })),
        },
    };
}

/** Tag keys the EC2NodeClass CRD rejects in spec.tags (Karpenter sets them itself). */
const RESERVED_TAG = (k: string) =>
    k === "" ||
    k === "eks:eks-cluster-name" ||
    k.startsWith("kubernetes.io/cluster") ||
    ["karpenter.sh/nodepool", "karpenter.sh/nodeclaim", "karpenter.k8s.aws/ec2nodeclass"].includes(k);

export interface NodeClassSpecArgs {
    /** Name (not ARN) of the nodes' IAM role; Karpenter creates and deletes its instance profile. */
    readonly nodeRoleName: pulumi.Input<string>;
    /** Value of the discovery tag on the subnets and the security group. */
    readonly discoveryValue: pulumi.Input<string>;
    /** Release of the EKS-optimized AL2023 AMI (awslabs/amazon-eks-ami tag, `v<yyyymmdd>`). */
    readonly amiRelease: string;
    readonly diskSizeGiB: number;
    /** @default the account's `aws/ebs` key */
    readonly volumeKmsKeyArn?: string;
    /** @default {} */
    readonly tags?: Readonly<Record<string, string>>;
}

/** Why the EC2NodeClass for `a` would be rejected or unpinned. */
export function nodeClassProblems(a: NodeClassSpecArgs): string[] {
    const p: string[] = [];
    if (!/^v\d{8}$/.test(a.amiRelease))
        p.push(
            `amiRelease must be an amazon-eks-ami release such as v20260714 (never latest); got ${JSON.stringify(a.amiRelease)}`,
        );
    if (!Number.isInteger(a.diskSizeGiB) || a.diskSizeGiB < 20 || a.diskSizeGiB > 16384)
        p.push(`diskSizeGiB must be a whole number from 20 to 16384; got ${JSON.stringify(a.diskSizeGiB)}`);
    const reserved = Object.keys(a.tags ?? {}).filter(RESERVED_TAG);
    if (reserved.length > 0)
        p.push(
            `tags ${reserved.map((k) => JSON.stringify(k)).join(", ")} are set by Karpenter itself and rejected by the EC2NodeClass`,
        );
    return p;
}

/**
 * The EC2NodeClass spec (karpenter.k8s.aws/v1): the AL2023 AMI of one release (an alias without a
 * version, or `@latest`, would roll every node to each new AMI as it appears), subnets and security
 * group found by the discovery tag, the same encrypted gp3 root volume and IMDS options as the
 * managed nodes (cluster-spec.ts), and `role`, so Karpenter manages the instance profile.
 */
export function nodeClassSpec(a: NodeClassSpecArgs): Record<string, unknown> {
    const discovery = () => [{ tags: { [KARPENTER_DISCOVERY_TAG]: a.discoveryValue } }];
    return {
        role: a.nodeRoleName,
        amiSelectorTerms: [{ alias: `al2023@${a.amiRelease}` }],
        subnetSelectorTerms: discovery(),
        securityGroupSelectorTerms: discovery(),
        blockDeviceMappings: nodeBlockDevices("AL2023_x86_64_STANDARD", a.diskSizeGiB, a.volumeKmsKeyArn).map((d) => ({
            deviceName: d.deviceName,
            rootVolume: true,
            ebs: {
                volumeSize: `${a.diskSizeGiB}Gi`,
                volumeType: d.ebs.volumeType,
                encrypted: true,
                deleteOnTermination: true,
                ...(d.ebs.kmsKeyId ? { kmsKeyID: d.ebs.kmsKeyId } : {}),
            },
        })),
        metadataOptions: { ...NODE_METADATA_OPTIONS, httpProtocolIPv6: "disabled" },
        ...(a.tags && Object.keys(a.tags).length > 0 ? { tags: { ...a.tags } } : {}),
    };
}
