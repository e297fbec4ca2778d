import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument } from "../iam";
import { PSS_RESTRICTED_LABELS } from "../common";

/**
 * A chart at an exact version: `repository` for a classic Helm repository, or an `oci://` chart
 * reference (then no repository).
 */
export type ChartPin =
    | { readonly chart: string; readonly repository: string; readonly version: string }
    | { readonly chart: `oci://${string}`; readonly version: string };

/** The release arguments a pin stands for (`repositoryOpts` only for a classic repository). */
export function chartSource(pin: ChartPin): { chart: string; version: string; repositoryOpts?: { repo: string } } {
    return "repository" in pin
        ? { chart: pin.chart, version: pin.version, repositoryOpts: { repo: pin.repository } }
        : { chart: pin.chart, version: pin.version };
}

/** The service principal EKS Pod Identity assumes roles as. */
export const POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com";

/**
 * Trust policy of a role for EKS Pod Identity. The principal and the two actions are what the EKS
 * user guide requires ("Create IAM role with trust policy required by EKS Pod Identity"); the
 * conditions on the session tags EKS adds (cluster, namespace, service account) keep any other
 * association in the account, in any cluster, from using the role.
 */
export function podIdentityTrustPolicy(clusterName: string, namespace: string, serviceAccount: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "EksPodIdentity",
                Effect: "Allow",
                Principal: { Service: POD_IDENTITY_PRINCIPAL },
                Action: ["sts:AssumeRole", "sts:TagSession"],
                Condition: {
                    StringEquals: {
                        "aws:RequestTag/eks-cluster-name": clusterName,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": serviceAccount,
                    },
                },
            },
        ],
    };
}

/** What every add-on that runs under Pod Identity needs from the cluster. */
export interface PodIdentityContext {
    /** The EKS cluster the associations belong to. */
    readonly clusterName: pulumi.Input<string>;
    /**
     * The `eks-pod-identity-agent` add-on. Pods read their association when they are created, so
     * the release waits for the agent and the association.
     * @default none: the agent is installed outside this program
     */
    readonly agent?: pulumi.Resource;
}

export interface PodIdentityArgs {
    readonly clusterName: pulumi.Input<string>;
    readonly namespace: string;
    readonly serviceAccount: string;
    /** The permissions of the role (an identity policy document). */
    readonly policy: pulumi.Input<PolicyDocument>;
    readonly description: string;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

export interface PodIdentity {
    readonly role: aws.iam.Role;
    readonly policy: aws.iam.RolePolicy;
    readonly association: aws.eks.PodIdentityAssociation;
}

/** A role only `namespace/serviceAccount` of one cluster can assume, its policy, and the association. */
export function podIdentity(name: string, args: PodIdentityArgs, opts: pulumi.CustomResourceOptions): PodIdentity {
    const role = new aws.iam.Role(
        `${name}-role`,
        {
            description: args.description,
            assumeRolePolicy: pulumi
                .output(args.clusterName)
                .apply((cluster) =>
                    JSON.stringify(podIdentityTrustPolicy(cluster, args.namespace, args.serviceAccount)),
                ),
            tags: args.tags,
        },
        opts,
    );
    const policy = new aws.iam.RolePolicy(
        `${name}-policy`,
        { role: role.id, policy: pulumi.output(args.policy).apply((doc) => JSON.stringify(doc)) },
        opts,
    );
    const association = new aws.eks.PodIdentityAssociation(
        `${name}-pod-identity`,
        {
            clusterName: args.clusterName,
            namespace: args.namespace,
            serviceAccount: args.serviceAccount,
            roleArn: role.arn,
            tags: args.tags,
        },
        // Credentials issued before the policy exists would lack its permissions.
        { ...opts, dependsOn: [policy] },
    );
    return { role, policy, association };
}

export interface HelmAddonArgs {
    /** Namespace of the release, created here with the Pod Security "restricted" labels. */
    readonly namespace: string;
    /**
     * Create the namespace. `false` for one that exists before the program runs (kube-system), which
     * then gets no labels from here.
     * @default true
     */
    readonly createNamespace?: boolean;
    /** Extra namespace labels (e.g. the load balancer controller's readiness-gate opt-in). @default {} */
    readonly namespaceLabels?: Record<string, string>;
    readonly releaseName: string;
    readonly chart: ChartPin;
    readonly values: pulumi.Input<Record<string, unknown>>;
    /**
     * Skip the chart's `crds/` folder. Helm installs it once and never upgrades it, so every add-on
     * here that needs CRDs gets them from a separate, upgradable owner and sets this.
     * @default true
     */
    readonly skipCrds?: boolean;
    /** Runs the release's service account under Pod Identity with this policy. @default none */
    readonly identity?: PodIdentityContext & {
        readonly serviceAccount: string;
        readonly policy: pulumi.Input<PolicyDocument>;
        readonly description: string;
    };
    /**
     * What must exist before the release installs: node capacity for its pods (the release waits
     * for them to be ready), CRDs its templates use, webhooks its objects go through.
     * @default []
     */
    readonly dependsOn?: readonly pulumi.Resource[];
    /**
     * What the namespace itself waits for. `destroy` deletes the namespace before these, and a
     * namespace is gone only once everything in it is: objects in it that another controller
     * finalizes (a LoadBalancer Service and its NLB) are then cleaned up while that controller runs.
     * @default []
     */
    readonly namespaceDependsOn?: readonly pulumi.Resource[];
    /** Seconds Helm waits for the release's pods. @default 600 */
    readonly timeoutSeconds?: number;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

export interface HelmAddon {
    /** The namespace created for the release; undefined with `createNamespace: false`. */
    readonly namespace?: k8s.core.v1.Namespace;
    readonly identity?: PodIdentity;
    readonly release: k8s.helm.v3.Release;
}

/**
 * What every Helm add-on repeats, in the order a first `up` needs: its namespace (Pod Security
 * "restricted"), its Pod Identity role and association, then the pinned release, which waits for
 * its pods (`skipAwait: false`) and rolls back a failed upgrade (`atomic`).
 * Children are named `${name}-<role>` under `parent`; the Kubernetes provider comes from the parent.
 */
export function helmAddon(parent: pulumi.Resource, name: string, args: HelmAddonArgs): HelmAddon {
    const opts = { parent };
    const namespace =
        (args.createNamespace ?? true)
            ? new k8s.core.v1.Namespace(
                  `${name}-ns`,
                  {
                      metadata: {
                          name: args.namespace,
                          labels: { ...PSS_RESTRICTED_LABELS, ...(args.namespaceLabels ?? {}) },
                      },
                  },
                  { ...opts, dependsOn: [...(args.namespaceDependsOn ?? [])] },
              )
            : undefined;
    const identity = args.identity
        ? podIdentity(
              name,
              {
                  clusterName: args.identity.clusterName,
                  namespace: args.namespace,
                  serviceAccount: args.identity.serviceAccount,
                  policy: args.identity.policy,
                  description: args.identity.description,
                  tags: args.tags,
              },
              opts,
          )
        : undefined;
    const waitFor: pulumi.Resource[] = [
        ...(namespace ? [namespace] : []),
        ...(identity ? [identity.association] : []),
        ...(args.identity?.agent ? [args.identity.agent] : []),
        ...(args.dependsOn ?? []),
    ];
    const release = new k8s.helm.v3.Release(
        `${name}-release`,
        {
            name: args.releaseName,
            ...chartSource(args.chart),
            namespace: namespace ? namespace.metadata.name : args.namespace,
            values: args.values,
            skipCrds: args.skipCrds ?? true,
            skipAwait: false,
            timeout: args.timeoutSeconds ?? 600,
            atomic: true,
            cleanupOnFail: true,
        },
        { parent, dependsOn: waitFor },
    );
    return { namespace, identity, release };
}
