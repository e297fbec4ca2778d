/**
 * The Kubernetes version of every cluster this program builds, and the EKS add-on builds chosen for
 * it: one table, bumped together (README, "Upgrading Kubernetes and the add-ons").
 *
 * Kubernetes 1.36: on `reviewedOn` it was the newest EKS version with at least 6 months of standard
 * support left (1.35 ends 2027-03-27, under 4 months later; 1.36 ends 2027-08-02), and every
 * pinned component supports it (cert-manager 1.21 covers 1.33-1.36). The support calendar itself is
 * policy/lib/eks-calendar.ts; `eks-kubernetes-version-supported` reads it.
 *
 * Add-on builds: the EKS user guide lists the latest build per Kubernetes version for coredns
 * ("CoreDNS versions": 1.36 -> v1.14.3-eksbuild.3) and kube-proxy ("kube-proxy versions": 1.36 ->
 * v1.36.0-eksbuild.14). vpc-cni, eks-pod-identity-agent and metrics-server are the builds EKS
 * resolved on 1.36 clusters in late 2026; amazon-cloudwatch-observability 6.4.0 is the first line
 * built after its operator added Kubernetes 1.36 (aws-observability/helm-charts #342, released in
 * 6.3.0/6.4.0). Before the first `up`, and on every bump, confirm each with
 *
 *     aws eks describe-addon-versions --kubernetes-version 1.36 --addon-name <name> \
 *       --query 'addons[0].addonVersions[].addonVersion'
 *
 * `nodeAmiRelease` is the EKS-optimized AMI release Karpenter's nodes boot (EC2NodeClass alias
 * `al2023@<release>`, never `@latest`): an awslabs/amazon-eks-ami release with builds for this
 * Kubernetes version. v20260714 lists amazon-eks-node-al2023-{x86_64,arm64}-standard-1.36-v20260714
 * (awslabs/amazon-eks-ami:CHANGELOG.md at tag v20260724). A Kubernetes bump needs a release that
 * has builds for the new version; the newest one for a version is the suffix of
 *
 *     aws ec2 describe-images --image-ids $(aws ssm get-parameter --query Parameter.Value --output text \
 *       --name /aws/service/eks/optimized-ami/1.36/amazon-linux-2023/x86_64/standard/recommended/image_id) \
 *       --query 'Images[0].Name'
 */
export const EKS_VERSIONS = {
    kubernetes: "1.36",
    /** The day these versions were checked against the EKS calendar and add-on lists. */
    reviewedOn: "2026-12-01",
    // renovate: datasource=github-releases depName=awslabs/amazon-eks-ami
    nodeAmiRelease: "v20260714",
    addons: {
        // renovate: datasource=aws-eks-addon depName=vpc-cni packageName={"addonName":"vpc-cni","kubernetesVersion":"1.36"}
        "vpc-cni": "v1.23.1-eksbuild.1",
        // renovate: datasource=aws-eks-addon depName=kube-proxy packageName={"addonName":"kube-proxy","kubernetesVersion":"1.36"}
        "kube-proxy": "v1.36.0-eksbuild.14",
        // renovate: datasource=aws-eks-addon depName=coredns packageName={"addonName":"coredns","kubernetesVersion":"1.36"}
        coredns: "v1.14.3-eksbuild.3",
        // renovate: datasource=aws-eks-addon depName=eks-pod-identity-agent packageName={"addonName":"eks-pod-identity-agent","kubernetesVersion":"1.36"}
        "eks-pod-identity-agent": "v1.4.0-eksbuild.2",
        // renovate: datasource=aws-eks-addon depName=metrics-server packageName={"addonName":"metrics-server","kubernetesVersion":"1.36"}
        "metrics-server": "v0.9.0-eksbuild.11",
        // renovate: datasource=aws-eks-addon depName=amazon-cloudwatch-observability packageName={"addonName":"amazon-cloudwatch-observability","kubernetesVersion":"1.36"}
        "amazon-cloudwatch-observability": "v6.4.0-eksbuild.1",
    },
} as const;

/** One table's shape, so a component can take another set (a test, a staged upgrade). */
export interface EksVersionSet {
    readonly kubernetes: string;
    readonly reviewedOn: string;
    readonly nodeAmiRelease: string;
    readonly addons: { readonly [K in keyof (typeof EKS_VERSIONS)["addons"]]: string };
}

export type EksAddonName = keyof EksVersionSet["addons"];
