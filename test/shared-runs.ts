// One evaluation of the program per stack and engine mode, shared by every test file that only
// reads it: the runs are deterministic (test/synth.test.ts checks that), so repeating them would
// only repeat the same work. Tests must not mutate what they get; copy before changing anything.
import { EngineMode, ProgramRun, runProgram } from "../harness/engine";
import { Synthesis, renderSynthesis } from "../scripts/lib/synthesize";

const runs = new Map<string, Promise<ProgramRun>>();

export function stackRun(stack: string, mode: EngineMode = "test"): Promise<ProgramRun> {
    const key = `${stack}/${mode}`;
    if (!runs.has(key)) runs.set(key, runProgram(stack, { mode }));
    return runs.get(key)!;
}

/** The synth of `stack` (what `npm run synth -- <stack>` writes), from the shared preview run. */
export async function stackSynthesis(stack: string): Promise<Synthesis> {
    return renderSynthesis(await stackRun(stack, "preview"));
}
