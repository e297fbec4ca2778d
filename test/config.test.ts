import * as assert from "assert";
import { ConfigError, PlatformConfig, loadConfig } from "../stacks/config";
import { KEYS } from "../stacks/schema";
import { readProject, stackConfig } from "../harness/stack-config";

const PROJECT = "checkout-platform";

/** Loads `stack`'s real config (Pulumi.yaml defaults + stack file) with overrides applied. */
function load(stack: string, overrides: Record<string, string | undefined> = {}): PlatformConfig {
    const { config } = stackConfig(stack);
    for (const [k, v] of Object.entries(overrides)) {
        const full = k.includes(":") ? k : `${PROJECT}:${k}`;
        if (v === undefined) delete config[full];
        else config[full] = v;
    }
    return loadConfig((key) => config[key], PROJECT, stack);
}

function problemsOf(fn: () => unknown): readonly string[] {
    try {
        fn();
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        return e.problems;
    }
    assert.fail("expected the config to be rejected");
}

describe("config: Pulumi.yaml and the schema agree", () => {
    const declared = readProject().config;
    const pulumiType = {
        string: "string",
        structured: "string",
        integer: "integer",
        boolean: "boolean",
        array: "array",
    };

    it("declares every key the schema reads, with the matching type and a description", () => {
        for (const [key, spec] of Object.entries(KEYS)) {
            const decl = declared[key];
            assert.ok(decl, `Pulumi.yaml does not declare ${key}`);
            assert.strictEqual(decl.type, pulumiType[spec.kind], `type of ${key}`);
            assert.ok(decl.description && decl.description.length > 10, `description of ${key}`);
            if (spec.kind === "array") assert.deepStrictEqual(decl.items, { type: "string" }, `items of ${key}`);
        }
    });

    it("declares no key the program does not read", () => {
        const unread = Object.keys(declared).filter((k) => !(k in KEYS));
        assert.deepStrictEqual(unread, []);
    });

    it("gives a default to exactly the keys the schema does not require", () => {
        for (const [key, spec] of Object.entries(KEYS)) {
            const required = "required" in spec && spec.required === true;
            assert.strictEqual(declared[key].default === undefined, required, `default of ${key}`);
        }
    });

    it("accepts every Pulumi.yaml default on its own (defaults are valid values)", () => {
        // prod relies on the defaults for most keys; loading it proves they validate.
        assert.doesNotThrow(() => load("prod"));
    });
});

describe("config: the stack files", () => {
    it("dev loads into the expected typed values", () => {
        const c = load("dev");
        assert.strictEqual(c.cluster.name, "checkout-dev");
        assert.deepStrictEqual(c.network, {
            mode: "create",
            cidrBlock: "10.0.0.0/16",
            azCount: 3,
            natGateways: "single",
        });
        assert.deepStrictEqual(c.cluster.logTypes, ["api", "audit", "authenticator"]);
        assert.deepStrictEqual(c.checkout.egress, [
            { name: "postgres", cidr: "10.0.0.0/16", port: 5432, protocol: "TCP" },
        ]);
        assert.deepStrictEqual(c.certManager.solver, { type: "http01", ingressClass: "alb" });
        assert.strictEqual(c.logs.retentionInDays, 30);
    });

    it("prod loads with its overrides and the production-safe defaults", () => {
        const c = load("prod");
        assert.strictEqual(c.network.mode === "create" && c.network.natGateways, "onePerAz");
        assert.strictEqual(c.cluster.api.endpointPublicAccess, false);
        assert.deepStrictEqual(c.cluster.api.privateAccessCidrs, ["10.0.0.0/16"]);
        assert.strictEqual(c.cluster.logTypes.length, 5);
        assert.strictEqual(c.logs.retentionInDays, 365);
        assert.deepStrictEqual(c.certManager.solver, { type: "dns01", hostedZoneId: "Z0123456789ABCDEFGHIJ" });
        assert.strictEqual(c.checkout.minReplicas, 3);
    });

    it("returns a deeply frozen object", () => {
        const c = load("dev");
        assert.ok(Object.isFrozen(c) && Object.isFrozen(c.cluster) && Object.isFrozen(c.cluster.logTypes));
        assert.throws(() => ((c.nodes as { minSize: number }).minSize = 9));
    });
});

describe("config: bad input is rejected with the key, the value and what is allowed", () => {
    const ns = PROJECT;
    const cases: { what: string; stack?: string; set: Record<string, string | undefined>; error: string }[] = [
        {
            what: "missing required key",
            set: { "checkout.imageTag": undefined },
            error: `${ns}:checkout.imageTag is required but not set (pulumi config set checkout.imageTag <value>)`,
        },
        {
            what: "missing aws:region",
            set: { "aws:region": undefined },
            error: "aws:region is required but not set (pulumi config set aws:region <region>)",
        },
        {
            what: "malformed region",
            set: { "aws:region": "Ireland" },
            error: 'aws:region must be an AWS region such as eu-west-1; got "Ireland"',
        },
        {
            what: "wrong type (integer)",
            set: { "nodes.maxSize": "three" },
            error: `${ns}:nodes.maxSize must be a whole number; got "three"`,
        },
        {
            what: "wrong type (boolean)",
            set: { "cluster.deletionProtection": "yes" },
            error: `${ns}:cluster.deletionProtection must be true or false; got "yes"`,
        },
        { what: "zero count", set: { "nodes.minSize": "0" }, error: `${ns}:nodes.minSize must be >= 1; got 0` },
        {
            what: "negative count",
            set: { "checkout.dbPoolMax": "-5" },
            error: `${ns}:checkout.dbPoolMax must be >= 1; got -5`,
        },
        {
            what: "min > max (nodes)",
            set: { "nodes.minSize": "3", "nodes.desiredSize": "3", "nodes.maxSize": "2" },
            error: `${ns}:nodes.maxSize must be >= nodes.desiredSize (3); got 2`,
        },
        {
            what: "desired < min",
            set: { "nodes.minSize": "3", "nodes.desiredSize": "2" },
            error: `${ns}:nodes.desiredSize must be >= nodes.minSize (3); got 2`,
        },
        {
            what: "HPA max not above min",
            set: { "checkout.minReplicas": "4", "checkout.maxReplicas": "4" },
            error: `${ns}:checkout.maxReplicas must be > checkout.minReplicas (4) so the HPA can scale; got 4`,
        },
        {
            what: "HPA min below 2",
            set: { "checkout.minReplicas": "1" },
            error: `${ns}:checkout.minReplicas must be >= 2; got 1`,
        },
        {
            what: "retention CloudWatch rejects",
            set: { "logs.retentionInDays": "45" },
            error: `${ns}:logs.retentionInDays must be a CloudWatch retention period: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653; got 45`,
        },
        {
            what: "latest image tag",
            set: { "checkout.imageTag": "latest" },
            error: `${ns}:checkout.imageTag must not be 'latest' (pin the image by tag or sha256 digest); got "latest"`,
        },
        {
            what: "empty image tag",
            set: { "checkout.imageTag": "" },
            error: `${ns}:checkout.imageTag must not be empty (pin the image by tag or sha256 digest); got ""`,
        },
        {
            what: "malformed image tag",
            set: { "checkout.imageTag": "v1 beta" },
            error: `${ns}:checkout.imageTag must be a Docker tag ([A-Za-z0-9_.-], up to 128 characters) or a sha256:<64 hex> digest; got "v1 beta"`,
        },
        {
            what: "malformed CIDR",
            set: { "cluster.publicAccessCidrs": '["203.0.113.0/33"]' },
            error: `${ns}:cluster.publicAccessCidrs[0] must be an IPv4 CIDR block such as 10.0.0.0/16; got "203.0.113.0/33"`,
        },
        {
            what: "VPC CIDR too small",
            set: { "network.cidrBlock": "10.0.0.0/24" },
            error: `${ns}:network.cidrBlock must have a prefix length from /16 to /20 (room for a private and a public subnet per AZ); got "10.0.0.0/24"`,
        },
        {
            what: "list that is not a list",
            set: { "nodes.instanceTypes": "m6i.large" },
            error: `${ns}:nodes.instanceTypes must be a list (a YAML sequence in the stack file, or a JSON array); got "m6i.large"`,
        },
        {
            what: "structured value that is not YAML",
            set: { "checkout.egress": "- name: [postgres" },
            error: `${ns}:checkout.egress must be valid YAML or JSON (`,
        },
        {
            what: "structured value of the wrong shape",
            set: { "checkout.egress": "{name: postgres}" },
            error: `${ns}:checkout.egress must be a list of {name, cidr, port, protocol?}; got {"name":"postgres"}`,
        },
        {
            what: "structured entry with a bad field",
            set: { "checkout.egress": "- {name: postgres, cidr: 10.0.0.0/16, port: 70000}" },
            error: `${ns}:checkout.egress[0][port] must be <= 65535; got 70000`,
        },
        {
            what: "structured entry with an unknown field",
            set: { "checkout.egress": "- {name: pg, cidr: 10.0.0.0/16, port: 5432, host: db}" },
            error: `${ns}:checkout.egress[0] `,
        },
        {
            what: "enum value",
            set: { "network.natGateways": "two" },
            error: `${ns}:network.natGateways must be one of single, onePerAz; got "two"`,
        },
        {
            what: "unknown log type",
            set: { "cluster.logTypes": '["api","audits"]' },
            error: `${ns}:cluster.logTypes[1] must be one of api, audit, authenticator, controllerManager, scheduler; got "audits"`,
        },
        {
            what: "admin role not an ARN",
            set: { "cluster.adminRoleArns": '["platform-admin"]' },
            error: `${ns}:cluster.adminRoleArns[0] must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin; got "platform-admin"`,
        },
        {
            what: "deploy role missing",
            set: { "cluster.deployRoleArn": undefined },
            error: `${ns}:cluster.deployRoleArn is required but not set (pulumi config set cluster.deployRoleArn <value>)`,
        },
        {
            what: "preview role that is not an ARN",
            set: { "cluster.previewRoleArn": "preview" },
            error: `${ns}:cluster.previewRoleArn must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-preview, or ""; got "preview"`,
        },
        {
            // pulumi-eks#2373: EKS makes the creator admin; the explicit entry would fail with 409.
            what: "bootstrap role that is neither an admin nor the deploy role",
            set: { "cluster.bootstrapRoleArn": "arn:aws:iam::111111111111:role/platform-preview" },
            error: `${ns}:cluster.bootstrapRoleArn must be one of cluster.adminRoleArns or cluster.deployRoleArn (the role that runs the first \`up\`: EKS makes it cluster-admin itself, so it gets no access entry); got "arn:aws:iam::111111111111:role/platform-preview"`,
        },
        {
            what: "one role in two places (two access entries: 409)",
            set: { "cluster.previewRoleArn": "arn:aws:iam::111111111111:role/platform-deploy" },
            error: `${ns}:cluster.previewRoleArn repeats "arn:aws:iam::111111111111:role/platform-deploy", already in cluster.deployRoleArn: EKS allows one access entry per principal (the second fails with 409); give each role one place`,
        },
        {
            what: "an admin role listed twice",
            set: {
                "cluster.adminRoleArns":
                    '["arn:aws:iam::111111111111:role/platform-admin","arn:aws:iam::111111111111:role/platform-admin"]',
            },
            error: `${ns}:cluster.adminRoleArns repeats "arn:aws:iam::111111111111:role/platform-admin", already in cluster.adminRoleArns: EKS allows one access entry per principal (the second fails with 409); give each role one place`,
        },
        {
            // pulumi-eks#1134: with the public endpoint off nothing else can reach the API.
            what: "private endpoint with no runner path",
            stack: "prod",
            set: { "cluster.privateAccessCidrs": "[]" },
            error: `${ns}:cluster.privateAccessCidrs or cluster.privateAccessSecurityGroupIds must name where \`pulumi up\` and \`preview\` run inside the VPC (or a connected network) when cluster.endpointPublicAccess is false: nothing else can reach a private endpoint; got [] and []`,
        },
        {
            what: "a public range as a private-endpoint source",
            stack: "prod",
            set: { "cluster.privateAccessCidrs": '["198.51.100.0/24"]' },
            error: `${ns}:cluster.privateAccessCidrs[0] must be inside the VPC or a connected private network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10); got "198.51.100.0/24"`,
        },
        {
            what: "a runner security group that is not an id",
            stack: "prod",
            set: { "cluster.privateAccessSecurityGroupIds": '["runner"]' },
            error: `${ns}:cluster.privateAccessSecurityGroupIds[0] must be a security group id such as sg-0123456789abcdef0; got "runner"`,
        },
        {
            what: "more public CIDRs than EKS accepts",
            set: {
                "cluster.publicAccessCidrs": JSON.stringify(Array.from({ length: 41 }, (_, i) => `198.51.100.${i}/32`)),
            },
            error: `${ns}:cluster.publicAccessCidrs must list at most 40 CIDRs (the EKS limit per cluster); got `,
        },
        {
            what: "public endpoint without CIDRs",
            set: { "cluster.publicAccessCidrs": "[]" },
            error: `${ns}:cluster.publicAccessCidrs must list the CIDRs allowed to reach the public API endpoint when cluster.endpointPublicAccess is true (there is no implicit 0.0.0.0/0); got []`,
        },
        {
            what: "CIDRs with a private endpoint",
            stack: "prod",
            set: { "cluster.publicAccessCidrs": '["10.1.0.0/16"]' },
            error: `${ns}:cluster.publicAccessCidrs must be empty when cluster.endpointPublicAccess is false (the endpoint is private); got ["10.1.0.0/16"]`,
        },
        {
            what: "existing VPC without id",
            set: {
                "network.mode": "existing",
                "network.privateSubnetIds": '["subnet-0123456789abcdef0","subnet-0123456789abcdef1"]',
            },
            error: `${ns}:network.vpcId is required when network.mode is existing; got ""`,
        },
        {
            what: "existing VPC with one subnet",
            set: {
                "network.mode": "existing",
                "network.vpcId": "vpc-0123456789abcdef0",
                "network.privateSubnetIds": '["subnet-0123456789abcdef0"]',
            },
            error: `${ns}:network.privateSubnetIds must list at least 2 private subnets (in different AZs) when network.mode is existing; got ["subnet-0123456789abcdef0"]`,
        },
        {
            what: "VPC id with created VPC",
            set: { "network.vpcId": "vpc-0123456789abcdef0" },
            error: `${ns}:network.vpcId is only used when network.mode is existing (network.mode is create); got "vpc-0123456789abcdef0"`,
        },
        {
            what: "dns01 without zone",
            set: { "certManager.solver": "dns01" },
            error: `${ns}:certManager.hostedZoneId is required when certManager.solver is dns01; got ""`,
        },
        {
            what: "zone with http01",
            set: { "certManager.hostedZoneId": "Z0123456789ABCDEFGHIJ" },
            error: `${ns}:certManager.hostedZoneId is only used when certManager.solver is dns01 (solver is http01); got "Z0123456789ABCDEFGHIJ"`,
        },
        {
            what: "ACME email",
            set: { "certManager.acmeEmail": "platform-team" },
            error: `${ns}:certManager.acmeEmail must be an email address (Let's Encrypt sends expiry notices there); got "platform-team"`,
        },
        {
            what: "limit below request",
            set: { "checkout.memoryLimit": "256Mi" },
            error: `${ns}:checkout.memoryLimit must be >= checkout.memoryRequest (384Mi); got "256Mi"`,
        },
        {
            what: "bad quantity",
            set: { "checkout.cpuRequest": "300 millicores" },
            error: `${ns}:checkout.cpuRequest must be a CPU quantity such as 300m or 1; got "300 millicores"`,
        },
        {
            what: "system namespace",
            set: { "checkout.namespace": "default" },
            error: `${ns}:checkout.namespace must not be default or a kube-* system namespace; got "default"`,
        },
        {
            what: "secret-looking extra env",
            set: { "checkout.extraEnv": "PAYMENT_API_TOKEN: hunter2" },
            error: `${ns}:checkout.extraEnv[PAYMENT_API_TOKEN] looks like a secret; secrets must come from a Kubernetes Secret, not a literal in config`,
        },
        {
            what: "extra env overriding a managed one",
            set: { "checkout.extraEnv": "PORT: '9090'" },
            error: `${ns}:checkout.extraEnv[PORT] is set by the Deployment itself (from its own key); remove it from extraEnv`,
        },
        {
            what: "extra env with a non-string value",
            set: { "checkout.extraEnv": "FEATURE_X: 3" },
            error: `${ns}:checkout.extraEnv[FEATURE_X] must be a string (quote numbers); got 3`,
        },
        {
            what: "tags not a map",
            set: { tags: "[a, b]" },
            error: `${ns}:tags must be a map of string to string; got ["a","b"]`,
        },
    ];

    for (const c of cases) {
        it(`${c.what}`, () => {
            const problems = problemsOf(() => load(c.stack ?? "dev", c.set));
            assert.ok(
                problems.some((p) =>
                    c.error.endsWith("(") || c.error.endsWith(" ") ? p.startsWith(c.error) : p === c.error,
                ),
                `expected problem:\n  ${c.error}\ngot:\n  ${problems.join("\n  ")}`,
            );
        });
    }

    it("reports every problem at once, not only the first", () => {
        const problems = problemsOf(() =>
            load("dev", { "nodes.minSize": "0", "checkout.imageTag": "latest", "logs.retentionInDays": "45" }),
        );
        assert.strictEqual(problems.length, 3, problems.join("\n"));
    });

    it("prints one readable message without a stack trace (a RunError)", () => {
        try {
            load("dev", { "checkout.imageTag": "latest" });
            assert.fail("expected a ConfigError");
        } catch (e) {
            const err = e as Error & { __pulumiRunError?: boolean };
            assert.match(
                err.message,
                /^Invalid stack configuration \(1 problem\):\n {2}- checkout-platform:checkout\.imageTag/,
            );
            assert.strictEqual(err.__pulumiRunError, true);
        }
    });
});
