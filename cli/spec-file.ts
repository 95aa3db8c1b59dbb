/**
 * Writing cluster specs, shared by `create cluster` and `import kops`: the spec's YAML (what was given,
 * plus the defaults pinned as kops pins them), written atomically, never over an existing file without
 * `--yes`.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { ClusterSpec } from "../spec/types";

/** `DIR/NAME.yaml`. */
export function specPath(configDir: string, name: string): string {
  return path.join(configDir, `${name}.yaml`);
}

/**
 * Refuses to overwrite: a message naming the first of `files` that exists (unless `yes`), or undefined.
 * The caller adds what else the user could do.
 */
export function existingFiles(files: readonly string[], yes: boolean | undefined): string | undefined {
  const existing = yes ? undefined : files.find((f) => fs.existsSync(f));
  return existing ? `${existing} already exists; pass --yes to overwrite it` : undefined;
}

/**
 * The spec file: the given fields, and the defaults that a later kopsform release must not change under
 * a running cluster (Kubernetes version, master layout, sizes, network), pinned as kops pins them in its
 * cluster spec. `writtenBy` names the command in the header comment.
 */
export function specYaml(spec: ClusterSpec, raw: Readonly<Record<string, unknown>>, writtenBy: string): string {
  const nodes = spec.nodeGroups[0];
  const pinned: Record<string, unknown> = {
    name: spec.name,
    zones: spec.zones,
    kubernetesVersion: spec.kubernetesVersion,
    // The record upgrades are checked against (spec/upgrade.ts): the version the cluster runs, or the
    // one its first apply deploys.
    deployedKubernetesVersion: spec.deployedKubernetesVersion ?? spec.kubernetesVersion,
    masterZones: spec.masterZones,
    masterCount: spec.masterCount,
    masterSize: spec.masterSize,
    masterVolumeSize: spec.masterVolumeSize,
    nodeCount: nodes.minSize,
    nodeSize: nodes.size,
    nodeVolumeSize: nodes.volumeSize,
    topology: spec.topology,
    networking: spec.networking,
    networkCidr: spec.networkCidr,
    etcdStorageType: spec.etcd.storageType,
    etcdVolumeSize: spec.etcd.volumeSize,
    // The record of the cluster's etcd members, as kops's etcdClusters.members: from now on, removing a
    // master means retiring its member here (see README, "Removing a master").
    etcdMembers: spec.etcdMembers,
    ...(spec.retiredEtcdMembers.length > 0 ? { retiredEtcdMembers: spec.retiredEtcdMembers } : {}),
  };
  return (
    `# Cluster spec for kopsform (${writtenBy}; edit and review it in git).\n` +
    "# Fields and defaults: see README.md. Synthesize with `npx kopsform synth`.\n" +
    // Pinned fields first, with their resolved values (aliases canonical); then the other given fields.
    YAML.stringify({ ...pinned, ...raw, ...pinned }, { lineWidth: 0 })
  );
}

/** Writes through a temporary file and a rename, so a failed write never leaves half a file. */
export function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
