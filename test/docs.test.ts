import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../harness/engine";
import { REPO_ROOT } from "../harness/stack-config";
import { diffRuns, manifests } from "../scripts/lib/render";
import { currentStackTable, normalizeTable, stackTable } from "../scripts/lib/stack-table";
import { stackRun } from "./shared-runs";

describe("docs: the README's per-stack table", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

    it("matches the stack files (npm run docs:update regenerates it)", () => {
        const current = currentStackTable(readme);
        assert.ok(current !== undefined, "README.md has the stack-table markers");
        assert.ok(
            normalizeTable(current) === normalizeTable(stackTable()),
            "README.md's per-stack table is stale: run `npm run docs:update`",
        );
    });

    it("shows each differing key with its default and every stack's value", () => {
        const table = stackTable();
        assert.match(table, /^\| `network\.natGateways` \| `onePerAz` \| `single` \| `onePerAz` \|$/m);
        assert.match(table, /^\| `logs\.retentionInDays` \| `365` \| `30` \| `365` \|$/m);
        assert.doesNotMatch(table, /`network\.azCount`/, "keys no stack sets are not listed");
    });

    it("would notice a stale table", () => {
        const stale = currentStackTable(readme)!.replace(/(`nodes\.maxSize` +\| `6` +\| `4` +\| )`9`/, "$1`8`");
        assert.notStrictEqual(stale, currentStackTable(readme), "the fixture edit applied");
        assert.notStrictEqual(normalizeTable(stale), normalizeTable(stackTable()));
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
        const before = await stackRun("dev");
        const after = await runProgram("dev", { overrides: { "checkout.imageTag": "1.4.3" } });
        const diff = diffRuns(before, after);
        assert.deepStrictEqual(
            [...new Set(diff.changed.map((c) => c.resource))],
            ["kubernetes:apps/v1:Deployment  checkout-deployment"],
        );
        assert.deepStrictEqual(
            diff.changed.map((c) => c.path),
            ["spec.template.metadata.labels.app.kubernetes.io/version", "spec.template.spec.containers[0].image"],
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
