/**
 * The add-ons a cluster runs, pinned: per add-on its version, the official release location of each
 * artifact (a URL that names the version), the artifact's sha256 (per architecture where the artifact
 * differs) and the Kubernetes versions it supports. This is the one table; `boot/addons/pins.tsv` is
 * its rendering for the boot scripts ({@link renderPinsTsv}; a test keeps the two equal).
 *
 * Why pins and not copies: an upstream manifest or chart is fetched at boot from where its project
 * publishes it, and applied only if its sha256 is the one written here. The repository holds facts
 * about upstream releases (version, URL, checksum), never the releases themselves.
 *
 * Where each sha256 comes from is recorded per artifact (`checksumSource`): a chart repository's
 * `index.yaml` digest (helm's own integrity field), kubespray's checksum table, or the sha256 of the
 * file at the release tag in the upstream repository (the bytes the tagged raw URL serves; kubespray
 * pins calico's CRDs the same way, and its published values match this method).
 */

/** The CPU architectures kopsform builds instances for. */
export const ARCHITECTURES = ["amd64", "arm64"] as const;
export type Arch = (typeof ARCHITECTURES)[number];

/** The add-ons kopsform can install. */
export const ADDON_NAMES = [
  "helm",
  "calico",
  "cilium",
  "flannel",
  "amazon-vpc-routed-eni",
  "kopeio-vxlan",
  "weave",
  "aws-cloud-controller-manager",
  "aws-ebs-csi-driver",
  "aws-node-termination-handler",
] as const;
export type AddonName = (typeof ADDON_NAMES)[number];

/** A Kubernetes minor version, `1.33`. */
export type KubernetesMinor = `${number}.${number}`;

/** One file the boot step fetches. */
export interface PinnedArtifact {
  /** The local file name the boot step stores and refers to it by. */
  readonly file: string;
  /**
   * `manifest`: Kubernetes objects, applied server-side; `chart`: a Helm chart, rendered by the pinned
   * helm with values the spec decides; `tool`: a tarball holding a binary (helm itself).
   */
  readonly kind: "manifest" | "chart" | "tool";
  /** The official release location, one URL for every architecture or one per architecture. */
  readonly url: string | Readonly<Record<Arch, string>>;
  /** Lower-case hex sha256 of the bytes at `url` (per architecture when `url` is). */
  readonly sha256: string | Readonly<Record<Arch, string>>;
  /** Where the sha256 was read. */
  readonly checksumSource: string;
}

/** One add-on and what pins it. */
export interface AddonPin {
  readonly name: AddonName;
  /** The upstream version (for kopeio-vxlan, which tags no releases, the commit). */
  readonly version: string;
  /** The Kubernetes minor versions the add-on supports, inclusive, and who says so. */
  readonly kubernetes: { readonly min: KubernetesMinor; readonly max: KubernetesMinor; readonly source: string };
  readonly artifacts: readonly PinnedArtifact[];
  /**
   * Image tags the boot step sets (kustomize `images`), for manifests that name a moving tag such as
   * `latest`, or per Kubernetes minor where the add-on's version must follow Kubernetes's (the cloud
   * controller manager). Keys are image names; a value is a tag, or tags by Kubernetes minor.
   * @default none
   */
  readonly images?: Readonly<Record<string, string | Readonly<Record<KubernetesMinor, string>>>>;
  /** Set for an add-on its upstream no longer maintains: synthesis warns and names alternatives. */
  readonly unmaintained?: { readonly since: string; readonly alternatives: readonly string[] };
}

const KUBESPRAY_CHECKSUMS = "kubespray roles/kubespray_defaults/vars/main/checksums.yml";

/** Every pinned add-on. */
export const ADDON_PINS: Readonly<Record<AddonName, AddonPin>> = {
  helm: {
    name: "helm",
    version: "3.18.4",
    kubernetes: {
      min: "1.30",
      max: "1.35",
      source:
        "helm only renders charts here (helm template --kube-version, no connection to the cluster), so the API server's " +
        "version does not bind it; Helm's skew policy (3.18: 1.30 to 1.33) is about talking to a cluster",
    },
    artifacts: [
      {
        file: "helm.tar.gz",
        kind: "tool",
        url: {
          amd64: "https://get.helm.sh/helm-v3.18.4-linux-amd64.tar.gz",
          arm64: "https://get.helm.sh/helm-v3.18.4-linux-arm64.tar.gz",
        },
        sha256: {
          amd64: "f8180838c23d7c7d797b208861fecb591d9ce1690d8704ed1e4cb8e2add966c1",
          arm64: "c0a45e67eef0c7416a8a8c9e9d5d2d30d70e4f4d3f7bea5de28241fffa8f3b89",
        },
        checksumSource: `${KUBESPRAY_CHECKSUMS} (helm_archive_checksums 3.18.4)`,
      },
    ],
  },
  calico: {
    name: "calico",
    version: "3.31.7",
    kubernetes: { min: "1.32", max: "1.35", source: "Calico 3.31 system requirements (Kubernetes 1.32 to 1.35)" },
    artifacts: [
      {
        file: "operator-crds.yaml",
        kind: "manifest",
        url: "https://raw.githubusercontent.com/projectcalico/calico/v3.31.7/manifests/operator-crds.yaml",
        sha256: "380414d5756e9a1af29ddb1ad70cada07aa344ae7a2680ba7355248621f8adbf",
        checksumSource: "the file at tag v3.31.7 of projectcalico/calico",
      },
      {
        file: "tigera-operator.yaml",
        kind: "manifest",
        url: "https://raw.githubusercontent.com/projectcalico/calico/v3.31.7/manifests/tigera-operator.yaml",
        sha256: "092c10b3d0cb73617aca51367ca59755348f4647e6d2e63fa4e5b81266203214",
        checksumSource: "the file at tag v3.31.7 of projectcalico/calico",
      },
    ],
  },
  cilium: {
    name: "cilium",
    version: "1.19.6",
    kubernetes: {
      min: "1.32",
      max: "1.35",
      source:
        "Cilium e2e-tests each release on the Kubernetes releases supported when it branches (1.18: 1.30 to 1.33); " +
        "1.19 branched with 1.32 to 1.35 supported",
    },
    artifacts: [
      {
        file: "cilium.tgz",
        kind: "chart",
        url: "https://helm.cilium.io/cilium-1.19.6.tgz",
        sha256: "21c43cf53841f9ab0375047d95aa4c64051ea52bbd2c679416e6408f5f1c9179",
        checksumSource: "the digest in index.yaml of cilium/charts (helm.cilium.io)",
      },
    ],
  },
  flannel: {
    name: "flannel",
    version: "0.28.9",
    kubernetes: {
      min: "1.28",
      max: "1.35",
      source: "flannel declares no range; it uses core APIs only (nodes, configmaps), stable since long before 1.28",
    },
    artifacts: [
      {
        file: "kube-flannel.yml",
        kind: "manifest",
        url: "https://raw.githubusercontent.com/flannel-io/flannel/v0.28.9/Documentation/kube-flannel.yml",
        sha256: "e875824be2f552b45711dbda91af81b17eb961d00025d914d9fef18fad8f09c0",
        checksumSource: "the file at tag v0.28.9 of flannel-io/flannel",
      },
    ],
  },
  "amazon-vpc-routed-eni": {
    name: "amazon-vpc-routed-eni",
    version: "1.22.4",
    kubernetes: {
      min: "1.29",
      max: "1.35",
      source: "Amazon VPC CNI 1.22 is the recommended add-on version for every Kubernetes version Amazon EKS supports",
    },
    artifacts: [
      {
        file: "aws-vpc-cni.tgz",
        kind: "chart",
        url: "https://aws.github.io/eks-charts/aws-vpc-cni-1.22.4.tgz",
        sha256: "38128ca8fe6e32aeea82dbd147050a3eee792fb42f37dd8e528e1867089c173c",
        checksumSource: "the digest in index.yaml of aws/eks-charts (aws.github.io/eks-charts)",
      },
    ],
  },
  "kopeio-vxlan": {
    name: "kopeio-vxlan",
    version: "84442054ada1ddca019fe4b1e7d92b7e47d2d45c",
    kubernetes: {
      min: "1.16",
      max: "1.35",
      source: "kopeio/networking tags no releases; its agent uses core APIs only, and kops still ships it for current Kubernetes",
    },
    artifacts: [
      {
        file: "kopeio-networking.yaml",
        kind: "manifest",
        url: "https://raw.githubusercontent.com/kopeio/networking/84442054ada1ddca019fe4b1e7d92b7e47d2d45c/k8s/kopeio-networking.yaml",
        sha256: "b43bc5de02e6b85505d2da77019dfe1fed4a45408216f29a9726f702220d23da",
        checksumSource: "the file at commit 84442054 of kopeio/networking",
      },
    ],
    // The manifest names the agent's `latest` tag; this is the tag kops ships.
    images: { "kopeio/networking-agent": "1.0.20181028" },
  },
  weave: {
    name: "weave",
    version: "2.8.1",
    kubernetes: {
      min: "1.16",
      max: "1.34",
      source:
        "kopsform's own bound: Weave Net is unmaintained and was tested upstream only up to 1.2x; its manifest uses APIs served " +
        "through 1.34 (apps/v1, rbac.authorization.k8s.io/v1)",
    },
    artifacts: [
      {
        file: "weave-daemonset-k8s-1.11.yaml",
        kind: "manifest",
        url: "https://raw.githubusercontent.com/weaveworks/weave/v2.8.1/prog/weave-kube/weave-daemonset-k8s-1.11.yaml",
        sha256: "a2410c91152fdead60084a750d5041749e95350c038a9832e7dff71f85b52c9c",
        checksumSource: "the file at tag v2.8.1 of weaveworks/weave",
      },
    ],
    // The tagged manifest names `latest`; the release's images are 2.8.1.
    images: { "weaveworks/weave-kube": "2.8.1", "weaveworks/weave-npc": "2.8.1" },
    unmaintained: { since: "2024", alternatives: ["cilium", "calico", "flannel"] },
  },
  "aws-cloud-controller-manager": {
    name: "aws-cloud-controller-manager",
    version: "0.0.9",
    kubernetes: {
      min: "1.32",
      max: "1.34",
      source: "cloud-provider-aws releases one minor per Kubernetes minor; kopsform pins an image for each minor it supports",
    },
    artifacts: [
      {
        file: "aws-cloud-controller-manager.tgz",
        kind: "chart",
        url: "https://github.com/kubernetes/cloud-provider-aws/releases/download/helm-chart-aws-cloud-controller-manager-0.0.9/aws-cloud-controller-manager-0.0.9.tgz",
        sha256: "9a22d3632a323407874d28893952b12694676677c37a4edfc85729c3988fe3af",
        checksumSource: "the digest in index.yaml of kubernetes/cloud-provider-aws (gh-pages)",
      },
    ],
    images: {
      "registry.k8s.io/provider-aws/cloud-controller-manager": { "1.32": "v1.32.8", "1.33": "v1.33.4", "1.34": "v1.34.3" },
    },
  },
  "aws-ebs-csi-driver": {
    name: "aws-ebs-csi-driver",
    version: "2.64.0",
    kubernetes: {
      min: "1.28",
      max: "1.35",
      source: "aws-ebs-csi-driver README: compatible with every Kubernetes version the Kubernetes project or Amazon EKS supports",
    },
    artifacts: [
      {
        file: "aws-ebs-csi-driver.tgz",
        kind: "chart",
        url: "https://github.com/kubernetes-sigs/aws-ebs-csi-driver/releases/download/helm-chart-aws-ebs-csi-driver-2.64.0/aws-ebs-csi-driver-2.64.0.tgz",
        sha256: "af082a48b9117b948777cb585b753b58b397a4b1c929f809e14661b84bb911bb",
        checksumSource: "the digest in index.yaml of kubernetes-sigs/aws-ebs-csi-driver (gh-pages)",
      },
    ],
  },
  "aws-node-termination-handler": {
    name: "aws-node-termination-handler",
    version: "0.21.0",
    kubernetes: { min: "1.16", max: "1.35", source: "the chart's kubeVersion (>= 1.16); node-termination-handler 1.19 supports current Kubernetes" },
    artifacts: [
      {
        file: "aws-node-termination-handler.tgz",
        kind: "chart",
        url: "https://aws.github.io/eks-charts/aws-node-termination-handler-0.21.0.tgz",
        sha256: "1ecfd0f542aaf2cf93c31fad72e09ff006c32119653a4ddf8ce4b5f2464f286b",
        checksumSource: "the digest in index.yaml of aws/eks-charts (aws.github.io/eks-charts)",
      },
    ],
  },
};

/** The artifact's URL and sha256 for one architecture. */
export function artifactFor(artifact: PinnedArtifact, arch: Arch): { readonly url: string; readonly sha256: string } {
  return {
    url: typeof artifact.url === "string" ? artifact.url : artifact.url[arch],
    sha256: typeof artifact.sha256 === "string" ? artifact.sha256 : artifact.sha256[arch],
  };
}

/** `1.33.5` -> `1.33`. */
export function kubernetesMinor(version: string): KubernetesMinor {
  const [major, minor] = version.replace(/^v/, "").split(".");
  return `${Number(major)}.${Number(minor)}` as KubernetesMinor;
}

/** Orders minors numerically: negative when a < b. */
export function compareMinors(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return am !== bm ? am - bm : an - bn;
}

/** Whether an add-on supports a Kubernetes version (by minor). */
export function supportsKubernetes(pin: AddonPin, version: string): boolean {
  const minor = kubernetesMinor(version);
  return compareMinors(pin.kubernetes.min, minor) <= 0 && compareMinors(minor, pin.kubernetes.max) <= 0;
}

/** The header of the rendered table; the boot step reads columns by position. */
export const PINS_TSV_HEADER = ["addon", "kind", "key", "select", "value", "sha256"] as const;

/**
 * The table as the boot scripts read it (`boot/addons/pins.tsv`): tab-separated, one row per
 * artifact and architecture or per image tag, in the table's order.
 *
 * - `addon  version  -  all  VERSION  -` (first: what the boot step records as applied)
 * - `addon  manifest|chart|tool  FILE  all|amd64|arm64  URL  SHA256`
 * - `addon  image  IMAGE  all|k8s-1.33  TAG  -`
 *
 * `select` says when a row applies: always, on one architecture, or on one Kubernetes minor.
 */
export function renderPinsTsv(pins: Readonly<Record<string, AddonPin>> = ADDON_PINS): string {
  const lines = [
    "# The add-ons' pins, rendered from spec/pins.ts (npm run pins); do not edit by hand.",
    PINS_TSV_HEADER.join("\t"),
  ];
  for (const pin of Object.values(pins)) {
    lines.push([pin.name, "version", "-", "all", pin.version, "-"].join("\t"));
    for (const artifact of pin.artifacts) {
      if (typeof artifact.url === "string" && typeof artifact.sha256 === "string") {
        lines.push([pin.name, artifact.kind, artifact.file, "all", artifact.url, artifact.sha256].join("\t"));
        continue;
      }
      for (const arch of ARCHITECTURES) {
        const { url, sha256 } = artifactFor(artifact, arch);
        lines.push([pin.name, artifact.kind, artifact.file, arch, url, sha256].join("\t"));
      }
    }
    for (const [image, tag] of Object.entries(pin.images ?? {})) {
      if (typeof tag === "string") {
        lines.push([pin.name, "image", image, "all", tag, "-"].join("\t"));
        continue;
      }
      for (const [minor, minorTag] of Object.entries(tag)) {
        lines.push([pin.name, "image", image, `k8s-${minor}`, minorTag, "-"].join("\t"));
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
