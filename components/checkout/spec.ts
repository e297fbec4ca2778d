import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Input<T> = pulumi.Input<T>;

/** The container contract the service image honours (app/checkout-service checks it). */
export const CONTAINER = {
    name: "checkout-service",
    port: 8080,
    portName: "http",
    readinessPath: "/health/ready",
    livenessPath: "/health/live",
    uid: 10001,
    /** Seconds the pod keeps serving after removal from endpoints, so load balancers catch up. */
    preStopSleepSeconds: 10,
    /** The service's own drain budget after SIGTERM (SHUTDOWN_TIMEOUT_SECONDS). */
    shutdownTimeoutSeconds: 25,
    /** Longer than preStop + shutdown, so the kubelet never SIGKILLs a draining pod. */
    terminationGracePeriodSeconds: 45,
} as const;

export interface Resources {
    readonly cpuRequest: string;
    readonly cpuLimit: string;
    readonly memoryRequest: string;
    readonly memoryLimit: string;
}

export interface EgressRule {
    readonly name: string;
    readonly cidr: string;
    readonly port: number;
    readonly protocol: "TCP" | "UDP";
}

/** `<repo>@sha256:...` for a digest, `<repo>:<tag>` otherwise. */
export function imageRef(repositoryUrl: string, tagOrDigest: string): string {
    return tagOrDigest.startsWith("sha256:") ? `${repositoryUrl}@${tagOrDigest}` : `${repositoryUrl}:${tagOrDigest}`;
}

export function selectorLabels(app: string): Record<string, string> {
    return { "app.kubernetes.io/name": app };
}

/** Labels of every object of the workload; constant across releases, so an image bump changes none of them. */
export function commonLabels(app: string): Record<string, string> {
    return {
        ...selectorLabels(app),
        "app.kubernetes.io/part-of": "checkout",
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/**
 * Labels of the Deployment's pod template: the common ones plus `app.kubernetes.io/version`, the
 * image tag (a digest without its `sha256:`, cut to the 63 characters a label value may have).
 * The version lives on the pods only: `kubectl get pods -L app.kubernetes.io/version` shows what
 * runs, and an image bump changes one object (the Deployment) instead of every object's labels.
 */
export function podTemplateLabels(app: string, imageTag: string): Record<string, string> {
    return { ...commonLabels(app), "app.kubernetes.io/version": imageTag.replace(/^sha256:/, "").slice(0, 63) };
}

/** The environment variables the Deployment sets from its own settings (extra ones may not reuse them). */
export const MANAGED_ENV = [
    "PORT",
    "OTEL_SERVICE_NAME",
    "DB_POOL_MAX",
    "LOG_LEVEL",
    "SHUTDOWN_TIMEOUT_SECONDS",
] as const;

export interface EnvSettings {
    readonly serviceName: string;
    readonly dbPoolMax: number;
    readonly logLevel: string;
    readonly extraEnv: Readonly<Record<string, string>>;
}

/** The container's environment: the settings the service reads, then extra ones, sorted by name. */
export function containerEnv(s: EnvSettings): k8s.types.input.core.v1.EnvVar[] {
    const managed: Record<(typeof MANAGED_ENV)[number], string> = {
        PORT: String(CONTAINER.port),
        OTEL_SERVICE_NAME: s.serviceName,
        DB_POOL_MAX: String(s.dbPoolMax),
        LOG_LEVEL: s.logLevel,
        SHUTDOWN_TIMEOUT_SECONDS: String(CONTAINER.shutdownTimeoutSeconds),
    };
    const extra = Object.keys(s.extraEnv)
        .sort()
        .map((name) => ({ name, value: s.extraEnv[name] }));
    return [...Object.entries(managed).map(([name, value]) => ({ name, value })), ...extra];
}

export interface PodSpecArgs extends EnvSettings {
    readonly app: string;
    readonly image: Input<string>;
    readonly serviceAccountName: Input<string>;
    readonly resources: Resources;
}

/** A Pod Security "restricted" pod that drains cleanly and spreads over zones and hosts. */
export function podSpec(a: PodSpecArgs): k8s.types.input.core.v1.PodSpec {
    const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
        httpGet: { path, port: CONTAINER.portName },
        periodSeconds,
        timeoutSeconds: 2,
        failureThreshold,
    });
    return {
        serviceAccountName: a.serviceAccountName,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: CONTAINER.terminationGracePeriodSeconds,
        securityContext: {
            runAsNonRoot: true,
            runAsUser: CONTAINER.uid,
            runAsGroup: CONTAINER.uid,
            fsGroup: CONTAINER.uid,
            seccompProfile: { type: "RuntimeDefault" },
        },
        topologySpreadConstraints: [
            {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: selectorLabels(a.app) },
            },
        ],
        affinity: {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            topologyKey: "kubernetes.io/hostname",
                            labelSelector: { matchLabels: selectorLabels(a.app) },
                        },
                    },
                ],
            },
        },
        containers: [
            {
                name: CONTAINER.name,
                image: a.image,
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: CONTAINER.portName, containerPort: CONTAINER.port, protocol: "TCP" }],
                env: containerEnv(a),
                resources: {
                    requests: { cpu: a.resources.cpuRequest, memory: a.resources.memoryRequest },
                    limits: { cpu: a.resources.cpuLimit, memory: a.resources.memoryLimit },
                },
                // Liveness waits until the service has once been ready (its start-up work done), for up
                // to 60 s; after that readiness alone gates traffic.
                startupProbe: probe(CONTAINER.readinessPath, 2, 30),
                readinessProbe: probe(CONTAINER.readinessPath, 5, 3),
                livenessProbe: probe(CONTAINER.livenessPath, 10, 3),
                lifecycle: { preStop: { sleep: { seconds: CONTAINER.preStopSleepSeconds } } },
                securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    privileged: false,
                    capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
        ],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
    };
}

export interface AutoscalingArgs {
    readonly minReplicas: number;
    readonly maxReplicas: number;
}

/** HPA behaviour: scale up at once, scale down only after 5 minutes of lower load. */
export function hpaSpec(
    target: Input<string>,
    a: AutoscalingArgs,
): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
    const utilisation = (name: "cpu" | "memory", averageUtilization: number) => ({
        type: "Resource",
        resource: { name, target: { type: "Utilization", averageUtilization } },
    });
    return {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        metrics: [utilisation("cpu", 70), utilisation("memory", 80)],
        behavior: {
            scaleUp: {
                stabilizationWindowSeconds: 0,
                selectPolicy: "Max",
                policies: [
                    { type: "Percent", value: 100, periodSeconds: 15 },
                    { type: "Pods", value: 4, periodSeconds: 15 },
                ],
            },
            scaleDown: {
                stabilizationWindowSeconds: 300,
                selectPolicy: "Max",
                policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
            },
        },
    };
}

/** Egress rules: DNS to kube-dns, then each declared dependency by CIDR and port. */
export function egressRules(deps: readonly EgressRule[]): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
    const dns: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
        to: [
            {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
        ],
        ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ],
    };
    return [
        dns,
        ...deps.map((d) => ({ to: [{ ipBlock: { cidr: d.cidr } }], ports: [{ protocol: d.protocol, port: d.port }] })),
    ];
}
