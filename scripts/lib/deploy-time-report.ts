// The deploy-time part of `npm run bench`: each stack's program under the mock engine, then the
// first `up`'s critical path estimated from its graph (deploy-time.ts). Runnable on its own:
//   npx ts-node --transpile-only scripts/lib/deploy-time-report.ts [stack...]
import { runProgram } from "../../harness/engine";
import { listStacks } from "../../harness/stack-config";
import { DeployEstimate, estimateDeploy, formatEstimate, timeSources } from "./deploy-time";

export async function deployTimeReport(
    stacks: readonly string[] = listStacks(),
): Promise<{ text: string; estimates: Record<string, DeployEstimate> }> {
    const estimates: Record<string, DeployEstimate> = {};
    const blocks: string[] = [];
    for (const stack of stacks) {
        const run = await runProgram(stack, { mode: "test" });
        estimates[stack] = estimateDeploy(run.resources);
        blocks.push(formatEstimate(stack, estimates[stack]));
    }
    const text = [
        ...blocks,
        "creation times used (typical, with their sources):",
        ...timeSources().map((s) => `  ${s}`),
    ].join("\n");
    return { text, estimates };
}

if (require.main === module) {
    deployTimeReport(process.argv.slice(2).length > 0 ? process.argv.slice(2) : undefined)
        .then((r) => process.stdout.write(r.text + "\n"))
        .catch((e: unknown) => {
            process.stderr.write(`${String((e as Error).stack ?? e)}\n`);
            process.exit(1);
        });
}
