import * as assert from "node:assert/strict";

import { describe as describeValue, MAX_ID_LENGTH, validateCheckout } from "../src/checkout";
import { acceptableRequestId, parseContentType } from "../src/http";

const valid = { cartId: "c-1", items: [{ sku: "A", quantity: 1 }], currency: "USD" };

describe("checkout request validation (pure)", () => {
    it("returns the normalised order and drops unknown fields", () => {
        const result = validateCheckout({ ...valid, coupon: "X", items: [{ sku: "A", quantity: 1, note: "gift" }] });
        assert.deepEqual(result, { ok: true, value: valid });
    });

    const cases: Array<[string, unknown, string[]]> = [
        ["null body", null, ["body"]],
        ["string body", "order", ["body"]],
        ["cartId a number", { ...valid, cartId: 7 }, ["cartId"]],
        ["cartId too long", { ...valid, cartId: "c".repeat(MAX_ID_LENGTH + 1) }, ["cartId"]],
        ["item not an object", { ...valid, items: [valid.items[0], 3] }, ["items[1]"]],
        [
            "second item bad",
            { ...valid, items: [valid.items[0], { sku: " ", quantity: 1e20 }] },
            ["items[1].sku", "items[1].quantity"],
        ],
        ["quantity a string", { ...valid, items: [{ sku: "A", quantity: "2" }] }, ["items[0].quantity"]],
        ["currency 4 letters", { ...valid, currency: "EURO" }, ["currency"]],
        ["currency missing", { cartId: "c", items: valid.items }, ["currency"]],
        ["everything missing", {}, ["cartId", "items", "currency"]],
    ];
    for (const [name, body, fields] of cases) {
        it(`rejects ${name}, naming ${fields.join(", ")}`, () => {
            const result = validateCheckout(body);
            assert.equal(result.ok, false);
            if (!result.ok) {
                assert.deepEqual(
                    result.errors.map((e) => e.field),
                    fields,
                );
                for (const e of result.errors) {
                    assert.ok(e.message.startsWith(e.field === "body" ? "body must" : `${e.field} must`), e.message);
                    assert.match(e.message, /; got /);
                }
            }
        });
    }

    it("keeps bad values short in messages", () => {
        assert.equal(describeValue("x".repeat(100)).length, 40);
        assert.equal(describeValue({ a: 1 }), "an object");
        assert.equal(describeValue(undefined), "nothing (field missing)");
    });
});

describe("http helpers", () => {
    const contentTypes: Array<[string | undefined, ReturnType<typeof parseContentType>]> = [
        [undefined, undefined],
        ["", undefined],
        ["application/json", { type: "application/json", charset: undefined }],
        ['Application/JSON ; Charset="UTF-8"', { type: "application/json", charset: "utf-8" }],
        ["text/plain; boundary=x", { type: "text/plain", charset: undefined }],
    ];
    for (const [header, expected] of contentTypes) {
        it(`parses Content-Type ${JSON.stringify(header)}`, () => {
            assert.deepEqual(parseContentType(header), expected);
        });
    }

    const ids: Array<[string | string[] | undefined, string | undefined]> = [
        ["0af7651916cd43dd8448eb211c80319c", "0af7651916cd43dd8448eb211c80319c"],
        [["first", "second"], "first"],
        ["has space", undefined],
        ["line\nbreak", undefined],
        ["x".repeat(129), undefined],
        ["", undefined],
        [undefined, undefined],
    ];
    for (const [header, expected] of ids) {
        it(`accepts x-request-id ${JSON.stringify(header)?.slice(0, 30)} as ${String(expected)}`, () => {
            assert.equal(acceptableRequestId(header), expected);
        });
    }
});
