import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { listStacks, REPO_ROOT } from "../harness/stack-config";
import { synthCommand } from "../scripts/lib/cli";
import {
    diffRuns,
    flatten,
    formatDiff,
    KNOWN_AFTER_DEPLOY,
    lineDiff,
    outputLabel,
    render,
} from "../scripts/lib/render";
import {
    DIFF_GOLDENS,
    GOLDEN_DIR,
    Synthesis,
    diffText,
    listFiles,
    synthesize,
    tmpDir,
    withSets,
} from "../scripts/lib/synthesize";
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
        assert.deepStrictEqual(
            fs.readdirSync(GOLDEN_DIR).sort(),
            ["diff", ...listStacks()].sort(),
            "one folder per stack, and diff/",
        );
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
            // The only ARNs are the ones the stack's config gives (the roles with access entries: the
            // deploy and preview roles; the admin role bootstraps the cluster); none is invented.
            const arns = json.match(/arn:aws:(kms|iam|ecr|eks):[a-z0-9-]*:\d{12}:[^"]+/g) ?? [];
            const account = s.stack === "dev" ? "1".repeat(12) : "2".repeat(12);
            assert.deepStrictEqual([...new Set(arns)].sort(), [
                `arn:aws:iam::${account}:role/platform-deploy`,
                `arn:aws:iam::${account}:role/platform-preview`,
            ]);
            assert.ok(json.includes(KNOWN_AFTER_DEPLOY));
        }
        // The image's repository URL is known only after deployment; its tag comes from config.
        assert.match(
            syntheses.dev.files.get("manifests/deployment.checkout.checkout-service.yaml")!,
            /^ +image: <ecr repository url, known after deploy>:1\.4\.2$/m,
        );
    });

    it("renders the known part of a value that is partly unknown, and never a made-up part", () => {
        const fakes = new Map([
            ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-service", "ecr repository url"],
            ["123456789012", "aws account id"],
        ]);
        const url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-service";
        assert.strictEqual(render(UNKNOWN, `${url}:1.4.3`, fakes), "<ecr repository url, known after deploy>:1.4.3");
        assert.strictEqual(render(UNKNOWN, url, fakes), KNOWN_AFTER_DEPLOY, "wholly a fake: wholly unknown");
        for (const transformed of [`${url.toUpperCase()}:1.4.3`, `${url}:${url.slice(3, 20)}`])
            assert.strictEqual(
                render(UNKNOWN, transformed, fakes),
                KNOWN_AFTER_DEPLOY,
                `${transformed}: a transformed fake is not recognised, and the value stays unknown rather than half-invented`,
            );
        assert.strictEqual(render(UNKNOWN, "sg-0c1a2b3c4d5e6f701", fakes), KNOWN_AFTER_DEPLOY, "no fake in it");
        assert.strictEqual(render(UNKNOWN, undefined, fakes), KNOWN_AFTER_DEPLOY);
        assert.deepStrictEqual(
            render({ image: UNKNOWN, tag: "1.4.3" }, { image: `${url}:1.4.3`, tag: "1.4.3" }, fakes),
            { image: "<ecr repository url, known after deploy>:1.4.3", tag: "1.4.3" },
        );
    });

    it("labels a fake by the output it stands for", () => {
        assert.strictEqual(outputLabel("aws:ecr/repository:Repository", ["repositoryUrl"]), "ecr repository url");
        assert.strictEqual(outputLabel("aws:iam/role:Role", ["arn"]), "iam role arn");
        assert.strictEqual(outputLabel("eks:index:Cluster", ["oidcProviderArn"]), "eks cluster oidc provider arn");
        assert.strictEqual(
            outputLabel("aws:index/getCallerIdentity:getCallerIdentity", ["accountId"]),
            "aws account id",
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
            /^├─ platform:service:WebService {2}checkout\n│ {2}├─ kubernetes:apps\/v1:Deployment {2}checkout-deployment$/m,
        );
        assert.match(t, /^└─ platform:telemetry:Telemetry {2}telemetry\n {3}├─ /m, "the last child closes the tree");
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
        const releases = syntheses.prod.run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
        assert.strictEqual(releases.length, 8);
        assert.strictEqual(files.length, k8sObjects.length + releases.length);
        const release = syntheses.prod.files.get("manifests/helm-release.cert-manager.cert-manager.yaml")!;
        assert.match(release, /^chart: cert-manager$/m);
        assert.match(release, /^repository: https:\/\/charts\.jetstack\.io$/m);
        assert.match(release, /^version: v1\.21\.0$/m);
        assert.match(release, /^ {2}replicaCount: 2$/m);
    });

    it("diff lists what only one stack has and the inputs that differ", () => {
        const d = diffRuns(syntheses.dev, syntheses.prod);
        assert.deepStrictEqual(d.onlyIn.dev, []);
        assert.ok(d.onlyIn.prod.includes("aws:kms/key:Key  logs-key"), d.onlyIn.prod.join("\n"));
        const nat = d.changed.find(
            (c) => c.resource === "awsx:ec2:Vpc  network-vpc" && c.path === "natGateways.strategy",
        );
        assert.deepStrictEqual(nat && [nat.a, nat.b], ['"Single"', '"OnePerAz"']);
        assert.ok(!d.changed.some((c) => c.path.endsWith("$ref")), "references compare without their stack");
    });

    it("diff addresses entries of named lists by name, not by position", () => {
        const a = flatten({
            env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
            ],
        });
        const b = flatten({ env: [{ name: "B", value: "2" }] });
        assert.deepStrictEqual(a, {
            "env[A].name": '"A"',
            "env[A].value": '"1"',
            "env[B].name": '"B"',
            "env[B].value": '"2"',
        });
        assert.deepStrictEqual(b, { "env[B].name": '"B"', "env[B].value": '"2"' }, "B keeps its path when A goes");
        assert.deepStrictEqual(flatten({ rules: [{ port: 1 }, { port: 2 }] }), {
            "rules[0].port": "1",
            "rules[1].port": "2",
        });
    });

    it("diff shows whole values, and JSON documents in strings pretty-printed line by line", () => {
        const long = "x".repeat(200);
        const policy = (n: number) =>
            JSON.stringify({ rules: [{ selection: { countNumber: n, tagStatus: "tagged" } }] });
        const text = formatDiff("a", "b", {
            onlyIn: { a: [], b: [] },
            changed: [
                { resource: "t:m:T  r", path: "long", a: JSON.stringify(long), b: JSON.stringify(long + "y") },
                { resource: "t:m:T  r", path: "policy", a: JSON.stringify(policy(10)), b: JSON.stringify(policy(30)) },
            ],
        });
        assert.ok(text.includes(`- "${long}"`) && text.includes(`+ "${long}y"`), "not cut");
        assert.match(text, /^ {4}policy \(JSON\)\n {8}\{\n/m);
        assert.match(text, /^ {6}- {9}"countNumber": 10,\n {6}\+ {9}"countNumber": 30,$/m);
        assert.deepStrictEqual(lineDiff(["a", "b", "c"], ["a", "c", "d"]), ["  a", "- b", "  c", "+ d"]);
    });
});

describe("synth: golden diffs of config changes", () => {
    for (const g of DIFF_GOLDENS) {
        it(`${g.name}: matches test/golden/diff/${g.name}.txt (npm run synth:update regenerates)`, async function () {
            this.timeout(120_000);
            const changed = await synthesize(g.stack, g.set);
            const text = diffText(syntheses[g.stack], changed, [g.stack, withSets(g.stack, g.set)]);
            const golden = fs.readFileSync(path.join(GOLDEN_DIR, "diff", `${g.name}.txt`), "utf8");
            assert.ok(
                text === golden,
                `test/golden/diff/${g.name}.txt drifted: run \`npm run synth:update\` and review`,
            );
            if (g.name === "image-tag-bump") {
                assert.match(
                    text,
                    /^ {6}- "<ecr repository url, known after deploy>:1\.4\.2"\n {6}\+ "<ecr repository url, known after deploy>:1\.4\.3"$/m,
                );
                assert.match(text, /containers\[checkout-service\]\.image$/m, "the container is named, not numbered");
            } else {
                assert.match(text, /^~ aws:ecr\/lifecyclePolicy:LifecyclePolicy {2}registry-lifecycle$/m);
                assert.match(text, /^ {6}- +"countNumber": 10\n {6}\+ +"countNumber": 30$/m);
            }
        });
    }
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
