/**
 * The pure parts of the Cluster component: who may reach the Kubernetes API and with which EKS
 * access policy, from where the API is reachable, and what disks and metadata options the nodes
 * launch with. No resources here; cluster.ts turns these into resources and the tests check them
 * table-driven.
 */
import type * as eks from "@pulumi/eks";

/** EKS access policy ARNs (docs: "Review access policy permissions"). */
export const ACCESS_POLICY = {
    clusterAdmin: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
} as const;

/** The IAM principals that use the Kubernetes API, each with the access it needs. */
export interface ClusterAccess {
    /** Human operators' IAM roles: cluster-admin (break-glass, kubectl, the first `up` from a laptop). */
    readonly adminRoleArns: readonly string[];
    /**
     * The role the deploy workflow runs `pulumi up` as: cluster-admin, because the program creates
     * cluster-scoped objects (Namespaces, CRDs from Helm charts, ClusterIssuers, ClusterRoles and
     * their bindings).
     */
    readonly deployRoleArn: string;
    /**
     * The role pull-request previews run as, `""` when previews run as the deploy role. Also
     * cluster-admin: with server-side apply every preview is a server-side dry run, which Kubernetes
     * authorizes exactly like the write itself, for the same cluster-scoped objects. A weaker policy
     * does not fail the preview: pulumi-kubernetes (provider.go, Create/Update in preview) falls back
     * to a client-side diff on Forbidden, so the preview would silently stop showing what the API
     * server would do.
     */
    readonly previewRoleArn: string;
    /**
     * The principal that runs the first `up` of the stack (creates the cluster). pulumi-eks 4.3.0
     * sets `bootstrapClusterCreatorAdminPermissions: true` (cluster.ts 734-741, not overridable:
     * pulumi-eks#2373), so EKS gives the creator cluster-admin itself; an explicit entry for the same
     * principal fails with 409. It must be an admin role or the deploy role and gets no explicit
     * entry. It is fixed for the life of the cluster: EKS keeps the bootstrap entry until someone
     * deletes it.
     */
    readonly bootstrapRoleArn: string;
}

/** `arn:aws:iam::<account>:role/<path/>name` -> account and `path/name`, or undefined. */
function roleParts(arn: string): { account: string; pathAndName: string } | undefined {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(.+)$/.exec(arn);
    return m ? { account: m[1], pathAndName: m[2] } : undefined;
}

/** Whatever makes `access` unusable, as sentences; empty when it is fine. */
export function accessProblems(access: ClusterAccess): string[] {
    const problems: string[] = [];
    const all = [
        ...access.adminRoleArns,
        access.deployRoleArn,
        ...(access.previewRoleArn ? [access.previewRoleArn] : []),
    ];
    for (const arn of all) if (!roleParts(arn)) problems.push(`${arn} is not an IAM role ARN`);
    const dup = all.filter((a, i) => all.indexOf(a) !== i);
    for (const arn of new Set(dup)) problems.push(`${arn} is listed twice; EKS allows one access entry per principal`);
    if (![...access.adminRoleArns, access.deployRoleArn].includes(access.bootstrapRoleArn)) {
        problems.push(
            `the bootstrap role ${access.bootstrapRoleArn} is neither an admin role nor the deploy role, so it would stay an undeclared cluster-admin`,
        );
    }
    return problems;
}

/**
 * The access entries eks.Cluster creates: every principal but the bootstrap one, keyed by a name
 * derived from the role ARN (never by list position: a renamed entry is created before the old one
 * is deleted, and two entries for one principal fail with 409).
 */
export function accessEntries(access: ClusterAccess): Record<string, eks.types.input.AccessEntryArgs> {
    const problems = accessProblems(access);
    if (problems.length > 0) throw new Error(`invalid cluster access: ${problems.join("; ")}`);
    const clusterAdmin = { clusterAdmin: { policyArn: ACCESS_POLICY.clusterAdmin, accessScope: { type: "cluster" } } };
    const principals: [string, string][] = [
        ...access.adminRoleArns.map((arn): [string, string] => {
            const { account, pathAndName } = roleParts(arn)!;
            return [`admin-${account}-${pathAndName.replace(/[^A-Za-z0-9_-]/g, "-")}`, arn];
        }),
        ["deploy", access.deployRoleArn],
        ...(access.previewRoleArn ? [["preview", access.previewRoleArn] as [string, string]] : []),
    ];
    const keys = principals.map(([key]) => key);
    const clash = keys.find((k, i) => keys.indexOf(k) !== i);
    // Two ARNs that differ only in characters a resource name cannot hold ("a.b" and "a-b").
    if (clash) throw new Error(`invalid cluster access: two admin roles map to the entry name ${clash}`);
    return Object.fromEntries(
        principals
            .filter(([, arn]) => arn !== access.bootstrapRoleArn)
            .map(([key, arn]) => [key, { principalArn: arn, accessPolicies: clusterAdmin }]),
    );
}

/** Where `pulumi up`/`preview` (and people) reach the Kubernetes API from. */
export interface ApiAccess {
    /** The public endpoint is on, reachable only from `publicAccessCidrs`. The private one is always on. */
    readonly endpointPublicAccess: boolean;
    /** Internet CIDRs allowed to the public endpoint (the runners' egress); empty when it is off. */
    readonly publicAccessCidrs: readonly string[];
    /** CIDRs inside the VPC or a connected network allowed to the private endpoint (443). */
    readonly privateAccessCidrs: readonly string[];
    /** Security groups of in-VPC runners, bastions or SSM hosts allowed to the private endpoint (443). */
    readonly privateAccessSecurityGroupIds: readonly string[];
}

export type ApiIngressSource = { readonly key: string } & (
    | { readonly cidr: string; readonly securityGroupId?: undefined }
    | { readonly securityGroupId: string; readonly cidr?: undefined }
);

/** One 443 ingress rule per private source, keyed by its value (stable when the lists are reordered). */
export function apiIngressSources(api: ApiAccess): ApiIngressSource[] {
    return [
        ...api.privateAccessCidrs.map((cidr) => ({ key: `cidr-${cidr.replace(/[./]/g, "-")}`, cidr })),
        ...api.privateAccessSecurityGroupIds.map((securityGroupId) => ({ key: securityGroupId, securityGroupId })),
    ];
}

/** Whatever makes `api` unreachable or invalid, as sentences; empty when it is fine. */
export function apiAccessProblems(api: ApiAccess): string[] {
    if (api.endpointPublicAccess) {
        return api.publicAccessCidrs.length === 0
            ? ["the public endpoint is on with no publicAccessCidrs, which EKS reads as 0.0.0.0/0"]
            : [];
    }
    const problems: string[] = [];
    if (api.publicAccessCidrs.length > 0) problems.push("publicAccessCidrs is set but the public endpoint is off");
    if (apiIngressSources(api).length === 0) {
        problems.push(
            "the endpoint is private and no privateAccessCidrs or privateAccessSecurityGroupIds are given, so nothing could reach the API",
        );
    }
    return problems;
}

/**
 * The label of the managed node group. It is the system group: Karpenter runs there (it cannot run on
 * the capacity it manages) next to the cluster-critical controllers, and Karpenter's nodes take the
 * rest. Not tainted: every add-on the program installs (the EKS add-ons' Deployments included, whose
 * configuration schemas cannot be checked here) would need a toleration, and one missing would leave
 * its pods pending until the first up times out. Workload pods may land on it when there is room.
 */
export const SYSTEM_NODE_LABELS = { "platform/node-group": "system" } as const;

/** Karpenter's two replicas use required host anti-affinity: the system group needs two nodes. */
export const SYSTEM_NODES_MIN = 2;

/** Why the system node group's sizes cannot carry the controllers, as sentences; empty when fine. */
export function systemNodeProblems(nodes: { readonly minSize: number }): string[] {
    return nodes.minSize >= SYSTEM_NODES_MIN
        ? []
        : [
              `nodes.minSize is ${nodes.minSize}; the system node group needs at least ${SYSTEM_NODES_MIN} nodes (Karpenter's two replicas must run on different nodes)`,
          ];
}

/**
 * IMDSv2 required, as pulumi-eks's `enableIMDSv2` sets it (nodes/nodegroup.ts 2235-2242 at 4.3.0).
 * Hop limit 2 keeps IMDS reachable from pods that are not on the host network; pods get AWS
 * credentials from Pod Identity or IRSA, not from the node role.
 */
export const NODE_METADATA_OPTIONS = {
    httpEndpoint: "enabled",
    httpTokens: "required",
    httpPutResponseHopLimit: 2,
} as const;

export interface NodeBlockDevice {
    readonly deviceName: string;
    readonly ebs: {
        readonly volumeSize?: number;
        readonly volumeType: "gp3";
        readonly encrypted: "true";
        readonly deleteOnTermination: "true";
        readonly kmsKeyId?: string;
    };
}

/**
 * The block devices of a node, all encrypted gp3. AL2023 boots and runs from /dev/xvda; Bottlerocket
 * boots from /dev/xvda and keeps images and pods on the /dev/xvdb data volume (the device names
 * pulumi-eks uses, nodes/nodegroup.ts 2245-2259), so both are mapped and the size goes to the data
 * volume. Without `kmsKeyArn` EBS uses the account's `aws/ebs` key; a customer key needs a key
 * policy that lets the Auto Scaling service-linked role use it (EC2 Auto Scaling user guide,
 * "Required AWS KMS key policy for use with encrypted volumes"), or nodes never launch.
 */
export function nodeBlockDevices(amiType: string, diskSizeGiB: number, kmsKeyArn?: string): NodeBlockDevice[] {
    const ebs = (volumeSize?: number): NodeBlockDevice["ebs"] => ({
        ...(volumeSize !== undefined ? { volumeSize } : {}),
        volumeType: "gp3",
        encrypted: "true",
        deleteOnTermination: "true",
        ...(kmsKeyArn ? { kmsKeyId: kmsKeyArn } : {}),
    });
    if (amiType.startsWith("AL2023_")) return [{ deviceName: "/dev/xvda", ebs: ebs(diskSizeGiB) }];
    if (amiType.startsWith("BOTTLEROCKET_")) {
        return [
            { deviceName: "/dev/xvda", ebs: ebs() },
            { deviceName: "/dev/xvdb", ebs: ebs(diskSizeGiB) },
        ];
    }
    throw new Error(`no block device layout for AMI type ${amiType} (AL2023_* or BOTTLEROCKET_*)`);
}
