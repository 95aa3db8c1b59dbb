/**
 * The kops import round trip with the real Terraform CLI and AWS provider, offline: kops manifests
 * (the seed's three examples as kops stores them, and a cluster that sets every imported field) ->
 * `kopsform import kops` -> `kopsform synth` -> `terraform validate` and a plan.
 *
 * kops stores each group's image as owner/name, and a DNS zone by name; kopsform looks those up with
 * data sources, which a plan reads from AWS. Such stacks are planned with `terraform test` and a mock
 * of the AWS provider that answers only those lookups (everything else is the real provider's schema
 * and validation, and Terraform's real plan, which validates the configuration first). A variant without lookups is planned with the real
 * provider (`terraform plan`, offline credentials), and its plan is read back as JSON.
 */
import * as fs from "fs";
import * as path from "path";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { kopsform } from "./helpers/cli";
import { tempDir } from "./helpers/cluster";
import { planOffline, terraformIn } from "./helpers/terraform";

const FIXTURES = path.join(__dirname, "fixtures", "kops");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");
const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";

/** Imports a manifest and synthesizes it; returns the stack directory and the import's exit code. */
async function importAndSynth(text: string, name: string): Promise<{ stack: string; importCode: number }> {
  const dir = tempDir("import-e2e");
  fs.writeFileSync(path.join(dir, "kops.yaml"), text);
  const clusters = path.join(dir, "clusters");
  const imported = await kopsform(["import", "kops", path.join(dir, "kops.yaml"), "--config-dir", clusters]);
  expect(imported.stderr).not.toMatch(/^(?!warning:).+/m);
  const synth = await kopsform(["synth", "--config-dir", clusters, "--output", path.join(dir, "out")]);
  expect(synth.code).toBe(0);
  return { stack: path.join(dir, "out", "stacks", name), importCode: imported.code };
}

/** What the mock provider answers for kopsform's lookups. */
const MOCKED_LOOKUPS = `
mock_provider "aws" {
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0", root_device_name = "/dev/sda1" }
  }
  mock_data "aws_route53_zone" {
    defaults = { zone_id = "Z0123456789ABCDEFGHIJ" }
  }
}
`;

/**
 * `terraform test` with one plan run: the real Terraform plan of the stack, its lookups answered by the
 * mock provider, and each assertion checked against the planned values.
 */
function planWithMockedLookups(stack: string, assertions: readonly [condition: string, message: string][]): { status: number; output: string } {
  const asserts = assertions
    .map(([condition, message]) => `  assert {\n    condition     = ${condition}\n    error_message = ${JSON.stringify(message)}\n  }\n`)
    .join("");
  fs.writeFileSync(path.join(stack, "kopsform-import.tftest.hcl"), `${MOCKED_LOOKUPS}\nrun "plan" {\n  command = plan\n${asserts}}\n`);
  const tf = terraformIn(stack);
  tf.init({ backend: false });
  const r = tf.run(["test", "-no-color"]);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function planned(plan: PlanJson, type: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    (plan.resource_changes ?? [])
      .filter((c: ResourceChange) => c.type === type && c.mode === "managed")
      .map((c) => [c.name, c.change.after as Record<string, unknown>]),
  );
}

describe("the seed's first example, as kops stores it", () => {
  it("imports, synthesizes and plans: three masters, their encrypted etcd volumes, kops's internet-facing API", async () => {
    const { stack, importCode } = await importAndSynth(fixture("seed-1.yaml"), NAME);
    expect(importCode).toBe(3);
    const plan = planWithMockedLookups(stack, [
      ...["a", "b", "c"].map(
        (z) => [`aws_autoscaling_group.master-us-west-2${z}.min_size == 1 && aws_autoscaling_group.master-us-west-2${z}.max_size == 1`, `one master in us-west-2${z}`] as [string, string],
      ),
      ...["a", "b", "c"].flatMap((m) =>
        ["main", "events"].map(
          (e) =>
            [
              `aws_ebs_volume.${m}-etcd-${e}-${SLUG}.encrypted && aws_ebs_volume.${m}-etcd-${e}-${SLUG}.type == "gp3" && aws_ebs_volume.${m}-etcd-${e}-${SLUG}.size == 20 && aws_ebs_volume.${m}-etcd-${e}-${SLUG}.availability_zone == "us-west-2${m}"`,
              `etcd ${e} volume of member ${m}`,
            ] as [string, string],
        ),
      ),
      ["aws_autoscaling_group.nodes.min_size == 3 && aws_autoscaling_group.nodes.max_size == 3", "three nodes"],
      ['aws_launch_template.nodes.instance_type == "t2.medium" && aws_launch_template.master-us-west-2a.instance_type == "t2.medium"', "t2.medium"],
      [`aws_lb.api-public-${SLUG}.internal == false && aws_lb.api-${SLUG}.internal == true`, "kops's internet-facing API, beside the internal one"],
      ['aws_launch_template.master-us-west-2a.image_id == "ami-0123456789abcdef0"', "the image from its owner/name lookup"],
    ]);
    expect(plan.output).toMatch(/Success! 1 passed, 0 failed/);
    expect(plan.status).toBe(0);
  });
});

describe("the seed's second example, as kops stores it (with a real second security group)", () => {
  it("imports and plans: the DNS record, the extra groups and the cloud labels", async () => {
    const { stack, importCode } = await importAndSynth(fixture("seed-2.yaml").replaceAll("i-abcd1234", "sg-abcd1234"), NAME);
    expect(importCode).toBe(3);
    const plan = planWithMockedLookups(stack, [
      ['contains(aws_launch_template.master-us-west-2b.vpc_security_group_ids, "sg-abcd1234") && contains(aws_launch_template.master-us-west-2b.vpc_security_group_ids, "sg-12345678")', "the masters' extra groups"],
      // (The groups' own ids are unknown until apply, so only the presence of the extra ones can be checked.)
      ['contains(aws_launch_template.nodes.vpc_security_group_ids, "sg-12345678")', "the nodes' extra group"],
      [`aws_ebs_volume.a-etcd-main-${SLUG}.tags["Team"] == "Dev" && aws_ebs_volume.a-etcd-main-${SLUG}.tags["Owner"] == "John Doe"`, "cloud labels"],
      [`aws_route53_record.api-${SLUG}.name == "api.${NAME}" && aws_route53_record.api-${SLUG}.zone_id == "Z0123456789ABCDEFGHIJ"`, "api.NAME in example.com"],
    ]);
    expect(plan.output).toMatch(/Success! 1 passed, 0 failed/);
  });
});

describe("the seed's third example, as kops stores it", () => {
  it("imports and plans: three masters and six volumes in us-east-1a, with kopsform's member names", async () => {
    const { stack, importCode } = await importAndSynth(fixture("seed-3.yaml"), NAME);
    expect(importCode).toBe(3);
    const plan = planWithMockedLookups(stack, [
      ...["master-us-east-1a", "master-us-east-1a-2", "master-us-east-1a-3"].map(
        (m) => [`aws_autoscaling_group.${m}.max_size == 1`, m] as [string, string],
      ),
      ...["a", "a-2", "a-3"].map(
        (m) => [`aws_ebs_volume.${m}-etcd-main-${SLUG}.availability_zone == "us-east-1a" && aws_ebs_volume.${m}-etcd-events-${SLUG}.availability_zone == "us-east-1a"`, `member ${m}`] as [string, string],
      ),
      [`aws_ebs_volume.a-2-etcd-main-${SLUG}.tags["k8s.io/etcd/main"] == "a-2/a,a-2,a-3"`, "member tags"],
      ["aws_autoscaling_group.nodes.max_size == 2", "two nodes"],
    ]);
    expect(plan.output).toMatch(/Success! 1 passed, 0 failed/);
  });
});

describe("a cluster that sets every imported field", () => {
  it("imports with exit 0 and plans with its image and private DNS zone lookups", async () => {
    const { stack, importCode } = await importAndSynth(fixture("everything.yaml"), "prod.example.org");
    expect(importCode).toBe(0);
    const plan = planWithMockedLookups(stack, [
      ['aws_autoscaling_group.gpu.min_size == 0 && aws_autoscaling_group.gpu.max_size == 4', "the gpu group"],
      ['aws_launch_template.bastions.instance_type == "t3.micro"', "the bastion"],
    ]);
    expect(plan.output).toMatch(/Success! 1 passed, 0 failed/);
  });

  it("plans with the real provider once its images are kops's ssm: default and its zone an id", async () => {
    const text = fixture("everything.yaml")
      .replace(/ami-0[0-9a-f]{16}/g, "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id")
      .replace("dnsZone: example.org", "dnsZone: Z0123456789ABCDEFGHIJ");
    const { stack, importCode } = await importAndSynth(text, "prod.example.org");
    expect(importCode).toBe(0);
    const { plan, result } = planOffline(stack);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(2);
    const p = plan as PlanJson;
    const volumes = Object.values(planned(p, "aws_ebs_volume"));
    expect(volumes).toHaveLength(6);
    for (const v of volumes) {
      expect(v).toMatchObject({
        type: "io1",
        size: 50,
        iops: 100,
        encrypted: true,
        kms_key_id: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      });
    }
    expect(planned(p, "aws_lb")["api-prod-example-org"]).toMatchObject({
      internal: true,
      access_logs: [{ bucket: "prod-example-org-lb-logs", prefix: "api/prod.example.org", enabled: true }],
    });
    const subnets = Object.values(planned(p, "aws_subnet")).map((s) => `${s.availability_zone} ${s.cidr_block}`);
    expect(subnets.sort()).toEqual(
      [
        "eu-west-1a 10.20.32.0/19",
        "eu-west-1b 10.20.128.0/19",
        "eu-west-1c 10.20.160.0/19",
        "eu-west-1a 10.20.0.0/22",
        "eu-west-1b 10.20.4.0/22",
        "eu-west-1c 10.20.8.0/22",
      ].sort(),
    );
    const groups = planned(p, "aws_autoscaling_group");
    expect(groups.nodes).toMatchObject({ min_size: 3, max_size: 3 });
    expect(groups.gpu).toMatchObject({ min_size: 0, max_size: 4 });
    expect(Object.keys(groups).sort()).toEqual(["bastions", "gpu", "master-eu-west-1a", "master-eu-west-1b", "master-eu-west-1c", "nodes"]);
    expect(planned(p, "aws_launch_template")["master-eu-west-1a"]).toMatchObject({ instance_type: "m5.large" });
    const rules = Object.values(planned(p, "aws_security_group_rule"));
    expect(rules.filter((r) => r.from_port === 443 && JSON.stringify(r.cidr_blocks) === JSON.stringify(["10.0.0.0/8"]))).toHaveLength(1);
    expect(rules.filter((r) => r.from_port === 22 && JSON.stringify(r.cidr_blocks) === JSON.stringify(["203.0.113.0/24"]))).toHaveLength(1);
    expect(planned(p, "aws_key_pair")).not.toEqual({});
  });
});
