// checkout-service as an instance of the generic WebService: what is particular to it (its image's
// port, probe paths and user, the variables it reads) lives here, the rest in components/service.
import * as pulumi from "@pulumi/pulumi";
import type {
    AutoscalingArgs,
    EgressRule,
    ExternalSecretEnv,
    NetworkPolicyPeer,
    Resources,
    RouteArgs,
    WebServiceArgs,
} from "../service";
import type { AgentOtlpEndpoint } from "../logging";
import { CHECKOUT, DB_SECRET_ENV, checkoutEnv } from "./spec";

export {
    CHECKOUT,
    CHECKOUT_LATENCY_BUCKETS,
    CHECKOUT_SLO,
    DB_SECRET_ENV,
    MANAGED_ENV,
    TRACING_ENV,
    checkoutEnv,
} from "./spec";

/** Name of the ExternalSecret, and of the Secret it writes, that holds the database credentials. */
export const CHECKOUT_DB_SECRET = "checkout-db";

export interface CheckoutSettings {
    /** Namespace created for the service. */
    readonly namespace: string;
    /** This program's ECR repository URL. */
    readonly repositoryUrl: pulumi.Input<string>;
    /** Image tag or `sha256:` digest. */
    readonly imageTag: string;
    readonly autoscaling: AutoscalingArgs;
    readonly resources: Resources;
    /** DB_POOL_MAX of the service. */
    readonly dbPoolMax: number;
    /** LOG_LEVEL of the service. */
    readonly logLevel: string;
    /** @default [] */
    readonly egress?: readonly EgressRule[];
    /**
     * Extra non-secret environment variables (not one of MANAGED_ENV).
     * @default {}
     */
    readonly extraEnv?: Readonly<Record<string, string>>;
    /** @default no route */
    readonly route?: RouteArgs;
    /** Sources admitted on the metrics port (CHECKOUT.metricsPort), and on nothing else. @default [] */
    readonly metricsScrapers?: readonly NetworkPolicyPeer[];
    /**
     * The order store's credentials: a Secrets Manager secret in the RDS credentials format (see
     * DB_SECRET_ENV), read through `store` into the Secret the DB_* variables come from. The pods
     * also need egress to the database (`egress`).
     * @default none: no DB_* variables, and the service keeps no orders
     */
    readonly database?: {
        readonly store: ExternalSecretEnv["store"];
        /** Name of the secret in Secrets Manager; it must lie under the store's readable prefix. */
        readonly secretName: string;
    };
    /** A recommendation-only VerticalPodAutoscaler (WebServiceArgs.vpa). @default none */
    readonly vpa?: WebServiceArgs["vpa"];
    /** @default {} */
    readonly podAnnotations?: Readonly<Record<string, string>>;
    /**
     * Where the service sends its traces (ContainerInsightsAgent.otlp): sets
     * OTEL_EXPORTER_OTLP_ENDPOINT and an egress rule to the receiver's pods on its port.
     * @default none: the service exports no traces
     */
    readonly otlp?: AgentOtlpEndpoint;
}

/** The WebService arguments of checkout-service. */
export function checkoutServiceArgs(s: CheckoutSettings): WebServiceArgs {
    return {
        appName: CHECKOUT.appName,
        namespace: s.namespace,
        image: { repository: s.repositoryUrl, tag: s.imageTag },
        port: CHECKOUT.port,
        probes: { readinessPath: CHECKOUT.readinessPath, livenessPath: CHECKOUT.livenessPath },
        resources: s.resources,
        autoscaling: s.autoscaling,
        runAsUser: CHECKOUT.uid,
        shutdown: { preStopSleepSeconds: CHECKOUT.preStopSleepSeconds, drainSeconds: CHECKOUT.shutdownTimeoutSeconds },
        env: checkoutEnv({
            dbPoolMax: s.dbPoolMax,
            logLevel: s.logLevel,
            extraEnv: s.extraEnv ?? {},
            otlpEndpoint: s.otlp?.url,
        }),
        egress: [
            ...(s.egress ?? []),
            ...(s.otlp
                ? [
                      {
                          name: "otlp",
                          namespace: s.otlp.namespace,
                          podLabels: s.otlp.podLabels,
                          port: s.otlp.port,
                          protocol: "TCP" as const,
                      },
                  ]
                : []),
        ],
        route: s.route,
        metricsPort: CHECKOUT.metricsPort,
        metricsScrapers: s.metricsScrapers,
        externalSecrets: s.database
            ? [
                  {
                      name: CHECKOUT_DB_SECRET,
                      store: s.database.store,
                      remoteKey: s.database.secretName,
                      env: DB_SECRET_ENV,
                  },
              ]
            : [],
        vpa: s.vpa,
        podAnnotations: s.podAnnotations,
        labels: { "app.kubernetes.io/part-of": "checkout" },
    };
}

/**
 * Stacks deployed before the generic component existed hold checkout under the component type
 * `platform:checkout:CheckoutService`. Without this alias the next `up` sees new URNs: it creates
 * every object anew, which @pulumi/kubernetes 4.34 refuses with AlreadyExists (its provider docs,
 * `upsertExistingObjects`), and with upserts on it would adopt the live objects and then delete them
 * with the old URNs, the Namespace and everything in it. Children inherit the parent's alias.
 */
export const CHECKOUT_ALIASES: pulumi.Alias[] = [{ type: "platform:checkout:CheckoutService" }];
