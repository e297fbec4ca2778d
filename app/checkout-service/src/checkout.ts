/** The POST /checkout request: its shape, its validation, and the order it produces. Pure; no I/O. */

export interface CheckoutItem {
    readonly sku: string;
    readonly quantity: number;
}

export interface CheckoutRequest {
    readonly cartId: string;
    readonly items: readonly CheckoutItem[];
    /** ISO 4217 alphabetic code, e.g. EUR. */
    readonly currency: string;
}

export interface FieldError {
    /** Path of the offending field, e.g. `items[2].quantity`; `body` for the document itself. */
    readonly field: string;
    readonly message: string;
}

export type Validation =
    | { readonly ok: true; readonly value: CheckoutRequest }
    | { readonly ok: false; readonly errors: readonly FieldError[] };

/** Identifiers end up in logs and downstream keys; a bound keeps both sane. */
export const MAX_ID_LENGTH = 128;

/**
 * Checks a parsed JSON body and returns every problem, each naming its field, the bad value and
 * what is allowed. Fields the schema does not know are ignored (forward compatibility for clients
 * that are deployed before the service).
 */
export function validateCheckout(body: unknown): Validation {
    if (!isObject(body)) {
        return fail([{ field: "body", message: `body must be a JSON object; got ${describe(body)}` }]);
    }
    const errors: FieldError[] = [];

    checkId(errors, "cartId", body.cartId);

    const items = body.items;
    if (!Array.isArray(items) || items.length === 0) {
        errors.push({
            field: "items",
            message: `items must be a non-empty array of {sku, quantity}; got ${describe(items)}`,
        });
    } else {
        items.forEach((item: unknown, i) => {
            const path = `items[${i}]`;
            if (!isObject(item)) {
                errors.push({
                    field: path,
                    message: `${path} must be an object {sku, quantity}; got ${describe(item)}`,
                });
                return;
            }
            checkId(errors, `${path}.sku`, item.sku);
            const q = item.quantity;
            if (typeof q !== "number" || !Number.isSafeInteger(q) || q < 1) {
                errors.push({
                    field: `${path}.quantity`,
                    message: `${path}.quantity must be a positive integer; got ${describe(q)}`,
                });
            }
        });
    }

    const currency = body.currency;
    if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) {
        errors.push({
            field: "currency",
            message: `currency must be a 3-letter uppercase ISO 4217 code such as "EUR"; got ${describe(currency)}`,
        });
    }

    if (errors.length > 0) {
        return fail(errors);
    }
    return {
        ok: true,
        value: {
            cartId: body.cartId as string,
            items: (items as Array<{ sku: string; quantity: number }>).map(({ sku, quantity }) => ({ sku, quantity })),
            currency: currency as string,
        },
    };
}

function checkId(errors: FieldError[], field: string, value: unknown): void {
    if (typeof value !== "string" || value.trim() === "" || value.length > MAX_ID_LENGTH) {
        errors.push({
            field,
            message: `${field} must be a non-empty string of at most ${MAX_ID_LENGTH} characters; got ${describe(value)}`,
        });
    }
}

function fail(errors: FieldError[]): Validation {
    return { ok: false, errors };
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short, log-safe rendering of a bad value: type for containers, truncated JSON for scalars. */
export function describe(value: unknown): string {
    if (value === undefined) {
        return "nothing (field missing)";
    }
    if (Array.isArray(value)) {
        return value.length === 0 ? "an empty array" : "an array";
    }
    if (value !== null && typeof value === "object") {
        return "an object";
    }
    const json = JSON.stringify(value);
    return json.length > 40 ? `${json.slice(0, 37)}...` : json;
}
