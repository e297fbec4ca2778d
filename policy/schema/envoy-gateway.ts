/**
 * Envoy Gateway's EnvoyProxy (gateway.envoyproxy.io/v1alpha1), checked offline. No kubernetes-models
 * package carries Envoy Gateway's CRDs, so this is a typed allow-list of the fields of
 * api/v1alpha1/envoyproxy_types.go and shared_types.go at v1.9.0, as deep as the program uses them,
 * plus the enums the CRD validates. A misspelt field (`envoyServices`) or a wrong enum value is
 * caught before a preview instead of by the API server.
 */
import { ValuesIssue, ValuesSpec, checkValues } from "./cert-manager-values";

const patch: ValuesSpec = { type: "string", value: "any" };
const pod: ValuesSpec = {
    annotations: "map",
    labels: "map",
    securityContext: "map",
    affinity: "map",
    tolerations: "array",
    volumes: "array",
    imagePullSecrets: "array",
    nodeSelector: "map",
    topologySpreadConstraints: "array",
    priorityClassName: "string",
};
const container: ValuesSpec = {
    env: "array",
    resources: "map",
    securityContext: "map",
    image: "string",
    imageRepository: "string",
    volumeMounts: "array",
};
const pdb: ValuesSpec = { minAvailable: "int-or-string", maxUnavailable: "int-or-string", patch, name: "string" };

const kubernetesProvider: ValuesSpec = {
    envoyDeployment: {
        patch,
        replicas: "integer",
        strategy: "map",
        pod,
        container,
        initContainers: "array",
        name: "string",
    },
    envoyDaemonSet: { patch, strategy: "map", pod, container, name: "string" },
    envoyService: {
        annotations: "map",
        labels: "map",
        type: "string",
        loadBalancerClass: "string",
        allocateLoadBalancerNodePorts: "boolean",
        loadBalancerSourceRanges: "array",
        loadBalancerIP: "string",
        externalTrafficPolicy: "string",
        patch,
        name: "string",
    },
    envoyHpa: "map",
    useListenerPortAsContainerPort: "boolean",
    envoyPDB: pdb,
    envoyServiceAccount: "map",
};

export const ENVOY_PROXY_SPEC: ValuesSpec = {
    provider: { type: "string", kubernetes: kubernetesProvider, host: "map" },
    logging: "map",
    telemetry: "map",
    bootstrap: "map",
    concurrency: "integer",
    routingType: "string",
    extraArgs: "array",
    mergeGateways: "boolean",
    mergeBackends: "map",
    shutdown: "map",
    backendTLS: "map",
    filterOrder: "array",
    ipFamily: "string",
    preserveRouteOrder: "boolean",
    disableLuaValidation: "boolean",
    luaValidation: "string",
};

const ENUMS: readonly { path: readonly string[]; allowed: readonly string[] }[] = [
    { path: ["provider", "type"], allowed: ["Kubernetes", "Host"] },
    { path: ["provider", "kubernetes", "envoyService", "type"], allowed: ["ClusterIP", "LoadBalancer", "NodePort"] },
    { path: ["provider", "kubernetes", "envoyService", "externalTrafficPolicy"], allowed: ["Local", "Cluster"] },
];

const get = (v: unknown, path: readonly string[]): unknown =>
    path.reduce<unknown>(
        (o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
        v,
    );

/** Problems with an EnvoyProxy's `spec`, as `/spec/...` paths; empty when it is valid. */
export function checkEnvoyProxySpec(spec: unknown): ValuesIssue[] {
    if (spec === null || typeof spec !== "object" || Array.isArray(spec))
        return [{ path: "", message: "spec must be an object" }];
    const issues = checkValues(spec, ENVOY_PROXY_SPEC);
    if (get(spec, ["provider", "type"]) === undefined && get(spec, ["provider"]) !== undefined)
        issues.push({ path: "provider.type", message: "provider.type is required" });
    for (const e of ENUMS) {
        const v = get(spec, e.path);
        if (v !== undefined && typeof v !== "symbol" && !e.allowed.includes(v as string))
            issues.push({
                path: e.path.join("."),
                message: `${e.path.join(".")} must be one of ${e.allowed.join(", ")}; got ${JSON.stringify(v)}`,
            });
    }
    return issues;
}
