/**
 * Invariants of the GitHub Actions workflows, checked offline by parsing the YAML.
 *
 * `checkPullRequestWorkflow` and `checkDeployWorkflow` return a list of problems (empty = fine). Each
 * is run on the real file, which must have none, and on mutated copies, each of which must produce
 * the specific problem the mutation introduces: that is what shows every check can fail.
 *
 * Only pull-request.yml and deploy.yml are checked in depth; any other workflow in the folder (e.g.
 * image.yml, checked by app/checkout-service/test/workflow.test.ts) has to be valid YAML, declare
 * its token permissions and pin every action by commit SHA with its tag in a comment.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

const WORKFLOW_DIR = path.join(__dirname, "..", ".github", "workflows");
const PULL_REQUEST_FILE = "pull-request.yml";
const DEPLOY_FILE = "deploy.yml";
const STACKS = ["dev", "prod"] as const;
const POLICY_PACK = "policy";
/** `if:` of every job that may use secrets or cloud credentials on a pull request. */
const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";

// ---------------------------------------------------------------------------------------------
// Workflow shape (only the parts these checks read; everything is optional because it is parsed).

type Dict = Record<string, unknown>;
type Permissions = string | Record<string, string>;

interface Step {
    id?: string;
    name?: string;
    if?: string;
    uses?: string;
    run?: string;
    with?: Dict;
    env?: Dict;
    "working-directory"?: string;
}

interface Job {
    name?: string;
    needs?: string | string[];
    if?: string;
    "runs-on"?: unknown;
    environment?: string | { name?: string; url?: string };
    concurrency?: string | { group?: string; "cancel-in-progress"?: boolean | string };
    permissions?: Permissions;
    strategy?: { matrix?: Dict };
    defaults?: { run?: { "working-directory"?: string } };
    env?: Dict;
    secrets?: unknown;
    steps?: Step[];
}

interface Workflow {
    name?: string;
    on?: unknown;
    permissions?: Permissions;
    env?: Dict;
    jobs?: Record<string, Job>;
}

function loadWorkflow(file: string): Workflow {
    return YAML.parse(fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8")) as Workflow;
}

// ---------------------------------------------------------------------------------------------
// Small readers.

/** `on:` as a map from event name to its filter (null when it has none). */
function triggers(wf: Workflow): Dict {
    const on = wf.on;
    if (typeof on === "string") return { [on]: null };
    if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
    if (on !== null && typeof on === "object") return on as Dict;
    return {};
}

function jobsOf(wf: Workflow): [string, Job][] {
    return Object.entries(wf.jobs ?? {});
}

function stepsOf(job: Job): Step[] {
    return Array.isArray(job.steps) ? job.steps : [];
}

/** `owner/repo` of a `uses:` reference, without the version. */
function actionName(step: Step): string | undefined {
    return step.uses?.split("@")[0];
}

function isAction(step: Step, name: string): boolean {
    return actionName(step) === name;
}

function input(step: Step, key: string): unknown {
    return step.with?.[key];
}

function isTrue(value: unknown): boolean {
    return value === true || value === "true";
}

function asList(value: unknown): string[] {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value.map(String);
    return [String(value)];
}

function needsOf(job: Job): string[] {
    return asList(job.needs);
}

/** Whitespace-free expression text, without `${{ }}`, for substring comparisons. */
function compact(expr: unknown): string {
    return String(expr ?? "")
        .replace(/\$\{\{|\}\}/g, "")
        .replace(/\s+/g, "");
}

function permissionMap(p: Permissions | undefined): Record<string, string> | undefined {
    if (p === undefined) return undefined;
    if (typeof p === "string") {
        // read-all / write-all: expand to a marker the checks below can reject.
        return { "*": p.replace(/-all$/, "") };
    }
    return p ?? {};
}

function writes(p: Permissions | undefined): string[] {
    const map = permissionMap(p) ?? {};
    return Object.entries(map)
        .filter(([, level]) => level === "write")
        .map(([scope]) => scope);
}

function usesSecrets(value: unknown): boolean {
    return /\bsecrets\s*(\.|\[)/.test(JSON.stringify(value ?? null));
}

function isForkGuarded(job: Job): boolean {
    const cond = compact(job.if);
    return cond.includes(compact(FORK_GUARD)) && !cond.includes("||");
}

/** Stacks a job's matrix expands to (`matrix.stack` list and/or `include[].stack`, minus `exclude`). */
function matrixStacks(job: Job): string[] {
    const matrix = job.strategy?.matrix ?? {};
    const stacks = new Set(asList(matrix.stack));
    for (const entry of Array.isArray(matrix.include) ? matrix.include : []) {
        const stack = (entry as Dict | null)?.stack;
        if (typeof stack === "string") stacks.add(stack);
    }
    for (const entry of Array.isArray(matrix.exclude) ? matrix.exclude : []) {
        const stack = (entry as Dict | null)?.stack;
        if (typeof stack === "string") stacks.delete(stack);
    }
    return [...stacks].sort();
}

/** Stacks a pulumi/actions step operates on: the literal stack name, or the job's matrix. */
function stacksOfPulumiStep(job: Job, step: Step): string[] {
    const name = String(input(step, "stack-name") ?? "");
    if (compact(name).includes("matrix.stack")) return matrixStacks(job);
    const last = name.split("/").pop();
    return last ? [last] : [];
}

interface PulumiStep {
    readonly jobId: string;
    readonly job: Job;
    readonly step: Step;
    readonly index: number;
    readonly stacks: string[];
}

function pulumiSteps(wf: Workflow, command: string): PulumiStep[] {
    const found: PulumiStep[] = [];
    for (const [jobId, job] of jobsOf(wf)) {
        stepsOf(job).forEach((step, index) => {
            if (isAction(step, "pulumi/actions") && input(step, "command") === command) {
                found.push({ jobId, job, step, index, stacks: stacksOfPulumiStep(job, step) });
            }
        });
    }
    return found;
}

function firstIndex(job: Job, pred: (s: Step) => boolean): number {
    return stepsOf(job).findIndex(pred);
}

function runs(re: RegExp): (s: Step) => boolean {
    return (s) => typeof s.run === "string" && re.test(s.run);
}

function normDir(dir: unknown): string {
    const d = String(dir ?? ".")
        .trim()
        .replace(/^(\.\/)+/, "")
        .replace(/\/+$/, "");
    return d === "" || d === "." ? "." : d;
}

// ---------------------------------------------------------------------------------------------
// Checks shared by every workflow in the folder.

/**
 * `uses: owner/repo[/path]@<40 hex> # <tag>`: a commit SHA cannot be moved the way a tag can (in
 * March 2026, 75 of 76 aquasecurity/trivy-action tags were force-pushed to credential-stealing code,
 * aquasecurity/trivy-action#541), and the tag in the comment is what a reviewer and Renovate read.
 * Local actions (`./...`) need no pin; a `docker://` action needs a digest.
 */
const PINNED_USES = /^([\w.-]+\/[\w./-]+)@([0-9a-f]{40})\s+#\s+(v?\d+(?:\.\d+){0,2})$/;

interface PinnedAction {
    readonly line: number;
    readonly action: string;
    readonly sha: string;
    readonly tag: string;
}

/** Every `uses:` of a workflow's text, pinned or not (problems for those that are not). */
function actionPins(text: string): { pins: PinnedAction[]; problems: string[] } {
    const pins: PinnedAction[] = [];
    const problems: string[] = [];
    text.split("\n").forEach((raw, i) => {
        const m = /^\s*(?:-\s+)?uses:\s*(.*?)\s*$/.exec(raw);
        if (!m) return;
        const ref = m[1].replace(/^(["'])(.*)\1(\s+#.*)?$/, "$2$3");
        if (ref.startsWith("./")) return;
        if (ref.startsWith("docker://")) {
            if (!/@sha256:[0-9a-f]{64}(\s+#.*)?$/.test(ref)) {
                problems.push(`line ${i + 1}: ${ref} is not pinned to an image digest (docker://image@sha256:...)`);
            }
            return;
        }
        const pin = PINNED_USES.exec(ref);
        if (!pin) {
            problems.push(
                `line ${i + 1}: action ${ref} is not pinned to a full commit SHA with its tag in a comment ` +
                    "(uses: owner/repo@<40 hex> # v1.2.3)",
            );
        } else pins.push({ line: i + 1, action: pin[1], sha: pin[2], tag: pin[3] });
    });
    return { pins, problems };
}

/** Across files: one action, one SHA and one tag everywhere, so an update never leaves a copy behind. */
function checkPinsAgree(files: Record<string, string>): string[] {
    const seen = new Map<string, { where: string; sha: string; tag: string }>();
    const problems: string[] = [];
    for (const [file, text] of Object.entries(files)) {
        for (const pin of actionPins(text).pins) {
            const where = `${file}:${pin.line}`;
            const first = seen.get(pin.action);
            if (first === undefined) seen.set(pin.action, { where, sha: pin.sha, tag: pin.tag });
            else if (first.sha !== pin.sha || first.tag !== pin.tag) {
                problems.push(
                    `${pin.action} is ${pin.sha} # ${pin.tag} at ${where} but ${first.sha} # ${first.tag} at ${first.where}`,
                );
            }
        }
    }
    return problems;
}

/** Problems any workflow must not have: it parses, has jobs, declares its token permissions, pins its actions. */
function checkAnyWorkflow(text: string): string[] {
    const problems: string[] = [...actionPins(text).problems];
    const doc = YAML.parseDocument(text);
    if (doc.errors.length > 0) {
        return doc.errors.map((e) => `invalid YAML: ${e.message}`);
    }
    const wf = doc.toJS() as Workflow | null;
    if (wf === null || typeof wf !== "object") return ["not a mapping"];
    if (Object.keys(triggers(wf)).length === 0) problems.push("no `on:` trigger");
    const jobs = jobsOf(wf);
    if (jobs.length === 0) problems.push("no jobs");
    const everyJobHasPermissions = jobs.length > 0 && jobs.every(([, job]) => job.permissions !== undefined);
    if (wf.permissions === undefined && !everyJobHasPermissions) {
        problems.push(
            "no `permissions:` (at workflow level, or on every job): the token would get the repository default",
        );
    }
    const all = [wf.permissions, ...jobs.map(([, j]) => j.permissions)];
    if (all.some((p) => p === "write-all")) problems.push("`permissions: write-all`");
    return problems;
}

/** Problems the workflows this file owns must not have, whatever their purpose. */
function checkOwnedWorkflow(wf: Workflow): string[] {
    const problems: string[] = [];

    const top = permissionMap(wf.permissions);
    if (top === undefined || Object.keys(top).length !== 1 || top.contents !== "read") {
        problems.push(
            `workflow-level permissions must be exactly { contents: read }; got ${JSON.stringify(wf.permissions)}`,
        );
    }
    if (usesSecrets(wf.env))
        problems.push("workflow-level env uses secrets (every job, fork-reachable ones included, would see them)");

    for (const [jobId, job] of jobsOf(wf)) {
        const steps = stepsOf(job);
        if (steps.length === 0) problems.push(`job ${jobId}: no steps`);

        // Actions by commit SHA (the parsed YAML has lost the tag comment; checkAnyWorkflow reads it).
        for (const step of steps) {
            if (step.uses === undefined || step.uses.startsWith("./") || step.uses.startsWith("docker://")) continue;
            if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(step.uses)) {
                problems.push(`job ${jobId}: action ${step.uses} is not pinned to a full commit SHA`);
            }
        }

        // Node from .nvmrc, the version .ci/node.sh provisions and the image's base runs.
        for (const step of steps.filter((s) => isAction(s, "actions/setup-node"))) {
            if (input(step, "node-version-file") !== ".nvmrc" || input(step, "node-version") !== undefined) {
                problems.push(
                    `job ${jobId}: setup-node must read node-version-file: .nvmrc (and set no node-version); got ${JSON.stringify(step.with ?? {})}`,
                );
            }
        }

        // Write permissions only where they are used.
        const jobWrites = writes(job.permissions);
        const oidc = steps.some((s) => isAction(s, "aws-actions/configure-aws-credentials"));
        const comments = steps.some((s) => isAction(s, "pulumi/actions") && isTrue(input(s, "comment-on-pr")));
        for (const scope of jobWrites) {
            if (scope === "id-token" && oidc) continue;
            if (scope === "pull-requests" && comments) continue;
            problems.push(`job ${jobId}: permission ${scope}: write is not needed by any of its steps`);
        }
        if (oidc && !jobWrites.includes("id-token")) {
            problems.push(`job ${jobId}: configure-aws-credentials needs id-token: write for OIDC`);
        }
        if (comments && !jobWrites.includes("pull-requests")) {
            problems.push(`job ${jobId}: comment-on-pr needs pull-requests: write`);
        }
        if (job.permissions !== undefined && permissionMap(job.permissions)?.contents !== "read") {
            problems.push(`job ${jobId}: job permissions replace the workflow's; they must keep contents: read`);
        }

        // AWS credentials only through OIDC, the role named by a variable, not a secret or a static key.
        for (const step of steps.filter((s) => isAction(s, "aws-actions/configure-aws-credentials"))) {
            if (input(step, "aws-access-key-id") !== undefined || input(step, "aws-secret-access-key") !== undefined) {
                problems.push(`job ${jobId}: static AWS access keys; use OIDC (role-to-assume)`);
            }
            const role = compact(input(step, "role-to-assume"));
            if (!/^(vars|matrix)\./.test(role)) {
                problems.push(
                    `job ${jobId}: role-to-assume must come from a repository/environment variable; got ${JSON.stringify(input(step, "role-to-assume"))}`,
                );
            }
            if (input(step, "aws-region") === undefined)
                problems.push(`job ${jobId}: configure-aws-credentials without aws-region`);
        }

        // `npm ci` before any npm script in the same directory (pulumi/actions runs the program too).
        const installed = new Set<string>();
        const defaultDir = job.defaults?.run?.["working-directory"];
        steps.forEach((step, i) => {
            const where = `job ${jobId}, step ${i + 1} (${step.name ?? step.uses ?? "run"})`;
            if (typeof step.run === "string") {
                const dir = normDir(step["working-directory"] ?? defaultDir);
                for (const line of step.run.split("\n")) {
                    if (/\bnpm\s+ci\b/.test(line)) installed.add(dir);
                    else if (/\bnpm\s+(run|run-script|test|t|start|exec)\b|\bnpx\s/.test(line) && !installed.has(dir)) {
                        problems.push(`${where}: runs an npm script in ${dir} before \`npm ci\` there`);
                        break;
                    }
                }
            }
            if (isAction(step, "pulumi/actions") && !installed.has(normDir(input(step, "work-dir")))) {
                problems.push(
                    `${where}: pulumi/actions runs the program before \`npm ci\` (the action installs no dependencies)`,
                );
            }
        });

        // Every Pulumi operation applies the CrossGuard pack and runs after the AWS credentials.
        steps.forEach((step, i) => {
            if (
                !isAction(step, "pulumi/actions") ||
                !["preview", "up", "update"].includes(String(input(step, "command")))
            ) {
                return;
            }
            const packs = String(input(step, "policyPacks") ?? "")
                .split(/[\n,;]/)
                .map((p) => normDir(p));
            if (!packs.includes(POLICY_PACK)) {
                problems.push(
                    `job ${jobId}: pulumi ${String(input(step, "command"))} without policyPacks: ${POLICY_PACK}`,
                );
            }
            // The pack's own default is prod (every rule mandatory); each stack's levels come from
            // policy/config/<stack>.json, so an operation without it would fail dev on prod-only rules.
            const stack = String(input(step, "stack-name") ?? "");
            const configs = String(input(step, "policyPackConfigs") ?? "")
                .split(/[\n,;]/)
                .map((p) => p.trim())
                .filter(Boolean);
            if (!configs.includes(`${POLICY_PACK}/config/${stack}.json`)) {
                problems.push(
                    `job ${jobId}: pulumi ${String(input(step, "command"))} without policyPackConfigs: ${POLICY_PACK}/config/${stack}.json`,
                );
            }
            const creds = firstIndex(job, (s) => isAction(s, "aws-actions/configure-aws-credentials"));
            if (creds < 0 || creds > i) {
                problems.push(
                    `job ${jobId}: pulumi ${String(input(step, "command"))} runs before AWS credentials are configured`,
                );
            }
            if (compact(input(step, "cloud-url")) === "" && !usesSecrets(step.env)) {
                problems.push(`job ${jobId}: no state backend: set cloud-url (vars) or PULUMI_ACCESS_TOKEN`);
            }
        });
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// pull-request.yml

function checkPullRequestWorkflow(wf: Workflow): string[] {
    const problems = checkOwnedWorkflow(wf);
    const on = triggers(wf);
    if (!("pull_request" in on)) problems.push("not triggered by pull_request");
    if ("pull_request_target" in on) {
        problems.push("pull_request_target runs with secrets on fork code; use pull_request");
    }

    // Jobs a fork can reach: no secrets, no cloud credentials.
    for (const [jobId, job] of jobsOf(wf)) {
        if (isForkGuarded(job)) continue;
        if (usesSecrets(job) || job.secrets !== undefined) {
            problems.push(`job ${jobId}: uses secrets but runs for pull requests from forks (no fork guard)`);
        }
        if (writes(job.permissions).includes("id-token")) {
            problems.push(`job ${jobId}: requests an OIDC token but runs for pull requests from forks (no fork guard)`);
        }
    }

    // checks: the offline job.
    const checks = wf.jobs?.checks;
    if (checks === undefined) {
        problems.push("no `checks` job");
    } else {
        if (checks.if !== undefined && compact(checks.if).includes("head.repo.full_name")) {
            problems.push("checks must also run for forks (no fork guard on it)");
        }
        const steps = stepsOf(checks);
        const setupNode = steps.find((s) => isAction(s, "actions/setup-node"));
        if (setupNode === undefined) problems.push("checks: no actions/setup-node");
        else if (input(setupNode, "cache") !== "npm") problems.push("checks: setup-node without cache: npm");
        for (const [script, re] of [
            ["npm ci", /\bnpm\s+ci\b/],
            ["npm run lint", /\bnpm\s+run\s+lint\b/],
            ["npm run typecheck", /\bnpm\s+run\s+typecheck\b/],
            ["npm test", /\bnpm\s+(test|t|run\s+test)\b/],
        ] as const) {
            if (firstIndex(checks, runs(re)) < 0) problems.push(`checks: does not run \`${script}\``);
        }
        const headSynth = steps.findIndex(
            (s) => runs(/\bnpm\s+run\s+synth\b.*--all/)(s) && normDir(s["working-directory"]) === ".",
        );
        if (headSynth < 0) problems.push("checks: no `npm run synth -- --all` of the PR head");
        const baseCheckout = steps.find(
            (s) =>
                isAction(s, "actions/checkout") &&
                compact(input(s, "ref")).includes("github.event.pull_request.base") &&
                typeof input(s, "path") === "string",
        );
        if (baseCheckout === undefined) {
            problems.push("checks: no second checkout of the base ref (with: ref: ...pull_request.base..., path: ...)");
        } else {
            const baseDir = normDir(input(baseCheckout, "path"));
            const baseSynth = steps.some(
                (s) => runs(/\bnpm\s+run\s+synth\b.*--all/)(s) && normDir(s["working-directory"]) === baseDir,
            );
            if (!baseSynth) problems.push(`checks: no \`npm run synth -- --all\` in the base checkout (${baseDir})`);
        }
        if (firstIndex(checks, runs(/GITHUB_STEP_SUMMARY/)) < 0) {
            problems.push("checks: the synth diff is not written to $GITHUB_STEP_SUMMARY");
        }
        if (!steps.some((s) => isAction(s, "actions/upload-artifact"))) {
            problems.push("checks: the synth output is not uploaded with actions/upload-artifact");
        }
    }

    // preview: live, per stack, same-repository PRs only.
    const previews = pulumiSteps(wf, "preview");
    if (previews.length === 0) problems.push("no pulumi/actions step with command: preview");
    const covered = new Set(previews.flatMap((p) => p.stacks));
    for (const stack of STACKS) {
        if (!covered.has(stack)) problems.push(`no preview for stack ${stack}`);
    }
    for (const { jobId, job, step } of previews) {
        if (!isForkGuarded(job)) problems.push(`job ${jobId}: preview without the fork guard (if: ${FORK_GUARD})`);
        if (!needsOf(job).includes("checks")) problems.push(`job ${jobId}: preview does not need checks`);
        if (!isTrue(input(step, "comment-on-pr"))) problems.push(`job ${jobId}: preview without comment-on-pr: true`);
        if (input(step, "edit-pr-comment") === undefined) {
            problems.push(
                `job ${jobId}: preview does not set edit-pr-comment (one comment per stack, edited on each push)`,
            );
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// deploy.yml

function concurrencyOf(job: Job): { group?: string; cancel?: unknown } {
    const c = job.concurrency;
    if (typeof c === "string") return { group: c, cancel: undefined };
    return { group: c?.group, cancel: c?.["cancel-in-progress"] };
}

function environmentName(job: Job): string | undefined {
    const env = job.environment;
    return typeof env === "string" ? env : env?.name;
}

function checkDeployWorkflow(wf: Workflow): string[] {
    const problems = checkOwnedWorkflow(wf);
    const on = triggers(wf);
    const push = on.push as Dict | null | undefined;
    if (push === undefined) problems.push("not triggered by push");
    else if (!asList(push?.branches).includes("main")) problems.push("push trigger does not list branches: [main]");
    if (!("workflow_dispatch" in on)) problems.push("no workflow_dispatch trigger");
    for (const event of ["pull_request", "pull_request_target"]) {
        if (event in on) problems.push(`deploy must not run on ${event}`);
    }

    const ups = pulumiSteps(wf, "up").concat(pulumiSteps(wf, "update"));
    const jobOfStack = new Map<string, string>();
    for (const up of ups) {
        for (const stack of up.stacks) {
            if (jobOfStack.has(stack)) problems.push(`stack ${stack} is deployed by more than one step`);
            jobOfStack.set(stack, up.jobId);
        }
    }
    for (const stack of STACKS) {
        if (!jobOfStack.has(stack)) problems.push(`no pulumi up for stack ${stack}`);
    }

    for (const { jobId, job, index, stacks } of ups) {
        if (stacks.length !== 1) {
            problems.push(
                `job ${jobId}: one stack per deploy job (its concurrency group is per stack); got ${stacks.join(", ")}`,
            );
            continue;
        }
        const stack = stacks[0];
        const { group, cancel } = concurrencyOf(job);
        if (group !== `pulumi-${stack}`) {
            problems.push(`job ${jobId}: concurrency group must be pulumi-${stack}; got ${JSON.stringify(group)}`);
        }
        if (cancel !== false) {
            problems.push(
                `job ${jobId}: concurrency cancel-in-progress must be false (a cancelled up leaves the stack locked)`,
            );
        }
        const test = firstIndex(job, runs(/\bnpm\s+(test|t|run\s+test)\b/));
        if (test < 0 || test > index) problems.push(`job ${jobId}: no \`npm test\` before pulumi up`);
    }

    const devJob = jobOfStack.get("dev");
    const prodJob = jobOfStack.get("prod");
    if (devJob !== undefined && prodJob !== undefined) {
        const prod = wf.jobs?.[prodJob] ?? {};
        if (devJob === prodJob) problems.push("dev and prod are deployed by the same job");
        else if (!needsOf(prod).includes(devJob))
            problems.push(`job ${prodJob}: prod must need the dev job (${devJob})`);
        if (environmentName(prod) !== "prod") {
            problems.push(`job ${prodJob}: prod must run in the GitHub environment prod (required reviewers)`);
        }
        const dev = wf.jobs?.[devJob] ?? {};
        if (needsOf(dev).includes(prodJob)) problems.push(`job ${devJob}: dev must not wait for prod`);
        problems.push(...checkProdPreviewBeforeApproval(wf, prodJob), ...checkImagePromotion(wf, prodJob));
    }

    // Every job deploys or previews the commit that triggered the run, not whatever main is by then.
    for (const [jobId, job] of jobsOf(wf)) {
        for (const step of stepsOf(job).filter((s) => isAction(s, "actions/checkout"))) {
            if (compact(input(step, "ref")) !== "github.sha") {
                problems.push(
                    `job ${jobId}: checks out ${JSON.stringify(input(step, "ref"))}, not the exact commit (ref: \${{ github.sha }})`,
                );
            }
        }
    }
    return problems;
}

/**
 * prod's `pulumi preview` runs on the same commit, in a job outside the `prod` environment that the
 * approval-gated `up` needs, and writes the preview to the job summary: the reviewer sees what the
 * approval will change before approving.
 */
function checkProdPreviewBeforeApproval(wf: Workflow, prodJob: string): string[] {
    const problems: string[] = [];
    const previews = pulumiSteps(wf, "preview").filter((p) => p.stacks.includes("prod"));
    if (previews.length === 0) return ["no pulumi preview for prod before its up"];
    for (const { jobId, job, step } of previews) {
        if (environmentName(job) === "prod") {
            problems.push(`job ${jobId}: the prod preview runs in the prod environment, so only after the approval`);
        }
        if (!isTrue(input(step, "comment-on-summary"))) {
            problems.push(
                `job ${jobId}: the prod preview is not written to the job summary (comment-on-summary: true)`,
            );
        }
        const policy = String(input(step, "policyPackConfigs") ?? "");
        if (!policy.includes(`${POLICY_PACK}/config/prod.json`)) {
            problems.push(`job ${jobId}: the prod preview does not apply ${POLICY_PACK}/config/prod.json`);
        }
    }
    if (!previews.some((p) => needsOf(wf.jobs?.[prodJob] ?? {}).includes(p.jobId))) {
        problems.push(
            `job ${prodJob}: prod's up does not need the prod preview job (${previews.map((p) => p.jobId).join(", ")})`,
        );
    }
    return problems;
}

/** Anything in a step that builds a container image. */
const BUILDS_IMAGE = /\bdocker\s+(buildx\s+)?build\b|\bbuildah\b|\bkaniko\b/;

/**
 * The image prod runs is the one built and scanned for dev, copied by digest before prod's up
 * (.ci/promote-image.sh, tested in test/promote-image.test.ts); nothing in this workflow builds one.
 */
function checkImagePromotion(wf: Workflow, prodJob: string): string[] {
    const problems: string[] = [];
    for (const [jobId, job] of jobsOf(wf)) {
        for (const step of stepsOf(job)) {
            if (isAction(step, "docker/build-push-action") || BUILDS_IMAGE.test(step.run ?? "")) {
                problems.push(`job ${jobId}: builds an image; prod must get dev's scanned digest, promoted`);
            }
        }
    }
    const job = wf.jobs?.[prodJob] ?? {};
    const promote = firstIndex(job, runs(/\.ci\/promote-image\.sh\b/));
    const up = firstIndex(
        job,
        (s) => isAction(s, "pulumi/actions") && ["up", "update"].includes(String(input(s, "command"))),
    );
    if (promote < 0)
        problems.push(`job ${prodJob}: does not promote the image (.ci/promote-image.sh) before pulumi up`);
    else if (up >= 0 && promote > up) problems.push(`job ${prodJob}: promotes the image after pulumi up`);
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Tests

function assertProblem(problems: string[], expected: RegExp): void {
    assert.ok(
        problems.some((p) => expected.test(p)),
        `expected a problem matching ${expected}; got:\n${problems.map((p) => `  - ${p}`).join("\n") || "  (none)"}`,
    );
}

function jobWithPulumi(wf: Workflow, command: string, stack?: string): Job {
    const found = pulumiSteps(wf, command).find((p) => stack === undefined || p.stacks.includes(stack));
    assert.ok(found, `no pulumi ${command} job${stack ? ` for ${stack}` : ""} in the fixture`);
    return found.job;
}

function pulumiStepOf(job: Job): Step {
    const step = stepsOf(job).find((s) => isAction(s, "pulumi/actions"));
    assert.ok(step, "no pulumi/actions step");
    return step;
}

describe("GitHub workflows", () => {
    const files = fs.existsSync(WORKFLOW_DIR)
        ? fs.readdirSync(WORKFLOW_DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
        : [];

    describe("every workflow file", () => {
        it("includes the pull-request and deploy workflows", () => {
            assert.ok(files.includes(PULL_REQUEST_FILE), `${PULL_REQUEST_FILE} missing from ${WORKFLOW_DIR}`);
            assert.ok(files.includes(DEPLOY_FILE), `${DEPLOY_FILE} missing from ${WORKFLOW_DIR}`);
        });

        for (const file of files) {
            it(`${file} is valid YAML with jobs and declared token permissions`, () => {
                const text = fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
                assert.deepEqual(checkAnyWorkflow(text), []);
            });
        }

        it("every action is pinned to a commit SHA with its tag in a comment, the same one in every file", () => {
            const texts = Object.fromEntries(
                files.map((f) => [f, fs.readFileSync(path.join(WORKFLOW_DIR, f), "utf8")]),
            );
            assert.ok(
                Object.values(texts).some((t) => actionPins(t).pins.length > 0),
                "no pinned action found at all: is the parser reading the files?",
            );
            assert.deepEqual(checkPinsAgree(texts), []);
        });

        it("the pin check rejects tags, branches, short SHAs, a missing tag comment and unpinned images", () => {
            const sha = "3d3c42e5aac5ba805825da76410c181273ba90b1";
            const wf = (uses: string) =>
                `on: [push]\npermissions: {contents: read}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ${uses}\n`;
            const table: [string, RegExp | null][] = [
                [`actions/checkout@${sha} # v7.0.1`, null],
                [`"actions/checkout@${sha}" # v7.0.1`, null],
                [`github/codeql-action/init@${sha} # v4`, null],
                ["./.github/actions/local", null],
                [`docker://alpine@sha256:${"a".repeat(64)}`, null],
                ["actions/checkout@v7", /actions\/checkout@v7 is not pinned to a full commit SHA with its tag/],
                ["actions/checkout@main", /is not pinned/],
                ["actions/checkout@3d3c42e", /is not pinned/],
                [`actions/checkout@${sha}`, /is not pinned to a full commit SHA with its tag in a comment/],
                [`actions/checkout@${sha} # latest`, /is not pinned/],
                ["docker://alpine:3.20", /docker:\/\/alpine:3\.20 is not pinned to an image digest/],
            ];
            for (const [uses, expected] of table) {
                const problems = checkAnyWorkflow(wf(uses));
                if (expected === null) assert.deepEqual(problems, [], uses);
                else assertProblem(problems, expected);
            }
            const other = "0000000000000000000000000000000000000000";
            assertProblem(
                checkPinsAgree({
                    "a.yml": wf(`actions/checkout@${sha} # v7.0.1`),
                    "b.yml": wf(`actions/checkout@${other} # v7.0.1`),
                }),
                /actions\/checkout is 0{40} # v7\.0\.1 at b\.yml:7 but 3d3c42e5\w+ # v7\.0\.1 at a\.yml:7/,
            );
        });

        it("the generic check rejects broken YAML, missing permissions and write-all", () => {
            assertProblem(checkAnyWorkflow("on: [push]\njobs:\n  a: {runs-on: x\n"), /invalid YAML/);
            const base = { on: { push: null }, jobs: { a: { "runs-on": "ubuntu-latest", steps: [{ run: "true" }] } } };
            assertProblem(checkAnyWorkflow(YAML.stringify(base)), /no `permissions:`/);
            assert.deepEqual(checkAnyWorkflow(YAML.stringify({ ...base, permissions: { contents: "read" } })), []);
            assertProblem(checkAnyWorkflow(YAML.stringify({ ...base, permissions: "write-all" })), /write-all/);
            assertProblem(checkAnyWorkflow(YAML.stringify({ permissions: {}, jobs: {} })), /no `on:`|no jobs/);
        });
    });

    describe(PULL_REQUEST_FILE, () => {
        const real = loadWorkflow(PULL_REQUEST_FILE);
        const copy = (): Workflow => structuredClone(real);
        const preview = (wf: Workflow): Job => jobWithPulumi(wf, "preview");

        it("has no problems", () => {
            assert.deepEqual(checkPullRequestWorkflow(real), []);
        });

        const mutations: [string, (wf: Workflow) => void, RegExp][] = [
            ["drop the pull_request trigger", (wf) => (wf.on = { push: null }), /not triggered by pull_request/],
            [
                "add pull_request_target",
                (wf) => ((wf.on as Dict).pull_request_target = null),
                /pull_request_target runs with secrets/,
            ],
            [
                "grant pull-requests: write at workflow level",
                (wf) => (wf.permissions = { contents: "read", "pull-requests": "write" }),
                /workflow-level permissions must be exactly/,
            ],
            [
                "secrets in the fork-reachable checks job",
                (wf) => (wf.jobs!.checks.env = { TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" }),
                /job checks: uses secrets but runs for pull requests from forks/,
            ],
            [
                "id-token: write on checks",
                (wf) => (wf.jobs!.checks.permissions = { contents: "read", "id-token": "write" }),
                /job checks: permission id-token: write is not needed/,
            ],
            ["remove the fork guard from preview", (wf) => delete preview(wf).if, /preview without the fork guard/],
            [
                "OR the fork guard away",
                (wf) => (preview(wf).if = `${FORK_GUARD} || true`),
                /preview without the fork guard/,
            ],
            [
                "preview only dev",
                (wf) => (preview(wf).strategy!.matrix = { include: [{ stack: "dev" }] }),
                /no preview for stack prod/,
            ],
            [
                "preview runs up instead",
                (wf) => (pulumiStepOf(preview(wf)).with!.command = "up"),
                /no pulumi\/actions step with command: preview/,
            ],
            [
                "preview without policy pack",
                (wf) => delete pulumiStepOf(preview(wf)).with!.policyPacks,
                /pulumi preview without policyPacks: policy/,
            ],
            [
                "preview without the stack's policy pack config",
                (wf) => delete pulumiStepOf(preview(wf)).with!.policyPackConfigs,
                /pulumi preview without policyPackConfigs: policy\/config\/\$\{\{ matrix\.stack \}\}\.json/,
            ],
            [
                "preview without PR comment",
                (wf) => delete pulumiStepOf(preview(wf)).with!["comment-on-pr"],
                /preview without comment-on-pr: true/,
            ],
            [
                "preview without edit-pr-comment",
                (wf) => delete pulumiStepOf(preview(wf)).with!["edit-pr-comment"],
                /does not set edit-pr-comment/,
            ],
            [
                "preview without id-token: write",
                (wf) => (preview(wf).permissions = { contents: "read", "pull-requests": "write" }),
                /configure-aws-credentials needs id-token: write/,
            ],
            ["preview not waiting for checks", (wf) => delete preview(wf).needs, /preview does not need checks/],
            [
                "preview with no state backend",
                (wf) => {
                    const step = pulumiStepOf(preview(wf));
                    delete step.with!["cloud-url"];
                    delete step.env;
                },
                /no state backend/,
            ],
            [
                "AWS role from a secret",
                (wf) => {
                    const creds = stepsOf(preview(wf)).find((s) =>
                        isAction(s, "aws-actions/configure-aws-credentials"),
                    )!;
                    creds.with!["role-to-assume"] = "${{ secrets.ROLE }}";
                },
                /role-to-assume must come from a repository\/environment variable/,
            ],
            [
                "pulumi before the AWS credentials",
                (wf) => {
                    const steps = preview(wf).steps!;
                    const creds = steps.findIndex((s) => isAction(s, "aws-actions/configure-aws-credentials"));
                    const [moved] = steps.splice(creds, 1);
                    steps.push(moved);
                },
                /runs before AWS credentials are configured/,
            ],
            [
                "npm ci after lint",
                (wf) => {
                    const steps = wf.jobs!.checks.steps!;
                    const ci = steps.findIndex(runs(/\bnpm\s+ci\b/));
                    const [moved] = steps.splice(ci, 1);
                    steps.splice(ci + 1, 0, moved);
                },
                /job checks, step \d+ \(Lint\): runs an npm script in \. before `npm ci`/,
            ],
            [
                "no npm ci before pulumi/actions",
                (wf) => (preview(wf).steps = stepsOf(preview(wf)).filter((s) => !runs(/\bnpm\s+ci\b/)(s))),
                /pulumi\/actions runs the program before `npm ci`/,
            ],
            [
                "no npm ci in the base checkout",
                (wf) =>
                    (wf.jobs!.checks.steps = stepsOf(wf.jobs!.checks).filter(
                        (s) => !(runs(/\bnpm\s+ci\b/)(s) && s["working-directory"] !== undefined),
                    )),
                /runs an npm script in \.base before `npm ci` there/,
            ],
            ["checks without lint", (wf) => dropRun(wf.jobs!.checks, /npm run lint/), /does not run `npm run lint`/],
            [
                "checks without typecheck",
                (wf) => dropRun(wf.jobs!.checks, /npm run typecheck/),
                /does not run `npm run typecheck`/,
            ],
            ["checks without tests", (wf) => dropRun(wf.jobs!.checks, /npm test/), /does not run `npm test`/],
            [
                "checks on another Node",
                (wf) =>
                    (stepsOf(wf.jobs!.checks).find((s) => isAction(s, "actions/setup-node"))!.with!["node-version"] =
                        22),
                /job checks: setup-node must read node-version-file: \.nvmrc \(and set no node-version\)/,
            ],
            [
                "no synth of the base",
                (wf) =>
                    (wf.jobs!.checks.steps = stepsOf(wf.jobs!.checks).filter(
                        (s) => !(isAction(s, "actions/checkout") && input(s, "ref") !== undefined),
                    )),
                /no second checkout of the base ref/,
            ],
            [
                "no summary",
                (wf) => dropRun(wf.jobs!.checks, /GITHUB_STEP_SUMMARY/),
                /not written to \$GITHUB_STEP_SUMMARY/,
            ],
            [
                "no artifact",
                (wf) =>
                    (wf.jobs!.checks.steps = stepsOf(wf.jobs!.checks).filter(
                        (s) => !isAction(s, "actions/upload-artifact"),
                    )),
                /not uploaded with actions\/upload-artifact/,
            ],
            [
                "action pinned to a branch",
                (wf) => (stepsOf(wf.jobs!.checks)[0].uses = "actions/checkout@main"),
                /action actions\/checkout@main is not pinned to a full commit SHA/,
            ],
            [
                "action pinned to a major version tag",
                (wf) => (stepsOf(wf.jobs!.checks)[0].uses = "actions/checkout@v7"),
                /action actions\/checkout@v7 is not pinned to a full commit SHA/,
            ],
        ];

        for (const [what, mutate, expected] of mutations) {
            it(`flags a copy mutated to: ${what}`, () => {
                const wf = copy();
                mutate(wf);
                assertProblem(checkPullRequestWorkflow(wf), expected);
            });
        }

        it("mutations do not leak into the parsed original", () => {
            assert.deepEqual(checkPullRequestWorkflow(real), []);
        });
    });

    describe(DEPLOY_FILE, () => {
        const real = loadWorkflow(DEPLOY_FILE);
        const copy = (): Workflow => structuredClone(real);
        const dev = (wf: Workflow): Job => jobWithPulumi(wf, "up", "dev");
        const prod = (wf: Workflow): Job => jobWithPulumi(wf, "up", "prod");
        const prodPreviewJob = (wf: Workflow): string => {
            const found = pulumiSteps(wf, "preview").find((p) => p.stacks.includes("prod"));
            assert.ok(found, "no prod preview in the fixture");
            return found.jobId;
        };

        it("has no problems", () => {
            assert.deepEqual(checkDeployWorkflow(real), []);
        });

        const mutations: [string, (wf: Workflow) => void, RegExp][] = [
            [
                "deploy on pull requests",
                (wf) => ((wf.on as Dict).pull_request = null),
                /deploy must not run on pull_request/,
            ],
            [
                "deploy a branch other than main",
                (wf) => ((wf.on as Dict).push = { branches: ["release"] }),
                /does not list branches: \[main\]/,
            ],
            ["no manual trigger", (wf) => delete (wf.on as Dict).workflow_dispatch, /no workflow_dispatch/],
            [
                "id-token: write for the whole workflow",
                (wf) => (wf.permissions = { contents: "read", "id-token": "write" }),
                /workflow-level permissions must be exactly/,
            ],
            [
                "contents: write on a deploy job",
                (wf) => (dev(wf).permissions = { contents: "write", "id-token": "write" }),
                /permission contents: write is not needed/,
            ],
            [
                "cancel a running up",
                (wf) => (prod(wf).concurrency = { group: "pulumi-prod", "cancel-in-progress": true }),
                /cancel-in-progress must be false/,
            ],
            [
                "one concurrency group for both stacks",
                (wf) => (dev(wf).concurrency = { group: "deploy", "cancel-in-progress": false }),
                /concurrency group must be pulumi-dev/,
            ],
            ["prod not waiting for dev", (wf) => delete prod(wf).needs, /prod must need the dev job/],
            ["prod outside its environment", (wf) => (prod(wf).environment = "production"), /GitHub environment prod/],
            [
                "deploy prod only",
                (wf) => (pulumiStepOf(dev(wf)).with!["stack-name"] = "prod"),
                /no pulumi up for stack dev/,
            ],
            ["up without tests", (wf) => dropRun(prod(wf), /npm test/), /no `npm test` before pulumi up/],
            [
                "up without the policy pack",
                (wf) => delete pulumiStepOf(dev(wf)).with!.policyPacks,
                /pulumi up without policyPacks: policy/,
            ],
            [
                "dev up with prod's policy pack config",
                (wf) => (pulumiStepOf(dev(wf)).with!.policyPackConfigs = "policy/config/prod.json"),
                /pulumi up without policyPackConfigs: policy\/config\/dev\.json/,
            ],
            [
                "up without npm ci",
                (wf) => (prod(wf).steps = stepsOf(prod(wf)).filter((s) => !runs(/\bnpm\s+ci\b/)(s))),
                /before `npm ci`/,
            ],
            [
                "static AWS keys",
                (wf) => {
                    const creds = stepsOf(prod(wf)).find((s) => isAction(s, "aws-actions/configure-aws-credentials"))!;
                    creds.with = { "aws-access-key-id": "${{ secrets.KEY }}", "aws-region": "eu-west-1" };
                },
                /static AWS access keys/,
            ],
            [
                "no prod preview",
                (wf) => delete wf.jobs![prodPreviewJob(wf)],
                /no pulumi preview for prod before its up/,
            ],
            [
                "prod preview behind the approval",
                (wf) => (wf.jobs![prodPreviewJob(wf)].environment = "prod"),
                /the prod preview runs in the prod environment, so only after the approval/,
            ],
            [
                "prod preview not in the job summary",
                (wf) => delete pulumiStepOf(wf.jobs![prodPreviewJob(wf)]).with!["comment-on-summary"],
                /not written to the job summary/,
            ],
            [
                "prod up not waiting for its preview",
                (wf) => (prod(wf).needs = needsOf(prod(wf)).filter((n) => n !== prodPreviewJob(wf))),
                /prod's up does not need the prod preview job/,
            ],
            [
                "prod preview of whatever main is by then",
                (wf) =>
                    delete stepsOf(wf.jobs![prodPreviewJob(wf)]).find((s) => isAction(s, "actions/checkout"))!.with!
                        .ref,
                /checks out undefined, not the exact commit/,
            ],
            [
                "prod up without promoting the image",
                (wf) => dropRun(prod(wf), /promote-image\.sh/),
                /does not promote the image/,
            ],
            [
                "prod image promoted after the up",
                (wf) => {
                    const steps = prod(wf).steps!;
                    const [moved] = steps.splice(steps.findIndex(runs(/promote-image\.sh/)), 1);
                    steps.push(moved);
                },
                /promotes the image after pulumi up/,
            ],
            [
                "prod image rebuilt",
                (wf) =>
                    prod(wf).steps!.splice(1, 0, {
                        run: "docker buildx build -t x -f app/checkout-service/Dockerfile .",
                    }),
                /builds an image; prod must get dev's scanned digest/,
            ],
            [
                "setup-node on a literal version",
                (wf) =>
                    (stepsOf(prod(wf)).find((s) => isAction(s, "actions/setup-node"))!.with = { "node-version": "24" }),
                /setup-node must read node-version-file: \.nvmrc/,
            ],
        ];

        for (const [what, mutate, expected] of mutations) {
            it(`flags a copy mutated to: ${what}`, () => {
                const wf = copy();
                mutate(wf);
                assertProblem(checkDeployWorkflow(wf), expected);
            });
        }
    });
});

function dropRun(job: Job, re: RegExp): void {
    job.steps = stepsOf(job).filter((s) => !runs(re)(s));
}
