/**
 * Integration run (`npm run test:integration`): deploys the program to a throwaway stack in a real
 * AWS account, checks that checkout-service becomes Available and answers its readiness probe
 * through the cluster, then destroys everything and removes the stack.
 *
 * Steps, each with a deadline:
 *   1. prerequisites (pulumi CLI, AWS credentials, state backend, kubectl, aws CLI, image source);
 *      if any is missing: prints `skipped: <reason>` and exits 0.
 *   2. new stack `it-<utc>-<hex>` with the dev stack's config (Pulumi.dev.yaml) plus overrides.
 *   3. preview, to find the ECR repository's component; targeted `up` of that component only.
 *   4. copy PULUMI_IT_SOURCE_IMAGE into the new repository under the configured checkout.imageTag.
 *   5. full `up` (the CrossGuard pack in policy/ applied, as in CI).
 *   6. `kubectl wait` for the checkout Deployment to be Available, then a port-forward to the
 *      checkout Service and GET <readiness path> until it answers 200.
 *   7. always (finally): destroy, then remove the stack. If destroy fails the stack is kept, so
 *      that its state still lists what to clean up, and the command to finish is printed.
 *
 * Environment: see integration/lib.ts `ENV` and docs/operations.md ("Integration test").
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import {
    checkPrerequisites,
    deploymentForService,
    ECR_REPOSITORY_TYPE,
    ENV,
    jsonObjectEnv,
    jsonObjectEnvValues,
    type K8sDeployment,
    type K8sService,
    type PlannedResource,
    readinessTarget,
    registryTargets,
    stackConfigFromYaml,
    type ToolInfo,
    uniqueStackName,
} from "./lib";

const REPO_ROOT = path.resolve(__dirname, "..");
const POLICY_PACK = path.join(REPO_ROOT, "policy");
const MINUTE = 60_000;
const DEADLINES = {
    preview: 15 * MINUTE,
    registryUp: 15 * MINUTE,
    imageCopy: 15 * MINUTE,
    up: 75 * MINUTE,
    available: 10 * MINUTE,
    readiness: 3 * MINUTE,
    refresh: 20 * MINUTE,
    destroy: 60 * MINUTE,
} as const;

/** Aborts whatever Pulumi operation is running (deadline or Ctrl-C); cleanup still runs. */
let current: AbortController | undefined;
let interrupted = false;
process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error("\ninterrupted: cancelling the current step; cleanup follows (Ctrl-C again to quit at once)");
    current?.abort();
});

function log(message: string): void {
    console.log(`[integration ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** `which` plus a version line, without throwing. */
function probeTool(command: string, versionArgs: string[]): ToolInfo {
    const which = spawnSync("which", [command], { encoding: "utf8" });
    const found = which.status === 0 ? which.stdout.trim() : "";
    if (found === "") return {};
    const v = spawnSync(command, versionArgs, { encoding: "utf8", timeout: 20_000 });
    return { path: found, version: `${v.stdout ?? ""}${v.stderr ?? ""}`.trim().split("\n")[0] };
}

/** Runs `fn` with a signal that fires after `ms` (or on Ctrl-C). */
async function withDeadline<T>(what: string, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (interrupted) throw new Error(`${what}: not started, interrupted`);
    const controller = new AbortController();
    current = controller;
    const timer = setTimeout(() => {
        log(`${what}: deadline of ${ms / MINUTE} min reached, cancelling`);
        controller.abort();
    }, ms);
    try {
        return await fn(controller.signal);
    } catch (e) {
        if (controller.signal.aborted)
            throw new Error(`${what}: cancelled (${interrupted ? "interrupted" : "deadline"})`);
        throw e;
    } finally {
        clearTimeout(timer);
        if (current === controller) current = undefined;
    }
}

interface RunResult {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Spawns a command with a hard time limit; rejects on a non-zero exit unless `allowFailure`. */
function run(
    command: string,
    args: readonly string[],
    opts: { timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv; allowFailure?: boolean; echo?: boolean },
): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            if (opts.echo) process.stdout.write(d);
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
            if (opts.echo) process.stderr.write(d);
        });
        const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            const result = { code, stdout, stderr };
            if (code !== 0 && !opts.allowFailure) {
                reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.trim().slice(-2000)}`));
            } else resolve(result);
        });
        child.stdin.end(opts.input ?? "");
    });
}

function registryHost(imageRef: string): string | undefined {
    const host = imageRef.split("/")[0];
    return /\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host) ? host : undefined;
}

/** Copies `source` to `destination` (both full image references), logging in to any ECR host. */
async function copyImage(copier: "crane" | "docker", source: string, destination: string): Promise<void> {
    for (const host of new Set([registryHost(source), registryHost(destination)])) {
        if (host === undefined) continue;
        const region = host.split(".")[3];
        const { stdout: password } = await run("aws", ["ecr", "get-login-password", "--region", region], {
            timeoutMs: MINUTE,
        });
        const login =
            copier === "crane"
                ? ["auth", "login", host, "-u", "AWS", "--password-stdin"]
                : ["login", "--username", "AWS", "--password-stdin", host];
        await run(copier, login, { timeoutMs: MINUTE, input: password });
    }
    if (copier === "crane") {
        // Keeps the manifest byte for byte, so a digest pin (checkout.imageTag = sha256:...) still matches.
        await run("crane", ["copy", source, destination], { timeoutMs: DEADLINES.imageCopy, echo: true });
    } else {
        await run("docker", ["pull", source], { timeoutMs: DEADLINES.imageCopy, echo: true });
        await run("docker", ["tag", source, destination], { timeoutMs: MINUTE });
        await run("docker", ["push", destination], { timeoutMs: DEADLINES.imageCopy, echo: true });
    }
}

/** Starts `kubectl port-forward` on a free local port; resolves with the port once it listens. */
function portForward(env: NodeJS.ProcessEnv, namespace: string, target: string, remotePort: number) {
    return new Promise<{ port: number; child: ChildProcess }>((resolve, reject) => {
        const child = spawn(
            "kubectl",
            ["port-forward", "-n", namespace, target, `:${remotePort}`, "--address", "127.0.0.1"],
            {
                env,
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        let output = "";
        const timer = setTimeout(() => {
            child.kill();
            reject(new Error(`port-forward did not start within 60 s: ${output}`));
        }, MINUTE);
        const onData = (d: Buffer) => {
            output += d.toString();
            const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
            if (m) {
                clearTimeout(timer);
                resolve({ port: Number(m[1]), child });
            }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`port-forward exited ${code}: ${output}`));
        });
    });
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs }, (res) => {
            let body = "";
            res.on("data", (d: Buffer) => (body += d.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the readiness endpoint until it answers 200 or the deadline passes. */
async function waitForReadiness(url: string, deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    let last = "no attempt";
    while (Date.now() < until && !interrupted) {
        try {
            const { status, body } = await httpGet(url, 5_000);
            if (status === 200) {
                log(`GET ${url} -> 200 ${body.slice(0, 200)}`);
                return;
            }
            last = `${status} ${body.slice(0, 200)}`;
        } catch (e) {
            last = (e as Error).message;
        }
        await sleep(3_000);
    }
    throw new Error(`readiness endpoint ${url} did not answer 200 within ${deadlineMs / 1000} s (last: ${last})`);
}

function outputString(outputs: Record<string, { value: unknown }>, name: string): string {
    const value = outputs[name]?.value;
    if (value === undefined || value === null || value === "") throw new Error(`stack output ${name} is missing`);
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** Checks the Deployment and its readiness endpoint through the cluster. */
async function probeCheckout(outputs: Record<string, { value: unknown }>, workDir: string): Promise<void> {
    const kubeconfigPath = path.join(workDir, "kubeconfig.json");
    fs.writeFileSync(kubeconfigPath, outputString(outputs, "kubeconfig"), { mode: 0o600 });
    const env = { ...process.env, KUBECONFIG: kubeconfigPath };
    const namespace = outputString(outputs, "checkoutNamespace");
    const serviceName = outputString(outputs, "checkoutServiceName");
    const kubectl = (args: string[], timeoutMs = MINUTE) => run("kubectl", args, { env, timeoutMs });

    const service = JSON.parse(
        (await kubectl(["get", "service", serviceName, "-n", namespace, "-o", "json"])).stdout,
    ) as K8sService;
    const deployments = JSON.parse((await kubectl(["get", "deployments", "-n", namespace, "-o", "json"])).stdout) as {
        items: (K8sDeployment & { metadata?: { name?: string } })[];
    };
    const deployment = deploymentForService(deployments.items, service);
    const name = deployment.metadata?.name ?? "";
    log(`waiting for deployment/${name} in ${namespace} to be Available`);
    await kubectl(
        [
            "wait",
            "--for=condition=Available",
            `deployment/${name}`,
            "-n",
            namespace,
            `--timeout=${DEADLINES.available / 1000}s`,
        ],
        DEADLINES.available + MINUTE,
    );

    const target = readinessTarget(deployment, service);
    const forward = await portForward(env, namespace, `service/${serviceName}`, target.servicePort);
    try {
        await waitForReadiness(`http://127.0.0.1:${forward.port}${target.path}`, DEADLINES.readiness);
    } finally {
        forward.child.kill();
    }
}

async function cleanup(stack: Stack, stackName: string, upFailed: boolean): Promise<boolean> {
    interrupted = false; // a Ctrl-C during the run must not skip the cleanup
    const onOutput = (s: string) => process.stdout.write(s);
    try {
        if (upFailed) {
            // An interrupted update can leave pending operations that make destroy refuse to start.
            log("refreshing after a failed or cancelled update");
            await withDeadline("refresh", DEADLINES.refresh, (signal) =>
                stack.refresh({ onOutput, signal, clearPendingCreates: true }),
            ).catch((e: Error) => log(`refresh failed (continuing with destroy): ${e.message}`));
        }
        log(`destroying ${stackName}`);
        await withDeadline("destroy", DEADLINES.destroy, (signal) => stack.destroy({ onOutput, signal }));
    } catch (e) {
        console.error(
            `\nDESTROY FAILED: ${(e as Error).message}\n` +
                `The stack ${stackName} is kept so its state still lists what exists. Finish with:\n` +
                `  pulumi destroy --stack ${stackName} --yes && pulumi stack rm ${stackName} --yes\n`,
        );
        return false;
    }
    try {
        await stack.workspace.removeStack(stackName);
        log(`removed stack ${stackName}`);
    } catch (e) {
        console.error(`could not remove stack ${stackName}: ${(e as Error).message}`);
        return false;
    }
    return true;
}

async function main(): Promise<number> {
    const prereqs = checkPrerequisites(process.env, {
        pulumi: probeTool("pulumi", ["version"]),
        kubectl: probeTool("kubectl", ["version", "--client"]),
        aws: probeTool("aws", ["--version"]),
        crane: probeTool("crane", ["version"]),
        docker: probeTool("docker", ["--version"]),
    });
    if (prereqs.missing.length > 0 || prereqs.imageCopier === undefined) {
        console.log(`skipped: ${prereqs.missing.join("; ")}`);
        return 0;
    }
    prereqs.found.forEach((f) => log(f));

    const project = (YAML.parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const baseStack = process.env[ENV.baseStack]?.trim() || "dev";
    const stackName = uniqueStackName(new Date());
    const { config, missingSecrets } = stackConfigFromYaml(
        fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${baseStack}.yaml`), "utf8"),
        {
            project,
            stackName,
            overrides: jsonObjectEnvValues(process.env, ENV.config),
            secrets: jsonObjectEnv(process.env, ENV.secrets),
        },
    );
    if (missingSecrets.length > 0) {
        console.log(
            `skipped: the ${baseStack} stack's secrets ${missingSecrets.join(", ")} have no value in ${ENV.secrets}`,
        );
        return 0;
    }
    const imageTag = (config[`${project}:checkout`]?.objectValue as { imageTag?: unknown } | undefined)?.imageTag;
    if (typeof imageTag !== "string")
        throw new Error(`${project}:checkout.imageTag is not set in Pulumi.${baseStack}.yaml`);

    log(`creating stack ${stackName} from Pulumi.${baseStack}.yaml`);
    const secretsProvider = process.env[ENV.secretsProvider]?.trim() || undefined;
    const stack = await LocalWorkspace.createStack({ stackName, workDir: REPO_ROOT }, { secretsProvider });
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `${stackName}-`));
    const onOutput = (s: string) => process.stdout.write(s);
    let upFailed = false;
    let ok = false;
    try {
        // Maps go in as objects (`pulumi config set-all --json`), so the CLI reads declared keys as paths into them.
        await stack.setAllConfigJson(JSON.stringify(config));

        log("preview: locating the ECR repository's component");
        const planned: PlannedResource[] = [];
        await withDeadline("preview", DEADLINES.preview, (signal) =>
            stack.preview({
                signal,
                onEvent: (e: EngineEvent) => {
                    const m = e.resourcePreEvent?.metadata;
                    if (m) planned.push({ urn: m.urn, type: m.type, parent: m.new?.parent ?? m.old?.parent });
                },
            }),
        );
        const targets = registryTargets(planned);

        log(`up (targeted): ${targets.length} resources of the registry component`);
        let repositoryUrl: string | undefined;
        upFailed = true;
        await withDeadline("up (registry)", DEADLINES.registryUp, (signal) =>
            stack.up({
                signal,
                target: targets,
                onOutput,
                onEvent: (e: EngineEvent) => {
                    const m = e.resOutputsEvent?.metadata;
                    const url = m?.new?.outputs?.repositoryUrl;
                    if (m?.type === ECR_REPOSITORY_TYPE && typeof url === "string") repositoryUrl = url;
                },
            }),
        );
        if (repositoryUrl === undefined) throw new Error("the targeted up reported no repositoryUrl");

        // A digest pin needs the manifest copied unchanged (crane does that) under some tag; a tag
        // pin is copied under that tag.
        const digest = imageTag.startsWith("sha256:");
        if (digest && prereqs.imageCopier !== "crane") {
            throw new Error("checkout.imageTag is a digest: copying the image unchanged needs crane");
        }
        const source = process.env[ENV.sourceImage]?.trim() ?? "";
        const destination = `${repositoryUrl}:${digest ? `it-${imageTag.slice(7, 19)}` : imageTag}`;
        log(`copying ${source} -> ${destination} with ${prereqs.imageCopier}`);
        await copyImage(prereqs.imageCopier, source, destination);

        log("up: the whole program, with the policy pack");
        const result = await withDeadline("up", DEADLINES.up, (signal) =>
            // The throwaway stack runs dev's settings (no deletion protection, force-deletable
            // registry), so it takes dev's policy levels: prod-only rules advisory.
            stack.up({
                signal,
                onOutput,
                policyPacks: [POLICY_PACK],
                policyPackConfigs: [path.join(POLICY_PACK, "config", "dev.json")],
            }),
        );
        upFailed = false;

        await probeCheckout(result.outputs, workDir);
        log("checkout-service is Available and ready");
        ok = true;
    } catch (e) {
        console.error(`\nFAILED: ${(e as Error).message}`);
    } finally {
        const cleaned = await cleanup(stack, stackName, upFailed);
        fs.rmSync(workDir, { recursive: true, force: true });
        ok = ok && cleaned;
    }
    return ok ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: Error) => {
        console.error(e.stack ?? e.message);
        process.exit(1);
    },
);
