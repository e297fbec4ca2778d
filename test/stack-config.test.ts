// The harness builds config exactly as the Pulumi CLI does (harness/cli-config.ts, from
// pulumi/pulumi v3.259.0). Each fixture under test/fixtures/ pins one rule and names, in its header,
// the CLI source file and lines it follows; the expectations below are what that code yields.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    REPO_ROOT,
    StackFileError,
    listStacks,
    readProject,
    stackConfig,
    stackConfigFromText,
} from "../harness/stack-config";
import { parsePropertyPath } from "../harness/cli-config";

const FIXTURES = path.join(REPO_ROOT, "test", "fixtures");
const root = path.join(FIXTURES, "cli-config");

/** The defaults of the fixture project's `app` object, as the program receives them. */
const APP_DEFAULTS = { enabled: true, labels: {}, port: 8080, replicas: 2, zones: ["a"] };
const app = (fields: Record<string, unknown>) =>
    JSON.stringify(
        Object.fromEntries(Object.entries({ ...APP_DEFAULTS, ...fields }).sort(([a], [b]) => (a < b ? -1 : 1))),
    );

const errorOf = (fn: () => unknown): string => {
    try {
        fn();
    } catch (e) {
        assert.ok(e instanceof StackFileError, `expected a StackFileError, got ${String(e)}`);
        return e.message;
    }
    return assert.fail("expected the CLI to reject the stack");
};

describe("harness: stack config as the Pulumi CLI builds it (v3.259.0)", () => {
    it("has a test below for every fixture stack", () => {
        assert.deepStrictEqual(listStacks(root), [
            "bare",
            "dupe",
            "empty",
            "flat",
            "lenient",
            "missing",
            "null-field",
            "objects",
            "scalar-root",
            "scalars",
            "secret",
            "wrong-type",
        ]);
    });

    it("renders scalars as the CLI does: numbers and booleans as JSON text, yaml.v3's resolution", () => {
        const { config, warnings } = stackConfig("scalars", { root });
        assert.deepStrictEqual(
            Object.fromEntries(
                Object.entries(config).filter(
                    ([k]) => !["fixture:app", "fixture:extra", "fixture:region", "aws:region"].includes(k),
                ),
            ),
            {
                "fixture:big": "18446744073709551615",
                "fixture:block": "two\nlines\n",
                "fixture:date": "2024-01-02 00:00:00 +0000 UTC",
                "fixture:dot": "0.5",
                "fixture:exp": "1000",
                "fixture:float": "1.1",
                "fixture:hex": "31",
                "fixture:nine": "9",
                "fixture:octal": "10",
                "fixture:quoted": "0012",
                "fixture:true": "true",
                "fixture:underscore": "1000",
                "fixture:whole": "2",
                "fixture:yes": "yes",
            },
        );
        assert.deepStrictEqual(warnings, []);
    });

    it('passes an empty value as "" with the CLI\'s warning', () => {
        const { config, warnings } = stackConfig("empty", { root });
        assert.strictEqual(config["fixture:nothing"], "");
        assert.strictEqual(config["fixture:tilde"], "");
        assert.deepStrictEqual(warnings, [
            'No value for configuration keys "fixture:nothing" and "fixture:tilde". This is currently treated as an empty string `""`, ' +
                'but will be treated as `null` in a future version of pulumi.\nSet the values to `""` to avoid this warning.',
        ]);
    });

    it("passes maps as compact JSON with sorted keys, with the declared defaults set by path", () => {
        const { config } = stackConfig("objects", { root });
        assert.strictEqual(
            config["fixture:app"],
            app({ name: "svc", zones: ["b", "c"], labels: { cost: 1.5, team: "a\u0026b" } }).replace(
                "a&b",
                "a\\u0026b",
            ),
        );
        assert.strictEqual(config["fixture:other"], '{"a":[true,null],"z":1}');
        assert.strictEqual(config["fixture:extra"], '{"level":1}', "a default creates the object it is a path into");
    });

    it("coerces a numeric string default into a number when it sets it by path", () => {
        // The one surprise of defaults by path: app.port is declared a string with default "8080".
        assert.match(stackConfig("objects", { root }).config["fixture:app"], /"port":8080[,}]/);
    });

    it("namespaces bare keys, reads the old <ns>:config:<name> form, and applies Pulumi.yaml `value:`", () => {
        const { config } = stackConfig("bare", { root });
        assert.strictEqual(config["fixture:app"], app({ name: "svc" }));
        assert.strictEqual(config["fixture:region"], "us");
        assert.strictEqual(config["aws:region"], "us-east-1");
        assert.deepStrictEqual(Object.keys(config).sort(), [
            "aws:region",
            "fixture:app",
            "fixture:extra",
            "fixture:region",
        ]);
    });

    it("rejects a missing required key with the CLI's message", () => {
        assert.strictEqual(
            errorOf(() => stackConfig("missing", { root })),
            "validating stack config: Stack 'missing' is missing configuration value 'app.name'",
        );
    });

    it("does not read a literal dotted key as the declared path", () => {
        assert.strictEqual(
            errorOf(() => stackConfig("flat", { root })),
            "validating stack config: Stack 'flat' is missing configuration value 'app.name'",
        );
    });

    it("replaces a scalar with the defaults when it sets a default by path into it", () => {
        assert.strictEqual(stackConfig("scalar-root", { root }).config["fixture:extra"], '{"level":1}');
    });

    it("rejects the first wrong type, in sorted key order, with the CLI's message", () => {
        assert.strictEqual(
            errorOf(() => stackConfig("wrong-type", { root })),
            "validating stack config: Stack 'wrong-type' with configuration key 'app.replicas' must be of type 'integer'",
        );
        const text = fs
            .readFileSync(path.join(root, "Pulumi.wrong-type.yaml"), "utf8")
            .replace("replicas: three", "replicas: 3");
        assert.strictEqual(
            errorOf(() => stackConfigFromText(readProject(root), "wrong-type", text)),
            "validating stack config: Stack 'wrong-type' with configuration key 'app.zones' must be of type 'array<string>'",
        );
    });

    it("accepts what the CLI's type check accepts, and passes it on as written", () => {
        assert.strictEqual(
            stackConfig("lenient", { root }).config["fixture:app"],
            app({ name: 1.3, replicas: "3", enabled: "false" }),
        );
    });

    it("rejects an empty field inside a map as a wrong type (found, null, so no default)", () => {
        assert.strictEqual(
            errorOf(() => stackConfig("null-field", { root })),
            "validating stack config: Stack 'null-field' with configuration key 'app.replicas' must be of type 'integer'",
        );
    });

    it("marks a key holding a secure value as secret and passes a placeholder", () => {
        const { config, secretKeys } = stackConfig("secret", { root });
        assert.deepStrictEqual(secretKeys, ["fixture:app", "fixture:password"]);
        assert.strictEqual(config["fixture:password"], "[secret]");
        assert.match(config["fixture:app"], /"labels":\{"token":"\[secret\]"\}/);
        const decrypted = stackConfig("secret", { root, decrypt: (c) => `plain(${c})` }).config;
        assert.strictEqual(decrypted["fixture:password"], "plain(v1:BBBB)");
    });

    it("rejects a plaintext value for a key Pulumi.yaml declares secret (config.go 128-134)", () => {
        const project = { name: "fixture", config: { "db.password": { type: "string", secret: true } } };
        assert.strictEqual(
            errorOf(() => stackConfigFromText(project, "s", "config:\n  fixture:db:\n    password: hunter2\n")),
            "validating stack config: Stack 's' with configuration key 'db.password' must be encrypted as it's secret",
        );
        const ok = stackConfigFromText(project, "s", "config:\n  fixture:db:\n    password:\n      secure: v1:AAAA\n");
        assert.deepStrictEqual(ok.secretKeys, ["fixture:db"]);
    });

    it("rejects a key defined twice with yaml.v3's message", () => {
        assert.strictEqual(
            errorOf(() => stackConfig("dupe", { root })),
            'Pulumi.dupe.yaml: yaml: unmarshal errors:\n  line 5: mapping key "name" already defined at line 4',
        );
    });

    it("applies overrides as `pulumi config set --path` would (coercing digits and booleans)", () => {
        const set = (overrides: Record<string, unknown>) => stackConfig("bare", { root, overrides });
        assert.strictEqual(
            set({ "app.replicas": "5", "app.enabled": "false", "app.name": "007", "app.zones[0]": "z" }).config[
                "fixture:app"
            ],
            app({ name: "007", replicas: 5, enabled: false, zones: ["z"] }),
        );
        // config/object.go 267-277 and 313-327: index 1 of a list that does not exist yet makes
        // [null, "z"], which is then found (so no default) and fails the type check.
        assert.strictEqual(
            errorOf(() => set({ "app.zones[1]": "z" })),
            "validating stack config: Stack 'bare' with configuration key 'app.zones' must be of type 'array<string>'",
        );
        assert.strictEqual(
            errorOf(() => set({ "app.name": undefined })),
            "validating stack config: Stack 'bare' is missing configuration value 'app.name'",
        );
    });

    it("rejects a default of the wrong type in Pulumi.yaml with the CLI's message", () => {
        const project = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8").replace("default: 2", "default: two");
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-config-"));
        try {
            fs.writeFileSync(path.join(tmp, "Pulumi.yaml"), project);
            assert.throws(
                () => readProject(tmp),
                (e: Error) =>
                    e.message ===
                    "could not unmarshal 'Pulumi.yaml': The default value specified for configuration key 'app.replicas' is not of the expected type 'integer'",
            );
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("parses property paths as the CLI does", () => {
        assert.deepStrictEqual(parsePropertyPath("checkout.egress[0].port"), ["checkout", "egress", 0, "port"]);
        assert.deepStrictEqual(parsePropertyPath('a["b.c"].d'), ["a", "b.c", "d"]);
        assert.deepStrictEqual(parsePropertyPath("foo-bar"), ["foo-bar"]);
        assert.throws(() => parsePropertyPath("a.[0]"), /expected property name after '.'/);
    });
});

describe("harness: the repository's own stack files", () => {
    const legacy = path.join(FIXTURES, "legacy");

    it("rejects the pre-migration stack files (flat dotted keys) with the CLI's own message", () => {
        // test/fixtures/legacy holds Pulumi.yaml and the stack files as they were before the
        // config became one map per area. The CLI read each declared key as a path and found none.
        for (const stack of ["dev", "prod"])
            assert.strictEqual(
                errorOf(() => stackConfig(stack, { root: legacy })),
                `validating stack config: Stack '${stack}' is missing configuration values 'certManager.acmeEmail', 'checkout.imageTag', 'cluster.adminRoleArn' and 'cluster.name'`,
            );
        // ...and the old dev file fails the same way against today's Pulumi.yaml.
        assert.strictEqual(
            errorOf(() =>
                stackConfigFromText(
                    readProject(),
                    "dev",
                    fs.readFileSync(path.join(legacy, "Pulumi.dev.yaml"), "utf8"),
                ),
            ),
            "validating stack config: Stack 'dev' is missing configuration values 'certManager.acmeEmail', 'checkout.imageTag', 'cluster.bootstrapRoleArn', 'cluster.deployRoleArn', 'cluster.name', 'externalSecrets.secretPrefix' and 'telemetry.alertEmails'",
        );
    });

    it("accepts today's stack files, every declared field present in what the program receives", () => {
        for (const stack of listStacks()) {
            const { config, warnings } = stackConfig(stack);
            assert.deepStrictEqual(warnings, [], stack);
            const cluster = JSON.parse(config["checkout-platform:cluster"]) as Record<string, unknown>;
            assert.deepStrictEqual(Object.keys(cluster).sort(), [
                "adminRoleArns",
                "bootstrapRoleArn",
                "deletionProtection",
                "deployRoleArn",
                "endpointPublicAccess",
                "logTypes",
                "name",
                "previewRoleArn",
                "privateAccessCidrs",
                "privateAccessSecurityGroupIds",
                "publicAccessCidrs",
                "upgradePolicy",
            ]);
            assert.strictEqual(
                cluster.upgradePolicy,
                "STANDARD",
                "the default, set by path into the stack's own cluster map",
            );
        }
    });
});
