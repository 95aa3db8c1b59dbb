/**
 * Masters are not cattle: each owns etcd volumes and an etcd membership. The guarantee that no
 * workflow deletes etcd data lives in the committed spec (spec/etcd-members.ts): the layout must give
 * exactly the recorded `etcdMembers`, and a retired member's volumes are forgotten by Terraform
 * (`removed` blocks), never destroyed. That holds in a fresh clone, in CI and in `cdktf deploy`.
 *
 * This module adds one check where a previous synthesis exists (a working copy, not a fresh clone):
 * a member whose volumes the previous configuration in the output directory managed, and which the
 * new spec neither records nor retires, was deleted from the record instead of retired; the apply
 * would destroy its volumes. The previous output is git-ignored, so this is an extra, never the guard.
 */
import * as fs from "fs";
import * as path from "path";
import { ValidatedSpec } from "../spec/validate";
import { ETCD_CLUSTERS, etcdVolumeName } from "../modules/etcd-volumes";
import { clusterSlug } from "../modules/names";

/**
 * The etcd members whose volumes a previously synthesized stack (JSON or HCL) manages, or undefined
 * when there is no previous stack.
 */
export function previousEtcdMembers(stackDir: string, clusterName: string): string[] | undefined {
  const json = path.join(stackDir, "cdk.tf.json");
  const hcl = path.join(stackDir, "cdk.tf");
  let volumes: string[];
  if (fs.existsSync(json)) {
    const config = JSON.parse(fs.readFileSync(json, "utf8")) as { resource?: { aws_ebs_volume?: Record<string, unknown> } };
    volumes = Object.keys(config.resource?.aws_ebs_volume ?? {});
  } else if (fs.existsSync(hcl)) {
    volumes = [...fs.readFileSync(hcl, "utf8").matchAll(/^resource "aws_ebs_volume" "([^"]+)"/gm)].map((m) => m[1]);
  } else {
    return undefined;
  }
  const suffix = `-etcd-${ETCD_CLUSTERS[0].name}-${clusterSlug(clusterName)}`;
  return volumes.filter((v) => v.endsWith(suffix)).map((v) => v.slice(0, -suffix.length));
}

/**
 * One message per cluster whose spec drops, from both `etcdMembers` and `retiredEtcdMembers`, a member
 * whose volumes the previous synthesis in `outdir` managed. Each message names the volumes and says
 * to retire the member instead.
 */
export function removedMasterProblems(specs: readonly ValidatedSpec[], outdir: string): string[] {
  const problems: string[] = [];
  for (const { spec } of specs) {
    const before = previousEtcdMembers(path.join(outdir, "stacks", spec.name), spec.name) ?? [];
    const known = new Set([...spec.etcdMembers, ...spec.retiredEtcdMembers]);
    const dropped = before.filter((member) => !known.has(member));
    if (dropped.length === 0) {
      continue;
    }
    const volumes = dropped.flatMap((member) =>
      ETCD_CLUSTERS.map((etcd) => `aws_ebs_volume.${etcdVolumeName(member, etcd, spec.name)}`),
    );
    problems.push(
      `${spec.name}: etcdMembers: ${dropped.join(", ")} ${dropped.length === 1 ? "is" : "are"} gone from both etcdMembers ` +
        `and retiredEtcdMembers, but the previous synthesis in ${outdir} manages ${dropped.length === 1 ? "its" : "their"} ` +
        `volumes ${volumes.join(", ")}: the apply would destroy them. Retire ${dropped.length === 1 ? "it" : "them"} instead: ` +
        `add ${dropped.join(", ")} to retiredEtcdMembers (after removing ${dropped.length === 1 ? "it" : "them"} from etcd ` +
        "with etcdctl member remove, see the README's \"Removing a master\"), so that Terraform forgets the volumes. " +
        "To have Terraform delete them anyway, rerun with --allow-etcd-member-removal.",
    );
  }
  return problems;
}
