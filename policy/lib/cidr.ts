/** Just enough CIDR arithmetic to tell whether one IPv4 block lies inside another. */

function parseV4(cidr: string): { base: number; bits: number } | undefined {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const bits = Number(m[5]);
    if (octets.some((o) => o > 255) || bits > 32) return undefined;
    const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return { base: (addr & mask) >>> 0, bits };
}

/** Whether `inner` is inside `outer`; non-IPv4 blocks only match themselves exactly. */
export function cidrWithin(inner: string, outer: string): boolean {
    const i = parseV4(inner);
    const o = parseV4(outer);
    if (!i || !o) return inner.trim() === outer.trim();
    if (i.bits < o.bits) return false;
    const mask = o.bits === 0 ? 0 : (0xffffffff << (32 - o.bits)) >>> 0;
    return (i.base & mask) >>> 0 === o.base;
}

/** 0.0.0.0/0 and ::/0, and anything with a /0 prefix. */
export function isAnywhere(cidr: string): boolean {
    return /\/0$/.test(cidr.trim());
}
