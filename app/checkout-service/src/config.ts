/**
 * Settings from the environment: the only place the service reads `process.env`.
 *
 * `ENV_VARS` is the contract with the Kubernetes Deployment (components/checkout): the
 * Deployment must set every required variable and should set nothing the service does not read.
 * A contract test compares the two, so keep this list and `loadConfig` in step.
 */

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The port the container listens on; the Deployment names it "http". */
export const DEFAULT_PORT = 8080;

/**
 * The port `/metrics` is served on, and nothing else; the Deployment names it "metrics". A listener
 * of its own so that a NetworkPolicy can admit the scrapers on it without opening the app port to
 * them. 9464 is the port the OpenTelemetry Prometheus exporter uses by default, so it is already
 * reserved for metrics wherever the OpenTelemetry conventions are followed.
 */
export const DEFAULT_METRICS_PORT = 9464;

export const DB_SSL_MODES = ["disable", "require", "verify-full"] as const;
export type DbSslMode = (typeof DB_SSL_MODES)[number];

/**
 * The database variables that must be set together (the Deployment passes them from the
 * ExternalSecret's Kubernetes Secret by `secretKeyRef`). None set: no order store.
 */
export const DB_CONNECTION_VARS = ["DB_HOST", "DB_NAME", "DB_USERNAME", "DB_PASSWORD"] as const;

/**
 * A value that must never reach a log line or an error message: JSON, string conversion and
 * `util.inspect` all print a placeholder, so logging a whole config object is harmless.
 */
export class Secret {
    readonly #value: string;
    constructor(value: string) {
        this.#value = value;
    }
    /** The value itself, for the one place that needs it (the database driver). */
    reveal(): string {
        return this.#value;
    }
    toJSON(): string {
        return "[redacted]";
    }
    toString(): string {
        return "[redacted]";
    }
    [Symbol.for("nodejs.util.inspect.custom")](): string {
        return "[redacted]";
    }
}

export interface EnvVarSpec {
    /** Variable name, e.g. `PORT`. */
    readonly name: string;
    /** Start-up fails when a required variable is unset or empty. */
    readonly required: boolean;
    /** Value used when an optional variable is unset or empty; undefined for required ones. */
    readonly default?: string;
    /** What is allowed, in the words the start-up error uses. */
    readonly allowed: string;
    readonly description: string;
}

export const ENV_VARS: readonly EnvVarSpec[] = Object.freeze(
    [
        {
            name: "PORT",
            required: false,
            default: String(DEFAULT_PORT),
            allowed: "an integer from 1 to 65535",
            description: "TCP port of the HTTP server: /checkout and the probes (not /metrics).",
        },
        {
            name: "METRICS_PORT",
            required: false,
            default: String(DEFAULT_METRICS_PORT),
            allowed: "an integer from 1 to 65535, other than PORT",
            description:
                "TCP port of the metrics listener: GET /metrics only (Prometheus text); the app port answers 404 there.",
        },
        {
            name: "OTEL_SERVICE_NAME",
            required: true,
            allowed: "a non-empty string",
            description: "Service name written into every log line (OpenTelemetry convention).",
        },
        {
            name: "DB_POOL_MAX",
            required: true,
            allowed: "an integer from 1 to 1000",
            description: "Upper bound of the database connection pool.",
        },
        {
            name: "LOG_LEVEL",
            required: false,
            default: "info",
            allowed: `one of ${LOG_LEVELS.join(", ")}`,
            description: "Lowest level written to stdout; request logs are info.",
        },
        {
            name: "SHUTDOWN_TIMEOUT_SECONDS",
            required: false,
            default: "25",
            allowed: "an integer from 1 to 300",
            description:
                "Longest drain after SIGTERM before open connections are cut and the process exits 1. " +
                "Keep preStop sleep + this below terminationGracePeriodSeconds.",
        },
        {
            name: "OTEL_EXPORTER_OTLP_ENDPOINT",
            required: false,
            allowed: "an http:// or https:// URL",
            description:
                "OTLP/HTTP base URL; traces go to <url>/v1/traces (the OpenTelemetry SDK reads it). Unset: tracing off.",
        },
        {
            name: "DB_HOST",
            required: false,
            allowed: "a host name or IP address (set with DB_NAME, DB_USERNAME and DB_PASSWORD)",
            description:
                "PostgreSQL host of the order store. Unset with the other DB_* variables: orders are not persisted.",
        },
        {
            name: "DB_PORT",
            required: false,
            default: "5432",
            allowed: "an integer from 1 to 65535",
            description: "PostgreSQL port.",
        },
        {
            name: "DB_NAME",
            required: false,
            allowed: "a non-empty string (set with DB_HOST, DB_USERNAME and DB_PASSWORD)",
            description: "PostgreSQL database of the order store.",
        },
        {
            name: "DB_USERNAME",
            required: false,
            allowed: "a non-empty string (set with DB_HOST, DB_NAME and DB_PASSWORD)",
            description: "PostgreSQL user; from the database Secret. Never echoed in errors.",
        },
        {
            name: "DB_PASSWORD",
            required: false,
            allowed: "a non-empty string (set with DB_HOST, DB_NAME and DB_USERNAME)",
            description: "PostgreSQL password; from the database Secret. Never logged or echoed in errors.",
        },
        {
            name: "DB_SSLMODE",
            required: false,
            default: "verify-full",
            allowed: `one of ${DB_SSL_MODES.join(", ")}`,
            description:
                "TLS to PostgreSQL: verify-full checks the server certificate against Node's CAs (add the RDS " +
                "bundle with NODE_EXTRA_CA_CERTS); require encrypts without checking it; disable is plain text.",
        },
    ].map((spec) => Object.freeze(spec)),
);

export interface DatabaseConfig {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    readonly user: Secret;
    readonly password: Secret;
    readonly sslMode: DbSslMode;
}

export interface Config {
    readonly port: number;
    /** The metrics listener's port; never `port` (0, in tests, picks a free one for each). */
    readonly metricsPort: number;
    readonly serviceName: string;
    readonly dbPoolMax: number;
    readonly logLevel: LogLevel;
    readonly shutdownTimeoutSeconds: number;
    /** Set when OTEL_EXPORTER_OTLP_ENDPOINT is: traces are exported there. */
    readonly otlpEndpoint?: string;
    /** The PostgreSQL order store; undefined when no DB_* connection variable is set. */
    readonly database?: DatabaseConfig;
}

/** Thrown by `loadConfig`; `problems` holds one line per bad variable. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

type Env = Readonly<Record<string, string | undefined>>;

function spec(name: string): EnvVarSpec {
    const found = ENV_VARS.find((v) => v.name === name);
    if (found === undefined) {
        throw new Error(`internal: ${name} is missing from ENV_VARS`);
    }
    return found;
}

/**
 * Reads and validates every variable in `ENV_VARS`, reporting all problems at once so a broken
 * Deployment is fixed in one round trip. Each message names the variable, the bad value and
 * what is allowed: `DB_POOL_MAX must be an integer from 1 to 1000; got "0"`.
 */
export function loadConfig(env: Env = process.env): Config {
    const problems: string[] = [];

    /** The raw value, or the default; undefined (and a problem recorded) when required and unset. */
    const raw = (name: string): string | undefined => {
        const s = spec(name);
        const value = env[name];
        if (value === undefined || value === "") {
            if (s.required) {
                problems.push(`${name} is required (${s.allowed}); it is ${value === undefined ? "unset" : "empty"}`);
            }
            return s.default;
        }
        return value;
    };

    const integer = (name: string, min: number, max: number): number => {
        const value = raw(name);
        if (value === undefined) {
            return Number.NaN;
        }
        // Digits only: Number("1e3"), Number(" 8 ") and parseInt("80abc") would all slip through.
        const parsed = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
        if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
            problems.push(`${name} must be ${spec(name).allowed}; got ${JSON.stringify(value)}`);
        }
        return parsed;
    };

    const port = integer("PORT", 1, 65535);
    const metricsPort = integer("METRICS_PORT", 1, 65535);
    if (Number.isSafeInteger(port) && metricsPort === port) {
        problems.push(
            `METRICS_PORT must be ${spec("METRICS_PORT").allowed}; got ${JSON.stringify(raw("METRICS_PORT"))} with PORT ${JSON.stringify(raw("PORT"))}`,
        );
    }

    const serviceName = raw("OTEL_SERVICE_NAME") ?? "";
    if (serviceName !== "" && serviceName.trim() === "") {
        problems.push(
            `OTEL_SERVICE_NAME must be ${spec("OTEL_SERVICE_NAME").allowed}; got ${JSON.stringify(serviceName)}`,
        );
    }

    const dbPoolMax = integer("DB_POOL_MAX", 1, 1000);

    const logLevel = raw("LOG_LEVEL") ?? "info";
    if (!isLogLevel(logLevel)) {
        problems.push(`LOG_LEVEL must be ${spec("LOG_LEVEL").allowed}; got ${JSON.stringify(logLevel)}`);
    }

    const shutdownTimeoutSeconds = integer("SHUTDOWN_TIMEOUT_SECONDS", 1, 300);

    const otlpEndpoint = raw("OTEL_EXPORTER_OTLP_ENDPOINT");
    if (otlpEndpoint !== undefined && !isHttpUrl(otlpEndpoint)) {
        problems.push(
            `OTEL_EXPORTER_OTLP_ENDPOINT must be ${spec("OTEL_EXPORTER_OTLP_ENDPOINT").allowed}; got ${JSON.stringify(otlpEndpoint)}`,
        );
    }

    const database = loadDatabase(env, problems, integer);

    if (problems.length > 0 || !isLogLevel(logLevel)) {
        throw new ConfigError(problems);
    }
    return Object.freeze({
        port,
        metricsPort,
        serviceName: serviceName.trim(),
        dbPoolMax,
        logLevel,
        shutdownTimeoutSeconds,
        ...(otlpEndpoint === undefined ? {} : { otlpEndpoint }),
        ...(database === undefined ? {} : { database }),
    });
}

/**
 * All four connection variables or none. The credentials are checked for presence only: their
 * values never appear in a problem (the error goes to the pod's log).
 */
function loadDatabase(
    env: Env,
    problems: string[],
    integer: (name: string, min: number, max: number) => number,
): DatabaseConfig | undefined {
    const value = (name: string): string | undefined => {
        const v = env[name];
        return v === undefined || v.trim() === "" ? undefined : v;
    };
    const set = DB_CONNECTION_VARS.filter((name) => value(name) !== undefined);
    const port = integer("DB_PORT", 1, 65535);
    const sslMode = value("DB_SSLMODE") ?? spec("DB_SSLMODE").default ?? "verify-full";
    if (!(DB_SSL_MODES as readonly string[]).includes(sslMode)) {
        problems.push(`DB_SSLMODE must be ${spec("DB_SSLMODE").allowed}; got ${JSON.stringify(sslMode)}`);
    }
    if (set.length === 0) {
        return undefined;
    }
    const missing = DB_CONNECTION_VARS.filter((name) => value(name) === undefined);
    if (missing.length > 0) {
        problems.push(
            `${missing.join(", ")} must be set when ${set.join(", ")} ${set.length === 1 ? "is" : "are"} ` +
                `(the order store needs all of ${DB_CONNECTION_VARS.join(", ")}, or none for no store)`,
        );
        return undefined;
    }
    const host = (value("DB_HOST") ?? "").trim();
    if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(host)) {
        problems.push(`DB_HOST must be ${spec("DB_HOST").allowed}; got ${JSON.stringify(host)}`);
    }
    return Object.freeze({
        host,
        port,
        name: (value("DB_NAME") ?? "").trim(),
        user: new Secret(value("DB_USERNAME") ?? ""),
        password: new Secret(value("DB_PASSWORD") ?? ""),
        sslMode: sslMode as DbSslMode,
    });
}

function isHttpUrl(value: string): boolean {
    try {
        const url = new URL(value);
        return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
    } catch {
        return false;
    }
}

export function isLogLevel(value: string): value is LogLevel {
    return (LOG_LEVELS as readonly string[]).includes(value);
}
