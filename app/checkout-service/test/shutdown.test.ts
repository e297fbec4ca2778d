import * as assert from "node:assert/strict";
import * as http from "node:http";
import type * as net from "node:net";

import { createApp } from "../src/app";
import {
    forceStop,
    gate,
    openPartialRequest,
    postCheckout,
    startApp,
    stop,
    testConfig,
    tryConnect,
    type Running,
} from "./helpers";

const order = { cartId: "cart-1", items: [{ sku: "SKU-1", quantity: 1 }], currency: "EUR" };

describe("checkout-service graceful shutdown", () => {
    let running: Running | undefined;
    afterEach(async () => {
        await stop(running);
        running = undefined;
    });

    it("turns readiness 503 at once, keeps liveness 200, finishes the in-flight request, refuses new connections", async () => {
        const slowStore = gate();
        running = await startApp({
            placeOrder: async () => {
                await slowStore.wait();
                return { orderId: "order-in-flight" };
            },
        });
        const { app, port } = running;

        // Requests already on their way when SIGTERM arrives: a slow checkout, two probes mid-send.
        const inFlight = postCheckout(port, order);
        await slowStore.entered;
        const readyProbe = await openPartialRequest(app, port, "/health/ready");
        const liveProbe = await openPartialRequest(app, port, "/health/live");
        assert.equal(app.state(), "ready");

        const done = app.shutdown("test");
        assert.equal(app.state(), "draining");

        // Readiness flips for requests that arrive after shutdown began...
        const ready = await readyProbe.complete();
        assert.equal(ready.status, 503);
        assert.deepEqual(JSON.parse(ready.body), { status: "draining" });
        assert.match(ready.head, /^connection: close$/im);
        // ...while liveness holds until the process exits.
        const live = await liveProbe.complete();
        assert.equal(live.status, 200);

        // The listening socket is closed: new connections are refused.
        assert.equal(await tryConnect(port), "ECONNREFUSED");

        // The in-flight request is still open and completes normally once its work finishes.
        assert.equal(app.state(), "draining");
        slowStore.release();
        const res = await inFlight;
        assert.equal(res.status, 201);
        assert.equal(res.json().orderId, "order-in-flight");
        assert.equal(res.headers.connection, "close", "a draining server tells the client not to reuse the connection");

        assert.deepEqual(await done, { forced: false });
        assert.equal(app.state(), "stopped");
        const messages = running.logs.map((l) => l.msg);
        assert.ok(messages.indexOf("shutdown started") < messages.indexOf("shutdown complete"));
    });

    it("closes the metrics listener too: a scrape under way finishes, then both ports refuse connections", async () => {
        running = await startApp();
        const { app, port, metricsPort } = running;
        const scrape = await openPartialRequest(app, metricsPort, "/metrics", app.metricsServer);
        const done = app.shutdown("test");

        const res = await scrape.complete();
        assert.equal(res.status, 200);
        assert.match(res.body, /^# TYPE http_requests_total counter$/m);
        assert.match(res.head, /^connection: close$/im);
        assert.equal(await tryConnect(metricsPort), "ECONNREFUSED");
        assert.equal(await tryConnect(port), "ECONNREFUSED");

        assert.deepEqual(await done, { forced: false });
        assert.equal(app.metricsServer.listening, false);
        assert.equal(app.server.listening, false);
    });

    it("waits for the metrics listener's last connection, and cuts it at SHUTDOWN_TIMEOUT_SECONDS", async () => {
        running = await startApp({}, { shutdownTimeoutSeconds: 1 });
        const { app, metricsPort } = running;
        // A scrape whose request never completes keeps its connection busy: only the deadline ends it.
        const stuck = await openPartialRequest(app, metricsPort, "/metrics", app.metricsServer);
        assert.deepEqual(await app.shutdown(), { forced: true });
        assert.equal(app.state(), "stopped");
        // Cut, never answered: the client sees the connection end (or reset) without a status line.
        const answer = await stuck.complete().then(
            (r) => r.status,
            () => 0,
        );
        assert.equal(answer, 0);
    });

    it("closes idle keep-alive connections instead of waiting for their timeout", async () => {
        running = await startApp({}, { shutdownTimeoutSeconds: 300 });
        const { app, port } = running;
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        // "free" fires when the response is done and the socket goes back to the pool, idle.
        const idle = new Promise<net.Socket>((resolve) => agent.once("free", (socket: net.Socket) => resolve(socket)));
        http.get({ host: "127.0.0.1", port, path: "/health/live", agent }, (res) => res.resume());
        const socket = await idle;
        const socketClosed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        // A 300 s drain limit: this only resolves (not forced) because idle connections are closed.
        assert.deepEqual(await app.shutdown(), { forced: false });
        await socketClosed;
        agent.destroy();
    });

    it("cuts connections still open at SHUTDOWN_TIMEOUT_SECONDS and reports a forced stop", async () => {
        const never = gate();
        running = await startApp(
            {
                placeOrder: async () => {
                    await never.wait();
                    return { orderId: "never" };
                },
            },
            { shutdownTimeoutSeconds: 1 },
        );
        const { app, port } = running;
        const stuck = postCheckout(port, order).then(
            () => "answered",
            (err: NodeJS.ErrnoException) => err.code ?? err.message,
        );
        await never.entered;
        assert.deepEqual(await app.shutdown(), { forced: true });
        assert.equal(await stuck, "ECONNRESET");
        assert.ok(running.logs.some((l) => l.msg === "shutdown timeout reached; closing open connections"));
        never.release();
    });

    it("is idempotent: a second SIGTERM gets the same drain", async () => {
        running = await startApp();
        const first = running.app.shutdown("SIGTERM");
        const second = running.app.shutdown("SIGINT");
        assert.equal(first, second);
        await first;
        assert.equal(running.logs.filter((l) => l.msg === "shutdown started").length, 1);
    });

    it("never turns ready when shutdown begins during start-up, and stops listening", async () => {
        const warmUp = gate();
        const app = createApp(testConfig(), { defaultMetrics: false, logSink: () => undefined, startup: warmUp.wait });
        try {
            const listening = app.listen(0, "127.0.0.1");
            await warmUp.entered;
            const done = app.shutdown("SIGTERM during start-up");
            warmUp.release();
            await listening;
            assert.notEqual(app.state(), "ready");
            await done;
            assert.equal(app.state(), "stopped");
            assert.equal(app.server.listening, false);
            assert.equal(app.metricsServer.listening, false);
        } finally {
            warmUp.release();
            await forceStop(app);
        }
    });

    it("stops at once when it never listened", async () => {
        const app = createApp(testConfig(), { defaultMetrics: false, logSink: () => undefined });
        assert.deepEqual(await app.shutdown(), { forced: false });
        assert.equal(app.state(), "stopped");
    });
});
