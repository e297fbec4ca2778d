import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramRun, runProgram } from "../../harness/engine";
import { REPO_ROOT } from "../../harness/stack-config";
import { Rendered, diffRuns, formatDiff, manifests, renderInputs, resourcesJson, tree } from "./render";

/** Where `npm run synth:update` writes and the golden-snapshot test reads. */
export const GOLDEN_DIR = path.join(REPO_ROOT, "test", "golden");

export interface Synthesis extends Rendered {
    readonly stack: string;
    /** Relative path -> content, for everything written under `<out>/<stack>/`. */
    readonly files: Map<string, string>;
    readonly tree: string;
    /** What `pulumi preview` would print as warnings (example values left in the stack file). */
    readonly warnings: readonly string[];
}

/**
 * Evaluates the real program for `stack` as a first preview would, and renders its artefacts.
 * A second, `test`-mode evaluation supplies the known parts of values unknown before deployment
 * (the image `<ecr repository url, known after deploy>:1.4.3`). `overrides` change the config as
 * `pulumi config set --path` would.
 */
export async function synthesize(stack: string, overrides?: Record<string, unknown>): Promise<Synthesis> {
    const preview = await runProgram(stack, { mode: "preview", overrides });
    const test = await runProgram(stack, { mode: "test", overrides });
    return renderSynthesis(preview, test, preview.warnings);
}

/** Renders the artefacts of a `preview`-mode run (with a `test`-mode run of the same config, if any). */
export function renderSynthesis(preview: ProgramRun, test?: ProgramRun, warnings: readonly string[] = []): Synthesis {
    const rendered: Rendered = { run: preview, inputs: renderInputs(preview, test) };
    const files = new Map<string, string>();
    const treeText = tree(rendered);
    files.set("tree.txt", treeText);
    files.set("resources.json", resourcesJson(rendered));
    for (const [name, content] of manifests(rendered)) files.set(`manifests/${name}`, content);
    return { ...rendered, stack: preview.stack, files, tree: treeText, warnings };
}

/** Config changes whose synth diff is kept as a golden file, so a reviewer can see what one looks like. */
export const DIFF_GOLDENS: readonly { name: string; stack: string; set: Record<string, unknown> }[] = [
    { name: "image-tag-bump", stack: "dev", set: { "checkout.imageTag": "1.4.3" } },
    { name: "lifecycle-keep-count", stack: "dev", set: { "registry.keepCiImages": 30 } },
];

/** A label for a stack with config changes: `dev with checkout.imageTag=1.4.3`. */
export const withSets = (stack: string, set: Record<string, unknown>) =>
    Object.keys(set).length
        ? `${stack} with ${Object.entries(set)
              .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
              .join(", ")}`
        : stack;

/** The `--diff` text between two syntheses. */
export function diffText(a: Synthesis, b: Synthesis, names: [string, string]): string {
    return formatDiff(names[0], names[1], diffRuns(a, b, names));
}

/**
 * Writes every synthesis under `<out>/<stack>/`, replacing what was there. Each stack is written to
 * a temporary folder first and moved into place, so a failure never leaves a partial folder.
 */
export function writeSyntheses(out: string, syntheses: readonly Synthesis[]): void {
    fs.mkdirSync(out, { recursive: true });
    const staged: [string, string][] = [];
    try {
        for (const s of syntheses) {
            const tmp = fs.mkdtempSync(path.join(out, `.${s.stack}-`));
            staged.push([tmp, path.join(out, s.stack)]);
            for (const [rel, content] of s.files) {
                fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
                fs.writeFileSync(path.join(tmp, rel), content);
            }
        }
        for (const [tmp, dest] of staged) {
            fs.rmSync(dest, { recursive: true, force: true });
            fs.renameSync(tmp, dest);
        }
    } finally {
        for (const [tmp] of staged) fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** Every file below `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    const out: string[] = [];
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push(path.relative(dir, p).split(path.sep).join("/"));
        }
    };
    walk(dir);
    return out.sort();
}

export const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "synth-"));
