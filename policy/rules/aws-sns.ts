/** SNS: topics are KMS-encrypted; a topic policy that lets an AWS service publish pins its source. */
import { conditionEntries, parsePolicy, principals } from "../lib/iam";
import { resourceRule } from "../lib/rule";
import { UNKNOWN, show } from "../lib/values";

export const snsTopicEncrypted = resourceRule({
    name: "sns-topic-encrypted",
    description: "Every SNS topic is encrypted with a KMS key (kmsMasterKeyId).",
    tier: "B",
    remediation:
        "set kmsMasterKeyId to a customer-managed key whose policy lets the publishing service use it for this topic.",
    types: ["aws:sns/topic:Topic"],
    check: (r) => {
        const key = r.props.kmsMasterKeyId;
        if (key !== UNKNOWN && (typeof key !== "string" || key.trim() === "")) {
            r.report(`kmsMasterKeyId is ${show(key)}`);
        }
    },
});

/**
 * A service principal allowed to publish without `aws:SourceArn` and `aws:SourceAccount` can be
 * made to publish on behalf of any account's resource (the confused deputy, IAM user guide).
 */
export const snsTopicPolicyServiceSource = resourceRule({
    name: "sns-topic-policy-service-source",
    description:
        "A topic policy statement that allows an AWS service principal names the source: aws:SourceArn and aws:SourceAccount conditions.",
    tier: "B",
    remediation: "add Condition ArnEquals aws:SourceArn (the publishing resource) and StringEquals aws:SourceAccount.",
    types: ["aws:sns/topicPolicy:TopicPolicy"],
    check: (r) => {
        const doc = parsePolicy(r.props.policy);
        if (doc === UNKNOWN || doc === undefined) return;
        if (!doc.ok) return r.report(`policy is ${doc.error}`);
        doc.statements.forEach((st, i) => {
            const services = principals(st.principal, "Service");
            if (st.effect !== "Allow" || services.length === 0) return;
            const keys = new Set(conditionEntries(st.condition).map((c) => c.key.toLowerCase()));
            const missing = ["aws:SourceArn", "aws:SourceAccount"].filter((k) => !keys.has(k.toLowerCase()));
            if (missing.length > 0) {
                r.report(`statement ${i} allows ${services.map(String).join(", ")} without ${missing.join(" and ")}`);
            }
        });
    },
});

export const snsRules = [snsTopicEncrypted, snsTopicPolicyServiceSource];
