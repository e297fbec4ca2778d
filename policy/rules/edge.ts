/**
 * The edge (guardrails: IAM "Route53 writes only on named zones", "Pod Identity roles
 * trust pods.eks.amazonaws.com only"; Kubernetes "HTTPS only at the edge (HTTP redirects);
 * certificates from a ClusterIssuer"; the CRD ordering facts; ExternalDNS's owner id, external-dns#3229).
 */
import type { PolicyResource } from "@pulumi/policy";
import { StackGraph, label } from "../lib/graph";
import { ParsedPolicy, Statement, conditionEntries, parsePolicy, principals } from "../lib/iam";
import { ResourceCheck, resourceRule, stackRule } from "../lib/rule";
import { Rec, UNKNOWN, Unknown, at, isRecord, list, show } from "../lib/values";
import { POLICY_DOC_TYPES, ROLE, eachIdentityPolicy } from "./aws-iam";
import { chartName } from "./k8s-helm";

const HELM_TYPES = ["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"];
const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
const HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";

// ---- IAM: Route53 writes only on named hosted zones ---------------------------------------------

/** Route53 actions that change something (records, zones, health checks...): everything but reads. */
export function isRoute53Write(action: unknown): boolean {
    if (typeof action !== "string") return false;
    const [service, name = ""] = action.toLowerCase().split(":");
    if (service === "*") return true;
    return service === "route53" && !/^(get|list|test)/.test(name);
}

/** `arn:<partition>:route53:::hostedzone/<ID>` with a literal zone id, no wildcard. */
const ZONE_ARN = /^arn:aws[a-z-]*:route53:::hostedzone\/[A-Z0-9]+$/;

function checkRoute53Scope(doc: ParsedPolicy | Unknown | undefined, where: string, r: ResourceCheck): void {
    if (doc === UNKNOWN || doc === undefined || !doc.ok) return;
    doc.statements.forEach((st: Statement, i) => {
        if (st.effect !== "Allow") return;
        const writes = st.actions.filter(isRoute53Write);
        if (writes.length === 0) return;
        for (const res of st.resources) {
            if (res === UNKNOWN) continue;
            if (typeof res !== "string" || !ZONE_ARN.test(res))
                r.report(
                    `${where} statement ${i} allows ${writes.map(String).join(", ")} on ${show(res)}, not on a named hosted zone`,
                );
        }
        if (st.resources.length === 0) r.report(`${where} statement ${i} allows Route53 writes without a Resource`);
    });
}

export const iamRoute53ZoneScoped = resourceRule({
    name: "iam-route53-zone-scoped",
    description:
        'Route53 writes (ChangeResourceRecordSets and every other non-read action) are allowed only on named hosted zone ARNs, never on "*" or hostedzone/*.',
    tier: "B",
    remediation: "list the hosted zone ARNs (arn:aws:route53:::hostedzone/<id>) the workload writes to.",
    types: [ROLE, ...POLICY_DOC_TYPES],
    check: (r) => eachIdentityPolicy(r, (doc, where) => checkRoute53Scope(doc, where, r)),
});

// ---- IAM: Pod Identity trust ----------------------------------------------------------------------

export const POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com";
const POD_IDENTITY_ACTIONS = ["sts:AssumeRole", "sts:TagSession"];
const POD_IDENTITY_TAGS = ["aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account"];

/** The trust statements that name the Pod Identity service principal. */
export function podIdentityStatements(doc: ParsedPolicy): { index: number; st: Statement }[] {
    if (!doc.ok) return [];
    return doc.statements
        .map((st, index) => ({ index, st }))
        .filter(({ st }) => principals(st.principal, "Service").includes(POD_IDENTITY_PRINCIPAL));
}

export const iamPodIdentityTrust = resourceRule({
    name: "iam-pod-identity-trust",
    description:
        "A Pod Identity role's trust allows only pods.eks.amazonaws.com, only sts:AssumeRole and sts:TagSession, pinned to one namespace and service account.",
    tier: "B",
    remediation:
        'trust { Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"], Condition: { StringEquals: { "aws:RequestTag/kubernetes-namespace": "<ns>", "aws:RequestTag/kubernetes-service-account": "<sa>" } } } in a statement of its own.',
    types: [ROLE],
    check: (r) => {
        const doc = parsePolicy(r.props.assumeRolePolicy);
        if (doc === UNKNOWN || doc === undefined || !doc.ok) return;
        for (const { index, st } of podIdentityStatements(doc)) {
            const where = `assumeRolePolicy statement ${index}`;
            if (st.effect !== "Allow") continue;
            const others = [
                ...principals(st.principal, "Service").filter((p) => p !== POD_IDENTITY_PRINCIPAL),
                ...["AWS", "Federated", "CanonicalUser"].flatMap((k) => principals(st.principal, k)),
            ];
            if (others.length > 0) r.report(`${where} also trusts ${show(others)}`);
            const extra = st.actions.filter((a) => a !== UNKNOWN && !POD_IDENTITY_ACTIONS.includes(a as string));
            if (extra.length > 0) r.report(`${where} allows ${show(extra)} besides sts:AssumeRole and sts:TagSession`);
            for (const needed of POD_IDENTITY_ACTIONS)
                if (!st.actions.includes(needed) && !st.actions.includes(UNKNOWN))
                    r.report(`${where} does not allow ${needed} (EKS Pod Identity needs both)`);
            const pinned = conditionEntries(st.condition).filter((c) => c.operator === "StringEquals");
            for (const tag of POD_IDENTITY_TAGS) {
                const values = pinned.filter((c) => c.key === tag).flatMap((c) => c.values);
                if (values.length !== 1)
                    r.report(
                        `${where} pins ${values.length} values of ${tag} with StringEquals; it must pin exactly one`,
                    );
            }
        }
    },
});

// ---- Gateway: HTTPS listeners, certificates from a ClusterIssuer --------------------------------------

interface Listener {
    readonly index: number;
    readonly l: Rec;
}

const listenersOf = (props: Rec): Listener[] | Unknown => {
    const items = list(at(props, "spec", "listeners"));
    if (items === UNKNOWN) return UNKNOWN;
    return items.flatMap((l, index) => (isRecord(l) ? [{ index, l }] : []));
};

export const gatewayListenersHttps = resourceRule({
    name: "gateway-listeners-https",
    description:
        "Gateway listeners are HTTPS (TLS terminated with a certificate Secret of the Gateway's namespace, with a hostname) or HTTP that admits routes from the Gateway's own namespace only (for the redirect).",
    tier: "B",
    remediation:
        'give each HTTPS listener a hostname and tls: { mode: Terminate, certificateRefs: [{ kind: Secret, name }] }; give the HTTP listener allowedRoutes: { namespaces: { from: "Same" } } and attach only the redirect route to it.',
    types: [GATEWAY],
    check: (r) => {
        const listeners = listenersOf(r.props);
        if (listeners === UNKNOWN) return;
        if (listeners.length === 0) r.report("the Gateway has no listeners");
        for (const { index, l } of listeners) {
            const where = `listener ${index} (${show(l.name)})`;
            const protocol = l.protocol;
            if (protocol === UNKNOWN) continue;
            if (protocol === "HTTP") {
                // Gateway API's default for allowedRoutes.namespaces.from is Same.
                const from = at(l, "allowedRoutes", "namespaces", "from");
                if (from !== UNKNOWN && from !== undefined && from !== "Same")
                    r.report(
                        `${where} is plain HTTP and admits routes from ${show(from)} namespaces: an application route without sectionName would be served over HTTP`,
                    );
                continue;
            }
            if (protocol !== "HTTPS") {
                r.report(`${where} is ${show(protocol)}; the edge serves HTTPS (and HTTP only to redirect)`);
                continue;
            }
            if (l.hostname === undefined || l.hostname === "")
                r.report(`${where} has no hostname: cert-manager issues no certificate for it`);
            const mode = at(l, "tls", "mode");
            if (mode !== UNKNOWN && mode !== "Terminate") r.report(`${where} tls.mode is ${show(mode)}, not Terminate`);
            const refs = list(at(l, "tls", "certificateRefs"));
            if (refs === UNKNOWN) continue;
            if (refs.length === 0) r.report(`${where} has no tls.certificateRefs`);
            for (const ref of refs) {
                const kind = at(ref, "kind");
                const ns = at(ref, "namespace");
                if (kind !== undefined && kind !== "Secret" && kind !== UNKNOWN)
                    r.report(`${where} certificate ref is a ${show(kind)}, not a Secret`);
                if (ns !== undefined && ns !== UNKNOWN && ns !== at(r.props, "metadata", "namespace"))
                    r.report(
                        `${where} certificate Secret is in namespace ${show(ns)}; cert-manager skips cross-namespace refs`,
                    );
            }
        }
    },
});

const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";

export const gatewayCertificatesFromClusterIssuer = resourceRule({
    name: "gateway-certificates-from-cluster-issuer",
    description:
        "A Gateway with HTTPS listeners names the ClusterIssuer of their certificates (cert-manager.io/cluster-issuer), so cert-manager issues and renews them.",
    tier: "B",
    remediation:
        'annotate the Gateway with "cert-manager.io/cluster-issuer: <issuer>" (and turn on cert-manager\'s Gateway API support).',
    types: [GATEWAY],
    check: (r) => {
        const listeners = listenersOf(r.props);
        if (listeners === UNKNOWN || !listeners.some(({ l }) => l.protocol === "HTTPS")) return;
        const annotations = at(r.props, "metadata", "annotations");
        if (annotations === UNKNOWN) return;
        const issuer = isRecord(annotations) ? annotations[CLUSTER_ISSUER_ANNOTATION] : undefined;
        if (issuer === UNKNOWN) return;
        if (typeof issuer !== "string" || issuer === "")
            r.report(`the Gateway has HTTPS listeners but no ${CLUSTER_ISSUER_ANNOTATION} annotation`);
    },
});

// ---- ExternalDNS -------------------------------------------------------------------------------------------

const EXTERNAL_DNS_POLICIES = ["sync", "upsert-only", "create-only"];

export const externalDnsValues = resourceRule({
    name: "external-dns-values",
    description:
        "ExternalDNS sets policy explicitly, a txtOwnerId (unique per cluster: with sync a shared id deletes the other cluster's records, external-dns#3229), the txt registry, and domain filters.",
    tier: "B",
    remediation:
        "set values.policy (sync, upsert-only or create-only), values.txtOwnerId (e.g. the cluster name), registry: txt and domainFilters: [<zone names>].",
    types: HELM_TYPES,
    check: (r) => {
        if (chartName(r.props.chart) !== "external-dns") return;
        const v = r.props.values;
        if (v === UNKNOWN) return;
        const values = isRecord(v) ? v : {};
        const policy = values.policy;
        if (policy !== UNKNOWN && !EXTERNAL_DNS_POLICIES.includes(policy as string))
            r.report(`policy is ${show(policy)}; set it explicitly to one of ${EXTERNAL_DNS_POLICIES.join(", ")}`);
        const owner = values.txtOwnerId;
        if (owner !== UNKNOWN && (typeof owner !== "string" || owner === "" || owner === "default"))
            r.report(`txtOwnerId is ${show(owner)}; it must be set and unique per cluster`);
        const registry = values.registry;
        if (registry !== UNKNOWN && registry !== "txt")
            r.report(
                `registry is ${show(registry)}; without the txt registry ExternalDNS cannot tell its records apart`,
            );
        const filters = list(values.domainFilters);
        if (filters !== UNKNOWN && filters.length === 0)
            r.report("domainFilters is empty: ExternalDNS would manage every zone its role can list");
    },
});

// ---- Stack rules -----------------------------------------------------------------------------------------------

function parentRefs(route: Rec): Rec[] {
    const refs = list(at(route, "spec", "parentRefs"));
    return refs === UNKNOWN ? [] : refs.filter(isRecord);
}

/** Whether every rule of the route is a redirect to https with no backend. */
function isHttpsRedirectOnly(route: Rec): boolean {
    const rules = list(at(route, "spec", "rules"));
    if (rules === UNKNOWN || rules.length === 0) return false;
    return rules.every((rule) => {
        const backends = list(at(rule, "backendRefs"));
        const filters = list(at(rule, "filters"));
        if (backends === UNKNOWN || filters === UNKNOWN) return false;
        return (
            backends.length === 0 &&
            filters.length > 0 &&
            filters.some((f) => at(f, "type") === "RequestRedirect" && at(f, "requestRedirect", "scheme") === "https")
        );
    });
}

export const gatewayHttpRedirectOnly = stackRule({
    name: "gateway-http-redirect-only",
    description:
        "Every HTTPRoute attached to a Gateway's HTTP listener only redirects to HTTPS, and each Gateway with an HTTP listener has such a redirect.",
    tier: "B",
    remediation:
        'attach application routes to the HTTPS listeners (parentRefs[].sectionName), and add an HTTPRoute on the HTTP listener with a RequestRedirect filter { scheme: "https", statusCode: 301 } and no backendRefs.',
    check: (s) => {
        const g = new StackGraph(s.resources);
        const routes = g.ofType(HTTPROUTE).map((rt) => ({ rt, p: g.props(rt) }));
        for (const gw of g.ofType(GATEWAY)) {
            const p = g.props(gw);
            const name = at(p, "metadata", "name");
            const ns = at(p, "metadata", "namespace");
            const listeners = listenersOf(p);
            if (listeners === UNKNOWN || name === UNKNOWN || ns === UNKNOWN) continue;
            for (const { l } of listeners.filter(({ l }) => l.protocol === "HTTP")) {
                const from = at(l, "allowedRoutes", "namespaces", "from");
                const sameOnly = from === undefined || from === "Same";
                const attached = routes.filter(({ p: rp }) => {
                    const routeNs = at(rp, "metadata", "namespace") ?? "default";
                    if (sameOnly && routeNs !== ns) return false;
                    return parentRefs(rp).some(
                        (ref) =>
                            ref.name === name &&
                            (ref.namespace ?? routeNs) === ns &&
                            (ref.sectionName === undefined || ref.sectionName === l.name),
                    );
                });
                for (const { rt, p: rp } of attached)
                    if (!isHttpsRedirectOnly(rp))
                        s.report(
                            `${label(rt)} is attached to the HTTP listener ${show(l.name)} of ${label(gw)} and does more than redirect to https`,
                            rt.urn,
                        );
                if (!attached.some(({ p: rp }) => isHttpsRedirectOnly(rp)))
                    s.report(
                        `${label(gw)} has an HTTP listener ${show(l.name)} with no HTTPRoute redirecting it to https`,
                        gw.urn,
                    );
            }
        }
    },
});

/** Which program resource installs the CRDs of an API group (chart name, values predicate). */
const CRD_OWNERS: readonly { group: RegExp; owns: (g: StackGraph, r: PolicyResource) => boolean; what: string }[] = [
    {
        group: /^gateway\.networking\.k8s\.io$/,
        what: "the Gateway API CRDs (gateway-crds-helm)",
        owns: (g, r) =>
            chartName(g.props(r).chart) === "gateway-crds-helm" &&
            at(g.props(r), "values", "crds", "gatewayAPI", "enabled") === true,
    },
    {
        group: /^gateway\.envoyproxy\.io$/,
        what: "Envoy Gateway's CRDs (gateway-crds-helm)",
        owns: (g, r) =>
            chartName(g.props(r).chart) === "gateway-crds-helm" &&
            at(g.props(r), "values", "crds", "envoyGateway", "enabled") === true,
    },
    {
        // karpenter-provider-aws charts/karpenter-crd at 1.14.1: NodePool, NodeClaim, NodeOverlay,
        // EC2NodeClass (and the CapacityBuffer of autoscaling.x-k8s.io), as templates.
        group: /^karpenter\.(sh|k8s\.aws)$/,
        what: "Karpenter's CRDs (karpenter-crd)",
        owns: (g, r) => chartName(g.props(r).chart) === "karpenter-crd",
    },
    {
        // Chart 2.9.0 renders its CRDs from templates/ unless installCRDs is false (values.yaml).
        group: /^(generators\.)?external-secrets\.io$/,
        what: "the External Secrets Operator's CRDs (its chart, installCRDs)",
        owns: (g, r) =>
            chartName(g.props(r).chart) === "external-secrets" && at(g.props(r), "values", "installCRDs") !== false,
    },
    {
        group: /^autoscaling\.k8s\.io$/,
        what: "the Vertical Pod Autoscaler's CRDs",
        owns: (g, r) => typeof g.props(r).file === "string" && /vpa-v1-crd/.test(g.props(r).file as string),
    },
    {
        group: /^elbv2\.k8s\.aws$/,
        what: "the AWS Load Balancer Controller's CRDs",
        owns: (g, r) =>
            typeof g.props(r).file === "string" && /aws-load-balancer-controller/.test(g.props(r).file as string),
    },
];
const INSTALLER_TYPES = [...HELM_TYPES, "kubernetes:yaml/v2:ConfigFile"];

/** The Karpenter controller needs its CRDs at start-up; its release skips the copy in its crds/. */
const needsKarpenterCrds = (props: Rec) => chartName(props.chart) === "karpenter";

/** Helm releases that need the Gateway API CRDs at start-up. */
function needsGatewayApiCrds(props: Rec): boolean {
    const chart = chartName(props.chart);
    if (chart === "cert-manager") return at(props, "values", "config", "gatewayAPI", "enabled") === true;
    if (chart === "external-dns") {
        const sources = list(at(props, "values", "sources"));
        return sources !== UNKNOWN && sources.some((x) => typeof x === "string" && x.startsWith("gateway-"));
    }
    return chart === "gateway-helm";
}

export const customResourceAfterCrd = stackRule({
    name: "k8s-custom-resource-after-crd",
    description:
        "Gateway API, Envoy Gateway, load balancer controller, Karpenter, External Secrets and VPA objects, and the releases that watch them at start-up (cert-manager's Gateway support, ExternalDNS's gateway sources, Envoy Gateway, Karpenter), wait for the resource that installs their CRDs.",
    tier: "B",
    remediation:
        "add the CRD installer (GatewayApiCrds, the controller's CRD ConfigFile, the karpenter-crd release) to the object's dependsOn.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const installers = g.ofType(...INSTALLER_TYPES);
        const check = (r: PolicyResource, group: string) => {
            for (const owner of CRD_OWNERS.filter((o) => o.group.test(group))) {
                const own = installers.filter((i) => owner.owns(g, i));
                if (own.length === 0) continue; // CRDs installed outside this program
                if (!own.some((i) => g.waitsForTransitively(r, i)))
                    s.report(`${label(r)} does not wait for ${owner.what} (${own.map(label).join(", ")})`, r.urn);
            }
        };
        for (const r of s.resources) {
            const m = /^kubernetes:([a-z0-9.-]+)\/v[0-9a-z]+:[A-Za-z]+$/.exec(r.type);
            if (m) check(r, m[1]);
        }
        for (const rel of g.ofType(...HELM_TYPES)) {
            if (needsGatewayApiCrds(g.props(rel))) check(rel, "gateway.networking.k8s.io");
            if (needsKarpenterCrds(g.props(rel))) check(rel, "karpenter.sh");
        }
    },
});

export const edgeRules = [
    iamRoute53ZoneScoped,
    iamPodIdentityTrust,
    gatewayListenersHttps,
    gatewayCertificatesFromClusterIssuer,
    externalDnsValues,
    gatewayHttpRedirectOnly,
    customResourceAfterCrd,
];
