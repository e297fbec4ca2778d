import type { ChildProcess } from "node:child_process";
/** Test helpers: start an app on a free port, plain HTTP calls, raw sockets, controllable promises. */
import * as http from "node:http";
import * as net from "node:net";

import { createApp, type App, type AppOptions } from "../src/app";
import type { Config } from "../src/config";

export function testConfig(overrides: Partial<Config> = {}): Config {
    return {
        port: 0,
        metricsPort: 0,
        serviceName: "checkout-test",
        dbPoolMax: 5,
        logLevel: "info",
        shutdownTimeoutSeconds: 5,
        ...overrides,
    };
}

export interface Running {
    readonly app: App;
    readonly port: number;
    /** The metrics listener's port (a free one: testConfig's metricsPort is 0). */
    readonly metricsPort: number;
    /** Every log line the app wrote, parsed. */
    readonly logs: Array<Record<string, unknown>>;
}

/** Starts an app on 127.0.0.1 and a free port. Remember to `stop()` it in `afterEach`. */
export async function startApp(options: AppOptions = {}, config: Partial<Config> = {}): Promise<Running> {
    const logs: Array<Record<string, unknown>> = [];
    const app = createApp(testConfig(config), {
        defaultMetrics: false,
        logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
        ...options,
    });
    const { port } = await app.listen(0, "127.0.0.1");
    return { app, port, metricsPort: (app.metricsServer.address() as net.AddressInfo).port, logs };
}

/**
 * Cleanup, not a graceful drain: cut whatever is still open so that a test that failed half-way
 * (or a broken shutdown) cannot keep the mocha process alive.
 */
export async function forceStop(app: App): Promise<void> {
    const stopped = app.shutdown("test cleanup");
    for (const server of [app.server, app.metricsServer]) {
        server.closeAllConnections();
        if (server.listening) {
            server.close();
        }
    }
    await stopped;
}

export async function stop(running: Running | undefined): Promise<void> {
    if (running !== undefined) {
        await forceStop(running.app);
    }
}

export interface Reply {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly text: string;
    json(): Record<string, unknown>;
}

export interface RequestOptions {
    readonly method?: string;
    readonly headers?: http.OutgoingHttpHeaders;
    readonly body?: string | Buffer;
}

/** One request on a fresh connection (no agent, so no keep-alive state leaks between tests). */
export function request(port: number, path: string, options: RequestOptions = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers, agent: false },
            (res) => collect(res).then(resolve, reject),
        );
        req.on("error", reject);
        req.end(options.body);
    });
}

/** POST /checkout with a JSON body. */
export function postCheckout(port: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
    return request(port, "/checkout", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
    });
}

function collect(res: http.IncomingMessage): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                text,
                json: () => JSON.parse(text) as Record<string, unknown>,
            });
        });
    });
}

/** A promise plus its resolve, and a second promise that resolves when someone starts waiting. */
export function gate(): { wait: () => Promise<void>; entered: Promise<void>; release: () => void } {
    let release!: () => void;
    let markEntered!: () => void;
    const opened = new Promise<void>((r) => (release = r));
    const entered = new Promise<void>((r) => (markEntered = r));
    return {
        wait: () => {
            markEntered();
            return opened;
        },
        entered,
        release: () => release(),
    };
}

/** Resolves with the error code of a TCP connect, or "connected". */
export function tryConnect(port: number): Promise<string> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
            socket.destroy();
            resolve("connected");
        });
        socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
}

/**
 * A connection whose request has started but is not complete: the server counts it as busy
 * (server.closeIdleConnections leaves it open), so completing it after shutdown began shows how the
 * app answers a request that arrives on an existing connection during the drain.
 */
export async function openPartialRequest(
    app: App,
    port: number,
    path: string,
    server: net.Server = app.server,
): Promise<{ complete: () => Promise<{ status: number; head: string; body: string }> }> {
    const client = net.connect(port, "127.0.0.1");
    const serverSide = new Promise<net.Socket>((resolve) => {
        const onConnection = (socket: net.Socket): void => {
            if (socket.remotePort === client.localPort) {
                server.off("connection", onConnection);
                resolve(socket);
            }
        };
        server.on("connection", onConnection);
    });
    await new Promise<void>((resolve, reject) => {
        client.once("connect", resolve);
        client.once("error", reject);
    });
    const partial = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
    client.write(partial);
    // The parser marks the connection busy in the same native callback that counts the bytes, so
    // once bytesRead covers what we sent the server has seen the request start. A condition, not a delay.
    const socket = await serverSide;
    while (socket.bytesRead < Buffer.byteLength(partial)) {
        await new Promise((r) => setImmediate(r));
    }

    const received: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
        client.on("data", (c: Buffer) => received.push(c));
        client.once("end", resolve);
        client.once("error", reject);
    });
    return {
        complete: async () => {
            client.write("\r\n");
            await ended;
            const raw = Buffer.concat(received).toString("utf8");
            const split = raw.indexOf("\r\n\r\n");
            const head = raw.slice(0, split);
            const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
            return { status, head, body: raw.slice(split + 4) };
        },
    };
}

/**
 * A list for the child processes a suite starts; after each test, any still running is killed, so
 * a broken shutdown fails its test instead of hanging mocha.
 */
export function killedAfterEach(): ChildProcess[] {
    const children: ChildProcess[] = [];
    afterEach(() => {
        for (const child of children.splice(0)) {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGKILL");
            }
        }
    });
    return children;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}
