/**
 * The cluster's firewall, laid out as kops lays it out: a group for the masters, one for the nodes,
 * one for the API load balancer (and one for the bastion), each rule a standalone resource with a
 * description. The shape of the matrix:
 *
 * - masters <-> masters: everything (etcd peers, API, kubelet);
 * - masters -> nodes and nodes <-> nodes: everything (kubelet, overlay networks such as VXLAN 4789/8472
 *   and weave 6783-6784, pod traffic);
 * - nodes -> masters: every TCP and UDP port except etcd's (see {@link NODE_BLOCKED_MASTER_PORTS}),
 *   plus IP-in-IP for the CNIs that tunnel with it;
 * - API load balancers (one group for both, see modules/api-endpoint.ts): TCP 443 (and ICMP
 *   "fragmentation needed") from `adminAccess`; from the masters', nodes' and bastion's groups, which
 *   match only at the internal load balancer (traffic reaches it from private addresses); and, for an
 *   internet-facing load balancer in private topology, from the cluster's NAT gateways' addresses,
 *   where members reaching its public address come from. They forward to the masters on 443 only;
 * - SSH: nothing by default; from `sshAccess` to masters and nodes, or with a bastion from `sshAccess`
 *   to the bastion and from the bastion to masters and nodes only;
 * - the bastion reaches masters and nodes on SSH and the API's internal load balancer on 443 (kubectl
 *   through an SSH tunnel), nothing else;
 * - egress: masters and nodes may reach anything, as in kops (image pulls, AWS APIs, package mirrors
 *   through the NAT gateways); this is a documented, accepted scanner finding (see the README).
 */
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { Construct } from "constructs";
import { NETWORKING_FACTS, Networking } from "../spec/networking";
import { clusterSlug } from "./names";

/**
 * Master ports nodes must never reach, whatever the CNI: etcd's client and peer ports (upstream 2379,
 * kops's main peer 2380, events peer 2381, etcd-manager peers 2382-2383), etcd-manager (3994-3997) and
 * etcd clients (main 4001, events 4002, 4003-4004 for further etcd clusters). Only masters reach them.
 */
export const NODE_BLOCKED_MASTER_PORTS: readonly (readonly [number, number])[] = [
  [2379, 2383],
  [3994, 3997],
  [4001, 4004],
];

/** The TCP ranges nodes may reach on masters: 1-65535 minus {@link NODE_BLOCKED_MASTER_PORTS}. */
export function nodeToMasterTcpRanges(): [number, number][] {
  const ranges: [number, number][] = [];
  let from = 1;
  for (const [lo, hi] of [...NODE_BLOCKED_MASTER_PORTS].sort((a, b) => a[0] - b[0])) {
    if (lo > from) {
      ranges.push([from, lo - 1]);
    }
    from = hi + 1;
  }
  ranges.push([from, 65535]);
  return ranges;
}

/**
 * Whether a networking option tunnels pod traffic in IP-in-IP (protocol 4, calico), which kops allows
 * from nodes to masters. Every other flow an option uses (spec/networking.ts) is a TCP or UDP port,
 * which the node -> master ranges already admit (etcd's ports excepted).
 */
function tunnelsIpInIp(networking: Networking): boolean {
  return NETWORKING_FACTS[networking].flows.some((f) => f.protocol === "ipip");
}

/** Props of {@link SecurityGroups}. */
export interface SecurityGroupsProps {
  readonly clusterName: string;
  readonly vpcId: string;
  readonly networking: Networking;
  /** CIDRs allowed to the API on 443. */
  readonly adminAccess: readonly string[];
  /**
   * Public addresses the cluster's own traffic leaves through (the NAT gateways), allowed to an
   * internet-facing API load balancer: masters and nodes reaching its public address arrive from
   * these, not from their private addresses or groups.
   * @default none (an internal load balancer sees the members' private addresses)
   */
  readonly clusterEgressAddresses?: readonly { readonly zone: string; readonly address: string }[];
  /** CIDRs allowed to SSH (to the bastion when there is one). @default none */
  readonly sshAccess: readonly string[];
  /** Create the bastion's group. @default false */
  readonly bastion?: boolean;
}

/** One of the cluster's groups, with the role name used in rule names. */
interface OwnGroup {
  readonly group: SecurityGroup;
  readonly name: string;
}

/** A rule's other end: a group of ours, or a CIDR (named when it is only known at apply time). */
type Peer = OwnGroup | { readonly cidr: string; readonly name?: string };

/** The cluster's security groups and their rules. */
export class SecurityGroups extends Construct {
  readonly masters: SecurityGroup;
  readonly nodes: SecurityGroup;
  readonly apiElb: SecurityGroup;
  readonly bastion?: SecurityGroup;
  private readonly slug: string;

  constructor(scope: Construct, id: string, props: SecurityGroupsProps) {
    super(scope, id);
    this.slug = clusterSlug(props.clusterName);
    const group = (role: string, description: string): OwnGroup => {
      const sg = new SecurityGroup(this, `${role}-${this.slug}`, {
        name: `${role}.${props.clusterName}`,
        description,
        vpcId: props.vpcId,
        tags: { Name: `${role}.${props.clusterName}` },
      });
      return { group: sg, name: role };
    };
    const masters = group("masters", `Kubernetes masters of ${props.clusterName}`);
    const nodes = group("nodes", `Kubernetes nodes of ${props.clusterName}`);
    const apiElb = group("api-elb", `API load balancer of ${props.clusterName}`);
    this.masters = masters.group;
    this.nodes = nodes.group;
    this.apiElb = apiElb.group;

    this.ingress(masters, masters, "-1", 0, 0, "masters to masters: all traffic (etcd peers, API, kubelet)");
    this.ingress(masters, nodes, "-1", 0, 0, "masters to nodes: all traffic (kubelet, pods)");
    this.ingress(nodes, nodes, "-1", 0, 0, "nodes to nodes: all traffic (overlay networks, pods)");
    for (const [from, to] of nodeToMasterTcpRanges()) {
      this.ingress(nodes, masters, "tcp", from, to, `nodes to masters: tcp ${from}-${to} (etcd ports blocked)`);
    }
    this.ingress(nodes, masters, "udp", 1, 65535, "nodes to masters: udp 1-65535");
    if (tunnelsIpInIp(props.networking)) {
      this.ingress(nodes, masters, "4", 0, 65535, `nodes to masters: IP-in-IP for ${props.networking}`);
    }
    for (const role of [masters, nodes]) {
      this.egressAnywhere(role);
    }

    // The API: from the admins' networks and from the cluster itself, forwarded to the masters only.
    // Group references match traffic at the internal load balancer only: an internet-facing one sees
    // public source addresses (see clusterEgressAddresses).
    for (const cidr of props.adminAccess) {
      this.ingress({ cidr }, apiElb, "tcp", 443, 443, `admin access ${cidr} to the API load balancer: tcp 443`);
      const icmp = cidr.includes(":") ? "icmpv6" : "icmp";
      // ICMP "fragmentation needed" (type 3 code 4; ICMPv6 "packet too big", type 2) keeps path MTU discovery working.
      this.ingress({ cidr }, apiElb, icmp, icmp === "icmp" ? 3 : 2, icmp === "icmp" ? 4 : 0, `path MTU discovery from ${cidr}`);
    }
    for (const { zone, address } of props.clusterEgressAddresses ?? []) {
      const nat = { cidr: `${address}/32`, name: `nat-${zone}` };
      this.ingress(nat, apiElb, "tcp", 443, 443, `NAT gateway of the cluster in ${zone} to the API load balancer: tcp 443`);
    }
    this.ingress(masters, apiElb, "tcp", 443, 443, "masters to the API load balancer: tcp 443");
    this.ingress(nodes, apiElb, "tcp", 443, 443, "nodes to the API load balancer: tcp 443");
    this.egress(apiElb, masters, "tcp", 443, 443, "API load balancer to masters: tcp 443 (traffic and health checks)");
    this.ingress(apiElb, masters, "tcp", 443, 443, "API load balancer to masters: tcp 443");

    if (props.bastion) {
      const bastion = group("bastion", `SSH bastion of ${props.clusterName}`);
      this.bastion = bastion.group;
      for (const cidr of props.sshAccess) {
        this.ingress({ cidr }, bastion, "tcp", 22, 22, `SSH from ${cidr} to the bastion`);
      }
      for (const target of [masters, nodes]) {
        this.ingress(bastion, target, "tcp", 22, 22, `SSH from the bastion to ${target.name}`);
        this.egress(bastion, target, "tcp", 22, 22, `bastion to ${target.name}: SSH only`);
      }
      // kubectl through the bastion (an SSH tunnel to api.internal.NAME): the internal load balancer
      // sees the bastion's private address, so the group reference matches there (and only there).
      this.ingress(bastion, apiElb, "tcp", 443, 443, "bastion to the internal API load balancer: tcp 443");
      this.egress(bastion, apiElb, "tcp", 443, 443, "bastion to the internal API load balancer: tcp 443");
    } else {
      for (const cidr of props.sshAccess) {
        for (const target of [masters, nodes]) {
          this.ingress({ cidr }, target, "tcp", 22, 22, `SSH from ${cidr} to ${target.name}`);
        }
      }
    }
  }

  /** `from-<source>-ingress-<protocol>-<from>to<to>-<target>`, kops's rule names. */
  private ruleName(source: Peer, direction: string, protocol: string, from: number, to: number, target: Peer): string {
    const proto = protocol === "-1" ? "all" : protocol;
    return `from-${this.peerName(source)}-${direction}-${proto}-${from}to${to}-${this.peerName(target)}`;
  }

  private peerName(peer: Peer): string {
    if ("group" in peer) {
      return `${peer.name}-${this.slug}`;
    }
    return peer.name ?? peer.cidr.replace(/\./g, "-").replace(/:/g, "_").replace("/", "--");
  }

  private ingress(
    source: Peer,
    target: OwnGroup,
    protocol: string,
    from: number,
    to: number,
    description: string,
  ): void {
    new SecurityGroupRule(this, this.ruleName(source, "ingress", protocol, from, to, target), {
      type: "ingress",
      securityGroupId: target.group.id,
      protocol,
      fromPort: from,
      toPort: to,
      description,
      ...peerArgument(source),
    });
  }

  private egress(
    source: OwnGroup,
    target: Peer,
    protocol: string,
    from: number,
    to: number,
    description: string,
  ): void {
    new SecurityGroupRule(this, this.ruleName(source, "egress", protocol, from, to, target), {
      type: "egress",
      securityGroupId: source.group.id,
      protocol,
      fromPort: from,
      toPort: to,
      description,
      ...peerArgument(target),
    });
  }

  private egressAnywhere(source: OwnGroup): void {
    for (const cidr of ["0.0.0.0/0", "::/0"]) {
      this.egress(source, { cidr }, "-1", 0, 0, `${source.name} egress to anywhere (as kops; see README)`);
    }
  }
}

/** The rule argument naming the other end: a group id, an IPv4 or an IPv6 CIDR. */
function peerArgument(peer: Peer): { sourceSecurityGroupId: string } | { cidrBlocks: string[] } | { ipv6CidrBlocks: string[] } {
  if ("group" in peer) {
    return { sourceSecurityGroupId: peer.group.id };
  }
  return peer.cidr.includes(":") ? { ipv6CidrBlocks: [peer.cidr] } : { cidrBlocks: [peer.cidr] };
}
