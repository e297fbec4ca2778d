/**
 * An estimate of the first `pulumi up`'s duration: the longest chain of waits in the program's
 * graph (scripts/lib/deploy-graph.ts), each resource taking the typical creation time of its type.
 * Remote components (eks.Cluster, eks.ManagedNodeGroup, awsx Vpc) hide their children from the
 * mocks: they are modelled by what their source creates, in order. Every figure names its source;
 * they are typical times seen in public logs and AWS documentation, not guarantees.
 */
import { GraphResource, WaitGraph, shortUrn, waitGraph } from "./deploy-graph";

export interface Duration {
    readonly seconds: number;
    readonly source: string;
}

const EKS_API = "AWS EKS API reference, CreateCluster: 'typically takes between 10 and 15 minutes'";
const TF_EKS_3218 =
    "terraform-aws-modules/terraform-aws-eks#3218 apply log: aws_eks_cluster 10m6s, add-ons ~1 min each";
const TF_NODE_GROUP = "public terraform apply logs of aws_eks_node_group: 1m15s to 5m33s, most 2-3 min";
const NAT = "NAT gateway recreation 'typically completes in 60-90 seconds' (uptimescheduler.com docs, NAT Gateways)";
const HELM =
    "public terraform apply logs of helm_release with wait (e.g. sealed-secrets 1m45s): image pull + readiness";
const API_CALL = "a single API call with no provisioning wait (seconds in any apply log)";

/** Typical creation times by resource type (custom resources and their remote stand-ins). */
export const CREATION_TIMES: Readonly<Record<string, Duration>> = {
    "aws:eks/cluster:Cluster": { seconds: 720, source: EKS_API },
    "aws:eks/nodeGroup:NodeGroup": { seconds: 180, source: TF_NODE_GROUP },
    "aws:eks/addon:Addon": { seconds: 60, source: TF_EKS_3218 },
    "aws:ec2/natGateway:NatGateway": { seconds: 90, source: NAT },
    "kubernetes:helm.sh/v3:Release": { seconds: 90, source: HELM },
    "kubernetes:apps/v1:Deployment": {
        seconds: 60,
        source: "the Kubernetes provider awaits the rollout: image pull, start-up probe, readiness (~1 min)",
    },
    "kubernetes:external-secrets.io/v1:ExternalSecret": {
        seconds: 10,
        source: "pulumi.com/waitFor condition=Ready: one Secrets Manager read after the store is ready",
    },
    "aws:amp/scraper:Scraper": {
        seconds: 600,
        source: "AMP managed collector: 'expect several minutes to reach ACTIVE' (alchemy.run AWS AMP Scraper docs); ENIs in each subnet",
    },
    "aws:amp/workspace:Workspace": { seconds: 30, source: "AMP CreateWorkspace, status CREATING -> ACTIVE" },
    "aws:ec2/subnet:Subnet": {
        seconds: 10,
        source: "terraform-aws-modules/terraform-aws-eks#2203 log: aws_subnet 10s",
    },
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": { seconds: 5, source: API_CALL },
};

/** Everything else: one API call, a few seconds. */
export const DEFAULT_TIME: Duration = { seconds: 3, source: API_CALL };
/** Components take no time of their own: they are registered once their dependencies are. */
export const COMPONENT_TIME: Duration = { seconds: 0, source: "a component resource: no API call" };

/** One step inside a remote component: what it is, its type, and the steps it waits for. */
export interface ModelledStep {
    readonly id: string;
    readonly type: string;
    readonly after: readonly string[];
}

/**
 * What the remote components create before they answer (a remote component answers once every
 * child is done), as a small graph of steps taken from their source.
 */
export function remoteContents(r: GraphResource): readonly ModelledStep[] | undefined {
    switch (r.type) {
        case "eks:index:Cluster":
            // pulumi-eks v4.3.0 nodejs/eks/cluster/cluster.ts: service role and cluster security
            // group (340-585) before the control plane (687, dependsOn the role); kube-proxy
            // (779) and the access entries (1036-1060) wait for the control plane only; vpc-cni
            // (1095) waits for the access entries (authDependencies); the OIDC provider (1255).
            return [
                { id: "service role", type: "aws:iam/role:Role", after: [] },
                { id: "cluster security group", type: "aws:ec2/securityGroup:SecurityGroup", after: [] },
                {
                    id: "control plane",
                    type: "aws:eks/cluster:Cluster",
                    after: ["service role", "cluster security group"],
                },
                { id: "kube-proxy add-on", type: "aws:eks/addon:Addon", after: ["control plane"] },
                { id: "access entries", type: "aws:eks/accessEntry:AccessEntry", after: ["control plane"] },
                {
                    id: "OIDC provider",
                    type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                    after: ["control plane"],
                },
                { id: "vpc-cni add-on", type: "aws:eks/addon:Addon", after: ["access entries"] },
            ];
        case "eks:index:ManagedNodeGroup":
            // pulumi-eks v4.3.0 nodejs/eks/nodes/nodegroup.ts: given a launch template, one node group.
            return [{ id: "managed node group", type: "aws:eks/nodeGroup:NodeGroup", after: [] }];
        case "awsx:ec2:Vpc":
            // pulumi-awsx awsx/ec2/vpc.ts: the VPC; subnets, internet gateway and EIPs; the NAT
            // gateways in the public subnets; the private subnets' default routes through them.
            return [
                { id: "VPC", type: "aws:ec2/vpc:Vpc", after: [] },
                { id: "subnets", type: "aws:ec2/subnet:Subnet", after: ["VPC"] },
                { id: "internet gateway", type: "aws:ec2/internetGateway:InternetGateway", after: ["VPC"] },
                { id: "Elastic IPs", type: "aws:ec2/eip:Eip", after: [] },
                { id: "NAT gateways", type: "aws:ec2/natGateway:NatGateway", after: ["subnets", "Elastic IPs"] },
                { id: "private routes", type: "aws:ec2/route:Route", after: ["NAT gateways"] },
            ];
        default:
            return undefined;
    }
}

export function timeOf(type: string): Duration {
    return CREATION_TIMES[type] ?? DEFAULT_TIME;
}

/** The time of one resource: a type's time, a remote component's modelled contents, or 0 for a component. */
export function durationOf(r: GraphResource): { seconds: number; parts: string[] } {
    const steps = remoteContents(r);
    if (steps) {
        const inner = longestPath(
            new Map(steps.map((s) => [s.id, { seconds: timeOf(s.type).seconds, waitsFor: s.after }])),
        );
        return {
            seconds: inner.total,
            parts: inner.path.map((id) => `${id} ${timeOf(steps.find((s) => s.id === id)!.type).seconds}s`),
        };
    }
    if (!r.custom && !r.remote) return { seconds: COMPONENT_TIME.seconds, parts: [] };
    if (r.type.startsWith("pulumi:providers:")) return { seconds: 0, parts: [] };
    return { seconds: timeOf(r.type).seconds, parts: [] };
}

/** A node of any DAG: its own duration and what it waits for. */
export interface TimedNode {
    readonly seconds: number;
    readonly waitsFor: readonly string[];
}

/**
 * Earliest finish of every node when everything starts as soon as what it waits for is done, and
 * the chain that decides the last finish. Throws on a cycle (the engine would deadlock too).
 */
export function longestPath(nodes: ReadonlyMap<string, TimedNode>): {
    readonly total: number;
    readonly path: readonly string[];
    readonly finish: ReadonlyMap<string, number>;
} {
    const finish = new Map<string, number>();
    const via = new Map<string, string | undefined>();
    const visiting = new Set<string>();
    const visit = (id: string): number => {
        const done = finish.get(id);
        if (done !== undefined) return done;
        if (visiting.has(id)) throw new Error(`cycle through ${id}`);
        visiting.add(id);
        const node = nodes.get(id);
        if (!node) throw new Error(`unknown node ${id}`);
        let start = 0;
        let from: string | undefined;
        for (const d of node.waitsFor) {
            const f = visit(d);
            if (from === undefined || f > start) {
                start = f;
                from = d;
            }
        }
        visiting.delete(id);
        finish.set(id, start + node.seconds);
        via.set(id, from);
        return start + node.seconds;
    };
    let last: string | undefined;
    for (const id of nodes.keys()) {
        const f = visit(id);
        if (last === undefined || f > finish.get(last)!) last = id;
    }
    const path: string[] = [];
    for (let at = last; at !== undefined; at = via.get(at)) path.unshift(at);
    return { total: last === undefined ? 0 : finish.get(last)!, path, finish };
}

export interface PathStep {
    readonly resource: string;
    readonly type: string;
    readonly seconds: number;
    readonly finishedAt: number;
    readonly detail: readonly string[];
}

export interface DeployEstimate {
    readonly totalSeconds: number;
    readonly path: readonly PathStep[];
    /** control plane + node group + the slowest in-cluster release. */
    readonly floorSeconds: number;
    readonly floorParts: { readonly controlPlane: number; readonly nodeGroup: number; readonly slowestRelease: number };
    readonly goalRatio: number;
}

export const GOAL_RATIO = 1.15;

/** The estimate for a recorded program run. */
export function estimateDeploy(
    resources: readonly GraphResource[],
    graph: WaitGraph = waitGraph(resources),
): DeployEstimate {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const nodes = new Map<string, TimedNode>();
    for (const r of resources) nodes.set(r.urn, { seconds: durationOf(r).seconds, waitsFor: graph.get(r.urn) ?? [] });
    const { total, path, finish } = longestPath(nodes);
    const steps: PathStep[] = path
        .map((urn) => byUrn.get(urn)!)
        .filter((r) => durationOf(r).seconds > 0)
        .map((r) => ({
            resource: shortUrn(r.urn),
            type: r.type,
            seconds: durationOf(r).seconds,
            finishedAt: finish.get(r.urn)!,
            detail: durationOf(r).parts,
        }));
    const releases = resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    const floorParts = {
        controlPlane: timeOf("aws:eks/cluster:Cluster").seconds,
        nodeGroup: timeOf("aws:eks/nodeGroup:NodeGroup").seconds,
        slowestRelease: Math.max(0, ...releases.map((r) => durationOf(r).seconds)),
    };
    return {
        totalSeconds: total,
        path: steps,
        floorSeconds: floorParts.controlPlane + floorParts.nodeGroup + floorParts.slowestRelease,
        floorParts,
        goalRatio: GOAL_RATIO,
    };
}

const mmss = (s: number) => `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;

/**
 * The steps of the critical path that are not part of the floor: everything but the control plane,
 * the node group and one release (for a remote component, what it adds to its floor part).
 */
export function overhead(e: DeployEstimate): { resource: string; seconds: number }[] {
    let releaseCounted = false;
    const credited = { controlPlane: false, nodeGroup: false, slowestRelease: false };
    const steps = e.path.flatMap((s) => {
        let extra = s.seconds;
        if (s.type === "eks:index:Cluster") {
            extra -= e.floorParts.controlPlane;
            credited.controlPlane = true;
        } else if (s.type === "eks:index:ManagedNodeGroup") {
            extra -= e.floorParts.nodeGroup;
            credited.nodeGroup = true;
        } else if (s.type === "kubernetes:helm.sh/v3:Release" && !releaseCounted) {
            releaseCounted = true;
            extra -= e.floorParts.slowestRelease;
            credited.slowestRelease = true;
        }
        return extra > 0 ? [{ resource: s.resource, seconds: extra }] : [];
    });
    // A floor part that is not on the path ran beside it (e.g. the node group and the releases
    // while a slower branch decides the total): its time is inside the path's, not added to it.
    const beside = (Object.keys(credited) as (keyof typeof credited)[]).filter((k) => !credited[k]);
    if (beside.length === 0) return steps;
    const seconds = beside.reduce((a, k) => a + e.floorParts[k], 0);
    return [...steps, { resource: `floor parts beside the path (${beside.join(", ")})`, seconds: -seconds }];
}

/** The estimate as the bench prints it. */
export function formatEstimate(stack: string, e: DeployEstimate): string {
    const ratio = e.totalSeconds / e.floorSeconds;
    const lines = [
        `first \`up\` of ${stack}, critical path (estimated from the synthesized graph):`,
        ...e.path.map(
            (s) =>
                `  ${mmss(s.finishedAt).padStart(7)}  +${String(s.seconds).padStart(4)}s  ${s.resource}${s.detail.length > 0 ? ` (${s.detail.join(" + ")})` : ""}`,
        ),
        `  total ${mmss(e.totalSeconds)}; floor ${mmss(e.floorSeconds)} = control plane ${e.floorParts.controlPlane}s + node group ${e.floorParts.nodeGroup}s + slowest release ${e.floorParts.slowestRelease}s`,
        `  ${ratio.toFixed(2)}x the floor (goal <= ${e.goalRatio}x): ${ratio <= e.goalRatio ? "met" : "NOT met"}`,
        `  on the path beyond the floor: ${overhead(e)
            .map((o) => `${o.resource} ${o.seconds}s`)
            .join(", ")}`,
    ];
    return lines.join("\n");
}

/** The sources of the times, for the bench's footnote. */
export function timeSources(): string[] {
    return [
        ...Object.entries(CREATION_TIMES).map(([type, d]) => `${type} ${d.seconds}s: ${d.source}`),
        `any other type ${DEFAULT_TIME.seconds}s: ${DEFAULT_TIME.source}`,
    ];
}
