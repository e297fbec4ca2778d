/**
 * Traces end to end: the real entrypoint in a child process exports its spans over OTLP/HTTP to a
 * receiver in this test (a real HTTP server on 127.0.0.1 that decodes what arrives), and its log
 * lines carry the ids of those spans. Without OTEL_EXPORTER_OTLP_ENDPOINT nothing is traced.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";

import { FINAL_EXPORT_TIMEOUT_MS, startTracing } from "../src/tracing";
import { postCheckout, request, killedAfterEach, freePort } from "./helpers";

const appDir = path.resolve(__dirname, "..");
const main = path.join(appDir, "src", "main.ts");
const SERVICE = "checkout-trace-test";
const ORDER = { cartId: "cart-1", items: [{ sku: "sku-1", quantity: 1 }], currency: "EUR" };

interface OtlpAttribute {
    readonly key: string;
    readonly value: { readonly stringValue?: string; readonly intValue?: number | string };
}
interface OtlpSpan {
    readonly traceId: string;
    readonly spanId: string;
    readonly parentSpanId?: string;
    readonly name: string;
    readonly kind: number;
    readonly attributes?: readonly OtlpAttribute[];
    readonly status?: { readonly code?: number };
}
interface ExportTraceServiceRequest {
    readonly resourceSpans: ReadonlyArray<{
        readonly resource?: { readonly attributes?: readonly OtlpAttribute[] };
        readonly scopeSpans: ReadonlyArray<{
            readonly scope?: { readonly name?: string };
            readonly spans: readonly OtlpSpan[];
        }>;
    }>;
}

/** An OTLP/HTTP receiver (JSON encoding, the one the service's exporter sends): records every request. */
async function startReceiver(): Promise<{
    url: string;
    received: Array<{ path: string; contentType: string; body: ExportTraceServiceRequest }>;
    close: () => Promise<void>;
}> {
    const received: Array<{ path: string; contentType: string; body: ExportTraceServiceRequest }> = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            received.push({
                path: req.url ?? "",
                contentType: req.headers["content-type"] ?? "",
                body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ExportTraceServiceRequest,
            });
            res.writeHead(200, { "content-type": "application/json" }).end("{}");
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        received,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

function spansOf(received: ReadonlyArray<{ body: ExportTraceServiceRequest }>): OtlpSpan[] {
    return received.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
}

function attribute(attrs: readonly OtlpAttribute[] | undefined, key: string): string | number | undefined {
    const value = attrs?.find((a) => a.key === key)?.value;
    return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
}

describe("tracing (OTLP/HTTP export from the real entrypoint)", function () {
    this.timeout(30_000);
    const children = killedAfterEach();

    async function runService(env: Record<string, string>): Promise<{
        port: number;
        logs: () => Array<Record<string, unknown>>;
        stop: () => Promise<number | null>;
    }> {
        const port = await freePort();
        const metricsPort = await freePort();
        const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), main], {
            cwd: appDir,
            env: {
                PATH: process.env.PATH ?? "",
                OTEL_SERVICE_NAME: SERVICE,
                DB_POOL_MAX: "2",
                PORT: String(port),
                METRICS_PORT: String(metricsPort),
                ...env,
            },
            stdio: ["ignore", "pipe", "inherit"],
        });
        children.push(child);
        let out = "";
        child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        const logs = () =>
            out
                .split("\n")
                .filter((l) => l.trim() !== "")
                .map((l) => JSON.parse(l) as Record<string, unknown>);
        while (!logs().some((l) => l.msg === "ready")) {
            if (child.exitCode !== null) {
                throw new Error(`service exited ${child.exitCode}: ${out}`);
            }
            await new Promise((r) => setTimeout(r, 50));
        }
        return {
            port,
            logs,
            stop: async () => {
                child.kill("SIGTERM");
                return exited;
            },
        };
    }

    it("exports a SERVER span per request with service.name, and the request's log line carries its trace and span ids", async () => {
        const receiver = await startReceiver();
        try {
            const service = await runService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
            assert.equal((await postCheckout(service.port, ORDER)).status, 201);
            // Sent while SIGTERM drains: the batch is still buffered, so this proves the final flush.
            assert.equal(await service.stop(), 0);

            const line = service.logs().find((l) => l.msg === "request" && l.route === "/checkout");
            assert.match(String(line?.trace_id), /^[0-9a-f]{32}$/);
            assert.match(String(line?.span_id), /^[0-9a-f]{16}$/);

            assert.ok(receiver.received.length > 0, "nothing reached the receiver");
            assert.ok(receiver.received.every((r) => r.path === "/v1/traces" && r.contentType === "application/json"));
            const exported = receiver.received.flatMap((r) =>
                r.body.resourceSpans.flatMap((rs) =>
                    rs.scopeSpans.flatMap((ss) =>
                        ss.spans.map((span) => ({ span, service: attribute(rs.resource?.attributes, "service.name") })),
                    ),
                ),
            );
            const found = exported.find((e) => e.span.traceId === line?.trace_id && e.span.spanId === line?.span_id);
            assert.ok(
                found,
                `no exported span has the logged ids; got ${JSON.stringify(exported.map((e) => e.span.traceId))}`,
            );
            assert.equal(found.service, SERVICE);
            assert.equal(found.span.name, "POST /checkout");
            assert.equal(found.span.kind, 2, "SPAN_KIND_SERVER");
            assert.equal(attribute(found.span.attributes, "http.route"), "/checkout");
            assert.equal(attribute(found.span.attributes, "http.response.status_code"), 201);
            assert.equal(found.span.parentSpanId ?? "", "", "a request without traceparent starts a trace");
        } finally {
            await receiver.close();
        }
    });

    // The CloudWatch agent's awsxray exporter drops every span whose trace id does not start with the
    // current Unix time in seconds (8 hex digits, 28 days back to 5 minutes ahead): src/tracing.ts.
    // A random id (the SDK's default generator) lands in this test's few seconds with odds of ~1e-9.
    it("starts new traces with X-Ray trace ids: the first 8 hex digits are the Unix seconds of the request", async () => {
        const receiver = await startReceiver();
        const slackSeconds = 5;
        try {
            const service = await runService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
            const startSeconds = Math.floor(Date.now() / 1000);
            for (let i = 0; i < 3; i++) {
                assert.equal((await postCheckout(service.port, { ...ORDER, cartId: `cart-${i}` })).status, 201);
                assert.equal((await request(service.port, "/health/ready")).status, 200);
            }
            assert.equal(await service.stop(), 0);
            const endSeconds = Math.ceil(Date.now() / 1000);

            const spans = spansOf(receiver.received);
            assert.equal(spans.length, 6, `one SERVER span per request; got ${spans.map((s) => s.name).join(", ")}`);
            for (const span of spans) {
                assert.match(span.traceId, /^[0-9a-f]{32}$/);
                const seconds = Number.parseInt(span.traceId.slice(0, 8), 16);
                assert.ok(
                    seconds >= startSeconds - slackSeconds && seconds <= endSeconds + slackSeconds,
                    `trace id ${span.traceId} of ${span.name} starts with ${seconds} s ` +
                        `(${new Date(seconds * 1000).toISOString()}); expected ${startSeconds}..${endSeconds} ± ${slackSeconds}`,
                );
            }
            // The 96 bits after the timestamp are still random: six requests, six traces.
            assert.equal(new Set(spans.map((s) => s.traceId)).size, 6);
        } finally {
            await receiver.close();
        }
    });

    // The X-Ray generator only makes ids for new traces: a caller's id is kept as sent, even one that
    // is not an X-Ray id (this one starts with a 2010 timestamp, which the agent would drop).
    it("continues the caller's trace from a W3C traceparent header", async () => {
        const receiver = await startReceiver();
        const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const parent = "00f067aa0ba902b7";
        try {
            const service = await runService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
            const reply = await request(service.port, "/health/ready", {
                headers: { traceparent: `00-${traceId}-${parent}-01` },
            });
            assert.equal(reply.status, 200);
            assert.equal(await service.stop(), 0);
            const span = spansOf(receiver.received).find((s) => s.name === "GET /health/ready");
            assert.equal(span?.traceId, traceId);
            assert.equal(span?.parentSpanId, parent);
            assert.equal(service.logs().find((l) => l.msg === "request")?.trace_id, traceId);
        } finally {
            await receiver.close();
        }
    });

    it("gives up the final export when the receiver never answers, and says so", async () => {
        // Accepts connections and never answers: the exporter alone would retry for its 10 s timeout
        // and then drop the batch without a word. In-process, with a shorter bound than main.ts's.
        const sockets: net.Socket[] = [];
        const silent = net.createServer((socket) => void sockets.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
        try {
            const { port } = silent.address() as net.AddressInfo;
            // The exporter reads the endpoint from the environment, as in the container.
            process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
            const tracing = startTracing(
                { serviceName: SERVICE, otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT },
                200,
            );
            tracing.tracer.startSpan("POST /checkout").end();
            await assert.rejects(tracing.shutdown(), { message: "the final export did not finish within 200 ms" });
            assert.ok(sockets.length > 0, "the exporter never connected");
            assert.equal(FINAL_EXPORT_TIMEOUT_MS, 2000, "main.ts gives the final export 2 s");
        } finally {
            if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
            else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
            sockets.forEach((s) => s.destroy());
            await new Promise<void>((resolve) => silent.close(() => resolve()));
        }
    });

    it("is off without OTEL_EXPORTER_OTLP_ENDPOINT: it says so, and no log line carries trace ids", async () => {
        const service = await runService({});
        assert.equal((await postCheckout(service.port, ORDER)).status, 201);
        assert.equal(await service.stop(), 0);
        const logs = service.logs();
        assert.ok(logs.some((l) => l.msg === "tracing: off (OTEL_EXPORTER_OTLP_ENDPOINT unset)"));
        assert.ok(logs.some((l) => l.msg === "request"));
        assert.deepEqual(
            logs.filter((l) => "trace_id" in l || "span_id" in l),
            [],
        );
    });
});
