import * as aws from "@pulumi/aws";
import * as awsxEc2 from "@pulumi/awsx/ec2";
import * as pulumi from "@pulumi/pulumi";
import { KARPENTER_DISCOVERY_TAG } from "./addons/karpenter-spec";

export interface NetworkArgs {
    /**
     * A dedicated VPC to create, or an existing one to use as it is.
     * `create`: private subnets (nodes) and public subnets (load balancers) in every AZ.
     */
    readonly vpc:
        | {
              readonly mode: "create";
              /** IPv4 CIDR of the VPC. */
              readonly cidrBlock: string;
              /**
               * Number of availability zones (>= 2 for a highly available cluster). The region must
               * have that many: awsx takes the first `azCount` of `aws.getAvailabilityZones` and
               * throws when there are fewer (`Vpc.getDefaultAzs`).
               */
              readonly azCount: number;
              /** `single`: one NAT gateway (cheaper; egress depends on one AZ). `onePerAz`: one per AZ. */
              readonly natGateways: "single" | "onePerAz";
          }
        | {
              readonly mode: "existing";
              readonly vpcId: string;
              readonly privateSubnetIds: readonly string[];
              readonly publicSubnetIds: readonly string[];
          };
    /**
     * Name of the EKS cluster that will use the subnets; tags them for load balancer discovery, and
     * the private ones for Karpenter's (`karpenter.sh/discovery: <clusterName>`, which its
     * EC2NodeClass selects by).
     */
    readonly clusterName: string;
    /**
     * Tags for every resource.
     * @default {}
     */
    readonly tags?: Record<string, string>;
}

/**
 * Subnet sizes for a VPC of prefix length `vpcPrefixLength` over `azCount` AZs, derived from the
 * block awsx gives each AZ. awsx's `Auto` strategy (pulumi/pulumi-awsx
 * `awsx/ec2/subnetDistributorNew.ts`, `allocateSubnetCidrBlocks`; read at tag v3.8.0 and at
 * e60adf3c of 2026-08-20, identical; the pinned 3.9.0 was published 2026-09-01) splits the VPC
 * into AZ blocks of /(prefix + ceil(log2 azCount)) and places every subnet spec of an AZ inside its
 * block, throwing "Subnets are too large for VPC" when they do not fit. Fixed masks of 1/8 and 1/64
 * of the VPC fit up to 4 AZs and fail at 5 or 6 (a 1/8 AZ block cannot hold a 1/8 subnet and more),
 * so the masks follow the AZ block: the private subnet (nodes and, with the VPC CNI, every pod IP)
 * takes half of it, the public one (load balancers only) a sixteenth.
 */
export function subnetMasks(
    vpcPrefixLength: number,
    azCount: number,
): { azBlock: number; private: number; public: number } {
    const azBlock = vpcPrefixLength + awsxNewBits(azCount);
    return { azBlock, private: azBlock + 1, public: azBlock + 4 };
}

/** awsx's `newBits`: the bits that number `count` blocks (0 for 0 or 1). */
function awsxNewBits(count: number): number {
    return count <= 1 ? 0 : Math.ceil(Math.log2(count));
}

/** The smallest subnet EC2 creates (VPC user guide, "Subnet sizing": between /28 and /16). */
const SMALLEST_SUBNET_PREFIX = 28;

/**
 * Why awsx (or EC2) would refuse subnets of these masks in a `/vpcPrefixLength` VPC over `azCount` AZs,
 * or `undefined` when they fit. Reproduces awsx's check: the AZ block is /(prefix + ceil(log2 azCount))
 * and the sum of the AZ's subnet sizes must not exceed it.
 */
export function subnetFitProblem(
    vpcPrefixLength: number,
    azCount: number,
    masks: { readonly private: number; readonly public: number },
): string | undefined {
    if (!Number.isInteger(azCount) || azCount < 1) return `needs at least one AZ`;
    const azBlock = vpcPrefixLength + awsxNewBits(azCount);
    const size = (prefix: number) => 2 ** (32 - prefix);
    const tooSmall = [masks.private, masks.public].filter((m) => m > SMALLEST_SUBNET_PREFIX);
    if (tooSmall.length > 0)
        return `a /${vpcPrefixLength} VPC over ${azCount} AZs needs /${tooSmall.join(" and /")} subnets, smaller than the /${SMALLEST_SUBNET_PREFIX} AWS allows`;
    const needed = size(masks.private) + size(masks.public);
    if (needed > size(azBlock))
        return `a /${vpcPrefixLength} VPC over ${azCount} AZs gives each AZ a /${azBlock} block (${size(azBlock)} addresses), but a private /${masks.private} and a public /${masks.public} subnet need ${needed} (awsx: "Subnets are too large for VPC")`;
    return undefined;
}

/**
 * The private subnets awsx lays out in a created VPC, known before it exists: AZ block `i` is the
 * i-th /(prefix + ceil(log2 azCount)) of the VPC, and the first subnet spec (private, `subnetMasks`)
 * starts at the block's base (`allocateSubnetCidrBlocks` in awsx/ec2/subnetDistributorNew.ts, the
 * same at v3.8.0 and e60adf3c).
 */
export function privateSubnetCidrs(cidrBlock: string, azCount: number): string[] {
    const [ip, bits] = cidrBlock.split("/");
    const prefix = Number(bits);
    const { azBlock, private: mask } = subnetMasks(prefix, azCount);
    const base = ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const vpcBase = base - (base % 2 ** (32 - prefix));
    const dotted = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
    return Array.from({ length: azCount }, (_, i) => `${dotted(vpcBase + i * 2 ** (32 - azBlock))}/${mask}`);
}

/**
 * The config check for a created VPC: why `cidrBlock` over `azCount` AZs cannot be laid out, or
 * `undefined`. The config loader reports it against `network.azCount`.
 */
export function vpcLayoutProblem(cidrBlock: string, azCount: number): string | undefined {
    const prefix = Number(cidrBlock.split("/")[1]);
    if (!Number.isInteger(prefix) || prefix < 16 || prefix > 28)
        return `needs a VPC CIDR from /16 to /28; got ${cidrBlock}`;
    return subnetFitProblem(prefix, azCount, subnetMasks(prefix, azCount));
}

/**
 * Subnet tags the AWS Load Balancer Controller uses to pick subnets for each scheme, and on the
 * private (node) subnets the tag Karpenter launches nodes into.
 */
export function subnetRoleTags(clusterName: string, role: "public" | "private"): Record<string, string> {
    return {
        [`kubernetes.io/cluster/${clusterName}`]: "shared",
        [role === "public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]: "1",
        ...(role === "private" ? { [KARPENTER_DISCOVERY_TAG]: clusterName } : {}),
    };
}

/** The network the cluster runs in: a VPC over several AZs, or an existing VPC given by config. */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Subnets for nodes and pods: no public IPs, egress through NAT. */
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Subnets for internet-facing load balancers. */
    readonly publicSubnetIds: pulumi.Output<string[]>;
    /**
     * The private subnets' CIDR blocks, one per subnet (how many is known before deployment). A
     * NetworkPolicy names sources outside the cluster by them: the managed Prometheus collector's
     * ENIs, and the node addresses hostNetwork agents listen on.
     */
    readonly privateSubnetCidrs: pulumi.Output<string>[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:network:Network", name, {}, opts);
        const tags = args.tags ?? {};

        if (args.vpc.mode === "existing") {
            // Someone else's subnets: only Karpenter's discovery tag is added (one aws.ec2.Tag each,
            // keyed by subnet id so a reordered list changes nothing), and removed again on destroy.
            // The load balancer tags stay the owner's business. Nothing waits for these: they exist
            // long before the EC2NodeClass (after the cluster), and Karpenter re-reads subnets every minute.
            for (const subnetId of args.vpc.privateSubnetIds)
                new aws.ec2.Tag(
                    `${name}-${subnetId}-discovery`,
                    { resourceId: subnetId, key: KARPENTER_DISCOVERY_TAG, value: args.clusterName },
                    { parent: this },
                );
            this.vpcId = pulumi.output(args.vpc.vpcId);
            this.privateSubnetIds = pulumi.output([...args.vpc.privateSubnetIds]);
            this.publicSubnetIds = pulumi.output([...args.vpc.publicSubnetIds]);
        } else {
            const problem = vpcLayoutProblem(args.vpc.cidrBlock, args.vpc.azCount);
            if (problem !== undefined)
                throw new Error(
                    `${name}: vpc.azCount ${args.vpc.azCount} with vpc.cidrBlock ${args.vpc.cidrBlock}: ${problem}`,
                );
            const masks = subnetMasks(Number(args.vpc.cidrBlock.split("/")[1]), args.vpc.azCount);
            const vpc = new awsxEc2.Vpc(
                `${name}-vpc`,
                {
                    cidrBlock: args.vpc.cidrBlock,
                    numberOfAvailabilityZones: args.vpc.azCount,
                    enableDnsHostnames: true,
                    enableDnsSupport: true,
                    natGateways: { strategy: args.vpc.natGateways === "single" ? "Single" : "OnePerAz" },
                    subnetStrategy: "Auto",
                    subnetSpecs: [
                        {
                            type: "Private",
                            cidrMask: masks.private,
                            tags: { ...tags, ...subnetRoleTags(args.clusterName, "private") },
                        },
                        {
                            type: "Public",
                            cidrMask: masks.public,
                            tags: { ...tags, ...subnetRoleTags(args.clusterName, "public") },
                        },
                    ],
                    tags: { ...tags, Name: `${name}-vpc` },
                },
                { parent: this },
            );
            this.vpcId = vpc.vpcId;
            this.privateSubnetIds = vpc.privateSubnetIds;
            this.publicSubnetIds = vpc.publicSubnetIds;
        }

        this.privateSubnetCidrs =
            args.vpc.mode === "existing"
                ? // Known only by id: read from EC2 (the ids are plain, so this answers at preview too).
                  args.vpc.privateSubnetIds.map((id) => aws.ec2.getSubnetOutput({ id }, { parent: this }).cidrBlock)
                : privateSubnetCidrs(args.vpc.cidrBlock, args.vpc.azCount).map((c) => pulumi.output(c));

        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            publicSubnetIds: this.publicSubnetIds,
        });
    }
}
