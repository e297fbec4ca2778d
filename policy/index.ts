/**
 * The CrossGuard pack: `pulumi preview --policy-pack policy --policy-pack-config policy/config/<env>.json`.
 * Every rule defaults to mandatory (the prod behaviour); config/dev.json downgrades the P rules.
 * Do not import this file from tests: constructing PolicyPack starts a gRPC server.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, allPolicies } from "./policies";

new PolicyPack(PACK_NAME, {
    description:
        "Guardrails for the checkout EKS platform, AWS and Kubernetes: B rules always mandatory, P rules mandatory in prod.",
    enforcementLevel: "mandatory",
    policies: [...allPolicies],
});
