/**
 * Contract test: the checkout Deployment, as the dev stack synthesizes it (and as reviewers see it
 * in test/golden), against the real checkout-service.
 *
 * The service's real entrypoint runs as a child process with exactly the container's environment;
 * its probe paths, its drain after a real SIGTERM and its exit are observed, and those observations
 * plus what the service declares (ENV_VARS, its Dockerfile's USER and EXPOSE) go through pure checks
 * (test/contract-support.ts). A table of mutated manifests shows that each check can fail.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

import { ENV_VARS } from "../app/checkout-service/src/config";
import { postgresBin, startPostgres, type Postgres } from "../app/checkout-service/test/postgres";
import { DB_SECRET_ENV } from "../components/checkout/spec";
import { GOLDEN_DIR } from "../scripts/lib/synthesize";
import { stackSynthesis } from "./shared-runs";
import {
    asDeployment,
    checkContract,
    checkEnv,
    checkFilesystem,
    checkImage,
    checkProbes,
    checkShutdown,
    containerEnvironment,
    containerOf,
    exerciseService,
    freePort,
    imageFacts,
    killService,
    METRICS_PORT_NAME,
    podOf,
    preStopSeconds,
    probePaths,
    secretKeyRefOf,
    spawnService,
    type Container,
    type Deployment,
    type LiveRun,
    type PodSpec,
    type Probe,
    type ServiceFacts,
    type ServiceProcess,
} from "./contract-support";

const STACK = "dev";
const MANIFEST = "manifests/deployment.checkout.checkout-service.yaml";
const CONTAINER_NAME = "checkout-service";
const DOCKERFILE = path.resolve(__dirname, "..", "app", "checkout-service", "Dockerfile");

type DeepMutable<T> = T extends readonly (infer U)[]
    ? DeepMutable<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
      : T;
type MutableDeployment = DeepMutable<Deployment>;

function container(d: MutableDeployment): DeepMutable<Container> {
    const found = d.spec?.template?.spec?.containers.find((c) => c.name === CONTAINER_NAME);
    if (found === undefined) {
        throw new Error(`no container ${CONTAINER_NAME}`);
    }
    return found;
}

function pod(d: MutableDeployment): DeepMutable<PodSpec> {
    const spec = d.spec?.template?.spec;
    if (spec === undefined) {
        throw new Error("no pod spec");
    }
    return spec;
}

function httpGet(probe: DeepMutable<Probe> | undefined): NonNullable<DeepMutable<Probe>["httpGet"]> {
    if (probe?.httpGet === undefined) {
        throw new Error("not an httpGet probe");
    }
    return probe.httpGet;
}

function setEnv(d: MutableDeployment, name: string, value: string): void {
    const env = (container(d).env ??= []);
    const found = env.find((e) => e.name === name);
    if (found === undefined) {
        env.push({ name, value });
    } else {
        found.value = value;
    }
}

/**
 * What the test stands in for the database Secret with: the throw-away PostgreSQL of the live run,
 * or, when the manifest reads no Secret, plausible values for the mutants that add those variables.
 */
function databaseSecretValues(pg: Postgres | undefined): Record<keyof typeof DB_SECRET_ENV, string> {
    return pg === undefined
        ? { DB_HOST: "db.internal", DB_PORT: "5432", DB_NAME: "orders", DB_USERNAME: "checkout", DB_PASSWORD: "x" }
        : {
              DB_HOST: pg.host,
              DB_PORT: String(pg.port),
              DB_NAME: pg.database,
              DB_USERNAME: pg.user,
              DB_PASSWORD: pg.password,
          };
}

/** Replaces (or adds) a variable with one read from a Secret key. */
function setSecretEnv(d: MutableDeployment, name: string, secret: string, key: string): void {
    const env = (container(d).env ??= []);
    const rest = env.filter((e) => e.name !== name);
    rest.push({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
    container(d).env = rest;
}

/** The path the scraper is told to read (the pod's `prometheus.io/path`), as the collector defaults it. */
function metricsPathOf(d: Deployment): string {
    return d.spec?.template?.metadata?.annotations?.["prometheus.io/path"] ?? "/metrics";
}

interface Mutant {
    readonly name: string;
    readonly deployment?: (d: MutableDeployment) => void;
    readonly facts?: (f: ServiceFacts) => ServiceFacts;
    /** One substring per problem checkContract must report, no more, no fewer. */
    readonly expect: readonly string[];
}

const MUTANTS: readonly Mutant[] = [
    // Probes: paths, roles and ports.
    {
        name: "readiness probe on a path the service does not serve",
        deployment: (d) => void (httpGet(container(d).readinessProbe).path = "/healthz"),
        expect: [
            "readinessProbe: GET /healthz answered 404 once the service was ready; expected 200",
            "readinessProbe: GET /healthz answered 404 while it drained after SIGTERM; expected 503",
        ],
    },
    {
        name: "readiness probe on the liveness path (a draining pod would stay in the endpoints)",
        deployment: (d) => void (httpGet(container(d).readinessProbe).path = "/health/live"),
        expect: ["readinessProbe: GET /health/live answered 200 while it drained after SIGTERM; expected 503"],
    },
    {
        name: "liveness probe on the readiness path (a draining pod would be restarted)",
        deployment: (d) => void (httpGet(container(d).livenessProbe).path = "/health/ready"),
        expect: ["livenessProbe: GET /health/ready answered 503 while it drained after SIGTERM; expected 200"],
    },
    {
        name: "startup probe on a path the service does not serve",
        deployment: (d) => void (httpGet(container(d).startupProbe).path = "/startup"),
        expect: ["startupProbe: GET /startup answered 404 once the service was ready"],
    },
    {
        name: "readiness probe removed",
        deployment: (d) => void delete container(d).readinessProbe,
        expect: ["the container has no readinessProbe"],
    },
    {
        name: "liveness probe that is not an HTTP GET",
        deployment: (d) => void (container(d).livenessProbe = { exec: { command: ["true"] } }),
        expect: ["livenessProbe is not an httpGet probe"],
    },
    {
        name: "probe naming a port the container does not declare",
        deployment: (d) => void (httpGet(container(d).livenessProbe).port = "admin"),
        expect: ['livenessProbe names port "admin", which the container does not declare'],
    },
    {
        name: "probe on the metrics port (it serves /metrics only: every probe would fail)",
        deployment: (d) => void (httpGet(container(d).livenessProbe).port = "metrics"),
        expect: ['livenessProbe targets port 9464 ("metrics"), but the service listens on PORT 8080'],
    },
    {
        name: "probe on a numeric port other than PORT",
        deployment: (d) => void (httpGet(container(d).readinessProbe).port = 9090),
        expect: ["readinessProbe targets port 9090, but the service listens on PORT 8080"],
    },
    {
        name: "containerPort other than PORT (and the image's EXPOSE)",
        deployment: (d) => void ((container(d).ports ?? [])[0].containerPort = 9090),
        expect: [
            "containerPort 9090 (http) is not the PORT the service listens on (8080)",
            'startupProbe targets port 9090 ("http"), but the service listens on PORT 8080',
            'readinessProbe targets port 9090 ("http"), but the service listens on PORT 8080',
            'livenessProbe targets port 9090 ("http"), but the service listens on PORT 8080',
            "the image EXPOSEs 8080, 9464 but the container declares ports 9090, 9464",
        ],
    },
    {
        name: "metrics containerPort other than METRICS_PORT (and the image's EXPOSE)",
        deployment: (d) => void ((container(d).ports ?? [])[1].containerPort = 9100),
        expect: [
            "containerPort 9100 (metrics) is not the METRICS_PORT the service listens on (9464)",
            "the image EXPOSEs 8080, 9464 but the container declares ports 8080, 9100",
        ],
    },
    {
        name: "no metrics port declared (the scraper rule and prometheus.io/port would name nothing)",
        deployment: (d) => void (container(d).ports = (container(d).ports ?? []).filter((p) => p.name !== "metrics")),
        expect: [
            'the container declares no port named "metrics"; the service serves /metrics on METRICS_PORT 9464',
            "the image EXPOSEs 8080, 9464 but the container declares ports 8080",
        ],
    },
    {
        name: "METRICS_PORT other than the metrics containerPort",
        deployment: (d) => setEnv(d, "METRICS_PORT", "9100"),
        expect: ["containerPort 9464 (metrics) is not the METRICS_PORT the service listens on (9100)"],
    },
    {
        name: "METRICS_PORT equal to PORT (metrics back on the app port)",
        deployment: (d) => setEnv(d, "METRICS_PORT", "8080"),
        expect: [
            `the service refuses the Deployment's env: METRICS_PORT must be an integer from 1 to 65535, other than PORT; got "8080" with PORT "8080"`,
            "containerPort 9464 (metrics) is not the METRICS_PORT the service listens on (8080)",
        ],
    },
    {
        name: "PORT other than the containerPort",
        deployment: (d) => setEnv(d, "PORT", "9090"),
        expect: [
            "containerPort 8080 (http) is not the PORT the service listens on (9090)",
            'startupProbe targets port 8080 ("http"), but the service listens on PORT 9090',
            'readinessProbe targets port 8080 ("http"), but the service listens on PORT 9090',
            'livenessProbe targets port 8080 ("http"), but the service listens on PORT 9090',
        ],
    },
    // Environment.
    {
        name: "a variable the service does not read",
        deployment: (d) => setEnv(d, "DATABASE_POOL_SIZE", "10"),
        expect: ["env DATABASE_POOL_SIZE is set by the Deployment but the service does not read it"],
    },
    {
        name: "a required variable missing",
        deployment: (d) => void (container(d).env = (container(d).env ?? []).filter((e) => e.name !== "DB_POOL_MAX")),
        expect: [
            "env DB_POOL_MAX is required by the service but the Deployment does not set it",
            "the service refuses the Deployment's env: DB_POOL_MAX is required",
        ],
    },
    {
        name: "a value the service refuses",
        deployment: (d) => setEnv(d, "DB_POOL_MAX", "0"),
        expect: ["the service refuses the Deployment's env: DB_POOL_MAX must be"],
    },
    {
        name: "a variable set twice",
        deployment: (d) => void (container(d).env ?? []).push({ name: "LOG_LEVEL", value: "info" }),
        expect: ["env LOG_LEVEL is set more than once"],
    },
    {
        name: "the database connection from the Secret an ExternalSecret writes (the service reads every DB_* there)",
        deployment: (d) => {
            for (const name of Object.keys(DB_SECRET_ENV)) setSecretEnv(d, name, "checkout-db", name);
        },
        expect: [],
    },
    {
        name: "only part of the database connection from the Secret",
        deployment: (d) => {
            setSecretEnv(d, "DB_HOST", "checkout-db", "DB_HOST");
            setSecretEnv(d, "DB_PASSWORD", "checkout-db", "DB_PASSWORD");
            container(d).env = (container(d).env ?? []).filter((e) => !["DB_NAME", "DB_USERNAME"].includes(e.name));
        },
        expect: [
            "the service refuses the Deployment's env: DB_NAME, DB_USERNAME must be set when DB_HOST, DB_PASSWORD are",
        ],
    },
    {
        name: "a required variable from a Secret the contract has no value for",
        deployment: (d) => setSecretEnv(d, "OTEL_SERVICE_NAME", "checkout", "service-name"),
        expect: [
            "env OTEL_SERVICE_NAME comes from Secret checkout key service-name and the contract has no value to stand in for it",
            "the service refuses the Deployment's env: OTEL_SERVICE_NAME is required",
        ],
    },
    {
        name: "a variable from a ConfigMap (not reproducible here)",
        deployment: (d) => {
            const env = (container(d).env ?? []).find((e) => e.name === "LOG_LEVEL");
            if (env !== undefined) {
                delete env.value;
                env.valueFrom = { configMapKeyRef: { name: "checkout", key: "log-level" } };
            }
        },
        expect: ["env LOG_LEVEL has no literal value"],
    },
    {
        name: "the service starts requiring a variable the Deployment does not set",
        facts: (f) => ({
            ...f,
            envVars: [...f.envVars, { name: "PAYMENTS_URL", required: true, allowed: "a URL", description: "" }],
        }),
        expect: ["env PAYMENTS_URL is required by the service but the Deployment does not set it"],
    },
    // Shutdown budget.
    {
        name: "drain longer than the grace period allows",
        deployment: (d) => setEnv(d, "SHUTDOWN_TIMEOUT_SECONDS", "40"),
        expect: ["preStop 10 s + SHUTDOWN_TIMEOUT_SECONDS 40 s = 50 s is not below terminationGracePeriodSeconds 45 s"],
    },
    {
        name: "grace period shortened",
        deployment: (d) => void (pod(d).terminationGracePeriodSeconds = 30),
        expect: ["= 35 s is not below terminationGracePeriodSeconds 30 s"],
    },
    {
        name: "preStop sleep using up the slack (equal is not below)",
        deployment: (d) => void (container(d).lifecycle = { preStop: { sleep: { seconds: 20 } } }),
        expect: ["preStop 20 s + SHUTDOWN_TIMEOUT_SECONDS 25 s = 45 s is not below terminationGracePeriodSeconds 45 s"],
    },
    {
        name: "grace period unset (Kubernetes default 30 s)",
        deployment: (d) => void delete pod(d).terminationGracePeriodSeconds,
        expect: ["= 35 s is not below terminationGracePeriodSeconds 30 s"],
    },
    // Image and user.
    {
        name: "pod runs as root",
        deployment: (d) => void ((pod(d).securityContext ??= {}).runAsUser = 0),
        expect: ["pod securityContext.runAsUser 0 is not the image's USER uid 10001"],
    },
    {
        name: "container-level runAsUser overriding with another uid",
        deployment: (d) => void ((container(d).securityContext ??= {}).runAsUser = 1000),
        expect: ["container securityContext.runAsUser 1000 is not the image's USER uid 10001"],
    },
    {
        name: "runAsGroup other than the image's gid",
        deployment: (d) => void ((pod(d).securityContext ??= {}).runAsGroup = 0),
        expect: ["pod securityContext.runAsGroup 0 is not the image's USER gid 10001"],
    },
    {
        name: "no runAsUser anywhere",
        deployment: (d) => void delete (pod(d).securityContext ?? {}).runAsUser,
        expect: ["the Deployment sets no runAsUser (pod or container); the image runs as uid 10001"],
    },
    {
        name: "image USER changed to another uid:gid",
        facts: (f) => ({ ...f, image: { ...f.image, user: "1000:1000" } }),
        expect: [
            "pod securityContext.runAsUser 10001 is not the image's USER uid 1000",
            "pod securityContext.runAsGroup 10001 is not the image's USER gid 1000",
        ],
    },
    {
        name: "image USER by name (runAsUser cannot be compared)",
        facts: (f) => ({ ...f, image: { ...f.image, user: "node" } }),
        expect: ["the image's runtime USER is node; expected a numeric uid[:gid]"],
    },
    {
        name: "image EXPOSEs another port",
        facts: (f) => ({ ...f, image: { ...f.image, exposedPorts: ["3000"] } }),
        expect: ["the image EXPOSEs 3000 but the container declares ports 8080, 9464"],
    },
    // Filesystem.
    {
        name: "writable root filesystem",
        deployment: (d) => void ((container(d).securityContext ??= {}).readOnlyRootFilesystem = false),
        expect: ["readOnlyRootFilesystem is not true"],
    },
    {
        name: "/tmp not mounted",
        deployment: (d) => void (container(d).volumeMounts = []),
        expect: ["nothing is mounted at /tmp"],
    },
    {
        name: "/tmp on a hostPath instead of an emptyDir",
        deployment: (d) => void (pod(d).volumes = [{ name: "tmp", hostPath: { path: "/var/tmp" } }]),
        expect: ["/tmp is volume tmp, which is not an emptyDir"],
    },
    // The live observations feed the same checks: a service that kept readiness 200 while draining.
    {
        name: "service answering readiness 200 while draining",
        facts: (f) => ({
            ...f,
            answers: { ...f.answers, draining: new Map([...f.answers.draining, ["/health/ready", 200]]) },
        }),
        expect: ["readinessProbe: GET /health/ready answered 200 while it drained after SIGTERM; expected 503"],
    },
];

function mutated(deployment: Deployment, mutant: Mutant): Deployment {
    const copy = structuredClone(deployment) as MutableDeployment;
    mutant.deployment?.(copy);
    return copy as Deployment;
}

describe(`contract: checkout Deployment (${STACK} stack) and the checkout-service it runs`, function () {
    let manifestText = "";
    let deployment: Deployment;
    let main: Container;
    let env: Record<string, string>;
    let facts: ServiceFacts;
    let service: ServiceProcess | undefined;
    let live: LiveRun;
    let database: Postgres | undefined;

    before(async function () {
        // Normally 3-5 s (synth, ts-node start-up); the bounds below only matter when something is broken.
        this.timeout(150_000);
        const synth = await stackSynthesis(STACK);
        const text = synth.files.get(MANIFEST);
        assert.ok(text !== undefined, `synth of ${STACK} has no ${MANIFEST}`);
        manifestText = text;
        deployment = asDeployment(parse(manifestText));
        const found = containerOf(deployment, CONTAINER_NAME);
        assert.ok(found !== undefined, `the Deployment has no container ${CONTAINER_NAME}`);
        main = found;
        // Variables read from a Secret (the database ExternalSecret's) get a real database to reach:
        // the service connects and prepares its table before it turns ready.
        const fromSecrets = (main.env ?? []).filter((e) => secretKeyRefOf(e) !== undefined);
        if (fromSecrets.length > 0) {
            if (postgresBin() === undefined && process.env.CI !== "true") {
                this.skip();
            }
            database = await startPostgres("checkout", "contract-test-only");
        }
        const secretValues = databaseSecretValues(database);
        env = containerEnvironment(main, database === undefined ? {} : secretValues);

        const readinessPath = main.readinessProbe?.httpGet?.path;
        assert.ok(readinessPath !== undefined, "the container has no HTTP readiness probe");
        // Ask every path any probe uses, in this Deployment or in a mutant below, so that the
        // mutants are judged on what the real service answers too.
        const paths = [
            ...new Set([
                ...probePaths(main),
                ...MUTANTS.flatMap((m) => probePaths(containerOf(mutated(deployment, m), CONTAINER_NAME))),
            ]),
        ];

        // Exactly the container's env list, with PORT and METRICS_PORT moved to free ports so that the
        // test can run anywhere (and in parallel with others); the probe/port checks below are on the
        // manifest's own ports, which the service proves it honours by listening on whatever it is given.
        // Nothing else is passed: not the test's environment, not even PATH. (The image adds
        // NODE_ENV=production through its Dockerfile ENV; the service does not read it.)
        const port = await freePort();
        const metricsPort = await freePort();
        // The throw-away server speaks no TLS; DB_SSLMODE (verify-full unless the manifest sets it)
        // is for the real database, so only here, like PORT, it is overridden.
        const tls: Record<string, string> =
            database !== undefined && env.DB_SSLMODE === undefined ? { DB_SSLMODE: "disable" } : {};
        service = spawnService({ ...env, ...tls, PORT: String(port), METRICS_PORT: String(metricsPort) });
        const shutdownSeconds = Number(env.SHUTDOWN_TIMEOUT_SECONDS ?? 25);
        live = await exerciseService(service, port, {
            readinessPath,
            metricsPort,
            metricsPath: metricsPathOf(deployment),
            paths,
            // The service exits by itself after at most SHUTDOWN_TIMEOUT_SECONDS + its 1 s backstop;
            // the extra 15 s only keep a slow machine from turning into a false failure.
            exitDeadlineMs: (shutdownSeconds + 1 + 15) * 1000,
        });

        facts = {
            containerName: CONTAINER_NAME,
            envVars: ENV_VARS,
            image: imageFacts(fs.readFileSync(DOCKERFILE, "utf8")),
            answers: { ready: live.ready, draining: live.draining },
            secretValues,
        };
    });

    after(async function () {
        this.timeout(10_000);
        await killService(service);
        await database?.stop();
    });

    const output = () => service?.output() ?? "";

    it("reads what reviewers see: the fresh synth equals the committed golden manifest", () => {
        const golden = fs.readFileSync(path.join(GOLDEN_DIR, STACK, MANIFEST), "utf8");
        assert.ok(
            manifestText === golden,
            `test/golden/${STACK}/${MANIFEST} differs from a fresh synth: run \`npm run synth:update\` and review`,
        );
    });

    describe("the running service (real entrypoint, real SIGTERM)", () => {
        it("starts with exactly the container's env and turns ready on the PORT it was given", () => {
            assert.equal(
                live.readiness,
                200,
                `never ready on 127.0.0.1:${live.port}${main.readinessProbe?.httpGet?.path}:\n${output()}`,
            );
        });

        it("answers 200 on every probe path, on the port the probes name (= containerPort = PORT)", () => {
            const probes = (["startupProbe", "readinessProbe", "livenessProbe"] as const).filter(
                (kind) => main[kind] !== undefined,
            );
            assert.ok(probes.includes("readinessProbe") && probes.includes("livenessProbe"));
            for (const kind of probes) {
                const get = main[kind]?.httpGet;
                assert.ok(get !== undefined, `${kind} is not an httpGet probe`);
                const containerPort =
                    typeof get.port === "number"
                        ? get.port
                        : main.ports?.find((p) => p.name === get.port)?.containerPort;
                assert.equal(containerPort, 8080, `${kind} port ${get.port} resolves to ${containerPort}`);
                assert.equal(String(containerPort), env.PORT, `${kind}'s port is not the PORT the service is given`);
                assert.equal(live.ready.get(get.path ?? "/"), 200, `${kind}: GET ${get.path}\n${output()}`);
            }
        });

        it("serves /metrics on the container's `metrics` port (= METRICS_PORT = prometheus.io/port), not on the app port", () => {
            const metricsPort = main.ports?.find((p) => p.name === METRICS_PORT_NAME)?.containerPort;
            assert.equal(metricsPort, 9464, `the container's "${METRICS_PORT_NAME}" port is ${metricsPort}`);
            assert.equal(String(metricsPort), env.METRICS_PORT, "the metrics port is not the METRICS_PORT given");
            assert.notEqual(env.METRICS_PORT, env.PORT);
            const annotations = deployment.spec?.template?.metadata?.annotations ?? {};
            assert.equal(annotations["prometheus.io/port"], String(metricsPort), "the scraper is pointed elsewhere");
            assert.equal(
                live.metrics.onMetricsPort,
                200,
                `GET ${metricsPathOf(deployment)} on METRICS_PORT\n${output()}`,
            );
            assert.equal(live.metrics.onAppPort, 404, `GET ${metricsPathOf(deployment)} on PORT\n${output()}`);
        });

        it("after SIGTERM: readiness answers 503, liveness keeps answering 200 until the process exits", () => {
            assert.notEqual(live.afterSigterm, 200, "readiness still answered 200 to new connections after SIGTERM");
            assert.ok(live.runningWhileDraining, `exited before the open requests finished:\n${output()}`);
            const answer = (kind: "readinessProbe" | "livenessProbe" | "startupProbe") =>
                live.draining.get(main[kind]?.httpGet?.path ?? "/");
            assert.equal(answer("readinessProbe"), 503, output());
            assert.equal(answer("livenessProbe"), 200, output());
        });

        it("exits 0 after SIGTERM, and preStop + SHUTDOWN_TIMEOUT_SECONDS < terminationGracePeriodSeconds", () => {
            assert.ok(live.exit !== undefined, `did not exit after SIGTERM:\n${output()}`);
            assert.deepEqual(live.exit, { code: 0, signal: null }, output());

            const preStop = preStopSeconds(main);
            const shutdown = Number(env.SHUTDOWN_TIMEOUT_SECONDS);
            const grace = podOf(deployment).terminationGracePeriodSeconds;
            assert.ok(
                preStop !== undefined && grace !== undefined && preStop + shutdown < grace,
                `preStop ${preStop} s + SHUTDOWN_TIMEOUT_SECONDS ${shutdown} s must be below terminationGracePeriodSeconds ${grace} s`,
            );
        });
    });

    describe("the manifest against what the service declares", () => {
        it("env: every variable set is one the service reads; every required one is set and valid", () => {
            assert.deepEqual(checkEnv(deployment, facts), []);
            const reads = ENV_VARS.map((v) => v.name);
            assert.deepEqual(
                Object.keys(env).filter((name) => !reads.includes(name)),
                [],
            );
            assert.deepEqual(
                ENV_VARS.filter((v) => v.required && env[v.name] === undefined).map((v) => v.name),
                [],
            );
        });

        it("probes: named port resolves to PORT; each path answers what its role needs", () => {
            assert.deepEqual(checkProbes(deployment, facts), []);
        });

        it("shutdown: preStop + SHUTDOWN_TIMEOUT_SECONDS < terminationGracePeriodSeconds", () => {
            assert.deepEqual(checkShutdown(deployment, facts), []);
        });

        it("image: the Dockerfile's USER uid:gid is runAsUser:runAsGroup, its EXPOSE the containerPort", () => {
            assert.deepEqual(checkImage(deployment, facts), []);
        });

        it("filesystem: read-only root, /tmp an emptyDir mount", () => {
            assert.deepEqual(checkFilesystem(deployment, facts), []);
        });

        it("checkContract (all of the above) finds nothing", () => {
            assert.deepEqual(checkContract(deployment, facts), []);
        });
    });

    describe("each check can fail: mutated manifests and facts", () => {
        for (const mutant of MUTANTS) {
            it(mutant.name, () => {
                const problems = checkContract(mutated(deployment, mutant), mutant.facts?.(facts) ?? facts);
                const unmatched = [...mutant.expect];
                const unexpected = problems.filter((problem) => {
                    const i = unmatched.findIndex((want) => problem.includes(want));
                    if (i === -1) {
                        return true;
                    }
                    unmatched.splice(i, 1);
                    return false;
                });
                assert.deepEqual(
                    { unexpected, missing: unmatched },
                    { unexpected: [], missing: [] },
                    `problems reported:\n  ${problems.join("\n  ")}`,
                );
            });
        }
    });
});
