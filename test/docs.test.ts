import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { REPO_ROOT, readProject } from "../harness/stack-config";
import { z } from "zod";
import { CONFIG_COMMENT, declaration, projectConfig, withProjectConfig } from "../scripts/lib/project-config";
import {
    EXAMPLES_END,
    EXAMPLES_START,
    currentBlock,
    currentStackTable,
    exampleList,
    normalizeTable,
    stackTable,
} from "../scripts/lib/stack-table";
import { DECLARED_KEYS } from "../stacks/schema";

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("docs: Pulumi.yaml's config block is generated from stacks/schema.ts", () => {
    const pulumiYaml = read("Pulumi.yaml");

    it("is current (npm run docs:update regenerates it)", () => {
        const declared = (YAML.parse(pulumiYaml) as { config: unknown }).config;
        assert.ok(
            JSON.stringify(declared) === JSON.stringify(projectConfig()),
            "Pulumi.yaml's config block is stale: run `npm run docs:update`",
        );
        assert.ok(pulumiYaml.includes(CONFIG_COMMENT.split("\n")[0].trim()), "Pulumi.yaml says the block is generated");
    });

    it("would notice a stale block", () => {
        const stale = pulumiYaml.replace("default: 30\n", "default: 31\n");
        assert.notStrictEqual(stale, pulumiYaml, "the fixture edit applied");
        assert.notStrictEqual(JSON.stringify(YAML.parse(stale).config), JSON.stringify(projectConfig()));
    });

    it("declares every key as a property path with its type, and a default exactly where one is optional", () => {
        // Read as the CLI reads it: shorthands expanded, each default checked against its type.
        const project = readProject();
        assert.deepStrictEqual(
            Object.keys(project.config),
            DECLARED_KEYS.map((k) => k.path),
        );
        for (const k of DECLARED_KEYS) {
            const d = project.config[k.path];
            assert.strictEqual(d.type, k.spec.type, k.path);
            assert.strictEqual(d.default === undefined, k.spec.default === undefined, k.path);
            if (k.spec.items) assert.deepStrictEqual(d.items?.type, k.spec.items, k.path);
        }
    });

    it("refuses a string default the CLI would turn into a number", () => {
        const spec = { type: "string", description: "a string", schema: z.string() } as const;
        assert.throws(
            () => declaration("x.port", { ...spec, default: "10" }),
            /x\.port: the string default "10" would reach the program as a number or boolean/,
        );
        assert.throws(() => declaration("x.on", { ...spec, default: "true" }), /would reach the program/);
        assert.deepStrictEqual(
            declaration("x.id", { ...spec, default: "0012" }).default,
            "0012",
            "a leading 0 is not coerced",
        );
    });

    it("regenerates without touching the rest of the file", () => {
        const regenerated = withProjectConfig(pulumiYaml);
        assert.deepStrictEqual(
            { ...YAML.parse(regenerated), config: undefined },
            { ...YAML.parse(pulumiYaml), config: undefined },
        );
    });
});

describe("docs: the README's generated blocks", () => {
    const readme = read("README.md");

    it("per-stack table matches the stack files (npm run docs:update regenerates it)", () => {
        const current = currentStackTable(readme);
        assert.ok(current !== undefined, "README.md has the stack-table markers");
        assert.ok(
            normalizeTable(current) === normalizeTable(stackTable()),
            "README.md's per-stack table is stale: run `npm run docs:update`",
        );
    });

    it("shows each differing key by its path, with its default and every stack's value", () => {
        const table = stackTable();
        assert.match(table, /^\| `network\.natGateways` \| `onePerAz` \| `single` \| `onePerAz` \|$/m);
        assert.match(table, /^\| `logs\.retentionInDays` \| `365` \| `30` \| `365` \|$/m);
        assert.match(table, /^\| `cluster\.name` \| — \| `checkout-dev` \| `checkout-prod` \|$/m);
        assert.doesNotMatch(table, /`network\.azCount`/, "keys no stack sets are not listed");
    });

    it("would notice a stale table", () => {
        const stale = currentStackTable(readme)!.replace(/(`nodes\.maxSize` +\| `6` +\| `4` +\| )`9`/, "$1`8`");
        assert.notStrictEqual(stale, currentStackTable(readme), "the fixture edit applied");
        assert.notStrictEqual(normalizeTable(stale), normalizeTable(stackTable()));
    });

    it("lists the keys that hold example values, as the stack files hold them", () => {
        const current = currentBlock(readme, EXAMPLES_START, EXAMPLES_END);
        assert.ok(current !== undefined, "README.md has the example-values markers");
        assert.ok(
            current.trim() === exampleList(),
            "README.md's example-value list is stale: run `npm run docs:update`",
        );
        assert.deepStrictEqual(
            exampleList()
                .split("\n")
                .map((l) => /^- `([^`]+)` \(([^)]+)\)/.exec(l)?.slice(1)),
            [
                ["certManager.acmeEmail", "dev, prod"],
                ["certManager.hostedZoneId", "prod"],
                ["cluster.adminRoleArn", "dev, prod"],
                ["cluster.publicAccessCidrs", "dev"],
            ],
        );
    });
});
