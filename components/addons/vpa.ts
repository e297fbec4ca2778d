import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ChartPin, HelmAddon, helmAddon } from "./helm-addon";

/**
 * Fairwinds' `vpa` chart 5.0.0 runs Vertical Pod Autoscaler 1.7.1 (its Chart.yaml). The chart keeps
 * the VPA CRDs in `crds/`, which Helm installs once and never upgrades, so the program applies that
 * file itself, pinned to the commit that made chart 5.0.0 (FairwindsOps/charts#1978, 5f478fc), and
 * the release skips it.
 */
export const VPA = {
    chart: {
        chart: "vpa",
        repository: "https://charts.fairwinds.com/stable",
        // renovate: datasource=helm depName=vpa registryUrl=https://charts.fairwinds.com/stable
        version: "5.0.0",
    } satisfies ChartPin,
    // renovate: datasource=docker depName=registry.k8s.io/autoscaling/vpa-recommender
    appVersion: "1.7.1",
    crdsUrl:
        "https://raw.githubusercontent.com/FairwindsOps/charts/5f478fcec32f69a0818a7f78f4be5cbe7a1719c4/stable/vpa/crds/vpa-v1-crd.yaml",
} as const;

export const VPA_NAMES = { namespace: "vpa", release: "vpa" } as const;

/**
 * Helm values (chart 5.0.0 values.yaml): the recommender only. The updater (evicts pods to apply
 * recommendations) and the admission controller (rewrites pod requests) are off, so no
 * VerticalPodAutoscaler can change a pod whatever its updateMode, and the HPA stays the only thing
 * that scales on CPU and memory (VPA README, "Known limitations": do not use both on the same
 * resource metric). The metrics-server subchart stays off: the EKS metrics-server add-on serves the
 * metrics API. The recommender's pods already meet Pod Security "restricted" (values.yaml).
 */
export function vpaValues(): Record<string, unknown> {
    return {
        recommender: {
            enabled: true,
            resources: { requests: { cpu: "25m", memory: "128Mi" }, limits: { memory: "512Mi" } },
        },
        updater: { enabled: false },
        admissionController: { enabled: false },
        "metrics-server": { enabled: false },
    };
}

export interface VpaRecommenderArgs {
    /** What must exist before the release waits for its pods (node capacity). @default [] */
    readonly dependsOn?: readonly pulumi.Resource[];
}

/**
 * The VPA recommender and the VPA CRDs. A VerticalPodAutoscaler object waits for `crds`
 * (WebServiceArgs.vpa.installedBy). Needs the Kubernetes provider in `opts.providers`.
 */
export class VpaRecommender extends pulumi.ComponentResource {
    readonly crds: k8s.yaml.v2.ConfigFile;
    readonly addon: HelmAddon;

    constructor(name: string, args: VpaRecommenderArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("platform:addons:VpaRecommender", name, {}, opts);
        this.crds = new k8s.yaml.v2.ConfigFile(`${name}-crds`, { file: VPA.crdsUrl }, { parent: this });
        this.addon = helmAddon(this, name, {
            namespace: VPA_NAMES.namespace,
            releaseName: VPA_NAMES.release,
            chart: VPA.chart,
            values: vpaValues(),
            dependsOn: [this.crds, ...(args.dependsOn ?? [])],
        });
        this.registerOutputs({});
    }
}
