import * as YAML from "yaml";
import { decodeNode, goToPlain } from "./go-yaml";

/** Where a config value sits in the stack file, and its text there. */
export interface Location {
    /** `Pulumi.dev.yaml:12`: the line of the value's key (of the item, in a list). */
    readonly at: string;
    /** The value exactly as written, for a scalar (`1.30`, `"1.4"`, `latest`); undefined for a map or list. */
    readonly written?: string;
    /** The value is empty (`key:` with nothing after it). */
    readonly empty: boolean;
    readonly kind: "scalar" | "map" | "list";
}

export type PathElement = string | number;

/** Loose equality of a value as the `yaml` package reads it and as the engine passed it. */
function same(written: unknown, received: unknown): boolean {
    if (Array.isArray(written))
        return (
            Array.isArray(received) &&
            written.length === received.length &&
            written.every((w, i) => same(w, received[i]))
        );
    if (written !== null && typeof written === "object") {
        if (received === null || typeof received !== "object" || Array.isArray(received)) return false;
        const [w, r] = [written as Record<string, unknown>, received as Record<string, unknown>];
        return Object.keys(w).length === Object.keys(r).length && Object.keys(w).every((k) => same(w[k], r[k]));
    }
    if (written === received) return true;
    // A number or boolean at the top level of a stack file reaches the program as its text.
    return written !== null && received !== null && typeof written !== "object" && String(written) === String(received);
}

/**
 * Points at values in the stack file the config came from, so an error can say
 * `Pulumi.dev.yaml:12` and quote the value as written. Best effort: the program runs in the
 * project directory (the language host starts it there), but the config may also come from
 * elsewhere (`--config-file`, an ESC environment, a test's overrides); a value that differs from
 * what the engine passed is not located, rather than pointing at the wrong line.
 */
export class StackFileLocator {
    private readonly doc: YAML.Document | undefined;
    private readonly lines = new YAML.LineCounter();

    constructor(
        private readonly project: string,
        readonly fileName: string,
        private readonly text: string,
    ) {
        const doc = YAML.parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
        this.doc = doc.errors.length ? undefined : doc;
    }

    /** pulumi/pulumi v3.259.0 loaders.go 61-89 and key.go 44-70: how a key as written is named. */
    private fullKey(written: string): string {
        const parts = written.split(":");
        if (parts.length === 1) return `${this.project}:${written}`;
        if (parts.length === 3 && parts[1] === "config") return `${parts[0]}:${parts[2]}`;
        return written;
    }

    /** The node at `<fullKey>` then `path`, and the offset of its key (or list item). */
    private find(
        fullKey: string,
        path: readonly PathElement[],
    ): { node: YAML.Node | null; offset: number } | undefined {
        const config = this.doc?.get("config", true);
        if (!YAML.isMap(config)) return undefined;
        const pair = config.items.find((p) => YAML.isScalar(p.key) && this.fullKey(String(p.key.value)) === fullKey);
        if (!pair || !YAML.isNode(pair.key)) return undefined;
        let node = (pair.value as YAML.Node | null) ?? null;
        let offset = pair.key.range?.[0] ?? 0;
        for (const step of path) {
            if (typeof step === "number" && YAML.isSeq(node)) {
                const item = node.items[step] as YAML.Node | null | undefined;
                if (item === undefined) return undefined;
                node = item;
                offset = item?.range?.[0] ?? offset;
            } else if (typeof step === "string" && YAML.isMap(node)) {
                const p = node.items.find((i) => YAML.isScalar(i.key) && String(i.key.value) === step);
                if (!p || !YAML.isNode(p.key)) return undefined;
                node = (p.value as YAML.Node | null) ?? null;
                offset = p.key.range?.[0] ?? offset;
            } else return undefined;
        }
        return { node, offset };
    }

    /**
     * The location of a value if the file holds it and it is what the engine passed (`received`,
     * parsed from JSON); with `received` omitted, wherever the file has it.
     */
    locate(fullKey: string, path: readonly PathElement[] = [], ...received: [unknown?]): Location | undefined {
        const found = this.find(fullKey, path);
        if (!found) return undefined;
        const { node, offset } = found;
        const at = `${this.fileName}:${this.lines.linePos(offset).line}`;
        const check = received.length > 0;
        let value: unknown;
        try {
            // As the CLI reads it (yaml.v3): `0012` is 10, `1.10` is 1.1, `yes` a string.
            value = goToPlain(decodeNode(this.doc!, node));
        } catch {
            value = undefined;
        }
        if (check && !same(value, received[0]) && !(value === null && received[0] === "")) return undefined;
        if (node === null || (YAML.isScalar(node) && node.value === null && node.source === ""))
            return { at, empty: true, kind: "scalar" };
        if (YAML.isMap(node)) return { at, empty: false, kind: "map" };
        if (YAML.isSeq(node)) return { at, empty: false, kind: "list" };
        const range = node.range ?? [0, 0, 0];
        return { at, written: this.text.slice(range[0], range[1]), empty: false, kind: "scalar" };
    }
}
