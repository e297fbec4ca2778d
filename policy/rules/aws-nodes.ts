/**
 * Worker nodes and the network under them (private subnets, IMDSv2, sizes; NAT per AZ in prod).
 * Mock view: `eks:index:Cluster` / `eks:index:ManagedNodeGroup` /
 * `awsx:ec2:Vpc` inputs; live view: `aws:eks/nodeGroup:NodeGroup`, `aws:ec2/launchTemplate:LaunchTemplate`
 * and the Vpc component's outputs.
 */
import { StackGraph, label } from "../lib/graph";
import { resourceRule, stackRule } from "../lib/rule";
import { Rec, UNKNOWN, at, list, show, stringList } from "../lib/values";
import { volumeEncryptionProblems } from "../lib/volumes";
import { EKS_COMPONENT } from "./aws-eks";

const MANAGED_NODE_GROUP = "eks:index:ManagedNodeGroup";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const SELF_MANAGED = ["eks:index:NodeGroup", "eks:index:NodeGroupV2"];
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const AWSX_VPC = "awsx:ec2:Vpc";
const EBS_DEFAULT_ENCRYPTION = "aws:ebs/encryptionByDefault:EncryptionByDefault";
export const EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";

/** Whether @pulumi/eks creates its self-managed default node group for these ClusterOptions. */
function hasDefaultNodeGroup(cluster: Rec): boolean {
    const fargate = cluster.fargate;
    const autoMode = at(cluster, "autoMode", "enabled");
    return cluster.skipDefaultNodeGroup !== true && (fargate === undefined || fargate === false) && autoMode !== true;
}

export const eksManagedNodeGroupsOnly = resourceRule({
    name: "eks-managed-node-groups-only",
    description: "Nodes run in EKS managed node groups, not in the self-managed default or NodeGroup(V2) groups.",
    tier: "B",
    remediation: "set skipDefaultNodeGroup: true on the cluster and create eks.ManagedNodeGroup(s).",
    types: [EKS_COMPONENT, ...SELF_MANAGED],
    check: (r) => {
        if (r.type !== EKS_COMPONENT) return r.report(`${r.type} is a self-managed node group`);
        if (hasDefaultNodeGroup(r.props))
            r.report("the cluster creates its self-managed default node group (skipDefaultNodeGroup is not true)");
    },
});

export const eksNodesPrivate = resourceRule({
    name: "eks-nodes-private",
    description: "Nodes get no public IP addresses and are placed in explicitly chosen (private) subnets.",
    tier: "B",
    remediation:
        "pass the private subnet ids as subnetIds of each node group, set nodeAssociatePublicIpAddress: false, and never associatePublicIpAddress in a launch template.",
    types: [EKS_COMPONENT, MANAGED_NODE_GROUP, LAUNCH_TEMPLATE],
    check: (r) => {
        if (r.type === EKS_COMPONENT) {
            if (hasDefaultNodeGroup(r.props) && r.props.nodeAssociatePublicIpAddress !== false) {
                r.report(
                    `nodeAssociatePublicIpAddress is ${show(r.props.nodeAssociatePublicIpAddress)} for the default node group`,
                );
            }
            return;
        }
        if (r.type === MANAGED_NODE_GROUP) {
            if (r.props.subnetIds === undefined) {
                r.report(
                    "subnetIds is not set, so the node group uses all the cluster's subnets, public ones included",
                );
            }
            return;
        }
        const interfaces = list(r.props.networkInterfaces);
        if (interfaces === UNKNOWN) return;
        interfaces.forEach((ni, i) => {
            const v = at(ni, "associatePublicIpAddress");
            if (v === true || v === "true") r.report(`networkInterfaces[${i}].associatePublicIpAddress is ${show(v)}`);
        });
    },
});

export const eksNodesImdsv2 = resourceRule({
    name: "eks-nodes-imdsv2",
    description: "Nodes require IMDSv2 (session tokens), so pods cannot use the instance metadata service v1.",
    tier: "B",
    remediation:
        'set enableIMDSv2: true on eks.ManagedNodeGroup, or metadataOptions.httpTokens: "required" in its launch template (spec.metadataOptions in a Karpenter EC2NodeClass).',
    types: [MANAGED_NODE_GROUP, NODE_GROUP, LAUNCH_TEMPLATE, EC2_NODE_CLASS],
    check: (r) => {
        if (r.type === MANAGED_NODE_GROUP) {
            // With a launch template of its own, IMDS is that template's business (checked on the template).
            if (r.props.launchTemplate !== undefined) return;
            if (r.props.enableIMDSv2 !== true) r.report(`enableIMDSv2 is ${show(r.props.enableIMDSv2)}`);
            return;
        }
        if (r.type === NODE_GROUP) {
            if (r.props.launchTemplate === undefined) {
                r.report("the node group has no launch template, so EKS's default (IMDSv1 allowed) applies");
            }
            return;
        }
        if (r.type === EC2_NODE_CLASS) {
            // The CRD defaults httpTokens to "required" (karpenter-crd 1.14.1, ec2nodeclasses), so
            // only an explicit other value opens IMDSv1.
            const t = at(r.props, "spec", "metadataOptions", "httpTokens");
            if (t !== UNKNOWN && t !== undefined && t !== "required")
                r.report(`spec.metadataOptions.httpTokens is ${show(t)}`);
            return;
        }
        const tokens = at(r.props, "metadataOptions", "httpTokens");
        if (tokens !== UNKNOWN && tokens !== "required") r.report(`metadataOptions.httpTokens is ${show(tokens)}`);
    },
});

export const eksNodesMultiAz = resourceRule({
    name: "eks-nodes-multi-az",
    description: "Node groups span at least two availability zones (two or more subnets; a VPC over >= 2 AZs).",
    tier: "B",
    remediation: "give each node group private subnets in at least two AZs; create the VPC over >= 2 AZs.",
    types: [MANAGED_NODE_GROUP, NODE_GROUP, AWSX_VPC],
    check: (r) => {
        if (r.type === AWSX_VPC) {
            const count = r.props.numberOfAvailabilityZones;
            if (typeof count === "number" && count < 2) r.report(`numberOfAvailabilityZones is ${count}`);
            const names = stringList(r.props.availabilityZoneNames);
            if (names !== UNKNOWN && names !== undefined && names.length < 2) {
                r.report(`availabilityZoneNames lists ${names.length} zone(s)`);
            }
            return;
        }
        const subnets = stringList(r.props.subnetIds);
        if (subnets === UNKNOWN || subnets === undefined) return; // unset: eks-nodes-private reports it
        if (new Set(subnets).size < 2) r.report(`subnetIds has ${new Set(subnets).size} subnet(s), so at most one AZ`);
    },
});

export const eksNodeGroupMinSize = resourceRule({
    name: "eks-nodegroup-min-size",
    description: "Node groups keep at least two nodes (prod).",
    tier: "P",
    remediation: "set scalingConfig.minSize >= 2.",
    types: [MANAGED_NODE_GROUP, NODE_GROUP],
    check: (r) => {
        const min = at(r.props, "scalingConfig", "minSize");
        if (min === UNKNOWN) return;
        if (typeof min !== "number" || min < 2) r.report(`scalingConfig.minSize is ${show(min)}`);
    },
});

export const vpcNatGatewayPerAz = resourceRule({
    name: "vpc-nat-gateway-per-az",
    description: "The VPC has one NAT gateway per AZ, so losing an AZ does not cut the others' egress (prod).",
    tier: "P",
    remediation: 'set natGateways: { strategy: "OnePerAz" } on the awsx.ec2.Vpc.',
    types: [AWSX_VPC],
    check: (r) => {
        const strategy = at(r.props, "natGateways", "strategy");
        // awsx: unset means one per AZ when there are public and private subnets.
        if (strategy !== UNKNOWN && strategy !== undefined && strategy !== "OnePerAz") {
            r.report(`natGateways.strategy is ${show(strategy)}`);
        }
    },
});

/** Public subnet ids the stack states: eks ClusterOptions.publicSubnetIds and awsx Vpc outputs. */
function publicSubnets(g: StackGraph): Set<string> {
    const out = new Set<string>();
    for (const r of g.ofType(EKS_COMPONENT, AWSX_VPC)) {
        const ids = stringList(g.props(r).publicSubnetIds);
        if (Array.isArray(ids)) ids.forEach((id) => out.add(id));
    }
    return out;
}

export const eksNodesPrivateSubnets = stackRule({
    name: "eks-nodes-private-subnets",
    description: "No node group is placed in a subnet the stack declares public.",
    tier: "B",
    remediation: "pass the VPC's privateSubnetIds (never publicSubnetIds) as the node group's subnetIds.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const pub = publicSubnets(g);
        if (pub.size === 0) return;
        for (const ng of g.ofType(MANAGED_NODE_GROUP, NODE_GROUP, ...SELF_MANAGED)) {
            const p = g.props(ng);
            const ids = stringList(p.subnetIds ?? p.nodeSubnetIds);
            if (!Array.isArray(ids)) continue;
            const bad = ids.filter((id) => pub.has(id));
            if (bad.length > 0) s.report(`${label(ng)} uses public subnet(s) ${bad.join(", ")}`, ng.urn);
        }
    },
});

export const eksNodesEncryptedVolumes = stackRule({
    name: "eks-nodes-encrypted-volumes",
    description:
        "Node volumes are explicitly encrypted: every node group launches from a launch template (or Karpenter EC2NodeClass) whose EBS block devices set encrypted, or the stack turns on EBS encryption by default.",
    tier: "B",
    remediation:
        "give each managed node group a launch template whose blockDeviceMappings set ebs.encrypted (gp3, optional KMS key), set encrypted: true on every EC2NodeClass block device, or create aws.ebs.EncryptionByDefault.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        // Account-wide encryption by default encrypts every new volume, whatever a template says.
        if (g.ofType(EBS_DEFAULT_ENCRYPTION).some((r) => g.props(r).enabled !== false)) return;
        for (const ng of g.ofType(MANAGED_NODE_GROUP, NODE_GROUP)) {
            const lt = g.props(ng).launchTemplate;
            if (lt !== undefined) continue; // the template is checked below (or is not this stack's)
            // pulumi-eks 4.3.0 nodes/nodegroup.ts createMNGCustomLaunchTemplate (2261-2270) maps only
            // volumeSize, and without any template EKS uses its own: neither sets `encrypted`.
            s.report(
                `${label(ng)} has no launch template of its own, so its root volume is encrypted only if the account encrypts new EBS volumes by default`,
                ng.urn,
            );
        }
        for (const lt of g.ofType(LAUNCH_TEMPLATE)) {
            const problems = volumeEncryptionProblems(g.props(lt).blockDeviceMappings, "launch template");
            if (problems !== UNKNOWN) for (const p of problems) s.report(`${label(lt)}: ${p}`, lt.urn);
        }
        for (const nc of g.ofType(EC2_NODE_CLASS)) {
            const problems = volumeEncryptionProblems(at(g.props(nc), "spec", "blockDeviceMappings"), "EC2NodeClass");
            if (problems !== UNKNOWN) for (const p of problems) s.report(`${label(nc)}: ${p}`, nc.urn);
        }
    },
});

export const nodeRules = [
    eksManagedNodeGroupsOnly,
    eksNodesPrivate,
    eksNodesImdsv2,
    eksNodesMultiAz,
    eksNodeGroupMinSize,
    vpcNatGatewayPerAz,
    eksNodesPrivateSubnets,
    eksNodesEncryptedVolumes,
];
