/**
 * Container entrypoint (`node dist/main.js`): validate the environment, serve, drain on SIGTERM.
 *
 * Kubernetes termination: the preStop hook sleeps first (endpoints are removed meanwhile), then
 * SIGTERM arrives here; we drain for at most SHUTDOWN_TIMEOUT_SECONDS and exit, well inside
 * terminationGracePeriodSeconds (preStop 10 s + 25 s default + 1 s backstop < 45 s).
 */
import { createApp, type App } from "./app";
import { ConfigError, loadConfig, type Config } from "./config";
import { startTracing } from "./tracing";

function fatal(msg: string, fields: Record<string, unknown>): void {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", msg, ...fields })}\n`);
}

function main(): void {
    let config: Config;
    try {
        config = loadConfig(process.env);
    } catch (err) {
        if (err instanceof ConfigError) {
            fatal("invalid configuration; refusing to start", { problems: err.problems });
            process.exit(1);
        }
        throw err;
    }

    // Before the app, so that its tracer and the logger's active-span lookup see the provider.
    const tracing = startTracing(config);
    const app: App = createApp(config, { tracer: tracing.tracer });
    app.logger.info(
        tracing.enabled ? "tracing: OTLP/HTTP export on" : "tracing: off (OTEL_EXPORTER_OTLP_ENDPOINT unset)",
        {
            ...(config.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.otlpEndpoint }),
        },
    );

    const onSignal = (signal: NodeJS.Signals): void => {
        if (app.state() === "draining" || app.state() === "stopped") {
            app.logger.warn("signal ignored; already shutting down", { signal });
            return;
        }
        // Backstop in case something other than a socket keeps the drain from finishing.
        setTimeout(
            () => {
                fatal("shutdown backstop reached; exiting", { signal });
                process.exit(1);
            },
            config.shutdownTimeoutSeconds * 1000 + 1000,
        ).unref();
        void app
            .shutdown(signal)
            // The spans of the last requests are still buffered: export them before exiting.
            .then(async ({ forced }) => {
                await tracing
                    .shutdown()
                    .catch((err: unknown) =>
                        app.logger.warn("tracing: final export failed", { err: { message: (err as Error).message } }),
                    );
                process.exit(forced ? 1 : 0);
            });
    };
    // Installed before listening so a SIGTERM during start-up still drains instead of killing us.
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);

    process.on("uncaughtException", (err) => {
        fatal("uncaught exception", { err: { name: err.name, message: err.message, stack: err.stack } });
        process.exit(1);
    });
    process.on("unhandledRejection", (reason) => {
        fatal("unhandled rejection", {
            reason: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason),
        });
        process.exit(1);
    });

    app.listen().catch((err: unknown) => {
        fatal("start-up failed", {
            err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err),
        });
        process.exit(1);
    });
}

main();
