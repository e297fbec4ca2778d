/**
 * The pack's rules, in one list. Kept apart from index.ts because constructing `PolicyPack` starts
 * the analyzer's gRPC server: tests and the offline runner import this module, never index.ts.
 */
import type { GuardrailPolicy } from "./lib/rule";
import { eksRules } from "./rules/aws-eks";
import { eksDeployRules } from "./rules/aws-eks-deploy";
import { edgeRules } from "./rules/edge";
import { secretRules } from "./rules/secrets";
import { ecrRules } from "./rules/aws-ecr";
import { iamRules } from "./rules/aws-iam";
import { karpenterRules } from "./rules/karpenter";
import { kmsRules } from "./rules/aws-kms";
import { logRules } from "./rules/aws-logs";
import { nodeRules } from "./rules/aws-nodes";
import { vpcCniRules } from "./rules/aws-vpc-cni";
import { snsRules } from "./rules/aws-sns";
import { helmRules } from "./rules/k8s-helm";
import { objectRules } from "./rules/k8s-objects";
import { k8sStackRules } from "./rules/k8s-stack";
import { workloadRules } from "./rules/k8s-workload";

export type { GuardrailPolicy, GuardrailResourcePolicy, GuardrailStackPolicy } from "./lib/rule";

export const allPolicies: readonly GuardrailPolicy[] = [
    ...eksRules,
    ...eksDeployRules,
    ...nodeRules,
    ...vpcCniRules,
    ...kmsRules,
    ...snsRules,
    ...ecrRules,
    ...logRules,
    ...iamRules,
    ...workloadRules,
    ...objectRules,
    ...k8sStackRules,
    ...helmRules,
    ...edgeRules,
    ...karpenterRules,
    ...secretRules,
];

export const PACK_NAME = "checkout-platform";
