import * as assert from "node:assert/strict";

import { inspect } from "node:util";

import { ConfigError, DB_CONNECTION_VARS, ENV_VARS, loadConfig, Secret } from "../src/config";

const minimal = { OTEL_SERVICE_NAME: "checkout-service", DB_POOL_MAX: "20" };

/** Distinctive credentials, so that finding them in a message cannot be a coincidence. */
const USER = "u-7f3a1c";
const PASSWORD = "pw-Qx9!z8#LmT4";
const database = {
    DB_HOST: "orders.cluster-abc.eu-west-1.rds.amazonaws.com",
    DB_NAME: "orders",
    DB_USERNAME: USER,
    DB_PASSWORD: PASSWORD,
};

/** The message loadConfig throws for `env`, or fails the test if it does not throw. */
function problemsFor(env: Record<string, string | undefined>): string[] {
    try {
        loadConfig(env);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
        assert.match(err.message, /^invalid configuration:/);
        return [...err.problems];
    }
    assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("checkout-service configuration", () => {
    it("applies the documented defaults for optional variables", () => {
        assert.deepEqual(loadConfig(minimal), {
            port: 8080,
            metricsPort: 9464,
            serviceName: "checkout-service",
            dbPoolMax: 20,
            logLevel: "info",
            shutdownTimeoutSeconds: 25,
        });
    });

    it("reads every variable when set, and freezes the result", () => {
        const config = loadConfig({
            PORT: "9000",
            METRICS_PORT: "9100",
            OTEL_SERVICE_NAME: "svc",
            DB_POOL_MAX: "1000",
            LOG_LEVEL: "debug",
            SHUTDOWN_TIMEOUT_SECONDS: "1",
        });
        assert.deepEqual(config, {
            port: 9000,
            metricsPort: 9100,
            serviceName: "svc",
            dbPoolMax: 1000,
            logLevel: "debug",
            shutdownTimeoutSeconds: 1,
        });
        assert.ok(Object.isFrozen(config));
    });

    it("accepts the bounds of every range", () => {
        for (const env of [
            { PORT: "1", METRICS_PORT: "65535", DB_POOL_MAX: "1", SHUTDOWN_TIMEOUT_SECONDS: "1" },
            { PORT: "65535", METRICS_PORT: "1", DB_POOL_MAX: "1000", SHUTDOWN_TIMEOUT_SECONDS: "300" },
        ]) {
            assert.doesNotThrow(() => loadConfig({ ...minimal, ...env }), JSON.stringify(env));
        }
    });

    it("treats an empty optional variable as unset", () => {
        assert.equal(loadConfig({ ...minimal, PORT: "", LOG_LEVEL: "" }).port, 8080);
        assert.equal(loadConfig({ ...minimal, METRICS_PORT: "" }).metricsPort, 9464);
    });

    // Each failing case must name the variable, show the bad value and say what is allowed.
    const failures: Array<[string, Record<string, string | undefined>, RegExp]> = [
        ["PORT not a number", { PORT: "http" }, /^PORT must be an integer from 1 to 65535; got "http"$/],
        ["PORT zero", { PORT: "0" }, /^PORT must be an integer from 1 to 65535; got "0"$/],
        ["PORT too large", { PORT: "65536" }, /^PORT must be an integer from 1 to 65535; got "65536"$/],
        ["PORT with trailing junk", { PORT: "8080abc" }, /^PORT must be an integer from 1 to 65535; got "8080abc"$/],
        ["PORT in exponent form", { PORT: "8e3" }, /^PORT must be an integer from 1 to 65535; got "8e3"$/],
        [
            "METRICS_PORT not a number",
            { METRICS_PORT: "metrics" },
            /^METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "metrics"$/,
        ],
        [
            "METRICS_PORT zero",
            { METRICS_PORT: "0" },
            /^METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "0"$/,
        ],
        [
            "METRICS_PORT too large",
            { METRICS_PORT: "70000" },
            /^METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "70000"$/,
        ],
        [
            "METRICS_PORT equal to PORT",
            { PORT: "8080", METRICS_PORT: "8080" },
            /^METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "8080" with PORT "8080"$/,
        ],
        [
            "PORT set to the default METRICS_PORT",
            { PORT: "9464" },
            /^METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "9464" with PORT "9464"$/,
        ],
        [
            "OTEL_SERVICE_NAME unset",
            { OTEL_SERVICE_NAME: undefined },
            /^OTEL_SERVICE_NAME is required \(a non-empty string\); it is unset$/,
        ],
        [
            "OTEL_SERVICE_NAME empty",
            { OTEL_SERVICE_NAME: "" },
            /^OTEL_SERVICE_NAME is required \(a non-empty string\); it is empty$/,
        ],
        [
            "OTEL_SERVICE_NAME blank",
            { OTEL_SERVICE_NAME: "   " },
            /^OTEL_SERVICE_NAME must be a non-empty string; got "   "$/,
        ],
        [
            "DB_POOL_MAX unset",
            { DB_POOL_MAX: undefined },
            /^DB_POOL_MAX is required \(an integer from 1 to 1000\); it is unset$/,
        ],
        ["DB_POOL_MAX zero", { DB_POOL_MAX: "0" }, /^DB_POOL_MAX must be an integer from 1 to 1000; got "0"$/],
        [
            "DB_POOL_MAX too large",
            { DB_POOL_MAX: "1001" },
            /^DB_POOL_MAX must be an integer from 1 to 1000; got "1001"$/,
        ],
        ["DB_POOL_MAX negative", { DB_POOL_MAX: "-5" }, /^DB_POOL_MAX must be an integer from 1 to 1000; got "-5"$/],
        [
            "DB_POOL_MAX fractional",
            { DB_POOL_MAX: "2.5" },
            /^DB_POOL_MAX must be an integer from 1 to 1000; got "2.5"$/,
        ],
        [
            "LOG_LEVEL unknown",
            { LOG_LEVEL: "trace" },
            /^LOG_LEVEL must be one of debug, info, warn, error; got "trace"$/,
        ],
        [
            "LOG_LEVEL wrong case",
            { LOG_LEVEL: "INFO" },
            /^LOG_LEVEL must be one of debug, info, warn, error; got "INFO"$/,
        ],
        [
            "SHUTDOWN_TIMEOUT_SECONDS zero",
            { SHUTDOWN_TIMEOUT_SECONDS: "0" },
            /^SHUTDOWN_TIMEOUT_SECONDS must be an integer from 1 to 300; got "0"$/,
        ],
        [
            "SHUTDOWN_TIMEOUT_SECONDS too large",
            { SHUTDOWN_TIMEOUT_SECONDS: "301" },
            /^SHUTDOWN_TIMEOUT_SECONDS must be an integer from 1 to 300; got "301"$/,
        ],
        [
            "SHUTDOWN_TIMEOUT_SECONDS with unit",
            { SHUTDOWN_TIMEOUT_SECONDS: "25s" },
            /^SHUTDOWN_TIMEOUT_SECONDS must be an integer from 1 to 300; got "25s"$/,
        ],
        [
            "OTEL_EXPORTER_OTLP_ENDPOINT without a scheme",
            { OTEL_EXPORTER_OTLP_ENDPOINT: "cloudwatch-agent.amazon-cloudwatch:4318" },
            /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL; got "cloudwatch-agent.amazon-cloudwatch:4318"$/,
        ],
        [
            "OTEL_EXPORTER_OTLP_ENDPOINT with a gRPC-style scheme",
            { OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" },
            /^OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL; got "grpc:\/\/collector:4317"$/,
        ],
        [
            "DB_PASSWORD without the other connection variables",
            { DB_PASSWORD: PASSWORD },
            /^DB_HOST, DB_NAME, DB_USERNAME must be set when DB_PASSWORD is \(the order store needs all of DB_HOST, DB_NAME, DB_USERNAME, DB_PASSWORD, or none for no store\)$/,
        ],
        [
            "DB_HOST and DB_NAME without credentials",
            { DB_HOST: "db", DB_NAME: "orders" },
            /^DB_USERNAME, DB_PASSWORD must be set when DB_HOST, DB_NAME are /,
        ],
        [
            "DB_HOST with a scheme",
            { ...database, DB_HOST: "postgres://db" },
            /^DB_HOST must be a host name or IP address .*; got "postgres:\/\/db"$/,
        ],
        ["DB_PORT zero", { ...database, DB_PORT: "0" }, /^DB_PORT must be an integer from 1 to 65535; got "0"$/],
        [
            "DB_SSLMODE unknown",
            { ...database, DB_SSLMODE: "prefer" },
            /^DB_SSLMODE must be one of disable, require, verify-full; got "prefer"$/,
        ],
    ];
    for (const [name, env, expected] of failures) {
        it(`fails fast when ${name}`, () => {
            const problems = problemsFor({ ...minimal, ...env });
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0] ?? "", expected);
        });
    }

    it("reports every bad variable in one error", () => {
        const problems = problemsFor({ PORT: "0", LOG_LEVEL: "loud" });
        assert.deepEqual(
            problems.map((p) => p.split(" ")[0]),
            ["PORT", "OTEL_SERVICE_NAME", "DB_POOL_MAX", "LOG_LEVEL"],
        );
    });

    describe("database credentials", () => {
        it("leaves the order store off when no connection variable is set", () => {
            assert.equal(loadConfig(minimal).database, undefined);
        });

        it("reads all four, with port 5432 and TLS verify-full by default", () => {
            const db = loadConfig({ ...minimal, ...database }).database;
            assert.ok(db !== undefined);
            assert.deepEqual(
                { host: db.host, port: db.port, name: db.name, sslMode: db.sslMode },
                { host: database.DB_HOST, port: 5432, name: "orders", sslMode: "verify-full" },
            );
            assert.equal(db.user.reveal(), USER);
            assert.equal(db.password.reveal(), PASSWORD);
        });

        it("never shows the credentials: JSON, string conversion and util.inspect of the config", () => {
            const config = loadConfig({ ...minimal, ...database, DB_PORT: "6432", DB_SSLMODE: "require" });
            for (const shown of [
                JSON.stringify(config),
                String(config.database?.password),
                inspect(config, { depth: 9 }),
            ]) {
                assert.ok(!shown.includes(PASSWORD), shown);
                assert.ok(!shown.includes(USER), shown);
            }
            assert.match(JSON.stringify(config), /"password":"\[redacted\]"/);
        });

        it("never echoes a credential in a problem, whatever else is wrong", () => {
            for (const partial of DB_CONNECTION_VARS.map((name) => ({ [name]: database[name] }))) {
                const problems = problemsFor({ ...minimal, ...partial, DB_PORT: "x", DB_SSLMODE: "nope" });
                assert.ok(problems.length >= 3, problems.join("\n"));
                assert.ok(!problems.join("\n").includes(PASSWORD) && !problems.join("\n").includes(USER));
            }
        });

        it("treats a blank credential as unset", () => {
            const problems = problemsFor({ ...minimal, ...database, DB_PASSWORD: "  " });
            assert.deepEqual(
                problems.map((p) => p.split(" ")[0]),
                ["DB_PASSWORD"],
            );
        });

        it("redacts a Secret made by hand too", () => {
            const secret = new Secret("s3cr3t");
            assert.equal(`${secret}`, "[redacted]");
            assert.equal(inspect({ secret }), "{ secret: [redacted] }");
        });
    });

    it("keeps a valid OTLP endpoint as given", () => {
        const endpoint = "http://cloudwatch-agent.amazon-cloudwatch:4318";
        assert.equal(loadConfig({ ...minimal, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).otlpEndpoint, endpoint);
        assert.equal(loadConfig(minimal).otlpEndpoint, undefined);
    });

    it("ignores variables it does not own", () => {
        assert.doesNotThrow(() => loadConfig({ ...minimal, HOME: "/tmp", NODE_ENV: "production" }));
    });

    describe("ENV_VARS (the contract with the Deployment)", () => {
        it("lists exactly the variables the Deployment may set, with required flags", () => {
            assert.deepEqual(
                ENV_VARS.map((v) => [v.name, v.required]),
                [
                    ["PORT", false],
                    ["METRICS_PORT", false],
                    ["OTEL_SERVICE_NAME", true],
                    ["DB_POOL_MAX", true],
                    ["LOG_LEVEL", false],
                    ["SHUTDOWN_TIMEOUT_SECONDS", false],
                    ["OTEL_EXPORTER_OTLP_ENDPOINT", false],
                    ["DB_HOST", false],
                    ["DB_PORT", false],
                    ["DB_NAME", false],
                    ["DB_USERNAME", false],
                    ["DB_PASSWORD", false],
                    ["DB_SSLMODE", false],
                ],
            );
        });

        it("gives a default exactly for the optional variables that are not feature switches, and loadConfig honours it", () => {
            // Unset, these turn a feature off (tracing, the order store) rather than take a value.
            const switches = new Set<string>(["OTEL_EXPORTER_OTLP_ENDPOINT", ...DB_CONNECTION_VARS]);
            for (const v of ENV_VARS) {
                assert.equal(v.default === undefined, v.required || switches.has(v.name), v.name);
            }
            const fromDefaults = loadConfig(minimal);
            assert.equal(String(fromDefaults.port), ENV_VARS.find((v) => v.name === "PORT")?.default);
            assert.equal(String(fromDefaults.metricsPort), ENV_VARS.find((v) => v.name === "METRICS_PORT")?.default);
            assert.equal(fromDefaults.logLevel, ENV_VARS.find((v) => v.name === "LOG_LEVEL")?.default);
            assert.equal(
                String(fromDefaults.shutdownTimeoutSeconds),
                ENV_VARS.find((v) => v.name === "SHUTDOWN_TIMEOUT_SECONDS")?.default,
            );
        });

        it("matches what loadConfig requires: dropping any required variable fails, dropping an optional one does not", () => {
            const full = {
                PORT: "8080",
                METRICS_PORT: "9464",
                OTEL_SERVICE_NAME: "s",
                DB_POOL_MAX: "3",
                LOG_LEVEL: "info",
                SHUTDOWN_TIMEOUT_SECONDS: "25",
            };
            for (const v of ENV_VARS) {
                const env: Record<string, string | undefined> = { ...full, [v.name]: undefined };
                if (v.required) {
                    assert.throws(() => loadConfig(env), new RegExp(`${v.name} is required`));
                } else {
                    assert.doesNotThrow(() => loadConfig(env), v.name);
                }
            }
        });

        it("cannot be modified by a consumer", () => {
            assert.ok(Object.isFrozen(ENV_VARS));
            assert.ok(ENV_VARS.every((v) => Object.isFrozen(v)));
        });
    });
});
