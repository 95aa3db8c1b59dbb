/**
 * The seed's examples end to end: synthesized as the product does, then checked by the real Terraform
 * CLI with the real AWS provider (terraform validate, and an offline terraform plan where the
 * configuration needs no AWS lookup).
 */
import * as fs from "fs";
import * as path from "path";
import { countsByKind } from "../cli/plan-kinds";
import { mastersChange } from "../cli/plan-picture";
import { changeAction } from "../cli/plan-summary";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { specPicture } from "../spec/ha-picture";
import { SEED_1, SEED_2, SEED_3, synthToDir, tempDir, validSpec } from "./helpers/cluster";
import { parsePolicy } from "./helpers/json-expression";
import { planOffline, validateStack } from "./helpers/terraform";

const NAME = "hacluster.example.com";
const ADMIN = { adminAccess: ["203.0.113.0/24"] };

/** The planned `after` values of the resources of a type, by name. */
function planned(plan: PlanJson, type: string): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    (plan.resource_changes ?? [])
      .filter((c: ResourceChange) => c.type === type && c.mode === "managed")
      .map((c) => [c.name, c.change.after as Record<string, unknown>]),
  );
}

describe("seed example 1: three masters in three zones, private topology, kopeio-vxlan", () => {
  let plan: PlanJson;
  let stackDir: string;

  beforeAll(async () => {
    const stacks = await synthToDir(tempDir("e2e-seed1"), [SEED_1]);
    stackDir = stacks[NAME];
    expect(validateStack(stacks[NAME])).toMatchObject({ valid: true });
    const result = planOffline(stacks[NAME]);
    expect(result.result.stderr).toBe("");
    expect(result.result.status).toBe(2);
    plan = result.plan as PlanJson;
  });

  it("plans only additions", () => {
    const actions = (plan.resource_changes ?? []).map((c) => c.change.actions.join(","));
    expect(new Set(actions)).toEqual(new Set(["create"]));
  });

  it("plans one auto-scaling group per master (min = max = 1, EC2 health checks) and one launch template each", () => {
    const groups = planned(plan, "aws_autoscaling_group");
    const masters = Object.keys(groups).filter((n) => n.startsWith("master-")).sort();
    expect(masters).toEqual(["master-us-west-2a", "master-us-west-2b", "master-us-west-2c"]);
    for (const name of masters) {
      expect(groups[name]).toMatchObject({ min_size: 1, max_size: 1, health_check_type: "EC2" });
    }
    expect(Object.keys(planned(plan, "aws_launch_template")).filter((n) => n.startsWith("master-"))).toHaveLength(3);
  });

  it("plans six encrypted gp3 etcd volumes of 20 GiB in their masters' zones", () => {
    const volumes = planned(plan, "aws_ebs_volume");
    expect(Object.keys(volumes).sort()).toEqual([
      "a-etcd-events-hacluster-example-com",
      "a-etcd-main-hacluster-example-com",
      "b-etcd-events-hacluster-example-com",
      "b-etcd-main-hacluster-example-com",
      "c-etcd-events-hacluster-example-com",
      "c-etcd-main-hacluster-example-com",
    ]);
    for (const [name, volume] of Object.entries(volumes)) {
      expect(volume).toMatchObject({ encrypted: true, type: "gp3", size: 20, availability_zone: `us-west-2${name[0]}` });
    }
  });

  it("plans a node group of 3 t2.medium over the three zones, and the (internal) API load balancer across them", () => {
    expect(planned(plan, "aws_autoscaling_group").nodes).toMatchObject({ min_size: 3, max_size: 3 });
    expect(planned(plan, "aws_launch_template").nodes).toMatchObject({ instance_type: "t2.medium" });
    expect(planned(plan, "aws_lb")["api-hacluster-example-com"]).toMatchObject({
      load_balancer_type: "network",
      internal: true,
      enable_cross_zone_load_balancing: true,
    });
  });

  it("plans node termination handling: the encrypted queue, its policy, five rules and targets, the nodes' hook, the queue's URL", () => {
    expect(planned(plan, "aws_sqs_queue")["hacluster-example-com-nth"]).toMatchObject({
      name: "hacluster-example-com-nth",
      sqs_managed_sse_enabled: true,
      message_retention_seconds: 300,
    });
    expect(Object.keys(planned(plan, "aws_sqs_queue_policy"))).toEqual(["hacluster-example-com-nth-policy"]);
    expect(Object.keys(planned(plan, "aws_cloudwatch_event_rule"))).toHaveLength(5);
    expect(Object.keys(planned(plan, "aws_cloudwatch_event_target"))).toHaveLength(5);
    expect(planned(plan, "aws_autoscaling_lifecycle_hook")).toEqual({
      "nodes-nth-lifecycle-hook": expect.objectContaining({
        lifecycle_transition: "autoscaling:EC2_INSTANCE_TERMINATING",
        default_result: "CONTINUE",
        heartbeat_timeout: 300,
      }),
    });
    expect(planned(plan, "aws_ssm_parameter")["config-node-termination-queue-url"]).toMatchObject({
      name: "/kopsform/hacluster.example.com/config/node-termination-queue-url",
      type: "String",
    });
  });

  it("plans the masters' policy with the add-ons' statements (cloud controller, EBS CSI driver, termination handler)", () => {
    // The policy names the cluster's key and bucket, known once applied: planned, its document unknown.
    const change = (plan.resource_changes ?? []).find((c) => c.address === "aws_iam_role_policy.masters-hacluster-example-com");
    expect(change?.change.actions).toEqual(["create"]);
    expect((change?.change as { after_unknown?: Record<string, unknown> }).after_unknown?.policy).toBe(true);
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as { resource: Record<string, Record<string, { policy: string }>> };
    const document = json.resource.aws_iam_role_policy["masters-hacluster-example-com"].policy;
    const sids = parsePolicy(document).Statement.map((s) => s.Sid);
    expect(sids).toEqual(
      expect.arrayContaining(["CloudControllerOwnClusterResources", "EbsCsiManageOwnVolumes", "TerminationHandlerOwnQueue"]),
    );
  });

  it("plans three private and three utility subnets, three NAT gateways", () => {
    expect(Object.keys(planned(plan, "aws_subnet"))).toHaveLength(6);
    expect(Object.keys(planned(plan, "aws_nat_gateway"))).toHaveLength(3);
  });

  it("draws the same picture from its plan as from its spec, and counts 4 groups and 6 etcd volumes to create", () => {
    const change = mastersChange(plan);
    expect(change?.before).toBeUndefined();
    const { spec, ha } = validSpec(SEED_1);
    expect(change?.after).toEqual(specPicture(spec, ha));
    const kinds = countsByKind(plan, changeAction);
    expect(kinds.find((k) => k.type === "aws_autoscaling_group")?.counts).toMatchObject({ create: 4 });
    expect(kinds.filter((k) => k.type === "aws_ebs_volume")).toEqual([
      { type: "aws_ebs_volume", role: "etcd", counts: { create: 6, update: 0, replace: 0, destroy: 0, forget: 0 } },
    ]);
  });
});

describe("seed example 2: DNS zone, extra security groups, cloud labels, an image by owner/name", () => {
  it.each([
    ["as written", {}],
    ["with --admin-access", ADMIN],
  ])("passes terraform validate %s (the image and zone lookups need AWS, so it is not planned offline as written)", async (_what, extra) => {
    const stacks = await synthToDir(tempDir("e2e-seed2"), [{ ...SEED_2, ...extra }]);
    const result = validateStack(stacks[NAME]);
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

/**
 * Each seed example with `--admin-access` (kops's usual setup, and the README's advice), planned
 * offline; without it, examples 1 and 3 are planned above. Seed example 2's lookups need AWS, so it is
 * planned with the default image and the hosted zone given by id (everything else as written).
 */
const SEED_2_OFFLINE = { ...SEED_2, image: undefined, dnsZone: "Z0123456789ABC" };
const BOTH = ["api-hacluster-example-com", "api-public-hacluster-example-com"];
describe.each([
  ["seed example 1 with admin access", { ...SEED_1, ...ADMIN }, BOTH],
  ["seed example 2 (zone by id, default image)", SEED_2_OFFLINE, ["api-hacluster-example-com"]],
  ["seed example 2 (zone by id, default image) with admin access", { ...SEED_2_OFFLINE, ...ADMIN }, BOTH],
  ["seed example 3 with admin access", { ...SEED_3, ...ADMIN }, BOTH],
])("%s", (_what, fields, loadBalancers) => {
  it("plans offline, with an internet-facing load balancer only with admin access", async () => {
    const stacks = await synthToDir(tempDir("e2e-seed-admin"), [fields]);
    const { plan, result } = planOffline(stacks[NAME]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(2);
    expect(Object.keys(planned(plan as PlanJson, "aws_lb")).sort()).toEqual(loadBalancers);
    // Every rule AWS would be sent, descriptions included, made it through the provider's checks.
    const rules = Object.values(planned(plan as PlanJson, "aws_security_group_rule"));
    expect(rules.length).toBeGreaterThan(10);
    expect(rules.every((r) => typeof r.description === "string" && r.description.length > 0)).toBe(true);
  });
});

describe("seed example 3: three masters in one zone of a two-zone region", () => {
  it("plans offline: 3 masters and 6 volumes in us-east-1a", async () => {
    const stacks = await synthToDir(tempDir("e2e-seed3"), [SEED_3]);
    const { plan, result } = planOffline(stacks[NAME]);
    expect(result.status).toBe(2);
    const groups = planned(plan as PlanJson, "aws_autoscaling_group");
    const masters = Object.keys(groups).filter((n) => n.startsWith("master-")).sort();
    expect(masters).toEqual(["master-us-east-1a", "master-us-east-1a-2", "master-us-east-1a-3"]);
    const volumes = Object.values(planned(plan as PlanJson, "aws_ebs_volume"));
    expect(volumes).toHaveLength(6);
    expect(new Set(volumes.map((v) => v.availability_zone))).toEqual(new Set(["us-east-1a"]));
    // The plan's picture is the spec's: three members in us-east-1a, whose loss loses quorum.
    const { spec, ha } = validSpec(SEED_3);
    expect(mastersChange(plan as PlanJson)?.after).toEqual(specPicture(spec, ha));
  });
});

describe("a public-topology cluster", () => {
  it("plans offline with one public subnet per zone and no NAT gateway", async () => {
    const stacks = await synthToDir(tempDir("e2e-public"), [
      { name: "public.example.com", zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], masterCount: 3 },
    ]);
    const { plan, result } = planOffline(stacks["public.example.com"]);
    expect(result.status).toBe(2);
    const subnets = Object.values(planned(plan as PlanJson, "aws_subnet"));
    expect(subnets.map((s) => (s.tags as Record<string, string>).SubnetType)).toEqual(["Public", "Public", "Public"]);
    expect(planned(plan as PlanJson, "aws_nat_gateway")).toEqual({});
  });
});
