/**
 * Secrets (guardrails: IAM "Secrets Manager reads only under a prefix"; Kubernetes "secrets come
 * from Secret refs (External Secrets)", whose ExternalSecrets must name a store the program creates).
 */
import type { PolicyResource } from "@pulumi/policy";
import { StackGraph, label } from "../lib/graph";
import { ParsedPolicy } from "../lib/iam";
import { ResourceCheck, resourceRule, stackRule } from "../lib/rule";
import { UNKNOWN, Unknown, at, show } from "../lib/values";
import { POLICY_DOC_TYPES, ROLE, eachIdentityPolicy } from "./aws-iam";

// ---- IAM: Secrets Manager reads only under a prefix -------------------------------------------------

/** The Secrets Manager actions that return a secret's value or metadata. */
const SECRET_READS = [
    "getsecretvalue",
    "batchgetsecretvalue",
    "describesecret",
    "listsecretversionids",
    "getresourcepolicy",
];

/** Whether an IAM action (wildcards allowed) grants any Secrets Manager read. */
export function isSecretRead(action: unknown): boolean {
    if (typeof action !== "string") return false;
    const a = action.toLowerCase();
    if (a === "*") return true;
    const [service, name = ""] = a.split(":");
    if (service !== "secretsmanager") return false;
    const re = new RegExp(
        `^${name
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
    );
    return SECRET_READS.some((r) => re.test(r));
}

/**
 * `arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>/<rest>`: a literal region,
 * account and prefix (no wildcard before the first '/' after `secret:`).
 */
const SECRET_UNDER_PREFIX =
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*\/.+$/;

function checkSecretReads(doc: ParsedPolicy | Unknown | undefined, where: string, r: ResourceCheck): void {
    if (doc === UNKNOWN || doc === undefined || !doc.ok) return;
    doc.statements.forEach((st, i) => {
        if (st.effect !== "Allow") return;
        const reads = st.actions.filter(isSecretRead);
        if (reads.length === 0) return;
        if (st.raw.NotResource !== undefined)
            r.report(`${where} statement ${i} allows ${show(reads)} on NotResource (every other secret)`);
        for (const res of st.resources) {
            if (res === UNKNOWN) continue;
            if (typeof res !== "string" || !SECRET_UNDER_PREFIX.test(res))
                r.report(
                    `${where} statement ${i} allows ${show(reads)} on ${show(res)}, not on secrets under a prefix`,
                );
        }
    });
}

export const iamSecretsManagerPrefixScoped = resourceRule({
    name: "iam-secretsmanager-prefix-scoped",
    description:
        "Secrets Manager reads (GetSecretValue, BatchGetSecretValue, DescribeSecret, ListSecretVersionIds, GetResourcePolicy, and wildcards that include them) are allowed only on secrets under a literal name prefix in one region and account.",
    tier: "B",
    remediation:
        "allow the reads on arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>/* with the stack's own prefix.",
    types: [ROLE, ...POLICY_DOC_TYPES],
    check: (r) => eachIdentityPolicy(r, (doc, where) => checkSecretReads(doc, where, r)),
});

// ---- ExternalSecrets name a store the program creates, and wait for it --------------------------------

const EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret";
const CLUSTER_STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore";
const STORE = "kubernetes:external-secrets.io/v1:SecretStore";

export const externalSecretStoreExists = stackRule({
    name: "external-secret-store-exists",
    description:
        "Every ExternalSecret names a ClusterSecretStore (or a SecretStore of its namespace) that the program creates, and waits for it, so it is created after the store and deleted before it.",
    tier: "B",
    remediation:
        "pass the store's name as an output of the store resource (secretStoreRef: { kind, name: store.metadata.name }), and create the store in this program.",
    check: (s) => {
        const g = new StackGraph(s.resources);
        const stores = g.ofType(CLUSTER_STORE, STORE).map((st) => ({ st, p: g.props(st) }));
        for (const es of g.ofType(EXTERNAL_SECRET)) {
            const p = g.props(es);
            // The API's default kind is SecretStore (ExternalSecret CRD, secretStoreRef.kind).
            const kind = at(p, "spec", "secretStoreRef", "kind") ?? "SecretStore";
            const name = at(p, "spec", "secretStoreRef", "name");
            const ns = at(p, "metadata", "namespace");
            if (kind === UNKNOWN || name === UNKNOWN || ns === UNKNOWN) continue;
            const type = kind === "ClusterSecretStore" ? CLUSTER_STORE : STORE;
            const matches: PolicyResource[] = stores
                .filter(
                    ({ st, p: sp }) =>
                        st.type === type &&
                        at(sp, "metadata", "name") === name &&
                        (type === CLUSTER_STORE || at(sp, "metadata", "namespace") === ns),
                )
                .map(({ st }) => st);
            if (matches.length === 0) {
                s.report(
                    `${label(es)} reads from ${show(kind)} ${show(name)}, which this program does not create`,
                    es.urn,
                );
                continue;
            }
            if (!matches.some((m) => g.waitsForTransitively(es, m)))
                s.report(`${label(es)} does not wait for its store ${matches.map(label).join(", ")}`, es.urn);
        }
    },
});

export const secretRules = [iamSecretsManagerPrefixScoped, externalSecretStoreExists];
