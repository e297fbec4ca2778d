/**
 * Compliant fixtures: one per resource type the rules read, in both views (mock inputs of the
 * component boundary, live props of the real children), and a compliant stack. Every test that
 * expects a violation starts from one of these and changes one field.
 */
import type { RecordedResource } from "../offline";
import { K8S_PROVIDER, StackFixture, urnOf } from "./helpers";

export const ACCOUNT = "222222222222";
export const REGION = "eu-west-1";
export const CLUSTER_NAME = "checkout-prod";
export const ISSUER_HOST = `oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E`;
export const OIDC_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST}`;
export const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/checkout-service:1.4.2`;
export const PRIVATE_SUBNETS = ["subnet-priv-a", "subnet-priv-b", "subnet-priv-c"];
export const PUBLIC_SUBNETS = ["subnet-pub-a", "subnet-pub-b", "subnet-pub-c"];
const KEY_ARN = (id: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
const ALL_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

type Props = Record<string, unknown>;

export const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/platform-deploy`;
export const PREVIEW_ROLE = `arn:aws:iam::${ACCOUNT}:role/platform-preview`;
const CLUSTER_ADMIN = {
    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    accessScope: { type: "cluster" },
};

// ---- AWS, mock view (component inputs) -------------------------------------------------------

export const eksClusterComponent = (): Props => ({
    name: CLUSTER_NAME,
    version: "1.36",
    upgradePolicy: { supportType: "STANDARD" },
    vpcId: "vpc-0123",
    privateSubnetIds: [...PRIVATE_SUBNETS],
    publicSubnetIds: [...PUBLIC_SUBNETS],
    nodeAssociatePublicIpAddress: false,
    skipDefaultNodeGroup: true,
    createInstanceRole: false,
    authenticationMode: "API",
    createOidcProvider: true,
    encryptionConfigKeyArn: KEY_ARN("secrets"),
    enabledClusterLogTypes: [...ALL_LOG_TYPES],
    endpointPrivateAccess: true,
    endpointPublicAccess: true,
    publicAccessCidrs: ["203.0.113.0/24"],
    deletionProtection: true,
    vpcCniOptions: { enableNetworkPolicy: true, addonVersion: "v1.23.1-eksbuild.1" },
    kubeProxyAddonOptions: { enabled: true, version: "v1.36.0-eksbuild.14" },
    corednsAddonOptions: { enabled: false },
    accessEntries: {
        deploy: { principalArn: DEPLOY_ROLE, accessPolicies: { admin: CLUSTER_ADMIN } },
        preview: { principalArn: PREVIEW_ROLE, accessPolicies: { admin: CLUSTER_ADMIN } },
    },
});

export const managedNodeGroup = (): Props => ({
    cluster: "cluster-ref",
    version: "1.36",
    subnetIds: [...PRIVATE_SUBNETS],
    instanceTypes: ["t3.large"],
    amiType: "AL2023_x86_64_STANDARD",
    scalingConfig: { minSize: 3, desiredSize: 3, maxSize: 9 },
    enableIMDSv2: true,
});

export const awsxVpc = (): Props => ({
    cidrBlock: "10.0.0.0/16",
    numberOfAvailabilityZones: 3,
    natGateways: { strategy: "OnePerAz" },
});

// ---- AWS, live view (the real children) ---------------------------------------------------------

export const awsEksCluster = (): Props => ({
    name: CLUSTER_NAME,
    version: "1.36",
    enabledClusterLogTypes: [...ALL_LOG_TYPES],
    encryptionConfig: { provider: { keyArn: KEY_ARN("secrets") }, resources: ["secrets"] },
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    vpcConfig: {
        endpointPrivateAccess: true,
        endpointPublicAccess: true,
        publicAccessCidrs: ["203.0.113.0/24"],
        subnetIds: [...PRIVATE_SUBNETS, ...PUBLIC_SUBNETS],
    },
    deletionProtection: true,
    upgradePolicy: { supportType: "STANDARD" },
});

export const awsNodeGroup = (): Props => ({
    clusterName: CLUSTER_NAME,
    subnetIds: [...PRIVATE_SUBNETS],
    scalingConfig: { minSize: 3, desiredSize: 3, maxSize: 9 },
    launchTemplate: { id: "lt-0123", version: "1" },
});

export const launchTemplate = (): Props => ({
    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2, httpEndpoint: "enabled" },
    networkInterfaces: [{ associatePublicIpAddress: "false" }],
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 50, volumeType: "gp3", encrypted: "true" } }],
});

export const vpcCniAddon = (): Props => ({
    clusterName: CLUSTER_NAME,
    addonName: "vpc-cni",
    addonVersion: "v1.23.1-eksbuild.1",
    configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
});

export const kmsKey = (): Props => ({ description: "secrets", enableKeyRotation: true, deletionWindowInDays: 30 });

export const logsKmsKey = (): Props => ({
    description: "logs",
    enableKeyRotation: true,
    policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
            {
                Effect: "Allow",
                Principal: { Service: `logs.${REGION}.amazonaws.com` },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                Resource: "*",
            },
        ],
    }),
});

export const ecrRepository = (): Props => ({
    name: "checkout-service",
    imageTagMutability: "IMMUTABLE",
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: KEY_ARN("ecr") }],
    forceDelete: false,
});

/** Releases kept (a count at ECR's image quota), untagged by age, CI images (sha-*) by count. */
export const ecrLifecycleRules = () => [
    {
        rulePriority: 1,
        selection: {
            tagStatus: "tagged",
            tagPatternList: ["*.*.*"],
            countType: "imageCountMoreThan",
            countNumber: 10000,
        },
        action: { type: "expire" },
    },
    {
        rulePriority: 2,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
        action: { type: "expire" },
    },
    {
        rulePriority: 3,
        selection: { tagStatus: "tagged", tagPatternList: ["sha-*"], countType: "imageCountMoreThan", countNumber: 30 },
        action: { type: "expire" },
    },
];

export const ecrLifecyclePolicy = (): Props => ({
    repository: "checkout-service",
    policy: JSON.stringify({ rules: ecrLifecycleRules() }),
});

export const ecrRepositoryPolicy = (): Props => ({
    repository: "checkout-service",
    policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
                Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            },
        ],
    }),
});

export const logGroup = (): Props => ({
    name: `/aws/eks/${CLUSTER_NAME}/cluster`,
    retentionInDays: 365,
    kmsKeyId: KEY_ARN("logs"),
});

export const irsaTrust = (sub = "system:serviceaccount:cert-manager:cert-manager") => ({
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Principal: { Federated: OIDC_ARN },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { [`${ISSUER_HOST}:sub`]: sub, [`${ISSUER_HOST}:aud`]: "sts.amazonaws.com" } },
        },
    ],
});

export const irsaRole = (): Props => ({
    description: "cert-manager DNS01",
    assumeRolePolicy: JSON.stringify(irsaTrust()),
});

export const route53Policy = (): Props => ({
    policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: "route53:GetChange", Resource: "arn:aws:route53:::change/*" },
            {
                Effect: "Allow",
                Action: ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                Resource: "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ",
            },
        ],
    }),
});

export const rolePolicyAttachment = (): Props => ({
    role: "node-role",
    policyArn: "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
});

// ---- Kubernetes -----------------------------------------------------------------------------------

export const NS = "checkout";
export const APP_LABELS = { "app.kubernetes.io/name": "checkout-service" };

export const namespace = (): Props => ({
    metadata: { name: NS, labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
});

export const serviceAccount = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS },
    automountServiceAccountToken: false,
});

const httpProbe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10 });

/** The compliant checkout Deployment the brief describes. */
export const deployment = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS, labels: { ...APP_LABELS } },
    spec: {
        selector: { matchLabels: { ...APP_LABELS } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
            metadata: { labels: { ...APP_LABELS } },
            spec: {
                serviceAccountName: "checkout-service",
                automountServiceAccountToken: false,
                terminationGracePeriodSeconds: 45,
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 10001,
                    runAsGroup: 10001,
                    fsGroup: 10001,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                topologySpreadConstraints: [
                    {
                        maxSkew: 1,
                        topologyKey: "topology.kubernetes.io/zone",
                        whenUnsatisfiable: "ScheduleAnyway",
                        labelSelector: { matchLabels: { ...APP_LABELS } },
                    },
                ],
                affinity: {
                    podAntiAffinity: {
                        preferredDuringSchedulingIgnoredDuringExecution: [
                            {
                                weight: 100,
                                podAffinityTerm: {
                                    topologyKey: "kubernetes.io/hostname",
                                    labelSelector: { matchLabels: { ...APP_LABELS } },
                                },
                            },
                        ],
                    },
                },
                containers: [
                    {
                        name: "checkout-service",
                        image: IMAGE,
                        ports: [{ name: "http", containerPort: 8080 }],
                        env: [
                            { name: "LOG_LEVEL", value: "info" },
                            {
                                name: "DB_PASSWORD",
                                valueFrom: { secretKeyRef: { name: "checkout-db", key: "password" } },
                            },
                        ],
                        readinessProbe: httpProbe("/health/ready"),
                        livenessProbe: httpProbe("/health/live"),
                        startupProbe: { ...httpProbe("/health/live"), failureThreshold: 30 },
                        resources: {
                            requests: { cpu: "300m", memory: "384Mi" },
                            limits: { cpu: "600m", memory: "768Mi" },
                        },
                        securityContext: {
                            allowPrivilegeEscalation: false,
                            readOnlyRootFilesystem: true,
                            runAsNonRoot: true,
                            capabilities: { drop: ["ALL"] },
                        },
                        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                        lifecycle: { preStop: { sleep: { seconds: 10 } } },
                    },
                ],
                volumes: [{ name: "tmp", emptyDir: {} }],
            },
        },
    },
});

export const service = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS },
    spec: { selector: { ...APP_LABELS }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
});

export const hpa = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS },
    spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "checkout-service" },
        minReplicas: 3,
        maxReplicas: 12,
        metrics: [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
});

export const pdb = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS },
    spec: { maxUnavailable: 1, selector: { matchLabels: { ...APP_LABELS } } },
});

export const defaultDeny = (): Props => ({
    metadata: { name: "default-deny", namespace: NS },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
});

export const allowPolicy = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS },
    spec: {
        podSelector: { matchLabels: { ...APP_LABELS } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
            {
                from: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "envoy-gateway-system" } },
                        podSelector: { matchLabels: { "gateway.envoyproxy.io/owning-gateway-name": "edge" } },
                    },
                ],
                ports: [{ port: "http", protocol: "TCP" }],
            },
        ],
        egress: [
            {
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
                ports: [
                    { port: 53, protocol: "UDP" },
                    { port: 53, protocol: "TCP" },
                ],
            },
            { to: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ port: 5432, protocol: "TCP" }] },
        ],
    },
});

export const CERT_MANAGER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/cert-manager-dns01`;

export const certManagerRelease = (): Props => ({
    name: "cert-manager",
    chart: "cert-manager",
    version: "v1.21.1",
    namespace: "cert-manager",
    createNamespace: true,
    repositoryOpts: { repo: "https://charts.jetstack.io" },
    values: {
        crds: { enabled: true },
        replicaCount: 2,
        podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
        serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": CERT_MANAGER_ROLE_ARN } },
        prometheus: { enabled: true, servicemonitor: { enabled: false } },
        webhook: {
            replicaCount: 2,
            podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
            resources: { requests: { cpu: "20m", memory: "64Mi" } },
        },
        cainjector: {
            replicaCount: 2,
            podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
            resources: { requests: { cpu: "20m", memory: "128Mi" } },
        },
        global: { leaderElection: { namespace: "cert-manager" } },
    },
});

export const clusterIssuer = (): Props => ({
    metadata: { name: "letsencrypt-prod" },
    spec: {
        acme: {
            server: "https://acme-v02.api.letsencrypt.org/directory",
            email: "platform-team@example.com",
            privateKeySecretRef: { name: "letsencrypt-prod-account-key" },
            solvers: [{ dns01: { route53: { region: REGION, hostedZoneID: "Z0123456789ABCDEFGHIJ" } } }],
        },
    },
});

// ---- The edge: Gateway API, Pod Identity, ExternalDNS ------------------------------------------------------

export const ZONE_ID = "Z0123456789ABCDEFGHIJ";
export const GATEWAY_NS = "gateway";

export const podIdentityTrust = (ns = "external-dns", sa = "external-dns") => ({
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Principal: { Service: "pods.eks.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession"],
            Condition: {
                StringEquals: {
                    "aws:RequestTag/eks-cluster-name": CLUSTER_NAME,
                    "aws:RequestTag/kubernetes-namespace": ns,
                    "aws:RequestTag/kubernetes-service-account": sa,
                },
            },
        },
    ],
});

export const gateway = (): Props => ({
    metadata: {
        name: "edge",
        namespace: GATEWAY_NS,
        annotations: { "cert-manager.io/cluster-issuer": "letsencrypt-production" },
    },
    spec: {
        gatewayClassName: "envoy-gateway-edge",
        listeners: [
            { name: "http", protocol: "HTTP", port: 80, allowedRoutes: { namespaces: { from: "Same" } } },
            {
                name: "https-checkout-example-com",
                protocol: "HTTPS",
                port: 443,
                hostname: "checkout.example.com",
                tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", group: "", name: "edge-checkout-tls" }] },
                allowedRoutes: { namespaces: { from: "All" } },
            },
        ],
    },
});

export const redirectRoute = (): Props => ({
    metadata: { name: "edge-https-redirect", namespace: GATEWAY_NS },
    spec: {
        parentRefs: [{ name: "edge", sectionName: "http" }],
        rules: [{ filters: [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }] }],
    },
});

export const appRoute = (): Props => ({
    metadata: { name: "checkout-service", namespace: NS },
    spec: {
        parentRefs: [{ name: "edge", namespace: GATEWAY_NS, sectionName: "https-checkout-example-com" }],
        hostnames: ["checkout.example.com"],
        rules: [{ backendRefs: [{ name: "checkout-service", port: 80 }] }],
    },
});

export const gatewayCrdsChart = (): Props => ({
    chart: "oci://docker.io/envoyproxy/gateway-crds-helm",
    version: "v1.9.0",
    namespace: "kube-system",
    values: { crds: { gatewayAPI: { enabled: true, channel: "standard" }, envoyGateway: { enabled: true } } },
});

export const externalDnsRelease = (): Props => ({
    name: "external-dns",
    chart: "external-dns",
    version: "1.21.1",
    namespace: "external-dns",
    repositoryOpts: { repo: "https://kubernetes-sigs.github.io/external-dns/" },
    values: {
        provider: { name: "aws" },
        sources: ["gateway-httproute"],
        policy: "sync",
        registry: "txt",
        txtOwnerId: CLUSTER_NAME,
        domainFilters: ["example.com"],
        serviceAccount: { create: true, name: "external-dns" },
    },
});

export const externalSecretsRelease = (): Props => ({
    name: "external-secrets",
    chart: "external-secrets",
    version: "2.9.0",
    namespace: "external-secrets",
    repositoryOpts: { repo: "https://charts.external-secrets.io" },
    values: { installCRDs: true, serviceAccount: { create: true, name: "external-secrets" } },
});

export const clusterSecretStore = (): Props => ({
    apiVersion: "external-secrets.io/v1",
    kind: "ClusterSecretStore",
    metadata: { name: "aws-secrets-manager" },
    spec: { provider: { aws: { service: "SecretsManager", region: "eu-west-1" } } },
});

/** The Secret the Deployment fixture's DB_PASSWORD comes from. */
export const externalSecret = (): Props => ({
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: "checkout-db", namespace: NS },
    spec: {
        secretStoreRef: { kind: "ClusterSecretStore", name: "aws-secrets-manager" },
        target: { name: "checkout-db", creationPolicy: "Owner" },
        data: [{ secretKey: "password", remoteRef: { key: "dev/checkout/db", property: "password" } }],
    },
});

// ---- A compliant stack (mock view) ------------------------------------------------------------------

export const T = {
    vpc: "awsx:ec2:Vpc",
    eks: "eks:index:Cluster",
    mng: "eks:index:ManagedNodeGroup",
    key: "aws:kms/key:Key",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    repo: "aws:ecr/repository:Repository",
    lifecycle: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    role: "aws:iam/role:Role",
    policy: "aws:iam/policy:Policy",
    addon: "aws:eks/addon:Addon",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    k8sProvider: "pulumi:providers:kubernetes",
    ns: "kubernetes:core/v1:Namespace",
    sa: "kubernetes:core/v1:ServiceAccount",
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    np: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    release: "kubernetes:helm.sh/v3:Release",
    issuer: "kubernetes:cert-manager.io/v1:ClusterIssuer",
    chart: "kubernetes:helm.sh/v4:Chart",
    gateway: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    route: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    queue: "aws:sqs/queue:Queue",
    queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
    tag: "aws:ec2/tag:Tag",
    accessEntry: "aws:eks/accessEntry:AccessEntry",
    nodeClass: "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
    nodePool: "kubernetes:karpenter.sh/v1:NodePool",
    secretStore: "kubernetes:external-secrets.io/v1:ClusterSecretStore",
    externalSecret: "kubernetes:external-secrets.io/v1:ExternalSecret",
} as const;

/** The program, as the mock engine records it: components with inputs, no component children. */
export function compliantStack(): StackFixture[] {
    const k8s = { provider: K8S_PROVIDER };
    // The program's node group: its own launch template (encrypted disks, IMDSv2) instead of enableIMDSv2.
    const { enableIMDSv2: _imds, ...nodeGroup } = managedNodeGroup();
    return [
        { key: "vpc", type: T.vpc, props: awsxVpc() },
        { key: "logs-key", type: T.key, props: logsKmsKey() },
        {
            key: "control-plane-logs",
            type: T.logGroup,
            props: logGroup(),
            dependsOn: ["logs-key"],
            propertyDependencies: { kmsKeyId: ["logs-key"] },
        },
        { key: "secrets-key", type: T.key, props: kmsKey() },
        {
            key: "eks",
            type: T.eks,
            props: eksClusterComponent(),
            dependsOn: ["vpc", "secrets-key", "control-plane-logs"],
        },
        { key: "nodes-lt", type: T.launchTemplate, props: launchTemplate() },
        {
            key: "nodes",
            type: T.mng,
            props: { ...nodeGroup, launchTemplate: { id: "lt-0123", version: "1" } },
            dependsOn: ["eks", "vpc", "nodes-lt"],
            propertyDependencies: { launchTemplate: ["nodes-lt"] },
        },
        { key: "vpc-cni", type: T.addon, props: vpcCniAddon(), dependsOn: ["eks"] },
        {
            key: "coredns",
            type: T.addon,
            props: { clusterName: CLUSTER_NAME, addonName: "coredns", addonVersion: "v1.14.3-eksbuild.3" },
            dependsOn: ["eks", "nodes"],
        },
        { key: "repo", type: T.repo, props: ecrRepository() },
        {
            key: "repo-lifecycle",
            type: T.lifecycle,
            props: ecrLifecyclePolicy(),
            dependsOn: ["repo"],
            propertyDependencies: { repository: ["repo"] },
        },
        {
            key: "cert-manager-role",
            type: T.role,
            name: "cert-manager-dns01",
            props: { ...irsaRole(), name: "cert-manager-dns01" },
            dependsOn: ["eks"],
        },
        { key: "cert-manager-policy", type: T.policy, props: route53Policy() },
        {
            key: "platform-k8s",
            type: T.k8sProvider,
            props: { enableServerSideApply: true },
            dependsOn: ["eks", "nodes"],
        },
        { key: "checkout-ns", type: T.ns, props: namespace(), ...k8s },
        { key: "checkout-sa", type: T.sa, props: serviceAccount(), dependsOn: ["checkout-ns"], ...k8s },
        {
            key: "checkout-deployment",
            type: T.deployment,
            props: deployment(),
            dependsOn: ["checkout-ns", "checkout-sa"],
            ...k8s,
        },
        { key: "checkout-service", type: T.service, props: service(), dependsOn: ["checkout-ns"], ...k8s },
        { key: "checkout-hpa", type: T.hpa, props: hpa(), dependsOn: ["checkout-deployment"], ...k8s },
        { key: "checkout-pdb", type: T.pdb, props: pdb(), dependsOn: ["checkout-ns"], ...k8s },
        { key: "checkout-default-deny", type: T.np, props: defaultDeny(), dependsOn: ["checkout-ns"], ...k8s },
        { key: "checkout-allow", type: T.np, props: allowPolicy(), dependsOn: ["checkout-ns"], ...k8s },
        { key: "cert-manager", type: T.release, props: certManagerRelease(), dependsOn: ["cert-manager-role"], ...k8s },
        { key: "letsencrypt-prod", type: T.issuer, props: clusterIssuer(), dependsOn: ["cert-manager"], ...k8s },
        { key: "gateway-crds", type: T.chart, props: gatewayCrdsChart(), ...k8s },
        { key: "edge-gateway", type: T.gateway, props: gateway(), dependsOn: ["gateway-crds"], ...k8s },
        {
            key: "edge-redirect",
            type: T.route,
            props: redirectRoute(),
            dependsOn: ["gateway-crds", "edge-gateway"],
            ...k8s,
        },
        { key: "checkout-route", type: T.route, props: appRoute(), dependsOn: ["gateway-crds"], ...k8s },
        { key: "external-dns", type: T.release, props: externalDnsRelease(), dependsOn: ["gateway-crds"], ...k8s },
        // Karpenter: its queue, its nodes' role and access, the discovery tag, releases and objects.
        { key: "karpenter-queue", type: T.queue, props: { ...sqsQueue(), url: QUEUE_URL } },
        {
            key: "karpenter-queue-policy",
            type: T.queuePolicy,
            props: {
                queueUrl: QUEUE_URL,
                policy: JSON.stringify({ Version: "2012-10-17", Statement: queuePolicyStatements() }),
            },
            dependsOn: ["karpenter-queue"],
            propertyDependencies: { queueUrl: ["karpenter-queue"] },
        },
        {
            key: "karpenter-node-role",
            type: T.role,
            name: KARPENTER_NODE_ROLE,
            props: {
                name: KARPENTER_NODE_ROLE,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
                    ],
                }),
            },
        },
        {
            key: "karpenter-node-access",
            type: T.accessEntry,
            props: {
                clusterName: CLUSTER_NAME,
                principalArn: `arn:aws:iam::${ACCOUNT}:role/${KARPENTER_NODE_ROLE}`,
                type: "EC2_LINUX",
            },
            dependsOn: ["eks", "karpenter-node-role"],
            propertyDependencies: { principalArn: ["karpenter-node-role"] },
        },
        {
            key: "karpenter-sg-discovery",
            type: T.tag,
            props: { resourceId: "sg-0e1a2b3c4d5e6f703", key: "karpenter.sh/discovery", value: CLUSTER_NAME },
            dependsOn: ["eks"],
        },
        { key: "karpenter-crds", type: T.release, props: karpenterRelease("karpenter-crd"), ...k8s },
        {
            key: "karpenter",
            type: T.release,
            props: karpenterRelease("karpenter"),
            dependsOn: ["karpenter-crds", "nodes", "karpenter-queue"],
            ...k8s,
        },
        {
            key: "karpenter-node-class",
            type: T.nodeClass,
            props: ec2NodeClass(),
            dependsOn: ["karpenter-crds", "karpenter", "karpenter-node-access", "karpenter-sg-discovery"],
            propertyDependencies: { spec: ["karpenter-node-role"] },
            ...k8s,
        },
        {
            key: "karpenter-node-pool",
            type: T.nodePool,
            props: nodePool(),
            dependsOn: ["karpenter-crds", "karpenter", "karpenter-node-class"],
            ...k8s,
        },
        { key: "external-secrets", type: T.release, props: externalSecretsRelease(), ...k8s },
        {
            key: "secret-store",
            type: T.secretStore,
            props: clusterSecretStore(),
            dependsOn: ["external-secrets"],
            ...k8s,
        },
        {
            key: "checkout-db",
            type: T.externalSecret,
            props: externalSecret(),
            dependsOn: ["checkout-ns", "secret-store"],
            ...k8s,
        },
    ];
}

/** The same stack as the lead's mock recorder would hand it to `runPolicies`. */
export function toRecorded(fixtures: readonly StackFixture[]): RecordedResource[] {
    const urnByKey = new Map(fixtures.map((f) => [f.key, urnOf(f.type, f.name ?? f.key)]));
    const urn = (k: string) => {
        const u = urnByKey.get(k);
        if (!u) throw new Error(`unknown key ${k}`);
        return u;
    };
    return fixtures.map((f) => ({
        type: f.type,
        name: f.name ?? f.key,
        urn: urn(f.key),
        custom: !["awsx:ec2:Vpc", "eks:index:Cluster", "eks:index:ManagedNodeGroup"].includes(f.type),
        props: f.props,
        ...(f.parent ? { parent: urn(f.parent) } : {}),
        ...(f.provider ? { provider: `${f.provider.urn}::provider-id` } : {}),
        dependencies: (f.dependsOn ?? []).map(urn),
        ...(f.propertyDependencies
            ? {
                  propertyDependencies: Object.fromEntries(
                      Object.entries(f.propertyDependencies).map(([k, v]) => [k, v.map(urn)]),
                  ),
              }
            : {}),
    }));
}

// ---- Every pod-template type, with the checkout pod spec ---------------------------------------------

type PodTemplate = { metadata: Props; spec: Props };

function template(): PodTemplate {
    return (deployment().spec as { template: PodTemplate }).template;
}

export const statefulSet = (): Props => ({
    metadata: { name: "checkout-cache", namespace: NS, labels: { ...APP_LABELS } },
    spec: { serviceName: "checkout-cache", selector: { matchLabels: { ...APP_LABELS } }, template: template() },
});

export const daemonSet = (): Props => ({
    metadata: { name: "checkout-agent", namespace: NS },
    spec: { selector: { matchLabels: { ...APP_LABELS } }, template: template() },
});

export const replicaSet = (): Props => ({
    metadata: { name: "checkout-rs", namespace: NS },
    spec: { selector: { matchLabels: { ...APP_LABELS } }, template: template() },
});

function jobTemplate(): PodTemplate {
    const t = template();
    return { metadata: t.metadata, spec: { ...t.spec, restartPolicy: "Never" } };
}

export const job = (): Props => ({
    metadata: { name: "checkout-migrate", namespace: NS },
    spec: { backoffLimit: 2, template: jobTemplate() },
});

export const cronJob = (): Props => ({
    metadata: { name: "checkout-report", namespace: NS },
    spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: jobTemplate() } } },
});

export const pod = (): Props => {
    const t = template();
    return { metadata: { ...t.metadata, name: "checkout-debug", namespace: NS }, spec: t.spec };
};

const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${CLUSTER_NAME}-alerts`;
const snsTopic = (): Props => ({ name: `${CLUSTER_NAME}-alerts`, kmsMasterKeyId: KEY_ARN("alerts") });
const snsTopicPolicy = (): Props => ({
    arn: TOPIC_ARN,
    policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: "aps.amazonaws.com" },
                Action: ["sns:Publish", "sns:GetTopicAttributes"],
                Resource: TOPIC_ARN,
                Condition: {
                    ArnEquals: { "aws:SourceArn": `arn:aws:aps:${REGION}:${ACCOUNT}:workspace/ws-1` },
                    StringEquals: { "aws:SourceAccount": ACCOUNT },
                },
            },
            {
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: "sns:Publish",
                Resource: TOPIC_ARN,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    }),
});

// ---- Karpenter: what components/addons/karpenter.ts creates ------------------------------------------

export const ec2NodeClass = (): Props => ({
    apiVersion: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: { name: "default" },
    spec: {
        role: KARPENTER_NODE_ROLE,
        amiSelectorTerms: [{ alias: "al2023@v20260714" }],
        subnetSelectorTerms: [{ tags: { "karpenter.sh/discovery": CLUSTER_NAME } }],
        securityGroupSelectorTerms: [{ tags: { "karpenter.sh/discovery": CLUSTER_NAME } }],
        blockDeviceMappings: [
            {
                deviceName: "/dev/xvda",
                rootVolume: true,
                ebs: { volumeSize: "50Gi", volumeType: "gp3", encrypted: true, deleteOnTermination: true },
            },
        ],
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 },
    },
});

export const nodePool = (): Props => ({
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: "default" },
    spec: {
        template: {
            spec: {
                nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "default" },
                requirements: [
                    { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
                    { key: "karpenter.k8s.aws/instance-category", operator: "In", values: ["c", "m", "r"] },
                ],
                expireAfter: "720h",
            },
        },
        limits: { cpu: "64", memory: "256Gi" },
        disruption: {
            consolidationPolicy: "WhenEmptyOrUnderutilized",
            consolidateAfter: "5m",
            budgets: [{ nodes: "10%" }],
        },
    },
});

export const sqsQueue = (): Props => ({ messageRetentionSeconds: 300, sqsManagedSseEnabled: true });

export const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:${CLUSTER_NAME}-interruption`;
export const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${CLUSTER_NAME}-interruption`;
/** The interruption queue's policy: EventBridge may send; nothing without TLS. */
export const queuePolicyStatements = () => [
    {
        Effect: "Allow",
        Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
        Action: "sqs:SendMessage",
        Resource: QUEUE_ARN,
    },
    {
        Sid: "DenyHTTP",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: QUEUE_ARN,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
];
export const KARPENTER_NODE_ROLE = `${CLUSTER_NAME}-karpenter-nodes`;
const karpenterRelease = (chart: "karpenter" | "karpenter-crd"): Props => ({
    name: chart,
    chart: `oci://public.ecr.aws/karpenter/${chart}`,
    version: "1.14.1",
    namespace: "kube-system",
    skipCrds: true,
    skipAwait: false,
    values: chart === "karpenter" ? { settings: { clusterName: CLUSTER_NAME } } : {},
});

/** One compliant fixture per type the rules read. */
export const FIXTURES: Readonly<Record<string, () => Props>> = {
    "eks:index:Cluster": eksClusterComponent,
    "eks:index:ManagedNodeGroup": managedNodeGroup,
    "eks:index:VpcCniAddon": () => ({
        clusterName: CLUSTER_NAME,
        enableNetworkPolicy: true,
        addonVersion: "v1.23.1-eksbuild.1",
    }),
    "awsx:ec2:Vpc": awsxVpc,
    "aws:eks/cluster:Cluster": awsEksCluster,
    "aws:eks/nodeGroup:NodeGroup": awsNodeGroup,
    "aws:ec2/launchTemplate:LaunchTemplate": launchTemplate,
    "aws:eks/addon:Addon": vpcCniAddon,
    "aws:kms/key:Key": kmsKey,
    "aws:sns/topic:Topic": snsTopic,
    "aws:sns/topicPolicy:TopicPolicy": snsTopicPolicy,
    "aws:ecr/repository:Repository": ecrRepository,
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ecrRepositoryPolicy,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ecrLifecyclePolicy,
    "aws:cloudwatch/logGroup:LogGroup": logGroup,
    "aws:iam/role:Role": irsaRole,
    "aws:iam/policy:Policy": route53Policy,
    "aws:iam/rolePolicy:RolePolicy": () => ({ role: "cert-manager-dns01", ...route53Policy() }),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": rolePolicyAttachment,
    "kubernetes:core/v1:Namespace": namespace,
    "kubernetes:core/v1:ServiceAccount": serviceAccount,
    "kubernetes:apps/v1:Deployment": deployment,
    "kubernetes:apps/v1:StatefulSet": statefulSet,
    "kubernetes:apps/v1:DaemonSet": daemonSet,
    "kubernetes:apps/v1:ReplicaSet": replicaSet,
    "kubernetes:batch/v1:Job": job,
    "kubernetes:batch/v1:CronJob": cronJob,
    "kubernetes:core/v1:Pod": pod,
    "kubernetes:core/v1:Service": service,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": hpa,
    "kubernetes:policy/v1:PodDisruptionBudget": pdb,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": allowPolicy,
    "kubernetes:helm.sh/v3:Release": certManagerRelease,
    "kubernetes:helm.sh/v4:Chart": () => {
        const { name: _name, createNamespace: _create, ...rest } = certManagerRelease();
        return { ...rest, chart: "oci://quay.io/jetstack/charts/cert-manager" };
    },
    "kubernetes:cert-manager.io/v1:ClusterIssuer": clusterIssuer,
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": gateway,
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": redirectRoute,
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass": ec2NodeClass,
    "kubernetes:karpenter.sh/v1:NodePool": nodePool,
    "aws:sqs/queue:Queue": sqsQueue,
};
