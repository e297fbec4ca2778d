import * as assert from "assert";
import type { ProgramRun, RecordedResource } from "../harness/engine";

export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/** The one resource of `type` named `name`; fails the test (listing what exists) otherwise. */
export function find(run: ProgramRun, type: string, name: string): RecordedResource {
    const hits = run.resources.filter((r) => r.type === type && r.name === name);
    assert.strictEqual(
        hits.length,
        1,
        `expected one ${type} named ${name}; have: ${
            ofType(run, type)
                .map((r) => r.name)
                .join(", ") || "none of that type"
        }`,
    );
    return hits[0];
}

/** Reads a nested property by dotted path (array indexes as numbers). */
export function at(obj: unknown, dotted: string): unknown {
    return dotted
        .split(".")
        .reduce<unknown>((v, k) => (v == null ? undefined : (v as Record<string, unknown>)[k]), obj);
}

export function byUrn(run: ProgramRun, urn: string | undefined): RecordedResource | undefined {
    return run.resources.find((r) => r.urn === urn);
}

/** Counts resources by type, sorted, for readable graph assertions. */
export function typeCounts(run: ProgramRun): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of run.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Whether `r` was registered waiting for `target` (directly, through an input, or via a component). */
export function waitsFor(run: ProgramRun, r: RecordedResource, target: RecordedResource): boolean {
    const chain = (x: RecordedResource | undefined): RecordedResource[] =>
        x ? [x, ...chain(run.resources.find((p) => p.urn === x.parent))] : [];
    const targets = new Set(chain(target).map((t) => t.urn));
    return chain(r).some((a) => a.dependencies.some((d) => targets.has(d)));
}
