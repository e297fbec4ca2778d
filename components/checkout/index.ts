import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PSS_RESTRICTED_LABELS } from "../shared";
import {
    AutoscalingArgs,
    CONTAINER,
    EgressRule,
    Resources,
    commonLabels,
    egressRules,
    hpaSpec,
    imageRef,
    podSpec,
    podTemplateLabels,
    selectorLabels,
} from "./spec";

export interface CheckoutServiceArgs {
    /** Namespace created for the service, labelled for Pod Security "restricted". */
    readonly namespace: string;
    /** This program's ECR repository URL (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`). */
    readonly repositoryUrl: pulumi.Input<string>;
    /** Image tag or `sha256:` digest; the config loader has already rejected empty and `latest`. */
    readonly imageTag: string;
    /** HPA bounds; the HPA owns the replica count, so the Deployment sets none. */
    readonly autoscaling: AutoscalingArgs;
    readonly resources: Resources;
    /** DB_POOL_MAX of the service. */
    readonly dbPoolMax: number;
    /** LOG_LEVEL of the service. */
    readonly logLevel: string;
    /**
     * Dependencies the pods may reach besides DNS; each becomes an egress rule.
     * @default []
     */
    readonly egress?: readonly EgressRule[];
    /**
     * Extra non-secret environment variables.
     * @default {}
     */
    readonly extraEnv?: Readonly<Record<string, string>>;
}

const APP = "checkout-service";

/**
 * The checkout-service workload: Namespace, ServiceAccount, Deployment, Service, HPA, PDB and
 * NetworkPolicies (namespace default-deny, then what the service needs).
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class CheckoutService extends pulumi.ComponentResource {
    readonly namespaceName: pulumi.Output<string>;
    readonly serviceName: pulumi.Output<string>;
    readonly deploymentName: pulumi.Output<string>;

    constructor(name: string, args: CheckoutServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:checkout:CheckoutService", name, {}, opts);
        const child = { parent: this };
        const labels = commonLabels(APP);
        const selector = selectorLabels(APP);

        const namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: {
                    name: args.namespace,
                    labels: PSS_RESTRICTED_LABELS,
                },
            },
            child,
        );
        const ns = namespace.metadata.name;

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: APP, namespace: ns, labels }, automountServiceAccountToken: false },
            child,
        );

        const deployment = new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: APP, namespace: ns, labels },
                spec: {
                    // No `replicas`: the HPA owns the count, and each `up` would otherwise reset it.
                    selector: { matchLabels: selector },
                    revisionHistoryLimit: 5,
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
                    template: {
                        metadata: { labels: podTemplateLabels(APP, args.imageTag) },
                        spec: podSpec({
                            app: APP,
                            image: pulumi.output(args.repositoryUrl).apply((url) => imageRef(url, args.imageTag)),
                            serviceAccountName: serviceAccount.metadata.name,
                            resources: args.resources,
                            serviceName: APP,
                            dbPoolMax: args.dbPoolMax,
                            logLevel: args.logLevel,
                            extraEnv: args.extraEnv ?? {},
                        }),
                    },
                },
            },
            child,
        );

        const service = new k8s.core.v1.Service(
            `${name}-svc`,
            {
                metadata: { name: APP, namespace: ns, labels },
                spec: {
                    type: "ClusterIP",
                    selector,
                    ports: [{ name: CONTAINER.portName, port: 80, targetPort: CONTAINER.portName, protocol: "TCP" }],
                },
            },
            child,
        );

        new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            `${name}-hpa`,
            {
                metadata: { name: APP, namespace: ns, labels },
                spec: hpaSpec(deployment.metadata.name, args.autoscaling),
            },
            child,
        );

        new k8s.policy.v1.PodDisruptionBudget(
            `${name}-pdb`,
            {
                metadata: { name: APP, namespace: ns, labels },
                spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
            },
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
                metadata: { name: APP, namespace: ns, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    // Callers anywhere in the cluster (and load balancer targets) on the app port only.
                    ingress: [{ ports: [{ protocol: "TCP", port: CONTAINER.port }] }],
                    egress: egressRules(args.egress ?? []),
                },
            },
            child,
        );

        this.namespaceName = ns;
        this.serviceName = service.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.registerOutputs({ namespace: this.namespaceName, serviceName: this.serviceName });
    }
}
