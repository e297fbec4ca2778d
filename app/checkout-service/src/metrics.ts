import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

/**
 * Checkout is an in-cluster API call: resolution where the SLO lives (tens of ms). The latency SLO
 * (components/telemetry) counts requests in one of these buckets, so its threshold must be one.
 */
export const HTTP_DURATION_BUCKETS: readonly number[] = Object.freeze([
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

export interface HttpMetrics {
    readonly registry: Registry;
    /** Records one finished (or aborted) request. `route` must come from the route table, never the raw path. */
    observe(labels: { method: string; route: string; status: number }, seconds: number): void;
}

/**
 * A private registry per app: the global `prom-client` register would make a second app in the
 * same process (tests, benchmarks) fail with "metric already registered".
 */
export function createMetrics(options: { serviceName: string; defaultMetrics?: boolean }): HttpMetrics {
    const registry = new Registry();
    registry.setDefaultLabels({ service: options.serviceName });

    const requests = new Counter({
        name: "http_requests_total",
        help: "HTTP requests handled, by route template, method and status code.",
        labelNames: ["route", "method", "status"] as const,
        registers: [registry],
    });
    const duration = new Histogram({
        name: "http_request_duration_seconds",
        help: "HTTP request latency from first byte read to response end, by route template, method and status code.",
        labelNames: ["route", "method", "status"] as const,
        buckets: [...HTTP_DURATION_BUCKETS],
        registers: [registry],
    });

    if (options.defaultMetrics ?? true) {
        // Process CPU, memory, event-loop lag, GC: what an HPA or an alert on saturation needs.
        collectDefaultMetrics({ register: registry });
    }

    return {
        registry,
        observe: ({ method, route, status }, seconds) => {
            const labels = { route, method, status: String(status) };
            requests.inc(labels);
            duration.observe(labels, seconds);
        },
    };
}
