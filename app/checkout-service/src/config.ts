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
            description: "TCP port of the HTTP server (all routes, including probes and /metrics).",
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
    ].map((spec) => Object.freeze(spec)),
);

export interface Config {
    readonly port: number;
    readonly serviceName: string;
    readonly dbPoolMax: number;
    readonly logLevel: LogLevel;
    readonly shutdownTimeoutSeconds: number;
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

    if (problems.length > 0 || !isLogLevel(logLevel)) {
        throw new ConfigError(problems);
    }
    return Object.freeze({ port, serviceName: serviceName.trim(), dbPoolMax, logLevel, shutdownTimeoutSeconds });
}

export function isLogLevel(value: string): value is LogLevel {
    return (LOG_LEVELS as readonly string[]).includes(value);
}
