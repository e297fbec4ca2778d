// npm run docs:update: regenerates what is derived from stacks/schema.ts and the stack files:
// Pulumi.yaml's `config:` block and the README's generated tables.
import * as fs from "fs";
import * as path from "path";
import * as prettier from "prettier";
import { withProjectConfig } from "./lib/project-config";
import { withStackTable } from "./lib/stack-table";

async function write(file: string, text: string): Promise<void> {
    const options = (await prettier.resolveConfig(file)) ?? {};
    fs.writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
}

async function main() {
    const root = path.join(__dirname, "..");
    const project = path.join(root, "Pulumi.yaml");
    await write(project, withProjectConfig(fs.readFileSync(project, "utf8")));
    console.log("Pulumi.yaml: config block regenerated from stacks/schema.ts");
    // The README's tables read the stack files through the CLI's config code, which reads Pulumi.yaml.
    const readme = path.join(root, "README.md");
    await write(readme, withStackTable(fs.readFileSync(readme, "utf8")));
    console.log("README.md: generated tables regenerated");
}

void main();
