/** IAM: no admin wildcards; IRSA trust pinned to one service account. */
import type { PolicyResource } from "@pulumi/policy";
import { StackGraph, label } from "../lib/graph";
import { ParsedPolicy, Statement, conditionEntries, parsePolicy, principals } from "../lib/iam";
import { ResourceCheck, resourceRule, stackRule } from "../lib/rule";
import { Rec, UNKNOWN, Unknown, at, isRecord, list, show } from "../lib/values";

export const ROLE = "aws:iam/role:Role";
export const POLICY_DOC_TYPES = [
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
];
const ATTACHMENT_TYPES = [
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
];
/**
 * Runs `check` on the identity policy of an IAM policy resource, or on each inline policy of a
 * role, naming where the document is (`policy`, `inlinePolicies[i]`).
 */
export function eachIdentityPolicy(
    r: ResourceCheck,
    check: (doc: ParsedPolicy | Unknown | undefined, where: string) => void,
): void {
    if (POLICY_DOC_TYPES.includes(r.type)) return check(parsePolicy(r.props.policy), "policy");
    const inline = list(r.props.inlinePolicies);
    if (inline === UNKNOWN) return;
    inline.forEach((p, i) => check(parsePolicy(at(p, "policy")), `inlinePolicies[${i}]`));
}

const ADMIN_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/;
const isWildcardAction = (a: unknown) => a === "*" || a === "*:*";

function checkDocument(doc: ParsedPolicy | Unknown | undefined, where: string, r: ResourceCheck): void {
    if (doc === UNKNOWN || doc === undefined) return;
    if (!doc.ok) return r.report(`${where} is ${doc.error}`);
    doc.statements.forEach((st, i) => {
        if (st.effect !== "Allow") return;
        if (st.actions.some(isWildcardAction)) r.report(`${where} statement ${i} allows every action ("*")`);
        if (st.notActions.length > 0 && st.resources.includes("*")) {
            r.report(`${where} statement ${i} allows NotAction on Resource "*" (everything else, everywhere)`);
        }
    });
}

export const iamNoWildcardAdmin = resourceRule({
    name: "iam-no-wildcard-admin",
    description:
        'No IAM policy allows "*" / "*:*" actions (or Allow+NotAction on "*"), and AdministratorAccess is never attached.',
    tier: "B",
    remediation: "list the actions the workload needs on the resources it needs them on.",
    types: [ROLE, ...POLICY_DOC_TYPES, ...ATTACHMENT_TYPES],
    check: (r) => {
        if (POLICY_DOC_TYPES.includes(r.type)) return checkDocument(parsePolicy(r.props.policy), "policy", r);
        if (ATTACHMENT_TYPES.includes(r.type)) {
            const arn = r.props.policyArn;
            if (typeof arn === "string" && ADMIN_POLICY.test(arn)) r.report(`attaches ${arn}`);
            return;
        }
        const inline = list(r.props.inlinePolicies);
        if (inline !== UNKNOWN) {
            inline.forEach((p, i) => checkDocument(parsePolicy(at(p, "policy")), `inlinePolicies[${i}]`, r));
        }
        const managed = list(r.props.managedPolicyArns);
        if (managed !== UNKNOWN) {
            for (const arn of managed)
                if (typeof arn === "string" && ADMIN_POLICY.test(arn)) r.report(`managedPolicyArns has ${arn}`);
        }
    },
});

const EKS_ISSUER = /^oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/id\/[A-Za-z0-9]+$/;
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The issuer host of an `arn:aws:iam::<acct>:oidc-provider/<host>` principal. */
function issuerOf(federated: unknown): string | undefined {
    if (typeof federated !== "string") return undefined;
    const i = federated.indexOf(":oidc-provider/");
    return i < 0 ? undefined : federated.slice(i + ":oidc-provider/".length);
}

interface IrsaStatement {
    readonly index: number;
    readonly issuer: string | undefined;
    readonly st: Statement;
}

/**
 * The statements of a trust policy that let EKS service accounts assume the role: web-identity
 * federation through an EKS OIDC issuer (or through any issuer when the conditions talk about
 * service accounts). GitHub Actions and other non-EKS federation is left alone.
 */
export function irsaStatements(doc: ParsedPolicy): IrsaStatement[] {
    if (!doc.ok) return [];
    const out: IrsaStatement[] = [];
    doc.statements.forEach((st, index) => {
        if (st.effect !== "Allow" || !st.actions.includes("sts:AssumeRoleWithWebIdentity")) return;
        for (const fed of principals(st.principal, "Federated")) {
            const issuer = issuerOf(fed);
            if (issuer === undefined && fed !== UNKNOWN) continue;
            const mentionsServiceAccounts = conditionEntries(st.condition).some((c) =>
                c.values.some((v) => typeof v === "string" && v.startsWith("system:serviceaccount:")),
            );
            if (fed === UNKNOWN || EKS_ISSUER.test(issuer ?? "") || mentionsServiceAccounts) {
                out.push({ index, issuer, st });
                return;
            }
        }
    });
    return out;
}

/** The `:sub` values pinned with StringEquals in an IRSA statement. */
export function pinnedSubjects(s: IrsaStatement): unknown[] {
    return conditionEntries(s.st.condition)
        .filter((c) => c.operator === "StringEquals" && c.key.endsWith(":sub"))
        .flatMap((c) => c.values);
}

export const iamIrsaTrustPinned = resourceRule({
    name: "iam-irsa-trust-pinned",
    description:
        "An IRSA role's trust policy pins StringEquals <issuer>:sub to exactly one service account and <issuer>:aud to sts.amazonaws.com.",
    tier: "B",
    remediation:
        'use Condition: { StringEquals: { "<issuer>:sub": "system:serviceaccount:<ns>:<name>", "<issuer>:aud": "sts.amazonaws.com" } } with the issuer of the Federated provider.',
    types: [ROLE],
    check: (r) => {
        const doc = parsePolicy(r.props.assumeRolePolicy);
        if (doc === UNKNOWN || doc === undefined) return;
        if (!doc.ok) return r.report(`assumeRolePolicy is ${doc.error}`);
        for (const s of irsaStatements(doc)) {
            const where = `assumeRolePolicy statement ${s.index}`;
            const entries = conditionEntries(s.st.condition);
            const loose = entries.filter((c) => c.operator !== "StringEquals" && /:(sub|aud)$/.test(c.key));
            for (const c of loose) r.report(`${where} matches ${c.key} with ${c.operator}, not StringEquals`);
            const sub = entries.filter((c) => c.operator === "StringEquals" && c.key.endsWith(":sub"));
            const aud = entries.filter((c) => c.operator === "StringEquals" && c.key.endsWith(":aud"));
            const subjects = sub.flatMap((c) => c.values);
            if (subjects.length !== 1) {
                r.report(
                    `${where} pins ${subjects.length} subjects with StringEquals <issuer>:sub (${show(subjects)}); it must pin exactly one`,
                );
            } else if (
                subjects[0] !== UNKNOWN &&
                !(typeof subjects[0] === "string" && SERVICE_ACCOUNT_SUBJECT.test(subjects[0]))
            ) {
                r.report(`${where} :sub is ${show(subjects[0])}, not system:serviceaccount:<namespace>:<name>`);
            }
            const audiences = aud.flatMap((c) => c.values);
            if (audiences.length !== 1 || (audiences[0] !== UNKNOWN && audiences[0] !== "sts.amazonaws.com")) {
                r.report(`${where} :aud is ${show(audiences)}, not exactly "sts.amazonaws.com"`);
            }
            if (s.issuer !== undefined) {
                for (const c of [...sub, ...aud]) {
                    if (c.key !== `${s.issuer}:sub` && c.key !== `${s.issuer}:aud`) {
                        r.report(`${where} condition key ${c.key} is not for the Federated issuer ${s.issuer}`);
                    }
                }
            }
        }
    },
});

const ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn";

interface RoleConsumer {
    readonly r: PolicyResource;
    readonly roleArn: unknown;
    /** `system:serviceaccount:<ns>:<name>`; undefined when the account's name is not known to the program. */
    readonly subject: string | undefined;
    readonly why?: string;
}

/** The service account name the cert-manager (and any `helm create`-style) chart renders. */
export function chartServiceAccountName(releaseName: unknown, chart: unknown, values: Rec): string | undefined {
    const explicit = at(values, "serviceAccount", "name");
    if (typeof explicit === "string" && explicit !== "") return explicit;
    const override = values.fullnameOverride;
    if (typeof override === "string" && override !== "") return override;
    if (typeof releaseName !== "string" || typeof chart !== "string") return undefined;
    const chartName = chart.split("/").pop() ?? chart;
    const nameOverride = typeof values.nameOverride === "string" ? values.nameOverride : chartName;
    return releaseName.includes(nameOverride) ? releaseName : `${releaseName}-${nameOverride}`;
}

function consumersOf(g: StackGraph): RoleConsumer[] {
    const out: RoleConsumer[] = [];
    for (const sa of g.ofType("kubernetes:core/v1:ServiceAccount")) {
        const p = g.props(sa);
        const arn = at(p, "metadata", "annotations", ROLE_ARN_ANNOTATION);
        if (arn === undefined) continue;
        const ns = at(p, "metadata", "namespace");
        const name = at(p, "metadata", "name");
        if (ns === UNKNOWN || name === UNKNOWN) continue;
        const subject =
            typeof name === "string"
                ? `system:serviceaccount:${typeof ns === "string" ? ns : "default"}:${name}`
                : undefined;
        out.push({ r: sa, roleArn: arn, subject, why: "the ServiceAccount has no explicit metadata.name" });
    }
    for (const rel of g.ofType("kubernetes:helm.sh/v3:Release")) {
        const p = g.props(rel);
        const values = isRecord(p.values) ? p.values : {};
        const arn = at(values, "serviceAccount", "annotations", ROLE_ARN_ANNOTATION);
        if (arn === undefined) continue;
        if (p.name === UNKNOWN || p.namespace === UNKNOWN || p.chart === UNKNOWN) continue;
        const name = chartServiceAccountName(p.name, p.chart, values);
        const ns = typeof p.namespace === "string" ? p.namespace : "default";
        out.push({
            r: rel,
            roleArn: arn,
            subject: name === undefined ? undefined : `system:serviceaccount:${ns}:${name}`,
            why: "the release has no explicit name, so the chart's service account name is not known",
        });
    }
    return out;
}

/** The role an annotation points at: through dependencies, by ARN, or by (autonamed) role name. */
function roleFor(g: StackGraph, c: RoleConsumer, roles: PolicyResource[]): PolicyResource | undefined {
    const viaDeps = g.dependenciesOfType(c.r, ROLE).filter((role) => roles.includes(role));
    const arn = c.roleArn;
    const roleName = typeof arn === "string" ? arn.split("/").pop() : undefined;
    const byArn = roles.filter((role) => {
        const p = g.props(role);
        if (typeof arn !== "string") return false;
        if (p.arn === arn) return true;
        if (typeof p.name === "string") return p.name === roleName;
        return roleName !== undefined && roleName.startsWith(`${role.name}-`);
    });
    if (byArn.length === 1) return byArn[0];
    return viaDeps.length === 1 ? viaDeps[0] : undefined;
}

export const iamIrsaServiceAccountMatch = stackRule({
    name: "iam-irsa-service-account-match",
    description:
        "Every service account annotated with an IRSA role (ServiceAccount or Helm values) is the one the role's trust policy pins.",
    tier: "B",
    remediation:
        "pin the role's <issuer>:sub to system:serviceaccount:<namespace>:<name> of the account that uses it; give the ServiceAccount (or Helm release) an explicit name.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const roles = g.ofType(ROLE).filter((role) => {
            const doc = parsePolicy(g.props(role).assumeRolePolicy);
            return doc !== UNKNOWN && doc !== undefined && irsaStatements(doc).length > 0;
        });
        for (const c of consumersOf(g)) {
            const role = roleFor(g, c, roles);
            if (!role) continue; // a role from outside this program: nothing to compare with
            if (c.subject === undefined) {
                s.report(`${label(c.r)} uses IRSA role ${label(role)}, but ${c.why}`, c.r.urn);
                continue;
            }
            const doc = parsePolicy(g.props(role).assumeRolePolicy) as ParsedPolicy;
            const subjects = irsaStatements(doc).flatMap(pinnedSubjects);
            if (subjects.includes(UNKNOWN) || subjects.includes(c.subject)) continue;
            s.report(`${label(role)} trusts ${show(subjects)}, but ${label(c.r)} runs as ${c.subject}`, role.urn);
        }
    },
});

export const iamRules = [iamNoWildcardAdmin, iamIrsaTrustPinned, iamIrsaServiceAccountMatch];
