/**
 * The Cluster component's pure parts (access entries, API ingress, node disks), the version table,
 * and the component on its own under the mock engine for what the two stacks do not exercise
 * (Bottlerocket, a KMS key for node volumes, a runner security group, a broken API path).
 */
import * as assert from "assert";
import * as aws from "@pulumi/aws";
import {
    ApiAccess,
    ClusterAccess,
    accessEntries,
    accessProblems,
    apiAccessProblems,
    apiIngressSources,
    nodeBlockDevices,
} from "../components/cluster-spec";
import { Cluster } from "../components/cluster";
import { EKS_VERSIONS } from "../components/eks-versions";
import { runWithMocks } from "../harness/engine";
import { EKS_KUBERNETES_CALENDAR, daysBetween, newestSupportedVersion } from "../policy/lib/eks-calendar";
import { volumeEncryptionProblems } from "../policy/lib/volumes";
import { ACCESS, type ClusterFixtureArgs, clusterArgs, role } from "./cluster-fixture";
import { find, ofType } from "./helpers";

describe("cluster access entries", () => {
    it("one entry per principal but the bootstrap one, keyed by the ARN, all cluster-admin", () => {
        const entries = accessEntries(ACCESS);
        assert.deepStrictEqual(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, e.principalArn])), {
            "admin-111111111111-platform-admin": role("platform-admin"),
            "admin-111111111111-aws-reserved-sso-amazonaws-com-eu-west-1-AWSReservedSSO_Admin_0a1b": role(
                "aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0a1b",
            ),
            preview: role("platform-preview"),
        });
        for (const e of Object.values(entries))
            assert.deepStrictEqual(e.accessPolicies, {
                clusterAdmin: {
                    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    accessScope: { type: "cluster" },
                },
            });
    });

    it("keys do not move when the admin list is reordered (a moved key would be created before the old one is deleted: 409)", () => {
        const reordered = { ...ACCESS, adminRoleArns: [...ACCESS.adminRoleArns].reverse() };
        assert.deepStrictEqual(Object.keys(accessEntries(reordered)).sort(), Object.keys(accessEntries(ACCESS)).sort());
    });

    it("whoever bootstraps gets no entry (pulumi-eks#2373)", () => {
        const byAdmin = accessEntries({ ...ACCESS, bootstrapRoleArn: role("platform-admin") });
        assert.deepStrictEqual(Object.keys(byAdmin).sort(), [
            "admin-111111111111-aws-reserved-sso-amazonaws-com-eu-west-1-AWSReservedSSO_Admin_0a1b",
            "deploy",
            "preview",
        ]);
        assert.ok(!Object.values(byAdmin).some((e) => e.principalArn === role("platform-admin")));
        assert.deepStrictEqual(
            Object.keys(accessEntries({ ...ACCESS, previewRoleArn: "" })).includes("preview"),
            false,
        );
    });

    it("two admin roles whose entry names would clash are an error, not a silently dropped entry", () => {
        const clash = { ...ACCESS, adminRoleArns: [role("ops.admin"), role("ops-admin")] };
        assert.throws(() => accessEntries(clash), /two admin roles map to the entry name admin-111111111111-ops-admin/);
    });

    it("problems: a duplicate principal, an undeclared bootstrap principal, a non-role ARN", () => {
        const table: [string, Partial<ClusterAccess>, string[]][] = [
            ["fine", {}, []],
            [
                "preview role = deploy role",
                { previewRoleArn: role("platform-deploy") },
                [`${role("platform-deploy")} is listed twice; EKS allows one access entry per principal`],
            ],
            [
                "bootstrap by the preview role",
                { bootstrapRoleArn: role("platform-preview") },
                [
                    `the bootstrap role ${role("platform-preview")} is neither an admin role nor the deploy role, so it would stay an undeclared cluster-admin`,
                ],
            ],
            [
                "a user, not a role",
                { adminRoleArns: ["arn:aws:iam::111111111111:user/alice"] },
                ["arn:aws:iam::111111111111:user/alice is not an IAM role ARN"],
            ],
        ];
        for (const [what, change, expected] of table)
            assert.deepStrictEqual(accessProblems({ ...ACCESS, ...change }), expected, what);
        assert.throws(() => accessEntries({ ...ACCESS, previewRoleArn: role("platform-deploy") }), /listed twice/);
    });
});

describe("cluster API network path", () => {
    const api = (change: Partial<ApiAccess>): ApiAccess => ({
        endpointPublicAccess: false,
        publicAccessCidrs: [],
        privateAccessCidrs: [],
        privateAccessSecurityGroupIds: [],
        ...change,
    });

    it("one 443 source per private CIDR or security group, keyed by its value", () => {
        assert.deepStrictEqual(
            apiIngressSources(
                api({ privateAccessCidrs: ["10.0.0.0/16"], privateAccessSecurityGroupIds: ["sg-0abc1234"] }),
            ),
            [
                { key: "cidr-10-0-0-0-16", cidr: "10.0.0.0/16" },
                { key: "sg-0abc1234", securityGroupId: "sg-0abc1234" },
            ],
        );
    });

    it("problems: a private endpoint nothing can reach, a public one open to all", () => {
        const table: [string, ApiAccess, string[]][] = [
            ["private with a runner CIDR", api({ privateAccessCidrs: ["10.0.0.0/16"] }), []],
            ["private with a runner group", api({ privateAccessSecurityGroupIds: ["sg-0abc1234"] }), []],
            [
                "public with an allow-list",
                api({ endpointPublicAccess: true, publicAccessCidrs: ["198.51.100.7/32"] }),
                [],
            ],
            [
                "private, no source (pulumi-eks#1134)",
                api({}),
                [
                    "the endpoint is private and no privateAccessCidrs or privateAccessSecurityGroupIds are given, so nothing could reach the API",
                ],
            ],
            [
                "public without CIDRs",
                api({ endpointPublicAccess: true }),
                ["the public endpoint is on with no publicAccessCidrs, which EKS reads as 0.0.0.0/0"],
            ],
        ];
        for (const [what, a, expected] of table) assert.deepStrictEqual(apiAccessProblems(a), expected, what);
    });
});

describe("node block devices", () => {
    const gp3 = { volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" };
    const table: [string, string, string | undefined, object[]][] = [
        [
            "AL2023: the root volume",
            "AL2023_x86_64_STANDARD",
            undefined,
            [{ deviceName: "/dev/xvda", ebs: { volumeSize: 50, ...gp3 } }],
        ],
        [
            "Bottlerocket: OS volume at the AMI's size, data volume sized",
            "BOTTLEROCKET_ARM_64",
            undefined,
            [
                { deviceName: "/dev/xvda", ebs: gp3 },
                { deviceName: "/dev/xvdb", ebs: { volumeSize: 50, ...gp3 } },
            ],
        ],
        [
            "a customer-managed key",
            "AL2023_ARM_64_STANDARD",
            "arn:aws:kms:eu-west-1:111111111111:key/abc",
            [
                {
                    deviceName: "/dev/xvda",
                    ebs: { volumeSize: 50, ...gp3, kmsKeyId: "arn:aws:kms:eu-west-1:111111111111:key/abc" },
                },
            ],
        ],
    ];
    for (const [what, amiType, key, expected] of table) {
        it(what, () => {
            const devices = nodeBlockDevices(amiType, 50, key);
            assert.deepStrictEqual(devices, expected);
            // The program's disks pass the same check the policy pack runs (eks-nodes-encrypted-volumes).
            assert.deepStrictEqual(volumeEncryptionProblems(devices, "launch template"), []);
        });
    }

    it("an AMI type without a known disk layout is an error, not an unencrypted guess", () => {
        assert.throws(() => nodeBlockDevices("AL2_x86_64", 50), /no block device layout for AMI type AL2_x86_64/);
    });
});

describe("the version table (components/eks-versions.ts)", () => {
    const { kubernetes, reviewedOn, addons } = EKS_VERSIONS;

    it("pins the newest EKS version with at least 6 months of standard support left on the review day", () => {
        assert.ok(EKS_KUBERNETES_CALENDAR[kubernetes], `${kubernetes} has a calendar row`);
        assert.ok(daysBetween(reviewedOn, EKS_KUBERNETES_CALENDAR[kubernetes].endOfStandardSupport) >= 183);
        assert.strictEqual(newestSupportedVersion(reviewedOn, 183), kubernetes);
    });

    it("pins every add-on to an exact EKS build, kube-proxy to the same Kubernetes minor", () => {
        for (const [name, version] of Object.entries(addons))
            assert.match(version, /^v\d+\.\d+\.\d+-eksbuild\.\d+$/, name);
        assert.ok(addons["kube-proxy"].startsWith(`v${kubernetes}.`), "kube-proxy follows the control plane minor");
    });
});

describe("Cluster under the mock engine", () => {
    type Args = ClusterFixtureArgs;
    const args = clusterArgs;
    const build = (a: Args) =>
        runWithMocks(
            () => {
                const logs = new aws.cloudwatch.LogGroup("lg", { name: "/aws/eks/c1/cluster" });
                new Cluster("k", { ...a, controlPlaneLogGroup: logs });
            },
            { project: "checkout-platform", stack: "unit", mode: "test" },
        );

    it("a runner security group becomes a 443 rule on the cluster group; Bottlerocket disks use the KMS key", async () => {
        const run = await build(args());
        const rule = find(run, "aws:ec2/securityGroupRule:SecurityGroupRule", "k-api-sg-0abc1234");
        assert.strictEqual(rule.props.sourceSecurityGroupId, "sg-0abc1234");
        assert.strictEqual(rule.props.cidrBlocks, undefined);
        assert.deepStrictEqual([rule.props.fromPort, rule.props.toPort, rule.props.protocol], [443, 443, "tcp"]);
        const lt = find(run, "aws:ec2/launchTemplate:LaunchTemplate", "k-nodes-lt");
        const devices = lt.props.blockDeviceMappings as { deviceName: string; ebs: Record<string, unknown> }[];
        assert.deepStrictEqual(
            devices.map((d) => [d.deviceName, d.ebs.volumeSize, d.ebs.kmsKeyId]),
            [
                ["/dev/xvda", undefined, "arn:aws:kms:eu-west-1:111111111111:key/nodes"],
                ["/dev/xvdb", 80, "arn:aws:kms:eu-west-1:111111111111:key/nodes"],
            ],
        );
        assert.strictEqual(ofType(run, "aws:eks/addon:Addon").length, 3);
    });

    it("a private endpoint with no runner path stops the program before anything is created", async () => {
        const broken = args({
            api: {
                endpointPublicAccess: false,
                publicAccessCidrs: [],
                privateAccessCidrs: [],
                privateAccessSecurityGroupIds: [],
            },
        });
        await assert.rejects(build(broken), /k: invalid API access: the endpoint is private and no privateAccessCidrs/);
    });
});
