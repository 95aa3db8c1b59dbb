/**
 * The network module: kops's layout per topology, NAT per zone, an address plan that is stable under
 * growth, flow logs and an empty default security group, and shared VPCs.
 */
import { planSubnets } from "../spec/address-plan";
import { SEED_1, resources, synthJson } from "./helpers/cluster";

const SLUG = "hacluster-example-com";
const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];

/** `${aws_x.name.attr}` as cdktf writes a reference. */
const ref = (type: string, name: string, attr = "id") => `\${${type}.${name}.${attr}}`;

describe("private topology (seed example 1)", () => {
  const json = synthJson(SEED_1);
  const subnets = resources(json, "aws_subnet");

  it("has one private and one utility subnet in every zone, with kops's CIDRs and tags", () => {
    expect(Object.keys(subnets).sort()).toEqual(
      [...ZONES.map((z) => `${z}-${SLUG}`), ...ZONES.map((z) => `utility-${z}-${SLUG}`)].sort(),
    );
    expect(ZONES.map((z) => subnets[`${z}-${SLUG}`].cidr_block)).toEqual(["172.20.32.0/19", "172.20.64.0/19", "172.20.96.0/19"]);
    expect(ZONES.map((z) => subnets[`utility-${z}-${SLUG}`].cidr_block)).toEqual(["172.20.0.0/22", "172.20.4.0/22", "172.20.8.0/22"]);
    for (const zone of ZONES) {
      expect(subnets[`${zone}-${SLUG}`]).toMatchObject({
        availability_zone: zone,
        vpc_id: ref("aws_vpc", SLUG),
        tags: { SubnetType: "Private", "kubernetes.io/role/internal-elb": "1" },
      });
      expect(subnets[`utility-${zone}-${SLUG}`]).toMatchObject({
        availability_zone: zone,
        tags: { SubnetType: "Utility", "kubernetes.io/role/elb": "1" },
      });
    }
  });

  it("never maps public IPs on launch, utility subnets included", () => {
    for (const subnet of Object.values(subnets)) {
      expect(subnet.map_public_ip_on_launch).toBe(false);
    }
  });

  it("puts one NAT gateway with its own EIP in each zone's utility subnet", () => {
    const nats = resources(json, "aws_nat_gateway");
    expect(Object.keys(nats).sort()).toEqual(ZONES.map((z) => `${z}-${SLUG}`));
    for (const zone of ZONES) {
      expect(nats[`${zone}-${SLUG}`]).toMatchObject({
        subnet_id: ref("aws_subnet", `utility-${zone}-${SLUG}`),
        allocation_id: ref("aws_eip", `${zone}-${SLUG}`),
      });
    }
    expect(Object.values(resources(json, "aws_eip")).map((e) => e.domain)).toEqual(["vpc", "vpc", "vpc"]);
  });

  it("routes each zone's private subnet to the internet through that zone's own NAT gateway", () => {
    const routes = resources(json, "aws_route");
    const associations = resources(json, "aws_route_table_association");
    for (const zone of ZONES) {
      const table = `private-${zone}-${SLUG}`;
      expect(routes[`route-private-${zone}-0-0-0-0--0`]).toEqual(
        expect.objectContaining({
          route_table_id: ref("aws_route_table", table),
          destination_cidr_block: "0.0.0.0/0",
          nat_gateway_id: ref("aws_nat_gateway", `${zone}-${SLUG}`),
        }),
      );
      expect(associations[`private-${zone}-${SLUG}`]).toMatchObject({
        subnet_id: ref("aws_subnet", `${zone}-${SLUG}`),
        route_table_id: ref("aws_route_table", table),
      });
      expect(associations[`utility-${zone}-${SLUG}`]).toMatchObject({
        subnet_id: ref("aws_subnet", `utility-${zone}-${SLUG}`),
        route_table_id: ref("aws_route_table", SLUG),
      });
    }
    expect(routes["route-0-0-0-0--0"]).toMatchObject({
      route_table_id: ref("aws_route_table", SLUG),
      gateway_id: ref("aws_internet_gateway", SLUG),
    });
  });

  it("has a VPC with DNS support and hostnames", () => {
    expect(resources(json, "aws_vpc")[SLUG]).toMatchObject({
      cidr_block: "172.20.0.0/16",
      enable_dns_hostnames: true,
      enable_dns_support: true,
      tags: { Name: "hacluster.example.com", KubernetesCluster: "hacluster.example.com" },
    });
  });
});

describe("the VPC's DHCP options, as kops makes them", () => {
  it.each([
    ["us-west-2", SEED_1, "us-west-2.compute.internal"],
    ["us-east-1 (EC2's historical domain)", { ...SEED_1, zones: ["us-east-1a", "us-east-1b", "us-east-1c"], masterZones: ["us-east-1a", "us-east-1b", "us-east-1c"] }, "ec2.internal"],
    ["eu-central-1", { name: "eu.example.com", zones: ["eu-central-1a"] }, "eu-central-1.compute.internal"],
  ])("in %s: the region's domain and Amazon's resolver, associated with the cluster's VPC", (_region, fields, domain) => {
    const json = synthJson(fields);
    const slug = String((fields as { name: string }).name).replace(/\./g, "-");
    expect(resources(json, "aws_vpc_dhcp_options")).toEqual({
      [slug]: {
        domain_name: domain,
        domain_name_servers: ["AmazonProvidedDNS"],
        tags: expect.objectContaining({ Name: (fields as { name: string }).name, KubernetesCluster: (fields as { name: string }).name }),
      },
    });
    expect(resources(json, "aws_vpc_dhcp_options_association")).toEqual({
      [slug]: { vpc_id: ref("aws_vpc", slug), dhcp_options_id: ref("aws_vpc_dhcp_options", slug) },
    });
  });
});

describe("public topology", () => {
  const json = synthJson({ name: "public.example.com", zones: ZONES });

  it("has one public subnet per zone, routed to the internet gateway, and no NAT gateway", () => {
    const subnets = resources(json, "aws_subnet");
    expect(Object.keys(subnets).sort()).toEqual(ZONES.map((z) => `${z}-public-example-com`));
    for (const subnet of Object.values(subnets)) {
      expect(subnet).toMatchObject({ map_public_ip_on_launch: false, tags: { SubnetType: "Public", "kubernetes.io/role/elb": "1" } });
    }
    expect(resources(json, "aws_nat_gateway")).toEqual({});
    expect(resources(json, "aws_eip")).toEqual({});
    const associations = resources(json, "aws_route_table_association");
    expect(Object.keys(associations).sort()).toEqual(ZONES.map((z) => `${z}-public-example-com`));
    for (const association of Object.values(associations)) {
      expect(association.route_table_id).toBe(ref("aws_route_table", "public-example-com"));
    }
  });
});

describe("the address plan", () => {
  it("keeps every existing subnet's address and CIDR when a fourth zone is added", () => {
    const three = resources(synthJson(SEED_1), "aws_subnet");
    const four = resources(synthJson({ ...SEED_1, zones: [...ZONES, "us-west-2d"] }), "aws_subnet");
    for (const [name, subnet] of Object.entries(three)) {
      expect(four[name]).toEqual(subnet);
    }
    expect(Object.keys(four).filter((n) => !(n in three)).sort()).toEqual([`us-west-2d-${SLUG}`, `utility-us-west-2d-${SLUG}`]);
    expect(four[`us-west-2d-${SLUG}`].cidr_block).toBe("172.20.128.0/19");
    expect(four[`utility-us-west-2d-${SLUG}`].cidr_block).toBe("172.20.12.0/22");
  });

  it("places subnets by zone letter, so reordering or dropping zones moves no other subnet", () => {
    const plan = (zones: string[]) =>
      Object.fromEntries(
        planSubnets({ networkCidr: "172.20.0.0/16", topology: "private", zones, overrides: [] }).subnets.map((s) => [
          `${s.role}/${s.zone}`,
          s.cidr,
        ]),
      );
    const abc = plan(ZONES);
    const cb = plan(["us-west-2c", "us-west-2b"]);
    for (const key of Object.keys(cb)) {
      expect(cb[key]).toBe(abc[key]);
    }
  });

  it("scales with the network: a /20 network gets /23 zone subnets and /26 utility subnets", () => {
    const { subnets } = planSubnets({ networkCidr: "10.1.0.0/20", topology: "private", zones: ["eu-west-1a"], overrides: [] });
    expect(subnets).toEqual([
      { zone: "eu-west-1a", role: "private", cidr: "10.1.2.0/23" },
      { zone: "eu-west-1a", role: "utility", cidr: "10.1.0.0/26" },
    ]);
  });

  it("takes a subnet's CIDR from the spec when given", () => {
    const json = synthJson({ ...SEED_1, subnets: [{ zone: "us-west-2b", type: "private", cidr: "172.20.160.0/20" }] });
    expect(resources(json, "aws_subnet")[`us-west-2b-${SLUG}`].cidr_block).toBe("172.20.160.0/20");
    expect(resources(json, "aws_subnet")[`us-west-2a-${SLUG}`].cidr_block).toBe("172.20.32.0/19");
  });
});

describe("hardening", () => {
  it("has flow logs to a log group with a year's retention, written by a role limited to that group", () => {
    const json = synthJson(SEED_1);
    expect(resources(json, "aws_flow_log")[SLUG]).toMatchObject({
      vpc_id: ref("aws_vpc", SLUG),
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
      log_destination: ref("aws_cloudwatch_log_group", `flowlogs-${SLUG}`, "arn"),
      iam_role_arn: ref("aws_iam_role", `flowlogs-${SLUG}`, "arn"),
    });
    expect(resources(json, "aws_cloudwatch_log_group")[`flowlogs-${SLUG}`]).toMatchObject({ retention_in_days: 365 });
    const policy = String(resources(json, "aws_iam_role_policy")[`flowlogs-${SLUG}`].policy);
    expect(policy).toContain(ref("aws_cloudwatch_log_group", `flowlogs-${SLUG}`, "arn"));
    expect(policy).not.toMatch(/"Resource"\s*=\s*"\*"|\\"\*\\"/);
  });

  it("manages the VPC's default security group with no rules", () => {
    const groups = resources(synthJson(SEED_1), "aws_default_security_group");
    expect(Object.values(groups)).toEqual([expect.objectContaining({ vpc_id: ref("aws_vpc", SLUG) })]);
    const [group] = Object.values(groups);
    expect(group.ingress).toBeUndefined();
    expect(group.egress).toBeUndefined();
  });

  it("drops the flow logs with flowLogs: false, and keeps the empty default group", () => {
    const json = synthJson({ ...SEED_1, flowLogs: false });
    for (const type of ["aws_flow_log", "aws_cloudwatch_log_group"]) {
      expect(resources(json, type)).toEqual({});
    }
    expect(Object.keys(resources(json, "aws_iam_role"))).not.toContain(`flowlogs-${SLUG}`);
    expect(Object.keys(resources(json, "aws_default_security_group"))).toHaveLength(1);
  });

  it("uses a customer KMS key and retention for the log group when given", () => {
    const json = synthJson({
      ...SEED_1,
      flowLogRetentionDays: 731,
      flowLogKmsKeyArn: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    });
    expect(resources(json, "aws_cloudwatch_log_group")[`flowlogs-${SLUG}`]).toMatchObject({
      retention_in_days: 731,
      kms_key_id: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    });
  });
});

describe("a shared VPC (--vpc, --subnets, --utility-subnets)", () => {
  const privateIds = ["subnet-0a0a0a0a", "subnet-0b0b0b0b", "subnet-0c0c0c0c"];
  const utilityIds = ["subnet-1a1a1a1a", "subnet-1b1b1b1b", "subnet-1c1c1c1c"];
  const json = synthJson({
    ...SEED_1,
    vpc: "vpc-12345678",
    networkCidr: "10.20.0.0/16",
    subnets: [
      ...ZONES.map((zone, i) => ({ zone, type: "private", id: privateIds[i] })),
      ...ZONES.map((zone, i) => ({ zone, type: "utility", id: utilityIds[i] })),
    ],
  });

  it("creates no network resources", () => {
    for (const type of [
      "aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route_table",
      "aws_route", "aws_route_table_association", "aws_flow_log", "aws_default_security_group",
      "aws_vpc_dhcp_options", "aws_vpc_dhcp_options_association",
    ]) {
      expect(resources(json, type)).toEqual({});
    }
  });

  it("references the given ids", () => {
    expect(resources(json, "aws_security_group")[`masters-${SLUG}`].vpc_id).toBe("vpc-12345678");
    expect(resources(json, "aws_autoscaling_group")["master-us-west-2b"].vpc_zone_identifier).toEqual(["subnet-0b0b0b0b"]);
    expect(resources(json, "aws_autoscaling_group").nodes.vpc_zone_identifier).toEqual(privateIds);
    // Internal (no adminAccess): the API load balancer sits in the shared private subnets.
    expect(resources(json, "aws_lb")[`api-${SLUG}`].subnets).toEqual(privateIds);
    expect(json.output.vpc_id.value).toBe("vpc-12345678");
    expect(json.output.vpc_cidr_block.value).toBe("10.20.0.0/16");
  });
});
