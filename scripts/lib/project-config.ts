import * as YAML from "yaml";
import { DECLARED_KEYS, Field } from "../../stacks/schema";

export const CONFIG_COMMENT =
    " Generated from stacks/schema.ts by `npm run docs:update`; do not edit (test/docs.test.ts fails when stale).\n" +
    " Each key is a property path: `cluster.name` is the field `name` of the object a stack file sets at\n" +
    " `checkout-platform:cluster` (the Pulumi CLI reads declared keys as paths, applies defaults by path and\n" +
    " checks each field's type: pulumi/pulumi v3.259.0 pkg/workspace/config.go 255-366).";

/** One declaration as Pulumi.yaml holds it (sdk/go/common/workspace/project.go 282-289 `ProjectConfigType`). */
export interface Declaration {
    type: string;
    items?: { type: string };
    description: string;
    default?: unknown;
}

/**
 * A string default the CLI would turn into a number or boolean when it sets it by path
 * (pulumi/pulumi v3.259.0 sdk/go/common/resource/config/object.go 560-591 `coerce`, applied by
 * value.go 143-167 `coerceObject`): the program would receive `3`, not `"3"`.
 */
const coercible = (s: string) =>
    s === "true" || s === "false" || (!(s.length > 1 && s[0] === "0") && /^[+-]?\d+$/.test(s));

export function declaration(path: string, spec: Field): Declaration {
    if (typeof spec.default === "string" && coercible(spec.default))
        throw new Error(
            `${path}: the string default ${JSON.stringify(spec.default)} would reach the program as a number or boolean`,
        );
    const d: Declaration = {
        type: spec.type,
        description: spec.example
            ? `${spec.description} The stack files ship an example value here: replace it before the first \`pulumi up\`.`
            : spec.description,
    };
    if (spec.items) d.items = { type: spec.items };
    if (spec.default !== undefined) d.default = spec.default;
    return d;
}

/** Pulumi.yaml's `config:` block, in schema order. */
export function projectConfig(): Record<string, Declaration> {
    return Object.fromEntries(DECLARED_KEYS.map((k) => [k.path, declaration(k.path, k.spec)]));
}

/** `text` (Pulumi.yaml) with its `config:` block replaced by the generated one; everything else kept. */
export function withProjectConfig(text: string): string {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length) throw new Error(`Pulumi.yaml: ${doc.errors[0].message}`);
    const node = doc.createNode(projectConfig());
    node.commentBefore = CONFIG_COMMENT;
    doc.set("config", node);
    return doc.toString({ lineWidth: 0 });
}
