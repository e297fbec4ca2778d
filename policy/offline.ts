/**
 * Runs the pack's rules without the Pulumi engine: no gRPC, no `PolicyPack`. The mock recorder of
 * the program tests (test/) turns every registered resource into a `RecordedResource`; this module
 * builds the argument objects @pulumi/policy's server would build (ResourceValidationArgs for every
 * resource, StackValidationArgs once) and collects the violations with each policy's effective
 * enforcement level for `config` (see config.ts).
 *
 * Differences from a live run, on purpose: stack policies see the recorded inputs (the engine gives
 * them outputs); `stackTags` is empty unless given; an unknown value should be recorded as the
 * engine's sentinel (`PULUMI_UNKNOWN_SENTINEL`) or the SDK's `Unknown`, because `undefined` means
 * "not set" to the rules.
 */
import type {
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import { PolicyConfig, effectiveLevel, knobsFor } from "./config";
import type { GuardrailPolicy } from "./lib/rule";
import { isStackRule } from "./lib/rule";
import { PULUMI_UNKNOWN_SENTINEL } from "./lib/values";
import { allPolicies } from "./policies";

export type { Environment, PolicyConfig, PolicyKnobs } from "./config";
export { DEFAULT_ENVIRONMENT, KNOB_DEFAULTS, packConfigFor } from "./config";
export { PULUMI_UNKNOWN_SENTINEL } from "./lib/values";

/** One resource as the program tests' mock recorder captures it. */
export interface RecordedResource {
    type: string;
    name: string;
    urn: string;
    custom: boolean;
    props: Record<string, unknown>;
    parent?: string;
    /** Provider reference (`<provider urn>::<id>`) or provider URN. */
    provider?: string;
    dependencies: string[];
    dependsOn?: string[];
    protect?: boolean;
    /** Per-input dependencies (`RegisterResourceRequest.propertyDependencies`), if recorded. */
    propertyDependencies?: Record<string, string[]>;
    /**
     * The inputs in the engine's wire form (secrets, unknowns, resource references still marked).
     * When present, rules read their props from it, so a value unknown during a preview stays
     * unknown (skipped) instead of looking absent (a violation).
     */
    wire?: Record<string, unknown>;
}

/** Wire-form signatures (`@pulumi/pulumi` runtime/rpc `specialSigKey` and friends). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270";
const SIG_RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e";
const SIG_OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** Wire form -> plain data, keeping unknowns as the engine's sentinel (which the rules understand). */
export function fromWire(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(fromWire);
    if (value === null || typeof value !== "object") return value;
    const obj = value as Record<string, unknown>;
    switch (obj[SIG_KEY]) {
        case SIG_SECRET:
            return fromWire(obj.value);
        case SIG_RESOURCE:
            return obj.urn;
        case SIG_OUTPUT:
            return "value" in obj ? fromWire(obj.value) : PULUMI_UNKNOWN_SENTINEL;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fromWire(v)]));
}

const propsOf = (r: RecordedResource): Record<string, unknown> =>
    r.wire ? (fromWire(r.wire) as Record<string, unknown>) : r.props;

export interface Violation {
    policy: string;
    enforcementLevel: "mandatory" | "advisory";
    /** The URN of the offending resource; absent for a violation of the stack as a whole. */
    resource?: string;
    message: string;
}

/**
 * What `notApplicable` throws: a marker, not an Error. Every resource rule calls it for every
 * resource of another type, thousands of times per stack, and an Error would capture a stack
 * trace each time.
 */
class NotApplicable {
    constructor(readonly reason: string) {}
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason ?? "not applicable");
}

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` -> type and name. */
export function parseUrn(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    const qualifiedType = parts[2] ?? "";
    return { type: qualifiedType.split("$").pop() ?? qualifiedType, name: parts.slice(3).join("::") };
}

/**
 * The provider URN for a resource of `type` from a reference `<urn>::<id>` (a URN has exactly four
 * `::`-separated parts), or from a comma-separated list of them (a component's `providers` map):
 * the one for the resource's package, else the first.
 */
function providerUrn(ref: string, type: string): string {
    const urns = ref.split(",").map((one) => one.trim().split("::").slice(0, 4).join("::"));
    const pkg = type.split(":")[0];
    return urns.find((u) => parseUrn(u).type === `pulumi:providers:${pkg}`) ?? urns[0];
}

function pulumiTypeOf(resourceClass: unknown): string | undefined {
    const t = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof t === "string" && t !== "" ? t : undefined;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const t = pulumiTypeOf(resourceClass);
    if (t !== undefined) return t === type;
    const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean } | undefined)?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
    return {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

interface RunOptions {
    /** The rules to run. @default allPolicies */
    readonly policies?: readonly GuardrailPolicy[];
    /** Stack tags passed to every policy. @default none */
    readonly stackTags?: ReadonlyMap<string, string>;
}

type Call = () => unknown;

/** Calls a validation; a returned promise is an error in the synchronous runner. */
function callSync(policy: string, fn: Call): void {
    const result = fn();
    if (result && typeof (result as Promise<unknown>).then === "function") {
        throw new Error(`policy ${policy} is asynchronous; use runPoliciesAsync`);
    }
}

function* plan(
    resources: readonly RecordedResource[],
    config: PolicyConfig,
    options: RunOptions,
    out: Violation[],
): Generator<{ policy: string; where: string; call: Call }> {
    const policies = options.policies ?? allPolicies;
    const stackTags = options.stackTags ?? new Map<string, string>();
    const byUrn = new Map(resources.map((r) => [r.urn, r]));

    // Converted once per run, not once per rule: rules only read what they are given, and every
    // rule sees every resource (about a hundred conversions of each otherwise).
    const converted = new Map<RecordedResource, Record<string, unknown>>();
    const propsFor = (r: RecordedResource): Record<string, unknown> => {
        let props = converted.get(r);
        if (props === undefined) converted.set(r, (props = propsOf(r)));
        return props;
    };
    const providers = new Map<RecordedResource, PolicyProviderResource | undefined>();
    const providerOf = (r: RecordedResource): PolicyProviderResource | undefined => {
        if (providers.has(r)) return providers.get(r);
        let provider: PolicyProviderResource | undefined;
        if (r.provider) {
            const urn = providerUrn(r.provider, r.type);
            const rec = byUrn.get(urn);
            const { type, name } = parseUrn(urn);
            provider = { type: rec?.type ?? type, name: rec?.name ?? name, urn, props: rec ? propsFor(rec) : {} };
        }
        providers.set(r, provider);
        return provider;
    };

    for (const policy of policies) {
        const level: EnforcementLevel = effectiveLevel(policy, config);
        if (level === "disabled") continue;
        const reported: Violation["enforcementLevel"] = level === "advisory" ? "advisory" : "mandatory";
        const knobs = knobsFor(policy, config);
        const getConfig = <T extends object>() => ({ ...knobs }) as unknown as T;
        const push = (message: string, resource?: string) =>
            out.push({ policy: policy.name, enforcementLevel: reported, ...(resource ? { resource } : {}), message });

        if (isStackRule(policy)) {
            const objects = new Map<string, PolicyResource>();
            for (const r of resources) {
                const provider = providerOf(r);
                objects.set(r.urn, {
                    type: r.type,
                    props: propsFor(r),
                    urn: r.urn,
                    name: r.name,
                    opts: optionsOf(r),
                    ...(provider ? { provider } : {}),
                    dependencies: [],
                    propertyDependencies: {},
                    isType: (cls) => isTypeOf(r.type, cls),
                    asType: (cls) => (isTypeOf(r.type, cls) ? (propsFor(r) as never) : undefined),
                });
            }
            const resolve = (urns: readonly string[]) =>
                [...new Set(urns)].map((u) => objects.get(u)).filter((x): x is PolicyResource => x !== undefined);
            for (const r of resources) {
                const o = objects.get(r.urn) as PolicyResource;
                if (r.parent && objects.has(r.parent)) o.parent = objects.get(r.parent);
                o.dependencies = resolve([...r.dependencies, ...(r.dependsOn ?? [])]);
                for (const [k, urns] of Object.entries(r.propertyDependencies ?? {}))
                    o.propertyDependencies[k] = resolve(urns);
            }
            const args: StackValidationArgs = { resources: [...objects.values()], stackTags, getConfig, notApplicable };
            yield {
                policy: policy.name,
                where: "the stack",
                call: () => policy.validateStack(args, (m, urn) => push(m, urn)),
            };
            continue;
        }

        for (const r of resources) {
            const provider = providerOf(r);
            const props = propsFor(r);
            const args: ResourceValidationArgs = {
                type: r.type,
                props,
                urn: r.urn,
                name: r.name,
                opts: optionsOf(r),
                ...(provider ? { provider } : {}),
                stackTags,
                isType: (cls) => isTypeOf(r.type, cls),
                asType: (cls) => (isTypeOf(r.type, cls) ? (props as never) : undefined),
                getConfig,
                notApplicable,
            };
            // The engine ignores the urn argument of reportViolation in resource policies.
            yield {
                policy: policy.name,
                where: r.urn,
                call: () => policy.validateResource(args, (m) => push(m, r.urn)),
            };
        }
    }
}

function rethrow(policy: string, where: string, e: unknown): never {
    const err = new Error(`policy ${policy} failed on ${where}: ${(e as Error)?.message ?? String(e)}`);
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
}

/**
 * Runs every rule over the recorded resources, synchronously (all rules in this pack are).
 * @param config environment (default prod) and knobs, as in config.ts
 */
export function runPolicies(
    resources: RecordedResource[],
    config: PolicyConfig = {},
    options: RunOptions = {},
): Violation[] {
    const out: Violation[] = [];
    for (const step of plan(resources, config, options, out)) {
        try {
            callSync(step.policy, step.call);
        } catch (e) {
            if (e instanceof NotApplicable) continue;
            rethrow(step.policy, step.where, e);
        }
    }
    return out;
}

/** Same as `runPolicies`, for policy lists that include asynchronous validations. */
export async function runPoliciesAsync(
    resources: RecordedResource[],
    config: PolicyConfig = {},
    options: RunOptions = {},
): Promise<Violation[]> {
    const out: Violation[] = [];
    for (const step of plan(resources, config, options, out)) {
        try {
            await step.call();
        } catch (e) {
            if (e instanceof NotApplicable) continue;
            rethrow(step.policy, step.where, e);
        }
    }
    return out;
}

export function mandatoryViolations(violations: readonly Violation[]): Violation[] {
    return violations.filter((v) => v.enforcementLevel === "mandatory");
}

/** `type::name` of a URN, for reports. */
export function shortResource(urn: string | undefined): string {
    if (!urn) return "(stack)";
    if (!urn.startsWith("urn:pulumi:")) return urn;
    const { type, name } = parseUrn(urn);
    return `${type}::${name}`;
}

/**
 * A plain-text report, mandatory first, one block per violation:
 *
 *     MANDATORY  eks-deletion-protection  eks:index:Cluster::platform-eks
 *         deletionProtection is (not set). Remediation: set deletionProtection: true.
 */
export function formatViolations(violations: readonly Violation[]): string {
    if (violations.length === 0) return "No policy violations.\n";
    const sorted = [...violations].sort(
        (a, b) =>
            Number(a.enforcementLevel === "advisory") - Number(b.enforcementLevel === "advisory") ||
            a.policy.localeCompare(b.policy) ||
            shortResource(a.resource).localeCompare(shortResource(b.resource)),
    );
    const width = Math.max(...sorted.map((v) => v.policy.length));
    const lines = sorted.map(
        (v) =>
            `${v.enforcementLevel.toUpperCase().padEnd(9)}  ${v.policy.padEnd(width)}  ${shortResource(v.resource)}\n    ${v.message}`,
    );
    const mandatory = sorted.filter((v) => v.enforcementLevel === "mandatory").length;
    return `${lines.join("\n")}\n\n${mandatory} mandatory, ${sorted.length - mandatory} advisory violation(s).\n`;
}
