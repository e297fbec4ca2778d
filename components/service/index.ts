import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PSS_RESTRICTED_LABELS } from "../common";
import {
    DEFAULTS,
    WebServiceArgs,
    commonLabels,
    containerEnv,
    egressRules,
    externalSecretEnv,
    externalSecretManifest,
    hpaSpec,
    httpRouteSpec,
    imageRef,
    ingressRules,
    podSpec,
    selectorLabels,
    validateArgs,
    podTemplateLabels,
    vpaSpec,
} from "./spec";

export type {
    AutoscalingArgs,
    EgressRule,
    ExternalSecretEnv,
    NetworkPolicyPeer,
    ProbePaths,
    Resources,
    RouteArgs,
    SecretEnvRef,
    ShutdownArgs,
    WebServiceArgs,
} from "./spec";

/**
 * One HTTP service: Namespace, ServiceAccount, Deployment, ClusterIP Service, HPA, PDB,
 * NetworkPolicies (namespace default-deny, then the service's own), with `route` an HTTPRoute on
 * the shared Gateway, with `externalSecrets` the ExternalSecrets its variables come from, and with
 * `vpa` a recommendation-only VerticalPodAutoscaler. Every object is named from `appName` in a namespace of its own, and every
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
        const labels = commonLabels(app, args.labels);
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

        // Synced before the Deployment, so its pods start with their Secrets in place.
        const externalSecrets = (args.externalSecrets ?? []).map(
            (es) =>
                new k8s.apiextensions.CustomResource(
                    `${name}-external-secret-${es.name}`,
                    externalSecretManifest(es, ns, labels),
                    child,
                ),
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
                        metadata: {
                            labels: podTemplateLabels(app, args.image.tag, args.labels),
                            ...(args.podAnnotations ? { annotations: { ...args.podAnnotations } } : {}),
                        },
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
                            env: containerEnv(args.env ?? {}, [
                                ...(args.secretEnv ?? []),
                                ...externalSecretEnv(args.externalSecrets ?? []),
                            ]),
                        }),
                    },
                },
            },
            { parent: this, dependsOn: externalSecrets },
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

        if (args.vpa) {
            new k8s.apiextensions.CustomResource(
                `${name}-vpa`,
                {
                    apiVersion: "autoscaling.k8s.io/v1",
                    kind: "VerticalPodAutoscaler",
                    metadata,
                    spec: vpaSpec(deployment.metadata.name, app),
                },
                { parent: this, dependsOn: args.vpa.installedBy ? [args.vpa.installedBy] : [] },
            );
        }

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
            // The backend name makes the route wait for the Service; `gateway.dependsOn` for the
            // Gateway and the Gateway API CRDs.
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
                { ...child, dependsOn: [...(args.route.gateway.dependsOn ?? [])] },
            );
            this.hostname = args.route.hostname;
        }

        this.namespaceName = ns;
        this.serviceName = service.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.registerOutputs({ namespace: this.namespaceName, serviceName: this.serviceName });
    }
}
