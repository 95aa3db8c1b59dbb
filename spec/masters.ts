/**
 * Where the masters go and what they are called: kops's round-robin over the master zones, with names
 * that never change when masters are added.
 */
import { MasterSlot } from "./types";

/**
 * Lays `count` masters over `zones` round-robin. The first master of a zone is `master-<zone>` (etcd
 * member `<letter>`); further ones get `-2`, `-3` (`master-us-east-1a-2`, member `a-2`). kops numbers
 * every master of a shared zone from 1; kopsform keeps the first unsuffixed so that growing a cluster
 * from one master to three never renames the first one (a rename would destroy its etcd volumes).
 */
export function layMasters(zones: readonly string[], count: number): MasterSlot[] {
  const masters: MasterSlot[] = [];
  for (let i = 0; i < count; i++) {
    const zone = zones[i % zones.length];
    const ordinal = Math.floor(i / zones.length) + 1;
    const suffix = ordinal === 1 ? "" : `-${ordinal}`;
    masters.push({ name: `master-${zone}${suffix}`, zone, member: `${zone.slice(-1)}${suffix}` });
  }
  return masters;
}
