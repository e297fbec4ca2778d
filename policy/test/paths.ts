/** Mutating nested fixture fields by dotted path (`spec.containers.0.image`). */
type Container = Record<string, unknown> | unknown[];

function walk(obj: unknown, path: string): { parent: Container; key: string } {
    const keys = path.split(".");
    let cur = obj as Container;
    for (const k of keys.slice(0, -1)) {
        const next = (cur as Record<string, unknown>)[k];
        if (typeof next !== "object" || next === null) {
            const created: Container = /^\d+$/.test(keys[keys.indexOf(k) + 1] ?? "") ? [] : {};
            (cur as Record<string, unknown>)[k] = created;
            cur = created;
        } else {
            cur = next as Container;
        }
    }
    return { parent: cur, key: keys[keys.length - 1] };
}

export function set(obj: unknown, path: string, value: unknown): void {
    const { parent, key } = walk(obj, path);
    (parent as Record<string, unknown>)[key] = value;
}

export function del(obj: unknown, path: string): void {
    const { parent, key } = walk(obj, path);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
}

export function get(obj: unknown, path: string): unknown {
    let cur = obj;
    for (const k of path.split(".")) {
        if (typeof cur !== "object" || cur === null) return undefined;
        cur = (cur as Record<string, unknown>)[k];
    }
    return cur;
}
