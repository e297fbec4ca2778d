// The WebService's arguments and the pure functions it is built from: labels, pod spec, HPA,
// NetworkPolicy rules, the HTTPRoute and the validation of its arguments. Nothing here knows which
// service it builds.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

type Input<T> = pulumi.Input<T>;
type NetworkPolicyIngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;

export interface Resources {
    readonly cpuRequest: string;
    readonly cpuLimit: string;
    readonly memoryRequest: string;
    readonly memoryLimit: string;
}

export interface AutoscalingArgs {
    readonly minReplicas: number;
    readonly maxReplicas: number;
}

/** A dependency the pods may reach: by address (`cidr`) or, for a Service in the cluster, by its pods. */
export type EgressRule = CidrEgressRule | PodEgressRule;

interface EgressRuleBase {
    readonly name: string;
    readonly port: number;
    readonly protocol: "TCP" | "UDP";
}

/** Something outside the cluster (a database, an API) at an address range. */
export interface CidrEgressRule extends EgressRuleBase {
    readonly cidr: string;
}

/**
 * Pods in the cluster, reached through their Service: named by namespace and labels, because the
 * VPC CNI network policy agent matches egress before kube-proxy rewrites the ClusterIP and its
 * controller allows a ClusterIP only for a pod-selector peer (aws/amazon-network-policy-controller-k8s
 * `pkg/resolvers/endpoints.go`, `getMatchingServiceClusterIPs`). `podLabels` must be labels the
 * Service's selector carries.
 */
export interface PodEgressRule extends EgressRuleBase {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
}

/** HTTP paths the kubelet probes, on the container port. */
export interface ProbePaths {
    /** Gates traffic: must fail while the service starts or drains. */
    readonly readinessPath: string;
    /** Restarts the container when it fails: must keep answering while the service drains. */
    readonly livenessPath: string;
    /**
     * Checked every 2 s for up to 60 s before liveness starts.
     * @default readinessPath
     */
    readonly startupPath?: string;
}

/** One environment variable read from a key of a Kubernetes Secret (e.g. one an ExternalSecret writes). */
export interface SecretEnvRef {
    /** Variable name in the container. */
    readonly name: string;
    /** Secret in the service's namespace. Pods stay in CreateContainerConfigError until it exists. */
    readonly secretName: string;
    readonly key: string;
}

/**
 * A Kubernetes Secret written by the External Secrets Operator from one secret of an external store,
 * and the container variables read from it. The ExternalSecret and its Secret are both named `name`.
 */
export interface ExternalSecretEnv {
    /** Name of the ExternalSecret and of the Secret it writes in the service's namespace. */
    readonly name: string;
    /**
     * The store to read from. Pass its name as an output of the store resource, so the ExternalSecret
     * waits for it (and so for the operator's CRDs and webhook).
     */
    readonly store: { readonly kind: "ClusterSecretStore" | "SecretStore"; readonly name: Input<string> };
    /** The secret's name in the store (a Secrets Manager secret name). */
    readonly remoteKey: string;
    /**
     * Container variable -> JSON property of the remote secret (e.g. `DB_PASSWORD: "password"`).
     * Every property must exist in the secret, or the ExternalSecret never turns Ready.
     */
    readonly env: Readonly<Record<string, string>>;
    /**
     * How often the operator re-reads the store. Containers read variables at start: a rotated value
     * reaches the pods at their next restart.
     * @default "1h"
     */
    readonly refreshInterval?: string;
}

export interface LabelSelector {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly {
        readonly key: string;
        readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
        readonly values?: readonly string[];
    }[];
}

/**
 * A NetworkPolicy peer, checked before anything is created. Selectors are plain values; an ipBlock's
 * CIDR may come from another resource (a subnet's), and is then checked only when it is a plain string.
 */
export interface NetworkPolicyPeer {
    readonly namespaceSelector?: LabelSelector;
    readonly podSelector?: LabelSelector;
    readonly ipBlock?: { readonly cidr: Input<string>; readonly except?: readonly string[] };
}

/** Where the shared Gateway's proxies run: the only pods the app port admits. */
export interface GatewayDataPlane {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
}

export interface RouteArgs {
    /** Exact host name the route serves (no wildcard); the Gateway needs a listener for it. */
    readonly hostname: string;
    readonly gateway: {
        /**
         * The shared Gateway. Pass its name as an output of the Gateway resource so the route waits
         * for it (and so for the Gateway API CRDs it needs). Name the HTTPS listener in
         * `sectionName`: without it the route attaches to every listener that admits it, an HTTP
         * one included. That listener's `allowedRoutes` must admit the service's namespace.
         */
        readonly parentRef: { readonly name: Input<string>; readonly namespace: string; readonly sectionName?: string };
        readonly dataPlane: GatewayDataPlane;
        /**
         * What the HTTPRoute waits for besides its own inputs: the Gateway and the Gateway API CRDs
         * (a parentRef given as a plain name creates no dependency).
         * @default []
         */
        readonly dependsOn?: readonly pulumi.Resource[];
    };
}

export interface ShutdownArgs {
    /**
     * Seconds the pod keeps serving after it left the endpoints, so proxies and load balancers stop
     * sending to it first.
     * @default 10
     */
    readonly preStopSleepSeconds?: number;
    /**
     * The service's own drain budget after SIGTERM. The grace period is preStop + drain + 10 s, so
     * the kubelet never kills a pod that is still draining.
     * @default 25
     */
    readonly drainSeconds?: number;
}

export const DEFAULTS = {
    servicePort: 80,
    runAsUser: 10001,
    preStopSleepSeconds: 10,
    drainSeconds: 25,
    /** Slack between the end of the drain and SIGKILL. */
    graceMarginSeconds: 10,
    portName: "http",
    metricsPortName: "metrics",
} as const;

/** Labels the component owns; `labels` in the args may not set them. */
export const OWN_LABELS = ["app.kubernetes.io/name", "app.kubernetes.io/version", "app.kubernetes.io/managed-by"];

/** `<repo>@sha256:...` for a digest, `<repo>:<tag>` otherwise. */
export function imageRef(repositoryUrl: string, tagOrDigest: string): string {
    return tagOrDigest.startsWith("sha256:") ? `${repositoryUrl}@${tagOrDigest}` : `${repositoryUrl}:${tagOrDigest}`;
}

export function selectorLabels(app: string): Record<string, string> {
    return { "app.kubernetes.io/name": app };
}

/** The version label: the tag, or the digest's hex (a label value holds at most 63 characters). */
export function versionLabel(tagOrDigest: string): string {
    return tagOrDigest.replace(/^sha256:/, "").slice(0, 63);
}

/** Labels of every object of the workload; constant across releases, so an image bump changes none of them. */
export function commonLabels(app: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { ...extra, ...selectorLabels(app), "app.kubernetes.io/managed-by": "pulumi" };
}

/**
 * Labels of the Deployment's pod template: the common ones plus `app.kubernetes.io/version`. The
 * version lives on the pods only: `kubectl get pods -L app.kubernetes.io/version` shows what runs,
 * and an image bump changes one object (the Deployment) instead of every object's labels.
 */
export function podTemplateLabels(
    app: string,
    tagOrDigest: string,
    extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
    return { ...commonLabels(app, extra), "app.kubernetes.io/version": versionLabel(tagOrDigest) };
}

/** Literal variables in the order given, then the Secret-backed ones. */
export function containerEnv(
    env: Readonly<Record<string, string>>,
    secretEnv: readonly SecretEnvRef[],
): k8s.types.input.core.v1.EnvVar[] {
    return [
        ...Object.entries(env).map(([name, value]) => ({ name, value })),
        ...secretEnv.map((s) => ({ name: s.name, valueFrom: { secretKeyRef: { name: s.secretName, key: s.key } } })),
    ];
}

/** Seconds an ExternalSecret may take to turn Ready before `up` fails with its condition. */
export const EXTERNAL_SECRET_READY_TIMEOUT_SECONDS = 300;

/**
 * The ExternalSecret (external-secrets.io/v1). The Secret is owned by it (`creationPolicy: Owner`),
 * so deleting the ExternalSecret deletes the Secret. `pulumi.com/waitFor` makes the Kubernetes
 * provider (4.18+) wait for the Ready condition: a missing remote secret or property, or a store
 * the controller cannot read, fails `up` on this object with the operator's message, instead of
 * the Deployment timing out with pods in CreateContainerConfigError.
 */
export function externalSecretManifest(
    es: ExternalSecretEnv,
    namespace: Input<string>,
    labels: Record<string, string>,
) {
    return {
        apiVersion: "external-secrets.io/v1",
        kind: "ExternalSecret",
        metadata: {
            name: es.name,
            namespace,
            labels,
            annotations: {
                "pulumi.com/waitFor": "condition=Ready",
                "pulumi.com/timeoutSeconds": String(EXTERNAL_SECRET_READY_TIMEOUT_SECONDS),
            },
        },
        spec: {
            refreshInterval: es.refreshInterval ?? "1h",
            secretStoreRef: { kind: es.store.kind, name: es.store.name },
            target: { name: es.name, creationPolicy: "Owner", deletionPolicy: "Retain" },
            data: Object.entries(es.env).map(([variable, property]) => ({
                secretKey: variable,
                remoteRef: { key: es.remoteKey, property },
            })),
        },
    };
}

/** The `secretEnv` entries an ExternalSecret feeds: each variable from the Secret key of its name. */
export function externalSecretEnv(list: readonly ExternalSecretEnv[]): SecretEnvRef[] {
    return list.flatMap((es) => Object.keys(es.env).map((name) => ({ name, secretName: es.name, key: name })));
}

/**
 * A VerticalPodAutoscaler (autoscaling.k8s.io/v1) that only recommends: with `updateMode: "Off"`
 * the updater and admission controller never change pods, so it cannot fight the HPA, which scales
 * on the same CPU and memory (VPA README, "Known limitations").
 */
export function vpaSpec(deploymentName: Input<string>, container: string) {
    return {
        targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
        updatePolicy: { updateMode: "Off" },
        resourcePolicy: {
            containerPolicies: [{ containerName: container, controlledResources: ["cpu", "memory"] }],
        },
    };
}

export function terminationGracePeriodSeconds(s: Required<ShutdownArgs>): number {
    return s.preStopSleepSeconds + s.drainSeconds + DEFAULTS.graceMarginSeconds;
}

export interface PodSpecArgs {
    readonly app: string;
    readonly image: Input<string>;
    readonly serviceAccountName: Input<string>;
    readonly port: number;
    /** A second container port, named "metrics", when metrics are not served on `port`. */
    readonly metricsPort?: number;
    readonly probes: ProbePaths;
    readonly resources: Resources;
    readonly runAsUser: number;
    readonly shutdown: Required<ShutdownArgs>;
    readonly env: k8s.types.input.core.v1.EnvVar[];
}

/** A Pod Security "restricted" pod that drains cleanly and spreads over zones and hosts. */
export function podSpec(a: PodSpecArgs): k8s.types.input.core.v1.PodSpec {
    const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
        httpGet: { path, port: DEFAULTS.portName },
        periodSeconds,
        timeoutSeconds: 2,
        failureThreshold,
    });
    const ports: k8s.types.input.core.v1.ContainerPort[] = [
        { name: DEFAULTS.portName, containerPort: a.port, protocol: "TCP" },
    ];
    if (a.metricsPort !== undefined && a.metricsPort !== a.port)
        ports.push({ name: DEFAULTS.metricsPortName, containerPort: a.metricsPort, protocol: "TCP" });
    return {
        serviceAccountName: a.serviceAccountName,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: terminationGracePeriodSeconds(a.shutdown),
        securityContext: {
            runAsNonRoot: true,
            runAsUser: a.runAsUser,
            runAsGroup: a.runAsUser,
            fsGroup: a.runAsUser,
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
                name: a.app,
                image: a.image,
                imagePullPolicy: "IfNotPresent",
                ports,
                env: a.env,
                resources: {
                    requests: { cpu: a.resources.cpuRequest, memory: a.resources.memoryRequest },
                    limits: { cpu: a.resources.cpuLimit, memory: a.resources.memoryLimit },
                },
                // Liveness waits until the service has once been ready (its start-up work done), for up
                // to 60 s; after that readiness alone gates traffic.
                startupProbe: probe(a.probes.startupPath ?? a.probes.readinessPath, 2, 30),
                readinessProbe: probe(a.probes.readinessPath, 5, 3),
                livenessProbe: probe(a.probes.livenessPath, 10, 3),
                lifecycle: { preStop: { sleep: { seconds: a.shutdown.preStopSleepSeconds } } },
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

/** Egress rules: DNS to kube-dns, then each declared dependency by CIDR or pods, and port. */
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
        ...deps.map((d) => ({
            to: [
                "cidr" in d
                    ? { ipBlock: { cidr: d.cidr } }
                    : {
                          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": d.namespace } },
                          podSelector: { matchLabels: { ...d.podLabels } },
                      },
            ],
            ports: [{ protocol: d.protocol, port: d.port }],
        })),
    ];
}

/**
 * Ingress rules, each naming its sources: the Gateway's proxies on the app port, the metrics
 * scrapers on the metrics port; nothing else. With neither, the list is empty and the namespace's
 * default deny admits nobody.
 *
 * The kubelet's probes need no rule: the VPC CNI network policy agent always admits the node's own
 * IP (aws/aws-network-policy-agent v1.4.1 pkg/fwruleprocessor/fw_rule_processor.go adds the node IP,
 * read from IMDS, as an allow-all entry to every pod's ingress map; PR #65 for issue #56), as
 * Kubernetes' NetworkPolicy documentation expects ("pods cannot block access from their resident
 * node").
 */
export function ingressRules(a: {
    readonly port: number;
    readonly metricsPort: number;
    readonly dataPlane?: GatewayDataPlane;
    readonly scrapers: readonly NetworkPolicyPeer[];
}): NetworkPolicyIngressRule[] {
    const tcp = (port: number) => [{ protocol: "TCP", port }];
    const rules: NetworkPolicyIngressRule[] = [];
    if (a.dataPlane) {
        rules.push({
            from: [
                {
                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": a.dataPlane.namespace } },
                    podSelector: { matchLabels: { ...a.dataPlane.podLabels } },
                },
            ],
            ports: tcp(a.port),
        });
    }
    if (a.scrapers.length > 0) rules.push({ from: a.scrapers.map(toPeer), ports: tcp(a.metricsPort) });
    return rules;
}

function toPeer(p: NetworkPolicyPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
    const selector = (s: LabelSelector): k8s.types.input.meta.v1.LabelSelector => ({
        ...(s.matchLabels ? { matchLabels: { ...s.matchLabels } } : {}),
        ...(s.matchExpressions
            ? {
                  matchExpressions: s.matchExpressions.map((e) => ({
                      key: e.key,
                      operator: e.operator,
                      ...(e.values ? { values: [...e.values] } : {}),
                  })),
              }
            : {}),
    });
    const ipBlock = p.ipBlock && {
        cidr: p.ipBlock.cidr,
        ...(p.ipBlock.except ? { except: [...p.ipBlock.except] } : {}),
    };
    return {
        ...(p.namespaceSelector ? { namespaceSelector: selector(p.namespaceSelector) } : {}),
        ...(p.podSelector ? { podSelector: selector(p.podSelector) } : {}),
        ...(ipBlock ? { ipBlock } : {}),
    };
}

/** An HTTPRoute (gateway.networking.k8s.io/v1) from one host name, every path, to the Service. */
export function httpRouteSpec(a: {
    readonly hostname: string;
    readonly parentRef: RouteArgs["gateway"]["parentRef"];
    readonly serviceName: Input<string>;
    readonly servicePort: number;
}) {
    return {
        parentRefs: [
            {
                group: "gateway.networking.k8s.io",
                kind: "Gateway",
                name: a.parentRef.name,
                namespace: a.parentRef.namespace,
                ...(a.parentRef.sectionName !== undefined ? { sectionName: a.parentRef.sectionName } : {}),
            },
        ],
        hostnames: [a.hostname],
        rules: [
            {
                matches: [{ path: { type: "PathPrefix", value: "/" } }],
                backendRefs: [{ group: "", kind: "Service", name: a.serviceName, port: a.servicePort }],
            },
        ],
    };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

const isEmptySelector = (s: LabelSelector | undefined) =>
    s !== undefined && Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;

/**
 * Why a peer admits every source (all pods in every namespace, or every address), or undefined when
 * it names its sources.
 */
export function openPeer(p: NetworkPolicyPeer): string | undefined {
    if (!p.namespaceSelector && !p.podSelector && !p.ipBlock) return "selects nothing specific (an empty peer)";
    if (p.ipBlock && typeof p.ipBlock.cidr === "string" && /\/0$/.test(p.ipBlock.cidr))
        return `ipBlock ${p.ipBlock.cidr} is every address`;
    if (isEmptySelector(p.namespaceSelector) && (p.podSelector === undefined || isEmptySelector(p.podSelector)))
        return "namespaceSelector {} without a podSelector is every pod in every namespace";
    return undefined;
}

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
     * Secrets the External Secrets Operator writes into the namespace, each feeding the variables it
     * names (after `secretEnv`). The Deployment waits until every one is synced.
     * @default []
     */
    readonly externalSecrets?: readonly ExternalSecretEnv[];
    /**
     * A VerticalPodAutoscaler in recommendation mode (`updateMode: "Off"`) for the Deployment;
     * `installedBy` is what installs its CRD (the VPA release), so the object waits for it.
     * @default none
     */
    readonly vpa?: { readonly installedBy?: pulumi.Resource };
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
    /**
     * Annotations on the pods (e.g. the `prometheus.io/*` ones a scraper discovers pods by).
     * @default {}
     */
    readonly podAnnotations?: Readonly<Record<string, string>>;
}

/** Every problem with the arguments, each naming the argument, the value and what is allowed. */
export function validateArgs(a: WebServiceArgs): string[] {
    const problems: string[] = [];
    const bad = (arg: string, value: unknown, allowed: string) =>
        problems.push(`${arg} must be ${allowed}; got ${JSON.stringify(value)}`);
    const int = (arg: string, v: number | undefined, min: number, max: number) => {
        if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max))
            bad(arg, v, `an integer from ${min} to ${max}`);
    };

    if (!DNS_LABEL.test(a.appName) || a.appName.length > 63) bad("appName", a.appName, "a DNS-1123 label");
    if (!DNS_LABEL.test(a.namespace) || a.namespace.length > 63) bad("namespace", a.namespace, "a DNS-1123 label");
    else if (a.namespace === "default" || a.namespace.startsWith("kube-"))
        bad("namespace", a.namespace, "a namespace of its own (not default or kube-*)");
    int("port", a.port, 1, 65535);
    int("servicePort", a.servicePort, 1, 65535);
    int("metricsPort", a.metricsPort, 1, 65535);
    int("runAsUser", a.runAsUser, 10000, 2147483647);
    int("shutdown.preStopSleepSeconds", a.shutdown?.preStopSleepSeconds, 0, 300);
    int("shutdown.drainSeconds", a.shutdown?.drainSeconds, 0, 300);
    int("autoscaling.minReplicas", a.autoscaling.minReplicas, 1, 1000);
    if (a.autoscaling.maxReplicas < a.autoscaling.minReplicas || !Number.isInteger(a.autoscaling.maxReplicas))
        bad(
            "autoscaling.maxReplicas",
            a.autoscaling.maxReplicas,
            `an integer >= minReplicas (${a.autoscaling.minReplicas})`,
        );

    for (const [arg, path] of Object.entries(a.probes) as [string, string | undefined][]) {
        if (path !== undefined && !path.startsWith("/")) bad(`probes.${arg}`, path, "an absolute path");
    }
    if (a.probes.readinessPath === a.probes.livenessPath)
        bad(
            "probes.livenessPath",
            a.probes.livenessPath,
            "different from readinessPath (a draining pod must stay alive)",
        );

    const envNames = Object.keys(a.env ?? {});
    for (const name of envNames) if (!ENV_NAME.test(name)) bad("env", name, "a variable name ([A-Za-z_][A-Za-z0-9_]*)");
    const seen = new Set(envNames);
    (a.secretEnv ?? []).forEach((s, i) => {
        if (!ENV_NAME.test(s.name)) bad(`secretEnv[${i}].name`, s.name, "a variable name ([A-Za-z_][A-Za-z0-9_]*)");
        else if (seen.has(s.name))
            bad(`secretEnv[${i}].name`, s.name, "a variable not already set in env or secretEnv");
        seen.add(s.name);
        if (!DNS_SUBDOMAIN.test(s.secretName)) bad(`secretEnv[${i}].secretName`, s.secretName, "a Secret name");
        if (!SECRET_KEY.test(s.key)) bad(`secretEnv[${i}].key`, s.key, "a Secret key ([-._a-zA-Z0-9]+)");
    });

    const secretNames = new Set<string>();
    (a.externalSecrets ?? []).forEach((es, i) => {
        const arg = `externalSecrets[${i}]`;
        if (!DNS_SUBDOMAIN.test(es.name) || es.name.length > 253) bad(`${arg}.name`, es.name, "a Secret name");
        else if (secretNames.has(es.name)) bad(`${arg}.name`, es.name, "a name no other external secret uses");
        secretNames.add(es.name);
        if (es.remoteKey.trim() === "" || es.remoteKey !== es.remoteKey.trim())
            bad(`${arg}.remoteKey`, es.remoteKey, "the secret's name in the store");
        if (es.refreshInterval !== undefined && !GO_DURATION.test(es.refreshInterval))
            bad(`${arg}.refreshInterval`, es.refreshInterval, 'a duration such as "1h" or "15m"');
        const entries = Object.entries(es.env);
        if (entries.length === 0) bad(`${arg}.env`, es.env, "at least one variable");
        for (const [name, property] of entries) {
            if (!ENV_NAME.test(name)) bad(`${arg}.env`, name, "a variable name ([A-Za-z_][A-Za-z0-9_]*)");
            else if (seen.has(name))
                bad(`${arg}.env`, name, "a variable not already set in env, secretEnv or externalSecrets");
            seen.add(name);
            if (property.trim() === "") bad(`${arg}.env.${name}`, property, "a property of the remote secret");
        }
    });

    for (const key of Object.keys(a.labels ?? {})) {
        if (OWN_LABELS.includes(key))
            bad("labels", key, `a label other than ${OWN_LABELS.join(", ")} (set by the component)`);
    }

    if (a.route) {
        const h = a.route.hostname;
        if (!DNS_SUBDOMAIN.test(h) || h.length > 253 || !h.includes("."))
            bad("route.hostname", h, "a fully qualified host name in lower case, without a wildcard");
        if (!DNS_LABEL.test(a.route.gateway.parentRef.namespace))
            bad("route.gateway.parentRef.namespace", a.route.gateway.parentRef.namespace, "a DNS-1123 label");
        const dp = a.route.gateway.dataPlane;
        if (!DNS_LABEL.test(dp.namespace)) bad("route.gateway.dataPlane.namespace", dp.namespace, "a DNS-1123 label");
        if (Object.keys(dp.podLabels).length === 0)
            bad("route.gateway.dataPlane.podLabels", dp.podLabels, "at least one label of the Gateway's proxy pods");
    }
    (a.metricsScrapers ?? []).forEach((p, i) => {
        const why = openPeer(p);
        if (why) bad(`metricsScrapers[${i}]`, p, `a peer that names its sources (${why})`);
    });
    return problems;
}
