// External Secrets Operator, the ExternalSecrets of the generic WebService (checkout's DB_* among
// them), and the recommendation-only VPA: pure functions table-driven, then the components built
// together under the mock engine with the edges a first `up` (and a destroy) needs.
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    EXTERNAL_SECRETS,
    ExternalSecrets,
    clusterSecretStoreSpec,
    externalSecretsValues,
    secretPrefixProblem,
    secretsManagerReadPolicy,
} from "../components/addons/external-secrets";
import { VPA, VpaRecommender, vpaValues } from "../components/addons/vpa";
import { CHECKOUT_DB_SECRET, DB_SECRET_ENV, MANAGED_ENV, checkoutServiceArgs } from "../components/checkout";
import { WebService, WebServiceArgs } from "../components/service";
import { externalSecretEnv, externalSecretManifest, validateArgs, vpaSpec } from "../components/service/spec";
import { EKS_VERSIONS } from "../components/eks-versions";
import { ProgramRun, RecordedResource, runWithMocks } from "../harness/engine";
import { formatViolations, runPolicies } from "../policy/offline";
import { iamSecretsManagerPrefixScoped } from "../policy/rules/secrets";
import { formatSchemaResults, validateKubernetesObjects } from "../policy/schema/kubernetes";
import { runResourceRule } from "../policy/test/helpers";
import { isKubernetesObject } from "../scripts/lib/render";
import { at, find, ofType } from "./helpers";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    store: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    es: "kubernetes:external-secrets.io/v1:ExternalSecret",
    vpa: "kubernetes:autoscaling.k8s.io/v1:VerticalPodAutoscaler",
    deployment: "kubernetes:apps/v1:Deployment",
    configFile: "kubernetes:yaml/v2:ConfigFile",
} as const;
const RESOURCES = { cpuRequest: "100m", cpuLimit: "500m", memoryRequest: "128Mi", memoryLimit: "256Mi" };

describe("External Secrets: pure functions", () => {
    it("secretPrefixProblem: literal '/'-separated segments only", () => {
        for (const ok of ["dev", "dev/checkout", "platform-dev/app_1", "a+b=c.d@e"])
            assert.strictEqual(secretPrefixProblem(ok), undefined, ok);
        for (const bad of ["", "*", "dev*", "dev/", "/dev", "dev//x", "dev/*", "dev prod", "dév"])
            assert.match(String(secretPrefixProblem(bad)), /no wildcard/, JSON.stringify(bad));
    });

    it("secretsManagerReadPolicy: GetSecretValue + DescribeSecret on <prefix>/* only, KMS through Secrets Manager", () => {
        const doc = secretsManagerReadPolicy({
            partition: "aws-us-gov",
            region: "us-gov-west-1",
            accountId: "123456789012",
            prefix: "dev/checkout",
        });
        assert.deepStrictEqual(doc.Statement, [
            {
                Sid: "ReadSecretsUnderPrefix",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                Resource: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:dev/checkout/*",
            },
        ]);
        const withKey = secretsManagerReadPolicy({
            partition: "aws",
            region: "eu-west-1",
            accountId: "123456789012",
            prefix: "dev",
            kmsKeyArns: ["arn:aws:kms:eu-west-1:123456789012:key/k1"],
        });
        assert.deepStrictEqual(withKey.Statement[1], {
            Sid: "DecryptThroughSecretsManager",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: ["arn:aws:kms:eu-west-1:123456789012:key/k1"],
            Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
        });
        assert.throws(
            () => secretsManagerReadPolicy({ partition: "aws", region: "r", accountId: "1", prefix: "*" }),
            /secret prefix "\*" must be/,
        );
    });

    it("the policy it builds passes the Secrets Manager guardrail, and the unscoped form fails it", () => {
        const doc = secretsManagerReadPolicy({
            partition: "aws",
            region: "eu-west-1",
            accountId: "123456789012",
            prefix: "dev",
        });
        const check = (policy: unknown) =>
            runResourceRule(iamSecretsManagerPrefixScoped, "aws:iam/rolePolicy:RolePolicy", {
                role: "eso",
                policy: JSON.stringify(policy),
            }).messages;
        assert.deepStrictEqual(check(doc), []);
        const unscoped = { ...doc, Statement: [{ ...doc.Statement[0], Resource: "*" }] };
        assert.strictEqual(check(unscoped).length, 1);
    });

    it("externalSecretsValues: CRDs from the chart's templates, kept on uninstall; HA settings only with 2+ replicas", () => {
        const two = externalSecretsValues(2);
        const table: [string, unknown][] = [
            ["installCRDs", true],
            ["crds.annotations", { "helm.sh/resource-policy": "keep" }],
            ["replicaCount", 2],
            ["leaderElect", true],
            ["serviceAccount.name", "external-secrets"],
            ["podDisruptionBudget", { enabled: true, maxUnavailable: 1 }],
            ["webhook.podDisruptionBudget", { enabled: true, maxUnavailable: 1 }],
            ["certController.replicaCount", 2],
        ];
        for (const [path, want] of table) assert.deepStrictEqual(at(two, path), want, path);
        const one = externalSecretsValues(1);
        assert.strictEqual(one.leaderElect, false);
        assert.strictEqual(one.podDisruptionBudget, undefined, "a PDB on one replica would block node drains");
    });

    it("clusterSecretStoreSpec: Secrets Manager in the region, no auth block (Pod Identity), optional namespaces", () => {
        assert.deepStrictEqual(clusterSecretStoreSpec("eu-west-1"), {
            provider: { aws: { service: "SecretsManager", region: "eu-west-1" } },
        });
        assert.deepStrictEqual(clusterSecretStoreSpec("eu-west-1", ["checkout"]).conditions, [
            { namespaces: ["checkout"] },
        ]);
    });

    it("externalSecretManifest / externalSecretEnv: one data entry and one secretKeyRef per variable, owned Secret, waits for Ready", () => {
        const es = {
            name: "db",
            store: { kind: "ClusterSecretStore" as const, name: "aws" },
            remoteKey: "dev/db",
            env: { DB_HOST: "host", DB_PASSWORD: "password" },
        };
        const m = externalSecretManifest(es, "app", { a: "b" });
        assert.deepStrictEqual(m.metadata.annotations, {
            "pulumi.com/waitFor": "condition=Ready",
            "pulumi.com/timeoutSeconds": "300",
        });
        assert.deepStrictEqual(m.spec, {
            refreshInterval: "1h",
            secretStoreRef: { kind: "ClusterSecretStore", name: "aws" },
            target: { name: "db", creationPolicy: "Owner", deletionPolicy: "Retain" },
            data: [
                { secretKey: "DB_HOST", remoteRef: { key: "dev/db", property: "host" } },
                { secretKey: "DB_PASSWORD", remoteRef: { key: "dev/db", property: "password" } },
            ],
        });
        assert.deepStrictEqual(externalSecretEnv([es]), [
            { name: "DB_HOST", secretName: "db", key: "DB_HOST" },
            { name: "DB_PASSWORD", secretName: "db", key: "DB_PASSWORD" },
        ]);
    });

    it("vpaValues: the recommender only; vpaSpec: updateMode Off on the Deployment", () => {
        const v = vpaValues();
        assert.deepStrictEqual(
            [at(v, "recommender.enabled"), at(v, "updater.enabled"), at(v, "admissionController.enabled")],
            [true, false, false],
        );
        assert.strictEqual(at(v, "metrics-server.enabled"), false, "the EKS metrics-server add-on serves the API");
        assert.deepStrictEqual(at(vpaSpec("d", "c"), "updatePolicy.updateMode"), "Off");
        assert.deepStrictEqual(at(vpaSpec("d", "c"), "targetRef"), {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "d",
        });
        assert.match(VPA.crdsUrl, /\/[0-9a-f]{40}\/stable\/vpa\/crds\/vpa-v1-crd\.yaml$/, "pinned to a commit");
        assert.match(EXTERNAL_SECRETS.chart.version, /^\d+\.\d+\.\d+$/);
    });

    it("checkout: DB_* come from the database secret, and extra env may not set them", () => {
        assert.deepStrictEqual(Object.values(DB_SECRET_ENV), ["host", "port", "dbname", "username", "password"]);
        for (const name of Object.keys(DB_SECRET_ENV)) assert.ok((MANAGED_ENV as readonly string[]).includes(name));
    });
});

describe("WebService: externalSecrets argument checks", () => {
    const store = { kind: "ClusterSecretStore" as const, name: "aws" };
    const base: WebServiceArgs = {
        appName: "orders-api",
        namespace: "orders",
        image: { repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders", tag: "1.0.0" },
        port: 9000,
        probes: { readinessPath: "/readyz", livenessPath: "/livez" },
        resources: RESOURCES,
        autoscaling: { minReplicas: 2, maxReplicas: 4 },
        env: { REGION: "eu-west-1" },
        externalSecrets: [{ name: "orders-db", store, remoteKey: "dev/orders", env: { DB_URL: "url" } }],
    };
    const table: [string, Partial<WebServiceArgs>, RegExp][] = [
        [
            "a variable also set literally",
            { externalSecrets: [{ name: "db", store, remoteKey: "k", env: { REGION: "region" } }] },
            /^externalSecrets\[0\].env must be a variable not already set in env, secretEnv or externalSecrets; got "REGION"$/,
        ],
        [
            "two external secrets with one name",
            {
                externalSecrets: [
                    { name: "db", store, remoteKey: "k", env: { A: "a" } },
                    { name: "db", store, remoteKey: "k", env: { B: "b" } },
                ],
            },
            /^externalSecrets\[1\].name must be a name no other external secret uses; got "db"$/,
        ],
        [
            "no variables",
            { externalSecrets: [{ name: "db", store, remoteKey: "k", env: {} }] },
            /^externalSecrets\[0\].env must be at least one variable/,
        ],
        [
            "an empty remote key",
            { externalSecrets: [{ name: "db", store, remoteKey: " ", env: { A: "a" } }] },
            /^externalSecrets\[0\].remoteKey must be the secret's name in the store; got " "$/,
        ],
        [
            "a refresh interval that is not a duration",
            { externalSecrets: [{ name: "db", store, remoteKey: "k", env: { A: "a" }, refreshInterval: "hourly" }] },
            /^externalSecrets\[0\].refreshInterval must be a duration/,
        ],
        [
            "a bad Secret name",
            { externalSecrets: [{ name: "Orders DB", store, remoteKey: "k", env: { A: "a" } }] },
            /^externalSecrets\[0\].name must be a Secret name; got "Orders DB"$/,
        ],
    ];
    for (const [why, change, expected] of table)
        it(`rejects ${why}`, () => {
            const problems = validateArgs({ ...base, ...change });
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], expected);
        });
    it("accepts the base arguments", () => assert.deepStrictEqual(validateArgs(base), []));
});

/** Stand-ins for what the cluster component provides. */
class Stub extends pulumi.CustomResource {
    constructor(type: string, name: string, props: Record<string, unknown>) {
        super(type, name, props);
    }
}

function waits(run: ProgramRun, r: RecordedResource, target: RecordedResource): boolean {
    const chain = (x: RecordedResource | undefined): RecordedResource[] =>
        x ? [x, ...chain(run.resources.find((p) => p.urn === x.parent))] : [];
    const targets = new Set(chain(target).map((t) => t.urn));
    return chain(r).some((a) => a.dependencies.some((d) => targets.has(d)));
}

describe("External Secrets, checkout's database secret and the VPA under the mock engine", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runWithMocks(
            () => {
                const agent = new Stub("aws:eks/addon:Addon", "pod-identity-agent", {
                    clusterName: "c1",
                    addonName: "eks-pod-identity-agent",
                    addonVersion: EKS_VERSIONS.addons["eks-pod-identity-agent"],
                });
                const nodes = new Stub("test:index:Capacity", "nodes", {});
                const opts = { providers: { kubernetes: new k8s.Provider("k8s", { kubeconfig: "{}" }) } };
                const eso = new ExternalSecrets(
                    "eso",
                    {
                        identity: { clusterName: "c1", agent },
                        region: "eu-west-1",
                        accountId: "123456789012",
                        partition: "aws",
                        secretPrefix: "dev",
                        dependsOn: [nodes],
                    },
                    opts,
                );
                const vpa = new VpaRecommender("vpa", { dependsOn: [nodes] }, opts);
                new WebService(
                    "checkout",
                    checkoutServiceArgs({
                        namespace: "checkout",
                        repositoryUrl: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-service",
                        imageTag: "1.4.2",
                        autoscaling: { minReplicas: 3, maxReplicas: 6 },
                        resources: RESOURCES,
                        dbPoolMax: 10,
                        logLevel: "info",
                        egress: [{ name: "postgres", cidr: "10.0.0.0/16", port: 5432, protocol: "TCP" }],
                        database: { store: eso.storeRef, secretName: "dev/checkout/db" },
                        vpa: { installedBy: vpa.crds },
                    }),
                    opts,
                );
            },
            { project: "checkout-platform", stack: "unit", mode: "test" },
        );
    });

    it("the release: pinned chart, CRDs from its templates, after the namespace, the association, the agent and capacity", () => {
        const release = find(run, T.release, "eso-release");
        assert.deepStrictEqual([release.props.chart, release.props.version], ["external-secrets", "2.9.0"]);
        assert.strictEqual(release.props.skipCrds, false);
        assert.strictEqual(at(release.props, "values.installCRDs"), true);
        for (const [type, name] of [
            ["aws:eks/podIdentityAssociation:PodIdentityAssociation", "eso-pod-identity"],
            ["aws:eks/addon:Addon", "pod-identity-agent"],
            ["test:index:Capacity", "nodes"],
            ["kubernetes:core/v1:Namespace", "eso-ns"],
        ])
            assert.ok(waits(run, release, find(run, type, name)), `the release waits for ${name}`);
        const association = find(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "eso-pod-identity");
        assert.deepStrictEqual(
            [association.props.namespace, association.props.serviceAccount],
            ["external-secrets", "external-secrets"],
        );
        const policy = JSON.parse(String(find(run, "aws:iam/rolePolicy:RolePolicy", "eso-policy").props.policy));
        assert.strictEqual(policy.Statement[0].Resource, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev/*");
    });

    it("the ClusterSecretStore: after the release, no auth block", () => {
        const store = find(run, T.store, "eso-store");
        assert.ok(waits(run, store, find(run, T.release, "eso-release")));
        assert.deepStrictEqual(at(store.props, "spec.provider"), {
            aws: { service: "SecretsManager", region: "eu-west-1" },
        });
    });

    it("checkout's ExternalSecret: in its namespace, from the store (waiting for it), feeding DB_* by secretKeyRef before the Deployment", () => {
        const es = find(run, T.es, `checkout-external-secret-${CHECKOUT_DB_SECRET}`);
        const store = find(run, T.store, "eso-store");
        assert.strictEqual(at(es.props, "metadata.namespace"), "checkout");
        assert.deepStrictEqual(at(es.props, "spec.secretStoreRef"), {
            kind: "ClusterSecretStore",
            name: at(store.props, "metadata.name"),
        });
        assert.ok(es.dependencies.includes(store.urn), "the store's name is an output of the store");
        const deployment = find(run, T.deployment, "checkout-deployment");
        assert.ok(deployment.dependencies.includes(es.urn), "pods start once the Secret is synced");
        const env = at(deployment.props, "spec.template.spec.containers.0.env") as Record<string, unknown>[];
        assert.deepStrictEqual(
            env.filter((e) => e.valueFrom !== undefined),
            Object.keys(DB_SECRET_ENV).map((name) => ({
                name,
                valueFrom: { secretKeyRef: { name: CHECKOUT_DB_SECRET, key: name } },
            })),
        );
        assert.deepStrictEqual(
            (at(es.props, "spec.data") as { remoteRef: { key: string } }[]).map((d) => d.remoteRef.key),
            Array(5).fill("dev/checkout/db"),
        );
    });

    it("the VPA: recommendation only, on checkout's Deployment, after the VPA CRDs; the release skips its crds/", () => {
        const vpa = find(run, T.vpa, "checkout-vpa");
        assert.strictEqual(at(vpa.props, "spec.updatePolicy.updateMode"), "Off");
        assert.strictEqual(at(vpa.props, "spec.targetRef.name"), "checkout-service");
        assert.ok(waits(run, vpa, find(run, T.configFile, "vpa-crds")));
        const release = find(run, T.release, "vpa-release");
        assert.strictEqual(release.props.skipCrds, true);
        assert.ok(waits(run, release, find(run, T.configFile, "vpa-crds")));
    });

    it("passes every guardrail, and every object its schema", async () => {
        const violations = runPolicies(run.resources, { environment: "prod" });
        assert.deepStrictEqual(violations, [], formatViolations(violations));
        const objects = run.resources.filter(isKubernetesObject);
        const schema = await validateKubernetesObjects(objects.map((r) => r.props));
        assert.strictEqual(formatSchemaResults(schema), "");
        for (const kind of ["ClusterSecretStore", "ExternalSecret", "VerticalPodAutoscaler"])
            assert.ok(
                schema.some((r) => r.kind === kind),
                `${kind} validated`,
            );
    });

    it("the guardrails catch an ExternalSecret whose store name is a literal (nothing orders it after the store)", () => {
        const es = find(run, T.es, `checkout-external-secret-${CHECKOUT_DB_SECRET}`);
        const store = find(run, T.store, "eso-store");
        const broken = run.resources.map((r) =>
            r === es
                ? {
                      ...r,
                      dependencies: r.dependencies.filter((d) => d !== store.urn),
                      propertyDependencies: {},
                  }
                : r,
        );
        const found = runPolicies(broken, { environment: "prod" }).map((v) => v.policy);
        assert.ok(found.includes("external-secret-store-exists"), found.join(", "));
    });

    it("a schema error in an ExternalSecret is reported", async () => {
        const es = find(run, T.es, `checkout-external-secret-${CHECKOUT_DB_SECRET}`);
        const bad = JSON.parse(JSON.stringify(es.props));
        bad.spec.target.creationPolicy = "Sometimes";
        const [result] = await validateKubernetesObjects([bad]);
        assert.match(result.errors.join("\n"), /creationPolicy/);
        assert.deepStrictEqual(ofType(run, T.store).length, 1);
    });
});
