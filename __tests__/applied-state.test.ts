/**
 * The as-if-applied state helper against the real Terraform CLI and aws provider, offline: the same
 * configuration plans to nothing, a changed one plans only its real differences, and Terraform's own
 * refusals (prevent_destroy) happen as they would against a real cluster.
 */
import * as fs from "fs";
import * as path from "path";
import { PlanJson } from "../cli/terraform";
import { TestStackBody, appliedTestNetwork, applyAsIf, localStatePath, testNetwork, writeTestStack } from "./helpers/applied-state";
import { changesByAddress, planOffline, terraformIn } from "./helpers/terraform";

const CLUSTER = "asif.example.com";

/** The test network of this file's cluster (see testNetwork). */
function network(options: Parameters<typeof testNetwork>[1] = {}): TestStackBody {
  return testNetwork(CLUSTER, options);
}

describe("applyAsIf", () => {
  let root: string;
  let stackDir: string;
  let fresh: PlanJson;

  beforeAll(() => {
    // The cluster as if its fresh plan had been applied; each test below plans against it.
    ({ root, stackDir, fresh } = appliedTestNetwork(CLUSTER));
  });

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("writes a version 4 state where the stack's local backend reads it", () => {
    expect(localStatePath(stackDir)).toBe(`../../../terraform.${CLUSTER}.tfstate`);
    const state = JSON.parse(fs.readFileSync(path.join(root, `terraform.${CLUSTER}.tfstate`), "utf8"));
    expect(state).toMatchObject({ version: 4, terraform_version: fresh.terraform_version });
    expect(state.lineage).toMatch(/^[0-9a-f-]{36}$/);
    expect(state.serial).toBeGreaterThan(0);
    const vpc = state.resources.find((r: { type: string }) => r.type === "aws_vpc");
    expect(vpc.instances[0].attributes.id).toMatch(/^vpc-/);
    const subnet = state.resources.find((r: { type: string }) => r.type === "aws_subnet");
    expect(subnet.instances[0].attributes.vpc_id).toBe(vpc.instances[0].attributes.id);
    expect(subnet.instances[0].dependencies).toEqual(["aws_vpc.main"]);
    expect(state.outputs.vpc_id).toEqual({ value: vpc.instances[0].attributes.id, type: "string" });
  });

  it("makes the same configuration plan to no changes", () => {
    const result = terraformIn(stackDir).plan({ out: path.join(stackDir, "same.tfplan"), refresh: false });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("plans a VPC cidr change as the VPC's replacement and its dependents' only", () => {
    writeTestStack(root, CLUSTER, network({ cidr: "10.0.0.0/16" }));
    try {
      const { plan, result } = planOffline(stackDir, { refresh: false });
      expect(result.status).toBe(2);
      const vpc = plan!.resource_changes!.find((c) => c.address === "aws_vpc.main")!;
      expect(vpc.change.actions).toEqual(["delete", "create"]);
      expect(vpc.action_reason).toBe("replace_because_cannot_update");
      expect(vpc.change.before).toMatchObject({ cidr_block: "172.20.0.0/16" });
      const actions = changesByAddress(plan!);
      // The subnet's own cidr changes too, and the group sits in the new VPC: both are replaced.
      expect(actions["aws_subnet.us-west-2a"]).toEqual(["delete", "create"]);
      expect(actions["aws_security_group.masters"]).toEqual(["delete", "create"]);
      expect(actions["aws_security_group_rule.https-from-vpc"]).toEqual(["delete", "create"]);
      // The volume references nothing that changes: it stays.
      expect(actions["aws_ebs_volume.a-etcd-main"]).toEqual(["no-op"]);
      // Nothing is created from scratch or destroyed outright: the state matches the old configuration.
      const plainCreatesOrDeletes = Object.entries(actions).filter(
        ([, a]) => a.length === 1 && (a[0] === "create" || a[0] === "delete"),
      );
      expect(plainCreatesOrDeletes).toEqual([]);
    } finally {
      writeTestStack(root, CLUSTER, network());
    }
  });

  it("lets Terraform refuse a plan that replaces a volume with prevent_destroy", () => {
    writeTestStack(root, CLUSTER, network({ volumeZone: "us-west-2b" }));
    try {
      const { plan, result } = planOffline(stackDir, { refresh: false });
      expect(plan).toBeUndefined();
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/Instance cannot be destroyed/);
      expect(result.stderr).toMatch(/aws_ebs_volume\.a-etcd-main has lifecycle\.prevent_destroy set/);
    } finally {
      writeTestStack(root, CLUSTER, network());
    }
  });

  it("shows that removing the volume's block removes its protection: Terraform plans the delete", () => {
    // Terraform's documented rule: prevent_destroy lives in the resource block, so deleting the block
    // deletes the protection. Only review (the plan summary's danger section) catches this one.
    writeTestStack(root, CLUSTER, network({ volume: false }));
    try {
      const { plan, result } = planOffline(stackDir, { refresh: false });
      expect(result.status).toBe(2);
      const volume = plan!.resource_changes!.find((c) => c.address === "aws_ebs_volume.a-etcd-main")!;
      expect(volume.change.actions).toEqual(["delete"]);
      expect(volume.action_reason).toBe("delete_because_no_resource_config");
    } finally {
      writeTestStack(root, CLUSTER, network());
    }
  });

  it("plans the stack itself when given no plan, and converges what it cannot resolve up front", () => {
    // An interpolation rather than an exact reference: placeholder first, corrected by a round of planning.
    const body = network();
    const vpc = (body.resource.aws_vpc as Record<string, { tags: object }>).main;
    const other = writeTestStack(root, "rounds.example.com", {
      ...body,
      resource: {
        ...body.resource,
        aws_vpc: { main: { ...vpc, tags: { Name: "rounds" } } },
        aws_security_group: { masters: { name: "masters-${aws_vpc.main.id}", vpc_id: "${aws_vpc.main.id}" } },
      },
    });
    const statePath = path.join(root, "terraform.rounds.example.com.tfstate");
    fs.writeFileSync(statePath, "an old state, replaced");
    const applied = applyAsIf(other);
    expect(applied.statePath).toBe(statePath);
    expect(applied.rounds).toBe(1);
    const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
    const attributes = (type: string) =>
      state.resources.find((r: { type: string }) => r.type === type).instances[0].attributes;
    expect(attributes("aws_security_group").name).toBe(`masters-${attributes("aws_vpc").id}`);
    expect(terraformIn(other).plan({ out: path.join(other, "same.tfplan"), refresh: false }).status).toBe(0);
  });

  it("refuses a plan that was made against a state", () => {
    // What a plan against the as-if state looks like: nothing to create, everything a no-op.
    const againstState: PlanJson = {
      ...fresh,
      resource_changes: fresh.resource_changes!.map((c) => ({ ...c, change: { ...c.change, actions: ["no-op"] } })),
    };
    expect(() => applyAsIf(stackDir, { plan: againstState })).toThrow(/not a fresh plan.*aws_vpc\.main/s);
  });
});
