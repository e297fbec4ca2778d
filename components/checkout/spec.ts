// checkout-service's side of the contract with its image: ports, probe paths, user, drain budget
// and the environment variables it reads. app/checkout-service declares the same contract, and
// test/contract.test.ts starts the real service with the synthesized environment to compare them.
import type { ServiceSlo } from "../telemetry/slo";
export type { EgressRule } from "../service/spec";

export const CHECKOUT = {
    appName: "checkout-service",
    /** The app port: /checkout and the probes; only the Gateway's proxies may reach it. */
    port: 8080,
    /**
     * The service's metrics listener (METRICS_PORT; the container port named "metrics"): only the
     * scrapers may reach it. A port of its own because the managed collector scrapes from the private
     * subnets, where every pod's address lies too (VPC CNI): admitting those CIDRs on the app port
     * would admit every pod in the cluster to it.
     */
    metricsPort: 9464,
    /** Prometheus metrics, on `metricsPort`. */
    metricsPath: "/metrics",
    readinessPath: "/health/ready",
    livenessPath: "/health/live",
    /** The image's USER. */
    uid: 10001,
    /** Seconds the pod keeps serving after removal from endpoints, so load balancers catch up. */
    preStopSleepSeconds: 10,
    /** The service's own drain budget after SIGTERM (SHUTDOWN_TIMEOUT_SECONDS). */
    shutdownTimeoutSeconds: 25,
} as const;

/**
 * Bucket boundaries of the service's `http_request_duration_seconds` (HTTP_DURATION_BUCKETS in
 * app/checkout-service/src/metrics.ts, which test/telemetry.test.ts compares with this copy). The
 * program keeps a copy rather than importing the service's module, which loads prom-client.
 */
export const CHECKOUT_LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * checkout's SLO over 30 days, on its one business route: 99.9% of `POST /checkout` requests
 * without a 5xx, and 99% of them within 250 ms (a bucket boundary; 300 ms would match no series).
 */
export const CHECKOUT_SLO: ServiceSlo = {
    name: "checkout",
    selector: `service="${CHECKOUT.appName}",route="/checkout"`,
    availabilityTarget: 0.999,
    latencyTarget: 0.99,
    latencyThresholdSeconds: 0.25,
};

/** The literal variables the Deployment sets from its own settings. */
export const LITERAL_ENV = [
    "PORT",
    "METRICS_PORT",
    "OTEL_SERVICE_NAME",
    "DB_POOL_MAX",
    "LOG_LEVEL",
    "SHUTDOWN_TIMEOUT_SECONDS",
] as const;

/**
 * The order store's connection, read by `secretKeyRef` from the Secret an ExternalSecret writes:
 * container variable -> property of the Secrets Manager secret. The properties are those of the
 * JSON that Secrets Manager's "Credentials for Amazon RDS database" secret type stores (host, port,
 * dbname, username, password); every one must be present, or the ExternalSecret never turns Ready.
 */
export const DB_SECRET_ENV = {
    DB_HOST: "host",
    DB_PORT: "port",
    DB_NAME: "dbname",
    DB_USERNAME: "username",
    DB_PASSWORD: "password",
} as const;

/** Set when traces have a receiver in the cluster (CheckoutSettings.otlp); unset, the service traces nothing. */
export const TRACING_ENV = ["OTEL_EXPORTER_OTLP_ENDPOINT"] as const;

/** Every variable the Deployment sets itself, literal or from a Secret (extra ones may not reuse them). */
export const MANAGED_ENV = [
    ...LITERAL_ENV,
    ...TRACING_ENV,
    ...(Object.keys(DB_SECRET_ENV) as (keyof typeof DB_SECRET_ENV)[]),
] as const;

export interface EnvSettings {
    readonly dbPoolMax: number;
    readonly logLevel: string;
    readonly extraEnv: Readonly<Record<string, string>>;
    /** OTEL_EXPORTER_OTLP_ENDPOINT. @default unset: no traces */
    readonly otlpEndpoint?: string;
}

/** The container's environment: the settings the service reads, the trace receiver, then extra ones sorted by name. */
export function checkoutEnv(s: EnvSettings): Record<string, string> {
    const managed: Record<(typeof LITERAL_ENV)[number], string> = {
        PORT: String(CHECKOUT.port),
        METRICS_PORT: String(CHECKOUT.metricsPort),
        OTEL_SERVICE_NAME: CHECKOUT.appName,
        DB_POOL_MAX: String(s.dbPoolMax),
        LOG_LEVEL: s.logLevel,
        SHUTDOWN_TIMEOUT_SECONDS: String(CHECKOUT.shutdownTimeoutSeconds),
    };
    const tracing: Record<string, string> =
        s.otlpEndpoint === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: s.otlpEndpoint };
    const clash = Object.keys(s.extraEnv).filter((k) => (MANAGED_ENV as readonly string[]).includes(k));
    if (clash.length > 0) throw new Error(`extraEnv may not set ${clash.join(", ")}: the Deployment sets them itself`);
    const extra = Object.fromEntries(
        Object.keys(s.extraEnv)
            .sort()
            .map((name) => [name, s.extraEnv[name]]),
    );
    return { ...managed, ...tracing, ...extra };
}
