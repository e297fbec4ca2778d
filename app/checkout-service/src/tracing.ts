/**
 * OpenTelemetry traces over OTLP/HTTP (JSON), on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 *
 * The exporter reads the endpoint itself (OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces", or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), as the OpenTelemetry specification says; config.ts only
 * validates it and uses its presence as the switch. Spans are made by hand in src/app.ts (one
 * SERVER span per request, one CLIENT span per order-store query) rather than by
 * instrumentation-http, which patches `node:http` and only works when loaded before it.
 *
 * OpenTelemetry JS 2.x: no 3.x line of sdk-trace-node is published on npm (latest 2.12.1), and
 * @opentelemetry/id-generator-aws-xray 2.1.0 depends on sdk-trace-base ^2.0.0.
 */
import { context, propagation, trace, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { AWSXRayIdGenerator } from "@opentelemetry/id-generator-aws-xray";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

import type { Config } from "./config";

/** How long the exit waits for the last spans to be exported. */
export const FINAL_EXPORT_TIMEOUT_MS = 2000;

/** Instrumentation scope of every span this service makes. */
export const TRACER_NAME = "checkout-service";

export interface Tracing {
    readonly enabled: boolean;
    readonly tracer: Tracer;
    /**
     * Exports what is buffered, then stops; rejects when the export takes longer than
     * `finalExportTimeoutMs` (the spans are dropped). Call once the server has drained.
     */
    shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider (AsyncLocalStorage context, W3C trace-context propagation)
 * when `config.otlpEndpoint` is set; otherwise returns the API's no-op tracer, whose spans have
 * invalid ids, so logs carry no trace fields and nothing is sent.
 */
export function startTracing(
    config: Pick<Config, "serviceName" | "otlpEndpoint">,
    finalExportTimeoutMs: number = FINAL_EXPORT_TIMEOUT_MS,
): Tracing {
    if (config.otlpEndpoint === undefined) {
        return { enabled: false, tracer: trace.getTracer(TRACER_NAME), shutdown: async () => undefined };
    }
    const provider = new NodeTracerProvider({
        // X-Ray ids (first 4 bytes = Unix seconds now) instead of random ones: the CloudWatch agent's
        // awsxray exporter (amazon-contributing/opentelemetry-collector-contrib,
        // exporter/awsxrayexporter/internal/translator/segment.go, convertToAmazonTraceID) rejects a
        // trace id whose first 4 bytes, as big-endian seconds, are over 28 days old or over 5 minutes
        // ahead, unless the exporter.awsxray.skiptimestampvalidation gate is on (the agent does not
        // turn it on); extractResourceSpans (awsxray.go) then drops the span with only a debug log.
        idGenerator: new AWSXRayIdGenerator(),
        resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName })),
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    });
    provider.register();
    return {
        enabled: true,
        tracer: provider.getTracer(TRACER_NAME),
        shutdown: async () => {
            // The agent is on the pod's own node and answers in milliseconds. When it does not answer
            // at all, the exporter would retry for its whole 10 s timeout and hold up the pod's exit
            // (and the rollout) for spans that are lost anyway; give the final export this long.
            let timer: NodeJS.Timeout | undefined;
            const gaveUp = new Promise<"gave up">((resolve) => {
                timer = setTimeout(() => resolve("gave up"), finalExportTimeoutMs);
            });
            const outcome = await Promise.race([provider.shutdown().then(() => "exported" as const), gaveUp]);
            clearTimeout(timer);
            // Leave the process as found (tests start and stop tracing several times).
            trace.disable();
            context.disable();
            propagation.disable();
            if (outcome === "gave up")
                throw new Error(`the final export did not finish within ${finalExportTimeoutMs} ms`);
        },
    };
}
