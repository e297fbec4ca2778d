import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

/** The repository root (where Pulumi.yaml lives). */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** Thrown for a stack that cannot be read; the message is meant for a person. */
export class StackFileError extends Error {
    override name = "StackFileError";
}

export interface ProjectFile {
    readonly name: string;
    readonly config: Record<
        string,
        { type?: string; description?: string; default?: unknown; items?: { type: string } }
    >;
}

export function readProject(root = REPO_ROOT): ProjectFile {
    const file = path.join(root, "Pulumi.yaml");
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as ProjectFile;
    return { name: doc.name, config: doc.config ?? {} };
}

/** Stack names that have a `Pulumi.<stack>.yaml` next to Pulumi.yaml. */
export function listStacks(root = REPO_ROOT): string[] {
    return fs
        .readdirSync(root)
        .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** How the Pulumi CLI hands a config value to a program: strings as they are, the rest as JSON. */
function encode(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * The config map the CLI would pass to the program for `stack`: Pulumi.yaml defaults overlaid with
 * the stack file's values, keys fully qualified (`<namespace>:<key>`), values encoded as strings.
 * Secure (encrypted) values cannot be decrypted here and are reported as secret keys with a
 * placeholder, so the program still sees that they are set.
 */
export function stackConfig(stack: string, root = REPO_ROOT): { config: Record<string, string>; secretKeys: string[] } {
    const project = readProject(root);
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(file)) {
        const known = listStacks(root);
        throw new StackFileError(
            `unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml next to Pulumi.yaml (stacks: ${known.join(", ") || "none"})`,
        );
    }
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = YAML.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new StackFileError(`Pulumi.${stack}.yaml is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, decl] of Object.entries(project.config)) {
        if (decl.default !== undefined) config[`${project.name}:${key}`] = encode(decl.default);
    }
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        const full = key.includes(":") ? key : `${project.name}:${key}`;
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            config[full] = "[secret]";
            secretKeys.push(full);
        } else {
            config[full] = encode(value);
        }
    }
    return { config, secretKeys };
}
