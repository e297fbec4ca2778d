/**
 * ECR: immutable, scanned, encrypted repositories (prod: KMS, not force-deletable), no public
 * repository policy, and a lifecycle policy that never expires an image a workload runs.
 */
import type { PolicyResource } from "@pulumi/policy";
import { StackGraph, label } from "../lib/graph";
import { conditionEntries, parsePolicy, principals } from "../lib/iam";
import { POD_TYPES, containersOf, describeContainer, podSpecOf } from "../lib/k8s";
import { resourceRule, stackRule } from "../lib/rule";
import { UNKNOWN, Unknown, at, isRecord, jsonDoc, list, show } from "../lib/values";

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

/**
 * ECR's default quota of images per repository (ECR user guide, "Amazon ECR service quotas"): a count
 * rule with this threshold cannot fire, which is how a lifecycle policy keeps images (there is no
 * "retain" action).
 */
const IMAGES_PER_REPOSITORY = 10_000;

interface LifecycleRule {
    readonly priority: number;
    readonly description: string;
    readonly tagStatus: unknown;
    readonly patterns: readonly string[];
    readonly prefixes: readonly string[];
    readonly countType: unknown;
    readonly countNumber: unknown;
}

/** The rules of a lifecycle policy document, in priority order; UNKNOWN or undefined if unreadable. */
function lifecycleRules(policy: unknown): LifecycleRule[] | Unknown | undefined {
    const doc = jsonDoc(policy);
    if (doc === UNKNOWN) return UNKNOWN;
    if (doc === undefined || !doc.ok || !isRecord(doc.value)) return undefined;
    const rules = list(doc.value.rules);
    if (rules === UNKNOWN) return UNKNOWN;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
    return rules
        .filter(isRecord)
        .map((r) => ({
            priority: typeof r.rulePriority === "number" ? r.rulePriority : Number.MAX_SAFE_INTEGER,
            description: typeof r.description === "string" ? r.description : "",
            tagStatus: at(r, "selection", "tagStatus"),
            patterns: strings(at(r, "selection", "tagPatternList")),
            prefixes: strings(at(r, "selection", "tagPrefixList")),
            countType: at(r, "selection", "countType"),
            countNumber: at(r, "selection", "countNumber"),
        }))
        .sort((a, b) => a.priority - b.priority);
}

const ruleName = (r: LifecycleRule) => `rule ${r.priority}${r.description ? ` (${r.description})` : ""}`;

/** ECR tag pattern match: `*` is any run of characters (lifecycle policy properties, `tagPatternList`). */
function tagMatches(pattern: string, tag: string): boolean {
    const body = pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${body}$`).test(tag);
}

/** Whether a rule's tag selection picks an image carrying `tag` (every listed pattern/prefix must match). */
function selectsTag(r: LifecycleRule, tag: string): boolean {
    if (r.tagStatus === "any") return true;
    if (r.tagStatus !== "tagged") return false;
    return r.patterns.every((p) => tagMatches(p, tag)) && r.prefixes.every((p) => tag.startsWith(p));
}

/** A rule that can actually expire what it selects (not a keep-rule at the repository's image quota). */
const expires = (r: LifecycleRule) =>
    !(
        r.countType === "imageCountMoreThan" &&
        typeof r.countNumber === "number" &&
        r.countNumber >= IMAGES_PER_REPOSITORY
    );

export const ecrLifecycleCountScoped = resourceRule({
    name: "ecr-lifecycle-count-scoped",
    description:
        "A lifecycle rule that expires by image count selects only CI tag patterns (never tagStatus any, or tagged without a pattern).",
    tier: "B",
    remediation:
        'expire by count only with tagStatus "tagged" and a tagPatternList naming the tags CI pushes (e.g. ["sha-*"]); keep release tags with a higher-priority rule.',
    types: [LIFECYCLE_POLICY],
    check: (r) => {
        const rules = lifecycleRules(r.props.policy);
        if (rules === UNKNOWN || rules === undefined) return;
        for (const rule of rules) {
            if (rule.countType !== "imageCountMoreThan" || !expires(rule)) continue;
            // ECR evaluates `any` against every image, deployed or not (lifecycle policy properties, tagStatus).
            if (rule.tagStatus === "any")
                r.report(
                    `${ruleName(rule)} expires images by count with tagStatus any: the oldest go, whatever runs them`,
                );
            else if (rule.tagStatus === "tagged") {
                const open = [...rule.patterns, ...rule.prefixes].filter((p) => p.replace(/\*/g, "") === "");
                if (rule.patterns.length + rule.prefixes.length === 0 || open.length > 0)
                    r.report(`${ruleName(rule)} expires tagged images by count without restricting which tags`);
            }
        }
    },
});

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>:<tag>`, split; undefined for other images and digests. */
function ecrImage(image: string): { repository: string; tag: string } | undefined {
    const m = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([^@:]+):([^@:/]+)$/.exec(image);
    return m ? { repository: m[1], tag: m[2] } : undefined;
}

export const ecrLifecycleSparesRunningImages = stackRule({
    name: "ecr-lifecycle-spares-running-images",
    description:
        "No lifecycle rule of this stack's ECR repositories expires the tag a workload of this stack runs (a rescheduled pod would hit ImagePullBackOff).",
    tier: "B",
    remediation:
        "run a release tag that a higher-priority keep rule selects, not a CI tag the policy expires by count or age; or change the lifecycle policy.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const policies = g.ofType(LIFECYCLE_POLICY);
        const repos = g.ofType(REPOSITORY).map((repo) => ({
            repo,
            name: g.props(repo).name,
            rules: policies
                .filter((lp) => lifecycleBelongsTo(g, lp, repo))
                .map((lp) => lifecycleRules(g.props(lp).policy)),
        }));
        for (const workload of g.ofType(...POD_TYPES)) {
            const containers = containersOf(podSpecOf(workload.type, g.props(workload)));
            if (containers === UNKNOWN) continue;
            for (const ref of containers) {
                const image = ref.c.image;
                // Unknown until the repository exists; a digest names no tag, so tag rules cannot be checked.
                const parsed = typeof image === "string" ? ecrImage(image) : undefined;
                if (parsed === undefined) continue;
                for (const { repo, name, rules: policyRules } of repos) {
                    if (name !== parsed.repository) continue;
                    for (const rules of policyRules) {
                        if (rules === UNKNOWN || rules === undefined) continue;
                        // An image matched by a rule cannot be expired by a lower-priority one: the first match decides.
                        const first = rules.find((r) => selectsTag(r, parsed.tag));
                        if (first !== undefined && expires(first))
                            s.report(
                                `${label(workload)} ${describeContainer(ref)} runs ${parsed.repository}:${parsed.tag}, which ${label(repo)}'s lifecycle ${ruleName(first)} expires (${show(first.countType)} ${show(first.countNumber)})`,
                                workload.urn,
                            );
                    }
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
    ecrLifecycleCountScoped,
    ecrLifecycleSparesRunningImages,
];
