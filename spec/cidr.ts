/**
 * IPv4 CIDR arithmetic for the address plan and for validation. Small on purpose: the plan only needs
 * to parse, subdivide and compare blocks.
 */

/** An IPv4 block: `base` is the network address as an unsigned 32-bit number. */
export interface Ipv4Block {
  readonly base: number;
  readonly prefix: number;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined when malformed. Host bits may be set (see {@link isCanonical}). */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
  const m = IPV4_CIDR.exec(text.trim());
  if (!m) {
    return undefined;
  }
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) {
    return undefined;
  }
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  return { base, prefix };
}

/** The netmask of a prefix length, as an unsigned number. */
function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when the address has no host bits set (`10.0.0.0/16`, not `10.0.1.0/16`). */
export function isCanonical(block: Ipv4Block): boolean {
  return (block.base & mask(block.prefix)) >>> 0 === block.base;
}

/** The same block with host bits cleared. */
export function canonical(block: Ipv4Block): Ipv4Block {
  return { base: (block.base & mask(block.prefix)) >>> 0, prefix: block.prefix };
}

/** Formats a block as `a.b.c.d/n`. */
export function formatIpv4Cidr(block: Ipv4Block): string {
  const b = block.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${block.prefix}`;
}

/** The `index`-th block of prefix length `prefix` inside `parent` (which must be at most as long). */
export function subBlock(parent: Ipv4Block, prefix: number, index: number): Ipv4Block {
  const size = 2 ** (32 - prefix);
  return { base: (parent.base + index * size) >>> 0, prefix };
}

/** How many blocks of length `prefix` fit in `parent`. */
export function countSubBlocks(parent: Ipv4Block, prefix: number): number {
  return prefix < parent.prefix ? 0 : 2 ** (prefix - parent.prefix);
}

/** True when `inner` lies entirely within `outer`. */
export function contains(outer: Ipv4Block, inner: Ipv4Block): boolean {
  return inner.prefix >= outer.prefix && (inner.base & mask(outer.prefix)) >>> 0 === outer.base;
}

/** True when the two blocks share any address. */
export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return contains(a, b) || contains(b, a);
}

const IPV6_CIDR = /^[0-9a-fA-F:]+\/(\d{1,3})$/;

/** True for an IPv4 or IPv6 CIDR (used for access lists, where IPv6 ranges are allowed). */
export function isCidr(text: string): boolean {
  if (parseIpv4Cidr(text)) {
    return true;
  }
  const m = IPV6_CIDR.exec(text);
  return !!m && Number(m[1]) <= 128 && text.includes(":") && (text.match(/::/g) ?? []).length <= 1;
}

/** True for `0.0.0.0/0` or `::/0`: the whole internet. */
export function isAnywhere(cidr: string): boolean {
  return cidr === "0.0.0.0/0" || cidr === "::/0";
}
