// How the Pulumi CLI reads a YAML file: gopkg.in/yaml.v3 v3.0.1 (pinned in pulumi/pulumi v3.259.0
// sdk/go.mod) decoding into `any`. The test harness builds the program's config with it, and the
// program's loader uses it to match a value in the stack file with the value the engine passed. The `yaml` package parses the text (failsafe schema: every scalar
// stays the text as written, with its style and tag); this file resolves each scalar the way
// yaml.v3 does, so `1.10`, `0012`, `yes`, `2024-01-02` and an empty value mean here what they mean
// to the CLI. Sources (go-yaml/yaml at v3.0.1): resolve.go `resolve` (lines 126-265) and
// `parseTimestamp` (306-326), decode.go `scalar` (565-720; 568-571 for quoted scalars), `isStringMap` (864-876),
// `mapping` (767-783), yaml.go `indicatedString` (463-467).
import * as YAML from "yaml";

/** A number as the CLI holds it: its JSON text (what the program finally sees), int or float. */
export class GoNumber {
    constructor(
        readonly text: string,
        readonly isInt: boolean,
    ) {}
}

/** A YAML timestamp: decode.go gives a time.Time, which the CLI turns into Go's Time.String() text. */
export class GoTime {
    constructor(readonly text: string) {}
}

/** JSON-like form of a decoded value: numbers as numbers, timestamps as the CLI's text. */
export function goToPlain(v: GoValue): unknown {
    if (v instanceof GoNumber) return Number(v.text);
    if (v instanceof GoTime) return v.text;
    if (Array.isArray(v)) return v.map(goToPlain);
    if (v instanceof GoMap) return Object.fromEntries(v.entries.map((e) => [String(e.key), goToPlain(e.value)]));
    return v;
}

/** A value decoded from YAML into Go's `any`. Maps keep document order; keys may be non-strings. */
export type GoValue = null | boolean | string | GoNumber | GoTime | GoValue[] | GoMap;
export class GoMap {
    constructor(readonly entries: { key: GoValue; value: GoValue; node: YAML.Node | null }[]) {}
}

export class GoYamlError extends Error {
    override name = "GoYamlError";
}

const STR = "tag:yaml.org,2002:str";
const SHORT: Record<string, string> = {
    "tag:yaml.org,2002:null": "!!null",
    "tag:yaml.org,2002:bool": "!!bool",
    [STR]: "!!str",
    "tag:yaml.org,2002:int": "!!int",
    "tag:yaml.org,2002:float": "!!float",
    "tag:yaml.org,2002:timestamp": "!!timestamp",
    "tag:yaml.org,2002:binary": "!!binary",
};
const shortTag = (tag: string | undefined) => (tag === undefined ? "" : (SHORT[tag] ?? tag));

// resolve.go 47-61: the plain scalars found by table lookup.
const RESOLVE_MAP: Record<string, ["!!bool" | "!!null" | "!!float" | "!!merge", GoValue | "inf"]> = {};
for (const s of ["true", "True", "TRUE"]) RESOLVE_MAP[s] = ["!!bool", true];
for (const s of ["false", "False", "FALSE"]) RESOLVE_MAP[s] = ["!!bool", false];
for (const s of ["", "~", "null", "Null", "NULL"]) RESOLVE_MAP[s] = ["!!null", null];
for (const s of [".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"])
    RESOLVE_MAP[s] = ["!!float", "inf"];
RESOLVE_MAP["<<"] = ["!!merge", "<<"];

/** resolve.go 35-45: the first character decides what a plain scalar may be. */
function hint(s: string): "S" | "D" | "M" | "." | "N" | null {
    if (s === "") return "N";
    const c = s[0];
    if (c === "+" || c === "-") return "S";
    if (c >= "0" && c <= "9") return "D";
    if ("yYnNtTfFoO~".includes(c)) return "M";
    if (c === ".") return ".";
    return null;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go strconv.ParseInt(s, 0, 64) (signed) or ParseUint (unsigned): base prefixes 0x, 0o, 0b and a bare 0 (octal). */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
    if (!m || (!signed && m[1] !== "")) return undefined;
    let digits = m[2];
    if (/^0[0-7]+$/.test(digits)) digits = "0o" + digits.slice(1);
    const n = BigInt(digits.toLowerCase()) * (m[1] === "-" ? -1n : 1n);
    if (signed ? n < INT64_MIN || n > INT64_MAX : n > UINT64_MAX) return undefined;
    return n;
}

/** Go strconv.ParseFloat(s, 64) for the decimal forms yaml.v3 passes to it; out of range is an error. */
function parseGoFloat(s: string): number | undefined {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
    const f = Number(s);
    return Number.isFinite(f) ? f : undefined;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/; // resolve.go 124

/**
 * The JSON text Go's encoding/json writes for a float64 (encode.go floatEncoder): the shortest
 * round-trip digits, exponent form below 1e-6 and from 1e21, which is what JavaScript's
 * Number#toString does too. -0 cannot reach it: yaml.v3 re-reads the CLI's re-marshalled "-0" as
 * the integer 0 (see `reresolveFloat`).
 */
export function goFloatText(f: number): string {
    if (!Number.isFinite(f))
        throw new GoYamlError(`json: unsupported value: ${f > 0 ? "+Inf" : f < 0 ? "-Inf" : "NaN"}`);
    return Object.is(f, -0) ? "0" : String(f);
}

/**
 * The CLI reads a stack file, then writes it back as YAML and reads that again
 * (pulumi/pulumi v3.259.0 sdk/go/common/workspace/loaders.go 172-233, `LoadProjectStackBytes`).
 * A float goes out as strconv.FormatFloat(f, 'g', -1, 64) (yaml.v3 encode.go `floatv`) and comes
 * back as an int when that text is one (`2.0` -> "2" -> int 2). The JSON text is the same either
 * way; only int/float differs.
 */
function floatNumber(f: number): GoNumber {
    if (!Number.isFinite(f))
        throw new GoYamlError(`json: unsupported value: ${f > 0 ? "+Inf" : f < 0 ? "-Inf" : "NaN"}`);
    const whole = Number.isInteger(f) && Math.abs(f) < 1e6; // 'g' uses exponent form from 1e6: read back as a float
    return new GoNumber(goFloatText(f), whole);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * resolve.go 306-326 `parseTimestamp` with Go's time.Parse on the four layouts of 294-301, and the
 * value the CLI finally passes: the time.Time is written back as RFC3339Nano, read again, and
 * turned into text by pulumi's config object.go `unmarshalObject` (`v.String()`, line 491):
 * "2006-01-02 15:04:05.999999999 -0700 MST". A zero offset reads as UTC (the CLI's machine zone is
 * assumed to be UTC, as on CI runners); any other offset is a zone without a name, which Go prints
 * as the offset twice ("-0500 -0500").
 */
function parseTimestamp(s: string): GoTime | undefined {
    const m =
        /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:([Tt])|( ))(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(
            s,
        );
    if (!m) return undefined;
    const [, y, mo, d, t, space, h, mi, se, frac, zone] = m;
    // Layouts: date only; "T"/"t" with a zone; " " without one.
    if ((t && !zone) || (space && zone)) return undefined;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    if (month < 1 || month > 12) return undefined;
    if (day < 1 || day > (month === 2 && leap(year) ? 29 : DAYS[month - 1])) return undefined;
    const [hour, min, sec] = [h, mi, se].map((v) => Number(v ?? 0));
    if (hour > 23 || min > 59 || sec > 59) return undefined;
    let offset = 0;
    if (zone && zone !== "Z") {
        const zh = Number(zone.slice(1, 3));
        const zm = Number(zone.slice(4, 6));
        if (zh > 24 || zm > 60) return undefined;
        offset = (zone[0] === "-" ? -1 : 1) * (zh * 60 + zm);
    }
    const nanos = (frac ?? "").slice(0, 9).padEnd(9, "0").replace(/0+$/, "");
    const time = `${y}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(min)}:${pad(sec)}${nanos ? "." + nanos : ""}`;
    const off = `${offset < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
    return new GoTime(`${time} ${off} ${offset === 0 ? "UTC" : off}`);
}

/** resolve.go 126-265: the Go value of a scalar, given its explicit tag ("" if none). */
export function resolveScalar(tag: string, text: string): GoValue {
    tag = shortTag(tag);
    const resolvable = ["", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp"].includes(tag);
    if (!resolvable) return text; // a custom tag: decode.go stores the text itself in the `any`
    const [rtag, out] = resolveUntagged(tag, text);
    // resolve.go 132-151: an explicit tag must agree with what the text resolves to.
    if (tag === "" || tag === rtag || tag === "!!str") return out;
    if (tag === "!!float" && rtag === "!!int") return new GoNumber((out as GoNumber).text, false);
    throw new GoYamlError(`yaml: cannot decode ${rtag} \`${text}\` as a ${tag}`);
}

function resolveUntagged(tag: string, s: string): [string, GoValue] {
    const h = hint(s);
    if (h === null || tag === "!!str") return ["!!str", s];
    const item = RESOLVE_MAP[s];
    if (item) {
        if (item[1] === "inf") floatNumber(Infinity); // throws: no JSON text for .inf/.nan
        return [item[0], item[1] as GoValue];
    }
    if (h === ".") {
        const f = parseGoFloat(s);
        if (f !== undefined) return ["!!float", floatNumber(f)];
    } else if (h === "D" || h === "S") {
        if (tag === "" || tag === "!!timestamp") {
            const t = parseTimestamp(s);
            if (t) return ["!!timestamp", t];
        }
        const plain = s.replace(/_/g, "");
        const i = parseGoInt(plain, true) ?? parseGoInt(plain, false);
        if (i !== undefined) return ["!!int", new GoNumber(i.toString(), true)];
        if (YAML_STYLE_FLOAT.test(plain)) {
            const f = parseGoFloat(plain);
            if (f !== undefined) return ["!!float", floatNumber(f)];
        }
        // resolve.go 210-259 (0b / -0b / 0o / -0o) are already covered by ParseInt's base prefixes.
    }
    return ["!!str", s];
}

/** decode.go 568-571: quoted and block scalars, and `!!str`, are strings as written. */
function indicatedString(node: YAML.Scalar): boolean {
    if (shortTag(node.tag) === "!!str") return true;
    return (node.tag === undefined || node.tag === "!") && node.type !== "PLAIN";
}

/** Decodes one node as yaml.v3 does into `any`. */
export function decodeNode(doc: YAML.Document, node: unknown): GoValue {
    if (node === null || node === undefined) return null;
    if (YAML.isAlias(node)) return decodeNode(doc, node.resolve(doc));
    if (YAML.isScalar(node)) {
        // A plain scalar's text as written (a schema other than failsafe would already have read it).
        const text = node.type === "PLAIN" && node.source !== undefined ? node.source : String(node.value ?? "");
        return indicatedString(node) ? text : resolveScalar(node.tag ?? "", text);
    }
    if (YAML.isSeq(node)) return node.items.map((item) => decodeNode(doc, item));
    if (YAML.isMap(node)) {
        const entries: GoMap["entries"] = [];
        for (const pair of node.items) {
            const key = decodeNode(doc, pair.key);
            if (key === "<<" && YAML.isScalar(pair.key) && pair.key.type === "PLAIN")
                throw new GoYamlError("merge keys (<<) are not supported by the offline config reader");
            entries.push({ key, value: decodeNode(doc, pair.value), node: (pair.value as YAML.Node | null) ?? null });
        }
        return new GoMap(entries);
    }
    throw new GoYamlError(`unsupported YAML node ${String(node)}`);
}

/**
 * Parses a whole file as yaml.v3 would, keeping the `yaml` document (for source positions).
 * Syntax errors and duplicate keys fail as they fail the CLI.
 */
export function parseGoYaml(text: string): { doc: YAML.Document; value: GoValue; lines: YAML.LineCounter } {
    const lines = new YAML.LineCounter();
    // Strip a UTF-8 byte-order mark, as loaders.go 30-49 `readFileStripUTF8BOM` does.
    const doc = YAML.parseDocument(text.replace(/^\uFEFF/, ""), {
        schema: "failsafe",
        lineCounter: lines,
        uniqueKeys: false,
        prettyErrors: false,
    });
    if (doc.errors.length) throw new GoYamlError(`invalid YAML file: ${doc.errors[0].message.split("\n")[0]}`);
    const duplicates = duplicateKeys(doc.contents, (offset) => lines.linePos(offset).line);
    if (duplicates.length) throw new GoYamlError(`yaml: unmarshal errors:\n  ${duplicates.join("\n  ")}`);
    return { doc, value: decodeNode(doc, doc.contents), lines };
}

/**
 * decode.go 767-783: within one map, two keys of the same kind and text are an error, each pair
 * reported as "line <later>: mapping key "<text>" already defined at line <earlier>".
 */
function duplicateKeys(node: unknown, line: (offset: number) => number): string[] {
    const out: string[] = [];
    const visit = (n: unknown) => {
        if (YAML.isMap(n)) {
            const keys = n.items.map((p) => p.key as YAML.Node | null);
            keys.forEach((ki, i) => {
                for (const kj of keys.slice(i + 1)) {
                    if (YAML.isScalar(ki) && YAML.isScalar(kj) && String(ki.value) === String(kj.value))
                        out.push(
                            `line ${line(kj.range?.[0] ?? 0)}: mapping key ${JSON.stringify(String(kj.value))} already defined at line ${line(ki.range?.[0] ?? 0)}`,
                        );
                }
            });
            for (const p of n.items) visit(p.value);
        } else if (YAML.isSeq(n)) n.items.forEach(visit);
    };
    visit(node);
    return out;
}

/**
 * Go's `fmt.Sprintf("%s", key)` for a non-string map key, as SimplifyMarshalledValue reports it
 * (pulumi/pulumi v3.259.0 sdk/go/common/workspace/project.go 520-552).
 */
export function goFormatKey(key: GoValue): string {
    if (typeof key === "string") return key;
    if (key instanceof GoTime) return key.text;
    if (key === null) return "%!s(<nil>)";
    if (typeof key === "boolean") return `%!s(bool=${key})`;
    if (key instanceof GoNumber) return `%!s(${key.isInt ? "int" : "float64"}=${key.text})`;
    return "%!s(<composite>)";
}
