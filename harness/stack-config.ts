import * as fs from "fs";
import * as path from "path";
import {
    CliError,
    ConfigMap,
    Project,
    decryptedText,
    keyString,
    parseConfigKey,
    projectFromYaml,
    secureKeys,
    setPath,
    stackFromYaml,
    validateAndApplyProjectConfig,
} from "./cli-config";
import { GoValue, GoYamlError, parseGoYaml } from "../stacks/go-yaml";

/** The repository root (where Pulumi.yaml lives). */
export const REPO_ROOT = path.resolve(__dirname, "..");

/**
 * Thrown for a stack the CLI would not run: unreadable, or rejected by the CLI's own config
 * validation (then the message is the CLI's, word for word).
 */
export class StackFileError extends Error {
    override name = "StackFileError";
}

export type { Project };

function rethrow(e: unknown, file?: string): never {
    if (e instanceof CliError) throw new StackFileError(e.message);
    if (e instanceof GoYamlError) throw new StackFileError(file ? `${file}: ${e.message}` : e.message);
    throw e;
}

/**
 * A file's decoded YAML, by its text. The tests and the synth run the program dozens of times,
 * each run reading Pulumi.yaml (its generated config block is most of the parse) and a stack file;
 * the decoded values are only read, never changed, so one decode per distinct text does.
 */
const decodedByText = new Map<string, GoValue>();
function decoded(text: string): GoValue {
    if (!decodedByText.has(text)) {
        if (decodedByText.size >= 64) decodedByText.clear();
        decodedByText.set(text, parseGoYaml(text).value);
    }
    return decodedByText.get(text) as GoValue;
}

/** Pulumi.yaml as the CLI reads it: name and config declarations (shorthands expanded, defaults type-checked). */
export function readProject(root = REPO_ROOT): Project {
    const text = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
    try {
        return projectFromYaml(decoded(text));
    } catch (e) {
        rethrow(e, "Pulumi.yaml");
    }
}

/** Stack names that have a `Pulumi.<stack>.yaml` next to Pulumi.yaml. */
export function listStacks(root = REPO_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The stack file's path, or a StackFileError naming the stacks there are. */
export function stackFilePath(stack: string, root = REPO_ROOT): string {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(file)) {
        const known = listStacks(root);
        throw new StackFileError(
            `unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml next to Pulumi.yaml (stacks: ${known.join(", ") || "none"})`,
        );
    }
    return file;
}

/** What the engine hands the program: the run request's config map and secret keys. */
export interface StackConfig {
    /** `<namespace>:<name>` -> the text the program reads (pulumi.runtime.allConfig()). */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
    /** What the CLI would print as warnings while loading the stack file. */
    readonly warnings: string[];
}

export interface StackConfigOptions {
    readonly root?: string;
    /**
     * Changes made as `pulumi config set --path <key> <value>` would make them before the run
     * (`undefined` removes, as `pulumi config rm --path`); keys without a namespace are the project's.
     */
    readonly overrides?: Readonly<Record<string, unknown>>;
    /** Plaintext of `secure:` values; nothing can be decrypted offline, so the default is "[secret]". */
    readonly decrypt?: (ciphertext: string) => string;
}

/**
 * The config the Pulumi CLI would pass to the program for `stack`, built the way the CLI builds it
 * (harness/cli-config.ts): the stack file read as yaml.v3 reads it, bare keys namespaced, values
 * rendered as the CLI renders them, Pulumi.yaml defaults applied by property path, and the CLI's
 * own errors for a missing required key or a type mismatch.
 */
export function stackConfig(stack: string, opts: StackConfigOptions = {}): StackConfig {
    const root = opts.root ?? REPO_ROOT;
    const file = stackFilePath(stack, root);
    return stackConfigFromText(readProject(root), stack, fs.readFileSync(file, "utf8"), opts);
}

/** `stackConfig` for a stack file's text (fixtures, edited copies). */
export function stackConfigFromText(
    project: Project,
    stack: string,
    text: string,
    opts: Omit<StackConfigOptions, "root"> = {},
): StackConfig {
    const decrypt = opts.decrypt ?? (() => "[secret]");
    let config: ConfigMap;
    let warnings: string[];
    try {
        ({ config, warnings } = stackFromYaml(project, decoded(text)));
        for (const [key, value] of Object.entries(opts.overrides ?? {})) setPath(config, project.name, key, value);
        validateAndApplyProjectConfig(stack, project, config, decrypt);
    } catch (e) {
        rethrow(e, `Pulumi.${stack}.yaml`);
    }
    // pkg/resource/deploy/source_eval.go 216-223: the program gets Map.Decrypt and SecureKeys.
    const out: Record<string, string> = {};
    for (const [key, value] of [...config.entries()].sort(([a], [b]) => a.localeCompare(b)))
        out[key] = decryptedText(value, decrypt);
    return { config: out, secretKeys: secureKeys(config).sort(), warnings };
}

/** The full key (`<namespace>:<name>`) the CLI makes of a key as written in a stack file or Pulumi.yaml. */
export const fullKey = (project: string, key: string) => keyString(parseConfigKey(project, key));
