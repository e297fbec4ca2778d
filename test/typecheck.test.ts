/**
 * scripts/typecheck.mts: the check that no Output is interpolated into a plain template literal runs
 * there, on the type check's own program (it replaced type-aware ESLint). These tests keep it honest.
 * The script runs in a child process: a TypeScript program would stay in mocha's memory.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = path.join(__dirname, "..");
const SCRIPT = pathToFileURL(path.join(ROOT, "scripts", "typecheck.mts")).href;
const FIXTURE = path.join(__dirname, "fixtures", "output-rules", "interpolated.ts");
const CANDIDATES = [
    "index.ts",
    "components/cluster.ts",
    "components/checkout/spec.ts",
    "stacks/config.ts",
    "integration/run.ts",
    "test/program.test.ts",
    "harness/engine.ts",
    "scripts/synth.ts",
    "policy/index.ts",
    "app/checkout-service/src/main.ts",
    "components-old/x.ts",
];

interface Probe {
    found: [number, string][];
    outputCode: string[];
}

describe("npm run typecheck (scripts/typecheck.mts)", () => {
    let probe: Probe;
    before(function () {
        this.timeout(60_000);
        const code = [
            `const t = await import(${JSON.stringify(SCRIPT)});`,
            `const f = ${JSON.stringify(FIXTURE)};`,
            `const program = t.createProgram(${JSON.stringify(path.join(ROOT, "tsconfig.json"))}, [f]);`,
            "const found = t.outputsInTemplates(program, [f]).map((o) => [o.line, o.expression]);",
            `const outputCode = t.outputCodeFiles(${JSON.stringify(CANDIDATES.map((c) => path.join(ROOT, c)))});`,
            "console.log(JSON.stringify({ found, outputCode }));",
        ].join("\n");
        const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", cwd: ROOT });
        assert.equal(r.status, 0, r.stderr);
        probe = JSON.parse(r.stdout) as Probe;
    });

    it("flags Output and OutputInstance values (unions too) in untagged template literals, nothing else", () => {
        assert.deepEqual(probe.found, [
            [12, "name"],
            [13, "instance"],
            [14, "maybe"],
            [15, "upper"],
        ]);
    });

    it("checks the code that creates resources: index.ts, components/, stacks/, integration/", () => {
        assert.deepEqual(
            probe.outputCode.map((f) => path.relative(ROOT, f)),
            [
                "index.ts",
                "components/cluster.ts",
                "components/checkout/spec.ts",
                "stacks/config.ts",
                "integration/run.ts",
            ],
        );
    });
});
