import * as YAML from "yaml";
import { diffArrays } from "diff";
import { ProgramRun, RecordedResource, SIG, UNKNOWN } from "../../harness/engine";
import { FAKE_ACCOUNT, mocksFor } from "../../harness/mocks";

/** What the synth shows for a value that only exists once the resource is deployed. */
export const KNOWN_AFTER_DEPLOY = "(known after deploy)";
export const SECRET = "[secret]";

/** Types the mock engine does not enter (multi-language components): the synth shows their inputs. */
export const isBoundary = (r: RecordedResource) => r.remote === true;

/**
 * The fake values the mock engine gives computed outputs in `test` mode (harness/mocks.ts), each
 * with a label naming the output it stands for: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-service`
 * -> "ecr repository url".
 */
export type Fakes = ReadonlyMap<string, string>;

/** Invokes whose answers the mock engine fakes in `test` mode (the others are known in a preview too). */
const FAKED_INVOKES = ["aws:index/getCallerIdentity:getCallerIdentity"];

const words = (camel: string) =>
    camel
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .toLowerCase()
        .split(/[\s_-]+/)
        .filter(Boolean);

/** "aws:ecr/repository:Repository" + ["repositoryUrl"] -> "ecr repository url". */
export function outputLabel(token: string, path: readonly string[]): string {
    const [pkg, module = "", member = ""] = token.split(":");
    const mod = module.split("/")[0];
    const service = mod === "index" || mod === "" ? pkg : mod;
    const kind = member.startsWith("get") ? [] : words(member);
    const key = path.flatMap(words);
    const head = kind.length && key[0] !== kind[0] ? kind : [];
    return [service, ...head, ...key].join(" ");
}

/**
 * Text the mocks put in their fakes (the account id, EXAMPLE in the OIDC issuer, the 0123456 of
 * generated names): any six characters of one in what looks literal is a piece of a fake.
 */
const FAKE_MARKERS = [FAKE_ACCOUNT, "EXAMPLE", "0123456"].flatMap((m) =>
    Array.from({ length: m.length - 5 }, (_, i) => m.slice(i, i + 6)),
);

/**
 * Labels every fake a `test`-mode run's computed outputs got, by asking the mocks again: each
 * string output that is not an echo of an input, and each resource id.
 */
export function fakesOf(testRun: ProgramRun): Fakes {
    const mocks = mocksFor("test");
    const fakes = new Map<string, string>();
    const strings = (v: unknown, out = new Set<string>()): Set<string> => {
        if (typeof v === "string") out.add(v);
        else if (v !== null && typeof v === "object") for (const x of Object.values(v)) strings(x, out);
        return out;
    };
    const add = (value: string, label: string) => {
        if (value.length >= 6 && !fakes.has(value)) fakes.set(value, label);
    };
    const walk = (token: string, state: unknown, echoes: Set<string>, path: string[]) => {
        if (typeof state === "string") {
            if (!echoes.has(state)) add(state, outputLabel(token, path));
        } else if (Array.isArray(state)) {
            state.forEach((v) => walk(token, v, echoes, path));
        } else if (state !== null && typeof state === "object") {
            for (const [k, v] of Object.entries(state)) walk(token, v, echoes, [...path, k]);
        }
    };
    // The account id first: the caller's identity is where it comes from, whatever repeats it.
    for (const token of FAKED_INVOKES) walk(token, mocks.call({ token, inputs: {} }), new Set(), []);
    for (const r of testRun.resources) {
        if (!r.custom && !r.remote) continue;
        const result = mocks.newResource({ type: r.type, name: r.name, inputs: r.props, custom: r.custom }) as {
            id: string | undefined;
            state: Record<string, unknown>;
        };
        const echoes = strings(r.props);
        if (result.id) add(result.id, outputLabel(r.type, ["id"]));
        walk(r.type, result.state, echoes, []);
    }
    return fakes;
}

/** A value of the `test` run without its wire markers (the probe of an unknown). */
function unwrap(v: unknown): unknown {
    while (v !== null && typeof v === "object" && !Array.isArray(v)) {
        const o = v as Record<string, unknown>;
        if (o[SIG.key] !== SIG.secret && o[SIG.key] !== SIG.output) break;
        v = o.value;
    }
    return v;
}

/**
 * The known part of a value unknown before deployment. The program evaluated in `test` mode puts
 * the mocks' fakes where the unknowns are; where the value there is a string made of fakes and
 * literal text, the literal text is what the program's own code adds (config, constants), so it is
 * shown with each fake replaced by `<label, known after deploy>`. A fake the program transformed
 * (another case, a piece of it) is not recognised: when what remains shows a trace of one (another
 * case of a fake, the mock account id, EXAMPLE, 0123456), the value is shown as wholly unknown.
 */
function partial(probe: unknown, fakes: Fakes | undefined): string | undefined {
    probe = unwrap(probe);
    if (typeof probe !== "string" || !fakes) return undefined;
    let text = probe;
    const lower = probe.toLowerCase();
    // A fake present only in another case was transformed by the program: its parts are not literal.
    for (const fake of fakes.keys()) if (!probe.includes(fake) && lower.includes(fake.toLowerCase())) return undefined;
    const used: string[] = [];
    for (const fake of [...fakes.keys()].sort((a, b) => b.length - a.length)) {
        if (!text.includes(fake)) continue;
        text = text.split(fake).join(`\u0000${used.length}\u0000`);
        used.push(fakes.get(fake)!);
    }
    const literal = text.replace(/\u0000\d+\u0000/g, "");
    if (used.length === 0 || literal === "" || FAKE_MARKERS.some((m) => literal.includes(m))) return undefined;
    return text.replace(/\u0000(\d+)\u0000/g, (_, i: string) => `<${used[Number(i)]}, known after deploy>`);
}

/**
 * Turns a wire value into what a reviewer should see: unknowns as "(known after deploy)" (or
 * their known part, given the same value from a `test`-mode run and its fakes), secrets as
 * "[secret]", resource references as {"$ref": urn}, everything else as it is. Object keys are
 * sorted, so equal inputs always render to equal bytes.
 */
export function render(value: unknown, probe?: unknown, fakes?: Fakes): unknown {
    if (value === UNKNOWN) return partial(probe, fakes) ?? KNOWN_AFTER_DEPLOY;
    probe = unwrap(probe);
    if (Array.isArray(value)) return value.map((v, i) => render(v, Array.isArray(probe) ? probe[i] : undefined, fakes));
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        const sig = obj[SIG.key];
        if (sig === SIG.secret) return SECRET;
        if (sig === SIG.resource) return { $ref: obj.urn };
        if (sig === SIG.output) {
            if (obj.secret) return SECRET;
            return "value" in obj ? render(obj.value, probe, fakes) : (partial(probe, fakes) ?? KNOWN_AFTER_DEPLOY);
        }
        if (sig === SIG.asset || sig === SIG.archive) return { asset: obj.path ?? obj.uri ?? "(inline)" };
        const p = probe !== null && typeof probe === "object" ? (probe as Record<string, unknown>) : {};
        return Object.fromEntries(
            Object.keys(obj)
                .sort()
                .map((k) => [k, render(obj[k], p[k], fakes)]),
        );
    }
    return value;
}

/**
 * Every resource's inputs rendered, by URN: from a `preview` run, with the known parts of unknowns
 * filled in from a `test` run of the same program and config when one is given.
 */
export function renderInputs(preview: ProgramRun, test?: ProgramRun): Map<string, unknown> {
    const fakes = test ? fakesOf(test) : undefined;
    const probes = new Map((test?.resources ?? []).map((r) => [r.urn, r.wire]));
    return new Map(preview.resources.map((r) => [r.urn, render(r.wire, probes.get(r.urn), fakes)]));
}

/** A run with its rendered inputs: what resourcesJson, manifests, tree and diffRuns read. */
export interface Rendered {
    readonly run: ProgramRun;
    readonly inputs: ReadonlyMap<string, unknown>;
}

const inputsOf = (s: Rendered, r: RecordedResource) => s.inputs.get(r.urn) ?? render(r.wire);

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
export function resourcesJson(s: Rendered): string {
    const run = s.run;
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
                inputs: inputsOf(s, r),
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
export function manifests(s: Rendered): Map<string, string> {
    const files = new Map<string, string>();
    for (const r of s.run.resources) {
        const obj = inputsOf(s, r) as Record<string, unknown>;
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
    const text = YAML.stringify(value, { lineWidth: 0 }).trimEnd();
    return text.split("\n").map((l) => indent + l);
}

/** The preview-like tree: each resource as `type  name` under its parent, then counts. */
export function tree(s: Rendered): string {
    const run = s.run;
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
        if (isBoundary(r)) lines.push(...inputLines(inputsOf(s, r), next + "    "));
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

/** A list whose entries are maps with distinct string `name`s (env, ports, containers, volumes). */
const namedEntries = (list: unknown[]): string[] | undefined => {
    const names = list.map((v) =>
        v !== null && typeof v === "object" && !Array.isArray(v) ? (v as { name?: unknown }).name : undefined,
    );
    return names.length > 0 && names.every((n) => typeof n === "string") && new Set(names).size === names.length
        ? (names as string[])
        : undefined;
};

/**
 * Flattens rendered inputs to `path -> JSON value` for comparison. Entries of a list of named maps
 * are addressed by name (`env[LOG_LEVEL].value`), so adding one entry does not shift the others.
 */
export function flatten(value: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && !("$ref" in (value as object))) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 0 && prefix) out[prefix] = "{}";
        for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === "object")) {
        if (value.length === 0 && prefix) out[prefix] = "[]";
        const names = namedEntries(value);
        value.forEach((v, i) => flatten(v, `${prefix}[${names ? names[i] : i}]`, out));
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

/** What differs between two syntheses: resources only in one, and inputs that differ. */
export function diffRuns(a: Rendered, b: Rendered, names: [string, string] = [a.run.stack, b.run.stack]): StackDiff {
    const key = (r: RecordedResource) => `${r.type}  ${r.name}`;
    const index = (s: Rendered) =>
        new Map(s.run.resources.filter((r) => r.type !== "pulumi:pulumi:Stack").map((r) => [key(r), r]));
    const ia = index(a);
    const ib = index(b);
    const onlyIn = {
        [names[0]]: [...ia.keys()].filter((k) => !ib.has(k)).sort(),
        [names[1]]: [...ib.keys()].filter((k) => !ia.has(k)).sort(),
    };
    const changed: StackDiff["changed"] = [];
    for (const k of [...ia.keys()].filter((k) => ib.has(k)).sort()) {
        const fa = flatten(inputsOf(a, ia.get(k)!));
        const fb = flatten(inputsOf(b, ib.get(k)!));
        for (const path of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
            if (fa[path] !== fb[path]) changed.push({ resource: k, path, a: fa[path], b: fb[path] });
        }
    }
    return { onlyIn, changed };
}

/** A JSON value as lines for the diff: a string holding a JSON document is pretty-printed. */
function valueLines(json: string | undefined): { lines: string[]; isJson: boolean } {
    if (json === undefined) return { lines: ["(absent)"], isJson: false };
    const v: unknown = JSON.parse(json);
    if (typeof v === "string") {
        try {
            const doc: unknown = JSON.parse(v);
            if (doc !== null && typeof doc === "object")
                return { lines: JSON.stringify(doc, null, 2).split("\n"), isJson: true };
        } catch {
            // not JSON
        }
        if (v.includes("\n")) return { lines: v.replace(/\n$/, "").split("\n"), isJson: false };
    }
    return { lines: [json], isJson: false };
}

/** Line diff of whole values (jsdiff's Myers diff), each line marked " ", "-" or "+". */
export function lineDiff(a: readonly string[], b: readonly string[]): string[] {
    return diffArrays([...a], [...b]).flatMap((part) =>
        part.value.map((line) => `${part.added ? "+" : part.removed ? "-" : " "} ${line}`),
    );
}

/**
 * The diff for a reviewer: resources only in one side, then every input that differs, whole:
 * `-` is the first side's value, `+` the second's; a JSON document in a string (an IAM or
 * lifecycle policy) is pretty-printed and diffed line by line.
 */
export function formatDiff(a: string, b: string, d: StackDiff): string {
    const lines: string[] = [`Differences between ${a} (-) and ${b} (+)`, ""];
    for (const stack of [a, b]) {
        lines.push(`Only in ${stack} (${d.onlyIn[stack].length}):`);
        for (const r of d.onlyIn[stack]) lines.push(`  ${r}`);
        lines.push("");
    }
    lines.push(`Inputs that differ (${d.changed.length}):`);
    let resource: string | undefined;
    for (const c of d.changed) {
        if (c.resource !== resource) {
            resource = c.resource;
            lines.push("", `~ ${c.resource}`);
        }
        const [va, vb] = [valueLines(c.a), valueLines(c.b)];
        const diff = va.isJson || vb.isJson || va.lines.length > 1 || vb.lines.length > 1;
        lines.push(`    ${c.path}${va.isJson || vb.isJson ? " (JSON)" : ""}`);
        if (diff) lines.push(...lineDiff(va.lines, vb.lines).map((l) => `      ${l}`.trimEnd()));
        else lines.push(`      - ${va.lines[0]}`, `      + ${vb.lines[0]}`);
    }
    return lines.join("\n") + "\n";
}
