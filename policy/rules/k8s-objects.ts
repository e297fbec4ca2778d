/**
 * Kubernetes objects other than pod templates: namespaces,
 * Services, HPAs, PDBs, and the explicit provider every in-cluster resource must use.
 */
import { intOrPercent, namespaceOf } from "../lib/k8s";
import { resourceRule } from "../lib/rule";
import { UNKNOWN, at, isRecord, list, show } from "../lib/values";

/** Kinds that are not namespaced: a namespace on them is meaningless. */
const CLUSTER_SCOPED_KINDS = new Set([
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "APIService",
    "CertificateSigningRequest",
    "ClusterTrustBundle",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ComponentStatus",
    "ClusterIssuer",
    "GatewayClass",
    // Karpenter (karpenter.sh, karpenter.k8s.aws): `scope: Cluster` in karpenter-crd 1.14.1.
    "NodePool",
    "NodeClaim",
    "NodeOverlay",
    "ClusterSecretStore",
    "ClusterExternalSecret",
    "EC2NodeClass",
]);

/** `kubernetes:<group>/<version>:<Kind>` of a concrete Kubernetes object (not a provider, chart, or yaml component). */
export function kubernetesKind(type: string): string | undefined {
    const m = /^kubernetes:([a-z0-9.-]+\/v[0-9a-z]+|core\/v1):([A-Za-z]+)$/.exec(type);
    // helm.sh/v3 Release, helm.sh/v4 Chart and yaml/v2 ConfigFile/ConfigGroup are components that
    // install objects, not objects: a ConfigFile has no namespace of its own.
    if (!m || m[1].startsWith("helm.sh/") || m[1].startsWith("yaml/") || m[1].startsWith("kustomize/"))
        return undefined;
    return m[2].replace(/(List|Patch)$/, "");
}

function isNamespacedObject(type: string): boolean {
    const kind = kubernetesKind(type);
    return kind !== undefined && !CLUSTER_SCOPED_KINDS.has(kind);
}

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

export const k8sNotDefaultNamespace = resourceRule({
    name: "k8s-not-default-namespace",
    description: "Nothing is deployed into the `default` namespace (set explicitly, or through the provider).",
    tier: "B",
    remediation:
        "create a Namespace for the workload and set metadata.namespace (or the Helm release's namespace) to it.",
    types: ["kubernetes:<namespaced kinds>", HELM_RELEASE, "kubernetes:helm.sh/v4:Chart"],
    appliesTo: (t) => isNamespacedObject(t) || t === HELM_RELEASE || t === "kubernetes:helm.sh/v4:Chart",
    check: (r) => {
        const providerProps =
            r.provider && isRecord(r.provider.props) ? (r.provider.props as Record<string, unknown>) : undefined;
        let ns: unknown;
        if (r.type.startsWith("kubernetes:helm.sh/")) {
            ns = r.props.namespace;
            if (ns === undefined || ns === "") ns = providerProps?.namespace ?? "default";
        } else {
            ns = namespaceOf(r.props, providerProps);
        }
        if (ns === "default") r.report(`the ${r.type.split(":").pop()} goes to the default namespace`);
    },
});

export const POD_SECURITY_LABEL = "pod-security.kubernetes.io/enforce";

export const k8sNamespacePodSecurity = resourceRule({
    name: "k8s-namespace-pod-security",
    description: "Every namespace the program creates enforces the restricted Pod Security Standard.",
    tier: "B",
    remediation: `label the Namespace ${POD_SECURITY_LABEL}: restricted.`,
    types: ["kubernetes:core/v1:Namespace"],
    check: (r) => {
        const v = at(r.props, "metadata", "labels", POD_SECURITY_LABEL);
        if (v !== UNKNOWN && v !== "restricted") r.report(`label ${POD_SECURITY_LABEL} is ${show(v)}`);
    },
});

export const k8sServiceClusterIp = resourceRule({
    name: "k8s-service-cluster-ip",
    description: "Services are ClusterIP unless listed in exposedServices (no accidental NodePort/LoadBalancer).",
    tier: "B",
    remediation:
        'leave spec.type unset (ClusterIP) and expose through an Ingress; or list "namespace/name" in the exposedServices policy config.',
    types: ["kubernetes:core/v1:Service"],
    knobs: ["exposedServices"],
    check: (r) => {
        const type = at(r.props, "spec", "type");
        if (type !== "NodePort" && type !== "LoadBalancer") return;
        const ns = namespaceOf(r.props);
        const name = at(r.props, "metadata", "name");
        if (ns === UNKNOWN || name === UNKNOWN) return;
        const key = `${ns}/${typeof name === "string" ? name : r.name}`;
        if (!r.knobs.exposedServices.includes(key)) r.report(`Service ${key} is of type ${type}`);
    },
});

const HPA_V2 = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
export const HPA_TYPES = [
    HPA_V2,
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v2beta1:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler",
];

export const k8sHpa = resourceRule({
    name: "k8s-hpa",
    description:
        "HPAs use autoscaling/v2 with minReplicas >= 2, maxReplicas > minReplicas, a CPU target and an explicit scale-down stabilization window.",
    tier: "B",
    remediation:
        "use k8s.autoscaling.v2.HorizontalPodAutoscaler with minReplicas >= 2, a larger maxReplicas, a Resource cpu metric and behavior.scaleDown.stabilizationWindowSeconds.",
    types: HPA_TYPES,
    check: (r) => {
        if (r.type !== HPA_V2) return r.report(`${r.type} is not autoscaling/v2`);
        const spec = at(r.props, "spec");
        if (spec === UNKNOWN) return;
        const min = at(spec, "minReplicas") ?? 1;
        const max = at(spec, "maxReplicas");
        if (typeof min === "number" && min < 2) r.report(`minReplicas is ${min}`);
        if (typeof min === "number" && typeof max === "number" && max <= min)
            r.report(`maxReplicas ${max} is not above minReplicas ${min}`);
        const metrics = list(at(spec, "metrics"));
        if (metrics !== UNKNOWN) {
            const cpu = metrics.some(
                (m) =>
                    m === UNKNOWN ||
                    (at(m, "type") === "Resource" && [UNKNOWN, "cpu"].includes(at(m, "resource", "name") as string)),
            );
            if (!cpu) r.report("no Resource metric on cpu");
        }
        const window = at(spec, "behavior", "scaleDown", "stabilizationWindowSeconds");
        if (window !== UNKNOWN && !(typeof window === "number" && window > 0)) {
            r.report(`behavior.scaleDown.stabilizationWindowSeconds is ${show(window)}`);
        }
    },
});

export const k8sHpaProdMinReplicas = resourceRule({
    name: "k8s-hpa-prod-min-replicas",
    description: "HPAs keep at least three replicas (one per AZ) (prod).",
    tier: "P",
    remediation: "set minReplicas >= 3.",
    types: HPA_TYPES,
    check: (r) => {
        const min = at(r.props, "spec", "minReplicas") ?? 1;
        if (typeof min === "number" && min < 3) r.report(`minReplicas is ${min}`);
    },
});

export const k8sPdbAllowsEviction = resourceRule({
    name: "k8s-pdb-allows-eviction",
    description: "PodDisruptionBudgets use maxUnavailable >= 1 (policy/v1), so node drains can always progress.",
    tier: "B",
    remediation: "set spec.maxUnavailable: 1 (and no minAvailable) on a policy/v1 PodDisruptionBudget.",
    types: ["kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudget"],
    check: (r) => {
        if (r.type !== "kubernetes:policy/v1:PodDisruptionBudget") return r.report(`${r.type} is not policy/v1`);
        const spec = at(r.props, "spec");
        if (spec === UNKNOWN) return;
        if (at(spec, "minAvailable") !== undefined) {
            return r.report(
                `minAvailable ${show(at(spec, "minAvailable"))} blocks eviction when the HPA sits at its minimum`,
            );
        }
        const max = intOrPercent(at(spec, "maxUnavailable"));
        if (max === UNKNOWN) return;
        if (max === undefined || max.value < 1) r.report(`maxUnavailable is ${show(at(spec, "maxUnavailable"))}`);
    },
});

export const k8sExplicitProvider = resourceRule({
    name: "k8s-explicit-provider",
    description:
        "Every Kubernetes resource uses the program's explicit provider, never the ambient-kubeconfig default provider.",
    tier: "B",
    remediation:
        "pass { provider: cluster.provider } (or providers on the parent component) to every Kubernetes resource.",
    types: ["kubernetes:*"],
    appliesTo: (t) => t.startsWith("kubernetes:"),
    check: (r) => {
        // No provider information (an offline record without it): nothing to check.
        if (!r.provider) return;
        if (r.provider.name.startsWith("default")) r.report(`uses the default provider ${r.provider.name}`);
    },
});

export const objectRules = [
    k8sNotDefaultNamespace,
    k8sNamespacePodSecurity,
    k8sServiceClusterIp,
    k8sHpa,
    k8sHpaProdMinReplicas,
    k8sPdbAllowsEviction,
    k8sExplicitProvider,
];
