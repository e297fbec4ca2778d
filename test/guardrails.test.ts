import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { EngineMode, ProgramRun } from "../harness/engine";
import { REPO_ROOT } from "../harness/stack-config";
import { formatViolations, mandatoryViolations, runPolicies } from "../policy/offline";
import { validateKubernetesObjects } from "../policy/schema/kubernetes";
import { synthCommand } from "../scripts/lib/cli";
import { checkGuardrails, isKubernetesObject, policyEnvironment } from "../scripts/lib/guardrails";
import { tmpDir } from "../scripts/lib/synthesize";
import { stackRun } from "./shared-runs";

const runs = new Map<string, ProgramRun>();
before(async function () {
    this.timeout(60_000);
    for (const stack of ["dev", "prod"])
        for (const mode of ["test", "preview"] as EngineMode[])
            runs.set(`${stack}/${mode}`, await stackRun(stack, mode));
});

/** The advisory findings each stack is expected to keep, by rule: dev is small and cheap on purpose. */
const ACCEPTED_ADVISORIES: Record<string, string[]> = {
    dev: [
        "cert-manager-high-availability", // 1 replica, no PDBs: dev does not need HA
        "cloudwatch-log-kms", // dev logs hold no customer data; KMS is prod's
        "cloudwatch-log-retention-minimum", // 30 days is enough for dev debugging
        "ecr-kms-encryption", // AES256 is still encryption at rest
        "ecr-no-force-delete", // dev is torn down with its images
        "eks-control-plane-all-log-types", // api/audit/authenticator keep the audit trail
        "eks-deletion-protection", // dev clusters are meant to be recreated
        "k8s-hpa-prod-min-replicas", // 2 replicas still survive one eviction
        "vpc-nat-gateway-per-az", // one NAT gateway saves two thirds of the NAT cost
    ],
    prod: [],
};

for (const stack of ["dev", "prod"]) {
    for (const mode of ["test", "preview"] as EngineMode[]) {
        describe(`guardrails (${stack}, ${mode} run)`, () => {
            const run = () => runs.get(`${stack}/${mode}`)!;

            it("has no mandatory policy violation", () => {
                const violations = mandatoryViolations(violationsOf(run()));
                assert.deepStrictEqual(violations, [], formatViolations(violations));
            });

            it("keeps only the accepted advisory findings", () => {
                const advisory = new Set(violationsOf(run()).map((v) => v.policy));
                assert.deepStrictEqual([...advisory].sort(), ACCEPTED_ADVISORIES[stack]);
            });

            it("validates every Kubernetes object against its schema and the cert-manager values", async () => {
                const report = await checkGuardrails(run());
                assert.strictEqual(report.schema.length, run().resources.filter(isKubernetesObject).length);
                assert.deepStrictEqual(
                    report.schema.filter((s) => s.errors.length),
                    [],
                );
                assert.deepStrictEqual(report.helmValues, [{ release: "cert-manager-release", issues: [] }]);
                assert.strictEqual(report.ok, true);
            });
        });
    }
}

const violationsOf = (run: ProgramRun) => runPolicies(run.resources, { environment: policyEnvironment(run.stack) });

describe("guardrails catch a broken program", () => {
    it("a string runAsNonRoot in the checkout Deployment fails the schema", async () => {
        const dep = runs.get("dev/test")!.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
        const broken = JSON.parse(JSON.stringify(dep.props));
        broken.spec.template.spec.securityContext.runAsNonRoot = "true";
        const [ok, bad] = await validateKubernetesObjects([dep.props, broken]);
        assert.deepStrictEqual(ok.errors, []);
        assert.ok(
            bad.errors.some((e) => /runAsNonRoot/.test(e) && /boolean/.test(e)),
            bad.errors.join("\n"),
        );
    });

    it("a mandatory violation (no audit log) makes the synth exit non-zero with the report", async function () {
        this.timeout(60_000);
        const stack = `guardrails-test-${process.pid}`;
        const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
        const dev = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
        const broken = dev.replace(/\n    logTypes:\n( {6}- \w+\n)+/, "\n    logTypes:\n      - api\n");
        assert.notStrictEqual(broken, dev, "the fixture edit applied");
        fs.writeFileSync(file, broken);
        const out = tmpDir();
        let stdout = "";
        try {
            const code = await synthCommand([stack, "--out", out, "--quiet"], {
                stdout: (t) => (stdout += t),
                stderr: (t) => (stdout += t),
            });
            assert.strictEqual(code, 3, stdout);
            assert.match(stdout, /^MANDATORY +eks-control-plane-audit-logging +eks:index:Cluster::cluster-eks$/m);
        } finally {
            fs.rmSync(file, { force: true });
            fs.rmSync(out, { recursive: true, force: true });
        }
    });
});
