/**
 * CloudWatch Logs: a retention CloudWatch accepts (PutRetentionPolicy), a minimum in prod, KMS in
 * prod with a key policy that lets the regional CloudWatch Logs service principal use the key.
 */
import { StackGraph, label } from "../lib/graph";
import { parsePolicy, principals } from "../lib/iam";
import { resourceRule, stackRule } from "../lib/rule";
import { UNKNOWN, show } from "../lib/values";

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/** The values CloudWatch Logs accepts for retentionInDays (0 / unset = never expire). */
export const VALID_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const cloudwatchLogRetentionValid = resourceRule({
    name: "cloudwatch-log-retention-valid",
    description: "Every log group expires its events after a retention CloudWatch accepts.",
    tier: "B",
    remediation: `set retentionInDays to one of ${VALID_RETENTION_DAYS.join(", ")}.`,
    types: [LOG_GROUP],
    check: (r) => {
        const v = r.props.retentionInDays;
        if (v === UNKNOWN) return;
        if (v === undefined || v === 0) return r.report("retentionInDays is not set, so events never expire");
        if (!(VALID_RETENTION_DAYS as readonly unknown[]).includes(v))
            r.report(`retentionInDays ${show(v)} is not a value CloudWatch accepts`);
    },
});

export const cloudwatchLogRetentionMinimum = resourceRule({
    name: "cloudwatch-log-retention-minimum",
    description: "Log groups keep events at least minLogRetentionDays (default 90) (prod).",
    tier: "P",
    remediation: "raise retentionInDays to at least minLogRetentionDays (365 is the AWS Config default).",
    types: [LOG_GROUP],
    knobs: ["minLogRetentionDays"],
    check: (r) => {
        const v = r.props.retentionInDays;
        // Unset means "never expire", which keeps events long enough; the B rule flags it.
        if (typeof v === "number" && v > 0 && v < r.knobs.minLogRetentionDays) {
            r.report(`retentionInDays is ${v}, below ${r.knobs.minLogRetentionDays}`);
        }
    },
});

export const cloudwatchLogKms = resourceRule({
    name: "cloudwatch-log-kms",
    description: "Log groups are encrypted with a customer-managed KMS key (prod).",
    tier: "P",
    remediation: "set kmsKeyId to a rotating KMS key whose policy lets logs.<region>.amazonaws.com use it.",
    types: [LOG_GROUP],
    check: (r) => {
        const v = r.props.kmsKeyId;
        if (v === undefined || v === "") r.report("kmsKeyId is not set");
    },
});

const LOGS_SERVICE = /^logs(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;

export const cloudwatchLogKmsKeyPolicy = stackRule({
    name: "cloudwatch-log-kms-key-policy",
    description:
        "A KMS key this program creates for a log group lets CloudWatch Logs use it (or creating the group fails).",
    tier: "B",
    remediation:
        "add a key policy statement allowing Principal { Service: logs.<region>.amazonaws.com } kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe*.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        for (const lg of g.ofType(LOG_GROUP)) {
            const keyId = g.props(lg).kmsKeyId;
            if (keyId === undefined || keyId === "") continue;
            const fromKeyId = (lg.propertyDependencies.kmsKeyId ?? []).filter((d) => d.type === "aws:kms/key:Key");
            const keys = fromKeyId.length > 0 ? fromKeyId : g.dependenciesOfType(lg, "aws:kms/key:Key");
            if (keys.length !== 1) continue; // not ours, or ambiguous: nothing to check against
            const key = keys[0];
            const policy = parsePolicy(g.props(key).policy);
            if (policy === UNKNOWN) continue;
            const allowsLogs =
                policy !== undefined &&
                policy.ok &&
                policy.statements.some(
                    (st) =>
                        st.effect === "Allow" &&
                        principals(st.principal, "Service").some((p) => typeof p === "string" && LOGS_SERVICE.test(p)),
                );
            if (!allowsLogs)
                s.report(
                    `${label(key)} (the key of ${label(lg)}) has no key policy statement for CloudWatch Logs`,
                    key.urn,
                );
        }
    },
});

export const logRules = [
    cloudwatchLogRetentionValid,
    cloudwatchLogRetentionMinimum,
    cloudwatchLogKms,
    cloudwatchLogKmsKeyPolicy,
];
