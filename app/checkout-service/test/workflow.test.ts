import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

import { checkImageWorkflow, type Step } from "./workflow";

const workflowPath = path.resolve(__dirname, "..", "..", "..", ".github", "workflows", "image.yml");
const text = fs.readFileSync(workflowPath, "utf8");

interface Workflow {
    on: { push: { branches: string[]; paths: string[] }; workflow_dispatch?: Record<string, unknown> | null };
    permissions: Record<string, string> | string;
    jobs: Record<
        string,
        { environment: string; permissions: Record<string, string>; env: Record<string, string>; steps: Step[] }
    >;
}

/** A fresh parse of the real workflow, so each mutation starts from the file as committed. */
function load(): Workflow {
    return parse(text) as Workflow;
}

function onlyJob(wf: Workflow): Workflow["jobs"][string] {
    const jobs = Object.values(wf.jobs);
    assert.equal(jobs.length, 1);
    return jobs[0] as Workflow["jobs"][string];
}

function step(wf: Workflow, predicate: (s: Step) => boolean): Step & Record<string, unknown> {
    const found = onlyJob(wf).steps.find(predicate);
    assert.ok(found !== undefined, "mutation target step not found");
    return found as Step & Record<string, unknown>;
}

const uses = (action: string) => (s: Step) => (s.uses ?? "").startsWith(`${action}@`);
const pushes = (s: Step) => /docker push/.test(s.run ?? "");

function move(wf: Workflow, predicate: (s: Step) => boolean, after: (s: Step) => boolean): void {
    const steps = onlyJob(wf).steps;
    const [moved] = steps.splice(steps.findIndex(predicate), 1);
    assert.ok(moved !== undefined);
    steps.splice(steps.findIndex(after) + 1, 0, moved);
}

describe(".github/workflows/image.yml", () => {
    it("parses as YAML and keeps every invariant", () => {
        assert.deepEqual(checkImageWorkflow(load()), []);
    });

    it("builds on push to main for the service's paths, tags sha-<commit SHA>", () => {
        const wf = load();
        assert.deepEqual(wf.on.push.branches, ["main"]);
        assert.ok(wf.on.push.paths.includes("app/checkout-service/**"));
        assert.equal(onlyJob(wf).env.IMAGE_TAG, "sha-${{ github.sha }}");
    });

    it("runs the scan, then credentials, then the push, in that order", () => {
        const steps = onlyJob(load()).steps;
        const order = [
            uses("docker/build-push-action"),
            uses("aquasecurity/trivy-action"),
            uses("aws-actions/configure-aws-credentials"),
            pushes,
        ].map((p) => steps.findIndex(p));
        assert.ok(
            order.every((i) => i >= 0),
            JSON.stringify(order),
        );
        assert.deepEqual(
            [...order].sort((a, b) => a - b),
            order,
        );
    });

    const mutations: Array<[string, (wf: Workflow) => void, RegExp]> = [
        ["another branch", (wf) => (wf.on.push.branches = ["release"]), /push to main/],
        [
            "a build for prod",
            (wf) => (onlyJob(wf).environment = "${{ inputs.stack || 'dev' }}"),
            /environment must be dev \(prod gets dev's digest by promotion/,
        ],
        [
            "a stack to build for",
            (wf) => (wf.on.workflow_dispatch = { inputs: { stack: { type: "choice", options: ["dev", "prod"] } } }),
            /workflow_dispatch must take no inputs/,
        ],
        [
            "a literal Node version",
            (wf) => {
                const setup = step(wf, uses("actions/setup-node")).with as Record<string, unknown>;
                delete setup["node-version-file"];
                setup["node-version"] = "24.22.3";
            },
            /setup-node must read node-version-file: \.nvmrc/,
        ],
        ["no path filter", (wf) => (wf.on.push.paths = ["**"]), /app\/checkout-service\/\*\*/],
        ["write-all permissions", (wf) => (wf.permissions = "write-all"), /workflow permissions/],
        ["contents: write", (wf) => (onlyJob(wf).permissions.contents = "write"), /permissions must be exactly/],
        ["no id-token", (wf) => delete onlyJob(wf).permissions["id-token"], /permissions must be exactly/],
        [
            "a literal role ARN",
            (wf) =>
                ((step(wf, uses("aws-actions/configure-aws-credentials")).with as Record<string, unknown>)[
                    "role-to-assume"
                ] = "arn:aws:iam::123456789012:role/push"),
            /vars\.\*/,
        ],
        [
            "a role from secrets",
            (wf) =>
                ((step(wf, uses("aws-actions/configure-aws-credentials")).with as Record<string, unknown>)[
                    "role-to-assume"
                ] = "${{ secrets.ROLE }}"),
            /vars\.\*/,
        ],
        [
            "static keys",
            (wf) =>
                ((step(wf, uses("aws-actions/configure-aws-credentials")).with as Record<string, unknown>)[
                    "aws-access-key-id"
                ] = "${{ secrets.KEY }}"),
            /not aws-access-key-id/,
        ],
        ["a latest tag", (wf) => (onlyJob(wf).env.IMAGE_TAG = "latest"), /IMAGE_TAG must be/],
        ["a branch-name tag", (wf) => (onlyJob(wf).env.IMAGE_TAG = "${{ github.ref_name }}"), /IMAGE_TAG must be/],
        [
            "pushing from the build step",
            (wf) => ((step(wf, uses("docker/build-push-action")).with as Record<string, unknown>).push = true),
            /must not push/,
        ],
        [
            "the app folder as context",
            (wf) =>
                ((step(wf, uses("docker/build-push-action")).with as Record<string, unknown>).context =
                    "app/checkout-service"),
            /context "\."/,
        ],
        [
            "a scan that never fails",
            (wf) => ((step(wf, uses("aquasecurity/trivy-action")).with as Record<string, unknown>)["exit-code"] = "0"),
            /exit-code "1"/,
        ],
        [
            "a scan of another image",
            (wf) =>
                ((step(wf, uses("aquasecurity/trivy-action")).with as Record<string, unknown>)["image-ref"] =
                    "alpine:3.20.0"),
            /image just built/,
        ],
        [
            "the scan after the push",
            (wf) => move(wf, uses("aquasecurity/trivy-action"), pushes),
            /scan must run before the push/,
        ],
        [
            "the scan after credentials",
            (wf) => move(wf, uses("aquasecurity/trivy-action"), uses("aws-actions/amazon-ecr-login")),
            /before AWS credentials/,
        ],
        [
            "no scan",
            (wf) => (onlyJob(wf).steps = onlyJob(wf).steps.filter((s) => !uses("aquasecurity/trivy-action")(s))),
            /must scan the image/,
        ],
        [
            "an action on a moving tag",
            (wf) =>
                ((step(wf, uses("aquasecurity/trivy-action")) as Record<string, unknown>).uses =
                    "aquasecurity/trivy-action@v0.36.0"),
            /not pinned to a full commit SHA/,
        ],
        [
            "an expression inside a script",
            (wf) =>
                ((step(wf, pushes) as Record<string, unknown>).run =
                    'docker push "$REPOSITORY_URL:$IMAGE_TAG" # ${{ github.event.head_commit.message }}'),
            /interpolates/,
        ],
        ["the bare commit SHA as tag", (wf) => (onlyJob(wf).env.IMAGE_TAG = "${{ github.sha }}"), /IMAGE_TAG must be/],
        [
            "a hint to deploy the CI tag",
            (wf) => {
                const hint = step(wf, (s) => /pulumi config set/.test(s.run ?? "")) as Record<string, unknown>;
                hint.run = `${String(hint.run)}\necho "pulumi config set checkout.imageTag $IMAGE_TAG"`;
            },
            /suggests deploying the CI tag/,
        ],
        [
            "no config hint",
            (wf) => (onlyJob(wf).steps = onlyJob(wf).steps.filter((s) => !/pulumi config set/.test(s.run ?? ""))),
            /pulumi config set --path checkout\.imageTag/,
        ],
    ];
    for (const [name, apply, expected] of mutations) {
        it(`rejects ${name}`, () => {
            const wf = load();
            apply(wf);
            const problems = checkImageWorkflow(wf);
            assert.ok(
                problems.some((p) => expected.test(p)),
                `expected a problem matching ${String(expected)}; got ${JSON.stringify(problems)}`,
            );
        });
    }
});
