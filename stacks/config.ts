import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_ENV } from "../components/checkout/spec";
import { zoneFor } from "../components/addons/route53";
import { vpcLayoutProblem } from "../components/network";
import { Location, PathElement, StackFileLocator } from "./locate";
import {
    AREAS,
    Area,
    DECLARED_KEYS,
    DeclaredKey,
    EXAMPLE_VALUES,
    Field,
    RawConfig,
    SCHEMA,
    SECRET_LOOKING_NAME,
} from "./schema";
import { closest } from "./suggest";

/**
 * Raised for any invalid stack configuration. A `RunError` makes the Pulumi CLI print the message
 * alone, without a stack trace from deep inside the program.
 */
export class ConfigError extends pulumi.RunError {
    constructor(
        readonly problems: readonly string[],
        readonly warnings: readonly string[] = [],
    ) {
        super(
            `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * Namespaces other than the project's that the program lets through: the engine's own, and one per
 * package the program uses, whose default provider the engine configures from it. Any other
 * namespace is read by nothing, so a key there is a mistake (`checkout:imageTag` for
 * `checkout-platform:checkout.imageTag`).
 */
export const OTHER_NAMESPACES: Readonly<Record<string, string>> = {
    pulumi: "the engine (pulumi:tags, pulumi:disable-default-providers, ...)",
    aws: "@pulumi/aws (aws:region is required)",
    awsx: "@pulumi/awsx",
    eks: "@pulumi/eks",
    kubernetes: "@pulumi/kubernetes",
};

type Deep<T> = T extends (infer I)[]
    ? readonly Deep<I>[]
    : T extends object
      ? { readonly [K in keyof T]: Deep<T[K]> }
      : T;

/** The validated, frozen configuration of one stack (its type follows from stacks/schema.ts). */
export type PlatformConfig = Deep<ReturnType<typeof assemble>>;

/** What the loader reads: what the engine passed, and the stack file it came from (for line numbers). */
export interface ConfigInput {
    readonly project: string;
    readonly stack: string;
    /** `pulumi.runtime.allConfig()`: `<namespace>:<name>` -> the text the engine passed. */
    readonly config: Readonly<Record<string, string>>;
    readonly stackFile?: { readonly name: string; readonly text: string };
}

export interface LoadedConfig {
    readonly config: PlatformConfig;
    /** Things to tell the person running the program on every run (example values left in). */
    readonly warnings: readonly string[];
}

/** Parses the CPU or memory quantity forms the schema accepts into millicores or bytes. */
export function parseQuantity(q: string): number {
    const units: Record<string, number> = { m: 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
    const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(q);
    if (!match) throw new Error(`not a quantity: ${q}`);
    const n = Number(match[1]);
    return match[2] ? n * units[match[2]] : n * 1000; // a bare number is whole CPUs
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const json = (v: unknown) => JSON.stringify(v) ?? "undefined";
const joinPath = (path: readonly PathElement[]) =>
    path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");

/** Gives a value its declared Pulumi type, accepting what the CLI's own type check accepts. */
function typed(spec: Field, value: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
    const kind =
        value === null ? "empty" : Array.isArray(value) ? "a list" : typeof value === "object" ? "a map" : typeof value;
    switch (spec.type) {
        case "string":
            if (typeof value === "string") return { ok: true, value };
            return {
                ok: false,
                message:
                    kind === "number" || kind === "boolean"
                        ? `must be a string: quote it in the stack file (unquoted, YAML reads it as a ${kind}, and ${json(value)} is what arrives)`
                        : `must be a string, not ${kind}`,
            };
        case "integer":
            // pulumi/pulumi v3.259.0 project.go 777-796: the CLI also accepts a quoted whole number.
            if (typeof value === "number" && Number.isInteger(value)) return { ok: true, value };
            if (typeof value === "string" && /^[+-]?\d+$/.test(value)) return { ok: true, value: Number(value) };
            return { ok: false, message: "must be a whole number" };
        case "boolean":
            // project.go 798-807: and "true"/"false" as strings.
            if (typeof value === "boolean") return { ok: true, value };
            if (value === "true" || value === "false") return { ok: true, value: value === "true" };
            return { ok: false, message: "must be true or false" };
        case "array":
            return Array.isArray(value) ? { ok: true, value } : { ok: false, message: `must be a list, not ${kind}` };
        case "object":
            return isMap(value) ? { ok: true, value } : { ok: false, message: `must be a map, not ${kind}` };
    }
}

class Problems {
    readonly list: string[] = [];
    constructor(private readonly locator: StackFileLocator | undefined) {}

    /**
     * `<file>:<line>: <key> <message>; got <value as written>`. `value` is what the engine passed:
     * the line is shown only if the file holds that value. Without `value`, the key is located
     * wherever the file has it, unless `locate` is false (a value that is absent).
     */
    add(fullKey: string, path: readonly PathElement[], message: string, value?: { v: unknown }, locate = true): void {
        const loc = !locate
            ? undefined
            : value
              ? this.locator?.locate(fullKey, path, value.v)
              : this.locator?.locate(fullKey, path);
        this.list.push(
            `${loc ? loc.at + ": " : ""}${fullKey}${joinPath(path)} ${message}` +
                (value ? `; got ${loc?.written ?? json(value.v)}` : ""),
        );
    }

    /** A problem found in the stack file's text itself. */
    addAt(loc: Location | undefined, name: string, message: string): void {
        this.list.push(`${loc ? loc.at + ": " : ""}${name} ${message}`);
    }
}

/**
 * Reads every key once, validates it and returns one frozen, typed object, or throws a
 * `ConfigError` listing every problem (nothing is half-applied: the program builds no resource
 * before this returns). Unknown keys and namespaces are problems too: the CLI passes them through
 * silently (pulumi/pulumi v3.259.0 pkg/workspace/config.go checks declared keys only).
 */
export function loadConfig(input: ConfigInput): LoadedConfig {
    const { project, stack } = input;
    const locator = input.stackFile
        ? new StackFileLocator(project, input.stackFile.name, input.stackFile.text)
        : undefined;
    const problems = new Problems(locator);
    const ns = (name: string) => `${project}:${name}`;
    const declaredPaths = DECLARED_KEYS.map((k) => k.path);

    // 1. Every key the engine passed must be one something reads.
    const roots = new Map<string, unknown>();
    for (const [fullKey, text] of Object.entries(input.config).sort(([a], [b]) => a.localeCompare(b))) {
        const i = fullKey.indexOf(":");
        const [namespace, name] = [fullKey.slice(0, i), fullKey.slice(i + 1)];
        if (namespace === project) {
            if (name in SCHEMA) {
                roots.set(name, parseRoot(text));
                continue;
            }
            if (declaredPaths.includes(name)) {
                problems.add(
                    fullKey,
                    [],
                    `is a key with a dot in its name, which the Pulumi CLI does not read as the declared path ${name}: ` +
                        `this value is not used. Move it into ${ns(name.split(".")[0])} ` +
                        `(pulumi config rm ${name} && pulumi config set --path ${name} <value>)`,
                );
                continue;
            }
            const suggestion = closest(name, [...Object.keys(SCHEMA), ...declaredPaths]);
            problems.add(
                fullKey,
                [],
                `is not a configuration key of this program${suggestion ? `; did you mean ${ns(suggestion)}?` : ` (keys: ${Object.keys(SCHEMA).join(", ")})`}`,
            );
        } else if (!(namespace in OTHER_NAMESPACES)) {
            problems.add(fullKey, [], `is in a namespace nothing reads${namespaceHint(project, namespace, name)}`);
        }
    }

    // 2. Every declared key: present, of its type, valid.
    const raw: Record<string, unknown> = {};
    for (const top of Object.keys(SCHEMA)) {
        const entry = SCHEMA[top as keyof typeof SCHEMA];
        if (entry instanceof Area) raw[top] = readArea(top, entry, roots.get(top), problems, ns, locator);
        else
            raw[top] = readField(
                { path: top, field: top, spec: entry as Field },
                roots.get(top),
                ns(top),
                [],
                problems,
            );
    }

    const region = input.config["aws:region"];
    if (!region)
        problems.add(
            "aws:region",
            [],
            "is required but not set (pulumi config set aws:region <region>)",
            undefined,
            false,
        );
    else if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
        problems.add("aws:region", [], "must be an AWS region such as eu-west-1", { v: region });

    const warnings = exampleWarnings(input.config, project, locator);
    crossChecks(raw as RawConfig, problems, ns);
    if (problems.list.length > 0) throw new ConfigError(problems.list, warnings);
    return { config: deepFreeze(assemble(raw as RawConfig, project, stack, region)), warnings };
}

/** A root value as the engine passed it: JSON for a map (the CLI renders maps as JSON), else its text. */
function parseRoot(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function namespaceHint(project: string, namespace: string, name: string): string {
    const area = Object.keys(SCHEMA).find((a) => a === namespace);
    if (area && SCHEMA[area as keyof typeof SCHEMA] instanceof Area) {
        const fields = Object.keys((SCHEMA[area as keyof typeof SCHEMA] as Area).fields);
        const field = fields.includes(name) ? name : closest(name, fields);
        if (field) return `; did you mean ${project}:${area}.${field} (the field ${field} of ${project}:${area})?`;
    }
    if (closest(namespace, [project])) return `; did you mean ${project}:${name}?`;
    return ` (this program reads ${[project, ...Object.keys(OTHER_NAMESPACES)].map((n) => `${n}:`).join(", ")})`;
}

function readArea(
    top: string,
    area: Area,
    value: unknown,
    problems: Problems,
    ns: (n: string) => string,
    locator: StackFileLocator | undefined,
): Record<string, unknown> | undefined {
    const fullKey = ns(top);
    // The file itself: the CLI turns an empty or scalar area into its defaults without a word
    // (config/object.go 295-299 overwrites a top-level scalar when it sets a default by path).
    const inFile = locator?.locate(fullKey, []);
    if (inFile?.empty) {
        problems.addAt(inFile, fullKey, `is empty: give it the ${top} fields to set, or remove it`);
        return undefined;
    }
    if (inFile && inFile.kind !== "map") {
        problems.addAt(inFile, fullKey, `must be a map of ${top} fields; got ${inFile.written ?? inFile.kind}`);
        return undefined;
    }
    if (value === undefined) value = {};
    if (!isMap(value)) {
        problems.add(fullKey, [], `must be a map of ${top} fields`, { v: value });
        return undefined;
    }
    const fields = Object.keys(area.fields);
    for (const name of Object.keys(value)
        .filter((n) => !fields.includes(n))
        .sort()) {
        const same = closest(name, fields);
        const elsewhere = DECLARED_KEYS.find((k) => k.field === name && k.area !== top);
        const hint = same ? `${top}.${same}` : elsewhere?.path;
        problems.add(
            fullKey,
            [name],
            `is not a field of ${fullKey}` + (hint ? `; did you mean ${ns(hint)}?` : ` (fields: ${fields.join(", ")})`),
        );
    }
    const out: Record<string, unknown> = {};
    for (const [field, spec] of Object.entries(area.fields as Record<string, Field>)) {
        out[field] = readField(
            { path: `${top}.${field}`, area: top, field, spec },
            value[field],
            fullKey,
            [field],
            problems,
        );
    }
    return out;
}

const MISSING = Symbol("missing");

function readField(
    key: DeclaredKey,
    value: unknown,
    fullKey: string,
    path: PathElement[],
    problems: Problems,
): unknown {
    if (value === undefined) {
        // The CLI applies every Pulumi.yaml default and rejects a missing required key before the
        // program starts; a value can still be absent when Pulumi.yaml is stale or validation was skipped.
        problems.add(
            fullKey,
            path,
            key.spec.default === undefined
                ? `is required but not set (pulumi config set --path ${key.path} <value>)`
                : `is not set, though stacks/schema.ts gives it a default: Pulumi.yaml is stale (npm run docs:update)`,
            undefined,
            false,
        );
        return MISSING;
    }
    const t = typed(key.spec, value);
    if (!t.ok) {
        problems.add(fullKey, path, t.message, { v: value });
        return MISSING;
    }
    const result = key.spec.schema.safeParse(t.value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
        const at = [...path, ...(issue.path as PathElement[])];
        const bad = (issue.path as PropertyKey[]).reduce<unknown>(
            (v, p) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined),
            t.value,
        );
        if (issue.code === "unrecognized_keys") {
            const fields = key.spec.itemFields ?? [];
            for (const k of issue.keys) {
                const hint = closest(k, fields);
                problems.add(
                    fullKey,
                    [...at, k],
                    `is not a field of a ${key.path} entry` +
                        (hint ? `; did you mean ${hint}?` : fields.length ? ` (fields: ${fields.join(", ")})` : ""),
                );
            }
        } else if (bad === undefined && issue.code === "invalid_type") {
            problems.add(fullKey, at, "is required", undefined, false);
        } else if (issue.code === "invalid_key" && issue.issues.length > 0) {
            // A map key that its schema rejects: show the key and the key schema's message.
            const key = String(issue.path[issue.path.length - 1]);
            problems.list.push(`${fullKey}${joinPath(at)} ${issue.issues[0].message}; got ${json(key)}`);
        } else {
            problems.add(fullKey, at, issue.message, { v: bad });
        }
    }
    return MISSING;
}

/** Rules between keys; each runs when the keys it relates are valid on their own. */
function crossChecks(c: RawConfig, problems: Problems, ns: (n: string) => string): void {
    const valid = (area: keyof RawConfig, ...fields: string[]) => {
        const a = c[area] as Record<string, unknown> | undefined;
        return a !== undefined && fields.every((f) => a[f] !== MISSING);
    };
    const rule = (
        keys: boolean,
        ok: () => boolean,
        area: string,
        field: string,
        message: () => string,
        value: () => unknown,
    ) => {
        if (keys && !ok()) problems.add(ns(area), [field], message(), { v: value() });
    };
    const { nodes, checkout, cluster, network } = c;
    rule(
        valid("nodes", "minSize", "desiredSize"),
        () => nodes.desiredSize >= nodes.minSize,
        "nodes",
        "desiredSize",
        () => `must be >= nodes.minSize (${nodes.minSize})`,
        () => nodes.desiredSize,
    );
    rule(
        valid("nodes", "desiredSize", "maxSize"),
        () => nodes.maxSize >= nodes.desiredSize,
        "nodes",
        "maxSize",
        () => `must be >= nodes.desiredSize (${nodes.desiredSize})`,
        () => nodes.maxSize,
    );
    rule(
        valid("checkout", "minReplicas", "maxReplicas"),
        () => checkout.maxReplicas > checkout.minReplicas,
        "checkout",
        "maxReplicas",
        () => `must be > checkout.minReplicas (${checkout.minReplicas}) so the HPA can scale`,
        () => checkout.maxReplicas,
    );
    for (const res of ["cpu", "memory"] as const) {
        rule(
            valid("checkout", `${res}Request`, `${res}Limit`),
            () => parseQuantity(checkout[`${res}Limit`]) >= parseQuantity(checkout[`${res}Request`]),
            "checkout",
            `${res}Limit`,
            () => `must be >= checkout.${res}Request (${checkout[`${res}Request`]})`,
            () => checkout[`${res}Limit`],
        );
    }
    const endpoint = valid("cluster", "endpointPublicAccess", "publicAccessCidrs");
    rule(
        endpoint,
        () => !cluster.endpointPublicAccess || cluster.publicAccessCidrs.length > 0,
        "cluster",
        "publicAccessCidrs",
        () =>
            "must list the CIDRs allowed to reach the public API endpoint when cluster.endpointPublicAccess is true (there is no implicit 0.0.0.0/0)",
        () => cluster.publicAccessCidrs,
    );
    rule(
        endpoint,
        () => cluster.endpointPublicAccess || cluster.publicAccessCidrs.length === 0,
        "cluster",
        "publicAccessCidrs",
        () => "must be empty when cluster.endpointPublicAccess is false (the endpoint is private)",
        () => cluster.publicAccessCidrs,
    );
    // A private endpoint answers only sources its security group admits: pulumi-eks then skips its
    // API health wait and every Kubernetes resource times out (pulumi-eks#1134).
    rule(
        valid("cluster", "endpointPublicAccess", "privateAccessCidrs", "privateAccessSecurityGroupIds"),
        () =>
            cluster.endpointPublicAccess ||
            cluster.privateAccessCidrs.length + cluster.privateAccessSecurityGroupIds.length > 0,
        "cluster",
        "privateAccessCidrs",
        () =>
            "or cluster.privateAccessSecurityGroupIds must name where `pulumi up` and `preview` run inside the VPC (or a connected network) when cluster.endpointPublicAccess is false: nothing else can reach a private endpoint",
        () => cluster.privateAccessCidrs,
    );
    // Access entries: one per principal (a second fails with 409), and none for the principal that
    // creates the cluster, which EKS makes admin itself (pulumi-eks#2373).
    if (valid("cluster", "adminRoleArns", "deployRoleArn", "previewRoleArn")) {
        const sources: [string, string][] = [
            ...cluster.adminRoleArns.map((a): [string, string] => ["adminRoleArns", a]),
            ["deployRoleArn", cluster.deployRoleArn],
            ...(cluster.previewRoleArn !== "" ? [["previewRoleArn", cluster.previewRoleArn] as [string, string]] : []),
        ];
        for (const arn of new Set(sources.map(([, a]) => a))) {
            const fields = sources.filter(([, a]) => a === arn).map(([f]) => f);
            if (fields.length > 1)
                problems.add(
                    ns("cluster"),
                    [fields[1]],
                    `repeats a role already in cluster.${fields[0]}: EKS allows one access entry per principal (the second fails with 409); give each role one place`,
                    { v: arn },
                );
        }
    }
    rule(
        valid("cluster", "adminRoleArns", "deployRoleArn", "bootstrapRoleArn"),
        () => [...cluster.adminRoleArns, cluster.deployRoleArn].includes(cluster.bootstrapRoleArn),
        "cluster",
        "bootstrapRoleArn",
        () =>
            "must be one of cluster.adminRoleArns or cluster.deployRoleArn (the role that runs the first `up`: EKS makes it cluster-admin itself, so it gets no access entry)",
        () => cluster.bootstrapRoleArn,
    );
    if (valid("network", "mode") && network.mode === "existing") {
        rule(
            valid("network", "vpcId"),
            () => network.vpcId !== "",
            "network",
            "vpcId",
            () => "is required when network.mode is existing",
            () => network.vpcId,
        );
        rule(
            valid("network", "privateSubnetIds"),
            () => network.privateSubnetIds.length >= 2,
            "network",
            "privateSubnetIds",
            () => "must list at least 2 private subnets (in different AZs) when network.mode is existing",
            () => network.privateSubnetIds,
        );
    } else if (valid("network", "mode")) {
        const layout = valid("network", "cidrBlock", "azCount")
            ? vpcLayoutProblem(network.cidrBlock, network.azCount)
            : undefined;
        rule(
            layout !== undefined,
            () => false,
            "network",
            "azCount",
            () => layout!,
            () => network.azCount,
        );
        for (const field of ["vpcId", "privateSubnetIds", "publicSubnetIds"] as const)
            rule(
                valid("network", field),
                () => network[field].length === 0,
                "network",
                field,
                () => "is only used when network.mode is existing (network.mode is create)",
                () => network[field],
            );
    }
    // The edge: a hostname needs a zone to be served from, and a zone a hostname to serve.
    if (valid("edge", "zones") && valid("checkout", "hostname")) {
        const zones = c.edge.zones;
        const names = zones.map((z) => z.name).join(", ");
        rule(
            true,
            () => zones.length > 0 || checkout.hostname === "",
            "checkout",
            "hostname",
            () =>
                "is only used with an edge, and edge.zones is empty (no Gateway): remove it or list its zone in edge.zones",
            () => checkout.hostname,
        );
        rule(
            zones.length > 0,
            () => checkout.hostname !== "",
            "checkout",
            "hostname",
            () => `is required when edge.zones lists a zone (${names}): the Gateway serves checkout at it`,
            () => checkout.hostname,
        );
        rule(
            zones.length > 0 && checkout.hostname !== "",
            () => zoneFor(checkout.hostname, zones) !== undefined,
            "checkout",
            "hostname",
            () => `must be inside one of edge.zones (${names}): its certificate and DNS record are made there`,
            () => checkout.hostname,
        );
    }
    // The controller may read only under the prefix (its IAM policy), so a secret elsewhere never syncs.
    rule(
        valid("externalSecrets", "secretPrefix") && valid("checkout", "databaseSecret"),
        () =>
            checkout.databaseSecret === "" || checkout.databaseSecret.startsWith(`${c.externalSecrets.secretPrefix}/`),
        "checkout",
        "databaseSecret",
        () =>
            `must be under externalSecrets.secretPrefix (${c.externalSecrets.secretPrefix}/...): the stack may read no other secret`,
        () => checkout.databaseSecret,
    );
    // ExternalDNS's txtOwnerId is the cluster name; the TXT registry allows 63 characters.
    rule(
        valid("edge", "zones") && valid("cluster", "name") && c.edge.zones.length > 0,
        () => cluster.name.length <= 63,
        "cluster",
        "name",
        () =>
            "must be at most 63 characters when edge.zones lists a zone: it is ExternalDNS's txtOwnerId, the owner of the stack's DNS records",
        () => cluster.name,
    );
    if (valid("checkout", "extraEnv"))
        for (const name of Object.keys(checkout.extraEnv)) {
            if ((MANAGED_ENV as readonly string[]).includes(name))
                problems.add(
                    ns("checkout"),
                    ["extraEnv", name],
                    "is set by the Deployment itself (from its own key); remove it from extraEnv",
                );
            else if (SECRET_LOOKING_NAME.test(name))
                problems.add(
                    ns("checkout"),
                    ["extraEnv", name],
                    "looks like a secret; secrets must come from a Kubernetes Secret, not a literal in config",
                );
        }
}

/** A value the stack still holds from the shipped examples. */
export interface ExampleValue {
    /** The declared key (`checkout-platform:cluster.deployRoleArn`), or the key itself outside the project. */
    readonly name: string;
    readonly fullKey: string;
    readonly path: readonly PathElement[];
    readonly value: string;
    /** The value as the engine passed it (a number for an unquoted account id). */
    readonly raw: unknown;
    /** What kind of example it is. */
    readonly what: string;
}

/** Every key whose value (or a string inside it) is one of the documentation values in EXAMPLE_VALUES. */
export function findExampleValues(config: Readonly<Record<string, string>>, project: string): ExampleValue[] {
    const found: ExampleValue[] = [];
    for (const [fullKey, text] of Object.entries(config).sort(([a], [b]) => a.localeCompare(b))) {
        let value: unknown = text;
        try {
            if (/^[[{]/.test(text)) value = JSON.parse(text);
        } catch {
            // a plain string
        }
        const isArea = fullKey.startsWith(`${project}:`) && AREAS.includes(fullKey.slice(project.length + 1));
        const walk = (v: unknown, path: PathElement[]) => {
            // An account id written without quotes arrives as a number.
            if (typeof v === "string" || typeof v === "number") {
                const hit = EXAMPLE_VALUES.find((e) => e.pattern.test(String(v)));
                const name = isArea && path.length ? `${fullKey}.${String(path[0])}` : fullKey;
                if (hit && !found.some((f) => f.name === name))
                    found.push({ name, fullKey, path, value: String(v), what: hit.what, raw: v });
            } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
            else if (isMap(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
        };
        walk(value, []);
    }
    return found;
}

/** One warning per key that still holds an example value, with the value and where it is. */
function exampleWarnings(
    config: Readonly<Record<string, string>>,
    project: string,
    locator: StackFileLocator | undefined,
): string[] {
    return findExampleValues(config, project).map((e) => {
        const loc = locator?.locate(e.fullKey, e.path, e.raw);
        return (
            `${loc ? loc.at + ": " : ""}${e.name} holds an example value, ${e.what}: ${json(e.value)}. ` +
            "Replace it before the first `pulumi up`."
        );
    });
}

/** Karpenter's NodePool settings from the `karpenter` area. */
function nodePoolSettings(k: RawConfig["karpenter"]) {
    return {
        capacityTypes: k.capacityTypes,
        instanceCategories: k.instanceCategories,
        limits: { cpu: k.limitsCpu, memory: k.limitsMemory },
        expireAfter: k.expireAfter,
        consolidateAfter: k.consolidateAfter,
        disruptionBudgets: [{ nodes: k.disruptionBudgetNodes }],
    };
}

function assemble(c: RawConfig, project: string, stack: string, region: string) {
    const { network: n, checkout: co } = c;
    return {
        project,
        stack,
        region,
        tags: c.tags,
        network:
            n.mode === "existing"
                ? {
                      mode: "existing" as const,
                      vpcId: n.vpcId,
                      privateSubnetIds: n.privateSubnetIds,
                      publicSubnetIds: n.publicSubnetIds,
                  }
                : { mode: "create" as const, cidrBlock: n.cidrBlock, azCount: n.azCount, natGateways: n.natGateways },
        cluster: {
            name: c.cluster.name,
            upgradePolicy: c.cluster.upgradePolicy,
            /** Where the API is reachable from. */
            api: {
                endpointPublicAccess: c.cluster.endpointPublicAccess,
                publicAccessCidrs: c.cluster.publicAccessCidrs,
                privateAccessCidrs: c.cluster.privateAccessCidrs,
                privateAccessSecurityGroupIds: c.cluster.privateAccessSecurityGroupIds,
            },
            /** Who may use the API. */
            access: {
                adminRoleArns: c.cluster.adminRoleArns,
                deployRoleArn: c.cluster.deployRoleArn,
                previewRoleArn: c.cluster.previewRoleArn,
                bootstrapRoleArn: c.cluster.bootstrapRoleArn,
            },
            logTypes: c.cluster.logTypes,
            deletionProtection: c.cluster.deletionProtection,
        },
        nodes: c.nodes,
        karpenter: { nodePool: nodePoolSettings(c.karpenter) },
        externalSecrets: c.externalSecrets,
        vpa: c.vpa,
        registry: c.registry,
        logs: c.logs,
        certManager: c.certManager,
        /** Absent when edge.zones is empty: no edge at all. */
        edge:
            c.edge.zones.length > 0
                ? {
                      zones: c.edge.zones,
                      issuer: c.edge.issuer,
                      externalDnsPolicy: c.edge.externalDnsPolicy,
                      /** The cluster name: unique per stack, and fixed for the life of its records. */
                      txtOwnerId: c.cluster.name,
                  }
                : undefined,
        telemetry: c.telemetry,
        checkout: {
            namespace: co.namespace,
            /** Absent without an edge (edge.zones empty). */
            hostname: co.hostname === "" ? undefined : co.hostname,
            imageTag: co.imageTag,
            minReplicas: co.minReplicas,
            maxReplicas: co.maxReplicas,
            resources: {
                cpuRequest: co.cpuRequest,
                cpuLimit: co.cpuLimit,
                memoryRequest: co.memoryRequest,
                memoryLimit: co.memoryLimit,
            },
            dbPoolMax: co.dbPoolMax,
            logLevel: co.logLevel,
            egress: co.egress.map((r) => ({ ...r, protocol: r.protocol ?? ("TCP" as const) })),
            extraEnv: co.extraEnv,
            /** Absent without a database (checkout.databaseSecret ""). */
            databaseSecret: co.databaseSecret === "" ? undefined : co.databaseSecret,
        },
    };
}

function deepFreeze<T>(value: T): Deep<T> {
    if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
    }
    return value as Deep<T>;
}

/**
 * The loader as the engine runs it: the config the engine passed (`pulumi.runtime.allConfig()`),
 * the stack's name, and its stack file for line numbers (the language host starts the program in
 * the project directory). Example values are reported with `pulumi.log.warn` on every run.
 */
export function loadStackConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const name = `Pulumi.${stack}.yaml`;
    let text: string | undefined;
    try {
        text = fs.readFileSync(path.join(process.cwd(), name), "utf8");
    } catch {
        text = undefined;
    }
    let loaded: LoadedConfig;
    try {
        loaded = loadConfig({
            project,
            stack,
            config: pulumi.runtime.allConfig(),
            stackFile: text === undefined ? undefined : { name, text },
        });
    } catch (e) {
        if (e instanceof ConfigError) for (const w of e.warnings) void pulumi.log.warn(w);
        throw e;
    }
    for (const w of loaded.warnings) void pulumi.log.warn(w);
    return loaded.config;
}
