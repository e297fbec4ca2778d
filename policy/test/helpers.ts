/**
 * Calling rules the way the engine does, without the engine: hand-made ResourceValidationArgs and
 * StackValidationArgs (the fields @pulumi/policy's server fills in), and a recorder of violations.
 */
import type {
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
} from "@pulumi/policy";
import type { GuardrailResourcePolicy, GuardrailStackPolicy } from "../lib/rule";

export const STACK = "prod";
export const PROJECT = "checkout-platform";

/**
 * Knobs every rule test runs with unless it sets its own: the EKS support calendar is read for a
 * fixed day (the day the pinned versions were reviewed), so no test depends on the date it runs.
 */
export const TEST_KNOBS = { eksSupportAsOf: "2026-12-01" } as const;

/** The resource options of a resource that sets none (a fresh object each time: rules may not share it). */
function defaultOpts() {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
    };
}

export function urnOf(type: string, name: string, parentType?: string): string {
    const qualified = parentType ? `${parentType}$${type}` : type;
    return `urn:pulumi:${STACK}::${PROJECT}::${qualified}::${name}`;
}

export const K8S_PROVIDER: PolicyProviderResource = {
    type: "pulumi:providers:kubernetes",
    name: "platform-k8s",
    urn: urnOf("pulumi:providers:kubernetes", "platform-k8s"),
    props: {},
};

class NotApplicable extends Error {}

export interface ResourceOutcome {
    /** false when the rule called args.notApplicable (the type is not one it reads). */
    readonly applicable: boolean;
    readonly messages: string[];
}

export interface ArgsOptions {
    readonly name?: string;
    readonly config?: object;
    readonly provider?: PolicyProviderResource;
}

export function resourceArgs(
    type: string,
    props: Record<string, unknown>,
    o: ArgsOptions = {},
): ResourceValidationArgs {
    const name = o.name ?? "fixture";
    const args: ResourceValidationArgs = {
        type,
        props,
        urn: urnOf(type, name),
        name,
        opts: defaultOpts(),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({ ...TEST_KNOBS, ...(o.config ?? {}) }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    if (o.provider) args.provider = o.provider;
    return args;
}

/** Runs one resource rule on one resource; the messages it reported, or "not applicable". */
export function runResourceRule(
    rule: GuardrailResourcePolicy,
    type: string,
    props: Record<string, unknown>,
    o: ArgsOptions = {},
): ResourceOutcome {
    const messages: string[] = [];
    try {
        const result = rule.validateResource(resourceArgs(type, props, o), (m) => messages.push(m));
        if (result instanceof Promise) throw new Error("rules are synchronous");
    } catch (e) {
        if (e instanceof NotApplicable) return { applicable: false, messages };
        throw e;
    }
    return { applicable: true, messages };
}

/** A resource in a stack fixture, with references by logical key. */
export interface StackFixture {
    readonly key: string;
    readonly type: string;
    readonly name?: string;
    readonly props: Record<string, unknown>;
    readonly parent?: string;
    readonly dependsOn?: readonly string[];
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    readonly provider?: PolicyProviderResource;
}

export function stackArgs(fixtures: readonly StackFixture[], config: object = {}): StackValidationArgs {
    const byKey = new Map<string, PolicyResource>();
    for (const f of fixtures) {
        const name = f.name ?? f.key;
        byKey.set(f.key, {
            type: f.type,
            props: f.props,
            urn: urnOf(f.type, name),
            name,
            opts: defaultOpts(),
            ...(f.provider ? { provider: f.provider } : {}),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        });
    }
    const get = (k: string) => {
        const r = byKey.get(k);
        if (!r) throw new Error(`fixture references unknown key ${k}`);
        return r;
    };
    for (const f of fixtures) {
        const r = get(f.key);
        if (f.parent) {
            r.parent = get(f.parent);
            r.opts.parent = r.parent.urn;
        }
        r.dependencies = (f.dependsOn ?? []).map(get);
        for (const [k, keys] of Object.entries(f.propertyDependencies ?? {})) r.propertyDependencies[k] = keys.map(get);
    }
    return {
        resources: [...byKey.values()],
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...TEST_KNOBS, ...config }) as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

export interface StackViolation {
    readonly message: string;
    readonly urn?: string;
}

export function runStackRule(
    rule: GuardrailStackPolicy,
    fixtures: readonly StackFixture[],
    config: object = {},
): StackViolation[] {
    const out: StackViolation[] = [];
    const result = rule.validateStack(stackArgs(fixtures, config), (message, urn) =>
        out.push({ message, ...(urn ? { urn } : {}) }),
    );
    if (result instanceof Promise) throw new Error("rules are synchronous");
    return out;
}

/** A deep copy to mutate. */
export function clone<T>(v: T): T {
    return JSON.parse(JSON.stringify(v)) as T;
}
