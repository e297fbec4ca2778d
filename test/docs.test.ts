import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../harness/stack-config";
import { currentStackTable, normalizeTable, stackTable } from "../scripts/lib/stack-table";

describe("docs: the README's per-stack table", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

    it("matches the stack files (npm run docs:update regenerates it)", () => {
        const current = currentStackTable(readme);
        assert.ok(current !== undefined, "README.md has the stack-table markers");
        assert.ok(
            normalizeTable(current) === normalizeTable(stackTable()),
            "README.md's per-stack table is stale: run `npm run docs:update`",
        );
    });

    it("shows each differing key with its default and every stack's value", () => {
        const table = stackTable();
        assert.match(table, /^\| `network\.natGateways` \| `onePerAz` \| `single` \| `onePerAz` \|$/m);
        assert.match(table, /^\| `logs\.retentionInDays` \| `365` \| `30` \| `365` \|$/m);
        assert.doesNotMatch(table, /`network\.azCount`/, "keys no stack sets are not listed");
    });

    it("would notice a stale table", () => {
        const stale = currentStackTable(readme)!.replace(/(`nodes\.maxSize` +\| `6` +\| `4` +\| )`9`/, "$1`8`");
        assert.notStrictEqual(stale, currentStackTable(readme), "the fixture edit applied");
        assert.notStrictEqual(normalizeTable(stale), normalizeTable(stackTable()));
    });
});
