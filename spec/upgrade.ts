/**
 * Kubernetes upgrades, checked against the committed record of what is deployed. A cluster moves one
 * minor version at a time and never down (Kubernetes' version skew policy; kops refuses the same at
 * `kops update cluster`). kops compares with the spec it last applied, kept in its state store;
 * kopsform has no state store, and `cdktf.out/` is not committed, so the record lives in the spec
 * itself: `deployedKubernetesVersion`, written by `kopsform create cluster` and moved forward by
 * `kopsform rolling-update` once every Node runs the new version. Each move is a reviewed change in git.
 */

/** A parsed `major.minor.patch` version. */
export interface KubernetesVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** Parses `1.33.5` or `v1.33.5` (what the spec check accepts, and what a kubelet reports). */
export function parseKubernetesVersion(value: string): KubernetesVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(value.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Negative when `a` is older than `b`, 0 when equal, positive when newer. */
export function compareKubernetesVersions(a: KubernetesVersion, b: KubernetesVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * Why `kubernetesVersion` may not follow the deployed `deployed`, or undefined when it may: the same
 * or a later patch of the same minor, or any patch of the next minor. Messages name the fix.
 */
export function upgradeProblem(name: string, wanted: string, deployed: string): string | undefined {
  const to = parseKubernetesVersion(wanted);
  const from = parseKubernetesVersion(deployed);
  if (!to || !from) {
    return undefined; // the version checks of the schema report these
  }
  const notDeployedYet =
    "If the cluster was never deployed, set deployedKubernetesVersion to the same version.";
  if (compareKubernetesVersions(to, from) < 0) {
    return (
      `${wanted} is older than the deployed ${deployed} (deployedKubernetesVersion); Kubernetes does not ` +
      `support downgrades (etcd data written by a newer API server may not be readable). Keep ${deployed} or ` +
      `newer. ${notDeployedYet}`
    );
  }
  if (to.major !== from.major) {
    return `${wanted} changes the major version of the deployed ${deployed}; kopsform upgrades within one major version. ${notDeployedYet}`;
  }
  if (to.minor > from.minor + 1) {
    const next = `${from.major}.${from.minor + 1}`;
    return (
      `${wanted} skips minor version ${next} from the deployed ${deployed} (deployedKubernetesVersion); ` +
      `Kubernetes upgrades one minor version at a time: set ${next}.x, apply, then ` +
      `\`kopsform rolling-update cluster ${name} --yes\` (which records it), then go on. ${notDeployedYet}`
    );
  }
  return undefined;
}
