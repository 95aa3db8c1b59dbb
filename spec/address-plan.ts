/**
 * The address plan: which CIDR each subnet gets. Deterministic and kops-like, and stable under growth.
 *
 * The network is cut into 8 equal blocks (a /19 each in kops's default 172.20.0.0/16). The zone with
 * letter `a` gets block 1, `b` block 2, and so on (up to `g`); block 0 is cut again into 8 small
 * utility blocks (/22 in the default network), one per zone letter. For 172.20.0.0/16 and zones a, b,
 * c this is exactly kops's layout (private 172.20.32.0/19, 172.20.64.0/19, 172.20.96.0/19; utility
 * 172.20.0.0/22, 172.20.4.0/22, 172.20.8.0/22). Because a subnet's block follows its zone's letter
 * and not its position in `zones`, adding, removing or reordering zones never moves another subnet.
 */
import {
  Ipv4Block,
  contains,
  formatIpv4Cidr,
  overlaps,
  parseIpv4Cidr,
  subBlock,
} from "./cidr";
import { Problem } from "./problems";

/** What a subnet is for. Private subnets hold instances; utility subnets hold NAT gateways and public load balancers. */
export type SubnetRole = "private" | "utility" | "public";

/** A subnet of the plan: its zone, its role, and either a CIDR to create or the id of a shared subnet. */
export interface PlannedSubnet {
  readonly zone: string;
  readonly role: SubnetRole;
  /** The CIDR kopsform creates the subnet with; absent for a shared subnet. */
  readonly cidr?: string;
  /** A shared subnet's id (kops `--subnets` / `--utility-subnets`); nothing is created for it. */
  readonly id?: string;
}

/** A user's override for one subnet (kops's `subnets` entries). */
export interface SubnetOverride {
  readonly zone: string;
  readonly role: SubnetRole;
  readonly cidr?: string;
  readonly id?: string;
}

/** Input of the plan. */
export interface AddressPlanInput {
  readonly networkCidr: string;
  readonly topology: "public" | "private";
  readonly zones: readonly string[];
  readonly overrides: readonly SubnetOverride[];
}

/** AWS's smallest subnet. */
const MIN_SUBNET_PREFIX = 28;
/** Blocks per network: 1 for utility subnets plus 7 for zones. */
const BLOCK_BITS = 3;
/** Utility blocks inside block 0. */
const UTILITY_BITS = 3;
const ZONE_LETTERS = "abcdefg";

/** The roles a topology needs in every zone. */
export function rolesFor(topology: "public" | "private"): SubnetRole[] {
  return topology === "private" ? ["private", "utility"] : ["public"];
}

/** Position of a zone's letter (`us-west-2c` -> 2), or -1 beyond `g`. */
function zoneSlot(zone: string): number {
  return ZONE_LETTERS.indexOf(zone.slice(-1));
}

/** The planned CIDR for a role in a zone, or a reason it has none. */
function plannedBlock(network: Ipv4Block, role: SubnetRole, zone: string): Ipv4Block | string {
  const slot = zoneSlot(zone);
  if (slot < 0) {
    return `zone ${zone} is beyond the plan's letters a-g; give its ${role} subnet a cidr under subnets`;
  }
  const zonePrefix = network.prefix + BLOCK_BITS;
  if (role === "utility") {
    return subBlock(subBlock(network, zonePrefix, 0), zonePrefix + UTILITY_BITS, slot);
  }
  return subBlock(network, zonePrefix, slot + 1);
}

/** The smallest subnet the plan would make for a topology, as a prefix length. */
function smallestPlannedPrefix(network: Ipv4Block, topology: "public" | "private"): number {
  return network.prefix + BLOCK_BITS + (topology === "private" ? UTILITY_BITS : 0);
}

/**
 * Plans every subnet of the cluster. Problems (a network too small, overlapping or outside CIDRs) are
 * returned rather than thrown, so that validation can report them with everything else.
 */
export function planSubnets(input: AddressPlanInput): { subnets: PlannedSubnet[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const network = parseIpv4Cidr(input.networkCidr);
  const subnets: PlannedSubnet[] = [];
  const needsPlan = input.zones.some((zone) =>
    rolesFor(input.topology).some((role) => !findOverride(input.overrides, zone, role)),
  );
  if (network && needsPlan) {
    const smallest = smallestPlannedPrefix(network, input.topology);
    if (smallest > MIN_SUBNET_PREFIX) {
      const largestNetwork = MIN_SUBNET_PREFIX - (smallest - network.prefix);
      problems.push({
        field: "networkCidr",
        message:
          `${input.networkCidr} is too small for ${input.topology} topology: the plan gives each zone a ` +
          `/${network.prefix + BLOCK_BITS} subnet` +
          (input.topology === "private" ? ` and a /${smallest} utility subnet` : "") +
          `, but AWS subnets can be no smaller than /${MIN_SUBNET_PREFIX}. ` +
          `Use a /${largestNetwork} or larger network, or give every subnet a cidr under subnets.`,
      });
      return { subnets, problems };
    }
  }
  const placed: { block: Ipv4Block; label: string }[] = [];
  for (const zone of input.zones) {
    for (const role of rolesFor(input.topology)) {
      const override = findOverride(input.overrides, zone, role);
      if (override?.id) {
        subnets.push({ zone, role, id: override.id });
        continue;
      }
      let block: Ipv4Block | undefined;
      if (override?.cidr) {
        block = parseIpv4Cidr(override.cidr);
        if (block && network && !contains(network, block)) {
          problems.push({
            field: "subnets",
            message: `${role} subnet ${override.cidr} of ${zone} is outside networkCidr ${input.networkCidr}; pick a block inside it.`,
          });
        }
      } else if (network) {
        const planned = plannedBlock(network, role, zone);
        if (typeof planned === "string") {
          problems.push({ field: "zones", message: planned });
        } else {
          block = planned;
        }
      }
      if (!block) {
        continue;
      }
      const label = `${role} subnet ${formatIpv4Cidr(block)} of ${zone}`;
      const clash = placed.find((p) => overlaps(p.block, block));
      if (clash) {
        problems.push({
          field: "subnets",
          message: `${label} overlaps the ${clash.label}; give one of them a different cidr.`,
        });
      }
      placed.push({ block, label });
      subnets.push({ zone, role, cidr: formatIpv4Cidr(block) });
    }
  }
  return { subnets, problems };
}

function findOverride(
  overrides: readonly SubnetOverride[],
  zone: string,
  role: SubnetRole,
): SubnetOverride | undefined {
  return overrides.find((o) => o.zone === zone && o.role === role);
}

