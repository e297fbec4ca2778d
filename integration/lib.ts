/**
 * The pure parts of the integration run (integration/run.ts): prerequisite check, stack naming,
 * config conversion, and reading what to probe out of Kubernetes objects. No I/O here, so
 * test/integration.test.ts exercises all of it inside `npm test`.
 */
import { goToPlain, parseGoYaml } from "../stacks/go-yaml";

/** Environment variables the run reads (documented in docs/operations.md, "Integration test"). */
export const ENV = {
    /** JSON map of extra config for the throwaway stack, e.g. {"checkout-platform:cluster.publicAccessCidrs": "[\"198.51.100.7/32\"]"}. */
    config: "PULUMI_IT_CONFIG",
    /** JSON map of secret config values (the dev stack's `secure:` values cannot be copied: other key). */
    secrets: "PULUMI_IT_SECRETS",
    /** Secrets provider of the throwaway stack, e.g. awskms://alias/pulumi-state?region=eu-west-1. */
    secretsProvider: "PULUMI_IT_SECRETS_PROVIDER",
    /** An existing checkout-service image to copy into the stack's fresh ECR repository. */
    sourceImage: "PULUMI_IT_SOURCE_IMAGE",
    /** Stack whose Pulumi.<stack>.yaml is copied (default dev). */
    baseStack: "PULUMI_IT_BASE_STACK",
} as const;

/** What `which` and `--version` found for one command-line tool (undefined path: not on PATH). */
export interface ToolInfo {
    readonly path?: string;
    readonly version?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface Prerequisites {
    /** Reasons the run cannot start here; empty when it can. */
    readonly missing: readonly string[];
    /** Which tool copies the image into ECR. */
    readonly imageCopier?: "crane" | "docker";
    /** Human-readable facts for the log (tool versions, backend). */
    readonly found: readonly string[];
}

/**
 * The oldest Pulumi CLI this run accepts: 3.203 for `pulumi config set-all --json`
 * (pulumi/pulumi#19427), which copies a stack's maps as maps (the Automation API alone accepts
 * 3.2.0+: @pulumi/pulumi 3.276.0 automation/minimumVersion.js).
 */
export const MIN_PULUMI_CLI = [3, 203, 0] as const;

function set(env: Env, name: string): boolean {
    return (env[name] ?? "").trim() !== "";
}

/** `v3.190.0` / `3.190.0-alpha.x` -> [3, 190, 0]; undefined when unparseable. */
export function parseVersion(text: string | undefined): [number, number, number] | undefined {
    const m = /(\d+)\.(\d+)\.(\d+)/.exec(text ?? "");
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
    for (let i = 0; i < min.length; i++) {
        if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i];
    }
    return true;
}

/**
 * Decides whether the integration run can start. `tools` maps a command name (pulumi, kubectl,
 * aws, crane, docker) to what was found on PATH.
 */
export function checkPrerequisites(env: Env, tools: Readonly<Record<string, ToolInfo | undefined>>): Prerequisites {
    const missing: string[] = [];
    const found: string[] = [];

    const pulumi = tools.pulumi;
    if (pulumi?.path === undefined) {
        missing.push(
            "no `pulumi` CLI on PATH (the Automation API drives the CLI; install it from the Pulumi releases)",
        );
    } else {
        const v = parseVersion(pulumi.version);
        if (v === undefined) missing.push(`cannot read the pulumi CLI version (got ${JSON.stringify(pulumi.version)})`);
        else if (!atLeast(v, MIN_PULUMI_CLI)) {
            missing.push(`pulumi CLI ${v.join(".")} is older than ${MIN_PULUMI_CLI.join(".")}`);
        } else found.push(`pulumi ${v.join(".")} at ${pulumi.path}`);
    }

    if (!["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE"].some((k) => set(env, k))) {
        missing.push(
            "no AWS credentials in the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID or AWS_WEB_IDENTITY_TOKEN_FILE)",
        );
    }

    const backend = (env.PULUMI_BACKEND_URL ?? "").trim();
    const cloud = backend === "" ? set(env, "PULUMI_ACCESS_TOKEN") : /^https?:\/\//.test(backend);
    if (backend === "" && !cloud) {
        missing.push(
            "no state backend (PULUMI_BACKEND_URL, e.g. s3://<bucket>, or PULUMI_ACCESS_TOKEN for Pulumi Cloud)",
        );
    } else if (cloud) {
        found.push(`backend: Pulumi Cloud${backend ? ` (${backend})` : ""}`);
    } else {
        found.push(`backend: ${backend}`);
        // A self-managed backend defaults to the passphrase provider for a new stack.
        if (
            !set(env, ENV.secretsProvider) &&
            !set(env, "PULUMI_CONFIG_PASSPHRASE") &&
            !set(env, "PULUMI_CONFIG_PASSPHRASE_FILE")
        ) {
            missing.push(
                `self-managed backend without a secrets provider for the new stack (${ENV.secretsProvider}=awskms://alias/..., or PULUMI_CONFIG_PASSPHRASE)`,
            );
        }
    }

    for (const tool of ["kubectl", "aws"] as const) {
        if (tools[tool]?.path === undefined) {
            missing.push(
                tool === "kubectl"
                    ? "no `kubectl` on PATH (waits for the Deployment and port-forwards to the Service)"
                    : "no `aws` CLI on PATH (the EKS kubeconfig authenticates with `aws eks get-token`)",
            );
        } else found.push(`${tool} at ${tools[tool]?.path}`);
    }

    if (!set(env, ENV.sourceImage)) {
        missing.push(
            `no ${ENV.sourceImage}: the throwaway stack's ECR repository starts empty; name an existing checkout-service image to copy into it`,
        );
    }
    const imageCopier =
        tools.crane?.path !== undefined ? "crane" : tools.docker?.path !== undefined ? "docker" : undefined;
    if (imageCopier === undefined) missing.push("neither `crane` nor `docker` on PATH (to copy the image into ECR)");

    return { missing, found, imageCopier };
}

/**
 * `it-<UTC yyyymmddhhmm>-<6 hex>`: sortable, unique across concurrent runs, short enough to be the
 * EKS cluster name and to prefix IAM and KMS names, and only [a-z0-9-] (valid everywhere).
 */
export function uniqueStackName(now: Date, random: () => number = Math.random): string {
    const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 12);
    const suffix = Array.from({ length: 6 }, () => Math.floor(random() * 16).toString(16)).join("");
    return `it-${stamp}-${suffix}`;
}

/**
 * Config in the shape `pulumi config set-all --json` reads (what `pulumi config --json` prints:
 * pkg/cmd/pulumi/config/config.go `configValueJSON` in pulumi/pulumi v3.259.0): a map or list is
 * set as an object (`objectValue`), so the CLI can read the declared keys as paths into it; a flat
 * `setAllConfig` would store it as a string that no path reaches.
 */
export type ConfigMap = Record<string, { value: string; objectValue?: unknown; secret: boolean }>;

export interface StackConfig {
    readonly config: ConfigMap;
    /** `secure:` keys of the base stack with no replacement in PULUMI_IT_SECRETS. */
    readonly missingSecrets: readonly string[];
}

/**
 * Keys forced on the throwaway stack so that it never collides with, or outlives, the stack it
 * copies: its own cluster name (which also names the control-plane log group and KMS aliases),
 * no deletion protection, an ECR repository `destroy` may delete with images in it. Paths, as
 * `pulumi config set --path` takes them.
 */
export function integrationOverrides(project: string, stackName: string): Record<string, unknown> {
    return {
        [`${project}:cluster.name`]: stackName,
        [`${project}:cluster.deletionProtection`]: false,
        [`${project}:registry.forceDelete`]: true,
        // No edge: the base stack's hostname and zone belong to it. A second ExternalDNS (another
        // owner id) cannot take over its record, and a second certificate for the same name only
        // spends the Let's Encrypt rate limit.
        [`${project}:edge.zones`]: [],
        [`${project}:checkout.hostname`]: "",
    };
}

/** A top-level value as the text the CLI passes for it (pulumi config/object.go `MarshalString`). */
function configString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** An override's text as `pulumi config set --path` stores it: "true"/"false" and decimal integers coerced. */
function coerced(value: unknown): unknown {
    if (typeof value !== "string") return value;
    if (value === "true" || value === "false") return value === "true";
    return /^[+-]?\d+$/.test(value) && !(value.length > 1 && value[0] === "0") ? Number(value) : value;
}

function isSecure(value: unknown): value is { secure: string } {
    return (
        value !== null &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        typeof (value as { secure?: unknown }).secure === "string"
    );
}

const containsSecure = (v: unknown): boolean =>
    isSecure(v) || (v !== null && typeof v === "object" && Object.values(v).some(containsSecure));

/**
 * Converts a `Pulumi.<stack>.yaml` text into what `stack.setAllConfigJson` takes.
 *
 * - The file is read as the Pulumi CLI reads it (stacks/go-yaml.ts: yaml.v3's scalars); bare keys
 *   get the project's namespace.
 * - `secure:` values are encrypted with the base stack's key and cannot be copied; each must be in
 *   `secrets` (PULUMI_IT_SECRETS, by key), else it is reported in `missingSecrets` (a map holding
 *   one is reported whole).
 * - `overrides` (PULUMI_IT_CONFIG) then `integrationOverrides` are applied last, in that order;
 *   `<ns>:<area>.<field>` sets one field of the area's map, as `pulumi config set --path` would.
 */
export function stackConfigFromYaml(
    text: string,
    opts: {
        readonly project: string;
        readonly stackName: string;
        readonly overrides?: Readonly<Record<string, unknown>>;
        readonly secrets?: Readonly<Record<string, string>>;
    },
): StackConfig {
    const doc = goToPlain(parseGoYaml(text).value) as { config?: unknown } | null;
    const source = doc?.config ?? {};
    if (source === null || typeof source !== "object" || Array.isArray(source)) {
        throw new Error("the stack file's `config:` is not a map");
    }
    const full = (key: string) =>
        key.includes(":") ? key.replace(/^([^:]+):config:/, "$1:") : `${opts.project}:${key}`;
    const config: ConfigMap = {};
    const missingSecrets: string[] = [];
    const put = (key: string, value: unknown, secret: boolean) => {
        config[key] =
            value !== null && typeof value === "object"
                ? { value: JSON.stringify(value), objectValue: value, secret }
                : { value: configString(value ?? ""), secret };
    };
    for (const [written, value] of Object.entries(source as Record<string, unknown>)) {
        const key = full(written);
        if (containsSecure(value)) {
            const plain = opts.secrets?.[key];
            if (plain === undefined) missingSecrets.push(key);
            else put(key, plain, true);
        } else put(key, value, false);
    }
    for (const [key, value] of Object.entries(opts.secrets ?? {})) put(key, value, true);
    for (const [key, value] of Object.entries({
        ...opts.overrides,
        ...integrationOverrides(opts.project, opts.stackName),
    })) {
        const i = key.indexOf(".");
        if (i < 0) {
            put(key, coerced(value), config[key]?.secret ?? false);
            continue;
        }
        const [root, field] = [key.slice(0, i), key.slice(i + 1)];
        const current = config[root]?.objectValue;
        const area = current !== null && typeof current === "object" && !Array.isArray(current) ? current : {};
        put(root, { ...(area as Record<string, unknown>), [field]: coerced(value) }, config[root]?.secret ?? false);
    }
    return { config, missingSecrets };
}

/** Parses a JSON-object environment variable, keeping each value's JSON type ({} when unset). */
export function jsonObjectEnvValues(env: Env, name: string): Record<string, unknown> {
    const raw = (env[name] ?? "").trim();
    if (raw === "") return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch (e) {
        throw new Error(`${name} is not valid JSON: ${(e as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error(`${name} must be a JSON object of "<project>:<key>": value`);
    }
    return parsed as Record<string, unknown>;
}

/** Parses a JSON-object environment variable of string values ({} when unset). */
export function jsonObjectEnv(env: Env, name: string): Record<string, string> {
    return Object.fromEntries(Object.entries(jsonObjectEnvValues(env, name)).map(([k, v]) => [k, configString(v)]));
}

/** One resource as a preview reports it. */
export interface PlannedResource {
    readonly urn: string;
    readonly type: string;
    readonly parent?: string;
}

export const ECR_REPOSITORY_TYPE = "aws:ecr/repository:Repository";

/**
 * URNs of the stack root, the component that owns the ECR repository, and everything under it: the first,
 * targeted `up` creates only these, so the image can be pushed before the Deployment that pulls
 * it exists. Throws unless exactly one repository is planned.
 */
export function registryTargets(resources: readonly PlannedResource[]): string[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const repos = resources.filter((r) => r.type === ECR_REPOSITORY_TYPE);
    if (repos.length !== 1) {
        throw new Error(`expected exactly one ${ECR_REPOSITORY_TYPE} in the plan; found ${repos.length}`);
    }
    // Walk up to the top-level component (the one whose parent is the stack itself).
    let top = repos[0];
    for (;;) {
        const parent = top.parent === undefined ? undefined : byUrn.get(top.parent);
        if (parent === undefined || parent.type === "pulumi:pulumi:Stack") break;
        top = parent;
    }
    const within = (r: PlannedResource): boolean => {
        for (let cur: PlannedResource | undefined = r; cur !== undefined;) {
            if (cur.urn === top.urn) return true;
            cur = cur.parent === undefined ? undefined : byUrn.get(cur.parent);
        }
        return false;
    };
    // The stack's root resource too: on a new stack it does not exist yet, and the targeted
    // resources are its descendants.
    const root = resources.filter((r) => r.type === "pulumi:pulumi:Stack").map((r) => r.urn);
    return [...root, ...resources.filter(within).map((r) => r.urn)];
}

/** Where the readiness endpoint answers: the Service port to forward and the probe's HTTP path. */
export interface ReadinessTarget {
    readonly servicePort: number;
    readonly path: string;
}

interface ContainerPort {
    name?: string;
    containerPort?: number;
}
export interface K8sDeployment {
    spec?: {
        template?: {
            metadata?: { labels?: Record<string, string> };
            spec?: {
                containers?: {
                    ports?: ContainerPort[];
                    readinessProbe?: { httpGet?: { path?: string; port?: string | number } };
                }[];
            };
        };
    };
}
export interface K8sService {
    spec?: {
        selector?: Record<string, string>;
        ports?: { port?: number; name?: string; targetPort?: string | number }[];
    };
}

/**
 * Reads the readiness probe of the Deployment's first container that has an HTTP one, and finds
 * the Service port that leads to it (targetPort by name or number).
 */
export function readinessTarget(deployment: K8sDeployment, service: K8sService): ReadinessTarget {
    const containers = deployment.spec?.template?.spec?.containers ?? [];
    const container = containers.find((c) => c.readinessProbe?.httpGet !== undefined);
    const probe = container?.readinessProbe?.httpGet;
    if (container === undefined || probe === undefined || probe.port === undefined) {
        throw new Error("the Deployment has no container with an HTTP readiness probe");
    }
    const ports = container.ports ?? [];
    const byName = (name: string) => ports.find((p) => p.name === name)?.containerPort;
    const probeNumber = typeof probe.port === "number" ? probe.port : byName(probe.port);
    const probeName =
        typeof probe.port === "string" ? probe.port : ports.find((p) => p.containerPort === probe.port)?.name;

    const svcPorts = service.spec?.ports ?? [];
    const match = svcPorts.find((p) => {
        const target = p.targetPort ?? p.port;
        return (
            (typeof target === "number" && target === probeNumber) ||
            (typeof target === "string" && (target === probeName || byName(target) === probeNumber))
        );
    });
    if (match?.port === undefined) {
        throw new Error(`no Service port targets the readiness probe port ${JSON.stringify(probe.port)}`);
    }
    return { servicePort: match.port, path: probe.path ?? "/" };
}

interface K8sObjectMeta {
    metadata?: { name?: string; labels?: Record<string, string> };
}

/**
 * The Deployment behind a Service: the one whose pod template carries every label of the Service's
 * selector. (Names are autonamed, so they are not known in advance.)
 */
export function deploymentForService<D extends K8sDeployment & K8sObjectMeta>(
    deployments: readonly D[],
    service: K8sService,
): D {
    const selector = Object.entries(service.spec?.selector ?? {});
    if (selector.length === 0) throw new Error("the Service has no selector");
    const matches = deployments.filter((d) => {
        const labels = d.spec?.template?.metadata?.labels ?? {};
        return selector.every(([k, v]) => labels[k] === v);
    });
    if (matches.length !== 1) {
        throw new Error(`expected one Deployment behind the Service's selector; found ${matches.length}`);
    }
    return matches[0];
}
