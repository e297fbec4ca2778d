// npm run synth -- <stack>... | --all [--out DIR] | --diff <a> <b> | --all --update-golden
// Evaluates the real program under the mock engine with each stack's config and shows what it
// would deploy, without cloud credentials. See "Reading synth output" in the README.
import * as path from "path";
import { listStacks, REPO_ROOT } from "../harness/stack-config";
import { diffRuns, formatDiff } from "./lib/render";
import { GOLDEN_DIR, Synthesis, synthesize, writeSyntheses } from "./lib/synthesize";

interface Options {
    stacks: string[];
    out: string;
    diff?: [string, string];
    updateGolden: boolean;
    quiet: boolean;
}

const USAGE =
    "usage: npm run synth -- <stack>... | --all [--out DIR] [--quiet] | --diff <stackA> <stackB> | --all --update-golden";

function parseArgs(argv: string[]): Options {
    const o: Options = { stacks: [], out: path.join(REPO_ROOT, "out"), updateGolden: false, quiet: false };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--all") o.stacks.push(...listStacks());
        else if (a === "--out") o.out = path.resolve(argv[++i] ?? fail("--out needs a directory"));
        else if (a === "--diff")
            o.diff = [argv[++i] ?? fail("--diff needs two stacks"), argv[++i] ?? fail("--diff needs two stacks")];
        else if (a === "--update-golden") o.updateGolden = true;
        else if (a === "--quiet") o.quiet = true;
        else if (a === "--help" || a === "-h") {
            console.log(USAGE);
            process.exit(0);
        } else if (a.startsWith("-")) fail(`unknown option ${a}`);
        else o.stacks.push(a);
    }
    o.stacks = [...new Set(o.stacks)];
    if (!o.diff && o.stacks.length === 0) fail("name a stack, or --all, or --diff <a> <b>");
    return o;
}

function fail(message: string): never {
    throw new UsageError(message);
}
class UsageError extends Error {}

async function main(): Promise<number> {
    const o = parseArgs(process.argv.slice(2));
    if (o.diff) {
        const [a, b] = [await synthesize(o.diff[0]), await synthesize(o.diff[1])];
        process.stdout.write(formatDiff(a.stack, b.stack, diffRuns(a.run, b.run)));
        return 0;
    }
    // Synthesize everything before writing anything: an error leaves <out> as it was.
    const results: Synthesis[] = [];
    for (const stack of o.stacks) results.push(await synthesize(stack));
    const out = o.updateGolden ? GOLDEN_DIR : o.out;
    writeSyntheses(out, results);
    for (const s of results) {
        if (!o.quiet) process.stdout.write(`\n=== stack ${s.stack} ===\n${s.tree}`);
        process.stdout.write(
            `wrote ${path.relative(process.cwd(), path.join(out, s.stack)) || "."}: ${s.files.size} files\n`,
        );
    }
    return 0;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        const err = e as Error;
        // Config and stack-file errors are for people: the message alone, no stack trace.
        const known =
            err instanceof UsageError ||
            ["ConfigError", "StackFileError"].includes(err.name) ||
            err.constructor?.name === "StackFileError";
        process.stderr.write(`synth: ${known ? err.message : (err.stack ?? String(err))}\n`);
        if (err instanceof UsageError) process.stderr.write(USAGE + "\n");
        process.exit(known ? 2 : 1);
    },
);
