/**
 * Pod templates: Pod Security "restricted", read-only root,
 * service account token, images, resources, probes, secrets in env, rollout and spread, graceful
 * shutdown. They apply to every pod-template type the program creates (Deployment, StatefulSet,
 * DaemonSet, ReplicaSet, Job, CronJob, Pod), not only checkout-service; the ones about serving
 * traffic (probes, shutdown, spread, rollout) to the long-running or replicated kinds only.
 */
import {
    ContainerRef,
    POD_TYPES,
    REPLICATED_TYPES,
    WORKLOAD_TYPES,
    containersOf,
    describeContainer,
    effectiveSecurityField,
    intOrPercent,
    podLabelsOf,
    podSpecOf,
} from "../lib/k8s";
import { ResourceCheck, resourceRule } from "../lib/rule";
import { Rec, UNKNOWN, at, containsUnknown, isRecord, list, show, stringList } from "../lib/values";

/** Runs `fn` for each container of the pod template (skipped entirely while the list is unknown). */
function eachContainer(
    r: ResourceCheck,
    kinds: ContainerRef["kind"][] | undefined,
    fn: (ref: ContainerRef, podSpec: unknown) => void,
): void {
    const podSpec = podSpecOf(r.type, r.props);
    if (podSpec === UNKNOWN) return;
    const containers = containersOf(podSpec, kinds);
    if (containers === UNKNOWN) return;
    for (const ref of containers) fn(ref, podSpec);
}

export const MIN_UID = 10000;

export const k8sRunAsNonRoot = resourceRule({
    name: "k8s-run-as-non-root",
    description: `Every container runs as non-root (runAsNonRoot true) with a UID >= ${MIN_UID}.`,
    tier: "B",
    remediation: `set securityContext { runAsNonRoot: true, runAsUser: ${MIN_UID}+ } on the pod (or each container).`,
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, undefined, (ref, podSpec) => {
            const nonRoot = effectiveSecurityField(podSpec, ref.c, "runAsNonRoot");
            if (nonRoot !== UNKNOWN && nonRoot !== true)
                r.report(`${describeContainer(ref)}: runAsNonRoot is ${show(nonRoot)}`);
            const uid = effectiveSecurityField(podSpec, ref.c, "runAsUser");
            if (uid !== UNKNOWN && !(typeof uid === "number" && uid >= MIN_UID)) {
                r.report(`${describeContainer(ref)}: runAsUser is ${show(uid)}, not >= ${MIN_UID}`);
            }
        }),
});

export const k8sNoPrivilegeEscalation = resourceRule({
    name: "k8s-no-privilege-escalation",
    description: "No container is privileged or may escalate privileges.",
    tier: "B",
    remediation: "set securityContext.allowPrivilegeEscalation: false on every container and never privileged: true.",
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, undefined, (ref) => {
            const ape = at(ref.c, "securityContext", "allowPrivilegeEscalation");
            if (ape !== UNKNOWN && ape !== false)
                r.report(`${describeContainer(ref)}: allowPrivilegeEscalation is ${show(ape)}`);
            if (at(ref.c, "securityContext", "privileged") === true)
                r.report(`${describeContainer(ref)}: privileged is true`);
        }),
});

export const k8sDropAllCapabilities = resourceRule({
    name: "k8s-drop-all-capabilities",
    description: "Every container drops ALL capabilities and adds none but NET_BIND_SERVICE.",
    tier: "B",
    remediation: 'set securityContext.capabilities: { drop: ["ALL"] } on every container.',
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, undefined, (ref) => {
            const drop = stringList(at(ref.c, "securityContext", "capabilities", "drop"));
            if (drop !== UNKNOWN && !(drop ?? []).includes("ALL"))
                r.report(`${describeContainer(ref)}: capabilities.drop is ${show(drop)}`);
            const add = stringList(at(ref.c, "securityContext", "capabilities", "add"));
            if (add !== UNKNOWN) {
                const extra = (add ?? []).filter((c) => c !== "NET_BIND_SERVICE");
                if (extra.length > 0) r.report(`${describeContainer(ref)}: capabilities.add has ${extra.join(", ")}`);
            }
        }),
});

export const k8sSeccompRuntimeDefault = resourceRule({
    name: "k8s-seccomp-runtime-default",
    description: "Every container runs with the RuntimeDefault (or a Localhost) seccomp profile.",
    tier: "B",
    remediation: 'set securityContext.seccompProfile: { type: "RuntimeDefault" } on the pod.',
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, undefined, (ref, podSpec) => {
            const type = at(effectiveSecurityField(podSpec, ref.c, "seccompProfile"), "type");
            if (type !== UNKNOWN && type !== "RuntimeDefault" && type !== "Localhost") {
                r.report(`${describeContainer(ref)}: seccompProfile.type is ${show(type)}`);
            }
        }),
});

export const k8sNoHostAccess = resourceRule({
    name: "k8s-no-host-access",
    description: "Pods share no host namespace (network, PID, IPC), bind no host ports and mount no hostPath volumes.",
    tier: "B",
    remediation:
        "remove hostNetwork/hostPID/hostIPC, hostPort and hostPath volumes; use a Service and emptyDir/PVC instead.",
    types: POD_TYPES,
    check: (r) => {
        const podSpec = podSpecOf(r.type, r.props);
        if (podSpec === UNKNOWN) return;
        for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (at(podSpec, f) === true) r.report(`${f} is true`);
        const volumes = list(at(podSpec, "volumes"));
        if (volumes !== UNKNOWN) {
            for (const v of volumes)
                if (at(v, "hostPath") !== undefined) r.report(`volume ${show(at(v, "name"))} is a hostPath`);
        }
        eachContainer(r, undefined, (ref) => {
            const ports = list(at(ref.c, "ports"));
            if (ports === UNKNOWN) return;
            for (const p of ports) {
                const hp = at(p, "hostPort");
                if (typeof hp === "number" && hp !== 0) r.report(`${describeContainer(ref)}: hostPort ${hp}`);
            }
        });
    },
});

export const k8sReadOnlyRootFilesystem = resourceRule({
    name: "k8s-read-only-root-filesystem",
    description: "Every container's root filesystem is read-only (writable paths are emptyDir mounts, e.g. /tmp).",
    tier: "B",
    remediation:
        "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir at /tmp (and any other writable path).",
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, ["container", "initContainer"], (ref) => {
            const v = at(ref.c, "securityContext", "readOnlyRootFilesystem");
            if (v !== UNKNOWN && v !== true)
                r.report(`${describeContainer(ref)}: readOnlyRootFilesystem is ${show(v)}`);
        }),
});

export const k8sServiceAccountToken = resourceRule({
    name: "k8s-service-account-token",
    description: "Pods run under a dedicated ServiceAccount (not `default`) and do not automount its token.",
    tier: "B",
    remediation:
        "create a ServiceAccount for the workload, set serviceAccountName to it and automountServiceAccountToken: false.",
    types: POD_TYPES,
    check: (r) => {
        const podSpec = podSpecOf(r.type, r.props);
        if (podSpec === UNKNOWN) return;
        const sa = at(podSpec, "serviceAccountName") ?? at(podSpec, "serviceAccount");
        if (sa !== UNKNOWN && (sa === undefined || sa === "" || sa === "default")) {
            r.report(`serviceAccountName is ${show(sa)}, so the pod runs as the namespace's default account`);
        }
        const automount = at(podSpec, "automountServiceAccountToken");
        if (automount !== UNKNOWN && automount !== false)
            r.report(`automountServiceAccountToken is ${show(automount)}`);
    },
});

/** `*` matches within one path segment: `*.dkr.ecr.*.amazonaws.com/` matches any account's ECR, not `evil.com/x.dkr.ecr...`. */
export function registryPattern(pattern: string): RegExp {
    const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*");
    return new RegExp(`^${escaped}`);
}

export const k8sImageAllowedRegistry = resourceRule({
    name: "k8s-image-allowed-registry",
    description: "Every image comes from an allowed registry (policy config allowedRegistries; default: ECR).",
    tier: "B",
    remediation: "push the image to the program's ECR repository and reference it by its repository URL.",
    types: POD_TYPES,
    knobs: ["allowedRegistries"],
    check: (r) => {
        const patterns = r.knobs.allowedRegistries.map(registryPattern);
        eachContainer(r, undefined, (ref) => {
            const image = ref.c.image;
            if (typeof image !== "string") return;
            if (!patterns.some((p) => p.test(image))) {
                r.report(
                    `${describeContainer(ref)}: image ${image} is not from ${r.knobs.allowedRegistries.join(", ")}`,
                );
            }
        });
    },
});

/** The tag and digest of an image reference (`registry:5000/repo:tag@sha256:...`). */
export function parseImage(image: string): { tag?: string; digest?: string } {
    const at_ = image.indexOf("@");
    const digest = at_ >= 0 ? image.slice(at_ + 1) : undefined;
    const name = at_ >= 0 ? image.slice(0, at_) : image;
    const lastSegment = name.slice(name.lastIndexOf("/") + 1);
    const colon = lastSegment.indexOf(":");
    return { tag: colon >= 0 ? lastSegment.slice(colon + 1) : undefined, digest };
}

export const k8sImagePinned = resourceRule({
    name: "k8s-image-pinned",
    description: "Every image is pinned by a version tag or a digest, never `latest` or no tag.",
    tier: "B",
    remediation: "reference the image as <repo>:<version> (immutable tag) or <repo>@sha256:<digest>.",
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, undefined, (ref) => {
            const image = ref.c.image;
            if (image === UNKNOWN) return;
            if (typeof image !== "string" || image === "") return r.report(`${describeContainer(ref)}: no image`);
            const { tag, digest } = parseImage(image);
            if (digest !== undefined) {
                if (!/^sha256:[a-f0-9]{64}$/.test(digest))
                    r.report(`${describeContainer(ref)}: digest ${digest} is not sha256:<64 hex>`);
                return;
            }
            if (tag === undefined || tag === "")
                r.report(`${describeContainer(ref)}: image ${image} has no tag (means latest)`);
            else if (tag.toLowerCase() === "latest")
                r.report(`${describeContainer(ref)}: image ${image} uses the latest tag`);
        }),
});

export const k8sResources = resourceRule({
    name: "k8s-resources",
    description: "Every container requests CPU and memory and has a memory limit.",
    tier: "B",
    remediation: "set resources: { requests: { cpu, memory }, limits: { memory } } on every container.",
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, ["container", "initContainer"], (ref) => {
            const resources = at(ref.c, "resources");
            if (resources === UNKNOWN) return;
            const missing = [
                ["requests", "cpu"],
                ["requests", "memory"],
                ["limits", "memory"],
            ].filter((path) => at(resources, ...path) === undefined);
            if (missing.length > 0) {
                r.report(`${describeContainer(ref)}: resources ${missing.map((p) => p.join(".")).join(", ")} not set`);
            }
        }),
});

/** The port a probe connects to (httpGet / tcpSocket / grpc), if it has one. */
function probePort(probe: unknown): unknown {
    return at(probe, "httpGet", "port") ?? at(probe, "tcpSocket", "port") ?? at(probe, "grpc", "port");
}

function declaredPorts(c: Rec): Set<unknown> | typeof UNKNOWN {
    const ports = list(c.ports);
    if (ports === UNKNOWN) return UNKNOWN;
    const out = new Set<unknown>();
    for (const p of ports) {
        out.add(at(p, "containerPort"));
        if (at(p, "name") !== undefined) out.add(at(p, "name"));
    }
    return out;
}

export const k8sProbes = resourceRule({
    name: "k8s-probes",
    description: "Every serving container has readiness and liveness probes that differ and target declared ports.",
    tier: "B",
    remediation:
        "add readinessProbe (e.g. /health/ready) and a different livenessProbe (e.g. /health/live), both on a port listed in ports.",
    types: WORKLOAD_TYPES,
    check: (r) =>
        eachContainer(r, ["container"], (ref) => {
            const ready = ref.c.readinessProbe;
            const live = ref.c.livenessProbe;
            if (ready === undefined) r.report(`${describeContainer(ref)}: no readinessProbe`);
            if (live === undefined) r.report(`${describeContainer(ref)}: no livenessProbe`);
            if (
                ready !== undefined &&
                !containsUnknown(ready) &&
                !containsUnknown(live) &&
                JSON.stringify(ready) === JSON.stringify(live)
            ) {
                r.report(
                    `${describeContainer(ref)}: livenessProbe is identical to readinessProbe (a busy pod would be restarted)`,
                );
            }
            const ports = declaredPorts(ref.c);
            if (ports === UNKNOWN) return;
            for (const [field, probe] of [
                ["readinessProbe", ready],
                ["livenessProbe", live],
                ["startupProbe", ref.c.startupProbe],
            ] as const) {
                const port = probePort(probe);
                if (port === undefined || port === UNKNOWN || ports.has(port)) continue;
                r.report(
                    `${describeContainer(ref)}: ${field} targets port ${show(port)}, which the container does not declare`,
                );
            }
        }),
});

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)/i;
const NOT_A_SECRET_NAME = /(_FILE|_PATH|_DIR|_URL_PARAM|_NAME|_ARN|_ID)$/i;
const SECRET_VALUE = [
    /^AKIA[0-9A-Z]{16}$/, // AWS access key id
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
    /^gh[pousr]_[A-Za-z0-9]{36,}$/, // GitHub tokens
    /^xox[baprs]-[A-Za-z0-9-]+$/, // Slack tokens
    /^sk_live_[A-Za-z0-9]+$/, // Stripe
    /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials in a URL
];

export const k8sNoSecretLiterals = resourceRule({
    name: "k8s-no-secret-literals",
    description: "No secret-looking literal values in container env; secrets come from Secret references.",
    tier: "B",
    remediation: "store the value in a Secret and use env[].valueFrom.secretKeyRef (or envFrom.secretRef).",
    types: POD_TYPES,
    check: (r) =>
        eachContainer(r, undefined, (ref) => {
            const env = list(ref.c.env);
            if (env === UNKNOWN) return;
            for (const e of env) {
                const name = at(e, "name");
                const value = at(e, "value");
                if (typeof name !== "string" || typeof value !== "string" || value === "") continue;
                const byName = SECRET_NAME.test(name) && !NOT_A_SECRET_NAME.test(name);
                const byValue = SECRET_VALUE.some((re) => re.test(value));
                if (byName || byValue)
                    r.report(
                        `${describeContainer(ref)}: env ${name} holds a literal ${byValue ? "credential" : "secret"}`,
                    );
            }
        }),
});

export const k8sRollingUpdate = resourceRule({
    name: "k8s-rolling-update",
    description: "Deployments roll out with maxUnavailable 0 and maxSurge >= 1 (no capacity dip).",
    tier: "B",
    remediation: 'set strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }.',
    types: ["kubernetes:apps/v1:Deployment"],
    check: (r) => {
        const strategy = at(r.props, "spec", "strategy");
        if (strategy === UNKNOWN) return;
        const type = at(strategy, "type");
        if (type !== undefined && type !== UNKNOWN && type !== "RollingUpdate")
            return r.report(`strategy.type is ${show(type)}`);
        const maxUnavailable = intOrPercent(at(strategy, "rollingUpdate", "maxUnavailable"));
        if (maxUnavailable !== UNKNOWN && (maxUnavailable === undefined || maxUnavailable.value !== 0)) {
            r.report(
                `rollingUpdate.maxUnavailable is ${show(at(strategy, "rollingUpdate", "maxUnavailable"))} (default 25%), not 0`,
            );
        }
        const rawSurge = at(strategy, "rollingUpdate", "maxSurge");
        const maxSurge = intOrPercent(rawSurge);
        if (rawSurge !== undefined && maxSurge !== UNKNOWN && (maxSurge === undefined || maxSurge.value < 1)) {
            r.report(`rollingUpdate.maxSurge is ${show(rawSurge)}, so a rollout with maxUnavailable 0 cannot progress`);
        }
    },
});

/** Whether a selector in a spread/affinity term selects the pod's own labels (only known values decide). */
function selectsOwnPods(selector: unknown, labels: unknown): boolean {
    if (selector === UNKNOWN || labels === UNKNOWN) return true;
    const match = at(selector, "matchLabels");
    if (!isRecord(match) || Object.keys(match).length === 0)
        return isRecord(selector) && at(selector, "matchExpressions") !== undefined;
    const own = isRecord(labels) ? labels : {};
    return Object.entries(match).every(([k, v]) => v === UNKNOWN || own[k] === UNKNOWN || own[k] === v);
}

export const ZONE_KEY = "topology.kubernetes.io/zone";
export const HOSTNAME_KEY = "kubernetes.io/hostname";

export const k8sZoneSpread = resourceRule({
    name: "k8s-zone-spread",
    description:
        "Replicated workloads spread over zones with a soft (ScheduleAnyway) topology spread constraint on their own pods.",
    tier: "B",
    remediation: `add topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "${ZONE_KEY}", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: <pod labels> } }].`,
    types: REPLICATED_TYPES,
    check: (r) => {
        const podSpec = podSpecOf(r.type, r.props);
        const constraints = list(at(podSpec, "topologySpreadConstraints"));
        if (podSpec === UNKNOWN || constraints === UNKNOWN) return;
        const labels = podLabelsOf(r.type, r.props);
        const zone = constraints.filter((c) => at(c, "topologyKey") === ZONE_KEY || at(c, "topologyKey") === UNKNOWN);
        if (zone.length === 0) return r.report(`no topologySpreadConstraints entry with topologyKey ${ZONE_KEY}`);
        const good = zone.some((c) => {
            const when = at(c, "whenUnsatisfiable");
            return (when === "ScheduleAnyway" || when === UNKNOWN) && selectsOwnPods(at(c, "labelSelector"), labels);
        });
        if (!good) {
            r.report(`the zone spread constraint is not ScheduleAnyway on the pod's own labels (${show(zone)})`);
        }
    },
});

export const k8sHostnameAntiAffinity = resourceRule({
    name: "k8s-hostname-anti-affinity",
    description: "Replicated workloads prefer (softly) not to share a node with their own pods.",
    tier: "B",
    remediation: `add affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution with topologyKey "${HOSTNAME_KEY}" and the pod labels (not required..., which caps replicas at the node count).`,
    types: REPLICATED_TYPES,
    check: (r) => {
        const anti = at(podSpecOf(r.type, r.props), "affinity", "podAntiAffinity");
        if (anti === UNKNOWN) return;
        const labels = podLabelsOf(r.type, r.props);
        const preferred = list(at(anti, "preferredDuringSchedulingIgnoredDuringExecution"));
        const required = list(at(anti, "requiredDuringSchedulingIgnoredDuringExecution"));
        if (preferred === UNKNOWN || required === UNKNOWN) return;
        const soft = preferred.some((t) => {
            const term = at(t, "podAffinityTerm");
            return at(term, "topologyKey") === HOSTNAME_KEY && selectsOwnPods(at(term, "labelSelector"), labels);
        });
        if (!soft) r.report(`no preferred podAntiAffinity term on ${HOSTNAME_KEY} for the pod's own labels`);
        if (required.some((t) => at(t, "topologyKey") === HOSTNAME_KEY)) {
            r.report(`a required podAntiAffinity term on ${HOSTNAME_KEY} blocks scheduling once replicas exceed nodes`);
        }
    },
});

/** Seconds a preStop hook waits: the `sleep` action, or `sleep N` / `sh -c "sleep N"` in exec. */
export function preStopSeconds(preStop: unknown): number | undefined {
    const sleep = at(preStop, "sleep", "seconds");
    if (typeof sleep === "number") return sleep;
    const cmd = stringList(at(preStop, "exec", "command"));
    if (!Array.isArray(cmd)) return undefined;
    const m = /(?:^|\s)sleep\s+(\d+(?:\.\d+)?)s?(?:\s|;|&|$)/.exec(cmd.join(" "));
    return m ? Number(m[1]) : undefined;
}

export const k8sGracefulShutdown = resourceRule({
    name: "k8s-graceful-shutdown",
    description: "Serving containers drain with a preStop hook, and terminationGracePeriodSeconds is longer than it.",
    tier: "B",
    remediation:
        "add lifecycle.preStop { sleep: { seconds: 10 } } (load balancers stop sending first) and terminationGracePeriodSeconds above it plus the app's own drain time.",
    types: WORKLOAD_TYPES,
    check: (r) => {
        const podSpec = podSpecOf(r.type, r.props);
        const grace = at(podSpec, "terminationGracePeriodSeconds");
        eachContainer(r, ["container"], (ref) => {
            const preStop = at(ref.c, "lifecycle", "preStop");
            if (preStop === UNKNOWN) return;
            if (preStop === undefined) return r.report(`${describeContainer(ref)}: no lifecycle.preStop hook`);
            const seconds = preStopSeconds(preStop);
            const effectiveGrace = grace === undefined ? 30 : grace;
            if (seconds !== undefined && typeof effectiveGrace === "number" && effectiveGrace <= seconds) {
                r.report(
                    `${describeContainer(ref)}: terminationGracePeriodSeconds ${effectiveGrace} is not longer than the ${seconds}s preStop`,
                );
            }
        });
    },
});

export const workloadRules = [
    k8sRunAsNonRoot,
    k8sNoPrivilegeEscalation,
    k8sDropAllCapabilities,
    k8sSeccompRuntimeDefault,
    k8sNoHostAccess,
    k8sReadOnlyRootFilesystem,
    k8sServiceAccountToken,
    k8sImageAllowedRegistry,
    k8sImagePinned,
    k8sResources,
    k8sProbes,
    k8sNoSecretLiterals,
    k8sRollingUpdate,
    k8sZoneSpread,
    k8sHostnameAntiAffinity,
    k8sGracefulShutdown,
];
