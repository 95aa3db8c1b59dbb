/**
 * Which add-ons a cluster's cluster-wide step installs, in order, and the facts the boot step
 * (`boot/addons.sh`) reads: everything here is decided by the spec, once, and handed to the instances
 * as data (the lead's `/etc/kopsform/cluster.env`), never re-derived on a machine.
 */
import { NETWORKING_FACTS } from "./networking";
import { AddonName } from "./pins";
import { ClusterSpec } from "./types";

/** What the cluster-wide step installs. */
export interface AddonPlan {
  /**
   * The add-ons in the order they are applied: the cloud controller first (nodes keep the
   * `node.cloudprovider.kubernetes.io/uninitialized` taint until it runs, and it runs on the masters'
   * host network, so it needs no pod network), then the pod network, then the storage driver and the
   * termination handler, which need pods.
   */
  readonly addons: readonly AddonName[];
  /** Whether kube-proxy is installed (false where the pod network replaces it: cilium). */
  readonly kubeProxy: boolean;
}

/** The add-ons of a cluster. */
export function clusterAddons(spec: Pick<ClusterSpec, "networking">): AddonPlan {
  const facts = NETWORKING_FACTS[spec.networking];
  return {
    addons: [
      "aws-cloud-controller-manager",
      ...(facts.addon ? [facts.addon] : []),
      "aws-ebs-csi-driver",
      "aws-node-termination-handler",
    ],
    kubeProxy: facts.kubeProxy,
  };
}

/**
 * The add-on facts for an instance's `cluster.env`, as `boot/addons.sh` reads them: `ADDONS` (names in
 * order, space-separated), `KUBE_PROXY` (`true`/`false`), `POD_CIDR`, `NETWORKING`, and
 * `ADDONS_MIRROR` (empty without a mirror). Every value is a validated plain word or URL.
 */
export function addonFacts(
  spec: Pick<ClusterSpec, "networking" | "podCidr" | "addonsMirror">,
): Readonly<Record<string, string>> {
  const plan = clusterAddons(spec);
  return {
    NETWORKING: spec.networking,
    ADDONS: plan.addons.join(" "),
    KUBE_PROXY: String(plan.kubeProxy),
    POD_CIDR: spec.podCidr,
    ADDONS_MIRROR: spec.addonsMirror ?? "",
  };
}
