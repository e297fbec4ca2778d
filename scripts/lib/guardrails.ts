import type { ProgramRun } from "../../harness/engine";
import {
    Environment,
    formatViolations,
    mandatoryViolations,
    PolicyKnobs,
    runPolicies,
    Violation,
} from "../../policy/offline";
import { checkCertManagerValues, ValuesIssue } from "../../policy/schema/cert-manager-values";
import { formatSchemaResults, SchemaResult, validateKubernetesObjects } from "../../policy/schema/kubernetes";
import { isKubernetesObject } from "./render";

/**
 * The policy environment of a stack: `dev` runs the prod-only (P) rules as advisory, every other
 * stack gets them mandatory. Unknown stacks count as prod, so a forgotten mapping fails loudly.
 * policy/config/<stack>.json carries the same choice for `pulumi preview --policy-pack`.
 */
export const policyEnvironment = (stack: string): Environment => (stack === "dev" ? "dev" : "prod");

export { isKubernetesObject };

export interface GuardrailReport {
    readonly violations: Violation[];
    readonly schema: SchemaResult[];
    readonly helmValues: { release: string; issues: ValuesIssue[] }[];
    /** True when nothing blocks: no mandatory violation, no schema error, no bad Helm value. */
    readonly ok: boolean;
}

/**
 * Runs every policy, the Kubernetes schema and the cert-manager values check over one run. `knobs`
 * override policy knobs (tests pin `eksSupportAsOf`; the synth reads the calendar for today).
 */
export async function checkGuardrails(run: ProgramRun, knobs: Partial<PolicyKnobs> = {}): Promise<GuardrailReport> {
    const violations = runPolicies(run.resources, { ...knobs, environment: policyEnvironment(run.stack) });
    const objects = run.resources.filter(isKubernetesObject).map((r) => r.props);
    const schema = await validateKubernetesObjects(objects);
    const helmValues = run.resources
        .filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.props.chart === "cert-manager")
        .map((r) => ({ release: r.name, issues: checkCertManagerValues(r.props.values) }));
    const ok =
        mandatoryViolations(violations).length === 0 &&
        schema.every((s) => s.errors.length === 0) &&
        helmValues.every((h) => h.issues.length === 0);
    return { violations, schema, helmValues, ok };
}

export function formatGuardrails(stack: string, r: GuardrailReport): string {
    const schemaErrors = r.schema.filter((s) => s.errors.length > 0);
    const valueIssues = r.helmValues.flatMap((h) => h.issues.map((i) => `  ${h.release}: ${i.path}: ${i.message}`));
    return [
        `Policy report for ${stack} (environment ${policyEnvironment(stack)}):`,
        formatViolations(r.violations).trimEnd(),
        "",
        schemaErrors.length
            ? `Kubernetes schema: ${schemaErrors.length} invalid object(s)\n${formatSchemaResults(schemaErrors).trimEnd()}`
            : `Kubernetes schema: all ${r.schema.length} objects valid.`,
        valueIssues.length ? `Helm values:\n${valueIssues.join("\n")}` : "Helm values: cert-manager values accepted.",
        "",
    ].join("\n");
}
