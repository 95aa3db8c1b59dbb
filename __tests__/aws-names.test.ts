/**
 * Every name, description and tag kopsform writes is one AWS accepts, for every spec variant: a
 * security-group rule description with a character outside AWS's set fails `terraform validate`
 * (the provider checks it) or the apply (the API does). The configurations are synthesized as the
 * product synthesizes them (helpers/cluster.ts synthWritten).
 */
import { NAME_RULES, checkName, literalText, nameFindings } from "./helpers/aws-names";
import { TerraformJson, synthWritten } from "./helpers/cluster";
import { specVariants } from "./helpers/variants";

describe("the naming rules themselves", () => {
  const sg = NAME_RULES.aws_security_group_rule.description!;

  it.each([
    ["nodes to masters: tcp 1-2378 (etcd ports blocked)", undefined],
    ["admin access 2001:db8::/32 to the API load balancer: tcp 443", undefined],
    ["masters egress to anywhere (as kops; see README)", undefined],
    ["the cluster's NAT gateway", `has "'", which EC2 security group / rule Description refuses`],
    ["naïve", `has "ï", which EC2 security group / rule Description refuses`],
    ["x".repeat(256), "is 256 characters long; EC2 security group / rule Description takes 0-255"],
  ])("a rule description %j", (value, problem) => {
    expect(checkName(value, sg)).toBe(problem);
  });

  it("checks load balancer names' length and hyphens, and launch template names' characters", () => {
    expect(checkName("api-hacluster-example-com", NAME_RULES.aws_lb.name!)).toBeUndefined();
    expect(checkName("api-hacluster.example.com", NAME_RULES.aws_lb.name!)).toMatch(/"\."/);
    expect(checkName("a".repeat(33), NAME_RULES.aws_lb.name!)).toMatch(/33 characters/);
    expect(checkName("internal-api", NAME_RULES.aws_lb.name!)).toMatch(/internal-/);
    expect(checkName("api-", NAME_RULES.aws_lb_target_group.name!)).toMatch(/hyphen/);
    expect(checkName("master-us-west-2a.masters.hacluster.example.com", NAME_RULES.aws_launch_template.name!)).toBeUndefined();
    expect(checkName("nodes group", NAME_RULES.aws_launch_template.name!)).toMatch(/" "/);
  });

  it("checks only the text of a value, and passes a value that is one reference", () => {
    expect(literalText("${aws_iam_role.masters.name}")).toEqual({ text: "x", wholeReference: true });
    expect(literalText("masters-${aws_vpc.main.id}'s")).toEqual({ text: "masters-x's", wholeReference: false });
    expect(checkName("${aws_iam_role.x.name}", NAME_RULES.aws_iam_role.name!)).toBeUndefined();
    expect(checkName("${aws_vpc.x.id}'s group", NAME_RULES.aws_security_group.description!)).toMatch(/"'"/);
  });

  it("reports a name-like attribute of a resource type it has no rule for, and tags a strict service refuses", () => {
    const json = {
      resource: {
        aws_made_up_thing: { x: { name: "anything", description: "${aws_vpc.x.id}" } },
        aws_iam_role: { r: { name: "masters.x", tags: { "a,b": "c" } } },
        aws_ebs_volume: { v: { tags: { "k8s.io/etcd/main": "a/a,b,c" } } },
      },
      output: {},
    } as unknown as TerraformJson;
    expect(nameFindings(json)).toEqual([
      expect.objectContaining({ address: "aws_made_up_thing.x", attribute: "name", problem: expect.stringMatching(/no AWS rule/) }),
      expect.objectContaining({ address: "aws_iam_role.r", attribute: "tags", problem: expect.stringMatching(/refuses in tags/) }),
    ]);
  });
});

describe.each(specVariants())("AWS accepts every name, description and tag of %s", (_label, fields) => {
  it("has no finding", () => {
    const json = synthWritten(fields);
    expect(nameFindings(json)).toEqual([]);
    // The check saw the configuration's rules and groups (a variant that emitted none would pass vacuously).
    expect(Object.keys(json.resource.aws_security_group_rule ?? {}).length).toBeGreaterThan(10);
  });
});
