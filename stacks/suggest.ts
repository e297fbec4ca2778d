import { distance as levenshtein } from "fastest-levenshtein";

/**
 * Levenshtein distance, case-insensitive, as the Pulumi CLI measures it for its own "did you mean"
 * on Pulumi.yaml attributes (pulumi/pulumi v3.259.0 sdk/go/common/workspace/project.go 650-689
 * `findClosestKey`).
 */
export function distance(a: string, b: string): number {
    return levenshtein(a.toLowerCase(), b.toLowerCase());
}

/**
 * The candidate closest to `input`, if it is close enough to be a typo: at most a third of the
 * input's length away (at least 1, at most 3 edits). Ties go to the first candidate in sorted order,
 * as in the CLI.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
    const max = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
    let best: string | undefined;
    let bestDistance = max + 1;
    for (const c of [...candidates].sort()) {
        const d = distance(input, c);
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return best;
}
