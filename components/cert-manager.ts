import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OidcProvider, PolicyDocument, irsaRole } from "./iam";
import { PSS_RESTRICTED_LABELS } from "./shared";

/** Chart, repository and version, pinned in one place (supports Kubernetes 1.33-1.36). */
export const CERT_MANAGER_CHART = {
    chart: "cert-manager",
    repository: "https://charts.jetstack.io",
    // renovate: datasource=helm depName=cert-manager registryUrl=https://charts.jetstack.io
    version: "v1.21.0",
} as const;

/** Namespace, release and service account names; the IRSA trust policy pins the account name. */
export const CERT_MANAGER_NAMES = {
    namespace: "cert-manager",
    release: "cert-manager",
    serviceAccount: "cert-manager",
} as const;

export const ACME_SERVERS = {
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
    production: "https://acme-v02.api.letsencrypt.org/directory",
} as const;

export type Solver =
    | { readonly type: "http01"; readonly ingressClass: string }
    | { readonly type: "dns01"; readonly hostedZoneId: string; readonly region: string };

export interface CertManagerArgs {
    /** Replicas of controller, webhook and cainjector; 2 or more also turns their PDBs on. */
    readonly replicas: number;
    /** ACME account email (Let's Encrypt expiry notices). */
    readonly acmeEmail: string;
    /** How the ClusterIssuers prove domain control. dns01 creates the Route53 IRSA role. */
    readonly solver: Solver;
    /** The cluster's OIDC provider; needed for the dns01 IRSA role. */
    readonly oidc: OidcProvider;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/** Helm values for the chart; pure, so the per-stack differences are tested without an engine. */
export function certManagerValues(replicas: number, roleArn?: pulumi.Input<string>): Record<string, unknown> {
    const ha = replicas >= 2;
    const resources = (cpu: string, memory: string) => ({ requests: { cpu, memory }, limits: { memory } });
    const pdb = { enabled: ha, maxUnavailable: 1 };
    return {
        crds: { enabled: true, keep: true },
        replicaCount: replicas,
        podDisruptionBudget: pdb,
        resources: resources("50m", "192Mi"),
        serviceAccount: {
            create: true,
            name: CERT_MANAGER_NAMES.serviceAccount,
            ...(roleArn ? { annotations: { "eks.amazonaws.com/role-arn": roleArn } } : {}),
        },
        // cert-manager's own leader election stays in its namespace rather than kube-system.
        global: { leaderElection: { namespace: CERT_MANAGER_NAMES.namespace } },
        webhook: { replicaCount: replicas, podDisruptionBudget: pdb, resources: resources("20m", "64Mi") },
        cainjector: { replicaCount: replicas, podDisruptionBudget: pdb, resources: resources("20m", "192Mi") },
        startupapicheck: { resources: resources("10m", "64Mi") },
        prometheus: { enabled: true, servicemonitor: { enabled: false } },
    };
}

/** Least privilege for DNS01 in one zone: TXT records under `_acme-challenge.` and nothing else. */
export function route53Dns01Policy(hostedZoneId: string, partition = "aws"): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ReadChangeStatus",
                Effect: "Allow",
                Action: "route53:GetChange",
                Resource: `arn:${partition}:route53:::change/*`,
            },
            {
                Sid: "ListZoneRecords",
                Effect: "Allow",
                Action: "route53:ListResourceRecordSets",
                Resource: `arn:${partition}:route53:::hostedzone/${hostedZoneId}`,
            },
            {
                Sid: "ChangeAcmeChallengeRecords",
                Effect: "Allow",
                Action: "route53:ChangeResourceRecordSets",
                Resource: `arn:${partition}:route53:::hostedzone/${hostedZoneId}`,
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

/** The ClusterIssuer spec for one ACME server. */
export function clusterIssuerSpec(server: string, email: string, accountKeySecret: string, solver: Solver) {
    return {
        acme: {
            server,
            email,
            privateKeySecretRef: { name: accountKeySecret },
            solvers: [
                solver.type === "dns01"
                    ? { dns01: { route53: { region: solver.region, hostedZoneID: solver.hostedZoneId } } }
                    : { http01: { ingress: { ingressClassName: solver.ingressClass } } },
            ],
        },
    };
}

/**
 * cert-manager from its Helm chart, with CRDs, and Let's Encrypt staging and production
 * ClusterIssuers. The issuers wait for the release (whose await covers the webhook), so the first
 * `up` does not race the webhook (pulumi-kubernetes #3176, #1917).
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class CertManager extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;
    readonly issuerNames: { readonly staging: string; readonly production: string };
    readonly dns01Role?: aws.iam.Role;

    constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:certmanager:CertManager", name, {}, opts);
        const names = CERT_MANAGER_NAMES;

        if (args.solver.type === "dns01") {
            this.dns01Role = irsaRole(`${name}-dns01-role`, args.oidc, names.namespace, names.serviceAccount, {
                parent: this,
                tags: args.tags,
            });
            new aws.iam.RolePolicy(
                `${name}-dns01-policy`,
                { role: this.dns01Role.id, policy: JSON.stringify(route53Dns01Policy(args.solver.hostedZoneId)) },
                { parent: this },
            );
        }

        const namespace = new k8s.core.v1.Namespace(
            `${name}-ns`,
            { metadata: { name: names.namespace, labels: PSS_RESTRICTED_LABELS } },
            { parent: this },
        );

        // Only the role ARN is unknown before the first deployment; the rest of the values are not.
        const values = certManagerValues(args.replicas, this.dns01Role?.arn);

        this.release = new k8s.helm.v3.Release(
            `${name}-release`,
            {
                name: names.release,
                chart: CERT_MANAGER_CHART.chart,
                version: CERT_MANAGER_CHART.version,
                repositoryOpts: { repo: CERT_MANAGER_CHART.repository },
                namespace: namespace.metadata.name,
                values,
                // Wait for every Deployment (the webhook above all) to be ready before dependents run.
                skipAwait: false,
                timeout: 600,
                atomic: true,
                cleanupOnFail: true,
            },
            { parent: this },
        );

        this.issuerNames = { staging: "letsencrypt-staging", production: "letsencrypt-production" };
        for (const [env, issuerName] of Object.entries(this.issuerNames) as ["staging" | "production", string][]) {
            new k8s.apiextensions.CustomResource(
                `${name}-issuer-${env}`,
                {
                    apiVersion: "cert-manager.io/v1",
                    kind: "ClusterIssuer",
                    metadata: { name: issuerName },
                    spec: clusterIssuerSpec(
                        ACME_SERVERS[env],
                        args.acmeEmail,
                        `${issuerName}-account-key`,
                        args.solver,
                    ),
                },
                { parent: this, dependsOn: [this.release] },
            );
        }

        this.registerOutputs({ releaseName: this.release.name, issuers: this.issuerNames });
    }
}
