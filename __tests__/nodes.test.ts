/**
 * Worker nodes, further node groups, the bastion and the SSH key, as launch templates and auto-scaling
 * groups in the synthesized Terraform JSON.
 */
import { decodeUserData } from "./helpers/user-data";
import { SEED_1, SEED_2, TerraformJson, resources, synthJson } from "./helpers/cluster";

const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";
const ZONES = ["us-west-2a", "us-west-2b", "us-west-2c"];
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3Yh0bT3t4w1V0Yb0K2fJQm6V2Gm4cFQ0cX1u2t3v4 admin@example.com";

const subnetRef = (name: string) => `\${aws_subnet.${name}.id}`;
/** Private subnets in private topology, public ones in public topology: `aws_subnet.us-west-2a-<slug>`. */
const instanceSubnets = ZONES.map((z) => subnetRef(`${z}-${SLUG}`));
const utilitySubnets = ZONES.map((z) => subnetRef(`utility-${z}-${SLUG}`));
const NODES_PROFILE = `\${aws_iam_instance_profile.nodes-${SLUG}.name}`;
const NODES_SG = `\${aws_security_group.nodes-${SLUG}.id}`;

type Body = Record<string, unknown>;

const template = (json: TerraformJson, name: string): Body => {
  const body = resources(json, "aws_launch_template")[name];
  expect(body).toBeDefined();
  return body;
};
const group = (json: TerraformJson, name: string): Body => {
  const body = resources(json, "aws_autoscaling_group")[name];
  expect(body).toBeDefined();
  return body;
};
/** The facts a launch template's user data gives its instances (cluster.env). */
const envOf = (json: TerraformJson, name: string) => decodeUserData(template(json, name).user_data).env;
const tagsOf = (asg: Body) =>
  Object.fromEntries(((asg.tag ?? []) as { key: string; value: string }[]).map((t) => [t.key, t.value]));

describe("the nodes of seed example 1 (private topology)", () => {
  let json: TerraformJson;

  beforeAll(() => {
    json = synthJson(SEED_1);
  });

  it("is one node group of 3 over the three zones' private subnets", () => {
    const nodeGroups = Object.keys(resources(json, "aws_autoscaling_group")).filter((n) => !n.startsWith("master-"));
    expect(nodeGroups).toEqual(["nodes"]);
    expect(group(json, "nodes")).toMatchObject({ min_size: 3, max_size: 3, vpc_zone_identifier: instanceSubnets });
    // Those subnets really are the private ones.
    for (const z of ZONES) {
      expect(resources(json, "aws_subnet")[`${z}-${SLUG}`]).toMatchObject({
        availability_zone: z,
        tags: expect.objectContaining({ SubnetType: "Private" }),
      });
    }
  });

  it("launches t2.medium with IMDSv2 required, hop limit 1, the nodes' profile and group", () => {
    expect(template(json, "nodes")).toMatchObject({
      instance_type: "t2.medium",
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 },
      iam_instance_profile: { name: NODES_PROFILE },
      vpc_security_group_ids: [NODES_SG],
    });
  });

  it("maps an encrypted gp3 root volume of 128 GiB to the image's root device (/dev/sda1 for the default Ubuntu)", () => {
    expect(template(json, "nodes").block_device_mappings).toEqual([
      {
        device_name: "/dev/sda1",
        ebs: { volume_size: 128, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" },
      },
    ]);
  });

  it("has user data that loads the node boot of the nodes group (cloud-config, gzip, base64)", () => {
    const userData = decodeUserData(template(json, "nodes").user_data);
    expect(userData.text.split("\n")[0]).toBe("#cloud-config");
    expect(userData.env).toMatchObject({ CLUSTER_NAME: NAME, ROLE: "node", BOOT_SCRIPT: "node.sh", INSTANCE_GROUP: "nodes" });
    expect(userData.runcmd).toEqual([["/opt/kopsform/loader.sh"]]);
  });

  it("pins the group to the template's latest version, not $Latest", () => {
    expect(group(json, "nodes").launch_template).toEqual({
      id: "${aws_launch_template.nodes.id}",
      version: "${aws_launch_template.nodes.latest_version}",
    });
    expect(group(json, "nodes").launch_configuration).toBeUndefined();
  });

  it("enables the eight group metrics kops enables, and EC2 health checks", () => {
    expect(group(json, "nodes")).toMatchObject({
      health_check_type: "EC2",
      metrics_granularity: "1Minute",
    });
    expect([...(group(json, "nodes").enabled_metrics as string[])].sort()).toEqual([
      "GroupDesiredCapacity",
      "GroupInServiceInstances",
      "GroupMaxSize",
      "GroupMinSize",
      "GroupPendingInstances",
      "GroupStandbyInstances",
      "GroupTerminatingInstances",
      "GroupTotalInstances",
    ]);
  });

  it("gives no template of a private cluster a public address (KSEC-LT-003)", () => {
    for (const [name, lt] of Object.entries(resources(json, "aws_launch_template"))) {
      const nics = (lt.network_interfaces ?? []) as Body[];
      expect([name, nics.filter((n) => String(n.associate_public_ip_address) === "true")]).toEqual([name, []]);
    }
  });

  it("does not advertise a fixed-size group to cluster-autoscaler", () => {
    expect(Object.keys(tagsOf(group(json, "nodes"))).filter((k) => k.startsWith("k8s.io/cluster-autoscaler/"))).toEqual([]);
  });
});

describe("nodes in public topology", () => {
  it("associate a public address through the network interface, which then carries the security groups", () => {
    const json = synthJson({ ...SEED_1, topology: "public" });
    const lt = template(json, "nodes");
    expect(lt.network_interfaces).toEqual([
      expect.objectContaining({ device_index: 0, associate_public_ip_address: "true", security_groups: [NODES_SG] }),
    ]);
    // EC2 refuses security groups both on the template and in a network interface.
    expect(lt.vpc_security_group_ids).toBeUndefined();
    expect(group(json, "nodes").vpc_zone_identifier).toEqual(instanceSubnets);
    for (const z of ZONES) {
      expect(resources(json, "aws_subnet")[`${z}-${SLUG}`].tags).toMatchObject({ SubnetType: "Public" });
    }
  });
});

describe("images", () => {
  it("maps the root volume to an AMI's own root device when an ami- id is given", () => {
    const json = synthJson({ ...SEED_1, image: "ami-0123456789abcdef0" });
    const lt = template(json, "nodes");
    expect(lt.image_id).toBe("ami-0123456789abcdef0");
    const device = (lt.block_device_mappings as { device_name: string }[])[0].device_name;
    const source = /^\$\{data\.aws_ami\.([^.]+)\.root_device_name\}$/.exec(device)?.[1];
    expect(source).toBeDefined();
    expect(json.data?.aws_ami?.[source as string]).toMatchObject({
      filter: [{ name: "image-id", values: ["ami-0123456789abcdef0"] }],
    });
  });

  it("uses the looked-up image's id and root device for owner/name (seed example 2)", () => {
    const json = synthJson(SEED_2);
    const lt = template(json, "nodes");
    const id = /^\$\{data\.aws_ami\.([^.]+)\.id\}$/.exec(String(lt.image_id))?.[1];
    expect(id).toBeDefined();
    expect((lt.block_device_mappings as { device_name: string }[])[0].device_name).toBe(`\${data.aws_ami.${id}.root_device_name}`);
    expect(json.data?.aws_ami?.[id as string]).toMatchObject({
      owners: ["293135079892"],
      filter: [{ name: "name", values: ["k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16"] }],
    });
  });
});

describe("an additional node group", () => {
  const GPU = {
    name: "gpu",
    zones: ["us-west-2a"],
    size: "g4dn.xlarge",
    minSize: 0,
    maxSize: 3,
    labels: { "nvidia.com/gpu": "true" },
    taints: ["dedicated=gpu:NoSchedule"],
  };
  let json: TerraformJson;

  beforeAll(() => {
    json = synthJson({ ...SEED_1, nodeGroups: [GPU] });
  });

  it("gets its own template and group, named after it, in its zones", () => {
    expect(template(json, "gpu")).toMatchObject({
      name: `gpu.${NAME}`,
      instance_type: "g4dn.xlarge",
      iam_instance_profile: { name: NODES_PROFILE },
      metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 },
    });
    expect(group(json, "gpu")).toMatchObject({
      name: `gpu.${NAME}`,
      min_size: 0,
      max_size: 3,
      vpc_zone_identifier: [subnetRef(`us-west-2a-${SLUG}`)],
      launch_template: { id: "${aws_launch_template.gpu.id}", version: "${aws_launch_template.gpu.latest_version}" },
    });
    // The default group is unchanged beside it.
    expect(group(json, "nodes")).toMatchObject({ min_size: 3, max_size: 3, vpc_zone_identifier: instanceSubnets });
    expect(json.output.node_autoscaling_group_ids.value).toEqual([
      "${aws_autoscaling_group.nodes.id}",
      "${aws_autoscaling_group.gpu.id}",
    ]);
  });

  it("hands its labels and taints to the node boot in its user data; the default group gets none", () => {
    expect(envOf(json, "gpu")).toMatchObject({
      INSTANCE_GROUP: "gpu",
      NODE_LABELS: "nvidia.com/gpu=true",
      NODE_TAINTS: "dedicated=gpu:NoSchedule",
    });
    expect(envOf(json, "nodes")).toMatchObject({ INSTANCE_GROUP: "nodes", NODE_LABELS: "", NODE_TAINTS: "" });
  });

  it("carries cluster-autoscaler's discovery and node-template tags for its labels and taints", () => {
    expect(tagsOf(group(json, "gpu"))).toMatchObject({
      "k8s.io/cluster-autoscaler/enabled": "1",
      [`k8s.io/cluster-autoscaler/${NAME}`]: "owned",
      "k8s.io/cluster-autoscaler/node-template/label/nvidia.com/gpu": "true",
      "k8s.io/cluster-autoscaler/node-template/taint/dedicated": "gpu:NoSchedule",
    });
  });
});

describe("the bastion (private topology)", () => {
  let json: TerraformJson;

  beforeAll(() => {
    json = synthJson({ ...SEED_1, bastion: true, sshAccess: ["203.0.113.0/24"] });
  });

  it("is one instance in the three utility subnets, with a public address and its own group and profile", () => {
    expect(group(json, "bastions")).toMatchObject({
      min_size: 1,
      max_size: 1,
      vpc_zone_identifier: utilitySubnets,
      launch_template: { id: "${aws_launch_template.bastions.id}", version: "${aws_launch_template.bastions.latest_version}" },
    });
    const lt = template(json, "bastions");
    expect(lt).toMatchObject({
      iam_instance_profile: { name: `\${aws_iam_instance_profile.bastions-${SLUG}.name}` },
      metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 },
      network_interfaces: [
        expect.objectContaining({
          associate_public_ip_address: "true",
          security_groups: [`\${aws_security_group.bastion-${SLUG}.id}`],
        }),
      ],
    });
    expect(lt.vpc_security_group_ids).toBeUndefined();
    for (const z of ZONES) {
      expect(resources(json, "aws_subnet")[`utility-${z}-${SLUG}`].tags).toMatchObject({ SubnetType: "Utility" });
    }
  });

  it("has no user data: the bastion runs nothing of the cluster's", () => {
    expect(template(json, "bastions").user_data).toBeUndefined();
  });

  it("does not exist without bastion: true", () => {
    expect(resources(synthJson(SEED_1), "aws_launch_template").bastions).toBeUndefined();
  });
});

describe.each([
  ["seed example 1", SEED_1],
  ["a public cluster", { ...SEED_1, topology: "public" }],
  ["a cluster with a bastion", { ...SEED_1, bastion: true, sshAccess: ["203.0.113.0/24"] }],
])("the SSH key of %s", (_what, fields) => {
  it("is a key pair every launch template uses when sshPublicKey is given", () => {
    const json = synthJson({ ...fields, sshPublicKey: SSH_KEY });
    const pairs = Object.entries(resources(json, "aws_key_pair"));
    expect(pairs).toHaveLength(1);
    const [pairName, pair] = pairs[0];
    expect(pair).toMatchObject({ key_name: `kubernetes.${NAME}`, public_key: SSH_KEY });
    const keyNames = Object.values(resources(json, "aws_launch_template")).map((lt) => lt.key_name);
    expect(keyNames.length).toBeGreaterThanOrEqual(4);
    expect(keyNames).toEqual(keyNames.map(() => `\${aws_key_pair.${pairName}.key_name}`));
  });

  it("is absent without sshPublicKey: no key pair, no key_name", () => {
    const json = synthJson(fields);
    expect(resources(json, "aws_key_pair")).toEqual({});
    const keyNames = Object.values(resources(json, "aws_launch_template")).map((lt) => lt.key_name);
    expect(keyNames).toEqual(keyNames.map(() => undefined));
  });
});
