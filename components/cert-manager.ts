import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartPin, HelmAddon, PodIdentityContext, helmAddon } from "./addons/helm-addon";
import { hostedZoneArn } from "./addons/route53";
import { PolicyDocument } from "./iam";

/** Chart, repository and version, pinned in one place (supports Kubernetes 1.33-1.36). */
export const CERT_MANAGER_CHART = {
    // renovate: datasource=helm depName=cert-manager registryUrl=https://charts.jetstack.io
    chart: "cert-manager",
    repository: "https://charts.jetstack.io",
    // renovate: datasource=helm depName=cert-manager registryUrl=https://charts.jetstack.io
    version: "v1.21.0",
} as const satisfies ChartPin;

/** Namespace, release and service account names; the Pod Identity association names the account. */
export const CERT_MANAGER_NAMES = {
    namespace: "cert-manager",
    release: "cert-manager",
    serviceAccount: "cert-manager",
} as const;

export const ACME_SERVERS = {
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
    production: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

export type AcmeEnvironment = keyof typeof ACME_SERVERS;

/** A Route53 zone DNS01 answers challenges in. `name` is required when there is more than one. */
export interface Dns01Zone {
    readonly id: string;
    /** The zone's domain; selects this zone's solver for names under it. */
    readonly name?: string;
}

export interface Dns01Args {
    /**
     * Region hint for cert-manager's Route53 client. Under Pod Identity the agent's AWS_REGION
     * takes precedence (pkg/issuer/acme/dns/route53/route53.go, v1.21: "Ignoring Issuer region").
     */
    readonly region: string;
    readonly zones: readonly Dns01Zone[];
    /** Pod Identity for cert-manager's controller (Route53 ambient credentials). */
    readonly identity: PodIdentityContext;
    /** AWS partition of the zone ARNs. @default "aws" */
    readonly partition?: pulumi.Input<string>;
}

export interface CertManagerArgs {
    /** Replicas of controller, webhook and cainjector; 2 or more also turns their PDBs on. */
    readonly replicas: number;
    /** ACME account email (Let's Encrypt expiry notices). */
    readonly acmeEmail: string;
    /**
     * DNS01 through Route53: the Let's Encrypt ClusterIssuers and cert-manager's Pod Identity role.
     * HTTP01 is not offered: the edge redirects every HTTP request to HTTPS.
     * @default none: no ClusterIssuers (no challenge could be answered)
     */
    readonly dns01?: Dns01Args;
    /**
     * Turns on cert-manager's Gateway API support (certificates for annotated Gateways) and makes the
     * release wait for these CRDs: the controller fails to start while they are missing.
     * @default none: Gateway API support off
     */
    readonly gatewayApiCrds?: pulumi.Resource;
    /** What must exist before the release waits for its pods (node capacity). @default [] */
    readonly dependsOn?: readonly pulumi.Resource[];
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/** Helm values for the chart; pure, so the per-stack differences are tested without an engine. */
export function certManagerValues(replicas: number, opts: { gatewayApi: boolean }): Record<string, unknown> {
    const ha = replicas >= 2;
    const resources = (cpu: string, memory: string) => ({ requests: { cpu, memory }, limits: { memory } });
    const pdb = { enabled: ha, maxUnavailable: 1 };
    return {
        crds: { enabled: true, keep: true },
        replicaCount: replicas,
        podDisruptionBudget: pdb,
        resources: resources("50m", "192Mi"),
        serviceAccount: { create: true, name: CERT_MANAGER_NAMES.serviceAccount },
        // cert-manager's own leader election stays in its namespace rather than kube-system.
        global: { leaderElection: { namespace: CERT_MANAGER_NAMES.namespace } },
        // 1.21 reads `gatewayAPI.enabled`; `enableGatewayAPI` is deprecated there (and the chart's
        // values.yaml comment spells it `enable`, which the controller ignores).
        ...(opts.gatewayApi
            ? {
                  config: {
                      apiVersion: "controller.config.cert-manager.io/v1alpha1",
                      kind: "ControllerConfiguration",
                      gatewayAPI: { enabled: true },
                  },
              }
            : {}),
        webhook: { replicaCount: replicas, podDisruptionBudget: pdb, resources: resources("20m", "64Mi") },
        cainjector: { replicaCount: replicas, podDisruptionBudget: pdb, resources: resources("20m", "192Mi") },
        startupapicheck: { resources: resources("10m", "64Mi") },
        prometheus: { enabled: true, servicemonitor: { enabled: false } },
    };
}

/** Least privilege for DNS01 in the given zones: TXT records under `_acme-challenge.` and nothing else. */
export function route53Dns01Policy(zoneIds: readonly string[], partition = "aws"): PolicyDocument {
    const zones = zoneIds.map((id) => hostedZoneArn(id, partition));
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ReadChangeStatus",
                Effect: "Allow",
                Action: "route53:GetChange",
                Resource: `arn:${partition}:route53:::change/*`,
            },
            { Sid: "ListZoneRecords", Effect: "Allow", Action: "route53:ListResourceRecordSets", Resource: zones },
            {
                Sid: "ChangeAcmeChallengeRecords",
                Effect: "Allow",
                Action: "route53:ChangeResourceRecordSets",
                Resource: zones,
                Condition: {
                    "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"] },
                    "ForAllValues:StringLike": {
                        "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["_acme-challenge.*"],
                    },
                },
            },
        ],
    };
}

/** One DNS01 solver per zone; with a zone name the solver only answers for names under it. */
export function dns01Solvers(region: string, zones: readonly Dns01Zone[]): Record<string, unknown>[] {
    if (zones.length === 0) throw new Error("dns01.zones must list at least one hosted zone");
    const unnamed = zones.filter((z) => !z.name);
    if (zones.length > 1 && unnamed.length > 0)
        throw new Error(
            `dns01.zones: with ${zones.length} zones every zone needs a name, to pick its solver; zone ${unnamed[0].id} has none`,
        );
    return zones.map((z) => ({
        ...(z.name ? { selector: { dnsZones: [z.name] } } : {}),
        dns01: { route53: { region, hostedZoneID: z.id } },
    }));
}

/** The ClusterIssuer spec for one ACME server. */
export function clusterIssuerSpec(server: string, email: string, accountKeySecret: string, solvers: unknown[]) {
    return { acme: { server, email, privateKeySecretRef: { name: accountKeySecret }, solvers } };
}

/** A ClusterIssuer this program creates: its name (for annotations) and the resource (to wait for). */
export interface ClusterIssuerRef {
    readonly name: string;
    readonly resource: k8s.apiextensions.CustomResource;
}

/**
 * cert-manager from its Helm chart, with CRDs, and Let's Encrypt staging and production
 * ClusterIssuers that answer DNS01 challenges in Route53 under EKS Pod Identity. The issuers wait
 * for the release (whose await covers the webhook), so the first `up` does not race the webhook
 * (pulumi-kubernetes #3176, #1917). Needs the Kubernetes provider in `opts.providers`.
 */
export class CertManager extends pulumi.ComponentResource {
    readonly addon: HelmAddon;
    readonly release: k8s.helm.v3.Release;
    /** Both ClusterIssuers; absent without `dns01`. */
    readonly issuers?: Readonly<Record<AcmeEnvironment, ClusterIssuerRef>>;
    readonly issuerNames?: Readonly<Record<AcmeEnvironment, string>>;

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:certmanager:CertManager", name, {}, opts);
        const names = CERT_MANAGER_NAMES;
        const dns01 = args.dns01;
        const solvers = dns01 ? dns01Solvers(dns01.region, dns01.zones) : undefined;

        this.addon = helmAddon(this, name, {
            namespace: names.namespace,
            releaseName: names.release,
            chart: CERT_MANAGER_CHART,
            values: certManagerValues(args.replicas, { gatewayApi: args.gatewayApiCrds !== undefined }),
            identity: dns01 && {
                ...dns01.identity,
                serviceAccount: names.serviceAccount,
                policy: pulumi.output(dns01.partition ?? "aws").apply((p) =>
                    route53Dns01Policy(
                        dns01.zones.map((z) => z.id),
                        p,
                    ),
                ),
                description: "cert-manager DNS01: _acme-challenge TXT records",
            },
            dependsOn: [...(args.gatewayApiCrds ? [args.gatewayApiCrds] : []), ...(args.dependsOn ?? [])],
            tags: args.tags,
        });
        this.release = this.addon.release;

        if (solvers) {
            const issuer = (env: AcmeEnvironment): ClusterIssuerRef => {
                const issuerName = `letsencrypt-${env}`;
                const resource = new k8s.apiextensions.CustomResource(
                    `${name}-issuer-${env}`,
                    {
                        apiVersion: "cert-manager.io/v1",
                        kind: "ClusterIssuer",
                        metadata: { name: issuerName },
                        spec: clusterIssuerSpec(
                            ACME_SERVERS[env],
                            args.acmeEmail,
                            `${issuerName}-account-key`,
                            solvers,
                        ),
                    },
                    { parent: this, dependsOn: [this.release] },
                );
                return { name: issuerName, resource };
            };
            this.issuers = { staging: issuer("staging"), production: issuer("production") };
            this.issuerNames = { staging: this.issuers.staging.name, production: this.issuers.production.name };
        }

        this.registerOutputs({ releaseName: this.release.name, issuers: this.issuerNames });
    }
}
