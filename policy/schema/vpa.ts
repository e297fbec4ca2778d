/**
 * The VerticalPodAutoscaler (autoscaling.k8s.io/v1), checked offline. No kubernetes-models package
 * carries the VPA CRDs, so this is a typed allow-list of the spec fields of the CRD file that
 * components/addons/vpa.ts applies (VPA 1.7.1: FairwindsOps/charts stable/vpa/crds/vpa-v1-crd.yaml
 * at 5f478fc), plus the enums that CRD validates.
 */
import { ValuesIssue, ValuesSpec, checkValues } from "./cert-manager-values";

export const VPA_SPEC: ValuesSpec = {
    targetRef: { apiVersion: "string", kind: "string", name: "string" },
    updatePolicy: {
        updateMode: "string",
        minReplicas: "integer",
        evictionRequirements: "array",
        evictAfterOOMSeconds: "integer",
    },
    resourcePolicy: { containerPolicies: "array" },
    recommenders: "array",
    startupBoost: "map",
};

const CONTAINER_POLICY: ValuesSpec = {
    containerName: "string",
    mode: "string",
    minAllowed: "map",
    maxAllowed: "map",
    controlledResources: "array",
    controlledValues: "string",
    memoryAggregationIntervalCount: "integer",
    memoryAggregationIntervalSeconds: "integer",
    oomBumpUpRatio: "int-or-string",
    oomMinBumpUp: "int-or-string",
    startupBoost: "map",
};

const UPDATE_MODES = ["Off", "Initial", "Recreate", "InPlaceOrRecreate", "InPlace", "Auto"];
const RESOURCES = ["cpu", "memory"];

/** Problems with a VerticalPodAutoscaler's `spec`, as dotted paths; empty when it is valid. */
export function checkVpaSpec(spec: unknown): ValuesIssue[] {
    if (spec === null || typeof spec !== "object" || Array.isArray(spec))
        return [{ path: "", message: "spec must be an object" }];
    const s = spec as Record<string, unknown>;
    const issues = checkValues(s, VPA_SPEC);
    const target = s.targetRef as Record<string, unknown> | undefined;
    if (!target || typeof target.kind !== "string" || typeof target.name !== "string")
        issues.push({ path: "targetRef", message: "targetRef.kind and targetRef.name are required" });
    const mode = (s.updatePolicy as Record<string, unknown> | undefined)?.updateMode;
    if (mode !== undefined && !UPDATE_MODES.includes(mode as string))
        issues.push({
            path: "updatePolicy.updateMode",
            message: `updatePolicy.updateMode must be one of ${UPDATE_MODES.join(", ")}; got ${JSON.stringify(mode)}`,
        });
    const policies = (s.resourcePolicy as Record<string, unknown> | undefined)?.containerPolicies;
    (Array.isArray(policies) ? policies : []).forEach((p, i) => {
        const path = `resourcePolicy.containerPolicies.${i}`;
        issues.push(...checkValues(p, CONTAINER_POLICY, path));
        const controlled = (p as Record<string, unknown>).controlledResources;
        for (const r of Array.isArray(controlled) ? controlled : [])
            if (!RESOURCES.includes(r as string))
                issues.push({
                    path: `${path}.controlledResources`,
                    message: `controlledResources may hold ${RESOURCES.join(", ")}; got ${JSON.stringify(r)}`,
                });
    });
    return issues;
}
