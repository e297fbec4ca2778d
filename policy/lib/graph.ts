/**
 * A read-only index over the resources a stack policy receives: by type, by URN, parent chains and
 * dependencies. In a live run, stack policies see each resource's *outputs* (for a Kubernetes object
 * that is the live object, with server-side defaults); in the offline runner they see the recorded
 * inputs. Rules that depend on the difference say so where they read props.
 */
import type { PolicyResource } from "@pulumi/policy";
import { Rec, isRecord, plain } from "./values";

export class StackGraph {
    private readonly propsCache = new Map<PolicyResource, Rec>();

    constructor(readonly resources: readonly PolicyResource[]) {}

    ofType(...types: string[]): PolicyResource[] {
        return this.resources.filter((r) => types.includes(r.type));
    }

    /** Plain props (unknowns are `UNKNOWN`), computed once per resource. */
    props(r: PolicyResource): Rec {
        let p = this.propsCache.get(r);
        if (!p) {
            const v = plain(r.props);
            p = isRecord(v) ? v : {};
            this.propsCache.set(r, p);
        }
        return p;
    }

    /** `r`, its parent, its parent's parent, ... */
    selfAndAncestors(r: PolicyResource): PolicyResource[] {
        const out: PolicyResource[] = [];
        for (let cur: PolicyResource | undefined = r; cur && !out.includes(cur); cur = cur.parent) out.push(cur);
        return out;
    }

    isDescendantOf(r: PolicyResource, ancestor: PolicyResource): boolean {
        return this.selfAndAncestors(r).includes(ancestor);
    }

    private directDependencies(r: PolicyResource): PolicyResource[] {
        return [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
    }

    /** Whether any dependency of `r` or of its ancestors was recorded at all. */
    hasVisibleDependencies(r: PolicyResource): boolean {
        return this.selfAndAncestors(r).some((a) => this.directDependencies(a).length > 0);
    }

    /**
     * Whether `r` waits for `target`: `r` or one of its ancestors (a component's dependsOn holds
     * back its children) depends on `target` or on one of `target`'s ancestors (depending on a
     * component waits for all its children).
     */
    waitsFor(r: PolicyResource, target: PolicyResource): boolean {
        const targets = new Set(this.selfAndAncestors(target).map((t) => t.urn));
        return this.selfAndAncestors(r).some((a) => this.directDependencies(a).some((d) => targets.has(d.urn)));
    }

    /**
     * Whether `r` waits for `target` through any chain of waits (`r` waits for x, x for y, ...,
     * for `target`), each step as `waitsFor` defines it: the order a first `up` follows, and the
     * reverse of the order `destroy` follows.
     */
    waitsForTransitively(r: PolicyResource, target: PolicyResource): boolean {
        const targets = new Set(this.selfAndAncestors(target).map((t) => t.urn));
        const seen = new Set<string>();
        const queue: PolicyResource[] = [r];
        while (queue.length > 0) {
            const cur = queue.shift()!;
            for (const a of this.selfAndAncestors(cur)) {
                for (const d of this.directDependencies(a)) {
                    if (targets.has(d.urn)) return true;
                    if (!seen.has(d.urn)) {
                        seen.add(d.urn);
                        queue.push(d);
                    }
                }
            }
        }
        return false;
    }

    /** Resources `r` depends on (itself or through its ancestors) whose type is one of `types`. */
    dependenciesOfType(r: PolicyResource, ...types: string[]): PolicyResource[] {
        const out = new Set<PolicyResource>();
        for (const a of this.selfAndAncestors(r)) {
            for (const d of this.directDependencies(a)) if (types.includes(d.type)) out.add(d);
        }
        return [...out];
    }
}

/** `type::name`, how a resource is named in a message when a URN would be too long to read. */
export function label(r: PolicyResource): string {
    return `${r.type}::${r.name}`;
}
