import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { listStacks, REPO_ROOT } from "../harness/stack-config";
import { synthCommand } from "../scripts/lib/cli";
import { diffRuns, KNOWN_AFTER_DEPLOY, render } from "../scripts/lib/render";
import { GOLDEN_DIR, Synthesis, listFiles, synthesize, tmpDir } from "../scripts/lib/synthesize";
import { SIG, UNKNOWN } from "../harness/engine";
import { stackSynthesis } from "./shared-runs";

const syntheses: Record<string, Synthesis> = {};
before(async function () {
    this.timeout(60_000);
    for (const stack of listStacks()) syntheses[stack] = await stackSynthesis(stack);
});

describe("synth: golden snapshots", () => {
    it("covers every stack file", () => {
        assert.deepStrictEqual(listStacks(), ["dev", "prod"]);
        assert.deepStrictEqual(fs.readdirSync(GOLDEN_DIR).sort(), listStacks());
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: matches test/golden/${stack} file for file (npm run synth:update regenerates)`, () => {
            const s = syntheses[stack];
            const golden = listFiles(path.join(GOLDEN_DIR, stack));
            assert.deepStrictEqual(
                [...s.files.keys()].sort(),
                golden,
                "the set of files differs: run `npm run synth:update` and review",
            );
            for (const [rel, content] of s.files) {
                const expected = fs.readFileSync(path.join(GOLDEN_DIR, stack, rel), "utf8");
                assert.ok(
                    content === expected,
                    `${stack}/${rel} drifted from its golden snapshot: run \`npm run synth:update\` and review the diff`,
                );
            }
        });
    }
});

describe("synth: output", () => {
    it("is byte-identical across runs", async () => {
        const again = await synthesize("dev");
        assert.strictEqual(again.files.get("resources.json"), syntheses.dev.files.get("resources.json"));
        assert.strictEqual(again.tree, syntheses.dev.tree);
    });

    it("shows values that exist only after deployment as unknown, never as fake values", () => {
        for (const s of Object.values(syntheses)) {
            const json = s.files.get("resources.json")!;
            assert.ok(!json.includes("123456789012"), "no fake account id");
            // The only ARNs are the ones the stack's config gives (the admin role); none is invented.
            const arns = json.match(/arn:aws:(kms|iam|ecr|eks):[a-z0-9-]*:\d{12}:[^"]+/g) ?? [];
            assert.deepStrictEqual(
                [...new Set(arns)],
                [`arn:aws:iam::${s.stack === "dev" ? "1".repeat(12) : "2".repeat(12)}:role/platform-admin`],
            );
            assert.ok(json.includes(KNOWN_AFTER_DEPLOY));
        }
        assert.match(
            syntheses.dev.files.get("manifests/deployment.checkout.checkout-service.yaml")!,
            /image: \(known after deploy\)/,
        );
    });

    it("renders secrets, unknowns and references in the engine's wire form", () => {
        const wire = {
            a: { [SIG.key]: SIG.secret, value: "hunter2" },
            b: UNKNOWN,
            c: { [SIG.key]: SIG.resource, urn: "urn:pulumi:dev::p::t::n" },
            d: { z: 1, a: [UNKNOWN, 2] },
        };
        assert.deepStrictEqual(render(wire), {
            a: "[secret]",
            b: KNOWN_AFTER_DEPLOY,
            c: { $ref: "urn:pulumi:dev::p::t::n" },
            d: { a: [KNOWN_AFTER_DEPLOY, 2], z: 1 },
        });
        assert.deepStrictEqual(Object.keys(render({ z: 1, a: 2 }) as object), ["a", "z"]);
    });

    it("indents every resource under its parent component and counts them", () => {
        const t = syntheses.prod.tree;
        assert.match(t, /^pulumi:pulumi:Stack {2}checkout-platform-prod$/m);
        assert.match(
            t,
            /^├─ platform:checkout:CheckoutService {2}checkout\n│ {2}├─ kubernetes:apps\/v1:Deployment {2}checkout-deployment$/m,
        );
        assert.match(
            t,
            /eks:index:Cluster {2}cluster-eks {2}\[component boundary: inputs below\]\n(│ {2})+ +accessEntries:/,
        );
        assert.match(t, new RegExp(`total +${syntheses.prod.run.resources.length}\\n$`));
    });

    it("writes one manifest per Kubernetes object and the Helm release's chart, repository, version and values", () => {
        const files = [...syntheses.prod.files.keys()].filter((f) => f.startsWith("manifests/"));
        const k8sObjects = syntheses.prod.run.resources.filter(
            (r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.includes("helm.sh"),
        );
        assert.strictEqual(files.length, k8sObjects.length + 1);
        const release = syntheses.prod.files.get("manifests/helm-release.cert-manager.cert-manager.yaml")!;
        assert.match(release, /^chart: cert-manager$/m);
        assert.match(release, /^repository: https:\/\/charts\.jetstack\.io$/m);
        assert.match(release, /^version: v1\.21\.0$/m);
        assert.match(release, /^ {2}replicaCount: 2$/m);
    });

    it("diff lists what only one stack has and the inputs that differ", () => {
        const d = diffRuns(syntheses.dev.run, syntheses.prod.run);
        assert.deepStrictEqual(d.onlyIn.dev, []);
        assert.ok(d.onlyIn.prod.includes("aws:iam/role:Role  cert-manager-dns01-role"));
        const nat = d.changed.find(
            (c) => c.resource === "awsx:ec2:Vpc  network-vpc" && c.path === "natGateways.strategy",
        );
        assert.deepStrictEqual(nat && [nat.a, nat.b], ['"Single"', '"OnePerAz"']);
        assert.ok(!d.changed.some((c) => c.path.endsWith("$ref")), "references compare without their stack");
    });
});

describe("synth: the command", () => {
    const synthCli = async (args: string[]) => {
        const r = { status: -1, stdout: "", stderr: "" };
        r.status = await synthCommand(args, { stdout: (t) => (r.stdout += t), stderr: (t) => (r.stderr += t) });
        return r;
    };

    it("rejects invalid config with the program's error, on stderr, exit 2, and writes nothing", async function () {
        this.timeout(60_000);
        // A stack file of its own (per process: two test runs in one checkout must not share it).
        const stack = `synth-test-bad-${process.pid}`;
        const bad = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
        const out = tmpDir();
        fs.writeFileSync(
            bad,
            fs
                .readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8")
                .replace("imageTag: 1.4.2", "imageTag: latest"),
        );
        try {
            const r = await synthCli(["dev", stack, "--out", out]);
            assert.strictEqual(r.status, 2, r.stderr);
            assert.match(
                r.stderr,
                new RegExp(
                    `Pulumi\\.${stack}\\.yaml:\\d+: checkout-platform:checkout\\.imageTag must not be 'latest' .*; got latest`,
                ),
            );
            assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
            assert.strictEqual(r.stdout.includes("wrote"), false);
            assert.deepStrictEqual(fs.readdirSync(out), [], "nothing partial: not even the valid dev stack is written");
        } finally {
            fs.rmSync(bad, { force: true });
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("names the known stacks for an unknown one", async function () {
        this.timeout(60_000);
        const r = await synthCli(["staging"]);
        assert.strictEqual(r.status, 2);
        assert.strictEqual(r.stdout, "");
        assert.match(
            r.stderr,
            /unknown stack "staging": no Pulumi\.staging\.yaml next to Pulumi\.yaml \(stacks: dev, prod\)/,
        );
    });
});
