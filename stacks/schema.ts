import { z } from "zod";
import { secretPrefixProblem } from "../components/addons/external-secrets";
import { NODEPOOL_PATTERNS } from "../components/addons/karpenter-spec";
import { hostnameProblem, zoneIdProblem, zoneNameProblem } from "../components/addons/route53";
import { SYSTEM_NODES_MIN } from "../components/cluster-spec";

/**
 * Every configuration key the program reads, declared once: its Pulumi type, description, default,
 * validation, and whether the shipped stack files hold an example value for it.
 *
 * Keys are grouped by area. A stack file sets an area as ONE structured object
 * (`checkout-platform:checkout: {imageTag: 1.4.2, ...}`), and Pulumi.yaml declares each field as a
 * property path (`checkout.imageTag`), because that is how the CLI reads a declared key: as a path
 * into the object at `<project>:checkout` (pulumi/pulumi v3.259.0 pkg/workspace/config.go 303-349,
 * sdk/go/common/resource/config/map.go 149-182). The CLI then applies each default by path and
 * type-checks each field (config.go 66-157).
 *
 * Derived from this file (one edit + `npm run docs:update` to add a key):
 * - Pulumi.yaml's `config:` block (scripts/lib/project-config.ts; test/docs.test.ts fails when stale);
 * - the `PlatformConfig` type and the loader's checks (stacks/config.ts);
 * - the README's tables.
 */

/** The types Pulumi.yaml can declare (sdk/go/common/workspace/project.json `simpleConfigType`). */
export type PulumiType = "string" | "integer" | "boolean" | "array" | "object";

export interface Field<T = unknown> {
    readonly type: PulumiType;
    /** For arrays: the item type Pulumi.yaml declares (`items: {type: ...}`). */
    readonly items?: "string" | "integer" | "boolean" | "object";
    /** For a list of maps: the fields an entry may have (named when an entry has another). */
    readonly itemFields?: readonly string[];
    readonly description: string;
    /** Absent: the key is required (the CLI fails a stack that does not set it). */
    readonly default?: T;
    /** Validates the value once it has its declared type; every message is written for a person. */
    readonly schema: z.ZodType<T>;
    /**
     * The shipped stack files hold an example value here (a documentation account, CIDR or
     * domain) that must be replaced before the first `pulumi up`; every run warns while it is.
     */
    readonly example?: true;
}

/** A group of fields stored as one object at `<project>:<area>`. */
export class Area<F extends Record<string, Field> = Record<string, Field>> {
    constructor(
        readonly description: string,
        readonly fields: F,
    ) {}
}

type Opts<T> = Omit<Field<T>, "type" | "items" | "itemFields" | "schema">;
type Out<S extends z.ZodType> = z.output<S>;
/** A zod schema as the field's schema (zod's generic parameters do not narrow through `S`). */
const as = <S extends z.ZodType>(schema: S) => schema as unknown as z.ZodType<Out<S>>;
const string = <S extends z.ZodType<string>>(schema: S, o: Opts<Out<S>>): Field<Out<S>> => ({
    type: "string",
    schema: as(schema),
    ...o,
});
const integer = (schema: z.ZodType<number>, o: Opts<number>): Field<number> => ({ type: "integer", schema, ...o });
const boolean = (o: Opts<boolean>): Field<boolean> => ({
    type: "boolean",
    schema: z.boolean({ error: "must be true or false" }),
    ...o,
});
const list = <S extends z.ZodType<string[]>>(schema: S, o: Opts<Out<S>>): Field<Out<S>> => ({
    type: "array",
    items: "string",
    schema: as(schema),
    ...o,
});
const objects = <S extends z.ZodType<object[]>>(
    schema: S,
    itemFields: readonly string[],
    o: Opts<Out<S>>,
): Field<Out<S>> => ({ type: "array", items: "object", itemFields, schema: as(schema), ...o });
const map = <S extends z.ZodType<Record<string, string>>>(schema: S, o: Opts<Out<S>>): Field<Out<S>> => ({
    type: "object",
    schema: as(schema),
    ...o,
});

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const CLOUDWATCH_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
    z.enum(values, { error: `must be one of ${values.join(", ")}` });

const int = (min: number, max: number) =>
    z
        .number()
        .int({ error: "must be a whole number" })
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` });

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

const subnetIds = z.array(
    z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id such as subnet-0123456789abcdef0" }),
    { error: "must be a list of subnet ids" },
);

const quantity = (what: "cpu" | "memory") =>
    what === "cpu"
        ? z.string().regex(/^\d+(\.\d+)?m?$/, { error: "must be a CPU quantity such as 300m or 1" })
        : z.string().regex(/^\d+(Ki|Mi|Gi)$/, { error: "must be a memory quantity such as 384Mi or 1Gi" });

/** A container image tag or digest: pinned, so never empty and never `latest`. */
export const imageTagSchema = z
    .string()
    .trim()
    .min(1, { error: "must not be empty (pin the image by tag or sha256 digest)", abort: true })
    .refine((tag) => tag.toLowerCase() !== "latest", {
        error: "must not be 'latest' (pin the image by tag or sha256 digest)",
    })
    .refine((tag) => /^(sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.test(tag), {
        error: "must be a Docker tag ([A-Za-z0-9_.-], up to 128 characters) or a sha256:<64 hex> digest",
    });

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an environment variable name (A-Z, 0-9, _)" });

/** Names that look like they hold a secret; such values belong in a Secret, not in a literal. */
export const SECRET_LOOKING_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/;

const egressRule = z.strictObject(
    {
        name: z
            .string({ error: "must be a lowercase DNS label such as postgres" })
            .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
                error: "must be a lowercase DNS label such as postgres",
            }),
        cidr,
        port: int(1, 65535),
        protocol: z.enum(["TCP", "UDP"], { error: "must be TCP or UDP" }).optional(),
    },
    { error: "must be a map of {name, cidr, port, protocol?}" },
);

const hostedZone = z.strictObject(
    {
        id: z
            .string({ error: "must be a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ" })
            .superRefine((id, ctx) => {
                const problem = zoneIdProblem(id);
                if (problem) ctx.addIssue({ code: "custom", input: id, message: problem });
            }),
        name: z.string({ error: "must be the zone's domain such as example.com" }).superRefine((name, ctx) => {
            const problem = zoneNameProblem(name);
            if (problem) ctx.addIssue({ code: "custom", input: name, message: problem });
        }),
    },
    { error: "must be a map of {id, name}" },
);

/**
 * The configuration. Top-level entries are areas (stored as one object each) or, for `tags`, a
 * single key. Field order here is the order of Pulumi.yaml and of the README.
 */
export const SCHEMA = {
    tags: map(
        z.record(z.string(), z.string({ error: "must be a string (quote numbers)" }), {
            error: "must be a map of string to string",
        }),
        {
            description: "Extra AWS tags for every taggable resource (a map of string to string).",
            default: {},
        },
    ),

    network: new Area("The VPC the cluster runs in", {
        mode: string(oneOf(["create", "existing"]), {
            description:
                "create: a dedicated VPC over network.azCount AZs; existing: use network.vpcId and the subnet ids.",
            default: "create",
        }),
        cidrBlock: string(
            cidr.refine((c) => Number(c.split("/")[1]) >= 16 && Number(c.split("/")[1]) <= 20, {
                error: "must have a prefix length from /16 to /20 (room for a private and a public subnet per AZ)",
            }),
            { description: "IPv4 CIDR of the VPC created when network.mode is create.", default: "10.0.0.0/16" },
        ),
        azCount: integer(int(2, 6), {
            description:
                "Availability zones the created VPC spans (2-6; the region must have that many); node groups spread over them. Subnets are sized from the per-AZ block awsx allocates.",
            default: 3,
        }),
        natGateways: string(oneOf(["single", "onePerAz"]), {
            description: "NAT gateways of the created VPC: single (one, cheaper, one AZ failure domain) or onePerAz.",
            default: "onePerAz",
        }),
        vpcId: string(
            z.string().regex(/^(vpc-[0-9a-f]{8,17})?$/, { error: "must be a VPC id such as vpc-0123456789abcdef0" }),
            {
                description: "Existing VPC id (network.mode existing only).",
                default: "",
            },
        ),
        privateSubnetIds: list(subnetIds, {
            description: "Existing private subnet ids for the nodes, in >= 2 AZs (network.mode existing only).",
            default: [],
        }),
        publicSubnetIds: list(subnetIds, {
            description: "Existing public subnet ids for internet-facing load balancers (network.mode existing only).",
            default: [],
        }),
    }),

    cluster: new Area("The EKS control plane", {
        name: string(
            z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, {
                error: "must be 1-100 letters, digits, '-' or '_', starting with a letter or digit",
            }),
            {
                description:
                    "EKS cluster name; also names the control-plane log group /aws/eks/<name>/cluster, and is ExternalDNS's txtOwnerId (the owner of the stack's DNS records; at most 63 characters with edge.zones). Required.",
            },
        ),
        upgradePolicy: string(oneOf(["STANDARD", "EXTENDED"]), {
            description:
                "EKS support policy: STANDARD, or EXTENDED (paid; keeps an old version running past standard support).",
            default: "STANDARD",
        }),
        endpointPublicAccess: boolean({
            description:
                "Whether the API endpoint is reachable from the internet (only from cluster.publicAccessCidrs). The private endpoint is always on.",
            default: false,
        }),
        publicAccessCidrs: list(
            z
                .array(cidr, { error: "must be a list of CIDR blocks" })
                // EKS quota "Public endpoint access CIDR ranges per cluster" (user guide, service quotas).
                .max(40, { error: "must list at most 40 CIDRs (the EKS limit per cluster)" }),
            {
                description:
                    "CIDRs allowed to reach the public API endpoint (where `pulumi up` and `preview` run, e.g. the CI runners' egress); required when the public endpoint is on.",
                default: [],
                example: true,
            },
        ),
        privateAccessCidrs: list(
            z.array(
                cidr.refine((c) => PRIVATE_RANGES.some((r) => cidrInside(c, r)), {
                    error: `must be inside the VPC or a connected private network (${PRIVATE_RANGES.join(", ")})`,
                }),
                { error: "must be a list of CIDR blocks" },
            ),
            {
                description:
                    "CIDRs inside the VPC (or a connected network) where `pulumi up` and `preview` run, admitted on 443 by the cluster security group; one of these or privateAccessSecurityGroupIds is required when the public endpoint is off.",
                default: [],
            },
        ),
        privateAccessSecurityGroupIds: list(
            z.array(
                z.string().regex(/^sg-[0-9a-f]{8,17}$/, {
                    error: "must be a security group id such as sg-0123456789abcdef0",
                }),
                { error: "must be a list of security group ids" },
            ),
            {
                description:
                    "Security groups of in-VPC runners of `pulumi up` and `preview` (e.g. a self-hosted CI runner), admitted on 443 by the cluster security group.",
                default: [],
            },
        ),
        logTypes: list(
            z
                .array(oneOf(CONTROL_PLANE_LOG_TYPES), { error: "must be a list of log types" })
                .refine((types) => new Set(types).size === types.length, { error: "must not repeat a log type" }),
            {
                description:
                    "Control-plane log types sent to CloudWatch (api, audit, authenticator, controllerManager, scheduler).",
                default: [...CONTROL_PLANE_LOG_TYPES],
            },
        ),
        deletionProtection: boolean({
            description: "EKS deletion protection (the cluster cannot be deleted until it is turned off).",
            default: true,
        }),
        adminRoleArns: list(z.array(roleArn, { error: "must be a list of IAM role ARNs" }), {
            description:
                "IAM roles of the people who operate the cluster, each given cluster-admin through an EKS access entry.",
            default: [],
            example: true,
        }),
        deployRoleArn: string(roleArn, {
            description:
                "IAM role the deploy workflow runs `pulumi up` as; cluster-admin through an access entry (it applies CRDs, namespaces and RBAC). Required.",
            example: true,
        }),
        previewRoleArn: string(roleArnOrEmpty, {
            description:
                'IAM role pull-request previews run as ("" for none); cluster-admin too, since a server-side-apply preview is a server-side dry run with the same authorization as the write.',
            default: "",
            example: true,
        }),
        bootstrapRoleArn: string(roleArn, {
            description:
                "The role that runs the first `pulumi up` (one of adminRoleArns or deployRoleArn): EKS makes the cluster's creator admin itself, so it gets no access entry (a second one fails with 409). Fixed for the life of the cluster. Required.",
            example: true,
        }),
    }),

    nodes: new Area("The managed system node group (Karpenter, cluster-critical controllers)", {
        instanceTypes: list(
            z
                .array(
                    z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, {
                        error: "must be an EC2 instance type such as m6i.large",
                    }),
                    { error: "must be a list of instance types" },
                )
                .min(1, { error: "must list at least one instance type" }),
            { description: "EC2 instance types of the managed node group.", default: ["m6i.large"] },
        ),
        amiType: string(
            oneOf(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"]),
            {
                description:
                    "Managed node group AMI type (AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, BOTTLEROCKET_x86_64, BOTTLEROCKET_ARM_64).",
                default: "AL2023_x86_64_STANDARD",
            },
        ),
        diskSizeGiB: integer(int(20, 16384), { description: "Root volume size of each node, GiB.", default: 50 }),
        minSize: integer(int(SYSTEM_NODES_MIN, 1000), {
            description: `Minimum node count (>= ${SYSTEM_NODES_MIN}: the group is the system nodes Karpenter's two replicas run on, on different nodes).`,
            default: 3,
        }),
        desiredSize: integer(int(1, 1000), {
            description: "Initial node count (later owned by the autoscaler; changes are ignored after creation).",
            default: 3,
        }),
        maxSize: integer(int(1, 1000), { description: "Maximum node count.", default: 6 }),
    }),

    karpenter: new Area("Karpenter's NodePool: the capacity for workloads beyond the system node group", {
        capacityTypes: list(
            z
                .array(oneOf(["spot", "on-demand"]), { error: "must be a list of capacity types" })
                .min(1, { error: "must list at least one capacity type (spot, on-demand)" })
                .refine((t) => new Set(t).size === t.length, { error: "must not repeat a capacity type" }),
            {
                description:
                    "Capacity types Karpenter may buy: spot, on-demand (on-demand only where interruptions are not acceptable).",
                default: ["on-demand"],
            },
        ),
        instanceCategories: list(
            z
                .array(
                    z.string().regex(NODEPOOL_PATTERNS.category, {
                        error: "must be an EC2 instance category such as c, m or r",
                    }),
                    {
                        error: "must be a list of instance categories",
                    },
                )
                .min(1, { error: "must list at least one instance category" }),
            {
                description: "EC2 instance categories the NodePool may launch (c, m, r, ...).",
                default: ["c", "m", "r"],
            },
        ),
        limitsCpu: integer(int(1, 100000), {
            description: "Ceiling of the NodePool: total vCPUs of its nodes.",
            default: 128,
        }),
        limitsMemory: string(
            z.string().regex(/^[0-9]+(Mi|Gi|Ti)$/, { error: "must be a memory quantity such as 512Gi" }),
            {
                description: "Ceiling of the NodePool: total memory of its nodes (a quantity such as 512Gi).",
                default: "512Gi",
            },
        ),
        expireAfter: string(
            z.string().regex(NODEPOOL_PATTERNS.duration, {
                error: "must be a duration such as 720h (never Never: nodes must be replaced to pick up new AMIs)",
            }),
            { description: "Node lifetime before Karpenter replaces it (a duration such as 720h).", default: "720h" },
        ),
        consolidateAfter: string(
            z.string().refine((v) => v === "Never" || NODEPOOL_PATTERNS.duration.test(v), {
                error: "must be a duration such as 10m, or Never",
            }),
            {
                description:
                    "How long a node stays empty or underutilized before consolidation (a duration, or Never).",
                default: "10m",
            },
        ),
        disruptionBudgetNodes: string(
            z.string().regex(NODEPOOL_PATTERNS.budgetNodes, {
                error: "must be a node count or a percentage such as 10%",
            }),
            { description: "Nodes (a count or a percentage) Karpenter may disrupt at once.", default: "10%" },
        ),
    }),

    externalSecrets: new Area("External Secrets Operator: Secrets Manager secrets as Kubernetes Secrets", {
        secretPrefix: string(
            z.string().superRefine((prefix, ctx) => {
                const problem = secretPrefixProblem(prefix);
                if (problem) ctx.addIssue({ code: "custom", input: prefix, message: `must be ${problem}` });
            }),
            {
                description:
                    "The stack reads only Secrets Manager secrets named <secretPrefix>/... (per stack, so one cluster never reads another's secrets). Required.",
            },
        ),
        kmsKeyArns: list(
            z.array(
                z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, {
                    error: "must be a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/0123abcd-...",
                }),
                { error: "must be a list of KMS key ARNs" },
            ),
            {
                description:
                    "Customer-managed KMS keys the secrets are encrypted with (kms:Decrypt through Secrets Manager only); none for the aws/secretsmanager key.",
                default: [],
            },
        ),
        replicas: integer(int(1, 5), {
            description: "Replicas of the External Secrets controller, its webhook and its cert controller.",
            default: 2,
        }),
    }),

    vpa: new Area("The Vertical Pod Autoscaler, in recommendation mode only", {
        enabled: boolean({
            description:
                "Install the VPA recommender and give checkout a VerticalPodAutoscaler with updateMode Off (it recommends; the HPA scales).",
            default: true,
        }),
    }),

    registry: new Area("The ECR repository of checkout-service images", {
        repositoryName: string(
            z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
                error: "must be an ECR repository name (lowercase letters, digits, '.', '_', '-', '/')",
            }),
            {
                description:
                    "ECR repository of checkout-service images (unique per account and region; change it for a second stack there).",
                default: "checkout-service",
            },
        ),
        forceDelete: boolean({
            description: "Let `pulumi destroy` delete the ECR repository while it still holds images.",
            default: false,
        }),
        kmsEncryption: boolean({
            description: "Encrypt the ECR repository with a customer-managed KMS key (else AES256).",
            default: true,
        }),
        keepCiImages: integer(int(1, 10000), {
            description:
                "ECR lifecycle policy keeps this many most recent CI images (tags sha-<commit>); release tags (x.y.z) never expire.",
            default: 30,
        }),
        untaggedExpiryDays: integer(int(1, 3650), {
            description: "ECR lifecycle policy expires untagged images after this many days.",
            default: 7,
        }),
    }),

    logs: new Area("The CloudWatch log groups the program owns", {
        retentionInDays: integer(
            z.number().refine((d) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(d), {
                error: `must be a CloudWatch retention period: one of ${CLOUDWATCH_RETENTION_DAYS.join(", ")}`,
            }),
            {
                description: `Retention of every log group the program owns; a CloudWatch value (${CLOUDWATCH_RETENTION_DAYS.join(", ")}).`,
                default: 365,
            },
        ),
        kmsEncryption: boolean({
            description: "Encrypt the log groups with a customer-managed KMS key.",
            default: true,
        }),
    }),

    certManager: new Area("cert-manager and its Let's Encrypt ClusterIssuers", {
        replicas: integer(int(1, 5), {
            description:
                "Replicas of the cert-manager controller, webhook and cainjector (2+ also turns their PodDisruptionBudgets on).",
            default: 2,
        }),
        acmeEmail: string(z.email({ error: "must be an email address (Let's Encrypt sends expiry notices there)" }), {
            description: "Email for the Let's Encrypt ACME account (expiry notices). Required.",
            example: true,
        }),
    }),

    edge: new Area("The way in from the internet: Route53 zones, the Gateway's certificates, DNS records", {
        zones: objects(
            z.array(hostedZone, { error: "must be a list of {id, name}" }).superRefine((zones, ctx) => {
                for (const field of ["id", "name"] as const)
                    zones.forEach((zone, i) => {
                        const first = zones.findIndex((z) => z[field] === zone[field]);
                        if (first !== i)
                            ctx.addIssue({
                                code: "custom",
                                path: [i, field],
                                input: zone[field],
                                message: `repeats the ${field} of edge.zones[${first}]: list each zone once`,
                            });
                    });
            }),
            Object.keys(hostedZone.shape),
            {
                description:
                    "Public Route53 hosted zones the edge may use: a list of {id, name} (zone id such as Z0123456789ABCDEFGHIJ, domain such as example.com). cert-manager answers DNS01 challenges and ExternalDNS writes records in these zones only. Empty: no edge at all (no load balancer controller, Gateway, ExternalDNS or ClusterIssuers; services are reachable only inside the cluster).",
                default: [],
                example: true,
            },
        ),
        issuer: string(oneOf(["staging", "production"]), {
            description:
                "Let's Encrypt environment of the Gateway's certificates: staging (untrusted certificates, generous rate limits) or production.",
            default: "production",
        }),
        externalDnsPolicy: string(oneOf(["sync", "upsert-only"]), {
            description:
                "ExternalDNS policy: sync (also deletes the records it owns once their route is gone, so a removed hostname or a destroyed stack leaves no record behind) or upsert-only (never deletes). Records are owned through TXT records under the txtOwnerId, which is cluster.name.",
            default: "sync",
        }),
    }),

    checkout: new Area("The checkout-service workload", {
        namespace: string(
            z
                .string()
                .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: "must be a Kubernetes namespace name (DNS label)" })
                .refine((ns) => !["default", "kube-system", "kube-public", "kube-node-lease"].includes(ns), {
                    error: "must not be default or a kube-* system namespace",
                }),
            { description: "Namespace of the checkout-service workload.", default: "checkout" },
        ),
        hostname: string(
            z.string().superRefine((h, ctx) => {
                const problem =
                    h === "" ? undefined : (hostnameProblem(h) ?? (h.startsWith("*.") ? "is a wildcard" : undefined));
                if (problem)
                    ctx.addIssue({
                        code: "custom",
                        input: h,
                        message: `${problem}: give the one host name checkout is served at, such as checkout.example.com`,
                    });
            }),
            {
                description:
                    'Host name checkout-service is served at over HTTPS, inside one of edge.zones (its own listener and certificate on the Gateway, and its DNS record). Required when edge.zones lists a zone; "" without an edge.',
                default: "",
                example: true,
            },
        ),
        imageTag: string(imageTagSchema, {
            description:
                "Image tag (or sha256 digest) of checkout-service in this program's ECR repository; never latest. Required.",
        }),
        minReplicas: integer(int(2, 1000), { description: "HPA minimum replicas (>= 2).", default: 3 }),
        maxReplicas: integer(int(2, 1000), { description: "HPA maximum replicas (> minimum).", default: 10 }),
        cpuRequest: string(quantity("cpu"), { description: "CPU request of the checkout container.", default: "300m" }),
        cpuLimit: string(quantity("cpu"), { description: "CPU limit of the checkout container.", default: "600m" }),
        memoryRequest: string(quantity("memory"), {
            description: "Memory request of the checkout container.",
            default: "384Mi",
        }),
        memoryLimit: string(quantity("memory"), {
            description: "Memory limit of the checkout container.",
            default: "768Mi",
        }),
        dbPoolMax: integer(int(1, 1000), {
            description: "DB_POOL_MAX, the service's database connection pool size.",
            default: 20,
        }),
        logLevel: string(oneOf(["debug", "info", "warn", "error"]), {
            description: "LOG_LEVEL of the service (debug, info, warn, error).",
            default: "info",
        }),
        egress: objects(
            z.array(egressRule, { error: "must be a list of {name, cidr, port, protocol?}" }),
            Object.keys(egressRule.shape),
            {
                description:
                    "Dependencies the service may reach besides DNS: a list of {name, cidr, port, protocol (TCP or UDP, default TCP)}; each becomes a NetworkPolicy egress rule.",
                default: [],
            },
        ),
        databaseSecret: string(
            z.string().refine((name) => name === "" || secretPrefixProblem(name) === undefined, {
                error: 'must be a Secrets Manager secret name such as checkout-prod/orders-db, or ""',
            }),
            {
                description:
                    'Secrets Manager secret (RDS credentials format) holding the order store\'s credentials, under externalSecrets.secretPrefix/; an ExternalSecret turns it into the Secret the DB_* variables come from. "" for no database (no orders kept).',
                default: "",
            },
        ),
        extraEnv: map(
            z.record(envName, z.string({ error: "must be a string (quote numbers)" }), {
                error: "must be a map of ENV_NAME to string value",
            }),
            { description: "Extra non-secret environment variables: a map of NAME to string value.", default: {} },
        ),
    }),

    telemetry: new Area("Metrics and SLO alerts (Amazon Managed Service for Prometheus)", {
        alertEmails: list(
            z
                .array(z.email({ error: "must be an email address" }), { error: "must be a list of email addresses" })
                .min(1, { error: "must list at least one email address (the SLO alerts go there)" }),
            {
                description:
                    "Email addresses the SLO alerts go to (each an SNS subscription, confirmed from the message AWS sends). Required.",
                example: true,
            },
        ),
    }),
} as const;

export type Schema = typeof SCHEMA;
type ValueOf<F> = F extends Field<infer T> ? T : never;

/** The configuration as the stack declares it, typed from the schema (no second declaration). */
export type RawConfig = {
    readonly [K in keyof Schema]: Schema[K] extends Area<infer F>
        ? { readonly [N in keyof F]: ValueOf<F[N]> }
        : ValueOf<Schema[K]>;
};

/** One declared key: its path as Pulumi.yaml and `pulumi config set --path` write it. */
export interface DeclaredKey {
    /** `cluster.name`, or `tags` for a top-level key. */
    readonly path: string;
    readonly area?: string;
    readonly field: string;
    readonly spec: Field;
}

/** Every declared key, in schema order. */
export const DECLARED_KEYS: readonly DeclaredKey[] = Object.entries(SCHEMA).flatMap(([top, entry]) =>
    entry instanceof Area
        ? Object.entries(entry.fields as Record<string, Field>).map(([field, spec]) => ({
              path: `${top}.${field}`,
              area: top,
              field,
              spec,
          }))
        : [{ path: top, field: top, spec: entry as Field }],
);

/** The areas (top-level keys holding an object of fields). */
export const AREAS: readonly string[] = Object.entries(SCHEMA)
    .filter(([, e]) => e instanceof Area)
    .map(([k]) => k);

/**
 * Values documentation reserves, which the shipped stack files use as examples. Any config value
 * containing one is reported on every run until it is replaced.
 */
export const EXAMPLE_VALUES: readonly { readonly pattern: RegExp; readonly what: string }[] = [
    { pattern: /(?<!\d)(111111111111|222222222222|123456789012)(?!\d)/, what: "an AWS documentation account id" },
    {
        pattern: /(?<![\d.])(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}(\/\d{1,2})?(?![\d.])/,
        what: "a documentation address range (RFC 5737)",
    },
    { pattern: /(^|[@./\s])example\.(com|org|net)\b/i, what: "a documentation domain (RFC 2606)" },
    { pattern: /\bZ0123456789[A-Z]{10}\b/, what: "this repository's placeholder Route53 zone ids" },
];
