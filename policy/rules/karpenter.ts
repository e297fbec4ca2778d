/**
 * Karpenter and its interruption queue (guardrails: "Nodes: Karpenter AMI pinned"; workload
 * capacity with limits and disruption budgets, on-demand in prod). Read at karpenter-provider-aws
 * v1.14.1: charts/karpenter-crd/templates (the CRD schemas and defaults) and the getting-started
 * CloudFormation template (queue policy, node role, access).
 */
import { StackGraph, label } from "../lib/graph";
import { ParsedPolicy, conditionEntries, parsePolicy, principals } from "../lib/iam";
import { resourceRule, stackRule } from "../lib/rule";
import { Rec, UNKNOWN, at, isRecord, list, show } from "../lib/values";
import { EKS_COMPONENT } from "./aws-eks";
import { EC2_NODE_CLASS } from "./aws-nodes";

export const NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool";
export const QUEUE = "aws:sqs/queue:Queue";
const QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy";
const TAG = "aws:ec2/tag:Tag";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const ROLE = "aws:iam/role:Role";
const DISCOVERY = "karpenter.sh/discovery";

// ---- EC2NodeClass -------------------------------------------------------------------------------------

/**
 * An alias with a dated version (`al2023@v20260714`) or an AMI id names one image. `@latest`, an
 * alias without a version, tag/name selectors and SSM parameters follow whatever is newest, so every
 * new AMI drifts every node (Karpenter replaces drifted nodes) without a change in the program.
 */
const PINNED_ALIAS = /^[a-z0-9]+@v\d{8}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;

export const karpenterAmiPinned = resourceRule({
    name: "karpenter-ami-pinned",
    description:
        "Every EC2NodeClass selects its AMI by a versioned alias (al2023@v<yyyymmdd>) or by AMI id, never @latest or a selector that follows new images.",
    tier: "B",
    remediation:
        'set amiSelectorTerms: [{ alias: "al2023@v<release>" }] with a release of awslabs/amazon-eks-ami that has builds for the cluster\'s Kubernetes version, and bump it deliberately.',
    types: [EC2_NODE_CLASS],
    check: (r) => {
        const terms = list(at(r.props, "spec", "amiSelectorTerms"));
        if (terms === UNKNOWN) return;
        if (terms.length === 0) return r.report("spec.amiSelectorTerms is empty, so no AMI is chosen explicitly");
        terms.forEach((t, i) => {
            if (t === UNKNOWN || !isRecord(t)) return;
            const where = `spec.amiSelectorTerms[${i}]`;
            if (t.alias !== undefined) {
                if (t.alias !== UNKNOWN && !(typeof t.alias === "string" && PINNED_ALIAS.test(t.alias)))
                    r.report(`${where}.alias is ${show(t.alias)}, not pinned to a dated release`);
                return;
            }
            if (t.id !== undefined) {
                if (t.id !== UNKNOWN && !(typeof t.id === "string" && AMI_ID.test(t.id)))
                    r.report(`${where}.id is ${show(t.id)}, not an AMI id`);
                return;
            }
            const by = ["tags", "name", "ssmParameter", "owner"].filter((k) => t[k] !== undefined);
            r.report(`${where} selects by ${by.join(", ") || "nothing"}, which follows whatever image is newest`);
        });
    },
});

// ---- NodePool ----------------------------------------------------------------------------------------

export const karpenterNodePoolLimits = resourceRule({
    name: "karpenter-nodepool-limits",
    description:
        "Every NodePool caps its total CPU and memory (spec.limits), so a runaway scale-up or a bad HPA cannot buy unbounded capacity.",
    tier: "B",
    remediation: 'set spec.limits: { cpu: "<vCPUs>", memory: "<quantity>" } from the stack\'s capacity budget.',
    types: [NODE_POOL],
    check: (r) => {
        const limits = at(r.props, "spec", "limits");
        if (limits === UNKNOWN) return;
        for (const resource of ["cpu", "memory"]) {
            const v = at(limits, resource);
            if (v === UNKNOWN) continue;
            if (v === undefined || v === null || v === "")
                r.report(`spec.limits.${resource} is not set, so the pool may grow without bound`);
        }
    },
});

export const karpenterNodePoolDisruption = resourceRule({
    name: "karpenter-nodepool-disruption",
    description:
        "Every NodePool bounds how many nodes it disrupts at once (spec.disruption.budgets) and replaces nodes after a set lifetime (template.spec.expireAfter, not Never).",
    tier: "B",
    remediation:
        'set spec.disruption.budgets (e.g. [{ nodes: "10%" }]) and spec.template.spec.expireAfter (e.g. "720h") so nodes pick up new AMIs.',
    types: [NODE_POOL],
    check: (r) => {
        const budgets = list(at(r.props, "spec", "disruption", "budgets"));
        if (budgets !== UNKNOWN) {
            if (budgets.length === 0)
                r.report(
                    "spec.disruption.budgets is not set, so Karpenter's default (10% of nodes at once, for every reason, at any hour) applies unreviewed",
                );
            budgets.forEach((b, i) => {
                const nodes = at(b, "nodes");
                if (nodes !== UNKNOWN && (typeof nodes !== "string" || nodes === ""))
                    r.report(`spec.disruption.budgets[${i}].nodes is ${show(nodes)}`);
            });
        }
        const expire = at(r.props, "spec", "template", "spec", "expireAfter");
        if (expire === UNKNOWN) return;
        if (expire === undefined) r.report("spec.template.spec.expireAfter is not set (Karpenter's default is 720h)");
        else if (expire === "Never")
            r.report("spec.template.spec.expireAfter is Never, so nodes never pick up new AMIs");
    },
});

/** The capacity types a NodePool's requirements allow; UNKNOWN while computed, undefined if unconstrained. */
export function capacityTypesOf(spec: unknown): string[] | typeof UNKNOWN | undefined {
    const reqs = list(at(spec, "template", "spec", "requirements"));
    if (reqs === UNKNOWN) return UNKNOWN;
    const req = reqs.find((q) => isRecord(q) && q.key === "karpenter.sh/capacity-type");
    if (req === undefined) return undefined;
    if (!isRecord(req)) return UNKNOWN;
    const values = list(req.values);
    if (values === UNKNOWN || req.operator === UNKNOWN) return UNKNOWN;
    const all = ["spot", "on-demand", "reserved"];
    const named = values.filter((v): v is string => typeof v === "string");
    if (req.operator === "In") return named;
    if (req.operator === "NotIn") return all.filter((t) => !named.includes(t));
    return all;
}

export const karpenterNodePoolOnDemand = resourceRule({
    name: "karpenter-nodepool-on-demand",
    description: "NodePools buy on-demand (or reserved) capacity only, never spot (prod).",
    tier: "P",
    remediation:
        'add the requirement { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] } to spec.template.spec.requirements.',
    types: [NODE_POOL],
    check: (r) => {
        const types = capacityTypesOf(at(r.props, "spec"));
        if (types === UNKNOWN) return;
        if (types === undefined)
            return r.report("the NodePool does not constrain karpenter.sh/capacity-type, so it depends on defaults");
        const other = types.filter((t) => t !== "on-demand" && t !== "reserved");
        if (other.length > 0) r.report(`the NodePool allows capacity type(s) ${other.join(", ")}`);
    },
});

// ---- SQS ----------------------------------------------------------------------------------------------

export const sqsQueueEncrypted = resourceRule({
    name: "sqs-queue-encrypted",
    description: "Every SQS queue is encrypted at rest, with SQS-managed keys or a KMS key, explicitly.",
    tier: "B",
    remediation: "set sqsManagedSseEnabled: true (or kmsMasterKeyId) on the queue.",
    types: [QUEUE],
    check: (r) => {
        const sse = r.props.sqsManagedSseEnabled;
        const kms = r.props.kmsMasterKeyId;
        if (sse === UNKNOWN || kms === UNKNOWN) return;
        if (sse !== true && !(typeof kms === "string" && kms !== ""))
            r.report(`sqsManagedSseEnabled is ${show(sse)} and kmsMasterKeyId is ${show(kms)}`);
    },
});

/** Whether a policy denies every principal every SQS action without TLS. */
function deniesPlainHttp(doc: ParsedPolicy): boolean {
    if (!doc.ok) return false;
    return doc.statements.some((st) => {
        if (st.effect !== "Deny") return false;
        const everyone = st.principal === "*" || principals(st.principal, "AWS").includes("*");
        const allActions = st.actions.some((a) => a === "sqs:*" || a === "*");
        const noTls = conditionEntries(st.condition).some(
            (c) =>
                c.operator === "Bool" &&
                c.key.toLowerCase() === "aws:securetransport" &&
                c.values.some((v) => v === "false" || v === false),
        );
        return everyone && allActions && noTls;
    });
}

export const sqsQueueTlsOnly = stackRule({
    name: "sqs-queue-tls-only",
    description:
        "Every SQS queue has a policy (its own or a QueuePolicy) that denies every request made without TLS (aws:SecureTransport false).",
    tier: "B",
    remediation:
        'add a statement { Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: <queue ARN>, Condition: { Bool: { "aws:SecureTransport": "false" } } } to the queue\'s policy.',
    check: (s) => {
        const g = new StackGraph(s.resources);
        const policies = g.ofType(QUEUE_POLICY);
        for (const q of g.ofType(QUEUE)) {
            const docs: unknown[] = [g.props(q).policy];
            for (const qp of policies) {
                const url = g.props(qp).queueUrl;
                const p = g.props(q);
                if (g.dependenciesOfType(qp, QUEUE).includes(q) || (typeof url === "string" && url === p.url))
                    docs.push(g.props(qp).policy);
            }
            const parsed = docs.map(parsePolicy);
            if (parsed.includes(UNKNOWN)) continue;
            if (parsed.some((d) => d !== undefined && d !== UNKNOWN && deniesPlainHttp(d))) continue;
            s.report(`${label(q)} has no policy statement that denies requests without TLS`, q.urn);
        }
    },
});

// ---- Discovery and joining -------------------------------------------------------------------------------

/** The tag values an EC2NodeClass's security group terms select by (UNKNOWN while computed). */
function securityGroupDiscoveryValues(props: Rec): (string | typeof UNKNOWN)[] {
    const terms = list(at(props, "spec", "securityGroupSelectorTerms"));
    if (terms === UNKNOWN) return [UNKNOWN];
    return terms.flatMap((t) => {
        const v = at(t, "tags", DISCOVERY);
        if (v === undefined) return [];
        return [typeof v === "string" ? v : UNKNOWN];
    });
}

/** Where the stack puts `karpenter.sh/discovery: value` on security groups, and on how many. */
function taggedSecurityGroups(g: StackGraph, value: string): { where: string; groups: number }[] {
    const out: { where: string; groups: number }[] = [];
    for (const t of g.ofType(TAG)) {
        const p = g.props(t);
        if (p.key !== DISCOVERY || p.value !== value) continue;
        // Subnets carry the same tag; a security group id starts with sg- (or is computed, like the
        // cluster security group of a cluster created in the same run).
        if (typeof p.resourceId === "string" && !p.resourceId.startsWith("sg-")) continue;
        out.push({ where: label(t), groups: 1 });
    }
    for (const sg of g.ofType(SECURITY_GROUP))
        if (at(g.props(sg), "tags", DISCOVERY) === value) out.push({ where: label(sg), groups: 1 });
    // pulumi-eks puts `tags` on its own cluster and node security groups (cluster.ts 550-585 and
    // 2118-2146 at 4.3.0), and each *SecurityGroupTags on one of them.
    for (const c of g.ofType(EKS_COMPONENT)) {
        const p = g.props(c);
        if (at(p, "tags", DISCOVERY) === value) out.push({ where: `${label(c)} tags`, groups: 2 });
        for (const k of ["clusterSecurityGroupTags", "nodeSecurityGroupTags"])
            if (at(p, k, DISCOVERY) === value) out.push({ where: `${label(c)} ${k}`, groups: 1 });
    }
    return out;
}

export const karpenterDiscoveryOneSecurityGroup = stackRule({
    name: "karpenter-discovery-one-security-group",
    description:
        "The discovery tag an EC2NodeClass selects security groups by is on exactly one security group of the stack.",
    tier: "B",
    remediation:
        "tag only the cluster security group the managed nodes use (aws.ec2.Tag on Cluster.nodeSecurityGroupId) with karpenter.sh/discovery, and keep the key out of the cluster's tags.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const nc of g.ofType(EC2_NODE_CLASS)) {
            for (const value of new Set(securityGroupDiscoveryValues(g.props(nc)))) {
                if (value === UNKNOWN) continue;
                const tagged = taggedSecurityGroups(g, value);
                const count = tagged.reduce((n, t) => n + t.groups, 0);
                if (count === 1) continue;
                s.report(
                    count === 0
                        ? `${label(nc)} selects security groups tagged ${DISCOVERY}=${value}, and no security group of the stack carries it: its nodes never launch`
                        : `${label(nc)} selects security groups tagged ${DISCOVERY}=${value}, which ${count} security groups carry (${tagged.map((t) => t.where).join("; ")}): every node gets all of them`,
                    nc.urn,
                );
            }
        }
    },
});

/** The role name in `arn:aws:iam::<acct>:role/<path/>name`. */
const roleNameOf = (arn: unknown) =>
    typeof arn === "string" && /:role\//.test(arn) ? arn.slice(arn.lastIndexOf("/") + 1) : undefined;

export const karpenterNodesCanJoin = stackRule({
    name: "karpenter-nodes-can-join",
    description:
        "The role of every EC2NodeClass has an EC2_LINUX access entry, so the nodes Karpenter launches can register with the cluster.",
    tier: "B",
    remediation:
        'create aws.eks.AccessEntry({ clusterName, principalArn: <node role ARN>, type: "EC2_LINUX" }) for the EC2NodeClass\'s role, and make the EC2NodeClass depend on it.',
    check: (s) => {
        const g = new StackGraph(s.resources);
        const entries = g.ofType(ACCESS_ENTRY).filter((e) => g.props(e).type === "EC2_LINUX");
        for (const nc of g.ofType(EC2_NODE_CLASS)) {
            const role = at(g.props(nc), "spec", "role");
            if (role === undefined) continue; // an instanceProfile: its role is not this stack's business
            const roleResources = g.dependenciesOfType(nc, ROLE);
            const joins = entries.some((e) => {
                const arn = g.props(e).principalArn;
                if (arn === UNKNOWN) {
                    const shared = g.dependenciesOfType(e, ROLE).some((r) => roleResources.includes(r));
                    return shared || roleResources.length === 0;
                }
                return role === UNKNOWN
                    ? g.dependenciesOfType(e, ROLE).some((r) => roleResources.includes(r))
                    : roleNameOf(arn) === role;
            });
            if (!joins)
                s.report(
                    `${label(nc)} launches nodes as role ${show(role)}, which has no EC2_LINUX access entry: they start, never join, and are replaced over and over`,
                    nc.urn,
                );
            else if (!entries.some((e) => g.waitsFor(nc, e)))
                s.report(
                    `${label(nc)} does not wait for its nodes' access entry, so the first nodes may not join`,
                    nc.urn,
                );
        }
    },
});

// ---- The controller ---------------------------------------------------------------------------------------

const NODE_GROUPS = [
    "eks:index:ManagedNodeGroup",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/fargateProfile:FargateProfile",
];
const isKarpenterController = (p: Rec) =>
    typeof p.chart === "string" && p.chart.replace(/\/+$/, "").split("/").pop() === "karpenter";

export const karpenterControllerOnSystemNodes = stackRule({
    name: "karpenter-controller-on-system-nodes",
    description:
        "The Karpenter release waits for a managed node group (or Fargate profile): it waits for its pods, which cannot run on the capacity Karpenter itself provides.",
    tier: "B",
    remediation: "add the system node group (Cluster.nodeGroup) to the Karpenter release's dependsOn.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const groups = g.ofType(...NODE_GROUPS);
        if (groups.length === 0) return; // capacity from outside the program
        for (const rel of g.ofType("kubernetes:helm.sh/v3:Release")) {
            const p = g.props(rel);
            if (!isKarpenterController(p) || p.skipAwait === true) continue;
            if (!groups.some((ng) => g.waitsFor(rel, ng)))
                s.report(
                    `${label(rel)} waits for its pods but for no node group: on the first up they have nowhere to run`,
                    rel.urn,
                );
        }
    },
});

export const karpenterRules = [
    karpenterAmiPinned,
    karpenterNodePoolLimits,
    karpenterNodePoolDisruption,
    karpenterNodePoolOnDemand,
    sqsQueueEncrypted,
    sqsQueueTlsOnly,
    karpenterDiscoveryOneSecurityGroup,
    karpenterNodesCanJoin,
    karpenterControllerOnSystemNodes,
];
