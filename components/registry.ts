import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rotatingKmsKey } from "./shared";

export interface RegistryArgs {
    /** Repository name, e.g. `checkout-service`. */
    readonly repositoryName: string;
    /**
     * Let `pulumi destroy` delete the repository while it still holds images.
     * @default false
     */
    readonly forceDelete?: boolean;
    /**
     * Encrypt with a customer-managed KMS key (rotation on) created here; otherwise AES256.
     * @default true
     */
    readonly kmsEncryption?: boolean;
    /**
     * The lifecycle policy keeps this many most recent tagged images.
     * @default 30
     */
    readonly keepTaggedImages?: number;
    /**
     * The lifecycle policy expires untagged images after this many days.
     * @default 7
     */
    readonly untaggedExpiryDays?: number;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/** ECR lifecycle policy: untagged images expire first, then all but the newest tagged ones. */
export function lifecyclePolicy(untaggedExpiryDays: number, keepTaggedImages: number) {
    return {
        rules: [
            {
                rulePriority: 1,
                description: `Expire untagged images after ${untaggedExpiryDays} days`,
                selection: {
                    tagStatus: "untagged",
                    countType: "sinceImagePushed",
                    countUnit: "days",
                    countNumber: untaggedExpiryDays,
                },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Keep the ${keepTaggedImages} most recent tagged images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepTaggedImages },
                action: { type: "expire" },
            },
        ],
    };
}

/** The ECR repository a workload's images live in: immutable tags, scanned on push, encrypted, pruned. */
export class Registry extends pulumi.ComponentResource {
    readonly repository: aws.ecr.Repository;
    readonly repositoryUrl: pulumi.Output<string>;
    readonly kmsKey?: aws.kms.Key;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:registry:Registry", name, {}, opts);
        const tags = args.tags ?? {};
        const kmsEncryption = args.kmsEncryption ?? true;

        if (kmsEncryption) {
            this.kmsKey = rotatingKmsKey(
                `${name}-key`,
                { description: `ECR encryption for ${args.repositoryName}`, tags },
                { parent: this },
            );
        }

        this.repository = new aws.ecr.Repository(
            `${name}-repo`,
            {
                name: args.repositoryName,
                // A tag always means the same image: what was reviewed is what runs.
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [
                    this.kmsKey ? { encryptionType: "KMS", kmsKey: this.kmsKey.arn } : { encryptionType: "AES256" },
                ],
                forceDelete: args.forceDelete ?? false,
                tags,
            },
            { parent: this },
        );

        new aws.ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            {
                repository: this.repository.name,
                policy: JSON.stringify(lifecyclePolicy(args.untaggedExpiryDays ?? 7, args.keepTaggedImages ?? 30)),
            },
            { parent: this },
        );

        this.repositoryUrl = this.repository.repositoryUrl;
        this.registerOutputs({ repositoryUrl: this.repositoryUrl });
    }
}
