import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import type { RecordedResource as PolicyInput } from "../policy/offline";
import { REPO_ROOT, readProject, stackConfig } from "./stack-config";
import { mocksFor } from "./mocks";
import { drainRegistrations, installRecordingMocks, unrecordedError, unrecordedResources } from "./sdk";

/**
 * One resource as the program registered it with the engine: what the policy pack's offline runner
 * reads, plus the options the synth shows. `props` are the values the engine would send to the
 * provider; `wire` is the same in the engine's wire form, where secrets, unknowns and resource
 * references are still marked.
 */
export interface RecordedResource extends PolicyInput {
    /** Input property -> the resources its value came from. */
    propertyDependencies: Record<string, string[]>;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    deleteBeforeReplace?: boolean;
    retainOnDelete?: boolean;
    additionalSecretOutputs?: string[];
    /** Provider plugin version requested, if any. */
    version?: string;
    /** A multi-language (remote) component such as eks:index:Cluster: a boundary the mocks do not enter. */
    remote?: boolean;
    wire: Record<string, unknown>;
}

/**
 * `test`: deployed-like runs; every computed output (ARNs, ids, URLs) gets a fake but well-formed
 * value, so assertions can follow references. `preview`: dry-run like `pulumi preview` before the
 * first `up`; computed outputs stay unknown, which is what the synth shows.
 */
export type EngineMode = "test" | "preview";

export interface ProgramRun {
    readonly project: string;
    readonly stack: string;
    readonly resources: RecordedResource[];
    /** Stack outputs, resolved. */
    readonly outputs: Record<string, unknown>;
    /** What `init` returned (the program's module exports), unresolved: Outputs keep their secretness. */
    readonly exports: Record<string, unknown>;
}

/** The wire signatures Pulumi uses in serialized properties. */
export const SIG = {
    key: "4dabf18193072939515e22adb298388d",
    secret: "1b47061264138c4ac30d75fd1eb44270",
    resource: "5cf8f73096256a8f31e491e813e4eb8e",
    asset: "c44067f5952c0a294b673a41bacd8c17",
    archive: "0def7320c3a5731c473e5ecbe6d01bc7",
    output: "d0e6a833031e9bbcd3f4e8bde6ca49a4",
} as const;
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Strips the wire markers: secrets to their values, unknowns to undefined, references to URNs. */
export function plain(value: unknown): unknown {
    if (value === UNKNOWN) return undefined;
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (obj[SIG.key] === SIG.secret) return plain(obj.value);
        if (obj[SIG.key] === SIG.resource) return obj.urn;
        // An output value: its value if known (a secret one too: `props` are for assertions).
        if (obj[SIG.key] === SIG.output) return plain(obj.value);
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(obj)) {
            const p = plain(v);
            if (p !== undefined) out[k] = p;
        }
        return out;
    }
    return value;
}

/** One registration as the harness keeps it; `urn` is filled in once the mock engine answers. */
function recordedFrom(req: RegisterResourceRequest): RecordedResource {
    const wire = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        if (deps.getUrnsList().length) propertyDependencies[key] = [...deps.getUrnsList()].sort();
    });
    const fromInputs = new Set(Object.values(propertyDependencies).flat());
    const dependencies = [...req.getDependenciesList()].sort();
    const list = (l: string[]) => (l.length ? [...l] : undefined);
    const entry: RecordedResource = {
        type: req.getType(),
        name: req.getName(),
        urn: "",
        custom: req.getCustom(),
        props: plain(wire) as Record<string, unknown>,
        parent: req.getParent() || undefined,
        provider: req.getProvider() || undefined,
        dependencies,
        propertyDependencies,
        dependsOn: list(dependencies.filter((d) => !fromInputs.has(d))),
        protect: req.getProtect() || undefined,
        ignoreChanges: list(req.getIgnorechangesList()),
        replaceOnChanges: list(req.getReplaceonchangesList()),
        deleteBeforeReplace: req.getDeletebeforereplace() || undefined,
        retainOnDelete: req.getRetainondelete() || undefined,
        additionalSecretOutputs: list(req.getAdditionalsecretoutputsList()),
        version: req.getVersion() || undefined,
        remote: req.getRemote() || undefined,
        wire,
    };
    const providers = req.getProvidersMap().toObject();
    if (!entry.provider && providers.length) entry.provider = providers.map(([, ref]) => ref).join(",");
    return entry;
}

let running = false;
let lastRecorded: RecordedResource[] = [];

/** The resources the last run registered, also when it failed (to prove nothing was half-applied). */
export function lastRunResources(): readonly RecordedResource[] {
    return lastRecorded;
}

/**
 * Runs `init` (the program, or components a test builds) against a recording mock monitor and
 * returns every registered resource once all of them have been registered. One run at a time:
 * the Pulumi runtime is process-global.
 */
export async function runWithMocks(
    init: () => Record<string, unknown> | void | Promise<Record<string, unknown> | void>,
    opts: { project: string; stack: string; mode: EngineMode; config?: Record<string, string>; secretKeys?: string[] },
): Promise<ProgramRun> {
    if (running) throw new Error("runWithMocks: another run is in progress");
    running = true;
    // The SDK formats a full stack trace for every promise it makes while registering a resource
    // (@pulumi/pulumi runtime/debuggable.js, debuggablePromise: `new Error().stack`, kept only for
    // its promise-leak report); through ts-node's source-map hook that was ~40% of a run, and
    // Node's own formatter still 15% of the test suite's CPU. During a run a trace is formatted as
    // its first line only. V8 formats a trace lazily, when `.stack` is first read, so errors the
    // program throws and anyone reads after the run keep their full, source-mapped trace.
    const prepareStackTrace = Error.prepareStackTrace;
    Error.prepareStackTrace = (err: Error) => `${err.name}: ${err.message}`;
    try {
        const recorded: RecordedResource[] = [];
        lastRecorded = recorded;
        const monitor = await installRecordingMocks(
            mocksFor(opts.mode),
            { project: opts.project, stack: opts.stack, preview: opts.mode === "preview" },
            (req) => {
                const entry = recordedFrom(req);
                recorded.push(entry);
                return (urn) => (entry.urn = urn ?? "");
            },
        );
        pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);

        let exports: Record<string, unknown> = {};
        const outputs = await pulumi.runtime.runInPulumiStack(async () => (exports = (await init()) ?? {}));
        await drainRegistrations(() => recorded.length);
        const missed = unrecordedResources(
            monitor,
            recorded.map((r) => r.urn),
        );
        if (missed.length > 0) throw unrecordedError(missed);
        return {
            project: opts.project,
            stack: opts.stack,
            resources: recorded,
            outputs: (outputs ?? {}) as Record<string, unknown>,
            exports,
        };
    } finally {
        Error.prepareStackTrace = prepareStackTrace;
        running = false;
    }
}

const PROGRAM = path.join(REPO_ROOT, "index.ts");

/**
 * Drops the entry module from the require cache so the next require runs the program afresh.
 * Only the entry module: components and the config loader hold no module-level state, and
 * keeping them loaded spares a second TypeScript transpile of every file on every run.
 */
function forgetProgram(): void {
    delete require.cache[PROGRAM];
}

/**
 * Runs the real program (index.ts) for `stack` with the config the Pulumi CLI would give it
 * (harness/stack-config.ts: Pulumi.<stack>.yaml merged with Pulumi.yaml's defaults by the CLI's own
 * rules, after `overrides` applied as `pulumi config set --path` would: a value of undefined removes
 * the key). `warnings` holds what the CLI and the program would print as warnings.
 */
export async function runProgram(
    stack: string,
    opts: { mode?: EngineMode; overrides?: Record<string, unknown> } = {},
): Promise<ProgramRun & { readonly warnings: readonly string[] }> {
    const project = readProject().name;
    const { config, secretKeys, warnings } = stackConfig(stack, { overrides: opts.overrides });
    forgetProgram();
    // The program's own warnings (pulumi.log.warn) go to the engine's log; under mocks there is no
    // engine, so they are collected here instead of printed.
    const programWarnings: string[] = [];
    const warn = pulumi.log.warn;
    (pulumi.log as { warn: typeof warn }).warn = async (msg: string) => void programWarnings.push(msg);
    try {
        // require, not import(): the program must run afresh on every call (its entry is dropped from
        // the require cache above), through ts-node's CommonJS hook as the Pulumi language host runs it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const run = await runWithMocks(() => require(PROGRAM) as Record<string, unknown>, {
            project,
            stack,
            mode: opts.mode ?? "test",
            config,
            secretKeys,
        });
        return { ...run, warnings: [...warnings, ...programWarnings] };
    } finally {
        (pulumi.log as { warn: typeof warn }).warn = warn;
    }
}
