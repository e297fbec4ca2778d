/**
 * The toolchain production runs, held in one place: .nvmrc names the exact Node; engines, @types/node,
 * the image (app/checkout-service/test/dockerfile.test.ts) and the workflows (workflows.test.ts)
 * agree with it; the tests themselves run on it (.ci/node.sh); node_modules holds one SDK copy.
 * .ci/node.sh is run for real, with a fake `npm` standing in for the registry.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as semver from "semver";

const ROOT = path.join(__dirname, "..");
const NVMRC = fs.readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim();
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
};

/** Every node_modules/@pulumi/pulumi below `dir` (the root one included). */
function pulumiCopies(dir: string): string[] {
    const found: string[] = [];
    const walk = (modules: string): void => {
        if (!fs.existsSync(modules)) return;
        if (fs.existsSync(path.join(modules, "@pulumi", "pulumi", "package.json"))) {
            found.push(path.relative(ROOT, path.join(modules, "@pulumi", "pulumi")));
        }
        for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
            if (!entry.isDirectory() || entry.name === ".bin") continue;
            const scoped = entry.name.startsWith("@")
                ? fs.readdirSync(path.join(modules, entry.name)).map((n) => path.join(modules, entry.name, n))
                : [path.join(modules, entry.name)];
            for (const p of scoped) walk(path.join(p, "node_modules"));
        }
    };
    walk(path.join(dir, "node_modules"));
    return found;
}

describe("toolchain", () => {
    it(".nvmrc names one exact Node 24 LTS version", () => {
        assert.match(NVMRC, /^\d+\.\d+\.\d+$/);
        assert.equal(semver.major(NVMRC), 24);
    });

    it("engines.node accepts .nvmrc's version and no other major (Node 20 and 22 are out)", () => {
        const range = pkg.engines.node;
        assert.ok(semver.satisfies(NVMRC, range), `engines.node ${range} rejects .nvmrc's ${NVMRC}`);
        for (const other of ["20.20.2", "22.22.0", "24.0.0", "25.0.0", "26.1.0"]) {
            assert.ok(!semver.satisfies(other, range), `engines.node ${range} accepts ${other}`);
        }
    });

    it("tests run on the Node of .nvmrc's major (source .ci/node.sh)", () => {
        assert.ok(
            semver.satisfies(process.versions.node, pkg.engines.node),
            `this is Node ${process.versions.node}; engines.node is ${pkg.engines.node}: run \`source .ci/node.sh\` first`,
        );
    });

    it("@types/node describes the same major", () => {
        assert.equal(semver.major(pkg.devDependencies["@types/node"]), semver.major(NVMRC));
    });

    it("node_modules holds exactly one @pulumi/pulumi (mocks never see a nested copy's resources)", () => {
        assert.deepEqual(pulumiCopies(ROOT), [path.join("node_modules", "@pulumi", "pulumi")]);
    });
});

describe(".ci/node.sh", () => {
    const arch = `${os.platform()}-${os.arch()}`;
    const supported = arch === "linux-x64" || arch === "linux-arm64";
    const pkgName = `node-linux-${os.arch()}`;
    let dir: string;
    let tools: string;

    /** A repository copy with `.nvmrc` = `want`, a fake machine `node` at `have`, and a fake `npm`. */
    function sandbox(want: string, have: string | undefined, npmFails = false) {
        const repo = path.join(dir, "repo");
        const bin = path.join(dir, "machine-bin");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(path.join(repo, ".ci"), { recursive: true });
        fs.mkdirSync(bin, { recursive: true });
        fs.copyFileSync(path.join(ROOT, ".ci", "node.sh"), path.join(repo, ".ci", "node.sh"));
        fs.writeFileSync(path.join(repo, ".nvmrc"), `${want}\n`);
        if (have !== undefined) fs.writeFileSync(path.join(bin, "node"), `#!/bin/sh\necho v${have}\n`, { mode: 0o755 });
        // npm install --prefix <dir> ... <pkg>@<version>: lays out the package's bin/node like the registry's.
        fs.writeFileSync(
            path.join(bin, "npm"),
            [
                "#!/bin/bash",
                `echo "$*" >> "${path.join(dir, "npm-calls")}"`,
                npmFails ? 'echo "npm error 404 not found" >&2; exit 1' : "",
                'while [ $# -gt 0 ]; do case "$1" in --prefix) prefix="$2"; shift 2;; *@*) spec="$1"; shift;; *) shift;; esac; done',
                'name="${spec%@*}"; version="${spec##*@}"',
                'mkdir -p "$prefix/node_modules/$name/bin"',
                'printf "#!/bin/sh\\necho v%s\\n" "$version" > "$prefix/node_modules/$name/bin/node"',
                'chmod +x "$prefix/node_modules/$name/bin/node"',
            ].join("\n"),
            { mode: 0o755 },
        );
        const run = () =>
            spawnSync(
                "bash",
                ["-c", 'set -e; source .ci/node.sh; echo "NODE=$(node --version)"; echo "WHICH=$(command -v node)"'],
                {
                    cwd: repo,
                    encoding: "utf8",
                    env: {
                        PATH: `${bin}:/usr/bin:/bin`,
                        HOME: path.join(dir, "home"),
                        XDG_CACHE_HOME: path.join(dir, "cache"),
                    },
                },
            );
        const npmCalls = () =>
            fs.existsSync(path.join(dir, "npm-calls"))
                ? fs.readFileSync(path.join(dir, "npm-calls"), "utf8").split("\n").filter(Boolean)
                : [];
        return { run, npmCalls, cache: path.join(dir, "cache", "checkout-platform", "node", want) };
    }

    before(function () {
        if (!supported) this.skip();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-sh-"));
        // The tools node.sh and the fake npm use, and nothing else: no machine node sneaks in.
        tools = fs.mkdtempSync(path.join(os.tmpdir(), "node-sh-tools-"));
        const toolNames = [
            "bash",
            "sh",
            "tr",
            "dirname",
            "sort",
            "head",
            "uname",
            "mkdir",
            "mktemp",
            "rm",
            "mv",
            "chmod",
        ];
        const found = spawnSync("bash", ["-c", `for t in ${toolNames.join(" ")}; do command -v "$t"; done`], {
            encoding: "utf8",
        }).stdout.split("\n");
        toolNames.forEach((tool, i) => {
            assert.ok(found[i], `${tool} not found on this machine`);
            fs.symlinkSync(found[i], path.join(tools, tool));
        });
    });
    after(() => {
        for (const d of [dir, tools]) if (d) fs.rmSync(d, { recursive: true, force: true });
    });

    it("keeps the machine's node when it is the same major and not older", () => {
        for (const have of ["24.22.3", "24.23.0"]) {
            const s = sandbox("24.22.3", have);
            const r = s.run();
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`NODE=v${have.replace(/\./g, "\\.")}\\n`));
            assert.deepEqual(s.npmCalls(), []);
            assert.equal(r.stderr, "", "quiet when nothing is installed");
        }
    });

    for (const have of ["20.20.2", "24.21.0", "26.1.0", undefined]) {
        it(`installs .nvmrc's exact version once, cached outside the repo, when the machine has ${have ?? "no node"}`, () => {
            const s = sandbox("24.22.3", have);
            const first = s.run();
            assert.equal(first.status, 0, first.stderr);
            assert.match(first.stdout, /NODE=v24\.22\.3\n/);
            assert.match(first.stdout, new RegExp(`WHICH=${s.cache}/node_modules/${pkgName}/bin/node`));
            assert.deepEqual(s.npmCalls().length, 1);
            assert.match(
                s.npmCalls()[0],
                new RegExp(`^install --prefix ${s.cache}\\.tmp\\.\\w+ .*${pkgName}@24\\.22\\.3$`),
            );
            const again = s.run();
            assert.equal(again.status, 0, again.stderr);
            assert.match(again.stdout, /NODE=v24\.22\.3\n/);
            assert.equal(s.npmCalls().length, 1, "the second run uses the cache");
            assert.equal(again.stderr, "", "quiet on a cache hit");
        });
    }

    it("fails loudly, and stops a `set -e` caller, when the registry has no such version", () => {
        const s = sandbox("24.99.0", "20.20.2", true);
        const r = s.run();
        assert.notEqual(r.status, 0);
        assert.doesNotMatch(r.stdout, /NODE=/);
        assert.match(r.stderr, new RegExp(`could not install ${pkgName}@24\\.99\\.0 from the npm registry`));
        assert.ok(!fs.existsSync(s.cache), "no half-written cache left behind");
    });

    it("rejects a .nvmrc that is not one exact version", () => {
        const s = sandbox("lts/krypton", "20.20.2");
        const r = s.run();
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /\.nvmrc must hold one exact Node version such as 24\.22\.3; got 'lts\/krypton'/);
    });
});
