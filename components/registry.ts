import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rotatingKmsKey } from "./common";

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
     * Tag pattern (ECR wildcards: `*` matches any characters) of the images CI pushes for every
     * commit. Only images with such a tag are expired by count, so a stack must never run one.
     * @default "sha-*" (what `.github/workflows/image.yml` pushes: `sha-<commit>`)
     */
    readonly ciTagPattern?: string;
    /**
     * Tag pattern of release images, the ones stacks deploy. They are never expired, also when the
     * same image carries a CI tag too (a release is a CI image given a second tag).
     * @default "*.*.*" (e.g. `1.4.2`)
     */
    readonly releaseTagPattern?: string;
    /**
     * The lifecycle policy keeps this many most recent CI images (`ciTagPattern`).
     * @default 30
     */
    readonly keepCiImages?: number;
    /**
     * The lifecycle policy expires untagged images after this many days.
     * @default 7
     */
    readonly untaggedExpiryDays?: number;
    /** @default {} */
    readonly tags?: Record<string, string>;
}

export const DEFAULT_CI_TAG_PATTERN = "sha-*";
export const DEFAULT_RELEASE_TAG_PATTERN = "*.*.*";

/**
 * ECR's default quota of images per repository (ECR user guide, "Amazon ECR service quotas"). A
 * count rule with this threshold never expires anything: it is how a lifecycle policy keeps images,
 * since a rule has no "retain" action.
 */
export const ECR_IMAGES_PER_REPOSITORY = 10_000;

/** ECR allows at most four `*` in one tag pattern (lifecycle policy properties, `tagPatternList`). */
const MAX_WILDCARDS = 4;

/** Whether an ECR tag pattern matches a tag: `*` matches any run of characters, nothing else is special. */
export function ecrTagMatches(pattern: string, tag: string): boolean {
    const body = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${body}$`).test(tag);
}

export interface LifecycleArgs {
    readonly untaggedExpiryDays: number;
    readonly keepCiImages: number;
    readonly ciTagPattern: string;
    readonly releaseTagPattern: string;
}

/**
 * ECR lifecycle policy that never deletes an image a stack runs.
 *
 * How ECR evaluates it (ECR user guide, "Lifecycle policy properties" and "How lifecycle policies
 * work"): rules apply in `rulePriority` order; an image that matches the tag selection of a rule
 * cannot be expired by a rule of lower priority; `tagStatus: any` selects every image, deployed or
 * not, so a count rule on it expires the oldest images whatever runs them. Hence:
 * 1. release images (`releaseTagPattern`) match first, under a count they cannot reach, so no later
 *    rule expires them, also when they carry a CI tag too;
 * 2. untagged images expire by age;
 * 3. only CI images (`ciTagPattern`) are expired by count.
 */
export function lifecyclePolicy(args: LifecycleArgs) {
    for (const [name, pattern] of [
        ["ciTagPattern", args.ciTagPattern],
        ["releaseTagPattern", args.releaseTagPattern],
    ] as const) {
        const wildcards = pattern.split("*").length - 1;
        if (pattern.replace(/\*/g, "") === "")
            throw new Error(`${name} ${JSON.stringify(pattern)} matches every tag; name the tags it is for`);
        if (wildcards > MAX_WILDCARDS)
            throw new Error(
                `${name} ${JSON.stringify(pattern)} has ${wildcards} wildcards; ECR allows ${MAX_WILDCARDS}`,
            );
    }
    return {
        rules: [
            {
                rulePriority: 1,
                description: `Never expire release images (${args.releaseTagPattern})`,
                selection: {
                    tagStatus: "tagged",
                    tagPatternList: [args.releaseTagPattern],
                    countType: "imageCountMoreThan",
                    countNumber: ECR_IMAGES_PER_REPOSITORY,
                },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Expire untagged images after ${args.untaggedExpiryDays} days`,
                selection: {
                    tagStatus: "untagged",
                    countType: "sinceImagePushed",
                    countUnit: "days",
                    countNumber: args.untaggedExpiryDays,
                },
                action: { type: "expire" },
            },
            {
                rulePriority: 3,
                description: `Keep the ${args.keepCiImages} most recent CI images (${args.ciTagPattern})`,
                selection: {
                    tagStatus: "tagged",
                    tagPatternList: [args.ciTagPattern],
                    countType: "imageCountMoreThan",
                    countNumber: args.keepCiImages,
                },
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
                policy: JSON.stringify(
                    lifecyclePolicy({
                        untaggedExpiryDays: args.untaggedExpiryDays ?? 7,
                        keepCiImages: args.keepCiImages ?? 30,
                        ciTagPattern: args.ciTagPattern ?? DEFAULT_CI_TAG_PATTERN,
                        releaseTagPattern: args.releaseTagPattern ?? DEFAULT_RELEASE_TAG_PATTERN,
                    }),
                ),
            },
            { parent: this },
        );

        this.repositoryUrl = this.repository.repositoryUrl;
        this.registerOutputs({ repositoryUrl: this.repositoryUrl });
    }
}
