/**
 * The Kubernetes API endpoint: the internal network load balancer (always) and the internet-facing one
 * (with admin access), their listeners and target groups, the masters' registration, the api.NAME and
 * api.internal.NAME records, and the outputs kops users' scripts read.
 */
import { SEED_1, TerraformJson, resources, synthJson } from "./helpers/cluster";

const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";
const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];
const LB = `api-${SLUG}`;
const TG = `tcp-${SLUG}`;
const PUBLIC_LB = `api-public-${SLUG}`;
const PUBLIC_TG = `tcp-public-${SLUG}`;

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

  it("is one internal, cross-zone network load balancer in the private subnets, behind the api-elb group", () => {
    // The seed names no adminAccess: nobody outside the network is to reach the API (see the README).
    const [name, lb] = only(json, "aws_lb");
    expect(name).toBe(LB);
    expect(lb).toMatchObject({
      name: LB,
      load_balancer_type: "network",
      internal: true,
      enable_cross_zone_load_balancing: true,
      subnets: privateSubnets,
      security_groups: [`\${aws_security_group.api-elb-${SLUG}.id}`],
      tags: expect.objectContaining({ Name: `api.internal.${NAME}` }),
    });
    expect(resources(json, "aws_elb")).toEqual({});
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

  it("makes no DNS record without a dnsZone, and reports the load balancer's own name for both hostnames", () => {
    expect(resources(json, "aws_route53_record")).toEqual({});
    expect(json.data?.aws_route53_zone).toBeUndefined();
    expect(json.output.kube_api_hostname.value).toBe(`\${aws_lb.${LB}.dns_name}`);
    expect(json.output.kube_api_internal_hostname.value).toBe(`\${aws_lb.${LB}.dns_name}`);
  });
});

describe("an API reachable from the internet (adminAccess given)", () => {
  const ADMIN = ["203.0.113.0/24"];
  let internalOnly: TerraformJson;
  let json: TerraformJson;

  beforeAll(() => {
    internalOnly = synthJson(SEED_1);
    json = synthJson({ ...SEED_1, adminAccess: ADMIN });
  });

  it("adds an internet-facing load balancer in the utility subnets and keeps the internal one exactly as it was", () => {
    const lbs = resources(json, "aws_lb");
    expect(Object.keys(lbs).sort()).toEqual([LB, PUBLIC_LB]);
    // The internal load balancer does not change at all: adding admin access to a cluster replaces nothing.
    expect(lbs[LB]).toEqual(resources(internalOnly, "aws_lb")[LB]);
    expect(lbs[PUBLIC_LB]).toMatchObject({
      name: PUBLIC_LB,
      load_balancer_type: "network",
      internal: false,
      subnets: utilitySubnets,
      security_groups: [`\${aws_security_group.api-elb-${SLUG}.id}`],
      enable_cross_zone_load_balancing: true,
      enable_deletion_protection: true,
      tags: expect.objectContaining({ Name: `api.${NAME}` }),
    });
  });

  it("gives each load balancer its own listener and target group, and registers every master with both", () => {
    const listeners = resources(json, "aws_lb_listener");
    expect(Object.keys(listeners).sort()).toEqual([`${LB}-443`, `${PUBLIC_LB}-443`]);
    expect(listeners[`${PUBLIC_LB}-443`]).toMatchObject({
      load_balancer_arn: `\${aws_lb.${PUBLIC_LB}.arn}`,
      default_action: [{ type: "forward", target_group_arn: `\${aws_lb_target_group.${PUBLIC_TG}.arn}` }],
    });
    expect(listeners[`${LB}-443`]).toEqual(resources(internalOnly, "aws_lb_listener")[`${LB}-443`]);
    const groups = resources(json, "aws_lb_target_group");
    expect(Object.keys(groups).sort()).toEqual([TG, PUBLIC_TG]);
    expect(groups[PUBLIC_TG]).toMatchObject({ name: PUBLIC_TG, port: 443, protocol: "TCP", preserve_client_ip: "false" });
    for (const zone of ZONES) {
      expect(resources(json, "aws_autoscaling_group")[`master-${zone}`].target_group_arns).toEqual([
        `\${aws_lb_target_group.${TG}.arn}`,
        `\${aws_lb_target_group.${PUBLIC_TG}.arn}`,
      ]);
    }
  });

  it("admits the cluster's own NAT gateways to the load balancers' group, where members reaching the public address come from", () => {
    const rules = Object.values(resources(json, "aws_security_group_rule")).filter(
      (r) => r.security_group_id === `\${aws_security_group.api-elb-${SLUG}.id}` && r.type === "ingress",
    );
    const natSources = rules.flatMap((r) => (r.cidr_blocks as string[] | undefined) ?? []).filter((c) => c.includes("aws_eip"));
    expect(natSources.sort()).toEqual(ZONES.map((z) => `\${aws_eip.${z}-${SLUG}.public_ip}/32`));
    const internalRules = Object.values(resources(internalOnly, "aws_security_group_rule"));
    expect(JSON.stringify(internalRules)).not.toContain("aws_eip");
  });

  it("reports api's outward name and the internal one apart", () => {
    expect(json.output.kube_api_hostname.value).toBe(`\${aws_lb.${PUBLIC_LB}.dns_name}`);
    expect(json.output.kube_api_internal_hostname.value).toBe(`\${aws_lb.${LB}.dns_name}`);
  });

  it("puts the internet-facing load balancer in the public subnets in public topology, beside the internal one", () => {
    const publicJson = synthJson({ ...SEED_1, topology: "public", adminAccess: ADMIN });
    const publicSubnets = ZONES.map((z) => subnetRef(`${z}-${SLUG}`));
    expect(resources(publicJson, "aws_lb")).toEqual({
      [LB]: expect.objectContaining({ internal: true, subnets: publicSubnets }),
      [PUBLIC_LB]: expect.objectContaining({ internal: false, subnets: publicSubnets }),
    });
  });
});

describe("load balancer options", () => {
  it("turns deletion protection off on both with allowApiLoadBalancerDeletion: true", () => {
    const json = synthJson({ ...SEED_1, adminAccess: ["203.0.113.0/24"], allowApiLoadBalancerDeletion: true });
    expect(Object.values(resources(json, "aws_lb")).map((lb) => lb.enable_deletion_protection)).toEqual([false, false]);
  });

  it("keeps the API internal only when asked, adminAccess or not", () => {
    const json = synthJson({ ...SEED_1, adminAccess: ["203.0.113.0/24"], apiLoadBalancerType: "internal" });
    expect(Object.keys(resources(json, "aws_lb"))).toEqual([LB]);
    expect(resources(json, "aws_lb")[LB]).toMatchObject({ internal: true, subnets: privateSubnets });
  });

  it("makes it internet-facing when asked without adminAccess", () => {
    const json = synthJson({ ...SEED_1, apiLoadBalancerType: "public" });
    expect(Object.keys(resources(json, "aws_lb")).sort()).toEqual([LB, PUBLIC_LB]);
  });

  it("spans every zone of the cluster, not only the master zones, so that removing a master changes no subnet", () => {
    const zones = [...ZONES, "us-west-2d"];
    const fields = { ...SEED_1, zones, masterZones: ["us-west-2a"], masterCount: 1, adminAccess: ["203.0.113.0/24"] };
    const lbs = resources(synthJson(fields), "aws_lb");
    expect(lbs[LB].subnets).toEqual(zones.map((z) => subnetRef(`${z}-${SLUG}`)));
    expect(lbs[PUBLIC_LB].subnets).toEqual(zones.map((z) => subnetRef(`utility-${z}-${SLUG}`)));
  });

  it("writes access logs of both to the bucket, under their own prefixes", () => {
    const json = synthJson({ ...SEED_1, adminAccess: ["203.0.113.0/24"], apiAccessLogsBucket: "lb-logs" });
    const lbs = resources(json, "aws_lb");
    expect(lbs[LB].access_logs).toEqual({ bucket: "lb-logs", prefix: `api/${NAME}`, enabled: true });
    expect(lbs[PUBLIC_LB].access_logs).toEqual({ bucket: "lb-logs", prefix: `api/${NAME}/public`, enabled: true });
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

describe("api.NAME and api.internal.NAME in DNS", () => {
  const alias = (lb: string) => ({
    name: `\${aws_lb.${lb}.dns_name}`,
    zone_id: `\${aws_lb.${lb}.zone_id}`,
    evaluate_target_health: false,
  });

  it.each([
    ["public", false],
    ["private", true],
  ])("looks up the zone example.com by name (dns: %s, private_zone %s) and aliases both names to the internal load balancer", (dns, privateZone) => {
    const json = synthJson({ ...SEED_1, dnsZone: "example.com", dns });
    const zones = Object.entries(json.data?.aws_route53_zone ?? {});
    expect(zones).toHaveLength(1);
    const [zoneName, zone] = zones[0];
    expect(zone).toEqual({ name: "example.com", private_zone: privateZone });
    const zoneId = `\${data.aws_route53_zone.${zoneName}.zone_id}`;
    expect(resources(json, "aws_route53_record")).toEqual({
      [`api-${SLUG}`]: { zone_id: zoneId, name: `api.${NAME}`, type: "A", alias: alias(LB) },
      [`api-internal-${SLUG}`]: { zone_id: zoneId, name: `api.internal.${NAME}`, type: "A", alias: alias(LB) },
    });
  });

  it("uses a hosted zone id as given, with no lookup, and points api.NAME at the internet-facing load balancer when there is one", () => {
    const json = synthJson({ ...SEED_1, dnsZone: "Z0123456789ABC", adminAccess: ["203.0.113.0/24"] });
    expect(json.data?.aws_route53_zone).toBeUndefined();
    expect(resources(json, "aws_route53_record")).toEqual({
      [`api-${SLUG}`]: { zone_id: "Z0123456789ABC", name: `api.${NAME}`, type: "A", alias: alias(PUBLIC_LB) },
      [`api-internal-${SLUG}`]: { zone_id: "Z0123456789ABC", name: `api.internal.${NAME}`, type: "A", alias: alias(LB) },
    });
    expect(json.output.kube_api_hostname.value).toBe(`\${aws_route53_record.api-${SLUG}.fqdn}`);
    expect(json.output.kube_api_internal_hostname.value).toBe(`\${aws_route53_record.api-internal-${SLUG}.fqdn}`);
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
