// The Pulumi CLI's stack-config code, reproduced rule for rule so that the tests and the synth give
// the program exactly the config a real `pulumi preview`/`up` gives it. Every function names the
// file and lines it follows in pulumi/pulumi at tag v3.259.0 (the newest tag when this was written;
// the main branch after it changes none of these files). A CLI upgrade that changes one of them is
// one place to update here, and test/stack-config.test.ts pins each rule with a fixture.
import { GoMap, GoNumber, GoTime, GoValue, GoYamlError, goFloatText, goFormatKey } from "../stacks/go-yaml";

/** A secure (`secure: v1:...`) string: config/object.go `CiphertextSecret`. */
export class Ciphertext {
    constructor(readonly ciphertext: string) {}
}

/**
 * config/object.go 36-43: the object representation of a config value. Maps are plain records with
 * no prototype; numbers keep their JSON text.
 */
export type CfgObject = null | boolean | string | GoNumber | Ciphertext | CfgObject[] | { [key: string]: CfgObject };

const isRecord = (o: CfgObject): o is { [key: string]: CfgObject } =>
    o !== null && typeof o === "object" && !Array.isArray(o) && !(o instanceof GoNumber) && !(o instanceof Ciphertext);

/** config/value.go 25-41: a Value is text plus flags; `typ` is only set by `pulumi config set --type`. */
export interface Value {
    readonly value: string;
    readonly secure: boolean;
    readonly object: boolean;
    readonly typ?: "string" | "int" | "bool" | "float";
}
export const ZERO_VALUE: Value = { value: "", secure: false, object: false };

export class CliError extends Error {
    override name = "CliError";
}

// ---- JSON as Go's encoding/json writes it (compact, map keys sorted bytewise, HTML-safe) ----

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/** encoding/json `appendString`: JSON.stringify's escapes plus <, >, & and U+2028/2029. */
export function goJsonString(s: string): string {
    return JSON.stringify(s).replace(
        /[<>&\u2028\u2029]/g,
        (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
    );
}

/** object.go 434-436 `MarshalJSON` (and json.Marshal of the map it holds). */
export function goJson(o: CfgObject): string {
    if (o === null) return "null";
    if (typeof o === "boolean") return String(o);
    if (typeof o === "string") return goJsonString(o);
    if (o instanceof GoNumber) return o.text;
    // object.go 530-538 `marshalObject`: a ciphertext marshals as {"secure": "<ciphertext>"}.
    if (o instanceof Ciphertext) return `{"secure":${goJsonString(o.ciphertext)}}`;
    if (Array.isArray(o)) return `[${o.map(goJson).join(",")}]`;
    const keys = Object.keys(o).sort(byteOrder);
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson(o[k])}`).join(",")}}`;
}

/**
 * object.go 438-449 `UnmarshalJSON` with json.Decoder.UseNumber, then `unmarshalObject` 465-527:
 * a number is int64 if json.Number.Int64 parses it, else float64.
 */
export function parseGoJson(text: string): CfgObject {
    // JSON.parse loses big integers: read numbers from their text instead.
    const raw: unknown = JSON.parse(text, (_k, v, ctx?: { source?: string }) =>
        typeof v === "number" ? { __num: ctx?.source ?? String(v) } : v,
    );
    const conv = (v: unknown): CfgObject => {
        if (v === null || typeof v === "boolean" || typeof v === "string") return v;
        if (Array.isArray(v)) return v.map(conv);
        const obj = v as Record<string, unknown>;
        if ("__num" in obj && Object.keys(obj).length === 1 && typeof obj.__num === "string") {
            const t = obj.__num;
            if (/^-?\d+$/.test(t) && BigInt(t) >= -(2n ** 63n) && BigInt(t) <= 2n ** 63n - 1n)
                return new GoNumber(BigInt(t).toString(), true);
            return new GoNumber(goFloatText(Number(t)), false);
        }
        // object.go 492-495: a map of exactly {"secure": "<string>"} is a ciphertext.
        const keys = Object.keys(obj);
        if (keys.length === 1 && keys[0] === "secure" && typeof obj.secure === "string")
            return new Ciphertext(obj.secure);
        const out: { [key: string]: CfgObject } = Object.create(null);
        for (const k of keys) out[k] = conv(obj[k]);
        return out;
    };
    return conv(raw);
}

/** object.go 465-527 `unmarshalObject` from the YAML decoder's `any`. */
export function fromGoValue(v: GoValue): CfgObject {
    if (v === null || typeof v === "boolean" || typeof v === "string" || v instanceof GoNumber) return v;
    if (v instanceof GoTime) return v.text; // object.go 490-491: time.Time -> v.String()
    if (Array.isArray(v)) return v.map(fromGoValue);
    // object.go 492-495 `isSecureValue`
    if (v.entries.length === 1 && v.entries[0].key === "secure" && typeof v.entries[0].value === "string")
        return new Ciphertext(v.entries[0].value);
    const out: { [key: string]: CfgObject } = Object.create(null);
    for (const e of v.entries) out[typeof e.key === "string" ? e.key : goFormatKey(e.key)] = fromGoValue(e.value);
    return out;
}

const secureIn = (o: CfgObject): boolean =>
    o instanceof Ciphertext || (Array.isArray(o) ? o.some(secureIn) : isRecord(o) && Object.values(o).some(secureIn));

/** object.go 401-419 `MarshalString` -> config.Value (object.go 371-374 `marshalValue`). */
export function marshalValue(o: CfgObject): Value {
    if (typeof o === "boolean" || o instanceof GoNumber) return { value: goJson(o), secure: false, object: false };
    if (typeof o === "string") return { value: o, secure: false, object: false };
    if (o instanceof Ciphertext) return { value: o.ciphertext, secure: true, object: false };
    return { value: goJson(o), secure: secureIn(o), object: true };
}

/** value.go 169-202 `unmarshalObject`. */
export function unmarshalObject(v: Value): CfgObject {
    if (v.secure || v.object || v.typ === undefined) {
        // object.go 421-432 `UnmarshalString`
        if (!v.object) return v.secure ? new Ciphertext(v.value) : v.value;
        return parseGoJson(v.value);
    }
    switch (v.typ) {
        case "string":
            return v.value;
        case "int":
            return new GoNumber(BigInt(v.value).toString(), true);
        case "bool":
            // strconv.ParseBool; anything else is false (with a warning in the CLI's log).
            return ["1", "t", "T", "TRUE", "true", "True"].includes(v.value);
        case "float":
            return new GoNumber(goFloatText(Number(v.value)), false);
    }
}

/** object.go 560-591 `coerce`: "true"/"false" and base-10 digits without a leading 0. */
function coerce(s: string): CfgObject | undefined {
    if (s === "true") return true;
    if (s === "false") return false;
    if (s.length > 1 && s[0] === "0") return undefined;
    // strconv.ParseInt(s, 10, 64), then ParseUint (no sign) for what exceeds int64.
    if (/^[+-]?\d+$/.test(s)) {
        const n = BigInt(s);
        const fits = n >= -(2n ** 63n) && (n <= 2n ** 63n - 1n || (/^\d/.test(s) && n <= 2n ** 64n - 1n));
        if (fits) return new GoNumber(n.toString(), true);
    }
    return undefined;
}

/** value.go 143-167 `coerceObject`. */
function coerceObject(v: Value): CfgObject {
    if (v.secure || v.object || v.typ !== undefined) return unmarshalObject(v);
    return coerce(v.value) ?? unmarshalObject(v);
}

// ---- keys and paths ----

export interface Key {
    readonly namespace: string;
    readonly name: string;
}
export const keyString = (k: Key) => `${k.namespace}:${k.name}`;

/** key.go 44-70 `ParseKey`: `<ns>:<name>`, or the old `<ns>:config:<name>`. */
export function parseKey(s: string): Key {
    const parts = s.split(":");
    if (parts.length === 2) return { namespace: parts[0], name: parts[1] };
    if (parts.length === 3 && parts[1] === "config" && parts[0] !== "" && parts[2] !== "")
        return { namespace: parts[0], name: parts[2] };
    throw new CliError(
        `could not parse ${s} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`,
    );
}

/** pkg/workspace/config.go 159-168 `parseConfigKey`: a bare key gets the project's namespace. */
export function parseConfigKey(project: string, key: string): Key {
    return key.includes(":") ? parseKey(key) : { namespace: project, name: key };
}

export type PathElement = string | number;

/** resource/properties_path.go 67-144 `parsePropertyPath` (strict). */
export function parsePropertyPath(path: string): PathElement[] {
    const out: PathElement[] = [];
    if (path.startsWith(".")) throw new CliError("expected property path to start with a name or index");
    while (path.length > 0) {
        if (path[0] === ".") {
            path = path.slice(1);
            if (path.length === 0) throw new CliError("expected property path to end with a name or index");
            if (path[0] === "[") throw new CliError("expected property name after '.'");
        } else if (path[0] === "[") {
            if (path.length > 1 && path[1] === '"') {
                let key = "";
                let i = 2;
                for (;;) {
                    if (i >= path.length) throw new CliError("missing closing quote in property name");
                    if (path[i] === '"') {
                        i++;
                        break;
                    }
                    if (path[i] === "\\" && path[i + 1] === '"') {
                        key += '"';
                        i += 2;
                    } else key += path[i++];
                }
                if (path[i] !== "]") throw new CliError("missing closing bracket in property access");
                out.push(key);
                path = path.slice(i + 1);
            } else {
                const close = path.indexOf("]");
                if (close < 0) throw new CliError("missing closing bracket in array index");
                const seg = path.slice(1, close);
                if (seg === "*") out.push("*");
                else if (/^[+-]?\d+$/.test(seg)) out.push(Number(seg));
                else throw new CliError(`invalid array index: strconv.ParseInt: parsing "${seg}": invalid syntax`);
                path = path.slice(close + 1);
            }
        } else {
            let i = 0;
            while (i < path.length && path[i] !== "." && path[i] !== "[") i++;
            out.push(path.slice(0, i));
            path = path.slice(i);
        }
    }
    return out;
}

/** map.go 330-354 `parseKeyPath`: the path in the key's name, and the key of its first segment. */
function parseKeyPath(k: Key): { path: PathElement[]; root: Key } {
    const path = parsePropertyPath(k.name);
    if (path.length === 0) throw new CliError("empty config key path");
    if (typeof path[0] !== "string") throw new CliError("first path segement of config key must be a string");
    if (path[0] === "") throw new CliError("config key is empty");
    return { path, root: { namespace: k.namespace, name: path[0] } };
}

/** object.go 181-208 `Get`. */
function objectGet(o: CfgObject, path: PathElement[]): { found: boolean; value: CfgObject } {
    if (path.length === 0) return { found: true, value: o };
    const [head, ...rest] = path;
    if (Array.isArray(o)) {
        if (typeof head !== "number" || head < 0 || head >= o.length) return { found: false, value: null };
        return objectGet(o[head], rest);
    }
    if (isRecord(o)) {
        if (typeof head !== "string" || !Object.prototype.hasOwnProperty.call(o, head))
            return { found: false, value: null };
        return objectGet(o[head], rest);
    }
    return { found: false, value: null };
}

const newContainer = (accessor: PathElement): CfgObject =>
    typeof accessor === "number" ? new Array<CfgObject>(accessor + 1).fill(null) : Object.create(null);

const showPath = (p: PathElement[]) => `[${p.join(" ")}]`; // Go's %v of a PropertyPath

/** object.go 279-350 `Set`, including the COMPAT rule that overwrites a top-level scalar (295-299). */
function objectSet(holder: { o: CfgObject }, prefix: PathElement[], path: PathElement[], value: CfgObject): void {
    if (path.length === 0) {
        holder.o = value;
        return;
    }
    const o = holder.o;
    if (!(Array.isArray(o) || isRecord(o))) {
        if (o === null || prefix.length === 1) holder.o = newContainer(path[0]);
        else throw new CliError(`${showPath(prefix)}: expected ${typeof path[0] === "number" ? "an array" : "a map"}`);
    }
    const [head, ...rest] = path;
    const next = [...prefix, head];
    const c = holder.o;
    if (Array.isArray(c)) {
        if (typeof head !== "number") throw new CliError(`${showPath(next)}: key for an array must be an int`);
        if (head < 0 || head > c.length) throw new CliError(`${showPath(next)}: array index out of range`);
        if (head === c.length) c.push(null);
        const elem = { o: c[head] };
        objectSet(elem, next, rest, value);
        c[head] = elem.o;
    } else if (isRecord(c)) {
        if (typeof head !== "string") throw new CliError(`${showPath(next)}: key for a map must be a string`);
        if (rest.length === 0 && Object.keys(c).length === 0 && head === "secure" && typeof value === "string")
            throw new CliError('maps with the single key "secure" are reserved');
        const elem = { o: Object.prototype.hasOwnProperty.call(c, head) ? c[head] : null };
        objectSet(elem, next, rest, value);
        c[head] = elem.o;
    }
}

/** config.Map: keys are `<ns>:<name>` strings. */
export type ConfigMap = Map<string, Value>;

/** map.go 149-182 `Get` with path=true. */
export function mapGetPath(m: ConfigMap, k: Key): { found: boolean; value: Value } {
    const { path, root } = parseKeyPath(k);
    const rootValue = m.get(keyString(root));
    if (path.length === 1) return { found: rootValue !== undefined, value: rootValue ?? ZERO_VALUE };
    const got = objectGet(unmarshalObject(rootValue ?? ZERO_VALUE), path.slice(1));
    return got.found ? { found: true, value: marshalValue(got.value) } : { found: false, value: ZERO_VALUE };
}

/** map.go 224-270 `Set` with path=true. */
export function mapSetPath(m: ConfigMap, k: Key, v: Value): void {
    const { path, root } = parseKeyPath(k);
    const newV = path.length > 1 || v.typ !== undefined ? coerceObject(v) : null;
    if (path.length === 1) {
        m.set(keyString(root), v);
        return;
    }
    const existing = m.get(keyString(root));
    const holder = { o: existing !== undefined ? unmarshalObject(existing) : newContainer(path[1]) };
    objectSet(holder, path.slice(0, 1), path.slice(1), newV);
    m.set(keyString(root), marshalValue(holder.o));
}

/** map.go 184-222 `Remove` with path=true (what `pulumi config rm --path` does). */
export function mapRemovePath(m: ConfigMap, k: Key): void {
    const { path, root } = parseKeyPath(k);
    const existing = m.get(keyString(root));
    if (path.length === 1 || existing === undefined) {
        if (path.length === 1) m.delete(keyString(root));
        return;
    }
    const o = unmarshalObject(existing);
    const parent = objectGet(o, path.slice(1, -1));
    const last = path[path.length - 1];
    if (parent.found && Array.isArray(parent.value) && typeof last === "number") parent.value.splice(last, 1);
    else if (parent.found && isRecord(parent.value) && typeof last === "string") delete parent.value[last];
    m.set(keyString(root), marshalValue(o));
}

// ---- the project's config declarations ----

export interface ItemsType {
    readonly type: string;
    readonly items?: ItemsType;
}

/** project.go 282-289 `ProjectConfigType`. */
export interface ProjectConfigType {
    readonly type?: string;
    readonly description?: string;
    readonly items?: ItemsType;
    readonly default?: CfgObject;
    readonly value?: CfgObject;
    readonly secret?: boolean;
}

export interface Project {
    readonly name: string;
    readonly config: Record<string, ProjectConfigType>;
}

/** project.go 760-766 `InferFullTypeName`. */
export function inferFullTypeName(type: string, items?: ItemsType): string {
    return items ? `array<${inferFullTypeName(items.type, items.items)}>` : type;
}

/** Go's strconv.Atoi (64-bit int). */
const atoi = (s: string) => /^[+-]?\d+$/.test(s) && BigInt(s) >= -(2n ** 63n) && BigInt(s) <= 2n ** 63n - 1n;

/**
 * project.go 768-831 `ValidateConfigValue`. `value` is what Go holds there: a YAML-decoded default,
 * or a stack value's text, or (for an object value) `json.Unmarshal` of it into `any`, where every
 * number is a float64.
 */
export function validateConfigValue(type: string, items: ItemsType | undefined, value: unknown): boolean {
    if (type === "string") return typeof value === "string";
    if (type === "integer") {
        if (value instanceof GoNumber) return value.isInt || Number.isInteger(Number(value.text));
        if (typeof value === "number") return Number.isInteger(value);
        return typeof value === "string" && atoi(value);
    }
    if (type === "boolean") return value === "true" || value === "false" || typeof value === "boolean";
    if (type === "object")
        return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof GoNumber);
    if (!Array.isArray(value) || items === undefined) return false;
    return value.every((item) => validateConfigValue(items.type, items.items, item));
}

const isPrimitive = (v: CfgObject | undefined) =>
    typeof v === "string" || typeof v === "boolean" || (v instanceof GoNumber && v.isInt); // config.go 170-177

/** project.go 833-835 `configKeyIsNamespacedByProject`. */
const namespacedByProject = (project: string, key: string) => !key.includes(":") || key.startsWith(project + ":");

/**
 * Pulumi.yaml's `config:` block as loaders.go 108-148 `LoadProjectBytes` reads it: shorthand values
 * rewritten (project.go 486-517 `RewriteShorthandConfigValues`), then project.go 837-889 `Validate`.
 */
export function projectFromYaml(doc: GoValue, file = "Pulumi.yaml"): Project {
    if (!(doc instanceof GoMap)) throw new CliError(`could not validate '${file}': expected project to be an object`);
    const get = (m: GoMap, k: string) => m.entries.find((e) => e.key === k)?.value;
    const name = get(doc, "name");
    if (typeof name !== "string" || name === "")
        throw new CliError(`could not validate '${file}': project is missing a non-empty string 'name' attribute`);
    const config: Record<string, ProjectConfigType> = {};
    const block = get(doc, "config");
    if (block instanceof GoMap) {
        for (const e of block.entries) {
            const key = String(e.key);
            const v = fromGoValue(e.value);
            if (isPrimitive(v) || Array.isArray(v)) {
                config[key] = namespacedByProject(name, key) ? { default: v } : { value: v };
                continue;
            }
            if (!isRecord(v))
                throw new CliError(`yaml: unmarshal errors: cannot unmarshal the value of config key '${key}'`);
            const items = (i: CfgObject | undefined): ItemsType | undefined =>
                i !== undefined && isRecord(i) ? { type: String(i.type), items: items(i.items) } : undefined;
            config[key] = {
                type: typeof v.type === "string" ? v.type : undefined,
                description: typeof v.description === "string" ? v.description : undefined,
                items: items(v.items),
                default: v.default === null ? undefined : v.default,
                value: v.value === null ? undefined : v.value,
                secret: v.secret === true,
            };
        }
    }
    // loaders.go 141-144: Validate's errors come back as "could not unmarshal '<path>': ...".
    const invalid = (message: string) => new CliError(`could not unmarshal '${file}': ${message}`);
    for (const [key, t] of Object.entries(config)) {
        if (t.default !== undefined && t.value !== undefined)
            throw invalid(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
        if (namespacedByProject(name, key)) {
            if (t.type === "array" && t.items === undefined)
                throw invalid(
                    `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`,
                );
            if (
                t.type !== undefined &&
                t.default !== undefined &&
                !validateConfigValue(t.type, t.items, goValueOf(t.default))
            )
                throw invalid(
                    `The default value specified for configuration key '${key}' is not of the expected type '${inferFullTypeName(t.type, t.items)}'`,
                );
        } else if (t.type !== undefined) {
            throw invalid(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
        } else if (t.default !== undefined) {
            throw invalid(
                `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`,
            );
        } else if (t.value === undefined) {
            throw invalid(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
        }
    }
    return { name, config };
}

/** A YAML-decoded default as Go holds it for ValidateConfigValue (maps/arrays as plain JS). */
function goValueOf(o: CfgObject): unknown {
    if (Array.isArray(o)) return o.map(goValueOf);
    if (isRecord(o)) return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, goValueOf(v)]));
    return o;
}

/** config.go 179-193 `createConfigValue`: a default becomes a Value. */
function createConfigValue(raw: CfgObject): Value {
    if (isPrimitive(raw))
        return { value: raw instanceof GoNumber ? raw.text : String(raw), secure: false, object: false };
    return { value: goJson(raw), secure: false, object: true };
}

// ---- the stack file ----

export interface StackFile {
    readonly config: ConfigMap;
    /** loaders.go 379-410 `checkForEmptyConfig`: the warning the CLI prints, if any. */
    readonly warnings: string[];
}

/**
 * A stack file's `config:` as loaders.go 172-233 `LoadProjectStackBytes` reads it: every key
 * namespaced (61-89 `stackConfigNamespacedWithProject`), every value turned into a config.Value
 * (value.go 238-245 `UnmarshalYAML`). A null value becomes the empty Value (yaml.v3 decode.go 406-409 leaves a
 * null node's Unmarshaler uncalled), with the CLI's warning.
 */
export function stackFromYaml(project: Project, doc: GoValue): StackFile {
    const config: ConfigMap = new Map();
    const warnings: string[] = [];
    if (doc === null) return { config, warnings };
    if (!(doc instanceof GoMap)) throw new CliError("expected project to be an object, was 'string'");
    // project.go 520-552 `SimplifyMarshalledValue`: every map key must be a string.
    const checkKeys = (v: GoValue): void => {
        if (v instanceof GoMap)
            for (const e of v.entries) {
                if (typeof e.key !== "string")
                    throw new CliError(`expected only string keys, got '${goFormatKey(e.key)}'`);
                checkKeys(e.value);
            }
        else if (Array.isArray(v)) v.forEach(checkKeys);
    };
    checkKeys(doc);
    if (doc.entries.some((e) => e.key === "environment"))
        throw new CliError("this offline reader cannot resolve `environment:` (Pulumi ESC) imports");
    const block = doc.entries.find((e) => e.key === "config")?.value ?? null;
    if (block === null) return { config, warnings };
    if (!(block instanceof GoMap))
        throw new CliError("could not unmarshal map: the stack file's `config:` is not a map");
    const empty: string[] = [];
    for (const e of block.entries) {
        const written = e.key as string;
        const key = keyString(parseConfigKey(project.name, written));
        if (e.value === null) {
            empty.push(written);
            config.set(key, ZERO_VALUE);
        } else {
            try {
                config.set(key, marshalValue(fromGoValue(e.value)));
            } catch (err) {
                if (err instanceof GoYamlError) throw new CliError(err.message);
                throw err;
            }
        }
    }
    if (empty.length) {
        // The CLI lists them in Go's map order (random); they are sorted here.
        const quoted = empty.sort().map((k) => `"${k}"`);
        const s = empty.length > 1 ? "s" : "";
        warnings.push(
            `No value for configuration key${s} ${quoted.length === 2 ? quoted.join(" and ") : quoted.join(", ")}. ` +
                'This is currently treated as an empty string `""`, but will be treated as `null` in a future version of pulumi.\n' +
                `Set the value${s} to \`""\` to avoid this warning.`,
        );
    }
    return { config, warnings };
}

/** config.go 30-64: the missing-keys error. */
function missingKeysError(keys: string[], stack: string): string {
    const sorted = keys.length === 1 ? keys : [...keys].sort(byteOrder);
    const list =
        sorted.length === 1
            ? `'${sorted[0]}'`
            : sorted
                  .map((k, i) =>
                      i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `,
                  )
                  .join("");
    return `Stack '${stack}' is missing configuration value${keys.length > 1 ? "s" : ""} ${list}`;
}

/**
 * config.go 255-366 `mergeConfig` with validate=true (368-378 `ValidateStackConfigAndApplyProjectConfig`,
 * as `pulumi preview`/`up` call it: pkg/cmd/pulumi/operations/preview.go 529-539, which prefixes
 * "validating stack config: "). Mutates `config`: declared defaults are set by path. Throws a
 * CliError with the CLI's message; only the first type error is reported, as the CLI does.
 */
export function validateAndApplyProjectConfig(
    stack: string,
    project: Project,
    config: ConfigMap,
    decrypt: (ciphertext: string) => string,
): void {
    const fail = (message: string): never => {
        throw new CliError(`validating stack config: ${message}`);
    };
    const keys = Object.keys(project.config).sort(byteOrder);
    const missing: string[] = [];
    for (const declared of keys) {
        const t = project.config[declared];
        const key = parseConfigKey(project.name, declared);
        const { found } = mapGetPath(config, key);
        const hasDefault = t.default !== undefined;
        const hasValue = t.value !== undefined;
        if (!found && !hasValue && !hasDefault && key.namespace === project.name) {
            missing.push(declared);
            continue;
        }
        if (!found && (hasValue || hasDefault)) {
            // config.go 329-335: a default wins over a value when (invalidly) both are given.
            mapSetPath(config, key, createConfigValue((hasDefault ? t.default : t.value) as CfgObject));
        }
    }
    if (missing.length) fail(missingKeysError(missing, stack));

    // config.go 66-157 `validateStackConfigValues`
    for (const declared of keys) {
        const t = project.config[declared];
        const key = parseConfigKey(project.name, declared);
        const { value } = mapGetPath(config, key);
        if (t.type === undefined) continue;
        if (t.secret && !value.secure)
            fail(`Stack '${stack}' with configuration key '${declared}' must be encrypted as it's secret`);
        const text = decryptedText(value, decrypt);
        const content: unknown = value.object ? JSON.parse(text) : text;
        if (!validateConfigValue(t.type, t.items, content))
            fail(
                `Stack '${stack}' with configuration key '${declared}' must be of type '${inferFullTypeName(t.type, t.items)}'`,
            );
    }
}

/** value.go 65-80 `Value` with a decrypter: ciphertexts decrypted, objects re-marshalled as JSON. */
export function decryptedText(v: Value, decrypt: (ciphertext: string) => string): string {
    const o = unmarshalObject(v);
    const plain = (x: CfgObject): CfgObject =>
        x instanceof Ciphertext
            ? decrypt(x.ciphertext)
            : Array.isArray(x)
              ? x.map(plain)
              : isRecord(x)
                ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, plain(y)]))
                : x;
    const p = plain(o);
    // plaintext.go 256-268 `marshalText`: strings as they are, everything else as JSON.
    return typeof p === "string" ? p : goJson(p);
}

/** map.go 104-113 `SecureKeys`. */
export const secureKeys = (config: ConfigMap) => [...config.entries()].filter(([, v]) => v.secure).map(([k]) => k);

/**
 * What `pulumi config set --path <key> <value>` stores (config.go in pkg/cmd/pulumi/config,
 * `configSetCmd.Run`: config.NewValue then Map.Set(path=true), which coerces "true", "false" and
 * decimal integers). A non-string value is stored as an object, as `pulumi config set --path
 * <key> --json`-style edits and hand-written YAML do.
 */
export function setPath(config: ConfigMap, project: string, path: string, value: unknown): void {
    const key = parseConfigKey(project, path);
    if (value === undefined) mapRemovePath(config, key);
    else if (typeof value === "string") mapSetPath(config, key, { value, secure: false, object: false });
    else mapSetPath(config, key, { value: JSON.stringify(value), secure: false, object: true });
}
