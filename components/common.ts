import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Namespace labels that enforce (and audit and warn on) the Pod Security "restricted" standard. */
export const PSS_RESTRICTED_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
} as const;

/**
 * A customer-managed KMS key with yearly rotation and the longest deletion window; without
 * `policy` AWS applies its default key policy (the account administers the key).
 */
export function rotatingKmsKey(
    name: string,
    args: { description: string; policy?: pulumi.Input<string>; tags?: Record<string, string> },
    opts: pulumi.CustomResourceOptions,
): aws.kms.Key {
    return new aws.kms.Key(
        name,
        {
            description: args.description,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: args.policy,
            tags: args.tags,
        },
        opts,
    );
}
