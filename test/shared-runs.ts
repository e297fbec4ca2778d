// One evaluation of the program per stack and engine mode, shared by every test file that only
// reads it: the runs are deterministic (test/synth.test.ts checks that), so repeating them would
// only repeat the same work. Tests must not mutate what they get; copy before changing anything.
import { EngineMode, runProgram } from "../harness/engine";
import { Synthesis, renderSynthesis } from "../scripts/lib/synthesize";

type Run = Awaited<ReturnType<typeof runProgram>>;
const runs = new Map<string, Promise<Run>>();

export function stackRun(stack: string, mode: EngineMode = "test"): Promise<Run> {
    const key = `${stack}/${mode}`;
    if (!runs.has(key)) runs.set(key, runProgram(stack, { mode }));
    return runs.get(key)!;
}

/** The synth of `stack` (what `npm run synth -- <stack>` writes), from the shared runs. */
export async function stackSynthesis(stack: string): Promise<Synthesis> {
    const preview = await stackRun(stack, "preview");
    return renderSynthesis(preview, await stackRun(stack, "test"), preview.warnings);
}
