/** Schema validation of plain Kubernetes objects (kubernetes-models, ESM) and the cert-manager values allow-list. */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { CERT_MANAGER_VALUES_SPEC, checkCertManagerValues, checkValues } from "../schema/cert-manager-values";
import {
    formatSchemaResults,
    modelSpecifier,
    validateKubernetesObject,
    validateKubernetesObjects,
} from "../schema/kubernetes";
import {
    FIXTURES,
    certManagerRelease,
    clusterIssuer,
    deployment,
    gateway as gatewayFixture,
    redirectRoute,
} from "./fixtures";
import { clone } from "./helpers";
import { set } from "./paths";

/** A Pulumi Kubernetes type's apiVersion and kind: `kubernetes:apps/v1:Deployment` -> apps/v1, Deployment. */
function typeMeta(type: string): { apiVersion: string; kind: string } {
    const [, groupVersion, kind] = type.split(":");
    return { apiVersion: groupVersion.replace(/^core\//, ""), kind };
}

const object = (type: string, props: Record<string, unknown>) => ({ ...typeMeta(type), ...props });

describe("Kubernetes schema validation", () => {
    it("a compliant checkout Deployment is valid", async () => {
        const r = await validateKubernetesObject(object("kubernetes:apps/v1:Deployment", deployment()));
        assert.deepEqual(r.errors, []);
        assert.equal(r.name, "checkout/checkout-service");
    });

    it('runAsNonRoot: "true" (a string) is rejected with its path', async () => {
        const d = deployment();
        set(d, "spec.template.spec.securityContext.runAsNonRoot", "true");
        const r = await validateKubernetesObject(object("kubernetes:apps/v1:Deployment", d));
        assert.deepEqual(r.errors, ["/spec/template/spec/securityContext/runAsNonRoot must be boolean"]);
    });

    it("a ClusterIssuer: valid, and invalid without privateKeySecretRef and with a numeric server", async () => {
        const good = await validateKubernetesObject(
            object("kubernetes:cert-manager.io/v1:ClusterIssuer", clusterIssuer()),
        );
        assert.deepEqual(good.errors, []);
        const bad = clusterIssuer();
        set(bad, "spec.acme.server", 443);
        delete (bad.spec as { acme: Record<string, unknown> }).acme.privateKeySecretRef;
        const r = await validateKubernetesObject(object("kubernetes:cert-manager.io/v1:ClusterIssuer", bad));
        assert.deepEqual([...r.errors].sort(), [
            "/spec/acme must have required property privateKeySecretRef",
            "/spec/acme/server must be string",
        ]);
    });

    it("every Kubernetes fixture the policy tests use is schema-valid", async () => {
        const types = Object.keys(FIXTURES).filter(
            (t) => t.startsWith("kubernetes:") && !t.startsWith("kubernetes:helm.sh/"),
        );
        const results = await validateKubernetesObjects(types.map((t) => object(t, FIXTURES[t]())));
        assert.equal(formatSchemaResults(results), "");
        assert.equal(results.length, types.length);
    });

    it("reports unknown kinds instead of passing them", async () => {
        const results = await validateKubernetesObjects([
            { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } },
            { apiVersion: "apps/v1", kind: "DeploymentSpec" },
            { apiVersion: "apps/v9", kind: "Deployment" },
            { kind: "Deployment" },
            "not an object",
        ]);
        for (const r of results) assert.equal(r.errors.length, 1, JSON.stringify(r));
        assert.match(results[0].errors[0], /unknown kind example.com\/v1\/Widget/);
        assert.match(results[3].errors[0], /apiVersion and kind/);
        assert.deepEqual(
            results.map((r) => r.index),
            [0, 1, 2, 3, 4],
        );
    });

    it("formats one line per error", async () => {
        const d = deployment();
        set(d, "spec.template.spec.containers.0.ports.0.containerPort", "8080");
        const text = formatSchemaResults(await validateKubernetesObjects([object("kubernetes:apps/v1:Deployment", d)]));
        assert.equal(
            text,
            "apps/v1/Deployment checkout/checkout-service: /spec/template/spec/containers/0/ports/0/containerPort must be integer",
        );
    });

    it("maps apiVersion/kind to the model modules", () => {
        assert.equal(modelSpecifier("v1", "Service"), "kubernetes-models/v1/Service");
        assert.equal(
            modelSpecifier("networking.k8s.io/v1", "NetworkPolicy"),
            "kubernetes-models/networking.k8s.io/v1/NetworkPolicy",
        );
        assert.equal(
            modelSpecifier("cert-manager.io/v1", "ClusterIssuer"),
            "@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer",
        );
        assert.equal(
            modelSpecifier("gateway.networking.k8s.io/v1", "HTTPRoute"),
            "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
        );
        assert.equal(modelSpecifier("apps/v1", "../../x"), undefined);
    });

    it("Gateway API objects: a valid Gateway and HTTPRoute; a string port and an unknown protocol fail", async () => {
        const gateway = { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", ...gatewayFixture() };
        const route = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", ...redirectRoute() };
        const [g, r] = await validateKubernetesObjects([gateway, route]);
        assert.deepEqual([g.errors, r.errors], [[], []]);
        const bad = clone(gateway);
        set(bad, "spec.listeners.1.port", "443");
        set(bad, "spec.listeners.1.tls.mode", "terminate");
        const errors = (await validateKubernetesObject(bad)).errors;
        assert.ok(
            errors.some((e) => e.startsWith("/spec/listeners/1/port must be integer")),
            errors.join("; "),
        );
        assert.ok(
            errors.some((e) => e.startsWith("/spec/listeners/1/tls/mode must be equal to one of")),
            errors.join("; "),
        );
        const badRedirect = clone(route);
        set(badRedirect, "spec.rules.0.filters.0.requestRedirect.statusCode", 200);
        assert.ok((await validateKubernetesObject(badRedirect)).errors.some((e) => /statusCode/.test(e)));
    });

    it("EnvoyProxy: checked against the v1alpha1 allow-list (no published models)", async () => {
        const proxy = {
            apiVersion: "gateway.envoyproxy.io/v1alpha1",
            kind: "EnvoyProxy",
            metadata: { name: "p", namespace: "envoy-gateway-system" },
            spec: {
                provider: {
                    type: "Kubernetes",
                    kubernetes: {
                        envoyService: {
                            type: "LoadBalancer",
                            loadBalancerClass: "service.k8s.aws/nlb",
                            annotations: {},
                        },
                        envoyDeployment: { replicas: 2, container: { resources: {} } },
                        envoyPDB: { maxUnavailable: 1 },
                    },
                },
            },
        };
        assert.deepEqual((await validateKubernetesObject(proxy)).errors, []);
        const bad = clone(proxy);
        set(bad, "spec.provider.kubernetes.envoyServices", {});
        set(bad, "spec.provider.kubernetes.envoyService.type", "Loadbalancer");
        set(bad, "spec.provider.kubernetes.envoyDeployment.replicas", "2");
        assert.deepEqual([...(await validateKubernetesObject(bad)).errors].sort(), [
            '/spec/provider/kubernetes/envoyDeployment/replicas provider.kubernetes.envoyDeployment.replicas should be integer, got "2"',
            '/spec/provider/kubernetes/envoyService/type provider.kubernetes.envoyService.type must be one of ClusterIP, LoadBalancer, NodePort; got "Loadbalancer"',
            "/spec/provider/kubernetes/envoyServices unknown key provider.kubernetes.envoyServices",
        ]);
    });

    it("keeps import() a real dynamic import when compiled with the repo's module setting", () => {
        const file = path.join(__dirname, "..", "schema", "kubernetes.ts");
        const out = ts.transpileModule(fs.readFileSync(file, "utf8"), {
            compilerOptions: { module: ts.ModuleKind.Node16, target: ts.ScriptTarget.ES2022 },
            fileName: file,
        }).outputText;
        assert.match(out, /await import\(specifier\)/);
        assert.doesNotMatch(out, /require\(s\)/);
    });
});

describe("cert-manager values allow-list", () => {
    const values = () => clone(certManagerRelease().values as Record<string, unknown>);

    it("our values pass", () => {
        assert.deepEqual(checkCertManagerValues(values()), []);
    });

    it("flags installCRDs and a missing crds.enabled", () => {
        const v = values();
        delete v.crds;
        v.installCRDs = true;
        assert.deepEqual(
            checkCertManagerValues(v).map((i) => i.path),
            ["installCRDs", "crds.enabled"],
        );
    });

    it("flags unknown keys at the top level and in known sections, and wrong types", () => {
        const v = values();
        v.replicas = 2;
        set(v, "webhook.replicas", 2);
        set(v, "cainjector.replicaCount", "2");
        set(v, "prometheus.servicemonitor.enabled", "yes");
        assert.deepEqual(
            checkValues(v, CERT_MANAGER_VALUES_SPEC)
                .map((i) => i.path)
                .sort(),
            ["cainjector.replicaCount", "prometheus.servicemonitor.enabled", "replicas", "webhook.replicas"],
        );
    });

    it("config: Gateway API support as 1.21 reads it; the deprecated flag and the misspelt key are flagged", () => {
        const ok = values();
        set(ok, "config", { apiVersion: "controller.config.cert-manager.io/v1alpha1", gatewayAPI: { enabled: true } });
        assert.deepEqual(checkCertManagerValues(ok), []);
        const bad = values();
        set(bad, "config", { enableGatewayAPI: true, gatewayAPI: { enable: true } });
        assert.deepEqual(
            checkCertManagerValues(bad)
                .map((i) => i.path)
                .sort(),
            ["config.enableGatewayAPI", "config.gatewayAPI.enable"],
        );
    });

    it("accepts free-form maps (resources, securityContext, affinity) as they are", () => {
        const v = values();
        set(v, "affinity.nodeAffinity.anything", { deeply: ["nested"] });
        set(v, "webhook.securityContext.runAsUser", 1000);
        assert.deepEqual(checkCertManagerValues(v), []);
    });
});
