import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramRun, runProgram } from "../../harness/engine";
import { REPO_ROOT } from "../../harness/stack-config";
import { manifests, resourcesJson, tree } from "./render";

/** Where `npm run synth:update` writes and the golden-snapshot test reads. */
export const GOLDEN_DIR = path.join(REPO_ROOT, "test", "golden");

export interface Synthesis {
    readonly stack: string;
    readonly run: ProgramRun;
    /** Relative path -> content, for everything written under `<out>/<stack>/`. */
    readonly files: Map<string, string>;
    readonly tree: string;
}

/** Evaluates the real program for `stack` as a first preview would, and renders its artefacts. */
export async function synthesize(stack: string): Promise<Synthesis> {
    return renderSynthesis(await runProgram(stack, { mode: "preview" }));
}

/** Renders the artefacts of a `preview`-mode run. */
export function renderSynthesis(run: ProgramRun): Synthesis {
    const stack = run.stack;
    const files = new Map<string, string>();
    const treeText = tree(run);
    files.set("tree.txt", treeText);
    files.set("resources.json", resourcesJson(run));
    for (const [name, content] of manifests(run)) files.set(`manifests/${name}`, content);
    return { stack, run, files, tree: treeText };
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
