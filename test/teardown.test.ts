// `pulumi destroy` deletes a resource before everything it waits for (scripts/lib/deploy-graph.ts).
// A Kubernetes object whose controller owns a cloud resource (an NLB, DNS records, EC2 instances)
// must therefore wait for that controller, or destroy may uninstall the controller first and leave
// the cloud resource behind; and every controller must wait for the nodes (and so the cluster), and
// for its own Pod Identity association, or destroy may take them away while it still cleans up.
// The table below says which objects own what and who cleans it up. It runs on both stacks'
// programs and on every add-on wired together as the program wires them.
import * as assert from "assert";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { AwsLoadBalancerController } from "../components/addons/aws-load-balancer-controller";
import { ExternalDns } from "../components/addons/external-dns";
import { ExternalSecrets } from "../components/addons/external-secrets";
import { GatewayApiCrds } from "../components/addons/gateway-api-crds";
import { EdgeGateway, EnvoyGateway } from "../components/addons/gateway";
import { CertManager } from "../components/cert-manager";
import { checkoutServiceArgs } from "../components/checkout";
import { Cluster } from "../components/cluster";
import { WebService } from "../components/service";
import { ProgramRun, RecordedResource, runWithMocks } from "../harness/engine";
import { shortUrn, waitGraph, waitPath } from "../scripts/lib/deploy-graph";
import { formatViolations, mandatoryViolations, runPolicies } from "../policy/offline";
import { stackRun } from "./shared-runs";
import { clusterArgs } from "./cluster-fixture";
import { at } from "./helpers";

type R = RecordedResource;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
const NODE_GROUP = "eks:index:ManagedNodeGroup";

/** The chart a release installs: the last path segment of `oci://.../name`, `repo/name` or `name`. */
const chartOf = (r: R) =>
    r.type === RELEASE
        ? String(r.props.chart ?? "")
              .split("/")
              .pop()
        : undefined;
const release = (chart: string) => (r: R) => chartOf(r) === chart;
const addon = (name: string) => (r: R) => r.type === "aws:eks/addon:Addon" && r.props.addonName === name;

/** An object that makes a controller create a cloud resource, and the controller that deletes it. */
interface Ownership {
    readonly owner: string;
    readonly cloud: string;
    readonly isOwner: (r: R, run: ProgramRun) => boolean;
    readonly controller: string;
    readonly isController: (r: R) => boolean;
}

const LBC = { controller: "the AWS Load Balancer Controller", isController: release("aws-load-balancer-controller") };

export const OWNERSHIP: readonly Ownership[] = [
    {
        owner: "Gateway",
        cloud: "the NLB of its proxies' Service (Envoy Gateway deletes the Service with the Gateway)",
        isOwner: (r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        ...LBC,
    },
    {
        owner: "namespace of the Envoy Gateway proxies",
        cloud: "NLBs: its LoadBalancer Services carry the controller's finalizer, and the namespace is gone only once they are",
        isOwner: (r, run) =>
            r.type === NAMESPACE &&
            run.resources.some((x) => release("gateway-helm")(x) && x.props.namespace === at(r.props, "metadata.name")),
        ...LBC,
    },
    {
        owner: "Service of type LoadBalancer",
        cloud: "an NLB",
        isOwner: (r) => r.type === "kubernetes:core/v1:Service" && at(r.props, "spec.type") === "LoadBalancer",
        ...LBC,
    },
    {
        owner: "Ingress",
        cloud: "an ALB",
        isOwner: (r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress",
        ...LBC,
    },
    {
        owner: "HTTPRoute",
        cloud: "Route53 records for its host names",
        isOwner: (r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        controller: "ExternalDNS",
        isController: release("external-dns"),
    },
    {
        owner: "Karpenter NodePool",
        cloud: "EC2 instances (its NodeClaims)",
        isOwner: (r) => r.type === "kubernetes:karpenter.sh/v1:NodePool",
        controller: "Karpenter",
        isController: release("karpenter"),
    },
    {
        owner: "Karpenter EC2NodeClass",
        cloud: "the instance profile and the instances launched with it",
        isOwner: (r) => r.type === "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
        controller: "Karpenter",
        isController: release("karpenter"),
    },
    {
        owner: "PersistentVolumeClaim",
        cloud: "an EBS volume",
        isOwner: (r) => r.type === "kubernetes:core/v1:PersistentVolumeClaim",
        controller: "the EBS CSI driver",
        isController: addon("aws-ebs-csi-driver"),
    },
];

/** Whether `value` holds the string `text` anywhere. */
function mentions(value: unknown, text: unknown): boolean {
    if (value === text) return true;
    if (Array.isArray(value)) return value.some((v) => mentions(v, text));
    if (value !== null && typeof value === "object") return Object.values(value).some((v) => mentions(v, text));
    return false;
}

/** What cleans up after objects: every Helm release and every EKS add-on. */
const isController = (r: R) => r.type === RELEASE || r.type === "aws:eks/addon:Addon";

/**
 * Every way destroy could remove a controller before what it cleans up, or the cluster before a
 * controller. An owner with no controller of its kind in the program is skipped: then nothing in
 * the program creates its cloud resource.
 */
export function teardownProblems(run: ProgramRun): string[] {
    const graph = waitGraph(run.resources);
    const problems: string[] = [];
    for (const row of OWNERSHIP) {
        const controllers = run.resources.filter(row.isController);
        if (controllers.length === 0) continue;
        const urns = new Set(controllers.map((c) => c.urn));
        for (const owner of run.resources.filter((r) => row.isOwner(r, run)))
            if (!waitPath(graph, owner.urn, (u) => urns.has(u)))
                problems.push(
                    `${shortUrn(owner.urn)} (${row.owner}: ${row.cloud}) does not wait for ${row.controller}: destroy may remove the controller first`,
                );
    }
    const nodeGroups = new Set(run.resources.filter((r) => r.type === NODE_GROUP).map((r) => r.urn));
    for (const c of run.resources.filter(isController)) {
        if (nodeGroups.size > 0 && !waitPath(graph, c.urn, (u) => nodeGroups.has(u)))
            problems.push(`${shortUrn(c.urn)} does not wait for the node group: destroy may remove its nodes first`);
        // Its credentials: the Pod Identity association of the release's namespace whose service
        // account its values name (kube-system holds Karpenter's CRD release too, which runs no pod).
        const associations = run.resources.filter(
            (a) =>
                a.type === ASSOCIATION &&
                c.type === RELEASE &&
                a.props.namespace === c.props.namespace &&
                mentions(c.props.values, a.props.serviceAccount),
        );
        for (const a of associations)
            if (!waitPath(graph, c.urn, (u) => u === a.urn))
                problems.push(
                    `${shortUrn(c.urn)} does not wait for its Pod Identity association ${shortUrn(a.urn)}: destroy may revoke its credentials while it cleans up`,
                );
    }
    return problems;
}

const ZONES = [{ id: "Z0123456789ABCDEFGHIJ", name: "example.com" }];

/**
 * The cluster and every add-on, wired as index.ts wires them, without the VPC. Karpenter is stood in for by a release of its chart and a NodePool, as its component makes
 * them. `edges: false` leaves out the two teardown edges, to show the check catches their absence.
 */
function wired(edges = true): Promise<ProgramRun> {
    return runWithMocks(
        () => {
            const logs = new aws.cloudwatch.LogGroup("lg", { name: "/aws/eks/c1/cluster" });
            const cluster = new Cluster("cluster", {
                ...clusterArgs({
                    api: {
                        endpointPublicAccess: true,
                        publicAccessCidrs: ["203.0.113.0/24"],
                        privateAccessCidrs: [],
                        privateAccessSecurityGroupIds: [],
                    },
                }),
                controlPlaneLogGroup: logs,
            });
            const opts = { providers: { kubernetes: cluster.provider } };
            const identity = { clusterName: cluster.name, agent: cluster.podIdentityAgent };
            const capacity = [cluster.nodeGroup];
            const crds = new GatewayApiCrds("gateway-api-crds", {}, opts);
            const lbc = new AwsLoadBalancerController(
                "lbc",
                { clusterName: cluster.name, region: "eu-west-1", vpcId: "vpc-1", identity, dependsOn: capacity },
                opts,
            );
            const certManager = new CertManager(
                "cert-manager",
                {
                    replicas: 2,
                    acmeEmail: "platform@example.com",
                    dns01: { region: "eu-west-1", zones: ZONES, identity },
                    gatewayApiCrds: crds,
                    dependsOn: capacity,
                },
                opts,
            );
            const dns = new ExternalDns(
                "external-dns",
                { zones: ZONES, txtOwnerId: "c1", policy: "sync", identity, crds, dependsOn: capacity },
                opts,
            );
            const envoy = new EnvoyGateway(
                "envoy-gateway",
                { crds, dependsOn: capacity, ...(edges ? { loadBalancerController: lbc.ready } : {}) },
                opts,
            );
            const edge = new EdgeGateway(
                "edge",
                {
                    controller: envoy,
                    crds,
                    loadBalancerController: lbc.ready,
                    ...(edges ? { dnsController: dns.addon.release } : {}),
                    hostnames: ["checkout.example.com"],
                    zones: ZONES,
                    issuer: certManager.issuers!.staging,
                },
                opts,
            );
            const eso = new ExternalSecrets(
                "external-secrets",
                {
                    identity,
                    region: "eu-west-1",
                    accountId: "111111111111",
                    partition: "aws",
                    secretPrefix: "c1",
                    dependsOn: capacity,
                },
                opts,
            );
            const karpenter = new k8s.helm.v3.Release(
                "karpenter-release",
                {
                    chart: "oci://public.ecr.aws/karpenter/karpenter",
                    version: "1.14.0",
                    namespace: "kube-system",
                    skipAwait: false,
                },
                { provider: cluster.provider, dependsOn: capacity },
            );
            new k8s.apiextensions.CustomResource(
                "karpenter-nodepool",
                { apiVersion: "karpenter.sh/v1", kind: "NodePool", metadata: { name: "default" }, spec: {} },
                { provider: cluster.provider, dependsOn: [karpenter] },
            );
            new WebService(
                "checkout",
                checkoutServiceArgs({
                    namespace: "checkout",
                    repositoryUrl: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout-service",
                    imageTag: "1.4.2",
                    autoscaling: { minReplicas: 2, maxReplicas: 4 },
                    resources: { cpuRequest: "100m", cpuLimit: "500m", memoryRequest: "128Mi", memoryLimit: "256Mi" },
                    dbPoolMax: 10,
                    logLevel: "info",
                    route: { hostname: "checkout.example.com", gateway: edge.routeFor("checkout.example.com") },
                    database: { store: eso.storeRef, secretName: "c1/checkout/db" },
                }),
                opts,
            );
        },
        { project: "checkout-platform", stack: "unit", mode: "test" },
    );
}

describe("teardown: destroy removes what owns cloud resources before the controllers, and those before the cluster", () => {
    for (const stack of ["dev", "prod"])
        it(`${stack}: the program's graph`, async () => {
            const run = await stackRun(stack);
            assert.deepStrictEqual(teardownProblems(run), []);
            assert.ok(run.resources.some(isController), "the program has controllers to check");
        });

    describe("every add-on wired together", () => {
        let run: ProgramRun;
        before(async () => {
            run = await wired();
        });

        it("has an owner of every kind the program creates today, each waiting for its controller", () => {
            const graph = waitGraph(run.resources);
            for (const owner of [
                "Gateway",
                "namespace of the Envoy Gateway proxies",
                "HTTPRoute",
                "Karpenter NodePool",
            ]) {
                const row = OWNERSHIP.find((o) => o.owner === owner)!;
                const owners = run.resources.filter((r) => row.isOwner(r, run));
                assert.ok(owners.length > 0, `no ${owner} in the wired graph`);
                const urns = new Set(run.resources.filter(row.isController).map((r) => r.urn));
                for (const o of owners)
                    assert.ok(
                        waitPath(graph, o.urn, (u) => urns.has(u)),
                        shortUrn(o.urn),
                    );
            }
            assert.deepStrictEqual(teardownProblems(run), []);
        });

        it("every release waits for the node group, and a release under Pod Identity for its association", () => {
            const graph = waitGraph(run.resources);
            const releases = run.resources.filter((r) => r.type === RELEASE);
            assert.ok(releases.length >= 6, releases.map((r) => r.name).join(", "));
            const nodes = run.resources.find((r) => r.type === NODE_GROUP)!;
            const path = waitPath(
                graph,
                releases.find(release("aws-load-balancer-controller"))!.urn,
                (u) => u === nodes.urn,
            );
            assert.ok(path && path.length >= 2, "the load balancer controller waits for the nodes");
        });

        it("passes the ordering guardrails (the checkout route waits for the Gateway, and so for the CRDs)", () => {
            const ordering = [
                "k8s-custom-resource-after-crd",
                "external-secret-store-exists",
                "k8s-not-default-namespace",
            ];
            const found = mandatoryViolations(runPolicies(run.resources, { environment: "dev" })).filter((v) =>
                ordering.includes(v.policy),
            );
            assert.deepStrictEqual(found, [], formatViolations(found));
        });

        it("without the two edges, the check names exactly what destroy would get wrong", async () => {
            const broken = await wired(false);
            const problems = teardownProblems(broken);
            assert.deepStrictEqual(
                problems.map((p) => p.replace(/ \(.*?\)/, "").replace(/: destroy.*/, "")).sort(),
                [
                    "kubernetes:core/v1:Namespace::envoy-gateway-ns does not wait for the AWS Load Balancer Controller",
                    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::checkout-route does not wait for ExternalDNS",
                    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::edge-https-redirect does not wait for ExternalDNS",
                ],
                problems.join("\n"),
            );
        });
    });
});
