/** Route53 hosted zones and hostnames, as the DNS add-ons (ExternalDNS, cert-manager DNS01) take them. */

/** A public Route53 hosted zone the platform may write records in. */
export interface HostedZone {
    /** Zone id as Route53 shows it, e.g. `Z0123456789ABCDEFGHIJ` (no `/hostedzone/` prefix). */
    readonly id: string;
    /** The zone's domain, e.g. `example.com` (no trailing dot). */
    readonly name: string;
}

const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})+$`);
const HOSTNAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})+$`);

/** `arn:<partition>:route53:::hostedzone/<id>`: the only resource Route53 record writes are allowed on. */
export function hostedZoneArn(zoneId: string, partition = "aws"): string {
    return `arn:${partition}:route53:::hostedzone/${zoneId}`;
}

/** Why `id` is not a Route53 zone id, or undefined. */
export function zoneIdProblem(id: string): string | undefined {
    return ZONE_ID.test(id) ? undefined : "is not a Route53 zone id (Z followed by A-Z0-9)";
}

/** Why `name` is not a zone's domain as the zone list takes it, or undefined. */
export function zoneNameProblem(name: string): string | undefined {
    return DOMAIN.test(name) ? undefined : "is not a lowercase domain name without a trailing dot";
}

/** Why `hostname` is not a host name a listener or a record can carry, or undefined. */
export function hostnameProblem(hostname: string): string | undefined {
    return HOSTNAME.test(hostname)
        ? undefined
        : "is not a lowercase DNS name (letters, digits, '-', optional leading '*.')";
}

/**
 * Checks zones before anything is built from them; `what` names the argument in the error. An id
 * with a wildcard or a `/hostedzone/` prefix would turn into an IAM resource that is not one zone.
 */
export function validateZones(zones: readonly HostedZone[], what: string): void {
    if (zones.length === 0) throw new Error(`${what} must list at least one hosted zone`);
    for (const z of zones) {
        const idProblem = zoneIdProblem(z.id);
        if (idProblem) throw new Error(`${what}: zone id ${JSON.stringify(z.id)} ${idProblem}`);
        const nameProblem = zoneNameProblem(z.name);
        if (nameProblem) throw new Error(`${what}: zone name ${JSON.stringify(z.name)} ${nameProblem}`);
    }
    const ids = zones.map((z) => z.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup) throw new Error(`${what}: zone id ${dup} is listed twice`);
}

/** The zone a hostname belongs to: the longest zone name it ends in, or undefined. */
export function zoneFor(hostname: string, zones: readonly HostedZone[]): HostedZone | undefined {
    const host = hostname.replace(/^\*\./, "");
    return [...zones]
        .sort((a, b) => b.name.length - a.name.length)
        .find((z) => host === z.name || host.endsWith(`.${z.name}`));
}

/** Checks hostnames (lowercase DNS names, optionally `*.` wildcards) and that each lies in a zone. */
export function validateHostnames(hostnames: readonly string[], zones: readonly HostedZone[], what: string): void {
    if (hostnames.length === 0) throw new Error(`${what} must list at least one hostname`);
    for (const h of hostnames) {
        const problem = hostnameProblem(h);
        if (problem) throw new Error(`${what}: ${JSON.stringify(h)} ${problem}`);
        if (!zoneFor(h, zones))
            throw new Error(
                `${what}: ${JSON.stringify(h)} is in none of the hosted zones (${zones.map((z) => z.name).join(", ")})`,
            );
    }
    const dup = hostnames.find((h, i) => hostnames.indexOf(h) !== i);
    if (dup) throw new Error(`${what}: ${dup} is listed twice`);
}
