/** Invariants of .github/workflows/image.yml, checked on the parsed YAML (no Actions runner here). */

export interface Step {
    readonly name?: string;
    readonly id?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Readonly<Record<string, unknown>>;
    readonly env?: Readonly<Record<string, unknown>>;
}

interface Job {
    readonly environment?: unknown;
    readonly permissions?: unknown;
    readonly env?: Readonly<Record<string, unknown>>;
    readonly steps?: readonly Step[];
}

/** The tag CI pushes: the commit SHA behind the prefix the registry expires by count. */
export const CI_IMAGE_TAG = "sha-${{ github.sha }}";

const SHA_PIN = /^[\w.-]+\/[\w.\/-]+@[0-9a-f]{40}$/;

function record(value: unknown): Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : {};
}

function list(value: unknown): unknown[] {
    return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Index of the first step matching `predicate`, or -1. */
function stepIndex(steps: readonly Step[], predicate: (s: Step) => boolean): number {
    return steps.findIndex(predicate);
}

const usesAction = (action: string) => (s: Step) => (s.uses ?? "").split("@")[0] === action;

/**
 * Violations of the image workflow's rules (empty when fine). `doc` is the YAML parsed with the
 * `yaml` package: note that the key `on` stays the string "on" there (YAML 1.2, not a boolean).
 */
export function checkImageWorkflow(doc: unknown): string[] {
    const problems: string[] = [];
    const root = record(doc);

    // Trigger: pushes to main touching the service.
    const push = record(record(root.on).push);
    if (!list(push.branches).includes("main")) {
        problems.push("must run on push to main");
    }
    if (!list(push.paths).includes("app/checkout-service/**")) {
        problems.push('push trigger must be limited to paths including "app/checkout-service/**"');
    }
    if (record(root.on).pull_request_target !== undefined) {
        problems.push("must not run on pull_request_target (untrusted code with secrets)");
    }
    // Built once, for dev: prod gets dev's scanned digest promoted by deploy.yml, never a build of its own.
    if (Object.keys(record(record(root.on).workflow_dispatch).inputs ?? {}).length > 0) {
        problems.push("workflow_dispatch must take no inputs (the image is built for dev only)");
    }

    // Permissions: read-only by default, the OIDC token only where it is used.
    if (JSON.stringify(root.permissions) !== JSON.stringify({ contents: "read" })) {
        problems.push(`workflow permissions must be exactly {contents: read}; got ${JSON.stringify(root.permissions)}`);
    }
    const jobs = Object.entries(record(root.jobs)).map(([name, job]) => [name, record(job) as Job] as const);
    if (jobs.length === 0) {
        problems.push("no jobs");
    }
    for (const [name, job] of jobs) {
        const perms = record(job.permissions);
        const steps = (job.steps ?? []) as readonly Step[];
        const expected = { contents: "read", "id-token": "write" };
        if (JSON.stringify(Object.entries(perms).sort()) !== JSON.stringify(Object.entries(expected).sort())) {
            problems.push(
                `job ${name}: permissions must be exactly {id-token: write, contents: read}; got ${JSON.stringify(job.permissions)}`,
            );
        }

        if (job.environment !== "dev") {
            problems.push(
                `job ${name}: environment must be dev (prod gets dev's digest by promotion, not a build); got ${JSON.stringify(job.environment)}`,
            );
        }
        for (const step of steps.filter(usesAction("actions/setup-node"))) {
            if (
                record(step.with)["node-version-file"] !== ".nvmrc" ||
                record(step.with)["node-version"] !== undefined
            ) {
                problems.push(`job ${name}: setup-node must read node-version-file: .nvmrc`);
            }
        }

        for (const step of steps) {
            if (step.uses !== undefined && !step.uses.startsWith("./") && !SHA_PIN.test(step.uses)) {
                problems.push(`job ${name}: ${step.uses} is not pinned to a full commit SHA`);
            }
            // Expressions inside scripts are a template-injection vector; pass values through env.
            if (step.run !== undefined && step.run.includes("${{")) {
                problems.push(
                    `job ${name}: step "${step.name ?? step.run.slice(0, 30)}" interpolates \${{ }} into its script`,
                );
            }
        }

        // OIDC credentials from a variable, never long-lived keys.
        const creds = stepIndex(steps, usesAction("aws-actions/configure-aws-credentials"));
        const credsWith = record(steps[creds]?.with);
        if (creds === -1) {
            problems.push(`job ${name}: must authenticate with aws-actions/configure-aws-credentials`);
        } else {
            if (!/^\$\{\{\s*vars\.[A-Z0-9_]+\s*\}\}$/.test(String(credsWith["role-to-assume"] ?? ""))) {
                problems.push(`job ${name}: role-to-assume must come from a repository/environment variable (vars.*)`);
            }
            for (const key of ["aws-access-key-id", "aws-secret-access-key", "aws-session-token"]) {
                if (key in credsWith) {
                    problems.push(`job ${name}: configure-aws-credentials must use OIDC, not ${key}`);
                }
            }
        }

        // Tag: sha-<commit SHA>, never a moving tag. The prefix is what the registry's lifecycle policy
        // expires by count (components/registry.ts, DEFAULT_CI_TAG_PATTERN "sha-*"); release tags never match it.
        const env = record(job.env);
        if (env.IMAGE_TAG !== CI_IMAGE_TAG) {
            problems.push(`job ${name}: IMAGE_TAG must be ${CI_IMAGE_TAG}; got ${JSON.stringify(env.IMAGE_TAG)}`);
        }
        const text = JSON.stringify(steps);
        if (/:latest\b/.test(text) || /\blatest\b/.test(String(env.LOCAL_IMAGE ?? ""))) {
            problems.push(`job ${name}: mentions a latest tag`);
        }

        // Build from the repository root, without pushing.
        const build = stepIndex(steps, usesAction("docker/build-push-action"));
        const buildWith = record(steps[build]?.with);
        if (build === -1) {
            problems.push(`job ${name}: must build with docker/build-push-action`);
        } else {
            if (buildWith.context !== "." || buildWith.file !== "app/checkout-service/Dockerfile") {
                problems.push(`job ${name}: build must use context "." and file app/checkout-service/Dockerfile`);
            }
            if (buildWith.push === true || buildWith.push === "true") {
                problems.push(`job ${name}: the build step must not push (the image is scanned first)`);
            }
        }

        // Scan the built image before credentials exist and before the push, and fail on findings.
        const scan = stepIndex(steps, usesAction("aquasecurity/trivy-action"));
        const scanWith = record(steps[scan]?.with);
        const pushStep = stepIndex(steps, (s) => /\bdocker\s+push\b/.test(s.run ?? ""));
        if (scan === -1) {
            problems.push(`job ${name}: must scan the image with aquasecurity/trivy-action`);
        } else {
            if (String(scanWith["exit-code"]) !== "1") {
                problems.push(`job ${name}: the scan must fail the job (exit-code "1")`);
            }
            if (!/CRITICAL/.test(String(scanWith.severity ?? ""))) {
                problems.push(`job ${name}: the scan must at least fail on CRITICAL`);
            }
            if (scanWith["image-ref"] !== buildWith.tags) {
                problems.push(`job ${name}: the scan must target the image just built (${String(buildWith.tags)})`);
            }
            if (build !== -1 && scan < build) {
                problems.push(`job ${name}: scan runs before the build`);
            }
            if (pushStep !== -1 && scan > pushStep) {
                problems.push(`job ${name}: scan must run before the push`);
            }
            if (creds !== -1 && scan > creds) {
                problems.push(`job ${name}: scan must run before AWS credentials are configured`);
            }
        }
        if (pushStep === -1) {
            problems.push(`job ${name}: no step runs docker push`);
        } else {
            const script = steps[pushStep]?.run ?? "";
            if (!/\$IMAGE_TAG\b|\$\{IMAGE_TAG\}/.test(script)) {
                problems.push(`job ${name}: the push must use $IMAGE_TAG`);
            }
            if (creds !== -1 && pushStep < creds) {
                problems.push(`job ${name}: push runs before AWS credentials are configured`);
            }
        }

        // Tell the operator how to roll it out: a release tag on this image, then that tag in config.
        // Never the CI tag itself: CI tags expire by count, so a pod rescheduled later could not pull it.
        const summary = stepIndex(
            steps,
            (s) =>
                /aws ecr put-image\b.*--image-tag <version>/.test(s.run ?? "") &&
                /pulumi config set --path checkout\.imageTag <version>/.test(s.run ?? ""),
        );
        if (summary === -1) {
            problems.push(
                `job ${name}: must print how to release the image (aws ecr put-image ... --image-tag <version>) and deploy it (pulumi config set --path checkout.imageTag <version>)`,
            );
        } else if (pushStep !== -1 && summary < pushStep) {
            problems.push(`job ${name}: prints the config step before the image exists`);
        }
        if (steps.some((s) => /pulumi config set (--path )?checkout\.imageTag \$\{?IMAGE_TAG\b/.test(s.run ?? ""))) {
            problems.push(`job ${name}: suggests deploying the CI tag $IMAGE_TAG, which the lifecycle policy expires`);
        }
    }
    return problems;
}
