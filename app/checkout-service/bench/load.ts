/**
 * Bounded load test of checkout-service on 127.0.0.1: GET /health/ready and POST /checkout,
 * `runs` measured runs of `duration` seconds each with `connections` connections (after a 1 s
 * warm-up per scenario), reporting the median over runs of requests/s and of p99 latency.
 *
 *   node --require ts-node/register/transpile-only app/checkout-service/bench/load.ts [--json]
 *        [--runs 5] [--duration 3] [--connections 10]
 *
 * The server runs in a child process (bench/server.ts). Any error, timeout or non-2xx response
 * fails the run: a benchmark of 400s would measure the wrong thing. Figures depend on the machine;
 * compare them run against run on the same host, not against a fixed threshold.
 */
import { fork, type ChildProcess } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";

import autocannon from "autocannon";

interface Scenario {
    readonly name: string;
    readonly method: "GET" | "POST";
    readonly path: string;
    readonly expectedStatus: number;
    readonly headers?: Record<string, string>;
    readonly body?: string;
}

const SCENARIOS: readonly Scenario[] = [
    { name: "GET /health/ready", method: "GET", path: "/health/ready", expectedStatus: 200 },
    {
        name: "POST /checkout",
        method: "POST",
        path: "/checkout",
        expectedStatus: 201,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
            cartId: "bench-cart",
            items: [
                { sku: "SKU-1", quantity: 2 },
                { sku: "SKU-2", quantity: 1 },
            ],
            currency: "EUR",
        }),
    },
];

/** Bounds keep `npm run bench` a bounded job on a shared 2-core machine. */
const LIMITS = { runs: [1, 20], duration: [1, 30], connections: [1, 100] } as const;

interface Options {
    runs: number;
    duration: number;
    connections: number;
    json: boolean;
}

function parseArgs(argv: readonly string[]): Options {
    const options: Options = { runs: 5, duration: 3, connections: 10, json: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] ?? "";
        if (arg === "--json") {
            options.json = true;
            continue;
        }
        const key = arg.replace(/^--/, "");
        if (!(key in LIMITS)) {
            throw new Error(`unknown argument ${arg}; expected --json, --runs, --duration or --connections`);
        }
        const name = key as keyof typeof LIMITS;
        const raw = argv[++i] ?? "";
        const value = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
        const [min, max] = LIMITS[name];
        if (!(value >= min && value <= max)) {
            throw new Error(`--${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw)}`);
        }
        options[name] = value;
    }
    return options;
}

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
    const child = fork(path.join(__dirname, "server.ts"), [], {
        execArgv: ["--require", require.resolve("ts-node/register/transpile-only")],
        // Request logs go to /dev/null: written (as in production), not kept.
        stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    const port = await new Promise<number>((resolve, reject) => {
        child.once("message", (m: { port?: number }) =>
            m.port === undefined ? reject(new Error("no port")) : resolve(m.port),
        );
        child.once("exit", (code) => reject(new Error(`bench server exited with ${String(code)} before listening`)));
    });
    return { child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
}

interface RunFigures {
    readonly requestsPerSecond: number;
    readonly p99Ms: number;
}

async function measure(port: number, scenario: Scenario, duration: number, connections: number): Promise<RunFigures> {
    const result = await autocannon({
        url: `http://127.0.0.1:${port}${scenario.path}`,
        method: scenario.method,
        headers: scenario.headers,
        body: scenario.body,
        connections,
        duration,
    });
    const statuses = Object.keys(result.statusCodeStats ?? {});
    if (
        result.errors > 0 ||
        result.timeouts > 0 ||
        result.non2xx > 0 ||
        statuses.some((s) => Number(s) !== scenario.expectedStatus)
    ) {
        throw new Error(
            `${scenario.name}: errors=${result.errors} timeouts=${result.timeouts} non2xx=${result.non2xx} statuses=${statuses.join(",")}; expected only ${scenario.expectedStatus}`,
        );
    }
    return { requestsPerSecond: result.requests.average, p99Ms: result.latency.p99 };
}

async function main(): Promise<void> {
    const options = parseArgs(process.argv.slice(2));
    const { child, port } = await startServer();
    const scenarios: Array<{ name: string; medianRequestsPerSecond: number; medianP99Ms: number; runs: RunFigures[] }> =
        [];
    try {
        for (const scenario of SCENARIOS) {
            await measure(port, scenario, 1, options.connections); // warm-up: JIT, sockets; not counted
            const runs: RunFigures[] = [];
            for (let i = 0; i < options.runs; i++) {
                runs.push(await measure(port, scenario, options.duration, options.connections));
            }
            scenarios.push({
                name: scenario.name,
                medianRequestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
                medianP99Ms: median(runs.map((r) => r.p99Ms)),
                runs,
            });
        }
    } finally {
        await stopServer(child);
    }

    const report = {
        target: "127.0.0.1",
        node: process.version,
        cpus: os.cpus().length,
        runs: options.runs,
        durationSeconds: options.duration,
        connections: options.connections,
        /** autocannon times responses in whole milliseconds; a p99 of 0 means under 1 ms. */
        latencyResolutionMs: 1,
        scenarios,
    };
    if (options.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
    }
    console.log(
        `checkout-service load test: ${options.runs} runs x ${options.duration} s, ${options.connections} connections, ` +
            `127.0.0.1, Node ${process.version}, ${report.cpus} CPUs (medians over runs)`,
    );
    console.table(
        Object.fromEntries(
            scenarios.map((s) => [
                s.name,
                {
                    "requests/s": Math.round(s.medianRequestsPerSecond),
                    // autocannon times responses in whole milliseconds.
                    "p99 ms": s.medianP99Ms < 1 ? "<1" : s.medianP99Ms,
                    "req/s min..max": `${Math.round(Math.min(...s.runs.map((r) => r.requestsPerSecond)))}..${Math.round(Math.max(...s.runs.map((r) => r.requestsPerSecond)))}`,
                },
            ]),
        ),
    );
}

main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
});
