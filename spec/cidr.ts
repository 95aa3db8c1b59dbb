/**
 * CIDR arithmetic for the address plan and for validation. Small on purpose: the plan only needs to
 * parse, subdivide and compare IPv4 blocks; access lists also take IPv6 blocks.
 */
import { isIPv6 } from "net";

/** An IPv4 block: `base` is the network address as an unsigned 32-bit number. */
export interface Ipv4Block {
  readonly base: number;
  readonly prefix: number;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined when malformed. Host bits may be set (see {@link isCanonical}). */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
  const m = IPV4_CIDR.exec(text);
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

/** True when `inner` lies entirely within `outer`. */
export function contains(outer: Ipv4Block, inner: Ipv4Block): boolean {
  return inner.prefix >= outer.prefix && (inner.base & mask(outer.prefix)) >>> 0 === outer.base;
}

/** True when the two blocks share any address. */
export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return contains(a, b) || contains(b, a);
}

/** An IPv6 block: the address as a 128-bit number, and the prefix length. */
interface Ipv6Block {
  readonly base: bigint;
  readonly prefix: number;
}

/** Parses `addr/n` for IPv6 (any spelling `net.isIPv6` accepts, `::` included); undefined otherwise. */
function parseIpv6Cidr(text: string): Ipv6Block | undefined {
  const slash = text.indexOf("/");
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (slash < 0 || !isIPv6(address) || address.includes(".") || address.includes("%") || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > 128) {
    return undefined;
  }
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return { base: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), prefix: Number(prefixText) };
}

/** True for an IPv4 or IPv6 CIDR (used for access lists, where IPv6 ranges are allowed). */
export function isCidr(text: string): boolean {
  return parseIpv4Cidr(text) !== undefined || parseIpv6Cidr(text) !== undefined;
}

/** True when a CIDR (IPv4 or IPv6) has no host bits set; false for anything that is not a CIDR. */
export function hasNoHostBits(text: string): boolean {
  const v4 = parseIpv4Cidr(text);
  if (v4) {
    return isCanonical(v4);
  }
  const v6 = parseIpv6Cidr(text);
  return v6 !== undefined && (v6.prefix === 128 || (v6.base & ((1n << BigInt(128 - v6.prefix)) - 1n)) === 0n);
}

/** True for a block of prefix length 0, in any spelling (`0.0.0.0/0`, `::/0`, `0::/0`): the whole internet. */
export function isAnywhere(cidr: string): boolean {
  return (parseIpv4Cidr(cidr) ?? parseIpv6Cidr(cidr))?.prefix === 0;
}

/** Blocks that are not the public internet (private, shared, loopback, link-local, documentation, multicast, reserved). */
const IPV4_NOT_INTERNET = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

/** The range of a CIDR as first and last address, with its family; undefined when it is not a CIDR. */
function rangeOf(cidr: string): { family: 4 | 6; first: bigint; last: bigint } | undefined {
  const v4 = parseIpv4Cidr(cidr);
  if (v4) {
    const size = 1n << BigInt(32 - v4.prefix);
    const first = BigInt(v4.base) & ~(size - 1n);
    return { family: 4, first, last: first + size - 1n };
  }
  const v6 = parseIpv6Cidr(cidr);
  if (v6) {
    const size = 1n << BigInt(128 - v6.prefix);
    const first = v6.base & ~(size - 1n);
    return { family: 6, first, last: first + size - 1n };
  }
  return undefined;
}

/** True when the ranges cover every address from `first` to `last`. */
function covers(ranges: readonly { first: bigint; last: bigint }[], first: bigint, last: bigint): boolean {
  let next = first;
  for (const r of [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))) {
    if (r.first > next) {
      break;
    }
    if (r.last >= next) {
      next = r.last + 1n;
    }
    if (next > last) {
      return true;
    }
  }
  return next > last;
}

/**
 * True when the CIDRs together admit the whole internet of one family: every public IPv4 address
 * (`0.0.0.0/1` and `128.0.0.0/1` do, as `0.0.0.0/0` does), or the whole global IPv6 unicast space
 * (2000::/3).
 */
export function coverTheInternet(cidrs: readonly string[]): boolean {
  const ranges = cidrs.map(rangeOf).filter((r): r is NonNullable<typeof r> => r !== undefined);
  const v4 = [...ranges.filter((r) => r.family === 4), ...IPV4_NOT_INTERNET.map((c) => rangeOf(c) as { first: bigint; last: bigint })];
  const v6 = ranges.filter((r) => r.family === 6);
  const v4Given = ranges.some((r) => r.family === 4);
  return (v4Given && covers(v4, 0n, (1n << 32n) - 1n)) || covers(v6, 0x2000n << 112n, (0x4000n << 112n) - 1n);
}
