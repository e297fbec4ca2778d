/**
 * Whether the block devices a node gets are explicitly encrypted. One check for every place nodes
 * get their disks from: an EC2 launch template (`blockDeviceMappings[].ebs.encrypted`, a string or
 * boolean in the AWS SDK) and a Karpenter EC2NodeClass (`spec.blockDeviceMappings[].ebs.encrypted`,
 * a boolean). A mapping without `ebs` (instance store, `noDevice`) holds no EBS volume to encrypt.
 *
 * "Explicitly" because without `encrypted` a volume is encrypted only if its AMI snapshot is, or if
 * the account's EBS encryption-by-default is on, neither of which the program controls.
 */
import { UNKNOWN, Unknown, at, isRecord, show } from "./values";

export type VolumeSource = "launch template" | "EC2NodeClass";

const isTrue = (v: unknown) => v === true || v === "true";

/**
 * The problems of one `blockDeviceMappings` list, `[]` when every EBS volume is encrypted, `UNKNOWN`
 * when that cannot be told yet (a computed value during a preview).
 */
export function volumeEncryptionProblems(mappings: unknown, source: VolumeSource): string[] | Unknown {
    if (mappings === UNKNOWN) return UNKNOWN;
    if (mappings === undefined || (Array.isArray(mappings) && mappings.length === 0)) {
        return [
            `the ${source} maps no block devices, so the AMI's volumes are used as they are (encrypted only if the snapshot or the account default is)`,
        ];
    }
    if (!Array.isArray(mappings)) return [`blockDeviceMappings is not a list (${show(mappings)})`];
    const problems: string[] = [];
    mappings.forEach((m, i) => {
        if (m === UNKNOWN) return;
        if (!isRecord(m)) return void problems.push(`blockDeviceMappings[${i}] is ${show(m)}`);
        const ebs = m.ebs;
        if (ebs === undefined || ebs === UNKNOWN) return;
        const encrypted = at(ebs, "encrypted");
        if (encrypted === UNKNOWN) return;
        if (!isTrue(encrypted)) {
            const device = typeof m.deviceName === "string" ? ` (${m.deviceName})` : "";
            problems.push(`blockDeviceMappings[${i}]${device} has ebs.encrypted ${show(encrypted)}`);
        }
    });
    return problems;
}
