/**
 * Policy configuration: the knobs some rules take, the environment that decides how strict the
 * "P" rules are, and the `--policy-pack-config` files that carry both into a real preview.
 *
 * How the engine applies it (read from pulumi/pulumi `pkg/resource/analyzer/config.go` and
 * @pulumi/policy `server.js`): every policy's effective enforcement level is the level in the
 * policy-pack config if one is given there, else the policy's own `enforcementLevel`; a policy can
 * not change its level at run time. Config properties are per policy (only `enforcementLevel` may
 * be set for "all"), and the engine fills in the `default`s of each policy's `configSchema`.
 *
 * So "P = mandatory in prod, advisory in dev" is expressed as data: every B and P rule declares
 * `enforcementLevel: "mandatory"` (the pack's behaviour with no config at all is the prod one),
 * every W rule `"advisory"`, and `packConfigFor({ environment: "dev" })` produces the config that
 * downgrades the P rules, committed as `policy/config/dev.json` (and `prod.json`, which only
 * restates the levels).
 */
import type { EnforcementLevel, PolicyConfigSchema, PolicyPackConfig } from "@pulumi/policy";

export type Environment = "dev" | "prod";

/**
 * When nothing says which environment a run is for, it is treated as prod: a dev run that is too
 * strict fails loudly and is fixed by passing `config/dev.json`; a prod run that is too lax would
 * silently let non-compliant infrastructure through. The stack name is not available to policies
 * (@pulumi/policy 1.21 passes only stack tags), so it cannot be derived from it.
 */
export const DEFAULT_ENVIRONMENT: Environment = "prod";

/** Values rules read through `args.getConfig()`. */
export interface PolicyKnobs {
    /**
     * Where pod images may come from: glob patterns (`*` matches within one path segment, never a
     * `/`) matched against the start of the image reference.
     */
    readonly allowedRegistries: readonly string[];
    /** Minimum CloudWatch Logs retention (the P rule `cloudwatch-log-retention-minimum`). */
    readonly minLogRetentionDays: number;
    /** If non-empty, every public API endpoint CIDR must lie inside one of these. */
    readonly allowedEndpointCidrs: readonly string[];
    /** Services (`namespace/name`) allowed to be NodePort or LoadBalancer. */
    readonly exposedServices: readonly string[];
    /**
     * The day (`YYYY-MM-DD`, UTC) the EKS support calendar is read for; empty means the day the
     * policy runs. Set it only to make an offline check reproducible (the tests pin it).
     */
    readonly eksSupportAsOf: string;
}

export const KNOB_DEFAULTS: PolicyKnobs = {
    allowedRegistries: ["*.dkr.ecr.*.amazonaws.com/"],
    minLogRetentionDays: 90,
    allowedEndpointCidrs: [],
    exposedServices: [],
    eksSupportAsOf: "",
};

export type KnobName = keyof PolicyKnobs;

const stringArray = (description: string, defaults: readonly string[]) => ({
    type: "array" as const,
    items: { type: "string" as const },
    description,
    default: [...defaults],
});

const KNOB_SCHEMAS: { readonly [K in KnobName]: PolicyConfigSchema["properties"][string] } = {
    allowedRegistries: stringArray(
        "Image registry patterns (`*` = any characters except `/`), matched against the start of each image.",
        KNOB_DEFAULTS.allowedRegistries,
    ),
    minLogRetentionDays: {
        type: "integer",
        minimum: 1,
        description: "Minimum CloudWatch Logs retention in days.",
        default: KNOB_DEFAULTS.minLogRetentionDays,
    },
    allowedEndpointCidrs: stringArray(
        "CIDRs the EKS public endpoint may be opened to (empty: any CIDR except 0.0.0.0/0).",
        KNOB_DEFAULTS.allowedEndpointCidrs,
    ),
    exposedServices: stringArray(
        "Services (namespace/name) allowed to be of type NodePort or LoadBalancer.",
        KNOB_DEFAULTS.exposedServices,
    ),
    eksSupportAsOf: {
        type: "string",
        pattern: "^(\\d{4}-\\d{2}-\\d{2})?$",
        description: "Read the EKS support calendar as of this UTC day (YYYY-MM-DD); empty: the day the policy runs.",
        default: KNOB_DEFAULTS.eksSupportAsOf,
    },
};

/** The `configSchema` of a rule that reads `knobs`. */
export function configSchemaFor(knobs: readonly KnobName[]): PolicyConfigSchema {
    return { properties: Object.fromEntries(knobs.map((k) => [k, KNOB_SCHEMAS[k]])) };
}

function isStringArray(v: unknown): v is string[] {
    return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/**
 * A rule's knobs from `args.getConfig()`, defaults filled in (the engine fills them from the
 * schema; a hand-made args object in a test may return `{}`). A wrongly typed value throws: the
 * engine would have rejected it against the schema, so reaching a rule with it is a bug.
 */
export function resolveKnobs(raw: object): PolicyKnobs {
    const r = raw as Partial<Record<KnobName, unknown>>;
    const out: Record<string, unknown> = { ...KNOB_DEFAULTS };
    for (const key of Object.keys(KNOB_DEFAULTS) as KnobName[]) {
        const v = r[key];
        if (v === undefined) continue;
        const ok =
            key === "minLogRetentionDays"
                ? Number.isInteger(v) && (v as number) >= 1
                : key === "eksSupportAsOf"
                  ? typeof v === "string" && /^(\d{4}-\d{2}-\d{2})?$/.test(v)
                  : isStringArray(v);
        if (!ok) throw new Error(`policy config ${key}: invalid value ${JSON.stringify(v)}`);
        out[key] = v;
    }
    return out as unknown as PolicyKnobs;
}

/**
 * B = mandatory always; P = mandatory in prod, advisory in dev (the guardrail checklist);
 * W = a warning: advisory everywhere (e.g. "standard support ends in 60 days": act, but do not
 * block a deploy that is still correct today).
 */
export type Tier = "B" | "P" | "W";

/** What the offline runner takes, and what `packConfigFor` turns into a `--policy-pack-config` file. */
export interface PolicyConfig extends Partial<PolicyKnobs> {
    /** @default "prod" (see DEFAULT_ENVIRONMENT) */
    readonly environment?: Environment;
    /** Per-policy overrides, as `enforcementLevel` in a policy-pack config file; win over the tier. */
    readonly enforcementLevels?: Readonly<Record<string, EnforcementLevel>>;
}

/** The minimum a policy must expose for levels and config to be derived from it. */
export interface TieredPolicy {
    readonly name: string;
    readonly tier: Tier;
    readonly configSchema?: PolicyConfigSchema;
}

export function levelForTier(tier: Tier, environment: Environment): EnforcementLevel {
    if (tier === "W") return "advisory";
    return tier === "P" && environment === "dev" ? "advisory" : "mandatory";
}

/** The level the engine would apply given `packConfigFor(config)`. */
export function effectiveLevel(policy: TieredPolicy, config: PolicyConfig): EnforcementLevel {
    return (
        config.enforcementLevels?.[policy.name] ?? levelForTier(policy.tier, config.environment ?? DEFAULT_ENVIRONMENT)
    );
}

/** The knobs of `config` a policy declares in its schema (what `getConfig()` returns for it). */
export function knobsFor(policy: TieredPolicy, config: PolicyConfig): Partial<PolicyKnobs> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(policy.configSchema?.properties ?? {})) {
        const v = (config as Record<string, unknown>)[key];
        out[key] = v !== undefined ? v : KNOB_SCHEMAS[key as KnobName]?.default;
    }
    return out as Partial<PolicyKnobs>;
}

/**
 * A policy-pack config (the JSON `--policy-pack-config` takes) for `config`: every policy's level,
 * plus the knobs that differ from their defaults for the policies that read them.
 */
export function packConfigFor(policies: readonly TieredPolicy[], config: PolicyConfig): PolicyPackConfig {
    const out: PolicyPackConfig = {};
    for (const p of policies) {
        const entry: Record<string, unknown> = { enforcementLevel: effectiveLevel(p, config) };
        for (const key of Object.keys(p.configSchema?.properties ?? {}) as KnobName[]) {
            const v = config[key];
            if (v !== undefined && JSON.stringify(v) !== JSON.stringify(KNOB_DEFAULTS[key])) entry[key] = v;
        }
        out[p.name] = entry as PolicyPackConfig[string];
    }
    return out;
}
