import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PSS_RESTRICTED_LABELS } from "../common";
import { ChartPin, HelmAddon, helmAddon } from "./helm-addon";
import { HostedZone, validateHostnames, validateZones } from "./route53";

/** Envoy Gateway's chart; the CRD chart (gateway-api-crds.ts) must carry the same version. */
export const ENVOY_GATEWAY = {
    chart: {
        chart: "oci://docker.io/envoyproxy/gateway-helm",
        // renovate: datasource=docker depName=docker.io/envoyproxy/gateway-helm
        version: "v1.9.0",
    } satisfies ChartPin,
    /** The chart's default `config.envoyGateway.gateway.controllerName` (values.yaml). */
    controllerName: "gateway.envoyproxy.io/gatewayclass-controller",
} as const;

export const ENVOY_GATEWAY_NAMES = { namespace: "envoy-gateway-system", release: "envoy-gateway" } as const;

/** The load balancer class the AWS Load Balancer Controller serves as NLBs. */
export const NLB_LOAD_BALANCER_CLASS = "service.k8s.aws/nlb";

/** Helm values of the Envoy Gateway controller (chart v1.9.0 values.yaml). */
export function envoyGatewayValues(replicas: number): Record<string, unknown> {
    return {
        // The chart's crds subchart installs the experimental Gateway API channel into `crds/`,
        // which Helm never upgrades; GatewayApiCrds is the one owner of those CRDs instead.
        crds: { enabled: false },
        deployment: {
            replicas,
            envoyGateway: {
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1024Mi" } },
            },
        },
        ...(replicas >= 2 ? { podDisruptionBudget: { maxUnavailable: 1 } } : {}),
    };
}

export interface EnvoyGatewayArgs {
    /** The Gateway API and Envoy Gateway CRDs; the controller needs them to start. */
    readonly crds: pulumi.Resource;
    /** Namespace of the controller, and of every Gateway's data-plane pods. @default "envoy-gateway-system" */
    readonly namespace?: string;
    /** Controller replicas (leader-elected); 2 or more also gets a PodDisruptionBudget. @default 2 */
    readonly replicas?: number;
    /** What must exist before the release waits for its pods (node capacity). @default [] */
    readonly dependsOn?: readonly pulumi.Resource[];
    /**
     * The AWS Load Balancer Controller release. Every Gateway's proxy Service lives in this
     * namespace and carries that controller's finalizer until it has deleted the Service's NLB. The
     * namespace waits for the controller, so `destroy` deletes the namespace (waiting for those
     * Services, and so for their NLBs) before it uninstalls the controller; otherwise the NLBs and
     * their security groups outlive the cluster. On the first `up` it also means the proxies are
     * created once the controller's pod webhook runs, so they get its target-health readiness gate
     * (the webhook's failurePolicy is Ignore: a pod created before it simply has no gate; chart
     * v3.5.0 values.yaml podMutatorWebhookConfig).
     * @default none: the NLBs' cleanup is not ordered before the controller's removal
     */
    readonly loadBalancerController?: pulumi.Resource;
}

/**
 * The Envoy Gateway controller, one per cluster: it watches GatewayClasses with its controller name
 * and runs an Envoy Deployment and a LoadBalancer Service per Gateway, in its own namespace.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class EnvoyGateway extends pulumi.ComponentResource {
    readonly addon: HelmAddon;
    readonly namespace: string;
    readonly controllerName: string = ENVOY_GATEWAY.controllerName;

    constructor(name: string, args: EnvoyGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:EnvoyGateway", name, {}, opts);
        this.namespace = args.namespace ?? ENVOY_GATEWAY_NAMES.namespace;
        this.addon = helmAddon(this, name, {
            namespace: this.namespace,
            // The data-plane pods run here: with this label the load balancer controller adds its
            // target-health readiness gate, so a rollout waits until the NLB sends to new pods.
            namespaceLabels: { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" },
            releaseName: ENVOY_GATEWAY_NAMES.release,
            chart: ENVOY_GATEWAY.chart,
            values: envoyGatewayValues(args.replicas ?? 2),
            namespaceDependsOn: args.loadBalancerController ? [args.loadBalancerController] : [],
            dependsOn: [args.crds, ...(args.dependsOn ?? [])],
        });
        this.registerOutputs({ namespace: this.namespace });
    }
}

/**
 * Labels Envoy Gateway v1.9.0 puts on a Gateway's proxy pods (ControllerNamespace mode, gateways not
 * merged): EnvoyAppLabel() in internal/infrastructure/kubernetes/proxy/resource.go and
 * GatewayOwnerLabels() in internal/gatewayapi/helpers.go. NetworkPolicies select the data plane by them.
 */
export function envoyProxyPodLabels(gatewayNamespace: string, gatewayName: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": "envoy",
        "app.kubernetes.io/component": "proxy",
        "app.kubernetes.io/managed-by": "envoy-gateway",
        "gateway.envoyproxy.io/owning-gateway-name": gatewayName,
        "gateway.envoyproxy.io/owning-gateway-namespace": gatewayNamespace,
    };
}

/**
 * The EnvoyProxy spec (gateway.envoyproxy.io/v1alpha1, api/v1alpha1/envoyproxy_types.go v1.9.0)
 * that makes the data plane's Service an internet-facing NLB with IP targets. `loadBalancerClass`
 * hands the Service to the AWS Load Balancer Controller explicitly (the in-tree controller skips
 * it); it is immutable on a Service, which is why the EnvoyProxy exists before the Gateway.
 */
export function envoyProxySpec(a: { replicas: number; podLabels: Record<string, string> }): Record<string, unknown> {
    return {
        provider: {
            type: "Kubernetes",
            kubernetes: {
                envoyService: {
                    type: "LoadBalancer",
                    loadBalancerClass: NLB_LOAD_BALANCER_CLASS,
                    annotations: {
                        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
                        // Shorter than Envoy's default 60 s drain, so the NLB stops sending to a
                        // terminating proxy before it closes its listeners (the default is 300 s).
                        "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":
                            "deregistration_delay.timeout_seconds=30",
                    },
                },
                envoyDeployment: {
                    replicas: a.replicas,
                    pod: {
                        topologySpreadConstraints: [
                            {
                                maxSkew: 1,
                                topologyKey: "topology.kubernetes.io/zone",
                                whenUnsatisfiable: "ScheduleAnyway",
                                labelSelector: { matchLabels: a.podLabels },
                            },
                        ],
                    },
                    container: {
                        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                    },
                },
                ...(a.replicas >= 2 ? { envoyPDB: { maxUnavailable: 1 } } : {}),
            },
        },
    };
}

/** `shop.example.com` -> `shop-example-com`, `*.example.com` -> `wildcard-example-com`. */
export function hostnameSlug(hostname: string): string {
    return hostname.replace(/^\*\./, "wildcard.").replace(/\./g, "-");
}

/** The HTTP listener's name: only the redirect route attaches to it. */
export const HTTP_LISTENER = "http";
export const httpsListenerName = (hostname: string) => `https-${hostnameSlug(hostname)}`;

/**
 * The Gateway's listeners: one HTTPS listener per hostname, each terminating TLS with its own
 * Secret, and one HTTP listener that accepts routes from the Gateway's namespace only, where the
 * redirect lives (an application route without `sectionName` therefore never serves plain HTTP).
 * cert-manager's gateway shim issues a certificate for a listener only with a hostname,
 * `tls.mode: Terminate` and a Secret in the Gateway's namespace (pkg/controller/certificate-shim/sync.go, v1.21).
 */
export function gatewayListeners(gatewayName: string, hostnames: readonly string[]): Record<string, unknown>[] {
    return [
        {
            name: HTTP_LISTENER,
            protocol: "HTTP",
            port: 80,
            allowedRoutes: { namespaces: { from: "Same" } },
        },
        ...hostnames.map((hostname) => ({
            name: httpsListenerName(hostname),
            protocol: "HTTPS",
            port: 443,
            hostname,
            tls: {
                mode: "Terminate",
                certificateRefs: [{ kind: "Secret", group: "", name: `${gatewayName}-${hostnameSlug(hostname)}-tls` }],
            },
            allowedRoutes: { namespaces: { from: "All" } },
        })),
    ];
}

/** HTTP -> HTTPS, permanently, for every hostname the HTTP listener sees. */
export function redirectRouteSpec(gatewayName: string): Record<string, unknown> {
    return {
        parentRefs: [{ name: gatewayName, sectionName: HTTP_LISTENER }],
        rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
    };
}

/** What an application route and its NetworkPolicy need to know about the shared Gateway. */
export interface GatewayRouteTarget {
    /**
     * The HTTPRoute's `parentRefs` entry. The name is an output of the Gateway, so a route made
     * from it waits for the Gateway (and through it for the CRDs, the controllers it names and
     * ExternalDNS), and `destroy` deletes the route first.
     */
    readonly parentRef: {
        readonly name: pulumi.Input<string>;
        readonly namespace: string;
        readonly sectionName?: string;
    };
    /** Where the proxies that forward to the application run, and their labels. */
    readonly dataPlane: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
    /** What a route must wait for: the Gateway API CRDs and the Gateway itself. */
    readonly dependsOn: readonly pulumi.Resource[];
}

export interface EdgeGatewayArgs {
    /** The controller that serves the Gateway (and whose namespace its proxies run in). */
    readonly controller: EnvoyGateway;
    /** The Gateway API and Envoy Gateway CRDs. */
    readonly crds: pulumi.Resource;
    /** The AWS Load Balancer Controller release: the proxies' Service must find it running. */
    readonly loadBalancerController: pulumi.Resource;
    /** Hostnames served over HTTPS, one listener and certificate each. */
    readonly hostnames: readonly string[];
    /** Zones the hostnames must lie in (certificates are proven and records written there). */
    readonly zones: readonly HostedZone[];
    /**
     * The ExternalDNS release that writes the routes' records. The Gateway waits for it, and every
     * route waits for the Gateway (its parentRef), so `destroy` deletes the routes and the Gateway
     * while ExternalDNS still runs and can remove their records (it does so on its next sync: see
     * the README on what destroy leaves behind).
     * @default none
     */
    readonly dnsController?: pulumi.Resource;
    /** The ClusterIssuer the listeners' certificates come from (e.g. CertManager.issuers.production). */
    readonly issuer: { readonly name: string; readonly resource?: pulumi.Resource };
    /** Namespace of the Gateway, its redirect route and its certificates. @default "gateway" */
    readonly namespace?: string;
    /** @default "edge" */
    readonly gatewayName?: string;
    /** Envoy proxy replicas; 2 or more also gets a PodDisruptionBudget. @default 2 */
    readonly replicas?: number;
}

/**
 * One shared Gateway in its own namespace, behind an internet-facing NLB: an EnvoyProxy (the NLB
 * settings), a GatewayClass that uses it, the Gateway with an HTTPS listener per hostname whose
 * certificates cert-manager issues from `issuer`, and the HTTP -> HTTPS redirect.
 * Needs the Kubernetes provider in `opts.providers`.
 */
export class EdgeGateway extends pulumi.ComponentResource {
    readonly gateway: k8s.apiextensions.CustomResource;
    readonly gatewayClass: k8s.apiextensions.CustomResource;
    readonly envoyProxy: k8s.apiextensions.CustomResource;
    readonly redirect: k8s.apiextensions.CustomResource;
    /** parentRef (no sectionName: attaches to the HTTPS listener of the route's hostname) and data plane. */
    readonly routes: GatewayRouteTarget;
    /** Hostname -> its HTTPS listener's name. */
    readonly listeners: Readonly<Record<string, string>>;

    constructor(name: string, args: EdgeGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:EdgeGateway", name, {}, opts);
        validateZones(args.zones, `${name}: zones`);
        validateHostnames(args.hostnames, args.zones, `${name}: hostnames`);
        const namespace = args.namespace ?? "gateway";
        const gatewayName = args.gatewayName ?? "edge";
        const replicas = args.replicas ?? 2;
        const dataPlaneNamespace = args.controller.namespace;
        const podLabels = envoyProxyPodLabels(namespace, gatewayName);
        // Cluster-scoped, so named after the Gateway to keep a second instance from colliding.
        const className = `envoy-${namespace}-${gatewayName}`;
        const crdsReady = [args.crds, args.controller];

        const ns = new k8s.core.v1.Namespace(
            `${name}-ns`,
            {
                metadata: { name: namespace, labels: PSS_RESTRICTED_LABELS },
            },
            { parent: this },
        );

        this.envoyProxy = new k8s.apiextensions.CustomResource(
            `${name}-envoy-proxy`,
            {
                apiVersion: "gateway.envoyproxy.io/v1alpha1",
                kind: "EnvoyProxy",
                metadata: { name: className, namespace: dataPlaneNamespace },
                spec: envoyProxySpec({ replicas, podLabels }),
            },
            { parent: this, dependsOn: crdsReady },
        );

        this.gatewayClass = new k8s.apiextensions.CustomResource(
            `${name}-class`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "GatewayClass",
                metadata: { name: className },
                spec: {
                    controllerName: args.controller.controllerName,
                    parametersRef: {
                        group: "gateway.envoyproxy.io",
                        kind: "EnvoyProxy",
                        name: className,
                        namespace: dataPlaneNamespace,
                    },
                },
            },
            { parent: this, dependsOn: [...crdsReady, this.envoyProxy] },
        );

        this.gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "Gateway",
                metadata: {
                    name: gatewayName,
                    namespace,
                    // cert-manager's gateway shim makes one Certificate per listener Secret.
                    annotations: { "cert-manager.io/cluster-issuer": args.issuer.name },
                },
                spec: { gatewayClassName: className, listeners: gatewayListeners(gatewayName, args.hostnames) },
            },
            {
                parent: this,
                dependsOn: [
                    ns,
                    ...crdsReady,
                    this.gatewayClass,
                    args.loadBalancerController,
                    ...(args.dnsController ? [args.dnsController] : []),
                    ...(args.issuer.resource ? [args.issuer.resource] : []),
                ],
            },
        );

        this.redirect = new k8s.apiextensions.CustomResource(
            `${name}-https-redirect`,
            {
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: `${gatewayName}-https-redirect`, namespace },
                spec: redirectRouteSpec(gatewayName),
            },
            { parent: this, dependsOn: [...crdsReady, this.gateway] },
        );

        this.listeners = Object.fromEntries(args.hostnames.map((h) => [h, httpsListenerName(h)]));
        this.routes = {
            parentRef: { name: this.gateway.metadata.name, namespace },
            dataPlane: { namespace: dataPlaneNamespace, podLabels },
            dependsOn: [args.crds, this.gateway],
        };
        this.registerOutputs({ gateway: gatewayName, namespace, listeners: this.listeners });
    }

    /** The route target pinned to the HTTPS listener of `hostname`; throws for a hostname not served. */
    routeFor(hostname: string): GatewayRouteTarget {
        const sectionName = this.listeners[hostname];
        if (!sectionName)
            throw new Error(
                `the Gateway serves no HTTPS listener for ${JSON.stringify(hostname)}; it serves ${Object.keys(this.listeners).join(", ")}`,
            );
        return { ...this.routes, parentRef: { ...this.routes.parentRef, sectionName } };
    }
}
