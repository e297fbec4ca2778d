/**
 * Cross-resource Kubernetes guardrails: every workload is covered by a PDB and by NetworkPolicies
 * (its own policy decides its ingress, egress rules include DNS), every workload namespace has a
 * default-deny policy whose exceptions name their sources, and every HPA scales a Deployment of this
 * program that does not set replicas itself.
 *
 * Live stack policies see outputs: a Deployment's live object carries `spec.replicas` (defaulted by
 * the API server or set by the HPA), so "the program sets replicas" is read from managedFields
 * there (a `pulumi-kubernetes*` manager owning f:spec.f:replicas), and from the inputs otherwise.
 */
import type { PolicyResource } from "@pulumi/policy";
import { StackGraph, label } from "../lib/graph";
import { POD_TYPES, containersOf, namespaceOf, podLabelsOf, podSpecOf, selectorMatches } from "../lib/k8s";
import { isAnywhere } from "../lib/cidr";
import { stackRule } from "../lib/rule";
import { Rec, UNKNOWN, Unknown, at, isRecord, list, plain, show, stringList } from "../lib/values";
import { HPA_TYPES } from "./k8s-objects";

const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
/** Workloads a PDB is expected for (replicated, evictable). */
const PDB_WORKLOADS = [DEPLOYMENT, "kubernetes:apps/v1:StatefulSet"];

function providerProps(r: PolicyResource): Record<string, unknown> | undefined {
    const p = r.provider ? plain(r.provider.props) : undefined;
    return isRecord(p) ? p : undefined;
}

function nsOf(g: StackGraph, r: PolicyResource): string | Unknown {
    return namespaceOf(g.props(r), providerProps(r));
}

/** Objects of `types` in namespace `ns` (unknown namespaces are left out). */
function inNamespace(g: StackGraph, ns: string, ...types: string[]): PolicyResource[] {
    return g.ofType(...types).filter((r) => nsOf(g, r) === ns);
}

/** The `policyTypes` a NetworkPolicy effectively has (Kubernetes' defaulting when unset). */
function policyTypes(np: Rec): string[] | Unknown {
    const spec = at(np, "spec");
    const declared = stringList(at(spec, "policyTypes"));
    if (declared === UNKNOWN) return UNKNOWN;
    if (declared !== undefined && declared.length > 0) return declared;
    return at(spec, "egress") !== undefined ? ["Ingress", "Egress"] : ["Ingress"];
}

function isEmptySelector(sel: unknown): boolean {
    if (!isRecord(sel)) return false;
    const labels = sel.matchLabels;
    const exprs = sel.matchExpressions;
    return (
        (labels === undefined || (isRecord(labels) && Object.keys(labels).length === 0)) &&
        (exprs === undefined || (Array.isArray(exprs) && exprs.length === 0))
    );
}

/** Whether an egress rule lets DNS (port 53, or any port) out. */
function allowsDns(rule: unknown): boolean {
    const ports = list(at(rule, "ports"));
    if (ports === UNKNOWN) return true;
    if (ports.length === 0) return true;
    return ports.some((p) => {
        const port = at(p, "port");
        return (
            port === undefined ||
            port === UNKNOWN ||
            port === 53 ||
            port === "53" ||
            (typeof port === "string" && /dns/i.test(port))
        );
    });
}

export const k8sPdbPerWorkload = stackRule({
    name: "k8s-pdb-per-workload",
    description: "Every Deployment (and StatefulSet) has a PodDisruptionBudget selecting its pods.",
    tier: "B",
    remediation:
        "create a policy/v1 PodDisruptionBudget in the same namespace with selector = the pod template labels and maxUnavailable: 1.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const w of g.ofType(...PDB_WORKLOADS)) {
            const ns = nsOf(g, w);
            if (ns === UNKNOWN) continue;
            const labels = podLabelsOf(w.type, g.props(w));
            const matches = inNamespace(g, ns, PDB).map((pdb) =>
                selectorMatches(at(g.props(pdb), "spec", "selector"), labels),
            );
            if (matches.includes(true) || matches.includes(UNKNOWN)) continue;
            s.report(`${label(w)} (namespace ${ns}) has no PodDisruptionBudget selecting its pods`, w.urn);
        }
    },
});

export const k8sNetworkPolicyPerWorkload = stackRule({
    name: "k8s-networkpolicy-per-workload",
    description:
        "Every workload's pods are selected by a NetworkPolicy of their own that declares Ingress (its ingress rules, possibly none) and Egress rules including DNS egress.",
    tier: "B",
    remediation:
        "add a NetworkPolicy with podSelector = the pod labels, policyTypes [Ingress, Egress], the ingress it serves (none if nothing calls it), and egress to kube-dns on UDP/TCP 53 plus its real dependencies.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const w of g.ofType(...POD_TYPES)) {
            const ns = nsOf(g, w);
            if (ns === UNKNOWN) continue;
            const labels = podLabelsOf(w.type, g.props(w));
            const selecting: Rec[] = [];
            let unknown = false;
            for (const np of inNamespace(g, ns, NETWORK_POLICY)) {
                const m = selectorMatches(at(g.props(np), "spec", "podSelector"), labels);
                if (m === UNKNOWN) unknown = true;
                if (m === true) selecting.push(g.props(np));
            }
            if (unknown) continue;
            const problems: string[] = [];
            const own = selecting.filter((np) => !isEmptySelector(at(np, "spec", "podSelector")));
            if (own.length === 0) problems.push("no NetworkPolicy selects its pods specifically");
            const types = selecting.map(policyTypes);
            if (types.includes(UNKNOWN)) continue;
            const flat = (types as string[][]).flat();
            // A workload nobody calls (a service without a route yet) has no ingress rules: that is
            // the namespace's default deny, stated by its own policy. Ingress rules in a policy that
            // does not declare Ingress are ignored by Kubernetes, so declaring it is what counts.
            if (own.length > 0 && !own.some((np) => (policyTypes(np) as string[]).includes("Ingress")))
                problems.push("no NetworkPolicy of its own declares Ingress, so its ingress rules are ignored");
            const egressRules = selecting
                .filter((np) => (policyTypes(np) as string[]).includes("Egress"))
                .flatMap((np) => {
                    const l = list(at(np, "spec", "egress"));
                    return l === UNKNOWN ? [UNKNOWN] : l;
                });
            if (!flat.includes("Egress") || egressRules.length === 0) problems.push("no Egress rules");
            else if (!egressRules.some(allowsDns)) problems.push("egress does not allow DNS (port 53)");
            if (problems.length > 0) s.report(`${label(w)} (namespace ${ns}): ${problems.join("; ")}`, w.urn);
        }
    },
});

/** Namespaces in which the program runs pods (unknown namespaces are left out). */
function workloadNamespaces(g: StackGraph): Set<string> {
    const namespaces = new Set<string>();
    for (const w of g.ofType(...POD_TYPES)) {
        const ns = nsOf(g, w);
        if (ns !== UNKNOWN) namespaces.add(ns);
    }
    return namespaces;
}

export const k8sNamespaceDefaultDeny = stackRule({
    name: "k8s-namespace-default-deny",
    description:
        "Every namespace with workloads has a default-deny NetworkPolicy (all pods, Ingress and Egress, no rules).",
    tier: "B",
    remediation:
        'add a NetworkPolicy with podSelector: {}, policyTypes: ["Ingress", "Egress"] and no ingress/egress rules.',
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const ns of workloadNamespaces(g)) {
            const denies = inNamespace(g, ns, NETWORK_POLICY).some((np) => {
                const p = g.props(np);
                const types = policyTypes(p);
                if (types === UNKNOWN) return true;
                const spec = at(p, "spec");
                const noRules = (k: string) => {
                    const l = list(at(spec, k));
                    return l !== UNKNOWN && l.length === 0;
                };
                return (
                    isEmptySelector(at(spec, "podSelector")) &&
                    types.includes("Ingress") &&
                    types.includes("Egress") &&
                    noRules("ingress") &&
                    noRules("egress")
                );
            });
            if (!denies) s.report(`namespace ${ns} has no default-deny NetworkPolicy`);
        }
    },
});

/** Why an ingress peer admits every source, or undefined when it names its sources. */
export function openIngressPeer(peer: unknown): string | undefined {
    if (peer === UNKNOWN || !isRecord(peer)) return undefined;
    const ns = peer.namespaceSelector;
    const pods = peer.podSelector;
    const block = peer.ipBlock;
    if (ns === undefined && pods === undefined && block === undefined) return "an empty peer admits everything";
    const cidr = at(block, "cidr");
    if (typeof cidr === "string" && isAnywhere(cidr)) return `ipBlock ${cidr} is every address`;
    if (isEmptySelector(ns) && (pods === undefined || isEmptySelector(pods)))
        return "namespaceSelector {} without a podSelector is every pod in every namespace";
    return undefined;
}

export const k8sNetworkPolicyIngressSources = stackRule({
    name: "k8s-networkpolicy-ingress-sources",
    description:
        "In every namespace with workloads, each NetworkPolicy ingress rule names its sources: a `from` that is neither missing nor every pod or address.",
    tier: "B",
    remediation:
        "give each ingress rule a `from` naming its callers (the Gateway's proxy pods by namespace and pod labels, the metrics scraper); a rule without `from` admits every source, in the cluster or outside it.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const ns of workloadNamespaces(g)) {
            for (const np of inNamespace(g, ns, NETWORK_POLICY)) {
                const p = g.props(np);
                const types = policyTypes(p);
                // Kubernetes ignores the ingress rules of a policy that does not declare Ingress.
                if (types === UNKNOWN || !types.includes("Ingress")) continue;
                const rules = list(at(p, "spec", "ingress"));
                if (rules === UNKNOWN) continue;
                rules.forEach((rule, i) => {
                    const from = at(rule, "from");
                    if (from === UNKNOWN || rule === UNKNOWN) return;
                    const peers = list(from);
                    if (peers === UNKNOWN) return;
                    const where = `${label(np)} (namespace ${ns}) ingress[${i}]`;
                    if (peers.length === 0) {
                        s.report(`${where} has no \`from\`: every pod and address may connect`, np.urn);
                        return;
                    }
                    peers.forEach((peer, j) => {
                        const why = openIngressPeer(peer);
                        if (why) s.report(`${where}.from[${j}]: ${why}`, np.urn);
                    });
                });
            }
        }
    },
});

/** Whether the program (not the API server or the HPA) sets `spec.replicas` of a Deployment. */
export function programSetsReplicas(props: Rec): boolean | Unknown {
    const managed = list(at(props, "metadata", "managedFields"));
    if (managed !== UNKNOWN && managed.length > 0) {
        return managed.some((m) => {
            const manager = at(m, "manager");
            return (
                typeof manager === "string" &&
                /pulumi/i.test(manager) &&
                at(m, "fieldsV1", "f:spec", "f:replicas") !== undefined
            );
        });
    }
    const replicas = at(props, "spec", "replicas");
    return replicas !== undefined;
}

const SCALABLE_KINDS: Readonly<Record<string, string>> = {
    Deployment: DEPLOYMENT,
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
};

export const k8sHpaTarget = stackRule({
    name: "k8s-hpa-target",
    description:
        "Every HPA's scaleTargetRef names a Deployment this program creates, and that Deployment sets no spec.replicas.",
    tier: "B",
    remediation:
        "reference the Deployment through its output (scaleTargetRef.name: deployment.metadata.name) and remove spec.replicas from it (each up would reset the HPA's count).",
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const hpa of g.ofType(...HPA_TYPES)) {
            const p = g.props(hpa);
            const ref = at(p, "spec", "scaleTargetRef");
            const kind = at(ref, "kind");
            const name = at(ref, "name");
            if (ref === UNKNOWN || kind === UNKNOWN) continue;
            const targetType = SCALABLE_KINDS[String(kind)];
            if (!targetType) {
                s.report(`${label(hpa)} scales a ${show(kind)}, not a Deployment`, hpa.urn);
                continue;
            }
            const ns = nsOf(g, hpa);
            if (ns === UNKNOWN) continue;
            const candidates = inNamespace(g, ns, targetType);
            let targets: PolicyResource[];
            if (typeof name === "string") {
                targets = candidates.filter((d) => {
                    const actual = at(g.props(d), "metadata", "name");
                    if (typeof actual === "string") return actual === name;
                    // Inputs without metadata.name (the mock view): the name is `<logical>-<suffix>`.
                    return actual === undefined && (name === d.name || name.startsWith(`${d.name}-`));
                });
                if (targets.length === 0 && candidates.some((d) => at(g.props(d), "metadata", "name") === UNKNOWN))
                    continue;
            } else {
                targets = g.dependenciesOfType(hpa, targetType).filter((d) => candidates.includes(d));
                if (targets.length === 0 && !g.hasVisibleDependencies(hpa)) continue;
            }
            if (targets.length === 0) {
                s.report(
                    `${label(hpa)} targets ${String(kind)} ${show(name)} in ${ns}, which this program does not create`,
                    hpa.urn,
                );
                continue;
            }
            for (const d of targets) {
                if (programSetsReplicas(g.props(d)) === true) {
                    s.report(
                        `${label(d)} is scaled by ${label(hpa)} but sets spec.replicas (${show(at(g.props(d), "spec", "replicas"))})`,
                        d.urn,
                    );
                }
            }
        }
    },
});

/** Namespaces of the EKS add-ons whose Services workloads call. */
const ADDON_NAMESPACES: Readonly<Record<string, string>> = {
    "amazon-cloudwatch-observability": "amazon-cloudwatch",
    coredns: "kube-system",
};

/** Namespaces the stack's objects live in or create: where a `<service>.<namespace>` host points. */
function clusterNamespaces(g: StackGraph): Set<string> {
    const names = new Set(["default", "kube-system"]);
    const add = (v: unknown) => typeof v === "string" && v !== "" && names.add(v);
    for (const r of g.ofType("kubernetes:core/v1:Namespace")) add(at(g.props(r), "metadata", "name"));
    for (const r of g.ofType("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"))
        add(at(g.props(r), "namespace"));
    for (const r of g.ofType("aws:eks/addon:Addon")) add(ADDON_NAMESPACES[String(at(g.props(r), "addonName"))]);
    for (const r of g.resources) {
        if (!r.type.startsWith("kubernetes:") || r.type.startsWith("kubernetes:helm.sh/")) continue;
        add(nsOf(g, r));
    }
    return names;
}

/** A Service in the cluster that a variable's URL addresses. */
export interface ServiceTarget {
    readonly service: string;
    readonly namespace: string;
    readonly port: number;
}

/**
 * The cluster Service an `http(s)://` URL addresses: `<service>.<namespace>.svc[.cluster.local]`,
 * `<service>.<namespace>` with a namespace of `namespaces`, or a bare `<service>` in `own`.
 */
export function serviceTarget(value: string, own: string, namespaces: ReadonlySet<string>): ServiceTarget | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return undefined;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    const port = url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    const labels = url.hostname.toLowerCase().replace(/\.$/, "").split(".");
    const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    if (!labels.every((l) => dns.test(l))) return undefined;
    const fq = labels.slice(2).join(".");
    if (labels.length >= 3 && (fq === "svc" || fq === "svc.cluster.local"))
        return { service: labels[0], namespace: labels[1], port };
    if (labels.length === 2 && namespaces.has(labels[1])) return { service: labels[0], namespace: labels[1], port };
    if (labels.length === 1 && labels[0] !== "localhost") return { service: labels[0], namespace: own, port };
    return undefined;
}

function allowsPort(rule: unknown, port: number): boolean | Unknown {
    const ports = list(at(rule, "ports"));
    if (ports === UNKNOWN) return UNKNOWN;
    if (ports.length === 0) return true;
    return ports.some((p) => {
        const n = at(p, "port");
        if (n === undefined) return true;
        const end = at(p, "endPort");
        return (
            n === port ||
            n === String(port) ||
            (typeof n === "number" && typeof end === "number" && n <= port && port <= end)
        );
    });
}

/**
 * Whether an egress peer lets a pod reach a Service of `ns` as the VPC CNI policy agent sees it:
 * a selector peer for that namespace does, and so does every address (it includes the ClusterIPs);
 * any narrower address block is assumed not to (the service CIDR is not in the pod's view).
 */
function peerReaches(peer: unknown, ns: string, own: string): "allowed" | "narrower block" | "no" {
    if (!isRecord(peer)) return "no";
    if (peer.ipBlock !== undefined) {
        const cidr = at(peer.ipBlock, "cidr");
        return cidr === UNKNOWN || (typeof cidr === "string" && isAnywhere(cidr)) ? "allowed" : "narrower block";
    }
    const nsSel = peer.namespaceSelector;
    if (nsSel === undefined) return peer.podSelector !== undefined && ns === own ? "allowed" : "no";
    if (isEmptySelector(nsSel)) return "allowed";
    const m = selectorMatches(nsSel, { "kubernetes.io/metadata.name": ns });
    return m === true || m === UNKNOWN ? "allowed" : "no";
}

export const k8sEgressToClusterServices = stackRule({
    name: "k8s-egress-cluster-services",
    description:
        "A workload whose environment addresses a Service in the cluster (an http(s) URL to `<service>.<namespace>`) has an egress rule to that namespace's pods on that port, by selector, when its NetworkPolicies restrict egress.",
    tier: "B",
    remediation:
        "add an egress rule `to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <namespace>}}, podSelector: {matchLabels: <labels the Service selects>}}]` on the port. An ipBlock does not do: the VPC CNI network policy agent matches egress before kube-proxy rewrites the ClusterIP, and its controller adds a Service's ClusterIP only for selector peers (aws/amazon-network-policy-controller-k8s pkg/resolvers/endpoints.go).",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const namespaces = clusterNamespaces(g);
        for (const w of g.ofType(...POD_TYPES)) {
            const ns = nsOf(g, w);
            if (ns === UNKNOWN) continue;
            const containers = containersOf(podSpecOf(w.type, g.props(w)), ["container", "initContainer"]);
            if (containers === UNKNOWN) continue;
            const targets: { variable: string; target: ServiceTarget }[] = [];
            for (const { c } of containers) {
                const env = list(at(c, "env"));
                if (env === UNKNOWN) continue;
                for (const e of env) {
                    const value = at(e, "value");
                    const name = at(e, "name");
                    if (typeof value !== "string" || typeof name !== "string") continue;
                    const target = serviceTarget(value, ns, namespaces);
                    if (target) targets.push({ variable: name, target });
                }
            }
            if (targets.length === 0) continue;
            const labels = podLabelsOf(w.type, g.props(w));
            let unknown = false;
            let restricted = false;
            const rules: unknown[] = [];
            for (const np of inNamespace(g, ns, NETWORK_POLICY)) {
                const p = g.props(np);
                const m = selectorMatches(at(p, "spec", "podSelector"), labels);
                const types = policyTypes(p);
                if (m === UNKNOWN || types === UNKNOWN) unknown = true;
                if (m !== true || types === UNKNOWN || !types.includes("Egress")) continue;
                restricted = true;
                const l = list(at(p, "spec", "egress"));
                if (l === UNKNOWN) unknown = true;
                else rules.push(...l);
            }
            // Without a policy that declares Egress for these pods, every destination is allowed.
            if (unknown || !restricted) continue;
            for (const { variable, target } of targets) {
                const where = `${label(w)} (namespace ${ns}): ${variable} addresses ${target.service}.${target.namespace}:${target.port}`;
                let byAddress = false;
                let allowed = false;
                for (const rule of rules) {
                    const port = allowsPort(rule, target.port);
                    if (port === UNKNOWN) allowed = true;
                    if (port !== true) continue;
                    const to = at(rule, "to");
                    const peers = list(to);
                    if (to === undefined || (peers !== UNKNOWN && peers.length === 0) || peers === UNKNOWN) {
                        allowed = true;
                        continue;
                    }
                    for (const peer of peers) {
                        const how = peerReaches(peer, target.namespace, ns);
                        if (how === "allowed") allowed = true;
                        if (how === "narrower block") byAddress = true;
                    }
                }
                if (allowed) continue;
                s.report(
                    byAddress
                        ? `${where}, but egress on that port is allowed only by ipBlock, which never matches the Service's ClusterIP under the VPC CNI network policy agent`
                        : `${where}, but no egress rule of its NetworkPolicies lets it reach that namespace's pods on that port`,
                    w.urn,
                );
            }
        }
    },
});

export const k8sStackRules = [
    k8sPdbPerWorkload,
    k8sNetworkPolicyPerWorkload,
    k8sNamespaceDefaultDeny,
    k8sNetworkPolicyIngressSources,
    k8sEgressToClusterServices,
    k8sHpaTarget,
];
