import * as YAML from "yaml";

/** Where a config value sits in the stack file, and its text there. */
export interface Location {
    /** `Pulumi.dev.yaml:12` */
    readonly at: string;
    /** The value exactly as written, for a scalar (`1.30`, `"1.4"`, `latest`); undefined for a map or list. */
    readonly written?: string;
    /** The node is empty (`key:` with nothing after it). */
    readonly empty: boolean;
    /** What the node is: a scalar, a map or a list. */
    readonly kind: "scalar" | "map" | "list";
}

export type PathElement = string | number;

/**
 * Points at values in the stack file the config came from, so an error can say
 * `Pulumi.dev.yaml:12` and quote the value as written. Best effort: the program runs in the
 * project directory (the language host starts it there), but the config may also come from
 * elsewhere (`--config-file`, an ESC environment, a test's overrides); a value that does not match
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
        try {
            const doc = YAML.parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
            this.doc = doc.errors.length ? undefined : doc;
        } catch {
            this.doc = undefined;
        }
    }

    /** The node of `<fullKey>` (a key as the engine names it) followed by `path`, if the file has it. */
    private node(fullKey: string, path: readonly PathElement[]): YAML.Node | null | undefined {
        const config = this.doc?.get("config", true);
        if (!YAML.isMap(config)) return undefined;
        const pair = config.items.find((p) => {
            const written = YAML.isScalar(p.key) ? String(p.key.value) : undefined;
            return written !== undefined && this.fullKey(written) === fullKey;
        });
        if (!pair) return undefined;
        let node = pair.value as YAML.Node | null;
        for (const step of path) {
            let next: unknown;
            if (typeof step === "number" && YAML.isSeq(node)) next = node.items[step];
            else if (typeof step === "string" && YAML.isMap(node))
                next = node.has(step) ? (node.get(step, true) ?? null) : undefined;
            else return undefined;
            if (next === undefined) return undefined;
            node = next as YAML.Node | null;
        }
        return node;
    }

    /** pulumi/pulumi v3.259.0 loaders.go 61-89 and key.go 44-70: how a key as written is named. */
    private fullKey(written: string): string {
        const parts = written.split(":");
        if (parts.length === 1) return `${this.project}:${written}`;
        if (parts.length === 3 && parts[1] === "config") return `${parts[0]}:${parts[2]}`;
        return written;
    }

    /**
     * The location of a value, if the file holds it and it is what the engine passed (`received`,
     * parsed; `undefined` to skip the check).
     */
    locate(fullKey: string, path: readonly PathElement[] = [], received?: unknown): Location | undefined {
        const node = this.node(fullKey, path);
        if (node === undefined || !this.doc) return undefined;
        const line = (offset: number) => `${this.fileName}:${this.lines.linePos(offset).line}`;
        if (node === null || (YAML.isScalar(node) && node.value === null && node.source === "")) {
            return received === undefined || received === null || received === ""
                ? { at: this.lineOfKey(fullKey, path), empty: true, kind: "scalar" }
                : undefined;
        }
        const range = node.range ?? [0, 0, 0];
        if (YAML.isMap(node) || YAML.isSeq(node)) {
            const kind = YAML.isMap(node) ? "map" : "list";
            const matches =
                received === undefined ||
                (kind === "map"
                    ? received !== null && typeof received === "object" && !Array.isArray(received)
                    : Array.isArray(received));
            return matches ? { at: line(range[0]), empty: false, kind } : undefined;
        }
        if (!YAML.isScalar(node)) return undefined;
        const written = this.text.slice(range[0], range[1]);
        const value = node.value;
        const matches =
            received === undefined ||
            value === received ||
            (typeof received === "string" && String(value) === received) ||
            (typeof received === "number" && typeof value === "number" && value === received) ||
            (typeof received === "number" && Number(String(value).replace(/_/g, "")) === received);
        return matches ? { at: line(range[0]), written, empty: false, kind: "scalar" } : undefined;
    }

    /** For an empty value: the line of its key. */
    private lineOfKey(fullKey: string, path: readonly PathElement[]): string {
        const parentPath = path.slice(0, -1);
        const last = path[path.length - 1];
        const config = this.doc?.get("config", true);
        let pairs: YAML.Pair[] | undefined;
        if (path.length === 0 && YAML.isMap(config)) pairs = config.items as YAML.Pair[];
        else {
            const parent = this.node(fullKey, parentPath);
            if (YAML.isMap(parent)) pairs = parent.items as YAML.Pair[];
        }
        const pair = pairs?.find((p) => {
            const k = YAML.isScalar(p.key) ? String(p.key.value) : undefined;
            return path.length === 0 ? k !== undefined && this.fullKey(k) === fullKey : k === last;
        });
        const offset = YAML.isNode(pair?.key) ? (pair.key.range?.[0] ?? 0) : 0;
        return `${this.fileName}:${this.lines.linePos(offset).line}`;
    }
}
