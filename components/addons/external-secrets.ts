import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument } from "../iam";
import { ChartPin, HelmAddon, PodIdentityContext, helmAddon } from "./helm-addon";

/**
 * External Secrets Operator: the chart and the API its objects use. Chart 2.9.0 (app v2.9.0) serves
 * `external-secrets.io/v1` only; v1beta1 is off unless `crds.unsafeServeV1Beta1` (values.yaml).
 */
export const EXTERNAL_SECRETS = {
    chart: {
        chart: "external-secrets",
        repository: "https://charts.external-secrets.io",
        // renovate: datasource=helm depName=external-secrets registryUrl=https://charts.external-secrets.io
        version: "2.9.0",
    } satisfies ChartPin,
    apiVersion: "external-secrets.io/v1",
} as const;

export const EXTERNAL_SECRETS_NAMES = {
    namespace: "external-secrets",
    release: "external-secrets",
    serviceAccount: "external-secrets",
} as const;

/** What Secrets Manager secret names may contain (the AWS API reference, CreateSecret `Name`). */
const SECRET_NAME_PREFIX = /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/;

/** Why `prefix` cannot scope Secrets Manager reads, or undefined when it can. */
export function secretPrefixProblem(prefix: string): string | undefined {
    if (!SECRET_NAME_PREFIX.test(prefix))
        return "one or more '/'-separated segments of letters, digits and _+=.@- (no wildcard, no leading or trailing '/')";
    return undefined;
}

export interface SecretsManagerReadArgs {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    /** Secrets under `<prefix>/` are readable, nothing else. */
    readonly prefix: string;
    /**
     * Customer-managed KMS keys the secrets are encrypted with; Secrets Manager decrypts with the
     * caller's permissions, so each needs kms:Decrypt (through Secrets Manager only).
     * @default [] (secrets encrypted with the AWS-managed `aws/secretsmanager` key need none)
     */
    readonly kmsKeyArns?: readonly string[];
}

/**
 * Read access to the secrets under one prefix: what the AWS provider calls for an ExternalSecret
 * (GetSecretValue; DescribeSecret for metadata). Secret ARNs end in `-<6 random characters>`, so
 * `secret:<prefix>/*` matches every secret named `<prefix>/...` and nothing else.
 */
export function secretsManagerReadPolicy(a: SecretsManagerReadArgs): PolicyDocument {
    const problem = secretPrefixProblem(a.prefix);
    if (problem) throw new Error(`secret prefix ${JSON.stringify(a.prefix)} must be ${problem}`);
    const keys = a.kmsKeyArns ?? [];
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ReadSecretsUnderPrefix",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                Resource: `arn:${a.partition}:secretsmanager:${a.region}:${a.accountId}:secret:${a.prefix}/*`,
            },
            ...(keys.length > 0
                ? [
                      {
                          Sid: "DecryptThroughSecretsManager",
                          Effect: "Allow" as const,
                          Action: "kms:Decrypt",
                          Resource: [...keys],
                          Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${a.region}.amazonaws.com` } },
                      },
                  ]
                : []),
        ],
    };
}

/**
 * Helm values (chart 2.9.0 values.yaml).
 * - The chart renders its CRDs from `templates/crds/` (hack/helm.generate.sh splits the bundle
 *   there, gated by `installCRDs`), so `helm upgrade` upgrades them with the controller: no
 *   separate CRD owner is needed, unlike a chart's `crds/` folder. `helm.sh/resource-policy: keep`
 *   stops an uninstall (a renamed or replaced release) from deleting the CRDs and with them every
 *   ExternalSecret and the Secrets they own.
 * - The chart's pods already run as Pod Security "restricted" wants (non-root, drop ALL,
 *   RuntimeDefault seccomp, read-only root); only resources, replicas and PDBs are set here.
 * - Two or more replicas need leader election (`leaderElect` also covers the cert controller,
 *   templates/cert-controller-deployment.yaml): two controllers would otherwise reconcile at once.
 * - PDBs use `maxUnavailable`, which the templates prefer over the chart's default `minAvailable`.
 */
export function externalSecretsValues(replicas: number): Record<string, unknown> {
    const resources = { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } };
    const pdb = replicas >= 2 ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } } : {};
    return {
        installCRDs: true,
        crds: { annotations: { "helm.sh/resource-policy": "keep" } },
        replicaCount: replicas,
        leaderElect: replicas >= 2,
        serviceAccount: { create: true, name: EXTERNAL_SECRETS_NAMES.serviceAccount },
        resources,
        ...pdb,
        webhook: { replicaCount: replicas, resources, ...pdb },
        certController: { replicaCount: replicas, resources, ...pdb },
    };
}

/** A ClusterSecretStore reading Secrets Manager with the controller's own (Pod Identity) credentials. */
export function clusterSecretStoreSpec(region: string, namespaces?: readonly string[]): Record<string, unknown> {
    return {
        // No `auth`: the provider then uses the AWS SDK's default chain, which picks up the Pod
        // Identity credentials of the controller (v2.9.0,
        // external-secrets/external-secrets:docs/provider/aws-access.md, "EKS Pod Identity Setup":
        // "No auth section is defined for the SecretStore").
        provider: { aws: { service: "SecretsManager", region } },
        ...(namespaces && namespaces.length > 0 ? { conditions: [{ namespaces: [...namespaces] }] } : {}),
    };
}

export interface ExternalSecretsArgs {
    /** The EKS cluster and Pod Identity agent of the controller's service account. */
    readonly identity: PodIdentityContext;
    /** Region of the Secrets Manager secrets (the stack's region). */
    readonly region: string;
    readonly accountId: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
    /**
     * The controller reads only secrets named `<secretPrefix>/...`: a per-stack prefix, so one
     * stack's cluster never reads another's secrets.
     */
    readonly secretPrefix: string;
    /** @default [] (see SecretsManagerReadArgs.kmsKeyArns) */
    readonly kmsKeyArns?: readonly string[];
    /**
     * Namespaces whose ExternalSecrets may use the store.
     * @default every namespace
     */
    readonly namespaces?: readonly string[];
    /** Name of the ClusterSecretStore. @default "aws-secrets-manager" */
    readonly storeName?: string;
    /** Replicas of the controller, its webhook and its cert controller. @default 2 */
    readonly replicas?: number;
    /** What must exist before the release waits for its pods (node capacity). @default [] */
    readonly dependsOn?: readonly pulumi.Resource[];
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * External Secrets Operator under Pod Identity and one ClusterSecretStore for Secrets Manager in
 * the stack's region, readable only under the stack's prefix. An ExternalSecret that names
 * `storeRef` waits for the store, and so for the CRDs and the controller's webhook.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class ExternalSecrets extends pulumi.ComponentResource {
    readonly addon: HelmAddon;
    readonly store: k8s.apiextensions.CustomResource;
    /** What an ExternalSecret's `secretStoreRef` takes; the name is an output of the store. */
    readonly storeRef: { readonly kind: "ClusterSecretStore"; readonly name: pulumi.Output<string> };

    constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:ExternalSecrets", name, {}, opts);
        const problem = secretPrefixProblem(args.secretPrefix);
        if (problem) throw new Error(`${name}: secretPrefix ${JSON.stringify(args.secretPrefix)} must be ${problem}`);
        const names = EXTERNAL_SECRETS_NAMES;
        const policy = pulumi.all([args.partition, args.accountId]).apply(([partition, accountId]) =>
            secretsManagerReadPolicy({
                partition,
                region: args.region,
                accountId,
                prefix: args.secretPrefix,
                kmsKeyArns: args.kmsKeyArns,
            }),
        );
        this.addon = helmAddon(this, name, {
            namespace: names.namespace,
            releaseName: names.release,
            chart: EXTERNAL_SECRETS.chart,
            values: externalSecretsValues(args.replicas ?? 2),
            // The CRDs are templates of this chart (see externalSecretsValues); `crds/` is empty.
            skipCrds: false,
            identity: {
                ...args.identity,
                serviceAccount: names.serviceAccount,
                policy,
                description: `External Secrets Operator: Secrets Manager reads under ${args.secretPrefix}/`,
            },
            dependsOn: args.dependsOn,
            tags: args.tags,
        });

        // Created once the release is ready: its CRDs exist and its validating webhook answers.
        this.store = new k8s.apiextensions.CustomResource(
            `${name}-store`,
            {
                apiVersion: EXTERNAL_SECRETS.apiVersion,
                kind: "ClusterSecretStore",
                metadata: { name: args.storeName ?? "aws-secrets-manager" },
                spec: clusterSecretStoreSpec(args.region, args.namespaces),
            },
            { parent: this, dependsOn: [this.addon.release] },
        );
        this.storeRef = { kind: "ClusterSecretStore", name: this.store.metadata.name };
        this.registerOutputs({ store: this.storeRef.name });
    }
}
