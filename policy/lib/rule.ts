/**
 * The shape every guardrail rule has, and the two builders that give it that shape.
 *
 * A rule is an ordinary @pulumi/policy policy object (so `new PolicyPack` takes it as is and tests
 * call `validateResource` / `validateStack` directly) plus `tier` (B, P or W, see config.ts) and, for
 * resource rules, `resourceTypes`: the Pulumi types it reads, in both views a rule can see (the
 * component boundary the mock engine records, e.g. `eks:index:Cluster`, and the real children a
 * live preview sends, e.g. `aws:eks/cluster:Cluster`).
 *
 * Every message ends with the rule's remediation, so a failing preview says what to change.
 */
import type {
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import {
    DEFAULT_ENVIRONMENT,
    KnobName,
    PolicyKnobs,
    Tier,
    configSchemaFor,
    levelForTier,
    resolveKnobs,
} from "../config";
import { Rec, isRecord, plain } from "./values";

interface RuleMeta {
    readonly tier: Tier;
    /** Same text as `remediationSteps`, which the engine shows; kept as a required field here. */
    readonly remediation: string;
}

export type GuardrailResourcePolicy = ResourceValidationPolicy &
    RuleMeta & {
        /** The Pulumi types the rule reads (`kubernetes:*` style entries describe a predicate). */
        readonly resourceTypes: readonly string[];
        readonly validateResource: ResourceValidation;
    };
export type GuardrailStackPolicy = StackValidationPolicy & RuleMeta;
export type GuardrailPolicy = GuardrailResourcePolicy | GuardrailStackPolicy;

export function isStackRule(p: GuardrailPolicy): p is GuardrailStackPolicy {
    return typeof (p as GuardrailStackPolicy).validateStack === "function";
}

interface RuleDef {
    readonly name: string;
    readonly description: string;
    readonly tier: Tier;
    readonly remediation: string;
    /** Knobs the rule reads; they become its `configSchema`. */
    readonly knobs?: readonly KnobName[];
}

export interface ResourceCheck {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** The resource's inputs as plain data; unknown values are `UNKNOWN`. */
    readonly props: Rec;
    readonly knobs: PolicyKnobs;
    readonly provider?: PolicyProviderResource;
    /** Reports one violation; the rule's remediation is appended. */
    report(message: string): void;
}

export interface ResourceRuleDef extends RuleDef {
    /** The Pulumi types the rule reads; other types are reported as not applicable. */
    readonly types: readonly string[];
    /** Overrides `types` as the filter when the set is open-ended (e.g. every namespaced Kubernetes kind). */
    readonly appliesTo?: (type: string) => boolean;
    check(r: ResourceCheck): void;
}

function withRemediation(message: string, remediation: string): string {
    return `${message.replace(/\.?$/, ".")} Remediation: ${remediation}`;
}

function metadata(def: RuleDef) {
    return {
        name: def.name,
        description: def.description,
        // The level with no policy-pack config: the prod one (W rules stay advisory).
        enforcementLevel: levelForTier(def.tier, DEFAULT_ENVIRONMENT),
        tier: def.tier,
        remediation: def.remediation,
        remediationSteps: def.remediation,
        ...(def.knobs && def.knobs.length > 0 ? { configSchema: configSchemaFor(def.knobs) } : {}),
    };
}

export function resourceRule(def: ResourceRuleDef): GuardrailResourcePolicy {
    const types = new Set(def.types);
    const applies = def.appliesTo ?? ((t: string) => types.has(t));
    return {
        ...metadata(def),
        resourceTypes: [...def.types],
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            if (!applies(args.type)) {
                args.notApplicable(`applies to ${def.types.join(", ")}`);
            }
            const props = plain(args.props);
            def.check({
                type: args.type,
                name: args.name,
                urn: args.urn,
                props: isRecord(props) ? props : {},
                knobs: resolveKnobs(args.getConfig<object>()),
                provider: args.provider,
                report: (message) => reportViolation(withRemediation(message, def.remediation)),
            });
        },
    };
}

export interface StackCheck {
    readonly resources: readonly PolicyResource[];
    readonly knobs: PolicyKnobs;
    /** Reports one violation, against `urn` when given; the rule's remediation is appended. */
    report(message: string, urn?: string): void;
}

export interface StackRuleDef extends RuleDef {
    check(s: StackCheck): void;
}

export function stackRule(def: StackRuleDef): GuardrailStackPolicy {
    return {
        ...metadata(def),
        validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
            def.check({
                resources: args.resources,
                knobs: resolveKnobs(args.getConfig<object>()),
                report: (message, urn) => reportViolation(withRemediation(message, def.remediation), urn),
            });
        },
    };
}
