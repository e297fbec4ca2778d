// The Cluster component's arguments as the tests build it alone (cluster.test.ts) or under the
// add-ons (teardown.test.ts): one set of defaults, each test changing only what it is about.
import type { ClusterAccess, ClusterArgs } from "../components/cluster";

export const role = (name: string, account = "111111111111") => `arn:aws:iam::${account}:role/${name}`;
export const ACCESS: ClusterAccess = {
    adminRoleArns: [role("platform-admin"), role("aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0a1b")],
    deployRoleArn: role("platform-deploy"),
    previewRoleArn: role("platform-preview"),
    bootstrapRoleArn: role("platform-deploy"),
};

export type ClusterFixtureArgs = Omit<ClusterArgs, "controlPlaneLogGroup">;

/** Private endpoint reached from one runner security group, Bottlerocket arm64 nodes with a KMS key. */
export const clusterArgs = (change: Partial<ClusterFixtureArgs> = {}): ClusterFixtureArgs => ({
    clusterName: "c1",
    upgradePolicy: "STANDARD",
    vpcId: "vpc-1",
    privateSubnetIds: ["subnet-a", "subnet-b"],
    publicSubnetIds: ["subnet-c", "subnet-d"],
    api: {
        endpointPublicAccess: false,
        publicAccessCidrs: [],
        privateAccessCidrs: [],
        privateAccessSecurityGroupIds: ["sg-0abc1234"],
    },
    access: ACCESS,
    logTypes: ["api", "audit", "authenticator"],
    deletionProtection: false,
    nodes: {
        instanceTypes: ["m7g.large"],
        amiType: "BOTTLEROCKET_ARM_64",
        diskSizeGiB: 80,
        minSize: 2,
        desiredSize: 2,
        maxSize: 3,
        volumeKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/nodes",
    },
    ...change,
});
