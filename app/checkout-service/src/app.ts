/**
 * The checkout-service HTTP app. `createApp(config)` builds it without touching the process
 * (no signals, no env, no exit), so tests can run several at once and call `shutdown()` directly;
 * src/main.ts wires it to the process.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
    context,
    propagation,
    ROOT_CONTEXT,
    SpanKind,
    SpanStatusCode,
    trace,
    type Span,
    type Tracer,
} from "@opentelemetry/api";
import {
    ATTR_HTTP_REQUEST_METHOD,
    ATTR_HTTP_RESPONSE_STATUS_CODE,
    ATTR_HTTP_ROUTE,
    ATTR_URL_PATH,
    ATTR_URL_SCHEME,
    ATTR_USER_AGENT_ORIGINAL,
} from "@opentelemetry/semantic-conventions";
import type { Registry } from "prom-client";

import { validateCheckout } from "./checkout";
import { loadConfig, type Config } from "./config";
import { acceptableRequestId, parseContentType, readBody, sendJson } from "./http";
import { createLogger, type LogSink, type Logger } from "./logger";
import { createMetrics } from "./metrics";
import { customOrderStore, noOrderStore, postgresOrderStore, type OrderStore, type PlaceOrder } from "./orders";
import { TRACER_NAME } from "./tracing";

export type { PlacedOrder, PlaceOrder } from "./orders";

/** POST bodies above this are refused with 413 without being read to the end. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * starting: listening, start-up work not done (readiness 503)
 * ready:    serving (readiness 200)
 * draining: shutdown began; in-flight requests finish, no new connections (readiness 503)
 * stopped:  every connection closed
 */
export type AppState = "starting" | "ready" | "draining" | "stopped";

export interface AppOptions {
    /** Receives each log line. @default process.stdout */
    readonly logSink?: LogSink;
    /**
     * Replaces the order store chosen from the config.
     * @default PostgreSQL when `config.database` is set, else none (an id is allocated, nothing kept)
     */
    readonly placeOrder?: PlaceOrder;
    /**
     * Makes the request and query spans.
     * @default the global tracer: a no-op one unless src/tracing.ts registered a provider
     */
    readonly tracer?: Tracer;
    /**
     * Start-up work run after the port is bound and before readiness turns 200 (warming a pool,
     * loading reference data). @default nothing to do
     */
    readonly startup?: () => Promise<void>;
    /** Register process metrics (CPU, memory, event loop, GC) on the app's registry. @default true */
    readonly defaultMetrics?: boolean;
    /** @default DEFAULT_BODY_LIMIT_BYTES */
    readonly bodyLimitBytes?: number;
}

export interface ShutdownResult {
    /** True when the drain outlived SHUTDOWN_TIMEOUT_SECONDS and open connections were cut. */
    readonly forced: boolean;
}

export interface App {
    readonly config: Config;
    /** The app port (config.port): /checkout and the probes. */
    readonly server: Server;
    /** The metrics port (config.metricsPort): GET /metrics and nothing else. */
    readonly metricsServer: Server;
    readonly registry: Registry;
    readonly logger: Logger;
    state(): AppState;
    /** Requests received and not yet answered. */
    inFlight(): number;
    /**
     * Binds the app port (defaults to config.port) and the metrics port (config.metricsPort, same
     * host), runs start-up, then turns ready. Resolves with the app port's address.
     */
    listen(port?: number, host?: string): Promise<AddressInfo>;
    /**
     * Readiness 503 at once, stop accepting connections on both ports, close idle keep-alive
     * connections, let in-flight requests finish, and resolve when the last connection of either
     * listener is gone, or cut them all after `config.shutdownTimeoutSeconds`. Idempotent: later
     * calls return the same promise.
     */
    shutdown(reason?: string): Promise<ShutdownResult>;
}

interface RequestContext {
    readonly requestId: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void> | void;

interface Route {
    /** GET routes also answer HEAD (node:http drops the body). */
    readonly method: "GET" | "POST";
    readonly handle: Handler;
}

/** Metrics label for requests outside the route table: raw paths would explode cardinality. */
const UNMATCHED_ROUTE = "unmatched";

export function createApp(config: Config, options: AppOptions = {}): App {
    const logger = createLogger({ level: config.logLevel, service: config.serviceName, sink: options.logSink });
    const metrics = createMetrics({ serviceName: config.serviceName, defaultMetrics: options.defaultMetrics });
    const tracer = options.tracer ?? trace.getTracer(TRACER_NAME);
    const store: OrderStore =
        options.placeOrder !== undefined
            ? customOrderStore(options.placeOrder)
            : config.database !== undefined
              ? postgresOrderStore({ database: config.database, poolMax: config.dbPoolMax, logger, tracer })
              : noOrderStore();
    const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;

    let state: AppState = "starting";
    let inFlight = 0;
    let shutdownPromise: Promise<ShutdownResult> | undefined;

    const routes = new Map<string, Route>([
        ["/health/live", { method: "GET", handle: (_req, res) => reply(res, 200, { status: "alive" }) }],
        [
            "/health/ready",
            {
                method: "GET",
                handle: (_req, res) => reply(res, state === "ready" ? 200 : 503, { status: state }),
            },
        ],
        ["/checkout", { method: "POST", handle: (req, res, ctx) => checkout(req, res, ctx) }],
    ]);

    /**
     * Once draining, every response says `Connection: close`, including those of requests that
     * arrived before: a client must not reuse a connection the server is about to close (a POST
     * sent on it would fail with ECONNRESET, and POST is not safe to retry blindly).
     */
    function closeIfDraining(res: ServerResponse): void {
        if (state === "draining" || state === "stopped") {
            res.setHeader("connection", "close");
        }
    }

    function reply(res: ServerResponse, status: number, body: unknown): void {
        closeIfDraining(res);
        sendJson(res, status, body);
    }

    async function checkout(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
        const contentType = parseContentType(req.headers["content-type"]);
        if (
            contentType?.type !== "application/json" ||
            (contentType.charset !== undefined && contentType.charset !== "utf-8")
        ) {
            return reply(res, 415, {
                error: "unsupported_media_type",
                message: `Content-Type must be application/json (charset utf-8 if given); got ${JSON.stringify(req.headers["content-type"] ?? null)}`,
            });
        }

        const tooLarge = (): void => {
            // The rest of the body stays unread: close instead of draining it for keep-alive.
            res.setHeader("connection", "close");
            reply(res, 413, { error: "payload_too_large", message: `request body must be at most ${bodyLimit} bytes` });
        };
        const declared = Number(req.headers["content-length"] ?? 0);
        if (declared > bodyLimit) {
            return tooLarge();
        }
        const body = await readBody(req, bodyLimit);
        if (body.kind === "aborted") {
            return;
        }
        if (body.kind === "too_large") {
            return tooLarge();
        }

        let parsed: unknown;
        try {
            parsed = JSON.parse(body.body.toString("utf8"));
        } catch (err) {
            return reply(res, 400, {
                error: "invalid_json",
                field: "body",
                message: `body is not valid JSON: ${(err as Error).message}`,
            });
        }

        const result = validateCheckout(parsed);
        if (!result.ok) {
            const [first] = result.errors;
            return reply(res, 400, {
                error: "invalid_request",
                field: first?.field,
                message: first?.message,
                errors: result.errors,
            });
        }

        const order = await store.placeOrder(result.value, { requestId: ctx.requestId });
        reply(res, 201, {
            orderId: order.orderId,
            status: "accepted",
            cartId: result.value.cartId,
            currency: result.value.currency,
            itemCount: result.value.items.length,
        });
    }

    async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const started = process.hrtime.bigint();
        inFlight += 1;
        const requestId = acceptableRequestId(req.headers["x-request-id"]) ?? randomUUID();
        const method = req.method ?? "UNKNOWN";
        const path = pathOf(req.url);
        const route = routes.get(path);
        // Unknown paths are client-controlled: bound what reaches logs and error bodies.
        const shownPath = path.length > 200 ? `${path.slice(0, 200)}...` : path;
        const routeLabel = route === undefined ? UNMATCHED_ROUTE : path;

        // A SERVER span per request, child of the caller's (W3C traceparent) when there is one.
        const span: Span = tracer.startSpan(
            route === undefined ? method : `${method} ${routeLabel}`,
            {
                kind: SpanKind.SERVER,
                attributes: {
                    [ATTR_HTTP_REQUEST_METHOD]: method,
                    [ATTR_URL_PATH]: shownPath,
                    [ATTR_URL_SCHEME]: "http",
                    ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: routeLabel }),
                    ...(req.headers["user-agent"] === undefined
                        ? {}
                        : { [ATTR_USER_AGENT_ORIGINAL]: req.headers["user-agent"] }),
                },
            },
            propagation.extract(ROOT_CONTEXT, req.headers),
        );
        const spanContext = trace.setSpan(context.active(), span);

        res.setHeader("x-request-id", requestId);
        res.once("close", () => context.with(spanContext, () => finished()));
        const finished = (): void => {
            inFlight -= 1;
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const status = res.statusCode;
            metrics.observe({ route: routeLabel, method, status }, seconds);
            span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
            // Server spans are errors for 5xx only (4xx is the client's fault: HTTP semantic conventions).
            if (status >= 500) {
                span.setStatus({ code: SpanStatusCode.ERROR });
            }
            span.end();
            const fields = {
                requestId,
                method,
                path: shownPath,
                route: routeLabel,
                status,
                durationMs: Math.round(seconds * 1e6) / 1e3,
                // Client went away before the whole response was written.
                aborted: !res.writableFinished,
                userAgent: req.headers["user-agent"],
            };
            // A 503 from a probe is the state machine working (starting, draining), not an error.
            if (status >= 500 && !routeLabel.startsWith("/health/")) {
                logger.error("request", fields);
            } else {
                logger.info("request", fields);
            }
            if (state === "draining") {
                // A keep-alive connection that just went idle would hold server.close() open until its timeout.
                setImmediate(() => server.closeIdleConnections());
            }
        };

        await context.with(spanContext, () => dispatch(req, res, route, { requestId, routeLabel, shownPath, method }));
    }

    async function dispatch(
        req: IncomingMessage,
        res: ServerResponse,
        route: Route | undefined,
        r: { requestId: string; routeLabel: string; shownPath: string; method: string },
    ): Promise<void> {
        const { requestId, routeLabel, shownPath, method } = r;
        try {
            if (route === undefined) {
                return reply(res, 404, { error: "not_found", message: `no route for ${shownPath}` });
            }
            const allowed = route.method === "GET" ? ["GET", "HEAD"] : [route.method];
            if (!allowed.includes(method)) {
                res.setHeader("allow", allowed.join(", "));
                return reply(res, 405, {
                    error: "method_not_allowed",
                    message: `${shownPath} accepts ${allowed.join(", ")}; got ${method}`,
                });
            }
            await route.handle(req, res, { requestId });
        } catch (err) {
            trace.getActiveSpan()?.recordException(err as Error);
            logger.error("unhandled error", { requestId, route: routeLabel, err });
            if (!res.headersSent) {
                res.setHeader("connection", "close");
                reply(res, 500, { error: "internal_error", message: "internal error", requestId });
            } else {
                res.destroy();
            }
        }
    }

    const server = createServer(
        { requestTimeout: 30_000, headersTimeout: 10_000 },
        (req, res) => void handle(req, res),
    );

    /**
     * The metrics listener: a port of its own so that a NetworkPolicy can admit the scrapers there
     * without admitting them to the app port. Scrapes are not counted, traced or logged as requests:
     * every 30 s from each collector, they would drown the request log and skew the request metrics.
     */
    const metricsServer = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
        void serveMetrics(req, res).catch((err: unknown) => {
            logger.error("metrics: scrape failed", { err });
            if (!res.headersSent) {
                res.setHeader("connection", "close");
                reply(res, 500, { error: "internal_error", message: "internal error" });
            } else {
                res.destroy();
            }
        });
    });

    async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const path = pathOf(req.url);
        if (path !== "/metrics") {
            return reply(res, 404, { error: "not_found", message: "the metrics port serves /metrics only" });
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
            res.setHeader("allow", "GET, HEAD");
            return reply(res, 405, {
                error: "method_not_allowed",
                message: `/metrics accepts GET, HEAD; got ${req.method ?? "UNKNOWN"}`,
            });
        }
        const text = await metrics.registry.metrics();
        closeIfDraining(res);
        res.statusCode = 200;
        res.setHeader("content-type", metrics.registry.contentType);
        res.setHeader("content-length", Buffer.byteLength(text));
        res.end(text);
    }

    function bind(target: Server, port: number, host: string | undefined): Promise<AddressInfo> {
        return new Promise<AddressInfo>((resolve, reject) => {
            target.once("error", reject);
            target.listen(port, host, () => {
                target.off("error", reject);
                resolve(target.address() as AddressInfo);
            });
        });
    }

    async function listen(port: number = config.port, host?: string): Promise<AddressInfo> {
        const address = await bind(server, port, host);
        let metricsAddress: AddressInfo;
        try {
            metricsAddress = await bind(metricsServer, config.metricsPort, host);
        } catch (err) {
            // Half a service is no service: without the metrics port it would run unobserved.
            await new Promise((resolve) => server.close(resolve));
            throw err;
        }
        if (shutdownPromise !== undefined) {
            // Shutdown began while a port was being bound, after the drain looked at it: close it now.
            for (const target of [server, metricsServer]) {
                if (target.listening) {
                    target.close();
                }
            }
        }
        logger.info("listening", {
            address: address.address,
            port: address.port,
            metricsPort: metricsAddress.port,
            dbPoolMax: config.dbPoolMax,
        });
        logger.info(store.description.message, store.description.fields);
        await store.start();
        await (options.startup ?? (async () => undefined))();
        // A SIGTERM during start-up wins: never turn ready once draining.
        if (state === "starting") {
            state = "ready";
            logger.info("ready", { port: address.port });
        }
        return address;
    }

    function shutdown(reason = "shutdown requested"): Promise<ShutdownResult> {
        if (shutdownPromise !== undefined) {
            return shutdownPromise;
        }
        state = "draining";
        logger.info("shutdown started", { reason, inFlight, timeoutSeconds: config.shutdownTimeoutSeconds });
        shutdownPromise = new Promise<ShutdownResult>((resolve) => {
            let forced = false;
            const done = (): void => {
                clearTimeout(deadline);
                // Every request has been answered: nothing can use the store any more.
                store
                    .close()
                    .catch((err: unknown) =>
                        logger.warn("order store: close failed", { err: { message: (err as Error).message } }),
                    )
                    .finally(() => {
                        state = "stopped";
                        logger.info("shutdown complete", { forced });
                        resolve({ forced });
                    });
            };
            const deadline = setTimeout(() => {
                forced = true;
                logger.warn("shutdown timeout reached; closing open connections", { inFlight });
                server.closeAllConnections();
                metricsServer.closeAllConnections();
            }, config.shutdownTimeoutSeconds * 1000);
            // close() stops accepting at once; its callback runs when the last connection is gone.
            const closed = (target: Server): Promise<void> =>
                target.listening
                    ? new Promise<void>((r) => {
                          target.close(() => r());
                          target.closeIdleConnections();
                      })
                    : Promise.resolve();
            void Promise.all([closed(server), closed(metricsServer)]).then(() => done());
        });
        return shutdownPromise;
    }

    return {
        config,
        server,
        metricsServer,
        registry: metrics.registry,
        logger,
        state: () => state,
        inFlight: () => inFlight,
        listen,
        shutdown,
    };
}

/**
 * Loads the configuration from `env` (throws ConfigError naming every bad variable), builds the
 * app and listens on PORT. Resolves once ready.
 */
export async function start(
    env: Readonly<Record<string, string | undefined>> = process.env,
    options: AppOptions = {},
): Promise<App> {
    const app = createApp(loadConfig(env), options);
    await app.listen();
    return app;
}

function pathOf(url: string | undefined): string {
    const raw = url ?? "/";
    const q = raw.indexOf("?");
    return q === -1 ? raw : raw.slice(0, q);
}
