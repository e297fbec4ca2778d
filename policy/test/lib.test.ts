/**
 * The pure helpers the deploy-hazard rules stand on, table-driven with fixed dates: the EKS support
 * calendar and the node-volume encryption check (shared by launch templates and EC2NodeClasses).
 */
import * as assert from "node:assert/strict";
import {
    EKS_KUBERNETES_CALENDAR,
    SUPPORT_WARNING_DAYS,
    daysBetween,
    isIsoDay,
    newestSupportedVersion,
    supportStatus,
    utcToday,
} from "../lib/eks-calendar";
import { UNKNOWN } from "../lib/values";
import { volumeEncryptionProblems } from "../lib/volumes";

/** `day` plus `months` calendar months, as EKS counts its 14 + 12 months. */
function addMonths(day: string, months: number): string {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() + months);
    return d.toISOString().slice(0, 10);
}

describe("EKS support calendar", () => {
    it("every row is 14 months of standard support (within a few days) then 12 of extended", () => {
        for (const [version, row] of Object.entries(EKS_KUBERNETES_CALENDAR)) {
            for (const day of Object.values(row)) assert.ok(isIsoDay(day), `${version}: ${day}`);
            const drift = daysBetween(addMonths(row.release, 14), row.endOfStandardSupport);
            assert.ok(Math.abs(drift) <= 3, `${version}: standard support ends ${drift} days off 14 months`);
            assert.equal(row.endOfExtendedSupport, addMonths(row.endOfStandardSupport, 12), version);
        }
    });

    it("knows the dates the issue names (1.33, 1.34, 1.35)", () => {
        assert.equal(EKS_KUBERNETES_CALENDAR["1.33"].endOfStandardSupport, "2026-07-29");
        assert.equal(EKS_KUBERNETES_CALENDAR["1.34"].endOfStandardSupport, "2026-12-02");
        assert.equal(EKS_KUBERNETES_CALENDAR["1.35"].endOfStandardSupport, "2027-03-27");
    });

    it("supportStatus, as of fixed days", () => {
        const table: [string, string, ReturnType<typeof supportStatus>][] = [
            ["1.36", "2026-12-01", { kind: "standard", daysLeft: 244, endOfStandardSupport: "2027-08-02" }],
            ["1.36", "2027-05-03", { kind: "standard", daysLeft: 91, endOfStandardSupport: "2027-08-02" }],
            [
                "1.36",
                "2027-05-04",
                { kind: "ending", daysLeft: SUPPORT_WARNING_DAYS, endOfStandardSupport: "2027-08-02" },
            ],
            ["1.36", "2027-08-01", { kind: "ending", daysLeft: 1, endOfStandardSupport: "2027-08-02" }],
            // Extended support is billed from the first moment of the end day.
            ["1.36", "2027-08-02", { kind: "past-standard", daysPast: 0, endOfStandardSupport: "2027-08-02" }],
            ["1.33", "2026-12-01", { kind: "past-standard", daysPast: 125, endOfStandardSupport: "2026-07-29" }],
            ["1.29", "2026-12-01", { kind: "unknown-version" }],
            ["toString", "2026-12-01", { kind: "unknown-version" }],
        ];
        for (const [version, asOf, expected] of table)
            assert.deepEqual(supportStatus(version, asOf), expected, `${version} on ${asOf}`);
    });

    it("newestSupportedVersion: released and with at least N days left", () => {
        assert.equal(newestSupportedVersion("2026-12-01", 183), "1.36");
        assert.equal(newestSupportedVersion("2026-05-01", 183), "1.35", "1.36 not released on EKS yet");
        assert.equal(newestSupportedVersion("2027-03-01", 183), undefined, "1.36 has under 6 months left");
    });

    it("dates: ISO days only, differences in whole days", () => {
        assert.equal(isIsoDay("2026-02-30"), false);
        assert.equal(isIsoDay("2026-12-01T00:00:00Z"), false);
        assert.equal(daysBetween("2026-12-01", "2027-03-27"), 116);
        assert.equal(utcToday(new Date("2026-12-01T23:59:59Z")), "2026-12-01");
    });
});

describe("node volume encryption check", () => {
    const table: [string, unknown, string[] | typeof UNKNOWN][] = [
        ["encrypted (string, as the AWS SDK types it)", [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }], []],
        ["encrypted (boolean, as EC2NodeClass has it)", [{ deviceName: "/dev/xvda", ebs: { encrypted: true } }], []],
        ["instance store needs nothing", [{ deviceName: "/dev/sdb", virtualName: "ephemeral0" }], []],
        [
            "encrypted missing",
            [{ deviceName: "/dev/xvda", ebs: { volumeSize: 50 } }],
            ["blockDeviceMappings[0] (/dev/xvda) has ebs.encrypted (not set)"],
        ],
        [
            "one of two unencrypted",
            [
                { deviceName: "/dev/xvda", ebs: { encrypted: "true" } },
                { deviceName: "/dev/xvdb", ebs: { encrypted: "false" } },
            ],
            ['blockDeviceMappings[1] (/dev/xvdb) has ebs.encrypted "false"'],
        ],
        [
            "no mappings at all",
            undefined,
            [
                "the launch template maps no block devices, so the AMI's volumes are used as they are (encrypted only if the snapshot or the account default is)",
            ],
        ],
        ["unknown during a preview", UNKNOWN, UNKNOWN],
        ["one unknown flag is skipped", [{ deviceName: "/dev/xvda", ebs: { encrypted: UNKNOWN } }], []],
    ];
    for (const [what, mappings, expected] of table) {
        it(what, () => assert.deepEqual(volumeEncryptionProblems(mappings, "launch template"), expected));
    }
});
