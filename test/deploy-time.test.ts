// The deploy-time estimate of `npm run bench` and the wait graph it (and test/teardown.test.ts)
// reads: pure functions on small graphs with known answers, then the program's own graph.
import * as assert from "assert";
import { GraphResource, providerUrn, waitGraph, waitPath } from "../scripts/lib/deploy-graph";
import {
    CREATION_TIMES,
    DEFAULT_TIME,
    durationOf,
    estimateDeploy,
    formatEstimate,
    longestPath,
    overhead,
    remoteContents,
} from "../scripts/lib/deploy-time";
import { stackRun } from "./shared-runs";

const URN = (type: string, name: string) => `urn:pulumi:dev::p::${type}::${name}`;
const res = (type: string, name: string, more: Partial<GraphResource> = {}): GraphResource => ({
    urn: URN(type, name),
    type,
    name,
    custom: !type.startsWith("platform:"),
    dependencies: [],
    props: {},
    ...more,
});

describe("deploy time: longest path", () => {
    it("a diamond with a known longest chain: a(1) -> b(5) -> d(1) beats a -> c(2) -> d", () => {
        const nodes = new Map([
            ["a", { seconds: 1, waitsFor: [] }],
            ["b", { seconds: 5, waitsFor: ["a"] }],
            ["c", { seconds: 2, waitsFor: ["a"] }],
            ["d", { seconds: 1, waitsFor: ["b", "c"] }],
            ["e", { seconds: 3, waitsFor: [] }],
        ]);
        const r = longestPath(nodes);
        assert.strictEqual(r.total, 7);
        assert.deepStrictEqual(r.path, ["a", "b", "d"]);
        assert.strictEqual(r.finish.get("c"), 3);
        assert.strictEqual(r.finish.get("e"), 3);
    });

    it("parallel branches cost the slowest, not the sum; an empty graph costs nothing", () => {
        const nodes = new Map([
            ["x", { seconds: 10, waitsFor: [] }],
            ["y", { seconds: 20, waitsFor: [] }],
            ["z", { seconds: 1, waitsFor: ["x", "y"] }],
        ]);
        assert.deepStrictEqual(longestPath(nodes).path, ["y", "z"]);
        assert.strictEqual(longestPath(nodes).total, 21);
        assert.strictEqual(longestPath(new Map()).total, 0);
    });

    it("a cycle is an error (the engine would wait forever)", () => {
        const nodes = new Map([
            ["a", { seconds: 1, waitsFor: ["b"] }],
            ["b", { seconds: 1, waitsFor: ["a"] }],
        ]);
        assert.throws(() => longestPath(nodes), /cycle through/);
    });
});

describe("deploy time: the wait graph", () => {
    it("dependencies, property dependencies, references in inputs, parents and providers are waits", () => {
        const provider = res("pulumi:providers:kubernetes", "k8s");
        const comp = res("platform:x:C", "comp", { custom: false, dependencies: [URN("t:a:A", "dep")] });
        const resources = [
            res("t:a:A", "dep"),
            provider,
            comp,
            res("t:a:A", "ref"),
            res("t:a:A", "child", {
                parent: comp.urn,
                provider: `${provider.urn}::k8s-id`,
                propertyDependencies: { spec: [URN("t:a:A", "prop")] },
                props: { cluster: URN("t:a:A", "ref"), other: "urn:pulumi:dev::p::t:a:A::not-recorded" },
            }),
            res("t:a:A", "prop"),
        ];
        const g = waitGraph(resources);
        assert.deepStrictEqual([...(g.get(URN("t:a:A", "child")) ?? [])].sort(), [
            comp.urn,
            provider.urn,
            URN("t:a:A", "prop"),
            URN("t:a:A", "ref"),
        ]);
        const path = waitPath(g, URN("t:a:A", "child"), (u) => u === URN("t:a:A", "dep"));
        assert.deepStrictEqual(path, [URN("t:a:A", "child"), comp.urn, URN("t:a:A", "dep")]);
        assert.strictEqual(
            waitPath(g, URN("t:a:A", "dep"), (u) => u === comp.urn),
            undefined,
        );
    });

    it("providerUrn strips the id from a provider reference, and leaves a URN alone", () => {
        const u = "urn:pulumi:dev::p::pulumi:providers:kubernetes::k8s";
        assert.strictEqual(providerUrn(`${u}::0f2a-id`), u);
        assert.strictEqual(providerUrn(u), u);
    });
});

describe("deploy time: resource times", () => {
    it("every time has a source, and remote components are modelled from their contents", () => {
        for (const [type, d] of Object.entries(CREATION_TIMES)) {
            assert.ok(d.seconds > 0 && d.source.length > 10, type);
        }
        const eks = durationOf(res("eks:index:Cluster", "eks", { remote: true, custom: false }));
        // role 3 + control plane 720 + access entries 3 + vpc-cni 60 (kube-proxy runs beside them).
        assert.strictEqual(eks.seconds, 3 + 720 + 3 + 60);
        assert.deepStrictEqual(eks.parts, [
            "service role 3s",
            "control plane 720s",
            "access entries 3s",
            "vpc-cni add-on 60s",
        ]);
        assert.strictEqual(durationOf(res("awsx:ec2:Vpc", "vpc", { remote: true, custom: false })).seconds, 106);
        assert.strictEqual(durationOf(res("platform:x:C", "c", { custom: false })).seconds, 0);
        assert.strictEqual(durationOf(res("aws:iam/role:Role", "r")).seconds, DEFAULT_TIME.seconds);
        assert.strictEqual(remoteContents(res("aws:iam/role:Role", "r")), undefined);
    });
});

describe("deploy time: the program", () => {
    for (const stack of ["dev", "prod"])
        it(`${stack}: the critical path runs VPC -> cluster -> node group -> in-cluster work, and is printed with its goal`, async () => {
            const run = await stackRun(stack);
            const e = estimateDeploy(run.resources);
            const types = e.path.map((s) => s.type);
            // The path starts with the network and the control plane; after it, the node group and
            // its releases, or a slower branch that only needs the cluster (the AMP collector).
            assert.deepStrictEqual(types.slice(0, 2), ["awsx:ec2:Vpc", "eks:index:Cluster"]);
            const after = types.slice(2);
            assert.ok(
                after.includes("eks:index:ManagedNodeGroup") || after.includes("aws:amp/scraper:Scraper"),
                after.join(" -> "),
            );
            assert.strictEqual(e.path[e.path.length - 1].finishedAt, e.totalSeconds);
            assert.ok(e.totalSeconds >= e.floorSeconds, "nothing beats the floor");
            assert.strictEqual(e.floorSeconds, 720 + 180 + 90);
            const extra = overhead(e).reduce((a, o) => a + o.seconds, 0);
            assert.strictEqual(
                e.floorSeconds + extra,
                e.totalSeconds,
                "the overhead is what the path adds to the floor",
            );
            const text = formatEstimate(stack, e);
            assert.match(text, /x the floor \(goal <= 1\.15x\): (met|NOT met)/);
            assert.match(text, /on the path beyond the floor: /);
        });
});
