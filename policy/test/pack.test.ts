/**
 * The pack as the Pulumi CLI runs it: policy/index.ts in its own process under @pulumi/pulumi's
 * policy-pack host (constructing PolicyPack starts @pulumi/policy's gRPC analyzer server and prints
 * its port; a type error in the pack would stop it here), driven over gRPC the way
 * the engine drives it: GetAnalyzerInfo, Configure with policy/config/dev.json, Analyze, AnalyzeStack.
 * This exercises the real server code (its unknown-value proxy, its level resolution) with our rules.
 *
 * The gRPC client and protobuf modules are the copies @pulumi/policy itself loads.
 */
import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { allPolicies } from "../policies";
import { compliantStack, eksClusterComponent } from "./fixtures";
import { urnOf } from "./helpers";

const load = createRequire(require.resolve("@pulumi/policy"));

interface Message {
    [setter: string]: (...args: unknown[]) => unknown;
}
type MessageClass = new () => Message;
interface StructClass {
    fromJavaScript(v: object): unknown;
}
interface Grpc {
    credentials: { createInsecure(): unknown };
    makeGenericClientConstructor(
        service: unknown,
        name: string,
    ): new (
        address: string,
        creds: unknown,
    ) => Record<string, (req: unknown, cb: (err: Error | null, res: Message) => void) => void> & { close(): void };
}

const grpc = load("@grpc/grpc-js") as Grpc;
const { Struct } = load("google-protobuf/google/protobuf/struct_pb") as { Struct: StructClass };
const Empty = (load("google-protobuf/google/protobuf/empty_pb") as { Empty: MessageClass }).Empty;
const pb = load("@pulumi/pulumi/proto/analyzer_pb") as Record<string, MessageClass> & {
    EnforcementLevel: Record<string, number>;
};
const rpc = load("@pulumi/pulumi/proto/analyzer_grpc_pb") as { AnalyzerService: unknown };

const LEVEL = pb.EnforcementLevel;
const PACK_DIR = path.join(__dirname, "..");

function call(
    client: Record<string, (req: unknown, cb: (err: Error | null, res: Message) => void) => void>,
    method: string,
    req: unknown,
): Promise<Message> {
    return new Promise((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));
}

function options(): Message {
    const o = new pb.AnalyzerResourceOptions();
    o.setProtect(false);
    return o;
}

interface Diagnostic {
    policy: string;
    level: number;
    message: string;
    urn: string;
}

function diagnostics(res: Message): Diagnostic[] {
    return (res.getDiagnosticsList() as Message[]).map((d) => ({
        policy: d.getPolicyname() as string,
        level: d.getEnforcementlevel() as number,
        message: d.getMessage() as string,
        urn: d.getUrn() as string,
    }));
}

/**
 * The pack host type-checks the pack before it serves (~2.5 s here), so it is started as soon as
 * mocha loads this file: on a 2-core machine it then starts up while the other test files run.
 * A root-level `after` stops it whether or not these tests ran (e.g. under --grep).
 */
let child: ChildProcess | undefined;

function startPackHost(): Promise<string> {
    // What the Pulumi CLI's `pulumi-analyzer-policy` plugin runs: @pulumi/pulumi's policy-pack host,
    // which registers ts-node with type checking and policy/tsconfig.json, then loads index.ts.
    const host = path.join(path.dirname(require.resolve("@pulumi/pulumi/package.json")), "cmd", "run-policy-pack");
    const proc = spawn(process.execPath, [host, "127.0.0.1:0", "."], {
        cwd: PACK_DIR,
        stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    const port = new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        proc.stdout?.on("data", (b: Buffer) => {
            out += b.toString();
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) resolve(m[1]);
        });
        proc.stderr?.on("data", (b: Buffer) => (err += b.toString()));
        proc.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${err}`)));
    });
    port.catch(() => undefined); // reported by the `before` below, not as an unhandled rejection
    return port;
}

const hostPort = startPackHost();

after(() => {
    if (child && child.exitCode === null) child.kill();
});

describe("the policy pack over gRPC (as the Pulumi CLI runs it)", function () {
    this.timeout(60000);
    let client:
        | (Record<string, (req: unknown, cb: (err: Error | null, res: Message) => void) => void> & { close(): void })
        | undefined;

    before(async () => {
        const port = await hostPort;
        const Client = grpc.makeGenericClientConstructor(rpc.AnalyzerService, "Analyzer");
        client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
    });

    it("announces every rule, mandatory by default (W rules advisory), with its config schema", async () => {
        const info = await call(client!, "getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), "checkout-platform");
        const policies = (info.getPoliciesList() as Message[]).map((p) => ({
            name: p.getName() as string,
            level: p.getEnforcementlevel() as number,
            schema: p.getConfigschema() as Message | undefined,
        }));
        assert.deepEqual(
            policies.map((p) => p.name),
            allPolicies.map((p) => p.name),
        );
        const tier = new Map(allPolicies.map((p) => [p.name, p.tier]));
        for (const p of policies)
            assert.equal(p.level, tier.get(p.name) === "W" ? LEVEL.ADVISORY : LEVEL.MANDATORY, p.name);
        const registry = policies.find((p) => p.name === "k8s-image-allowed-registry");
        assert.ok(registry?.schema, "the registry rule announces its config schema");
    });

    it("with config/dev.json, a P rule reports advisory and a B rule mandatory; unknowns do not abort a rule", async () => {
        const config = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "config", "dev.json"), "utf8")) as Record<
            string,
            { enforcementLevel: string }
        >;
        const req = new pb.ConfigureAnalyzerRequest();
        const map = req.getPolicyconfigMap() as { set(k: string, v: unknown): void };
        for (const [name, c] of Object.entries(config)) {
            const pc = new pb.PolicyConfig();
            pc.setEnforcementlevel(LEVEL[c.enforcementLevel.toUpperCase()]);
            const { enforcementLevel: _level, ...props } = c;
            pc.setProperties(Struct.fromJavaScript(props));
            map.set(name, pc);
        }
        await call(client!, "configure", req);

        const { encryptionConfigKeyArn: _key, ...cluster } = eksClusterComponent();
        const analyze = new pb.AnalyzeRequest();
        analyze.setType("eks:index:Cluster");
        analyze.setName("platform-eks");
        analyze.setUrn(urnOf("eks:index:Cluster", "platform-eks"));
        // deletionProtection off (P), no KMS key (B), log types not known yet during the preview.
        analyze.setProperties(
            Struct.fromJavaScript({
                ...cluster,
                deletionProtection: false,
                enabledClusterLogTypes: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
            }),
        );
        analyze.setOptions(options());
        const found = diagnostics(await call(client!, "analyze", analyze));
        assert.deepEqual(found.map((d) => [d.policy, d.level]).sort(), [
            ["eks-deletion-protection", LEVEL.ADVISORY],
            ["eks-secrets-encryption", LEVEL.MANDATORY],
        ]);
        assert.ok(found.every((d) => !/can't run/.test(d.message)));
    });

    it("runs the stack rules over AnalyzeStack", async () => {
        const stack = compliantStack().filter((r) => r.key !== "checkout-pdb");
        const req = new pb.AnalyzeStackRequest();
        for (const f of stack) {
            const r = new pb.AnalyzerResource();
            r.setType(f.type);
            r.setName(f.name ?? f.key);
            r.setUrn(urnOf(f.type, f.name ?? f.key));
            r.setProperties(Struct.fromJavaScript(f.props));
            r.setOptions(options());
            r.setDependenciesList(
                (f.dependsOn ?? []).map((k) => {
                    const dep = stack.find((x) => x.key === k);
                    return dep ? urnOf(dep.type, dep.name ?? dep.key) : "";
                }),
            );
            req.addResources(r);
        }
        const found = diagnostics(await call(client!, "analyzeStack", req));
        assert.deepEqual(
            found.map((d) => [d.policy, d.urn]),
            [["k8s-pdb-per-workload", urnOf("kubernetes:apps/v1:Deployment", "checkout-deployment")]],
        );
    });
});
