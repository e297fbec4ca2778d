import * as YAML from "yaml";
import { ProgramRun, RecordedResource, SIG, UNKNOWN } from "../../harness/engine";

/** What the synth shows for a value that only exists once the resource is deployed. */
export const KNOWN_AFTER_DEPLOY = "(known after deploy)";
export const SECRET = "[secret]";

/** Types the mock engine does not enter (multi-language components): the synth shows their inputs. */
export const isBoundary = (r: RecordedResource) => r.remote === true;

/**
 * Turns a wire value into what a reviewer should see: unknowns as "(known after deploy)", secrets
 * as "[secret]", resource references as {"$ref": urn}, everything else as it is. Object keys are
 * sorted, so equal inputs always render to equal bytes.
 */
export function render(value: unknown): unknown {
    if (value === UNKNOWN) return KNOWN_AFTER_DEPLOY;
    if (Array.isArray(value)) return value.map(render);
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        const sig = obj[SIG.key];
        if (sig === SIG.secret) return SECRET;
        if (sig === SIG.resource) return { $ref: obj.urn };
        if (sig === SIG.output) {
            if (obj.secret) return SECRET;
            return "value" in obj ? render(obj.value) : KNOWN_AFTER_DEPLOY;
        }
        if (sig === SIG.asset || sig === SIG.archive) return { asset: obj.path ?? obj.uri ?? "(inline)" };
        return Object.fromEntries(
            Object.keys(obj)
                .sort()
                .map((k) => [k, render(obj[k])]),
        );
    }
    return value;
}

/** A URN without its stack, so resources of two stacks can be compared. */
export const stackless = (urn: string) => urn.replace(/^urn:pulumi:[^:]+::/, "urn:pulumi:<stack>::");

export interface SnapshotEntry {
    urn: string;
    type: string;
    name: string;
    parent?: string;
    provider?: string;
    custom: boolean;
    dependencies: string[];
    options: Record<string, unknown>;
    inputs: unknown;
}

/** resources.json: every resource, sorted by URN, options and inputs rendered; byte-stable. */
export function resourcesJson(run: ProgramRun): string {
    const entries: SnapshotEntry[] = [...run.resources]
        .sort((a, b) => a.urn.localeCompare(b.urn))
        .map((r) => {
            const options: Record<string, unknown> = {};
            const opt = (k: string, v: unknown) => {
                if (v !== undefined) options[k] = v;
            };
            opt("dependsOn", r.dependsOn);
            opt("protect", r.protect);
            opt("ignoreChanges", r.ignoreChanges);
            opt("replaceOnChanges", r.replaceOnChanges);
            opt("deleteBeforeReplace", r.deleteBeforeReplace);
            opt("retainOnDelete", r.retainOnDelete);
            opt("additionalSecretOutputs", r.additionalSecretOutputs);
            opt("remote", r.remote);
            return {
                urn: r.urn,
                type: r.type,
                name: r.name,
                ...(r.parent ? { parent: r.parent } : {}),
                // A provider reference is `<provider urn>::<provider id>`; the id is unknown before
                // deployment, so the snapshot keeps the URN alone.
                ...(r.provider ? { provider: r.provider.split("::").slice(0, -1).join("::") || r.provider } : {}),
                custom: r.custom,
                dependencies: r.dependencies,
                options,
                inputs: render(r.wire),
            };
        });
    // Entry keys are in a fixed order and inputs are key-sorted by render(): stable bytes.
    return JSON.stringify({ project: run.project, stack: run.stack, resources: entries }, null, 2) + "\n";
}

/** A resource that is sent to the API server as one object (not a Helm release, not a provider). */
export const isKubernetesObject = (r: RecordedResource) =>
    r.custom && r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release";

/** Orders a manifest's keys as kubectl shows them: apiVersion, kind, metadata, then the rest. */
function manifestOrder(obj: Record<string, unknown>): Record<string, unknown> {
    const head = ["apiVersion", "kind", "metadata"];
    const rest = Object.keys(obj)
        .filter((k) => !head.includes(k))
        .sort();
    return Object.fromEntries([...head, ...rest].filter((k) => k in obj).map((k) => [k, obj[k]]));
}

const slug = (s: unknown) =>
    String(s ?? "")
        .toLowerCase()
        .replace(/[^a-z0-9.-]+/g, "-");

/**
 * Every Kubernetes object as it would be sent to the API server (one file each, named
 * `<kind>.<namespace or _cluster>.<name>.yaml`), and one file per Helm release with its chart,
 * repository, version and values.
 */
export function manifests(run: ProgramRun): Map<string, string> {
    const files = new Map<string, string>();
    for (const r of run.resources) {
        const obj = render(r.wire) as Record<string, unknown>;
        if (isKubernetesObject(r)) {
            const meta = (obj.metadata ?? {}) as Record<string, unknown>;
            const file = `${slug(obj.kind)}.${meta.namespace ? slug(meta.namespace) : "_cluster"}.${slug(meta.name ?? r.name)}.yaml`;
            files.set(file, YAML.stringify(manifestOrder(obj), { lineWidth: 0 }));
        } else if (r.type === "kubernetes:helm.sh/v3:Release") {
            const doc = {
                release: obj.name ?? r.name,
                namespace: obj.namespace,
                chart: obj.chart,
                repository: (obj.repositoryOpts as Record<string, unknown> | undefined)?.repo,
                version: obj.version,
                values: obj.values,
            };
            const file = `helm-release.${slug(doc.namespace)}.${slug(doc.release)}.yaml`;
            files.set(
                file,
                "# Helm release (rendered by the chart at deploy time; these are its inputs)\n" +
                    YAML.stringify(doc, { lineWidth: 0 }),
            );
        }
    }
    return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function inputLines(value: unknown, indent: string): string[] {
    const text = YAML.stringify(render(value), { lineWidth: 0 }).trimEnd();
    return text.split("\n").map((l) => indent + l);
}

/** The preview-like tree: each resource as `type  name` under its parent, then counts. */
export function tree(run: ProgramRun): string {
    const children = new Map<string | undefined, RecordedResource[]>();
    for (const r of run.resources) {
        const key = r.parent;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    for (const list of children.values())
        list.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
    const lines: string[] = [];
    const walk = (r: RecordedResource, prefix: string, last: boolean, root: boolean) => {
        const branch = root ? "" : last ? "└─ " : "├─ ";
        lines.push(
            `${prefix}${branch}${r.type}  ${r.name}${isBoundary(r) ? "  [component boundary: inputs below]" : ""}`,
        );
        const next = root ? "" : prefix + (last ? "   " : "│  ");
        if (isBoundary(r)) lines.push(...inputLines(r.wire, next + "    "));
        const kids = children.get(r.urn) ?? [];
        kids.forEach((k, i) => walk(k, next, i === kids.length - 1, false));
    };
    for (const root of children.get(undefined) ?? []) walk(root, "", true, true);

    const counts = new Map<string, number>();
    for (const r of run.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const width = Math.max(...[...counts.keys()].map((t) => t.length));
    lines.push("", "Resources by type:");
    for (const [type, n] of [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)))
        lines.push(`  ${type.padEnd(width)}  ${n}`);
    lines.push(`  ${"total".padEnd(width)}  ${run.resources.length}`);
    return lines.join("\n") + "\n";
}

/** Flattens rendered inputs to `path -> JSON value` for comparison. */
export function flatten(value: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && !("$ref" in (value as object))) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 0 && prefix) out[prefix] = "{}";
        for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === "object")) {
        if (value.length === 0 && prefix) out[prefix] = "[]";
        value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
    } else {
        const v =
            value !== null && typeof value === "object" && "$ref" in value
                ? { $ref: stackless(String((value as { $ref: string }).$ref)) }
                : value;
        out[prefix] = JSON.stringify(v);
    }
    return out;
}

export interface StackDiff {
    onlyIn: Record<string, string[]>;
    changed: { resource: string; path: string; a: string | undefined; b: string | undefined }[];
}

/** What differs between two stacks: resources only in one, and inputs that differ. */
export function diffRuns(a: ProgramRun, b: ProgramRun): StackDiff {
    const key = (r: RecordedResource) => `${r.type}  ${r.name}`;
    const index = (run: ProgramRun) =>
        new Map(run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => [key(r), r]));
    const ia = index(a);
    const ib = index(b);
    const onlyIn = {
        [a.stack]: [...ia.keys()].filter((k) => !ib.has(k)).sort(),
        [b.stack]: [...ib.keys()].filter((k) => !ia.has(k)).sort(),
    };
    const changed: StackDiff["changed"] = [];
    for (const k of [...ia.keys()].filter((k) => ib.has(k)).sort()) {
        const fa = flatten(render(ia.get(k)!.wire));
        const fb = flatten(render(ib.get(k)!.wire));
        for (const path of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
            if (fa[path] !== fb[path]) changed.push({ resource: k, path, a: fa[path], b: fb[path] });
        }
    }
    return { onlyIn, changed };
}

export function formatDiff(a: string, b: string, d: StackDiff): string {
    const cut = (s: string | undefined) => (s === undefined ? "-" : s.length > 70 ? s.slice(0, 67) + "..." : s);
    const lines: string[] = [`Differences between ${a} and ${b}`, ""];
    for (const stack of [a, b]) {
        lines.push(`Only in ${stack} (${d.onlyIn[stack].length}):`);
        for (const r of d.onlyIn[stack]) lines.push(`  ${r}`);
        lines.push("");
    }
    lines.push(`Inputs that differ (${d.changed.length}):`);
    const rows = d.changed.map((c) => [c.resource.replace(/^\S+  /, ""), c.path, cut(c.a), cut(c.b)]);
    const head = ["resource", "input", a, b];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) =>
        "  " +
        r
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd();
    lines.push(fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt));
    return lines.join("\n") + "\n";
}
