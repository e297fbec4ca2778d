import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { EngineMode, ProgramRun, RecordedResource } from "../harness/engine";
import { REPO_ROOT } from "../harness/stack-config";
import { formatViolations, mandatoryViolations, runPolicies } from "../policy/offline";
import { validateKubernetesObjects } from "../policy/schema/kubernetes";
import { synthCommand } from "../scripts/lib/cli";
import { checkGuardrails, isKubernetesObject, policyEnvironment } from "../scripts/lib/guardrails";
import { tmpDir } from "../scripts/lib/synthesize";
import { EKS_VERSIONS } from "../components/eks-versions";
import { stackRun } from "./shared-runs";

/** The EKS support calendar is read for the day the versions were reviewed, not the day tests run. */
const KNOBS = { eksSupportAsOf: EKS_VERSIONS.reviewedOn };

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
        "karpenter-nodepool-on-demand", // dev buys spot by design: interruptions are acceptable there
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
                const report = await checkGuardrails(run(), KNOBS);
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

const violationsOf = (run: ProgramRun) =>
    runPolicies(run.resources, { ...KNOBS, environment: policyEnvironment(run.stack) });

describe("guardrails catch the program's pre-fix forms (issue 11), each on its own", () => {
    // Props as recorded, without the wire form, so the rules read the edited props.
    type Resource = Omit<RecordedResource, "wire">;
    type Mutation = (resources: Resource[]) => Resource[];
    const one = (rs: Resource[], type: string, name: string) => {
        const r = rs.find((x) => x.type === type && x.name === name);
        assert.ok(r, `${type} ${name} exists`);
        return r;
    };
    const cases: { what: string; rule: string; mutate: Mutation }[] = [
        {
            what: "coredns enabled inside eks.Cluster with skipDefaultNodeGroup (pulumi-eks#1819)",
            rule: "eks-coredns-after-nodes",
            mutate: (rs) => {
                one(rs, "eks:index:Cluster", "cluster-eks").props.corednsAddonOptions = {
                    enabled: true,
                    version: "v1.14.3-eksbuild.3",
                };
                return rs;
            },
        },
        {
            what: "coredns created before the node group",
            rule: "eks-addons-after-nodes",
            mutate: (rs) => {
                const ng = one(rs, "eks:index:ManagedNodeGroup", "cluster-nodes").urn;
                const dns = one(rs, "aws:eks/addon:Addon", "cluster-coredns");
                dns.dependencies = dns.dependencies.filter((d) => d !== ng);
                dns.dependsOn = dns.dependsOn?.filter((d) => d !== ng);
                return rs;
            },
        },
        {
            what: "vpc-cni left to mostRecent",
            rule: "eks-addon-versions-pinned",
            mutate: (rs) => {
                delete (one(rs, "eks:index:Cluster", "cluster-eks").props.vpcCniOptions as Record<string, unknown>)
                    .addonVersion;
                return rs;
            },
        },
        {
            what: "a private endpoint with no 443 rule for the runner (pulumi-eks#1134)",
            rule: "eks-private-endpoint-runner-path",
            mutate: (rs) => rs.filter((r) => r.type !== "aws:ec2/securityGroupRule:SecurityGroupRule"),
        },
        {
            what: "Kubernetes 1.33, past standard support",
            rule: "eks-kubernetes-version-supported",
            mutate: (rs) => {
                one(rs, "eks:index:Cluster", "cluster-eks").props.version = "1.33";
                return rs;
            },
        },
        {
            what: "the node group on pulumi-eks's launch template (no encrypted flag)",
            rule: "eks-nodes-encrypted-volumes",
            mutate: (rs) => {
                const ng = one(rs, "eks:index:ManagedNodeGroup", "cluster-nodes");
                delete ng.props.launchTemplate;
                ng.props.enableIMDSv2 = true;
                return rs.filter((r) => r.type !== "aws:ec2/launchTemplate:LaunchTemplate");
            },
        },
    ];
    for (const c of cases) {
        it(`${c.what}: ${c.rule} is a mandatory violation in prod`, () => {
            const rs = (JSON.parse(JSON.stringify(runs.get("prod/test")!.resources)) as RecordedResource[]).map(
                ({ wire: _wire, ...r }): Resource => r,
            );
            const before = mandatoryViolations(runPolicies(rs, { ...KNOBS, environment: "prod" }));
            assert.deepStrictEqual(before, [], "the program as it is passes");
            const after = mandatoryViolations(runPolicies(c.mutate(rs), { ...KNOBS, environment: "prod" }));
            assert.deepStrictEqual([...new Set(after.map((v) => v.policy))], [c.rule], formatViolations(after));
        });
    }
});

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
