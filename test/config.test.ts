import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { inferFullTypeName } from "../harness/cli-config";
import { REPO_ROOT, StackFileError, readProject, stackConfigFromText } from "../harness/stack-config";
import { ConfigError, LoadedConfig, OTHER_NAMESPACES, PlatformConfig, loadConfig } from "../stacks/config";
import { AREAS, DECLARED_KEYS, DeclaredKey } from "../stacks/schema";
import { closest, distance } from "../stacks/suggest";
import { runProgram } from "../harness/engine";
import { stackRun } from "./shared-runs";

const PROJECT = "checkout-platform";
const FORTY_ONE_CIDRS = Array.from({ length: 41 }, (_, i) => `198.51.100.${i}/32`);
const stackText = (stack: string) => fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8");

/**
 * What `pulumi preview` does with a stack file's text: the CLI's config code (harness), then the
 * program's loader with the same text as its stack file. Throws the CLI's StackFileError or the
 * loader's ConfigError.
 */
function run(stack: string, text: string, overrides?: Record<string, unknown>): LoadedConfig {
    const { config } = stackConfigFromText(readProject(), stack, text, { overrides });
    return loadConfig({ project: PROJECT, stack, config, stackFile: { name: `Pulumi.${stack}.yaml`, text } });
}
const load = (stack: string, overrides?: Record<string, unknown>): PlatformConfig =>
    run(stack, stackText(stack), overrides).config;

/** Every message a run produced: the CLI's one, or the loader's list. */
function problemsOf(fn: () => unknown): readonly string[] {
    try {
        fn();
    } catch (e) {
        if (e instanceof StackFileError) return [e.message];
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        return e.problems;
    }
    return assert.fail("expected the config to be rejected");
}

const cli = (stack: string, message: string) => `validating stack config: Stack '${stack}' ${message}`;

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
        assert.deepStrictEqual(c.edge, {
            zones: [{ id: "Z0123456789KLMNOPQRST", name: "dev.example.com" }],
            issuer: "staging",
            externalDnsPolicy: "sync",
            txtOwnerId: "checkout-dev",
        });
        assert.strictEqual(c.checkout.hostname, "checkout.dev.example.com");
        assert.deepStrictEqual(c.telemetry.alertEmails, ["platform-oncall@example.com"]);
        assert.strictEqual(c.logs.retentionInDays, 30);
        assert.strictEqual(c.checkout.imageTag, "1.4.2");
    });

    it("prod loads with its overrides and the production-safe defaults", () => {
        const c = load("prod");
        assert.strictEqual(c.network.mode === "create" && c.network.natGateways, "onePerAz");
        assert.strictEqual(c.cluster.api.endpointPublicAccess, false);
        assert.deepStrictEqual(c.cluster.api.privateAccessCidrs, ["10.0.0.0/16"]);
        assert.strictEqual(c.cluster.logTypes.length, 5);
        assert.strictEqual(c.logs.retentionInDays, 365);
        assert.deepStrictEqual(c.edge, {
            zones: [{ id: "Z0123456789ABCDEFGHIJ", name: "example.com" }],
            issuer: "production",
            externalDnsPolicy: "sync",
            txtOwnerId: "checkout-prod",
        });
        assert.strictEqual(c.checkout.hostname, "checkout.example.com");
        assert.strictEqual(c.checkout.minReplicas, 3);
        assert.strictEqual(c.checkout.egress.length, 2);
    });

    it("returns a deeply frozen object", () => {
        const c = load("dev");
        assert.ok(Object.isFrozen(c) && Object.isFrozen(c.cluster) && Object.isFrozen(c.cluster.logTypes));
        assert.throws(() => ((c.nodes as { minSize: number }).minSize = 9));
    });

    it("warns about every example value, naming the key and its line", () => {
        assert.deepStrictEqual(run("dev", stackText("dev")).warnings, [
            'Pulumi.dev.yaml:47: checkout-platform:certManager.acmeEmail holds an example value, a documentation domain (RFC 2606): "platform-team@example.com". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:55: checkout-platform:checkout.hostname holds an example value, a documentation domain (RFC 2606): "checkout.dev.example.com". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:9: checkout-platform:cluster.adminRoleArns holds an example value, an AWS documentation account id: "arn:aws:iam::111111111111:role/platform-admin". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:12: checkout-platform:cluster.bootstrapRoleArn holds an example value, an AWS documentation account id: "arn:aws:iam::111111111111:role/platform-admin". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:10: checkout-platform:cluster.deployRoleArn holds an example value, an AWS documentation account id: "arn:aws:iam::111111111111:role/platform-deploy". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:11: checkout-platform:cluster.previewRoleArn holds an example value, an AWS documentation account id: "arn:aws:iam::111111111111:role/platform-preview". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:15: checkout-platform:cluster.publicAccessCidrs holds an example value, a documentation address range (RFC 5737): "203.0.113.0/24". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:50: checkout-platform:edge.zones holds an example value, this repository\'s placeholder Route53 zone ids: "Z0123456789KLMNOPQRST". Replace it before the first `pulumi up`.',
            'Pulumi.dev.yaml:68: checkout-platform:telemetry.alertEmails holds an example value, a documentation domain (RFC 2606): "platform-oncall@example.com". Replace it before the first `pulumi up`.',
        ]);
        const real = stackText("prod")
            .replaceAll("222222222222", "409876543210")
            .replace("Z0123456789ABCDEFGHIJ", "Z08172635ABCDEFXYZ")
            .replaceAll("example.com", "acme.io");
        assert.deepStrictEqual(run("prod", real).warnings, [], "real values draw no warning");
        assert.deepStrictEqual(
            run(
                "prod",
                real.replace("aws:region: eu-west-1", "aws:region: eu-west-1\n  aws:allowedAccountIds: [123456789012]"),
            ).warnings,
            [
                'Pulumi.prod.yaml:4: aws:allowedAccountIds holds an example value, an AWS documentation account id: "123456789012". Replace it before the first `pulumi up`.',
            ],
            "in any key",
        );
    });
});

// ---- Every key: a typo, a wrong namespace, an empty value, a wrong type ----

/** The dev stack file with one edit; `marker` is replaced by `raw` in the text (a value exactly as written). */
function devWith(edit: (doc: YAML.Document) => void, marker?: string, raw?: string): string {
    const doc = YAML.parseDocument(stackText("dev"));
    edit(doc);
    const text = doc.toString({ lineWidth: 0 });
    return marker === undefined ? text : text.replace(new RegExp(`( ?)${marker}`), raw === "" ? "" : `$1${raw}`);
}
/** 1-based line of the first line containing `needle`. */
const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;

const areaPath = (k: DeclaredKey) => (k.area ? [`${PROJECT}:${k.area}`, k.field] : [`${PROJECT}:${k.field}`]);
function valueIn(doc: YAML.Document, k: DeclaredKey): unknown {
    const v = doc.getIn(["config", ...areaPath(k)]);
    return YAML.isNode(v) ? v.toJSON() : (v ?? k.spec.default);
}
const WRONG: Record<string, string> = { integer: "three", boolean: "maybe", array: "not-a-list", object: "[a]" };

describe("config: every key rejects a typo, a wrong namespace, an empty value and a wrong type", () => {
    for (const k of DECLARED_KEYS) {
        const type = inferFullTypeName(k.spec.type, k.spec.items ? { type: k.spec.items } : undefined);
        const typo = k.field.slice(0, -1);

        it(`${k.path}: typo ${typo}`, () => {
            let text: string;
            let expected: string;
            if (k.area) {
                text = devWith((doc) => {
                    const value = valueIn(doc, k);
                    if (!doc.hasIn(["config", `${PROJECT}:${k.area}`]))
                        doc.setIn(["config", `${PROJECT}:${k.area}`], doc.createNode({}));
                    doc.deleteIn(["config", ...areaPath(k)]);
                    doc.setIn(["config", `${PROJECT}:${k.area}`, typo], value);
                });
                expected =
                    k.spec.default === undefined
                        ? cli("dev", `is missing configuration value '${k.path}'`)
                        : `Pulumi.dev.yaml:${lineOf(text, `    ${typo}:`)}: ${PROJECT}:${k.area}.${typo} is not a field of ${PROJECT}:${k.area}; did you mean ${PROJECT}:${k.path}?`;
            } else {
                text = devWith((doc) => doc.setIn(["config", `${PROJECT}:${typo}`], k.spec.default));
                expected = `Pulumi.dev.yaml:${lineOf(text, `${PROJECT}:${typo}:`)}: ${PROJECT}:${typo} is not a configuration key of this program; did you mean ${PROJECT}:${k.path}?`;
            }
            // The misspelt field's value is not used, so a rule between keys may also fail on the
            // default now in its place (dev without its endpointPublicAccess: true, say).
            assert.strictEqual(problemsOf(() => run("dev", text))[0], expected);
        });

        it(`${k.path}: wrong namespace`, () => {
            const written = k.area ? `${k.area}:${k.field}` : `checkout-platfrom:${k.field}`;
            const text = devWith((doc) => doc.setIn(["config", written], valueIn(doc, k)));
            const hint = k.area
                ? `${PROJECT}:${k.path} (the field ${k.field} of ${PROJECT}:${k.area})`
                : `${PROJECT}:${k.path}`;
            assert.deepStrictEqual(
                problemsOf(() => run("dev", text)),
                [
                    `Pulumi.dev.yaml:${lineOf(text, `${written}:`)}: ${written} is in a namespace nothing reads; did you mean ${hint}?`,
                ],
            );
        });

        it(`${k.path}: empty value`, () => {
            const text = devWith((doc) => doc.setIn(["config", ...areaPath(k)], "__EMPTY__"), " __EMPTY__", "");
            assert.match(text, new RegExp(`${k.field}:\\n`));
            assert.deepStrictEqual(
                problemsOf(() => run("dev", text)),
                [cli("dev", `with configuration key '${k.path}' must be of type '${type}'`)],
            );
        });

        it(`${k.path}: wrong type`, () => {
            const raw = k.spec.type === "string" ? "1.30" : WRONG[k.spec.type];
            const text = devWith((doc) => doc.setIn(["config", ...areaPath(k)], "__WRONG__"), "__WRONG__", raw);
            const expected =
                k.spec.type === "string"
                    ? `Pulumi.dev.yaml:${lineOf(text, `${k.field}: 1.30`)}: ${PROJECT}:${k.path} must be a string: quote it in the stack file (unquoted, YAML reads it as a number, and 1.3 is what arrives); got 1.30`
                    : cli("dev", `with configuration key '${k.path}' must be of type '${type}'`);
            assert.deepStrictEqual(
                problemsOf(() => run("dev", text)),
                [expected],
            );
        });
    }
});

describe("config: keys, areas and namespaces no part of the program reads", () => {
    it("a flat dotted key (pulumi config set without --path) is named as such", () => {
        const text = stackText("dev").replace("config:\n", "config:\n  checkout-platform:checkout.imageTag: 1.4.3\n");
        assert.deepStrictEqual(
            problemsOf(() => run("dev", text)),
            [
                "Pulumi.dev.yaml:3: checkout-platform:checkout.imageTag is a key with a dot in its name, which the Pulumi CLI does not read as the declared path checkout.imageTag: " +
                    "this value is not used. Move it into checkout-platform:checkout (pulumi config rm checkout.imageTag && pulumi config set --path checkout.imageTag <value>)",
            ],
        );
    });

    it("a field placed in the wrong area points at the right one", () => {
        const text = stackText("dev").replace(
            "    deletionProtection: false\n",
            "    deletionProtection: false\n    minSize: 2\n",
        );
        assert.deepStrictEqual(
            problemsOf(() => run("dev", text)),
            [
                `Pulumi.dev.yaml:${lineOf(text, "    minSize: 2")}: checkout-platform:cluster.minSize is not a field of checkout-platform:cluster; did you mean checkout-platform:nodes.minSize?`,
            ],
        );
    });

    it("an unknown key far from every known one lists the keys", () => {
        assert.deepStrictEqual(
            problemsOf(() => run("dev", stackText("dev"), { database: "x" })),
            [
                "checkout-platform:database is not a configuration key of this program (keys: tags, network, cluster, nodes, karpenter, externalSecrets, vpa, registry, logs, certManager, edge, checkout, telemetry)",
            ],
        );
    });

    it("an unknown namespace far from the project lists the namespaces it reads", () => {
        assert.deepStrictEqual(
            problemsOf(() => run("dev", stackText("dev"), { "gcp:project": "x" })),
            [
                "gcp:project is in a namespace nothing reads (this program reads checkout-platform:, pulumi:, aws:, awsx:, eks:, kubernetes:)",
            ],
        );
    });

    it("lets the namespaces of the engine and of the program's packages through", () => {
        assert.deepStrictEqual(Object.keys(OTHER_NAMESPACES), ["pulumi", "aws", "awsx", "eks", "kubernetes"]);
        const overrides = Object.fromEntries(Object.keys(OTHER_NAMESPACES).map((ns) => [`${ns}:someSetting`, "x"]));
        assert.doesNotThrow(() => run("dev", stackText("dev"), overrides));
    });

    it("an empty area, which the CLI silently fills with defaults, is an error", () => {
        const text = stackText("dev").replace(/  checkout-platform:logs:\n(    .*\n)+/, "  checkout-platform:logs:\n");
        assert.deepStrictEqual(
            problemsOf(() => run("dev", text)),
            [
                `Pulumi.dev.yaml:${lineOf(text, "checkout-platform:logs:")}: checkout-platform:logs is empty: give it the logs fields to set, or remove it`,
            ],
        );
    });

    it("a scalar where an area belongs, which the CLI silently replaces with defaults, is an error", () => {
        const text = stackText("dev").replace(
            /  checkout-platform:logs:\n(    .*\n)+/,
            "  checkout-platform:logs: 30\n",
        );
        assert.deepStrictEqual(
            problemsOf(() => run("dev", text)),
            [
                `Pulumi.dev.yaml:${lineOf(text, "checkout-platform:logs:")}: checkout-platform:logs must be a map of logs fields; got 30`,
            ],
        );
    });

    it("suggests by edit distance, case-insensitively, and only what is close", () => {
        assert.strictEqual(distance("deletionProtecton", "deletionProtection"), 1);
        assert.strictEqual(
            closest("DELETIONPROTECTON", ["deletionProtection", "endpointPublicAccess"]),
            "deletionProtection",
        );
        assert.strictEqual(closest("minReplica", ["maxReplicas", "minReplicas"]), "minReplicas");
        assert.strictEqual(closest("zone", ["name", "version"]), undefined);
    });
});

describe("config: bad values are rejected with the key, the value as written and what is allowed", () => {
    const ns = PROJECT;
    // An override equal to what the file holds is located there (the value is the file's).
    const at = (needle: string) => `Pulumi.dev.yaml:${lineOf(stackText("dev"), needle)}: `;
    type Case = { what: string; stack?: string; set: Record<string, unknown> } & (
        { error: string } | { errors: string[] }
    );
    const cases: Case[] = [
        {
            what: "missing required key",
            set: { "checkout.imageTag": undefined },
            error: cli("dev", "is missing configuration value 'checkout.imageTag'"),
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
            what: "a word for a whole number",
            set: { "nodes.maxSize": "three" },
            error: cli("dev", "with configuration key 'nodes.maxSize' must be of type 'integer'"),
        },
        { what: "zero count", set: { "nodes.minSize": 0 }, error: `${ns}:nodes.minSize must be >= 2; got 0` },
        {
            what: "negative count",
            set: { "checkout.dbPoolMax": -5 },
            error: `${ns}:checkout.dbPoolMax must be >= 1; got -5`,
        },
        {
            what: "a fraction for a whole number",
            set: { "checkout.dbPoolMax": 2.5 },
            error: cli("dev", "with configuration key 'checkout.dbPoolMax' must be of type 'integer'"),
        },
        {
            what: "min > max (nodes)",
            set: { "nodes.minSize": 3, "nodes.desiredSize": 3, "nodes.maxSize": 2 },
            error: `${ns}:nodes.maxSize must be >= nodes.desiredSize (3); got 2`,
        },
        {
            what: "desired < min",
            set: { "nodes.minSize": 3, "nodes.desiredSize": 2, "nodes.maxSize": 4 },
            error: `${at("desiredSize:")}${ns}:nodes.desiredSize must be >= nodes.minSize (3); got 2`,
        },
        {
            what: "HPA max not above min",
            set: { "checkout.minReplicas": 4, "checkout.maxReplicas": 4 },
            error: `${at("maxReplicas:")}${ns}:checkout.maxReplicas must be > checkout.minReplicas (4) so the HPA can scale; got 4`,
        },
        {
            what: "HPA min below 2",
            set: { "checkout.minReplicas": 1 },
            error: `${ns}:checkout.minReplicas must be >= 2; got 1`,
        },
        {
            what: "retention CloudWatch rejects",
            set: { "logs.retentionInDays": 45 },
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
            what: "malformed CIDR in a list",
            set: { "cluster.publicAccessCidrs": ["203.0.113.0/33"] },
            error: `${ns}:cluster.publicAccessCidrs[0] must be an IPv4 CIDR block such as 10.0.0.0/16; got "203.0.113.0/33"`,
        },
        {
            what: "VPC CIDR too small",
            set: { "network.cidrBlock": "10.0.0.0/24" },
            error: `${ns}:network.cidrBlock must have a prefix length from /16 to /20 (room for a private and a public subnet per AZ); got "10.0.0.0/24"`,
        },
        {
            what: "a list given as one string",
            set: { "nodes.instanceTypes": "m6i.large" },
            error: cli("dev", "with configuration key 'nodes.instanceTypes' must be of type 'array<string>'"),
        },
        {
            what: "an empty list where one is needed",
            set: { "nodes.instanceTypes": [] },
            error: `${ns}:nodes.instanceTypes must list at least one instance type; got []`,
        },
        {
            what: "structured value of the wrong shape",
            set: { "checkout.egress": { name: "postgres" } },
            error: cli("dev", "with configuration key 'checkout.egress' must be of type 'array<object>'"),
        },
        {
            what: "egress entry with a bad port",
            set: { "checkout.egress": [{ name: "postgres", cidr: "10.0.0.0/16", port: 70000 }] },
            error: `${ns}:checkout.egress[0].port must be <= 65535; got 70000`,
        },
        {
            what: "egress entry without its cidr",
            set: { "checkout.egress": [{ name: "postgres", port: 5432 }] },
            error: `${ns}:checkout.egress[0].cidr is required`,
        },
        {
            what: "egress entry with a misspelt field",
            set: { "checkout.egress": [{ name: "pg", cidr: "10.0.0.0/16", port: 5432, protocl: "UDP" }] },
            error: `${ns}:checkout.egress[0].protocl is not a field of a checkout.egress entry; did you mean protocol?`,
        },
        {
            what: "egress entry with an unknown field",
            set: { "checkout.egress": [{ name: "pg", cidr: "10.0.0.0/16", port: 5432, host: "db" }] },
            error: `${ns}:checkout.egress[0].host is not a field of a checkout.egress entry (fields: name, cidr, port, protocol)`,
        },
        {
            what: "enum value",
            set: { "network.natGateways": "two" },
            error: `${ns}:network.natGateways must be one of single, onePerAz; got "two"`,
        },
        {
            what: "unknown log type",
            set: { "cluster.logTypes": ["api", "audits"] },
            error: `${ns}:cluster.logTypes[1] must be one of api, audit, authenticator, controllerManager, scheduler; got "audits"`,
        },
        {
            what: "admin role not an ARN",
            set: { "cluster.adminRoleArns": ["platform-admin"] },
            error: `${ns}:cluster.adminRoleArns[0] must be an IAM role ARN such as arn:aws:iam::123456789012:role/platform-admin; got "platform-admin"`,
        },
        {
            what: "deploy role missing",
            set: { "cluster.deployRoleArn": undefined },
            error: "validating stack config: Stack 'dev' is missing configuration value 'cluster.deployRoleArn'",
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
            error: `${ns}:cluster.previewRoleArn repeats a role already in cluster.deployRoleArn: EKS allows one access entry per principal (the second fails with 409); give each role one place; got "arn:aws:iam::111111111111:role/platform-deploy"`,
        },
        {
            what: "an admin role listed twice",
            set: {
                "cluster.adminRoleArns": [
                    "arn:aws:iam::111111111111:role/platform-admin",
                    "arn:aws:iam::111111111111:role/platform-admin",
                ],
            },
            error: `${ns}:cluster.adminRoleArns repeats a role already in cluster.adminRoleArns: EKS allows one access entry per principal (the second fails with 409); give each role one place; got "arn:aws:iam::111111111111:role/platform-admin"`,
        },
        {
            // pulumi-eks#1134: with the public endpoint off nothing else can reach the API.
            what: "private endpoint with no runner path",
            stack: "prod",
            set: { "cluster.privateAccessCidrs": [] },
            error: `${ns}:cluster.privateAccessCidrs or cluster.privateAccessSecurityGroupIds must name where \`pulumi up\` and \`preview\` run inside the VPC (or a connected network) when cluster.endpointPublicAccess is false: nothing else can reach a private endpoint; got []`,
        },
        {
            what: "a public range as a private-endpoint source",
            stack: "prod",
            set: { "cluster.privateAccessCidrs": ["198.51.100.0/24"] },
            error: `${ns}:cluster.privateAccessCidrs[0] must be inside the VPC or a connected private network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10); got "198.51.100.0/24"`,
        },
        {
            what: "a runner security group that is not an id",
            stack: "prod",
            set: { "cluster.privateAccessSecurityGroupIds": ["runner"] },
            error: `${ns}:cluster.privateAccessSecurityGroupIds[0] must be a security group id such as sg-0123456789abcdef0; got "runner"`,
        },
        {
            what: "more public CIDRs than EKS accepts",
            set: {
                "cluster.publicAccessCidrs": FORTY_ONE_CIDRS,
            },
            error: `${ns}:cluster.publicAccessCidrs must list at most 40 CIDRs (the EKS limit per cluster); got ${JSON.stringify(FORTY_ONE_CIDRS)}`,
        },
        {
            what: "public endpoint without CIDRs",
            set: { "cluster.publicAccessCidrs": [] },
            error: `${ns}:cluster.publicAccessCidrs must list the CIDRs allowed to reach the public API endpoint when cluster.endpointPublicAccess is true (there is no implicit 0.0.0.0/0); got []`,
        },
        {
            what: "CIDRs with a private endpoint",
            stack: "prod",
            set: { "cluster.publicAccessCidrs": ["10.1.0.0/16"] },
            error: `${ns}:cluster.publicAccessCidrs must be empty when cluster.endpointPublicAccess is false (the endpoint is private); got ["10.1.0.0/16"]`,
        },
        {
            what: "existing VPC without id",
            set: {
                "network.mode": "existing",
                "network.privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            },
            error: `${ns}:network.vpcId is required when network.mode is existing; got ""`,
        },
        {
            what: "existing VPC with one subnet",
            set: {
                "network.mode": "existing",
                "network.vpcId": "vpc-0123456789abcdef0",
                "network.privateSubnetIds": ["subnet-0123456789abcdef0"],
            },
            error: `${ns}:network.privateSubnetIds must list at least 2 private subnets (in different AZs) when network.mode is existing; got ["subnet-0123456789abcdef0"]`,
        },
        {
            what: "VPC id with created VPC",
            set: { "network.vpcId": "vpc-0123456789abcdef0" },
            error: `${ns}:network.vpcId is only used when network.mode is existing (network.mode is create); got "vpc-0123456789abcdef0"`,
        },
        {
            what: "hostname outside every zone",
            set: { "checkout.hostname": "checkout.example.org" },
            error: `${ns}:checkout.hostname must be inside one of edge.zones (dev.example.com): its certificate and DNS record are made there; got "checkout.example.org"`,
        },
        {
            what: "hostname in a parent domain of the zone",
            set: { "checkout.hostname": "checkout.example.com" },
            error: `${ns}:checkout.hostname must be inside one of edge.zones (dev.example.com): its certificate and DNS record are made there; got "checkout.example.com"`,
        },
        {
            what: "zones without a hostname",
            set: { "checkout.hostname": undefined },
            error: `${ns}:checkout.hostname is required when edge.zones lists a zone (dev.example.com): the Gateway serves checkout at it; got ""`,
        },
        {
            what: "hostname without zones",
            set: { "edge.zones": [] },
            error: `${at("hostname:")}${ns}:checkout.hostname is only used with an edge, and edge.zones is empty (no Gateway): remove it or list its zone in edge.zones; got checkout.dev.example.com`,
        },
        {
            what: "wildcard hostname",
            set: { "checkout.hostname": "*.dev.example.com" },
            error: `${ns}:checkout.hostname is a wildcard: give the one host name checkout is served at, such as checkout.example.com; got "*.dev.example.com"`,
        },
        {
            what: "hostname in upper case",
            set: { "checkout.hostname": "Checkout.dev.example.com" },
            error: `${ns}:checkout.hostname is not a lowercase DNS name (letters, digits, '-', optional leading '*.'): give the one host name checkout is served at, such as checkout.example.com; got "Checkout.dev.example.com"`,
        },
        {
            what: "zone id with the /hostedzone/ prefix",
            set: { "edge.zones": [{ id: "/hostedzone/Z0123456789KLMNOPQRST", name: "dev.example.com" }] },
            error: `${ns}:edge.zones[0].id is not a Route53 zone id (Z followed by A-Z0-9); got "/hostedzone/Z0123456789KLMNOPQRST"`,
        },
        {
            what: "zone name with a trailing dot",
            set: { "edge.zones": [{ id: "Z0123456789KLMNOPQRST", name: "dev.example.com." }] },
            error: `${ns}:edge.zones[0].name is not a lowercase domain name without a trailing dot; got "dev.example.com."`,
        },
        {
            what: "zone without its id",
            set: { "edge.zones": [{ name: "dev.example.com" }] },
            error: `${ns}:edge.zones[0].id is required`,
        },
        {
            what: "zone listed twice",
            set: {
                "edge.zones": [
                    { id: "Z0123456789KLMNOPQRST", name: "dev.example.com" },
                    { id: "Z0123456789KLMNOPQRST", name: "shop.example.com" },
                ],
            },
            error: `${ns}:edge.zones[1].id repeats the id of edge.zones[0]: list each zone once; got "Z0123456789KLMNOPQRST"`,
        },
        {
            what: "zone entry with a misspelt field",
            set: { "edge.zones": [{ id: "Z0123456789KLMNOPQRST", nme: "dev.example.com" }] },
            errors: [
                `${ns}:edge.zones[0].name is required`,
                `${ns}:edge.zones[0].nme is not a field of a edge.zones entry; did you mean name?`,
            ],
        },
        {
            what: "issuer",
            set: { "edge.issuer": "letsencrypt-staging" },
            error: `${ns}:edge.issuer must be one of staging, production; got "letsencrypt-staging"`,
        },
        {
            what: "ExternalDNS policy",
            set: { "edge.externalDnsPolicy": "create-only" },
            error: `${ns}:edge.externalDnsPolicy must be one of sync, upsert-only; got "create-only"`,
        },
        {
            what: "cluster name too long to be ExternalDNS's owner id",
            set: { "cluster.name": `checkout-${"x".repeat(55)}` },
            error: `${ns}:cluster.name must be at most 63 characters when edge.zones lists a zone: it is ExternalDNS's txtOwnerId, the owner of the stack's DNS records; got "checkout-${"x".repeat(55)}"`,
        },
        {
            what: "alert email",
            set: { "telemetry.alertEmails": ["oncall"] },
            error: `${ns}:telemetry.alertEmails[0] must be an email address; got "oncall"`,
        },
        {
            what: "no alert email",
            set: { "telemetry.alertEmails": [] },
            error: `${ns}:telemetry.alertEmails must list at least one email address (the SLO alerts go there); got []`,
        },
        {
            what: "database secret outside the stack's prefix",
            set: { "checkout.databaseSecret": "checkout-prod/orders-db" },
            error: `${ns}:checkout.databaseSecret must be under externalSecrets.secretPrefix (checkout-dev/...): the stack may read no other secret; got "checkout-prod/orders-db"`,
        },
        {
            what: "database secret named by ARN",
            set: { "checkout.databaseSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x" },
            error: `${ns}:checkout.databaseSecret must be a Secrets Manager secret name such as checkout-prod/orders-db, or ""; got "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"`,
        },
        {
            what: "secret prefix with a wildcard",
            set: { "externalSecrets.secretPrefix": "checkout-*" },
            error: `${ns}:externalSecrets.secretPrefix must be one or more '/'-separated segments of letters, digits and _+=.@- (no wildcard, no leading or trailing '/'); got "checkout-*"`,
        },
        {
            what: "bad capacity type",
            set: { "karpenter.capacityTypes": ["reserved"] },
            error: `${ns}:karpenter.capacityTypes[0] must be one of spot, on-demand; got "reserved"`,
        },
        {
            what: "no capacity type",
            set: { "karpenter.capacityTypes": [] },
            error: `${ns}:karpenter.capacityTypes must list at least one capacity type (spot, on-demand); got []`,
        },
        {
            what: "nodes that never expire",
            set: { "karpenter.expireAfter": "Never" },
            error: `${ns}:karpenter.expireAfter must be a duration such as 720h (never Never: nodes must be replaced to pick up new AMIs); got "Never"`,
        },
        {
            what: "consolidation after a unit the NodePool CRD rejects",
            set: { "karpenter.consolidateAfter": "5d" },
            error: `${ns}:karpenter.consolidateAfter must be a duration such as 10m, or Never; got "5d"`,
        },
        {
            what: "a disruption budget that is neither a count nor a percentage",
            set: { "karpenter.disruptionBudgetNodes": "150%" },
            error: `${ns}:karpenter.disruptionBudgetNodes must be a node count or a percentage such as 10%; got "150%"`,
        },
        {
            what: "an instance category in capitals",
            set: { "karpenter.instanceCategories": ["M"] },
            error: `${ns}:karpenter.instanceCategories[0] must be an EC2 instance category such as c, m or r; got "M"`,
        },
        {
            what: "one system node",
            set: { "nodes.minSize": 1, "nodes.desiredSize": 1 },
            error: `${ns}:nodes.minSize must be >= 2; got 1`,
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
            set: { "checkout.extraEnv": { PAYMENT_API_TOKEN: "hunter2" } },
            error: `${ns}:checkout.extraEnv.PAYMENT_API_TOKEN looks like a secret; secrets must come from a Kubernetes Secret, not a literal in config`,
        },
        {
            what: "extra env overriding a managed one",
            set: { "checkout.extraEnv": { PORT: "9090" } },
            error: `${ns}:checkout.extraEnv.PORT is set by the Deployment itself (from its own key); remove it from extraEnv`,
        },
        {
            what: "extra env with a non-string value",
            set: { "checkout.extraEnv": { FEATURE_X: 3 } },
            error: `${ns}:checkout.extraEnv.FEATURE_X must be a string (quote numbers); got 3`,
        },
        {
            what: "extra env with a bad name",
            set: { "checkout.extraEnv": { "feature-x": "on" } },
            error: `${ns}:checkout.extraEnv.feature-x must be an environment variable name (A-Z, 0-9, _); got "feature-x"`,
        },
        {
            what: "tags not a map",
            set: { tags: ["a", "b"] },
            error: cli("dev", "with configuration key 'tags' must be of type 'object'"),
        },
    ];

    for (const c of cases) {
        it(c.what, () => {
            const problems = problemsOf(() => load(c.stack ?? "dev", c.set));
            assert.deepStrictEqual(problems, "error" in c ? [c.error] : c.errors);
        });
    }

    it("quotes the value as written in the stack file, with its line", () => {
        const text = stackText("dev")
            .replace("minReplicas: 2", "minReplicas: 0_1")
            .replace("imageTag: 1.4.2", "imageTag: 'latest'");
        assert.deepStrictEqual(
            problemsOf(() => run("dev", text)),
            [
                `Pulumi.dev.yaml:${lineOf(text, "imageTag:")}: ${PROJECT}:checkout.imageTag must not be 'latest' (pin the image by tag or sha256 digest); got 'latest'`,
                `Pulumi.dev.yaml:${lineOf(text, "minReplicas:")}: ${PROJECT}:checkout.minReplicas must be >= 2; got 0_1`,
            ],
        );
    });

    it("reports every problem at once, not only the first", () => {
        const problems = problemsOf(() =>
            load("dev", { "nodes.minSize": 0, "checkout.imageTag": "latest", "logs.retentionInDays": 45 }),
        );
        assert.strictEqual(problems.length, 3, problems.join("\n"));
    });

    it("never shows zod's own wording", () => {
        const all = cases.flatMap((c) => problemsOf(() => load(c.stack ?? "dev", c.set)));
        for (const p of all)
            assert.doesNotMatch(
                p,
                /Invalid input|expected \w+, received|Too (small|big)|Unrecognized key|Invalid (string|option|element)/,
                p,
            );
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

describe("config: the schema is the one declaration", () => {
    it("declares areas and keys the way Pulumi.yaml and the stack files use them", () => {
        assert.deepStrictEqual(AREAS, [
            "network",
            "cluster",
            "nodes",
            "karpenter",
            "externalSecrets",
            "vpa",
            "registry",
            "logs",
            "certManager",
            "edge",
            "checkout",
            "telemetry",
        ]);
        for (const k of DECLARED_KEYS) {
            assert.ok(k.spec.description.length > 10, `description of ${k.path}`);
            if (k.spec.type === "array") assert.ok(k.spec.items, `items of ${k.path}`);
            if (k.spec.default !== undefined)
                assert.ok(
                    k.spec.schema.safeParse(k.spec.default).success,
                    `the default of ${k.path} passes its own validation`,
                );
        }
    });

    it("marks exactly the keys the shipped stack files hold example values for", () => {
        const marked = DECLARED_KEYS.filter((k) => k.spec.example).map((k) => `${PROJECT}:${k.path}`);
        const held = new Set(
            ["dev", "prod"].flatMap((s) =>
                run(s, stackText(s)).warnings.map((w) => /(checkout-platform:\S+) holds/.exec(w)![1]),
            ),
        );
        assert.deepStrictEqual([...held].sort(), marked.sort());
    });
});

describe("config: the program itself", () => {
    it("warns through pulumi.log.warn about each example value, on every run", async function () {
        this.timeout(60_000);
        const run = await stackRun("prod");
        assert.deepStrictEqual(
            run.warnings.map((w) => /^(Pulumi\.prod\.yaml:\d+): (\S+) holds an example value/.exec(w)?.slice(1)),
            [
                ["Pulumi.prod.yaml:21", "checkout-platform:certManager.acmeEmail"],
                ["Pulumi.prod.yaml:27", "checkout-platform:checkout.hostname"],
                ["Pulumi.prod.yaml:7", "checkout-platform:cluster.adminRoleArns"],
                ["Pulumi.prod.yaml:10", "checkout-platform:cluster.bootstrapRoleArn"],
                ["Pulumi.prod.yaml:8", "checkout-platform:cluster.deployRoleArn"],
                ["Pulumi.prod.yaml:9", "checkout-platform:cluster.previewRoleArn"],
                ["Pulumi.prod.yaml:24", "checkout-platform:edge.zones"],
                ["Pulumi.prod.yaml:41", "checkout-platform:telemetry.alertEmails"],
            ],
        );
    });

    it("reads what the engine passed: a key set only in the engine's config is rejected too", async function () {
        this.timeout(60_000);
        await assert.rejects(
            runProgram("dev", { overrides: { "checkout.minReplica": 2 } }),
            (e: Error & { problems?: string[] }) =>
                e.name === "ConfigError" &&
                e.problems?.[0] ===
                    "checkout-platform:checkout.minReplica is not a field of checkout-platform:checkout; did you mean checkout-platform:checkout.minReplicas?",
        );
    });
});
