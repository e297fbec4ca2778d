/**
 * The mock harness itself: what it records, that it waits for the last registration, and that it
 * fails with a message naming the SDK change when @pulumi/pulumi stops behaving as harness/sdk.ts
 * expects (instead of recording a partial graph that every other test would trust).
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { RecordedResource, SIG, runWithMocks } from "../harness/engine";
import { mocksFor } from "../harness/mocks";
import { mockMonitorOf, unrecordedError, unrecordedResources } from "../harness/sdk";

const HARNESS_DIR = path.join(__dirname, "..", "harness");
const run = (init: () => void) => runWithMocks(init, { project: "harness", stack: "unit", mode: "test" });

class Thing extends pulumi.CustomResource {
    declare readonly value: pulumi.Output<string | undefined>;
    constructor(name: string, args: { value?: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super("test:index:Thing", name, { value: args.value }, opts);
    }
}

class TestProvider extends pulumi.ProviderResource {
    constructor(name: string) {
        super("test", name, {});
    }
}

class Group extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Group", name, {}, opts);
    }
}

function byName(resources: readonly RecordedResource[], name: string): RecordedResource {
    const found = resources.find((r) => r.name === name);
    assert.ok(found, `${name} was not recorded; got ${resources.map((r) => r.name).join(", ")}`);
    return found;
}

describe("mock harness", () => {
    it("finds every SDK entry point harness/sdk.ts calls", () => {
        // The tests run transpile-only, so a removed export would otherwise surface as "x is not a
        // function" deep inside a run.
        const runtime = pulumi.runtime as unknown as Record<string, unknown>;
        for (const name of ["setMocks", "getMonitor", "disconnect", "runInPulumiStack", "setAllConfig"]) {
            assert.equal(
                typeof runtime[name],
                "function",
                `@pulumi/pulumi no longer exports pulumi.runtime.${name}, which harness/sdk.ts uses`,
            );
        }
        assert.equal(
            typeof MockMonitor.prototype.registerResource,
            "function",
            "@pulumi/pulumi's MockMonitor has no registerResource method, which harness/sdk.ts wraps",
        );
    });

    it("records parent, provider, dependencies, property dependencies and resource options", async () => {
        const { resources } = await run(() => {
            const provider = new TestProvider("prov");
            const group = new Group("group");
            const first = new Thing(
                "first",
                { value: pulumi.secret("s3cr3t") },
                {
                    parent: group,
                    provider,
                    protect: true,
                    ignoreChanges: ["value"],
                    replaceOnChanges: ["value"],
                    deleteBeforeReplace: true,
                    retainOnDelete: true,
                    additionalSecretOutputs: ["value"],
                },
            );
            const other = new Thing("other", {});
            new Thing("second", { value: first.id }, { parent: group, dependsOn: [other] });
        });
        const group = byName(resources, "group");
        const first = byName(resources, "first");
        const second = byName(resources, "second");
        const other = byName(resources, "other");
        assert.match(group.urn, /^urn:pulumi:unit::harness::pulumi:pulumi:Stack\$test:index:Group::group$/);
        assert.equal(first.parent, group.urn);
        assert.equal(first.provider, `${byName(resources, "prov").urn}::prov-id`);
        assert.deepEqual(
            [
                first.protect,
                first.ignoreChanges,
                first.replaceOnChanges,
                first.deleteBeforeReplace,
                first.retainOnDelete,
                first.additionalSecretOutputs,
            ],
            [true, ["value"], ["value"], true, true, ["value"]],
        );
        assert.deepEqual(first.wire.value, { [SIG.key]: SIG.secret, value: "s3cr3t" });
        assert.equal(first.props.value, "s3cr3t");
        assert.deepEqual(second.propertyDependencies, { value: [first.urn] });
        assert.deepEqual(second.dependsOn, [other.urn]);
        assert.deepEqual(second.dependencies, [first.urn, other.urn].sort());
        assert.equal(second.props.value, "first-id");
    });

    it("waits for resources created inside applies on other resources' outputs, however deep", async () => {
        // What a single wait for the RPCs in flight misses: each of these starts only after the
        // previous registration has been answered.
        const { resources } = await run(() => {
            const a = new Thing("a", { value: "x" });
            const b = a.id.apply((id) => new Thing("b", { value: id }));
            const c = b.id.apply((id) => new Thing("c", { value: id }));
            c.id.apply((id) => new Thing("d", { value: id }));
        });
        assert.deepEqual(
            ["b", "c", "d"].map((name) => byName(resources, name).props.value),
            ["a-id", "b-id", "c-id"],
        );
    });

    it("fails a run that registered a resource the recorder did not see (a read)", async () => {
        await assert.rejects(
            run(() => {
                new Thing("read", {}, { id: "existing-id" });
            }),
            /registered 1 resource\(s\) without calling MockMonitor\.registerResource.*::read\b.*readResource/,
        );
    });

    it("rejects any monitor but the SDK's MockMonitor, naming what it got", () => {
        class Other {}
        const table: [unknown, RegExp][] = [
            [undefined, /getMonitor\(\) returned undefined, not the MockMonitor of @pulumi\/pulumi \d+\.\d+\.\d+/],
            [{}, /returned an instance of Object/],
            [new Other(), /returned an instance of Other.*two copies of @pulumi\/pulumi/],
        ];
        for (const [monitor, expected] of table) assert.throws(() => mockMonitorOf(monitor), expected);
        const real = new MockMonitor(mocksFor("test"));
        assert.equal(mockMonitorOf(real), real);
    });

    it("lists exactly the monitor's resources that were not recorded", () => {
        const monitor = new MockMonitor(mocksFor("test"));
        for (const urn of ["urn:a", "urn:b", "urn:c"]) monitor.resources.set(urn, { urn, id: null, state: {} });
        assert.deepEqual(unrecordedResources(monitor, ["urn:a", "urn:c"]), ["urn:b"]);
        assert.deepEqual(unrecordedResources(monitor, ["urn:c", "urn:b", "urn:a"]), []);
        assert.match(unrecordedError(["urn:b"]).message, /registered 1 resource\(s\).*urn:b/);
    });

    it("reaches the SDK runtime only from harness/sdk.ts, and by name", () => {
        // A namespace import of an SDK module is how an @internal function (absent from the .d.ts
        // files) gets reached through a cast; named imports are checked against the .d.ts by tsc.
        for (const file of fs.readdirSync(HARNESS_DIR).filter((f) => f.endsWith(".ts"))) {
            const text = fs.readFileSync(path.join(HARNESS_DIR, file), "utf8");
            for (const [, clause, from] of text.matchAll(/^import\s+([^;"]+?)\s+from\s+"(@pulumi\/pulumi\/[^"]+)"/gm)) {
                assert.ok(
                    !/^\*\s+as\s/.test(clause),
                    `harness/${file}: namespace import of ${from}; import the exported names instead`,
                );
                assert.ok(
                    file === "sdk.ts" || !from.startsWith("@pulumi/pulumi/runtime/"),
                    `harness/${file} imports ${from}; SDK runtime access belongs in harness/sdk.ts`,
                );
            }
        }
    });
});
