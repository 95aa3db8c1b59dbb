/**
 * Cluster tags and cloud labels (seed example 2: Team=Dev, Owner="John Doe") on everything the cluster
 * makes: every taggable resource, every instance, volume and network interface launched from a template,
 * and every auto-scaling group with propagation to its instances.
 */
import { TerraformResource, Testing } from "cdktf";
import { ClusterStack } from "../stacks/cluster-stack";
import { SEED_2, TerraformJson, resources, validSpec } from "./helpers/cluster";

const NAME = "hacluster.example.com";
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3Yh0bT3t4w1V0Yb0K2fJQm6V2Gm4cFQ0cX1u2t3v4 admin@example.com";

/** What every taggable thing of seed example 2 must carry. */
const CLUSTER_TAGS = {
  KubernetesCluster: NAME,
  [`kubernetes.io/cluster/${NAME}`]: "owned",
  Team: "Dev",
  Owner: "John Doe",
};

/** The subset of `tags` with the keys of CLUSTER_TAGS, so that a failure shows what is missing or wrong. */
function clusterTagsOf(tags: unknown): Record<string, unknown> {
  const t = (tags ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.keys(CLUSTER_TAGS).filter((k) => k in t).map((k) => [k, t[k]]));
}

/** Synthesizes a spec and keeps the construct tree, so that tests can ask which resources support tags. */
function synthWithTree(fields: Record<string, unknown>): { json: TerraformJson; stack: ClusterStack } {
  const app = Testing.app({ stackTraces: false });
  const stack = new ClusterStack(app, { spec: validSpec(fields).spec });
  return { json: JSON.parse(Testing.synth(stack, true)) as TerraformJson, stack };
}

/** ASG `tag` blocks as emitted. */
interface AsgTag {
  readonly key: string;
  readonly value: string;
  readonly propagate_at_launch: boolean | string;
}

const CASES: readonly (readonly [string, Record<string, unknown>])[] = [
  ["seed example 2", SEED_2],
  [
    "seed example 2 with a bastion, a key pair and a node group",
    {
      ...SEED_2,
      bastion: true,
      sshAccess: ["203.0.113.0/24"],
      sshPublicKey: SSH_KEY,
      nodeGroups: [{ name: "gpu", zones: ["us-west-2a"], size: "g4dn.xlarge", minSize: 0, maxSize: 3 }],
    },
  ],
];

describe.each(CASES)("tags of %s", (_what, fields) => {
  let json: TerraformJson;
  let stack: ClusterStack;

  beforeAll(() => {
    ({ json, stack } = synthWithTree(fields));
  });

  it("puts the cluster tags and cloud labels on every resource that has tags", () => {
    const tagged = Object.entries(json.resource).flatMap(([type, byName]) =>
      Object.entries(byName)
        .filter(([, body]) => "tags" in body)
        .map(([name, body]) => [`${type}.${name}`, clusterTagsOf(body.tags)] as const),
    );
    expect(tagged.length).toBeGreaterThan(20);
    expect(Object.fromEntries(tagged)).toEqual(Object.fromEntries(tagged.map(([address]) => [address, CLUSTER_TAGS])));
  });

  it("tags every resource whose type supports tags (from the construct tree), so none can be forgotten", () => {
    const taggable = stack.node
      .findAll()
      .filter((c): c is TerraformResource => c instanceof TerraformResource && "tagsInput" in c)
      .map((r) => [r.terraformResourceType, r.friendlyUniqueId] as const);
    // Sanity: the tree holds the resources we know are taggable, so the walk itself works.
    const types = new Set(taggable.map(([type]) => type));
    for (const type of ["aws_vpc", "aws_subnet", "aws_security_group", "aws_launch_template", "aws_iam_role", "aws_lb", "aws_ebs_volume"]) {
      expect(types).toContain(type);
    }
    const actual = Object.fromEntries(
      taggable.map(([type, name]) => [`${type}.${name}`, clusterTagsOf(resources(json, type)[name]?.tags)]),
    );
    expect(actual).toEqual(Object.fromEntries(Object.keys(actual).map((address) => [address, CLUSTER_TAGS])));
  });

  it("tags the instances, volumes and network interfaces every launch template starts", () => {
    for (const [name, lt] of Object.entries(resources(json, "aws_launch_template"))) {
      const specs = (lt.tag_specifications ?? []) as { resource_type: string; tags: Record<string, string> }[];
      const byType = Object.fromEntries(specs.map((s) => [s.resource_type, clusterTagsOf(s.tags)]));
      expect([name, byType]).toEqual([
        name,
        { instance: CLUSTER_TAGS, volume: CLUSTER_TAGS, "network-interface": CLUSTER_TAGS },
      ]);
    }
  });

  it("tags every auto-scaling group and propagates the tags to its instances, with the group's role tags", () => {
    const groups = resources(json, "aws_autoscaling_group");
    expect(Object.keys(groups).length).toBeGreaterThanOrEqual(4);
    for (const [name, asg] of Object.entries(groups)) {
      const propagated = Object.fromEntries(
        ((asg.tag ?? []) as AsgTag[]).filter((t) => String(t.propagate_at_launch) === "true").map((t) => [t.key, t.value]),
      );
      const roleTags = name.startsWith("master-")
        ? { "k8s.io/role/master": "1", "k8s.io/role/control-plane": "1" }
        : name === "bastions"
          ? { "k8s.io/role/bastion": "1" }
          : { "k8s.io/role/node": "1" };
      expect([name, propagated]).toEqual([name, expect.objectContaining({ ...CLUSTER_TAGS, ...roleTags })]);
      // A node is never tagged as a master (the masters' IAM attach permission keys on that tag).
      if (!name.startsWith("master-")) {
        expect([name, propagated["k8s.io/role/master"]]).toEqual([name, undefined]);
      }
    }
  });

  it("tags each master instance with KubernetesCluster and k8s.io/role/master=1, which the volume-attach policy requires", () => {
    const masters = Object.keys(resources(json, "aws_autoscaling_group")).filter((n) => n.startsWith("master-"));
    expect(masters).toHaveLength(3);
    for (const name of masters) {
      const asg = resources(json, "aws_autoscaling_group")[name];
      const template = String((asg.launch_template as { id: string }).id).match(/^\$\{aws_launch_template\.([^.]+)\.id\}$/)?.[1];
      const lt = resources(json, "aws_launch_template")[template ?? ""];
      const instanceSpec = ((lt?.tag_specifications ?? []) as { resource_type: string; tags: Record<string, string> }[]).find(
        (s) => s.resource_type === "instance",
      );
      const instanceTags = {
        ...(instanceSpec?.tags ?? {}),
        ...Object.fromEntries(
          ((asg.tag ?? []) as AsgTag[]).filter((t) => String(t.propagate_at_launch) === "true").map((t) => [t.key, t.value]),
        ),
      };
      expect([name, instanceTags]).toEqual([
        name,
        expect.objectContaining({ KubernetesCluster: NAME, "k8s.io/role/master": "1" }),
      ]);
    }
  });
});
