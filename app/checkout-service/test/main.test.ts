/**
 * The real entrypoint in a child process: env validation exits non-zero with a useful message,
 * SIGTERM drains and exits 0. Slower than the in-process tests (ts-node start-up), so kept few.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

import { request, tryConnect, killedAfterEach, freePort } from "./helpers";

const appDir = path.resolve(__dirname, "..");
const main = path.join(appDir, "src", "main.ts");

function runMain(env: Record<string, string>): {
    child: ChildProcess;
    stdout: string[];
    stderr: string[];
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
    const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), main], {
        cwd: appDir,
        // Only what the container gets, plus PATH: nothing leaks in from the developer's shell.
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: string[] = [];
    const stderr: string[] = [];
    child.stdout?.setEncoding("utf8").on("data", (d: string) => stdout.push(d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => stderr.push(d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    return { child, stdout, stderr, exited };
}

function logLines(chunks: string[]): Array<Record<string, unknown>> {
    return chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("checkout-service entrypoint (src/main.ts)", function () {
    this.timeout(30_000);
    const children = killedAfterEach();

    it("refuses to start with a bad environment, naming each variable, and exits 1", async () => {
        const run = runMain({ PORT: "99999", METRICS_PORT: "metrics", DB_POOL_MAX: "lots" });
        children.push(run.child);
        const { code } = await run.exited;
        assert.equal(code, 1);
        const [line] = logLines(run.stderr);
        assert.equal(line?.msg, "invalid configuration; refusing to start");
        assert.deepEqual(line?.problems, [
            'PORT must be an integer from 1 to 65535; got "99999"',
            'METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "metrics"',
            "OTEL_SERVICE_NAME is required (a non-empty string); it is unset",
            'DB_POOL_MAX must be an integer from 1 to 1000; got "lots"',
        ]);
        assert.equal(run.stdout.join(""), "", "nothing served, nothing logged as running");
    });

    it("serves on PORT and METRICS_PORT, then on SIGTERM closes both, logs the drain and exits 0", async () => {
        const port = await freePort();
        const metricsPort = await freePort();
        const run = runMain({
            PORT: String(port),
            METRICS_PORT: String(metricsPort),
            OTEL_SERVICE_NAME: "checkout-main-test",
            DB_POOL_MAX: "4",
            SHUTDOWN_TIMEOUT_SECONDS: "10",
        });
        children.push(run.child);
        // Wait for the "ready" line: a condition, not a sleep.
        while (!logLines(run.stdout).some((l) => l.msg === "ready")) {
            await Promise.race([new Promise((r) => run.child.stdout?.once("data", r)), run.exited]);
            assert.equal(run.child.exitCode, null, `exited early: ${run.stderr.join("")}`);
        }
        const res = await request(port, "/health/ready");
        assert.equal(res.status, 200);
        assert.equal((await request(port, "/metrics")).status, 404);
        const scrape = await request(metricsPort, "/metrics");
        assert.equal(scrape.status, 200);
        assert.match(scrape.text, /^process_cpu_user_seconds_total\{service="checkout-main-test"\} /m);

        run.child.kill("SIGTERM");
        const { code } = await run.exited;
        assert.equal(code, 0, run.stderr.join(""));
        assert.equal(await tryConnect(metricsPort), "ECONNREFUSED");
        const messages = logLines(run.stdout);
        const started = messages.find((l) => l.msg === "shutdown started");
        assert.equal(started?.reason, "SIGTERM");
        assert.equal(started?.service, "checkout-main-test");
        assert.deepEqual(messages.find((l) => l.msg === "shutdown complete")?.forced, false);
        assert.ok(messages.some((l) => l.msg === "request" && l.route === "/health/ready" && l.status === 200));
    });
});
