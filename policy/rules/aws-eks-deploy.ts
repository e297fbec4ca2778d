/**
 * EKS hazards of a real `pulumi up` that no mock can show, found by reading the pinned pulumi-eks
 * 4.3.0 source (nodejs/eks/cluster/cluster.ts, nodejs/eks/addons/cni-addon.ts) and the EKS docs:
 * the first `up` must converge and later ones from CI must change only what they say. Each rule
 * fails on the form that breaks and names the source.
 */
import type { PolicyResource } from "@pulumi/policy";
import { EKS_KUBERNETES_CALENDAR, supportStatus, utcToday } from "../lib/eks-calendar";
import { StackGraph, label } from "../lib/graph";
import { PolicyKnobs } from "../config";
import { resourceRule, stackRule } from "../lib/rule";
import { Rec, UNKNOWN, at, isRecord, jsonDoc, show } from "../lib/values";
import { EKS_CLUSTER, EKS_COMPONENT, clustersOf } from "./aws-eks";

const ADDON = "aws:eks/addon:Addon";
const VPC_CNI_COMPONENT = "eks:index:VpcCniAddon";
const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const NODE_GROUPS = [
    "eks:index:ManagedNodeGroup",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/fargateProfile:FargateProfile",
];
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const AMP_SCRAPER = "aws:amp/scraper:Scraper";

const isSet = (v: unknown) => v !== undefined && v !== null && v !== "";

/** Whether ClusterOptions let pulumi-eks create its own coredns add-on (cluster.ts 4.3.0, 1175-1185). */
function createsCoredns(p: Rec): boolean | typeof UNKNOWN {
    const opts = p.corednsAddonOptions;
    if (opts === UNKNOWN) return UNKNOWN;
    const enabled = at(opts, "enabled");
    const explicit = enabled === true || isSet(at(opts, "configurationValues"));
    const fargate = isSet(p.fargate) && p.fargate !== false;
    const autoMode = at(p, "autoMode", "enabled") === true;
    return explicit || ((fargate || p.skipDefaultNodeGroup !== true || autoMode) && enabled !== false);
}

export const eksCorednsAfterNodes = resourceRule({
    name: "eks-coredns-after-nodes",
    description:
        "coredns is not created inside eks.Cluster when the cluster has no node group of its own (it would deadlock the first up).",
    tier: "B",
    remediation:
        "set corednsAddonOptions: { enabled: false } on the cluster and create aws.eks.Addon coredns with dependsOn the node group.",
    types: [EKS_COMPONENT],
    check: (r) => {
        const p = r.props;
        if (p.skipDefaultNodeGroup !== true || (isSet(p.fargate) && p.fargate !== false)) return;
        if (at(p, "autoMode", "enabled") === true) return;
        const opts = p.corednsAddonOptions;
        if (opts === UNKNOWN) return;
        const enabled = at(opts, "enabled");
        const configured = isSet(at(opts, "configurationValues"));
        if (enabled === true || configured) {
            // pulumi-eks 4.3.0 cluster.ts 1175-1233 creates the add-on inside createCore, before any
            // node group; it stays DEGRADED for 20 minutes and the component never answers, so the
            // node group that would fix it is never created (pulumi-eks#1819).
            r.report(
                `corednsAddonOptions ${enabled === true ? "enables" : "configures (which enables)"} the coredns add-on while skipDefaultNodeGroup is true: pulumi-eks creates it inside the cluster component before any node exists, it stays DEGRADED until the 20-minute timeout, and the node group is never created (pulumi-eks#1819)`,
            );
        }
    },
});

/**
 * EKS add-ons that run a Deployment (or need one running): with no node they stay DEGRADED and
 * `aws.eks.Addon` times out after 20 minutes. DaemonSet-only add-ons (vpc-cni, kube-proxy,
 * eks-pod-identity-agent) have 0 desired pods without nodes and go ACTIVE.
 */
export const NODE_BOUND_ADDONS = [
    "coredns",
    "metrics-server",
    "amazon-cloudwatch-observability",
    "aws-ebs-csi-driver",
    "aws-efs-csi-driver",
    "aws-mountpoint-s3-csi-driver",
    "snapshot-controller",
    "adot",
] as const;

export const eksAddonsAfterNodes = stackRule({
    name: "eks-addons-after-nodes",
    description: "EKS add-ons that run Deployments (coredns, metrics-server, ...) wait for a node group.",
    tier: "B",
    remediation: "give the aws.eks.Addon a dependsOn on the node group (eks.ManagedNodeGroup) of its cluster.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const nodeGroups = g.ofType(...NODE_GROUPS);
        for (const addon of g.ofType(ADDON)) {
            const name = g.props(addon).addonName;
            if (typeof name !== "string" || !(NODE_BOUND_ADDONS as readonly string[]).includes(name)) continue;
            if (nodeGroups.some((ng) => g.waitsFor(addon, ng))) continue;
            s.report(
                `${label(addon)} (${name}) does not wait for any node group: its pods have nowhere to run, the add-on stays DEGRADED and the create times out after 20 minutes (pulumi-eks#1819)`,
                addon.urn,
            );
        }
    },
});

/** The version inputs pulumi-eks reads for the add-ons it creates, and whether it creates them. */
function componentAddonVersions(p: Rec): { addon: string; path: string; created: boolean | typeof UNKNOWN }[] {
    const autoMode = at(p, "autoMode", "enabled") === true;
    return [
        // cluster.ts 1091-1111 (useDefaultVpcCni) and cni-addon.ts 272-283 (mostRecent without addonVersion).
        { addon: "vpc-cni", path: "vpcCniOptions.addonVersion", created: p.useDefaultVpcCni !== true && !autoMode },
        // cluster.ts 764-777: enabled unless Auto Mode; mostRecent without a version.
        {
            addon: "kube-proxy",
            path: "kubeProxyAddonOptions.version",
            created: (at(p, "kubeProxyAddonOptions", "enabled") ?? !autoMode) === true,
        },
        // cluster.ts 1175-1197.
        { addon: "coredns", path: "corednsAddonOptions.version", created: createsCoredns(p) },
    ];
}

export const eksAddonVersionsPinned = resourceRule({
    name: "eks-addon-versions-pinned",
    description:
        "Every EKS add-on has a pinned version (pulumi-eks resolves vpc-cni, kube-proxy and coredns to the most recent build otherwise).",
    tier: "B",
    remediation:
        "pin the add-on version (vpcCniOptions.addonVersion, kubeProxyAddonOptions.version, corednsAddonOptions.version, aws.eks.Addon addonVersion) from the one version table, chosen for the cluster's Kubernetes version.",
    types: [EKS_COMPONENT, VPC_CNI_COMPONENT, ADDON],
    check: (r) => {
        if (r.type === EKS_COMPONENT) {
            for (const a of componentAddonVersions(r.props)) {
                if (a.created !== true) continue;
                const v = at(r.props, ...a.path.split("."));
                if (v === UNKNOWN || isSet(v)) continue;
                r.report(
                    `${a.path} is not set, so pulumi-eks creates the ${a.addon} add-on at the most recent build EKS offers (getAddonVersion mostRecent: true) and every new build shows up in the next preview and is applied unreviewed`,
                );
            }
            return;
        }
        const v = r.props.addonVersion;
        if (v === UNKNOWN || isSet(v)) return;
        const name = r.type === VPC_CNI_COMPONENT ? "vpc-cni" : show(r.props.addonName);
        r.report(`the ${name} add-on has no addonVersion, so EKS installs its default build and later ones drift`);
    },
});

interface EntryRef {
    readonly cluster: string;
    readonly principal: string;
    readonly where: string;
    readonly urn: string;
}

export const eksAccessEntriesUnique = stackRule({
    name: "eks-access-entries-unique",
    description: "No IAM principal has two access entries on one cluster (EKS rejects the second with 409).",
    tier: "B",
    remediation:
        "give each principal one access entry (with all its policies), and none to the principal that creates the cluster: EKS makes it admin itself.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const clusters = clustersOf(g);
        const entries: EntryRef[] = [];
        for (const c of g.ofType(EKS_COMPONENT)) {
            const p = g.props(c);
            const name = typeof p.name === "string" ? p.name : c.name;
            if (!isRecord(p.accessEntries)) continue;
            for (const [key, entry] of Object.entries(p.accessEntries)) {
                const principal = at(entry, "principalArn");
                if (typeof principal === "string")
                    entries.push({ cluster: name, principal, where: `accessEntries.${key}`, urn: c.urn });
            }
        }
        for (const e of g.ofType(ACCESS_ENTRY)) {
            // Children of an eks.Cluster are the live form of its accessEntries, counted above.
            if (g.selfAndAncestors(e).some((a) => a.type === EKS_COMPONENT)) continue;
            const p = g.props(e);
            if (typeof p.principalArn !== "string") continue;
            const cluster =
                typeof p.clusterName === "string"
                    ? p.clusterName
                    : clusters.length === 1 && typeof clusters[0].name === "string"
                      ? clusters[0].name
                      : undefined;
            if (cluster !== undefined)
                entries.push({ cluster, principal: p.principalArn, where: label(e), urn: e.urn });
        }
        const seen = new Map<string, EntryRef>();
        for (const e of entries) {
            const key = `${e.cluster}\u0000${e.principal}`;
            const first = seen.get(key);
            if (!first) {
                seen.set(key, e);
                continue;
            }
            s.report(
                `${e.principal} has two access entries on cluster ${e.cluster} (${first.where} and ${e.where}): CreateAccessEntry fails with 409 ResourceInUseException for the second`,
                e.urn,
            );
        }
    },
});

/** Whether a security-group rule resource admits TCP 443 from somewhere. */
function opens443(type: string, p: Rec): boolean | typeof UNKNOWN {
    if (type === SG_RULE && p.type !== "ingress") return p.type === UNKNOWN ? UNKNOWN : false;
    const protocol = type === SG_RULE ? p.protocol : p.ipProtocol;
    const from = p.fromPort;
    const to = p.toPort;
    if ([protocol, from, to].includes(UNKNOWN)) return UNKNOWN;
    if (protocol === "-1" || protocol === "all" || protocol === -1) return true;
    if (protocol !== "tcp" && protocol !== "6" && protocol !== 6) return false;
    return typeof from === "number" && typeof to === "number" && from <= 443 && 443 <= to;
}

export const eksPrivateEndpointRunnerPath = stackRule({
    name: "eks-private-endpoint-runner-path",
    description:
        "A cluster whose API endpoint is private has a security-group rule opening 443 to where `pulumi up` runs.",
    tier: "B",
    remediation:
        "list the in-VPC runners in cluster.privateAccessSecurityGroupIds or cluster.privateAccessCidrs (each becomes an ingress rule on 443 of the cluster security group), or open the public endpoint to the runners' CIDRs.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        // An AMP managed collector reaches the API on 443 from its own security group, for service
        // discovery; its ENIs are no runner. Its rule names the group the scraper's `source` names.
        const collectorGroups = new Set(
            g
                .ofType(AMP_SCRAPER)
                .flatMap((sc) => sc.propertyDependencies.source ?? [])
                .filter((d) => d.type === "aws:ec2/securityGroup:SecurityGroup")
                .map((d) => d.urn),
        );
        const fromCollector = (rule: PolicyResource) =>
            (
                rule.propertyDependencies[
                    rule.type === SG_RULE ? "sourceSecurityGroupId" : "referencedSecurityGroupId"
                ] ?? []
            ).some((d) => collectorGroups.has(d.urn));
        const rules = g.ofType(SG_RULE, SG_INGRESS_RULE).filter((rule) => !fromCollector(rule));
        for (const c of clustersOf(g)) {
            const vpc = c.r.type === EKS_COMPONENT ? g.props(c.r) : at(g.props(c.r), "vpcConfig");
            const publicAccess = at(vpc, "endpointPublicAccess");
            // Both eks and EKS default to a public endpoint.
            if (publicAccess !== false) continue;
            const owner: PolicyResource = c.component ?? c.r;
            const paths = rules.filter(
                (rule) =>
                    !g.isDescendantOf(rule, owner) && // pulumi-eks's own node -> cluster rule is not a runner path
                    g.waitsFor(rule, owner) &&
                    opens443(rule.type, g.props(rule)) !== false,
            );
            if (paths.length > 0) continue;
            // pulumi-eks 4.3.0 cluster.ts 806: the /healthz wait runs only with the public endpoint
            // on, so the cluster is created, then every Kubernetes resource times out (pulumi-eks#1134).
            s.report(
                `${label(c.r)} has a private API endpoint and no security-group rule opens 443 on its cluster security group to a runner: nothing outside the control plane's own rules can reach the API, pulumi-eks skips its health wait without a public endpoint, and every Kubernetes resource times out`,
                c.r.urn,
            );
        }
    },
});

/** The day the calendar is read for: the knob when set, else today (UTC). */
const asOf = (knobs: PolicyKnobs) => (knobs.eksSupportAsOf !== "" ? knobs.eksSupportAsOf : utcToday());

export const eksKubernetesVersionSupported = resourceRule({
    name: "eks-kubernetes-version-supported",
    description:
        "The cluster runs a Kubernetes version from the EKS support calendar that is still in standard support (prod).",
    tier: "P",
    remediation:
        "move to the newest version with at least 6 months of standard support left: bump EKS_VERSIONS (Kubernetes version and every add-on) in components/eks-versions.ts together, and add its row to policy/lib/eks-calendar.ts.",
    types: [EKS_COMPONENT, EKS_CLUSTER],
    knobs: ["eksSupportAsOf"],
    check: (r) => {
        const version = r.props.version;
        if (version === UNKNOWN) return;
        if (typeof version !== "string" || version === "") {
            return r.report(
                "version is not set, so EKS creates the newest version it offers and the cluster is not pinned",
            );
        }
        const today = asOf(r.knobs);
        const status = supportStatus(version, today);
        if (status.kind === "unknown-version") {
            return r.report(
                `Kubernetes ${version} is not in the EKS support calendar (${Object.keys(EKS_KUBERNETES_CALENDAR).join(", ")}), so its end of standard support cannot be checked`,
            );
        }
        if (status.kind === "past-standard") {
            // With upgradePolicy STANDARD, EKS upgrades the control plane itself at the end of standard
            // support and the next `up` asks for a downgrade; with EXTENDED it bills extended support.
            r.report(
                `Kubernetes ${version} left EKS standard support on ${status.endOfStandardSupport} (${status.daysPast} days before ${today}): EKS either upgrades the control plane by itself (STANDARD, and the next up then asks for a downgrade) or bills extended support (EXTENDED)`,
            );
        }
    },
});

export const eksKubernetesVersionSupportEnding = resourceRule({
    name: "eks-kubernetes-version-support-ending",
    description: "Warns when the cluster's Kubernetes version leaves EKS standard support within 90 days.",
    tier: "W",
    remediation:
        "plan the upgrade now: bump EKS_VERSIONS (Kubernetes version and every add-on) in components/eks-versions.ts, dev first.",
    types: [EKS_COMPONENT, EKS_CLUSTER],
    knobs: ["eksSupportAsOf"],
    check: (r) => {
        const version = r.props.version;
        if (typeof version !== "string") return;
        const today = asOf(r.knobs);
        const status = supportStatus(version, today);
        if (status.kind === "ending") {
            r.report(
                `Kubernetes ${version} leaves EKS standard support on ${status.endOfStandardSupport}, in ${status.daysLeft} day${status.daysLeft === 1 ? "" : "s"} (as of ${today})`,
            );
        }
    },
});

/** Whether an amazon-cloudwatch-observability configuration keeps Application Signals in its agent. */
function appSignalsInAgent(doc: unknown): boolean {
    if (at(doc, "applicationSignals", "enabled") === false) return false;
    const custom = at(doc, "agent", "config");
    if (custom === undefined || custom === "default") return true;
    return (
        at(custom, "traces", "traces_collected", "application_signals") !== undefined ||
        at(custom, "logs", "metrics_collected", "application_signals") !== undefined
    );
}

export const cloudwatchObservabilityNoAutoInstrumentation = resourceRule({
    name: "cloudwatch-observability-no-auto-monitor",
    description:
        "The amazon-cloudwatch-observability add-on does not auto-instrument every workload behind a Service (Application Signals auto-monitor).",
    tier: "B",
    remediation:
        'set configurationValues {"manager": {"applicationSignals": {"autoMonitor": {"monitorAllServices": false}}}} (or turn Application Signals off), and instrument a workload on purpose with its own SDK or an explicit annotation.',
    types: ["aws:eks/addon:Addon"],
    check: (r) => {
        if (r.props.addonName !== "amazon-cloudwatch-observability") return;
        const doc = jsonDoc(r.props.configurationValues);
        if (doc === UNKNOWN) return;
        if (doc !== undefined && !doc.ok) return r.report(`configurationValues is not JSON: ${doc.error}`);
        const values = doc?.value ?? {};
        // The chart turns monitorAllServices on by itself when Application Signals is in the agent
        // and the region supports it (aws-observability/helm-charts _helpers.tpl
        // manager.modify-auto-monitor-config, since #240); off otherwise.
        if (!appSignalsInAgent(values)) return;
        const v = at(values, "manager", "applicationSignals", "autoMonitor", "monitorAllServices");
        if (v === UNKNOWN || v === false) return;
        r.report(
            `manager.applicationSignals.autoMonitor.monitorAllServices is ${show(v)}: the operator's webhook then annotates every Deployment, StatefulSet and DaemonSet a Service selects (outside its own short list of system namespaces) for Java, Python, .NET and Node.js auto-instrumentation, and injects init containers without a securityContext, which Pod Security "restricted" namespaces reject (aws/amazon-cloudwatch-agent-operator v3.6.0 pkg/instrumentation/auto/monitor.go, pkg/instrumentation/nodejs.go); pods stop being created at the next rollout`,
        );
    },
});

export const eksDeployRules = [
    eksCorednsAfterNodes,
    eksAddonsAfterNodes,
    eksAddonVersionsPinned,
    cloudwatchObservabilityNoAutoInstrumentation,
    eksAccessEntriesUnique,
    eksPrivateEndpointRunnerPath,
    eksKubernetesVersionSupported,
    eksKubernetesVersionSupportEnding,
];
