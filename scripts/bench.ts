// npm run bench [-- --runs N] [--ci-runs N] [--json] [--skip-load] [--skip-ci]
// Runs each measured command several times and prints medians and peak RSS (GNU time's maximum
// resident set size: the largest single process the command waited for, not a sum), each CI figure
// beside its goal. Figures, not assertions: tests never assert timings.
//
// `.ci/run` is measured on a fresh clone of the committed HEAD (uncommitted changes are not in it),
// with npm's cache as this machine has it, like any CI runner that installed before.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { deployTimeReport } from "./lib/deploy-time-report";

const ROOT = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf("--runs") + 1]) || 5;
const JSON_OUT = args.includes("--json");
const SKIP_LOAD = args.includes("--skip-load");
const SKIP_CI = args.includes("--skip-ci");
const CI_RUNS = Number(args[args.indexOf("--ci-runs") + 1]) || 3;
const TIME = "/usr/bin/time";

const node = process.execPath;
const tsNode = ["--require", "ts-node/register/transpile-only"];
const mocha = path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js");
const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

interface Measured {
    name: string;
    runs: number;
    medianSeconds: number;
    minSeconds: number;
    maxSeconds: number;
    peakRssMB: number;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs `argv` `runs` times under GNU time (in `cwd`); fails loudly if any run fails. */
function measure(name: string, argv: string[], runs = RUNS, cwd = ROOT): Measured {
    if (!fs.existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for peak RSS: apt-get install time`);
    const seconds: number[] = [];
    let peakKb = 0;
    for (let i = 0; i < runs; i++) {
        const started = process.hrtime.bigint();
        const r = spawnSync(TIME, ["-f", "__RSS_KB__=%M", ...argv], {
            cwd,
            encoding: "utf8",
            env: { ...process.env, CI: "true" },
        });
        const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
        if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
        const kb = Number(/__RSS_KB__=(\d+)/.exec(r.stderr)?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
        seconds.push(elapsed);
        process.stderr.write(`  ${name}: run ${i + 1}/${runs} ${elapsed.toFixed(2)} s, ${(kb / 1024).toFixed(0)} MB\n`);
    }
    return {
        name,
        runs,
        medianSeconds: median(seconds),
        minSeconds: Math.min(...seconds),
        maxSeconds: Math.max(...seconds),
        peakRssMB: Math.round(peakKb / 1024),
    };
}

/** `bash .ci/run` on a fresh clone of HEAD, CI_RUNS times (each run clones anew). */
function measureCiRun(): Measured {
    const clones: string[] = [];
    try {
        const script = [
            "set -e",
            'dir="$(mktemp -d)"',
            'echo "$dir" >> "$CLONES"',
            'git clone -q "$SOURCE" "$dir/repo"',
            'cd "$dir/repo"',
            "exec bash .ci/run",
        ].join("; ");
        const list = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-ci-")), "clones");
        clones.push(path.dirname(list));
        const result = measure(
            `.ci/run (fresh clone, ${CI_RUNS} runs)`,
            ["env", `CLONES=${list}`, `SOURCE=${ROOT}`, "bash", "-c", script],
            CI_RUNS,
        );
        if (fs.existsSync(list)) clones.push(...fs.readFileSync(list, "utf8").split("\n").filter(Boolean));
        return result;
    } finally {
        for (const dir of clones) fs.rmSync(dir, { recursive: true, force: true });
    }
}

function main(): void {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
    const results: Measured[] = [];
    try {
        results.push(
            measure("floor: mocha + Pulumi SDKs, 1 trivial test", [
                node,
                mocha,
                "--no-config",
                ...tsNode,
                "--extension",
                "ts",
                "scripts/bench/floor.test.ts",
            ]),
        );
        results.push(measure("unit test suite (npm test)", [node, mocha]));
        for (const stack of ["dev", "prod"]) {
            results.push(
                measure(`synth ${stack}`, [node, ...tsNode, "scripts/synth.ts", stack, "--out", out, "--quiet"]),
            );
        }
        results.push(
            measure("synth --all (dev + prod)", [
                node,
                ...tsNode,
                "scripts/synth.ts",
                "--all",
                "--out",
                out,
                "--quiet",
            ]),
        );
        results.push(
            measure("type-check floor: tsc, one file importing @pulumi/eks", [
                node,
                tsc,
                "-p",
                "scripts/bench/tsconfig.floor.json",
            ]),
        );
        results.push(measure("tsc --noEmit (the project)", [node, tsc, "--noEmit", "-p", "."]));
        results.push(measure("npm run typecheck (tsc + Output check)", [node, "scripts/typecheck.mts"]));
        if (!SKIP_CI) results.push(measureCiRun());
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }

    const floor = results[0].medianSeconds;
    const suite = results[1].medianSeconds;
    const byName = (prefix: string) => results.find((r) => r.name.startsWith(prefix));
    const tscFloor = byName("type-check floor")!;
    const tscFull = byName("tsc --noEmit")!;
    const ciRun = byName(".ci/run");
    const runtimePeak = Math.max(...results.slice(0, 5).map((r) => r.peakRssMB));
    const width = Math.max(...results.map((r) => r.name.length));
    const lines = [
        `${"measurement".padEnd(width)}  median s    min s    max s  peak RSS MB   (${RUNS} runs each, ${os.cpus().length} cores)`,
        ...results.map(
            (r) =>
                `${r.name.padEnd(width)}  ${r.medianSeconds.toFixed(2).padStart(8)} ${r.minSeconds.toFixed(2).padStart(8)} ${r.maxSeconds.toFixed(2).padStart(8)} ${String(r.peakRssMB).padStart(12)}`,
        ),
        "",
        `test suite / floor: ${(suite / floor).toFixed(2)}x (goal <= 1.5x)`,
        `synth dev + prod: ${(results[2].medianSeconds + results[3].medianSeconds).toFixed(2)} s as two commands, ${results[4].medianSeconds.toFixed(2)} s as one (goal < 4 s)`,
        `tests and synth, peak RSS: ${runtimePeak} MB (goal < 600 MB)`,
        `type check, peak RSS / floor: ${tscFull.peakRssMB} / ${tscFloor.peakRssMB} MB = ${(tscFull.peakRssMB / tscFloor.peakRssMB).toFixed(2)}x (goal <= 1.15x)`,
        ciRun
            ? `.ci/run on a fresh clone: ${ciRun.medianSeconds.toFixed(1)} s median wall (goal <= 60 s), ${ciRun.peakRssMB} MB peak RSS (goal <= 1000 MB)`
            : ".ci/run on a fresh clone: skipped (--skip-ci)",
    ];

    let load: unknown;
    const loadScript = path.join(ROOT, "app", "checkout-service", "bench", "load.ts");
    if (!SKIP_LOAD && fs.existsSync(loadScript)) {
        process.stderr.write("  checkout-service load test (loopback)...\n");
        const r = spawnSync(node, [...tsNode, loadScript, "--json", "--runs", String(RUNS)], {
            cwd: ROOT,
            encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(`load test failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
        load = JSON.parse(r.stdout);
        const scenarios =
            (load as { scenarios?: { name: string; medianRequestsPerSecond: number; medianP99Ms: number }[] })
                .scenarios ?? [];
        lines.push(
            "",
            `checkout-service load on 127.0.0.1 (medians of ${RUNS} runs; p99 "<1" = under autocannon's 1 ms resolution):`,
        );
        for (const sc of scenarios) {
            const p99 = sc.medianP99Ms < 1 ? "<1" : String(sc.medianP99Ms);
            lines.push(
                `  ${sc.name.padEnd(20)} ${String(Math.round(sc.medianRequestsPerSecond)).padStart(8)} req/s   p99 ${p99} ms (goal < 10 ms)`,
            );
        }
    }

    process.stdout.write(
        JSON_OUT ? JSON.stringify({ runs: RUNS, results, load }, null, 2) + "\n" : lines.join("\n") + "\n",
    );
}

main();
// The first `up`'s critical path against its goal, estimated from each stack's graph.
deployTimeReport().then(
    (r) => (JSON_OUT ? process.stderr : process.stdout).write(`\n${r.text}\n`),
    (e: unknown) => {
        process.stderr.write(`deploy-time estimate failed: ${String(e)}\n`);
        process.exitCode = 1;
    },
);
