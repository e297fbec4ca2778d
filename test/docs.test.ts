import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { z } from "zod";
import { REPO_ROOT, readProject } from "../harness/stack-config";
import { diffRuns, manifests } from "../scripts/lib/render";
import { synthesize } from "../scripts/lib/synthesize";
import { CONFIG_COMMENT, declaration, projectConfig, withProjectConfig } from "../scripts/lib/project-config";
import {
    EXAMPLES_END,
    EXAMPLES_START,
    currentBlock,
    currentStackTable,
    exampleList,
    normalizeTable,
    stackTable,
} from "../scripts/lib/stack-table";
import { DECLARED_KEYS } from "../stacks/schema";
import { stackSynthesis } from "./shared-runs";

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("docs: Pulumi.yaml's config block is generated from stacks/schema.ts", () => {
    const pulumiYaml = read("Pulumi.yaml");

    it("is current (npm run docs:update regenerates it)", () => {
        const declared = (YAML.parse(pulumiYaml) as { config: unknown }).config;
        assert.ok(
            JSON.stringify(declared) === JSON.stringify(projectConfig()),
            "Pulumi.yaml's config block is stale: run `npm run docs:update`",
        );
        assert.ok(pulumiYaml.includes(CONFIG_COMMENT.split("\n")[0].trim()), "Pulumi.yaml says the block is generated");
    });

    it("would notice a stale block", () => {
        const stale = pulumiYaml.replace("default: 30\n", "default: 31\n");
        assert.notStrictEqual(stale, pulumiYaml, "the fixture edit applied");
        assert.notStrictEqual(JSON.stringify(YAML.parse(stale).config), JSON.stringify(projectConfig()));
    });

    it("declares every key as a property path with its type, and a default exactly where one is optional", () => {
        // Read as the CLI reads it: shorthands expanded, each default checked against its type.
        const project = readProject();
        assert.deepStrictEqual(
            Object.keys(project.config),
            DECLARED_KEYS.map((k) => k.path),
        );
        for (const k of DECLARED_KEYS) {
            const d = project.config[k.path];
            assert.strictEqual(d.type, k.spec.type, k.path);
            assert.strictEqual(d.default === undefined, k.spec.default === undefined, k.path);
            if (k.spec.items) assert.deepStrictEqual(d.items?.type, k.spec.items, k.path);
        }
    });

    it("refuses a string default the CLI would turn into a number", () => {
        const spec = { type: "string", description: "a string", schema: z.string() } as const;
        assert.throws(
            () => declaration("x.port", { ...spec, default: "10" }),
            /x\.port: the string default "10" would reach the program as a number or boolean/,
        );
        assert.throws(() => declaration("x.on", { ...spec, default: "true" }), /would reach the program/);
        assert.deepStrictEqual(
            declaration("x.id", { ...spec, default: "0012" }).default,
            "0012",
            "a leading 0 is not coerced",
        );
    });

    it("regenerates without touching the rest of the file", () => {
        const regenerated = withProjectConfig(pulumiYaml);
        assert.deepStrictEqual(
            { ...YAML.parse(regenerated), config: undefined },
            { ...YAML.parse(pulumiYaml), config: undefined },
        );
    });
});

describe("docs: the README's generated blocks", () => {
    const readme = read("README.md");

    it("per-stack table matches the stack files (npm run docs:update regenerates it)", () => {
        const current = currentStackTable(readme);
        assert.ok(current !== undefined, "README.md has the stack-table markers");
        assert.ok(
            normalizeTable(current) === normalizeTable(stackTable()),
            "README.md's per-stack table is stale: run `npm run docs:update`",
        );
    });

    it("shows each differing key by its path, with its default and every stack's value", () => {
        const table = stackTable();
        assert.match(table, /^\| `network\.natGateways` \| `onePerAz` \| `single` \| `onePerAz` \|$/m);
        assert.match(table, /^\| `logs\.retentionInDays` \| `365` \| `30` \| `365` \|$/m);
        assert.match(table, /^\| `cluster\.name` \| — \| `checkout-dev` \| `checkout-prod` \|$/m);
        assert.doesNotMatch(table, /`network\.azCount`/, "keys no stack sets are not listed");
    });

    it("would notice a stale table", () => {
        const stale = currentStackTable(readme)!.replace(/(`nodes\.maxSize` +\| `6` +\| `4` +\| )`9`/, "$1`8`");
        assert.notStrictEqual(stale, currentStackTable(readme), "the fixture edit applied");
        assert.notStrictEqual(normalizeTable(stale), normalizeTable(stackTable()));
    });

    it("lists the keys that hold example values, as the stack files hold them", () => {
        const current = currentBlock(readme, EXAMPLES_START, EXAMPLES_END);
        assert.ok(current !== undefined, "README.md has the example-values markers");
        assert.ok(
            current.trim() === exampleList(),
            "README.md's example-value list is stale: run `npm run docs:update`",
        );
        assert.deepStrictEqual(
            exampleList()
                .split("\n")
                .map((l) => /^- `([^`]+)` \(([^)]+)\)/.exec(l)?.slice(1)),
            [
                ["certManager.acmeEmail", "dev, prod"],
                ["checkout.hostname", "dev, prod"],
                ["cluster.adminRoleArns", "dev, prod"],
                ["cluster.bootstrapRoleArn", "dev, prod"],
                ["cluster.deployRoleArn", "dev, prod"],
                ["cluster.previewRoleArn", "dev, prod"],
                ["cluster.publicAccessCidrs", "dev"],
                ["edge.zones", "dev, prod"],
                ["telemetry.alertEmails", "dev, prod"],
            ],
        );
    });
});

/** Tracked files (what a fork gets), without the generated snapshots and the lockfile. */
function trackedTextFiles(): string[] {
    return execFileSync("git", ["ls-files"], { cwd: REPO_ROOT, encoding: "utf8" })
        .split("\n")
        .filter((f) => f !== "" && !f.startsWith("test/golden/") && !f.endsWith("package-lock.json"))
        .filter((f) => fs.existsSync(path.join(REPO_ROOT, f)));
}

describe("docs: the repository's documents stand alone", () => {
    it("every Markdown file a file names is in the repository", () => {
        const files = trackedTextFiles();
        const tracked = new Set(files.map((f) => path.basename(f)));
        const missing: string[] = [];
        for (const f of files) {
            const text = fs.readFileSync(path.join(REPO_ROOT, f), "utf8");
            // An upstream document is cited as `<owner>/<repo>:<path>.md`; everything else is ours.
            const local = text.replace(/[\w.-]+\/[\w.-]+:[\w./-]+\.md\b/g, "");
            for (const m of local.matchAll(/[A-Za-z0-9_-]+\.md\b/g))
                if (!tracked.has(m[0])) missing.push(`${f}: ${m[0]}`);
        }
        assert.deepStrictEqual(missing, [], "documents cited but not in the repository");
    });

    it("every npm script the docs name exists in the package it names", () => {
        const scripts = (dir: string) =>
            JSON.parse(fs.readFileSync(path.join(REPO_ROOT, dir, "package.json"), "utf8")) as {
                name: string;
                scripts?: Record<string, string>;
            };
        const root = scripts(".");
        const workspaces = (
            JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
                workspaces: string[];
            }
        ).workspaces;
        // `-w` takes a workspace's path or its package name.
        const workspace = (w: string) => workspaces.find((dir) => dir === w || scripts(dir).name === w);
        const problems: string[] = [];
        let seen = 0;
        for (const f of trackedTextFiles().filter((f) => f.endsWith(".md"))) {
            const text = fs.readFileSync(path.join(REPO_ROOT, f), "utf8");
            for (const m of text.matchAll(/npm (?:run ([a-z][\w:-]*)|(test))(?: (?:-w|--workspace)[ =]([\w./-]+))?/g)) {
                seen++;
                const script = m[1] ?? m[2];
                const dir = m[3] === undefined ? "." : workspace(m[3]);
                if (dir === undefined) problems.push(`${f}: "${m[0]}": no workspace ${m[3]}`);
                else if (!(script in ((dir === "." ? root : scripts(dir)).scripts ?? {})))
                    problems.push(`${f}: "${m[0]}": ${dir}/package.json has no script ${script}`);
            }
        }
        assert.ok(seen > 10, "the docs name npm scripts");
        assert.deepStrictEqual(problems, []);
    });
});

describe("docs: docs/operations.md on rotating the image", () => {
    const ops = fs.readFileSync(path.join(REPO_ROOT, "docs", "operations.md"), "utf8");

    it("says an image bump is one change, to the Deployment, and the synth diff agrees", async function () {
        this.timeout(60_000);
        assert.match(
            ops.replace(/\s+/g, " "),
            /The preview shows exactly one change: the Deployment \(its image and its pods' version label;/,
        );
        const before = await stackSynthesis("dev");
        const after = await synthesize("dev", { "checkout.imageTag": "1.4.3" });
        const diff = diffRuns(before, after);
        assert.deepStrictEqual(
            [...new Set(diff.changed.map((c) => c.resource))],
            ["kubernetes:apps/v1:Deployment  checkout-deployment"],
        );
        assert.deepStrictEqual(
            diff.changed.map((c) => c.path),
            [
                "spec.template.metadata.labels.app.kubernetes.io/version",
                "spec.template.spec.containers[checkout-service].image",
            ],
        );
        // The synth's manifest files (what a reviewer reads in the pull request): one file changes.
        const a = manifests(before);
        const b = manifests(after);
        assert.deepStrictEqual(
            [...a.keys()].filter((k) => a.get(k) !== b.get(k)),
            ["deployment.checkout.checkout-service.yaml"],
        );
    });
});
