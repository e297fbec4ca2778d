/**
 * renovate.json against the repository: every version pinned in code has a `renovate:` marker that
 * the config's own regex manager reads, so no pin (today's or one added later) rots unseen; every
 * marker names a lookup Renovate can do; and the update groups are the ones the README promises.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");

interface RenovateConfig {
    customManagers?: { customType: string; managerFilePatterns: string[]; matchStrings: string[] }[];
    packageRules?: Record<string, unknown>[];
    minimumReleaseAge?: string;
}

const config = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8")) as RenovateConfig;

/** Renovate's `/regex/` string form as a RegExp. */
function slashRegex(pattern: string): RegExp {
    const m = /^\/(.*)\/(i?)$/.exec(pattern);
    assert.ok(m, `${pattern} is not in /regex/ form`);
    return new RegExp(m[1], m[2]);
}

const regexManager = (config.customManagers ?? []).find((m) => m.customType === "regex");

/** One dependency the regex manager extracts, with the line its value is on. */
interface Extracted {
    readonly file: string;
    readonly line: number;
    readonly markerLine: number;
    readonly datasource: string;
    readonly depName: string;
    readonly packageName?: string;
    readonly registryUrl?: string;
    readonly currentValue: string;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** What Renovate's regex manager extracts from `text`, using renovate.json's own matchStrings. */
function extract(file: string, text: string): Extracted[] {
    assert.ok(regexManager, "renovate.json has no regex custom manager");
    const found: Extracted[] = [];
    for (const source of regexManager.matchStrings) {
        for (const m of text.matchAll(new RegExp(source, "gd"))) {
            const g = m.groups ?? {};
            const at = m.indices?.groups?.currentValue;
            assert.ok(at && g.datasource && g.depName && g.currentValue, `match without its groups in ${file}`);
            found.push({
                file,
                line: lineOf(text, at[0]),
                markerLine: lineOf(text, m.index),
                datasource: g.datasource,
                depName: g.depName,
                packageName: g.packageName,
                registryUrl: g.registryUrl,
                currentValue: g.currentValue,
            });
        }
    }
    return found;
}

/** A string that is a version pin: x.y.z (v-prefix, pre-release/build suffix), or an image ref with one. */
const PIN = /^(?:[\w./-]+:)?v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$|@v\d{8}$/;
/** Names of constants and properties that hold a version, whatever its format. */
const VERSION_NAME = /version$/i;
/**
 * Not pins: the manifest schema field, the IAM policy language version, and an entry of a
 * compatibility table keyed by Kubernetes minor (`"1.36": "1.13.0"`, the oldest release of a
 * component that supports it): a fact about upstream that a bump must be checked against, not a pin.
 */
const NOT_A_PIN = (name: string | undefined, value: string) =>
    name === "apiVersion" || value === "2012-10-17" || (name !== undefined && /^["']1\.\d+["']$/.test(name));

/** Version pins in a TypeScript source: string literals (not comments) that look like, or are named as, versions. */
function tsPins(file: string, text: string): { line: number; value: string }[] {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const pins: { line: number; value: string }[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
            const parent = node.parent;
            const name =
                (ts.isPropertyAssignment(parent) || ts.isVariableDeclaration(parent)) && parent.initializer === node
                    ? parent.name.getText(source)
                    : undefined;
            const value = node.text;
            if (!NOT_A_PIN(name, value) && (PIN.test(value) || (name !== undefined && VERSION_NAME.test(name)))) {
                pins.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, value });
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return pins;
}

/** Version pins in a workflow: `version: <x.y.z>` inputs (tool versions an action installs). */
function yamlPins(text: string): { line: number; value: string }[] {
    return text.split("\n").flatMap((raw, i) => {
        const m = /^\s*(?:-\s+)?[\w-]*version:\s*["']?([^"'\s#]+)/.exec(raw);
        return m && PIN.test(m[1]) ? [{ line: i + 1, value: m[1] }] : [];
    });
}

const DATASOURCES = new Set(["helm", "docker", "aws-eks-addon", "github-releases", "github-tags", "npm"]);

/** Everything wrong with one file's pins and markers (empty when every pin is marked and every marker is usable). */
function checkPins(file: string, text: string): string[] {
    const problems: string[] = [];
    const extracted = extract(file, text);
    const byLine = new Map(extracted.map((e) => [e.line, e]));
    const pins = file.endsWith(".ts") ? tsPins(file, text) : yamlPins(text);
    for (const pin of pins) {
        const e = byLine.get(pin.line);
        if (e === undefined || e.currentValue !== pin.value) {
            problems.push(
                `${file}:${pin.line}: "${pin.value}" is pinned without a renovate marker on the line above ` +
                    "(// renovate: datasource=<helm|docker|aws-eks-addon|github-releases> depName=<name> " +
                    "[packageName=<name>] [registryUrl=<url>])",
            );
        }
    }
    text.split("\n").forEach((raw, i) => {
        if (/renovate:/.test(raw) && !extracted.some((e) => e.markerLine === i + 1)) {
            problems.push(
                `${file}:${i + 1}: renovate marker the regex manager does not read (syntax, or no pin on the next line)`,
            );
        }
    });
    for (const e of extracted) {
        const where = `${file}:${e.markerLine}`;
        if (!DATASOURCES.has(e.datasource)) problems.push(`${where}: unknown datasource ${e.datasource}`);
        if (e.datasource === "helm") {
            if (!/^https:\/\/\S+$/.test(e.registryUrl ?? "")) {
                problems.push(`${where}: a helm marker needs registryUrl=https://<chart repository>`);
            } else if (file.endsWith(".ts") && !text.includes(`"${e.registryUrl}"`)) {
                problems.push(`${where}: registryUrl ${e.registryUrl} is not the chart repository this file uses`);
            }
        }
        if (e.datasource === "aws-eks-addon") {
            let filter: { addonName?: unknown; kubernetesVersion?: unknown } = {};
            try {
                filter = JSON.parse(e.packageName ?? "") as typeof filter;
            } catch {
                problems.push(`${where}: aws-eks-addon packageName must be the JSON filter; got ${e.packageName}`);
            }
            if (filter.addonName !== e.depName) {
                problems.push(`${where}: the filter's addonName must be the depName ${e.depName}`);
            }
            if (typeof filter.kubernetesVersion !== "string" || !/^\d+\.\d+$/.test(filter.kubernetesVersion)) {
                problems.push(`${where}: the filter must name the Kubernetes version the add-on was chosen for`);
            }
            if (!/^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(e.currentValue)) {
                problems.push(`${where}: ${e.currentValue} is not an EKS add-on version (vX.Y.Z-eksbuild.N)`);
            }
        }
    }
    return problems;
}

function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
        const full = path.join(dir, d.name);
        return d.isDirectory() ? filesUnder(full) : [full];
    });
}

describe("renovate.json", () => {
    const patterns = (regexManager?.managerFilePatterns ?? []).map(slashRegex);
    const scanned = [...filesUnder(path.join(ROOT, "components")), ...filesUnder(path.join(ROOT, ".github"))]
        .map((f) => path.relative(ROOT, f).split(path.sep).join("/"))
        .filter((f) => patterns.some((p) => p.test(f)));

    it("scans every component and workflow file with its regex manager", () => {
        assert.ok(scanned.includes("components/cert-manager.ts"), scanned.join(", "));
        assert.ok(scanned.includes(".github/workflows/deploy.yml"), scanned.join(", "));
    });

    it("finds today's pins through the markers, with their values", () => {
        const all = scanned.flatMap((f) => extract(f, fs.readFileSync(path.join(ROOT, f), "utf8")));
        const byDep = Object.fromEntries(all.map((e) => [e.depName, [e.datasource, e.file]]));
        assert.deepEqual(byDep["cert-manager"], ["helm", "components/cert-manager.ts"]);
        assert.deepEqual(byDep["metrics-server"], ["aws-eks-addon", "components/eks-versions.ts"]);
        assert.deepEqual(byDep["amazon-cloudwatch-observability"], ["aws-eks-addon", "components/eks-versions.ts"]);
        assert.deepEqual(byDep.coredns, ["aws-eks-addon", "components/eks-versions.ts"]);
        assert.deepEqual(byDep["karpenter-crd"] ?? byDep["public.ecr.aws/karpenter/karpenter"], [
            "docker",
            "components/addons/karpenter-spec.ts",
        ]);
        assert.deepEqual(byDep["aquasecurity/trivy"], ["github-releases", ".github/workflows/image.yml"]);
    });

    for (const file of ["components/", ".github/workflows/"]) {
        it(`every version pinned in ${file} has a marker its regex reads, and every marker is usable`, () => {
            const problems = scanned
                .filter((f) => f.startsWith(file))
                .flatMap((f) => checkPins(f, fs.readFileSync(path.join(ROOT, f), "utf8")));
            assert.deepEqual(problems, []);
        });
    }

    describe("the pin check fails on", () => {
        const helm = `const CHART = {\n    repository: "https://charts.example.com",\n    // renovate: datasource=helm depName=x registryUrl=https://charts.example.com\n    version: "1.2.3",\n};\n`;
        const addon = (filter: string, value = "v1.2.3-eksbuild.1") =>
            `// renovate: datasource=aws-eks-addon depName=vpc-cni packageName=${filter}\nexport const V = "${value}";\n`;
        const cases: [string, string, string, RegExp | null][] = [
            ["a marked chart", "components/a.ts", helm, null],
            [
                "an unmarked chart version",
                "components/a.ts",
                helm.replace(/ *\/\/ renovate.*\n/, ""),
                /:3: "1\.2\.3" is pinned without a renovate marker/,
            ],
            [
                "a blank line between marker and pin",
                "components/a.ts",
                helm.replace("\n    version", "\n\n    version"),
                /marker the regex manager does not read/,
            ],
            [
                "a misspelt marker",
                "components/a.ts",
                helm.replace("depName=", "depname="),
                /marker the regex manager does not read/,
            ],
            [
                "a helm marker without registryUrl",
                "components/a.ts",
                helm.replace(/ registryUrl=\S+/, ""),
                /needs registryUrl=https/,
            ],
            [
                "a registryUrl the file does not use",
                "components/a.ts",
                helm.replace("registryUrl=https://charts.example.com", "registryUrl=https://other.example.com"),
                /is not the chart repository this file uses/,
            ],
            [
                "an unmarked image tag",
                "components/a.ts",
                `const IMAGE = "public.ecr.aws/x/y:v1.2.3";\n`,
                /is pinned without a renovate marker/,
            ],
            [
                "an unmarked AMI alias",
                "components/a.ts",
                `const AMI = { alias: "al2023@v20250920" };\n`,
                /"al2023@v20250920" is pinned without/,
            ],
            [
                "an unmarked constant named as a version",
                "components/a.ts",
                `export const KARPENTER_VERSION = "1.14";\n`,
                /"1\.14" is pinned without/,
            ],
            [
                "an EKS add-on marked right",
                "components/a.ts",
                addon(`{"addonName":"vpc-cni","kubernetesVersion":"1.33"}`),
                null,
            ],
            [
                "an add-on filter for another add-on",
                "components/a.ts",
                addon(`{"addonName":"coredns","kubernetesVersion":"1.33"}`),
                /addonName must be the depName vpc-cni/,
            ],
            [
                "an add-on filter without the Kubernetes version",
                "components/a.ts",
                addon(`{"addonName":"vpc-cni"}`),
                /must name the Kubernetes version/,
            ],
            [
                "an add-on value that is no add-on version",
                "components/a.ts",
                addon(`{"addonName":"vpc-cni","kubernetesVersion":"1.33"}`, "1.2.3"),
                /not an EKS add-on version/,
            ],
            [
                "an unknown datasource",
                "components/a.ts",
                `// renovate: datasource=helmchart depName=x\nconst V = "1.2.3";\n`,
                /unknown datasource helmchart/,
            ],
            [
                "an unmarked tool version in a workflow",
                "w.yml",
                `      - uses: x/y@abc # v1\n        with:\n          version: v0.70.0\n`,
                /w\.yml:3: "v0\.70\.0" is pinned without/,
            ],
            [
                "a marked tool version in a workflow",
                "w.yml",
                `        with:\n          # renovate: datasource=github-releases depName=a/b\n          version: v0.70.0\n`,
                null,
            ],
            [
                "the IAM policy language version and apiVersion",
                "components/a.ts",
                `const D = { Version: "2012-10-17", apiVersion: "v1" };\n`,
                null,
            ],
        ];
        for (const [name, file, text, expected] of cases) {
            it(name, () => {
                const problems = checkPins(file, text);
                if (expected === null) assert.deepEqual(problems, []);
                else
                    assert.ok(
                        problems.some((p) => expected.test(p)),
                        `expected ${expected}; got ${JSON.stringify(problems)}`,
                    );
            });
        }
    });

    it("groups Pulumi packages, actions and Node.js, pins action and image digests, waits before adopting a release", () => {
        const rules = config.packageRules ?? [];
        const rule = (pred: (r: Record<string, unknown>) => boolean, what: string) => {
            const found = rules.find(pred);
            assert.ok(found, `no package rule for ${what}`);
            return found;
        };
        const has = (key: string, value: string) => (r: Record<string, unknown>) =>
            Array.isArray(r[key]) && (r[key] as string[]).includes(value);
        assert.equal(rule(has("matchPackageNames", "@pulumi/**"), "@pulumi/**").groupName, "Pulumi packages");
        const actions = rule(has("matchManagers", "github-actions"), "github-actions");
        assert.deepEqual([actions.pinDigests, actions.groupName], [true, "GitHub Actions"]);
        assert.equal(rule(has("matchManagers", "dockerfile"), "dockerfile").pinDigests, true);
        assert.equal(rule((r) => has("matchDepNames", "node")(r) && "groupName" in r, "node").groupName, "Node.js");
        assert.match(
            String(rule(has("matchManagers", "custom.regex"), "custom.regex").groupName),
            /\{\{packageFile\}\}/,
        );
        assert.ok(
            config.minimumReleaseAge,
            "minimumReleaseAge: a release compromised on publication is usually pulled within days",
        );
    });
});
