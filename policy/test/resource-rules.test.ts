/**
 * Every resource rule, table-driven: each compliant fixture (fixtures.ts) passes every rule that
 * applies to it, and each failing case changes one field of a compliant fixture (the case first
 * re-checks that the unchanged fixture passes, so the change is what makes it fail). A coverage
 * test keeps the table honest: every rule has a failing case for every fixture type it applies to,
 * so both the mock view (component inputs) and the live view (real children) are exercised.
 */
import * as assert from "node:assert/strict";
import type { PolicyProviderResource } from "@pulumi/policy";
import type { GuardrailResourcePolicy } from "../lib/rule";
import { allPolicies } from "../policies";
import * as eks from "../rules/aws-eks";
import * as deploy from "../rules/aws-eks-deploy";
import * as edge from "../rules/edge";
import * as secrets from "../rules/secrets";
import * as ecr from "../rules/aws-ecr";
import * as iam from "../rules/aws-iam";
import * as kms from "../rules/aws-kms";
import * as logs from "../rules/aws-logs";
import * as nodes from "../rules/aws-nodes";
import * as cni from "../rules/aws-vpc-cni";
import * as sns from "../rules/aws-sns";
import * as helm from "../rules/k8s-helm";
import * as objects from "../rules/k8s-objects";
import * as wl from "../rules/k8s-workload";
import * as karpenter from "../rules/karpenter";
import {
    FIXTURES,
    IMAGE,
    ISSUER_HOST,
    OIDC_ARN,
    ZONE_ID,
    externalDnsRelease,
    irsaTrust,
    podIdentityTrust,
} from "./fixtures";
import { K8S_PROVIDER, runResourceRule } from "./helpers";
import { del, get, set } from "./paths";

type Props = Record<string, unknown>;

interface Case {
    readonly type: string;
    readonly why: string;
    /** Changes one field of the compliant fixture (for a pass case: makes a different compliant variant). */
    readonly mutate?: (p: Props) => void;
    /** The fixture to start from when `type` has none of its own (e.g. HPA autoscaling/v1). */
    readonly fixtureType?: string;
    readonly config?: object;
    readonly provider?: PolicyProviderResource;
    /** A part of the expected message. */
    readonly expect?: RegExp;
}

interface RuleTable {
    readonly rule: GuardrailResourcePolicy;
    readonly fail: readonly Case[];
    /** Extra compliant variants, beyond "every compliant fixture passes". */
    readonly pass?: readonly Case[];
}

const EKS = "eks:index:Cluster";
const CLUSTER = "aws:eks/cluster:Cluster";
const MNG = "eks:index:ManagedNodeGroup";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const VPC = "awsx:ec2:Vpc";
const ADDON = "aws:eks/addon:Addon";
const REPO = "aws:ecr/repository:Repository";
const LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy";

/** Edits one rule's selection of a lifecycle policy fixture (`undefined` removes a field). */
function setRule(p: Props, index: number, selection: Record<string, unknown>): void {
    const doc = JSON.parse(p.policy as string) as { rules: { selection: Record<string, unknown> }[] };
    doc.rules[index].selection = { ...doc.rules[index].selection, ...selection };
    p.policy = JSON.stringify(doc);
}
/** Makes the add-on fixture amazon-cloudwatch-observability with `values` as its configuration. */
function cloudwatchAddon(p: Props, values: unknown): void {
    set(p, "addonName", "amazon-cloudwatch-observability");
    set(p, "addonVersion", "v6.4.0-eksbuild.1");
    if (values === undefined) del(p, "configurationValues");
    else set(p, "configurationValues", JSON.stringify(values));
}
const LOGS = "aws:cloudwatch/logGroup:LogGroup";
const ROLE = "aws:iam/role:Role";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CHART = "kubernetes:helm.sh/v4:Chart";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";

const FIXTURE_TYPES = Object.keys(FIXTURES);

function fixture(type: string): Props {
    const f = FIXTURES[type];
    if (!f) throw new Error(`no fixture for ${type}`);
    return f();
}

/** Where each pod-template type keeps its pod spec. */
const POD_SPEC: Readonly<Record<string, string>> = {
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
    "kubernetes:core/v1:Pod": "spec",
};

/** One case per pod-template type the rule reads, mutating the pod spec. */
function podCases(
    rule: GuardrailResourcePolicy,
    why: string,
    mutate: (pod: Props) => void,
    expect?: RegExp,
    config?: object,
): Case[] {
    return rule.resourceTypes
        .filter((t) => POD_SPEC[t])
        .map((type) => ({ type, why, expect, config, mutate: (p: Props) => mutate(get(p, POD_SPEC[type]) as Props) }));
}

/** The same mutation of the first container, for every pod-template type the rule reads. */
const containerCases = (
    rule: GuardrailResourcePolicy,
    why: string,
    mutate: (c: Props, pod: Props) => void,
    expect?: RegExp,
    config?: object,
) => podCases(rule, why, (pod) => mutate((pod.containers as Props[])[0], pod), expect, config);

function forTypes(
    types: readonly string[],
    why: string,
    mutate: (p: Props) => void,
    extra: Partial<Case> = {},
): Case[] {
    return types.map((type) => ({ type, why, mutate, ...extra }));
}

const KUBERNETES_FIXTURE_TYPES = FIXTURE_TYPES.filter((t) => t.startsWith("kubernetes:"));
const NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";
const QUEUE = "aws:sqs/queue:Queue";
const NAMESPACED = KUBERNETES_FIXTURE_TYPES.filter(
    (t) =>
        ![
            "kubernetes:core/v1:Namespace",
            "kubernetes:cert-manager.io/v1:ClusterIssuer",
            NODE_CLASS,
            NODE_POOL,
        ].includes(t),
);

const policyDoc = (statement: object) => JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

const TABLE: readonly RuleTable[] = [
    // ---- EKS ----
    {
        rule: eks.eksControlPlaneAuditLogging,
        fail: [
            ...forTypes(
                [EKS, CLUSTER],
                "audit log missing",
                (p) => set(p, "enabledClusterLogTypes", ["api", "authenticator"]),
                { expect: /audit/ },
            ),
            { type: EKS, why: "no log types", mutate: (p) => del(p, "enabledClusterLogTypes") },
        ],
        pass: forTypes([EKS, CLUSTER], "the dev set", (p) =>
            set(p, "enabledClusterLogTypes", ["api", "audit", "authenticator"]),
        ),
    },
    {
        rule: eks.eksControlPlaneAllLogTypes,
        fail: forTypes(
            [EKS, CLUSTER],
            "only the dev set",
            (p) => set(p, "enabledClusterLogTypes", ["api", "audit", "authenticator"]),
            {
                expect: /controllerManager, scheduler/,
            },
        ),
    },
    {
        rule: eks.eksSecretsEncryption,
        fail: [
            { type: EKS, why: "no key", mutate: (p) => del(p, "encryptionConfigKeyArn") },
            { type: CLUSTER, why: "secrets not covered", mutate: (p) => set(p, "encryptionConfig.resources", []) },
            { type: CLUSTER, why: "no key ARN", mutate: (p) => del(p, "encryptionConfig.provider.keyArn") },
        ],
    },
    {
        rule: eks.eksAuthenticationModeApi,
        fail: [
            { type: EKS, why: "API_AND_CONFIG_MAP", mutate: (p) => set(p, "authenticationMode", "API_AND_CONFIG_MAP") },
            { type: EKS, why: "unset (CONFIG_MAP)", mutate: (p) => del(p, "authenticationMode"), expect: /CONFIG_MAP/ },
            {
                type: CLUSTER,
                why: "CONFIG_MAP",
                mutate: (p) => set(p, "accessConfig.authenticationMode", "CONFIG_MAP"),
            },
        ],
    },
    {
        rule: eks.eksEndpointRestricted,
        fail: [
            {
                type: EKS,
                why: "open to the world",
                mutate: (p) => set(p, "publicAccessCidrs", ["0.0.0.0/0"]),
                expect: /0\.0\.0\.0\/0/,
            },
            { type: EKS, why: "public without CIDRs", mutate: (p) => del(p, "publicAccessCidrs") },
            {
                type: CLUSTER,
                why: "open to the world",
                mutate: (p) => set(p, "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"]),
            },
            {
                type: CLUSTER,
                why: "public endpoint defaulted on without CIDRs",
                mutate: (p) => {
                    del(p, "vpcConfig.endpointPublicAccess");
                    del(p, "vpcConfig.publicAccessCidrs");
                },
            },
            {
                type: EKS,
                why: "CIDR outside allowedEndpointCidrs",
                config: { allowedEndpointCidrs: ["198.51.100.0/24"] },
                expect: /outside/,
            },
        ],
        pass: [
            {
                type: EKS,
                why: "private only",
                mutate: (p) => {
                    set(p, "endpointPublicAccess", false);
                    del(p, "publicAccessCidrs");
                },
            },
            { type: CLUSTER, why: "private only", mutate: (p) => set(p, "vpcConfig.endpointPublicAccess", false) },
            { type: EKS, why: "CIDR inside allowedEndpointCidrs", config: { allowedEndpointCidrs: ["203.0.0.0/16"] } },
        ],
    },
    {
        rule: eks.eksDeletionProtection,
        fail: [
            ...forTypes([EKS, CLUSTER], "off", (p) => set(p, "deletionProtection", false)),
            { type: EKS, why: "unset", mutate: (p) => del(p, "deletionProtection") },
        ],
    },
    {
        rule: eks.eksUpgradePolicyExplicit,
        fail: forTypes([EKS, CLUSTER], "unset (EXTENDED by default)", (p) => del(p, "upgradePolicy")),
        pass: forTypes([EKS], "EXTENDED on purpose", (p) => set(p, "upgradePolicy.supportType", "EXTENDED")),
    },
    {
        rule: eks.eksVpcCniNetworkPolicy,
        fail: [
            { type: EKS, why: "network policy off", mutate: (p) => set(p, "vpcCniOptions.enableNetworkPolicy", false) },
            { type: EKS, why: "vpcCniOptions unset", mutate: (p) => del(p, "vpcCniOptions") },
            {
                type: EKS,
                why: "default VPC CNI (no add-on config)",
                mutate: (p) => set(p, "useDefaultVpcCni", true),
                expect: /useDefaultVpcCni/,
            },
            {
                type: "eks:index:VpcCniAddon",
                why: "network policy off",
                mutate: (p) => set(p, "enableNetworkPolicy", false),
            },
            {
                type: ADDON,
                why: '"false"',
                mutate: (p) => set(p, "configurationValues", '{"enableNetworkPolicy":"false"}'),
            },
            {
                type: ADDON,
                why: "boolean instead of the string the schema wants",
                mutate: (p) => set(p, "configurationValues", '{"enableNetworkPolicy":true}'),
            },
            { type: ADDON, why: "no configuration", mutate: (p) => del(p, "configurationValues") },
            {
                type: ADDON,
                why: "not JSON",
                mutate: (p) => set(p, "configurationValues", "enableNetworkPolicy=true"),
                expect: /not JSON/,
            },
        ],
        pass: [
            {
                type: ADDON,
                why: "another add-on",
                mutate: (p) => {
                    set(p, "addonName", "coredns");
                    del(p, "configurationValues");
                },
            },
        ],
    },
    {
        rule: cni.eksVpcCniProbesWithPodEni,
        fail: [
            {
                type: EKS,
                why: "pod ENI without disabling TCP early demux",
                mutate: (p) => set(p, "vpcCniOptions.enablePodEni", true),
                expect: /DISABLE_TCP_EARLY_DEMUX is \(not set\)/,
            },
            {
                type: EKS,
                why: "early demux re-enabled in configurationValues (they win over the options)",
                mutate: (p) => {
                    set(p, "vpcCniOptions.enablePodEni", true);
                    set(p, "vpcCniOptions.disableTcpEarlyDemux", true);
                    set(p, "vpcCniOptions.configurationValues", {
                        init: { env: { DISABLE_TCP_EARLY_DEMUX: "false" } },
                    });
                },
                expect: /DISABLE_TCP_EARLY_DEMUX is false/,
            },
            {
                type: "eks:index:VpcCniAddon",
                why: "pod ENI without disabling TCP early demux",
                mutate: (p) => set(p, "enablePodEni", true),
            },
            {
                type: ADDON,
                why: "ENABLE_POD_ENI in the add-on configuration only",
                mutate: (p) =>
                    set(
                        p,
                        "configurationValues",
                        JSON.stringify({ enableNetworkPolicy: "true", env: { ENABLE_POD_ENI: "true" } }),
                    ),
            },
        ],
        pass: [
            {
                type: EKS,
                why: "pod ENI with TCP early demux disabled",
                mutate: (p) => {
                    set(p, "vpcCniOptions.enablePodEni", true);
                    set(p, "vpcCniOptions.disableTcpEarlyDemux", true);
                },
            },
            {
                type: ADDON,
                why: "pod ENI with TCP early demux disabled, as the add-on schema spells it",
                mutate: (p) =>
                    set(
                        p,
                        "configurationValues",
                        JSON.stringify({
                            enableNetworkPolicy: "true",
                            env: { ENABLE_POD_ENI: "true" },
                            init: { env: { DISABLE_TCP_EARLY_DEMUX: "true" } },
                        }),
                    ),
            },
            {
                type: ADDON,
                why: "pod ENI off explicitly",
                mutate: (p) =>
                    set(
                        p,
                        "configurationValues",
                        JSON.stringify({ enableNetworkPolicy: "true", env: { ENABLE_POD_ENI: "false" } }),
                    ),
            },
        ],
    },
    // ---- nodes ----
    // ---- EKS deploy hazards (aws-eks-deploy.ts) ----
    {
        rule: deploy.eksCorednsAfterNodes,
        fail: [
            {
                type: EKS,
                why: "coredns enabled with skipDefaultNodeGroup (the program before the fix)",
                mutate: (p) => set(p, "corednsAddonOptions", { enabled: true }),
                expect: /pulumi-eks#1819/,
            },
            {
                type: EKS,
                why: "configurationValues enable it too",
                mutate: (p) => set(p, "corednsAddonOptions", { configurationValues: { replicaCount: 3 } }),
                expect: /configures/,
            },
        ],
        pass: [
            {
                type: EKS,
                why: "Fargate: the add-on waits for the Fargate profile",
                mutate: (p) => {
                    set(p, "corednsAddonOptions", { enabled: true });
                    set(p, "fargate", true);
                },
            },
            {
                type: EKS,
                why: "the default node group is in the component (another rule forbids it)",
                mutate: (p) => {
                    set(p, "corednsAddonOptions", { enabled: true });
                    set(p, "skipDefaultNodeGroup", false);
                },
            },
        ],
    },
    {
        rule: deploy.cloudwatchObservabilityNoAutoInstrumentation,
        fail: [
            {
                type: ADDON,
                why: "the add-on with only Container Insights settings (monitorAllServices left to the chart: on)",
                mutate: (p) => cloudwatchAddon(p, { containerLogs: { enabled: true } }),
                expect: /monitorAllServices is \(not set\): the operator's webhook then annotates every Deployment/,
            },
            {
                type: ADDON,
                why: "no configuration at all",
                mutate: (p) => cloudwatchAddon(p, undefined),
            },
            {
                type: ADDON,
                why: "auto-monitor explicitly on",
                mutate: (p) =>
                    cloudwatchAddon(p, {
                        manager: { applicationSignals: { autoMonitor: { monitorAllServices: true } } },
                    }),
                expect: /monitorAllServices is true/,
            },
            {
                type: ADDON,
                why: "a custom agent config that keeps Application Signals",
                mutate: (p) =>
                    cloudwatchAddon(p, {
                        agent: { config: { traces: { traces_collected: { application_signals: {} } } } },
                    }),
            },
            {
                type: ADDON,
                why: "not JSON",
                mutate: (p) => {
                    cloudwatchAddon(p, undefined);
                    set(p, "configurationValues", "monitorAllServices=false");
                },
                expect: /not JSON/,
            },
        ],
        pass: [
            {
                type: ADDON,
                why: "auto-monitor off (what the program sets)",
                mutate: (p) =>
                    cloudwatchAddon(p, {
                        containerLogs: { enabled: true },
                        manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } },
                    }),
            },
            {
                type: ADDON,
                why: "Application Signals off (the chart then turns auto-monitor off)",
                mutate: (p) => cloudwatchAddon(p, { applicationSignals: { enabled: false } }),
            },
            {
                type: ADDON,
                why: "a custom agent config without Application Signals",
                mutate: (p) =>
                    cloudwatchAddon(p, { agent: { config: { logs: { metrics_collected: { kubernetes: {} } } } } }),
            },
            { type: ADDON, why: "another add-on (vpc-cni)", mutate: () => undefined },
        ],
    },
    {
        rule: deploy.eksAddonVersionsPinned,
        fail: [
            {
                type: EKS,
                why: "vpc-cni floats",
                mutate: (p) => del(p, "vpcCniOptions.addonVersion"),
                expect: /vpcCniOptions\.addonVersion is not set.*vpc-cni/,
            },
            {
                type: EKS,
                why: "kube-proxy floats (enabled by default)",
                mutate: (p) => del(p, "kubeProxyAddonOptions"),
                expect: /kubeProxyAddonOptions\.version/,
            },
            {
                type: EKS,
                why: "coredns created in the component without a version",
                mutate: (p) => set(p, "corednsAddonOptions", { enabled: true }),
                expect: /corednsAddonOptions\.version/,
            },
            { type: "eks:index:VpcCniAddon", why: "no addonVersion", mutate: (p) => del(p, "addonVersion") },
            {
                type: ADDON,
                why: "no addonVersion",
                mutate: (p) => del(p, "addonVersion"),
                expect: /"vpc-cni" add-on has no addonVersion/,
            },
        ],
        pass: [
            {
                type: EKS,
                why: "kube-proxy disabled, default VPC CNI: nothing to pin",
                mutate: (p) => {
                    set(p, "kubeProxyAddonOptions", { enabled: false });
                    set(p, "useDefaultVpcCni", true);
                    del(p, "vpcCniOptions");
                },
            },
        ],
    },
    {
        rule: deploy.eksKubernetesVersionSupported,
        fail: [
            ...forTypes([EKS, CLUSTER], "1.33, past standard support (the program before the fix)", (p) =>
                set(p, "version", "1.33"),
            ).map((c) => ({ ...c, expect: /left EKS standard support on 2026-07-29 \(125 days before 2026-12-01\)/ })),
            {
                type: EKS,
                why: "1.36 read for a day after its end of standard support",
                config: { eksSupportAsOf: "2027-08-02" },
                expect: /left EKS standard support on 2027-08-02 \(0 days/,
            },
            {
                type: EKS,
                why: "not in the calendar",
                mutate: (p) => set(p, "version", "1.29"),
                expect: /not in the EKS support calendar/,
            },
            { type: CLUSTER, why: "no version at all", mutate: (p) => del(p, "version"), expect: /not pinned/ },
        ],
        pass: [
            { type: EKS, why: "the last day of standard support", config: { eksSupportAsOf: "2027-08-01" } },
            { type: EKS, why: "1.34 with 1 day left is only a warning", mutate: (p) => set(p, "version", "1.34") },
        ],
    },
    {
        rule: deploy.eksKubernetesVersionSupportEnding,
        fail: [
            ...forTypes([EKS, CLUSTER], "1.34, 1 day of standard support left", (p) => set(p, "version", "1.34"), {
                expect: /leaves EKS standard support on 2026-12-02, in 1 day \(/,
            }),
            {
                type: EKS,
                why: "1.36, 90 days before its end",
                config: { eksSupportAsOf: "2027-05-04" },
                expect: /in 90 days/,
            },
        ],
        pass: [
            { type: EKS, why: "91 days before the end", config: { eksSupportAsOf: "2027-05-03" } },
            { type: EKS, why: "already past: the P rule's job", mutate: (p) => set(p, "version", "1.33") },
        ],
    },
    {
        rule: nodes.eksManagedNodeGroupsOnly,
        fail: [
            { type: EKS, why: "default node group", mutate: (p) => set(p, "skipDefaultNodeGroup", false) },
            { type: "eks:index:NodeGroupV2", fixtureType: MNG, why: "self-managed node group" },
            { type: "eks:index:NodeGroup", fixtureType: MNG, why: "self-managed node group" },
        ],
        pass: [
            {
                type: EKS,
                why: "Fargate only",
                mutate: (p) => {
                    del(p, "skipDefaultNodeGroup");
                    set(p, "fargate", true);
                },
            },
        ],
    },
    {
        rule: nodes.eksNodesPrivate,
        fail: [
            // Both fields: nodeAssociatePublicIpAddress only matters when the default node group exists.
            {
                type: EKS,
                why: "public IPs on the default node group",
                mutate: (p) => {
                    set(p, "skipDefaultNodeGroup", false);
                    set(p, "nodeAssociatePublicIpAddress", true);
                },
            },
            {
                type: MNG,
                why: "subnets left to the cluster (public ones included)",
                mutate: (p) => del(p, "subnetIds"),
            },
            {
                type: LT,
                why: "public IP in the launch template",
                mutate: (p) => set(p, "networkInterfaces.0.associatePublicIpAddress", "true"),
            },
        ],
    },
    {
        rule: nodes.eksNodesImdsv2,
        fail: [
            { type: MNG, why: "IMDSv2 not enabled", mutate: (p) => set(p, "enableIMDSv2", false) },
            { type: NODE_GROUP, why: "no launch template", mutate: (p) => del(p, "launchTemplate") },
            { type: LT, why: "httpTokens optional", mutate: (p) => set(p, "metadataOptions.httpTokens", "optional") },
            {
                type: NODE_CLASS,
                why: "httpTokens optional",
                mutate: (p) => set(p, "spec.metadataOptions.httpTokens", "optional"),
                expect: /spec\.metadataOptions\.httpTokens is "optional"/,
            },
        ],
        pass: [
            {
                type: MNG,
                why: "own launch template",
                mutate: (p) => {
                    del(p, "enableIMDSv2");
                    set(p, "launchTemplate", { id: "lt-1", version: "1" });
                },
            },
            {
                type: NODE_CLASS,
                why: "metadataOptions left to the CRD default (httpTokens: required)",
                mutate: (p) => del(p, "spec.metadataOptions"),
            },
        ],
    },
    {
        rule: nodes.eksNodesMultiAz,
        fail: [
            ...forTypes([MNG, NODE_GROUP], "one subnet", (p) => set(p, "subnetIds", ["subnet-priv-a"])),
            { type: VPC, why: "one AZ", mutate: (p) => set(p, "numberOfAvailabilityZones", 1) },
            {
                type: VPC,
                why: "one named AZ",
                mutate: (p) => {
                    del(p, "numberOfAvailabilityZones");
                    set(p, "availabilityZoneNames", ["eu-west-1a"]);
                },
            },
        ],
    },
    {
        rule: nodes.eksNodeGroupMinSize,
        fail: forTypes([MNG, NODE_GROUP], "one node", (p) => set(p, "scalingConfig.minSize", 1)),
    },
    {
        rule: nodes.vpcNatGatewayPerAz,
        fail: [{ type: VPC, why: "a single NAT gateway", mutate: (p) => set(p, "natGateways.strategy", "Single") }],
        pass: [{ type: VPC, why: "awsx default (one per AZ)", mutate: (p) => del(p, "natGateways") }],
    },
    // ---- KMS, ECR, logs ----
    {
        rule: karpenter.karpenterAmiPinned,
        fail: [
            ...["al2023@latest", "al2023", "al2023@v2026", "bottlerocket@latest"].map((alias) => ({
                type: NODE_CLASS,
                why: `alias ${alias}`,
                mutate: (p: Props) => set(p, "spec.amiSelectorTerms", [{ alias }]),
                expect: /alias is .* not pinned to a dated release/,
            })),
            {
                type: NODE_CLASS,
                why: "AMIs by tag follow the newest image",
                mutate: (p) => set(p, "spec.amiSelectorTerms", [{ tags: { "platform/ami": "eks" } }]),
                expect: /selects by tags/,
            },
            {
                type: NODE_CLASS,
                why: "an SSM parameter",
                mutate: (p) => set(p, "spec.amiSelectorTerms", [{ ssmParameter: "/aws/service/eks/x" }]),
                expect: /selects by ssmParameter/,
            },
            { type: NODE_CLASS, why: "no terms", mutate: (p) => set(p, "spec.amiSelectorTerms", []) },
        ],
        pass: [
            {
                type: NODE_CLASS,
                why: "an AMI id",
                mutate: (p) => set(p, "spec.amiSelectorTerms", [{ id: "ami-0123456789abcdef0" }]),
            },
            {
                type: NODE_CLASS,
                why: "Bottlerocket at a release",
                mutate: (p) => set(p, "spec.amiSelectorTerms", [{ alias: "bottlerocket@v20260714" }]),
            },
        ],
    },
    {
        rule: karpenter.karpenterNodePoolLimits,
        fail: [
            {
                type: NODE_POOL,
                why: "no limits",
                mutate: (p) => del(p, "spec.limits"),
                expect: /limits\.cpu is not set/,
            },
            {
                type: NODE_POOL,
                why: "cpu only",
                mutate: (p) => del(p, "spec.limits.memory"),
                expect: /limits\.memory is not set/,
            },
        ],
    },
    {
        rule: karpenter.karpenterNodePoolDisruption,
        fail: [
            {
                type: NODE_POOL,
                why: "no budgets",
                mutate: (p) => del(p, "spec.disruption.budgets"),
                expect: /budgets is not set/,
            },
            {
                type: NODE_POOL,
                why: "expireAfter Never",
                mutate: (p) => set(p, "spec.template.spec.expireAfter", "Never"),
                expect: /never pick up new AMIs/,
            },
            {
                type: NODE_POOL,
                why: "no expireAfter",
                mutate: (p) => del(p, "spec.template.spec.expireAfter"),
                expect: /expireAfter is not set/,
            },
        ],
    },
    {
        rule: karpenter.karpenterNodePoolOnDemand,
        fail: [
            {
                type: NODE_POOL,
                why: "spot allowed",
                mutate: (p) => set(p, "spec.template.spec.requirements.0.values", ["spot", "on-demand"]),
                expect: /allows capacity type\(s\) spot/,
            },
            {
                type: NODE_POOL,
                why: "capacity type unconstrained",
                mutate: (p) => set(p, "spec.template.spec.requirements", []),
                expect: /does not constrain/,
            },
            {
                type: NODE_POOL,
                why: "NotIn on-demand",
                mutate: (p) => set(p, "spec.template.spec.requirements.0.operator", "NotIn"),
            },
        ],
        pass: [
            {
                type: NODE_POOL,
                why: "on-demand and reserved",
                mutate: (p) => set(p, "spec.template.spec.requirements.0.values", ["on-demand", "reserved"]),
            },
            {
                type: NODE_POOL,
                why: "NotIn spot",
                mutate: (p) => {
                    set(p, "spec.template.spec.requirements.0.operator", "NotIn");
                    set(p, "spec.template.spec.requirements.0.values", ["spot"]);
                },
            },
        ],
    },
    {
        rule: karpenter.sqsQueueEncrypted,
        fail: [
            { type: QUEUE, why: "no encryption set", mutate: (p) => del(p, "sqsManagedSseEnabled") },
            { type: QUEUE, why: "SSE off", mutate: (p) => set(p, "sqsManagedSseEnabled", false) },
        ],
        pass: [
            {
                type: QUEUE,
                why: "a KMS key",
                mutate: (p) => {
                    del(p, "sqsManagedSseEnabled");
                    set(p, "kmsMasterKeyId", "alias/aws/sqs");
                },
            },
        ],
    },
    {
        rule: sns.snsTopicEncrypted,
        fail: [
            {
                type: "aws:sns/topic:Topic",
                why: "no key (SNS default is unencrypted)",
                mutate: (p) => del(p, "kmsMasterKeyId"),
            },
            { type: "aws:sns/topic:Topic", why: "empty key", mutate: (p) => set(p, "kmsMasterKeyId", "") },
        ],
    },
    {
        rule: sns.snsTopicPolicyServiceSource,
        fail: [
            {
                type: "aws:sns/topicPolicy:TopicPolicy",
                why: "service principal without SourceArn",
                mutate: (p) => {
                    const doc = JSON.parse(String(p.policy));
                    delete doc.Statement[0].Condition.ArnEquals;
                    p.policy = JSON.stringify(doc);
                },
                expect: /allows aps.amazonaws.com without aws:SourceArn\./,
            },
            {
                type: "aws:sns/topicPolicy:TopicPolicy",
                why: "service principal without any condition",
                mutate: (p) => {
                    const doc = JSON.parse(String(p.policy));
                    delete doc.Statement[0].Condition;
                    p.policy = JSON.stringify(doc);
                },
                expect: /without aws:SourceArn and aws:SourceAccount/,
            },
            {
                type: "aws:sns/topicPolicy:TopicPolicy",
                why: "not JSON",
                mutate: (p) => set(p, "policy", "{"),
                expect: /not JSON/,
            },
        ],
    },
    {
        rule: kms.kmsKeyRotation,
        fail: [
            { type: "aws:kms/key:Key", why: "rotation off", mutate: (p) => set(p, "enableKeyRotation", false) },
            { type: "aws:kms/key:Key", why: "rotation unset", mutate: (p) => del(p, "enableKeyRotation") },
        ],
        pass: [
            {
                type: "aws:kms/key:Key",
                why: "asymmetric key (cannot rotate)",
                mutate: (p) => {
                    del(p, "enableKeyRotation");
                    set(p, "keySpec", "RSA_2048");
                },
            },
        ],
    },
    {
        rule: ecr.ecrLifecycleCountScoped,
        fail: [
            {
                type: LIFECYCLE,
                why: "count over tagStatus any (what the registry had)",
                mutate: (p) => setRule(p, 2, { tagStatus: "any", tagPatternList: undefined }),
                expect: /rule 3 expires images by count with tagStatus any/,
            },
            {
                type: LIFECYCLE,
                why: "count over tagged without a pattern",
                mutate: (p) => setRule(p, 2, { tagPatternList: undefined }),
                expect: /without restricting which tags/,
            },
            {
                type: LIFECYCLE,
                why: "count over tagged with the pattern *",
                mutate: (p) => setRule(p, 2, { tagPatternList: ["*"] }),
                expect: /without restricting which tags/,
            },
        ],
        pass: [
            {
                type: LIFECYCLE,
                why: "a prefix list instead of a pattern",
                mutate: (p) => setRule(p, 2, { tagPatternList: undefined, tagPrefixList: ["sha-"] }),
            },
            {
                type: LIFECYCLE,
                why: "age-based expiry of any image",
                mutate: (p) =>
                    setRule(p, 2, { tagStatus: "any", tagPatternList: undefined, countType: "sinceImagePushed" }),
            },
        ],
    },
    {
        rule: ecr.ecrImmutableTags,
        fail: [
            { type: REPO, why: "MUTABLE", mutate: (p) => set(p, "imageTagMutability", "MUTABLE") },
            { type: REPO, why: "unset", mutate: (p) => del(p, "imageTagMutability") },
        ],
    },
    {
        rule: ecr.ecrScanOnPush,
        fail: [{ type: REPO, why: "off", mutate: (p) => set(p, "imageScanningConfiguration.scanOnPush", false) }],
    },
    {
        rule: ecr.ecrEncryption,
        fail: [{ type: REPO, why: "not configured", mutate: (p) => del(p, "encryptionConfigurations") }],
        pass: [
            {
                type: REPO,
                why: "AES256 (dev)",
                mutate: (p) => set(p, "encryptionConfigurations", [{ encryptionType: "AES256" }]),
            },
        ],
    },
    {
        rule: ecr.ecrKmsEncryption,
        fail: [
            {
                type: REPO,
                why: "AES256",
                mutate: (p) => set(p, "encryptionConfigurations", [{ encryptionType: "AES256" }]),
            },
            {
                type: REPO,
                why: "KMS with the AWS-managed key",
                mutate: (p) => del(p, "encryptionConfigurations.0.kmsKey"),
            },
        ],
    },
    {
        rule: ecr.ecrNoForceDelete,
        fail: [{ type: REPO, why: "force-deletable", mutate: (p) => set(p, "forceDelete", true) }],
    },
    {
        rule: ecr.ecrNoPublicPolicy,
        fail: [
            {
                type: "aws:ecr/repositoryPolicy:RepositoryPolicy",
                why: "Principal * without condition",
                mutate: (p) =>
                    set(p, "policy", policyDoc({ Effect: "Allow", Principal: "*", Action: "ecr:BatchGetImage" })),
            },
            {
                type: "aws:ecr/repositoryPolicy:RepositoryPolicy",
                why: "Principal AWS * without condition",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({ Effect: "Allow", Principal: { AWS: "*" }, Action: "ecr:BatchGetImage" }),
                    ),
            },
        ],
        pass: [
            {
                type: "aws:ecr/repositoryPolicy:RepositoryPolicy",
                why: "Principal * restricted to the organisation",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Principal: "*",
                            Action: "ecr:BatchGetImage",
                            Condition: { StringEquals: { "aws:PrincipalOrgID": "o-123" } },
                        }),
                    ),
            },
        ],
    },
    {
        rule: logs.cloudwatchLogRetentionValid,
        fail: [
            { type: LOGS, why: "never expires", mutate: (p) => del(p, "retentionInDays") },
            {
                type: LOGS,
                why: "100 is not a CloudWatch value",
                mutate: (p) => set(p, "retentionInDays", 100),
                expect: /not a value/,
            },
        ],
        pass: [{ type: LOGS, why: "30 days (dev)", mutate: (p) => set(p, "retentionInDays", 30) }],
    },
    {
        rule: logs.cloudwatchLogRetentionMinimum,
        fail: [
            { type: LOGS, why: "30 days", mutate: (p) => set(p, "retentionInDays", 30), expect: /below 90/ },
            {
                type: LOGS,
                why: "below a configured minimum",
                config: { minLogRetentionDays: 400 },
                expect: /below 400/,
            },
        ],
        pass: [
            {
                type: LOGS,
                why: "a lower configured minimum",
                mutate: (p) => set(p, "retentionInDays", 30),
                config: { minLogRetentionDays: 30 },
            },
        ],
    },
    { rule: logs.cloudwatchLogKms, fail: [{ type: LOGS, why: "no key", mutate: (p) => del(p, "kmsKeyId") }] },
    // ---- IAM ----
    {
        rule: iam.iamNoWildcardAdmin,
        fail: [
            {
                type: "aws:iam/policy:Policy",
                why: 'Action "*"',
                mutate: (p) => set(p, "policy", policyDoc({ Effect: "Allow", Action: "*", Resource: "*" })),
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: 'Action "*:*"',
                mutate: (p) =>
                    set(p, "policy", policyDoc({ Effect: "Allow", Action: ["s3:GetObject", "*:*"], Resource: "*" })),
            },
            {
                type: "aws:iam/policy:Policy",
                why: "Allow NotAction on *",
                mutate: (p) => set(p, "policy", policyDoc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" })),
            },
            {
                type: ROLE,
                why: "inline policy with *",
                mutate: (p) =>
                    set(p, "inlinePolicies", [
                        { name: "admin", policy: policyDoc({ Effect: "Allow", Action: "*", Resource: "*" }) },
                    ]),
            },
            {
                type: ROLE,
                why: "AdministratorAccess managed policy",
                mutate: (p) => set(p, "managedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"]),
            },
            {
                type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                why: "AdministratorAccess attached",
                mutate: (p) => set(p, "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
            },
            {
                type: "aws:iam/policy:Policy",
                why: "not JSON",
                mutate: (p) => set(p, "policy", "{"),
                expect: /not JSON/,
            },
        ],
        pass: [
            {
                type: "aws:iam/policy:Policy",
                why: "Deny *",
                mutate: (p) => set(p, "policy", policyDoc({ Effect: "Deny", Action: "*", Resource: "*" })),
            },
        ],
    },
    {
        rule: iam.iamIrsaTrustPinned,
        fail: [
            {
                type: ROLE,
                why: "sub with StringLike wildcard",
                mutate: (p) => {
                    const t = irsaTrust();
                    const st = t.Statement[0] as { Condition: Record<string, Record<string, string>> };
                    st.Condition = {
                        StringLike: { [`${ISSUER_HOST}:sub`]: "system:serviceaccount:cert-manager:*" },
                        StringEquals: { [`${ISSUER_HOST}:aud`]: "sts.amazonaws.com" },
                    };
                    set(p, "assumeRolePolicy", JSON.stringify(t));
                },
                expect: /StringLike/,
            },
            {
                type: ROLE,
                why: "no :aud",
                mutate: (p) => {
                    const t = irsaTrust();
                    delete (t.Statement[0].Condition.StringEquals as Record<string, string>)[`${ISSUER_HOST}:aud`];
                    set(p, "assumeRolePolicy", JSON.stringify(t));
                },
                expect: /:aud/,
            },
            {
                type: ROLE,
                why: "wildcard service account",
                mutate: (p) => set(p, "assumeRolePolicy", JSON.stringify(irsaTrust("system:serviceaccount:*:*"))),
            },
            {
                type: ROLE,
                why: "no condition at all",
                mutate: (p) =>
                    set(
                        p,
                        "assumeRolePolicy",
                        policyDoc({
                            Effect: "Allow",
                            Principal: { Federated: OIDC_ARN },
                            Action: "sts:AssumeRoleWithWebIdentity",
                        }),
                    ),
                expect: /0 subjects/,
            },
            {
                type: ROLE,
                why: "condition keys of another issuer",
                mutate: (p) =>
                    set(
                        p,
                        "assumeRolePolicy",
                        JSON.stringify(irsaTrust())
                            .split(ISSUER_HOST)
                            .join("oidc.eks.eu-west-1.amazonaws.com/id/OTHER")
                            .replace(
                                `oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER`,
                                `oidc-provider/${ISSUER_HOST}`,
                            ),
                    ),
                expect: /not for the Federated issuer/,
            },
        ],
        pass: [
            {
                type: ROLE,
                why: "GitHub Actions OIDC is not IRSA",
                mutate: (p) =>
                    set(
                        p,
                        "assumeRolePolicy",
                        policyDoc({
                            Effect: "Allow",
                            Principal: {
                                Federated:
                                    "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com",
                            },
                            Action: "sts:AssumeRoleWithWebIdentity",
                            Condition: { StringLike: { "token.actions.githubusercontent.com:sub": "repo:org/repo:*" } },
                        }),
                    ),
            },
            {
                type: ROLE,
                why: "a service role",
                mutate: (p) =>
                    set(
                        p,
                        "assumeRolePolicy",
                        policyDoc({
                            Effect: "Allow",
                            Principal: { Service: "ec2.amazonaws.com" },
                            Action: "sts:AssumeRole",
                        }),
                    ),
            },
        ],
    },
    // ---- pod templates ----
    {
        rule: wl.k8sRunAsNonRoot,
        fail: [
            ...containerCases(wl.k8sRunAsNonRoot, "runAsNonRoot false on the container", (c) =>
                set(c, "securityContext.runAsNonRoot", false),
            ),
            ...podCases(wl.k8sRunAsNonRoot, "UID 1000", (pod) => set(pod, "securityContext.runAsUser", 1000), /1000/),
            ...podCases(wl.k8sRunAsNonRoot, "no UID", (pod) => del(pod, "securityContext.runAsUser")),
        ],
    },
    {
        rule: wl.k8sNoPrivilegeEscalation,
        fail: [
            ...containerCases(wl.k8sNoPrivilegeEscalation, "allowPrivilegeEscalation true", (c) =>
                set(c, "securityContext.allowPrivilegeEscalation", true),
            ),
            ...containerCases(
                wl.k8sNoPrivilegeEscalation,
                "privileged",
                (c) => set(c, "securityContext.privileged", true),
                /privileged/,
            ),
        ],
    },
    {
        rule: wl.k8sDropAllCapabilities,
        fail: [
            ...containerCases(wl.k8sDropAllCapabilities, "drops only NET_RAW", (c) =>
                set(c, "securityContext.capabilities.drop", ["NET_RAW"]),
            ),
            ...containerCases(
                wl.k8sDropAllCapabilities,
                "adds SYS_ADMIN",
                (c) => set(c, "securityContext.capabilities.add", ["SYS_ADMIN"]),
                /SYS_ADMIN/,
            ),
        ],
    },
    {
        rule: wl.k8sSeccompRuntimeDefault,
        fail: [
            ...podCases(wl.k8sSeccompRuntimeDefault, "Unconfined", (pod) =>
                set(pod, "securityContext.seccompProfile.type", "Unconfined"),
            ),
            ...podCases(wl.k8sSeccompRuntimeDefault, "unset", (pod) => del(pod, "securityContext.seccompProfile")),
        ],
    },
    {
        rule: wl.k8sNoHostAccess,
        fail: [
            ...podCases(wl.k8sNoHostAccess, "hostNetwork", (pod) => set(pod, "hostNetwork", true)),
            ...podCases(wl.k8sNoHostAccess, "hostPID", (pod) => set(pod, "hostPID", true)),
            ...podCases(wl.k8sNoHostAccess, "hostPath volume", (pod) =>
                set(pod, "volumes.0", { name: "tmp", hostPath: { path: "/tmp" } }),
            ),
            ...containerCases(wl.k8sNoHostAccess, "hostPort", (c) => set(c, "ports.0.hostPort", 8080)),
        ],
    },
    {
        rule: wl.k8sReadOnlyRootFilesystem,
        fail: containerCases(wl.k8sReadOnlyRootFilesystem, "writable root", (c) =>
            set(c, "securityContext.readOnlyRootFilesystem", false),
        ),
    },
    {
        rule: wl.k8sServiceAccountToken,
        fail: [
            ...podCases(wl.k8sServiceAccountToken, "no service account", (pod) => del(pod, "serviceAccountName")),
            ...podCases(wl.k8sServiceAccountToken, "the default service account", (pod) =>
                set(pod, "serviceAccountName", "default"),
            ),
            ...podCases(wl.k8sServiceAccountToken, "token automounted", (pod) =>
                set(pod, "automountServiceAccountToken", true),
            ),
            ...podCases(wl.k8sServiceAccountToken, "automount unset", (pod) =>
                del(pod, "automountServiceAccountToken"),
            ),
        ],
    },
    {
        rule: wl.k8sImageAllowedRegistry,
        fail: [
            ...containerCases(wl.k8sImageAllowedRegistry, "Docker Hub", (c) =>
                set(c, "image", "docker.io/library/nginx:1.27"),
            ),
            ...containerCases(wl.k8sImageAllowedRegistry, "no registry", (c) => set(c, "image", "nginx:1.27")),
            ...containerCases(wl.k8sImageAllowedRegistry, "ECR look-alike path", (c) =>
                set(c, "image", "evil.example.com/x.dkr.ecr.eu-west-1.amazonaws.com/checkout:1"),
            ),
            ...containerCases(
                wl.k8sImageAllowedRegistry,
                "another account than configured",
                () => undefined,
                /not from/,
                {
                    allowedRegistries: ["111111111111.dkr.ecr.eu-west-1.amazonaws.com/"],
                },
            ),
        ],
        pass: [
            {
                type: DEPLOYMENT,
                why: "the configured account",
                config: { allowedRegistries: ["222222222222.dkr.ecr.*.amazonaws.com/checkout-"] },
            },
        ],
    },
    {
        rule: wl.k8sImagePinned,
        fail: [
            ...containerCases(
                wl.k8sImagePinned,
                "latest",
                (c) => set(c, "image", IMAGE.replace(":1.4.2", ":latest")),
                /latest/,
            ),
            ...containerCases(
                wl.k8sImagePinned,
                "no tag",
                (c) => set(c, "image", IMAGE.replace(":1.4.2", "")),
                /no tag/,
            ),
        ],
        pass: [
            {
                type: DEPLOYMENT,
                why: "digest",
                mutate: (p) =>
                    set(
                        p,
                        "spec.template.spec.containers.0.image",
                        `${IMAGE.replace(":1.4.2", "")}@sha256:${"a".repeat(64)}`,
                    ),
            },
            {
                type: DEPLOYMENT,
                why: "registry with a port",
                mutate: (p) => set(p, "spec.template.spec.containers.0.image", "registry.internal:5000/checkout:1.4.2"),
                config: {},
            },
        ],
    },
    {
        rule: wl.k8sResources,
        fail: [
            ...containerCases(
                wl.k8sResources,
                "no cpu request",
                (c) => del(c, "resources.requests.cpu"),
                /requests\.cpu/,
            ),
            ...containerCases(wl.k8sResources, "no memory request", (c) => del(c, "resources.requests.memory")),
            ...containerCases(
                wl.k8sResources,
                "no memory limit",
                (c) => del(c, "resources.limits.memory"),
                /limits\.memory/,
            ),
        ],
    },
    {
        rule: wl.k8sProbes,
        fail: [
            ...containerCases(wl.k8sProbes, "no readiness probe", (c) => del(c, "readinessProbe")),
            ...containerCases(wl.k8sProbes, "no liveness probe", (c) => del(c, "livenessProbe")),
            ...containerCases(
                wl.k8sProbes,
                "liveness = readiness",
                (c) => set(c, "livenessProbe", c.readinessProbe),
                /identical/,
            ),
            ...containerCases(
                wl.k8sProbes,
                "probe on an undeclared port",
                (c) => set(c, "readinessProbe.httpGet.port", "metrics"),
                /does not declare/,
            ),
        ],
    },
    {
        rule: wl.k8sNoSecretLiterals,
        fail: [
            ...containerCases(wl.k8sNoSecretLiterals, "literal password", (c) =>
                set(c, "env.1", { name: "DB_PASSWORD", value: "hunter2" }),
            ),
            ...containerCases(
                wl.k8sNoSecretLiterals,
                "AWS key under an innocent name",
                (c) => set(c, "env.0", { name: "CONFIG", value: "AKIAABCDEFGHIJKLMNOP" }),
                /credential/,
            ),
        ],
        pass: [
            {
                type: DEPLOYMENT,
                why: "a path to a mounted secret",
                mutate: (p) =>
                    set(p, "spec.template.spec.containers.0.env.1", {
                        name: "DB_PASSWORD_FILE",
                        value: "/var/run/secrets/db/password",
                    }),
            },
        ],
    },
    {
        rule: wl.k8sRollingUpdate,
        fail: [
            {
                type: DEPLOYMENT,
                why: "maxUnavailable 1",
                mutate: (p) => set(p, "spec.strategy.rollingUpdate.maxUnavailable", 1),
            },
            {
                type: DEPLOYMENT,
                why: "maxUnavailable unset (25%)",
                mutate: (p) => del(p, "spec.strategy.rollingUpdate.maxUnavailable"),
            },
            {
                type: DEPLOYMENT,
                why: "maxSurge 0",
                mutate: (p) => set(p, "spec.strategy.rollingUpdate.maxSurge", 0),
                expect: /maxSurge/,
            },
            {
                type: DEPLOYMENT,
                why: "Recreate",
                mutate: (p) => set(p, "spec.strategy", { type: "Recreate" }),
                expect: /Recreate/,
            },
        ],
        pass: [
            {
                type: DEPLOYMENT,
                why: "percentages",
                mutate: (p) => set(p, "spec.strategy.rollingUpdate", { maxSurge: "25%", maxUnavailable: "0%" }),
            },
        ],
    },
    {
        rule: wl.k8sZoneSpread,
        fail: [
            ...podCases(wl.k8sZoneSpread, "DoNotSchedule", (pod) =>
                set(pod, "topologySpreadConstraints.0.whenUnsatisfiable", "DoNotSchedule"),
            ),
            ...podCases(
                wl.k8sZoneSpread,
                "no constraint",
                (pod) => del(pod, "topologySpreadConstraints"),
                /topologyKey/,
            ),
            ...podCases(wl.k8sZoneSpread, "spreads other pods", (pod) =>
                set(pod, "topologySpreadConstraints.0.labelSelector.matchLabels", { app: "other" }),
            ),
        ],
    },
    {
        rule: wl.k8sHostnameAntiAffinity,
        fail: [
            ...podCases(wl.k8sHostnameAntiAffinity, "no anti-affinity", (pod) => del(pod, "affinity")),
            ...podCases(wl.k8sHostnameAntiAffinity, "zone instead of hostname", (pod) =>
                set(
                    pod,
                    "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.podAffinityTerm.topologyKey",
                    "topology.kubernetes.io/zone",
                ),
            ),
            ...podCases(
                wl.k8sHostnameAntiAffinity,
                "hard anti-affinity too",
                (pod) =>
                    set(pod, "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", [
                        { topologyKey: "kubernetes.io/hostname" },
                    ]),
                /required/,
            ),
        ],
    },
    {
        rule: wl.k8sGracefulShutdown,
        fail: [
            ...containerCases(wl.k8sGracefulShutdown, "no preStop", (c) => del(c, "lifecycle")),
            ...podCases(
                wl.k8sGracefulShutdown,
                "grace shorter than preStop",
                (pod) => set(pod, "terminationGracePeriodSeconds", 5),
                /not longer/,
            ),
            ...containerCases(wl.k8sGracefulShutdown, "exec sleep beyond the default grace", (c, pod) => {
                del(pod, "terminationGracePeriodSeconds");
                set(c, "lifecycle.preStop", { exec: { command: ["/bin/sh", "-c", "sleep 40"] } });
            }),
        ],
        pass: [
            {
                type: DEPLOYMENT,
                why: "exec sleep",
                mutate: (p) =>
                    set(p, "spec.template.spec.containers.0.lifecycle.preStop", { exec: { command: ["sleep", "10"] } }),
            },
        ],
    },
    // ---- other Kubernetes objects ----
    {
        rule: objects.k8sNotDefaultNamespace,
        fail: [
            ...forTypes(
                NAMESPACED.filter((t) => !t.startsWith("kubernetes:helm.sh/")),
                "no namespace",
                (p) => del(p, "metadata.namespace"),
                { expect: /default namespace/ },
            ),
            ...forTypes([RELEASE, CHART], "release in default", (p) => set(p, "namespace", "default")),
            { type: DEPLOYMENT, why: "explicitly default", mutate: (p) => set(p, "metadata.namespace", "default") },
        ],
        pass: [
            {
                type: DEPLOYMENT,
                why: "namespace from the provider",
                mutate: (p) => del(p, "metadata.namespace"),
                provider: { ...K8S_PROVIDER, props: { namespace: "checkout" } },
            },
        ],
    },
    {
        rule: objects.k8sNamespacePodSecurity,
        fail: [
            {
                type: "kubernetes:core/v1:Namespace",
                why: "baseline",
                mutate: (p) => set(p, "metadata.labels", { "pod-security.kubernetes.io/enforce": "baseline" }),
            },
            { type: "kubernetes:core/v1:Namespace", why: "unlabelled", mutate: (p) => del(p, "metadata.labels") },
        ],
    },
    {
        rule: objects.k8sServiceClusterIp,
        fail: [
            {
                type: "kubernetes:core/v1:Service",
                why: "LoadBalancer",
                mutate: (p) => set(p, "spec.type", "LoadBalancer"),
                expect: /checkout\/checkout-service/,
            },
            { type: "kubernetes:core/v1:Service", why: "NodePort", mutate: (p) => set(p, "spec.type", "NodePort") },
        ],
        pass: [
            {
                type: "kubernetes:core/v1:Service",
                why: "listed in exposedServices",
                mutate: (p) => set(p, "spec.type", "LoadBalancer"),
                config: { exposedServices: ["checkout/checkout-service"] },
            },
        ],
    },
    {
        rule: objects.k8sHpa,
        fail: [
            { type: HPA, why: "minReplicas 1", mutate: (p) => set(p, "spec.minReplicas", 1) },
            { type: HPA, why: "minReplicas unset (1)", mutate: (p) => del(p, "spec.minReplicas") },
            { type: HPA, why: "max = min", mutate: (p) => set(p, "spec.maxReplicas", 3), expect: /maxReplicas/ },
            {
                type: HPA,
                why: "memory only",
                mutate: (p) => set(p, "spec.metrics.0.resource.name", "memory"),
                expect: /cpu/,
            },
            { type: HPA, why: "no scale-down stabilization", mutate: (p) => del(p, "spec.behavior") },
            {
                type: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
                fixtureType: HPA,
                why: "autoscaling/v1",
                expect: /autoscaling\/v2/,
            },
        ],
    },
    {
        rule: objects.k8sHpaProdMinReplicas,
        fail: [{ type: HPA, why: "minReplicas 2", mutate: (p) => set(p, "spec.minReplicas", 2) }],
    },
    {
        rule: objects.k8sPdbAllowsEviction,
        fail: [
            { type: PDB, why: "maxUnavailable 0", mutate: (p) => set(p, "spec.maxUnavailable", 0) },
            {
                type: PDB,
                why: "minAvailable",
                mutate: (p) => {
                    del(p, "spec.maxUnavailable");
                    set(p, "spec.minAvailable", 2);
                },
                expect: /minAvailable/,
            },
            { type: PDB, why: "neither", mutate: (p) => del(p, "spec.maxUnavailable") },
            { type: "kubernetes:policy/v1beta1:PodDisruptionBudget", fixtureType: PDB, why: "policy/v1beta1" },
        ],
        pass: [{ type: PDB, why: "a percentage", mutate: (p) => set(p, "spec.maxUnavailable", "50%") }],
    },
    {
        rule: objects.k8sExplicitProvider,
        fail: forTypes(KUBERNETES_FIXTURE_TYPES, "default provider", () => undefined, {
            provider: {
                ...K8S_PROVIDER,
                name: "default_4_34_2",
                urn: "urn:pulumi:prod::checkout-platform::pulumi:providers:kubernetes::default_4_34_2",
            },
        }),
    },
    // ---- Helm / cert-manager ----
    {
        rule: helm.helmReleasePinned,
        fail: [
            ...forTypes([RELEASE, CHART], "a version range", (p) => set(p, "version", "^1.21.0")),
            { type: RELEASE, why: "no version (latest)", mutate: (p) => del(p, "version") },
            { type: RELEASE, why: "no repository", mutate: (p) => del(p, "repositoryOpts"), expect: /repositoryOpts/ },
        ],
        pass: [{ type: CHART, why: "OCI chart without repositoryOpts", mutate: (p) => del(p, "repositoryOpts") }],
    },
    {
        rule: helm.certManagerValues,
        fail: [
            ...forTypes([RELEASE, CHART], "installCRDs", (p) => set(p, "values.installCRDs", true), {
                expect: /installCRDs is deprecated/,
            }),
            { type: RELEASE, why: "CRDs not installed", mutate: (p) => set(p, "values.crds.enabled", false) },
            {
                type: RELEASE,
                why: "unknown top-level key",
                mutate: (p) => set(p, "values.replicas", 2),
                expect: /unknown key replicas/,
            },
            {
                type: RELEASE,
                why: "misspelt nested key",
                mutate: (p) => set(p, "values.webhook.replicas", 2),
                expect: /webhook\.replicas/,
            },
            { type: RELEASE, why: "wrong type", mutate: (p) => set(p, "values.replicaCount", "2"), expect: /integer/ },
        ],
        pass: [
            {
                type: RELEASE,
                why: "another chart",
                mutate: (p) => {
                    set(p, "chart", "metrics-server");
                    set(p, "values", { replicas: 2 });
                },
            },
        ],
    },
    {
        rule: helm.certManagerHighAvailability,
        fail: [
            ...forTypes([RELEASE, CHART], "one controller", (p) => set(p, "values.replicaCount", 1), {
                expect: /controller/,
            }),
            {
                type: RELEASE,
                why: "webhook PDB off",
                mutate: (p) => set(p, "values.webhook.podDisruptionBudget.enabled", false),
                expect: /webhook/,
            },
            {
                type: RELEASE,
                why: "cainjector without requests",
                mutate: (p) => del(p, "values.cainjector.resources"),
                expect: /cainjector/,
            },
        ],
    },
    // ---- secrets ----
    {
        rule: secrets.iamSecretsManagerPrefixScoped,
        fail: [
            {
                type: "aws:iam/policy:Policy",
                why: "GetSecretValue on every secret",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "*" }),
                    ),
                expect: /GetSecretValue.* on "\*", not on secrets under a prefix/,
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: "secret:* (no prefix)",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: ["secretsmanager:DescribeSecret"],
                            Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",
                        }),
                    ),
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: "a wildcard inside the prefix",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: "secretsmanager:GetSecretValue",
                            Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev*/*",
                        }),
                    ),
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: "every account and region",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: "secretsmanager:GetSecretValue",
                            Resource: "arn:aws:secretsmanager:*:*:secret:dev/*",
                        }),
                    ),
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: "secretsmanager:Get* counts as a read",
                mutate: (p) =>
                    set(p, "policy", policyDoc({ Effect: "Allow", Action: "secretsmanager:Get*", Resource: "*" })),
            },
            {
                type: ROLE,
                why: "an inline policy reading every secret",
                mutate: (p) =>
                    set(p, "inlinePolicies", [
                        {
                            name: "secrets",
                            policy: policyDoc({ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }),
                        },
                    ]),
            },
        ],
        pass: [
            {
                type: "aws:iam/policy:Policy",
                why: "reads under dev/ in one account and region",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                            Resource: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev/checkout/*",
                        }),
                    ),
            },
            {
                type: "aws:iam/policy:Policy",
                why: "creating a secret and listing names are not reads",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: ["secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword"],
                            Resource: "*",
                        }),
                    ),
            },
        ],
    },
    // ---- the edge ----
    {
        rule: edge.iamRoute53ZoneScoped,
        fail: [
            {
                type: "aws:iam/policy:Policy",
                why: "record writes on every zone",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({ Effect: "Allow", Action: "route53:ChangeResourceRecordSets", Resource: "*" }),
                    ),
                expect: /ChangeResourceRecordSets on "\*"/,
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: "hostedzone/*",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: ["route53:ChangeResourceRecordSets"],
                            Resource: "arn:aws:route53:::hostedzone/*",
                        }),
                    ),
                expect: /hostedzone\/\*/,
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                why: "route53:* counts as a write",
                mutate: (p) => set(p, "policy", policyDoc({ Effect: "Allow", Action: "route53:*", Resource: "*" })),
            },
            {
                type: ROLE,
                why: "an inline policy creating zones anywhere",
                mutate: (p) =>
                    set(p, "inlinePolicies", [
                        {
                            name: "dns",
                            policy: policyDoc({ Effect: "Allow", Action: "route53:CreateHostedZone", Resource: "*" }),
                        },
                    ]),
            },
        ],
        pass: [
            {
                type: "aws:iam/policy:Policy",
                why: "listing zones on * is a read",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: ["route53:ListHostedZones", "route53:GetChange"],
                            Resource: "*",
                        }),
                    ),
            },
            {
                type: "aws:iam/policy:Policy",
                why: "writes on two named zones",
                mutate: (p) =>
                    set(
                        p,
                        "policy",
                        policyDoc({
                            Effect: "Allow",
                            Action: "route53:ChangeResourceRecordSets",
                            Resource: [`arn:aws:route53:::hostedzone/${ZONE_ID}`, "arn:aws-cn:route53:::hostedzone/Z2"],
                        }),
                    ),
            },
        ],
    },
    {
        rule: edge.iamPodIdentityTrust,
        fail: [
            {
                type: ROLE,
                why: "another principal in the statement",
                mutate: (p) => {
                    const t = podIdentityTrust();
                    set(t, "Statement.0.Principal.AWS", "arn:aws:iam::222222222222:root");
                    set(p, "assumeRolePolicy", JSON.stringify(t));
                },
                expect: /also trusts/,
            },
            {
                type: ROLE,
                why: "no TagSession",
                mutate: (p) => {
                    const t = podIdentityTrust();
                    set(t, "Statement.0.Action", "sts:AssumeRole");
                    set(p, "assumeRolePolicy", JSON.stringify(t));
                },
                expect: /sts:TagSession/,
            },
            {
                type: ROLE,
                why: "extra action",
                mutate: (p) => {
                    const t = podIdentityTrust();
                    set(t, "Statement.0.Action", ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]);
                    set(p, "assumeRolePolicy", JSON.stringify(t));
                },
                expect: /SetSourceIdentity/,
            },
            {
                type: ROLE,
                why: "any service account of the account may use it",
                mutate: (p) => {
                    const t = podIdentityTrust();
                    del(t, "Statement.0.Condition");
                    set(p, "assumeRolePolicy", JSON.stringify(t));
                },
                expect: /kubernetes-service-account/,
            },
        ],
        pass: [
            {
                type: ROLE,
                why: "the pinned Pod Identity trust",
                mutate: (p) => set(p, "assumeRolePolicy", JSON.stringify(podIdentityTrust())),
            },
        ],
    },
    {
        rule: edge.gatewayListenersHttps,
        fail: [
            {
                type: GATEWAY,
                why: "HTTP open to every namespace",
                mutate: (p) => set(p, "spec.listeners.0.allowedRoutes.namespaces.from", "All"),
                expect: /plain HTTP/,
            },
            {
                type: GATEWAY,
                why: "TLS passthrough",
                mutate: (p) => set(p, "spec.listeners.1.tls.mode", "Passthrough"),
            },
            {
                type: GATEWAY,
                why: "no hostname",
                mutate: (p) => del(p, "spec.listeners.1.hostname"),
                expect: /hostname/,
            },
            { type: GATEWAY, why: "no certificate", mutate: (p) => set(p, "spec.listeners.1.tls.certificateRefs", []) },
            {
                type: GATEWAY,
                why: "Secret in another namespace",
                mutate: (p) => set(p, "spec.listeners.1.tls.certificateRefs.0.namespace", "cert-manager"),
                expect: /cross-namespace/,
            },
            { type: GATEWAY, why: "a TCP listener", mutate: (p) => set(p, "spec.listeners.0.protocol", "TCP") },
        ],
        pass: [
            {
                type: GATEWAY,
                why: "HTTP with the default allowedRoutes (Same)",
                mutate: (p) => del(p, "spec.listeners.0.allowedRoutes"),
            },
        ],
    },
    {
        rule: edge.gatewayCertificatesFromClusterIssuer,
        fail: [{ type: GATEWAY, why: "no issuer annotation", mutate: (p) => del(p, "metadata.annotations") }],
        pass: [
            {
                type: GATEWAY,
                why: "HTTP only",
                mutate: (p) => {
                    del(p, "metadata.annotations");
                    set(p, "spec.listeners", [{ name: "http", protocol: "HTTP", port: 80 }]);
                },
            },
        ],
    },
    {
        rule: edge.externalDnsValues,
        fail: [
            ...forTypes(
                [RELEASE, CHART],
                "policy left to the chart's default",
                (p) => {
                    Object.assign(p, externalDnsRelease());
                    del(p, "values.policy");
                },
                { expect: /policy/ },
            ),
            {
                type: RELEASE,
                why: "no owner id",
                mutate: (p) => {
                    Object.assign(p, externalDnsRelease());
                    del(p, "values.txtOwnerId");
                },
                expect: /txtOwnerId/,
            },
            {
                type: RELEASE,
                why: "noop registry",
                mutate: (p) => {
                    Object.assign(p, externalDnsRelease());
                    set(p, "values.registry", "noop");
                },
            },
            {
                type: RELEASE,
                why: "no domain filter",
                mutate: (p) => {
                    Object.assign(p, externalDnsRelease());
                    set(p, "values.domainFilters", []);
                },
            },
        ],
        pass: [{ type: RELEASE, why: "compliant ExternalDNS", mutate: (p) => Object.assign(p, externalDnsRelease()) }],
    },
];

function propsFor(c: Case): Props {
    const p = fixture(c.fixtureType ?? c.type);
    c.mutate?.(p);
    return p;
}

describe("resource rules", () => {
    describe("every compliant fixture passes every rule that applies to it", () => {
        const resourceRules = allPolicies.filter((p): p is GuardrailResourcePolicy => "validateResource" in p);
        for (const type of FIXTURE_TYPES) {
            it(type, () => {
                for (const rule of resourceRules) {
                    const out = runResourceRule(rule, type, fixture(type), { provider: K8S_PROVIDER });
                    assert.deepEqual(out.messages, [], `${rule.name} on the compliant ${type}`);
                }
            });
        }
    });

    for (const { rule, fail, pass } of TABLE) {
        describe(rule.name, () => {
            for (const c of pass ?? []) {
                it(`passes ${c.type}: ${c.why}`, () => {
                    const out = runResourceRule(rule, c.type, propsFor(c), {
                        config: c.config,
                        provider: c.provider ?? K8S_PROVIDER,
                    });
                    assert.ok(out.applicable, "the rule should apply");
                    assert.deepEqual(out.messages, []);
                });
            }
            for (const c of fail) {
                it(`fails ${c.type}: ${c.why}`, () => {
                    const provider = c.provider ?? K8S_PROVIDER;
                    if (!c.fixtureType && (c.mutate || c.config || c.provider)) {
                        const before = runResourceRule(rule, c.type, fixture(c.type), { provider: K8S_PROVIDER });
                        assert.deepEqual(before.messages, [], "the unchanged fixture must pass");
                    }
                    const out = runResourceRule(rule, c.type, propsFor(c), { config: c.config, provider });
                    assert.ok(out.messages.length > 0, `expected a violation of ${rule.name}`);
                    for (const m of out.messages)
                        assert.match(m, / Remediation: /, "every message carries the remediation");
                    if (c.expect)
                        assert.ok(
                            out.messages.some((m) => c.expect?.test(m)),
                            `${out.messages.join(" | ")} should match ${c.expect}`,
                        );
                });
            }
        });
    }

    describe("the table covers every rule in both views", () => {
        const resourceRules = allPolicies.filter((p): p is GuardrailResourcePolicy => "validateResource" in p);
        for (const rule of resourceRules) {
            it(rule.name, () => {
                const entry = TABLE.find((t) => t.rule === rule);
                assert.ok(entry, `${rule.name} has no table entry`);
                const applicable = FIXTURE_TYPES.filter(
                    (t) => runResourceRule(rule, t, fixture(t), { provider: K8S_PROVIDER }).applicable,
                );
                assert.ok(applicable.length > 0, `${rule.name} applies to no compliant fixture (no passing case)`);
                const failing = new Set(entry.fail.map((c) => c.fixtureType ?? c.type));
                const uncovered = applicable.filter((t) => !failing.has(t));
                assert.deepEqual(uncovered, [], `${rule.name}: no failing case for these fixture types`);
            });
        }
    });

    it("reports not-applicable for other types (the engine's fast path)", () => {
        const out = runResourceRule(eks.eksDeletionProtection, "aws:s3/bucket:Bucket", {});
        assert.equal(out.applicable, false);
        // A ConfigFile installs objects; it is not a namespaced object in `default` itself.
        for (const type of ["kubernetes:yaml/v2:ConfigFile", "kubernetes:yaml/v2:ConfigGroup"])
            assert.equal(
                runResourceRule(objects.k8sNotDefaultNamespace, type, { file: "https://example.com/crds.yaml" })
                    .applicable,
                false,
                type,
            );
    });
});
