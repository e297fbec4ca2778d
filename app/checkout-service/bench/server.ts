/**
 * The app under load, in its own process so the load generator does not share its event loop.
 * Same code path as production (request logs at info, written to a /dev/null stdout); bound to
 * 127.0.0.1 only. Reports its port to the parent over IPC and drains on SIGTERM.
 */
import { createApp } from "../src/app";

const app = createApp({
    port: 0,
    metricsPort: 0,
    serviceName: "checkout-bench",
    dbPoolMax: 10,
    logLevel: "info",
    shutdownTimeoutSeconds: 5,
});

app.listen(0, "127.0.0.1").then(
    ({ port }) => process.send?.({ port }),
    (err: unknown) => {
        console.error(err);
        process.exit(1);
    },
);

process.on("SIGTERM", () => {
    void app.shutdown("bench finished").then(({ forced }) => process.exit(forced ? 1 : 0));
});
