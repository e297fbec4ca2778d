/**
 * The generic WebService component: its argument checks (table-driven), a route through the shared
 * Gateway, and two services side by side in one run (the documented path for a second service).
 */
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHECKOUT_ALIASES, checkoutServiceArgs } from "../components/checkout";
import { WebService, WebServiceArgs } from "../components/service";
import { ingressRules, openPeer, validateArgs } from "../components/service/spec";
import { ProgramRun, RecordedResource, runWithMocks } from "../harness/engine";
import { formatViolations, runPolicies } from "../policy/offline";
import { validateKubernetesObjects } from "../policy/schema/kubernetes";
import { at, find, ofType } from "./helpers";

const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const T = {
    ns: "kubernetes:core/v1:Namespace",
    sa: "kubernetes:core/v1:ServiceAccount",
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    np: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    route: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
} as const;

/** What the shared Gateway hands every service: its listener for the host, and its proxy pods' labels. */
const gateway = (listener: string): NonNullable<WebServiceArgs["route"]>["gateway"] => ({
    parentRef: { name: "edge", namespace: "edge", sectionName: listener },
    dataPlane: {
        namespace: "envoy-gateway-system",
        podLabels: {
            "gateway.envoyproxy.io/owning-gateway-name": "edge",
            "gateway.envoyproxy.io/owning-gateway-namespace": "edge",
        },
    },
});
const GATEWAY = gateway("https-orders");
const PROMETHEUS = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
    podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
};

const RESOURCES = { cpuRequest: "100m", cpuLimit: "500m", memoryRequest: "128Mi", memoryLimit: "256Mi" };

/** A second service, nothing like checkout: its own port, paths, variables, secret and route. */
const ordersArgs = (over: Partial<WebServiceArgs> = {}): WebServiceArgs => ({
    appName: "orders-api",
    namespace: "orders",
    image: { repository: `${ECR}/orders-api`, tag: "2.0.1" },
    port: 9000,
    probes: { readinessPath: "/readyz", livenessPath: "/livez" },
    resources: RESOURCES,
    autoscaling: { minReplicas: 3, maxReplicas: 6 },
    env: { ORDERS_REGION: "eu-west-1" },
    secretEnv: [{ name: "ORDERS_DB_URL", secretName: "orders-db", key: "url" }],
    egress: [{ name: "postgres", cidr: "10.0.0.0/16", port: 5432, protocol: "TCP" }],
    route: { hostname: "orders.example.com", gateway: GATEWAY },
    metricsPort: 9100,
    metricsScrapers: [PROMETHEUS],
    labels: { "app.kubernetes.io/part-of": "orders" },
    ...over,
});

const checkoutArgs = (route?: WebServiceArgs["route"]) =>
    checkoutServiceArgs({
        namespace: "checkout",
        repositoryUrl: `${ECR}/checkout-service`,
        imageTag: "1.4.2",
        autoscaling: { minReplicas: 3, maxReplicas: 6 },
        resources: RESOURCES,
        dbPoolMax: 10,
        logLevel: "info",
        route,
    });

/** Builds services under one explicit Kubernetes provider, as index.ts does. */
function build(
    services: Record<string, WebServiceArgs>,
    opts: pulumi.ComponentResourceOptions = {},
): Promise<ProgramRun> {
    return runWithMocks(
        () => {
            const provider = new k8s.Provider("k8s", { enableServerSideApply: true });
            for (const [name, args] of Object.entries(services))
                new WebService(name, args, { providers: { kubernetes: provider }, ...opts });
        },
        { project: "checkout-platform", stack: "unit", mode: "test" },
    );
}

const childrenOf = (run: ProgramRun, component: string) => {
    const parent = run.resources.find((r) => r.type === "platform:service:WebService" && r.name === component);
    assert.ok(parent, `no WebService ${component}`);
    return run.resources.filter((r) => r.parent === parent.urn);
};

/** The object a Kubernetes resource would send to the API server. */
const manifest = (r: RecordedResource) => r.props as Record<string, unknown>;

async function validateHttpRoute(obj: unknown): Promise<void> {
    // ESM-only, like the other kubernetes-models packages (policy/schema/kubernetes.ts).
    const specifier = "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
    const mod = (await import(specifier)) as { HTTPRoute: new (o: unknown) => { validate(): void } };
    new mod.HTTPRoute(obj).validate();
}

describe("WebService: argument checks", () => {
    const base = ordersArgs();
    const table: [string, Partial<WebServiceArgs>, RegExp][] = [
        ["appName not a DNS label", { appName: "Orders_API" }, /^appName must be a DNS-1123 label; got "Orders_API"$/],
        ["namespace default", { namespace: "default" }, /^namespace must be a namespace of its own/],
        ["namespace kube-system", { namespace: "kube-system" }, /^namespace must be a namespace of its own/],
        ["port out of range", { port: 70000 }, /^port must be an integer from 1 to 65535; got 70000$/],
        ["metricsPort not an integer", { metricsPort: 91.5 }, /^metricsPort must be an integer/],
        ["UID below 10000", { runAsUser: 1000 }, /^runAsUser must be an integer from 10000/],
        [
            "liveness on the readiness path",
            { probes: { readinessPath: "/ready", livenessPath: "/ready" } },
            /^probes.livenessPath must be different from readinessPath/,
        ],
        [
            "relative probe path",
            { probes: { readinessPath: "ready", livenessPath: "/live" } },
            /^probes.readinessPath must be an absolute path; got "ready"$/,
        ],
        [
            "max below min",
            { autoscaling: { minReplicas: 3, maxReplicas: 2 } },
            /^autoscaling.maxReplicas must be an integer >= minReplicas \(3\); got 2$/,
        ],
        ["bad variable name", { env: { "ORDERS-REGION": "x" } }, /^env must be a variable name/],
        [
            "secret variable also literal",
            { env: { ORDERS_DB_URL: "x" } },
            /^secretEnv\[0\].name must be a variable not already set in env or secretEnv; got "ORDERS_DB_URL"$/,
        ],
        [
            "bad Secret name",
            { secretEnv: [{ name: "A", secretName: "Orders DB", key: "url" }] },
            /^secretEnv\[0\].secretName must be a Secret name; got "Orders DB"$/,
        ],
        [
            "an owned label",
            { labels: { "app.kubernetes.io/name": "x" } },
            /^labels must be a label other than app.kubernetes.io\/name/,
        ],
        [
            "wildcard host name",
            { route: { hostname: "*.example.com", gateway: GATEWAY } },
            /^route.hostname must be a fully qualified host name in lower case, without a wildcard; got "\*.example.com"$/,
        ],
        [
            "bare host name",
            { route: { hostname: "orders", gateway: GATEWAY } },
            /^route.hostname must be a fully qualified host name/,
        ],
        [
            "data plane without pod labels (would admit every pod of its namespace)",
            {
                route: {
                    hostname: "orders.example.com",
                    gateway: { ...GATEWAY, dataPlane: { namespace: "gw", podLabels: {} } },
                },
            },
            /^route.gateway.dataPlane.podLabels must be at least one label/,
        ],
        [
            "a scraper that is every pod",
            { metricsScrapers: [{ namespaceSelector: {} }] },
            /^metricsScrapers\[0\] must be a peer that names its sources \(namespaceSelector \{\} without a podSelector/,
        ],
        ["a scraper that is every address", { metricsScrapers: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }, /every address/],
    ];
    for (const [why, change, expected] of table) {
        it(`rejects ${why}`, () => {
            const problems = validateArgs({ ...base, ...change });
            assert.strictEqual(problems.length, 1, problems.join("\n"));
            assert.match(problems[0], expected);
        });
    }

    it("accepts the second service as written, and the checkout instance", () => {
        assert.deepStrictEqual(validateArgs(ordersArgs()), []);
        assert.deepStrictEqual(validateArgs(checkoutArgs({ hostname: "checkout.example.com", gateway: GATEWAY })), []);
    });

    it("the constructor throws with every problem, naming the component", async () => {
        await assert.rejects(
            build({ bad: ordersArgs({ port: 0, namespace: "default" }) }),
            /WebService bad: invalid arguments:\n {2}- namespace must be .*\n {2}- port must be an integer from 1 to 65535; got 0/,
        );
    });

    it("openPeer: names what is open, passes what names its sources", () => {
        assert.match(String(openPeer({})), /empty peer/);
        assert.match(String(openPeer({ namespaceSelector: {}, podSelector: {} })), /every pod in every namespace/);
        assert.match(String(openPeer({ ipBlock: { cidr: "::/0" } })), /every address/);
        assert.strictEqual(openPeer({ namespaceSelector: {}, podSelector: { matchLabels: { a: "b" } } }), undefined);
        assert.strictEqual(openPeer({ podSelector: {} }), undefined, "every pod of its own namespace only");
        assert.strictEqual(openPeer({ ipBlock: { cidr: "10.0.0.0/16" } }), undefined);
    });

    it("ingressRules: nothing without a route or scrapers; the proxies on the app port; scrapers on the metrics port", () => {
        assert.deepStrictEqual(ingressRules({ port: 8080, metricsPort: 8080, scrapers: [] }), []);
        assert.deepStrictEqual(
            ingressRules({ port: 9000, metricsPort: 9100, dataPlane: GATEWAY.dataPlane, scrapers: [PROMETHEUS] }),
            [
                {
                    from: [
                        {
                            namespaceSelector: {
                                matchLabels: { "kubernetes.io/metadata.name": "envoy-gateway-system" },
                            },
                            podSelector: { matchLabels: GATEWAY.dataPlane.podLabels },
                        },
                    ],
                    ports: [{ protocol: "TCP", port: 9000 }],
                },
                { from: [PROMETHEUS], ports: [{ protocol: "TCP", port: 9100 }] },
            ],
        );
    });
});

describe("WebService: a route through the shared Gateway", () => {
    let run: ProgramRun;
    before(async () => {
        run = await build({ orders: ordersArgs() });
    });

    it("creates an HTTPRoute from the host name to the Service port, attached to the Gateway's listener", async () => {
        const route = find(run, T.route, "orders-route");
        const svc = find(run, T.service, "orders-svc");
        assert.deepStrictEqual(at(route.props, "spec"), {
            parentRefs: [
                {
                    group: "gateway.networking.k8s.io",
                    kind: "Gateway",
                    name: "edge",
                    namespace: "edge",
                    sectionName: "https-orders",
                },
            ],
            hostnames: ["orders.example.com"],
            rules: [
                {
                    matches: [{ path: { type: "PathPrefix", value: "/" } }],
                    backendRefs: [
                        { group: "", kind: "Service", name: "orders-api", port: at(svc.props, "spec.ports.0.port") },
                    ],
                },
            ],
        });
        assert.strictEqual(at(route.props, "metadata.namespace"), "orders");
        assert.ok(route.dependencies.includes(svc.urn), "the route waits for its Service");
        await validateHttpRoute(manifest(route));
    });

    it("the service's NetworkPolicy admits the Gateway's proxies on the app port and the scraper on the metrics port, nothing else", () => {
        const np = find(run, T.np, "orders-netpol");
        assert.deepStrictEqual(
            at(np.props, "spec.ingress"),
            ingressRules({ port: 9000, metricsPort: 9100, dataPlane: GATEWAY.dataPlane, scrapers: [PROMETHEUS] }),
        );
        const ports = at(find(run, T.deployment, "orders-deployment").props, "spec.template.spec.containers.0.ports");
        assert.deepStrictEqual(ports, [
            { name: "http", containerPort: 9000, protocol: "TCP" },
            { name: "metrics", containerPort: 9100, protocol: "TCP" },
        ]);
    });

    it("reads the secret variable from its Secret key", () => {
        const env = at(find(run, T.deployment, "orders-deployment").props, "spec.template.spec.containers.0.env");
        assert.deepStrictEqual(env, [
            { name: "ORDERS_REGION", value: "eu-west-1" },
            { name: "ORDERS_DB_URL", valueFrom: { secretKeyRef: { name: "orders-db", key: "url" } } },
        ]);
    });

    it("passes every guardrail and every schema", async () => {
        const violations = runPolicies(run.resources, { environment: "prod" });
        assert.deepStrictEqual(violations, [], formatViolations(violations));
        const objects = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== T.route);
        const results = await validateKubernetesObjects(objects.map(manifest));
        assert.deepStrictEqual(
            results.filter((r) => r.errors.length > 0),
            [],
        );
    });

    it("the policy pack catches the route's ingress opened up again", () => {
        const open = run.resources.map((r) =>
            r.name === "orders-netpol"
                ? {
                      ...r,
                      wire: undefined,
                      props: {
                          ...r.props,
                          spec: { ...(r.props.spec as object), ingress: [{ ports: [{ port: 9000 }] }] },
                      },
                  }
                : r,
        );
        const found = runPolicies(open as RecordedResource[], { environment: "prod" }).map((v) => v.policy);
        assert.deepStrictEqual(found, ["k8s-networkpolicy-ingress-sources"]);
    });

    it("without a route: no HTTPRoute and no ingress rule; the namespace's default deny stands", async () => {
        const bare = await build({ orders: ordersArgs({ route: undefined, metricsScrapers: undefined }) });
        assert.deepStrictEqual(ofType(bare, T.route), []);
        assert.deepStrictEqual(at(find(bare, T.np, "orders-netpol").props, "spec.ingress"), []);
        assert.deepStrictEqual(at(find(bare, T.np, "orders-default-deny").props, "spec"), {
            podSelector: {},
            policyTypes: ["Ingress", "Egress"],
        });
    });
});

describe("WebService: two services in one stack (checkout and a second one)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await build({
            checkout: checkoutArgs({ hostname: "checkout.example.com", gateway: gateway("https-checkout") }),
            orders: ordersArgs(),
        });
    });

    it("registers no URN twice", () => {
        const urns = run.resources.map((r) => r.urn);
        assert.strictEqual(new Set(urns).size, urns.length);
    });

    for (const [component, app, namespace, other] of [
        ["checkout", "checkout-service", "checkout", ["orders", "orders-api"]],
        ["orders", "orders-api", "orders", ["checkout"]],
    ] as const) {
        it(`${component}: its own namespace, ServiceAccount, PDB, HPA, NetworkPolicies and HTTPRoute`, () => {
            const children = childrenOf(run, component);
            const kinds = children.map((r) => `${r.type.split(":").pop()} ${r.name}`).sort();
            assert.deepStrictEqual(kinds, [
                `Deployment ${component}-deployment`,
                `HTTPRoute ${component}-route`,
                `HorizontalPodAutoscaler ${component}-hpa`,
                `Namespace ${component}-ns`,
                `NetworkPolicy ${component}-default-deny`,
                `NetworkPolicy ${component}-netpol`,
                `PodDisruptionBudget ${component}-pdb`,
                `Service ${component}-svc`,
                `ServiceAccount ${component}-sa`,
            ]);
            assert.strictEqual(at(find(run, T.ns, `${component}-ns`).props, "metadata.name"), namespace);
            for (const r of children.filter((c) => c.type !== T.ns)) {
                assert.strictEqual(at(r.props, "metadata.namespace"), namespace, r.name);
                if (r.name !== `${component}-default-deny`)
                    assert.strictEqual(at(r.props, "metadata.name"), app, r.name);
            }
            assert.deepStrictEqual(at(find(run, T.pdb, `${component}-pdb`).props, "spec.selector.matchLabels"), {
                "app.kubernetes.io/name": app,
            });
            assert.strictEqual(at(find(run, T.hpa, `${component}-hpa`).props, "spec.scaleTargetRef.name"), app);
        });

        it(`${component}: nothing it creates names the other service`, () => {
            for (const r of childrenOf(run, component)) {
                const text = JSON.stringify(r.props);
                for (const name of other) assert.ok(!text.includes(name), `${r.name} mentions ${name}: ${text}`);
                for (const dep of r.dependencies) {
                    const depName = dep.slice(dep.lastIndexOf("::") + 2);
                    assert.ok(depName.startsWith(`${component}-`), `${r.name} depends on ${dep}`);
                }
            }
        });
    }

    it("both pass every guardrail together", () => {
        const violations = runPolicies(run.resources, { environment: "prod" });
        assert.deepStrictEqual(violations, [], formatViolations(violations));
    });
});

describe("checkout-service as a WebService", () => {
    it("keeps the URN it had as platform:checkout:CheckoutService, so existing stacks are not replaced", async () => {
        let component: WebService | undefined;
        await runWithMocks(
            () => {
                component = new WebService("checkout", checkoutArgs(), { aliases: CHECKOUT_ALIASES });
            },
            { project: "checkout-platform", stack: "dev", mode: "test" },
        );
        // The SDK resolves each alias to the URN it stands for (Resource.__aliases, an internal
        // field), in the engine's form: the root Stack is not part of a URN's type chain
        // (@pulumi/pulumi resource.js createUrn), though the mock monitor's URNs in test/golden show it.
        const aliases = (component as unknown as { __aliases: pulumi.Output<string>[] }).__aliases;
        const urns = await Promise.all(aliases.map((a) => new Promise((resolve) => a.apply(resolve))));
        assert.deepStrictEqual(urns, [
            "urn:pulumi:dev::checkout-platform::platform:checkout:CheckoutService::checkout",
        ]);
    });
});
