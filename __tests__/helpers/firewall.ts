/**
 * A reachability evaluator over the security rules of a synthesized cluster: "can traffic from X reach
 * Y on protocol P, port N?", answered from the `aws_security_group_rule` resources of the Terraform JSON
 * the way EC2 evaluates security groups (allow rules only, any matching rule allows).
 *
 * Semantics:
 * - Peers are our roles (`masters`, `nodes`, `api-elb`, `bastion`: the groups named `<role>.<cluster>`)
 *   or CIDR blocks (an admin range, 0.0.0.0/0, ...).
 * - Traffic from X to Y is allowed when Y (if it is one of our groups) has an ingress rule matching the
 *   traffic whose source is X, AND X (if it is one of our groups) has an egress rule matching the traffic
 *   whose destination is Y. A CIDR end has no rules of ours, so only the other end is checked.
 * - A rule's peer matches one of our groups when it references the group (`source_security_group_id`
 *   = `${aws_security_group.<name>.id}`, or `self`), or when one of its CIDRs overlaps the VPC CIDR the
 *   group's members live in (conservative: an instance of the group may have such an address). It
 *   matches a CIDR peer when one of its CIDRs contains that block (same address family).
 * - Protocol "-1" ("all") matches everything, ports ignored. TCP and UDP match when
 *   from_port <= port <= to_port. ICMP/ICMPv6 rules carry the type in from_port and the code in
 *   to_port (-1 = any). Other IP protocols (4 = IP-in-IP) match on the protocol alone.
 *
 * - Load balancers ({@link Firewall.canReachApi}): traffic to an internal load balancer comes from the
 *   sender's private address, so group references match it. Traffic to an internet-facing one leaves
 *   the VPC and comes back from a public address: the NAT gateway's Elastic IP of the sender's zone
 *   when its subnet routes to the internet through a NAT gateway, or the instance's own ephemeral
 *   public address when its subnet routes to the internet gateway (public topology). A security-group
 *   reference never matches a public address, and neither does a rule's VPC CIDR; an ephemeral public
 *   address is contained in 0.0.0.0/0 only ({@link SOME_PUBLIC_IPV4}). The path of each role is read
 *   from the configuration: auto-scaling groups, their launch templates (groups, public address) and
 *   subnets, the subnets' route tables and default routes, the NAT gateways' Elastic IPs.
 *
 * The evaluator refuses configurations it cannot judge (inline ingress/egress blocks on a group, the
 * newer `aws_vpc_security_group_*_rule` resources, prefix lists, a rule on a group it does not know,
 * a path through a subnet or route it cannot find), so a test can never pass because a rule went unseen.
 */
import { TerraformJson, resources } from "./cluster";

/** The cluster's own security groups, by kops role. */
export type Role = "masters" | "nodes" | "api-elb" | "bastion";

export const ROLES: readonly Role[] = ["masters", "nodes", "api-elb", "bastion"];

/** One end of a flow: one of our groups, or an address block (or {@link SOME_PUBLIC_IPV4}). */
export type Peer = Role | { readonly cidr: string };

/**
 * A public IPv4 address known only to be public: an instance's ephemeral public address, or an
 * internet-facing load balancer's. Only 0.0.0.0/0 contains it.
 */
export const SOME_PUBLIC_IPV4 = "some-public-ipv4";

/** Where a role's packets to a public address come from, per subnet its instances run in. */
export type PublicSource =
  | { readonly subnet: string; readonly kind: "nat"; readonly cidr: string }
  | { readonly subnet: string; readonly kind: "own-public-address" }
  | { readonly subnet: string; readonly kind: "no-route" };

/** An API load balancer as emitted. */
export interface LoadBalancer {
  readonly internal: boolean;
  /** The roles whose groups the load balancer carries. */
  readonly groups: readonly Role[];
}

/** What is sent: TCP/UDP to a port, an ICMP type/code, or another IP protocol by number ("4"). */
export type Traffic =
  | { readonly protocol: "tcp" | "udp"; readonly port: number }
  | { readonly protocol: "icmp" | "icmpv6"; readonly type: number; readonly code: number }
  | { readonly protocol: "ipip" };

export const tcp = (port: number): Traffic => ({ protocol: "tcp", port });
export const udp = (port: number): Traffic => ({ protocol: "udp", port });
export const icmp = (type: number, code: number): Traffic => ({ protocol: "icmp", type, code });
export const IPIP: Traffic = { protocol: "ipip" };

/** A security group rule as emitted, normalized. */
export interface Rule {
  /** Terraform name of the rule. */
  readonly name: string;
  readonly type: "ingress" | "egress";
  /** `${aws_security_group.<name>.id}` of the group the rule belongs to. */
  readonly groupRef: string;
  /** all, tcp, udp, icmp, icmpv6, or an IP protocol number as a string ("4"). */
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidrs: readonly string[];
  readonly sourceGroupRef?: string;
  readonly self: boolean;
  readonly description?: string;
}

const PROTOCOL_NAMES: Record<string, string> = {
  "-1": "all",
  all: "all",
  "6": "tcp",
  tcp: "tcp",
  "17": "udp",
  udp: "udp",
  "1": "icmp",
  icmp: "icmp",
  "58": "icmpv6",
  icmpv6: "icmpv6",
  "4": "4",
  ipip: "4",
};

/** The security rules of one synthesized cluster, and what they let through. */
export class Firewall {
  readonly rules: readonly Rule[];
  /** The VPC CIDR our groups' members have their addresses in. */
  readonly memberCidr: string;
  private readonly groupRefs = new Map<Role, string>();

  constructor(json: TerraformJson, clusterName: string) {
    this.json = json;
    const groups = resources(json, "aws_security_group");
    for (const [name, body] of Object.entries(groups)) {
      if (body.ingress !== undefined || body.egress !== undefined) {
        throw new Error(`aws_security_group.${name} has inline ingress/egress blocks; rules must be standalone resources.`);
      }
      const role = ROLES.find((r) => body.name === `${r}.${clusterName}`);
      if (role) {
        this.groupRefs.set(role, `\${aws_security_group.${name}.id}`);
      }
    }
    for (const type of ["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"]) {
      if (Object.keys(resources(json, type)).length > 0) {
        throw new Error(`${type} resources are emitted; this evaluator only reads aws_security_group_rule.`);
      }
    }
    const vpcs = Object.values(resources(json, "aws_vpc"));
    if (vpcs.length !== 1 || typeof vpcs[0].cidr_block !== "string") {
      throw new Error(`expected one aws_vpc with a cidr_block, found ${vpcs.length}`);
    }
    this.memberCidr = vpcs[0].cidr_block;
    const known = new Set(this.groupRefs.values());
    this.rules = Object.entries(resources(json, "aws_security_group_rule")).map(([name, body]) => {
      const rule = parseRule(name, body);
      if (!known.has(rule.groupRef)) {
        throw new Error(`aws_security_group_rule.${name} belongs to ${rule.groupRef}, which is not one of the cluster's groups.`);
      }
      return rule;
    });
    this.loadBalancers = new Map(
      Object.entries(resources(json, "aws_lb")).map(([name, body]) => {
        const groups = ((body.security_groups ?? []) as string[]).map((ref) => {
          const role = this.roleOf(ref);
          if (!role) {
            throw new Error(`aws_lb.${name} carries ${ref}, which is not one of the cluster's groups.`);
          }
          return role;
        });
        return [name, { internal: body.internal === true || body.internal === "true", groups }];
      }),
    );
  }

  /** The API load balancers, by Terraform name. */
  readonly loadBalancers: ReadonlyMap<string, LoadBalancer>;
  private readonly json: TerraformJson;

  /** `${aws_security_group.<name>.id}` of a role's group; throws when the cluster has no such group. */
  ref(role: Role): string {
    const ref = this.groupRefs.get(role);
    if (!ref) {
      throw new Error(`the cluster has no ${role} security group`);
    }
    return ref;
  }

  has(role: Role): boolean {
    return this.groupRefs.has(role);
  }

  /** The role whose group a reference names, if any. */
  roleOf(ref: string | undefined): Role | undefined {
    return ROLES.find((r) => this.groupRefs.get(r) === ref);
  }

  ingressRules(role?: Role): Rule[] {
    return this.rules.filter((r) => r.type === "ingress" && (role === undefined || r.groupRef === this.ref(role)));
  }

  egressRules(role?: Role): Rule[] {
    return this.rules.filter((r) => r.type === "egress" && (role === undefined || r.groupRef === this.ref(role)));
  }

  /** Whether `traffic` from `from` reaches `to` (see the module comment for the semantics). */
  canReach(from: Peer, to: Peer, traffic: Traffic): boolean {
    if (typeof from !== "string" && typeof to !== "string") {
      throw new Error("at least one end must be one of the cluster's groups");
    }
    const ingressOk =
      typeof to !== "string" || this.ingressRules(to).some((r) => matchesTraffic(r, traffic) && this.matchesPeer(r, from));
    const egressOk =
      typeof from !== "string" || this.egressRules(from).some((r) => matchesTraffic(r, traffic) && this.matchesPeer(r, to));
    return ingressOk && egressOk;
  }

  /**
   * Whether `from` reaches the masters on TCP 443 through the load balancer `lbName` (a Terraform
   * name): the hop to the load balancer (from private addresses to an internal one, from public
   * addresses to an internet-facing one, see the module comment), then the load balancer's hop to the
   * masters. A role reaches it only when every subnet its instances run in does.
   */
  canReachApi(from: Peer, lbName: string): boolean {
    const lb = this.loadBalancers.get(lbName);
    if (!lb) {
      throw new Error(`the configuration has no aws_lb.${lbName} (it has ${[...this.loadBalancers.keys()].join(", ")})`);
    }
    const https = tcp(443);
    const admitted = (source: Peer) =>
      lb.groups.some((g) => this.ingressRules(g).some((r) => matchesTraffic(r, https) && this.matchesPeer(r, source)));
    let arrives: boolean;
    if (typeof from !== "string") {
      arrives = admitted(from);
    } else if (lb.internal) {
      arrives = lb.groups.some((g) => this.canReach(from, g, https));
    } else {
      // The sender's egress must let it reach a public address; the load balancer sees the sender's public source.
      const leaves = this.egressRules(from).some((r) => matchesTraffic(r, https) && this.matchesPeer(r, { cidr: SOME_PUBLIC_IPV4 }));
      const sources = this.publicSources(from);
      arrives =
        leaves &&
        sources.every((s) => s.kind !== "no-route" && admitted({ cidr: s.kind === "nat" ? s.cidr : SOME_PUBLIC_IPV4 }));
    }
    const forwards = lb.groups.some((g) => this.canReach(g, "masters", https));
    return arrives && forwards;
  }

  /**
   * Where the instances of a role send from when they reach a public address, one entry per subnet
   * they run in, read from the auto-scaling groups whose launch templates carry the role's group.
   */
  publicSources(role: Role): PublicSource[] {
    const ref = this.ref(role);
    const templates = resources(this.json, "aws_launch_template");
    const sources: PublicSource[] = [];
    for (const [asgName, asg] of Object.entries(resources(this.json, "aws_autoscaling_group"))) {
      const lt = (asg.launch_template as { id?: string } | undefined)?.id;
      const ltName = referenced("aws_launch_template", "id", lt);
      const template = ltName ? templates[ltName] : undefined;
      if (!template) {
        throw new Error(`aws_autoscaling_group.${asgName} uses ${String(lt)}, a launch template the evaluator cannot find.`);
      }
      const nic = ((template.network_interfaces ?? []) as Record<string, unknown>[])[0] ?? {};
      const groups = [...((template.vpc_security_group_ids ?? []) as string[]), ...((nic.security_groups ?? []) as string[])];
      if (!groups.includes(ref)) {
        continue;
      }
      const publicAddress = nic.associate_public_ip_address === true || nic.associate_public_ip_address === "true";
      for (const subnetRef of (asg.vpc_zone_identifier ?? []) as string[]) {
        sources.push(this.publicSourceOf(subnetRef, publicAddress));
      }
    }
    if (sources.length === 0) {
      throw new Error(`no auto-scaling group runs instances of the ${role} group`);
    }
    return sources;
  }

  /** The public source of an instance in a subnet: its default route's NAT gateway, or its own address behind the internet gateway. */
  private publicSourceOf(subnetRef: string, publicAddress: boolean): PublicSource {
    const subnet = referenced("aws_subnet", "id", subnetRef);
    if (!subnet || !resources(this.json, "aws_subnet")[subnet]) {
      throw new Error(`${subnetRef} is not a subnet of the configuration; the evaluator cannot follow its routes.`);
    }
    const association = Object.values(resources(this.json, "aws_route_table_association")).find((a) => a.subnet_id === subnetRef);
    const table = association?.route_table_id;
    const route = Object.values(resources(this.json, "aws_route")).find(
      (r) => r.route_table_id === table && r.destination_cidr_block === "0.0.0.0/0",
    );
    const nat = referenced("aws_nat_gateway", "id", route?.nat_gateway_id);
    if (nat) {
      const eip = referenced("aws_eip", "id", resources(this.json, "aws_nat_gateway")[nat]?.allocation_id);
      if (!eip) {
        throw new Error(`aws_nat_gateway.${nat} has no Elastic IP the evaluator can find.`);
      }
      return { subnet, kind: "nat", cidr: `\${aws_eip.${eip}.public_ip}/32` };
    }
    if (referenced("aws_internet_gateway", "id", route?.gateway_id) && publicAddress) {
      return { subnet, kind: "own-public-address" };
    }
    return { subnet, kind: "no-route" };
  }

  /** Whether a rule's other end (source of an ingress rule, destination of an egress rule) covers `peer`. */
  matchesPeer(rule: Rule, peer: Peer): boolean {
    if (typeof peer === "string") {
      const ref = this.ref(peer);
      return (
        rule.sourceGroupRef === ref ||
        (rule.self && rule.groupRef === ref) ||
        rule.cidrs.some((c) => overlaps(c, this.memberCidr))
      );
    }
    return rule.cidrs.some((c) => contains(c, peer.cidr));
  }
}

/** `${<type>.<name>.<attr>}` -> name. */
function referenced(type: string, attr: string, value: unknown): string | undefined {
  const m = new RegExp(`^\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.${attr}\\}$`).exec(String(value));
  return m?.[1];
}

/** A short label for test names and messages: `masters`, `203.0.113.0/24`, `tcp/443`. */
export function peerLabel(peer: Peer): string {
  return typeof peer === "string" ? peer : peer.cidr;
}

export function trafficLabel(t: Traffic): string {
  switch (t.protocol) {
    case "tcp":
    case "udp":
      return `${t.protocol}/${t.port}`;
    case "icmp":
    case "icmpv6":
      return `${t.protocol} type ${t.type} code ${t.code}`;
    case "ipip":
      return "IP-in-IP (protocol 4)";
  }
}

function parseRule(name: string, body: Record<string, unknown>): Rule {
  if (body.prefix_list_ids !== undefined) {
    throw new Error(`aws_security_group_rule.${name} uses prefix lists, which this evaluator does not model.`);
  }
  const type = body.type;
  if (type !== "ingress" && type !== "egress") {
    throw new Error(`aws_security_group_rule.${name} has type ${String(type)}`);
  }
  const protocol = PROTOCOL_NAMES[String(body.protocol).toLowerCase()];
  if (!protocol) {
    throw new Error(`aws_security_group_rule.${name} has protocol ${String(body.protocol)}, unknown to the evaluator.`);
  }
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return {
    name,
    type,
    groupRef: String(body.security_group_id),
    protocol,
    fromPort: Number(body.from_port),
    toPort: Number(body.to_port),
    cidrs: [...list(body.cidr_blocks), ...list(body.ipv6_cidr_blocks)],
    sourceGroupRef: typeof body.source_security_group_id === "string" ? body.source_security_group_id : undefined,
    self: body.self === true || body.self === "true",
    description: typeof body.description === "string" ? body.description : undefined,
  };
}

export function matchesTraffic(rule: Rule, t: Traffic): boolean {
  if (rule.protocol === "all") {
    return true;
  }
  switch (t.protocol) {
    case "tcp":
    case "udp":
      return rule.protocol === t.protocol && rule.fromPort <= t.port && t.port <= rule.toPort;
    case "icmp":
    case "icmpv6":
      return (
        rule.protocol === t.protocol &&
        (rule.fromPort === -1 || rule.fromPort === t.type) &&
        (rule.toPort === -1 || rule.toPort === t.code)
      );
    case "ipip":
      return rule.protocol === "4";
  }
}

/** Whether a TCP/UDP rule (or an all-traffic rule) lets `port` through. */
export function coversPort(rule: Rule, port: number): boolean {
  return matchesTraffic(rule, tcp(port)) || matchesTraffic(rule, udp(port));
}

/** An address block: family, network address and prefix length. */
interface Block {
  readonly v6: boolean;
  readonly base: bigint;
  readonly prefix: number;
}

function parseCidr(text: string): Block {
  const [addr, len] = text.split("/");
  const prefix = Number(len);
  if (addr.includes(":")) {
    return { v6: true, base: parseIpv6(addr), prefix };
  }
  const octets = addr.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255))) {
    throw new Error(`not a CIDR: ${text}`);
  }
  return { v6: false, base: octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n), prefix };
}

function parseIpv6(addr: string): bigint {
  const [head, tail] = addr.includes("::") ? addr.split("::") : [addr, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) {
    throw new Error(`not an IPv6 address: ${addr}`);
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function networkOf(b: Block, prefix: number): bigint {
  const bits = b.v6 ? 128 : 32;
  const hostBits = BigInt(bits - prefix);
  return (b.base >> hostBits) << hostBits;
}

/**
 * An address Terraform only knows at apply time, such as a NAT gateway's Elastic IP
 * (`${aws_eip.<name>.public_ip}/32`): a public address of its own, which contains no other block and
 * is contained only in itself.
 */
const APPLY_TIME_ADDRESS = /^\$\{aws_eip\.[A-Za-z0-9_-]+\.public_ip\}\/32$/;

/** Whether block `outer` contains block `inner` (same family). */
export function contains(outer: string, inner: string): boolean {
  if (outer === SOME_PUBLIC_IPV4 || inner === SOME_PUBLIC_IPV4) {
    return inner === SOME_PUBLIC_IPV4 && (outer === SOME_PUBLIC_IPV4 || outer === "0.0.0.0/0");
  }
  if (APPLY_TIME_ADDRESS.test(outer) || APPLY_TIME_ADDRESS.test(inner)) {
    return outer === inner;
  }
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return o.v6 === i.v6 && o.prefix <= i.prefix && networkOf(i, o.prefix) === networkOf(o, o.prefix);
}

/** Whether two blocks share an address. */
export function overlaps(a: string, b: string): boolean {
  return contains(a, b) || contains(b, a);
}
