import * as assert from "assert";
import { runWithMocks } from "../harness/engine";
import {
    CertManager,
    certManagerValues,
    clusterIssuerSpec,
    dns01Solvers,
    route53Dns01Policy,
} from "../components/cert-manager";
import { checkoutEnv } from "../components/checkout/spec";
import { containerEnv, egressRules, hpaSpec, imageRef, podSpec } from "../components/service/spec";
import { irsaTrustPolicy } from "../components/iam";
import { logsKeyPolicy } from "../components/logging";
import { Network, subnetRoleTags } from "../components/network";
import { Registry } from "../components/registry";
import { parseQuantity } from "../stacks/config";
import { at, find, ofType } from "./helpers";

const OIDC = {
    arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC",
    issuerUrl: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
};
const components = (init: () => void) =>
    runWithMocks(init, { project: "checkout-platform", stack: "unit", mode: "test" });

describe("pure functions", () => {
    it("imageRef: a tag with ':', a digest with '@'", () => {
        const table: [string, string][] = [
            ["1.4.2", "repo.example/checkout:1.4.2"],
            [`sha256:${"a".repeat(64)}`, `repo.example/checkout@sha256:${"a".repeat(64)}`],
        ];
        for (const [tag, ref] of table) assert.strictEqual(imageRef("repo.example/checkout", tag), ref);
    });

    it("subnetRoleTags: load balancer discovery tags per role; Karpenter's on the private (node) subnets only", () => {
        assert.deepStrictEqual(subnetRoleTags("c", "public"), {
            "kubernetes.io/cluster/c": "shared",
            "kubernetes.io/role/elb": "1",
        });
        assert.deepStrictEqual(subnetRoleTags("c", "private"), {
            "kubernetes.io/cluster/c": "shared",
            "kubernetes.io/role/internal-elb": "1",
            "karpenter.sh/discovery": "c",
        });
    });

    it("parseQuantity: CPU in millicores, memory in bytes", () => {
        const table: [string, number][] = [
            ["300m", 300],
            ["1", 1000],
            ["0.5", 500],
            ["384Mi", 384 * 2 ** 20],
            ["1Gi", 2 ** 30],
            ["64Ki", 65536],
        ];
        for (const [q, n] of table) assert.strictEqual(parseQuantity(q), n, q);
        assert.throws(() => parseQuantity("1 Gi"));
    });

    it("irsaTrustPolicy: pins :sub to the one service account and :aud to STS", () => {
        const doc = irsaTrustPolicy(OIDC.arn, OIDC.issuerUrl, "cert-manager", "cert-manager");
        assert.deepStrictEqual(doc.Statement[0].Condition, {
            StringEquals: {
                "oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:cert-manager:cert-manager",
                "oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
            },
        });
        assert.deepStrictEqual(doc.Statement[0].Principal, { Federated: OIDC.arn });
    });

    it("route53Dns01Policy: the zones only, TXT _acme-challenge records only", () => {
        const doc = route53Dns01Policy(["Z123", "Z456"]);
        const actions = doc.Statement.map((s) => s.Action);
        assert.deepStrictEqual(actions, [
            "route53:GetChange",
            "route53:ListResourceRecordSets",
            "route53:ChangeResourceRecordSets",
        ]);
        const zones = ["arn:aws:route53:::hostedzone/Z123", "arn:aws:route53:::hostedzone/Z456"];
        assert.deepStrictEqual(
            doc.Statement.slice(1).map((s) => s.Resource),
            [zones, zones],
        );
        assert.ok(!JSON.stringify(doc).includes('"*"'), "no wildcard resource or action");
        assert.deepStrictEqual(doc.Statement[2].Condition?.["ForAllValues:StringEquals"], {
            "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        });
        assert.strictEqual(
            route53Dns01Policy(["Z1"], "aws-cn").Statement[1].Resource?.[0],
            "arn:aws-cn:route53:::hostedzone/Z1",
        );
    });

    it("logsKeyPolicy: CloudWatch Logs of the region may use the key for this cluster's groups only", () => {
        const doc = logsKeyPolicy("aws", "123456789012", "eu-west-1", "c1");
        const logs = doc.Statement[1];
        assert.deepStrictEqual(logs.Principal, { Service: "logs.eu-west-1.amazonaws.com" });
        assert.deepStrictEqual(logs.Condition?.ArnLike["kms:EncryptionContext:aws:logs:arn"], [
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/eks/c1/cluster",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/containerinsights/c1/*",
        ]);
    });

    it("certManagerValues: HA and PDBs from 2 replicas; Gateway API support only when asked", () => {
        const table: [number, boolean, boolean][] = [
            [1, false, false],
            [2, true, true],
            [3, false, true],
        ];
        for (const [replicas, gatewayApi, ha] of table) {
            const v = certManagerValues(replicas, { gatewayApi });
            for (const p of ["replicaCount", "webhook.replicaCount", "cainjector.replicaCount"])
                assert.strictEqual(at(v, p), replicas);
            for (const p of [
                "podDisruptionBudget.enabled",
                "webhook.podDisruptionBudget.enabled",
                "cainjector.podDisruptionBudget.enabled",
            ])
                assert.strictEqual(at(v, p), ha, p);
            assert.strictEqual(at(v, "config.gatewayAPI.enabled"), gatewayApi ? true : undefined);
            assert.strictEqual(at(v, "config.enableGatewayAPI"), undefined, "deprecated in 1.21");
            assert.strictEqual(at(v, "serviceAccount.annotations"), undefined, "Pod Identity, not IRSA");
            assert.strictEqual(at(v, "serviceAccount.name"), "cert-manager");
            assert.strictEqual(at(v, "crds.enabled"), true);
            assert.ok(at(v, "resources.requests.cpu") && at(v, "webhook.resources.limits.memory"));
        }
    });

    it("dns01Solvers: one Route53 solver per zone, selected by zone name; names required for several zones", () => {
        assert.deepStrictEqual(dns01Solvers("eu-west-1", [{ id: "Z1" }]), [
            { dns01: { route53: { region: "eu-west-1", hostedZoneID: "Z1" } } },
        ]);
        assert.deepStrictEqual(
            dns01Solvers("eu-west-1", [
                { id: "Z1", name: "a.example" },
                { id: "Z2", name: "b.example" },
            ]).map((s) => s.selector),
            [{ dnsZones: ["a.example"] }, { dnsZones: ["b.example"] }],
        );
        assert.throws(() => dns01Solvers("eu-west-1", [{ id: "Z1", name: "a.example" }, { id: "Z2" }]), /Z2 has none/);
        assert.throws(() => dns01Solvers("eu-west-1", []), /at least one/);
        const spec = clusterIssuerSpec("https://acme", "a@b.c", "k", dns01Solvers("r", [{ id: "Z1" }]));
        assert.deepStrictEqual(spec.acme.privateKeySecretRef, { name: "k" });
        assert.ok(!JSON.stringify(spec).includes("http01"), "no HTTP01 solver");
    });

    it("checkoutEnv: the six managed settings first, extra ones sorted; a managed name in extraEnv throws", () => {
        const env = containerEnv(checkoutEnv({ dbPoolMax: 7, logLevel: "warn", extraEnv: { ZED: "1", ALPHA: "2" } }), [
            { name: "DB_PASSWORD", secretName: "checkout-db", key: "password" },
        ]);
        assert.deepStrictEqual(
            env.map((e) => `${String(e.name)}=${String(e.value ?? JSON.stringify(e.valueFrom))}`),
            [
                "PORT=8080",
                "METRICS_PORT=9464",
                "OTEL_SERVICE_NAME=checkout-service",
                "DB_POOL_MAX=7",
                "LOG_LEVEL=warn",
                "SHUTDOWN_TIMEOUT_SECONDS=25",
                "ALPHA=2",
                "ZED=1",
                'DB_PASSWORD={"secretKeyRef":{"name":"checkout-db","key":"password"}}',
            ],
        );
        assert.throws(
            () => checkoutEnv({ dbPoolMax: 7, logLevel: "warn", extraEnv: { LOG_LEVEL: "debug" } }),
            /extraEnv may not set LOG_LEVEL/,
        );
    });

    it("checkoutEnv: the trace receiver only when given, after the settings; extraEnv may not set it", () => {
        const traced = checkoutEnv({
            dbPoolMax: 7,
            logLevel: "warn",
            extraEnv: { A: "1" },
            otlpEndpoint: "http://agent:4316",
        });
        assert.deepStrictEqual(Object.keys(traced).slice(-2), ["OTEL_EXPORTER_OTLP_ENDPOINT", "A"]);
        assert.strictEqual(traced.OTEL_EXPORTER_OTLP_ENDPOINT, "http://agent:4316");
        assert.ok(!("OTEL_EXPORTER_OTLP_ENDPOINT" in checkoutEnv({ dbPoolMax: 7, logLevel: "warn", extraEnv: {} })));
        assert.throws(
            () =>
                checkoutEnv({
                    dbPoolMax: 7,
                    logLevel: "warn",
                    extraEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://elsewhere:4318" },
                }),
            /extraEnv may not set OTEL_EXPORTER_OTLP_ENDPOINT/,
        );
    });

    it("podSpec: restricted security context, distinct probes on the named port, drain shorter than the grace period", () => {
        const spec = podSpec({
            app: "a",
            image: "img:1",
            serviceAccountName: "sa",
            port: 8080,
            probes: { readinessPath: "/ready", livenessPath: "/live" },
            runAsUser: 10001,
            shutdown: { preStopSleepSeconds: 10, drainSeconds: 25 },
            env: [],
            resources: { cpuRequest: "300m", cpuLimit: "600m", memoryRequest: "384Mi", memoryLimit: "768Mi" },
        });
        const c = at(spec, "containers.0") as Record<string, unknown>;
        assert.strictEqual(at(spec, "securityContext.runAsNonRoot"), true);
        assert.ok(Number(at(spec, "securityContext.runAsUser")) >= 10000);
        assert.strictEqual(at(spec, "securityContext.seccompProfile.type"), "RuntimeDefault");
        assert.deepStrictEqual(at(c, "securityContext.capabilities.drop"), ["ALL"]);
        assert.strictEqual(at(c, "securityContext.readOnlyRootFilesystem"), true);
        assert.strictEqual(at(c, "securityContext.allowPrivilegeEscalation"), false);
        assert.strictEqual(at(c, "readinessProbe.httpGet.path"), "/ready");
        assert.strictEqual(at(c, "livenessProbe.httpGet.path"), "/live");
        assert.strictEqual(at(c, "startupProbe.httpGet.path"), "/ready");
        assert.strictEqual(at(c, "readinessProbe.httpGet.port"), at(c, "ports.0.name"));
        assert.strictEqual(at(c, "ports.0.containerPort"), 8080);
        assert.strictEqual(at(c, "lifecycle.preStop.sleep.seconds"), 10);
        assert.strictEqual(spec.terminationGracePeriodSeconds, 45, "preStop 10 + drain 25 + 10 s slack");
        assert.deepStrictEqual(at(spec, "volumes.0"), { name: "tmp", emptyDir: { sizeLimit: "256Mi" } });
        assert.strictEqual(at(spec, "topologySpreadConstraints.0.whenUnsatisfiable"), "ScheduleAnyway");
        assert.strictEqual(at(spec, "automountServiceAccountToken"), false);
    });

    it("hpaSpec: CPU 70% and memory 80%, fast scale-up, 300 s scale-down window", () => {
        const spec = hpaSpec("dep", { minReplicas: 2, maxReplicas: 5 });
        assert.deepStrictEqual(
            (spec.metrics as { resource: { name: string; target: { averageUtilization: number } } }[]).map((m) => [
                m.resource.name,
                m.resource.target.averageUtilization,
            ]),
            [
                ["cpu", 70],
                ["memory", 80],
            ],
        );
        assert.strictEqual(at(spec, "behavior.scaleDown.stabilizationWindowSeconds"), 300);
        assert.strictEqual(at(spec, "behavior.scaleUp.stabilizationWindowSeconds"), 0);
        assert.deepStrictEqual(spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "dep" });
    });

    it("egressRules: DNS to kube-dns first, then one rule per dependency", () => {
        const rules = egressRules([{ name: "pg", cidr: "10.0.0.0/16", port: 5432, protocol: "TCP" }]);
        assert.strictEqual(rules.length, 2);
        assert.deepStrictEqual(rules[0].ports, [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
        ]);
        assert.deepStrictEqual(rules[1], {
            to: [{ ipBlock: { cidr: "10.0.0.0/16" } }],
            ports: [{ protocol: "TCP", port: 5432 }],
        });
        assert.strictEqual(egressRules([]).length, 1);
    });

    it("egressRules: a Service in the cluster is named by namespace and pod labels, never by address", () => {
        const [, rule] = egressRules([
            { name: "otlp", namespace: "obs", podLabels: { app: "agent" }, port: 4316, protocol: "TCP" },
        ]);
        assert.deepStrictEqual(rule, {
            to: [
                {
                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "obs" } },
                    podSelector: { matchLabels: { app: "agent" } },
                },
            ],
            ports: [{ protocol: "TCP", port: 4316 }],
        });
    });
});

describe("components under the mock engine", () => {
    it("Network with an existing VPC only tags its private subnets for Karpenter and passes the ids through", async () => {
        let net: Network | undefined;
        const run = await components(() => {
            net = new Network("net", {
                vpc: {
                    mode: "existing",
                    vpcId: "vpc-1",
                    privateSubnetIds: ["subnet-a", "subnet-b"],
                    publicSubnetIds: [],
                },
                clusterName: "c",
            });
        });
        assert.deepStrictEqual(
            run.resources
                .filter((r) => r.custom || r.remote)
                .map((r) => [r.type, r.name, r.props.resourceId, r.props.key, r.props.value]),
            ["subnet-a", "subnet-b"].map((id) => [
                "aws:ec2/tag:Tag",
                `net-${id}-discovery`,
                id,
                "karpenter.sh/discovery",
                "c",
            ]),
        );
        assert.deepStrictEqual(await new Promise((resolve) => net!.privateSubnetIds.apply(resolve)), [
            "subnet-a",
            "subnet-b",
        ]);
        // Read back from EC2, one per subnet (the mock answers a /24 per id).
        assert.deepStrictEqual(
            await Promise.all(net!.privateSubnetCidrs.map((c) => new Promise((resolve) => c.apply(resolve)))),
            ["10.1.31.0/24", "10.1.32.0/24"],
        );
    });

    it("Network sizes the VPC's subnets from its AZ block and tags them for load balancers", async () => {
        const run = await components(() => {
            new Network("net", {
                vpc: { mode: "create", cidrBlock: "10.8.0.0/18", azCount: 2, natGateways: "single" },
                clusterName: "c",
            });
        });
        const vpc = find(run, "awsx:ec2:Vpc", "net-vpc");
        assert.deepStrictEqual(
            (vpc.props.subnetSpecs as { type: string; cidrMask: number }[]).map((s) => [s.type, s.cidrMask]),
            [
                ["Private", 20],
                ["Public", 23],
            ],
        );
        assert.strictEqual(
            (at(vpc.props, "subnetSpecs.1.tags") as Record<string, string>)["kubernetes.io/role/elb"],
            "1",
        );
    });

    it("Registry defaults: KMS-encrypted, not force-deletable, with a lifecycle policy", async () => {
        const run = await components(() => new Registry("reg", { repositoryName: "svc" }) && undefined);
        const repo = find(run, "aws:ecr/repository:Repository", "reg-repo");
        assert.strictEqual(repo.props.forceDelete, false);
        assert.strictEqual(at(repo.props, "encryptionConfigurations.0.encryptionType"), "KMS");
        assert.strictEqual(find(run, "aws:kms/key:Key", "reg-key").props.enableKeyRotation, true);
        const lifecycle = find(run, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "reg-lifecycle");
        const ci = JSON.parse(String(lifecycle.props.policy)).rules[2].selection;
        assert.deepStrictEqual([ci.tagPatternList, ci.countNumber], [["sha-*"], 30]);
    });

    it("two instances of a component never collide", async () => {
        const run = await components(() => {
            new Registry("a", { repositoryName: "svc-a" });
            new Registry("b", { repositoryName: "svc-b" });
        });
        const urns = run.resources.map((r) => r.urn);
        assert.strictEqual(new Set(urns).size, urns.length);
        assert.strictEqual(ofType(run, "aws:ecr/repository:Repository").length, 2);
    });

    it("CertManager without DNS01 creates no IAM role and no issuers; the release is pinned", async () => {
        let cm: CertManager | undefined;
        const run = await components(() => {
            cm = new CertManager("cm", { replicas: 1, acmeEmail: "a@b.c" });
        });
        assert.deepStrictEqual(ofType(run, "aws:iam/role:Role"), []);
        assert.deepStrictEqual(ofType(run, "kubernetes:cert-manager.io/v1:ClusterIssuer"), []);
        assert.strictEqual(cm?.issuers, undefined);
        const release = find(run, "kubernetes:helm.sh/v3:Release", "cm-release");
        assert.match(String(release.props.version), /^v1\.(1[5-9]|[2-9]\d)\.\d+$/);
        assert.strictEqual(at(release.props, "repositoryOpts.repo"), "https://charts.jetstack.io");
        const ns = find(run, "kubernetes:core/v1:Namespace", "cm-ns");
        assert.strictEqual(at(ns.props, "metadata.name"), "cert-manager");
    });
});
