import * as assert from "assert";
import {
    CONTAINER_INSIGHTS_STREAMS,
    CONTAINER_INSIGHTS_WRITTEN_STREAMS,
    ClusterLogGroups,
    ContainerInsightsAgent,
    agentOtlpEndpoint,
    containerInsightsStreams,
} from "../components/logging";
import { runWithMocks } from "../harness/engine";
import { ofType } from "./helpers";
import { stackRun } from "./shared-runs";

const HOST_FROM_JOURNAL = [
    "[INPUT]",
    "    Name                systemd",
    "    Tag                 host.messages",
    "    Path                /var/log/journal",
    "[OUTPUT]",
    "    Name                cloudwatch_logs",
    "    Match               host.*",
    "    log_group_name      /aws/containerinsights/${CLUSTER_NAME}/host",
].join("\n");

describe("logging: which Container Insights groups the add-on writes (AL2023 / Bottlerocket nodes)", () => {
    it("containerInsightsStreams: host only from chart 4.6.0 (journal), or from a custom host-log.conf", () => {
        const logs = { containerLogs: { enabled: true } };
        const table: [string, unknown, string[]][] = [
            // The pinned add-on: its host-log.conf tails /var/log/{dmesg,messages,secure}, absent on AL2023.
            ["v4.3.0-eksbuild.1", logs, ["application", "dataplane", "performance"]],
            ["v4.5.0-eksbuild.1", logs, ["application", "dataplane", "performance"]],
            ["v4.6.0-eksbuild.1", logs, ["application", "dataplane", "host", "performance"]],
            ["v6.4.0-eksbuild.1", {}, ["application", "dataplane", "host", "performance"]],
            ["v4.3.0-eksbuild.1", { containerLogs: { enabled: false } }, ["performance"]],
            ["v6.4.0-eksbuild.1", { containerInsights: { enabled: false }, containerLogs: { enabled: false } }, []],
            [
                "v4.3.0-eksbuild.1",
                {
                    containerLogs: {
                        enabled: true,
                        fluentBit: { config: { extraFiles: { "host-log.conf": HOST_FROM_JOURNAL } } },
                    },
                },
                ["application", "dataplane", "host", "performance"],
            ],
            [
                "v4.8.0-eksbuild.1",
                { containerLogs: { fluentBit: { config: { extraFiles: { "host-log.conf": "" } } } } },
                ["application", "dataplane", "performance"],
            ],
        ];
        for (const [version, config, streams] of table)
            assert.deepStrictEqual(
                containerInsightsStreams(version, config),
                streams,
                `${version} ${JSON.stringify(config)}`,
            );
        assert.throws(
            () => containerInsightsStreams("latest", logs),
            /not an amazon-cloudwatch-observability add-on version/,
        );
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: every pre-created /aws/containerinsights/<cluster>/ group has a writer, and every written one is pre-created`, async () => {
            const run = await stackRun(stack);
            const addons = ofType(run, "aws:eks/addon:Addon").filter(
                (a) => a.props.addonName === "amazon-cloudwatch-observability",
            );
            assert.strictEqual(addons.length, 1);
            const { addonVersion, configurationValues } = addons[0].props;
            const written = containerInsightsStreams(String(addonVersion), JSON.parse(String(configurationValues)));
            const prefix = `/aws/containerinsights/checkout-${stack}/`;
            const created = ofType(run, "aws:cloudwatch/logGroup:LogGroup")
                .map((g) => String(g.props.name))
                .filter((n) => n.startsWith(prefix))
                .map((n) => n.slice(prefix.length));
            assert.deepStrictEqual(created, written, `groups created vs written by ${String(addonVersion)}`);
        });
    }
});

describe("logging: the agent's OTLP receiver for workloads' traces", () => {
    const PINNED = "v6.4.0-eksbuild.1";
    const RECEIVER = {
        url: "http://cloudwatch-agent.amazon-cloudwatch:4316",
        port: 4316,
        namespace: "amazon-cloudwatch",
        podLabels: {
            "app.kubernetes.io/component": "amazon-cloudwatch-agent",
            "app.kubernetes.io/instance": "amazon-cloudwatch.cloudwatch-agent",
        },
    };

    it("is the Application Signals receiver of the default agent while Application Signals is on", () => {
        const table: [string, unknown][] = [
            ["this program's configuration", { containerLogs: { enabled: true } }],
            ["no configuration", undefined],
            ["Application Signals explicitly on", { applicationSignals: { enabled: true } }],
            ["the reserved default agent config", { agent: { config: "default" } }],
            [
                "a custom agent config that keeps the Application Signals traces",
                { agent: { config: { traces: { traces_collected: { application_signals: {} } } } } },
            ],
        ];
        for (const [why, values] of table) assert.deepStrictEqual(agentOtlpEndpoint(PINNED, values), RECEIVER, why);
    });

    it("is undefined when the configuration turns the receiver off, so no workload exports into nothing", () => {
        const table: [string, unknown][] = [
            ["Application Signals off", { applicationSignals: { enabled: false } }],
            [
                "a custom agent config (it replaces the chart's default) without Application Signals traces",
                { agent: { config: { logs: { metrics_collected: { kubernetes: {} } } } } },
            ],
        ];
        for (const [why, values] of table) assert.strictEqual(agentOtlpEndpoint(PINNED, values), undefined, why);
    });

    it("refuses settings that rename or move the agent, and a version it cannot read", () => {
        assert.throws(
            () => agentOtlpEndpoint(PINNED, { agent: { name: "cwa" } }),
            /sets agent\.name: .*"cloudwatch-agent"/,
        );
        assert.throws(() => agentOtlpEndpoint(PINNED, { agents: [{ name: "a" }] }), /sets agents:/);
        assert.throws(
            () => agentOtlpEndpoint(PINNED, { applicationSignals: { targetAgent: "other" } }),
            /sets applicationSignals\.targetAgent/,
        );
        assert.throws(() => agentOtlpEndpoint("latest", {}), /not an amazon-cloudwatch-observability add-on version/);
    });
});

describe("logging: the Container Insights agent runs under EKS Pod Identity", () => {
    for (const stack of ["dev", "prod"]) {
        it(`${stack}: the add-on's association, a role only its service account may assume, after the agent`, async () => {
            const run = await stackRun(stack);
            const addon = ofType(run, "aws:eks/addon:Addon").find(
                (a) => a.props.addonName === "amazon-cloudwatch-observability",
            )!;
            assert.strictEqual(addon.props.serviceAccountRoleArn, undefined, "no IRSA role");
            const assoc = addon.props.podIdentityAssociations as { roleArn: string; serviceAccount: string }[];
            assert.deepStrictEqual(
                assoc.map((a) => a.serviceAccount),
                ["cloudwatch-agent"],
            );
            const role = ofType(run, "aws:iam/role:Role").find((r) => r.name === "container-insights-role")!;
            const trust = JSON.parse(String(role.props.assumeRolePolicy)) as {
                Statement: {
                    Principal: unknown;
                    Action: string[];
                    Condition: Record<string, Record<string, string>>;
                }[];
            };
            assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "pods.eks.amazonaws.com" });
            assert.deepStrictEqual(trust.Statement[0].Action, ["sts:AssumeRole", "sts:TagSession"]);
            assert.strictEqual(
                trust.Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-service-account"],
                "cloudwatch-agent",
            );
            const agent = ofType(run, "aws:eks/addon:Addon").find(
                (a) => a.props.addonName === "eks-pod-identity-agent",
            )!;
            assert.ok(addon.dependencies.includes(agent.urn), "the add-on's pods need the Pod Identity agent first");
        });
    }
});

describe("logging: ContainerInsightsAgent refuses groups it does not write", () => {
    const build = (streams?: readonly (typeof CONTAINER_INSIGHTS_STREAMS)[number][], addonVersion?: string) =>
        runWithMocks(
            () => {
                const logGroups = new ClusterLogGroups("logs", {
                    clusterName: "c",
                    retentionInDays: 30,
                    kmsEncryption: false,
                    region: "eu-west-1",
                    accountId: "123456789012",
                    partition: "aws",
                    containerInsightsStreams: streams,
                });
                new ContainerInsightsAgent("ci", {
                    clusterName: "c",
                    identity: { clusterName: "c" },
                    logGroups,
                    addonVersion,
                });
            },
            { project: "checkout-platform", stack: "unit", mode: "test" },
        );

    it("accepts the default groups", async () => {
        const run = await build();
        assert.deepStrictEqual(
            ofType(run, "aws:cloudwatch/logGroup:LogGroup").map((g) => g.props.name),
            ["/aws/eks/c/cluster", ...CONTAINER_INSIGHTS_WRITTEN_STREAMS.map((s) => `/aws/containerinsights/c/${s}`)],
        );
    });

    it("throws on a pre-created group the add-on never writes (host before chart 4.6.0), and on a written group left to the agent", async () => {
        await assert.rejects(
            build(CONTAINER_INSIGHTS_STREAMS, "v4.3.0-eksbuild.1"),
            /ci: add-on v4\.3\.0-eksbuild\.1 writes .*nothing writes the pre-created host/,
        );
        await assert.rejects(
            build(["application", "performance"]),
            /dataplane, host would be created by the agent, unmanaged/,
        );
    });
});
