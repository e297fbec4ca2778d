/**
 * The cross-resource rules on the compliant stack (fixtures.ts `compliantStack`, the mock view)
 * and on live-view variants (real children under components, outputs instead of inputs), each
 * failing case changing one thing.
 */
import * as assert from "node:assert/strict";
import type { GuardrailStackPolicy } from "../lib/rule";
import { allPolicies } from "../policies";
import * as eks from "../rules/aws-eks";
import * as deploy from "../rules/aws-eks-deploy";
import * as edge from "../rules/edge";
import * as secrets from "../rules/secrets";
import * as ecr from "../rules/aws-ecr";
import * as iam from "../rules/aws-iam";
import * as logs from "../rules/aws-logs";
import * as nodes from "../rules/aws-nodes";
import * as helm from "../rules/k8s-helm";
import * as k8s from "../rules/k8s-stack";
import * as karpenter from "../rules/karpenter";
import {
    CLUSTER_NAME,
    DEPLOY_ROLE,
    IMAGE,
    PUBLIC_SUBNETS,
    T,
    awsEksCluster,
    awsNodeGroup,
    compliantStack,
    ecrLifecycleRules,
    irsaTrust,
    launchTemplate,
    queuePolicyStatements,
} from "./fixtures";
import { K8S_PROVIDER, StackFixture, runStackRule, urnOf } from "./helpers";
import { del, get, set } from "./paths";
import { PULUMI_UNKNOWN_SENTINEL as UNKNOWN_SENTINEL } from "../lib/values";

type Change = (stack: StackFixture[]) => StackFixture[];

interface StackCase {
    readonly why: string;
    readonly change: Change;
    readonly expect?: RegExp;
}

interface StackTable {
    readonly rule: GuardrailStackPolicy;
    readonly fail: readonly StackCase[];
    readonly pass?: readonly StackCase[];
}

const find = (stack: StackFixture[], key: string): StackFixture => {
    const f = stack.find((r) => r.key === key);
    if (!f) throw new Error(`no ${key}`);
    return f;
};
/** Changes the props of one resource. */
const edit =
    (key: string, fn: (p: Record<string, unknown>) => void): Change =>
    (stack) => {
        fn(find(stack, key).props);
        return stack;
    };
type LifecycleRules = ReturnType<typeof ecrLifecycleRules>;
/** Replaces the rules of the repository's lifecycle policy. */
const editLifecycle = (fn: (rules: LifecycleRules) => unknown[]): Change =>
    edit("repo-lifecycle", (p) => set(p, "policy", JSON.stringify({ rules: fn(ecrLifecycleRules()) })));
/** Removes resources, and every reference to them (as if the program had never created them). */
const without =
    (...keys: string[]): Change =>
    (stack) =>
        stack
            .filter((r) => !keys.includes(r.key))
            .map((r) => ({
                ...r,
                dependsOn: (r.dependsOn ?? []).filter((d) => !keys.includes(d)),
                propertyDependencies: Object.fromEntries(
                    Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [
                        k,
                        v.filter((d) => !keys.includes(d)),
                    ]),
                ),
            }));
const replace =
    (key: string, fn: (f: StackFixture) => StackFixture): Change =>
    (stack) =>
        stack.map((r) => (r.key === key ? fn(r) : r));
const add =
    (...extra: StackFixture[]): Change =>
    (stack) => [...stack, ...extra];
const chain =
    (...changes: Change[]): Change =>
    (stack) =>
        changes.reduce((s, c) => c(s), stack);
const dependsOn = (key: string, deps: string[]): Change => replace(key, (f) => ({ ...f, dependsOn: deps }));

/** Gives checkout's container OTEL_EXPORTER_OTLP_ENDPOINT (or another URL). */
const withEnv = (url: string): Change =>
    edit("checkout-deployment", (p) =>
        (get(p, "spec.template.spec.containers.0.env") as unknown[]).push({
            name: "OTEL_EXPORTER_OTLP_ENDPOINT",
            value: url,
        }),
    );
/** Adds an egress rule to checkout's own NetworkPolicy. */
const egressTo = (to: unknown[], ports: unknown[]): Change =>
    edit("checkout-allow", (p) => (get(p, "spec.egress") as unknown[]).push({ to, ports }));
const agentPeer = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "amazon-cloudwatch" } },
    podSelector: { matchLabels: { "app.kubernetes.io/component": "amazon-cloudwatch-agent" } },
};
const cloudwatchAddon: StackFixture = {
    key: "cloudwatch-addon",
    type: "aws:eks/addon:Addon",
    props: {
        clusterName: CLUSTER_NAME,
        addonName: "amazon-cloudwatch-observability",
        addonVersion: "v6.4.0-eksbuild.1",
    },
    dependsOn: ["nodes"],
};

/**
 * The live view of the cluster: the component's props are its outputs (no name, no inputs) and
 * the real `aws:eks/cluster:Cluster`, OIDC provider and node group are its children.
 */
const liveCluster: Change = chain(
    replace("eks", (f) => ({ ...f, props: { kubeconfigJson: "{}", oidcProviderArn: "arn" } })),
    add(
        { key: "eks-cluster", type: "aws:eks/cluster:Cluster", props: awsEksCluster(), parent: "eks" },
        {
            key: "eks-oidc",
            type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            props: { url: "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE" },
            parent: "eks",
        },
    ),
);

/** The prod form: the public endpoint off. */
const privateEndpoint: Change = edit("eks", (p) => {
    set(p, "endpointPublicAccess", false);
    del(p, "publicAccessCidrs");
});
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
/** The program's rule: 443 from the in-VPC runner's CIDR on the cluster's security group. */
const runnerRule = (props: Record<string, unknown> = {}): StackFixture => ({
    key: "api-from-runner",
    type: SG_RULE,
    props: {
        type: "ingress",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["10.0.0.0/16"],
        securityGroupId: "sg-0cluster",
        ...props,
    },
    dependsOn: ["eks"],
    propertyDependencies: { securityGroupId: ["eks"] },
});
const EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const nodeClass = (blockDeviceMappings?: unknown): StackFixture => ({
    key: "default-nodeclass",
    type: EC2_NODE_CLASS,
    props: {
        metadata: { name: "default" },
        spec: {
            amiSelectorTerms: [{ alias: "al2023@v20261115" }],
            ...(blockDeviceMappings !== undefined ? { blockDeviceMappings } : {}),
        },
    },
    provider: K8S_PROVIDER,
});

const TABLE: readonly StackTable[] = [
    {
        rule: deploy.eksAddonsAfterNodes,
        fail: [
            {
                why: "coredns created before any node (pulumi-eks#1819)",
                change: dependsOn("coredns", ["eks"]),
                expect: /\(coredns\) does not wait for any node group/,
            },
            {
                why: "metrics-server created before any node",
                change: add({
                    key: "metrics-server",
                    type: T.addon,
                    props: {
                        clusterName: CLUSTER_NAME,
                        addonName: "metrics-server",
                        addonVersion: "v0.9.0-eksbuild.11",
                    },
                    dependsOn: ["eks"],
                }),
            },
            {
                why: "live: pulumi-eks's own coredns child, which waits for nothing",
                change: chain(
                    without("coredns"),
                    add({
                        key: "eks-coredns",
                        type: T.addon,
                        props: { clusterName: CLUSTER_NAME, addonName: "coredns" },
                        parent: "eks",
                    }),
                ),
            },
        ],
        pass: [
            { why: "vpc-cni (a DaemonSet) before the nodes", change: dependsOn("vpc-cni", ["eks"]) },
            {
                why: "waits through a component that holds the node group",
                change: dependsOn("coredns", ["eks", "nodes"]),
            },
        ],
    },
    {
        rule: deploy.eksAccessEntriesUnique,
        fail: [
            {
                why: "one principal under two keys of accessEntries",
                change: edit("eks", (p) => set(p, "accessEntries.preview.principalArn", DEPLOY_ROLE)),
                expect: /two access entries on cluster checkout-prod \(accessEntries\.deploy and accessEntries\.preview\).*409/,
            },
            {
                why: "a standalone AccessEntry for a principal the component already has",
                change: add({
                    key: "deploy-entry",
                    type: "aws:eks/accessEntry:AccessEntry",
                    props: { clusterName: CLUSTER_NAME, principalArn: DEPLOY_ROLE },
                    dependsOn: ["eks"],
                }),
            },
        ],
        pass: [
            {
                why: "live: the component's own AccessEntry children are not counted twice",
                change: add({
                    key: "eks-deploy",
                    type: "aws:eks/accessEntry:AccessEntry",
                    props: { clusterName: CLUSTER_NAME, principalArn: DEPLOY_ROLE },
                    parent: "eks",
                }),
            },
            {
                why: "the same principal on another cluster",
                change: add({
                    key: "other-entry",
                    type: "aws:eks/accessEntry:AccessEntry",
                    props: { clusterName: "checkout-dev", principalArn: DEPLOY_ROLE },
                }),
            },
        ],
    },
    {
        rule: deploy.eksPrivateEndpointRunnerPath,
        fail: [
            {
                why: "private endpoint, no runner path (prod before the fix)",
                change: privateEndpoint,
                expect: /private API endpoint and no security-group rule opens 443/,
            },
            {
                why: "a rule on the wrong port",
                change: chain(privateEndpoint, add(runnerRule({ fromPort: 22, toPort: 22 }))),
            },
            {
                why: "a rule that is egress",
                change: chain(privateEndpoint, add(runnerRule({ type: "egress" }))),
            },
            {
                why: "a rule unrelated to the cluster",
                change: chain(privateEndpoint, add({ ...runnerRule(), dependsOn: [], propertyDependencies: {} })),
            },
            {
                why: "live: only pulumi-eks's own node-to-cluster rule",
                change: chain(
                    liveCluster,
                    edit("eks-cluster", (p) => {
                        set(p, "vpcConfig.endpointPublicAccess", false);
                        del(p, "vpcConfig.publicAccessCidrs");
                    }),
                    add({ ...runnerRule(), key: "eks-node-ingress", parent: "eks", dependsOn: ["eks-cluster"] }),
                ),
            },
        ],
        pass: [
            { why: "a public endpoint", change: (s) => s },
            { why: "a 443 rule from the runner CIDR", change: chain(privateEndpoint, add(runnerRule())) },
            {
                why: "a 443 rule from the runner security group (aws.vpc.SecurityGroupIngressRule)",
                change: chain(
                    privateEndpoint,
                    add({
                        ...runnerRule(),
                        type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                        props: {
                            ipProtocol: "tcp",
                            fromPort: 443,
                            toPort: 443,
                            referencedSecurityGroupId: "sg-0runner",
                            securityGroupId: "sg-0cluster",
                        },
                    }),
                ),
            },
        ],
    },
    {
        rule: nodes.eksNodesEncryptedVolumes,
        fail: [
            {
                why: "the node group uses pulumi-eks's template (the program before the fix)",
                change: edit("nodes", (p) => {
                    del(p, "launchTemplate");
                    set(p, "enableIMDSv2", true);
                }),
                expect: /no launch template of its own/,
            },
            {
                why: "a root volume without encrypted",
                change: edit("nodes-lt", (p) => del(p, "blockDeviceMappings.0.ebs.encrypted")),
                expect: /\/dev\/xvda\) has ebs\.encrypted \(not set\)/,
            },
            {
                why: "encrypted false",
                change: edit("nodes-lt", (p) => set(p, "blockDeviceMappings.0.ebs.encrypted", "false")),
            },
            {
                why: "a template that maps no block device",
                change: edit("nodes-lt", (p) => del(p, "blockDeviceMappings")),
                expect: /maps no block devices/,
            },
            {
                why: "live: the node group without a launch template",
                change: add({
                    key: "eks-ng",
                    type: "aws:eks/nodeGroup:NodeGroup",
                    props: { ...awsNodeGroup(), launchTemplate: undefined },
                    parent: "nodes",
                }),
            },
            {
                why: "a Karpenter EC2NodeClass that relies on the AMI default",
                change: add(nodeClass()),
                expect: /EC2NodeClass maps no block devices/,
            },
            {
                why: "a Karpenter EC2NodeClass with an unencrypted volume",
                change: add(nodeClass([{ deviceName: "/dev/xvda", ebs: { volumeSize: "50Gi", volumeType: "gp3" } }])),
            },
        ],
        pass: [
            {
                why: "the account encrypts new volumes by default",
                change: chain(
                    edit("nodes", (p) => del(p, "launchTemplate")),
                    add({
                        key: "ebs-default",
                        type: "aws:ebs/encryptionByDefault:EncryptionByDefault",
                        props: { enabled: true },
                    }),
                ),
            },
            {
                why: "an EC2NodeClass with encrypted volumes",
                change: add(
                    nodeClass([
                        { deviceName: "/dev/xvda", ebs: { volumeSize: "50Gi", volumeType: "gp3", encrypted: true } },
                    ]),
                ),
            },
            {
                why: "a launch template whose mappings are still unknown",
                change: add({
                    key: "lt-2",
                    type: T.launchTemplate,
                    props: { ...launchTemplate(), blockDeviceMappings: UNKNOWN_SENTINEL },
                }),
            },
        ],
    },
    {
        rule: eks.eksControlPlaneLogGroup,
        fail: [
            {
                why: "no log group",
                change: without("control-plane-logs"),
                expect: /no log group \/aws\/eks\/checkout-prod\/cluster/,
            },
            {
                why: "the cluster does not wait for it",
                change: dependsOn("eks", ["vpc", "secrets-key"]),
                expect: /does not depend/,
            },
            {
                why: "the cluster has no explicit name",
                change: edit("eks", (p) => del(p, "name")),
                expect: /no explicit name/,
            },
            {
                why: "a group for another name",
                change: edit("control-plane-logs", (p) => set(p, "name", "/aws/eks/checkout/cluster")),
            },
            {
                why: "live: neither the cluster nor its component waits",
                change: chain(liveCluster, dependsOn("eks", ["vpc"])),
            },
        ],
        pass: [{ why: "live: the component waits, the child inherits", change: liveCluster }],
    },
    {
        rule: eks.eksWorkloadIdentity,
        fail: [
            {
                why: "no OIDC provider, no Pod Identity",
                change: edit("eks", (p) => set(p, "createOidcProvider", false)),
            },
            { why: "live: no OIDC provider child", change: chain(liveCluster, without("eks-oidc")) },
        ],
        pass: [
            { why: "live: OIDC provider child", change: liveCluster },
            {
                why: "Pod Identity agent instead",
                change: chain(
                    edit("eks", (p) => del(p, "createOidcProvider")),
                    add({
                        key: "pia",
                        type: T.addon,
                        props: { clusterName: CLUSTER_NAME, addonName: "eks-pod-identity-agent" },
                    }),
                ),
            },
        ],
    },
    {
        rule: nodes.eksNodesPrivateSubnets,
        fail: [
            {
                why: "node group in public subnets",
                change: edit("nodes", (p) => set(p, "subnetIds", [...PUBLIC_SUBNETS])),
                expect: /subnet-pub-a/,
            },
            {
                why: "live: node group in a subnet the VPC's outputs call public",
                change: chain(
                    edit("vpc", (p) =>
                        Object.assign(p, {
                            publicSubnetIds: ["subnet-live-pub"],
                            privateSubnetIds: ["subnet-live-priv"],
                        }),
                    ),
                    edit("eks", (p) => del(p, "publicSubnetIds")),
                    add({
                        key: "ng",
                        type: "aws:eks/nodeGroup:NodeGroup",
                        props: { ...awsNodeGroup(), subnetIds: ["subnet-live-pub", "subnet-live-priv"] },
                    }),
                ),
            },
        ],
    },
    {
        rule: ecr.ecrLifecyclePolicy,
        fail: [
            { why: "no lifecycle policy", change: without("repo-lifecycle"), expect: /no lifecycle policy/ },
            {
                why: "a policy without rules",
                change: edit("repo-lifecycle", (p) => set(p, "policy", JSON.stringify({ rules: [] }))),
                expect: /no rules/,
            },
            {
                why: "the policy is for another repository",
                change: chain(
                    edit("repo-lifecycle", (p) => set(p, "repository", "other-repo")),
                    replace("repo-lifecycle", (f) => ({ ...f, dependsOn: [], propertyDependencies: {} })),
                ),
            },
        ],
        pass: [
            {
                why: "an autonamed repository matched by dependency",
                change: chain(
                    edit("repo", (p) => del(p, "name")),
                    edit("repo-lifecycle", (p) => set(p, "repository", "repo-1a2b3c4")),
                ),
            },
        ],
    },
    {
        rule: ecr.ecrLifecycleSparesRunningImages,
        fail: [
            {
                why: "the Deployment runs a CI tag the policy expires by count",
                change: edit("checkout-deployment", (p) =>
                    set(p, "spec.template.spec.containers.0.image", IMAGE.replace(/:[^:]+$/, `:sha-${"a".repeat(40)}`)),
                ),
                expect: /runs checkout-service:sha-a+, which .*rule 3 expires \("imageCountMoreThan" 30\)/,
            },
            {
                why: "a count rule over every image (tagStatus any) expires the release it runs",
                change: editLifecycle((rules) => [
                    rules[1],
                    { ...rules[2], selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 } },
                ]),
                expect: /runs checkout-service:1\.4\.2, which .* expires/,
            },
            {
                why: "an age rule over the release tags",
                change: editLifecycle((rules) => [
                    {
                        ...rules[0],
                        selection: { ...rules[0].selection, countType: "sinceImagePushed", countNumber: 90 },
                    },
                    ...rules.slice(1),
                ]),
                expect: /rule 1 expires \("sinceImagePushed" 90\)/,
            },
        ],
        pass: [
            {
                why: "no rule selects the running tag",
                change: editLifecycle((rules) => rules.slice(1)),
            },
            {
                why: "a digest (no tag to match)",
                change: edit("checkout-deployment", (p) =>
                    set(
                        p,
                        "spec.template.spec.containers.0.image",
                        IMAGE.replace(/:[^:]+$/, `@sha256:${"b".repeat(64)}`),
                    ),
                ),
            },
            {
                why: "a CI tag of another repository",
                change: edit("checkout-deployment", (p) =>
                    set(
                        p,
                        "spec.template.spec.containers.0.image",
                        IMAGE.replace(/checkout-service:.*$/, `other:sha-${"a".repeat(40)}`),
                    ),
                ),
            },
        ],
    },
    {
        rule: logs.cloudwatchLogKmsKeyPolicy,
        fail: [
            {
                why: "the key policy does not let CloudWatch Logs use the key",
                change: edit("logs-key", (p) => {
                    const doc = JSON.parse(p.policy as string) as { Statement: unknown[] };
                    doc.Statement = doc.Statement.slice(0, 1);
                    p.policy = JSON.stringify(doc);
                }),
                expect: /CloudWatch Logs/,
            },
            { why: "the default key policy", change: edit("logs-key", (p) => del(p, "policy")) },
        ],
        pass: [
            {
                why: "the group is not KMS-encrypted (dev)",
                change: edit("control-plane-logs", (p) => del(p, "kmsKeyId")),
            },
        ],
    },
    {
        rule: iam.iamIrsaServiceAccountMatch,
        fail: [
            {
                why: "the release name changes the chart's service account name",
                change: edit("cert-manager", (p) => set(p, "name", "cm")),
                expect: /system:serviceaccount:cert-manager:cm-cert-manager/,
            },
            {
                why: "an autonamed release",
                change: edit("cert-manager", (p) => del(p, "name")),
                expect: /no explicit name/,
            },
            {
                why: "a ServiceAccount borrowing the role",
                change: add({
                    key: "external-dns-sa",
                    type: T.sa,
                    props: {
                        metadata: {
                            name: "external-dns",
                            namespace: "external-dns",
                            annotations: {
                                "eks.amazonaws.com/role-arn": "arn:aws:iam::222222222222:role/cert-manager-dns01",
                            },
                        },
                    },
                    dependsOn: ["cert-manager-role"],
                    provider: K8S_PROVIDER,
                }),
                expect: /external-dns/,
            },
        ],
        pass: [
            {
                why: "serviceAccount.name pins it back",
                change: chain(
                    edit("cert-manager", (p) => set(p, "name", "cm")),
                    edit("cert-manager", (p) => set(p, "values.serviceAccount.name", "cert-manager")),
                ),
            },
            {
                why: "a ServiceAccount the role is pinned to",
                change: chain(
                    edit("cert-manager-role", (p) =>
                        set(
                            p,
                            "assumeRolePolicy",
                            JSON.stringify(irsaTrust("system:serviceaccount:checkout:checkout-service")),
                        ),
                    ),
                    edit("cert-manager", (p) => del(p, "values.serviceAccount")),
                    edit("checkout-sa", (p) =>
                        set(p, "metadata.annotations", {
                            "eks.amazonaws.com/role-arn": "arn:aws:iam::222222222222:role/cert-manager-dns01",
                        }),
                    ),
                ),
            },
        ],
    },
    {
        rule: k8s.k8sPdbPerWorkload,
        fail: [
            { why: "no PDB", change: without("checkout-pdb") },
            {
                why: "the PDB selects other pods",
                change: edit("checkout-pdb", (p) => set(p, "spec.selector.matchLabels", { app: "other" })),
            },
            {
                why: "the PDB is in another namespace",
                change: edit("checkout-pdb", (p) => set(p, "metadata.namespace", "other")),
            },
        ],
    },
    {
        rule: k8s.k8sNetworkPolicyPerWorkload,
        fail: [
            {
                why: "only the default deny",
                change: without("checkout-allow"),
                expect: /no NetworkPolicy selects its pods specifically/,
            },
            { why: "no DNS egress", change: edit("checkout-allow", (p) => del(p, "spec.egress.0")), expect: /DNS/ },
            {
                why: "ingress rules in a policy that does not declare Ingress (Kubernetes ignores them)",
                change: edit("checkout-allow", (p) => set(p, "spec.policyTypes", ["Egress"])),
                expect: /no NetworkPolicy of its own declares Ingress/,
            },
            {
                why: "egress not declared as a policy type",
                change: edit("checkout-allow", (p) => {
                    set(p, "spec.policyTypes", ["Ingress"]);
                    del(p, "spec.egress");
                }),
                expect: /no Egress rules/,
            },
        ],
        pass: [
            {
                why: "policyTypes left to Kubernetes' defaulting",
                change: edit("checkout-allow", (p) => del(p, "spec.policyTypes")),
            },
            {
                why: "Ingress declared with no rules: nothing may call it yet (a service without a route)",
                change: edit("checkout-allow", (p) => set(p, "spec.ingress", [])),
            },
            {
                why: "Ingress declared, ingress unset",
                change: edit("checkout-allow", (p) => del(p, "spec.ingress")),
            },
        ],
    },
    {
        rule: k8s.k8sEgressToClusterServices,
        fail: [
            {
                why: "a Service addressed, no egress rule to its namespace on its port",
                change: withEnv("http://cloudwatch-agent.amazon-cloudwatch.svc:4316"),
                expect: /OTEL_EXPORTER_OTLP_ENDPOINT addresses cloudwatch-agent\.amazon-cloudwatch:4316, but no egress rule/,
            },
            {
                // The first wiring of checkout's traces: an ipBlock of the node subnets, where the
                // agent's host-network pods live, never matches the ClusterIP the SDK dials.
                why: "egress on the port by ipBlock only",
                change: chain(
                    withEnv("http://cloudwatch-agent.amazon-cloudwatch.svc.cluster.local:4316"),
                    egressTo([{ ipBlock: { cidr: "10.0.0.0/16" } }], [{ port: 4316, protocol: "TCP" }]),
                ),
                expect: /allowed only by ipBlock, which never matches the Service's ClusterIP/,
            },
            {
                why: "`<service>.<namespace>` of an EKS add-on's namespace",
                change: chain(add(cloudwatchAddon), withEnv("http://cloudwatch-agent.amazon-cloudwatch:4316")),
                expect: /addresses cloudwatch-agent\.amazon-cloudwatch:4316/,
            },
            {
                why: "a selector rule to the right namespace on another port",
                change: chain(
                    withEnv("http://cloudwatch-agent.amazon-cloudwatch.svc:4316"),
                    egressTo([agentPeer], [{ port: 4318, protocol: "TCP" }]),
                ),
                expect: /no egress rule/,
            },
            {
                why: "a bare service name in the pod's own namespace (the default port)",
                change: withEnv("http://orders"),
                expect: /addresses orders\.checkout:80/,
            },
        ],
        pass: [
            {
                why: "the agent's pods by namespace and labels on the port (what the program builds)",
                change: chain(
                    add(cloudwatchAddon),
                    withEnv("http://cloudwatch-agent.amazon-cloudwatch:4316"),
                    egressTo([agentPeer], [{ port: 4316, protocol: "TCP" }]),
                ),
            },
            {
                why: "a port range covering the port",
                change: chain(
                    withEnv("http://cloudwatch-agent.amazon-cloudwatch.svc:4316"),
                    egressTo([agentPeer], [{ port: 4315, endPort: 4318, protocol: "TCP" }]),
                ),
            },
            {
                why: "every address on the port (it includes the ClusterIPs)",
                change: chain(
                    withEnv("http://cloudwatch-agent.amazon-cloudwatch.svc:4316"),
                    egressTo([{ ipBlock: { cidr: "0.0.0.0/0" } }], [{ port: 4316, protocol: "TCP" }]),
                ),
            },
            {
                why: "a two-label host that is no namespace of the cluster (an outside name)",
                change: withEnv("https://payments.example:8443"),
            },
            {
                why: "pods of the own namespace by podSelector alone",
                change: chain(
                    withEnv("http://orders:8080"),
                    egressTo([{ podSelector: { matchLabels: { app: "orders" } } }], [{ port: 8080 }]),
                ),
            },
        ],
    },
    {
        rule: k8s.k8sNetworkPolicyIngressSources,
        fail: [
            {
                // checkout-service's policy before the Gateway route: callers anywhere on the app port.
                why: "an ingress rule without `from`",
                change: edit("checkout-allow", (p) =>
                    set(p, "spec.ingress", [{ ports: [{ protocol: "TCP", port: 8080 }] }]),
                ),
                expect: /ingress\[0\] has no `from`: every pod and address may connect/,
            },
            {
                why: "an empty `from`",
                change: edit("checkout-allow", (p) => set(p, "spec.ingress.0.from", [])),
                expect: /has no `from`/,
            },
            {
                why: "policyTypes left to Kubernetes' defaulting (Ingress is still enforced)",
                change: edit("checkout-allow", (p) => {
                    del(p, "spec.policyTypes");
                    del(p, "spec.ingress.0.from");
                }),
                expect: /has no `from`/,
            },
            {
                why: "every namespace, every pod",
                change: edit("checkout-allow", (p) => set(p, "spec.ingress.0.from", [{ namespaceSelector: {} }])),
                expect: /from\[0\]: namespaceSelector \{\} without a podSelector/,
            },
            {
                why: "every namespace, an empty pod selector",
                change: edit("checkout-allow", (p) =>
                    set(p, "spec.ingress.0.from", [{ namespaceSelector: { matchLabels: {} }, podSelector: {} }]),
                ),
                expect: /every pod in every namespace/,
            },
            {
                why: "every address",
                change: edit("checkout-allow", (p) =>
                    set(p, "spec.ingress.0.from", [{ ipBlock: { cidr: "0.0.0.0/0" } }]),
                ),
                expect: /ipBlock 0\.0\.0\.0\/0 is every address/,
            },
            {
                why: "an empty peer next to a named one",
                change: edit("checkout-allow", (p) => set(p, "spec.ingress.0.from.1", {})),
                expect: /from\[1\]: an empty peer/,
            },
            {
                why: "an open rule in the default deny",
                change: edit("checkout-default-deny", (p) => set(p, "spec.ingress", [{}])),
                expect: /NetworkPolicy::checkout-default-deny/,
            },
        ],
        pass: [
            {
                why: "the pods of a named namespace",
                change: edit("checkout-allow", (p) =>
                    set(p, "spec.ingress.0.from", [
                        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
                    ]),
                ),
            },
            {
                why: "labelled pods in any namespace",
                change: edit("checkout-allow", (p) =>
                    set(p, "spec.ingress.0.from", [
                        { namespaceSelector: {}, podSelector: { matchLabels: { app: "prometheus" } } },
                    ]),
                ),
            },
            {
                why: "an open rule in a policy that declares only Egress (Kubernetes ignores it)",
                change: edit("checkout-allow", (p) => {
                    set(p, "spec.policyTypes", ["Egress"]);
                    del(p, "spec.ingress.0.from");
                }),
            },
            {
                why: "an open rule in a namespace without workloads",
                change: add({
                    key: "edge-open",
                    type: T.np,
                    props: {
                        metadata: { name: "edge", namespace: "envoy-gateway-system" },
                        spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
                    },
                    provider: K8S_PROVIDER,
                }),
            },
        ],
    },
    {
        rule: k8s.k8sNamespaceDefaultDeny,
        fail: [
            { why: "no default deny", change: without("checkout-default-deny"), expect: /namespace checkout/ },
            {
                why: "the 'deny' allows ingress",
                change: edit("checkout-default-deny", (p) => set(p, "spec.ingress", [{}])),
            },
            {
                why: "ingress only",
                change: edit("checkout-default-deny", (p) => set(p, "spec.policyTypes", ["Ingress"])),
            },
        ],
    },
    {
        rule: k8s.k8sHpaTarget,
        fail: [
            {
                why: "the Deployment sets replicas",
                change: edit("checkout-deployment", (p) => set(p, "spec.replicas", 3)),
                expect: /sets spec.replicas/,
            },
            {
                why: "the target does not exist",
                change: edit("checkout-hpa", (p) => set(p, "spec.scaleTargetRef.name", "checkout")),
                expect: /does not create/,
            },
            {
                why: "a kind that is not scalable",
                change: edit("checkout-hpa", (p) => set(p, "spec.scaleTargetRef.kind", "Service")),
            },
            {
                why: "live: pulumi owns spec.replicas",
                change: edit("checkout-deployment", (p) => {
                    set(p, "spec.replicas", 3);
                    set(p, "metadata.managedFields", [
                        {
                            manager: "pulumi-kubernetes-8a7b",
                            operation: "Apply",
                            fieldsV1: { "f:spec": { "f:replicas": {} } },
                        },
                    ]);
                }),
            },
        ],
        pass: [
            {
                why: "live: the HPA owns spec.replicas",
                change: edit("checkout-deployment", (p) => {
                    set(p, "spec.replicas", 5);
                    set(p, "metadata.managedFields", [
                        {
                            manager: "pulumi-kubernetes-8a7b",
                            operation: "Apply",
                            fieldsV1: { "f:spec": { "f:template": {} } },
                        },
                        {
                            manager: "kube-controller-manager",
                            operation: "Update",
                            subresource: "scale",
                            fieldsV1: { "f:spec": { "f:replicas": {} } },
                        },
                    ]);
                }),
            },
            {
                why: "mock: an autonamed Deployment matched by its logical name",
                change: chain(
                    edit("checkout-deployment", (p) => del(p, "metadata.name")),
                    edit("checkout-hpa", (p) => set(p, "spec.scaleTargetRef.name", "checkout-deployment-5f2a9c1e")),
                ),
            },
        ],
    },
    {
        rule: helm.certManagerIssuerAfterRelease,
        fail: [
            {
                why: "the issuer does not wait for the release",
                change: dependsOn("letsencrypt-prod", []),
                expect: /does not depend/,
            },
        ],
        pass: [{ why: "cert-manager installed elsewhere", change: without("cert-manager") }],
    },
    {
        rule: edge.gatewayHttpRedirectOnly,
        fail: [
            {
                why: "no redirect on the HTTP listener",
                change: without("edge-redirect"),
                expect: /no HTTPRoute redirecting it to https/,
            },
            {
                why: "a same-namespace route without sectionName serves plain HTTP",
                change: add({
                    key: "gw-app",
                    type: T.route,
                    props: {
                        metadata: { name: "status", namespace: "gateway" },
                        spec: {
                            parentRefs: [{ name: "edge" }],
                            rules: [{ backendRefs: [{ name: "status", port: 80 }] }],
                        },
                    },
                    dependsOn: ["gateway-crds"],
                    provider: K8S_PROVIDER,
                }),
                expect: /does more than redirect/,
            },
            {
                why: "the HTTP listener admits every namespace, so the app route attaches to it",
                change: chain(
                    edit("edge-gateway", (p) => set(p, "spec.listeners.0.allowedRoutes.namespaces.from", "All")),
                    edit("checkout-route", (p) => del(p, "spec.parentRefs.0.sectionName")),
                ),
                expect: /checkout-route is attached to the HTTP listener/,
            },
            {
                why: "a redirect to http",
                change: edit("edge-redirect", (p) => set(p, "spec.rules.0.filters.0.requestRedirect.scheme", "http")),
            },
        ],
        pass: [
            {
                why: "an app route without sectionName in another namespace (the HTTP listener admits Same only)",
                change: edit("checkout-route", (p) => del(p, "spec.parentRefs.0.sectionName")),
            },
        ],
    },
    {
        rule: secrets.externalSecretStoreExists,
        fail: [
            {
                why: "the store is not created by the program",
                change: without("secret-store"),
                expect: /checkout-db reads from "ClusterSecretStore" "aws-secrets-manager", which this program does not create/,
            },
            {
                why: "a store of another name",
                change: edit("checkout-db", (p) => set(p, "spec.secretStoreRef.name", "vault")),
                expect: /"vault"/,
            },
            {
                why: "no kind: the default SecretStore, which does not exist",
                change: edit("checkout-db", (p) => del(p, "spec.secretStoreRef.kind")),
                expect: /"SecretStore"/,
            },
            {
                why: "the name is a literal: nothing makes the ExternalSecret wait for the store",
                change: dependsOn("checkout-db", ["checkout-ns"]),
                expect: /does not wait for its store/,
            },
        ],
        pass: [
            {
                why: "a SecretStore in the ExternalSecret's namespace",
                change: chain(
                    edit("secret-store", (p) => {
                        set(p, "kind", "SecretStore");
                        set(p, "metadata.namespace", "checkout");
                    }),
                    replace("secret-store", (f) => ({ ...f, type: "kubernetes:external-secrets.io/v1:SecretStore" })),
                    edit("checkout-db", (p) => set(p, "spec.secretStoreRef.kind", "SecretStore")),
                ),
            },
        ],
    },
    {
        rule: edge.customResourceAfterCrd,
        fail: [
            {
                why: "the Gateway does not wait for the CRD chart",
                change: dependsOn("edge-gateway", []),
                expect: /edge-gateway does not wait for the Gateway API CRDs/,
            },
            {
                why: "ExternalDNS (gateway sources) starts before the CRDs",
                change: dependsOn("external-dns", []),
                expect: /external-dns does not wait/,
            },
            {
                why: "the ClusterSecretStore does not wait for the External Secrets release (its CRDs)",
                change: dependsOn("secret-store", []),
                expect: /secret-store does not wait for the External Secrets Operator's CRDs/,
            },
            {
                why: "cert-manager with Gateway support starts before the CRDs",
                change: edit("cert-manager", (p) => set(p, "values.config.gatewayAPI.enabled", true)),
                expect: /cert-manager does not wait/,
            },
        ],
        pass: [
            { why: "Gateway API CRDs installed outside the program", change: without("gateway-crds") },
            {
                why: "the ExternalSecret waits for the CRDs through its store (a chain of waits)",
                change: dependsOn("checkout-db", ["secret-store"]),
            },
            {
                why: "through its parent component's dependsOn",
                change: chain(
                    add({ key: "edge", type: "platform:addons:EdgeGateway", props: {}, dependsOn: ["gateway-crds"] }),
                    replace("edge-gateway", (f) => ({ ...f, parent: "edge", dependsOn: [] })),
                ),
            },
        ],
    },
    {
        rule: edge.customResourceAfterCrd,
        fail: [
            {
                // Waiting for the controller release counts (it waits for the CRDs), so only the node group here.
                why: "the NodePool waits for nothing that installs Karpenter's CRDs",
                change: dependsOn("karpenter-node-pool", ["nodes"]),
                expect: /karpenter-node-pool does not wait for Karpenter's CRDs/,
            },
            {
                why: "the Karpenter controller starts before its CRDs",
                change: dependsOn("karpenter", ["nodes"]),
                expect: /::karpenter does not wait for Karpenter's CRDs/,
            },
        ],
    },
    {
        rule: karpenter.sqsQueueTlsOnly,
        fail: [
            {
                why: "no queue policy",
                change: without("karpenter-queue-policy"),
                expect: /Queue::karpenter-queue has no policy statement that denies requests without TLS/,
            },
            {
                why: "the policy only allows",
                change: edit("karpenter-queue-policy", (p) =>
                    set(
                        p,
                        "policy",
                        JSON.stringify({ Version: "2012-10-17", Statement: queuePolicyStatements().slice(0, 1) }),
                    ),
                ),
            },
            {
                why: "the deny names one action only",
                change: edit("karpenter-queue-policy", (p) => {
                    const st = queuePolicyStatements();
                    st[1].Action = "sqs:SendMessage";
                    set(p, "policy", JSON.stringify({ Version: "2012-10-17", Statement: st }));
                }),
            },
            {
                why: "the deny is conditioned on TLS instead of its absence",
                change: edit("karpenter-queue-policy", (p) => {
                    const st = queuePolicyStatements();
                    st[1].Condition = { Bool: { "aws:SecureTransport": "true" } };
                    set(p, "policy", JSON.stringify({ Version: "2012-10-17", Statement: st }));
                }),
            },
        ],
        pass: [
            {
                why: "the policy inline on the queue",
                change: chain(
                    without("karpenter-queue-policy"),
                    edit("karpenter-queue", (p) =>
                        set(p, "policy", JSON.stringify({ Version: "2012-10-17", Statement: queuePolicyStatements() })),
                    ),
                ),
            },
            {
                why: "the deny for { AWS: '*' }",
                change: edit("karpenter-queue-policy", (p) => {
                    const st = queuePolicyStatements();
                    (st[1] as Record<string, unknown>).Principal = { AWS: "*" };
                    set(p, "policy", JSON.stringify({ Version: "2012-10-17", Statement: st }));
                }),
            },
        ],
    },
    {
        rule: karpenter.karpenterDiscoveryOneSecurityGroup,
        fail: [
            {
                why: "no security group carries the tag",
                change: without("karpenter-sg-discovery"),
                expect: /no security group of the stack carries it/,
            },
            {
                why: "a second security group tagged",
                change: add({
                    key: "other-sg-tag",
                    type: T.tag,
                    props: { resourceId: "sg-0other", key: "karpenter.sh/discovery", value: CLUSTER_NAME },
                }),
                expect: /which 2 security groups carry/,
            },
            {
                why: "the tag in the cluster's tags (pulumi-eks puts them on its two security groups)",
                change: edit("eks", (p) => set(p, "tags", { "karpenter.sh/discovery": CLUSTER_NAME })),
                expect: /which 3 security groups carry/,
            },
        ],
        pass: [
            {
                why: "the same tag on subnets does not count",
                change: add({
                    key: "subnet-tag",
                    type: T.tag,
                    props: { resourceId: "subnet-0a", key: "karpenter.sh/discovery", value: CLUSTER_NAME },
                }),
            },
            {
                why: "another cluster's tag value does not count",
                change: add({
                    key: "other-cluster-tag",
                    type: T.tag,
                    props: { resourceId: "sg-0other", key: "karpenter.sh/discovery", value: "other" },
                }),
            },
        ],
    },
    {
        rule: karpenter.karpenterNodesCanJoin,
        fail: [
            {
                why: "no access entry for the nodes' role",
                change: without("karpenter-node-access"),
                expect: /has no EC2_LINUX access entry/,
            },
            {
                why: "a STANDARD entry does not make nodes",
                change: edit("karpenter-node-access", (p) => set(p, "type", "STANDARD")),
            },
            {
                why: "the entry is for another role",
                change: edit("karpenter-node-access", (p) =>
                    set(p, "principalArn", "arn:aws:iam::222222222222:role/someone-else"),
                ),
            },
            {
                why: "the EC2NodeClass does not wait for the entry",
                change: dependsOn("karpenter-node-class", ["karpenter-crds", "karpenter", "karpenter-sg-discovery"]),
                expect: /does not wait for its nodes' access entry/,
            },
        ],
        pass: [
            {
                why: "preview: the entry's ARN is unknown, the role is shared",
                change: edit("karpenter-node-access", (p) => set(p, "principalArn", UNKNOWN_SENTINEL)),
            },
        ],
    },
    {
        rule: karpenter.karpenterControllerOnSystemNodes,
        fail: [
            {
                why: "the release waits for no node group",
                change: dependsOn("karpenter", ["karpenter-crds"]),
                expect: /::karpenter waits for its pods but for no node group/,
            },
        ],
        pass: [
            {
                why: "a release that does not wait",
                change: chain(
                    dependsOn("karpenter", []),
                    edit("karpenter", (p) => set(p, "skipAwait", true)),
                ),
            },
        ],
    },
];

describe("stack rules", () => {
    it("the compliant stack passes every stack rule", () => {
        for (const rule of allPolicies.filter((p): p is GuardrailStackPolicy => "validateStack" in p)) {
            assert.deepEqual(runStackRule(rule, compliantStack()), [], rule.name);
        }
    });

    it("every stack rule has a table entry with a failing case", () => {
        const names = allPolicies.filter((p) => "validateStack" in p).map((p) => p.name);
        const covered = TABLE.filter((t) => t.fail.length > 0).map((t) => t.rule.name);
        assert.deepEqual(
            names.filter((n) => !covered.includes(n)),
            [],
        );
    });

    for (const { rule, fail, pass } of TABLE) {
        describe(rule.name, () => {
            for (const c of pass ?? []) {
                it(`passes: ${c.why}`, () => assert.deepEqual(runStackRule(rule, c.change(compliantStack())), []));
            }
            for (const c of fail) {
                it(`fails: ${c.why}`, () => {
                    const out = runStackRule(rule, c.change(compliantStack()));
                    assert.ok(out.length > 0, `expected a violation of ${rule.name}`);
                    for (const v of out) assert.match(v.message, / Remediation: /);
                    if (c.expect)
                        assert.ok(
                            out.some((v) => c.expect?.test(v.message)),
                            `${out.map((v) => v.message).join(" | ")} should match ${c.expect}`,
                        );
                });
            }
        });
    }

    it("reports against the offending resource's URN", () => {
        const out = runStackRule(k8s.k8sPdbPerWorkload, without("checkout-pdb")(compliantStack()));
        assert.deepEqual(
            out.map((v) => v.urn),
            [urnOf(T.deployment, "checkout-deployment")],
        );
    });
});
