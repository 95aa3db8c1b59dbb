/**
 * Instance roles as kops separates them, and least privilege in their policies, read from the
 * synthesized Terraform JSON.
 *
 * Policies are emitted as `${jsonencode({...})}` Terraform expressions (Fn.jsonencode), not JSON. The
 * tests parse that emitted expression text with helpers/json-expression.ts, a parser for the HCL value
 * syntax cdktf writes inside jsonencode (it throws on anything it does not understand, such as a function
 * call). Reading the emitted string, rather than the construct's input, checks exactly what Terraform
 * will send to IAM, including any override or escape hatch applied after the module built the policy.
 */
import { SEED_1, SEED_2, TerraformJson, resources, synthJson } from "./helpers/cluster";
import { PolicyStatement, parseJsonencode, parsePolicy } from "./helpers/json-expression";

const NAME = "hacluster.example.com";
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3Yh0bT3t4w1V0Yb0K2fJQm6V2Gm4cFQ0cX1u2t3v4 admin@example.com";
const BASTION = { ...SEED_1, bastion: true, sshAccess: ["203.0.113.0/24"], sshPublicKey: SSH_KEY };

/**
 * Statements on Resource "*" with write actions and no cluster tag condition, accepted with a reason
 * (KSEC-IAM-003's suppression list, tied to Sid values; README "IAM of the add-ons"): the VPC CNI's
 * network interface actions, as in kops and AWS's AmazonEKS_CNI_Policy (an interface has no tag of
 * ours before it exists, and AssignPrivateIpAddresses takes no tag condition).
 */
const ACCEPTED_STAR_RESOURCE = ["VpcCniManageNetworkInterfaces"];

const CASES: readonly (readonly [string, Record<string, unknown>])[] = [
  ["seed example 1", SEED_1],
  ["seed example 2", SEED_2],
  ["a private cluster with a bastion", BASTION],
  ["a public cluster with a node group", {
    ...SEED_1,
    topology: "public",
    nodeGroups: [{ name: "gpu", zones: ["us-west-2a"], size: "g4dn.xlarge", minSize: 0, maxSize: 3 }],
  }],
  ["a cluster on the AWS VPC CNI", { ...SEED_1, networking: "amazon-vpc-routed-eni" }],
];

/** `${aws_iam_role.<name>.<attr>}` -> name. */
function referenced(type: string, attr: string, value: unknown): string | undefined {
  const m = new RegExp(`^\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.${attr}\\}$`).exec(String(value));
  return m?.[1];
}

/** The Terraform name of the role or profile with AWS name `<role>.<cluster>`. */
function named(json: TerraformJson, type: string, awsName: string): string {
  const hits = Object.entries(resources(json, type)).filter(([, b]) => b.name === awsName);
  expect(hits.map(([n]) => n)).toHaveLength(1);
  return hits[0][0];
}

/** Every role policy of the configuration, parsed, by Terraform name. */
function policies(json: TerraformJson): Record<string, PolicyStatement[]> {
  return Object.fromEntries(
    Object.entries(resources(json, "aws_iam_role_policy")).map(([n, b]) => [n, parsePolicy(String(b.policy)).Statement]),
  );
}

/** The role a role policy is attached to (its `role` references the role's name or id). */
function policyRole(body: Record<string, unknown>): string | undefined {
  return referenced("aws_iam_role", "(?:name|id)", body.role);
}

describe("the jsonencode reader", () => {
  it("reads an emitted expression, references included, and refuses what it cannot read", () => {
    const expr =
      '${jsonencode({"Version" = "2012-10-17", "Statement" = [{"Effect" = "Allow", "Action" = ["a:B"], ' +
      '"Resource" = [aws_x.y.arn, "${aws_x.y.arn}:*"], "Condition" = {"Bool" = {"k" = true}}}]})}';
    expect(parseJsonencode(expr)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["a:B"],
          Resource: ["${aws_x.y.arn}", "${aws_x.y.arn}:*"],
          Condition: { Bool: { k: true } },
        },
      ],
    });
    expect(() => parseJsonencode('${jsonencode({"A" = merge(x, y)})}')).toThrow(/function call/);
    expect(() => parseJsonencode('{"Version": "2012-10-17"}')).toThrow(/not a/);
  });
});

describe.each(CASES)("IAM of %s", (_what, fields) => {
  let json: TerraformJson;
  const bastion = fields.bastion === true;

  beforeAll(() => {
    json = synthJson(fields);
  });

  it("has separate master and node roles (and a bastion role with a bastion), each with its own instance profile", () => {
    const roles = ["masters", "nodes", ...(bastion ? ["bastions"] : [])];
    const wrapped = roles.map((role) => {
      const profile = resources(json, "aws_iam_instance_profile")[named(json, "aws_iam_instance_profile", `${role}.${NAME}`)];
      return referenced("aws_iam_role", "name", profile.role);
    });
    expect(wrapped).toEqual(roles.map((role) => named(json, "aws_iam_role", `${role}.${NAME}`)));
    expect(new Set(wrapped).size).toBe(roles.length);
    expect(Object.keys(resources(json, "aws_iam_instance_profile")).sort()).toEqual(
      roles.map((r) => named(json, "aws_iam_instance_profile", `${r}.${NAME}`)).sort(),
    );
  });

  it("wraps exactly one role, by reference, in each instance profile (KSEC-IAM-006)", () => {
    const roleNames = new Set(Object.keys(resources(json, "aws_iam_role")));
    for (const [name, profile] of Object.entries(resources(json, "aws_iam_instance_profile"))) {
      expect({ name, roles: profile.roles, role: roleNames.has(referenced("aws_iam_role", "name", profile.role) ?? "") }).toEqual({
        name,
        roles: undefined,
        role: true,
      });
    }
  });

  it("gives masters' templates the masters' profile, nodes' the nodes', and the bastion's the bastion's", () => {
    const profileOf = (role: string) => named(json, "aws_iam_instance_profile", `${role}.${NAME}`);
    const actual = Object.fromEntries(
      Object.entries(resources(json, "aws_launch_template")).map(([name, lt]) => {
        const p = lt.iam_instance_profile as { name?: unknown; arn?: unknown } | undefined;
        return [name, { profile: referenced("aws_iam_instance_profile", "name", p?.name), arn: p?.arn }];
      }),
    );
    const expected = Object.fromEntries(
      Object.keys(actual).map((name) => [
        name,
        {
          profile: profileOf(name.startsWith("master-") ? "masters" : name === "bastions" ? "bastions" : "nodes"),
          arn: undefined,
        },
      ]),
    );
    expect(actual).toEqual(expected);
    expect(Object.keys(actual).filter((n) => n.startsWith("master-"))).toHaveLength(3);
  });

  it("lets EC2 alone assume the instance roles, and VPC flow logs alone assume the flow-log role (KSEC-IAM-004)", () => {
    const flowLogRoles = new Set(
      Object.values(resources(json, "aws_flow_log")).map((f) => referenced("aws_iam_role", "arn", f.iam_role_arn)),
    );
    const trust = Object.fromEntries(
      Object.entries(resources(json, "aws_iam_role")).map(([name, role]) => [
        name,
        parsePolicy(String(role.assume_role_policy)).Statement.map((s) => ({
          Effect: s.Effect,
          Principal: s.Principal,
          NotPrincipal: s.NotPrincipal,
          Action: s.Action,
          Condition: s.Condition,
        })),
      ]),
    );
    const expected = Object.fromEntries(
      Object.keys(trust).map((name) => [
        name,
        [
          {
            Effect: "Allow",
            Principal: { Service: flowLogRoles.has(name) ? "vpc-flow-logs.amazonaws.com" : "ec2.amazonaws.com" },
            NotPrincipal: undefined,
            Action: ["sts:AssumeRole"],
            Condition: undefined,
          },
        ],
      ]),
    );
    expect(trust).toEqual(expected);
    expect(flowLogRoles.size).toBe(1);
  });

  it("attaches no managed or standalone policies beside the inline ones", () => {
    for (const type of ["aws_iam_policy", "aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_role_policy_attachments_exclusive"]) {
      expect([type, Object.keys(resources(json, type))]).toEqual([type, []]);
    }
    for (const [name, role] of Object.entries(resources(json, "aws_iam_role"))) {
      expect([name, role.managed_policy_arns, role.inline_policy]).toEqual([name, undefined, undefined]);
    }
  });

  it("names every action: no Allow statement has an action with a wildcard, nor NotAction/NotResource (KSEC-IAM-001/002)", () => {
    const bad: string[] = [];
    for (const [name, statements] of Object.entries(policies(json))) {
      for (const s of statements) {
        if (s.Effect !== "Allow") {
          continue;
        }
        s.Action.filter((a) => a.includes("*") || a.includes("?")).forEach((a) => bad.push(`${name}: ${a}`));
        if (s.Action.length === 0 || s.NotAction !== undefined || s.NotResource !== undefined) {
          bad.push(`${name}: ${JSON.stringify(s)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('uses Resource "*" only for Describe/List/Get actions or under the cluster\'s KubernetesCluster tag (KSEC-IAM-003)', () => {
    const bad: string[] = [];
    for (const [name, statements] of Object.entries(policies(json))) {
      for (const s of statements.filter((st) => st.Effect === "Allow" && st.Resource.includes("*"))) {
        const readOnly = s.Action.every((a) => /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z0-9]*$/.test(a));
        const tags = (s.Condition?.StringEquals ?? {}) as Record<string, unknown>;
        const scoped = [
          tags["aws:ResourceTag/KubernetesCluster"],
          tags["autoscaling:ResourceTag/KubernetesCluster"],
          // Creating: the new resource must carry the cluster's tag.
          tags["aws:RequestTag/KubernetesCluster"],
        ].includes(NAME);
        if (!readOnly && !scoped && !ACCEPTED_STAR_RESOURCE.includes(s.Sid ?? "")) {
          bad.push(`${name}: ${JSON.stringify(s)}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("lets the masters attach volumes only with the cluster's tag and the master role tag, and detach none", () => {
    const mastersRole = named(json, "aws_iam_role", `masters.${NAME}`);
    const volumeStatements: { role?: string; statement: PolicyStatement }[] = [];
    for (const body of Object.values(resources(json, "aws_iam_role_policy"))) {
      // The EBS CSI driver's statements are judged apart (iam-addons.test.ts): never the etcd volumes.
      for (const s of parsePolicy(String(body.policy)).Statement.filter((st) => !st.Sid?.startsWith("EbsCsi"))) {
        if (s.Action.some((a) => /^ec2:(Attach|Detach)Volume$/i.test(a))) {
          volumeStatements.push({ role: policyRole(body), statement: s });
        }
      }
    }
    // Only the masters may attach volumes (their boot attaches etcd's); nothing detaches one (a
    // terminated instance lets go of its volumes), and the tag condition would match root volumes too.
    expect(volumeStatements.map((v) => v.role)).toEqual(volumeStatements.map(() => mastersRole));
    expect(volumeStatements.flatMap((v) => v.statement.Action).sort()).toEqual(["ec2:AttachVolume"]);
    for (const { statement } of volumeStatements) {
      expect(statement.Condition).toEqual({
        StringEquals: {
          "aws:ResourceTag/KubernetesCluster": NAME,
          "aws:ResourceTag/k8s.io/role/master": "1",
        },
      });
    }
  });

  it.each([
    ["masters", "k8s.io/role/master", (name: string) => name.startsWith("master-")],
    ["nodes", "k8s.io/role/node", (name: string) => !name.startsWith("master-") && name !== "bastions"],
  ] as const)("lets the %s set instance health only on groups with the cluster's tag and their role tag", (role, roleTag, isTheirs) => {
    const roleRef = named(json, "aws_iam_role", `${role}.${NAME}`);
    const healthStatements: { role?: string; statement: PolicyStatement }[] = [];
    const autoscalingActions = new Set<string>();
    for (const body of Object.values(resources(json, "aws_iam_role_policy"))) {
      for (const s of parsePolicy(String(body.policy)).Statement) {
        s.Action.filter((a) => a.toLowerCase().startsWith("autoscaling:")).forEach((a) => autoscalingActions.add(a));
        if (s.Action.some((a) => a.toLowerCase() === "autoscaling:setinstancehealth") && policyRole(body) === roleRef) {
          healthStatements.push({ role: policyRole(body), statement: s });
        }
      }
    }
    // An instance that cannot start (its etcd volumes, the boot scripts) marks itself Unhealthy so that
    // its group replaces it; the bastion has no business replacing instances. The termination handler
    // (on the masters) completes lifecycle actions; everything else is a lookup.
    expect([...autoscalingActions].filter((a) => !/^autoscaling:Describe/.test(a)).sort()).toEqual([
      "autoscaling:CompleteLifecycleAction",
      "autoscaling:SetInstanceHealth",
    ]);
    expect(healthStatements).toHaveLength(1);
    expect(healthStatements[0].statement).toMatchObject({
      Effect: "Allow",
      Action: ["autoscaling:SetInstanceHealth"],
      Condition: {
        StringEquals: {
          "autoscaling:ResourceTag/KubernetesCluster": NAME,
          [`autoscaling:ResourceTag/${roleTag}`]: "1",
        },
      },
    });
    expect(Object.keys(healthStatements[0].statement.Condition ?? {})).toEqual(["StringEquals"]);
    // The condition's tags are on every group of the role (so an instance can mark itself) and on no
    // other group (so a node cannot mark a master, nor a master a node or the bastion).
    const groups = Object.entries(resources(json, "aws_autoscaling_group")).map(([name, asg]) => {
      const tags = Object.fromEntries(((asg.tag ?? []) as { key: string; value: string }[]).map((t) => [t.key, t.value]));
      return [name, tags.KubernetesCluster === NAME && tags[roleTag] === "1"] as const;
    });
    expect(groups).toEqual(groups.map(([name]) => [name, isTheirs(name)]));
    expect(groups.filter(([, matched]) => matched).length).toBeGreaterThan(0);
  });

  it("grants no iam:PassRole (KSEC-IAM-005)", () => {
    const passRole = Object.entries(policies(json)).flatMap(([name, statements]) =>
      statements.flatMap((s) => s.Action.filter((a) => a.toLowerCase() === "iam:passrole").map(() => name)),
    );
    expect(passRole).toEqual([]);
  });

  it("attaches each policy to one of the configuration's roles", () => {
    const roleNames = Object.keys(resources(json, "aws_iam_role"));
    for (const [name, body] of Object.entries(resources(json, "aws_iam_role_policy"))) {
      expect([name, roleNames.includes(policyRole(body) ?? "")]).toEqual([name, true]);
    }
  });
});

describe("the bastion's role", () => {
  it("exists only with a bastion", () => {
    const withBastion = synthJson(BASTION);
    const without = synthJson(SEED_1);
    const names = (json: TerraformJson) => Object.values(resources(json, "aws_iam_role")).map((r) => r.name);
    expect(names(withBastion)).toContain(`bastions.${NAME}`);
    expect(names(without)).not.toContain(`bastions.${NAME}`);
  });
});
