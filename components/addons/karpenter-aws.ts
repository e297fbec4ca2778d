/**
 * The pure AWS side of the Karpenter add-on: the controller's IAM policy, the nodes' managed
 * policies, and the interruption queue's policy and event patterns, from upstream's getting-started
 * CloudFormation template at v1.14.1
 * (website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml in
 * aws/karpenter-provider-aws).
 */
import { PolicyDocument } from "../iam";

// ---- IAM ------------------------------------------------------------------------------------------

export interface ControllerPolicyArgs {
    readonly partition: string;
    readonly region: string;
    readonly accountId: string;
    readonly clusterName: string;
    /** The role Karpenter's nodes run as; the only role it may pass. */
    readonly nodeRoleArn: string;
    readonly queueArn: string;
    /** Let EC2 create the Spot service-linked role on the first spot launch (see below). */
    readonly spot: boolean;
}

/**
 * The controller's permissions: upstream's CloudFormation policies at v1.14.1 (NodeLifecycle,
 * IAMIntegration, EKSIntegration, Interruption, ResourceDiscovery), statement for statement, in one
 * document. Left out: ZonalShift (`settings.enableZonalShift` stays off here).
 * Added when spot is allowed: `iam:CreateServiceLinkedRole` for the Spot service-linked role only.
 * An account that never ran a spot instance has no AWSServiceRoleForEC2Spot, and EC2 creates it with
 * the caller's credentials on the first spot request (otherwise
 * `AuthFailure.ServiceLinkedRoleCreationNotPermitted`; Karpenter troubleshooting "Missing Service
 * Linked Role", openshift/machine-api-operator#580). Creating the role as a resource instead would
 * fail with "has been taken" in every account that already has it, and two stacks in one account
 * would fight over it.
 */
export function karpenterControllerPolicy(a: ControllerPolicyArgs): PolicyDocument {
    const { partition: p, region: r, accountId: acct, clusterName: c } = a;
    const ec2 = (resource: string) => `arn:${p}:ec2:${r}:*:${resource}`;
    const owned = { [`aws:ResourceTag/kubernetes.io/cluster/${c}`]: "owned" };
    const requestOwned = {
        [`aws:RequestTag/kubernetes.io/cluster/${c}`]: "owned",
        "aws:RequestTag/eks:eks-cluster-name": c,
    };
    const nodePoolTagged = { "aws:ResourceTag/karpenter.sh/nodepool": "*" };
    const launched = [
        "fleet/*",
        "instance/*",
        "volume/*",
        "network-interface/*",
        "launch-template/*",
        "spot-instances-request/*",
    ].map(ec2);
    const instanceProfile = `arn:${p}:iam::${acct}:instance-profile/*`;
    const clusterArn = `arn:${p}:eks:${r}:${acct}:cluster/${c}`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AllowScopedEC2InstanceAccessActions",
                Effect: "Allow",
                Resource: [
                    `arn:${p}:ec2:${r}::image/*`,
                    `arn:${p}:ec2:${r}::snapshot/*`,
                    ec2("security-group/*"),
                    ec2("subnet/*"),
                    ec2("capacity-reservation/*"),
                    ec2("placement-group/*"),
                ],
                Action: ["ec2:RunInstances", "ec2:CreateFleet"],
            },
            {
                Sid: "AllowScopedEC2LaunchTemplateAccessActions",
                Effect: "Allow",
                Resource: ec2("launch-template/*"),
                Action: ["ec2:RunInstances", "ec2:CreateFleet"],
                Condition: { StringEquals: owned, StringLike: nodePoolTagged },
            },
            {
                Sid: "AllowScopedEC2InstanceActionsWithTags",
                Effect: "Allow",
                Resource: launched,
                Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                Condition: {
                    StringEquals: requestOwned,
                    StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
                },
            },
            {
                Sid: "AllowScopedResourceCreationTagging",
                Effect: "Allow",
                Resource: launched,
                Action: "ec2:CreateTags",
                Condition: {
                    StringEquals: {
                        ...requestOwned,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                    },
                    StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
                },
            },
            {
                Sid: "AllowScopedResourceTagging",
                Effect: "Allow",
                Resource: ec2("instance/*"),
                Action: "ec2:CreateTags",
                Condition: {
                    StringEquals: owned,
                    StringLike: nodePoolTagged,
                    StringEqualsIfExists: { "aws:RequestTag/eks:eks-cluster-name": c },
                    "ForAllValues:StringEquals": {
                        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"],
                    },
                },
            },
            {
                Sid: "AllowScopedDeletion",
                Effect: "Allow",
                Resource: [ec2("instance/*"), ec2("launch-template/*")],
                Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                Condition: { StringEquals: owned, StringLike: nodePoolTagged },
            },
            {
                Sid: "AllowPassingInstanceRole",
                Effect: "Allow",
                Resource: a.nodeRoleArn,
                Action: "iam:PassRole",
                Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] } },
            },
            {
                Sid: "AllowScopedInstanceProfileCreationActions",
                Effect: "Allow",
                Resource: instanceProfile,
                Action: ["iam:CreateInstanceProfile"],
                Condition: {
                    StringEquals: { ...requestOwned, "aws:RequestTag/topology.kubernetes.io/region": r },
                    StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
                },
            },
            {
                Sid: "AllowScopedInstanceProfileTagActions",
                Effect: "Allow",
                Resource: instanceProfile,
                Action: ["iam:TagInstanceProfile"],
                Condition: {
                    StringEquals: {
                        ...owned,
                        "aws:ResourceTag/topology.kubernetes.io/region": r,
                        ...requestOwned,
                        "aws:RequestTag/topology.kubernetes.io/region": r,
                    },
                    StringLike: {
                        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    },
                },
            },
            {
                Sid: "AllowScopedInstanceProfileActions",
                Effect: "Allow",
                Resource: instanceProfile,
                Action: [
                    "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteInstanceProfile",
                ],
                Condition: {
                    StringEquals: { ...owned, "aws:ResourceTag/topology.kubernetes.io/region": r },
                    StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
                },
            },
            {
                Sid: "AllowAPIServerEndpointDiscovery",
                Effect: "Allow",
                Resource: clusterArn,
                Action: "eks:DescribeCluster",
            },
            {
                Sid: "AllowInterruptionQueueActions",
                Effect: "Allow",
                Resource: a.queueArn,
                Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            },
            {
                Sid: "AllowRegionalReadActions",
                Effect: "Allow",
                Resource: "*",
                Action: [
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribePlacementGroups",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets",
                ],
                Condition: { StringEquals: { "aws:RequestedRegion": r } },
            },
            {
                Sid: "AllowSSMReadActions",
                Effect: "Allow",
                Resource: `arn:${p}:ssm:${r}::parameter/aws/service/*`,
                Action: "ssm:GetParameter",
            },
            { Sid: "AllowPricingReadActions", Effect: "Allow", Resource: "*", Action: "pricing:GetProducts" },
            // Karpenter >= 1.7 lists instance profiles (upgrade guide); IAM cannot scope the list call.
            {
                Sid: "AllowUnscopedInstanceProfileListAction",
                Effect: "Allow",
                Resource: "*",
                Action: "iam:ListInstanceProfiles",
            },
            {
                Sid: "AllowInstanceProfileReadActions",
                Effect: "Allow",
                Resource: instanceProfile,
                Action: "iam:GetInstanceProfile",
            },
            ...(a.spot
                ? [
                      {
                          Sid: "AllowSpotServiceLinkedRoleCreation",
                          Effect: "Allow" as const,
                          Resource: `arn:${p}:iam::${acct}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot`,
                          Action: "iam:CreateServiceLinkedRole",
                          Condition: { StringEquals: { "iam:AWSServiceName": "spot.amazonaws.com" } },
                      },
                  ]
                : []),
        ],
    };
}

/** Managed policies of the nodes' role (the getting-started template's KarpenterNodeRole at v1.14.1). */
export const KARPENTER_NODE_POLICIES = [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
] as const;

// ---- Interruption queue ---------------------------------------------------------------------------

/**
 * The events Karpenter handles from its queue (the template's five EventBridge rules at v1.14.1):
 * it cordons and drains a node before EC2 takes it away, and forgets one that is gone.
 */
export const INTERRUPTION_EVENTS = [
    { key: "health", source: "aws.health", detailType: "AWS Health Event" },
    { key: "spot-interruption", source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
    { key: "rebalance", source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
    { key: "state-change", source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
    {
        key: "capacity-reservation",
        source: "aws.ec2",
        detailType: "EC2 Capacity Reservation Instance Interruption Warning",
    },
] as const;

export function interruptionEventPattern(e: (typeof INTERRUPTION_EVENTS)[number]): Record<string, string[]> {
    return { source: [e.source], "detail-type": [e.detailType] };
}

/** A resource policy (`Principal: "*"` allowed, unlike an identity policy). */
export interface ResourcePolicyDocument {
    readonly Version: "2012-10-17";
    readonly Id?: string;
    readonly Statement: readonly (Omit<PolicyDocument["Statement"][number], "Principal"> & {
        readonly Principal?: "*" | Record<string, string | string[]>;
    })[];
}

/**
 * The queue's policy, as the template has it: EventBridge (and SQS) may send to it, and every
 * request not made over TLS is denied (`aws:SecureTransport` false), whoever makes it.
 */
export function interruptionQueuePolicy(queueArn: string): ResourcePolicyDocument {
    return {
        Version: "2012-10-17",
        Id: "EC2InterruptionPolicy",
        Statement: [
            {
                Sid: "AllowEventBridge",
                Effect: "Allow",
                Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
                Action: "sqs:SendMessage",
                Resource: queueArn,
            },
            {
                Sid: "DenyHTTP",
                Effect: "Deny",
                Principal: "*",
                Action: "sqs:*",
                Resource: queueArn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}
