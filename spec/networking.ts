/**
 * The `--networking` options kopsform supports, what each installs and what it needs from the
 * firewall, and the kops names it refuses with the reason. The boot logic and the security groups
 * read these facts; nothing else decides them.
 */
import { AddonName } from "./pins";

/**
 * The networking options kopsform installs (`cni`: none, the user brings a CNI). Every other kops
 * name is refused at the spec ({@link REFUSED_NETWORKING}); an option is never silently replaced.
 */
export const NETWORKING_OPTIONS = [
  "cilium",
  "calico",
  "flannel",
  "amazon-vpc-routed-eni",
  "kopeio-vxlan",
  "weave",
  "cni",
] as const;
export type Networking = (typeof NETWORKING_OPTIONS)[number];

/** kops's other names for these options, mapped to kopsform's (kops accepts both). */
export const NETWORKING_ALIASES: Readonly<Record<string, Networking>> = {
  kopeio: "kopeio-vxlan",
  "flannel-vxlan": "flannel",
  amazonvpc: "amazon-vpc-routed-eni",
};

/** kops names kopsform does not install, and why; the message names the supported options. */
export const REFUSED_NETWORKING: Readonly<Record<string, string>> = {
  kubenet:
    "needs the cloud controller to program one route per node into a single route table (at most 50 nodes), " +
    "which kopsform's per-zone private route tables do not allow",
  canal: "is deprecated by kops since 1.27 and removed for Kubernetes 1.28 and later; calico gives the same policy with its own networking",
  "kube-router": "is experimental in kops and not pinned by kopsform; calico gives BGP routing with network policy",
  external:
    "is kops's user-supplied DaemonSet on kubelet's kubenet plugin, which Kubernetes removed in 1.24; use cni to install your own CNI",
  "flannel-udp": "is flannel's slow userspace backend; use flannel (VXLAN)",
  kindnet: "is experimental in kops and not pinned by kopsform",
  "cilium-eni": "is not pinned by kopsform; use cilium (VXLAN) or amazon-vpc-routed-eni for pods on VPC addresses",
  "cilium-etcd": "needs an etcd for cilium, which kopsform does not run; use cilium",
  lyftvpc: "was removed from kops in 1.23",
  romana: "was removed from kops in 1.19",
};

/** One flow an option needs between instances (both directions, masters and nodes alike). */
export interface NetworkFlow {
  readonly protocol: "tcp" | "udp" | "ipip";
  /** The port (tcp, udp); none for IP-in-IP. */
  readonly port?: number;
  readonly what: string;
}

/** What an option installs and needs. */
export interface NetworkingFacts {
  /** The add-on that installs the pod network, or none (`cni`: the user's). */
  readonly addon?: AddonName;
  /**
   * Whether the cluster-wide step installs kube-proxy. False where the pod network replaces it
   * (cilium's kube-proxy replacement), so that the two never fight over Services.
   */
  readonly kubeProxy: boolean;
  /**
   * Whether pods get addresses from kopsform's pod CIDR (`podCidr`): false for the VPC CNI, whose pods
   * take addresses of the VPC's subnets.
   */
  readonly usesPodCidr: boolean;
  /** The flows between masters and nodes the option uses (the firewall must admit them). */
  readonly flows: readonly NetworkFlow[];
  /** One line for the README and the HA report. */
  readonly description: string;
}

/** The facts of each supported option. */
export const NETWORKING_FACTS: Readonly<Record<Networking, NetworkingFacts>> = {
  cilium: {
    addon: "cilium",
    kubeProxy: false,
    usesPodCidr: true,
    flows: [
      { protocol: "udp", port: 8472, what: "VXLAN tunnel" },
      { protocol: "tcp", port: 4240, what: "cilium health checks" },
      { protocol: "tcp", port: 4244, what: "Hubble peer service" },
    ],
    description: "Cilium in VXLAN tunnel mode with kube-proxy replacement (no kube-proxy is installed)",
  },
  calico: {
    addon: "calico",
    kubeProxy: true,
    usesPodCidr: true,
    flows: [
      { protocol: "tcp", port: 179, what: "BGP between calico nodes" },
      { protocol: "ipip", what: "IP-in-IP encapsulation" },
      { protocol: "tcp", port: 5473, what: "Typha" },
    ],
    description: "Calico (tigera operator) with BGP and IP-in-IP encapsulation",
  },
  flannel: {
    addon: "flannel",
    kubeProxy: true,
    usesPodCidr: true,
    flows: [{ protocol: "udp", port: 8472, what: "VXLAN tunnel" }],
    description: "flannel with the VXLAN backend",
  },
  "amazon-vpc-routed-eni": {
    addon: "amazon-vpc-routed-eni",
    kubeProxy: true,
    usesPodCidr: false,
    flows: [],
    description: "the Amazon VPC CNI: pods take addresses of the VPC's subnets on secondary network interfaces, no overlay",
  },
  "kopeio-vxlan": {
    addon: "kopeio-vxlan",
    kubeProxy: true,
    usesPodCidr: true,
    flows: [{ protocol: "udp", port: 4789, what: "VXLAN tunnel" }],
    description: "kopeio networking in VXLAN mode",
  },
  weave: {
    addon: "weave",
    kubeProxy: true,
    usesPodCidr: true,
    flows: [
      { protocol: "tcp", port: 6783, what: "weave control" },
      { protocol: "udp", port: 6783, what: "weave data (fast datapath)" },
      { protocol: "udp", port: 6784, what: "weave data (fast datapath, VXLAN)" },
    ],
    description: "Weave Net 2.8.1, its last release (unmaintained since 2024)",
  },
  cni: {
    kubeProxy: true,
    usesPodCidr: true,
    flows: [],
    description: "no pod network: bring your own CNI (nodes stay NotReady until you apply one)",
  },
};

/** The message for a networking value that is not supported, or undefined for a supported one. */
export function checkNetworking(value: string): string | undefined {
  if ((NETWORKING_OPTIONS as readonly string[]).includes(value)) {
    return undefined;
  }
  const supported = `kopsform installs ${NETWORKING_OPTIONS.join(", ")}`;
  const reason = REFUSED_NETWORKING[value];
  if (reason) {
    return `${JSON.stringify(value)} ${reason}. ${supported}.`;
  }
  return `${JSON.stringify(value)} is not a networking option kopsform installs; ${supported}.`;
}
