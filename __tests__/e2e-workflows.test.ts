/**
 * The workflows teams run on kopsform's output, end to end with the real Terraform CLI and provider,
 * offline: HCL export, cdktf diff, and plan review of changes to a cluster that "exists" (an
 * as-if-applied state), including what must never happen to etcd data.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { mastersChange, mastersChangeDiagram, mastersChangeLines } from "../cli/plan-picture";
import { renderPlanSummary } from "../cli/plan-summary";
import { OFFLINE_OVERRIDE_FILE, PlanJson, writeOfflineOverride } from "../cli/terraform";
import { mermaidBlock } from "../spec/ha-picture";
import { applyAsIf } from "./helpers/applied-state";
import { kopsform } from "./helpers/cli";
import { expectGolden } from "./helpers/golden";
import { SEED_1, snapshot, specFile, synthToDir, tempDir } from "./helpers/cluster";
import { planOffline, requireTerraform, terraformIn } from "./helpers/terraform";

const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";

/** Every planned resource: address -> after values, for comparing two plans. */
function plannedResources(plan: PlanJson): Record<string, unknown> {
  return Object.fromEntries((plan.resource_changes ?? []).map((c) => [c.address, [c.change.actions, c.change.after]]));
}

describe("npx cdktf synth", () => {
  const root = path.join(__dirname, "..");

  it("npx cdktf synth gives the same files as kopsform synth", () => {
    const dir = tempDir("cdktf");
    const out = path.join(dir, "cdktf.out");
    const cdktf = spawnSync(
      process.execPath,
      [path.join(root, "node_modules", "cdktf-cli", "bundle", "bin", "cdktf"), "synth", "--output", out],
      { cwd: root, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" } },
    );
    expect(cdktf.stderr).not.toMatch(/error/i);
    expect(cdktf.status).toBe(0);
    const mine = tempDir("mine");
    const r = spawnSync(process.execPath, [path.join(root, "bin", "kopsform.js"), "synth", "--output", path.join(mine, "cdktf.out")], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(snapshot(out)).toEqual(snapshot(path.join(mine, "cdktf.out")));
  });
});

describe("HCL export", () => {
  it("is fmt-clean, validates without warnings and plans to exactly the JSON output's resources", async () => {
    const dir = tempDir("hcl");
    const json = (await synthToDir(path.join(dir, "json"), [SEED_1]))[NAME];
    const clusters = path.join(dir, "clusters");
    fs.mkdirSync(clusters);
    fs.writeFileSync(path.join(clusters, `${NAME}.yaml`), specFile(SEED_1));
    const r = await kopsform(["synth", "--hcl", "--config-dir", clusters, "--output", path.join(dir, "hcl")]);
    expect(r.code).toBe(0);
    const hcl = path.join(dir, "hcl", "stacks", NAME);
    expect(fs.readdirSync(hcl).sort()).toEqual(["cdk.tf", "ha-report.md", "metadata.json"]);
    expect(fs.readFileSync(path.join(hcl, "cdk.tf"), "utf8")).not.toMatch(/<<EOF|JSON\.stringify/);

    const tf = terraformIn(hcl);
    const fmt = tf.fmtCheck();
    expect(fmt.stdout).toBe("");
    expect(fmt.status).toBe(0);
    tf.init({ backend: false });
    expect(tf.validate()).toMatchObject({ valid: true, diagnostics: [] });

    const fromJson = planOffline(json);
    const fromHcl = planOffline(hcl);
    expect(fromHcl.result.status).toBe(2);
    expect(plannedResources(fromHcl.plan as PlanJson)).toEqual(plannedResources(fromJson.plan as PlanJson));
  });
});

describe("cdktf diff", () => {
  it("plans the seed's first example through the cdktf CLI, offline", async () => {
    const dir = tempDir("cdktf-diff");
    const stack = (await synthToDir(dir, [SEED_1]))[NAME];
    writeOfflineOverride(stack);
    const root = path.join(__dirname, "..");
    const r = spawnSync(
      process.execPath,
      [
        path.join(root, "node_modules", "cdktf-cli", "bundle", "bin", "cdktf"),
        "diff", "--skip-synth", "--skip-provider-lock", "--no-color", "--output", path.join(dir, "out"), NAME,
      ],
      { cwd: root, encoding: "utf8", env: { ...process.env, ...terraformIn(stack).environment(), CI: "1" } },
    );
    expect(r.stdout).toMatch(/Plan: 107 to add, 0 to change, 0 to destroy\./);
    expect(r.status).toBe(0);
  });
});

describe("plan review of a cluster that exists", () => {
  let dir: string;
  let clusters: string;
  let out: string;

  /** Writes the seed's first example with `changes` and synthesizes it into the applied output. */
  async function respec(changes: Record<string, unknown>, ...flags: string[]) {
    fs.writeFileSync(path.join(clusters, `${NAME}.yaml`), specFile({ ...SEED_1, ...changes }));
    const r = await kopsform(["synth", "--config-dir", clusters, "--output", out, ...flags]);
    expect(r.stderr).not.toMatch(/^(?!warning)/m);
    expect(r.code).toBe(0);
  }

  async function plan(...flags: string[]) {
    return kopsform(["plan", "--offline", "--output", out, "--provider-mirror", requireTerraform(), ...flags]);
  }

  beforeAll(async () => {
    dir = tempDir("applied");
    clusters = path.join(dir, "clusters");
    out = path.join(dir, "cdktf.out");
    fs.mkdirSync(clusters);
    await respec({});
    applyAsIf(path.join(out, "stacks", NAME));
  });

  beforeEach(async () => respec({}, "--allow-etcd-member-removal"));

  it("plans no change for the unchanged spec (exit 0), and removes its offline override afterwards", async () => {
    const r = await plan();
    expect(r.stdout).toMatch(/hacluster.example.com: 0 to add, 0 to change, 0 to destroy, 0 to replace/);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(out, "stacks", NAME, OFFLINE_OVERRIDE_FILE))).toBe(false);
  });

  it("puts the VPC's replacement for a networkCidr change in the danger section, above the details", async () => {
    await respec({ networkCidr: "10.20.0.0/16" });
    const r = await plan("--summary", path.join(dir, "summary.md"));
    expect(r.code).toBe(2);
    const summary = fs.readFileSync(path.join(dir, "summary.md"), "utf8");
    expect(summary).toMatch(/hacluster.example.com/);
    const vpc = summary.indexOf(`aws_vpc.${SLUG}`);
    const details = summary.indexOf("<details>");
    expect(vpc).toBeGreaterThan(-1);
    expect(vpc).toBeLessThan(details);
    expect(summary.slice(0, details)).toMatch(/replace[\s\S]*cidr_block/);

    // The same summary from terraform show -json output, through kopsform summarize.
    const stack = path.join(out, "stacks", NAME);
    const show = terraformIn(stack).run(["show", "-json", "kopsform.tfplan"]);
    fs.writeFileSync(path.join(dir, "plan.json"), show.stdout);
    const summarized = await kopsform(["summarize", path.join(dir, "plan.json")]);
    expect(summarized.code).toBe(0);
    expect(summarized.stdout.indexOf(`aws_vpc.${SLUG}`)).toBeLessThan(summarized.stdout.indexOf("<details>"));
  });

  it("refuses a plan that drops a master's etcd volumes, naming them, unless the removal is acknowledged", async () => {
    // Members b and c deleted from the record instead of retired (synthesis lets that through only with
    // the flag): the plan destroys their volumes, and kopsform plan refuses it.
    await respec({ masterZones: ["us-west-2a"], masterCount: 1 }, "--allow-etcd-member-removal");
    const refused = await plan();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the plan would destroy .*aws_ebs_volume\.b-etcd-main-hacluster-example-com/);
    expect(refused.stderr).toMatch(/--allow-etcd-member-removal/);
    const acknowledged = await plan("--allow-etcd-member-removal");
    expect(acknowledged.code).toBe(2);
  });

  it("exits 1 naming the volume when Terraform refuses to replace a protected etcd volume", async () => {
    await respec({ etcdKmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" });
    const r = await plan("--allow-etcd-member-removal");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Terraform refuses the plan: it would destroy aws_ebs_volume\.[a-c]-etcd-(main|events)-hacluster-example-com/);
  });
});

describe("growing a cluster that exists", () => {
  it("from one master to three only adds resources and updates in place", async () => {
    const dir = tempDir("grow");
    const one = (await synthToDir(dir, [{ ...SEED_1, masterZones: ["us-west-2a"] }]))[NAME];
    applyAsIf(one);
    await synthToDir(dir, [SEED_1]);
    const { plan, result } = planOffline(one, { refresh: false });
    expect(result.status).toBe(2);
    const byAction: Record<string, string[]> = {};
    for (const c of (plan as PlanJson).resource_changes ?? []) {
      const action = c.change.actions.join(",");
      (byAction[action] ??= []).push(c.address);
    }
    expect(Object.keys(byAction).sort()).toEqual(["create", "no-op", "update"]);
    // Only the member lists in the first master's volume tags change; the API load balancer spans every
    // zone already.
    expect(byAction.update.sort()).toEqual([`aws_ebs_volume.a-etcd-events-${SLUG}`, `aws_ebs_volume.a-etcd-main-${SLUG}`]);
    expect(byAction.create).toEqual(expect.arrayContaining(["aws_autoscaling_group.master-us-west-2b", `aws_ebs_volume.c-etcd-main-${SLUG}`]));
    // The pull request's picture of the change: before and after side by side, from the plan alone.
    const change = mastersChange(plan as PlanJson);
    expect(change).toBeDefined();
    expectGolden(
      "plan-picture-1-to-3.md",
      `${mermaidBlock(mastersChangeDiagram(change!))}\n\n\`\`\`text\n${mastersChangeLines(change!).join("\n")}\n\`\`\`\n`,
    );
    // The pull request's summary of this plan: the change of masters first, then the counts, the
    // changes by kind (the growth's new groups and etcd volumes at a glance) and the list.
    const summary = renderPlanSummary([{ stack: NAME, plan: plan as PlanJson }]);
    const at = [
      "**Masters: 1 (etcd quorum 1 of 1) \u2192 3 (etcd quorum 2 of 3); survives the loss of any one zone: no \u2192 yes.**",
      mermaidBlock(mastersChangeDiagram(change!)),
      " to add, 2 to change, 0 to destroy, 0 to replace.**",
      "| resource type | create | update |",
      "<details><summary>All ",
    ].map((part) => summary.indexOf(part));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(summary).toContain("| `aws_ebs_volume` (etcd) | 4 | 2 |");
    expect(summary).toContain("| `aws_autoscaling_group` | 2 | |");
  });
});
