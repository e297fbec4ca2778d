/**
 * SLO alerting as multi-window, multi-burn-rate alerts (Google SRE Workbook, "Alerting on SLOs",
 * table 5-8): page when the error budget burns fast over both a long and a short window, open a
 * ticket when it burns slowly for days. Pure functions from SLO targets to Prometheus rule groups.
 */
import { stringify } from "yaml";

/** Metric names the checkout-service exports (app/checkout-service/src/metrics.ts). */
export const HTTP_REQUESTS_TOTAL = "http_requests_total";
export const HTTP_REQUEST_DURATION = "http_request_duration_seconds";

/** A pair of windows and the burn rate both must exceed. */
export interface BurnRateWindow {
    readonly long: string;
    readonly short: string;
    /** Multiple of the budget-neutral error rate, over a 30-day SLO period. */
    readonly burnRate: number;
    readonly severity: "page" | "ticket";
}

/**
 * The workbook's recommendation for a 30-day SLO: 2% of the budget in 1 h or 5% in 6 h pages,
 * 10% in 3 days opens a ticket. Each short window is 1/12 of its long one, so the alert resets
 * minutes after the burn stops.
 */
export const SRE_WORKBOOK_WINDOWS: readonly BurnRateWindow[] = [
    { long: "1h", short: "5m", burnRate: 14.4, severity: "page" },
    { long: "6h", short: "30m", burnRate: 6, severity: "page" },
    { long: "3d", short: "6h", burnRate: 1, severity: "ticket" },
];

export interface ServiceSlo {
    /** Lower-case name used in rule names, alert names and the `slo` label, e.g. `checkout`. */
    readonly name: string;
    /** Label matchers that pick the SLI's requests, e.g. `service="checkout",route="/checkout"`. */
    readonly selector: string;
    /** Share of requests that must not fail with a 5xx, e.g. 0.999. */
    readonly availabilityTarget: number;
    /** Share of requests that must finish within `latencyThresholdSeconds`, e.g. 0.99 (a p99). */
    readonly latencyTarget: number;
    /** Must be a bucket boundary of `http_request_duration_seconds`: another value matches no series. */
    readonly latencyThresholdSeconds: number;
}

const DURATION = /^([0-9]+)(m|h|d)$/;
const NAME = /^[a-z][a-z0-9_]*$/;

function seconds(window: string): number {
    const m = DURATION.exec(window);
    if (m === null) {
        throw new Error(`window must be a whole number of m, h or d (e.g. 5m, 1h, 3d); got ${JSON.stringify(window)}`);
    }
    return Number(m[1]) * { m: 60, h: 3600, d: 86400 }[m[2] as "m" | "h" | "d"];
}

/**
 * Checks an SLO against what the service exports. `buckets` are the histogram's boundaries.
 * Returns every problem, each naming the field, the value and what is allowed.
 */
export function sloProblems(slo: ServiceSlo, buckets: readonly number[], windows = SRE_WORKBOOK_WINDOWS): string[] {
    const problems: string[] = [];
    const where = `slo ${JSON.stringify(slo.name)}`;
    if (!NAME.test(slo.name)) {
        problems.push(`${where}: name must match ${NAME.source}; got ${JSON.stringify(slo.name)}`);
    }
    for (const key of ["availabilityTarget", "latencyTarget"] as const) {
        const v = slo[key];
        if (!(v > 0 && v < 1)) {
            problems.push(`${where}: ${key} must be between 0 and 1 exclusive (e.g. 0.999); got ${v}`);
        }
    }
    if (!buckets.includes(slo.latencyThresholdSeconds)) {
        problems.push(
            `${where}: latencyThresholdSeconds must be a bucket of ${HTTP_REQUEST_DURATION} (${buckets.join(", ")}); got ${slo.latencyThresholdSeconds}`,
        );
    }
    if (slo.selector.trim() === "" || /[{}]/.test(slo.selector)) {
        problems.push(
            `${where}: selector must be label matchers without braces, e.g. service="checkout"; got ${JSON.stringify(slo.selector)}`,
        );
    }
    for (const w of windows) {
        try {
            if (seconds(w.short) >= seconds(w.long)) {
                problems.push(`${where}: short window ${w.short} must be shorter than long window ${w.long}`);
            }
        } catch (err) {
            problems.push(`${where}: ${(err as Error).message}`);
        }
        if (!(w.burnRate > 0)) {
            problems.push(`${where}: burn rate must be > 0; got ${w.burnRate}`);
        }
    }
    return problems;
}

/** The recorded series holding a ratio of bad requests over `window`. */
export function ratioRecord(slo: string, sli: "errors" | "latency", window: string): string {
    return `slo:${slo}_${sli}:ratio_rate${window}`;
}

/** PromQL for the share of requests that failed (5xx) over `window`. */
export function errorRatioExpr(selector: string, window: string): string {
    return (
        `sum(rate(${HTTP_REQUESTS_TOTAL}{${selector},status=~"5.."}[${window}]))` +
        ` / sum(rate(${HTTP_REQUESTS_TOTAL}{${selector}}[${window}]))`
    );
}

/**
 * PromQL for the share of requests slower than `threshold` over `window`: one minus the share in
 * the `le` bucket. Prometheus 3 writes `le` as a float ("1.0" for 1), so the matcher accepts both.
 */
export function latencyRatioExpr(selector: string, window: string, threshold: number): string {
    const le = Number.isInteger(threshold) ? `${threshold}|${threshold}.0` : String(threshold);
    return (
        `1 - (sum(rate(${HTTP_REQUEST_DURATION}_bucket{${selector},le=~"${le}"}[${window}]))` +
        ` / sum(rate(${HTTP_REQUEST_DURATION}_count{${selector}}[${window}])))`
    );
}

/** `ratio(long) > burn * budget and ratio(short) > burn * budget`, on recorded series. */
export function burnRateExpr(slo: string, sli: "errors" | "latency", target: number, w: BurnRateWindow): string {
    const threshold = `${w.burnRate} * (1 - ${target})`;
    return `${ratioRecord(slo, sli, w.long)} > (${threshold}) and ${ratioRecord(slo, sli, w.short)} > (${threshold})`;
}

export interface RecordingRule {
    readonly record: string;
    readonly expr: string;
    readonly labels?: Readonly<Record<string, string>>;
}
export interface AlertingRule {
    readonly alert: string;
    readonly expr: string;
    readonly for?: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
}
export interface RuleGroup {
    readonly name: string;
    readonly interval?: string;
    readonly rules: ReadonlyArray<RecordingRule | AlertingRule>;
}

function percent(share: number): number {
    return Number((share * 100).toPrecision(6));
}

function pascal(name: string): string {
    return name
        .split("_")
        .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
        .join("");
}

/**
 * Recording rules for each window's bad-request ratio, then two alerts per SLO, one per SLI
 * (`<Name>ErrorBudgetBurn` on 5xx, `<Name>LatencyBudgetBurn` on requests slower than the
 * threshold), each with one rule per window pair and its severity.
 */
export function sloRuleGroups(
    slos: readonly ServiceSlo[],
    buckets: readonly number[],
    windows: readonly BurnRateWindow[] = SRE_WORKBOOK_WINDOWS,
): RuleGroup[] {
    const problems = slos.flatMap((s) => sloProblems(s, buckets, windows));
    const names = slos.map((s) => s.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) {
        problems.push(`slo names must be unique; ${JSON.stringify(dup)} appears twice`);
    }
    if (problems.length > 0) {
        throw new Error(`invalid SLOs:\n  - ${problems.join("\n  - ")}`);
    }
    const allWindows = [...new Set(windows.flatMap((w) => [w.long, w.short]))].sort((a, b) => seconds(a) - seconds(b));
    return slos.flatMap((slo) => {
        const slis = [
            {
                sli: "errors" as const,
                alert: `${pascal(slo.name)}ErrorBudgetBurn`,
                target: slo.availabilityTarget,
                ratio: (w: string) => errorRatioExpr(slo.selector, w),
                objective: `${percent(slo.availabilityTarget)}% of requests succeed (no 5xx)`,
            },
            {
                sli: "latency" as const,
                alert: `${pascal(slo.name)}LatencyBudgetBurn`,
                target: slo.latencyTarget,
                ratio: (w: string) => latencyRatioExpr(slo.selector, w, slo.latencyThresholdSeconds),
                objective: `${percent(slo.latencyTarget)}% of requests finish within ${slo.latencyThresholdSeconds * 1000} ms`,
            },
        ];
        return [
            {
                name: `slo-${slo.name}-ratios`,
                interval: "1m",
                rules: slis.flatMap((s) =>
                    allWindows.map((w) => ({ record: ratioRecord(slo.name, s.sli, w), expr: s.ratio(w) })),
                ),
            },
            {
                name: `slo-${slo.name}-alerts`,
                rules: slis.flatMap((s) =>
                    windows.map((w) => ({
                        alert: s.alert,
                        expr: burnRateExpr(slo.name, s.sli, s.target, w),
                        labels: { severity: w.severity, slo: slo.name, sli: s.sli, long_window: w.long },
                        annotations: {
                            summary: `${slo.name}: ${s.sli} budget burning ${w.burnRate}x over ${w.long} and ${w.short}`,
                            description:
                                `SLO: ${s.objective} over 30 days. At this rate the budget ` +
                                `(${Number(((1 - s.target) * 100).toPrecision(6))}% of requests) lasts ${Number((30 / w.burnRate).toPrecision(3))} days.`,
                        },
                    })),
                ),
            },
        ];
    });
}

/** The rule file AMP's rule group namespace takes (Prometheus rules format). */
export function ruleFile(groups: readonly RuleGroup[]): string {
    return stringify({ groups }, { lineWidth: 0 });
}
