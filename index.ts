// Composition root: read the stack's config once, build the components, export the outputs.
// No logic lives here; per-stack differences come from config (stacks/), never from the stack name.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AwsLoadBalancerController } from "./components/addons/aws-load-balancer-controller";
import { ExternalDns } from "./components/addons/external-dns";
import { ExternalSecrets } from "./components/addons/external-secrets";
import { GatewayApiCrds } from "./components/addons/gateway-api-crds";
import { EdgeGateway, EnvoyGateway } from "./components/addons/gateway";
import { Karpenter } from "./components/addons/karpenter";
import { VpaRecommender } from "./components/addons/vpa";
import { CertManager } from "./components/cert-manager";
import {
    CHECKOUT,
    CHECKOUT_ALIASES,
    CHECKOUT_LATENCY_BUCKETS,
    CHECKOUT_SLO,
    checkoutServiceArgs,
} from "./components/checkout";
import { Cluster } from "./components/cluster";
import { ClusterLogGroups, ContainerInsightsAgent } from "./components/logging";
import { Network } from "./components/network";
import { Registry } from "./components/registry";
import { WebService } from "./components/service";
import { Telemetry, scrapeAnnotations } from "./components/telemetry";
import { loadStackConfig } from "./stacks/config";

const config = loadStackConfig();
const tags = { ...config.tags, project: config.project, stack: config.stack, "managed-by": "pulumi" };
const caller = aws.getCallerIdentityOutput();
const partition = aws.getPartitionOutput();

const network = new Network("network", { vpc: config.network, clusterName: config.cluster.name, tags });

const logGroups = new ClusterLogGroups("logs", {
    clusterName: config.cluster.name,
    retentionInDays: config.logs.retentionInDays,
    kmsEncryption: config.logs.kmsEncryption,
    region: config.region,
    accountId: caller.accountId,
    partition: partition.partition,
    tags,
});

const cluster = new Cluster("cluster", {
    clusterName: config.cluster.name,
    upgradePolicy: config.cluster.upgradePolicy,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    publicSubnetIds: network.publicSubnetIds,
    api: config.cluster.api,
    access: config.cluster.access,
    logTypes: config.cluster.logTypes,
    controlPlaneLogGroup: logGroups.controlPlane,
    deletionProtection: config.cluster.deletionProtection,
    nodes: config.nodes,
    tags,
});

const registry = new Registry("registry", {
    repositoryName: config.registry.repositoryName,
    forceDelete: config.registry.forceDelete,
    kmsEncryption: config.registry.kmsEncryption,
    keepCiImages: config.registry.keepCiImages,
    untaggedExpiryDays: config.registry.untaggedExpiryDays,
    tags,
});

const k8sOpts = { providers: { kubernetes: cluster.provider } };

// Every controller that calls AWS runs under EKS Pod Identity, through the agent add-on.
const identity = { clusterName: cluster.name, agent: cluster.podIdentityAgent };

const insights = new ContainerInsightsAgent(
    "container-insights",
    { clusterName: cluster.name, identity, logGroups, tags },
    { dependsOn: [cluster.nodeGroup] },
);

// Capacity beyond the system node group. The controller's release waits for its pods on the system
// nodes only; its NodePool launches nodes when pods are pending, so nothing here waits on them.
new Karpenter(
    "karpenter",
    {
        clusterName: config.cluster.name,
        region: config.region,
        accountId: caller.accountId,
        partition: partition.partition,
        identity,
        systemNodes: cluster.nodeGroup,
        nodeSecurityGroupId: cluster.nodeSecurityGroupId,
        nodePool: config.karpenter.nodePool,
        diskSizeGiB: config.nodes.diskSizeGiB,
        tags,
    },
    k8sOpts,
);

const externalSecrets = new ExternalSecrets(
    "external-secrets",
    {
        identity,
        region: config.region,
        accountId: caller.accountId,
        partition: partition.partition,
        secretPrefix: config.externalSecrets.secretPrefix,
        kmsKeyArns: config.externalSecrets.kmsKeyArns,
        namespaces: [config.checkout.namespace],
        replicas: config.externalSecrets.replicas,
        dependsOn: [cluster.nodeGroup],
        tags,
    },
    k8sOpts,
);

const vpa = config.vpa.enabled ? new VpaRecommender("vpa", { dependsOn: [cluster.nodeGroup] }, k8sOpts) : undefined;

// The edge exists only with a hosted zone (edge.zones): without one no certificate could be proven
// and no record written, and nothing else here asks for a load balancer.
const crds = config.edge && new GatewayApiCrds("gateway-api-crds", {}, k8sOpts);

const certManager = new CertManager(
    "cert-manager",
    {
        replicas: config.certManager.replicas,
        acmeEmail: config.certManager.acmeEmail,
        // DNS01 only: an HTTP01 solver needs a route the HTTP->HTTPS redirect would not serve.
        dns01: config.edge && {
            region: config.region,
            zones: config.edge.zones,
            identity,
            partition: partition.partition,
        },
        gatewayApiCrds: crds,
        dependsOn: [cluster.nodeGroup],
        tags,
    },
    k8sOpts,
);

const hostname = config.checkout.hostname;
let gateway: EdgeGateway | undefined;
if (config.edge && crds && certManager.issuers && hostname) {
    const lbc = new AwsLoadBalancerController(
        "lbc",
        {
            clusterName: cluster.name,
            region: config.region,
            vpcId: network.vpcId,
            identity,
            dependsOn: [cluster.nodeGroup],
            tags,
        },
        k8sOpts,
    );
    // Destroy runs in reverse: the proxies' namespace (its NLB Services) goes before the load
    // balancer controller that finalizes them, and the Gateway and routes before ExternalDNS, which
    // deletes their records (test/teardown.test.ts).
    const externalDns = new ExternalDns(
        "external-dns",
        {
            zones: config.edge.zones,
            txtOwnerId: config.edge.txtOwnerId,
            policy: config.edge.externalDnsPolicy,
            identity,
            crds,
            partition: partition.partition,
            dependsOn: [cluster.nodeGroup],
            tags,
        },
        k8sOpts,
    );
    const envoyGateway = new EnvoyGateway(
        "envoy-gateway",
        { crds, dependsOn: [cluster.nodeGroup], loadBalancerController: lbc.ready },
        k8sOpts,
    );
    gateway = new EdgeGateway(
        "edge",
        {
            controller: envoyGateway,
            crds,
            loadBalancerController: lbc.ready,
            dnsController: externalDns.addon.release,
            hostnames: [hostname],
            zones: config.edge.zones,
            issuer: certManager.issuers[config.edge.issuer],
        },
        k8sOpts,
    );
} else {
    void pulumi.log.warn(
        "no edge: edge.zones is empty, so this stack builds no load balancer controller, Gateway, ExternalDNS or " +
            "ClusterIssuer, and checkout-service is reachable only from inside the cluster",
    );
}

const telemetry = new Telemetry("telemetry", {
    clusterName: config.cluster.name,
    clusterArn: cluster.eksCluster.eksCluster.arn,
    vpcId: network.vpcId,
    subnetIds: network.privateSubnetIds,
    clusterSecurityGroupId: cluster.securityGroupId,
    metricsPorts: [CHECKOUT.metricsPort],
    slos: [CHECKOUT_SLO],
    latencyBuckets: CHECKOUT_LATENCY_BUCKETS,
    notify: config.telemetry.alertEmails.map((endpoint) => ({ protocol: "email" as const, endpoint })),
    region: config.region,
    accountId: caller.accountId,
    partition: partition.partition,
    tags,
});

const checkout = new WebService(
    "checkout",
    checkoutServiceArgs({
        namespace: config.checkout.namespace,
        repositoryUrl: registry.repositoryUrl,
        imageTag: config.checkout.imageTag,
        autoscaling: { minReplicas: config.checkout.minReplicas, maxReplicas: config.checkout.maxReplicas },
        resources: config.checkout.resources,
        dbPoolMax: config.checkout.dbPoolMax,
        logLevel: config.checkout.logLevel,
        egress: config.checkout.egress,
        extraEnv: config.checkout.extraEnv,
        route: gateway && hostname ? { hostname, gateway: gateway.routeFor(hostname) } : undefined,
        // The managed collector scrapes from its ENIs in the private subnets (Telemetry's subnetIds);
        // admitted on the metrics port only, since every pod's address is in those subnets too.
        metricsScrapers: network.privateSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        podAnnotations: scrapeAnnotations(CHECKOUT.metricsPort, CHECKOUT.metricsPath),
        database: config.checkout.databaseSecret
            ? { store: externalSecrets.storeRef, secretName: config.checkout.databaseSecret }
            : undefined,
        vpa: vpa && { installedBy: vpa.crds },
        // Traces go to the CloudWatch agent on the pod's own node (README, "Traces").
        otlp: insights.otlp,
    }),
    { ...k8sOpts, aliases: CHECKOUT_ALIASES },
);

export const clusterName = cluster.name;
export const kubeconfig = cluster.kubeconfig;
export const clusterSecurityGroupId = cluster.securityGroupId;
export const oidcProviderArn = cluster.oidc.arn;
export const vpcId = network.vpcId;
export const ecrRepositoryUrl = registry.repositoryUrl;
export const checkoutNamespace = checkout.namespaceName;
export const checkoutServiceName = checkout.serviceName;
export const checkoutUrl = hostname && `https://${hostname}`;
export const clusterIssuers = certManager.issuerNames;
export const logGroupNames = logGroups.names;
export const prometheusEndpoint = telemetry.prometheusEndpoint;
export const alertTopicArn = telemetry.alertTopic.arn;
