/**
 * The control plane: one launch template and auto-scaling group per master, pinned to its zone, with
 * its etcd volumes; images; and growth that never touches what exists.
 */
import { decodeUserData } from "./helpers/user-data";
import { SEED_1, SEED_2, SEED_3, TerraformJson, resources, synthJson } from "./helpers/cluster";

const SLUG = "hacluster-example-com";
const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];
const ref = (type: string, name: string, attr = "id") => `\${${type}.${name}.${attr}}`;

/** An ASG's tags as key -> [value, propagate]. */
function asgTags(group: Record<string, unknown>): Record<string, [string, boolean]> {
  return Object.fromEntries(
    (group.tag as { key: string; value: string; propagate_at_launch: boolean }[]).map((t) => [t.key, [t.value, t.propagate_at_launch]]),
  );
}

/** A customer KMS key for the etcd volumes. */
const KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("masters of seed example 1", () => {
  const json = synthJson(SEED_1);
  const groups = resources(json, "aws_autoscaling_group");
  const templates = resources(json, "aws_launch_template");

  it.each(ZONES)("%s: its own group, min = max = 1, in that zone's private subnet, registered with the API", (zone) => {
    const name = `master-${zone}`;
    expect(groups[name]).toMatchObject({
      name: `${name}.masters.hacluster.example.com`,
      min_size: 1,
      max_size: 1,
      vpc_zone_identifier: [ref("aws_subnet", `${zone}-${SLUG}`)],
      target_group_arns: [ref("aws_lb_target_group", `tcp-${SLUG}`, "arn")],
      launch_template: { id: ref("aws_launch_template", name), version: ref("aws_launch_template", name, "latest_version") },
      health_check_type: "EC2",
      health_check_grace_period: 1200,
    });
  });

  it("never replaces a master's group before destroying it, and does no rolling instance refresh", () => {
    // The whole set of attributes, so that an instance_refresh block, a lifecycle (create_before_destroy)
    // or any other policy added to a master's group, by whatever name, fails here and is reviewed.
    for (const name of ZONES.map((z) => `master-${z}`)) {
      expect([name, Object.keys(groups[name]).sort()]).toEqual([
        name,
        [
          "depends_on",
          "enabled_metrics",
          "health_check_grace_period",
          "health_check_type",
          "launch_template",
          "max_size",
          "metrics_granularity",
          "min_size",
          "name",
          "tag",
          "target_group_arns",
          "vpc_zone_identifier",
        ],
      ]);
    }
  });

  it("tags each group's instances as masters of this cluster, propagated at launch", () => {
    const tags = asgTags(groups["master-us-west-2a"]);
    expect(tags).toMatchObject({
      KubernetesCluster: ["hacluster.example.com", true],
      "kubernetes.io/cluster/hacluster.example.com": ["owned", true],
      "k8s.io/role/master": ["1", true],
      "k8s.io/role/control-plane": ["1", true],
      Name: ["master-us-west-2a.masters.hacluster.example.com", true],
    });
  });

  it("gives each master a hardened launch template: IMDSv2, hop limit 1, encrypted gp3 root, masters profile", () => {
    const template = templates["master-us-west-2a"];
    expect(template).toMatchObject({
      instance_type: "t2.medium",
      iam_instance_profile: { name: ref("aws_iam_instance_profile", `masters-${SLUG}`, "name") },
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 },
      block_device_mappings: [
        { device_name: "/dev/sda1", ebs: { volume_size: 64, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" } },
      ],
      vpc_security_group_ids: [ref("aws_security_group", `masters-${SLUG}`)],
    });
    expect(template.network_interfaces).toBeUndefined();
    expect(template.instance_initiated_shutdown_behavior).toBe("terminate");
    const userData = decodeUserData(template.user_data);
    expect(userData.text.split("\n")[0]).toBe("#cloud-config");
    expect(userData.env).toMatchObject({ CLUSTER_NAME: "hacluster.example.com", ROLE: "master", ETCD_MEMBER: "a", BOOT_SCRIPT: "master.sh" });
  });

  it("uses the current Ubuntu LTS through EC2's resolve:ssm: form by default (no lookup at plan time)", () => {
    expect(templates["master-us-west-2a"].image_id).toBe(
      "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
    );
    expect(json.data).toBeUndefined();
    const arm = synthJson({ ...SEED_1, masterSize: "m7g.large" });
    expect(resources(arm, "aws_launch_template")["master-us-west-2a"].image_id).toMatch(/\/arm64\//);
  });
});

describe("first boot: no instance starts before its way out and its scripts exist", () => {
  // A master that boots before its zone's NAT route exists cannot install the AWS CLI nor fetch its
  // boot scripts; it would give up and be replaced, over and over, while Terraform is still creating
  // the routes. So every group waits for every default route and route-table association of the VPC
  // (read from the output itself, so a new zone or route table is covered), the boot archive, the
  // run-time parameters and its role's policy.
  const addresses = (json: TerraformJson, type: string) => Object.keys(resources(json, type)).map((n) => `${type}.${n}`);

  it.each([
    ["private topology", SEED_1, ZONES],
    ["public topology", { ...SEED_1, topology: "public" }, []],
    ["private topology, three masters in one zone", { ...SEED_3, topology: "private" }, ["us-east-1a", "us-east-1b"]],
  ])("%s: every master and node group depends on the routes out, the boot archive and its policy", (_, spec, natZones) => {
    const json = synthJson(spec);
    const routes = addresses(json, "aws_route");
    const associations = addresses(json, "aws_route_table_association");
    const parameters = addresses(json, "aws_ssm_parameter");
    // The routes out: the public default route, and one per zone through its NAT in private topology.
    expect(routes.sort()).toEqual(["aws_route.route-0-0-0-0--0", ...natZones.map((z) => `aws_route.route-private-${z}-0-0-0-0--0`)].sort());
    expect(associations.length).toBeGreaterThanOrEqual(natZones.length * 2);
    expect(parameters.length).toBeGreaterThan(0);
    const groups = resources(json, "aws_autoscaling_group");
    const members = Object.keys(groups).filter((n) => n.startsWith("master-") || n === "nodes");
    expect(members.filter((n) => n.startsWith("master-")).length).toBeGreaterThanOrEqual(3);
    expect(members).toContain("nodes");
    for (const name of members) {
      const policy = name.startsWith("master-") ? "masters" : "nodes";
      expect([name, groups[name].depends_on]).toEqual([
        name,
        expect.arrayContaining([
          ...routes,
          ...associations,
          ...parameters,
          "aws_s3_object.boot-scripts",
          `aws_iam_role_policy.${policy}-${SLUG}`,
        ]),
      ]);
    }
  });

  it("waits for no route in a shared VPC, whose routes kopsform does not make", () => {
    const json = synthJson({
      ...SEED_1,
      vpc: "vpc-0123456789abcdef0",
      networkCidr: "10.20.0.0/16",
      subnets: ZONES.flatMap((zone, i) => [
        { zone, type: "private", id: `subnet-0000000000000000${i}` },
        { zone, type: "utility", id: `subnet-1000000000000000${i}` },
      ]),
    });
    expect(resources(json, "aws_route")).toEqual({});
    expect(resources(json, "aws_autoscaling_group")["master-us-west-2a"].depends_on).toEqual(
      expect.arrayContaining(["aws_s3_object.boot-scripts", `aws_iam_role_policy.masters-${SLUG}`]),
    );
  });
});

describe("etcd volumes", () => {
  const json = synthJson(SEED_1);
  const volumes = resources(json, "aws_ebs_volume");

  it("gives every master a main and an events volume in its zone, encrypted, protected from destruction", () => {
    expect(Object.keys(volumes)).toHaveLength(6);
    for (const [member, zone] of [["a", "us-west-2a"], ["b", "us-west-2b"], ["c", "us-west-2c"]]) {
      for (const etcd of ["main", "events"]) {
        expect(volumes[`${member}-etcd-${etcd}-${SLUG}`]).toMatchObject({
          availability_zone: zone,
          size: 20,
          type: "gp3",
          encrypted: true,
          lifecycle: { prevent_destroy: true },
          tags: {
            Name: `${member}.etcd-${etcd}.hacluster.example.com`,
            [`k8s.io/etcd/${etcd}`]: `${member}/a,b,c`,
            "k8s.io/role/master": "1",
            "k8s.io/role/control-plane": "1",
            KubernetesCluster: "hacluster.example.com",
            "kubernetes.io/cluster/hacluster.example.com": "owned",
          },
        });
      }
    }
  });

  it("takes the storage type, size and KMS key of the spec", () => {
    const custom = resources(
      synthJson({ ...SEED_1, etcdStorageType: "io1", etcdVolumeSize: 50, etcdKmsKeyId: KEY_ARN }),
      "aws_ebs_volume",
    )[`a-etcd-main-${SLUG}`];
    // io1 allows 50 IOPS per GiB: 2500 on 50 GiB, where gp3's baseline of 3000 would be refused.
    expect(custom).toMatchObject({ type: "io1", size: 50, iops: 2500, kms_key_id: KEY_ARN });
  });

  it.each([
    ["io1", 20, 100, 100],
    ["io2", 20, 8000, 8000],
    ["gp3", 100, 6000, 6000],
  ])("gives %s volumes of %i GiB the IOPS the spec names (%i)", (type, size, iops, expected) => {
    const volumes = resources(synthJson({ ...SEED_1, etcdStorageType: type, etcdVolumeSize: size, etcdVolumeIops: iops }), "aws_ebs_volume");
    expect(Object.values(volumes).map((v) => v.iops)).toEqual(Array(6).fill(expected));
  });

  it.each([
    ["io1", 20, 1000],
    ["io1", 100, 3000],
    ["io2", 4, 2000],
    ["io2", 20, 3000],
    ["gp3", 20, undefined],
  ])("gives %s volumes of %i GiB the IOPS AWS allows (%s)", (type, size, iops) => {
    const volume = resources(synthJson({ ...SEED_1, etcdStorageType: type, etcdVolumeSize: size }), "aws_ebs_volume")[`a-etcd-main-${SLUG}`];
    expect(volume.iops).toBe(iops);
  });

  it("puts the seed's third example's 3 masters and 6 volumes in us-east-1a, with stable member names", () => {
    const third = synthJson(SEED_3);
    const groups = resources(third, "aws_autoscaling_group");
    expect(Object.keys(groups).filter((n) => n.startsWith("master-")).sort()).toEqual([
      "master-us-east-1a",
      "master-us-east-1a-2",
      "master-us-east-1a-3",
    ]);
    const thirdVolumes = resources(third, "aws_ebs_volume");
    expect(Object.keys(thirdVolumes).sort()).toEqual([
      "a-2-etcd-events-hacluster-example-com",
      "a-2-etcd-main-hacluster-example-com",
      "a-3-etcd-events-hacluster-example-com",
      "a-3-etcd-main-hacluster-example-com",
      "a-etcd-events-hacluster-example-com",
      "a-etcd-main-hacluster-example-com",
    ]);
    expect(new Set(Object.values(thirdVolumes).map((v) => v.availability_zone))).toEqual(new Set(["us-east-1a"]));
    expect(thirdVolumes["a-2-etcd-main-hacluster-example-com"].tags).toMatchObject({ "k8s.io/etcd/main": "a-2/a,a-2,a-3" });
  });
});

describe("images", () => {
  it("looks up owner/name with an aws_ami data source (the seed's second example)", () => {
    const json = synthJson(SEED_2);
    const amis = (json.data ?? {}).aws_ami ?? {};
    const [name] = Object.keys(amis);
    expect(amis[name]).toMatchObject({
      most_recent: true,
      owners: ["293135079892"],
      filter: [{ name: "name", values: ["k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16"] }],
    });
    const template = resources(json, "aws_launch_template")["master-us-west-2a"];
    expect(template.image_id).toBe(`\${data.aws_ami.${name}.id}`);
    expect((template.block_device_mappings as { device_name: string }[])[0].device_name).toBe(`\${data.aws_ami.${name}.root_device_name}`);
  });

  it("uses an AMI id as given, reading only its root device name", () => {
    const json = synthJson({ ...SEED_1, image: "ami-0123456789abcdef0" });
    const template = resources(json, "aws_launch_template").nodes;
    expect(template.image_id).toBe("ami-0123456789abcdef0");
    expect((template.block_device_mappings as { device_name: string }[])[0].device_name).toBe(
      "${data.aws_ami.ami-0123456789abcdef0.root_device_name}",
    );
  });
});

/** Every resource of `before` must exist in `after` unchanged, but for the listed differences. */
function changedResources(before: TerraformJson, after: TerraformJson): string[] {
  const changed: string[] = [];
  for (const [type, byName] of Object.entries(before.resource)) {
    for (const [name, body] of Object.entries(byName)) {
      const later = after.resource[type]?.[name];
      if (later === undefined) {
        changed.push(`${type}.${name} removed`);
      } else if (JSON.stringify(later) !== JSON.stringify(body)) {
        changed.push(`${type}.${name} changed`);
      }
    }
  }
  return changed.sort();
}

describe("growing from one master to three", () => {
  const one = synthJson({ ...SEED_1, masterZones: ["us-west-2a"] });
  const three = synthJson(SEED_1);

  it("only adds resources; what exists keeps its address and attributes, but for the etcd member lists", () => {
    expect(changedResources(one, three)).toEqual([
      `aws_ebs_volume.a-etcd-events-${SLUG} changed`,
      `aws_ebs_volume.a-etcd-main-${SLUG} changed`,
    ]);
    for (const etcd of ["main", "events"]) {
      const before = resources(one, "aws_ebs_volume")[`a-etcd-${etcd}-${SLUG}`];
      const after = resources(three, "aws_ebs_volume")[`a-etcd-${etcd}-${SLUG}`];
      expect({ ...after, tags: { ...(after.tags as object), [`k8s.io/etcd/${etcd}`]: "a/a" } }).toEqual(before);
      expect((after.tags as Record<string, string>)[`k8s.io/etcd/${etcd}`]).toBe("a/a,b,c");
    }
    // The API load balancer spans every zone of the cluster already: growing the masters leaves it alone.
    expect(resources(three, "aws_lb")).toEqual(resources(one, "aws_lb"));
  });

  it("adds the new masters' groups, templates and volumes", () => {
    expect(Object.keys(resources(three, "aws_autoscaling_group")).filter((n) => !(n in resources(one, "aws_autoscaling_group")))).toEqual([
      "master-us-west-2b",
      "master-us-west-2c",
    ]);
    expect(Object.keys(resources(three, "aws_ebs_volume")).length - Object.keys(resources(one, "aws_ebs_volume")).length).toBe(4);
  });
});
