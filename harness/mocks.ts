import * as pulumi from "@pulumi/pulumi";
import { unknown } from "@pulumi/pulumi/output";
import type { EngineMode } from "./engine";

/**
 * The mock engine's answers. Strict: an invoke it does not know throws, so a new data-source call
 * cannot pass silently. In `test` mode computed outputs get fake but well-formed values (account
 * 123456789012 is AWS's documentation account); in `preview` mode they stay unknown, as in a
 * `pulumi preview` of a stack that does not exist yet.
 */
export const FAKE_ACCOUNT = "123456789012";

const region = () => pulumi.runtime.getConfig("aws:region") ?? "eu-west-1";
const partitionOf = (r: string) => (r.startsWith("cn-") ? "aws-cn" : r.startsWith("us-gov-") ? "aws-us-gov" : "aws");
const arn = (service: string, resource: string, scope: "regional" | "global" = "regional") =>
    `arn:${partitionOf(region())}:${service}:${scope === "regional" ? region() : ""}:${FAKE_ACCOUNT}:${resource}`;

type State = Record<string, unknown>;

/** Outputs a provider or remote component computes, per type, in `test` mode. */
function computed(type: string, name: string, inputs: State): State {
    const physical = (inputs.name as string | undefined) ?? `${name}-${"0123456"}`;
    switch (type) {
        case "aws:kms/key:Key":
            return { arn: arn("kms", `key/${name}`), keyId: name };
        case "aws:amp/workspace:Workspace":
            return {
                arn: arn("aps", `workspace/ws-${name}`),
                prometheusEndpoint: `https://aps-workspaces.${region()}.amazonaws.com/workspaces/ws-${name}/`,
            };
        case "aws:sns/topic:Topic":
            return { arn: arn("sns", physical) };
        case "aws:sqs/queue:Queue":
            return {
                arn: arn("sqs", physical),
                name: physical,
                url: `https://sqs.${region()}.amazonaws.com/${FAKE_ACCOUNT}/${physical}`,
            };
        case "aws:cloudwatch/eventRule:EventRule":
            return { arn: arn("events", `rule/${physical}`), name: physical };
        case "aws:kms/alias:Alias":
            return { arn: arn("kms", String(inputs.name)) };
        case "aws:iam/role:Role":
            return {
                arn: arn("iam", `role/${physical}`, "global"),
                name: physical,
                uniqueId: `AROA${name.toUpperCase()}`,
            };
        case "aws:ecr/repository:Repository":
            return {
                arn: arn("ecr", `repository/${physical}`),
                registryId: FAKE_ACCOUNT,
                repositoryUrl: `${FAKE_ACCOUNT}.dkr.ecr.${region()}.amazonaws.com/${physical}`,
            };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { arn: arn("logs", `log-group:${physical}`) };
        case "aws:ec2/launchTemplate:LaunchTemplate":
            return { arn: arn("ec2", `launch-template/lt-${name}`), latestVersion: 1, defaultVersion: 1 };
        case "aws:eks/addon:Addon":
            return { arn: arn("eks", `addon/${String(inputs.clusterName)}/${String(inputs.addonName)}/mock`) };
        case "eks:index:Cluster": {
            const cluster = String(inputs.name ?? name);
            const issuer = `https://oidc.eks.${region()}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
            const kubeconfig = {
                apiVersion: "v1",
                kind: "Config",
                clusters: [{ name: cluster, cluster: { server: `https://EXAMPLE.gr7.${region()}.eks.amazonaws.com` } }],
                contexts: [{ name: cluster, context: { cluster, user: cluster } }],
                "current-context": cluster,
                users: [
                    {
                        name: cluster,
                        user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws" } },
                    },
                ],
            };
            return {
                kubeconfig,
                kubeconfigJson: JSON.stringify(kubeconfig),
                eksCluster: {
                    name: cluster,
                    arn: arn("eks", `cluster/${cluster}`),
                    version: inputs.version,
                    // The security group EKS creates for the cluster (on the managed nodes too).
                    vpcConfig: { clusterSecurityGroupId: "sg-0e1a2b3c4d5e6f703" },
                },
                core: { cluster: { name: cluster } },
                oidcProviderArn: arn("iam", `oidc-provider/${issuer.replace("https://", "")}`, "global"),
                oidcProviderUrl: issuer,
                oidcIssuer: issuer,
                clusterSecurityGroupId: "sg-0c1a2b3c4d5e6f701",
                nodeSecurityGroupId: "sg-0d1a2b3c4d5e6f702",
            };
        }
        case "eks:index:ManagedNodeGroup":
            return { nodeGroup: { nodeGroupName: name, arn: arn("eks", `nodegroup/${name}`), status: "ACTIVE" } };
        case "awsx:ec2:Vpc": {
            const azs = Number(inputs.numberOfAvailabilityZones ?? 3);
            const ids = (kind: number) => Array.from({ length: azs }, (_, i) => `subnet-0${kind}${i}00000000000000`);
            return {
                vpcId: "vpc-0a1b2c3d4e5f60718",
                privateSubnetIds: ids(1),
                publicSubnetIds: ids(2),
                isolatedSubnetIds: [],
            };
        }
        case "kubernetes:helm.sh/v3:Release":
            return {
                status: { status: "deployed", name: inputs.name, namespace: inputs.namespace, version: inputs.version },
            };
        default:
            return {};
    }
}

const invokes: Record<string, (mode: EngineMode, args: State) => State> = {
    "aws:index/getCallerIdentity:getCallerIdentity": (mode) =>
        mode === "test"
            ? { accountId: FAKE_ACCOUNT, arn: arn("iam", "user/mock", "global"), userId: "AIDAMOCK", id: FAKE_ACCOUNT }
            : { accountId: unknown, arn: unknown, userId: unknown, id: unknown },
    // The partition follows from the region alone, so it is known before deployment too.
    "aws:index/getPartition:getPartition": () => {
        const partition = partitionOf(region());
        return { partition, id: partition, dnsSuffix: partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com" };
    },
    // An existing VPC's subnet (ids from config): a /24 in 10.1.0.0/16 derived from the id.
    "aws:ec2/getSubnet:getSubnet": (_mode, args) => {
        const id = String(args.id);
        const third = [...id].reduce((n, c) => (n + c.charCodeAt(0)) % 256, 0);
        return { id, cidrBlock: `10.1.${third}.0/24`, vpcId: "vpc-0123456789abcdef0" };
    },
};

export function mocksFor(mode: EngineMode): pulumi.runtime.Mocks {
    return {
        newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: State } {
            const inputs = args.inputs as State;
            if (mode === "preview") return { id: undefined, state: args.custom ? inputs : {} };
            const id = args.custom ? (args.type === "awsx:ec2:Vpc" ? undefined : `${args.name}-id`) : undefined;
            return { id, state: { ...inputs, ...computed(args.type, args.name, inputs) } };
        },
        call(args: pulumi.runtime.MockCallArgs): State {
            const answer = invokes[args.token];
            if (!answer)
                throw new Error(`mock engine: no answer for invoke ${args.token}; add one to harness/mocks.ts`);
            return answer(mode, args.inputs as State);
        },
    };
}
