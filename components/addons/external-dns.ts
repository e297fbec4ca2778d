import * as pulumi from "@pulumi/pulumi";
import { PolicyDocument } from "../iam";
import { ChartPin, HelmAddon, PodIdentityContext, helmAddon } from "./helm-addon";
import { HostedZone, hostedZoneArn, validateZones } from "./route53";

/** ExternalDNS's chart (app v0.21.0); the next chart makes `policy` required, set explicitly here already. */
export const EXTERNAL_DNS = {
    chart: {
        chart: "external-dns",
        repository: "https://kubernetes-sigs.github.io/external-dns/",
        // renovate: datasource=helm depName=external-dns registryUrl=https://kubernetes-sigs.github.io/external-dns/
        version: "1.21.1",
    } satisfies ChartPin,
} as const;

export const EXTERNAL_DNS_NAMES = {
    namespace: "external-dns",
    release: "external-dns",
    serviceAccount: "external-dns",
} as const;

/** What ExternalDNS may do with records it finds that it did not create or that lost their source. */
export type ExternalDnsPolicy = "sync" | "upsert-only" | "create-only";

/**
 * The records ExternalDNS writes: A/AAAA aliases to the NLB, CNAMEs, and the TXT ownership
 * records of the `txt` registry.
 */
export const EXTERNAL_DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "TXT"] as const;

/**
 * IAM for the AWS provider (provider/aws/aws.go, v0.21.0): it lists every zone (ListHostedZones
 * cannot be scoped), then reads and writes records only in the configured zones. ListTagsForResources
 * is only called with --aws-zone-tags, which is not used.
 */
export function externalDnsPolicy(zones: readonly HostedZone[], partition = "aws"): PolicyDocument {
    const zoneArns = zones.map((z) => hostedZoneArn(z.id, partition));
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ListZones", Effect: "Allow", Action: "route53:ListHostedZones", Resource: "*" },
            { Sid: "ReadRecords", Effect: "Allow", Action: "route53:ListResourceRecordSets", Resource: zoneArns },
            {
                Sid: "WriteRecords",
                Effect: "Allow",
                Action: "route53:ChangeResourceRecordSets",
                Resource: zoneArns,
                Condition: {
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsRecordTypes": [...EXTERNAL_DNS_RECORD_TYPES],
                    },
                },
            },
        ],
    };
}

export interface ExternalDnsValuesArgs {
    readonly zones: readonly HostedZone[];
    readonly txtOwnerId: string;
    readonly policy: ExternalDnsPolicy;
}

/**
 * Helm values (chart 1.21.1 values.yaml). Sources are the Gateway API routes only: records follow
 * HTTPRoutes attached to a Gateway, pointing at the Gateway's address (the NLB). Every filter is
 * both a domain and a zone id, so a zone of the same name elsewhere in the account is never touched.
 */
export function externalDnsValues(a: ExternalDnsValuesArgs): Record<string, unknown> {
    return {
        provider: { name: "aws" },
        sources: ["gateway-httproute"],
        policy: a.policy,
        registry: "txt",
        txtOwnerId: a.txtOwnerId,
        domainFilters: a.zones.map((z) => z.name),
        extraArgs: { "aws-zone-type": "public", "zone-id-filter": a.zones.map((z) => z.id) },
        serviceAccount: { create: true, name: EXTERNAL_DNS_NAMES.serviceAccount },
        resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "128Mi" } },
    };
}

/** A txt owner id: letters, digits, '.', '_' and '-', so it survives inside the TXT record value. */
const OWNER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export interface ExternalDnsArgs {
    /** The zones ExternalDNS may write to; nothing else is filtered in or writable. */
    readonly zones: readonly HostedZone[];
    /**
     * Owner of the records this instance writes. It must differ per cluster: with `sync`, an
     * instance deletes the records of every other instance that shares its owner id
     * (external-dns#3229). Derive it from something unique per stack, e.g. the cluster name.
     */
    readonly txtOwnerId: string;
    /** `sync` also deletes the records whose route is gone; `upsert-only` never deletes. */
    readonly policy: ExternalDnsPolicy;
    /** Pod Identity for the service account. */
    readonly identity: PodIdentityContext;
    /** The Gateway API CRDs its gateway-httproute source watches (it fails to start without them). */
    readonly crds: pulumi.Resource;
    /** AWS partition of the zone ARNs. @default "aws" */
    readonly partition?: pulumi.Input<string>;
    /** What must exist before the release waits for its pods (node capacity). @default [] */
    readonly dependsOn?: readonly pulumi.Resource[];
    /** @default {} */
    readonly tags?: Record<string, string>;
}

/**
 * ExternalDNS for the Gateway API routes, writing to the configured Route53 zones under Pod Identity.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class ExternalDns extends pulumi.ComponentResource {
    readonly addon: HelmAddon;

    constructor(name: string, args: ExternalDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:ExternalDns", name, {}, opts);
        validateZones(args.zones, `${name}: zones`);
        if (!OWNER_ID.test(args.txtOwnerId))
            throw new Error(
                `${name}: txtOwnerId ${JSON.stringify(args.txtOwnerId)} must be 1-63 letters, digits, '.', '_' or '-'`,
            );
        const names = EXTERNAL_DNS_NAMES;
        this.addon = helmAddon(this, name, {
            namespace: names.namespace,
            releaseName: names.release,
            chart: EXTERNAL_DNS.chart,
            values: externalDnsValues(args),
            identity: {
                ...args.identity,
                serviceAccount: names.serviceAccount,
                policy: pulumi.output(args.partition ?? "aws").apply((p) => externalDnsPolicy(args.zones, p)),
                description: `ExternalDNS: records in ${args.zones.map((z) => z.name).join(", ")}`,
            },
            dependsOn: [args.crds, ...(args.dependsOn ?? [])],
            tags: args.tags,
        });
        this.registerOutputs({ txtOwnerId: args.txtOwnerId });
    }
}
