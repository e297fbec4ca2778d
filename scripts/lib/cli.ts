// The synth command behind `npm run synth`: evaluates the real program under the mock engine with
// each stack's config and shows what it would deploy, without cloud credentials.
// See "Reading synth output" in the README.
import * as path from "path";
import { listStacks, REPO_ROOT } from "../../harness/stack-config";
import { checkGuardrails, formatGuardrails } from "./guardrails";
import * as fs from "fs";
import { DIFF_GOLDENS, GOLDEN_DIR, Synthesis, diffText, synthesize, withSets, writeSyntheses } from "./synthesize";

interface Options {
    stacks: string[];
    out: string;
    diff?: [string, string];
    /** `--set key=value`: config changes for the second stack of `--diff`, as `pulumi config set --path`. */
    set: Record<string, string>;
    updateGolden: boolean;
    quiet: boolean;
}

const USAGE =
    "usage: npm run synth -- <stack>... | --all [--out DIR] [--quiet] | --diff <stackA> <stackB> [--set <key>=<value>]... | --all --update-golden";

function parseArgs(argv: string[]): Options {
    const o: Options = { stacks: [], out: path.join(REPO_ROOT, "out"), updateGolden: false, quiet: false, set: {} };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--help" || a === "-h") throw new HelpRequested();
        else if (a === "--all") o.stacks.push(...listStacks());
        else if (a === "--out") o.out = path.resolve(argv[++i] ?? fail("--out needs a directory"));
        else if (a === "--diff")
            o.diff = [argv[++i] ?? fail("--diff needs two stacks"), argv[++i] ?? fail("--diff needs two stacks")];
        else if (a === "--set") {
            const m = /^([^=]+)=(.*)$/s.exec(argv[++i] ?? "");
            if (!m) fail("--set needs <key>=<value>");
            o.set[m[1]] = m[2];
        } else if (a === "--update-golden") o.updateGolden = true;
        else if (a === "--quiet") o.quiet = true;
        else if (a.startsWith("-")) fail(`unknown option ${a}`);
        else o.stacks.push(a);
    }
    o.stacks = [...new Set(o.stacks)];
    if (!o.diff && o.stacks.length === 0) fail("name a stack, or --all, or --diff <a> <b>");
    if (!o.diff && Object.keys(o.set).length) fail("--set goes with --diff");
    return o;
}

function fail(message: string): never {
    throw new UsageError(message);
}
class UsageError extends Error {}
class HelpRequested extends Error {}

export interface Io {
    stdout(text: string): void;
    stderr(text: string): void;
}

/** The synth command; returns its exit code. In-process, so tests need not spawn it. */
export async function synthCommand(argv: string[], io: Io): Promise<number> {
    try {
        return await run(parseArgs(argv), io);
    } catch (e) {
        const err = e as Error;
        if (err instanceof HelpRequested) {
            io.stdout(USAGE + "\n");
            return 0;
        }
        // Config and stack-file errors are for people: the message alone, no stack trace.
        const known = err instanceof UsageError || ["ConfigError", "StackFileError"].includes(err.name);
        io.stderr(`synth: ${known ? err.message : (err.stack ?? String(err))}\n`);
        if (err instanceof UsageError) io.stderr(USAGE + "\n");
        return known ? 2 : 1;
    }
}

async function run(o: Options, io: Io): Promise<number> {
    if (o.diff) {
        const [a, b] = [await synthesize(o.diff[0]), await synthesize(o.diff[1], o.set)];
        io.stdout(diffText(a, b, [o.diff[0], withSets(o.diff[1], o.set)]));
        return 0;
    }
    // Synthesize everything before writing anything: an error leaves <out> as it was.
    const results: Synthesis[] = [];
    for (const stack of o.stacks) results.push(await synthesize(stack));
    const out = o.updateGolden ? GOLDEN_DIR : o.out;
    writeSyntheses(out, results);
    if (o.updateGolden) {
        fs.mkdirSync(path.join(GOLDEN_DIR, "diff"), { recursive: true });
        for (const g of DIFF_GOLDENS) {
            const base = results.find((s) => s.stack === g.stack) ?? (await synthesize(g.stack));
            const text = diffText(base, await synthesize(g.stack, g.set), [g.stack, withSets(g.stack, g.set)]);
            fs.writeFileSync(path.join(GOLDEN_DIR, "diff", `${g.name}.txt`), text);
            io.stdout(`wrote ${path.relative(process.cwd(), path.join(GOLDEN_DIR, "diff", `${g.name}.txt`))}\n`);
        }
    }
    let blocked = false;
    for (const s of results) {
        if (!o.quiet) io.stdout(`\n=== stack ${s.stack} ===\n${s.tree}`);
        for (const w of s.warnings) io.stdout(`warning: ${w}\n`);
        io.stdout(`wrote ${path.relative(process.cwd(), path.join(out, s.stack)) || "."}: ${s.files.size} files\n`);
        const report = await checkGuardrails(s.run);
        io.stdout("\n" + formatGuardrails(s.stack, report));
        blocked ||= !report.ok;
    }
    // The files stay written for review; the exit code is what fails a pipeline.
    return blocked ? 3 : 0;
}
