import { z } from "zod";

/**
 * Every configuration key the program reads, in one table.
 *
 * `Pulumi.yaml` declares the same keys with their defaults (the single source of defaults: the
 * Pulumi CLI merges them into every stack's config, and the test/synth loader does the same);
 * `test/config.test.ts` checks that the two lists agree, key by key and type by type.
 *
 * Each raw value arrives as a string (that is how the engine passes config to a program) and is
 * first converted according to its `kind`, then checked by its zod schema. Messages are written to
 * follow "<project>:<key> <message>; got <value>".
 */
export type Kind = "string" | "integer" | "boolean" | "array" | "structured";

export interface KeySpec {
    readonly kind: Kind;
    readonly schema: z.ZodType;
    /** A missing value is an error (Pulumi.yaml declares no default for it). */
    readonly required?: boolean;
}

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `must be one of ${values.join(", ")}` });

const int = (min: number, max: number) =>
    z
        .number()
        .int({ error: "must be a whole number" })
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` });

const nonEmpty = z.string().trim().min(1, { error: "must not be empty" });

const cidr = z.cidrv4({ error: "must be an IPv4 CIDR block such as 10.0.0.0/16" });

/** RFC 1918 and the shared (CGNAT) range: where a VPC or a network connected to it can live. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"] as const;

function cidrInside(inner: string, outer: string): boolean {
    const parse = (c: string) => {
        const [ip, bits] = c.split("/");
        const n = ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
        return { n, bits: Number(bits) };
    };
    const i = parse(inner);
    const o = parse(outer);
    const block = 2 ** (32 - o.bits);
    return i.bits >= o.bits && Math.floor(i.n / block) === Math.floor(o.n / block);
}

const ROLE_ARN = "arn:aws[a-z-]*:iam::\\d{12}:role\\/[\\w+=,.@/-]+";
const roleArn = z.string().regex(new RegExp(`^${ROLE_ARN}$`), {
    error: "must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin",
});
const roleArnOrEmpty = z.string().regex(new RegExp(`^(${ROLE_ARN})?$`), {
    error: 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-preview, or ""',
});

const quantity = (what: "cpu" | "memory") =>
    what === "cpu"
        ? z.string().regex(/^\d+(\.\d+)?m?$/, { error: "must be a CPU quantity such as 300m or 1" })
        : z.string().regex(/^\d+(Ki|Mi|Gi)$/, { error: "must be a memory quantity such as 384Mi or 1Gi" });

/** A container image tag or digest: pinned, so never empty and never `latest`. */
export const imageTagSchema = z
    .string()
    .trim()
    .min(1, { error: "must not be empty (pin the image by tag or sha256 digest)" })
    .refine((tag) => tag.toLowerCase() !== "latest", {
        error: "must not be 'latest' (pin the image by tag or sha256 digest)",
    })
    .refine((tag) => /^(sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.test(tag), {
        error: "must be a Docker tag ([A-Za-z0-9_.-], up to 128 characters) or a sha256:<64 hex> digest",
    });

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an environment variable name (A-Z, 0-9, _)" });

/** Names that look like they hold a secret; such values belong in a Secret, not in a literal. */
export const SECRET_LOOKING_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/;

const egressRule = z.strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
        error: "must be a lowercase DNS label such as postgres",
    }),
    cidr,
    port: int(1, 65535),
    protocol: z.enum(["TCP", "UDP"], { error: "must be TCP or UDP" }).optional(),
});

export const KEYS = {
    tags: {
        kind: "structured",
        schema: z.record(z.string(), z.string(), { error: "must be a map of string to string" }),
    },

    "network.mode": { kind: "string", schema: oneOf(["create", "existing"]) },
    "network.cidrBlock": {
        kind: "string",
        schema: cidr.refine((c) => Number(c.split("/")[1]) >= 16 && Number(c.split("/")[1]) <= 20, {
            error: "must have a prefix length from /16 to /20 (room for a private and a public subnet per AZ)",
        }),
    },
    "network.azCount": { kind: "integer", schema: int(2, 6) },
    "network.natGateways": { kind: "string", schema: oneOf(["single", "onePerAz"]) },
    "network.vpcId": {
        kind: "string",
        schema: z
            .string()
            .regex(/^(vpc-[0-9a-f]{8,17})?$/, { error: "must be a VPC id such as vpc-0123456789abcdef0" }),
    },
    "network.privateSubnetIds": {
        kind: "array",
        schema: z.array(
            z
                .string()
                .regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id such as subnet-0123456789abcdef0" }),
        ),
    },
    "network.publicSubnetIds": {
        kind: "array",
        schema: z.array(
            z
                .string()
                .regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id such as subnet-0123456789abcdef0" }),
        ),
    },

    "cluster.name": {
        kind: "string",
        required: true,
        schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, {
            error: "must be 1-100 letters, digits, '-' or '_', starting with a letter or digit",
        }),
    },
    "cluster.upgradePolicy": { kind: "string", schema: oneOf(["STANDARD", "EXTENDED"]) },
    "cluster.endpointPublicAccess": { kind: "boolean", schema: z.boolean() },
    "cluster.publicAccessCidrs": {
        kind: "array",
        // EKS quota "Public endpoint access CIDR ranges per cluster" (user guide, service quotas).
        schema: z.array(cidr).max(40, { error: "must list at most 40 CIDRs (the EKS limit per cluster)" }),
    },
    "cluster.privateAccessCidrs": {
        kind: "array",
        schema: z.array(
            cidr.refine((c) => PRIVATE_RANGES.some((r) => cidrInside(c, r)), {
                error: `must be inside the VPC or a connected private network (${PRIVATE_RANGES.join(", ")})`,
            }),
        ),
    },
    "cluster.privateAccessSecurityGroupIds": {
        kind: "array",
        schema: z.array(
            z
                .string()
                .regex(/^sg-[0-9a-f]{8,17}$/, { error: "must be a security group id such as sg-0123456789abcdef0" }),
        ),
    },
    "cluster.logTypes": {
        kind: "array",
        schema: z
            .array(oneOf(CONTROL_PLANE_LOG_TYPES))
            .refine((types) => new Set(types).size === types.length, { error: "must not repeat a log type" }),
    },
    "cluster.deletionProtection": { kind: "boolean", schema: z.boolean() },
    "cluster.adminRoleArns": { kind: "array", schema: z.array(roleArn) },
    "cluster.deployRoleArn": { kind: "string", required: true, schema: roleArn },
    "cluster.previewRoleArn": { kind: "string", schema: roleArnOrEmpty },
    "cluster.bootstrapRoleArn": { kind: "string", required: true, schema: roleArn },

    "nodes.instanceTypes": {
        kind: "array",
        schema: z
            .array(
                z
                    .string()
                    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as m6i.large" }),
            )
            .min(1, { error: "must list at least one instance type" }),
    },
    "nodes.amiType": {
        kind: "string",
        schema: oneOf([
            "AL2023_x86_64_STANDARD",
            "AL2023_ARM_64_STANDARD",
            "BOTTLEROCKET_x86_64",
            "BOTTLEROCKET_ARM_64",
        ]),
    },
    "nodes.diskSizeGiB": { kind: "integer", schema: int(20, 16384) },
    "nodes.minSize": { kind: "integer", schema: int(1, 1000) },
    "nodes.desiredSize": { kind: "integer", schema: int(1, 1000) },
    "nodes.maxSize": { kind: "integer", schema: int(1, 1000) },

    "registry.repositoryName": {
        kind: "string",
        schema: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
            error: "must be an ECR repository name (lowercase letters, digits, '.', '_', '-', '/')",
        }),
    },
    "registry.forceDelete": { kind: "boolean", schema: z.boolean() },
    "registry.kmsEncryption": { kind: "boolean", schema: z.boolean() },
    "registry.keepTaggedImages": { kind: "integer", schema: int(1, 10000) },
    "registry.untaggedExpiryDays": { kind: "integer", schema: int(1, 3650) },

    "logs.retentionInDays": {
        kind: "integer",
        schema: z.number().refine((d) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(d), {
            error: `must be a CloudWatch retention period: one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
        }),
    },
    "logs.kmsEncryption": { kind: "boolean", schema: z.boolean() },

    "certManager.replicas": { kind: "integer", schema: int(1, 5) },
    "certManager.acmeEmail": {
        kind: "string",
        required: true,
        schema: z.email({ error: "must be an email address (Let's Encrypt sends expiry notices there)" }),
    },
    "certManager.solver": { kind: "string", schema: oneOf(["http01", "dns01"]) },
    "certManager.hostedZoneId": {
        kind: "string",
        schema: z
            .string()
            .regex(/^(Z[A-Z0-9]{4,31})?$/, { error: "must be a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ" }),
    },
    "certManager.ingressClass": { kind: "string", schema: nonEmpty },

    "checkout.namespace": {
        kind: "string",
        schema: z
            .string()
            .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "must be a Kubernetes namespace name (DNS label)" })
            .refine((ns) => !["default", "kube-system", "kube-public", "kube-node-lease"].includes(ns), {
                error: "must not be default or a kube-* system namespace",
            }),
    },
    "checkout.imageTag": { kind: "string", required: true, schema: imageTagSchema },
    "checkout.minReplicas": { kind: "integer", schema: int(2, 1000) },
    "checkout.maxReplicas": { kind: "integer", schema: int(2, 1000) },
    "checkout.cpuRequest": { kind: "string", schema: quantity("cpu") },
    "checkout.cpuLimit": { kind: "string", schema: quantity("cpu") },
    "checkout.memoryRequest": { kind: "string", schema: quantity("memory") },
    "checkout.memoryLimit": { kind: "string", schema: quantity("memory") },
    "checkout.dbPoolMax": { kind: "integer", schema: int(1, 1000) },
    "checkout.logLevel": { kind: "string", schema: oneOf(["debug", "info", "warn", "error"]) },
    "checkout.egress": {
        kind: "structured",
        schema: z.array(egressRule, { error: "must be a list of {name, cidr, port, protocol?}" }),
    },
    "checkout.extraEnv": {
        kind: "structured",
        schema: z.record(envName, z.string({ error: "must be a string (quote numbers)" }), {
            error: "must be a map of ENV_NAME to string value",
        }),
    },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof KEYS;
