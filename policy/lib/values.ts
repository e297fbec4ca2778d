/**
 * Reading resource properties the same way in every view a rule can be run in:
 *
 * - the live engine (`pulumi preview/up --policy-pack`): props arrive wrapped in a proxy that
 *   throws `UnknownValueError` when a value is not known yet (computed from another resource
 *   during a preview);
 * - the offline runner (mock recorder): plain data, where an unknown value may show up as the
 *   engine's wire sentinel string or as the SDK's `Unknown` object (mocks in preview mode).
 *
 * `plain()` turns either into plain data in which every unknown is the `UNKNOWN` symbol, so rules
 * can tell "not set" (`undefined`: the default applies, which may be a violation) from "not
 * known yet" (`UNKNOWN`: skip that check, never fail on it).
 */
import { UnknownValueError } from "@pulumi/policy";
import { isUnknown as isPulumiUnknown } from "@pulumi/pulumi";

export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/** The string the engine sends for "unknown during preview" (`@pulumi/pulumi` runtime `unknownValue`). */
export const PULUMI_UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The typed variants @pulumi/policy's deserializer can produce (bool, number, string, array, asset, archive, object). */
const SENTINELS = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    PULUMI_UNKNOWN_SENTINEL,
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

export type Rec = Record<string, unknown>;

export function isUnknown(v: unknown): v is Unknown {
    return v === UNKNOWN;
}

function isRawUnknown(v: unknown): boolean {
    return (typeof v === "string" && SENTINELS.has(v)) || (typeof v === "object" && v !== null && isPulumiUnknown(v));
}

function isPlainObject(v: unknown): v is Rec {
    if (typeof v !== "object" || v === null) return false;
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

/** Reads `obj[key]` through the engine's proxy; an unknown value becomes `UNKNOWN` instead of throwing. */
function read(obj: object, key: string | number): unknown {
    try {
        const v = (obj as Record<string | number, unknown>)[key];
        return isRawUnknown(v) ? UNKNOWN : v;
    } catch (e) {
        if (e instanceof UnknownValueError) return UNKNOWN;
        throw e;
    }
}

/** A deep plain copy of resource props in which every unknown value is `UNKNOWN`. */
export function plain(value: unknown): unknown {
    if (isRawUnknown(value)) return UNKNOWN;
    if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (let i = 0; i < value.length; i++) out.push(plain(read(value, i)));
        return out;
    }
    if (isPlainObject(value)) {
        const out: Rec = {};
        for (const key of Object.keys(value)) {
            const v = plain(read(value, key));
            if (v !== undefined) out[key] = v;
        }
        return out;
    }
    return value;
}

/** `obj.a.b.c`: `UNKNOWN` if anything on the way is unknown, `undefined` if anything is missing. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
    let cur = obj;
    for (const key of path) {
        if (cur === UNKNOWN) return UNKNOWN;
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[key];
    }
    return cur;
}

export function isRecord(v: unknown): v is Rec {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The elements of an array value, or `[]` when absent (unknown arrays stay `UNKNOWN`). */
export function list(v: unknown): unknown[] | Unknown {
    if (v === UNKNOWN) return UNKNOWN;
    return Array.isArray(v) ? v : [];
}

/** Known string elements of a string list; `UNKNOWN` if the list or any element is unknown. */
export function stringList(v: unknown): string[] | Unknown | undefined {
    if (v === UNKNOWN) return UNKNOWN;
    if (!Array.isArray(v)) return undefined;
    if (v.some((x) => x === UNKNOWN)) return UNKNOWN;
    return v.filter((x): x is string => typeof x === "string");
}

export function containsUnknown(v: unknown): boolean {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(containsUnknown);
    if (isRecord(v)) return Object.values(v).some(containsUnknown);
    return false;
}

export type JsonDoc = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Policy documents and add-on configuration are JSON strings in the AWS SDK (`assumeRolePolicy`,
 * `policy`, `configurationValues`). Objects are accepted too (a mock may record them unserialised).
 */
export function jsonDoc(v: unknown): JsonDoc | Unknown | undefined {
    if (v === UNKNOWN) return UNKNOWN;
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v === "string") {
        try {
            return { ok: true, value: JSON.parse(v) };
        } catch (e) {
            return { ok: false, error: (e as Error).message };
        }
    }
    return { ok: true, value: v };
}

/** A value for a message: strings quoted, the rest as JSON, unknowns spelled out. */
export function show(v: unknown): string {
    if (v === UNKNOWN) return "(unknown)";
    if (v === undefined) return "(not set)";
    return JSON.stringify(v);
}
