import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { z } from "zod";
import { MANAGED_ENV, type EgressRule } from "../components/checkout/spec";
import type { ApiAccess, ClusterAccess, ClusterArgs } from "../components/cluster";
import { type NetworkArgs, vpcLayoutProblem } from "../components/network";
import { ConfigKey, KEYS, Kind, SECRET_LOOKING_NAME } from "./schema";

/**
 * Raised for any invalid stack configuration. A `RunError` makes the Pulumi CLI print the message
 * alone, without a stack trace from deep inside the program.
 */
export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly string[]) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** The config's network part is exactly what the Network component takes. */
export type NetworkConfig = NetworkArgs["vpc"];

export type AcmeSolver =
    | { readonly type: "http01"; readonly ingressClass: string }
    | { readonly type: "dns01"; readonly hostedZoneId: string };

/** The validated, frozen configuration of one stack. */
export interface PlatformConfig {
    readonly project: string;
    readonly stack: string;
    readonly region: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly network: NetworkConfig;
    readonly cluster: {
        readonly name: string;
        readonly upgradePolicy: "STANDARD" | "EXTENDED";
        /** Where the API is reachable from: `cluster.endpointPublicAccess` and the `*AccessCidrs`/`*SecurityGroupIds` keys. */
        readonly api: ApiAccess;
        /** Who may use the API: `cluster.adminRoleArns`, `deployRoleArn`, `previewRoleArn`, `bootstrapRoleArn`. */
        readonly access: ClusterAccess;
        readonly logTypes: readonly string[];
        readonly deletionProtection: boolean;
    };
    readonly nodes: ClusterArgs["nodes"];
    readonly registry: {
        readonly repositoryName: string;
        readonly forceDelete: boolean;
        readonly kmsEncryption: boolean;
        readonly keepTaggedImages: number;
        readonly untaggedExpiryDays: number;
    };
    readonly logs: { readonly retentionInDays: number; readonly kmsEncryption: boolean };
    readonly certManager: {
        readonly replicas: number;
        readonly acmeEmail: string;
        readonly solver: AcmeSolver;
    };
    readonly checkout: {
        readonly namespace: string;
        readonly imageTag: string;
        readonly minReplicas: number;
        readonly maxReplicas: number;
        readonly resources: {
            readonly cpuRequest: string;
            readonly cpuLimit: string;
            readonly memoryRequest: string;
            readonly memoryLimit: string;
        };
        readonly dbPoolMax: number;
        readonly logLevel: "debug" | "info" | "warn" | "error";
        readonly egress: readonly EgressRule[];
        readonly extraEnv: Readonly<Record<string, string>>;
    };
}

/** Looks a raw config value up by its full key (`<namespace>:<key>`), as the engine holds it. */
export type RawConfigSource = (fullKey: string) => string | undefined;

/** A value as the error message shows it: JSON, so strings are quoted and "" is visible. */
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** Converts a raw string into the value its declared kind says it holds. */
function convert(kind: Kind, raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
    switch (kind) {
        case "string":
            return { ok: true, value: raw };
        case "integer":
            return /^-?\d+$/.test(raw.trim())
                ? { ok: true, value: Number(raw.trim()) }
                : { ok: false, message: "must be a whole number" };
        case "boolean":
            return raw === "true" || raw === "false"
                ? { ok: true, value: raw === "true" }
                : { ok: false, message: "must be true or false" };
        case "array": {
            let parsed: unknown;
            try {
                parsed = JSON.parse(raw);
            } catch {
                return { ok: false, message: "must be a list (a YAML sequence in the stack file, or a JSON array)" };
            }
            return Array.isArray(parsed)
                ? { ok: true, value: parsed }
                : { ok: false, message: "must be a list (a YAML sequence in the stack file, or a JSON array)" };
        }
        case "structured":
            try {
                return { ok: true, value: YAML.parse(raw) };
            } catch (e) {
                const reason = (e as Error).message.split("\n")[0];
                return { ok: false, message: `must be valid YAML or JSON (${reason})` };
            }
    }
}

/** Parses the CPU or memory quantity forms the schema accepts into millicores or bytes. */
export function parseQuantity(q: string): number {
    const units: Record<string, number> = { m: 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
    const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(q);
    if (!match) throw new Error(`not a quantity: ${q}`);
    const n = Number(match[1]);
    return match[2] ? n * units[match[2]] : n * 1000; // a bare number is whole CPUs
}

/**
 * Reads every key once, validates it and returns one frozen, typed object, or throws a
 * `ConfigError` listing every problem (nothing is half-applied: the program builds no resource
 * before this returns).
 */
export function loadConfig(source: RawConfigSource, project: string, stack: string): PlatformConfig {
    const problems: string[] = [];
    const values = new Map<ConfigKey, unknown>();
    const full = (key: string) => `${project}:${key}`;

    for (const [key, spec] of Object.entries(KEYS) as [ConfigKey, (typeof KEYS)[ConfigKey]][]) {
        const raw = source(full(key));
        if (raw === undefined) {
            // Pulumi.yaml gives every optional key a default, so only required keys can be absent
            // under the CLI; a key absent for any other reason is just as fatal.
            problems.push(`${full(key)} is required but not set (pulumi config set ${key} <value>)`);
            continue;
        }
        const converted = convert(spec.kind, raw);
        if (!converted.ok) {
            problems.push(`${full(key)} ${converted.message}; got ${show(raw)}`);
            continue;
        }
        const result = (spec.schema as z.ZodType).safeParse(converted.value);
        if (!result.success) {
            for (const issue of result.error.issues) {
                const at = issue.path.length ? issue.path.map((p) => `[${String(p)}]`).join("") : "";
                const bad = issue.path.reduce<unknown>(
                    (v, p) =>
                        v !== null && typeof v === "object"
                            ? (v as Record<PropertyKey, unknown>)[p as PropertyKey]
                            : undefined,
                    converted.value,
                );
                problems.push(`${full(key)}${at} ${issue.message}; got ${show(bad)}`);
            }
            continue;
        }
        values.set(key, result.data);
    }

    const region = source("aws:region");
    if (!region) problems.push("aws:region is required but not set (pulumi config set aws:region <region>)");
    else if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
        problems.push(`aws:region must be an AWS region such as eu-west-1; got ${show(region)}`);

    // Cross-key rules run only when the keys they relate are valid on their own.
    const get = <T>(key: ConfigKey) => values.get(key) as T;
    const has = (...keys: ConfigKey[]) => keys.every((k) => values.has(k));
    const rule = (keys: ConfigKey[], ok: () => boolean, message: () => string) => {
        if (has(...keys) && !ok()) problems.push(message());
    };

    rule(
        ["nodes.minSize", "nodes.desiredSize"],
        () => get<number>("nodes.desiredSize") >= get<number>("nodes.minSize"),
        () =>
            `${full("nodes.desiredSize")} must be >= nodes.minSize (${get("nodes.minSize")}); got ${get("nodes.desiredSize")}`,
    );
    rule(
        ["nodes.desiredSize", "nodes.maxSize"],
        () => get<number>("nodes.maxSize") >= get<number>("nodes.desiredSize"),
        () =>
            `${full("nodes.maxSize")} must be >= nodes.desiredSize (${get("nodes.desiredSize")}); got ${get("nodes.maxSize")}`,
    );
    rule(
        ["checkout.minReplicas", "checkout.maxReplicas"],
        () => get<number>("checkout.maxReplicas") > get<number>("checkout.minReplicas"),
        () =>
            `${full("checkout.maxReplicas")} must be > checkout.minReplicas (${get("checkout.minReplicas")}) so the HPA can scale; got ${get("checkout.maxReplicas")}`,
    );
    for (const res of ["cpu", "memory"] as const) {
        const req = `checkout.${res}Request` as ConfigKey;
        const lim = `checkout.${res}Limit` as ConfigKey;
        rule(
            [req, lim],
            () => parseQuantity(get(lim)) >= parseQuantity(get(req)),
            () => `${full(lim)} must be >= ${req} (${get(req)}); got ${show(get(lim))}`,
        );
    }

    rule(
        ["cluster.endpointPublicAccess", "cluster.publicAccessCidrs"],
        () => !get<boolean>("cluster.endpointPublicAccess") || get<string[]>("cluster.publicAccessCidrs").length > 0,
        () =>
            `${full("cluster.publicAccessCidrs")} must list the CIDRs allowed to reach the public API endpoint when cluster.endpointPublicAccess is true (there is no implicit 0.0.0.0/0); got []`,
    );
    rule(
        ["cluster.endpointPublicAccess", "cluster.publicAccessCidrs"],
        () => get<boolean>("cluster.endpointPublicAccess") || get<string[]>("cluster.publicAccessCidrs").length === 0,
        () =>
            `${full("cluster.publicAccessCidrs")} must be empty when cluster.endpointPublicAccess is false (the endpoint is private); got ${show(get("cluster.publicAccessCidrs"))}`,
    );
    // A private endpoint answers only sources its security group admits: pulumi-eks then skips its
    // API health wait and every Kubernetes resource times out (pulumi-eks#1134).
    rule(
        ["cluster.endpointPublicAccess", "cluster.privateAccessCidrs", "cluster.privateAccessSecurityGroupIds"],
        () =>
            get<boolean>("cluster.endpointPublicAccess") ||
            get<string[]>("cluster.privateAccessCidrs").length +
                get<string[]>("cluster.privateAccessSecurityGroupIds").length >
                0,
        () =>
            `${full("cluster.privateAccessCidrs")} or cluster.privateAccessSecurityGroupIds must name where \`pulumi up\` and \`preview\` run inside the VPC (or a connected network) when cluster.endpointPublicAccess is false: nothing else can reach a private endpoint; got [] and []`,
    );

    // Access entries: one per principal (a second fails with 409), and none for the principal that
    // creates the cluster, which EKS makes admin itself (pulumi-eks#2373).
    if (has("cluster.adminRoleArns", "cluster.deployRoleArn", "cluster.previewRoleArn", "cluster.bootstrapRoleArn")) {
        const sources: [ConfigKey, string][] = [
            ...get<string[]>("cluster.adminRoleArns").map((a): [ConfigKey, string] => ["cluster.adminRoleArns", a]),
            ["cluster.deployRoleArn", get<string>("cluster.deployRoleArn")],
            ...(get<string>("cluster.previewRoleArn") !== ""
                ? [["cluster.previewRoleArn", get<string>("cluster.previewRoleArn")] as [ConfigKey, string]]
                : []),
        ];
        for (const arn of new Set(sources.map(([, a]) => a))) {
            const keys = sources.filter(([, a]) => a === arn).map(([k]) => k);
            if (keys.length > 1)
                problems.push(
                    `${full(keys[1])} repeats ${show(arn)}, already in ${keys[0]}: EKS allows one access entry per principal (the second fails with 409); give each role one place`,
                );
        }
        const bootstrap = get<string>("cluster.bootstrapRoleArn");
        const creators = [...get<string[]>("cluster.adminRoleArns"), get<string>("cluster.deployRoleArn")];
        if (!creators.includes(bootstrap))
            problems.push(
                `${full("cluster.bootstrapRoleArn")} must be one of cluster.adminRoleArns or cluster.deployRoleArn (the role that runs the first \`up\`: EKS makes it cluster-admin itself, so it gets no access entry); got ${show(bootstrap)}`,
            );
    }

    const mode = get<"create" | "existing">("network.mode");
    if (mode === "existing") {
        rule(
            ["network.vpcId"],
            () => get<string>("network.vpcId") !== "",
            () => `${full("network.vpcId")} is required when network.mode is existing; got ""`,
        );
        rule(
            ["network.privateSubnetIds"],
            () => get<string[]>("network.privateSubnetIds").length >= 2,
            () =>
                `${full("network.privateSubnetIds")} must list at least 2 private subnets (in different AZs) when network.mode is existing; got ${show(get("network.privateSubnetIds"))}`,
        );
    } else if (mode === "create") {
        const layout = () => vpcLayoutProblem(get("network.cidrBlock"), get("network.azCount"));
        rule(
            ["network.cidrBlock", "network.azCount"],
            () => layout() === undefined,
            () => `${full("network.azCount")} ${layout()}; got ${get("network.azCount")}`,
        );
        for (const key of ["network.vpcId", "network.privateSubnetIds", "network.publicSubnetIds"] as const) {
            rule(
                [key],
                () => get<string | string[]>(key).length === 0,
                () =>
                    `${full(key)} is only used when network.mode is existing (network.mode is create); got ${show(get(key))}`,
            );
        }
    }

    const solver = get<"http01" | "dns01">("certManager.solver");
    rule(
        ["certManager.solver", "certManager.hostedZoneId"],
        () => (solver === "dns01") === (get<string>("certManager.hostedZoneId") !== ""),
        () =>
            solver === "dns01"
                ? `${full("certManager.hostedZoneId")} is required when certManager.solver is dns01; got ""`
                : `${full("certManager.hostedZoneId")} is only used when certManager.solver is dns01 (solver is http01); got ${show(get("certManager.hostedZoneId"))}`,
    );

    if (values.has("checkout.extraEnv")) {
        for (const name of Object.keys(get<Record<string, string>>("checkout.extraEnv"))) {
            if ((MANAGED_ENV as readonly string[]).includes(name))
                problems.push(
                    `${full("checkout.extraEnv")}[${name}] is set by the Deployment itself (from its own key); remove it from extraEnv`,
                );
            else if (SECRET_LOOKING_NAME.test(name))
                problems.push(
                    `${full("checkout.extraEnv")}[${name}] looks like a secret; secrets must come from a Kubernetes Secret, not a literal in config`,
                );
        }
    }

    if (problems.length > 0) throw new ConfigError(problems);
    return deepFreeze(assemble(get, project, stack, region!));
}

function assemble(get: <T>(key: ConfigKey) => T, project: string, stack: string, region: string): PlatformConfig {
    const network: NetworkConfig =
        get("network.mode") === "existing"
            ? {
                  mode: "existing",
                  vpcId: get("network.vpcId"),
                  privateSubnetIds: get("network.privateSubnetIds"),
                  publicSubnetIds: get("network.publicSubnetIds"),
              }
            : {
                  mode: "create",
                  cidrBlock: get("network.cidrBlock"),
                  azCount: get("network.azCount"),
                  natGateways: get("network.natGateways"),
              };
    const solver: AcmeSolver =
        get("certManager.solver") === "dns01"
            ? { type: "dns01", hostedZoneId: get("certManager.hostedZoneId") }
            : { type: "http01", ingressClass: get("certManager.ingressClass") };
    return {
        project,
        stack,
        region,
        tags: get("tags"),
        network,
        cluster: {
            name: get("cluster.name"),
            upgradePolicy: get("cluster.upgradePolicy"),
            api: {
                endpointPublicAccess: get("cluster.endpointPublicAccess"),
                publicAccessCidrs: get("cluster.publicAccessCidrs"),
                privateAccessCidrs: get("cluster.privateAccessCidrs"),
                privateAccessSecurityGroupIds: get("cluster.privateAccessSecurityGroupIds"),
            },
            access: {
                adminRoleArns: get("cluster.adminRoleArns"),
                deployRoleArn: get("cluster.deployRoleArn"),
                previewRoleArn: get("cluster.previewRoleArn"),
                bootstrapRoleArn: get("cluster.bootstrapRoleArn"),
            },
            logTypes: get("cluster.logTypes"),
            deletionProtection: get("cluster.deletionProtection"),
        },
        nodes: {
            instanceTypes: get("nodes.instanceTypes"),
            amiType: get("nodes.amiType"),
            diskSizeGiB: get("nodes.diskSizeGiB"),
            minSize: get("nodes.minSize"),
            desiredSize: get("nodes.desiredSize"),
            maxSize: get("nodes.maxSize"),
        },
        registry: {
            repositoryName: get("registry.repositoryName"),
            forceDelete: get("registry.forceDelete"),
            kmsEncryption: get("registry.kmsEncryption"),
            keepTaggedImages: get("registry.keepTaggedImages"),
            untaggedExpiryDays: get("registry.untaggedExpiryDays"),
        },
        logs: { retentionInDays: get("logs.retentionInDays"), kmsEncryption: get("logs.kmsEncryption") },
        certManager: { replicas: get("certManager.replicas"), acmeEmail: get("certManager.acmeEmail"), solver },
        checkout: {
            namespace: get("checkout.namespace"),
            imageTag: get("checkout.imageTag"),
            minReplicas: get("checkout.minReplicas"),
            maxReplicas: get("checkout.maxReplicas"),
            resources: {
                cpuRequest: get("checkout.cpuRequest"),
                cpuLimit: get("checkout.cpuLimit"),
                memoryRequest: get("checkout.memoryRequest"),
                memoryLimit: get("checkout.memoryLimit"),
            },
            dbPoolMax: get("checkout.dbPoolMax"),
            logLevel: get("checkout.logLevel"),
            egress: get<EgressRule[]>("checkout.egress").map((r) => ({ ...r, protocol: r.protocol ?? "TCP" })),
            extraEnv: get("checkout.extraEnv"),
        },
    };
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
    }
    return value;
}

/** The loader as the engine runs it: values from `pulumi.Config`, names from the running stack. */
export function loadStackConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const configs = new Map<string, pulumi.Config>();
    const source: RawConfigSource = (fullKey) => {
        const i = fullKey.indexOf(":");
        const ns = fullKey.slice(0, i);
        if (!configs.has(ns)) configs.set(ns, new pulumi.Config(ns));
        return configs.get(ns)!.get(fullKey.slice(i + 1));
    };
    return loadConfig(source, project, pulumi.getStack());
}
