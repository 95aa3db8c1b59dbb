/**
 * The Kubernetes API endpoint: the network load balancer, its listener and target group, the masters'
 * registration, the api.NAME record, and the outputs kops users' scripts read.
 */
import { SEED_1, TerraformJson, resources, synthJson } from "./helpers/cluster";

const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";
const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];
const LB = `api-${SLUG}`;
const TG = `tcp-${SLUG}`;

const subnetRef = (name: string) => `\${aws_subnet.${name}.id}`;
const utilitySubnets = ZONES.map((z) => subnetRef(`utility-${z}-${SLUG}`));
const privateSubnets = ZONES.map((z) => subnetRef(`${z}-${SLUG}`));

const only = (json: TerraformJson, type: string): [string, Record<string, unknown>] => {
  const entries = Object.entries(resources(json, type));
  expect(entries.map(([n]) => n)).toHaveLength(1);
  return entries[0];
};

describe("the API load balancer of seed example 1", () => {
  let json: TerraformJson;

  beforeAll(() => {
    json = synthJson(SEED_1);
  });

  it("is an internal, cross-zone network load balancer in the master zones' private subnets, behind the api-elb group", () => {
    // The seed names no adminAccess: nobody outside the network is to reach the API (see the README).
    const [name, lb] = only(json, "aws_lb");
    expect(name).toBe(LB);
    expect(lb).toMatchObject({
      load_balancer_type: "network",
      internal: true,
      enable_cross_zone_load_balancing: true,
      subnets: privateSubnets,
      security_groups: [`\${aws_security_group.api-elb-${SLUG}.id}`],
    });
    expect(resources(json, "aws_elb")).toEqual({});
  });

  it("becomes internet-facing, in the utility subnets, once adminAccess names who may reach it", () => {
    const lb = resources(synthJson({ ...SEED_1, adminAccess: ["203.0.113.0/24"] }), "aws_lb")[LB];
    expect(lb).toMatchObject({ internal: false, subnets: utilitySubnets });
  });

  it("admits the cluster's own NAT gateways to an internet-facing load balancer, where members' traffic to it comes from", () => {
    const publicJson = synthJson({ ...SEED_1, adminAccess: ["203.0.113.0/24"] });
    const rules = Object.values(resources(publicJson, "aws_security_group_rule")).filter(
      (r) => r.security_group_id === `\${aws_security_group.api-elb-${SLUG}.id}` && r.type === "ingress",
    );
    const natSources = rules.flatMap((r) => (r.cidr_blocks as string[] | undefined) ?? []).filter((c) => c.includes("aws_eip"));
    expect(natSources.sort()).toEqual(ZONES.map((z) => `\${aws_eip.${z}-${SLUG}.public_ip}/32`));
    const internalRules = Object.values(resources(json, "aws_security_group_rule"));
    expect(JSON.stringify(internalRules)).not.toContain("aws_eip");
  });

  it("is protected from deletion by default", () => {
    expect(resources(json, "aws_lb")[LB].enable_deletion_protection).toBe(true);
  });

  it("listens on TCP 443 and forwards to a TCP 443 target group without client IP preservation, health-checked over TCP", () => {
    const [, listener] = only(json, "aws_lb_listener");
    expect(listener).toMatchObject({
      load_balancer_arn: `\${aws_lb.${LB}.arn}`,
      port: 443,
      protocol: "TCP",
      default_action: [{ type: "forward", target_group_arn: `\${aws_lb_target_group.${TG}.arn}` }],
    });
    expect(listener.ssl_policy).toBeUndefined();
    const [tgName, tg] = only(json, "aws_lb_target_group");
    expect(tgName).toBe(TG);
    expect(tg).toMatchObject({
      port: 443,
      protocol: "TCP",
      target_type: "instance",
      preserve_client_ip: "false",
      vpc_id: `\${aws_vpc.${SLUG}.id}`,
      health_check: expect.objectContaining({ protocol: "TCP" }),
    });
  });

  it("registers each master group with the target group, and no other group", () => {
    const registered = Object.fromEntries(
      Object.entries(resources(json, "aws_autoscaling_group")).map(([name, asg]) => [name, asg.target_group_arns]),
    );
    expect(registered).toEqual({
      "master-us-west-2a": [`\${aws_lb_target_group.${TG}.arn}`],
      "master-us-west-2b": [`\${aws_lb_target_group.${TG}.arn}`],
      "master-us-west-2c": [`\${aws_lb_target_group.${TG}.arn}`],
      nodes: undefined,
    });
  });

  it("makes no DNS record without a dnsZone, and reports the load balancer's own name", () => {
    expect(resources(json, "aws_route53_record")).toEqual({});
    expect(json.data?.aws_route53_zone).toBeUndefined();
    expect(json.output.kube_api_hostname.value).toBe(`\${aws_lb.${LB}.dns_name}`);
  });
});

describe("load balancer options", () => {
  it("turns deletion protection off with allowApiLoadBalancerDeletion: true", () => {
    const json = synthJson({ ...SEED_1, allowApiLoadBalancerDeletion: true });
    expect(resources(json, "aws_lb")[LB].enable_deletion_protection).toBe(false);
  });

  it("keeps an internal load balancer in the master zones' private subnets when asked, adminAccess or not", () => {
    const json = synthJson({ ...SEED_1, adminAccess: ["203.0.113.0/24"], apiLoadBalancerType: "internal" });
    expect(resources(json, "aws_lb")[LB]).toMatchObject({ internal: true, subnets: privateSubnets });
  });

  it("spans only the master zones", () => {
    const json = synthJson({
      ...SEED_1,
      zones: ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"],
      masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
    });
    expect(resources(json, "aws_lb")[LB].subnets).toEqual(privateSubnets);
  });

  it("registers the node groups of a cluster with further node groups nowhere", () => {
    const json = synthJson({
      ...SEED_1,
      nodeGroups: [{ name: "gpu", zones: ["us-west-2a"], size: "g4dn.xlarge", minSize: 0, maxSize: 3 }],
    });
    const groups = resources(json, "aws_autoscaling_group");
    expect([groups.nodes.target_group_arns, groups.gpu.target_group_arns]).toEqual([undefined, undefined]);
  });
});

describe("api.NAME in DNS", () => {
  const alias = {
    name: `\${aws_lb.${LB}.dns_name}`,
    zone_id: `\${aws_lb.${LB}.zone_id}`,
    evaluate_target_health: false,
  };

  it.each([
    ["public", false],
    ["private", true],
  ])("looks up the zone example.com by name (dns: %s, private_zone %s) and aliases api.hacluster.example.com to the load balancer", (dns, privateZone) => {
    const json = synthJson({ ...SEED_1, dnsZone: "example.com", dns });
    const zones = Object.entries(json.data?.aws_route53_zone ?? {});
    expect(zones).toHaveLength(1);
    const [zoneName, zone] = zones[0];
    expect(zone).toEqual({ name: "example.com", private_zone: privateZone });
    const [, record] = only(json, "aws_route53_record");
    expect(record).toEqual({
      zone_id: `\${data.aws_route53_zone.${zoneName}.zone_id}`,
      name: `api.${NAME}`,
      type: "A",
      alias,
    });
  });

  it("uses a hosted zone id as given, with no lookup", () => {
    const json = synthJson({ ...SEED_1, dnsZone: "Z0123456789ABC" });
    expect(json.data?.aws_route53_zone).toBeUndefined();
    const [recordName, record] = only(json, "aws_route53_record");
    expect(record).toEqual({ zone_id: "Z0123456789ABC", name: `api.${NAME}`, type: "A", alias });
    expect(json.output.kube_api_hostname.value).toBe(`\${aws_route53_record.${recordName}.fqdn}`);
  });
});

describe("outputs", () => {
  let json: TerraformJson;

  beforeAll(() => {
    json = synthJson(SEED_1);
  });

  it("has every output scripts written for kops's Terraform read", () => {
    const expected = [
      "cluster_name",
      "region",
      "vpc_id",
      "vpc_cidr_block",
      "master_autoscaling_group_ids",
      "master_security_group_ids",
      "masters_role_arn",
      "masters_role_name",
      "node_autoscaling_group_ids",
      "node_security_group_ids",
      "node_subnet_ids",
      "nodes_role_arn",
      "nodes_role_name",
      "route_table_public_id",
      "subnet_ids",
      ...ZONES.map((z) => `subnet_${z}_id`),
      ...ZONES.map((z) => `subnet_utility-${z}_id`),
    ];
    expect(Object.keys(json.output)).toEqual(expect.arrayContaining(expected));
  });

  it("points each output at the right thing", () => {
    const value = (name: string) => json.output[name].value;
    expect({
      cluster_name: value("cluster_name"),
      region: value("region"),
      vpc_id: value("vpc_id"),
      vpc_cidr_block: value("vpc_cidr_block"),
      master_autoscaling_group_ids: value("master_autoscaling_group_ids"),
      master_security_group_ids: value("master_security_group_ids"),
      masters_role_arn: value("masters_role_arn"),
      masters_role_name: value("masters_role_name"),
      node_autoscaling_group_ids: value("node_autoscaling_group_ids"),
      node_security_group_ids: value("node_security_group_ids"),
      node_subnet_ids: value("node_subnet_ids"),
      nodes_role_arn: value("nodes_role_arn"),
      nodes_role_name: value("nodes_role_name"),
      subnet_ids: value("subnet_ids"),
      "subnet_us-west-2a_id": value("subnet_us-west-2a_id"),
      "subnet_utility-us-west-2a_id": value("subnet_utility-us-west-2a_id"),
    }).toEqual({
      cluster_name: NAME,
      region: "us-west-2",
      vpc_id: `\${aws_vpc.${SLUG}.id}`,
      vpc_cidr_block: "172.20.0.0/16",
      master_autoscaling_group_ids: ZONES.map((z) => `\${aws_autoscaling_group.master-${z}.id}`),
      master_security_group_ids: [`\${aws_security_group.masters-${SLUG}.id}`],
      masters_role_arn: `\${aws_iam_role.masters-${SLUG}.arn}`,
      masters_role_name: `\${aws_iam_role.masters-${SLUG}.name}`,
      node_autoscaling_group_ids: ["${aws_autoscaling_group.nodes.id}"],
      node_security_group_ids: [`\${aws_security_group.nodes-${SLUG}.id}`],
      node_subnet_ids: privateSubnets,
      nodes_role_arn: `\${aws_iam_role.nodes-${SLUG}.arn}`,
      nodes_role_name: `\${aws_iam_role.nodes-${SLUG}.name}`,
      subnet_ids: privateSubnets,
      "subnet_us-west-2a_id": subnetRef(`us-west-2a-${SLUG}`),
      "subnet_utility-us-west-2a_id": subnetRef(`utility-us-west-2a-${SLUG}`),
    });
  });

  it("names as route_table_public_id the route table the utility subnets use, whose default route is the internet gateway", () => {
    const table = /^\$\{aws_route_table\.([^.]+)\.id\}$/.exec(String(json.output.route_table_public_id.value))?.[1];
    expect(table).toBeDefined();
    const associated = Object.values(resources(json, "aws_route_table_association"))
      .filter((a) => a.route_table_id === `\${aws_route_table.${table}.id}`)
      .map((a) => a.subnet_id)
      .sort();
    expect(associated).toEqual([...utilitySubnets].sort());
    const routes = Object.values(resources(json, "aws_route")).filter((r) => r.route_table_id === `\${aws_route_table.${table}.id}`);
    expect(routes).toEqual([
      expect.objectContaining({ destination_cidr_block: "0.0.0.0/0", gateway_id: expect.stringMatching(/^\$\{aws_internet_gateway\./) }),
    ]);
  });
});
