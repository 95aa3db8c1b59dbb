/**
 * The add-ons' IAM, judged as requests: a small evaluator of IAM statements (actions, resource ARNs,
 * and the condition operators these policies use; it throws on any other operator, so nothing passes
 * unread) answers "may the masters' role do X to this resource?" for the tags the synthesized
 * configuration really puts on the etcd volumes, the instances and the groups.
 */
import { SEED_1, SEED_2, TerraformJson, resources, synthJson } from "./helpers/cluster";
import { PolicyStatement, parsePolicy } from "./helpers/json-expression";

const NAME = "hacluster.example.com";
const ACCOUNT = "123456789012";

/** One API request, as IAM sees it. */
interface Request {
  readonly action: string;
  readonly resource: string;
  readonly resourceTags?: Readonly<Record<string, string>>;
  readonly requestTags?: Readonly<Record<string, string>>;
  readonly context?: Readonly<Record<string, string>>;
}

const glob = (pattern: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);

/** The value of a condition key in a request, or undefined when the request has none. */
function keyValue(req: Request, key: string): string | undefined {
  const m = /^(aws|autoscaling):(ResourceTag|RequestTag)\/(.+)$/.exec(key);
  if (m) {
    return m[2] === "ResourceTag" ? req.resourceTags?.[m[3]] : req.requestTags?.[m[3]];
  }
  return req.context?.[key];
}

function conditionHolds(req: Request, operator: string, entries: Record<string, unknown>): boolean {
  return Object.entries(entries).every(([key, raw]) => {
    const values = (Array.isArray(raw) ? raw : [raw]).map(String);
    switch (operator) {
      case "StringEquals": {
        const v = keyValue(req, key);
        return v !== undefined && values.includes(v);
      }
      case "Null":
        return values[0] === String(keyValue(req, key) === undefined);
      case "ForAllValues:StringNotLike": {
        if (key !== "aws:TagKeys") {
          throw new Error(`the evaluator knows aws:TagKeys only, not ${key}`);
        }
        return Object.keys(req.requestTags ?? {}).every((k) => !values.some((p) => glob(p).test(k)));
      }
      default:
        throw new Error(`the evaluator does not know the condition operator ${operator}`);
    }
  });
}

/** Whether an Allow statement allows a request. */
function allows(s: PolicyStatement, req: Request): boolean {
  return (
    s.Effect === "Allow" &&
    s.Action.some((a) => a.toLowerCase() === req.action.toLowerCase()) &&
    s.Resource.some((r) => glob(r).test(req.resource)) &&
    Object.entries(s.Condition ?? {}).every(([op, entries]) => conditionHolds(req, op, entries as Record<string, unknown>))
  );
}

/** The statements of the role policy named `<role>.<cluster>`. */
function roleStatements(json: TerraformJson, role: string): PolicyStatement[] {
  const policy = Object.values(resources(json, "aws_iam_role_policy")).find((p) => p.name === `${role}.${NAME}`);
  if (!policy) {
    throw new Error(`no policy for ${role}`);
  }
  return parsePolicy(String(policy.policy)).Statement;
}

const tagsOf = (body: Record<string, unknown>) => (body.tags ?? {}) as Record<string, string>;
const groupTags = (body: Record<string, unknown>) =>
  Object.fromEntries(((body.tag ?? []) as { key: string; value: string }[]).map((t) => [t.key, t.value]));
const volume = (id: string) => `arn:aws:ec2:us-west-2:${ACCOUNT}:volume/${id}`;
const instance = (id: string) => `arn:aws:ec2:us-west-2:${ACCOUNT}:instance/${id}`;

/** The tags the EBS CSI driver (with --k8s-tag-cluster-id) puts on a volume it creates. */
const CSI_VOLUME_TAGS = {
  "ebs.csi.aws.com/cluster": "true",
  [`kubernetes.io/cluster/${NAME}`]: "owned",
  KubernetesCluster: NAME,
  CSIVolumeName: "pvc-1234",
};

const VOLUME_ACTIONS = ["ec2:AttachVolume", "ec2:DetachVolume", "ec2:DeleteVolume", "ec2:ModifyVolume"];

describe.each([
  ["seed example 1", SEED_1],
  ["seed example 2 (cloud labels on every resource)", SEED_2],
])("the add-ons' IAM of %s", (_what, fields) => {
  let json: TerraformJson;
  let masters: PolicyStatement[];
  let csi: PolicyStatement[];
  let etcdVolumes: [string, Record<string, string>][];

  beforeAll(() => {
    json = synthJson(fields);
    masters = roleStatements(json, "masters");
    csi = masters.filter((s) => s.Sid?.startsWith("EbsCsi"));
    etcdVolumes = Object.entries(resources(json, "aws_ebs_volume")).map(([n, b]) => [n, tagsOf(b)]);
  });

  it("has the EBS CSI statements on the masters' role, and six etcd volumes tagged as etcd's", () => {
    expect(csi.map((s) => s.Sid)).toEqual([
      "EbsCsiDescribe",
      "EbsCsiCreateOwnVolumes",
      "EbsCsiTagOwnVolumesAtCreation",
      "EbsCsiManageOwnVolumes",
      "EbsCsiAttachToClusterInstances",
    ]);
    expect(etcdVolumes).toHaveLength(6);
    for (const [, tags] of etcdVolumes) {
      expect(tags).toMatchObject({ "k8s.io/role/master": "1", KubernetesCluster: NAME });
      expect(Object.keys(tags).some((k) => k.startsWith("k8s.io/etcd/"))).toBe(true);
    }
  });

  it("never lets the CSI statements attach, detach, delete or modify an etcd volume", () => {
    const allowed = etcdVolumes.flatMap(([name, tags]) =>
      VOLUME_ACTIONS.filter((action) => csi.some((s) => allows(s, { action, resource: volume("vol-etcd"), resourceTags: tags }))).map(
        (action) => `${action} ${name}`,
      ),
    );
    expect(allowed).toEqual([]);
  });

  it("keeps the etcd volumes out of the CSI statements' reach even if one were tagged as the driver's (the master role tag decides)", () => {
    const [, tags] = etcdVolumes[0];
    const retagged = { ...tags, "ebs.csi.aws.com/cluster": "true" };
    for (const action of VOLUME_ACTIONS) {
      expect([action, csi.some((s) => allows(s, { action, resource: volume("vol-etcd"), resourceTags: retagged }))]).toEqual([action, false]);
    }
  });

  it("never lets the masters' role delete or modify an etcd volume at all", () => {
    for (const [name, tags] of etcdVolumes) {
      for (const action of ["ec2:DeleteVolume", "ec2:ModifyVolume"]) {
        expect([name, action, masters.some((s) => allows(s, { action, resource: volume("vol-etcd"), resourceTags: tags }))]).toEqual([
          name,
          action,
          false,
        ]);
      }
    }
  });

  it("lets the driver manage the volumes it created, on this cluster's instances only", () => {
    for (const action of VOLUME_ACTIONS) {
      expect([action, csi.some((s) => allows(s, { action, resource: volume("vol-pvc"), resourceTags: CSI_VOLUME_TAGS }))]).toEqual([
        action,
        true,
      ]);
    }
    // The tags a node instance is launched with.
    const specs = resources(json, "aws_launch_template").nodes.tag_specifications as { resource_type: string; tags: Record<string, string> }[];
    const nodeTags = specs.find((t) => t.resource_type === "instance")?.tags ?? {};
    expect(nodeTags.KubernetesCluster).toBe(NAME);
    expect(csi.some((s) => allows(s, { action: "ec2:AttachVolume", resource: instance("i-node"), resourceTags: nodeTags }))).toBe(true);
    expect(csi.some((s) => allows(s, { action: "ec2:AttachVolume", resource: instance("i-other"), resourceTags: { KubernetesCluster: "other.example.com" } }))).toBe(false);
    // Another cluster's driver volume is not this driver's.
    const foreign = { ...CSI_VOLUME_TAGS, KubernetesCluster: "other.example.com", [`kubernetes.io/cluster/${NAME}`]: "" };
    expect(csi.some((s) => allows(s, { action: "ec2:DeleteVolume", resource: volume("vol-x"), resourceTags: foreign }))).toBe(false);
  });

  it("lets the driver create volumes only with its own tags, never with etcd's or a role's", () => {
    const create = (requestTags: Record<string, string>) =>
      ["ec2:CreateVolume", "ec2:CreateTags"].every((action) =>
        masters.some((s) => allows(s, { action, resource: volume("vol-new"), requestTags, context: { "ec2:CreateAction": "CreateVolume" } })),
      );
    expect(create(CSI_VOLUME_TAGS)).toBe(true);
    expect(create({ ...CSI_VOLUME_TAGS, "k8s.io/etcd/main": "a/a,b,c" })).toBe(false);
    expect(create({ ...CSI_VOLUME_TAGS, "k8s.io/role/master": "1" })).toBe(false);
    const { "ebs.csi.aws.com/cluster": _dropped, ...untagged } = CSI_VOLUME_TAGS;
    expect(create(untagged)).toBe(false);
    // Tagging an existing volume (not at creation) is not allowed.
    expect(
      masters.some((s) => allows(s, { action: "ec2:CreateTags", resource: volume("vol-etcd"), requestTags: CSI_VOLUME_TAGS, context: {} })),
    ).toBe(false);
  });

  it("lets the termination handler complete lifecycle actions on the node groups only, and read its own queue only", () => {
    const groups = Object.entries(resources(json, "aws_autoscaling_group")).map(([n, b]) => [n, groupTags(b)] as const);
    const completes = groups
      .filter(([, tags]) =>
        masters.some((s) =>
          allows(s, { action: "autoscaling:CompleteLifecycleAction", resource: `arn:aws:autoscaling:us-west-2:${ACCOUNT}:autoScalingGroup:x`, resourceTags: tags }),
        ),
      )
      .map(([n]) => n);
    expect(completes).toEqual(["nodes"]);
    const queue = (name: string) => `arn:aws:sqs:us-west-2:${ACCOUNT}:${name}`;
    for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage"]) {
      expect(masters.some((s) => allows(s, { action, resource: queue("hacluster-example-com-nth") }))).toBe(true);
      expect(masters.some((s) => allows(s, { action, resource: queue("other-example-com-nth") }))).toBe(false);
    }
    expect(roleStatements(json, "nodes").some((s) => s.Action.some((a) => a.startsWith("sqs:") || a === "autoscaling:CompleteLifecycleAction"))).toBe(false);
  });

  it("keeps every role's policy within IAM's 10,240 characters", () => {
    for (const body of Object.values(resources(json, "aws_iam_role_policy"))) {
      const doc = parsePolicy(String(body.policy));
      expect([body.name, JSON.stringify(doc).length < 10240]).toEqual([body.name, true]);
    }
  });
});

describe("the VPC CNI's IAM", () => {
  it("goes to the nodes' role only with amazon-vpc-routed-eni", () => {
    const sids = (fields: Record<string, unknown>) => roleStatements(synthJson(fields), "nodes").map((s) => s.Sid);
    // The nodes' own statements (what node.sh and the loader call) come first, the VPC CNI's after.
    const own = ["ReplaceOwnClusterNodes", "ReadRunTimeConfigAndJoinToken", "DecryptJoinTokenThroughSsm", "ReadBootScripts"];
    expect(sids({ ...SEED_1, networking: "amazon-vpc-routed-eni" })).toEqual([
      ...own,
      "VpcCniDescribe",
      "VpcCniManageNetworkInterfaces",
      "VpcCniTagNetworkInterfaces",
    ]);
    expect(sids(SEED_1)).toEqual(own);
  });
});
