/**
 * etcd data is guarded in every clone: the record of etcd members lives in the committed spec, and a
 * retired member's volumes are forgotten by Terraform (`removed` blocks), never destroyed. Tested as a
 * fresh clone (CI, `cdktf deploy`) meets it: a three-master cluster exists (an as-if-applied state);
 * the spec retires members; a new checkout with no previous `cdktf.out/` synthesizes and plans against
 * that state with the real Terraform CLI and aws provider, offline, in JSON and in HCL.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { applyAsIf } from "./helpers/applied-state";
import { kopsform } from "./helpers/cli";
import { SEED_1, specFile, tempDir } from "./helpers/cluster";
import { planOffline, requireTerraform, terraformIn } from "./helpers/terraform";

const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";
const volume = (member: string, etcd: string) => `aws_ebs_volume.${member}-etcd-${etcd}-${SLUG}`;
const RETIRED_VOLUMES = ["b", "c"].flatMap((m) => [volume(m, "main"), volume(m, "events")]);

/** The spec with masters b and c removed from the layout; `record` decides what the spec says of them. */
function oneMaster(record: Record<string, unknown>): Record<string, unknown> {
  return { ...SEED_1, masterZones: ["us-west-2a"], masterCount: 1, ...record };
}

/** The directories this file makes, removed after its tests. */
const made: string[] = [];

/** A checkout: the spec in clusters/ and the cluster's state where its local backend reads it, no cdktf.out/. */
function freshClone(spec: Record<string, unknown>, statePath: string): string {
  const dir = tempDir("clone");
  made.push(dir);
  fs.mkdirSync(path.join(dir, "clusters"));
  fs.writeFileSync(path.join(dir, "clusters", `${NAME}.yaml`), YAML.stringify(spec));
  fs.copyFileSync(statePath, path.join(dir, `terraform.${NAME}.tfstate`));
  return dir;
}

async function synth(dir: string, ...flags: string[]) {
  return kopsform(["synth", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "cdktf.out"), ...flags]);
}

const changes = (plan: PlanJson, type: string): ResourceChange[] => (plan.resource_changes ?? []).filter((c) => c.type === type);

describe("retiring etcd members in a fresh clone", () => {
  let statePath: string;

  beforeAll(async () => {
    // The cluster as it exists: seed example 1, three masters, applied.
    const dir = tempDir("etcd-existing");
    made.push(dir);
    fs.mkdirSync(path.join(dir, "clusters"));
    fs.writeFileSync(path.join(dir, "clusters", `${NAME}.yaml`), specFile(SEED_1));
    const r = await synth(dir);
    expect(r.code).toBe(0);
    statePath = applyAsIf(path.join(dir, "cdktf.out", "stacks", NAME)).statePath;
    // The state manages all six volumes.
    const state = JSON.parse(fs.readFileSync(statePath, "utf8")) as { resources: { type: string; name: string }[] };
    expect(state.resources.filter((r) => r.type === "aws_ebs_volume")).toHaveLength(6);
  });

  afterAll(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it("refuses to synthesize a layout without masters b and c while the spec still records them", async () => {
    const dir = freshClone(oneMaster({ etcdMembers: ["a", "b", "c"] }), statePath);
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/etcdMembers: masterZones\/masterCount no longer give members b, c/);
    expect(r.stderr).toMatch(/write "etcdMembers: \[a\]" and "retiredEtcdMembers: \[b, c\]"/);
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });

  it("refuses to synthesize a spec that records no members at all", async () => {
    const dir = freshClone(oneMaster({}), statePath);
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/etcdMembers: is missing\..*"etcdMembers: \[a\]"/);
  });

  it("forgets the retired members' volumes and destroys none, in the plan that an apply (or cdktf deploy) would run", async () => {
    const dir = freshClone(oneMaster({ etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"] }), statePath);
    expect((await synth(dir)).code).toBe(0);
    const stack = path.join(dir, "cdktf.out", "stacks", NAME);
    const { plan, result } = planOffline(stack, { refresh: false });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(2);
    const volumes = Object.fromEntries(changes(plan as PlanJson, "aws_ebs_volume").map((c) => [c.address, c.change.actions]));
    expect(volumes).toEqual({
      ...Object.fromEntries(RETIRED_VOLUMES.map((v) => [v, ["forget"]])),
      // Member a stays; only its tags' member list changes (a/a,b,c -> a/a).
      [volume("a", "main")]: ["update"],
      [volume("a", "events")]: ["update"],
    });
    const a = changes(plan as PlanJson, "aws_ebs_volume").find((c) => c.address === volume("a", "main")) as ResourceChange;
    expect((a.change.after as { tags: Record<string, string> }).tags["k8s.io/etcd/main"]).toBe("a/a");
    // The masters themselves go (their groups and templates), as the retirement intends.
    const groups = Object.fromEntries(changes(plan as PlanJson, "aws_autoscaling_group").map((c) => [c.address, c.change.actions]));
    expect(groups).toMatchObject({
      "aws_autoscaling_group.master-us-west-2b": ["delete"],
      "aws_autoscaling_group.master-us-west-2c": ["delete"],
      "aws_autoscaling_group.master-us-west-2a": ["no-op"],
    });

    // kopsform plan, the PR and apply workflow's guard, passes it: nothing of etcd is destroyed.
    const reviewed = await kopsform(["plan", "--offline", "--output", path.join(dir, "cdktf.out"), "--provider-mirror", requireTerraform()]);
    expect(reviewed.stderr).not.toMatch(/etcd/);
    expect(reviewed.code).toBe(2);
  });

  it("does the same from HCL output: the removed blocks survive the export, and Terraform reads them", async () => {
    const dir = freshClone(oneMaster({ etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"] }), statePath);
    expect((await synth(dir, "--hcl")).code).toBe(0);
    const stack = path.join(dir, "cdktf.out", "stacks", NAME);
    const hcl = fs.readFileSync(path.join(stack, "cdk.tf"), "utf8");
    for (const address of RETIRED_VOLUMES) {
      expect(hcl).toContain(`removed {\n  from = ${address}\n  lifecycle {\n    destroy = false\n  }\n}`);
    }
    const tf = terraformIn(stack);
    expect(tf.fmtCheck().stdout).toBe("");
    const { plan, result } = planOffline(stack, { refresh: false });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(2);
    const volumes = Object.fromEntries(changes(plan as PlanJson, "aws_ebs_volume").map((c) => [c.address, c.change.actions]));
    expect(RETIRED_VOLUMES.map((v) => volumes[v])).toEqual(RETIRED_VOLUMES.map(() => ["forget"]));
    expect(Object.values(volumes).filter((a) => a.includes("delete"))).toEqual([]);
  });
});
