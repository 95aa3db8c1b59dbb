/**
 * `kopsform delete cluster` with the real Terraform CLI: against a cluster's state (as if applied),
 * the committed configuration refuses to destroy the etcd volumes (prevent_destroy), while the
 * temporary copy that delete makes beside the output plans their destruction and the lifting of the
 * load balancer's deletion protection. The committed output is left as it was.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadClusterSpec } from "../cli/cluster-spec";
import { prepareDestroyStack } from "../cli/delete-cluster";
import { writeOfflineOverride } from "../cli/terraform";
import { applyAsIf } from "./helpers/applied-state";
import { kopsform } from "./helpers/cli";
import { SEED_1_SPEC, writeSpecs } from "./helpers/specs";
import { terraformIn } from "./helpers/terraform";

const NAME = SEED_1_SPEC.name;
const SLUG = NAME.replace(/\./g, "-");

describe("the safeguards, lifted for this run only (the real Terraform CLI)", () => {
  it("the committed configuration refuses to destroy the etcd volumes; the temporary copy plans their destruction and lifts the load balancer's protection", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-delete-tf-"));
    const configDir = writeSpecs([SEED_1_SPEC], path.join(dir, "clusters"));
    const output = path.join(dir, "cdktf.out");
    expect((await kopsform(["synth", "--config-dir", configDir, "--output", output])).code).toBe(0);
    const committed = path.join(output, "stacks", NAME);
    applyAsIf(committed);
    const committedText = fs.readFileSync(path.join(committed, "cdk.tf.json"), "utf8");

    // The committed stack: Terraform refuses the destroy.
    const refused = terraformIn(committed).run(["plan", "-destroy", "-refresh=false", "-input=false", "-no-color"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/Instance cannot be destroyed/);
    expect(refused.stderr).toMatch(new RegExp(`aws_ebs_volume\\.a-etcd-main-${SLUG}`));

    // The copy delete makes, beside the output (so that the local state path resolves the same).
    const { root, stackDir, lifted } = await prepareDestroyStack(loadClusterSpec(configDir, NAME), output, false);
    try {
      expect(path.dirname(root)).toBe(dir);
      expect(lifted.preventDestroy).toHaveLength(6);
      expect(lifted.deletionProtection).toEqual([`aws_lb.api-${SLUG}`]);
      writeOfflineOverride(stackDir);
      const tf = terraformIn(stackDir);
      tf.init();
      // The protection update the command applies first (targeted at the load balancer).
      const lbPlan = tf.run(["plan", "-refresh=false", "-input=false", "-no-color", `-target=aws_lb.api-${SLUG}`]);
      expect(lbPlan.status).toBe(0);
      expect(lbPlan.stdout).toMatch(/enable_deletion_protection\s+= true -> false/);
      // Then the destroy, etcd volumes included.
      const destroy = tf.run(["plan", "-destroy", "-refresh=false", "-input=false", "-no-color", "-out=destroy.tfplan"]);
      expect(destroy.stderr).toBe("");
      expect(destroy.status).toBe(0);
      const plan = tf.showJson("destroy.tfplan");
      const deleted = (plan.resource_changes ?? []).filter((c) => c.change.actions.includes("delete")).map((c) => c.address);
      expect(deleted).toEqual(expect.arrayContaining([`aws_ebs_volume.a-etcd-main-${SLUG}`, `aws_ebs_volume.c-etcd-events-${SLUG}`, `aws_lb.api-${SLUG}`]));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    // Nothing of the committed output changed.
    expect(fs.readFileSync(path.join(committed, "cdk.tf.json"), "utf8")).toBe(committedText);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
