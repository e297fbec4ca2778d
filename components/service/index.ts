import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PSS_RESTRICTED_LABELS } from "../shared";
import {
    AutoscalingArgs,
    DEFAULTS,
    EgressRule,
    NetworkPolicyPeer,
    ProbePaths,
    Resources,
    RouteArgs,
    SecretEnvRef,
    ShutdownArgs,
    commonLabels,
    containerEnv,
    egressRules,
    hpaSpec,
    httpRouteSpec,
    imageRef,
    ingressRules,
    podSpec,
    selectorLabels,
    validateArgs,
    versionLabel,
} from "./spec";

export type {
    AutoscalingArgs,
    EgressRule,
    NetworkPolicyPeer,
    ProbePaths,
    Resources,
    RouteArgs,
    SecretEnvRef,
    ShutdownArgs,
} from "./spec";

export interface WebServiceArgs {
    /**
     * The service's Kubernetes name: its Deployment, Service, ServiceAccount, HPA, PDB, NetworkPolicy
     * and HTTPRoute, its container, and the `app.kubernetes.io/name` label. A DNS-1123 label.
     */
    readonly appName: string;
    /** Namespace created for this service alone, labelled for Pod Security "restricted". */
    readonly namespace: string;
    readonly image: {
        /** This program's ECR repository URL (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
        readonly repository: pulumi.Input<string>;
        /** Tag or `sha256:` digest; never empty or `latest` (the config loader rejects both). */
        readonly tag: string;
    };
    /** Port the container listens on (named "http"); the only port the Gateway's proxies may reach. */
    readonly port: number;
    /**
     * Port of the ClusterIP Service (it forwards to the container's "http" port).
     * @default 80
     */
    readonly servicePort?: number;
    readonly probes: ProbePaths;
    readonly resources: Resources;
    /** HPA bounds; the HPA owns the replica count, so the Deployment sets none. */
    readonly autoscaling: AutoscalingArgs;
    /**
     * UID and GID the pod runs as: the image's USER. Pod Security "restricted" plus this program's
     * guardrails want >= 10000.
     * @default 10001
     */
    readonly runAsUser?: number;
    /** @default { preStopSleepSeconds: 10, drainSeconds: 25 } (grace period 45 s) */
    readonly shutdown?: ShutdownArgs;
    /**
     * Literal environment variables, set in this order. Never secrets: use `secretEnv`.
     * @default {}
     */
    readonly env?: Readonly<Record<string, string>>;
    /**
     * Variables read from Secret keys (`valueFrom.secretKeyRef`), after `env`.
     * @default []
     */
    readonly secretEnv?: readonly SecretEnvRef[];
    /**
     * Dependencies the pods may reach besides DNS; each becomes an egress rule.
     * @default []
     */
    readonly egress?: readonly EgressRule[];
    /**
     * An HTTPRoute from `hostname` through the shared Gateway to the Service, and an ingress rule
     * admitting the Gateway's proxy pods on `port`.
     * @default none: no route, and nothing but `metricsScrapers` may reach the pods
     */
    readonly route?: RouteArgs;
    /**
     * Port the metrics scrapers read. When it differs from `port`, the container declares it too.
     * @default port
     */
    readonly metricsPort?: number;
    /**
     * Sources admitted on `metricsPort` (pods of a Prometheus, or the subnets of a managed scraper).
     * Each must name its sources: an empty peer or one that selects every pod is rejected.
     * @default []
     */
    readonly metricsScrapers?: readonly NetworkPolicyPeer[];
    /**
     * Extra labels on every object (e.g. `app.kubernetes.io/part-of`); the name, version and
     * managed-by labels are the component's.
     * @default {}
     */
    readonly labels?: Readonly<Record<string, string>>;
}

/**
 * One HTTP service: Namespace, ServiceAccount, Deployment, ClusterIP Service, HPA, PDB,
 * NetworkPolicies (namespace default-deny, then the service's own) and, with `route`, an HTTPRoute
 * on the shared Gateway. Every object is named from `appName` in a namespace of its own, and every
 * Pulumi name from the component's name, so any number of instances live side by side.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class WebService extends pulumi.ComponentResource {
    readonly namespaceName: pulumi.Output<string>;
    readonly serviceName: pulumi.Output<string>;
    readonly deploymentName: pulumi.Output<string>;
    /** The host name the route serves, if it has one. */
    readonly hostname?: string;

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:service:WebService", name, {}, opts);
        const problems = validateArgs(args);
        if (problems.length > 0) {
            throw new Error(`WebService ${name}: invalid arguments:\n  - ${problems.join("\n  - ")}`);
        }
        const child = { parent: this };
        const app = args.appName;
        const labels = commonLabels(app, versionLabel(args.image.tag), args.labels);
        const selector = selectorLabels(app);
        const servicePort = args.servicePort ?? DEFAULTS.servicePort;
        const metricsPort = args.metricsPort ?? args.port;

        const namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            { metadata: { name: args.namespace, labels: PSS_RESTRICTED_LABELS } },
            child,
        );
        const ns = namespace.metadata.name;
        const metadata = { name: app, namespace: ns, labels };

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata, automountServiceAccountToken: false },
            child,
        );

        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata,
                spec: {
                    // No `replicas`: the HPA owns the count, and each `up` would otherwise reset it.
                    selector: { matchLabels: selector },
                    revisionHistoryLimit: 5,
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    template: {
                        metadata: { labels },
                        spec: podSpec({
                            app,
                            image: pulumi.output(args.image.repository).apply((url) => imageRef(url, args.image.tag)),
                            serviceAccountName: serviceAccount.metadata.name,
                            port: args.port,
                            metricsPort,
                            probes: args.probes,
                            resources: args.resources,
                            runAsUser: args.runAsUser ?? DEFAULTS.runAsUser,
                            shutdown: {
                                preStopSleepSeconds: args.shutdown?.preStopSleepSeconds ?? DEFAULTS.preStopSleepSeconds,
                                drainSeconds: args.shutdown?.drainSeconds ?? DEFAULTS.drainSeconds,
                            },
                            env: containerEnv(args.env ?? {}, args.secretEnv ?? []),
                        }),
                    },
                },
            },
            child,
        );

        const service = new k8s.core.v1.Service(
            `${name}-svc`,
            {
                metadata,
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports: [
                        { name: DEFAULTS.portName, port: servicePort, targetPort: DEFAULTS.portName, protocol: "TCP" },
                    ],
                },
            },
            child,
        );

        new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            `${name}-hpa`,
            { metadata, spec: hpaSpec(deployment.metadata.name, args.autoscaling) },
            child,
        );

        new k8s.policy.v1.PodDisruptionBudget(
            `${name}-pdb`,
            { metadata, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
            child,
        );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-default-deny`,
            {
                metadata: { name: "default-deny", namespace: ns },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            },
            child,
        );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata,
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: ingressRules({
                        port: args.port,
                        metricsPort,
                        dataPlane: args.route?.gateway.dataPlane,
                        scrapers: args.metricsScrapers ?? [],
                    }),
                    egress: egressRules(args.egress ?? []),
                },
            },
            child,
        );

        if (args.route) {
            // The parentRef name (an output of the Gateway) and the backend name make the route wait
            // for the Gateway, and so for the Gateway API CRDs, and for the Service.
            new k8s.apiextensions.CustomResource(
                `${name}-route`,
                {
                    apiVersion: "gateway.networking.k8s.io/v1",
                    kind: "HTTPRoute",
                    metadata,
                    spec: httpRouteSpec({
                        hostname: args.route.hostname,
                        parentRef: args.route.gateway.parentRef,
                        serviceName: service.metadata.name,
                        servicePort,
                    }),
                },
                child,
            );
            this.hostname = args.route.hostname;
        }

        this.namespaceName = ns;
        this.serviceName = service.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.registerOutputs({ namespace: this.namespaceName, serviceName: this.serviceName });
    }
}
