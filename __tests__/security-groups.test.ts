/**
 * The cluster's firewall, judged as traffic: a reachability evaluator (helpers/firewall.ts) reads the
 * synthesized aws_security_group_rule resources and answers "can X reach Y on P/N?", for every
 * networking option kopsform supports, and for the SSH and API access variants of the spec.
 */
import { NODE_BLOCKED_MASTER_PORTS, nodeToMasterTcpRanges } from "../modules/security-groups";
import { NETWORKING_FACTS, NETWORKING_OPTIONS } from "../spec/networking";
import { SEED_1, SEED_2, TerraformJson, resources, synthJson } from "./helpers/cluster";
import {
  Firewall,
  IPIP,
  Peer,
  ROLES,
  Role,
  Rule,
  Traffic,
  coversPort,
  icmp,
  peerLabel,
  tcp,
  trafficLabel,
  udp,
} from "./helpers/firewall";

const NAME = "hacluster.example.com";
const VPC_CIDR = "172.20.0.0/16";
const ADMIN = "198.51.100.0/24";
const SSH = "203.0.113.0/24";
const UNLISTED = "192.0.2.0/24";
const ANYWHERE = "0.0.0.0/0";
const ANYWHERE_V6 = "::/0";
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3Yh0bT3t4w1V0Yb0K2fJQm6V2Gm4cFQ0cX1u2t3v4 admin@example.com";

const cidr = (block: string): Peer => ({ cidr: block });

/** etcd's ports on the masters, which nodes must never reach (kops: main 4001/2380, events 4002/2381, ...). */
const ETCD_PORTS = [2379, 2380, 2381, 2382, 2383, 3994, 3995, 3996, 3997, 4001, 4002, 4003, 4004];

/** A spread of traffic that an "everything" rule must let through. */
const ANY_TRAFFIC: readonly Traffic[] = [
  tcp(1),
  tcp(22),
  tcp(443),
  tcp(2379),
  tcp(2380),
  tcp(4001),
  tcp(10250),
  tcp(65535),
  udp(53),
  udp(8472),
  icmp(8, 0),
  IPIP,
];

/** One row of a reachability matrix. */
type Row = readonly [from: Peer, to: Peer, traffic: Traffic, reachable: boolean];

/** The rows every networking option shares. */
function commonRows(): Row[] {
  const rows: Row[] = [];
  const all = (from: Role, to: Role) => ANY_TRAFFIC.forEach((t) => rows.push([from, to, t, true]));
  all("masters", "masters");
  all("masters", "nodes");
  all("nodes", "nodes");
  // Nodes reach the API, the kubelet and kops-controller on the masters ...
  for (const port of [443, 10250, 3988]) {
    rows.push(["nodes", "masters", tcp(port), true]);
  }
  // ... and every TCP port up to etcd's and from just after them (the edges of the allowed ranges) ...
  for (const port of [1, 2378, 2384, 3993, 3998, 4000, 4005, 65535]) {
    rows.push(["nodes", "masters", tcp(port), true]);
  }
  // ... but never etcd.
  for (const port of ETCD_PORTS) {
    rows.push(["nodes", "masters", tcp(port), false]);
  }
  for (const port of [1, 53, 2379, 4789, 8472, 65535]) {
    rows.push(["nodes", "masters", udp(port), true]);
  }
  // The API load balancer: from the admins' range (and a host in it), the masters and the nodes only.
  rows.push(
    [cidr(ADMIN), "api-elb", tcp(443), true],
    [cidr("198.51.100.7/32"), "api-elb", tcp(443), true],
    [cidr(ADMIN), "api-elb", icmp(3, 4), true],
    ["masters", "api-elb", tcp(443), true],
    ["nodes", "api-elb", tcp(443), true],
    [cidr(UNLISTED), "api-elb", tcp(443), false],
    [cidr(ANYWHERE), "api-elb", tcp(443), false],
    [cidr(ADMIN), "api-elb", tcp(80), false],
    [cidr(ADMIN), "api-elb", tcp(6443), false],
  );
  // The load balancer forwards to the masters on 443 and nothing else.
  rows.push(["api-elb", "masters", tcp(443), true]);
  for (const t of [tcp(80), tcp(444), tcp(3988), tcp(6443), tcp(10250), tcp(2379), udp(443), IPIP]) {
    rows.push(["api-elb", "masters", t, false]);
  }
  for (const t of [tcp(443), tcp(10250), tcp(30000)]) {
    rows.push(["api-elb", "nodes", t, false]);
  }
  rows.push(["api-elb", cidr(ANYWHERE), tcp(443), false]);
  // The kubelet and SSH are closed to every address block.
  for (const target of ["masters", "nodes"] as const) {
    for (const source of [ADMIN, VPC_CIDR, SSH, ANYWHERE]) {
      rows.push([cidr(source), target, tcp(10250), false]);
      rows.push([cidr(source), target, tcp(22), false]);
    }
  }
  return rows;
}

/**
 * The flows each networking option really uses (from the upstream projects' port lists), written out
 * here rather than read from spec/networking.ts, so that a wrong fact there fails a test.
 */
const OPTION_FLOWS: Readonly<Record<string, readonly Traffic[]>> = {
  // VXLAN on 8472 (Linux's port), health checks on 4240, Hubble's peer service on 4244.
  cilium: [udp(8472), tcp(4240), tcp(4244)],
  // BGP on 179, IP-in-IP (protocol 4), Typha on 5473.
  calico: [tcp(179), IPIP, tcp(5473)],
  flannel: [udp(8472)],
  // No overlay: pods take VPC addresses, so pod traffic is member-to-member traffic.
  "amazon-vpc-routed-eni": [tcp(8080), udp(53)],
  // kopeio's agent uses the IANA VXLAN port.
  "kopeio-vxlan": [udp(4789)],
  weave: [tcp(6783), udp(6783), udp(6784)],
  cni: [],
};

/** The option's flows, in both directions between every pair of masters and nodes. */
function networkingRows(networking: string): Row[] {
  const flows = OPTION_FLOWS[networking];
  if (!flows) {
    throw new Error(`no flows listed for networking ${networking}; add them to OPTION_FLOWS`);
  }
  const rows: Row[] = [];
  const pairs = [
    ["nodes", "nodes"],
    ["nodes", "masters"],
    ["masters", "nodes"],
    ["masters", "masters"],
  ] as const;
  pairs.forEach(([from, to]) => flows.forEach((t) => rows.push([from, to, t, true])));
  // IP-in-IP: calico tunnels with it; for every other option nodes may not send it to masters.
  rows.push(["nodes", "masters", IPIP, networking === "calico"]);
  rows.push(["nodes", "nodes", IPIP, true]);
  return rows;
}

describe("the networking facts the firewall and the README read", () => {
  it.each(NETWORKING_OPTIONS.map((n) => [n]))("list the flows %s really uses", (networking) => {
    const asTraffic = NETWORKING_FACTS[networking].flows.map((f) =>
      f.protocol === "ipip" ? trafficLabel(IPIP) : trafficLabel({ protocol: f.protocol, port: f.port ?? 0 }),
    );
    // The VPC CNI's rows are ordinary member traffic, not flows of its own.
    const expected = networking === "amazon-vpc-routed-eni" ? [] : OPTION_FLOWS[networking].map(trafficLabel);
    expect(asTraffic.sort()).toEqual(expected.sort());
  });
});

const label = ([from, to, traffic, reachable]: Row) =>
  `${peerLabel(from)} -> ${peerLabel(to)} ${trafficLabel(traffic)}: ${reachable ? "reachable" : "blocked"}`;

/** `label` of a row with the evaluator's answer, so that a failure shows which flows differ. */
const actual = (fw: Firewall, [from, to, traffic]: Row): string =>
  label([from, to, traffic, fw.canReach(from, to, traffic)]);

function firewallOf(fields: Record<string, unknown>): { json: TerraformJson; fw: Firewall } {
  const json = synthJson(fields);
  return { json, fw: new Firewall(json, NAME) };
}

describe("the evaluator itself", () => {
  // The evaluator is only as good as its reading of rules; pin it on hand-made rules first.
  const json = {
    resource: {
      aws_vpc: { v: { cidr_block: VPC_CIDR } },
      aws_security_group: {
        m: { name: `masters.${NAME}` },
        n: { name: `nodes.${NAME}` },
      },
      aws_security_group_rule: {
        a: { type: "ingress", security_group_id: "${aws_security_group.m.id}", protocol: "tcp", from_port: 10, to_port: 20, source_security_group_id: "${aws_security_group.n.id}" },
        b: { type: "egress", security_group_id: "${aws_security_group.n.id}", protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: [ANYWHERE] },
        c: { type: "ingress", security_group_id: "${aws_security_group.n.id}", protocol: "icmp", from_port: 3, to_port: 4, cidr_blocks: [ADMIN] },
        d: { type: "ingress", security_group_id: "${aws_security_group.n.id}", protocol: "4", from_port: 0, to_port: 65535, source_security_group_id: "${aws_security_group.m.id}" },
      },
    },
    output: {},
  } as unknown as TerraformJson;
  const fw = new Firewall(json, NAME);

  it.each(([
    ["nodes", "masters", tcp(15), true],
    ["nodes", "masters", tcp(21), false],
    ["nodes", "masters", udp(15), false],
    // The masters have no egress rule at all, so nothing leaves them.
    ["masters", "nodes", IPIP, false],
    [cidr("198.51.100.128/25"), "nodes", icmp(3, 4), true],
    [cidr(ADMIN), "nodes", icmp(3, 3), false],
    [cidr("198.51.0.0/16"), "nodes", icmp(3, 4), false],
  ] as Row[]).map((r) => [label(r), r] as const))("%s", (expected, row) => {
    expect(actual(fw, row)).toBe(expected);
  });

  it("refuses inline rules, which it would otherwise not see", () => {
    const inline = JSON.parse(JSON.stringify(json)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
    inline.resource.aws_security_group.m.ingress = [{ from_port: 22, to_port: 22, protocol: "tcp", cidr_blocks: [ANYWHERE] }];
    expect(() => new Firewall(inline as unknown as TerraformJson, NAME)).toThrow(/inline ingress\/egress/);
  });
});

describe("the documented node -> master ranges", () => {
  it("blocks etcd's client, peer and etcd-manager ports, and opens every other TCP port", () => {
    expect(NODE_BLOCKED_MASTER_PORTS).toEqual([
      [2379, 2383],
      [3994, 3997],
      [4001, 4004],
    ]);
    expect(nodeToMasterTcpRanges()).toEqual([
      [1, 2378],
      [2384, 3993],
      [3998, 4000],
      [4005, 65535],
    ]);
  });
});

describe.each(NETWORKING_OPTIONS.map((n) => [n]))("reachability with networking %s", (networking) => {
  let fw: Firewall;

  beforeAll(() => {
    ({ fw } = firewallOf({ ...SEED_1, networking, adminAccess: [ADMIN] }));
  });

  const rows = [...commonRows(), ...networkingRows(networking)];
  it.each(rows.map((r) => [label(r), r] as const))("%s", (expected, row) => {
    expect(actual(fw, row)).toBe(expected);
  });

  it("emits exactly the documented node -> master rules (four TCP ranges, UDP, IP-in-IP only where tunnelled)", () => {
    const fromNodes = fw
      .ingressRules("masters")
      .filter((r) => r.sourceGroupRef === fw.ref("nodes"))
      .map((r) => `${r.protocol} ${r.fromPort}-${r.toPort}`)
      .sort();
    const expected = ["tcp 1-2378", "tcp 2384-3993", "tcp 3998-4000", "tcp 4005-65535", "udp 1-65535"];
    if (networking === "calico") {
      expected.unshift("4 0-65535");
    }
    expect(fromNodes).toEqual(expected.sort());
  });
});

/** The spec variants the invariants below must hold for. */
const VARIANTS: readonly (readonly [string, Record<string, unknown>])[] = [
  ["the default (seed example 1)", SEED_1],
  ["with sshAccess", { ...SEED_1, sshAccess: [SSH], sshPublicKey: SSH_KEY }],
  ["with a bastion", { ...SEED_1, bastion: true, sshAccess: [SSH], sshPublicKey: SSH_KEY }],
  ["with adminAccess 0.0.0.0/0 and ::/0", { ...SEED_1, adminAccess: [ANYWHERE, ANYWHERE_V6] }],
  ["in public topology with sshAccess", { ...SEED_1, topology: "public", sshAccess: [SSH] }],
  ["seed example 2", SEED_2],
];

/** Whether a rule lets `port` through (TCP or UDP, or all traffic). */
const opens = (rule: Rule, port: number) => coversPort(rule, port);

describe.each(VARIANTS)("invariants %s", (_what, fields) => {
  let json: TerraformJson;
  let fw: Firewall;

  beforeAll(() => {
    ({ json, fw } = firewallOf(fields));
  });

  it("opens neither SSH, RDP, all ports nor all protocols to 0.0.0.0/0 or ::/0 (KSEC-SG-001, KSEC-SG-002)", () => {
    const open = fw
      .ingressRules()
      .filter((r) => r.cidrs.some((c) => c === ANYWHERE || c === ANYWHERE_V6))
      .filter(
        (r) =>
          r.protocol === "all" ||
          opens(r, 22) ||
          opens(r, 3389) ||
          ((r.protocol === "tcp" || r.protocol === "udp") && r.fromPort <= 1 && r.toPort >= 65535),
      )
      .map((r) => r.name);
    expect(open).toEqual([]);
  });

  it("lets no internet address reach SSH, RDP or arbitrary ports on any of the cluster's groups", () => {
    const reachable: string[] = [];
    for (const role of ROLES.filter((r) => fw.has(r))) {
      for (const source of [ANYWHERE, "192.0.2.10/32"]) {
        for (const t of [tcp(22), tcp(3389), tcp(8080), udp(53)]) {
          if (fw.canReach(cidr(source), role, t)) {
            reachable.push(`${source} -> ${role} ${trafficLabel(t)}`);
          }
        }
      }
    }
    expect(reachable).toEqual([]);
  });

  it("opens the kubelet (10250) only to the masters' and nodes' groups, never to an address block (KSEC-SG-005)", () => {
    const kubelet = fw.ingressRules().filter((r) => opens(r, 10250));
    expect(kubelet.length).toBeGreaterThan(0);
    const allowed = new Set([fw.ref("masters"), fw.ref("nodes")]);
    const bad = kubelet
      .filter((r) => r.cidrs.length > 0 || !(r.sourceGroupRef !== undefined ? allowed.has(r.sourceGroupRef) : r.self && allowed.has(r.groupRef)))
      .map((r) => r.name);
    expect(bad).toEqual([]);
  });

  it("opens etcd's ports on the masters to the masters only (KSEC-SG-004)", () => {
    const bad = fw
      .ingressRules("masters")
      .filter((r) => ETCD_PORTS.some((p) => matchesTcp(r, p)))
      .filter((r) => r.sourceGroupRef !== fw.ref("masters") && !r.self)
      .map((r) => r.name);
    expect(bad).toEqual([]);
  });

  it("describes every security group and rule (KSEC-SG-007)", () => {
    const undescribed = [
      ...Object.entries(resources(json, "aws_security_group"))
        .filter(([, b]) => typeof b.description !== "string" || b.description.trim() === "")
        .map(([n]) => `aws_security_group.${n}`),
      ...fw.rules.filter((r) => (r.description ?? "").trim() === "").map((r) => `aws_security_group_rule.${r.name}`),
    ];
    expect(undescribed).toEqual([]);
    expect(fw.rules.length).toBeGreaterThan(10);
  });
});

function matchesTcp(rule: Rule, port: number): boolean {
  return rule.protocol === "all" || (rule.protocol === "tcp" && rule.fromPort <= port && port <= rule.toPort);
}

describe("API access with the default adminAccess (the network CIDR)", () => {
  let fw: Firewall;

  beforeAll(() => {
    ({ fw } = firewallOf(SEED_1));
  });

  it.each(([
    [cidr(VPC_CIDR), "api-elb", tcp(443), true],
    [cidr("172.20.40.0/24"), "api-elb", tcp(443), true],
    [cidr(ANYWHERE), "api-elb", tcp(443), false],
    [cidr("198.51.100.7/32"), "api-elb", tcp(443), false],
    ["nodes", "api-elb", tcp(443), true],
    ["masters", "api-elb", tcp(443), true],
  ] as Row[]).map((r) => [label(r), r] as const))("%s", (expected, row) => {
    expect(actual(fw, row)).toBe(expected);
  });
});

describe("API access with adminAccess 0.0.0.0/0 and ::/0", () => {
  it("takes 443 (and path MTU discovery) from anywhere, and still nothing else", () => {
    const { fw } = firewallOf({ ...SEED_1, adminAccess: [ANYWHERE, ANYWHERE_V6] });
    const rows: Row[] = [
      [cidr(ANYWHERE), "api-elb", tcp(443), true],
      [cidr(ANYWHERE_V6), "api-elb", tcp(443), true],
      [cidr(ANYWHERE), "api-elb", icmp(3, 4), true],
      [cidr(ANYWHERE_V6), "api-elb", { protocol: "icmpv6", type: 2, code: 0 }, true],
      [cidr(ANYWHERE), "api-elb", tcp(22), false],
      [cidr(ANYWHERE), "masters", tcp(443), false],
      [cidr(ANYWHERE), "nodes", tcp(443), false],
    ];
    expect(rows.map((r) => actual(fw, r))).toEqual(rows.map(label));
  });
});

describe("descriptions", () => {
  /** What AWS (and the provider's validation) accepts in a security group rule's description. */
  const AWS_DESCRIPTION = /^[0-9A-Za-z_ .:/()#,@[\]+=&;{}!$*-]*$/;

  it("describes every group and rule in characters AWS accepts, with an internet-facing API, a bastion and SSH", () => {
    const json = synthJson({ ...SEED_1, adminAccess: [ADMIN], sshAccess: [SSH], bastion: true, sshPublicKey: SSH_KEY });
    const descriptions = [
      ...Object.values(resources(json, "aws_security_group")).map((g) => String(g.description)),
      ...Object.values(resources(json, "aws_security_group_rule")).map((r) => String(r.description)),
    ];
    expect(descriptions.filter((d) => !AWS_DESCRIPTION.test(d))).toEqual([]);
    expect(descriptions.some((d) => d.startsWith("NAT gateway of the cluster in us-west-2a"))).toBe(true);
  });
});

describe("SSH", () => {
  it("is closed by default: no rule opens port 22 to an address block", () => {
    const { fw } = firewallOf(SEED_1);
    expect(fw.ingressRules().filter((r) => r.cidrs.length > 0 && opens(r, 22)).map((r) => r.name)).toEqual([]);
  });

  it("with sshAccess, masters and nodes take 22 from that range only, and nothing else from it", () => {
    const { fw } = firewallOf({ ...SEED_1, sshAccess: [SSH], sshPublicKey: SSH_KEY });
    const rows: Row[] = [];
    for (const target of ["masters", "nodes"] as const) {
      rows.push(
        [cidr(SSH), target, tcp(22), true],
        [cidr("203.0.113.9/32"), target, tcp(22), true],
        [cidr(ADMIN), target, tcp(22), false],
        [cidr(ANYWHERE), target, tcp(22), false],
        [cidr(SSH), target, tcp(23), false],
        [cidr(SSH), target, tcp(10250), false],
        [cidr(SSH), target, udp(22), false],
      );
    }
    rows.push([cidr(SSH), "api-elb", tcp(22), false]);
    expect(rows.map((r) => actual(fw, r))).toEqual(rows.map(label));
  });

  describe("with a bastion (private topology)", () => {
    let fw: Firewall;

    beforeAll(() => {
      ({ fw } = firewallOf({ ...SEED_1, bastion: true, sshAccess: [SSH], sshPublicKey: SSH_KEY }));
    });

    const rows: Row[] = [
      // The bastion takes SSH from sshAccess, and nothing else from anywhere.
      [cidr(SSH), "bastion", tcp(22), true],
      [cidr(ANYWHERE), "bastion", tcp(22), false],
      [cidr(ADMIN), "bastion", tcp(22), false],
      [cidr(SSH), "bastion", tcp(443), false],
      // Masters and nodes take SSH from the bastion, not from sshAccess directly or the load balancer.
      ["bastion", "masters", tcp(22), true],
      ["bastion", "nodes", tcp(22), true],
      [cidr(SSH), "masters", tcp(22), false],
      [cidr(SSH), "nodes", tcp(22), false],
      ["api-elb", "masters", tcp(22), false],
      ["api-elb", "nodes", tcp(22), false],
      // The bastion reaches nothing but SSH on masters and nodes ...
      ["bastion", "masters", tcp(443), false],
      ["bastion", "masters", tcp(10250), false],
      ["bastion", "masters", tcp(2379), false],
      ["bastion", "masters", udp(53), false],
      ["bastion", "nodes", tcp(10250), false],
      ["bastion", "nodes", tcp(80), false],
      // ... and the API load balancers' group on 443 (kubectl through the bastion), nothing else there.
      ["bastion", "api-elb", tcp(443), true],
      ["bastion", "api-elb", tcp(22), false],
      ["bastion", "api-elb", tcp(6443), false],
      ["bastion", cidr(ANYWHERE), tcp(443), false],
      ["bastion", cidr(ANYWHERE), tcp(22), false],
      ["bastion", cidr(SSH), tcp(22), false],
    ];
    it.each(rows.map((r) => [label(r), r] as const))("%s", (expected, row) => {
      expect(actual(fw, row)).toBe(expected);
    });

    it("has exactly three egress rules: SSH to the masters and the nodes, HTTPS to the API load balancers", () => {
      const egress = fw
        .egressRules("bastion")
        .map((r) => `${r.protocol} ${r.fromPort}-${r.toPort} -> ${fw.roleOf(r.sourceGroupRef) ?? r.cidrs.join(",")}`)
        .sort();
      expect(egress).toEqual(["tcp 22-22 -> masters", "tcp 22-22 -> nodes", "tcp 443-443 -> api-elb"]);
    });
  });
});

describe("extra security groups (seed example 2)", () => {
  /** The security groups of each launch template, wherever the template puts them. */
  function templateGroups(json: TerraformJson): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(resources(json, "aws_launch_template")).map(([name, body]) => {
        const nics = body.network_interfaces as { security_groups?: unknown }[] | undefined;
        return [name, { vpc: body.vpc_security_group_ids, nic: nics?.[0]?.security_groups }];
      }),
    );
  }
  const masters = "${aws_security_group.masters-hacluster-example-com.id}";
  const nodes = "${aws_security_group.nodes-hacluster-example-com.id}";

  it("gives masters their own group then sg-12345678 and sg-abcd1234, and nodes theirs then sg-12345678", () => {
    expect(templateGroups(synthJson(SEED_2))).toEqual({
      "master-us-west-2a": { vpc: [masters, "sg-12345678", "sg-abcd1234"], nic: undefined },
      "master-us-west-2b": { vpc: [masters, "sg-12345678", "sg-abcd1234"], nic: undefined },
      "master-us-west-2c": { vpc: [masters, "sg-12345678", "sg-abcd1234"], nic: undefined },
      nodes: { vpc: [nodes, "sg-12345678"], nic: undefined },
    });
  });

  it("keeps them, in the same order, inside the network interface in public topology", () => {
    expect(templateGroups(synthJson({ ...SEED_2, topology: "public" }))).toEqual({
      "master-us-west-2a": { vpc: undefined, nic: [masters, "sg-12345678", "sg-abcd1234"] },
      "master-us-west-2b": { vpc: undefined, nic: [masters, "sg-12345678", "sg-abcd1234"] },
      "master-us-west-2c": { vpc: undefined, nic: [masters, "sg-12345678", "sg-abcd1234"] },
      nodes: { vpc: undefined, nic: [nodes, "sg-12345678"] },
    });
  });

  it("lists them in the security-group outputs after the cluster's own", () => {
    const json = synthJson(SEED_2);
    expect(json.output.master_security_group_ids.value).toEqual([masters, "sg-12345678", "sg-abcd1234"]);
    expect(json.output.node_security_group_ids.value).toEqual([nodes, "sg-12345678"]);
  });

  it("lists every node group's extra groups in node_security_group_ids, once each", () => {
    const json = synthJson({
      ...SEED_2,
      nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 2, securityGroups: ["sg-0000aaaa", "sg-12345678"] }],
    });
    expect(json.output.node_security_group_ids.value).toEqual([nodes, "sg-12345678", "sg-0000aaaa"]);
  });
});

describe("the API through its load balancers: private, NAT and public source addresses", () => {
  const LB = "api-hacluster-example-com";
  const PUBLIC_LB = "api-public-hacluster-example-com";
  const BASTION = { bastion: true, sshAccess: [SSH], sshPublicKey: SSH_KEY };

  /** `from -> lb: reachable|blocked`, for readable failures. */
  const api = (fw: Firewall, from: Peer, lb: string) => `${peerLabel(from)} -> ${lb}: ${fw.canReachApi(from, lb) ? "reachable" : "blocked"}`;
  const row = (from: Peer, lb: string, reachable: boolean) => `${peerLabel(from)} -> ${lb}: ${reachable ? "reachable" : "blocked"}`;

  /** The configuration without the rules admitting the NAT gateways' addresses (the reviewer's removal). */
  function withoutNatRules(json: TerraformJson): TerraformJson {
    const copy = JSON.parse(JSON.stringify(json)) as TerraformJson;
    const rules = copy.resource.aws_security_group_rule;
    const removed = Object.keys(rules).filter((n) => JSON.stringify(rules[n].cidr_blocks ?? []).includes("aws_eip"));
    expect(removed).toHaveLength(3);
    removed.forEach((n) => delete rules[n]);
    return copy;
  }

  describe("private topology, internal only (seed example 1 with a bastion)", () => {
    let fw: Firewall;
    beforeAll(() => ({ fw } = firewallOf({ ...SEED_1, ...BASTION })));

    it("lets masters, nodes, the bastion and the network reach the internal load balancer, and nobody else", () => {
      const rows: [Peer, string, boolean][] = [
        ["masters", LB, true],
        ["nodes", LB, true],
        ["bastion", LB, true],
        [cidr(VPC_CIDR), LB, true],
        [cidr(ADMIN), LB, false],
        [cidr(ANYWHERE), LB, false],
      ];
      expect(rows.map(([f, l]) => api(fw, f, l))).toEqual(rows.map(([f, l, r]) => row(f, l, r)));
      expect([...fw.loadBalancers.keys()]).toEqual([LB]);
    });

    it("is modelled so that a group reference does not match traffic that arrives from a public address", () => {
      // The same rules in front of an internet-facing load balancer: the members' traffic arrives from the
      // NAT gateways' addresses, which nothing here admits, so the group references no longer help.
      const json = synthJson({ ...SEED_1, ...BASTION });
      (json.resource.aws_lb[LB] as Record<string, unknown>).internal = false;
      const exposed = new Firewall(json, NAME);
      expect(["masters", "nodes", "bastion"].map((r) => api(exposed, r as Role, LB))).toEqual(
        ["masters", "nodes", "bastion"].map((r) => row(r as Role, LB, false)),
      );
      expect(exposed.canReach("nodes", "api-elb", tcp(443))).toBe(true);
    });
  });

  describe("private topology with adminAccess: members reach the internet-facing load balancer through their NAT gateways", () => {
    let json: TerraformJson;
    let fw: Firewall;
    beforeAll(() => ({ json, fw } = firewallOf({ ...SEED_1, ...BASTION, adminAccess: [ADMIN] })));

    it("sends the masters' and nodes' traffic to public addresses from their zone's NAT gateway", () => {
      const zones = ["us-west-2a", "us-west-2b", "us-west-2c"];
      const nat = (z: string) => `\${aws_eip.${z}-hacluster-example-com.public_ip}/32`;
      expect(fw.publicSources("masters").map((s) => [s.subnet, s.kind === "nat" ? s.cidr : s.kind])).toEqual(
        zones.map((z) => [`${z}-hacluster-example-com`, nat(z)]),
      );
      expect(new Set(fw.publicSources("nodes").map((s) => (s.kind === "nat" ? s.cidr : s.kind)))).toEqual(new Set(zones.map(nat)));
      // The bastion sits in a utility subnet with a public address of its own.
      expect(new Set(fw.publicSources("bastion").map((s) => s.kind))).toEqual(new Set(["own-public-address"]));
    });

    it.each([
      ["masters", PUBLIC_LB, true],
      ["nodes", PUBLIC_LB, true],
      [cidr(ADMIN), PUBLIC_LB, true],
      [cidr("198.51.100.7/32"), PUBLIC_LB, true],
      [cidr(UNLISTED), PUBLIC_LB, false],
      [cidr(ANYWHERE), PUBLIC_LB, false],
      // The bastion's own public address is not admitted: kubectl through the bastion uses api.internal.NAME.
      ["bastion", PUBLIC_LB, false],
      ["masters", LB, true],
      ["nodes", LB, true],
      ["bastion", LB, true],
      [cidr(ADMIN), LB, true],
    ] as [Peer, string, boolean][])("%j -> %s: %s", (from, lb, reachable) => {
      expect(api(fw, from, lb)).toBe(row(from, lb, reachable));
    });

    it("loses the members' path to the internet-facing load balancer without the NAT gateways' rules (and keeps the internal one)", () => {
      const cut = new Firewall(withoutNatRules(json), NAME);
      expect(["masters", "nodes"].map((r) => api(cut, r as Role, PUBLIC_LB))).toEqual(["masters", "nodes"].map((r) => row(r as Role, PUBLIC_LB, false)));
      expect(["masters", "nodes"].map((r) => api(cut, r as Role, LB))).toEqual(["masters", "nodes"].map((r) => row(r as Role, LB, true)));
    });

    it("keeps the bastion off the internet-facing load balancer even when adminAccess admits the whole internet: it sends nothing to the internet", () => {
      const open = firewallOf({ ...SEED_1, ...BASTION, adminAccess: [ANYWHERE] }).fw;
      expect(api(open, "bastion", PUBLIC_LB)).toBe(row("bastion", PUBLIC_LB, false));
      expect(api(open, "nodes", PUBLIC_LB)).toBe(row("nodes", PUBLIC_LB, true));
      expect(api(open, "bastion", LB)).toBe(row("bastion", LB, true));
    });
  });

  describe("public topology with adminAccess: members have only their own public addresses", () => {
    let fw: Firewall;
    beforeAll(() => ({ fw } = firewallOf({ ...SEED_1, topology: "public", adminAccess: [ADMIN] })));

    it("sends the members' traffic to public addresses from their own public address", () => {
      expect(new Set(fw.publicSources("nodes").map((s) => s.kind))).toEqual(new Set(["own-public-address"]));
      expect(new Set(fw.publicSources("masters").map((s) => s.kind))).toEqual(new Set(["own-public-address"]));
    });

    it.each([
      // Nothing can admit an instance's ephemeral public address but 0.0.0.0/0: members use the internal load balancer.
      ["masters", PUBLIC_LB, false],
      ["nodes", PUBLIC_LB, false],
      [cidr(ADMIN), PUBLIC_LB, true],
      [cidr(UNLISTED), PUBLIC_LB, false],
      ["masters", LB, true],
      ["nodes", LB, true],
    ] as [Peer, string, boolean][])("%j -> %s: %s", (from, lb, reachable) => {
      expect(api(fw, from, lb)).toBe(row(from, lb, reachable));
    });

    it("lets members reach the internet-facing load balancer too when adminAccess is 0.0.0.0/0", () => {
      const open = firewallOf({ ...SEED_1, topology: "public", adminAccess: [ANYWHERE] }).fw;
      expect(["masters", "nodes"].map((r) => api(open, r as Role, PUBLIC_LB))).toEqual(["masters", "nodes"].map((r) => row(r as Role, PUBLIC_LB, true)));
    });
  });
});
