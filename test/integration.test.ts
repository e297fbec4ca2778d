/**
 * The pure parts of integration/run.ts: prerequisites, stack naming, config conversion, and how the
 * readiness endpoint is found. The run itself needs AWS and is `npm run test:integration`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { readProject, stackConfigFromText } from "../harness/stack-config";
import { loadConfig } from "../stacks/config";
import {
    checkPrerequisites,
    deploymentForService,
    ENV,
    type Env,
    jsonObjectEnv,
    jsonObjectEnvValues,
    parseVersion,
    readinessTarget,
    registryTargets,
    stackConfigFromYaml,
    type ToolInfo,
    uniqueStackName,
} from "../integration/lib";

const ALL_TOOLS: Record<string, ToolInfo> = {
    pulumi: { path: "/usr/local/bin/pulumi", version: "v3.203.0" },
    kubectl: { path: "/usr/bin/kubectl", version: "Client Version: v1.33.1" },
    aws: { path: "/usr/bin/aws", version: "aws-cli/2.27.0" },
    crane: { path: "/usr/bin/crane", version: "0.20.2" },
};
const READY_ENV: Env = {
    AWS_PROFILE: "sandbox",
    PULUMI_BACKEND_URL: "s3://state-bucket?region=eu-west-1",
    [ENV.secretsProvider]: "awskms://alias/pulumi-state?region=eu-west-1",
    [ENV.sourceImage]: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/checkout-service:1.4.2",
};

describe("integration run helpers", () => {
    describe("checkPrerequisites", () => {
        it("is satisfied by a complete environment", () => {
            const result = checkPrerequisites(READY_ENV, ALL_TOOLS);
            assert.deepEqual(result.missing, []);
            assert.equal(result.imageCopier, "crane");
        });

        const cases: [string, Env, Record<string, ToolInfo | undefined>, RegExp][] = [
            ["no pulumi CLI", READY_ENV, { ...ALL_TOOLS, pulumi: {} }, /no `pulumi` CLI on PATH/],
            [
                "an old pulumi CLI",
                READY_ENV,
                { ...ALL_TOOLS, pulumi: { path: "/p", version: "v3.50.1" } },
                /pulumi CLI 3\.50\.1 is older/,
            ],
            [
                "an unreadable pulumi version",
                READY_ENV,
                { ...ALL_TOOLS, pulumi: { path: "/p", version: "garbage" } },
                /cannot read the pulumi CLI version/,
            ],
            ["no AWS credentials", { ...READY_ENV, AWS_PROFILE: undefined }, ALL_TOOLS, /no AWS credentials/],
            ["blank AWS credentials", { ...READY_ENV, AWS_PROFILE: "  " }, ALL_TOOLS, /no AWS credentials/],
            ["no backend", { ...READY_ENV, PULUMI_BACKEND_URL: undefined }, ALL_TOOLS, /no state backend/],
            [
                "a self-managed backend without a secrets provider",
                { ...READY_ENV, [ENV.secretsProvider]: undefined },
                ALL_TOOLS,
                /self-managed backend without a secrets provider/,
            ],
            ["no kubectl", READY_ENV, { ...ALL_TOOLS, kubectl: undefined }, /no `kubectl` on PATH/],
            ["no aws CLI", READY_ENV, { ...ALL_TOOLS, aws: {} }, /no `aws` CLI on PATH/],
            ["no source image", { ...READY_ENV, [ENV.sourceImage]: "" }, ALL_TOOLS, /no PULUMI_IT_SOURCE_IMAGE/],
            ["no image copier", READY_ENV, { ...ALL_TOOLS, crane: undefined }, /neither `crane` nor `docker`/],
        ];
        for (const [what, env, tools, expected] of cases) {
            it(`reports ${what}`, () => {
                const { missing } = checkPrerequisites(env, tools);
                assert.ok(
                    missing.some((m) => expected.test(m)),
                    `expected ${expected} in ${JSON.stringify(missing)}`,
                );
            });
        }

        it("accepts the other credential and backend forms", () => {
            const env: Env = {
                AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/token",
                PULUMI_ACCESS_TOKEN: "pul-x",
                [ENV.sourceImage]: "img:1",
            };
            const result = checkPrerequisites(env, { ...ALL_TOOLS, crane: undefined, docker: { path: "/d" } });
            assert.deepEqual(result.missing, []);
            assert.equal(result.imageCopier, "docker");
            assert.ok(result.found.some((f) => f.startsWith("backend: Pulumi Cloud")));
        });

        it("reads CLI versions", () => {
            assert.deepEqual(parseVersion("v3.190.0"), [3, 190, 0]);
            assert.deepEqual(parseVersion("3.200.1-alpha.17+dirty"), [3, 200, 1]);
            assert.equal(parseVersion(""), undefined);
        });
    });

    describe("uniqueStackName", () => {
        it("is it-<utc minute>-<6 hex> and valid as an EKS cluster name", () => {
            const name = uniqueStackName(new Date("2026-11-22T22:57:31Z"), () => 0.999);
            assert.equal(name, "it-202611222257-ffffff");
            assert.match(name, /^[0-9A-Za-z][A-Za-z0-9-_]{1,99}$/);
        });

        it("differs between runs started in the same minute", () => {
            const now = new Date();
            const names = new Set(Array.from({ length: 50 }, () => uniqueStackName(now)));
            assert.ok(names.size >= 49, `only ${names.size} distinct names out of 50`);
        });
    });

    describe("stackConfigFromYaml", () => {
        const yaml = [
            "config:",
            "  aws:region: eu-west-1",
            "  checkout-platform:cluster:",
            "    name: checkout-dev",
            "    endpointPublicAccess: true",
            "    publicAccessCidrs:",
            "      - 203.0.113.0/24",
            "  checkout-platform:nodes:",
            "    minSize: 2",
            "  checkout-platform:checkout:",
            "    imageTag: 1.4.2",
            "    egress:",
            "      - name: postgres",
            "        port: 5432",
            "  checkout-platform:dbPassword:",
            "    secure: v1:AAAAbase64==",
        ].join("\n");
        const opts = { project: "checkout-platform", stackName: "it-202611222257-abcdef" };

        it("copies plain values as the strings the CLI stores, maps as objects (set-all --json)", () => {
            const { config, missingSecrets } = stackConfigFromYaml(yaml, {
                ...opts,
                secrets: { "checkout-platform:dbPassword": "s3cret" },
            });
            assert.deepEqual(missingSecrets, []);
            assert.deepEqual(config["aws:region"], { value: "eu-west-1", secret: false });
            assert.deepEqual(config["checkout-platform:nodes"], {
                value: '{"minSize":2}',
                objectValue: { minSize: 2 },
                secret: false,
            });
            assert.deepEqual(config["checkout-platform:checkout"].objectValue, {
                imageTag: "1.4.2",
                egress: [{ name: "postgres", port: 5432 }],
                hostname: "",
            });
            assert.deepEqual(config["checkout-platform:dbPassword"], { value: "s3cret", secret: true });
        });

        it("never copies the dev cluster name, deletion protection or a non-deletable registry", () => {
            const { config } = stackConfigFromYaml(
                yaml + "\n  checkout-platform:registry:\n    forceDelete: false\n    keepTaggedImages: 10",
                { ...opts, overrides: { "checkout-platform:cluster.name": "mine" } },
            );
            const cluster = config["checkout-platform:cluster"].objectValue as Record<string, unknown>;
            assert.equal(cluster.name, opts.stackName);
            assert.equal(cluster.deletionProtection, false);
            assert.deepEqual(cluster.publicAccessCidrs, ["203.0.113.0/24"], "the rest of the map is kept");
            assert.deepEqual(config["checkout-platform:registry"].objectValue, {
                forceDelete: true,
                keepTaggedImages: 10,
            });
        });

        it("builds no edge: the base stack's hostname and zone stay the base stack's", () => {
            const { config } = stackConfigFromYaml(
                fs.readFileSync(path.join(__dirname, "..", "Pulumi.dev.yaml"), "utf8"),
                opts,
            );
            assert.deepEqual((config["checkout-platform:edge"].objectValue as Record<string, unknown>).zones, []);
            assert.equal((config["checkout-platform:checkout"].objectValue as Record<string, unknown>).hostname, "");
        });

        it("applies PULUMI_IT_CONFIG overrides by path, keeping a secret key secret", () => {
            const { config } = stackConfigFromYaml(yaml, {
                ...opts,
                overrides: {
                    "checkout-platform:cluster.publicAccessCidrs": ["198.51.100.7/32"],
                    "checkout-platform:nodes.minSize": "3",
                    "checkout-platform:dbPassword": "from-override",
                },
                secrets: { "checkout-platform:dbPassword": "s3cret" },
            });
            const cluster = config["checkout-platform:cluster"].objectValue as Record<string, unknown>;
            assert.deepEqual(cluster.publicAccessCidrs, ["198.51.100.7/32"]);
            assert.deepEqual(
                config["checkout-platform:nodes"].objectValue,
                { minSize: 3 },
                "coerced as config set --path does",
            );
            assert.deepEqual(config["checkout-platform:dbPassword"], { value: "from-override", secret: true });
        });

        it("reports secure values it cannot copy", () => {
            const { missingSecrets, config } = stackConfigFromYaml(yaml, opts);
            assert.deepEqual(missingSecrets, ["checkout-platform:dbPassword"]);
            assert.equal(config["checkout-platform:dbPassword"], undefined);
        });

        it("reads the real dev stack file, and what it produces passes the CLI's checks and the loader", function () {
            const file = path.join(__dirname, "..", "Pulumi.dev.yaml");
            if (!fs.existsSync(file)) this.skip();
            const { config } = stackConfigFromYaml(fs.readFileSync(file, "utf8"), opts);
            assert.ok(config["aws:region"]?.value, "aws:region copied");
            assert.equal((config["checkout-platform:cluster"].objectValue as { name: string }).name, opts.stackName);
            // The copy, written back as a stack file, is a stack the CLI and the program accept.
            const asFile = YAML.stringify({
                config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.objectValue ?? v.value])),
            });
            const merged = stackConfigFromText(readProject(), opts.stackName, asFile).config;
            assert.doesNotThrow(() => loadConfig({ project: opts.project, stack: opts.stackName, config: merged }));
        });

        it("parses JSON-object environment variables and rejects others", () => {
            assert.deepEqual(jsonObjectEnv({}, "X"), {});
            assert.deepEqual(jsonObjectEnv({ X: '{"a:b": ["c"], "a:n": 3}' }, "X"), { "a:b": '["c"]', "a:n": "3" });
            assert.throws(() => jsonObjectEnv({ X: "[1]" }, "X"), /X must be a JSON object/);
            assert.throws(() => jsonObjectEnv({ X: "{" }, "X"), /X is not valid JSON/);
            assert.deepEqual(jsonObjectEnvValues({ X: '{"a:b": ["c"], "a:n": 3}' }, "X"), { "a:b": ["c"], "a:n": 3 });
        });
    });

    describe("registryTargets", () => {
        const stack = "urn:pulumi:it::checkout-platform::pulumi:pulumi:Stack::checkout-platform-it";
        const comp = "urn:pulumi:it::checkout-platform::platform:registry:Registry::registry";
        const repo =
            "urn:pulumi:it::checkout-platform::platform:registry:Registry$aws:ecr/repository:Repository::registry-repo";
        const lifecycle =
            "urn:pulumi:it::checkout-platform::platform:registry:Registry$aws:ecr/lifecyclePolicy:LifecyclePolicy::registry-lc";
        const cluster = "urn:pulumi:it::checkout-platform::platform:cluster:Cluster::cluster";
        const planned = [
            { urn: stack, type: "pulumi:pulumi:Stack" },
            { urn: comp, type: "platform:registry:Registry", parent: stack },
            { urn: repo, type: "aws:ecr/repository:Repository", parent: comp },
            { urn: lifecycle, type: "aws:ecr/lifecyclePolicy:LifecyclePolicy", parent: comp },
            { urn: cluster, type: "platform:cluster:Cluster", parent: stack },
        ];

        it("targets the stack root, the repository's top-level component and everything under it", () => {
            assert.deepEqual(registryTargets(planned).sort(), [stack, comp, lifecycle, repo].sort());
        });

        it("refuses a plan without exactly one repository", () => {
            assert.throws(() => registryTargets(planned.filter((r) => r.urn !== repo)), /found 0/);
            assert.throws(() => registryTargets([...planned, { ...planned[2], urn: repo + "2" }]), /found 2/);
        });
    });

    describe("readiness target", () => {
        const deployment = {
            metadata: { name: "checkout-abc" },
            spec: {
                template: {
                    metadata: { labels: { "app.kubernetes.io/name": "checkout-service", extra: "x" } },
                    spec: {
                        containers: [
                            {
                                ports: [{ name: "http", containerPort: 8080 }],
                                readinessProbe: { httpGet: { path: "/health/ready", port: "http" } },
                            },
                        ],
                    },
                },
            },
        };
        const service = {
            spec: {
                selector: { "app.kubernetes.io/name": "checkout-service" },
                ports: [
                    { name: "metrics", port: 9090, targetPort: 9090 },
                    { name: "http", port: 80, targetPort: "http" },
                ],
            },
        };

        it("finds the Service port leading to the probe (named or numbered target port)", () => {
            assert.deepEqual(readinessTarget(deployment, service), { servicePort: 80, path: "/health/ready" });
            const numbered = { spec: { ports: [{ port: 8081, targetPort: 8080 }] } };
            assert.deepEqual(readinessTarget(deployment, numbered), { servicePort: 8081, path: "/health/ready" });
        });

        it("fails without an HTTP readiness probe or a matching Service port", () => {
            assert.throws(
                () => readinessTarget({ spec: { template: { spec: { containers: [{}] } } } }, service),
                /no container/,
            );
            assert.throws(() => readinessTarget(deployment, { spec: { ports: [{ port: 9090 }] } }), /no Service port/);
        });

        it("picks the Deployment behind the Service's selector", () => {
            const other = {
                ...deployment,
                metadata: { name: "other" },
                spec: { template: { metadata: { labels: {} } } },
            };
            assert.equal(deploymentForService([other, deployment], service).metadata.name, "checkout-abc");
            assert.throws(() => deploymentForService([other], service), /found 0/);
            assert.throws(() => deploymentForService([deployment], { spec: {} }), /no selector/);
        });
    });
});
