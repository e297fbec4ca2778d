/**
 * A small Dockerfile parser and the invariants the checkout-service image must keep. There is no
 * container engine on the build machines, so these checks are what stands between an edit to the
 * Dockerfile and an image that runs as root, ships dev dependencies, or floats on `latest`.
 */

export interface Instruction {
    /** Upper-cased keyword: FROM, RUN, COPY, ... */
    readonly keyword: string;
    /** Everything after the keyword with line continuations joined, flags included. */
    readonly args: string;
    /** `--from=build` -> { from: "build" } */
    readonly flags: Readonly<Record<string, string>>;
    /** args without the leading --flags. */
    readonly rest: string;
    /** 1-based line of the keyword. */
    readonly line: number;
}

export interface Stage {
    readonly index: number;
    /** The `AS name`, if any. */
    readonly name?: string;
    /** The FROM image with global ARG defaults substituted. */
    readonly base: string;
    readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
    /** ARGs declared before the first FROM, with their defaults. */
    readonly globalArgs: Readonly<Record<string, string | undefined>>;
    readonly stages: readonly Stage[];
}

/** Splits into instructions: comments and blank lines dropped, `\` continuations joined. */
export function parseInstructions(text: string): Instruction[] {
    const lines = text.split(/\r?\n/);
    const result: Instruction[] = [];
    let buffer = "";
    let startLine = 0;
    lines.forEach((raw, i) => {
        const trimmed = raw.trim();
        // Comment lines (parser directives included) and blank lines, also inside a continuation.
        if (trimmed === "" || trimmed.startsWith("#")) {
            return;
        }
        if (buffer === "") {
            startLine = i + 1;
        }
        if (trimmed.endsWith("\\")) {
            buffer += `${trimmed.slice(0, -1).trim()} `;
            return;
        }
        buffer += trimmed;
        const match = /^(\S+)\s*(.*)$/.exec(buffer);
        if (match !== null) {
            const keyword = (match[1] ?? "").toUpperCase();
            const args = match[2] ?? "";
            const flags: Record<string, string> = {};
            let rest = args;
            for (;;) {
                const flag = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
                if (flag === null) {
                    break;
                }
                flags[flag[1] ?? ""] = flag[2] ?? "true";
                rest = rest.slice(flag[0].length);
            }
            result.push({ keyword, args, flags, rest, line: startLine });
        }
        buffer = "";
    });
    return result;
}

function substitute(value: string, vars: Readonly<Record<string, string | undefined>>): string {
    return value.replace(
        /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
        (whole, a?: string, b?: string) => {
            const name = a ?? b ?? "";
            return vars[name] ?? whole;
        },
    );
}

export function parseDockerfile(text: string): Dockerfile {
    const globalArgs: Record<string, string | undefined> = {};
    const stages: Array<{ index: number; name?: string; base: string; instructions: Instruction[] }> = [];
    for (const instruction of parseInstructions(text)) {
        if (instruction.keyword === "FROM") {
            const [image = "", as, name] = instruction.rest.split(/\s+/);
            stages.push({
                index: stages.length,
                name: as?.toUpperCase() === "AS" ? name : undefined,
                base: substitute(image, globalArgs),
                instructions: [],
            });
        } else if (stages.length === 0) {
            if (instruction.keyword === "ARG") {
                const [name = "", ...value] = instruction.rest.split("=");
                globalArgs[name.trim()] = value.length > 0 ? value.join("=").trim() : undefined;
            }
        } else {
            stages[stages.length - 1]?.instructions.push(instruction);
        }
    }
    return { globalArgs, stages };
}

/** node:24.22.3-trixie-slim, node:24.22.3, or anything@sha256:<64 hex> (a tag may precede it). */
export function isPinnedImage(image: string): boolean {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) {
        return true;
    }
    const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
    return tag !== undefined && /^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/.test(tag);
}

/** The npm commands in a stage's RUN instructions. */
function npmCommands(stage: Stage): string[] {
    return stage.instructions
        .filter((i) => i.keyword === "RUN")
        .flatMap((i) => i.rest.split(/&&|;|\|\|/))
        .map((c) => c.trim())
        .filter((c) => /^npm\s/.test(c));
}

/**
 * Every rule the image must keep, as a list of violations (empty when the Dockerfile is fine).
 */
export function checkDockerfile(text: string): string[] {
    const problems: string[] = [];
    const { stages } = parseDockerfile(text);
    if (stages.length < 2) {
        problems.push(`multi-stage build required; found ${stages.length} stage(s)`);
    }
    const names = new Set(stages.map((s) => s.name).filter((n): n is string => n !== undefined));
    const external = stages.filter((s) => !names.has(s.base));
    for (const stage of external) {
        if (stage.base.includes("$")) {
            problems.push(`stage ${stage.name ?? stage.index}: base ${stage.base} uses an ARG without a default`);
        } else if (!isPinnedImage(stage.base)) {
            problems.push(
                `stage ${stage.name ?? stage.index}: base ${stage.base} is not pinned to an exact version or digest`,
            );
        }
    }
    if (new Set(external.map((s) => s.base)).size > 1) {
        problems.push(
            `stages use different bases (${[...new Set(external.map((s) => s.base))].join(", ")}); build and run on one Node`,
        );
    }

    for (const stage of stages) {
        for (const cmd of npmCommands(stage)) {
            if (/^npm\s+(install|i|add)\b/.test(cmd)) {
                problems.push(`stage ${stage.name ?? stage.index}: "${cmd}" ignores the lockfile; use npm ci`);
            }
        }
    }

    const runtime = stages[stages.length - 1];
    if (runtime === undefined) {
        return problems;
    }
    const of = (keyword: string): Instruction[] => runtime.instructions.filter((i) => i.keyword === keyword);

    const users = of("USER");
    const user = users[users.length - 1]?.rest;
    const ids = user === undefined ? undefined : /^(\d+):(\d+)$/.exec(user);
    if (ids === null || ids === undefined) {
        problems.push(`runtime stage must end with a numeric USER uid:gid (10001:10001); got ${user ?? "none (root)"}`);
    } else if (ids[1] !== "10001" || ids[2] !== "10001") {
        problems.push(`runtime USER must be 10001:10001 (the Deployment's runAsUser/runAsGroup); got ${user}`);
    }

    const exposed = of("EXPOSE").flatMap((i) => i.rest.split(/\s+/));
    // The app port and the metrics port (config.ts DEFAULT_PORT, DEFAULT_METRICS_PORT).
    for (const port of ["8080", "9464"]) {
        if (!exposed.includes(port) && !exposed.includes(`${port}/tcp`)) {
            problems.push(`runtime stage must EXPOSE ${port}; exposes ${exposed.join(", ") || "nothing"}`);
        }
    }

    const entrypoints = of("ENTRYPOINT");
    const entrypoint = entrypoints[entrypoints.length - 1]?.rest;
    let argv: unknown;
    try {
        argv = entrypoint === undefined ? undefined : JSON.parse(entrypoint);
    } catch {
        argv = undefined;
    }
    if (JSON.stringify(argv) !== JSON.stringify(["node", "dist/main.js"])) {
        problems.push(`runtime ENTRYPOINT must be the exec form ["node", "dist/main.js"]; got ${entrypoint ?? "none"}`);
    }
    if (of("CMD").length > 0) {
        problems.push("runtime stage must not set CMD (it would become arguments of the entrypoint)");
    }

    const env = of("ENV").map((i) => i.rest);
    if (!env.some((e) => /(^|\s)NODE_ENV=production(\s|$)/.test(e))) {
        problems.push("runtime stage must set ENV NODE_ENV=production");
    }

    // Production dependencies only: whatever node_modules the runtime gets must come from an
    // `npm ci --omit=dev`, in the runtime stage itself or in the stage it copies them from.
    const byName = new Map(stages.map((s) => [s.name ?? String(s.index), s]));
    const installsProdOnly = (stage: Stage): boolean => {
        const ci = npmCommands(stage).filter((c) => /^npm\s+ci\b/.test(c));
        return ci.length > 0 && ci.every((c) => /\s--omit=dev(\s|$)/.test(c));
    };
    let nodeModulesSources = 0;
    for (const copy of of("COPY")) {
        const from = copy.flags.from;
        if (from === undefined) {
            if (/node_modules/.test(copy.rest)) {
                problems.push(`runtime stage copies node_modules from the build context (line ${copy.line})`);
            }
            continue;
        }
        const source = byName.get(from);
        const copiesNodeModules = /node_modules/.test(copy.rest.split(/\s+/).slice(0, -1).join(" "));
        if (copiesNodeModules) {
            nodeModulesSources += 1;
            if (source === undefined || !installsProdOnly(source)) {
                problems.push(
                    `runtime node_modules come from stage ${from}, which does not install with npm ci --omit=dev`,
                );
            }
        } else if (source !== undefined && !installsProdOnly(source)) {
            // From a stage with dev dependencies, only build output may be taken.
            const sources = copy.rest.split(/\s+/).slice(0, -1);
            if (!sources.every((s) => /\/dist\/?$/.test(s))) {
                problems.push(
                    `runtime copies ${sources.join(" ")} from stage ${from}, which has dev dependencies; only dist/ may be taken`,
                );
            }
        }
    }
    const runtimeCi = npmCommands(runtime).filter((c) => /^npm\s+ci\b/.test(c));
    if (runtimeCi.some((c) => !/\s--omit=dev(\s|$)/.test(c))) {
        problems.push("runtime stage runs npm ci without --omit=dev");
    }
    if (nodeModulesSources === 0 && runtimeCi.length === 0) {
        problems.push("runtime stage gets no node_modules (prom-client is a runtime dependency)");
    }
    return problems;
}

/** COPY sources (paths in the build context) of every stage; `--from` copies excluded. */
export function contextSources(text: string): string[] {
    return parseDockerfile(text).stages.flatMap((stage) =>
        stage.instructions
            .filter((i) => (i.keyword === "COPY" || i.keyword === "ADD") && i.flags.from === undefined)
            .flatMap((i) => i.rest.split(/\s+/).slice(0, -1)),
    );
}

/**
 * dockerignore semantics (moby/patternmatcher): patterns in order, the last match wins, a
 * pattern also matches everything below a matching directory, `!` re-includes. Returns true when
 * `path` (relative, forward slashes) is sent to the builder.
 */
export function isIncluded(ignoreFile: string, path: string): boolean {
    let included = true;
    for (const rawLine of ignoreFile.split(/\r?\n/)) {
        const line = rawLine.trim();
        if (line === "" || line.startsWith("#")) {
            continue;
        }
        const negate = line.startsWith("!");
        const pattern = (negate ? line.slice(1) : line).trim().replace(/^\/+/, "").replace(/\/+$/, "");
        const regex = new RegExp(`^${globToRegex(pattern)}(/.*)?$`);
        if (regex.test(path)) {
            included = negate;
        }
    }
    return included;
}

function globToRegex(glob: string): string {
    let out = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i] ?? "";
        if (c === "*" && glob[i + 1] === "*") {
            out += ".*";
            i += 1;
            if (glob[i + 1] === "/") {
                i += 1;
                out += "/?";
            }
        } else if (c === "*") {
            out += "[^/]*";
        } else if (c === "?") {
            out += "[^/]";
        } else {
            out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
        }
    }
    return out;
}
