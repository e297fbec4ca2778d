/**
 * The Amazon EKS Kubernetes release calendar, one row per minor version, and the date arithmetic the
 * version rules need. Pure: every function takes the evaluation date, so tests pin it.
 *
 * Source: the "Amazon EKS Kubernetes release calendar" table of the EKS user guide
 * (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html, mirrored by
 * endoflife.date/amazon-eks). A version gets 14 months of standard support from its EKS release,
 * then 12 months of paid extended support. The 1.36 row follows that rule from its EKS release on
 * 2026-06-02 (EKS "standard support versions" page lists 1.36; release date as reported for EKS
 * GA); confirm any row with `aws eks describe-cluster-versions --cluster-versions <v>`, which returns
 * `endOfStandardSupportDate` and `endOfExtendedSupportDate`.
 *
 * Dates are UTC calendar days (`YYYY-MM-DD`). EKS bills extended support from the start of the
 * end-of-standard-support day, so that day already counts as "passed".
 */
export interface EksVersionDates {
    /** Available on EKS from this day. */
    readonly release: string;
    /** Last day is the day before: from this day the version is in (paid) extended support. */
    readonly endOfStandardSupport: string;
    /** From this day EKS upgrades the control plane by itself. */
    readonly endOfExtendedSupport: string;
}

export const EKS_KUBERNETES_CALENDAR: Readonly<Record<string, EksVersionDates>> = {
    "1.31": { release: "2024-09-26", endOfStandardSupport: "2025-11-26", endOfExtendedSupport: "2026-11-26" },
    "1.32": { release: "2025-01-23", endOfStandardSupport: "2026-03-23", endOfExtendedSupport: "2027-03-23" },
    "1.33": { release: "2025-05-29", endOfStandardSupport: "2026-07-29", endOfExtendedSupport: "2027-07-29" },
    "1.34": { release: "2025-10-02", endOfStandardSupport: "2026-12-02", endOfExtendedSupport: "2027-12-02" },
    "1.35": { release: "2026-01-28", endOfStandardSupport: "2027-03-27", endOfExtendedSupport: "2028-03-27" },
    "1.36": { release: "2026-06-02", endOfStandardSupport: "2027-08-02", endOfExtendedSupport: "2028-08-02" },
};

/** Warn this many days before standard support ends (the time a version upgrade takes to roll out). */
export const SUPPORT_WARNING_DAYS = 90;

const DAY_MS = 24 * 60 * 60 * 1000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Milliseconds of a `YYYY-MM-DD` UTC day, or NaN when it is not one. */
function dayValue(day: string): number {
    if (!ISO_DAY.test(day)) return NaN;
    const t = Date.parse(`${day}T00:00:00Z`);
    return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day ? NaN : t;
}

export function isIsoDay(day: string): boolean {
    return !Number.isNaN(dayValue(day));
}

/** `from` to `to` in whole days (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
    return Math.round((dayValue(to) - dayValue(from)) / DAY_MS);
}

/** Today as a UTC `YYYY-MM-DD` day. */
export function utcToday(now: Date = new Date()): string {
    return now.toISOString().slice(0, 10);
}

export type SupportStatus =
    | { readonly kind: "unknown-version" }
    | { readonly kind: "standard"; readonly daysLeft: number; readonly endOfStandardSupport: string }
    | { readonly kind: "ending"; readonly daysLeft: number; readonly endOfStandardSupport: string }
    | { readonly kind: "past-standard"; readonly daysPast: number; readonly endOfStandardSupport: string };

/**
 * Where `version` stands on `asOf`: in standard support, within `SUPPORT_WARNING_DAYS` of its end,
 * past it, or not in the calendar at all (so nothing can be said; the rules ask for a row).
 */
export function supportStatus(
    version: string,
    asOf: string,
    calendar: Readonly<Record<string, EksVersionDates>> = EKS_KUBERNETES_CALENDAR,
): SupportStatus {
    const row = Object.prototype.hasOwnProperty.call(calendar, version) ? calendar[version] : undefined;
    if (!row) return { kind: "unknown-version" };
    const left = daysBetween(asOf, row.endOfStandardSupport);
    const end = row.endOfStandardSupport;
    if (left <= 0) return { kind: "past-standard", daysPast: Math.max(0, -left), endOfStandardSupport: end };
    if (left <= SUPPORT_WARNING_DAYS) return { kind: "ending", daysLeft: left, endOfStandardSupport: end };
    return { kind: "standard", daysLeft: left, endOfStandardSupport: end };
}

/**
 * The newest calendar version whose standard support lasts at least `minDays` after `asOf` and
 * that is already released on `asOf` (how the pinned version is chosen; a test keeps it honest).
 */
export function newestSupportedVersion(
    asOf: string,
    minDays: number,
    calendar: Readonly<Record<string, EksVersionDates>> = EKS_KUBERNETES_CALENDAR,
): string | undefined {
    const minor = (v: string) => Number(v.split(".")[1]);
    return Object.entries(calendar)
        .filter(([, d]) => daysBetween(d.release, asOf) >= 0 && daysBetween(asOf, d.endOfStandardSupport) >= minDays)
        .map(([v]) => v)
        .sort((a, b) => minor(b) - minor(a))[0];
}
