import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument } from "../iam";
import { ChartPin, HelmAddon, PodIdentityContext, helmAddon } from "./helm-addon";
// Upstream docs/install/iam_policy.json at the chart's appVersion, unchanged; the file names both.
import upstreamPolicy from "./aws-load-balancer-controller.iam-policy.json";

/**
 * Everything this add-on pins: the chart, and the controller version whose CRDs and IAM policy go
 * with it (the chart's appVersion: helm/aws-load-balancer-controller/Chart.yaml at that tag).
 */
export const AWS_LOAD_BALANCER_CONTROLLER = {
    chart: {
        chart: "aws-load-balancer-controller",
        repository: "https://aws.github.io/eks-charts",
        // renovate: datasource=helm depName=aws-load-balancer-controller registryUrl=https://aws.github.io/eks-charts
        version: "3.5.0",
    } satisfies ChartPin,
    // renovate: datasource=github-releases depName=kubernetes-sigs/aws-load-balancer-controller
    appVersion: "v3.5.0",
} as const;

/**
 * The chart's `crds/crds.yaml` at the controller's tag. Helm installs `crds/` once and never
 * upgrades it (the upstream install guide says to re-apply this file on every upgrade:
 * kubernetes-sigs/aws-load-balancer-controller:docs/deploy/installation.md at v3.5.0), so the program
 * applies it itself and the release skips it.
 * Fetched by the Kubernetes provider at preview and up, like the chart itself.
 */
export const awsLoadBalancerControllerCrdsUrl = (appVersion: string) =>
    `https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/${appVersion}/helm/aws-load-balancer-controller/crds/crds.yaml`;

export const AWS_LOAD_BALANCER_CONTROLLER_NAMES = {
    namespace: "aws-load-balancer-controller",
    release: "aws-load-balancer-controller",
    serviceAccount: "aws-load-balancer-controller",
} as const;

/** The upstream IAM policy, with the version it was taken at. */
export function awsLoadBalancerControllerPolicy(): { version: string; policy: PolicyDocument } {
    return { version: upstreamPolicy.version, policy: upstreamPolicy.policy as PolicyDocument };
}

export interface AwsLoadBalancerControllerValuesArgs {
    readonly clusterName: string;
    readonly region: string;
    readonly vpcId: string;
    readonly replicas: number;
}

/**
 * Helm values (chart 3.5.0 values.yaml). Pure, so they are tested without an engine.
 * - clusterName, region and vpcId are explicit: with IMDSv2 and a hop limit of 1 the pods cannot
 *   read them from instance metadata.
 * - The chart's pods are made Pod Security "restricted" (its defaults lack drop ALL and seccomp).
 * - No IngressClass: ALBs take ACM certificates only, and the edge here is the Gateway.
 * - The service mutator webhook is off: with `failurePolicy: Fail` on every Service CREATE it makes
 *   any Service creation in the cluster fail while the controller is down (templates/webhook.yaml).
 *   The Gateway's Service names `loadBalancerClass: service.k8s.aws/nlb` itself.
 * - Its own Gateway API controllers are off. At 3.5.0 they switch on at start-up when the Gateway
 *   API CRDs exist (pkg/gateway/crddetect), so the behaviour would depend on install order; Envoy
 *   Gateway is the Gateway implementation here. All three gates are set because detection runs
 *   while any of them is left at its default.
 * - keepTLSSecret: the chart generates its webhook certificate at render time; without it every
 *   upgrade rotates the CA under running webhooks (aws-load-balancer-controller#2239).
 */
export function awsLoadBalancerControllerValues(a: AwsLoadBalancerControllerValuesArgs): Record<string, unknown> {
    return {
        clusterName: a.clusterName,
        region: a.region,
        vpcId: a.vpcId,
        replicaCount: a.replicas,
        serviceAccount: {
            create: true,
            name: AWS_LOAD_BALANCER_CONTROLLER_NAMES.serviceAccount,
            automountServiceAccountToken: true,
        },
        podSecurityContext: { fsGroup: 65534, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        securityContext: {
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        },
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
        ...(a.replicas >= 2 ? { podDisruptionBudget: { maxUnavailable: 1 } } : {}),
        createIngressClassResource: false,
        ingressClassParams: { create: false },
        enableServiceMutatorWebhook: false,
        keepTLSSecret: true,
        controllerConfig: {
            featureGates: { ALBGatewayAPI: false, NLBGatewayAPI: false, GatewayListenerSet: false },
        },
    };
}

export interface AwsLoadBalancerControllerArgs {
    readonly clusterName: pulumi.Input<string>;
    /** AWS region of the cluster (the controller cannot read it from instance metadata). */
    readonly region: string;
    /** VPC of the cluster (the controller cannot read it from instance metadata). */
    readonly vpcId: pulumi.Input<string>;
    /** Pod Identity for the controller's service account. */
    readonly identity: PodIdentityContext;
    /** Controller replicas; 2 or more also gets a PodDisruptionBudget. @default 2 */
    readonly replicas?: number;
    /** What must exist before the release waits for its pods (node capacity). @default [] */
    readonly dependsOn?: readonly pulumi.Resource[];
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * The AWS Load Balancer Controller: turns the Gateway's `LoadBalancer` Service into an
 * internet-facing NLB. Its CRDs come from a pinned manifest applied before the release; the
 * release runs under Pod Identity with the upstream IAM policy of the same version.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class AwsLoadBalancerController extends pulumi.ComponentResource {
    readonly crds: k8s.yaml.v2.ConfigFile;
    readonly addon: HelmAddon;
    /** What a Service of `loadBalancerClass: service.k8s.aws/nlb` must wait for: the running controller. */
    readonly ready: pulumi.Resource;

    constructor(name: string, args: AwsLoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:AwsLoadBalancerController", name, {}, opts);
        const pin = AWS_LOAD_BALANCER_CONTROLLER;
        const names = AWS_LOAD_BALANCER_CONTROLLER_NAMES;
        const { version, policy } = awsLoadBalancerControllerPolicy();
        if (version !== pin.appVersion)
            throw new Error(
                `aws-load-balancer-controller.iam-policy.json is from ${version}, but the chart runs ${pin.appVersion}: replace it with docs/install/iam_policy.json at ${pin.appVersion}`,
            );

        this.crds = new k8s.yaml.v2.ConfigFile(
            `${name}-crds`,
            { file: awsLoadBalancerControllerCrdsUrl(pin.appVersion) },
            { parent: this },
        );

        const values = pulumi.all([args.clusterName, args.vpcId]).apply(([clusterName, vpcId]) =>
            awsLoadBalancerControllerValues({
                clusterName,
                region: args.region,
                vpcId,
                replicas: args.replicas ?? 2,
            }),
        );

        this.addon = helmAddon(this, name, {
            namespace: names.namespace,
            releaseName: names.release,
            chart: pin.chart,
            values,
            identity: {
                clusterName: args.clusterName,
                agent: args.identity.agent,
                serviceAccount: names.serviceAccount,
                policy,
                description: `AWS Load Balancer Controller ${pin.appVersion} (upstream iam_policy.json)`,
            },
            dependsOn: [this.crds, ...(args.dependsOn ?? [])],
            tags: args.tags,
        });
        this.ready = this.addon.release;
        this.registerOutputs({ release: this.addon.release.name });
    }
}
