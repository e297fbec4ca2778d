/** Reading IAM policy documents (identity policies, trust policies, key and repository policies). */
import { Rec, UNKNOWN, Unknown, isRecord, jsonDoc } from "./values";

export interface Statement {
    readonly effect: unknown;
    readonly actions: unknown[];
    readonly notActions: unknown[];
    readonly principal: unknown;
    readonly condition: unknown;
    readonly resources: unknown[];
    readonly raw: Rec;
}

const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export type ParsedPolicy = { ok: true; statements: Statement[] } | { ok: false; error: string };

/** Parses a policy JSON string (or object): `UNKNOWN` while it is computed, `undefined` if absent. */
export function parsePolicy(v: unknown): ParsedPolicy | Unknown | undefined {
    const doc = jsonDoc(v);
    if (doc === UNKNOWN || doc === undefined) return doc;
    if (!doc.ok) return { ok: false, error: `not JSON: ${doc.error}` };
    if (!isRecord(doc.value)) return { ok: false, error: "not a JSON object" };
    const statements = asArray(doc.value.Statement)
        .filter(isRecord)
        .map((s) => ({
            effect: s.Effect,
            actions: asArray(s.Action),
            notActions: asArray(s.NotAction),
            principal: s.Principal,
            condition: s.Condition,
            resources: asArray(s.Resource),
            raw: s,
        }));
    return { ok: true, statements };
}

/** The values of one principal kind (`AWS`, `Service`, `Federated`), `["*"]` for `Principal: "*"`. */
export function principals(principal: unknown, kind: string): unknown[] {
    if (principal === "*") return ["*"];
    if (!isRecord(principal)) return [];
    return asArray(principal[kind]);
}

/** Values of a condition key under an operator, e.g. StringEquals / `<issuer>:sub`. */
export function conditionEntries(condition: unknown): { operator: string; key: string; values: unknown[] }[] {
    if (!isRecord(condition)) return [];
    const out: { operator: string; key: string; values: unknown[] }[] = [];
    for (const [operator, block] of Object.entries(condition)) {
        if (!isRecord(block)) continue;
        for (const [key, v] of Object.entries(block)) out.push({ operator, key, values: asArray(v) });
    }
    return out;
}
