/**
 * Metrics and SLO alerts (components/telemetry): the PromQL builders table-driven, the rule file
 * parsed and every expression checked against the series the real checkout-service exports, and
 * the component under the mock engine.
 */
import * as assert from "node:assert/strict";
import { parse } from "yaml";

import { createMetrics, HTTP_DURATION_BUCKETS } from "../app/checkout-service/src/metrics";
import {
    alertKeyPolicy,
    alertManagerDefinition,
    alertTopicPolicy,
    notifyProblems,
    scrapeAnnotations,
    scrapeConfiguration,
    SCRAPER_WORKSPACE_TAG,
    Telemetry,
    type TelemetryArgs,
} from "../components/telemetry";
import {
    burnRateExpr,
    errorRatioExpr,
    latencyRatioExpr,
    ruleFile,
    sloProblems,
    sloRuleGroups,
    SRE_WORKBOOK_WINDOWS,
    type ServiceSlo,
} from "../components/telemetry/slo";
import { CHECKOUT as CHECKOUT_SERVICE, CHECKOUT_LATENCY_BUCKETS, CHECKOUT_SLO } from "../components/checkout";
import { runWithMocks } from "../harness/engine";
import { formatViolations, runPolicies } from "../policy/offline";
import { at, find, ofType } from "./helpers";

const CHECKOUT: ServiceSlo = {
    name: "checkout",
    selector: 'service="checkout-service",route="/checkout"',
    availabilityTarget: 0.999,
    latencyTarget: 0.99,
    latencyThresholdSeconds: 0.25,
};

/** Series name -> label names, from the real service's /metrics text after one request. */
async function exportedSeries(): Promise<Map<string, Set<string>>> {
    const metrics = createMetrics({ serviceName: "checkout-service", defaultMetrics: false });
    metrics.observe({ route: "/checkout", method: "POST", status: 201 }, 0.1);
    const series = new Map<string, Set<string>>();
    for (const line of (await metrics.registry.metrics()).split("\n")) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
        if (m === null) continue;
        const labels = series.get(m[1]!) ?? new Set<string>();
        for (const pair of (m[2] ?? "").split(",").filter((p) => p !== "")) labels.add(pair.split("=")[0]!);
        series.set(m[1]!, labels);
    }
    return series;
}

const KEYWORDS = new Set([
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
]);

/**
 * Every problem with the series an expression reads: a name that is neither exported by the
 * service nor recorded by a rule, or a label matcher on a label the series does not have.
 */
function exprProblems(expr: string, series: Map<string, Set<string>>, recorded: Set<string>): string[] {
    const problems: string[] = [];
    const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, "");
    for (const m of unquoted.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\}|\()?/g)) {
        const [, name, after] = m;
        if (after === "(" || KEYWORDS.has(name!)) continue;
        if (recorded.has(name!)) continue;
        const labels = series.get(name!);
        if (labels === undefined) {
            problems.push(`${name} is neither exported by the service nor recorded`);
            continue;
        }
        for (const matcher of (after ?? "")
            .slice(1, -1)
            .split(",")
            .filter((s) => s.trim() !== "")) {
            const label = matcher.split(/=~|!~|!=|=/)[0]!.trim();
            if (!labels.has(label)) problems.push(`${name} has no label ${label}`);
        }
    }
    return problems;
}

interface ParsedRule {
    record?: string;
    alert?: string;
    expr: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

/** The rule file's structure, as AMP's ruler reads it, and every expression's series. */
async function ruleFileProblems(text: string): Promise<string[]> {
    const doc = parse(text) as { groups?: { name?: string; interval?: string; rules?: ParsedRule[] }[] };
    const problems: string[] = [];
    if (!Array.isArray(doc.groups) || doc.groups.length === 0) return ["no groups"];
    const rules = doc.groups.flatMap((g) => {
        if (typeof g.name !== "string" || !Array.isArray(g.rules) || g.rules.length === 0) {
            problems.push(`group ${JSON.stringify(g.name)} needs a name and rules`);
            return [];
        }
        return g.rules;
    });
    const recorded = new Set(rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));
    const series = await exportedSeries();
    for (const r of rules) {
        if ((r.record === undefined) === (r.alert === undefined))
            problems.push(`a rule needs exactly one of record, alert`);
        if (r.alert !== undefined && !["page", "ticket"].includes(r.labels?.severity ?? "")) {
            problems.push(`${r.alert} has no severity page|ticket`);
        }
        problems.push(...exprProblems(r.expr, series, recorded).map((p) => `${r.record ?? r.alert}: ${p}`));
    }
    return problems;
}

describe("SLO alerting (pure)", () => {
    it("builds the bad-request ratios from the service's own metric names", () => {
        const table: [string, string][] = [
            [
                errorRatioExpr('service="s"', "5m"),
                'sum(rate(http_requests_total{service="s",status=~"5.."}[5m])) / sum(rate(http_requests_total{service="s"}[5m]))',
            ],
            [
                latencyRatioExpr('service="s"', "1h", 0.25),
                '1 - (sum(rate(http_request_duration_seconds_bucket{service="s",le=~"0.25"}[1h])) / sum(rate(http_request_duration_seconds_count{service="s"}[1h])))',
            ],
            // Prometheus 3 normalises le="1" to "1.0": an integer threshold must match both.
            [
                latencyRatioExpr('service="s"', "1h", 1),
                '1 - (sum(rate(http_request_duration_seconds_bucket{service="s",le=~"1|1.0"}[1h])) / sum(rate(http_request_duration_seconds_count{service="s"}[1h])))',
            ],
        ];
        for (const [got, want] of table) assert.equal(got, want);
    });

    it("alerts on the budget, both windows over burn rate x (1 - target)", () => {
        const table: [
            ServiceSlo["name"],
            "errors" | "latency",
            number,
            (typeof SRE_WORKBOOK_WINDOWS)[number],
            string,
        ][] = [
            [
                "checkout",
                "errors",
                0.999,
                SRE_WORKBOOK_WINDOWS[0]!,
                "slo:checkout_errors:ratio_rate1h > (14.4 * (1 - 0.999)) and slo:checkout_errors:ratio_rate5m > (14.4 * (1 - 0.999))",
            ],
            [
                "checkout",
                "latency",
                0.99,
                SRE_WORKBOOK_WINDOWS[2]!,
                "slo:checkout_latency:ratio_rate3d > (1 * (1 - 0.99)) and slo:checkout_latency:ratio_rate6h > (1 * (1 - 0.99))",
            ],
        ];
        for (const [slo, sli, target, w, want] of table) assert.equal(burnRateExpr(slo, sli, target, w), want);
    });

    it("uses the SRE workbook's windows: 14.4x and 6x page, 1x opens a ticket", () => {
        assert.deepEqual(
            SRE_WORKBOOK_WINDOWS.map((w) => [w.long, w.short, w.burnRate, w.severity]),
            [
                ["1h", "5m", 14.4, "page"],
                ["6h", "30m", 6, "page"],
                ["3d", "6h", 1, "ticket"],
            ],
        );
    });

    it("refuses an SLO the service's metrics cannot measure, naming the field, the value and what is allowed", () => {
        const table: [Partial<ServiceSlo>, RegExp][] = [
            [
                { latencyThresholdSeconds: 0.3 },
                /latencyThresholdSeconds must be a bucket of http_request_duration_seconds \(.*0\.25, 0\.5.*\); got 0\.3/,
            ],
            [{ availabilityTarget: 99.9 }, /availabilityTarget must be between 0 and 1 exclusive .*; got 99\.9/],
            [{ latencyTarget: 1 }, /latencyTarget must be between 0 and 1 exclusive/],
            [{ name: "Checkout-API" }, /name must match/],
            [{ selector: '{service="x"}' }, /selector must be label matchers without braces/],
        ];
        assert.deepEqual(sloProblems(CHECKOUT, HTTP_DURATION_BUCKETS), []);
        for (const [change, expected] of table) {
            const problems = sloProblems({ ...CHECKOUT, ...change }, HTTP_DURATION_BUCKETS);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.match(problems[0]!, expected);
        }
        assert.throws(
            () => sloRuleGroups([{ ...CHECKOUT, latencyThresholdSeconds: 0.3 }], HTTP_DURATION_BUCKETS),
            /invalid SLOs/,
        );
        assert.throws(() => sloRuleGroups([CHECKOUT, CHECKOUT], HTTP_DURATION_BUCKETS), /"checkout" appears twice/);
        assert.match(
            sloProblems(CHECKOUT, HTTP_DURATION_BUCKETS, [
                { long: "5m", short: "1h", burnRate: 2, severity: "page" },
            ]).join(),
            /short window 1h must be shorter than long window 5m/,
        );
    });

    it("writes a rule file whose every expression reads series the service exports or a rule records", async () => {
        const text = ruleFile(sloRuleGroups([CHECKOUT], HTTP_DURATION_BUCKETS));
        assert.deepEqual(await ruleFileProblems(text), []);
        const doc = parse(text) as { groups: { name: string; rules: ParsedRule[] }[] };
        assert.deepEqual(
            doc.groups.map((g) => g.name),
            ["slo-checkout-ratios", "slo-checkout-alerts"],
        );
        const alerts = doc.groups[1]!.rules;
        assert.deepEqual(
            alerts.map((r) => [r.alert, r.labels?.severity, r.labels?.long_window]),
            [
                ["CheckoutErrorBudgetBurn", "page", "1h"],
                ["CheckoutErrorBudgetBurn", "page", "6h"],
                ["CheckoutErrorBudgetBurn", "ticket", "3d"],
                ["CheckoutLatencyBudgetBurn", "page", "1h"],
                ["CheckoutLatencyBudgetBurn", "page", "6h"],
                ["CheckoutLatencyBudgetBurn", "ticket", "3d"],
            ],
        );
        // One ratio per SLI and distinct window (5m, 30m, 1h, 6h, 3d).
        assert.equal(doc.groups[0]!.rules.length, 2 * 5);
        assert.match(
            alerts[0]!.annotations?.description ?? "",
            /99\.9% of requests succeed .* budget \(0\.1% of requests\) lasts 2\.08 days/,
        );
    });

    it("the rule-file check itself fails on a misspelt metric, an unknown label, a missing record and a bad structure", async () => {
        const good = ruleFile(sloRuleGroups([CHECKOUT], HTTP_DURATION_BUCKETS));
        const mutants: [string, (t: string) => string, RegExp][] = [
            [
                "misspelt metric",
                (t) => t.replace("http_requests_total{", "http_request_total{"),
                /http_request_total is neither exported/,
            ],
            [
                "unknown label",
                (t) => t.replace('route="/checkout"', 'path="/checkout"'),
                /http_requests_total has no label path/,
            ],
            [
                "alert on an unrecorded window",
                (t) => t.replace("slo:checkout_errors:ratio_rate5m >", "slo:checkout_errors:ratio_rate10m >"),
                /ratio_rate10m is neither/,
            ],
            ["not a rule file", () => "groups: []\n", /no groups/],
        ];
        for (const [why, mutate, expected] of mutants) {
            const problems = await ruleFileProblems(mutate(good));
            assert.ok(
                problems.some((p) => expected.test(p)),
                `${why}: ${problems.join("; ")}`,
            );
        }
    });

    it("the program's copy of checkout's buckets is the service's, and checkout's SLO measures on them", () => {
        assert.deepStrictEqual(CHECKOUT_LATENCY_BUCKETS, HTTP_DURATION_BUCKETS);
        assert.deepStrictEqual(sloProblems(CHECKOUT_SLO, HTTP_DURATION_BUCKETS), []);
        assert.deepStrictEqual(CHECKOUT_SLO, CHECKOUT, "the SLO these tests check is the one the program deploys");
    });

    it("annotates pods the way the scrape configuration discovers them", () => {
        const annotations = scrapeAnnotations(CHECKOUT_SERVICE.port, CHECKOUT_SERVICE.metricsPath);
        assert.deepStrictEqual(annotations, {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "8080",
            "prometheus.io/path": "/metrics",
        });
        const cfg = parse(scrapeConfiguration("c", 30)) as {
            scrape_configs: { relabel_configs: { source_labels?: string[] }[] }[];
        };
        // Every annotation is one the relabelling reads (dots and slashes become underscores).
        const read = cfg.scrape_configs[0]!.relabel_configs.flatMap((r) => r.source_labels ?? []);
        for (const key of Object.keys(annotations))
            assert.ok(
                read.includes(`__meta_kubernetes_pod_annotation_${key.replace(/[./]/g, "_")}`),
                `${key} is read by the scrape configuration`,
            );
        assert.throws(() => scrapeAnnotations(8080, "metrics"), /path must be absolute/);
        assert.throws(() => scrapeAnnotations(0, "/metrics"), /port must be 1-65535/);
    });

    it("scrapes only annotated, running pods, on the port and path they name, at >= 30 s", () => {
        const cfg = parse(scrapeConfiguration("c", 30)) as {
            global: { scrape_interval: string };
            scrape_configs: { kubernetes_sd_configs: { role: string }[]; relabel_configs: Record<string, unknown>[] }[];
        };
        assert.equal(cfg.global.scrape_interval, "30s");
        const [job] = cfg.scrape_configs;
        assert.deepEqual(job?.kubernetes_sd_configs, [{ role: "pod" }]);
        assert.deepEqual(job?.relabel_configs[0], {
            source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
            action: "keep",
            regex: "true",
        });
        const address = job?.relabel_configs.find((r) => r.target_label === "__address__");
        const re = new RegExp(`^(?:${String(address?.regex)})$`);
        assert.equal(
            "10.0.1.7:8080;9090".replace(re, "$1:$2"),
            "10.0.1.7:9090",
            "the annotated port replaces the pod's",
        );
        assert.equal("10.0.1.7;8080".replace(re, "$1:$2"), "10.0.1.7:8080");
        assert.throws(
            () => scrapeConfiguration("c", 15),
            /scrape interval must be a whole number of seconds >= 30 .*; got 15/,
        );
    });

    it("routes every alert to the SNS topic with the sigv4 region AMP requires", () => {
        const outer = parse(alertManagerDefinition("arn:aws:sns:eu-west-1:1:t", "eu-west-1")) as {
            alertmanager_config: string;
        };
        const config = parse(outer.alertmanager_config) as {
            route: { receiver: string };
            receivers: {
                name: string;
                sns_configs: { topic_arn: string; sigv4: { region: string }; api_url?: string }[];
            }[];
        };
        assert.equal(config.route.receiver, "sns");
        assert.deepEqual(
            config.receivers.map((r) => [
                r.name,
                r.sns_configs[0]?.topic_arn,
                r.sns_configs[0]?.sigv4.region,
                r.sns_configs[0]?.api_url,
            ]),
            [["sns", "arn:aws:sns:eu-west-1:1:t", "eu-west-1", undefined]],
        );
    });

    it("lets AMP publish only for its workspace and account, and use the key only for this topic", () => {
        const topic = alertTopicPolicy("arn:aws:sns:r:111:t", "arn:aws:aps:r:111:workspace/ws-1", "111");
        assert.deepEqual(topic.Statement[0]?.Condition, {
            ArnEquals: { "aws:SourceArn": "arn:aws:aps:r:111:workspace/ws-1" },
            StringEquals: { "aws:SourceAccount": "111" },
        });
        assert.deepEqual(topic.Statement[1]?.Condition, { Bool: { "aws:SecureTransport": "false" } });
        const key = alertKeyPolicy("aws", "111", "arn:aws:sns:r:111:t");
        assert.deepEqual(key.Statement[1]?.Condition, {
            StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:r:111:t" },
        });
    });

    it("checks the notify targets", () => {
        assert.deepEqual(notifyProblems([{ protocol: "email", endpoint: "oncall@example.com" }]), []);
        assert.match(notifyProblems([]).join(), /at least one target/);
        assert.match(
            notifyProblems([{ protocol: "email", endpoint: "oncall" }]).join(),
            /notify\[0\] \(email\) must be an email address; got "oncall"/,
        );
        assert.match(notifyProblems([{ protocol: "https", endpoint: "http://x" }]).join(), /must be an https:\/\/ URL/);
    });
});

describe("Telemetry component (mock engine)", () => {
    const args: TelemetryArgs = {
        clusterName: "c",
        clusterArn: "arn:aws:eks:eu-west-1:123456789012:cluster/c",
        vpcId: "vpc-1",
        subnetIds: ["subnet-a", "subnet-b", "subnet-c"],
        clusterSecurityGroupId: "sg-cluster",
        metricsPorts: [8080],
        slos: [CHECKOUT],
        latencyBuckets: HTTP_DURATION_BUCKETS,
        notify: [{ protocol: "email", endpoint: "oncall@example.com" }],
        region: "eu-west-1",
        accountId: "123456789012",
        partition: "aws",
    };
    const run = (a: TelemetryArgs) =>
        runWithMocks(() => void new Telemetry("tel", a), { project: "checkout-platform", stack: "unit", mode: "test" });

    it("registers the workspace, scraper, rules, alert manager and encrypted topic, wired to each other", async () => {
        const r = await run(args);
        const workspace = find(r, "aws:amp/workspace:Workspace", "tel-workspace");
        assert.equal((workspace.props.tags as Record<string, string>)[SCRAPER_WORKSPACE_TAG], "");
        const scraper = find(r, "aws:amp/scraper:Scraper", "tel-scraper");
        assert.deepEqual(at(scraper.props, "source.eks.subnetIds"), ["subnet-a", "subnet-b", "subnet-c"]);
        assert.deepEqual(at(scraper.props, "source.eks.securityGroupIds"), ["tel-scraper-id"]);
        assert.equal(
            at(scraper.props, "destination.amp.workspaceArn"),
            "arn:aws:aps:eu-west-1:123456789012:workspace/ws-tel-workspace",
        );
        assert.equal(scraper.props.scrapeConfiguration, scrapeConfiguration("c", 30));

        const rules = find(r, "aws:amp/ruleGroupNamespace:RuleGroupNamespace", "tel-slo-rules");
        assert.equal(rules.props.workspaceId, "tel-workspace-id");
        assert.deepEqual(await ruleFileProblems(String(rules.props.data)), []);

        const topic = find(r, "aws:sns/topic:Topic", "tel-alerts");
        assert.equal(topic.props.kmsMasterKeyId, "arn:aws:kms:eu-west-1:123456789012:key/tel-alerts-key");
        const topicArn = "arn:aws:sns:eu-west-1:123456789012:c-alerts";
        const keyPolicy = JSON.parse(String(find(r, "aws:kms/key:Key", "tel-alerts-key").props.policy)) as ReturnType<
            typeof alertKeyPolicy
        >;
        assert.deepEqual(keyPolicy, alertKeyPolicy("aws", "123456789012", topicArn));
        const topicPolicy = find(r, "aws:sns/topicPolicy:TopicPolicy", "tel-alerts-policy");
        assert.deepEqual(
            JSON.parse(String(topicPolicy.props.policy)),
            alertTopicPolicy(topicArn, "arn:aws:aps:eu-west-1:123456789012:workspace/ws-tel-workspace", "123456789012"),
        );
        const am = find(r, "aws:amp/alertManagerDefinition:AlertManagerDefinition", "tel-alertmanager");
        assert.equal(am.props.definition, alertManagerDefinition(topicArn, "eu-west-1"));
        assert.deepEqual(
            ofType(r, "aws:sns/topicSubscription:TopicSubscription").map((s) => [s.props.protocol, s.props.endpoint]),
            [["email", "oncall@example.com"]],
        );
    });

    it("passes the whole policy pack (SNS encryption and topic policy conditions included)", async () => {
        const r = await run(args);
        const violations = runPolicies([...r.resources], { environment: "prod" });
        assert.deepEqual(violations, [], formatViolations(violations));
    });

    it("opens the API server and the metrics port from the collector's security group, and nothing else", async () => {
        const r = await run({ ...args, metricsPorts: [8080, 8080, 9090] });
        const rules = (type: string) =>
            ofType(r, type).map((x) => [
                x.props.securityGroupId,
                x.props.referencedSecurityGroupId,
                x.props.fromPort,
                x.props.toPort,
            ]);
        assert.deepEqual(rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"), [
            ["tel-scraper-id", "sg-cluster", 443, 443],
            ["tel-scraper-id", "sg-cluster", 8080, 8080],
            ["tel-scraper-id", "sg-cluster", 9090, 9090],
        ]);
        assert.deepEqual(rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), [
            ["sg-cluster", "tel-scraper-id", 443, 443],
            ["sg-cluster", "tel-scraper-id", 8080, 8080],
            ["sg-cluster", "tel-scraper-id", 9090, 9090],
        ]);
    });

    it("refuses one subnet, no notify target and an SLO its metrics cannot measure, before creating anything", async () => {
        await assert.rejects(
            run({ ...args, subnetIds: ["subnet-a"] }),
            /subnetIds must hold at least 2 subnets \(2 AZs\); got 1/,
        );
        await assert.rejects(run({ ...args, notify: [] }), /notify must name at least one target/);
        await assert.rejects(
            run({ ...args, slos: [{ ...CHECKOUT, latencyThresholdSeconds: 0.3 }] }),
            /latencyThresholdSeconds must be a bucket/,
        );
    });
});
