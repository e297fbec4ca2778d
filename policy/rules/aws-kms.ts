/** KMS: every symmetric key this program creates rotates. */
import { resourceRule } from "../lib/rule";
import { UNKNOWN, show } from "../lib/values";

export const kmsKeyRotation = resourceRule({
    name: "kms-key-rotation",
    description: "Every symmetric customer-managed KMS key rotates automatically.",
    tier: "B",
    remediation: "set enableKeyRotation: true on the aws.kms.Key.",
    types: ["aws:kms/key:Key"],
    check: (r) => {
        // Asymmetric and HMAC keys cannot rotate automatically; the rule is about encryption keys.
        const spec = r.props.keySpec ?? r.props.customerMasterKeySpec;
        if (typeof spec === "string" && spec !== "SYMMETRIC_DEFAULT") return;
        const v = r.props.enableKeyRotation;
        if (v !== UNKNOWN && v !== true) r.report(`enableKeyRotation is ${show(v)}`);
    },
});

export const kmsRules = [kmsKeyRotation];
