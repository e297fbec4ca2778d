/**
 * The VPC CNI settings under which the kubelet's probes reach pods. NetworkPolicies need no rule for
 * them: the network policy agent admits the node's own IP to every pod it enforces
 * (aws/aws-network-policy-agent v1.4.1 pkg/fwruleprocessor/fw_rule_processor.go; PR #65, issue
 * #56). Security groups for pods do need one: with `ENABLE_POD_ENI` the kubelet's TCP connections to
 * pods on branch ENIs fail unless `DISABLE_TCP_EARLY_DEMUX` is set on the CNI's init container
 * (aws/amazon-vpc-cni-k8s v1.23.0 README, `DISABLE_TCP_EARLY_DEMUX`). pulumi-eks v4.3.0
 * nodejs/eks/addons/cni-addon.ts maps `enablePodEni` to `env.ENABLE_POD_ENI` and
 * `disableTcpEarlyDemux` to `init.env.DISABLE_TCP_EARLY_DEMUX`, with `configurationValues` winning.
 */
import { resourceRule } from "../lib/rule";
import { UNKNOWN, at, jsonDoc, show } from "../lib/values";

const EKS_COMPONENT = "eks:index:Cluster";
const CNI_COMPONENT = "eks:index:VpcCniAddon";
const ADDON = "aws:eks/addon:Addon";

/** A boolean setting as the add-on schema spells it ("true"/"false") or as pulumi-eks takes it. */
function flag(v: unknown): boolean | typeof UNKNOWN | undefined {
    if (v === UNKNOWN) return UNKNOWN;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    return undefined;
}

export const eksVpcCniProbesWithPodEni = resourceRule({
    name: "eks-vpc-cni-probes-with-pod-eni",
    description:
        "With security groups for pods (ENABLE_POD_ENI), the VPC CNI disables TCP early demux, so the kubelet's probes reach pods on branch ENIs.",
    tier: "B",
    remediation:
        'set vpcCniOptions.disableTcpEarlyDemux: true next to enablePodEni (add-on configurationValues {"init": {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}}}), or leave pod ENI off.',
    types: [EKS_COMPONENT, CNI_COMPONENT, ADDON],
    check: (r) => {
        let options: unknown;
        if (r.type === EKS_COMPONENT) options = at(r.props, "vpcCniOptions");
        else if (r.type === CNI_COMPONENT) options = r.props;
        else if (r.props.addonName !== "vpc-cni") return;
        if (options === UNKNOWN) return;

        const doc = jsonDoc(r.type === ADDON ? r.props.configurationValues : at(options, "configurationValues"));
        if (doc === UNKNOWN) return;
        // An unparsable document is eks-vpc-cni-network-policy's finding.
        const values = doc !== undefined && doc.ok ? doc.value : undefined;
        const podEni = flag(at(values, "env", "ENABLE_POD_ENI") ?? at(options, "enablePodEni"));
        const demuxOff = flag(
            at(values, "init", "env", "DISABLE_TCP_EARLY_DEMUX") ?? at(options, "disableTcpEarlyDemux"),
        );
        if (podEni !== true || demuxOff === UNKNOWN || demuxOff === true) return;
        r.report(
            `ENABLE_POD_ENI is on but DISABLE_TCP_EARLY_DEMUX is ${show(demuxOff)}: the kubelet's probes cannot reach pods that use security groups`,
        );
    },
});

export const vpcCniRules = [eksVpcCniProbesWithPodEni];
