/**
 * Which add-ons a cluster's cluster-wide step installs, in order, and the facts the boot step
 * (`boot/steps/addons.sh`) reads: everything here is decided by the spec, once, and handed to the instances
 * as data (`/etc/kopsform/cluster.env`), never re-derived on a machine.
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
 * What a master's boot needs to know of the add-ons (`boot/steps/addons.sh`), decided here once from
 * the spec; modules/user-data.ts writes it into cluster.env as `NETWORKING`, `ADDONS` (names in order,
 * comma-separated), `KUBE_PROXY` (`true`/`false`), `POD_CIDR` and `ADDONS_MIRROR` (empty: upstream).
 */
export interface AddonFacts {
  /** The `--networking` option. */
  readonly networking: string;
  /** The add-ons in the order they are applied ({@link AddonPlan.addons}). */
  readonly addons: readonly AddonName[];
  /** Whether kube-proxy is installed ({@link AddonPlan.kubeProxy}). */
  readonly kubeProxy: boolean;
  /** The pods' CIDR, e.g. 100.96.0.0/11. */
  readonly podCidr: string;
  /** Where to fetch the artifacts instead of upstream. @default none (upstream) */
  readonly mirror?: string;
}

/** The add-on facts of a cluster, for its masters' cluster.env. */
export function addonFacts(spec: Pick<ClusterSpec, "networking" | "kubernetes" | "addonsMirror">): AddonFacts {
  const plan = clusterAddons(spec);
  return {
    networking: spec.networking,
    addons: plan.addons,
    kubeProxy: plan.kubeProxy,
    podCidr: spec.kubernetes.podCidr,
    ...(spec.addonsMirror ? { mirror: spec.addonsMirror } : {}),
  };
}
