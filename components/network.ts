import * as awsxEc2 from "@pulumi/awsx/ec2";
import * as pulumi from "@pulumi/pulumi";

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
              /** Number of availability zones (>= 2 for a highly available cluster). */
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
    /** Name of the EKS cluster that will use the subnets; tags them for load balancer discovery. */
    readonly clusterName: string;
    /**
     * Tags for every resource.
     * @default {}
     */
    readonly tags?: Record<string, string>;
}

/**
 * Subnet sizes for a VPC of the given prefix length: each AZ gets a private subnet of 1/8 of the
 * VPC (pods take their IPs from it with the VPC CNI, so it is the big one) and a public subnet of
 * 1/64 (load balancers only). Six AZs use 6/8 + 6/64 of the range, so any azCount fits.
 */
export function subnetMasks(vpcPrefixLength: number): { private: number; public: number } {
    return { private: vpcPrefixLength + 3, public: vpcPrefixLength + 6 };
}

/** Subnet tags the AWS Load Balancer Controller uses to pick subnets for each scheme. */
export function subnetRoleTags(clusterName: string, role: "public" | "private"): Record<string, string> {
    return {
        [`kubernetes.io/cluster/${clusterName}`]: "shared",
        [role === "public" ? "kubernetes.io/role/elb" : "kubernetes.io/role/internal-elb"]: "1",
    };
}

/** The network the cluster runs in: a VPC over several AZs, or an existing VPC given by config. */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Subnets for nodes and pods: no public IPs, egress through NAT. */
    readonly privateSubnetIds: pulumi.Output<string[]>;
    /** Subnets for internet-facing load balancers. */
    readonly publicSubnetIds: pulumi.Output<string[]>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:network:Network", name, {}, opts);
        const tags = args.tags ?? {};

        if (args.vpc.mode === "existing") {
            this.vpcId = pulumi.output(args.vpc.vpcId);
            this.privateSubnetIds = pulumi.output([...args.vpc.privateSubnetIds]);
            this.publicSubnetIds = pulumi.output([...args.vpc.publicSubnetIds]);
        } else {
            const masks = subnetMasks(Number(args.vpc.cidrBlock.split("/")[1]));
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

        this.registerOutputs({
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            publicSubnetIds: this.publicSubnetIds,
        });
    }
}
