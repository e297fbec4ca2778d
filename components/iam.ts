import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** An IAM policy document in the JSON shape AWS takes. */
export interface PolicyDocument {
    readonly Version: "2012-10-17";
    readonly Statement: readonly {
        readonly Sid?: string;
        readonly Effect: "Allow" | "Deny";
        readonly Principal?: Record<string, string | string[]>;
        readonly Action: string | readonly string[];
        readonly Resource?: string | readonly string[];
        readonly Condition?: Record<string, Record<string, string | string[]>>;
    }[];
}

/** Trust policy of an EC2 instance role: the nodes' roles (the managed group's and Karpenter's). */
export const EC2_TRUST_POLICY: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/** The key-policy statement that keeps a customer-managed key administrable by its account. */
export function accountAdministersKey(partition: string, accountId: string): PolicyDocument["Statement"][number] {
    return {
        Sid: "AccountAdministersKey",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
    };
}

/**
 * Trust policy for IAM Roles for Service Accounts: only the one service account may assume the
 * role, and only with a token minted for STS. Pinning both `:sub` and `:aud` is what keeps any
 * other pod in the cluster from assuming it (EKS Best Practices, IRSA).
 */
export function irsaTrustPolicy(
    oidcProviderArn: string,
    oidcIssuerUrl: string,
    namespace: string,
    serviceAccount: string,
): PolicyDocument {
    const issuer = oidcIssuerUrl.replace(/^https:\/\//, "");
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
                        [`${issuer}:aud`]: "sts.amazonaws.com",
                    },
                },
            },
        ],
    };
}

/** What a workload identity needs to know about the cluster's OIDC provider. */
export interface OidcProvider {
    readonly arn: pulumi.Input<string>;
    /** Issuer URL (with or without https://). */
    readonly issuerUrl: pulumi.Input<string>;
}

/** Creates a role only `namespace/serviceAccount` can assume through the cluster's OIDC provider. */
export function irsaRole(
    name: string,
    oidc: OidcProvider,
    namespace: string,
    serviceAccount: string,
    opts: pulumi.CustomResourceOptions & { tags?: Record<string, string> },
): aws.iam.Role {
    const { tags, ...resourceOpts } = opts;
    return new aws.iam.Role(
        name,
        {
            description: `IRSA role for ${namespace}/${serviceAccount}`,
            assumeRolePolicy: pulumi
                .all([oidc.arn, oidc.issuerUrl])
                .apply(([arn, url]) => JSON.stringify(irsaTrustPolicy(arn, url, namespace, serviceAccount))),
            tags,
        },
        resourceOpts,
    );
}
