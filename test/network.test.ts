import * as assert from "assert";
import { Network, privateSubnetCidrs, subnetFitProblem, subnetMasks, vpcLayoutProblem } from "../components/network";
import { runWithMocks } from "../harness/engine";
import { loadConfig } from "../stacks/config";
import { stackConfig } from "../harness/stack-config";

/**
 * awsx's subnet allocation for `subnetStrategy: "Auto"`, rewritten from its description in
 * pulumi/pulumi-awsx `awsx/ec2/subnetDistributorNew.ts` (`allocateSubnetCidrBlocks`, `nextNetmask`,
 * `newBits`; v3.8.0 .. 2026-08-20): the VPC is cut into AZ blocks of /(prefix + ceil(log2 azCount));
 * in each, the specs are laid out in order, each starting after the previous one; if the specs'
 * sizes add up to more than one AZ block it throws "Subnets are too large for VPC". Returns the
 * subnets as [first address, size] pairs, or the error.
 */
function awsxAllocate(prefix: number, azCount: number, masks: number[]): [number, number][] | Error {
    const azBlock = prefix + (azCount <= 1 ? 0 : Math.ceil(Math.log2(azCount)));
    const size = (m: number) => 2 ** (32 - m);
    const total = masks.reduce((n, m) => n + size(m), 0);
    if (total > size(azBlock))
        return new Error(
            `Subnets are too large for VPC. VPC has ${size(azBlock)} addresses, but subnets require ${total} addresses.`,
        );
    const out: [number, number][] = [];
    for (let az = 0; az < azCount; az++) {
        let next = az * size(azBlock);
        for (const m of masks) {
            const start = Math.ceil(next / size(m)) * size(m); // a block starts on a multiple of its size
            out.push([start, size(m)]);
            next = start + size(m);
        }
    }
    return out;
}

const PREFIXES = [16, 17, 18, 19, 20];
const AZ_COUNTS = [2, 3, 4, 5, 6];
const grid = PREFIXES.flatMap((prefix) => AZ_COUNTS.map((azCount) => ({ prefix, azCount })));

describe("network: subnet masks against awsx's allocator", () => {
    it("the masks this component used before (1/8 and 1/64 of the VPC) fail awsx at 5 and 6 AZs", () => {
        // The broken form, kept as a fixture: it is what `subnetFitProblem` must reject.
        for (const { prefix, azCount } of grid) {
            const old = { private: prefix + 3, public: prefix + 6 };
            const awsx = awsxAllocate(prefix, azCount, [old.private, old.public]);
            const problem = subnetFitProblem(prefix, azCount, old);
            assert.strictEqual(awsx instanceof Error, azCount >= 5, `/${prefix} x ${azCount}`);
            assert.strictEqual(problem !== undefined, azCount >= 5, `/${prefix} x ${azCount}: ${problem}`);
            if (problem) assert.match(problem, /Subnets are too large for VPC/);
        }
    });

    it("the AZ-block masks fit awsx for every /16../20 VPC over 2..6 AZs, inside the VPC, without overlap", () => {
        for (const { prefix, azCount } of grid) {
            const m = subnetMasks(prefix, azCount);
            const subnets = awsxAllocate(prefix, azCount, [m.private, m.public]);
            assert.ok(!(subnets instanceof Error), `/${prefix} x ${azCount}: ${String(subnets)}`);
            assert.strictEqual(subnetFitProblem(prefix, azCount, m), undefined);
            assert.strictEqual(vpcLayoutProblem(`10.0.0.0/${prefix}`, azCount), undefined);
            const sorted = [...subnets].sort((a, b) => a[0] - b[0]);
            sorted.forEach(([start, size], i) => {
                assert.ok(start + size <= 2 ** (32 - prefix), `/${prefix} x ${azCount}: subnet ${i} inside the VPC`);
                if (i > 0) assert.ok(start >= sorted[i - 1][0] + sorted[i - 1][1], "no overlap");
            });
            assert.ok(m.private <= 28 && m.public <= 28, "EC2 creates subnets of /28 or larger");
        }
    });

    it("privateSubnetCidrs names the private subnet awsx lays out in each AZ, before the VPC exists", () => {
        const dotted = (n: number) => [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join(".");
        for (const base of [
            [10, 0],
            [172, 16],
        ])
            for (const { prefix, azCount } of grid) {
                const m = subnetMasks(prefix, azCount);
                const start = (base[0] * 256 + base[1]) * 2 ** 16;
                const subnets = awsxAllocate(prefix, azCount, [m.private, m.public]) as [number, number][];
                const expected = subnets
                    .filter((_, i) => i % 2 === 0)
                    .map(([a]) => `${dotted(start + a)}/${m.private}`);
                assert.deepStrictEqual(privateSubnetCidrs(`${base[0]}.${base[1]}.0.0/${prefix}`, azCount), expected);
            }
        assert.deepStrictEqual(privateSubnetCidrs("10.0.0.0/16", 3), ["10.0.0.0/19", "10.0.64.0/19", "10.0.128.0/19"]);
        // A CIDR written with host bits is the block awsx normalises it to.
        assert.deepStrictEqual(privateSubnetCidrs("10.0.5.0/16", 2), ["10.0.0.0/18", "10.0.128.0/18"]);
    });

    it("the masks are half and a sixteenth of the AZ block", () => {
        const table: [number, number, { azBlock: number; private: number; public: number }][] = [
            [16, 2, { azBlock: 17, private: 18, public: 21 }],
            [16, 3, { azBlock: 18, private: 19, public: 22 }], // both stacks today: unchanged masks
            [16, 4, { azBlock: 18, private: 19, public: 22 }],
            [16, 5, { azBlock: 19, private: 20, public: 23 }],
            [20, 6, { azBlock: 23, private: 24, public: 27 }],
        ];
        for (const [prefix, azCount, masks] of table) assert.deepStrictEqual(subnetMasks(prefix, azCount), masks);
    });

    it("vpcLayoutProblem names what does not fit", () => {
        assert.match(
            vpcLayoutProblem("10.0.0.0/24", 6)!,
            /\/24 VPC over 6 AZs needs \/31 subnets, smaller than the \/28/,
        );
        assert.match(vpcLayoutProblem("10.0.0.0/27", 2)!, /smaller than the \/28/);
        assert.match(vpcLayoutProblem("10.0.0.0/8", 3)!, /from \/16 to \/28; got 10\.0\.0\.0\/8/);
        assert.match(subnetFitProblem(16, 0, { private: 19, public: 22 })!, /at least one AZ/);
    });
});

describe("network: the config loader checks the layout", () => {
    const load = (stack: string, overrides: Record<string, unknown>) => {
        const { config } = stackConfig(stack, { overrides });
        return loadConfig({ project: "checkout-platform", stack, config }).config;
    };

    it("accepts every CIDR prefix and azCount the schema allows, for both stacks", () => {
        for (const stack of ["dev", "prod"])
            for (const { prefix, azCount } of grid) {
                const c = load(stack, {
                    "network.cidrBlock": `10.0.0.0/${prefix}`,
                    "network.azCount": azCount,
                });
                assert.deepStrictEqual(c.network.mode === "create" && [c.network.cidrBlock, c.network.azCount], [
                    `10.0.0.0/${prefix}`,
                    azCount,
                ]);
            }
    });
});

describe("network: the Network component refuses a layout awsx would reject", () => {
    it("throws before registering the VPC, naming the args", async () => {
        await assert.rejects(
            runWithMocks(
                () => {
                    new Network("net", {
                        vpc: { mode: "create", cidrBlock: "10.0.0.0/24", azCount: 6, natGateways: "single" },
                        clusterName: "c",
                    });
                },
                { project: "checkout-platform", stack: "unit", mode: "test" },
            ),
            /net: vpc\.azCount 6 with vpc\.cidrBlock 10\.0\.0\.0\/24: a \/24 VPC over 6 AZs/,
        );
    });
});
