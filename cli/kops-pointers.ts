/**
 * kops's words that kopsform answers differently. A kops user types them from habit; each gets one
 * line that points to the kopsform way, instead of commander's "unknown command" and a nearest-name
 * guess that would be wrong (`update` is not `create`).
 */

const SYNTH_APPLY = "run `npx kopsform synth`, review `npx kopsform plan`, then apply (`npx cdktf deploy NAME`, or terraform apply in cdktf.out/stacks/NAME)";
const IN_THE_SPEC =
  "instance groups are fields of the spec clusters/NAME.yaml (masters: masterZones and masterCount; workers: nodeCount, nodeSize and nodeGroups): `kopsform edit cluster NAME`";

/** [words the command line starts with (flags skipped), the pointer] */
const POINTERS: readonly (readonly [readonly string[], string])[] = [
  [["update"], `kopsform has no update: Terraform applies the changes. After editing the spec, ${SYNTH_APPLY}.`],
  [["upgrade"], "kopsform has no upgrade: set kubernetesVersion in the spec (`kopsform edit cluster NAME`, one minor version at a time), synth and apply, then `kopsform rolling-update cluster NAME --yes`."],
  [["replace"], "kopsform has no replace: edit the spec with `kopsform edit cluster NAME` (a kops manifest comes over with `kopsform import kops FILE`)."],
  [["set"], "kopsform has no set: edit the spec with `kopsform edit cluster NAME`."],
  [["toolbox"], "kopsform has no toolbox: a kops cluster's manifest (kops get all -o yaml) comes over with `kopsform import kops FILE`."],
  [["get", "ig"], `kopsform has no get instancegroups: ${IN_THE_SPEC}; what runs: \`kopsform validate cluster NAME\`.`],
  [["get", "instancegroup"], `kopsform has no get instancegroups: ${IN_THE_SPEC}; what runs: \`kopsform validate cluster NAME\`.`],
  [["get", "instancegroups"], `kopsform has no get instancegroups: ${IN_THE_SPEC}; what runs: \`kopsform validate cluster NAME\`.`],
  [["get", "instances"], "kopsform has no get instances: `kopsform validate cluster NAME` lists the groups, instances and Nodes."],
  [["get", "all"], "kopsform has no get all: `kopsform get clusters` lists the clusters; the spec clusters/NAME.yaml holds everything else."],
  [["get", "secrets"], "kopsform keeps no secret store: the cluster's CAs are in SSM under /kopsform/NAME/pki/; for admin access run `kopsform export kubecfg NAME --admin`."],
  [["create", "secret"], "kopsform keeps no secret store: the cluster's CAs are created by the first master, in SSM under /kopsform/NAME/pki/."],
  [["create", "ig"], `kopsform has no create instancegroup: add a node group under nodeGroups; ${IN_THE_SPEC}.`],
  [["create", "instancegroup"], `kopsform has no create instancegroup: add a node group under nodeGroups; ${IN_THE_SPEC}.`],
  [["edit", "ig"], `kopsform has no edit instancegroup: ${IN_THE_SPEC}.`],
  [["edit", "instancegroup"], `kopsform has no edit instancegroup: ${IN_THE_SPEC}.`],
  [["delete", "ig"], `kopsform has no delete instancegroup: remove the node group from nodeGroups; ${IN_THE_SPEC}. Removing a master has its own procedure (README, Masters and etcd).`],
  [["delete", "instancegroup"], `kopsform has no delete instancegroup: remove the node group from nodeGroups; ${IN_THE_SPEC}. Removing a master has its own procedure (README, Masters and etcd).`],
  [["delete", "instance"], "kopsform has no delete instance: `kopsform rolling-update cluster NAME --instance-group G --force --yes` replaces a group's instances safely."],
];

/** The first words of a command line, flags and their values left out. */
function words(argv: readonly string[]): string[] {
  return argv.filter((a) => !a.startsWith("-")).slice(0, 2).map((w) => w.toLowerCase());
}

/** The pointer for a kops command line kopsform answers differently, or undefined. */
export function kopsPointer(argv: readonly string[]): string | undefined {
  const w = words(argv);
  if (w[0] === "create" && argv.some((a) => a === "-f" || a === "--filename" || a.startsWith("--filename=") || a.startsWith("-f="))) {
    return "kopsform create takes kops's flags (`kopsform create cluster --zones ... NAME`); a kops manifest comes over with `kopsform import kops FILE`.";
  }
  if (argv.some((a) => a === "--target" || a.startsWith("--target="))) {
    return "--target: kopsform always writes Terraform: `npx kopsform synth` writes cdktf.out/stacks/NAME/cdk.tf.json (--hcl: cdk.tf); there is no other target.";
  }
  if (w[0] === "rolling-update" && argv.some((a) => a === "--cloudonly" || a.startsWith("--cloudonly="))) {
    return "--cloudonly: kopsform always confirms health through the cluster's API between replacements (etcd's quorum depends on it); leave it out.";
  }
  for (const [prefix, pointer] of POINTERS) {
    if (prefix.every((p, i) => w[i] === p)) {
      return pointer;
    }
  }
  return undefined;
}
