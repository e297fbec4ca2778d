/**
 * An offline check of our values for the cert-manager Helm chart. The chart's own
 * values.schema.json only exists inside the downloaded chart, so this is a typed allow-list of the
 * keys in the chart's values.yaml (cert-manager v1.21, deploy/charts/cert-manager/values.yaml):
 * a misspelt key (`webhook.replicas`) or a wrong type (`replicaCount: "2"`) is caught before a
 * preview, and the deprecated `installCRDs` is rejected in favour of `crds.enabled`.
 *
 * `"map"` is a free-form object (labels, annotations, resources, securityContext, affinity...),
 * `"any"` a value the chart passes through untyped. Nested sections are checked key by key.
 */

export type ValueType = "boolean" | "integer" | "string" | "int-or-string" | "array" | "map" | "any";
export interface ValuesSpec {
    readonly [key: string]: ValueType | ValuesSpec;
}

const image: ValuesSpec = {
    registry: "string",
    repository: "string",
    tag: "string",
    digest: "string",
    pullPolicy: "string",
};
const serviceAccount: ValuesSpec = {
    create: "boolean",
    name: "string",
    annotations: "map",
    labels: "map",
    automountServiceAccountToken: "boolean",
};
const pdb: ValuesSpec = { enabled: "boolean", minAvailable: "int-or-string", maxUnavailable: "int-or-string" };
const probe: ValuesSpec = {
    enabled: "boolean",
    initialDelaySeconds: "integer",
    periodSeconds: "integer",
    timeoutSeconds: "integer",
    successThreshold: "integer",
    failureThreshold: "integer",
};
const monitor: ValuesSpec = {
    enabled: "boolean",
    namespace: "string",
    prometheusInstance: "string",
    targetPort: "int-or-string",
    path: "string",
    interval: "string",
    scrapeTimeout: "string",
    labels: "map",
    annotations: "map",
    honorLabels: "boolean",
    endpointAdditionalProperties: "map",
};

/** Keys every cert-manager component (controller, webhook, cainjector) takes. */
const component: ValuesSpec = {
    replicaCount: "integer",
    config: "map",
    strategy: "map",
    securityContext: "map",
    containerSecurityContext: "map",
    podDisruptionBudget: pdb,
    deploymentAnnotations: "map",
    podAnnotations: "map",
    podLabels: "map",
    serviceAnnotations: "map",
    serviceLabels: "map",
    extraArgs: "array",
    extraEnv: "array",
    featureGates: "string",
    resources: "map",
    nodeSelector: "map",
    affinity: "map",
    tolerations: "array",
    topologySpreadConstraints: "array",
    image,
    serviceAccount,
    automountServiceAccountToken: "boolean",
    volumes: "array",
    volumeMounts: "array",
    enableServiceLinks: "boolean",
};

export const CERT_MANAGER_VALUES_SPEC: ValuesSpec = {
    ...component,
    global: {
        imagePullSecrets: "array",
        commonLabels: "map",
        revisionHistoryLimit: "integer",
        priorityClassName: "string",
        rbac: { create: "boolean", aggregateClusterRoles: "boolean" },
        podSecurityPolicy: { enabled: "boolean", useAppArmor: "boolean" },
        logLevel: "integer",
        logFormat: "string",
        leaderElection: {
            namespace: "string",
            leaseDuration: "string",
            renewDeadline: "string",
            retryPeriod: "string",
        },
    },
    installCRDs: "boolean",
    crds: { enabled: "boolean", keep: "boolean" },
    maxConcurrentChallenges: "integer",
    clusterResourceNamespace: "string",
    namespace: "string",
    fullnameOverride: "string",
    nameOverride: "string",
    enableCertificateOwnerRef: "boolean",
    dns01RecursiveNameservers: "string",
    dns01RecursiveNameserversOnly: "boolean",
    disableAutoApproval: "boolean",
    approveSignerNames: "array",
    serviceIPFamilyPolicy: "string",
    serviceIPFamilies: "array",
    podDnsPolicy: "string",
    podDnsConfig: "map",
    hostAliases: "array",
    ingressShim: { defaultIssuerName: "string", defaultIssuerKind: "string", defaultIssuerGroup: "string" },
    http_proxy: "string",
    https_proxy: "string",
    no_proxy: "string",
    livenessProbe: probe,
    prometheus: { enabled: "boolean", servicemonitor: monitor, podmonitor: monitor },
    webhook: {
        ...component,
        timeoutSeconds: "integer",
        mutatingWebhookConfigurationAnnotations: "map",
        validatingWebhookConfigurationAnnotations: "map",
        validatingWebhookConfiguration: { namespaceSelector: "map" },
        mutatingWebhookConfiguration: { namespaceSelector: "map" },
        livenessProbe: probe,
        readinessProbe: probe,
        serviceIPFamilyPolicy: "string",
        serviceIPFamilies: "array",
        securePort: "integer",
        hostNetwork: "boolean",
        serviceType: "string",
        loadBalancerIP: "string",
        url: "map",
        networkPolicy: { enabled: "boolean", ingress: "array", egress: "array" },
    },
    cainjector: { ...component, enabled: "boolean" },
    acmesolver: { image },
    startupapicheck: {
        enabled: "boolean",
        securityContext: "map",
        containerSecurityContext: "map",
        timeout: "string",
        backoffLimit: "integer",
        jobAnnotations: "map",
        podAnnotations: "map",
        extraArgs: "array",
        extraEnv: "array",
        resources: "map",
        nodeSelector: "map",
        affinity: "map",
        tolerations: "array",
        podLabels: "map",
        image,
        rbac: { annotations: "map" },
        automountServiceAccountToken: "boolean",
        serviceAccount,
        volumes: "array",
        volumeMounts: "array",
        enableServiceLinks: "boolean",
    },
    extraObjects: "array",
    creator: "string",
    enabled: "boolean",
};

export interface ValuesIssue {
    /** Dotted path of the value, e.g. `webhook.replicas`. */
    readonly path: string;
    readonly message: string;
}

function typeOk(type: ValueType, v: unknown): boolean {
    switch (type) {
        case "boolean":
            return typeof v === "boolean";
        case "integer":
            return Number.isInteger(v);
        case "string":
            return typeof v === "string";
        case "int-or-string":
            return Number.isInteger(v) || typeof v === "string";
        case "array":
            return Array.isArray(v);
        case "map":
            return typeof v === "object" && v !== null && !Array.isArray(v);
        case "any":
            return true;
    }
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks Helm values against a spec: unknown keys (at every level the spec describes) and wrong
 * types. Values that are not plain data (e.g. an unknown marker during a preview) are skipped.
 */
export function checkValues(values: unknown, spec: ValuesSpec, prefix = ""): ValuesIssue[] {
    if (!isPlainRecord(values))
        return prefix === "" && values !== undefined ? [{ path: "", message: "values is not an object" }] : [];
    const issues: ValuesIssue[] = [];
    for (const [key, v] of Object.entries(values)) {
        const path = prefix === "" ? key : `${prefix}.${key}`;
        const expected = spec[key];
        if (expected === undefined) {
            issues.push({ path, message: `unknown key ${path}` });
        } else if (typeof v === "symbol" || v === undefined || v === null) {
            continue;
        } else if (typeof expected === "string") {
            if (!typeOk(expected, v))
                issues.push({ path, message: `${path} should be ${expected}, got ${JSON.stringify(v)}` });
        } else if (!isPlainRecord(v)) {
            issues.push({ path, message: `${path} should be an object, got ${JSON.stringify(v)}` });
        } else {
            issues.push(...checkValues(v, expected, path));
        }
    }
    return issues;
}

/**
 * Our cert-manager values: the allow-list above, plus two rules of this platform: the chart installs
 * and upgrades its CRDs (`crds.enabled: true`), and never through the deprecated `installCRDs`.
 */
export function checkCertManagerValues(values: unknown): ValuesIssue[] {
    const issues = checkValues(values, CERT_MANAGER_VALUES_SPEC);
    const v = isPlainRecord(values) ? values : {};
    if (v.installCRDs !== undefined) {
        issues.push({
            path: "installCRDs",
            message: "installCRDs is deprecated; use crds.enabled: true (crds.keep stays true)",
        });
    }
    const crds = isPlainRecord(v.crds) ? v.crds.enabled : undefined;
    if (crds !== true && typeof crds !== "symbol") {
        issues.push({
            path: "crds.enabled",
            message: `crds.enabled is ${JSON.stringify(crds) ?? "not set"}; the CRDs must be installed with the chart`,
        });
    }
    issues.push(...checkControllerConfig(v.config));
    return issues;
}

/**
 * `config` (the controller's ControllerConfiguration) is free-form in the chart, but its Gateway API
 * part is checked: 1.21 reads `gatewayAPI.enabled` (pkg/apis/config/controller/v1alpha1/types.go),
 * deprecates `enableGatewayAPI`, and silently ignores a misspelling such as `gatewayAPI.enable`,
 * which the chart's own values.yaml comment shows: Gateway certificates would then never be issued.
 */
const GATEWAY_API_CONFIG: ValuesSpec = { enabled: "boolean", enableListenerSet: "boolean", extraProtocols: "array" };

function checkControllerConfig(config: unknown): ValuesIssue[] {
    if (!isPlainRecord(config)) return [];
    const issues = checkValues(config.gatewayAPI, GATEWAY_API_CONFIG, "config.gatewayAPI");
    for (const deprecated of ["enableGatewayAPI", "enableGatewayAPIListenerSet"]) {
        if (config[deprecated] !== undefined)
            issues.push({
                path: `config.${deprecated}`,
                message: `config.${deprecated} is deprecated in cert-manager 1.21; use config.gatewayAPI.${deprecated === "enableGatewayAPI" ? "enabled" : "enableListenerSet"}`,
            });
    }
    return issues;
}
