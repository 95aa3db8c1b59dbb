/**
 * Masters are not cattle: each owns etcd volumes and an etcd membership. Removing a master, or moving
 * one to another zone (which is removing it and adding another), needs the etcd member removed first
 * and the volumes dealt with by hand. This check compares the masters of a new synthesis with those of
 * the previous one in the output directory and refuses a silent removal.
 */
import * as fs from "fs";
import * as path from "path";
import { ValidatedSpec } from "../spec/validate";

/** Master ASG addresses of a previously synthesized stack (JSON or HCL), or undefined when there is none. */
export function previousMasters(stackDir: string): string[] | undefined {
  const json = path.join(stackDir, "cdk.tf.json");
  const hcl = path.join(stackDir, "cdk.tf");
  if (fs.existsSync(json)) {
    const config = JSON.parse(fs.readFileSync(json, "utf8")) as {
      resource?: { aws_autoscaling_group?: Record<string, unknown> };
    };
    return Object.keys(config.resource?.aws_autoscaling_group ?? {}).filter((name) => name.startsWith("master-"));
  }
  if (fs.existsSync(hcl)) {
    const text = fs.readFileSync(hcl, "utf8");
    return [...text.matchAll(/^resource "aws_autoscaling_group" "(master-[^"]+)"/gm)].map((m) => m[1]);
  }
  return undefined;
}

/**
 * One message per cluster whose new spec drops a master that the previous synthesis in `outdir` had.
 * Each message names the masters and gives the manual procedure.
 */
export function removedMasterProblems(specs: readonly ValidatedSpec[], outdir: string): string[] {
  const problems: string[] = [];
  for (const { spec } of specs) {
    const before = previousMasters(path.join(outdir, "stacks", spec.name));
    const now = new Set(spec.masters.map((m) => m.name));
    const removed = (before ?? []).filter((name) => !now.has(name));
    if (removed.length === 0) {
      continue;
    }
    problems.push(
      `${spec.name}: masterZones/masterCount: this change removes ${removed.join(", ")} ` +
        `(moving a master to another zone removes it and adds a new one). Terraform would destroy the ` +
        `master's auto-scaling group, and its etcd volumes are protected by prevent_destroy. Do it by hand: ` +
        `(1) back up etcd; (2) remove the master's member from both etcd clusters (etcdctl member remove, ` +
        `main on port 4001 and events on 4002) while quorum holds; (3) rerun with --allow-etcd-member-removal; ` +
        `(4) after the apply, delete or keep the detached etcd volumes deliberately (terraform state rm ` +
        `aws_ebs_volume.<member>-etcd-main-... to keep them). Adding masters needs none of this.`,
    );
  }
  return problems;
}
