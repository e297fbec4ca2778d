/**
 * Validates plain Kubernetes objects ({ apiVersion, kind, metadata, spec... }) against the
 * OpenAPI schemas bundled in kubernetes-models (core groups), @kubernetes-models/cert-manager
 * (cert-manager.io, acme.cert-manager.io), @kubernetes-models/gateway-api
 * (gateway.networking.k8s.io), @kubernetes-models/karpenter (karpenter.sh, karpenter.k8s.aws) and
 * @kubernetes-models/external-secrets (external-secrets.io), offline. Envoy Gateway's EnvoyProxy and
 * the VerticalPodAutoscaler have no published models; they are checked against the allow-lists in
 * envoy-gateway.ts and vpa.ts.
 *
 * The packages are ESM-only. This file is CommonJS (policy/ has no "type": "module"), so the
 * models are loaded with `await import(...)`, which TypeScript keeps as a real dynamic import under
 * `module: node16` (also through ts-node's transpile-only mode, which mocha uses; a test checks it).
 *
 * What the schemas check: types, enums, required fields. What they do not: unknown fields (the
 * schemas allow additional properties, so a misspelt field passes here; the policy rules catch the
 * missing security fields that matter).
 */

import { checkEnvoyProxySpec } from "./envoy-gateway";
import { checkVpaSpec } from "./vpa";

/** Per object: where it is in the input, what it is, and what is wrong with it (empty = valid). */
export interface SchemaResult {
    readonly index: number;
    readonly apiVersion?: string;
    readonly kind?: string;
    /** `namespace/name`, `name`, or undefined if the object has no metadata.name. */
    readonly name?: string;
    readonly errors: readonly string[];
}

/** Where each API group's models live. */
const MODEL_PACKAGES: readonly { readonly test: (group: string) => boolean; readonly pkg: string }[] = [
    { test: (g) => g === "cert-manager.io" || g === "acme.cert-manager.io", pkg: "@kubernetes-models/cert-manager" },
    {
        test: (g) => g === "gateway.networking.k8s.io" || g === "gateway.networking.x-k8s.io",
        pkg: "@kubernetes-models/gateway-api",
    },
    { test: (g) => g === "karpenter.sh" || g === "karpenter.k8s.aws", pkg: "@kubernetes-models/karpenter" },
    {
        test: (g) => g === "external-secrets.io" || g === "generators.external-secrets.io",
        pkg: "@kubernetes-models/external-secrets",
    },
    { test: (g) => g === "" || /^[a-z0-9.-]+$/.test(g), pkg: "kubernetes-models" },
];

/** The module that holds the model for apiVersion/kind, e.g. `kubernetes-models/apps/v1/Deployment`. */
export function modelSpecifier(apiVersion: string, kind: string): string | undefined {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
    const m = /^(?:([a-z0-9.-]+)\/)?(v[0-9]+(?:(?:alpha|beta)[0-9]+)?)$/.exec(apiVersion);
    if (!m) return undefined;
    const group = m[1] ?? "";
    const pkg = MODEL_PACKAGES.find((p) => p.test(group))?.pkg;
    if (!pkg) return undefined;
    return group === "" ? `${pkg}/${m[2]}/${kind}` : `${pkg}/${group}/${m[2]}/${kind}`;
}

interface ModelClass {
    new (data: unknown): { validate(): void };
    apiVersion?: string;
    kind?: string;
}

const cache = new Map<string, Promise<ModelClass | undefined>>();

async function loadModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    const specifier = modelSpecifier(apiVersion, kind);
    if (!specifier) return undefined;
    let p = cache.get(specifier);
    if (!p) {
        p = (async () => {
            try {
                const mod = (await import(specifier)) as Record<string, unknown>;
                const cls = mod[kind] as ModelClass | undefined;
                // Only a top-level model (apiVersion and kind statics) is a kind; DeploymentSpec is not.
                return typeof cls === "function" && cls.apiVersion === apiVersion && cls.kind === kind
                    ? cls
                    : undefined;
            } catch (e) {
                const code = (e as { code?: string }).code;
                if (code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return undefined;
                throw e;
            }
        })();
        cache.set(specifier, p);
    }
    return p;
}

interface AjvError {
    readonly instancePath?: string;
    readonly message?: string;
    readonly params?: Record<string, unknown>;
}

function formatErrors(e: unknown): string[] {
    const errors = (e as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors) || errors.length === 0) return [String((e as Error).message ?? e)];
    return errors.map((err) => {
        const path = err.instancePath && err.instancePath !== "" ? err.instancePath : "/";
        const allowed = err.params?.allowedValues;
        return `${path} ${err.message ?? "is invalid"}${Array.isArray(allowed) ? ` (${allowed.join(", ")})` : ""}`;
    });
}

function nameOf(obj: Record<string, unknown>): string | undefined {
    const md = obj.metadata as Record<string, unknown> | undefined;
    const name = md && typeof md.name === "string" ? md.name : undefined;
    const ns = md && typeof md.namespace === "string" ? md.namespace : undefined;
    return name === undefined ? undefined : ns ? `${ns}/${name}` : name;
}

/** Kinds without a published model, checked by a local allow-list: apiVersion/kind -> errors. */
const LOCAL_CHECKS: Readonly<Record<string, (o: Record<string, unknown>) => string[]>> = {
    "gateway.envoyproxy.io/v1alpha1/EnvoyProxy": (o) =>
        checkEnvoyProxySpec(o.spec).map((i) => `/spec${i.path ? `/${i.path.replace(/\./g, "/")}` : ""} ${i.message}`),
    "autoscaling.k8s.io/v1/VerticalPodAutoscaler": (o) =>
        checkVpaSpec(o.spec).map((i) => `/spec${i.path ? `/${i.path.replace(/\./g, "/")}` : ""} ${i.message}`),
};

/** Validates one object; the returned list is empty when it is valid. */
export async function validateKubernetesObject(obj: unknown, index = 0): Promise<SchemaResult> {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
        return { index, errors: ["not an object"] };
    }
    const o = obj as Record<string, unknown>;
    const { apiVersion, kind } = o;
    const base = {
        index,
        ...(typeof apiVersion === "string" ? { apiVersion } : {}),
        ...(typeof kind === "string" ? { kind } : {}),
        ...(nameOf(o) ? { name: nameOf(o) } : {}),
    };
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
        return { ...base, errors: ["apiVersion and kind must be strings"] };
    }
    const local = LOCAL_CHECKS[`${apiVersion}/${kind}`];
    if (local) return { ...base, errors: local(o) };
    const Model = await loadModel(apiVersion, kind);
    if (!Model) return { ...base, errors: [`unknown kind ${apiVersion}/${kind}: no schema to validate it against`] };
    try {
        new Model(o).validate();
        return { ...base, errors: [] };
    } catch (e) {
        return { ...base, errors: formatErrors(e) };
    }
}

/** Validates every object; one result per object, in order. */
export async function validateKubernetesObjects(objects: readonly unknown[]): Promise<SchemaResult[]> {
    return Promise.all(objects.map((o, i) => validateKubernetesObject(o, i)));
}

/** One line per error: `apps/v1/Deployment checkout/checkout-service: /spec/... must be boolean`. */
export function formatSchemaResults(results: readonly SchemaResult[]): string {
    return results
        .flatMap((r) => r.errors.map((e) => `${r.apiVersion ?? "?"}/${r.kind ?? "?"} ${r.name ?? `#${r.index}`}: ${e}`))
        .join("\n");
}
