// The platform add-ons of the edge (components/addons/, cert-manager's Gateway and DNS01 parts):
// pure values and policy functions table-driven, then the components under the mock engine,
// each built twice under different names to prove nothing collides, with the ordering a first
// `up` needs asserted edge by edge.
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { runWithMocks } from "../harness/engine";
import type { ProgramRun } from "../harness/engine";
import {
    AWS_LOAD_BALANCER_CONTROLLER,
    AwsLoadBalancerController,
    awsLoadBalancerControllerCrdsUrl,
    awsLoadBalancerControllerPolicy,
    awsLoadBalancerControllerValues,
} from "../components/addons/aws-load-balancer-controller";
import { EXTERNAL_DNS, ExternalDns, externalDnsPolicy, externalDnsValues } from "../components/addons/external-dns";
import { GATEWAY_API_CRDS, GatewayApiCrds, gatewayApiCrdsValues } from "../components/addons/gateway-api-crds";
import {
    ENVOY_GATEWAY,
    EdgeGateway,
    EnvoyGateway,
    envoyGatewayValues,
    envoyProxyPodLabels,
    envoyProxySpec,
    gatewayListeners,
    hostnameSlug,
    redirectRouteSpec,
} from "../components/addons/gateway";
import { chartSource, podIdentityTrustPolicy } from "../components/addons/helm-addon";
import { hostedZoneArn, validateHostnames, validateZones, zoneFor } from "../components/addons/route53";
import { CERT_MANAGER_CHART, CertManager } from "../components/cert-manager";
import { formatViolations, mandatoryViolations, runPolicies } from "../policy/offline";
import { formatSchemaResults, validateKubernetesObjects } from "../policy/schema/kubernetes";
import { isKubernetesObject } from "../scripts/lib/render";
import { at, find, ofType, waitsFor } from "./helpers";
import { EKS_VERSIONS } from "../components/eks-versions";

const ZONES = [
    { id: "Z0123456789ABCDEFGHIJ", name: "example.com" },
    { id: "Z9876543210ZYXWVUTSRQ", name: "shop.example.org" },
];
const components = (init: () => void) =>
    runWithMocks(init, { project: "checkout-platform", stack: "unit", mode: "test" });

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ROLE = "aws:iam/role:Role";
const ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation";
const CR = (kind: string) =>
    ({
        GatewayClass: "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
        Gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        HTTPRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        EnvoyProxy: "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy",
        ClusterIssuer: "kubernetes:cert-manager.io/v1:ClusterIssuer",
    })[kind]!;

/** No URN twice, and no Kubernetes object twice in one cluster (same provider, kind, namespace, name). */
function assertNoCollisions(run: ProgramRun): void {
    const urns = run.resources.map((r) => r.urn);
    assert.deepStrictEqual(
        urns.filter((u, i) => urns.indexOf(u) !== i),
        [],
        "duplicate URNs",
    );
    // Kubernetes objects: the same kind, namespace and name twice would be one object fought over.
    const keys = run.resources
        .filter((r) => r.type.startsWith("kubernetes:") && r.custom && at(r.props, "metadata.name"))
        .map(
            (r) =>
                `${r.provider ?? ""} ${r.type} ${String(at(r.props, "metadata.namespace") ?? "")}/${String(at(r.props, "metadata.name"))}`,
        );
    assert.deepStrictEqual(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        [],
        "duplicate Kubernetes objects",
    );
}

describe("add-on pure functions", () => {
    it("chartSource: a classic repository gets repositoryOpts, an OCI chart none", () => {
        assert.deepStrictEqual(chartSource({ chart: "c", repository: "https://r", version: "1.0.0" }), {
            chart: "c",
            version: "1.0.0",
            repositoryOpts: { repo: "https://r" },
        });
        assert.deepStrictEqual(chartSource({ chart: "oci://r/c", version: "v1.0.0" }), {
            chart: "oci://r/c",
            version: "v1.0.0",
        });
    });

    it("every pin is exact and every chart constant is where renovate looks for it", () => {
        const pins = [
            AWS_LOAD_BALANCER_CONTROLLER.chart,
            ENVOY_GATEWAY.chart,
            GATEWAY_API_CRDS.chart,
            EXTERNAL_DNS.chart,
            CERT_MANAGER_CHART,
        ];
        for (const p of pins) assert.match(p.version, /^v?\d+\.\d+\.\d+$/, p.chart);
    });

    it("the Envoy Gateway CRD chart and controller chart move together", () => {
        assert.strictEqual(GATEWAY_API_CRDS.chart.version, ENVOY_GATEWAY.chart.version);
    });

    it("podIdentityTrustPolicy: pods.eks.amazonaws.com, AssumeRole + TagSession, pinned to cluster/namespace/account", () => {
        const doc = podIdentityTrustPolicy("c1", "ns", "sa");
        assert.strictEqual(doc.Statement.length, 1);
        const st = doc.Statement[0];
        assert.deepStrictEqual(st.Principal, { Service: "pods.eks.amazonaws.com" });
        assert.deepStrictEqual(st.Action, ["sts:AssumeRole", "sts:TagSession"]);
        assert.deepStrictEqual(st.Condition, {
            StringEquals: {
                "aws:RequestTag/eks-cluster-name": "c1",
                "aws:RequestTag/kubernetes-namespace": "ns",
                "aws:RequestTag/kubernetes-service-account": "sa",
            },
        });
    });

    it("validateZones / validateHostnames: clear errors naming the argument and the value", () => {
        validateZones(ZONES, "zones");
        const badZones: [unknown, RegExp][] = [
            [[], /at least one/],
            [[{ id: "/hostedzone/Z1", name: "example.com" }], /"\/hostedzone\/Z1" is not a Route53 zone id/],
            [[{ id: "Z*", name: "example.com" }], /"Z\*"/],
            [[{ id: "Z1", name: "Example.com." }], /"Example.com." is not a lowercase domain/],
            [
                [
                    { id: "Z1", name: "a.com" },
                    { id: "Z1", name: "b.com" },
                ],
                /Z1 is listed twice/,
            ],
        ];
        for (const [zones, re] of badZones)
            assert.throws(
                () => validateZones(zones as never, "edge.zones"),
                (e: Error) => /^edge\.zones/.test(e.message) && re.test(e.message),
            );
        validateHostnames(["checkout.example.com", "*.shop.example.org"], ZONES, "hostnames");
        const badHosts: [string[], RegExp][] = [
            [[], /at least one/],
            [["Checkout.example.com"], /not a lowercase DNS name/],
            [["checkout.example.net"], /in none of the hosted zones \(example.com, shop.example.org\)/],
            [["a.example.com", "a.example.com"], /listed twice/],
            [["notexample.com"], /in none of the hosted zones/],
        ];
        for (const [hosts, re] of badHosts) assert.throws(() => validateHostnames(hosts, ZONES, "hostnames"), re);
        assert.strictEqual(
            zoneFor("a.shop.example.org", [...ZONES, { id: "Z3", name: "example.org" }])?.id,
            ZONES[1].id,
        );
        assert.strictEqual(hostedZoneArn("Z1", "aws-us-gov"), "arn:aws-us-gov:route53:::hostedzone/Z1");
    });

    it("awsLoadBalancerControllerValues: explicit cluster/region/VPC, restricted pods, no ingress, no service webhook, no own Gateway controllers", () => {
        const v = awsLoadBalancerControllerValues({
            clusterName: "c",
            region: "eu-west-1",
            vpcId: "vpc-1",
            replicas: 2,
        });
        const table: [string, unknown][] = [
            ["clusterName", "c"],
            ["region", "eu-west-1"],
            ["vpcId", "vpc-1"],
            ["serviceAccount.name", "aws-load-balancer-controller"],
            ["securityContext.capabilities.drop", ["ALL"]],
            ["securityContext.allowPrivilegeEscalation", false],
            ["podSecurityContext.seccompProfile.type", "RuntimeDefault"],
            ["podSecurityContext.runAsNonRoot", true],
            ["createIngressClassResource", false],
            ["ingressClassParams.create", false],
            ["enableServiceMutatorWebhook", false],
            ["keepTLSSecret", true],
            [
                "controllerConfig.featureGates",
                { ALBGatewayAPI: false, NLBGatewayAPI: false, GatewayListenerSet: false },
            ],
            ["podDisruptionBudget.maxUnavailable", 1],
        ];
        for (const [path, want] of table) assert.deepStrictEqual(at(v, path), want, path);
        assert.strictEqual(
            at(
                awsLoadBalancerControllerValues({ clusterName: "c", region: "r", vpcId: "v", replicas: 1 }),
                "podDisruptionBudget",
            ),
            undefined,
            "a PDB on one replica would block node drains",
        );
    });

    it("the LB controller's IAM policy and CRDs are upstream's at the chart's appVersion, and fit an inline policy", () => {
        const { version, policy } = awsLoadBalancerControllerPolicy();
        assert.strictEqual(version, AWS_LOAD_BALANCER_CONTROLLER.appVersion);
        assert.strictEqual(`v${AWS_LOAD_BALANCER_CONTROLLER.chart.version}`, AWS_LOAD_BALANCER_CONTROLLER.appVersion);
        assert.match(
            awsLoadBalancerControllerCrdsUrl(version),
            new RegExp(`/${version}/helm/aws-load-balancer-controller/crds/crds.yaml$`),
        );
        const actions = policy.Statement.flatMap((s) => s.Action);
        assert.ok(actions.includes("elasticloadbalancing:CreateLoadBalancer"));
        assert.ok(!actions.some((a) => a === "*" || /^[a-z0-9-]+:\*$/.test(a)), "no service-wide wildcard action");
        // IAM's limit for a role's inline policies together is 10,240 characters (whitespace excluded).
        assert.ok(JSON.stringify(policy).length < 10_240, `${JSON.stringify(policy).length} characters`);
    });

    it("gatewayApiCrdsValues: the standard channel and Envoy Gateway's CRDs", () => {
        assert.deepStrictEqual(gatewayApiCrdsValues(), {
            crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } },
        });
    });

    it("envoyGatewayValues: the bundled CRDs off (one owner); a PDB from 2 replicas", () => {
        assert.strictEqual(at(envoyGatewayValues(2), "crds.enabled"), false);
        assert.strictEqual(at(envoyGatewayValues(2), "podDisruptionBudget.maxUnavailable"), 1);
        assert.strictEqual(at(envoyGatewayValues(1), "podDisruptionBudget"), undefined);
        assert.strictEqual(at(envoyGatewayValues(3), "deployment.replicas"), 3);
    });

    it("envoyProxySpec: an internet-facing NLB with IP targets, served by the LB controller", () => {
        const labels = envoyProxyPodLabels("gateway", "edge");
        const spec = envoyProxySpec({ replicas: 2, podLabels: labels });
        const svc = at(spec, "provider.kubernetes.envoyService") as Record<string, unknown>;
        assert.strictEqual(svc.type, "LoadBalancer");
        assert.strictEqual(svc.loadBalancerClass, "service.k8s.aws/nlb");
        assert.deepStrictEqual(
            Object.fromEntries(
                Object.entries(svc.annotations as Record<string, string>).filter(([k]) =>
                    /aws-load-balancer-(type|nlb-target-type|scheme)$/.test(k),
                ),
            ),
            {
                "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            },
        );
        assert.deepStrictEqual(
            at(spec, "provider.kubernetes.envoyDeployment.pod.topologySpreadConstraints.0.labelSelector.matchLabels"),
            labels,
        );
        assert.strictEqual(at(spec, "provider.kubernetes.envoyPDB.maxUnavailable"), 1);
        assert.strictEqual(
            at(envoyProxySpec({ replicas: 1, podLabels: labels }), "provider.kubernetes.envoyPDB"),
            undefined,
        );
    });

    it("envoyProxyPodLabels: Envoy Gateway's app labels plus the owning Gateway", () => {
        assert.deepStrictEqual(envoyProxyPodLabels("gw-ns", "gw"), {
            "app.kubernetes.io/name": "envoy",
            "app.kubernetes.io/component": "proxy",
            "app.kubernetes.io/managed-by": "envoy-gateway",
            "gateway.envoyproxy.io/owning-gateway-name": "gw",
            "gateway.envoyproxy.io/owning-gateway-namespace": "gw-ns",
        });
    });

    it("gatewayListeners: HTTP for same-namespace routes only, one terminating HTTPS listener per hostname", () => {
        const listeners = gatewayListeners("edge", ["checkout.example.com", "*.shop.example.org"]);
        assert.deepStrictEqual(
            listeners.map((l) => [l.name, l.protocol, l.port, l.hostname]),
            [
                ["http", "HTTP", 80, undefined],
                ["https-checkout-example-com", "HTTPS", 443, "checkout.example.com"],
                ["https-wildcard-shop-example-org", "HTTPS", 443, "*.shop.example.org"],
            ],
        );
        assert.deepStrictEqual(at(listeners[0], "allowedRoutes.namespaces.from"), "Same");
        for (const l of listeners.slice(1)) {
            assert.strictEqual(at(l, "tls.mode"), "Terminate");
            const ref = at(l, "tls.certificateRefs.0") as Record<string, unknown>;
            assert.strictEqual(ref.kind, "Secret");
            assert.strictEqual(ref.namespace, undefined, "cert-manager skips cross-namespace Secrets");
        }
        assert.strictEqual(at(listeners[1], "tls.certificateRefs.0.name"), "edge-checkout-example-com-tls");
        assert.strictEqual(hostnameSlug("*.a.b"), "wildcard-a-b");
    });

    it("redirectRouteSpec: attaches to the HTTP listener only and redirects to https with 301", () => {
        assert.deepStrictEqual(redirectRouteSpec("edge"), {
            parentRefs: [{ name: "edge", sectionName: "http" }],
            rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
        });
    });

    it("externalDnsPolicy: writes only in the zones, only the record types it manages", () => {
        const doc = externalDnsPolicy(ZONES);
        const write = doc.Statement.find((s) => s.Action === "route53:ChangeResourceRecordSets")!;
        assert.deepStrictEqual(
            write.Resource,
            ZONES.map((z) => `arn:aws:route53:::hostedzone/${z.id}`),
        );
        assert.deepStrictEqual(write.Condition, {
            "ForAllValues:StringEquals": {
                "route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA", "CNAME", "TXT"],
            },
        });
        const star = doc.Statement.filter((s) => s.Resource === "*").map((s) => s.Action);
        assert.deepStrictEqual(star, ["route53:ListHostedZones"], "only the unscopable list call is on *");
    });

    it("externalDnsValues: Gateway routes, explicit policy and owner, filtered to the zones", () => {
        const v = externalDnsValues({ zones: ZONES, txtOwnerId: "checkout-prod", policy: "sync" });
        const table: [string, unknown][] = [
            ["provider.name", "aws"],
            ["sources", ["gateway-httproute"]],
            ["policy", "sync"],
            ["registry", "txt"],
            ["txtOwnerId", "checkout-prod"],
            ["domainFilters", ["example.com", "shop.example.org"]],
            ["extraArgs.zone-id-filter", ZONES.map((z) => z.id)],
            ["extraArgs.aws-zone-type", "public"],
            ["serviceAccount.name", "external-dns"],
        ];
        for (const [path, want] of table) assert.deepStrictEqual(at(v, path), want, path);
    });
});

/** A resource of any type, for what other components would create. */
class Stub extends pulumi.CustomResource {
    constructor(type: string, name: string, props: Record<string, unknown>) {
        super(type, name, props);
    }
}

/** Stand-ins for what the cluster component provides. */
function fakeCluster() {
    const agent = new Stub("aws:eks/addon:Addon", "pod-identity-agent", {
        clusterName: "c1",
        addonName: "eks-pod-identity-agent",
        addonVersion: EKS_VERSIONS.addons["eks-pod-identity-agent"],
    });
    const nodes = new Stub("test:index:Capacity", "nodes", {});
    return { agent, nodes, identity: { clusterName: "c1", agent } };
}

describe("add-on components under the mock engine", () => {
    it("AwsLoadBalancerController: CRDs, then role + association + agent, then the release", async () => {
        const one = await components(() => {
            const { identity, nodes } = fakeCluster();
            new AwsLoadBalancerController("lbc", {
                clusterName: "c1",
                region: "eu-west-1",
                vpcId: "vpc-1",
                identity,
                dependsOn: [nodes],
            });
        });
        assertNoCollisions(one);
        const release = find(one, RELEASE, "lbc-release");
        const crds = find(one, "kubernetes:yaml/v2:ConfigFile", "lbc-crds");
        assert.strictEqual(crds.props.file, awsLoadBalancerControllerCrdsUrl(AWS_LOAD_BALANCER_CONTROLLER.appVersion));
        assert.strictEqual(release.props.skipCrds, true, "the ConfigFile owns the CRDs");
        assert.strictEqual(release.props.skipAwait, false);
        assert.strictEqual(release.props.version, "3.5.0");
        const association = find(one, ASSOCIATION, "lbc-pod-identity");
        assert.deepStrictEqual(
            [association.props.namespace, association.props.serviceAccount, association.props.clusterName],
            ["aws-load-balancer-controller", "aws-load-balancer-controller", "c1"],
        );
        for (const [what, target] of [
            ["CRDs", crds],
            ["association", association],
            ["agent", find(one, "aws:eks/addon:Addon", "pod-identity-agent")],
            ["nodes", find(one, "test:index:Capacity", "nodes")],
            ["namespace", find(one, "kubernetes:core/v1:Namespace", "lbc-ns")],
        ] as const)
            assert.ok(waitsFor(one, release, target), `release waits for the ${what}`);
        const role = find(one, ROLE, "lbc-role");
        assert.deepStrictEqual(JSON.parse(String(role.props.assumeRolePolicy)).Statement[0].Principal, {
            Service: "pods.eks.amazonaws.com",
        });
        const policy = find(one, "aws:iam/rolePolicy:RolePolicy", "lbc-policy");
        assert.ok(waitsFor(one, association, policy), "credentials are not handed out before the policy exists");
        assert.strictEqual(at(release.props, "values.vpcId"), "vpc-1");
    });

    it("every cluster-wide add-on, built twice under different names for two clusters, collides nowhere", async () => {
        const run = await components(() => {
            const { identity, nodes } = fakeCluster();
            for (const n of ["a", "b"]) {
                const opts = { providers: { kubernetes: new k8s.Provider(`k8s-${n}`, { kubeconfig: "{}" }) } };
                const crds = new GatewayApiCrds(`crds-${n}`, {}, opts);
                const lbc = new AwsLoadBalancerController(
                    `lbc-${n}`,
                    { clusterName: `c-${n}`, region: "eu-west-1", vpcId: "vpc-1", identity, dependsOn: [nodes] },
                    opts,
                );
                const cm = new CertManager(
                    `cm-${n}`,
                    {
                        replicas: 2,
                        acmeEmail: "a@b.c",
                        dns01: { region: "eu-west-1", zones: ZONES, identity },
                        gatewayApiCrds: crds,
                    },
                    opts,
                );
                const controller = new EnvoyGateway(`eg-${n}`, { crds }, opts);
                new EdgeGateway(
                    `edge-${n}`,
                    {
                        controller,
                        crds,
                        loadBalancerController: lbc.ready,
                        hostnames: ["checkout.example.com"],
                        zones: ZONES,
                        issuer: cm.issuers!.staging,
                    },
                    opts,
                );
                new ExternalDns(
                    `dns-${n}`,
                    { zones: ZONES, txtOwnerId: `c-${n}`, policy: "sync", identity, crds },
                    opts,
                );
            }
        });
        assertNoCollisions(run);
        assert.strictEqual(ofType(run, RELEASE).length, 8);
        // Wired together, the add-ons pass every mandatory guardrail and their objects their schemas.
        const mandatory = mandatoryViolations(runPolicies(run.resources, { environment: "prod" }));
        assert.deepStrictEqual(mandatory, [], formatViolations(mandatory));
        const schema = await validateKubernetesObjects(run.resources.filter(isKubernetesObject).map((r) => r.props));
        assert.strictEqual(formatSchemaResults(schema), "");
        assert.ok(schema.some((r) => r.kind === "EnvoyProxy") && schema.some((r) => r.kind === "Gateway"));
        // Same cluster twice is a collision, and the check sees it.
        const same = { ...run, resources: run.resources.map((r) => ({ ...r, provider: undefined })) };
        assert.throws(() => assertNoCollisions(same), /duplicate Kubernetes objects/);
    });

    it("GatewayApiCrds: the CRD chart, client-side rendered (a Helm release would exceed the Secret limit)", async () => {
        const run = await components(() => {
            new GatewayApiCrds("crds");
        });
        const chart = find(run, "kubernetes:helm.sh/v4:Chart", "crds-chart");
        assert.strictEqual(chart.props.chart, "oci://docker.io/envoyproxy/gateway-crds-helm");
        assert.strictEqual(chart.props.version, GATEWAY_API_CRDS.chart.version);
        assert.strictEqual(at(chart.props, "values.crds.gatewayAPI.channel"), "standard");
        assert.deepStrictEqual(ofType(run, RELEASE), []);
    });

    it("EnvoyGateway + EdgeGateway: every custom resource waits for its CRDs; EnvoyProxy before class before Gateway; two Gateways do not collide", async () => {
        let edges: EdgeGateway[] = [];
        let crdsOf: GatewayApiCrds | undefined;
        const run = await components(() => {
            const { nodes } = fakeCluster();
            const crds = new GatewayApiCrds("crds");
            crdsOf = crds;
            const lbc = new Stub(RELEASE, "lbc-release", {});
            const issuer = new Stub(CR("ClusterIssuer"), "issuer", {});
            const controller = new EnvoyGateway("eg", { crds, dependsOn: [nodes] });
            edges = [
                new EdgeGateway("edge-a", {
                    controller,
                    crds,
                    loadBalancerController: lbc,
                    hostnames: ["checkout.example.com"],
                    zones: ZONES,
                    issuer: { name: "letsencrypt-production", resource: issuer },
                }),
                new EdgeGateway("edge-b", {
                    controller,
                    crds,
                    loadBalancerController: lbc,
                    hostnames: ["a.shop.example.org", "b.shop.example.org"],
                    zones: ZONES,
                    issuer: { name: "letsencrypt-staging" },
                    namespace: "gateway-b",
                    gatewayName: "public",
                }),
            ];
        });
        assertNoCollisions(run);
        const crdChart = find(run, "kubernetes:helm.sh/v4:Chart", "crds-chart");
        const egRelease = find(run, RELEASE, "eg-release");
        assert.strictEqual(egRelease.props.chart, "oci://docker.io/envoyproxy/gateway-helm");
        assert.strictEqual(at(egRelease.props, "values.crds.enabled"), false);
        assert.ok(waitsFor(run, egRelease, crdChart), "the controller starts after its CRDs");
        assert.ok(waitsFor(run, egRelease, find(run, "test:index:Capacity", "nodes")));

        for (const kind of ["EnvoyProxy", "GatewayClass", "Gateway", "HTTPRoute"]) {
            const objects = ofType(run, CR(kind));
            assert.strictEqual(objects.length, 2, kind);
            for (const o of objects) {
                assert.ok(waitsFor(run, o, crdChart), `${o.name} waits for the CRDs`);
                assert.ok(waitsFor(run, o, egRelease), `${o.name} waits for the controller`);
            }
        }
        const proxy = find(run, CR("EnvoyProxy"), "edge-a-envoy-proxy");
        const cls = find(run, CR("GatewayClass"), "edge-a-class");
        const gw = find(run, CR("Gateway"), "edge-a-gateway");
        const redirect = find(run, CR("HTTPRoute"), "edge-a-https-redirect");
        assert.ok(waitsFor(run, cls, proxy), "the GatewayClass after its EnvoyProxy");
        assert.ok(waitsFor(run, gw, cls), "the Gateway after its class (its Service is created with the NLB settings)");
        assert.ok(waitsFor(run, gw, find(run, RELEASE, "lbc-release")), "the Gateway after the LB controller");
        assert.ok(waitsFor(run, gw, find(run, CR("ClusterIssuer"), "issuer")), "the Gateway after its issuer");
        assert.ok(waitsFor(run, redirect, gw));
        assert.strictEqual(
            (at(gw.props, "metadata.annotations") as Record<string, string>)["cert-manager.io/cluster-issuer"],
            "letsencrypt-production",
        );
        assert.strictEqual(at(gw.props, "spec.gatewayClassName"), at(cls.props, "metadata.name"));
        assert.deepStrictEqual(at(cls.props, "spec.parametersRef"), {
            group: "gateway.envoyproxy.io",
            kind: "EnvoyProxy",
            name: at(proxy.props, "metadata.name"),
            namespace: "envoy-gateway-system",
        });
        assert.strictEqual(at(cls.props, "spec.controllerName"), ENVOY_GATEWAY.controllerName);

        const [a, b] = edges;
        // The name is the Gateway's output, and the route also waits for the CRDs and the Gateway.
        const resolved = (v: pulumi.Input<string>) =>
            new Promise<string>((resolve) => pulumi.output(v).apply((x) => resolve(x)));
        assert.ok(pulumi.Output.isInstance(a.routes.parentRef.name));
        const { dependsOn, ...target } = a.routes;
        assert.deepStrictEqual(
            { ...target, parentRef: { ...target.parentRef, name: await resolved(target.parentRef.name) } },
            {
                parentRef: { name: "edge", namespace: "gateway" },
                dataPlane: { namespace: "envoy-gateway-system", podLabels: envoyProxyPodLabels("gateway", "edge") },
            },
        );
        assert.deepStrictEqual(dependsOn, [crdsOf, a.gateway]);
        const routeB = b.routeFor("b.shop.example.org");
        assert.strictEqual(routeB.dependsOn[1], b.gateway);
        assert.deepStrictEqual(
            { ...routeB.parentRef, name: await resolved(routeB.parentRef.name) },
            { name: "public", namespace: "gateway-b", sectionName: "https-b-shop-example-org" },
        );
        assert.throws(() => a.routeFor("nope.example.com"), /serves checkout.example.com/);
    });

    it("EdgeGateway rejects a hostname outside the zones before creating anything", async () => {
        await assert.rejects(
            components(() => {
                const crds = new GatewayApiCrds("crds");
                const controller = new EnvoyGateway("eg", { crds });
                new EdgeGateway("edge", {
                    controller,
                    crds,
                    loadBalancerController: crds,
                    hostnames: ["checkout.example.net"],
                    zones: ZONES,
                    issuer: { name: "letsencrypt-staging" },
                });
            }),
            /edge: hostnames: "checkout.example.net" is in none of the hosted zones/,
        );
    });

    it("ExternalDns: waits for the CRDs, the association and the agent; two instances under different names", async () => {
        const run = await components(() => {
            const { identity } = fakeCluster();
            const crds = new GatewayApiCrds("crds");
            new ExternalDns("dns", { zones: ZONES, txtOwnerId: "checkout-prod", policy: "sync", identity, crds });
        });
        assertNoCollisions(run);
        const release = find(run, RELEASE, "dns-release");
        assert.strictEqual(at(release.props, "values.txtOwnerId"), "checkout-prod");
        assert.strictEqual(release.props.skipCrds, true, "the DNSEndpoint CRD is not used (no crd source)");
        for (const target of [
            find(run, "kubernetes:helm.sh/v4:Chart", "crds-chart"),
            find(run, ASSOCIATION, "dns-pod-identity"),
            find(run, "aws:eks/addon:Addon", "pod-identity-agent"),
        ])
            assert.ok(waitsFor(run, release, target), `release waits for ${target.name}`);
        const policy = JSON.parse(String(find(run, "aws:iam/rolePolicy:RolePolicy", "dns-policy").props.policy));
        assert.deepStrictEqual(policy, externalDnsPolicy(ZONES));
    });

    it("ExternalDns rejects an owner id that would not survive in a TXT record", async () => {
        await assert.rejects(
            components(() => {
                const { identity } = fakeCluster();
                const crds = new GatewayApiCrds("crds");
                new ExternalDns("dns", { zones: ZONES, txtOwnerId: "a b", policy: "sync", identity, crds });
            }),
            /dns: txtOwnerId "a b" must be/,
        );
    });

    it("CertManager with DNS01 and Gateway API: waits for the CRDs and its identity; issuers wait for the release", async () => {
        let cm: CertManager | undefined;
        const run = await components(() => {
            const { identity } = fakeCluster();
            const crds = new GatewayApiCrds("crds");
            cm = new CertManager("cm", {
                replicas: 2,
                acmeEmail: "a@b.c",
                dns01: { region: "eu-west-1", zones: ZONES, identity },
                gatewayApiCrds: crds,
            });
        });
        assertNoCollisions(run);
        const release = find(run, RELEASE, "cm-release");
        assert.strictEqual(at(release.props, "values.config.gatewayAPI.enabled"), true);
        for (const target of [
            find(run, "kubernetes:helm.sh/v4:Chart", "crds-chart"),
            find(run, ASSOCIATION, "cm-pod-identity"),
            find(run, "aws:eks/addon:Addon", "pod-identity-agent"),
        ])
            assert.ok(waitsFor(run, release, target), `release waits for ${target.name}`);
        const issuers = ofType(run, CR("ClusterIssuer"));
        assert.deepStrictEqual(issuers.map((i) => at(i.props, "metadata.name")).sort(), [
            "letsencrypt-production",
            "letsencrypt-staging",
        ]);
        for (const i of issuers) {
            assert.ok(waitsFor(run, i, release));
            assert.deepStrictEqual(
                (at(i.props, "spec.acme.solvers") as unknown[]).map((s) => at(s, "dns01.route53.hostedZoneID")),
                ZONES.map((z) => z.id),
            );
        }
        assert.strictEqual(cm?.issuers?.production.name, "letsencrypt-production");
        const association = find(run, ASSOCIATION, "cm-pod-identity");
        assert.deepStrictEqual(
            [association.props.namespace, association.props.serviceAccount],
            ["cert-manager", "cert-manager"],
        );
    });
});
