/** Kubernetes helpers shared by the workload, network and autoscaling rules. */
import { Rec, UNKNOWN, Unknown, at, isRecord, list } from "./values";

/** Where the pod spec sits in each pod-template-bearing type. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    "kubernetes:core/v1:Pod": ["spec"],
};

/** Every type with a pod template: the pod security, image and resources rules apply to all of them. */
export const POD_TYPES = Object.keys(POD_SPEC_PATHS);

/** Long-running pods: probes, graceful shutdown, PDBs and NetworkPolicies are expected for these. */
export const WORKLOAD_TYPES = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:core/v1:Pod",
];

/** Replicated workloads: zone spread and anti-affinity are expected for these. */
export const REPLICATED_TYPES = ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"];

export function podSpecOf(type: string, props: Rec): unknown {
    const path = POD_SPEC_PATHS[type];
    return path ? at(props, ...path) : undefined;
}

/** Labels of the pods a controller creates (`Pod`: its own labels). */
export function podLabelsOf(type: string, props: Rec): unknown {
    if (type === "kubernetes:core/v1:Pod") return at(props, "metadata", "labels");
    if (type === "kubernetes:batch/v1:CronJob")
        return at(props, "spec", "jobTemplate", "spec", "template", "metadata", "labels");
    return at(props, "spec", "template", "metadata", "labels");
}

export interface ContainerRef {
    readonly kind: "container" | "initContainer" | "ephemeralContainer";
    /** The container's name, or `#<index>` if it has none. */
    readonly name: string;
    readonly c: Rec;
}

/** Containers of a pod spec; `UNKNOWN` if the list itself is unknown. Unknown elements are skipped. */
export function containersOf(
    podSpec: unknown,
    kinds: ContainerRef["kind"][] = ["container", "initContainer", "ephemeralContainer"],
): ContainerRef[] | Unknown {
    if (podSpec === UNKNOWN) return UNKNOWN;
    const fields: Record<ContainerRef["kind"], string> = {
        container: "containers",
        initContainer: "initContainers",
        ephemeralContainer: "ephemeralContainers",
    };
    const out: ContainerRef[] = [];
    for (const kind of kinds) {
        const items = list(at(podSpec, fields[kind]));
        if (items === UNKNOWN) return UNKNOWN;
        items.forEach((c, i) => {
            if (isRecord(c)) out.push({ kind, name: typeof c.name === "string" ? c.name : `#${i}`, c });
        });
    }
    return out;
}

/** A container's security-context field, falling back to the pod's (runAsNonRoot, runAsUser, seccompProfile...). */
export function effectiveSecurityField(podSpec: unknown, c: Rec, field: string): unknown {
    const own = at(c, "securityContext", field);
    return own !== undefined ? own : at(podSpec, "securityContext", field);
}

export function describeContainer(ref: ContainerRef): string {
    return `${ref.kind} "${ref.name}"`;
}

/**
 * Whether a label selector selects pods with `labels`: `UNKNOWN` if either side is unknown.
 * An empty selector `{}` selects everything; `undefined` selects nothing.
 */
export function selectorMatches(selector: unknown, labels: unknown): boolean | Unknown {
    if (selector === UNKNOWN || labels === UNKNOWN) return UNKNOWN;
    if (!isRecord(selector)) return false;
    const podLabels = isRecord(labels) ? labels : {};
    const matchLabels = selector.matchLabels;
    if (matchLabels === UNKNOWN) return UNKNOWN;
    if (isRecord(matchLabels)) {
        for (const [k, v] of Object.entries(matchLabels)) {
            if (v === UNKNOWN || podLabels[k] === UNKNOWN) return UNKNOWN;
            if (podLabels[k] !== v) return false;
        }
    }
    const exprs = list(selector.matchExpressions);
    if (exprs === UNKNOWN) return UNKNOWN;
    for (const e of exprs) {
        if (!isRecord(e) || typeof e.key !== "string") return UNKNOWN;
        const has = Object.prototype.hasOwnProperty.call(podLabels, e.key);
        const value = podLabels[e.key];
        const values = list(e.values);
        if (values === UNKNOWN || value === UNKNOWN) return UNKNOWN;
        switch (e.operator) {
            case "In":
                if (!has || !values.includes(value)) return false;
                break;
            case "NotIn":
                if (has && values.includes(value)) return false;
                break;
            case "Exists":
                if (!has) return false;
                break;
            case "DoesNotExist":
                if (has) return false;
                break;
            default:
                return UNKNOWN;
        }
    }
    return true;
}

/** `metadata.namespace`, else the provider's `namespace`, else "default" (what the API server uses). */
export function namespaceOf(props: Rec, providerProps?: Record<string, unknown>): string | Unknown {
    const ns = at(props, "metadata", "namespace");
    if (ns === UNKNOWN) return UNKNOWN;
    if (typeof ns === "string" && ns !== "") return ns;
    const fromProvider = providerProps?.namespace;
    if (typeof fromProvider === "string" && fromProvider !== "") return fromProvider;
    return "default";
}

/** Parses a Kubernetes duration-free count: an int, or a percentage string "25%"; anything else `undefined`. */
export function intOrPercent(v: unknown): { value: number; percent: boolean } | Unknown | undefined {
    if (v === UNKNOWN) return UNKNOWN;
    if (typeof v === "number" && Number.isFinite(v)) return { value: v, percent: false };
    if (typeof v === "string") {
        const m = /^(\d+)%$/.exec(v.trim());
        if (m) return { value: Number(m[1]), percent: true };
        if (/^\d+$/.test(v.trim())) return { value: Number(v), percent: false };
    }
    return undefined;
}
