/**
 * Metrics and SLO alerts without a Prometheus server in the cluster: an Amazon Managed Service
 * for Prometheus (AMP) workspace, its managed collector (`aws.amp.Scraper`) scraping the pods
 * annotated `prometheus.io/scrape: "true"`, SLO burn-rate rules, and an alert manager routing to
 * an SNS topic encrypted with a customer-managed key. AWS resources only.
 *
 * What the AMP user guide ("Set up managed collectors for Amazon EKS", AMP-collector-how-to)
 * requires and this component relies on:
 * - the cluster's private endpoint is on (components/cluster.ts always enables it);
 * - subnets in at least two Availability Zones; the collector puts an ENI in each and scrapes
 *   through them, so pods see those ENIs' addresses as the source (NetworkPolicy: ipBlock);
 * - with `authenticationMode: API` the scraper creates its own EKS access entry: no RBAC here;
 * - only kubernetes_sd_configs, and no scrape interval under 30 s.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";

import { accountAdministersKey, type PolicyDocument } from "../iam";
import { rotatingKmsKey } from "../common";
import { ruleFile, sloRuleGroups, type BurnRateWindow, type ServiceSlo, SRE_WORKBOOK_WINDOWS } from "./slo";

export type { ServiceSlo } from "./slo";

/** The managed collector refuses a scrape interval below this (AMP-collector-how-to, "Limitations"). */
export const MIN_SCRAPE_INTERVAL_SECONDS = 30;

/**
 * The scraper tags its destination workspace with this key. Declaring it on the workspace keeps
 * `pulumi up` from removing it on every run; the pinned provider's docs prefer this to ignoring
 * all tag changes (@pulumi/aws 7.48.0, amp/scraper.d.ts, "Ignoring changes to Prometheus Workspace
 * destination").
 */
export const SCRAPER_WORKSPACE_TAG = "AMPAgentlessScraper";

export interface NotifyTarget {
    readonly protocol: "email" | "https";
    /** An email address, or an https:// URL that confirms the SNS subscription. */
    readonly endpoint: string;
}

export interface TelemetryArgs {
    /** Names the workspace, topic and key (`<clusterName>-alerts`). */
    readonly clusterName: string;
    readonly clusterArn: pulumi.Input<string>;
    readonly vpcId: pulumi.Input<string>;
    /** Subnets for the collector's ENIs: at least two, in different AZs (the nodes' private subnets). */
    readonly subnetIds: pulumi.Input<readonly pulumi.Input<string>[]>;
    /** The EKS cluster security group: nodes and the API server's ENIs carry it. */
    readonly clusterSecurityGroupId: pulumi.Input<string>;
    /** Container ports the collector may scrape (the pods' `prometheus.io/port`). */
    readonly metricsPorts: readonly number[];
    readonly slos: readonly ServiceSlo[];
    /** Bucket boundaries of `http_request_duration_seconds`; latency thresholds must be one of them. */
    readonly latencyBuckets: readonly number[];
    /** Who gets the alerts; each becomes an SNS subscription (email ones must be confirmed). */
    readonly notify: readonly NotifyTarget[];
    readonly region: string;
    readonly accountId: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
    /** @default 30 */
    readonly scrapeIntervalSeconds?: number;
    /** @default SRE_WORKBOOK_WINDOWS (1h/5m and 6h/30m page, 3d/6h ticket) */
    readonly burnRateWindows?: readonly BurnRateWindow[];
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/** Prometheus scrape config: pods that opt in by annotation, on the port and path they name. */
export function scrapeConfiguration(clusterName: string, intervalSeconds: number): string {
    if (!Number.isInteger(intervalSeconds) || intervalSeconds < MIN_SCRAPE_INTERVAL_SECONDS) {
        throw new Error(
            `scrape interval must be a whole number of seconds >= ${MIN_SCRAPE_INTERVAL_SECONDS} (managed collector limit); got ${intervalSeconds}`,
        );
    }
    const annotation = (name: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${name}`;
    return stringify(
        {
            global: { scrape_interval: `${intervalSeconds}s`, external_labels: { cluster: clusterName } },
            scrape_configs: [
                {
                    job_name: "kubernetes-pods",
                    kubernetes_sd_configs: [{ role: "pod" }],
                    relabel_configs: [
                        { source_labels: [annotation("scrape")], action: "keep", regex: "true" },
                        // Pods that are done or not yet running have no endpoint worth an `up == 0`.
                        {
                            source_labels: ["__meta_kubernetes_pod_phase"],
                            action: "drop",
                            regex: "Pending|Succeeded|Failed",
                        },
                        {
                            source_labels: [annotation("path")],
                            action: "replace",
                            target_label: "__metrics_path__",
                            regex: "(.+)",
                        },
                        {
                            source_labels: ["__address__", annotation("port")],
                            action: "replace",
                            regex: "([^:]+)(?::\\d+)?;(\\d+)",
                            replacement: "$1:$2",
                            target_label: "__address__",
                        },
                        { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
                        { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
                        { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], target_label: "app" },
                    ],
                },
            ],
        },
        { lineWidth: 0 },
    );
}

/**
 * The pod annotations `scrapeConfiguration` discovers pods by: scrape this pod on `port` at `path`.
 */
export function scrapeAnnotations(port: number, path: string): Record<string, string> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port must be 1-65535; got ${port}`);
    if (!path.startsWith("/")) throw new Error(`path must be absolute; got ${JSON.stringify(path)}`);
    return { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": path };
}

/** AMP's alert manager definition: every alert to the SNS topic (the only receiver AMP supports). */
export function alertManagerDefinition(topicArn: string, region: string): string {
    const config = {
        route: {
            receiver: "sns",
            group_by: ["alertname", "slo", "severity"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
        },
        // AMP requires sigv4.region and rejects api_url (AMP-alertmanager-receiver-config).
        receivers: [
            {
                name: "sns",
                sns_configs: [
                    {
                        topic_arn: topicArn,
                        sigv4: { region },
                        subject:
                            "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
                        attributes: { severity: "{{ .CommonLabels.severity }}", slo: "{{ .CommonLabels.slo }}" },
                    },
                ],
            },
        ],
    };
    return stringify({ alertmanager_config: stringify(config, { lineWidth: 0 }) }, { lineWidth: 0 });
}

/**
 * Topic policy: AMP may publish, but only for this workspace in this account (the confused-deputy
 * conditions the AMP guide's topic policy uses), and nobody may publish over plain HTTP.
 */
export function alertTopicPolicy(topicArn: string, workspaceArn: string, accountId: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AmpAlertManagerPublishes",
                Effect: "Allow",
                Principal: { Service: "aps.amazonaws.com" },
                Action: ["sns:Publish", "sns:GetTopicAttributes"],
                Resource: topicArn,
                Condition: {
                    ArnEquals: { "aws:SourceArn": workspaceArn },
                    StringEquals: { "aws:SourceAccount": accountId },
                },
            },
            {
                Sid: "DenyPlainHttp",
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: "sns:Publish",
                Resource: topicArn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

/**
 * Key policy: the account administers the key; AMP may use it only through SNS for this topic.
 * SNS encrypts with the encryption context `aws:sns:topicArn`, so the grant cannot serve another
 * topic. Without this statement a publish to the encrypted topic fails (SNS developer guide,
 * "compatibility between event sources from AWS services and encrypted topics").
 */
export function alertKeyPolicy(partition: string, accountId: string, topicArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            accountAdministersKey(partition, accountId),
            {
                Sid: "AmpPublishesToAlertTopic",
                Effect: "Allow",
                Principal: { Service: "aps.amazonaws.com" },
                Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
                Resource: "*",
                Condition: { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": topicArn } },
            },
        ],
    };
}

function subnetProblems(count: number): string[] {
    return count < 2 ? [`subnetIds must hold at least 2 subnets (2 AZs); got ${count}`] : [];
}

export function notifyProblems(targets: readonly NotifyTarget[]): string[] {
    if (targets.length === 0) {
        return ["notify must name at least one target (an email address or an https URL)"];
    }
    return targets.flatMap((t, i) => {
        if (t.protocol === "email" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(t.endpoint)) {
            return [`notify[${i}] (email) must be an email address; got ${JSON.stringify(t.endpoint)}`];
        }
        if (t.protocol === "https" && !/^https:\/\/[^\s/]+/.test(t.endpoint)) {
            return [`notify[${i}] (https) must be an https:// URL; got ${JSON.stringify(t.endpoint)}`];
        }
        return [];
    });
}

export class Telemetry extends pulumi.ComponentResource {
    readonly workspace: aws.amp.Workspace;
    /** Query endpoint (`<endpoint>api/v1/query`), for Grafana or awscurl. */
    readonly prometheusEndpoint: pulumi.Output<string>;
    readonly scraper: aws.amp.Scraper;
    readonly scraperSecurityGroup: aws.ec2.SecurityGroup;
    readonly alertTopic: aws.sns.Topic;

    constructor(name: string, args: TelemetryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:telemetry:Telemetry", name, {}, opts);
        const tags = args.tags ?? {};
        const problems = [
            ...notifyProblems(args.notify),
            ...(Array.isArray(args.subnetIds) ? subnetProblems(args.subnetIds.length) : []),
            ...(args.metricsPorts.length === 0 ? ["metricsPorts must hold at least one port"] : []),
        ];
        if (problems.length > 0) {
            throw new Error(`Telemetry ${name}:\n  - ${problems.join("\n  - ")}`);
        }
        const rules = ruleFile(
            sloRuleGroups(args.slos, args.latencyBuckets, args.burnRateWindows ?? SRE_WORKBOOK_WINDOWS),
        );
        const scrapeConfig = scrapeConfiguration(args.clusterName, args.scrapeIntervalSeconds ?? 30);

        this.workspace = new aws.amp.Workspace(
            `${name}-workspace`,
            { alias: args.clusterName, tags: { ...tags, [SCRAPER_WORKSPACE_TAG]: "" } },
            { parent: this },
        );
        this.prometheusEndpoint = this.workspace.prometheusEndpoint;

        // The collector's ENIs: they may reach the API server (service discovery) and the metrics
        // ports of the nodes' pods, nothing else.
        this.scraperSecurityGroup = new aws.ec2.SecurityGroup(
            `${name}-scraper`,
            {
                vpcId: args.vpcId,
                description: `AMP managed collector for ${args.clusterName}`,
                tags: { ...tags, Name: `${args.clusterName}-amp-scraper` },
            },
            { parent: this },
        );
        const ports = [443, ...new Set(args.metricsPorts)];
        for (const port of ports) {
            const role = port === 443 ? "apiserver" : `metrics-${port}`;
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-scraper-to-${role}`,
                {
                    securityGroupId: this.scraperSecurityGroup.id,
                    referencedSecurityGroupId: args.clusterSecurityGroupId,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    description: port === 443 ? "Kubernetes API (service discovery)" : `pod metrics on ${port}`,
                },
                { parent: this },
            );
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-cluster-from-scraper-${role}`,
                {
                    securityGroupId: args.clusterSecurityGroupId,
                    referencedSecurityGroupId: this.scraperSecurityGroup.id,
                    ipProtocol: "tcp",
                    fromPort: port,
                    toPort: port,
                    description: `AMP managed collector: ${port === 443 ? "Kubernetes API" : `pod metrics on ${port}`}`,
                },
                { parent: this },
            );
        }

        this.scraper = new aws.amp.Scraper(
            `${name}-scraper`,
            {
                alias: args.clusterName,
                source: {
                    eks: {
                        clusterArn: args.clusterArn,
                        // Known only at apply time when the subnets come from the VPC: checked there too.
                        subnetIds: pulumi.output(args.subnetIds).apply((ids) => {
                            const subnetProblem = subnetProblems(ids.length);
                            if (subnetProblem.length > 0) throw new Error(`Telemetry ${name}: ${subnetProblem[0]}`);
                            return [...ids];
                        }),
                        securityGroupIds: [this.scraperSecurityGroup.id],
                    },
                },
                destination: { amp: { workspaceArn: this.workspace.arn } },
                scrapeConfiguration: scrapeConfig,
                tags,
            },
            { parent: this },
        );

        new aws.amp.RuleGroupNamespace(
            `${name}-slo-rules`,
            { name: "slo", workspaceId: this.workspace.id, data: rules },
            { parent: this },
        );

        // An explicit name lets the key policy name the topic before the topic exists.
        const topicName = `${args.clusterName}-alerts`;
        const topicArn = pulumi.interpolate`arn:${args.partition}:sns:${args.region}:${args.accountId}:${topicName}`;
        const key = rotatingKmsKey(
            `${name}-alerts-key`,
            {
                description: `SNS topic ${topicName} (AMP alert manager)`,
                policy: pulumi
                    .all([args.partition, args.accountId, topicArn])
                    .apply(([partition, account, arn]) => JSON.stringify(alertKeyPolicy(partition, account, arn))),
                tags,
            },
            { parent: this },
        );
        this.alertTopic = new aws.sns.Topic(
            `${name}-alerts`,
            { name: topicName, kmsMasterKeyId: key.arn, tags },
            { parent: this },
        );
        const topicPolicy = new aws.sns.TopicPolicy(
            `${name}-alerts-policy`,
            {
                arn: this.alertTopic.arn,
                policy: pulumi
                    .all([this.alertTopic.arn, this.workspace.arn, args.accountId])
                    .apply(([topic, workspace, account]) =>
                        JSON.stringify(alertTopicPolicy(topic, workspace, account)),
                    ),
            },
            { parent: this },
        );
        args.notify.forEach(
            (t, i) =>
                new aws.sns.TopicSubscription(
                    `${name}-notify-${i}`,
                    { topic: this.alertTopic.arn, protocol: t.protocol, endpoint: t.endpoint },
                    { parent: this },
                ),
        );
        // Alerts reach the topic only once its policy lets AMP publish.
        new aws.amp.AlertManagerDefinition(
            `${name}-alertmanager`,
            {
                workspaceId: this.workspace.id,
                definition: this.alertTopic.arn.apply((arn) => alertManagerDefinition(arn, args.region)),
            },
            { parent: this, dependsOn: [topicPolicy] },
        );

        this.registerOutputs({
            workspaceArn: this.workspace.arn,
            prometheusEndpoint: this.prometheusEndpoint,
            alertTopicArn: this.alertTopic.arn,
        });
    }
}
