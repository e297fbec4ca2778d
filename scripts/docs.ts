// npm run docs:update: regenerates the generated parts of README.md (the per-stack table).
import * as fs from "fs";
import * as path from "path";
import * as prettier from "prettier";
import { withStackTable } from "./lib/stack-table";

async function main() {
    const readme = path.join(__dirname, "..", "README.md");
    const text = withStackTable(fs.readFileSync(readme, "utf8"));
    const options = (await prettier.resolveConfig(readme)) ?? {};
    fs.writeFileSync(readme, await prettier.format(text, { ...options, filepath: readme }));
    console.log("README.md: per-stack table regenerated");
}

void main();
