import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartPin, chartSource } from "./helm-addon";

/**
 * Envoy Gateway's CRD chart at the Envoy Gateway version (v1.9.0 bundles Gateway API v1.6.1:
 * charts/gateway-crds-helm/templates/standard-gatewayapi-crds.yaml, `bundle-version`). Versions
 * are published as `v<x.y.z>` to oci://docker.io/envoyproxy (.github/workflows/release.yaml).
 */
export const GATEWAY_API_CRDS = {
    chart: {
        chart: "oci://docker.io/envoyproxy/gateway-crds-helm",
        // renovate: datasource=docker depName=docker.io/envoyproxy/gateway-crds-helm
        version: "v1.9.0",
    } satisfies ChartPin,
    /** The Gateway API release that chart version carries, for readers and the route schema. */
    // renovate: datasource=github-releases depName=kubernetes-sigs/gateway-api
    gatewayApiBundle: "v1.6.1",
} as const;

/**
 * Values of the CRD chart: the Gateway API CRDs from the standard channel (the chart defaults to
 * experimental, and its safe-upgrades admission policy rejects going back from experimental to
 * standard), and Envoy Gateway's own CRDs (EnvoyProxy and the policies).
 */
export function gatewayApiCrdsValues(): Record<string, unknown> {
    return { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } };
}

export interface GatewayApiCrdsArgs {
    /** Chart pin; for tests and upgrades. @default GATEWAY_API_CRDS.chart */
    readonly chart?: ChartPin;
}

/**
 * The one owner of the Gateway API and Envoy Gateway CRDs in the cluster.
 *
 * Rendered client-side (`helm.v4.Chart`) and applied object by object with server-side apply:
 * - the chart keeps its CRDs in `templates/`, so a version bump here changes and upgrades them,
 *   unlike a chart's `crds/` folder, which Helm never upgrades;
 * - installed as a Helm release it fails: the release record (chart and rendered manifest, several MB of CRDs)
 *   exceeds the 1 MiB Secret limit (envoyproxy/gateway#6105), and client-side apply hits the
 *   256 KiB annotation limit on the largest CRDs (envoyproxy/gateway#8091). The upstream README
 *   recommends `helm template | kubectl apply --server-side`, which is what this does.
 * Every Gateway API and Envoy Gateway object, cert-manager's Gateway support, ExternalDNS's
 * Gateway sources and Envoy Gateway itself must wait for `this`.
 * Needs the Kubernetes provider (with server-side apply) in `opts.providers`.
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
    readonly chart: k8s.helm.v4.Chart;

    constructor(name: string, args: GatewayApiCrdsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:GatewayApiCrds", name, {}, opts);
        this.chart = new k8s.helm.v4.Chart(
            `${name}-chart`,
            {
                ...chartSource(args.chart ?? GATEWAY_API_CRDS.chart),
                // The chart renders cluster-scoped objects only (CRDs, an admission policy); naming a
                // namespace keeps anything namespaced a later version might add out of `default`.
                namespace: "kube-system",
                values: gatewayApiCrdsValues(),
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
