import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ProgramRun, lastRunResources, runProgram } from "../harness/engine";
import { FAKE_ACCOUNT } from "../harness/mocks";
import { EKS_VERSIONS } from "../components/eks-versions";
import { OTLP_ENDPOINT_READ_AT_MAJORS } from "../components/logging";
import { at, byUrn, find, ofType, typeCounts } from "./helpers";
import { synthesize } from "../scripts/lib/synthesize";
import { stackRun } from "./shared-runs";

const T = {
    cluster: "eks:index:Cluster",
    nodeGroup: "eks:index:ManagedNodeGroup",
    vpc: "awsx:ec2:Vpc",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    kmsKey: "aws:kms/key:Key",
    role: "aws:iam/role:Role",
    repo: "aws:ecr/repository:Repository",
    addon: "aws:eks/addon:Addon",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    release: "kubernetes:helm.sh/v3:Release",
    issuer: "kubernetes:cert-manager.io/v1:ClusterIssuer",
    deployment: "kubernetes:apps/v1:Deployment",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    k8sProvider: "pulumi:providers:kubernetes",
    podIdentity: "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    httpRoute: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    service: "kubernetes:core/v1:Service",
    scraper: "aws:amp/scraper:Scraper",
};

/** What each stack file sets for the edge (Pulumi.<stack>.yaml). */
const EDGE: Record<string, { zone: { id: string; name: string }; hostname: string; issuer: string }> = {
    dev: {
        zone: { id: "Z0123456789KLMNOPQRST", name: "dev.example.com" },
        hostname: "checkout.dev.example.com",
        issuer: "letsencrypt-staging",
    },
    prod: {
        zone: { id: "Z0123456789ABCDEFGHIJ", name: "example.com" },
        hostname: "checkout.example.com",
        issuer: "letsencrypt-production",
    },
};

const runs: Record<string, ProgramRun & { warnings: readonly string[] }> = {};
before(async function () {
    this.timeout(60_000);
    runs.dev = await stackRun("dev");
    runs.prod = await stackRun("prod");
});

const json = (s: unknown) => JSON.parse(String(s)) as Record<string, unknown>;

for (const stack of ["dev", "prod"]) {
    describe(`program (${stack}): the resource graph`, () => {
        const run = () => runs[stack];

        it("registers every resource under one stack root, each with a URN, names unique per type", () => {
            const roots = run().resources.filter((r) => !r.parent);
            assert.deepStrictEqual(
                roots.map((r) => r.type),
                ["pulumi:pulumi:Stack"],
            );
            for (const r of run().resources)
                assert.ok(r.urn.startsWith(`urn:pulumi:${stack}::checkout-platform::`), r.name);
            assert.strictEqual(new Set(run().resources.map((r) => r.urn)).size, run().resources.length);
        });

        it("builds the cluster with API auth, KMS secrets encryption, OIDC, explicit upgrade policy and no default node group", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            const key = find(run(), T.kmsKey, "cluster-secrets-key");
            assert.strictEqual(cluster.props.name, `checkout-${stack}`);
            assert.strictEqual(cluster.props.authenticationMode, "API");
            assert.strictEqual(
                cluster.props.encryptionConfigKeyArn,
                `arn:aws:kms:eu-west-1:${FAKE_ACCOUNT}:key/cluster-secrets-key`,
            );
            assert.strictEqual(key.props.enableKeyRotation, true);
            assert.strictEqual(cluster.props.createOidcProvider, true);
            assert.deepStrictEqual(cluster.props.upgradePolicy, { supportType: "STANDARD" });
            assert.strictEqual(cluster.props.skipDefaultNodeGroup, true);
            assert.strictEqual(cluster.props.nodeAssociatePublicIpAddress, false);
            assert.strictEqual(cluster.props.endpointPrivateAccess, true);
            assert.strictEqual(at(cluster.props, "vpcCniOptions.enableNetworkPolicy"), true);
            assert.strictEqual(cluster.props.version, "1.36");
        });

        it("gives the deploy and preview roles access entries, and none to the role that creates the cluster", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            const account = stack === "dev" ? "111111111111" : "222222222222";
            const entries = cluster.props.accessEntries as Record<string, { principalArn: string }>;
            // platform-admin runs the first `up` (cluster.bootstrapRoleArn): EKS makes it admin
            // itself, and an explicit entry for it would fail with 409 (pulumi-eks#2373).
            assert.deepStrictEqual(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, e.principalArn])), {
                deploy: `arn:aws:iam::${account}:role/platform-deploy`,
                preview: `arn:aws:iam::${account}:role/platform-preview`,
            });
            for (const key of Object.keys(entries))
                assert.deepStrictEqual(at(entries, `${key}.accessPolicies.clusterAdmin`), {
                    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    accessScope: { type: "cluster" },
                });
        });

        it("pins vpc-cni and kube-proxy inside eks.Cluster and keeps coredns out of it", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            assert.strictEqual(at(cluster.props, "vpcCniOptions.addonVersion"), EKS_VERSIONS.addons["vpc-cni"]);
            assert.strictEqual(at(cluster.props, "kubeProxyAddonOptions.version"), EKS_VERSIONS.addons["kube-proxy"]);
            assert.strictEqual(at(cluster.props, "corednsAddonOptions.enabled"), false);
        });

        it("creates coredns, the Pod Identity agent and metrics-server after the node group, at pinned builds", () => {
            const ng = find(run(), T.nodeGroup, "cluster-nodes");
            const addons = ofType(run(), T.addon).filter((a) => a.parent?.endsWith("::cluster"));
            assert.deepStrictEqual(addons.map((a) => a.props.addonName).sort(), [
                "coredns",
                "eks-pod-identity-agent",
                "metrics-server",
            ]);
            for (const a of addons) {
                // pulumi-eks#1819: an add-on with pods created before any node stays DEGRADED.
                assert.ok(a.dependencies.includes(ng.urn), `${String(a.props.addonName)} waits for the node group`);
                assert.strictEqual(
                    a.props.addonVersion,
                    EKS_VERSIONS.addons[a.props.addonName as keyof typeof EKS_VERSIONS.addons],
                );
            }
            assert.strictEqual(find(run(), T.addon, "cluster-coredns").props.preserve, true);
        });

        it("makes every Kubernetes object wait for the nodes, cluster DNS and the runner's API path", () => {
            const provider = find(run(), T.k8sProvider, "cluster-k8s");
            for (const dep of [
                find(run(), T.nodeGroup, "cluster-nodes"),
                find(run(), T.addon, "cluster-coredns"),
                ...ofType(run(), T.sgRule),
            ])
                assert.ok(provider.dependencies.includes(dep.urn), `the provider waits for ${dep.name}`);
        });

        it("creates the control-plane log group before the cluster, named after it", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            const group = find(run(), T.logGroup, "logs-control-plane");
            assert.strictEqual(group.props.name, `/aws/eks/checkout-${stack}/cluster`);
            assert.ok(cluster.dependencies.includes(group.urn), "the cluster must depend on its log group");
        });

        it("puts the managed node group in the VPC's private subnets, on its own launch template", () => {
            const ng = find(run(), T.nodeGroup, "cluster-nodes");
            const lt = find(run(), T.launchTemplate, "cluster-nodes-lt");
            assert.deepStrictEqual(ng.props.subnetIds, [
                "subnet-01000000000000000",
                "subnet-01100000000000000",
                "subnet-01200000000000000",
            ]);
            assert.strictEqual(ng.props.version, "1.36");
            assert.deepStrictEqual(ng.props.launchTemplate, { id: "cluster-nodes-lt-id", version: "1" });
            // pulumi-eks rejects enableIMDSv2 or diskSize beside a launch template of our own.
            assert.strictEqual(ng.props.enableIMDSv2, undefined);
            assert.strictEqual(ng.props.diskSize, undefined);
            assert.deepStrictEqual(lt.props.metadataOptions, {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 2,
            });
            assert.deepStrictEqual(lt.props.blockDeviceMappings, [
                {
                    deviceName: "/dev/xvda",
                    ebs: { volumeSize: 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
                },
            ]);
        });

        it("writes container logs through the CloudWatch add-on, under a Pod Identity role pinned to its service account", () => {
            const addon = ofType(run(), T.addon).find((a) => a.props.addonName === "amazon-cloudwatch-observability");
            assert.ok(addon, "the amazon-cloudwatch-observability add-on exists");
            const role = find(run(), T.role, "container-insights-role");
            assert.deepStrictEqual(addon.props.podIdentityAssociations, [
                {
                    roleArn: `arn:aws:iam::${FAKE_ACCOUNT}:role/container-insights-role-0123456`,
                    serviceAccount: "cloudwatch-agent",
                },
            ]);
            const trust = json(role.props.assumeRolePolicy) as {
                Statement: { Condition: { StringEquals: Record<string, string> } }[];
            };
            assert.deepStrictEqual(trust.Statement[0].Condition.StringEquals, {
                "aws:RequestTag/eks-cluster-name": `checkout-${stack}`,
                "aws:RequestTag/kubernetes-namespace": "amazon-cloudwatch",
                "aws:RequestTag/kubernetes-service-account": "cloudwatch-agent",
            });
            // dependsOn a component expands to its children: the agent waits for every log group.
            for (const group of ofType(run(), T.logGroup)) {
                assert.ok(addon.dependencies.includes(group.urn), `the agent waits for ${String(group.props.name)}`);
            }
        });

        it("installs metrics-server (the HPA needs it)", () => {
            const addon = ofType(run(), T.addon).find((a) => a.props.addonName === "metrics-server");
            assert.ok(addon && /^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(String(addon.props.addonVersion)));
        });

        it("deploys every Kubernetes object through the cluster's one explicit provider", () => {
            const providers = ofType(run(), T.k8sProvider);
            assert.strictEqual(providers.length, 1);
            const k8sObjects = run().resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8sObjects.length >= 10);
            for (const r of k8sObjects)
                assert.ok(r.provider?.startsWith(providers[0].urn + "::"), `${r.type} ${r.name} uses ${r.provider}`);
        });

        it("creates the ClusterIssuers (DNS01 in edge.zones) only after the cert-manager release", () => {
            const release = find(run(), T.release, "cert-manager-release");
            const issuers = ofType(run(), T.issuer);
            // Both stacks have a zone; without one there is no solver (HTTP01 was removed).
            assert.deepStrictEqual(issuers.map((i) => at(i.props, "metadata.name")).sort(), [
                "letsencrypt-production",
                "letsencrypt-staging",
            ]);
            for (const i of issuers)
                assert.ok(i.dependencies.includes(release.urn), `${i.name} depends on the release`);
            assert.strictEqual(release.props.name, "cert-manager");
            assert.strictEqual(at(release.props, "values.crds.enabled"), true);
            assert.strictEqual(at(release.props, "values.installCRDs"), undefined);
        });

        it("runs checkout-service from this program's ECR repository, with no replicas on the HPA's target", () => {
            const dep = find(run(), T.deployment, "checkout-deployment");
            const hpa = find(run(), T.hpa, "checkout-hpa");
            assert.strictEqual(
                at(dep.props, "spec.template.spec.containers.0.image"),
                `${FAKE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/checkout-service:1.4.2`,
            );
            assert.strictEqual(at(dep.props, "spec.replicas"), undefined);
            assert.strictEqual(at(hpa.props, "spec.scaleTargetRef.name"), at(dep.props, "metadata.name"));
            assert.ok(hpa.dependencies.includes(dep.urn), "the HPA takes the name from the Deployment's output");
        });

        it("exports the outputs, the kubeconfig as a secret", async () => {
            assert.deepStrictEqual(Object.keys(run().outputs).sort(), [
                "alertTopicArn",
                "checkoutNamespace",
                "checkoutServiceName",
                "checkoutUrl",
                "clusterIssuers",
                "clusterName",
                "clusterSecurityGroupId",
                "ecrRepositoryUrl",
                "kubeconfig",
                "logGroupNames",
                "oidcProviderArn",
                "prometheusEndpoint",
                "vpcId",
            ]);
            assert.strictEqual(run().outputs.clusterName, `checkout-${stack}`);
            assert.strictEqual(run().outputs.checkoutUrl, `https://${EDGE[stack].hostname}`);
            assert.strictEqual(run().outputs.checkoutServiceName, "checkout-service");
            assert.deepStrictEqual(run().outputs.logGroupNames, [
                `/aws/eks/checkout-${stack}/cluster`,
                ...["application", "dataplane", "host", "performance"].map(
                    (s) => `/aws/containerinsights/checkout-${stack}/${s}`,
                ),
            ]);
            assert.strictEqual(await pulumi.isSecret(run().exports.kubeconfig as pulumi.Output<string>), true);
            assert.strictEqual(await pulumi.isSecret(run().exports.clusterName as pulumi.Output<string>), false);
        });
    });
}

/** The private subnets of the mock VPC (10.0.0.0/16 over 3 AZs) and where awsx lays them out. */
const PRIVATE_SUBNETS = ["subnet-01000000000000000", "subnet-01100000000000000", "subnet-01200000000000000"];
const PRIVATE_CIDRS = ["10.0.0.0/19", "10.0.64.0/19", "10.0.128.0/19"];

type Listener = { name: string; protocol: string; hostname?: string; allowedRoutes?: unknown };

/** Whether a listener's allowedRoutes admits routes from `namespace` (Gateway API: default Same). */
function admits(l: Listener, namespace: string, gatewayNamespace: string): boolean {
    const from = at(l.allowedRoutes, "namespaces.from") ?? "Same";
    if (from === "All") return true;
    if (from === "Same") return namespace === gatewayNamespace;
    const labels = at(l.allowedRoutes, "namespaces.selector.matchLabels") as Record<string, string> | undefined;
    return labels?.["kubernetes.io/metadata.name"] === namespace;
}

for (const stack of ["dev", "prod"]) {
    describe(`program (${stack}): from the hostname through the Gateway to the checkout pods`, () => {
        const run = () => runs[stack];
        const e = EDGE[stack];

        it("ExternalDNS writes the route's records in the configured zone only, owned by the stack's cluster name", () => {
            const release = find(run(), T.release, "external-dns-release");
            assert.deepStrictEqual(at(release.props, "values.sources"), ["gateway-httproute"]);
            assert.deepStrictEqual(at(release.props, "values.domainFilters"), [e.zone.name]);
            assert.deepStrictEqual(at(release.props, "values.extraArgs.zone-id-filter"), [e.zone.id]);
            assert.strictEqual(at(release.props, "values.txtOwnerId"), `checkout-${stack}`);
            assert.strictEqual(at(release.props, "values.policy"), "sync");
            const policy = json(find(run(), T.rolePolicy, "external-dns-policy").props.policy) as {
                Statement: { Action: unknown; Resource: unknown }[];
            };
            assert.deepStrictEqual(
                policy.Statement.filter((st) => st.Action === "route53:ChangeResourceRecordSets").map(
                    (st) => st.Resource,
                ),
                [[`arn:aws:route53:::hostedzone/${e.zone.id}`]],
            );
        });

        it("the Gateway serves the hostname over HTTPS with a certificate from the configured ClusterIssuer, on an internet-facing NLB", () => {
            const gw = find(run(), T.gateway, "edge-gateway");
            assert.strictEqual(
                (at(gw.props, "metadata.annotations") as Record<string, string>)["cert-manager.io/cluster-issuer"],
                e.issuer,
            );
            const https = (at(gw.props, "spec.listeners") as Listener[]).filter((l) => l.protocol === "HTTPS");
            assert.deepStrictEqual(
                https.map((l) => l.hostname),
                [e.hostname],
            );
            assert.ok(
                admits(https[0], "checkout", String(at(gw.props, "metadata.namespace"))),
                "the HTTPS listener admits routes from the checkout namespace",
            );
            // The issuer exists (and answers DNS01 in the hostname's zone) before the Gateway asks it.
            const issuer = ofType(run(), T.issuer).find((i) => at(i.props, "metadata.name") === e.issuer)!;
            assert.ok(gw.dependencies.includes(issuer.urn), "the Gateway waits for its ClusterIssuer");
            assert.deepStrictEqual(at(issuer.props, "spec.acme.solvers.0.selector.dnsZones"), [e.zone.name]);
            // The load balancer controller runs before the proxies' Service asks for an NLB.
            assert.ok(gw.dependencies.includes(find(run(), T.release, "lbc-release").urn));
            const cls = find(run(), "kubernetes:gateway.networking.k8s.io/v1:GatewayClass", "edge-class");
            assert.strictEqual(at(gw.props, "spec.gatewayClassName"), at(cls.props, "metadata.name"));
            const proxy = find(run(), "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "edge-envoy-proxy");
            assert.strictEqual(at(cls.props, "spec.parametersRef.name"), at(proxy.props, "metadata.name"));
            const service = at(proxy.props, "spec.provider.kubernetes.envoyService") as Record<string, unknown>;
            assert.strictEqual(service.loadBalancerClass, "service.k8s.aws/nlb");
            assert.strictEqual(
                (service.annotations as Record<string, string>)["service.beta.kubernetes.io/aws-load-balancer-scheme"],
                "internet-facing",
            );
        });

        it("checkout's HTTPRoute attaches to the hostname's HTTPS listener after the Gateway and sends to the checkout Service", () => {
            const route = find(run(), T.httpRoute, "checkout-route");
            const gw = find(run(), T.gateway, "edge-gateway");
            const listener = (at(gw.props, "spec.listeners") as Listener[]).find((l) => l.hostname === e.hostname)!;
            assert.deepStrictEqual(at(route.props, "spec.parentRefs"), [
                {
                    group: "gateway.networking.k8s.io",
                    kind: "Gateway",
                    name: at(gw.props, "metadata.name"),
                    namespace: at(gw.props, "metadata.namespace"),
                    sectionName: listener.name,
                },
            ]);
            assert.deepStrictEqual(at(route.props, "spec.hostnames"), [e.hostname]);
            const svc = find(run(), T.service, "checkout-svc");
            assert.deepStrictEqual(at(route.props, "spec.rules.0.backendRefs"), [
                {
                    group: "",
                    kind: "Service",
                    name: at(svc.props, "metadata.name"),
                    port: at(svc.props, "spec.ports.0.port"),
                },
            ]);
            // ... whose port forwards to the container's app port.
            const dep = find(run(), T.deployment, "checkout-deployment");
            assert.strictEqual(at(svc.props, "spec.ports.0.targetPort"), "http");
            assert.deepStrictEqual(at(dep.props, "spec.template.spec.containers.0.ports"), [
                { name: "http", containerPort: 8080, protocol: "TCP" },
                // The service's own metrics listener (METRICS_PORT): the Service does not forward to it.
                { name: "metrics", containerPort: 9464, protocol: "TCP" },
            ]);
            assert.deepStrictEqual(
                (at(svc.props, "spec.ports") as { targetPort: unknown }[]).map((p) => p.targetPort),
                ["http"],
            );
            assert.deepStrictEqual(at(svc.props, "spec.selector"), at(dep.props, "spec.selector.matchLabels"));
            for (const dep of [gw, find(run(), "kubernetes:helm.sh/v4:Chart", "gateway-api-crds-chart")])
                assert.ok(route.dependencies.includes(dep.urn), `the route waits for ${dep.name}`);
        });

        it("checkout's NetworkPolicy admits this Gateway's Envoy proxies on the app port, the scraper's subnets on the metrics port only", () => {
            const np = find(run(), T.netpol, "checkout-netpol");
            const proxy = find(run(), "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy", "edge-envoy-proxy");
            // The labels the proxies' own spread constraint selects them by.
            const proxyLabels = at(
                proxy.props,
                "spec.provider.kubernetes.envoyDeployment.pod.topologySpreadConstraints.0.labelSelector.matchLabels",
            ) as Record<string, string>;
            assert.strictEqual(proxyLabels["gateway.envoyproxy.io/owning-gateway-name"], "edge");
            const app = [{ protocol: "TCP", port: 8080 }];
            const metrics = [{ protocol: "TCP", port: 9464 }];
            const ingress = at(np.props, "spec.ingress") as {
                from: { ipBlock?: unknown }[];
                ports: { port: number }[];
            }[];
            // Every pod's address is in the private subnets (VPC CNI): a subnet ipBlock on the app port
            // would admit every pod in the cluster to it, not only the Envoy proxies.
            const appRules = ingress.filter((r) => r.ports.some((p) => p.port === 8080));
            assert.strictEqual(appRules.length, 1, JSON.stringify(ingress));
            assert.ok(
                appRules[0]?.from.every((peer) => peer.ipBlock === undefined),
                `the app-port rule admits an ipBlock: ${JSON.stringify(appRules[0]?.from)}`,
            );
            const withIpBlocks = ingress.filter((r) => r.from.some((peer) => peer.ipBlock !== undefined));
            assert.deepStrictEqual(
                withIpBlocks.map((r) => r.ports.map((p) => p.port)),
                [[9464]],
            );
            assert.deepStrictEqual(ingress, [
                {
                    from: [
                        {
                            namespaceSelector: {
                                matchLabels: { "kubernetes.io/metadata.name": at(proxy.props, "metadata.namespace") },
                            },
                            podSelector: { matchLabels: proxyLabels },
                        },
                    ],
                    ports: app,
                },
                { from: PRIVATE_CIDRS.map((cidr) => ({ ipBlock: { cidr } })), ports: metrics },
            ]);
            // The managed collector scrapes from its ENIs in exactly those subnets.
            assert.deepStrictEqual(
                at(find(run(), T.scraper, "telemetry-scraper").props, "source.eks.subnetIds"),
                PRIVATE_SUBNETS,
            );
        });

        it("runs every controller that calls AWS under Pod Identity, after the agent add-on", () => {
            const agent = find(run(), T.addon, "cluster-eks-pod-identity-agent");
            for (const [name, namespace] of [
                ["cert-manager", "cert-manager"],
                ["lbc", "aws-load-balancer-controller"],
                ["external-dns", "external-dns"],
            ]) {
                const release = find(run(), T.release, `${name}-release`);
                const association = find(run(), T.podIdentity, `${name}-pod-identity`);
                assert.deepStrictEqual(
                    [association.props.clusterName, association.props.namespace],
                    [`checkout-${stack}`, namespace],
                );
                for (const d of [association, agent])
                    assert.ok(release.dependencies.includes(d.urn), `${release.name} waits for ${d.name}`);
            }
        });

        it("scrapes checkout's /metrics into AMP and alerts on its SLO budgets to the configured email", () => {
            const dep = find(run(), T.deployment, "checkout-deployment");
            assert.deepStrictEqual(at(dep.props, "spec.template.metadata.annotations"), {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": "9464",
                "prometheus.io/path": "/metrics",
            });
            // The annotated port is the container's metrics port, and the collector's security group
            // reaches it (and not the app port) on the cluster security group, both ways.
            assert.deepStrictEqual(
                (at(dep.props, "spec.template.spec.containers.0.ports") as { name: string; containerPort: number }[])
                    .filter((p) => p.name === "metrics")
                    .map((p) => p.containerPort),
                [9464],
            );
            for (const type of [
                "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            ]) {
                const ports = ofType(run(), type)
                    .filter((r) => r.name.startsWith("telemetry-"))
                    .map((r) => r.props.fromPort)
                    .sort();
                assert.deepStrictEqual(ports, [443, 9464], type);
            }
            const scraper = find(run(), T.scraper, "telemetry-scraper");
            assert.strictEqual(
                at(scraper.props, "source.eks.clusterArn"),
                `arn:aws:eks:eu-west-1:${FAKE_ACCOUNT}:cluster/checkout-${stack}`,
            );
            const rules = String(
                find(run(), "aws:amp/ruleGroupNamespace:RuleGroupNamespace", "telemetry-slo-rules").props.data,
            );
            for (const alert of ["CheckoutErrorBudgetBurn", "CheckoutLatencyBudgetBurn"])
                assert.match(rules, new RegExp(`alert: ${alert}`));
            assert.match(rules, /service="checkout-service",route="\/checkout"/);
            assert.deepStrictEqual(
                ofType(run(), "aws:sns/topicSubscription:TopicSubscription").map((s) => [
                    s.props.protocol,
                    s.props.endpoint,
                ]),
                [["email", "platform-oncall@example.com"]],
            );
        });

        it("gives Karpenter a NodePool of the stack's capacity types (dev spot and on-demand, prod on-demand)", () => {
            const pool = find(run(), "kubernetes:karpenter.sh/v1:NodePool", "karpenter-node-pool");
            const requirements = at(pool.props, "spec.template.spec.requirements") as {
                key: string;
                values: string[];
            }[];
            assert.deepStrictEqual(
                requirements.find((r) => r.key === "karpenter.sh/capacity-type")?.values,
                stack === "dev" ? ["spot", "on-demand"] : ["on-demand"],
            );
            assert.deepStrictEqual(
                at(pool.props, "spec.limits"),
                stack === "dev" ? { cpu: "32", memory: "128Gi" } : { cpu: "128", memory: "512Gi" },
            );
        });

        it("feeds checkout's DB_* variables from the ExternalSecret of the configured Secrets Manager secret", () => {
            const es = find(
                run(),
                "kubernetes:external-secrets.io/v1:ExternalSecret",
                "checkout-external-secret-checkout-db",
            );
            assert.strictEqual(at(es.props, "metadata.namespace"), "checkout");
            const data = at(es.props, "spec.data") as { secretKey: string; remoteRef: { key: string } }[];
            assert.deepStrictEqual([...new Set(data.map((d) => d.remoteRef.key))], [`checkout-${stack}/orders-db`]);
            assert.deepStrictEqual(at(es.props, "spec.secretStoreRef"), {
                kind: "ClusterSecretStore",
                name: "aws-secrets-manager",
            });
            const target = at(es.props, "spec.target.name");
            const env = at(
                find(run(), T.deployment, "checkout-deployment").props,
                "spec.template.spec.containers.0.env",
            ) as {
                name: string;
                valueFrom?: { secretKeyRef?: { name: string; key: string } };
            }[];
            const fromSecret = env.filter((v) => v.valueFrom?.secretKeyRef);
            assert.deepStrictEqual(
                fromSecret.map((v) => v.name),
                data.map((d) => d.secretKey),
            );
            for (const v of fromSecret) assert.strictEqual(v.valueFrom?.secretKeyRef?.name, target, v.name);
            const policy = json(find(run(), T.rolePolicy, "external-secrets-policy").props.policy) as {
                Statement: { Resource: string }[];
            };
            assert.strictEqual(
                policy.Statement[0].Resource,
                `arn:aws:secretsmanager:eu-west-1:${FAKE_ACCOUNT}:secret:checkout-${stack}/*`,
            );
        });

        it("gives checkout a recommendation-only VPA (updateMode Off) on its Deployment", () => {
            const vpa = find(run(), "kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler", "checkout-vpa");
            assert.strictEqual(at(vpa.props, "metadata.namespace"), "checkout");
            assert.strictEqual(at(vpa.props, "spec.updatePolicy.updateMode"), "Off");
            const dep = find(run(), T.deployment, "checkout-deployment");
            assert.deepStrictEqual(at(vpa.props, "spec.targetRef"), {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name: at(dep.props, "metadata.name"),
            });
        });

        it("sends checkout's traces to the CloudWatch agent's OTLP receiver, and its NetworkPolicy lets them out by pod selector", () => {
            const r = run();
            const container = at(
                find(r, T.deployment, "checkout-deployment").props,
                "spec.template.spec.containers.0",
            ) as { env: { name: string; value?: string }[] };
            const endpoint = container.env.find((v) => v.name === "OTEL_EXPORTER_OTLP_ENDPOINT")?.value;
            // The Application Signals receiver of the pinned add-on: the Service the agent operator
            // names after the chart's agent, its OTLP/HTTP port (operator v3.6.0 ports.go).
            assert.strictEqual(endpoint, "http://cloudwatch-agent.amazon-cloudwatch:4316");
            const egress = at(find(r, T.netpol, "checkout-netpol").props, "spec.egress") as {
                to: {
                    ipBlock?: unknown;
                    namespaceSelector?: { matchLabels: Record<string, string> };
                    podSelector?: { matchLabels: Record<string, string> };
                }[];
                ports: { port: number; protocol: string }[];
            }[];
            const toAgent = egress.filter((rule) => rule.ports.some((p) => p.port === 4316 && p.protocol === "TCP"));
            assert.strictEqual(toAgent.length, 1, "one egress rule on the receiver's port");
            const [peer] = toAgent[0].to;
            assert.strictEqual(peer.ipBlock, undefined, "an ipBlock never matches the ClusterIP the pod dials");
            assert.deepStrictEqual(peer.namespaceSelector?.matchLabels, {
                "kubernetes.io/metadata.name": "amazon-cloudwatch",
            });
            // The network policy controller adds the Service's ClusterIP only when these labels are
            // part of the Service's selector: the operator's SelectorLabels for the agent
            // `amazon-cloudwatch/cloudwatch-agent` (v3.6.0 internal/manifests/manifestutils/labels.go).
            const serviceSelector: Record<string, string> = {
                "app.kubernetes.io/managed-by": "amazon-cloudwatch-agent-operator",
                "app.kubernetes.io/instance": "amazon-cloudwatch.cloudwatch-agent",
                "app.kubernetes.io/part-of": "amazon-cloudwatch-agent",
                "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            };
            const labels = peer.podSelector?.matchLabels ?? {};
            assert.ok(Object.keys(labels).length > 0, "the peer names the agent's pods");
            for (const [k, v] of Object.entries(labels))
                assert.strictEqual(serviceSelector[k], v, `pod label ${k}=${v} is not in the agent Service's selector`);
        });

        it("the pinned CloudWatch add-on's major is one whose OTLP receiver was read (re-read on a major bump)", () => {
            const version = EKS_VERSIONS.addons["amazon-cloudwatch-observability"];
            const major = Number(/^v(\d+)\./.exec(version)?.[1]);
            assert.ok(
                OTLP_ENDPOINT_READ_AT_MAJORS.includes(major),
                `${version}: read its chart (values.yaml applicationSignals, _helpers.tpl build-default-config) and ` +
                    `its operator (ports.go, service.go, manifestutils/labels.go) before adding ${major} to ` +
                    `OTLP_ENDPOINT_READ_AT_MAJORS in components/logging.ts; from 8.0.0 AWS also documents a generic ` +
                    `OTLP endpoint on 4317/4318 (README, "Traces")`,
            );
        });
    });
}

describe("program: what differs between dev and prod", () => {
    const dev = () => runs.dev;
    const prod = () => runs.prod;
    const both = <T>(f: (r: ProgramRun) => T) => ({ dev: f(dev()), prod: f(prod()) });

    it("resource counts differ only by prod's KMS keys and its API ingress rule", () => {
        const d = typeCounts(dev());
        const p = typeCounts(prod());
        const diff: Record<string, [number, number]> = {};
        for (const t of new Set([...Object.keys(d), ...Object.keys(p)]))
            if (d[t] !== p[t]) diff[t] = [d[t] ?? 0, p[t] ?? 0];
        assert.deepStrictEqual(diff, {
            "aws:ec2/securityGroupRule:SecurityGroupRule": [0, 1],
            "aws:kms/alias:Alias": [0, 1],
            "aws:kms/key:Key": [2, 4],
        });
    });

    it("ExternalDNS owner ids differ (with sync a shared owner id deletes the other stack's records: external-dns#3229)", () => {
        assert.deepStrictEqual(
            both((r) => at(find(r, T.release, "external-dns-release").props, "values.txtOwnerId")),
            { dev: "checkout-dev", prod: "checkout-prod" },
        );
    });

    it("certificates: Let's Encrypt staging in dev, production in prod", () => {
        assert.deepStrictEqual(
            both(
                (r) =>
                    (at(find(r, T.gateway, "edge-gateway").props, "metadata.annotations") as Record<string, string>)[
                        "cert-manager.io/cluster-issuer"
                    ],
            ),
            { dev: "letsencrypt-staging", prod: "letsencrypt-production" },
        );
    });

    it("NAT gateways: one in dev, one per AZ in prod, over 3 AZs", () => {
        assert.deepStrictEqual(
            both((r) => at(find(r, T.vpc, "network-vpc").props, "natGateways.strategy")),
            { dev: "Single", prod: "OnePerAz" },
        );
        assert.deepStrictEqual(
            both((r) => find(r, T.vpc, "network-vpc").props.numberOfAvailabilityZones),
            { dev: 3, prod: 3 },
        );
    });

    it("API endpoint: public for an allow-list in dev, private with a 443 rule for the in-VPC runner in prod", () => {
        const c = both((r) => find(r, T.cluster, "cluster-eks").props);
        assert.strictEqual(c.dev.endpointPublicAccess, true);
        assert.deepStrictEqual(c.dev.publicAccessCidrs, ["203.0.113.0/24"]);
        assert.deepStrictEqual(ofType(dev(), T.sgRule), []);
        assert.strictEqual(c.prod.endpointPublicAccess, false);
        assert.strictEqual(c.prod.publicAccessCidrs, undefined);
        const rule = find(prod(), T.sgRule, "cluster-api-cidr-10-0-0-0-16");
        assert.deepStrictEqual(
            { ...rule.props, description: undefined },
            {
                type: "ingress",
                protocol: "tcp",
                fromPort: 443,
                toPort: 443,
                cidrBlocks: ["10.0.0.0/16"],
                // The mock's clusterSecurityGroupId of eks.Cluster: the rule is on the cluster's group.
                securityGroupId: "sg-0c1a2b3c4d5e6f701",
                description: undefined,
            },
        );
        assert.ok(rule.dependencies.includes(find(prod(), T.cluster, "cluster-eks").urn));
        assert.strictEqual(prod().outputs.clusterSecurityGroupId, "sg-0c1a2b3c4d5e6f701");
    });

    it("control-plane logs: api/audit/authenticator in dev, all five in prod; deletion protection only in prod", () => {
        const c = both((r) => find(r, T.cluster, "cluster-eks").props);
        assert.deepStrictEqual(c.dev.enabledClusterLogTypes, ["api", "audit", "authenticator"]);
        assert.deepStrictEqual(c.prod.enabledClusterLogTypes, [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ]);
        assert.deepStrictEqual([c.dev.deletionProtection, c.prod.deletionProtection], [false, true]);
    });

    it("log retention 30 days unencrypted in dev, 365 days KMS-encrypted in prod (key usable by CloudWatch Logs)", () => {
        const groups = both((r) => ofType(r, T.logGroup));
        assert.strictEqual(groups.dev.length, 5);
        assert.ok(groups.dev.every((g) => g.props.retentionInDays === 30 && g.props.kmsKeyId === undefined));
        assert.ok(
            groups.prod.every(
                (g) => g.props.retentionInDays === 365 && String(g.props.kmsKeyId).includes(":key/logs-key"),
            ),
        );
        const policy = json(find(prod(), T.kmsKey, "logs-key").props.policy) as {
            Statement: { Principal: Record<string, string> }[];
        };
        assert.deepStrictEqual(policy.Statement[1].Principal, { Service: "logs.eu-west-1.amazonaws.com" });
    });

    it("node group: 2-4 nodes in dev, 3-9 in prod", () => {
        assert.deepStrictEqual(
            both((r) => find(r, T.nodeGroup, "cluster-nodes").props.scalingConfig),
            {
                dev: { minSize: 2, desiredSize: 2, maxSize: 4 },
                prod: { minSize: 3, desiredSize: 3, maxSize: 9 },
            },
        );
    });

    it("checkout HPA: 2-4 in dev, 3-12 in prod", () => {
        const hpa = both((r) => find(r, T.hpa, "checkout-hpa").props);
        assert.deepStrictEqual([at(hpa.dev, "spec.minReplicas"), at(hpa.dev, "spec.maxReplicas")], [2, 4]);
        assert.deepStrictEqual([at(hpa.prod, "spec.minReplicas"), at(hpa.prod, "spec.maxReplicas")], [3, 12]);
    });

    it("cert-manager: one replica without PDBs in dev; two with PDBs in prod; both with a Route53 DNS01 identity", () => {
        const values = both((r) => find(r, T.release, "cert-manager-release").props.values);
        for (const path of ["replicaCount", "webhook.replicaCount", "cainjector.replicaCount"]) {
            assert.deepStrictEqual([at(values.dev, path), at(values.prod, path)], [1, 2], path);
        }
        assert.deepStrictEqual(
            [at(values.dev, "podDisruptionBudget.enabled"), at(values.prod, "podDisruptionBudget.enabled")],
            [false, true],
        );
        // Pod Identity, not IRSA: no role annotation; the association names the service account.
        assert.deepStrictEqual(
            both((r) => at(find(r, T.release, "cert-manager-release").props, "values.serviceAccount.annotations")),
            { dev: undefined, prod: undefined },
        );
        for (const [stack, run] of [
            ["dev", dev()],
            ["prod", prod()],
        ] as const) {
            const association = find(run, T.podIdentity, "cert-manager-pod-identity");
            assert.deepStrictEqual(
                [association.props.namespace, association.props.serviceAccount],
                ["cert-manager", at(values[stack], "serviceAccount.name")],
            );
            assert.deepStrictEqual(
                at(find(run, T.issuer, "cert-manager-issuer-production").props, "spec.acme.solvers"),
                [
                    {
                        selector: { dnsZones: [EDGE[stack].zone.name] },
                        dns01: { route53: { region: "eu-west-1", hostedZoneID: EDGE[stack].zone.id } },
                    },
                ],
            );
        }
    });

    it("ECR: force-deletable and AES256 in dev; protected and KMS-encrypted in prod", () => {
        const repo = both((r) => find(r, T.repo, "registry-repo").props);
        assert.deepStrictEqual([repo.dev.forceDelete, repo.prod.forceDelete], [true, false]);
        assert.deepStrictEqual(repo.dev.encryptionConfigurations, [{ encryptionType: "AES256" }]);
        assert.strictEqual(at(repo.prod, "encryptionConfigurations.0.encryptionType"), "KMS");
        for (const r of [repo.dev, repo.prod]) {
            assert.strictEqual(r.imageTagMutability, "IMMUTABLE");
            assert.strictEqual(at(r, "imageScanningConfiguration.scanOnPush"), true);
        }
    });
});

describe("program: a stack without hosted zones gets no edge", () => {
    const NO_EDGE = { "edge.zones": [], "checkout.hostname": undefined };
    const MESSAGE =
        "no edge: edge.zones is empty, so this stack builds no load balancer controller, Gateway, ExternalDNS or ClusterIssuer, and checkout-service is reachable only from inside the cluster";
    let run: ProgramRun & { warnings: readonly string[] };
    before(async function () {
        this.timeout(60_000);
        run = await runProgram("dev", { overrides: NO_EDGE });
    });

    it("builds no Gateway API object, edge controller, Route53 identity or ClusterIssuer", () => {
        // Capacity, secrets and the VPA are not part of the edge: every stack has them.
        const notEdge = /^(karpenter|external-secrets|vpa)(-|$)/;
        const edgeTypes = run.resources.filter(
            (r) =>
                !notEdge.test(r.name) &&
                (/gateway|envoyproxy|cert-manager\.io|Chart$|platform:addons:/.test(r.type) ||
                    r.type === T.podIdentity),
        );
        assert.deepStrictEqual(
            edgeTypes.map((r) => `${r.type} ${r.name}`),
            [],
        );
        assert.deepStrictEqual(
            ofType(run, T.release)
                .map((r) => r.props.name)
                .sort(),
            ["cert-manager", "external-secrets", "karpenter", "karpenter-crd", "vpa"],
        );
        // No Gateway API support: cert-manager's controller would crash-loop without the CRDs.
        assert.strictEqual(at(find(run, T.release, "cert-manager-release").props, "values.config"), undefined);
        // Only the scraper reaches checkout, and only on the metrics port.
        assert.deepStrictEqual(at(find(run, T.netpol, "checkout-netpol").props, "spec.ingress"), [
            { from: PRIVATE_CIDRS.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: 9464 }] },
        ]);
        assert.strictEqual(run.outputs.checkoutUrl, undefined);
    });

    it("says so on every run, and the synth prints it", async function () {
        this.timeout(60_000);
        assert.deepStrictEqual(
            run.warnings.filter((w) => w.startsWith("no edge")),
            [MESSAGE],
        );
        assert.deepStrictEqual(
            runs.dev.warnings.filter((w) => w.startsWith("no edge")),
            [],
        );
        const synth = await synthesize("dev", NO_EDGE);
        assert.ok(synth.warnings.includes(MESSAGE), synth.warnings.join("\n"));
    });
});

describe("program: invalid config under the engine", () => {
    it("fails with the ConfigError before registering any resource but the stack", async () => {
        let error: (Error & { problems?: string[] }) | undefined;
        try {
            await runProgram("dev", { overrides: { "checkout.imageTag": "latest", "nodes.maxSize": 1 } });
        } catch (e) {
            error = e as Error;
        }
        // The program's modules are loaded afresh per run, so compare by name, not by class identity.
        assert.strictEqual(error?.name, "ConfigError", `expected a ConfigError, got ${String(error)}`);
        assert.strictEqual(error.problems?.length, 2);
        assert.deepStrictEqual(
            lastRunResources()
                .filter((r) => r.type !== "pulumi:pulumi:Stack")
                .map((r) => r.type),
            [],
        );
    });
});

describe("program: the recorded graph is traversable", () => {
    it("every parent and dependency URN names a recorded resource", () => {
        for (const run of [runs.dev, runs.prod]) {
            for (const r of run.resources) {
                if (r.parent) assert.ok(byUrn(run, r.parent), `${r.name}: parent ${r.parent}`);
                for (const d of r.dependencies) assert.ok(byUrn(run, d), `${r.name}: dependency ${d}`);
            }
        }
    });
});
