// Composition root: read the stack's config once, build the components, export the outputs.
// No logic lives here; per-stack differences come from config (stacks/), never from the stack name.
import * as aws from "@pulumi/aws";
import { CertManager } from "./components/cert-manager";
import { CHECKOUT_ALIASES, checkoutServiceArgs } from "./components/checkout";
import { Cluster } from "./components/cluster";
import { ClusterLogGroups, ContainerInsightsAgent } from "./components/logging";
import { Network } from "./components/network";
import { Registry } from "./components/registry";
import { WebService } from "./components/service";
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

new ContainerInsightsAgent(
    "container-insights",
    { clusterName: cluster.name, oidc: cluster.oidc, logGroups, tags },
    { dependsOn: [cluster.nodeGroup] },
);

const registry = new Registry("registry", {
    repositoryName: config.registry.repositoryName,
    forceDelete: config.registry.forceDelete,
    kmsEncryption: config.registry.kmsEncryption,
    keepCiImages: config.registry.keepCiImages,
    untaggedExpiryDays: config.registry.untaggedExpiryDays,
    tags,
});

const k8sOpts = { providers: { kubernetes: cluster.provider } };

const certManager = new CertManager(
    "cert-manager",
    {
        replicas: config.certManager.replicas,
        acmeEmail: config.certManager.acmeEmail,
        // DNS01 only: an HTTP01 solver needs a route the HTTP->HTTPS redirect would not serve.
        dns01:
            config.certManager.solver.type === "dns01"
                ? {
                      region: config.region,
                      zones: [{ id: config.certManager.solver.hostedZoneId }],
                      identity: { clusterName: cluster.name },
                      partition: partition.partition,
                  }
                : undefined,
        tags,
    },
    k8sOpts,
);

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
export const clusterIssuers = certManager.issuerNames;
export const logGroupNames = logGroups.names;
