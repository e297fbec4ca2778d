import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { createApp } from "../src/app";
import { forceStop, gate, postCheckout, request, startApp, stop, testConfig, type Running } from "./helpers";

const validOrder = { cartId: "cart-42", items: [{ sku: "SKU-1", quantity: 2 }], currency: "EUR" };

describe("checkout-service HTTP routes", () => {
    let running: Running | undefined;
    afterEach(async () => {
        await stop(running);
        running = undefined;
    });

    describe("health", () => {
        it("GET /health/live answers 200", async () => {
            running = await startApp();
            const res = await request(running.port, "/health/live");
            assert.equal(res.status, 200);
            assert.deepEqual(res.json(), { status: "alive" });
        });

        it("GET /health/ready answers 200 once start-up has finished", async () => {
            running = await startApp();
            const res = await request(running.port, "/health/ready");
            assert.equal(res.status, 200);
            assert.deepEqual(res.json(), { status: "ready" });
        });

        it("GET /health/ready answers 503 while start-up work runs, liveness 200 meanwhile", async () => {
            const warmUp = gate();
            const app = createApp(testConfig(), {
                defaultMetrics: false,
                logSink: () => undefined,
                startup: warmUp.wait,
            });
            const listening = app.listen(0, "127.0.0.1");
            await warmUp.entered;
            const port = (app.server.address() as { port: number }).port;
            try {
                const before = await request(port, "/health/ready");
                assert.equal(before.status, 503);
                assert.deepEqual(before.json(), { status: "starting" });
                assert.equal((await request(port, "/health/live")).status, 200);

                warmUp.release();
                await listening;
                assert.equal((await request(port, "/health/ready")).status, 200);
            } finally {
                warmUp.release();
                await forceStop(app);
            }
        });

        it("HEAD on a GET route answers with the status and no body", async () => {
            running = await startApp();
            const res = await request(running.port, "/health/live", { method: "HEAD" });
            assert.equal(res.status, 200);
            assert.equal(res.text, "");
        });
    });

    describe("unknown routes and wrong methods", () => {
        it("answers 404 with a JSON error for an unknown path", async () => {
            running = await startApp();
            const res = await request(running.port, "/nope");
            assert.equal(res.status, 404);
            assert.equal(res.json().error, "not_found");
            assert.match(String(res.json().message), /\/nope/);
        });

        it("matches the path without its query string", async () => {
            running = await startApp();
            assert.equal((await request(running.port, "/health/live?probe=1")).status, 200);
        });

        const wrongMethods: Array<[string, string, string]> = [
            ["POST", "/health/live", "GET, HEAD"],
            ["DELETE", "/health/ready", "GET, HEAD"],
            ["GET", "/checkout", "POST"],
        ];
        for (const [method, path, allow] of wrongMethods) {
            it(`answers 405 with Allow: ${allow} for ${method} ${path}`, async () => {
                running = await startApp();
                const res = await request(running.port, path, { method });
                assert.equal(res.status, 405);
                assert.equal(res.headers.allow, allow);
                assert.equal(res.json().error, "method_not_allowed");
            });
        }
    });

    describe("POST /checkout", () => {
        it("answers 201 with an order id for a valid order", async () => {
            running = await startApp();
            const res = await postCheckout(running.port, validOrder);
            assert.equal(res.status, 201);
            const body = res.json();
            assert.match(String(body.orderId), /^[0-9a-f-]{36}$/);
            assert.equal(body.status, "accepted");
            assert.equal(body.cartId, "cart-42");
            assert.equal(body.itemCount, 1);
        });

        it("passes the validated order and the request id to the order store", async () => {
            const seen: unknown[] = [];
            running = await startApp({
                placeOrder: async (order, ctx) => {
                    seen.push({ order, requestId: ctx.requestId });
                    return { orderId: "order-7" };
                },
            });
            const res = await postCheckout(
                running.port,
                { ...validOrder, extra: "ignored" },
                { "x-request-id": "req-1" },
            );
            assert.equal(res.status, 201);
            assert.equal(res.json().orderId, "order-7");
            assert.deepEqual(seen, [{ order: validOrder, requestId: "req-1" }]);
        });

        it("accepts application/json with charset=utf-8", async () => {
            running = await startApp();
            const res = await postCheckout(running.port, validOrder, {
                "content-type": "Application/JSON; charset=UTF-8",
            });
            assert.equal(res.status, 201);
        });

        const badBodies: Array<[string, unknown, string, RegExp]> = [
            [
                "cartId missing",
                { ...validOrder, cartId: undefined },
                "cartId",
                /cartId must be a non-empty string.*field missing/,
            ],
            ["cartId empty", { ...validOrder, cartId: "" }, "cartId", /cartId must be a non-empty string.*got ""/],
            ["items empty", { ...validOrder, items: [] }, "items", /items must be a non-empty array.*empty array/],
            [
                "items not an array",
                { ...validOrder, items: "SKU-1" },
                "items",
                /items must be a non-empty array.*got "SKU-1"/,
            ],
            [
                "quantity zero",
                { ...validOrder, items: [{ sku: "a", quantity: 0 }] },
                "items[0].quantity",
                /positive integer; got 0/,
            ],
            [
                "quantity fractional",
                { ...validOrder, items: [{ sku: "a", quantity: 1.5 }] },
                "items[0].quantity",
                /positive integer; got 1.5/,
            ],
            [
                "sku missing",
                { ...validOrder, items: [{ quantity: 1 }] },
                "items[0].sku",
                /items\[0\]\.sku must be a non-empty string/,
            ],
            ["currency lowercase", { ...validOrder, currency: "eur" }, "currency", /3-letter uppercase.*got "eur"/],
            ["body an array", [validOrder], "body", /body must be a JSON object; got an array/],
        ];
        for (const [name, body, field, message] of badBodies) {
            it(`answers 400 naming ${field} when ${name}`, async () => {
                running = await startApp();
                const res = await postCheckout(running.port, body);
                assert.equal(res.status, 400);
                assert.equal(res.json().error, "invalid_request");
                assert.equal(res.json().field, field);
                assert.match(String(res.json().message), message);
            });
        }

        it("answers 400 listing every bad field at once", async () => {
            running = await startApp();
            const res = await postCheckout(running.port, { items: [{ sku: "a", quantity: -1 }], currency: "EURO" });
            assert.equal(res.status, 400);
            const fields = (res.json().errors as Array<{ field: string }>).map((e) => e.field);
            assert.deepEqual(fields, ["cartId", "items[0].quantity", "currency"]);
        });

        it("answers 400 invalid_json for a body that is not JSON", async () => {
            running = await startApp();
            const res = await postCheckout(running.port, "{not json");
            assert.equal(res.status, 400);
            assert.equal(res.json().error, "invalid_json");
            assert.match(String(res.json().message), /^body is not valid JSON/);
        });

        for (const contentType of [
            undefined,
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin1",
        ]) {
            it(`answers 415 for Content-Type ${String(contentType)}`, async () => {
                running = await startApp();
                const headers: http.OutgoingHttpHeaders =
                    contentType === undefined ? {} : { "content-type": contentType };
                const res = await request(running.port, "/checkout", {
                    method: "POST",
                    headers,
                    body: JSON.stringify(validOrder),
                });
                assert.equal(res.status, 415);
                assert.equal(res.json().error, "unsupported_media_type");
                assert.match(String(res.json().message), /Content-Type must be application\/json/);
            });
        }

        it("answers 413 to a declared Content-Length over the limit, and closes the connection", async () => {
            let called = false;
            running = await startApp({
                bodyLimitBytes: 1024,
                placeOrder: async () => {
                    called = true;
                    return { orderId: "x" };
                },
            });
            const res = await postCheckout(running.port, { ...validOrder, padding: "x".repeat(2000) });
            assert.equal(res.status, 413);
            assert.equal(res.headers.connection, "close");
            assert.equal(res.json().error, "payload_too_large");
            assert.equal(called, false);
        });

        it("answers 413 to a chunked body once it passes the limit, before the client finished sending", async () => {
            running = await startApp({ bodyLimitBytes: 1024 });
            const port = running.port;
            // Send 2 KiB in chunks and never end the request: only an early answer can complete this.
            const res = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
                const req = http.request(
                    {
                        host: "127.0.0.1",
                        port,
                        path: "/checkout",
                        method: "POST",
                        agent: false,
                        headers: { "content-type": "application/json" },
                    },
                    (r) => {
                        resolve({ status: r.statusCode ?? 0, connection: r.headers.connection });
                        r.resume();
                        req.destroy();
                    },
                );
                req.on("error", (err: NodeJS.ErrnoException) => {
                    // The server closing mid-upload is expected once the answer arrived.
                    if (err.code !== "ECONNRESET" && err.code !== "EPIPE") {
                        reject(err);
                    }
                });
                req.write("x".repeat(1024));
                req.write("x".repeat(1024));
            });
            assert.equal(res.status, 413);
            assert.equal(res.connection, "close");
        });

        it("accepts a body exactly at the limit", async () => {
            const body = JSON.stringify(validOrder);
            running = await startApp({ bodyLimitBytes: Buffer.byteLength(body) });
            assert.equal((await postCheckout(running.port, body)).status, 201);
        });

        it("answers 500 without leaking the error when the order store fails", async () => {
            running = await startApp({
                placeOrder: async () => {
                    throw new Error("db password is hunter2");
                },
            });
            const res = await postCheckout(running.port, validOrder);
            assert.equal(res.status, 500);
            assert.equal(res.json().error, "internal_error");
            assert.doesNotMatch(res.text, /hunter2/);
            assert.ok(
                running.logs.some((l) => l.msg === "unhandled error"),
                "the failure is logged",
            );
        });
    });

    describe("request ids and logs", () => {
        it("echoes a well-formed incoming x-request-id and logs one line with it", async () => {
            running = await startApp();
            const res = await request(running.port, "/health/live", { headers: { "x-request-id": "abc-123" } });
            assert.equal(res.headers["x-request-id"], "abc-123");
            const lines = running.logs.filter((l) => l.msg === "request");
            assert.equal(lines.length, 1);
            assert.equal(lines[0]?.requestId, "abc-123");
            assert.equal(lines[0]?.route, "/health/live");
            assert.equal(lines[0]?.status, 200);
            assert.equal(lines[0]?.service, "checkout-test");
            assert.equal(lines[0]?.level, "info");
        });

        it("generates a request id when none (or a malformed one) is sent", async () => {
            running = await startApp();
            const plain = await request(running.port, "/health/live");
            const hostile = await request(running.port, "/health/live", { headers: { "x-request-id": 'a b"}' } });
            for (const res of [plain, hostile]) {
                assert.match(String(res.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
            }
            assert.notEqual(plain.headers["x-request-id"], hostile.headers["x-request-id"]);
        });

        it("writes every log line as one JSON object with time and level", async () => {
            const lines: string[] = [];
            running = await startApp({ logSink: (l) => lines.push(l) });
            await postCheckout(running.port, validOrder);
            assert.ok(lines.length >= 3, `expected listening, ready and request lines; got ${lines.length}`);
            for (const line of lines) {
                assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"), `one line each: ${line}`);
                const record = JSON.parse(line) as Record<string, unknown>;
                assert.match(String(record.time), /^\d{4}-\d\d-\d\dT/);
                assert.ok(["debug", "info", "warn", "error"].includes(String(record.level)));
            }
        });

        it("drops request lines below LOG_LEVEL", async () => {
            running = await startApp({}, { logLevel: "warn" });
            await request(running.port, "/health/live");
            assert.deepEqual(running.logs, []);
        });
    });

    describe("GET /metrics", () => {
        it("exposes the request counter and latency histogram by route and status", async () => {
            running = await startApp();
            await postCheckout(running.port, validOrder);
            await postCheckout(running.port, { ...validOrder, currency: "x" });
            await request(running.port, "/no/such/path");
            const res = await request(running.metricsPort, "/metrics");
            assert.equal(res.status, 200);
            assert.match(String(res.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
            const text = res.text;
            assert.match(text, /^# TYPE http_requests_total counter$/m);
            assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
            assert.match(
                text,
                /^http_requests_total\{route="\/checkout",method="POST",status="201",service="checkout-test"\} 1$/m,
            );
            assert.match(
                text,
                /^http_requests_total\{route="\/checkout",method="POST",status="400",service="checkout-test"\} 1$/m,
            );
            assert.match(
                text,
                /^http_request_duration_seconds_count\{[^}]*route="\/checkout"[^}]*status="201"[^}]*\} 1$/m,
            );
            // Unknown paths share one label value so scanners cannot blow up cardinality.
            assert.match(
                text,
                /^http_requests_total\{route="unmatched",method="GET",status="404",service="checkout-test"\} 1$/m,
            );
            assert.doesNotMatch(text, /no\/such\/path/);
        });

        it("is served on the metrics port only: the app port answers 404 for /metrics", async () => {
            running = await startApp();
            assert.notEqual(running.metricsPort, running.port);
            const onApp = await request(running.port, "/metrics");
            assert.equal(onApp.status, 404);
            assert.equal(onApp.json().error, "not_found");
            assert.doesNotMatch(onApp.text, /http_requests_total/);
            assert.equal((await request(running.metricsPort, "/metrics")).status, 200);
        });

        it("serves nothing else on the metrics port: the app's routes 404, other methods 405", async () => {
            running = await startApp();
            for (const path of ["/health/ready", "/health/live", "/checkout", "/"]) {
                assert.equal((await request(running.metricsPort, path)).status, 404, path);
            }
            const put = await request(running.metricsPort, "/metrics", { method: "PUT" });
            assert.equal(put.status, 405);
            assert.equal(put.headers.allow, "GET, HEAD");
            const head = await request(running.metricsPort, "/metrics?x=1", { method: "HEAD" });
            assert.equal(head.status, 200);
            assert.equal(head.text, "");
        });

        it("does not count, trace or log scrapes as requests", async () => {
            running = await startApp();
            await request(running.metricsPort, "/metrics");
            const res = await request(running.metricsPort, "/metrics");
            assert.doesNotMatch(res.text, /route="\/metrics"/);
            assert.deepEqual(
                running.logs.filter((l) => l.msg === "request"),
                [],
            );
        });

        it("refuses to start when the metrics port is taken, and releases the app port", async () => {
            const blocker = http.createServer();
            await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
            const taken = (blocker.address() as { port: number }).port;
            const app = createApp(testConfig({ metricsPort: taken }), {
                defaultMetrics: false,
                logSink: () => undefined,
            });
            try {
                await assert.rejects(app.listen(0, "127.0.0.1"), /EADDRINUSE/);
                assert.equal(app.server.listening, false);
            } finally {
                await forceStop(app);
                await new Promise((r) => blocker.close(r));
            }
        });

        it("keeps a private registry per app, and includes process metrics by default", async () => {
            const a = createApp(testConfig(), { logSink: () => undefined });
            const b = createApp(testConfig(), { logSink: () => undefined });
            assert.notEqual(a.registry, b.registry);
            assert.match(await a.registry.metrics(), /^process_cpu_user_seconds_total\{service="checkout-test"\} /m);
            await Promise.all([a.shutdown(), b.shutdown()]);
        });
    });

    describe("filesystem", () => {
        it("never touches the filesystem from src/ (read-only root filesystem; logs go to stdout)", () => {
            const srcDir = path.resolve(__dirname, "..", "src");
            const files = fs.readdirSync(srcDir).filter((f) => f.endsWith(".ts"));
            assert.ok(files.includes("app.ts"), `expected the sources in ${srcDir}`);
            for (const file of files) {
                const source = fs.readFileSync(path.join(srcDir, file), "utf8");
                assert.doesNotMatch(source, /from "(node:)?fs(\/promises)?"|require\("(node:)?fs/, file);
            }
        });
    });
});
