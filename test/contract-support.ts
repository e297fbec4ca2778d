/**
 * Support for test/contract.test.ts, the contract between the checkout Deployment (as synthesized)
 * and the checkout-service it runs.
 *
 * - The pure part: `checkContract(deployment, facts)` lists every way the Deployment disagrees with
 *   the service. `facts` are what the service and its image say about themselves: the variables it
 *   reads (ENV_VARS), the Dockerfile's runtime USER and EXPOSE, and what the running service
 *   answered on each probe path, once ready and while draining after SIGTERM.
 * - The live part: `runService` starts the real entrypoint as a child process with the container's
 *   environment, records those answers, sends SIGTERM and records how it exits. Every wait in it
 *   has a deadline, and it never leaves a socket, timer or process behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";

import { ConfigError, loadConfig, type EnvVarSpec } from "../app/checkout-service/src/config";
import { parseDockerfile } from "../app/checkout-service/test/dockerfile";

// ---------------------------------------------------------------------------------------------
// The parts of a Deployment the contract reads (the manifest is plain YAML, so these are checked
// shapes rather than generated models).

export interface EnvVar {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: unknown;
}

export interface ContainerPort {
    readonly name?: string;
    readonly containerPort: number;
    readonly protocol?: string;
}

export interface Probe {
    readonly httpGet?: { readonly path?: string; readonly port: number | string; readonly scheme?: string };
    readonly exec?: unknown;
    readonly tcpSocket?: unknown;
    readonly grpc?: unknown;
}

export interface SecurityContext {
    readonly runAsUser?: number;
    readonly runAsGroup?: number;
    readonly readOnlyRootFilesystem?: boolean;
}

export interface Container {
    readonly name: string;
    readonly ports?: readonly ContainerPort[];
    readonly env?: readonly EnvVar[];
    readonly readinessProbe?: Probe;
    readonly livenessProbe?: Probe;
    readonly startupProbe?: Probe;
    readonly lifecycle?: {
        readonly preStop?: {
            readonly sleep?: { readonly seconds: number };
            readonly exec?: { readonly command?: readonly string[] };
            readonly httpGet?: unknown;
        };
    };
    readonly securityContext?: SecurityContext;
    readonly volumeMounts?: readonly {
        readonly name: string;
        readonly mountPath: string;
        readonly readOnly?: boolean;
    }[];
}

export interface Volume {
    readonly name: string;
    readonly emptyDir?: { readonly medium?: string; readonly sizeLimit?: string };
    readonly [source: string]: unknown;
}

export interface PodSpec {
    readonly containers: readonly Container[];
    readonly volumes?: readonly Volume[];
    readonly securityContext?: SecurityContext;
    readonly terminationGracePeriodSeconds?: number;
}

export interface Deployment {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata?: { readonly name?: string; readonly namespace?: string };
    readonly spec?: {
        readonly template?: {
            readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
            readonly spec?: PodSpec;
        };
    };
}

/** The parsed YAML of a Deployment manifest, after checking that it is one. */
export function asDeployment(value: unknown): Deployment {
    const d = value as Partial<Deployment> | null;
    if (d?.apiVersion !== "apps/v1" || d.kind !== "Deployment") {
        throw new Error(`not an apps/v1 Deployment: ${JSON.stringify(value).slice(0, 200)}`);
    }
    if (!Array.isArray(d.spec?.template?.spec?.containers)) {
        throw new Error(`Deployment ${d.metadata?.name ?? "?"} has no spec.template.spec.containers`);
    }
    return d as Deployment;
}

export function podOf(deployment: Deployment): PodSpec {
    const pod = deployment.spec?.template?.spec;
    if (pod === undefined) {
        throw new Error("Deployment has no spec.template.spec");
    }
    return pod;
}

export function containerOf(deployment: Deployment, name: string): Container | undefined {
    return podOf(deployment).containers.find((c) => c.name === name);
}

/** The Secret key a variable is read from (`valueFrom.secretKeyRef`), if it is read from one. */
export function secretKeyRefOf(e: EnvVar): { readonly name: string; readonly key: string } | undefined {
    const ref = (e.valueFrom as { secretKeyRef?: { name?: unknown; key?: unknown } } | undefined)?.secretKeyRef;
    return typeof ref?.name === "string" && typeof ref.key === "string" ? { name: ref.name, key: ref.key } : undefined;
}

/**
 * The container's environment as the service will see it: literal values as written, and for a
 * variable read from a Secret key the value the test stands in for that Secret with
 * (`secretValues`, by variable name). Other `valueFrom` sources (ConfigMaps, the downward API), and
 * a Secret-backed variable without a test value, cannot be reproduced here and are refused.
 */
export function containerEnvironment(
    container: Container,
    secretValues: Readonly<Record<string, string>> = {},
): Record<string, string> {
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
        const ref = secretKeyRefOf(e);
        if (ref !== undefined) {
            const value = secretValues[e.name];
            if (value === undefined) {
                throw new Error(
                    `env ${e.name} comes from Secret ${ref.name} key ${ref.key}; give the contract test a value to stand in for it`,
                );
            }
            env[e.name] = value;
        } else if (e.value === undefined) {
            throw new Error(`env ${e.name} has no literal value (valueFrom?); the contract test cannot reproduce it`);
        } else {
            env[e.name] = e.value;
        }
    }
    return env;
}

export type ProbeKind = "readinessProbe" | "livenessProbe" | "startupProbe";

/** What each probe's path must answer: once ready, and during the drain after SIGTERM. */
export const PROBE_EXPECTATIONS: Readonly<Record<ProbeKind, { readonly ready: number; readonly draining?: number }>> = {
    // Draining pods must leave the endpoints...
    readinessProbe: { ready: 200, draining: 503 },
    // ...but must not be restarted while they finish in-flight requests.
    livenessProbe: { ready: 200, draining: 200 },
    // The kubelet stops running the startup probe after its first success: only "ready" matters.
    startupProbe: { ready: 200 },
};

const PROBE_KINDS = Object.keys(PROBE_EXPECTATIONS) as ProbeKind[];

/** The HTTP paths the container's probes GET (duplicates removed). */
export function probePaths(container: Container | undefined): string[] {
    const paths = PROBE_KINDS.map((kind) => container?.[kind]?.httpGet).filter((g) => g !== undefined);
    return [...new Set(paths.map((g) => g.path ?? "/"))];
}

// ---------------------------------------------------------------------------------------------
// What the service says about itself.

/** An HTTP status, or what went wrong instead ("ECONNREFUSED", "closed without a response", ...). */
export type Answer = number | string;

export interface ServiceFacts {
    /** The container that runs the service. */
    readonly containerName: string;
    /** The variables the service reads (ENV_VARS of src/config.ts). */
    readonly envVars: readonly EnvVarSpec[];
    /** The runtime stage of the Dockerfile, as written. */
    readonly image: { readonly user: string | undefined; readonly exposedPorts: readonly string[] };
    /**
     * What the running service answered to `GET <path>`: once ready (on a new connection), and
     * after SIGTERM while draining (on a connection opened before, as new ones are refused then).
     */
    readonly answers: { readonly ready: ReadonlyMap<string, Answer>; readonly draining: ReadonlyMap<string, Answer> };
    /**
     * The values the test stands in for Secret-backed variables with, by variable name (the live
     * run's database, or plausible values): checked as the service would check the real ones.
     * @default {}
     */
    readonly secretValues?: Readonly<Record<string, string>>;
}

/** USER and EXPOSE of the Dockerfile's last (runtime) stage. */
export function imageFacts(dockerfile: string): ServiceFacts["image"] {
    const stages = parseDockerfile(dockerfile).stages;
    const runtime = stages[stages.length - 1];
    const of = (keyword: string) => (runtime?.instructions ?? []).filter((i) => i.keyword === keyword);
    return {
        user: of("USER").pop()?.rest.trim(),
        exposedPorts: of("EXPOSE").flatMap((i) => i.rest.split(/\s+/).filter((p) => p !== "")),
    };
}

// ---------------------------------------------------------------------------------------------
// The contract, as pure checks. Each returns one line per problem; [] means the Deployment agrees.

/** The value the service will use for `name`: the Deployment's literal value, else the service's default. */
function effective(container: Container, facts: ServiceFacts, name: string): string | undefined {
    const set = (container.env ?? []).filter((e) => e.name === name).pop();
    const value = set?.value;
    return value === undefined || value === "" ? facts.envVars.find((v) => v.name === name)?.default : value;
}

function withContainer(
    deployment: Deployment,
    facts: ServiceFacts,
    check: (container: Container, pod: PodSpec) => string[],
): string[] {
    const pod = podOf(deployment);
    const container = containerOf(deployment, facts.containerName);
    if (container === undefined) {
        return [
            `the Deployment has no container named ${facts.containerName} (has ${pod.containers.map((c) => c.name).join(", ")})`,
        ];
    }
    return check(container, pod);
}

/** Every variable the Deployment sets is one the service reads; every required one is set, validly. */
export function checkEnv(deployment: Deployment, facts: ServiceFacts): string[] {
    return withContainer(deployment, facts, (container) => {
        const problems: string[] = [];
        const env = container.env ?? [];
        const reads = new Set(facts.envVars.map((v) => v.name));
        const seen = new Set<string>();
        for (const e of env) {
            if (seen.has(e.name)) {
                problems.push(`env ${e.name} is set more than once (Kubernetes keeps the last)`);
            }
            seen.add(e.name);
            if (!reads.has(e.name)) {
                problems.push(
                    `env ${e.name} is set by the Deployment but the service does not read it (not in ENV_VARS)`,
                );
            }
            const ref = secretKeyRefOf(e);
            if (ref !== undefined) {
                if (facts.secretValues?.[e.name] === undefined) {
                    problems.push(
                        `env ${e.name} comes from Secret ${ref.name} key ${ref.key} and the contract has no value to stand in for it`,
                    );
                }
            } else if (e.value === undefined) {
                problems.push(`env ${e.name} has no literal value (valueFrom?); this contract cannot check it`);
            }
        }
        for (const v of facts.envVars) {
            if (v.required && !seen.has(v.name)) {
                problems.push(`env ${v.name} is required by the service but the Deployment does not set it`);
            }
        }
        // The values as the service validates them at start-up (the live run proves it end to end).
        const literal = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
        const fromSecrets = Object.fromEntries(
            env.flatMap((e) => {
                const value = secretKeyRefOf(e) === undefined ? undefined : facts.secretValues?.[e.name];
                return value === undefined ? [] : [[e.name, value]];
            }),
        );
        try {
            loadConfig({ ...literal, ...fromSecrets });
        } catch (err) {
            if (!(err instanceof ConfigError)) {
                throw err;
            }
            problems.push(...err.problems.map((p) => `the service refuses the Deployment's env: ${p}`));
        }
        return problems;
    });
}

/** The container port the scrapers' NetworkPolicy rule and `prometheus.io/port` refer to. */
export const METRICS_PORT_NAME = "metrics";

/**
 * The container declares the port the service listens on (PORT) and its metrics port (METRICS_PORT,
 * named "metrics"), every probe reaches PORT (a named
 * port resolved through the container's ports), and each probe path answers what its role needs.
 */
export function checkProbes(deployment: Deployment, facts: ServiceFacts): string[] {
    return withContainer(deployment, facts, (container) => {
        const problems: string[] = [];
        const port = Number(effective(container, facts, "PORT"));
        const metricsPort = Number(effective(container, facts, "METRICS_PORT"));
        const ports = container.ports ?? [];
        if (ports.length === 0) {
            problems.push(`the container declares no ports; the service listens on PORT ${port}`);
        }
        for (const p of ports) {
            // The port named "metrics" is the service's metrics listener; every other one must be PORT.
            const [variable, expected] = p.name === METRICS_PORT_NAME ? ["METRICS_PORT", metricsPort] : ["PORT", port];
            if (p.containerPort !== expected) {
                problems.push(
                    `containerPort ${p.containerPort}${p.name === undefined ? "" : ` (${p.name})`} is not the ${variable} the service listens on (${expected})`,
                );
            }
        }
        if (ports.length > 0 && !ports.some((p) => p.name === METRICS_PORT_NAME)) {
            problems.push(
                `the container declares no port named "${METRICS_PORT_NAME}"; the service serves /metrics on METRICS_PORT ${metricsPort}`,
            );
        }
        for (const kind of PROBE_KINDS) {
            const probe = container[kind];
            if (probe === undefined) {
                if (kind !== "startupProbe") {
                    problems.push(`the container has no ${kind}`);
                }
                continue;
            }
            const get = probe.httpGet;
            if (get === undefined) {
                problems.push(`${kind} is not an httpGet probe; the service offers HTTP health endpoints`);
                continue;
            }
            if (get.scheme !== undefined && get.scheme !== "HTTP") {
                problems.push(`${kind} uses scheme ${get.scheme}; the service speaks plain HTTP`);
            }
            const named = typeof get.port === "string" && !/^\d+$/.test(get.port);
            const resolved = named ? ports.find((p) => p.name === get.port)?.containerPort : Number(get.port);
            if (resolved === undefined) {
                problems.push(`${kind} names port "${get.port}", which the container does not declare`);
            } else if (resolved !== port) {
                problems.push(
                    `${kind} targets port ${resolved}${named ? ` ("${get.port}")` : ""}, but the service listens on PORT ${port}`,
                );
            }
            const probePath = get.path ?? "/";
            const expected = PROBE_EXPECTATIONS[kind];
            for (const phase of ["ready", "draining"] as const) {
                if (expected[phase] === undefined) continue;
                const answer = facts.answers[phase].get(probePath);
                const when = phase === "ready" ? "once the service was ready" : "while it drained after SIGTERM";
                if (answer === undefined) {
                    problems.push(`${kind}: GET ${probePath} was not tried against the service ${when}`);
                } else if (answer !== expected[phase]) {
                    problems.push(`${kind}: GET ${probePath} answered ${answer} ${when}; expected ${expected[phase]}`);
                }
            }
        }
        return problems;
    });
}

/** Seconds the preStop hook takes: a `sleep` action or an exec'd `sleep N`; 0 without a hook. */
export function preStopSeconds(container: Container): number | undefined {
    const preStop = container.lifecycle?.preStop;
    if (preStop === undefined) {
        return 0;
    }
    if (preStop.sleep !== undefined) {
        return preStop.sleep.seconds;
    }
    const command = (preStop.exec?.command ?? []).join(" ");
    const sleep = /(?:^|[\s;&])sleep\s+(\d+)\s*$/.exec(command);
    return sleep === null ? undefined : Number(sleep[1]);
}

/**
 * The kubelet runs preStop, then sends SIGTERM, and SIGKILLs at terminationGracePeriodSeconds
 * counted from the start: preStop + SHUTDOWN_TIMEOUT_SECONDS must stay below it. (Strictly below:
 * with whole seconds that leaves at least the 1 s the entrypoint's backstop timer may add.)
 */
export function checkShutdown(deployment: Deployment, facts: ServiceFacts): string[] {
    return withContainer(deployment, facts, (container, pod) => {
        const grace = pod.terminationGracePeriodSeconds ?? 30; // the Kubernetes default
        const shutdown = Number(effective(container, facts, "SHUTDOWN_TIMEOUT_SECONDS"));
        const preStop = preStopSeconds(container);
        if (preStop === undefined) {
            return ["the preStop hook's duration cannot be determined (only sleep, or exec sleep N, is understood)"];
        }
        if (!Number.isFinite(shutdown)) {
            return []; // an invalid value is checkEnv's problem
        }
        return preStop + shutdown < grace
            ? []
            : [
                  `preStop ${preStop} s + SHUTDOWN_TIMEOUT_SECONDS ${shutdown} s = ${preStop + shutdown} s is not below ` +
                      `terminationGracePeriodSeconds ${grace} s: the kubelet would SIGKILL a draining pod`,
              ];
    });
}

/** The image's USER is the uid (and gid) the Deployment runs as; EXPOSE matches the container's ports. */
export function checkImage(deployment: Deployment, facts: ServiceFacts): string[] {
    return withContainer(deployment, facts, (container, pod) => {
        const problems: string[] = [];
        const user = facts.image.user;
        const ids = user === undefined ? null : /^(\d+)(?::(\d+))?$/.exec(user);
        if (ids === null) {
            problems.push(`the image's runtime USER is ${user ?? "unset (root)"}; expected a numeric uid[:gid]`);
        } else {
            const [, uid, gid] = ids;
            const levels = [
                ["pod", pod.securityContext],
                ["container", container.securityContext],
            ] as const;
            if (levels.every(([, sc]) => sc?.runAsUser === undefined)) {
                problems.push(`the Deployment sets no runAsUser (pod or container); the image runs as uid ${uid}`);
            }
            for (const [level, sc] of levels) {
                if (sc?.runAsUser !== undefined && String(sc.runAsUser) !== uid) {
                    problems.push(
                        `${level} securityContext.runAsUser ${sc.runAsUser} is not the image's USER uid ${uid}`,
                    );
                }
                if (gid !== undefined && sc?.runAsGroup !== undefined && String(sc.runAsGroup) !== gid) {
                    problems.push(
                        `${level} securityContext.runAsGroup ${sc.runAsGroup} is not the image's USER gid ${gid}`,
                    );
                }
            }
        }
        const exposed = facts.image.exposedPorts.map((p) => p.replace(/\/tcp$/i, "")).sort();
        const declared = (container.ports ?? []).map((p) => String(p.containerPort)).sort();
        if (exposed.join(",") !== declared.join(",")) {
            problems.push(
                `the image EXPOSEs ${exposed.join(", ") || "nothing"} but the container declares ports ${declared.join(", ") || "none"}`,
            );
        }
        return problems;
    });
}

/** Read-only root filesystem, with a writable emptyDir at /tmp (the only place the service writes). */
export function checkFilesystem(deployment: Deployment, facts: ServiceFacts): string[] {
    return withContainer(deployment, facts, (container, pod) => {
        const problems: string[] = [];
        if (container.securityContext?.readOnlyRootFilesystem !== true) {
            problems.push("the container's securityContext.readOnlyRootFilesystem is not true");
        }
        const mount = (container.volumeMounts ?? []).find((m) => m.mountPath.replace(/\/+$/, "") === "/tmp");
        if (mount === undefined) {
            problems.push("nothing is mounted at /tmp, the one place the service may write");
            return problems;
        }
        if (mount.readOnly === true) {
            problems.push(`the /tmp mount (volume ${mount.name}) is readOnly`);
        }
        const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
        if (volume === undefined) {
            problems.push(`/tmp mounts volume ${mount.name}, which the pod does not define`);
        } else if (volume.emptyDir === undefined) {
            problems.push(`/tmp is volume ${mount.name}, which is not an emptyDir`);
        }
        return problems;
    });
}

export function checkContract(deployment: Deployment, facts: ServiceFacts): string[] {
    return [checkEnv, checkProbes, checkShutdown, checkImage, checkFilesystem].flatMap((check) =>
        check(deployment, facts),
    );
}

// ---------------------------------------------------------------------------------------------
// The live run.

const APP_DIR = path.resolve(__dirname, "..", "app", "checkout-service");

export interface ServiceProcess {
    readonly child: ChildProcess;
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    /** stdout and stderr so far, for failure messages. */
    output(): string;
}

/** The real entrypoint (src/main.ts through ts-node) with `env` and nothing else. */
export function spawnService(env: Readonly<Record<string, string>>): ServiceProcess {
    const child = spawn(
        process.execPath,
        ["-r", require.resolve("ts-node/register/transpile-only"), path.join(APP_DIR, "src", "main.ts")],
        // The image's WORKDIR is the service's folder, and so is the cwd here.
        { cwd: APP_DIR, env: { ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const chunks: string[] = [];
    child.stdout?.setEncoding("utf8").on("data", (d: string) => chunks.push(d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => chunks.push(d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const output = (): string => {
        const text = chunks.join("");
        return text.length > 4000 ? `...${text.slice(-4000)}` : text;
    };
    return { child, exited, output };
}

/** Ends the process if it still runs (SIGKILL), and waits (bounded) until it is gone. */
export async function killService(service: ServiceProcess | undefined): Promise<void> {
    if (service === undefined) {
        return;
    }
    if (service.child.exitCode === null && service.child.signalCode === null) {
        service.child.kill("SIGKILL");
    }
    await withDeadline(service.exited, 5_000);
}

export async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

/** `promise`'s value, or undefined after `ms`; the timer never outlives the call. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
    try {
        return await Promise.race([promise, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `attempt` until `done` accepts its result or `ms` pass; returns the last result. */
export async function poll<T>(ms: number, attempt: () => Promise<T>, done: (result: T) => boolean): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const result = await attempt();
        if (done(result) || Date.now() >= deadline) {
            return result;
        }
        await pause(25);
    }
}

/** GET on a new connection (no agent), bounded; the status, or the error's code. */
export function get(port: number, urlPath: string, timeoutMs = 5_000): Promise<Answer> {
    return new Promise((resolve) => {
        const req = http.request({ host: "127.0.0.1", port, path: urlPath, agent: false }, (res) => {
            res.resume();
            res.once("end", () => resolve(res.statusCode ?? "no status"));
            res.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
        req.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end();
    });
}

export interface HeldRequest {
    /** Sends the end of the request head; resolves with the status (bounded). */
    complete(timeoutMs?: number): Promise<Answer>;
    destroy(): void;
}

/**
 * A connection carrying the first bytes of `GET <path>`. The server counts it as busy (a drain
 * neither closes it nor finishes without it), so completing it after SIGTERM shows what a probe
 * path answers during the drain. The server has read those bytes once any later request on a new
 * connection got its answer: they were in its socket buffer before that connection was even opened.
 */
export async function holdRequest(port: number, urlPath: string): Promise<HeldRequest> {
    const socket = net.connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    const closed = new Promise<string | undefined>((resolve) => {
        let error: string | undefined;
        socket.on("data", (chunk: Buffer) => received.push(chunk));
        socket.once("error", (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
        socket.once("close", () => resolve(error));
    });
    await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
    });
    socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: contract-test\r\n`);
    return {
        complete: async (timeoutMs = 10_000) => {
            socket.write("\r\n");
            // The drain answers with Connection: close, so the server ends the connection.
            const outcome = await withDeadline(closed, timeoutMs);
            socket.destroy();
            const head = Buffer.concat(received).toString("latin1");
            const status = /^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1];
            if (status !== undefined) {
                return Number(status);
            }
            return outcome ?? (received.length === 0 ? "closed without a response" : "timeout");
        },
        destroy: () => socket.destroy(),
    };
}

export interface LiveRun {
    /** The free port given as PORT. */
    readonly port: number;
    /** What GET `metricsPath` answered once ready: on the METRICS_PORT given, and on PORT. */
    readonly metrics: { readonly onMetricsPort: Answer; readonly onAppPort: Answer };
    /** Readiness path's answer when waiting for the service stopped (200 = became ready). */
    readonly readiness: Answer;
    /** Per path, on a new connection once ready. */
    readonly ready: Map<string, Answer>;
    /** What a new connection got from the readiness path once SIGTERM was handled (refused, or 503). */
    readonly afterSigterm: Answer;
    /** Per path, on a connection opened before SIGTERM and completed during the drain. */
    readonly draining: Map<string, Answer>;
    /** Whether the process still ran once SIGTERM was handled and before the held requests completed. */
    readonly runningWhileDraining: boolean;
    /** How the process ended after SIGTERM; undefined when it did not within the deadline. */
    readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export interface LiveOptions {
    readonly readinessPath: string;
    /** The free port given as METRICS_PORT, and the path scraped there. */
    readonly metricsPort: number;
    readonly metricsPath: string;
    /** Paths to ask, ready and draining. */
    readonly paths: readonly string[];
    /** How long the process may take to exit once the drain has nothing left (generous). */
    readonly exitDeadlineMs: number;
}

/**
 * Start-up, probes, SIGTERM, drain, exit: one pass over the real process. `service` must have been
 * spawned with PORT = `port`. Records what happened instead of asserting, so each test reports its
 * own part; the caller still kills the process in `after` in case this throws half-way.
 */
export async function exerciseService(service: ServiceProcess, port: number, o: LiveOptions): Promise<LiveRun> {
    const running = () => service.child.exitCode === null && service.child.signalCode === null;
    // Ready: the kubelet's view, i.e. the readiness path answers 200 (ts-node start-up takes a second or two).
    const readiness = await poll(
        20_000,
        () => get(port, o.readinessPath, 2_000),
        (answer) => answer === 200 || !running(),
    );
    const held = new Map<string, HeldRequest>();
    try {
        if (running()) {
            for (const p of o.paths) {
                held.set(p, await holdRequest(port, p));
            }
        }
        // Also the point from which the held requests' first bytes have been read (see holdRequest).
        const ready = new Map<string, Answer>();
        for (const p of o.paths) {
            ready.set(p, await get(port, p));
        }
        const metrics = {
            onMetricsPort: await get(o.metricsPort, o.metricsPath),
            onAppPort: await get(port, o.metricsPath),
        };

        service.child.kill("SIGTERM");
        // Handled once the readiness path stops answering 200 to new connections.
        const afterSigterm = await poll(
            10_000,
            () => get(port, o.readinessPath, 2_000),
            (answer) => answer !== 200 || !running(),
        );
        // The held requests keep the drain open, so the process must still be there.
        const runningWhileDraining = running();
        const draining = new Map<string, Answer>();
        const answers = await Promise.all([...held.values()].map((h) => h.complete()));
        [...held.keys()].forEach((p, i) => draining.set(p, answers[i] ?? "no answer"));
        const exit = await withDeadline(service.exited, o.exitDeadlineMs);
        return { port, metrics, readiness, ready, afterSigterm, draining, runningWhileDraining, exit };
    } finally {
        for (const h of held.values()) {
            h.destroy();
        }
    }
}
