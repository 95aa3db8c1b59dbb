/**
 * Masters are not cattle: each owns etcd volumes and an etcd membership. Removing a master, or moving
 * one to another zone (which is removing it and adding another), needs the etcd member removed first
 * and the volumes dealt with by hand. This check compares the masters of a new synthesis with those of
 * the previous one in the output directory and refuses a silent removal.
 */
import * as fs from "fs";
import * as path from "path";
import { ValidatedSpec } from "../spec/validate";
import { ETCD_CLUSTERS } from "../modules/etcd-volumes";
import { clusterSlug } from "../modules/names";

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
    const volumes = removed.flatMap((master) => etcdVolumeAddresses(master, spec.name));
    problems.push(
      `${spec.name}: masterZones/masterCount: this change removes ${removed.join(", ")} ` +
        "(moving a master to another zone removes it and adds a new one). The apply would destroy its " +
        `auto-scaling group and its etcd volumes ${volumes.join(", ")}: prevent_destroy does not protect a ` +
        "volume whose resource is gone (kopsform plan refuses such a plan). Do it by hand: (1) back up etcd; " +
        "(2) remove the member from both etcd clusters (etcdctl member remove; main on port 4001, events on " +
        "4002) while quorum holds; (3) to keep the volumes, run terraform state rm " +
        `${volumes.join(" ")} in the stack directory before the apply; (4) rerun kopsform synth and ` +
        "kopsform plan with --allow-etcd-member-removal, then apply. Adding masters needs none of this.",
    );
  }
  return problems;
}

/** The etcd volumes of a master named `master-<zone>[-N]` (member `<letter>[-N]`, see spec/masters.ts). */
function etcdVolumeAddresses(master: string, clusterName: string): string[] {
  const m = /^master-(.+)([a-z])(-\d+)?$/.exec(master);
  const member = m ? `${m[2]}${m[3] ?? ""}` : master;
  return ETCD_CLUSTERS.map((etcd) => `aws_ebs_volume.${member}-etcd-${etcd.name}-${clusterSlug(clusterName)}`);
}
