/**
 * Helm releases and cert-manager: charts pinned to an exact version (never "latest"), cert-manager
 * values the chart accepts, highly available in prod, issuers created after the release. The values
 * checks share the allow-list in policy/schema/cert-manager-values.ts with the offline synth.
 */
import { StackGraph, label } from "../lib/graph";
import { resourceRule, stackRule } from "../lib/rule";
import { Rec, UNKNOWN, at, isRecord, show } from "../lib/values";
import { checkCertManagerValues } from "../schema/cert-manager-values";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const CHART_V4 = "kubernetes:helm.sh/v4:Chart";
const HELM_TYPES = [RELEASE, CHART_V4];

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** The chart's name: the last path segment of `oci://.../cert-manager`, `jetstack/cert-manager`, `cert-manager`. */
export function chartName(chart: unknown): string | undefined {
    return typeof chart === "string" ? chart.replace(/\/+$/, "").split("/").pop() : undefined;
}

export function isCertManager(props: Rec): boolean {
    return chartName(props.chart) === "cert-manager";
}

export const helmReleasePinned = resourceRule({
    name: "helm-release-pinned",
    description: "Helm charts come from a named repository (or OCI registry) at an exact version.",
    tier: "B",
    remediation:
        'set version to an exact chart version (e.g. "v1.21.1") and repositoryOpts.repo (or an oci:// chart reference).',
    types: HELM_TYPES,
    check: (r) => {
        const chart = r.props.chart;
        if (chart === UNKNOWN) return;
        if (typeof chart === "string" && (chart.startsWith("./") || chart.startsWith("/") || chart.startsWith("../")))
            return; // a local chart is versioned with the code
        const repo = at(r.props, "repositoryOpts", "repo");
        if (!(typeof chart === "string" && chart.startsWith("oci://")) && repo === undefined) {
            r.report(
                `chart ${show(chart)} has no repositoryOpts.repo, so it resolves against whatever repositories the runner has`,
            );
        }
        const version = r.props.version;
        if (version === UNKNOWN) return;
        if (typeof version !== "string" || !EXACT_VERSION.test(version))
            r.report(`version is ${show(version)}, not an exact version`);
    },
});

export const certManagerValues = resourceRule({
    name: "cert-manager-values",
    description:
        "cert-manager values use only keys the chart knows, with the right types, and install CRDs via crds.enabled (not installCRDs).",
    tier: "B",
    remediation:
        "fix the listed keys against the chart's values.yaml; set crds: { enabled: true } and drop installCRDs.",
    types: HELM_TYPES,
    check: (r) => {
        if (!isCertManager(r.props) || r.props.values === UNKNOWN) return;
        for (const issue of checkCertManagerValues(r.props.values ?? {})) r.report(issue.message);
    },
});

const COMPONENTS: readonly { readonly path: readonly string[]; readonly what: string }[] = [
    { path: [], what: "controller" },
    { path: ["webhook"], what: "webhook" },
    { path: ["cainjector"], what: "cainjector" },
];

export const certManagerHighAvailability = resourceRule({
    name: "cert-manager-high-availability",
    description:
        "cert-manager's controller, webhook and cainjector run 2+ replicas with PDBs and resource requests (prod).",
    tier: "P",
    remediation:
        "set replicaCount >= 2, podDisruptionBudget.enabled: true and resources.requests for the controller, webhook.* and cainjector.*.",
    types: HELM_TYPES,
    check: (r) => {
        if (!isCertManager(r.props)) return;
        const values = r.props.values;
        if (values === UNKNOWN) return;
        for (const c of COMPONENTS) {
            const section = c.path.length === 0 ? values : at(values, ...c.path);
            if (section === UNKNOWN) continue;
            const prefix = c.path.length === 0 ? "" : `${c.path.join(".")}.`;
            const replicas = at(section, "replicaCount");
            if (replicas !== UNKNOWN && !(typeof replicas === "number" && replicas >= 2)) {
                r.report(`${c.what}: ${prefix}replicaCount is ${show(replicas)} (chart default 1)`);
            }
            const pdb = at(section, "podDisruptionBudget", "enabled");
            if (pdb !== UNKNOWN && pdb !== true)
                r.report(`${c.what}: ${prefix}podDisruptionBudget.enabled is ${show(pdb)}`);
            const requests = at(section, "resources", "requests");
            if (requests !== UNKNOWN && !(isRecord(requests) && Object.keys(requests).length > 0)) {
                r.report(`${c.what}: ${prefix}resources.requests is ${show(requests)}`);
            }
        }
    },
});

const ISSUER_TYPES = ["kubernetes:cert-manager.io/v1:ClusterIssuer", "kubernetes:cert-manager.io/v1:Issuer"];

export const certManagerIssuerAfterRelease = stackRule({
    name: "cert-manager-issuer-after-release",
    description:
        "ClusterIssuers and Issuers wait for the cert-manager release (its webhook), or the first up races it.",
    tier: "B",
    remediation: "create the issuers with { dependsOn: [certManagerRelease] }.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const releases = g.ofType(...HELM_TYPES).filter((r) => isCertManager(g.props(r)));
        if (releases.length === 0) return; // cert-manager installed outside this program
        for (const issuer of g.ofType(...ISSUER_TYPES)) {
            if (!releases.some((rel) => g.waitsFor(issuer, rel))) {
                s.report(`${label(issuer)} does not depend on the cert-manager release`, issuer.urn);
            }
        }
    },
});

export const helmRules = [
    helmReleasePinned,
    certManagerValues,
    certManagerHighAvailability,
    certManagerIssuerAfterRelease,
];
