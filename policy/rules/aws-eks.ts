/**
 * EKS control plane. Each rule reads both views of a cluster:
 * the `eks:index:Cluster` component with its ClusterOptions (what the mock engine records) and the
 * `aws:eks/cluster:Cluster` it creates (what a live preview sends).
 */
import type { PolicyResource } from "@pulumi/policy";
import { cidrWithin, isAnywhere } from "../lib/cidr";
import { StackGraph, label } from "../lib/graph";
import { resourceRule, stackRule } from "../lib/rule";
import { UNKNOWN, at, jsonDoc, show, stringList } from "../lib/values";

export const EKS_COMPONENT = "eks:index:Cluster";
export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
const CLUSTER_TYPES = [EKS_COMPONENT, EKS_CLUSTER];

/** The log types every stack sends (who called the API, as whom), and the full set prod sends. */
export const REQUIRED_LOG_TYPES = ["api", "audit", "authenticator"] as const;
export const ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

function missingLogTypes(types: readonly string[], logTypes: unknown, report: (m: string) => void): void {
    const enabled = stringList(logTypes);
    if (enabled === UNKNOWN) return;
    const missing = types.filter((t) => !(enabled ?? []).includes(t));
    if (missing.length > 0) {
        report(
            `control-plane log types ${missing.join(", ")} are not enabled (enabledClusterLogTypes = ${show(logTypes)})`,
        );
    }
}

export const eksControlPlaneAuditLogging = resourceRule({
    name: "eks-control-plane-audit-logging",
    description: "EKS control-plane logging sends at least the api, audit and authenticator logs to CloudWatch.",
    tier: "B",
    remediation: 'set enabledClusterLogTypes to include "api", "audit" and "authenticator".',
    types: CLUSTER_TYPES,
    check: (r) => missingLogTypes(REQUIRED_LOG_TYPES, r.props.enabledClusterLogTypes, r.report),
});

export const eksControlPlaneAllLogTypes = resourceRule({
    name: "eks-control-plane-all-log-types",
    description: "EKS sends all five control-plane log types (prod).",
    tier: "P",
    remediation: "set enabledClusterLogTypes to api, audit, authenticator, controllerManager and scheduler.",
    types: CLUSTER_TYPES,
    check: (r) => missingLogTypes(ALL_LOG_TYPES, r.props.enabledClusterLogTypes, r.report),
});

export const eksSecretsEncryption = resourceRule({
    name: "eks-secrets-encryption",
    description: "Kubernetes Secrets are envelope-encrypted with a KMS key.",
    tier: "B",
    remediation: "pass a customer-managed KMS key (rotation on) as encryptionConfigKeyArn.",
    types: CLUSTER_TYPES,
    check: (r) => {
        if (r.type === EKS_COMPONENT) {
            const arn = r.props.encryptionConfigKeyArn;
            if (arn === undefined || arn === "")
                r.report("encryptionConfigKeyArn is not set, so Secrets are not KMS-encrypted");
            return;
        }
        const config = r.props.encryptionConfig;
        if (config === UNKNOWN) return;
        const resources = stringList(at(config, "resources"));
        const keyArn = at(config, "provider", "keyArn");
        if (config === undefined || (resources !== UNKNOWN && !(resources ?? []).includes("secrets"))) {
            r.report(`encryptionConfig does not cover "secrets" (encryptionConfig = ${show(config)})`);
        } else if (keyArn === undefined || keyArn === "") {
            r.report("encryptionConfig has no provider.keyArn");
        }
    },
});

export const eksAuthenticationModeApi = resourceRule({
    name: "eks-authentication-mode-api",
    description: "Cluster access is managed with access entries (authenticationMode API), not the aws-auth ConfigMap.",
    tier: "B",
    remediation: 'set authenticationMode: "API" (eks.AuthenticationMode.Api) and grant access with accessEntries.',
    types: CLUSTER_TYPES,
    check: (r) => {
        const mode =
            r.type === EKS_COMPONENT ? r.props.authenticationMode : at(r.props, "accessConfig", "authenticationMode");
        if (mode === UNKNOWN) return;
        if (mode !== "API")
            r.report(`authenticationMode is ${mode === undefined ? "not set (CONFIG_MAP)" : show(mode)}`);
    },
});

export const eksEndpointRestricted = resourceRule({
    name: "eks-endpoint-restricted",
    description:
        "The API endpoint is private, or public only for listed CIDRs (never 0.0.0.0/0; inside allowedEndpointCidrs when configured).",
    tier: "P",
    remediation:
        "set endpointPublicAccess: false (with endpointPrivateAccess: true), or list the operators' CIDRs in publicAccessCidrs.",
    types: CLUSTER_TYPES,
    knobs: ["allowedEndpointCidrs"],
    check: (r) => {
        const vpc = r.type === EKS_COMPONENT ? r.props : at(r.props, "vpcConfig");
        const publicAccess = at(vpc, "endpointPublicAccess");
        if (publicAccess === UNKNOWN || vpc === UNKNOWN) return;
        if (publicAccess === false) return; // both eks and AWS default to a public endpoint
        const cidrs = stringList(at(vpc, "publicAccessCidrs"));
        if (cidrs === UNKNOWN) return;
        if (cidrs === undefined || cidrs.length === 0) {
            r.report("the public endpoint is on and publicAccessCidrs is empty, which AWS treats as 0.0.0.0/0");
            return;
        }
        for (const cidr of cidrs) {
            if (isAnywhere(cidr)) {
                r.report(`the public endpoint is open to ${cidr}`);
            } else if (
                r.knobs.allowedEndpointCidrs.length > 0 &&
                !r.knobs.allowedEndpointCidrs.some((allowed) => cidrWithin(cidr, allowed))
            ) {
                r.report(
                    `publicAccessCidrs entry ${cidr} is outside allowedEndpointCidrs (${r.knobs.allowedEndpointCidrs.join(", ")})`,
                );
            }
        }
    },
});

export const eksDeletionProtection = resourceRule({
    name: "eks-deletion-protection",
    description: "The cluster has deletion protection on.",
    tier: "P",
    remediation: "set deletionProtection: true.",
    types: CLUSTER_TYPES,
    check: (r) => {
        const v = r.props.deletionProtection;
        if (v !== UNKNOWN && v !== true) r.report(`deletionProtection is ${show(v)}`);
    },
});

export const eksUpgradePolicyExplicit = resourceRule({
    name: "eks-upgrade-policy-explicit",
    description: "The support policy is chosen explicitly (EKS defaults to EXTENDED, a paid tier).",
    tier: "B",
    remediation: 'set upgradePolicy: { supportType: "STANDARD" } (or "EXTENDED" on purpose).',
    types: CLUSTER_TYPES,
    check: (r) => {
        const v = at(r.props, "upgradePolicy", "supportType");
        if (v !== UNKNOWN && v !== "STANDARD" && v !== "EXTENDED") r.report(`upgradePolicy.supportType is ${show(v)}`);
    },
});

export const eksVpcCniNetworkPolicy = resourceRule({
    name: "eks-vpc-cni-network-policy",
    description: "The VPC CNI runs its network policy agent, so NetworkPolicies are enforced.",
    tier: "B",
    remediation:
        'set vpcCniOptions: { enableNetworkPolicy: true } on the cluster (vpc-cni add-on configurationValues {"enableNetworkPolicy": "true"}).',
    types: [EKS_COMPONENT, "eks:index:VpcCniAddon", "aws:eks/addon:Addon"],
    check: (r) => {
        if (r.type === EKS_COMPONENT) {
            if (r.props.useDefaultVpcCni === true) {
                r.report(
                    "useDefaultVpcCni is true, so the vpc-cni add-on (and its network policy agent) is not configured",
                );
                return;
            }
            const v = at(r.props, "vpcCniOptions", "enableNetworkPolicy");
            if (v !== UNKNOWN && v !== true) r.report(`vpcCniOptions.enableNetworkPolicy is ${show(v)}`);
            return;
        }
        if (r.type === "eks:index:VpcCniAddon") {
            const v = r.props.enableNetworkPolicy;
            if (v !== UNKNOWN && v !== true) r.report(`enableNetworkPolicy is ${show(v)}`);
            return;
        }
        if (r.props.addonName !== "vpc-cni") return;
        const doc = jsonDoc(r.props.configurationValues);
        if (doc === UNKNOWN) return;
        if (doc === undefined) return r.report("the vpc-cni add-on has no configurationValues");
        if (!doc.ok) return r.report(`configurationValues is not JSON: ${doc.error}`);
        const v = at(doc.value, "enableNetworkPolicy");
        if (v !== "true")
            r.report(
                `configurationValues.enableNetworkPolicy is ${show(v)} (the add-on schema wants the string "true")`,
            );
    },
});

interface ClusterRef {
    readonly r: PolicyResource;
    /** The cluster's physical name, `undefined` if the program left it to autonaming. */
    readonly name: unknown;
    /** The `eks:index:Cluster` that owns it (itself in the mock view), if any. */
    readonly component?: PolicyResource;
}

/** Every cluster once: each `aws:eks/cluster:Cluster`, plus each component whose child is not visible (mocks). */
export function clustersOf(g: StackGraph): ClusterRef[] {
    const live = g.ofType(EKS_CLUSTER);
    const out: ClusterRef[] = live.map((r) => ({
        r,
        name: g.props(r).name,
        component: g.selfAndAncestors(r).find((a) => a.type === EKS_COMPONENT),
    }));
    for (const c of g.ofType(EKS_COMPONENT)) {
        if (!live.some((l) => g.isDescendantOf(l, c))) out.push({ r: c, name: g.props(c).name, component: c });
    }
    return out;
}

export const controlPlaneLogGroupName = (cluster: string) => `/aws/eks/${cluster}/cluster`;

export const eksControlPlaneLogGroup = stackRule({
    name: "eks-control-plane-log-group",
    description:
        "Every cluster has a pre-created /aws/eks/<name>/cluster log group it depends on (EKS would create one that never expires).",
    tier: "B",
    remediation:
        "give the cluster an explicit name, create aws.cloudwatch.LogGroup /aws/eks/<name>/cluster with a retention, and pass it in the cluster's dependsOn.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const groups = g.ofType("aws:cloudwatch/logGroup:LogGroup");
        for (const c of clustersOf(g)) {
            if (c.name === UNKNOWN) continue;
            if (typeof c.name !== "string" || c.name === "") {
                s.report(
                    `${label(c.r)} has no explicit name, so its control-plane log group name is not known`,
                    c.r.urn,
                );
                continue;
            }
            const wanted = controlPlaneLogGroupName(c.name);
            const group = groups.find((lg) => g.props(lg).name === wanted);
            if (!group) {
                s.report(`no log group ${wanted} is created for cluster ${c.name}`, c.r.urn);
            } else if (g.hasVisibleDependencies(c.r) && !g.waitsFor(c.r, group)) {
                s.report(
                    `cluster ${c.name} does not depend on its log group ${wanted}, so EKS may create it first`,
                    c.r.urn,
                );
            }
        }
    },
});

const EKS_ISSUER = /oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

export const eksWorkloadIdentity = stackRule({
    name: "eks-workload-identity",
    description: "Every cluster offers workload identity: an IAM OIDC provider (IRSA) or the Pod Identity agent.",
    tier: "B",
    remediation: "set createOidcProvider: true on the cluster, or install the eks-pod-identity-agent add-on.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const oidcProviders = g.ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        const agents = g.ofType("aws:eks/addon:Addon").filter((a) => g.props(a).addonName === "eks-pod-identity-agent");
        for (const c of clustersOf(g)) {
            const create = c.component ? g.props(c.component).createOidcProvider : undefined;
            if (create === true || create === UNKNOWN) continue;
            const ownProvider =
                c.component && oidcProviders.some((p) => g.isDescendantOf(p, c.component as PolicyResource));
            const standaloneProvider = oidcProviders.some((p) => {
                const url = g.props(p).url;
                return url === UNKNOWN || (typeof url === "string" && EKS_ISSUER.test(`${url}/`));
            });
            const agent = agents.some((a) => {
                const name = g.props(a).clusterName;
                return name === UNKNOWN || c.name === UNKNOWN || name === c.name;
            });
            if (!ownProvider && !standaloneProvider && !agent) {
                s.report(`${label(c.r)} has neither an IAM OIDC provider nor the Pod Identity agent`, c.r.urn);
            }
        }
    },
});

export const eksRules = [
    eksControlPlaneAuditLogging,
    eksControlPlaneAllLogTypes,
    eksSecretsEncryption,
    eksAuthenticationModeApi,
    eksEndpointRestricted,
    eksDeletionProtection,
    eksUpgradePolicyExplicit,
    eksVpcCniNetworkPolicy,
    eksControlPlaneLogGroup,
    eksWorkloadIdentity,
];
