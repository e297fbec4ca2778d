/**
 * The order the engine follows, read from the resources the program registered (harness/engine.ts):
 * a resource waits for
 * - every resource in `dependencies` and `propertyDependencies` (the SDK has already expanded a
 *   component in `dependsOn` into its custom children, @pulumi/pulumi runtime/dependsOn.js);
 * - its parent: a child is registered only once its parent component is, and a component is
 *   registered only after its own `dependsOn`, so a component's dependsOn holds back its children;
 * - its provider (`provider` is `<urn>::<id>`): a provider is usable once its own dependencies are done;
 * - every resource its inputs reference (a resource reference in `props` is that resource's URN): the
 *   SDK serializes a reference only once the resource is registered, but leaves references out of
 *   a remote component's propertyDependencies (runtime/resource.js,
 *   excludeResourceReferencesFromDependencies), e.g. eks.ManagedNodeGroup's `cluster`.
 * `destroy` walks the same edges backwards: a resource is deleted before anything it waits for.
 */

/** The fields of a recorded resource the graph reads. */
export interface GraphResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly remote?: boolean;
    readonly parent?: string;
    readonly provider?: string;
    readonly dependencies: readonly string[];
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    readonly props: Readonly<Record<string, unknown>>;
}

/** `urn:...::name::id` -> `urn:...::name` (a provider reference); a plain URN is returned as is. */
export function providerUrn(ref: string): string {
    const i = ref.lastIndexOf("::");
    const head = ref.slice(0, i);
    // A URN has at least `urn:pulumi:<stack>::<project>::<type>::<name>`; the id follows a 4th '::'.
    return i > 0 && head.split("::").length >= 4 ? head : ref;
}

/** URN -> the URNs it waits for (only URNs of recorded resources). */
export type WaitGraph = ReadonlyMap<string, readonly string[]>;

/** Every string in a value (objects and arrays walked). */
function strings(v: unknown, out: string[] = []): string[] {
    if (typeof v === "string") out.push(v);
    else if (Array.isArray(v)) for (const x of v) strings(x, out);
    else if (v !== null && typeof v === "object") for (const x of Object.values(v)) strings(x, out);
    return out;
}

export function waitGraph(resources: readonly GraphResource[]): WaitGraph {
    const known = new Set(resources.map((r) => r.urn));
    const graph = new Map<string, string[]>();
    for (const r of resources) {
        const waits = new Set<string>([
            ...r.dependencies,
            ...Object.values(r.propertyDependencies ?? {}).flat(),
            ...(r.parent ? [r.parent] : []),
            // A component's `provider` lists the providers it hands its children; only a custom
            // resource (or a remote component) is created through its provider.
            ...(r.provider && (r.custom || r.remote) ? r.provider.split(",").map(providerUrn) : []),
            ...strings(r.props).filter((v) => v.startsWith("urn:pulumi:") && known.has(v)),
        ]);
        waits.delete(r.urn);
        graph.set(
            r.urn,
            [...waits].filter((u) => known.has(u)),
        );
    }
    return graph;
}

/**
 * A shortest chain of waits from `from` to a resource `to` accepts (both included), or undefined
 * when `from` never waits for one: then `destroy` may delete that resource first.
 */
export function waitPath(graph: WaitGraph, from: string, to: (urn: string) => boolean): string[] | undefined {
    const previous = new Map<string, string | undefined>([[from, undefined]]);
    const queue = [from];
    while (queue.length > 0) {
        const cur = queue.shift()!;
        if (cur !== from && to(cur)) {
            const path: string[] = [];
            for (let at: string | undefined = cur; at !== undefined; at = previous.get(at)) path.unshift(at);
            return path;
        }
        for (const next of graph.get(cur) ?? []) {
            if (!previous.has(next)) {
                previous.set(next, cur);
                queue.push(next);
            }
        }
    }
    return undefined;
}

/** `type::name` of a URN, for messages. */
export function shortUrn(urn: string): string {
    const parts = urn.split("::");
    const type = (parts[2] ?? "").split("$").pop() ?? "";
    return `${type}::${parts[3] ?? urn}`;
}
