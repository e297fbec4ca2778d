import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ProgramRun, lastRunResources, runProgram } from "../harness/engine";
import { FAKE_ACCOUNT } from "../harness/mocks";
import { EKS_VERSIONS } from "../components/eks-versions";
import { at, byUrn, find, ofType, typeCounts } from "./helpers";
import { stackRun } from "./shared-runs";

const T = {
    cluster: "eks:index:Cluster",
    nodeGroup: "eks:index:ManagedNodeGroup",
    vpc: "awsx:ec2:Vpc",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    kmsKey: "aws:kms/key:Key",
    role: "aws:iam/role:Role",
    repo: "aws:ecr/repository:Repository",
    addon: "aws:eks/addon:Addon",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    release: "kubernetes:helm.sh/v3:Release",
    issuer: "kubernetes:cert-manager.io/v1:ClusterIssuer",
    deployment: "kubernetes:apps/v1:Deployment",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    k8sProvider: "pulumi:providers:kubernetes",
};

const runs: Record<string, ProgramRun> = {};
before(async function () {
    this.timeout(60_000);
    runs.dev = await stackRun("dev");
    runs.prod = await stackRun("prod");
});

const json = (s: unknown) => JSON.parse(String(s)) as Record<string, unknown>;

for (const stack of ["dev", "prod"]) {
    describe(`program (${stack}): the resource graph`, () => {
        const run = () => runs[stack];

        it("registers every resource under one stack root, each with a URN, names unique per type", () => {
            const roots = run().resources.filter((r) => !r.parent);
            assert.deepStrictEqual(
                roots.map((r) => r.type),
                ["pulumi:pulumi:Stack"],
            );
            for (const r of run().resources)
                assert.ok(r.urn.startsWith(`urn:pulumi:${stack}::checkout-platform::`), r.name);
            assert.strictEqual(new Set(run().resources.map((r) => r.urn)).size, run().resources.length);
        });

        it("builds the cluster with API auth, KMS secrets encryption, OIDC, explicit upgrade policy and no default node group", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            const key = find(run(), T.kmsKey, "cluster-secrets-key");
            assert.strictEqual(cluster.props.name, `checkout-${stack}`);
            assert.strictEqual(cluster.props.authenticationMode, "API");
            assert.strictEqual(
                cluster.props.encryptionConfigKeyArn,
                `arn:aws:kms:eu-west-1:${FAKE_ACCOUNT}:key/cluster-secrets-key`,
            );
            assert.strictEqual(key.props.enableKeyRotation, true);
            assert.strictEqual(cluster.props.createOidcProvider, true);
            assert.deepStrictEqual(cluster.props.upgradePolicy, { supportType: "STANDARD" });
            assert.strictEqual(cluster.props.skipDefaultNodeGroup, true);
            assert.strictEqual(cluster.props.nodeAssociatePublicIpAddress, false);
            assert.strictEqual(cluster.props.endpointPrivateAccess, true);
            assert.strictEqual(at(cluster.props, "vpcCniOptions.enableNetworkPolicy"), true);
            assert.strictEqual(cluster.props.version, "1.36");
        });

        it("gives the deploy and preview roles access entries, and none to the role that creates the cluster", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            const account = stack === "dev" ? "111111111111" : "222222222222";
            const entries = cluster.props.accessEntries as Record<string, { principalArn: string }>;
            // platform-admin runs the first `up` (cluster.bootstrapRoleArn): EKS makes it admin
            // itself, and an explicit entry for it would fail with 409 (pulumi-eks#2373).
            assert.deepStrictEqual(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, e.principalArn])), {
                deploy: `arn:aws:iam::${account}:role/platform-deploy`,
                preview: `arn:aws:iam::${account}:role/platform-preview`,
            });
            for (const key of Object.keys(entries))
                assert.deepStrictEqual(at(entries, `${key}.accessPolicies.clusterAdmin`), {
                    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    accessScope: { type: "cluster" },
                });
        });

        it("pins vpc-cni and kube-proxy inside eks.Cluster and keeps coredns out of it", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            assert.strictEqual(at(cluster.props, "vpcCniOptions.addonVersion"), EKS_VERSIONS.addons["vpc-cni"]);
            assert.strictEqual(at(cluster.props, "kubeProxyAddonOptions.version"), EKS_VERSIONS.addons["kube-proxy"]);
            assert.strictEqual(at(cluster.props, "corednsAddonOptions.enabled"), false);
        });

        it("creates coredns, the Pod Identity agent and metrics-server after the node group, at pinned builds", () => {
            const ng = find(run(), T.nodeGroup, "cluster-nodes");
            const addons = ofType(run(), T.addon).filter((a) => a.parent?.endsWith("::cluster"));
            assert.deepStrictEqual(addons.map((a) => a.props.addonName).sort(), [
                "coredns",
                "eks-pod-identity-agent",
                "metrics-server",
            ]);
            for (const a of addons) {
                // pulumi-eks#1819: an add-on with pods created before any node stays DEGRADED.
                assert.ok(a.dependencies.includes(ng.urn), `${String(a.props.addonName)} waits for the node group`);
                assert.strictEqual(
                    a.props.addonVersion,
                    EKS_VERSIONS.addons[a.props.addonName as keyof typeof EKS_VERSIONS.addons],
                );
            }
            assert.strictEqual(find(run(), T.addon, "cluster-coredns").props.preserve, true);
        });

        it("makes every Kubernetes object wait for the nodes, cluster DNS and the runner's API path", () => {
            const provider = find(run(), T.k8sProvider, "cluster-k8s");
            for (const dep of [
                find(run(), T.nodeGroup, "cluster-nodes"),
                find(run(), T.addon, "cluster-coredns"),
                ...ofType(run(), T.sgRule),
            ])
                assert.ok(provider.dependencies.includes(dep.urn), `the provider waits for ${dep.name}`);
        });

        it("creates the control-plane log group before the cluster, named after it", () => {
            const cluster = find(run(), T.cluster, "cluster-eks");
            const group = find(run(), T.logGroup, "logs-control-plane");
            assert.strictEqual(group.props.name, `/aws/eks/checkout-${stack}/cluster`);
            assert.ok(cluster.dependencies.includes(group.urn), "the cluster must depend on its log group");
        });

        it("puts the managed node group in the VPC's private subnets, on its own launch template", () => {
            const ng = find(run(), T.nodeGroup, "cluster-nodes");
            const lt = find(run(), T.launchTemplate, "cluster-nodes-lt");
            assert.deepStrictEqual(ng.props.subnetIds, [
                "subnet-01000000000000000",
                "subnet-01100000000000000",
                "subnet-01200000000000000",
            ]);
            assert.strictEqual(ng.props.version, "1.36");
            assert.deepStrictEqual(ng.props.launchTemplate, { id: "cluster-nodes-lt-id", version: "1" });
            // pulumi-eks rejects enableIMDSv2 or diskSize beside a launch template of our own.
            assert.strictEqual(ng.props.enableIMDSv2, undefined);
            assert.strictEqual(ng.props.diskSize, undefined);
            assert.deepStrictEqual(lt.props.metadataOptions, {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 2,
            });
            assert.deepStrictEqual(lt.props.blockDeviceMappings, [
                {
                    deviceName: "/dev/xvda",
                    ebs: { volumeSize: 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
                },
            ]);
        });

        it("writes container logs through the CloudWatch add-on, under an IRSA role pinned to its service account", () => {
            const addon = ofType(run(), T.addon).find((a) => a.props.addonName === "amazon-cloudwatch-observability");
            assert.ok(addon, "the amazon-cloudwatch-observability add-on exists");
            const role = find(run(), T.role, "container-insights-role");
            assert.strictEqual(
                addon.props.serviceAccountRoleArn,
                `arn:aws:iam::${FAKE_ACCOUNT}:role/container-insights-role-0123456`,
            );
            const trust = json(role.props.assumeRolePolicy) as {
                Statement: { Condition: { StringEquals: Record<string, string> } }[];
            };
            const cond = trust.Statement[0].Condition.StringEquals;
            const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
            assert.deepStrictEqual(cond, {
                [`${issuer}:sub`]: "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent",
                [`${issuer}:aud`]: "sts.amazonaws.com",
            });
            // dependsOn a component expands to its children: the agent waits for every log group.
            for (const group of ofType(run(), T.logGroup)) {
                assert.ok(addon.dependencies.includes(group.urn), `the agent waits for ${String(group.props.name)}`);
            }
        });

        it("installs metrics-server (the HPA needs it)", () => {
            const addon = ofType(run(), T.addon).find((a) => a.props.addonName === "metrics-server");
            assert.ok(addon && /^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(String(addon.props.addonVersion)));
        });

        it("deploys every Kubernetes object through the cluster's one explicit provider", () => {
            const providers = ofType(run(), T.k8sProvider);
            assert.strictEqual(providers.length, 1);
            const k8sObjects = run().resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8sObjects.length >= 10);
            for (const r of k8sObjects)
                assert.ok(r.provider?.startsWith(providers[0].urn + "::"), `${r.type} ${r.name} uses ${r.provider}`);
        });

        it("creates the ClusterIssuers (DNS01 stacks only) only after the cert-manager release", () => {
            const release = find(run(), T.release, "cert-manager-release");
            const issuers = ofType(run(), T.issuer);
            // Without a hosted zone there is no solver: HTTP01 through an unserved ingress class was removed.
            assert.deepStrictEqual(
                issuers.map((i) => at(i.props, "metadata.name")).sort(),
                stack === "dev" ? [] : ["letsencrypt-production", "letsencrypt-staging"],
            );
            for (const i of issuers)
                assert.ok(i.dependencies.includes(release.urn), `${i.name} depends on the release`);
            assert.strictEqual(release.props.name, "cert-manager");
            assert.strictEqual(at(release.props, "values.crds.enabled"), true);
            assert.strictEqual(at(release.props, "values.installCRDs"), undefined);
        });

        it("runs checkout-service from this program's ECR repository, with no replicas on the HPA's target", () => {
            const dep = find(run(), T.deployment, "checkout-deployment");
            const hpa = find(run(), T.hpa, "checkout-hpa");
            assert.strictEqual(
                at(dep.props, "spec.template.spec.containers.0.image"),
                `${FAKE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/checkout-service:1.4.2`,
            );
            assert.strictEqual(at(dep.props, "spec.replicas"), undefined);
            assert.strictEqual(at(hpa.props, "spec.scaleTargetRef.name"), at(dep.props, "metadata.name"));
            assert.ok(hpa.dependencies.includes(dep.urn), "the HPA takes the name from the Deployment's output");
        });

        it("exports the outputs, the kubeconfig as a secret", async () => {
            assert.deepStrictEqual(Object.keys(run().outputs).sort(), [
                "checkoutNamespace",
                "checkoutServiceName",
                "clusterIssuers",
                "clusterName",
                "clusterSecurityGroupId",
                "ecrRepositoryUrl",
                "kubeconfig",
                "logGroupNames",
                "oidcProviderArn",
                "vpcId",
            ]);
            assert.strictEqual(run().outputs.clusterName, `checkout-${stack}`);
            assert.strictEqual(run().outputs.checkoutServiceName, "checkout-service");
            assert.deepStrictEqual(run().outputs.logGroupNames, [
                `/aws/eks/checkout-${stack}/cluster`,
                ...["application", "dataplane", "host", "performance"].map(
                    (s) => `/aws/containerinsights/checkout-${stack}/${s}`,
                ),
            ]);
            assert.strictEqual(await pulumi.isSecret(run().exports.kubeconfig as pulumi.Output<string>), true);
            assert.strictEqual(await pulumi.isSecret(run().exports.clusterName as pulumi.Output<string>), false);
        });
    });
}

describe("program: what differs between dev and prod", () => {
    const dev = () => runs.dev;
    const prod = () => runs.prod;
    const both = <T>(f: (r: ProgramRun) => T) => ({ dev: f(dev()), prod: f(prod()) });

    it("resource counts differ only by prod's KMS keys, cert-manager's DNS01 identity and issuers and its API ingress rule", () => {
        const d = typeCounts(dev());
        const p = typeCounts(prod());
        const diff: Record<string, [number, number]> = {};
        for (const t of new Set([...Object.keys(d), ...Object.keys(p)]))
            if (d[t] !== p[t]) diff[t] = [d[t] ?? 0, p[t] ?? 0];
        assert.deepStrictEqual(diff, {
            "aws:ec2/securityGroupRule:SecurityGroupRule": [0, 1],
            "aws:eks/podIdentityAssociation:PodIdentityAssociation": [0, 1],
            "aws:iam/role:Role": [2, 3],
            "aws:iam/rolePolicy:RolePolicy": [0, 1],
            "aws:kms/alias:Alias": [0, 1],
            "aws:kms/key:Key": [1, 3],
            "kubernetes:cert-manager.io/v1:ClusterIssuer": [0, 2],
        });
    });

    it("NAT gateways: one in dev, one per AZ in prod, over 3 AZs", () => {
        assert.deepStrictEqual(
            both((r) => at(find(r, T.vpc, "network-vpc").props, "natGateways.strategy")),
            { dev: "Single", prod: "OnePerAz" },
        );
        assert.deepStrictEqual(
            both((r) => find(r, T.vpc, "network-vpc").props.numberOfAvailabilityZones),
            { dev: 3, prod: 3 },
        );
    });

    it("API endpoint: public for an allow-list in dev, private with a 443 rule for the in-VPC runner in prod", () => {
        const c = both((r) => find(r, T.cluster, "cluster-eks").props);
        assert.strictEqual(c.dev.endpointPublicAccess, true);
        assert.deepStrictEqual(c.dev.publicAccessCidrs, ["203.0.113.0/24"]);
        assert.deepStrictEqual(ofType(dev(), T.sgRule), []);
        assert.strictEqual(c.prod.endpointPublicAccess, false);
        assert.strictEqual(c.prod.publicAccessCidrs, undefined);
        const rule = find(prod(), T.sgRule, "cluster-api-cidr-10-0-0-0-16");
        assert.deepStrictEqual(
            { ...rule.props, description: undefined },
            {
                type: "ingress",
                protocol: "tcp",
                fromPort: 443,
                toPort: 443,
                cidrBlocks: ["10.0.0.0/16"],
                // The mock's clusterSecurityGroupId of eks.Cluster: the rule is on the cluster's group.
                securityGroupId: "sg-0c1a2b3c4d5e6f701",
                description: undefined,
            },
        );
        assert.ok(rule.dependencies.includes(find(prod(), T.cluster, "cluster-eks").urn));
        assert.strictEqual(prod().outputs.clusterSecurityGroupId, "sg-0c1a2b3c4d5e6f701");
    });

    it("control-plane logs: api/audit/authenticator in dev, all five in prod; deletion protection only in prod", () => {
        const c = both((r) => find(r, T.cluster, "cluster-eks").props);
        assert.deepStrictEqual(c.dev.enabledClusterLogTypes, ["api", "audit", "authenticator"]);
        assert.deepStrictEqual(c.prod.enabledClusterLogTypes, [
            "api",
            "audit",
            "authenticator",
            "controllerManager",
            "scheduler",
        ]);
        assert.deepStrictEqual([c.dev.deletionProtection, c.prod.deletionProtection], [false, true]);
    });

    it("log retention 30 days unencrypted in dev, 365 days KMS-encrypted in prod (key usable by CloudWatch Logs)", () => {
        const groups = both((r) => ofType(r, T.logGroup));
        assert.strictEqual(groups.dev.length, 5);
        assert.ok(groups.dev.every((g) => g.props.retentionInDays === 30 && g.props.kmsKeyId === undefined));
        assert.ok(
            groups.prod.every(
                (g) => g.props.retentionInDays === 365 && String(g.props.kmsKeyId).includes(":key/logs-key"),
            ),
        );
        const policy = json(find(prod(), T.kmsKey, "logs-key").props.policy) as {
            Statement: { Principal: Record<string, string> }[];
        };
        assert.deepStrictEqual(policy.Statement[1].Principal, { Service: "logs.eu-west-1.amazonaws.com" });
    });

    it("node group: 2-4 nodes in dev, 3-9 in prod", () => {
        assert.deepStrictEqual(
            both((r) => find(r, T.nodeGroup, "cluster-nodes").props.scalingConfig),
            {
                dev: { minSize: 2, desiredSize: 2, maxSize: 4 },
                prod: { minSize: 3, desiredSize: 3, maxSize: 9 },
            },
        );
    });

    it("checkout HPA: 2-4 in dev, 3-12 in prod", () => {
        const hpa = both((r) => find(r, T.hpa, "checkout-hpa").props);
        assert.deepStrictEqual([at(hpa.dev, "spec.minReplicas"), at(hpa.dev, "spec.maxReplicas")], [2, 4]);
        assert.deepStrictEqual([at(hpa.prod, "spec.minReplicas"), at(hpa.prod, "spec.maxReplicas")], [3, 12]);
    });

    it("cert-manager: one replica without PDBs in dev; two with PDBs and a Route53 DNS01 identity in prod", () => {
        const values = both((r) => find(r, T.release, "cert-manager-release").props.values);
        for (const path of ["replicaCount", "webhook.replicaCount", "cainjector.replicaCount"]) {
            assert.deepStrictEqual([at(values.dev, path), at(values.prod, path)], [1, 2], path);
        }
        assert.deepStrictEqual(
            [at(values.dev, "podDisruptionBudget.enabled"), at(values.prod, "podDisruptionBudget.enabled")],
            [false, true],
        );
        // Pod Identity, not IRSA: no role annotation; the association names the service account.
        assert.deepStrictEqual(
            both((r) => at(find(r, T.release, "cert-manager-release").props, "values.serviceAccount.annotations")),
            { dev: undefined, prod: undefined },
        );
        const association = find(
            prod(),
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            "cert-manager-pod-identity",
        );
        assert.deepStrictEqual(
            [association.props.namespace, association.props.serviceAccount],
            ["cert-manager", at(values.prod, "serviceAccount.name")],
        );
        const solver = {
            prod: at(find(prod(), T.issuer, "cert-manager-issuer-production").props, "spec.acme.solvers.0"),
        };
        assert.deepStrictEqual(solver.prod, {
            dns01: { route53: { region: "eu-west-1", hostedZoneID: "Z0123456789ABCDEFGHIJ" } },
        });
    });

    it("ECR: force-deletable and AES256 in dev; protected and KMS-encrypted in prod", () => {
        const repo = both((r) => find(r, T.repo, "registry-repo").props);
        assert.deepStrictEqual([repo.dev.forceDelete, repo.prod.forceDelete], [true, false]);
        assert.deepStrictEqual(repo.dev.encryptionConfigurations, [{ encryptionType: "AES256" }]);
        assert.strictEqual(at(repo.prod, "encryptionConfigurations.0.encryptionType"), "KMS");
        for (const r of [repo.dev, repo.prod]) {
            assert.strictEqual(r.imageTagMutability, "IMMUTABLE");
            assert.strictEqual(at(r, "imageScanningConfiguration.scanOnPush"), true);
        }
    });
});

describe("program: invalid config under the engine", () => {
    it("fails with the ConfigError before registering any resource but the stack", async () => {
        let error: (Error & { problems?: string[] }) | undefined;
        try {
            await runProgram("dev", { overrides: { "checkout.imageTag": "latest", "nodes.maxSize": 1 } });
        } catch (e) {
            error = e as Error;
        }
        // The program's modules are loaded afresh per run, so compare by name, not by class identity.
        assert.strictEqual(error?.name, "ConfigError", `expected a ConfigError, got ${String(error)}`);
        assert.strictEqual(error.problems?.length, 2);
        assert.deepStrictEqual(
            lastRunResources()
                .filter((r) => r.type !== "pulumi:pulumi:Stack")
                .map((r) => r.type),
            [],
        );
    });
});

describe("program: the recorded graph is traversable", () => {
    it("every parent and dependency URN names a recorded resource", () => {
        for (const run of [runs.dev, runs.prod]) {
            for (const r of run.resources) {
                if (r.parent) assert.ok(byUrn(run, r.parent), `${r.name}: parent ${r.parent}`);
                for (const d of r.dependencies) assert.ok(byUrn(run, d), `${r.name}: dependency ${d}`);
            }
        }
    });
});
