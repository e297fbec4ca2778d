/** ECR (DESIGN.md guardrails, AWS: "ECR", and the per-stack table's "ECR not force-deletable"). */
import type { PolicyResource } from "@pulumi/policy";
import { StackGraph, label } from "../lib/graph";
import { conditionEntries, parsePolicy, principals } from "../lib/iam";
import { resourceRule, stackRule } from "../lib/rule";
import { UNKNOWN, at, isRecord, jsonDoc, list, show } from "../lib/values";

const REPOSITORY = "aws:ecr/repository:Repository";
const LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy";

export const ecrImmutableTags = resourceRule({
    name: "ecr-immutable-tags",
    description: "Image tags are immutable: a tag always names the image that was reviewed.",
    tier: "B",
    remediation: 'set imageTagMutability: "IMMUTABLE".',
    types: [REPOSITORY],
    check: (r) => {
        const v = r.props.imageTagMutability;
        if (v !== UNKNOWN && v !== "IMMUTABLE")
            r.report(`imageTagMutability is ${v === undefined ? "not set (MUTABLE)" : show(v)}`);
    },
});

export const ecrScanOnPush = resourceRule({
    name: "ecr-scan-on-push",
    description: "Images are scanned for vulnerabilities when pushed.",
    tier: "B",
    remediation: "set imageScanningConfiguration: { scanOnPush: true }.",
    types: [REPOSITORY],
    check: (r) => {
        const v = at(r.props, "imageScanningConfiguration", "scanOnPush");
        if (v !== UNKNOWN && v !== true) r.report(`imageScanningConfiguration.scanOnPush is ${show(v)}`);
    },
});

const ENCRYPTION_TYPES = ["AES256", "KMS", "KMS_DSSE"];

function encryptionType(props: Record<string, unknown>): unknown {
    const configs = list(props.encryptionConfigurations);
    if (configs === UNKNOWN) return UNKNOWN;
    return configs.length === 0 ? undefined : at(configs[0], "encryptionType");
}

export const ecrEncryption = resourceRule({
    name: "ecr-encryption",
    description: "The repository's encryption is configured explicitly (AES256 or KMS).",
    tier: "B",
    remediation:
        'set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey }] (or "AES256" where a KMS key is not required).',
    types: [REPOSITORY],
    check: (r) => {
        const t = encryptionType(r.props);
        if (t !== UNKNOWN && !ENCRYPTION_TYPES.includes(t as string)) {
            r.report(`encryptionConfigurations[0].encryptionType is ${show(t)}`);
        }
    },
});

export const ecrKmsEncryption = resourceRule({
    name: "ecr-kms-encryption",
    description: "The repository is encrypted with a customer-managed KMS key (prod).",
    tier: "P",
    remediation: 'set encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }] with a rotating key.',
    types: [REPOSITORY],
    check: (r) => {
        const t = encryptionType(r.props);
        if (t === UNKNOWN) return;
        if (t !== "KMS" && t !== "KMS_DSSE") return r.report(`encryptionType is ${show(t)}, not KMS`);
        const key = at(list(r.props.encryptionConfigurations), 0, "kmsKey");
        if (key === undefined || key === "")
            r.report("encryptionType is KMS but no kmsKey is given (the AWS-managed key is used)");
    },
});

export const ecrNoForceDelete = resourceRule({
    name: "ecr-no-force-delete",
    description: "The repository cannot be deleted while it holds images (prod).",
    tier: "P",
    remediation: "leave forceDelete unset or false.",
    types: [REPOSITORY],
    check: (r) => {
        if (r.props.forceDelete === true) r.report("forceDelete is true");
    },
});

export const ecrNoPublicPolicy = resourceRule({
    name: "ecr-no-public-policy",
    description: "No repository policy grants access to any principal (`*`) without a condition.",
    tier: "B",
    remediation: "name the accounts or roles in Principal, or restrict a wildcard principal with aws:PrincipalOrgID.",
    types: ["aws:ecr/repositoryPolicy:RepositoryPolicy"],
    check: (r) => {
        const policy = parsePolicy(r.props.policy);
        if (policy === UNKNOWN || policy === undefined) return;
        if (!policy.ok) return r.report(`policy is ${policy.error}`);
        policy.statements.forEach((st, i) => {
            const everyone = principals(st.principal, "AWS").includes("*") || st.principal === "*";
            if (st.effect === "Allow" && everyone && conditionEntries(st.condition).length === 0) {
                r.report(`statement ${i} allows Principal "*" without a condition`);
            }
        });
    },
});

/** Whether a lifecycle policy belongs to a repository: by name, by dependency, or by the autonamed prefix. */
function lifecycleBelongsTo(g: StackGraph, lp: PolicyResource, repo: PolicyResource): boolean {
    const target = g.props(lp).repository;
    const name = g.props(repo).name;
    if (typeof target === "string" && typeof name === "string") return target === name;
    if (g.waitsFor(lp, repo)) return true;
    return typeof target === "string" && name === undefined && target.startsWith(`${repo.name}-`);
}

export const ecrLifecyclePolicy = stackRule({
    name: "ecr-lifecycle-policy",
    description: "Every ECR repository has a lifecycle policy with at least one rule.",
    tier: "B",
    remediation: "create an aws.ecr.LifecyclePolicy for the repository (expire untagged images, cap the tagged ones).",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const policies = g.ofType(LIFECYCLE_POLICY);
        for (const repo of g.ofType(REPOSITORY)) {
            const mine = policies.filter((lp) => lifecycleBelongsTo(g, lp, repo));
            if (mine.length === 0) {
                s.report(`${label(repo)} has no lifecycle policy`, repo.urn);
                continue;
            }
            for (const lp of mine) {
                const doc = jsonDoc(g.props(lp).policy);
                if (doc === UNKNOWN) continue;
                const rules = doc && doc.ok && isRecord(doc.value) ? list(doc.value.rules) : [];
                if (rules !== UNKNOWN && rules.length === 0) {
                    s.report(`${label(lp)} has no rules (policy = ${show(g.props(lp).policy)})`, lp.urn);
                }
            }
        }
    },
});

export const ecrRules = [
    ecrImmutableTags,
    ecrScanOnPush,
    ecrEncryption,
    ecrKmsEncryption,
    ecrNoForceDelete,
    ecrNoPublicPolicy,
    ecrLifecyclePolicy,
];
