/**
 * The add-ons as the spec decides them: the pins table is complete and consistent (every artifact's
 * URL names its version, every sha256 is a sha256, every Kubernetes version the spec accepts is in
 * every add-on's range), `--networking` accepts what kopsform installs and refuses the rest with the
 * supported list, and the facts the boot step reads follow the spec.
 */
import * as fs from "fs";
import * as path from "path";
import { addonFacts, clusterAddons } from "../spec/addons";
import { checkMirrorUrl, checkSupportedKubernetes } from "../spec/checks";
import { DEFAULT_KUBERNETES_VERSION, SUPPORTED_KUBERNETES } from "../spec/defaults";
import { NETWORKING_FACTS, NETWORKING_OPTIONS, REFUSED_NETWORKING } from "../spec/networking";
import {
  ADDON_NAMES,
  ADDON_PINS,
  ARCHITECTURES,
  AddonPin,
  artifactFor,
  compareMinors,
  renderPinsTsv,
  supportsKubernetes,
} from "../spec/pins";
import { InvalidInputError } from "../spec/problems";
import { validateClusterSpec } from "../spec/validate";
import { SEED_1, SEED_2, validSpec } from "./helpers/cluster";
import { withEtcdRecord } from "./helpers/specs";

const base = { name: "hacluster.example.com", zones: ["us-west-2a", "us-west-2b", "us-west-2c"] };

function problemsOf(fields: Record<string, unknown>): string[] {
  try {
    validateClusterSpec(withEtcdRecord(fields), { kind: "file", path: "clusters/x.yaml" });
  } catch (e) {
    if (e instanceof InvalidInputError) {
      return e.problems.map((p) => `${p.field}: ${p.message}`);
    }
    throw e;
  }
  return [];
}

/** Every Kubernetes minor from SUPPORTED_KUBERNETES.min to .max. */
function supportedMinors(): string[] {
  const [major, lo] = SUPPORTED_KUBERNETES.min.split(".").map(Number);
  const hi = Number(SUPPORTED_KUBERNETES.max.split(".")[1]);
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${major}.${lo + i}`);
}

describe("the pins table", () => {
  const pins: [string, AddonPin][] = Object.entries(ADDON_PINS);

  it("pins every add-on kopsform installs, under its own name", () => {
    expect(Object.keys(ADDON_PINS).sort()).toEqual([...ADDON_NAMES].sort());
    for (const [key, pin] of pins) {
      expect(pin.name).toBe(key);
    }
  });

  it.each(pins)("%s: every artifact has an https URL naming the version and a sha256 per architecture", (_name, pin) => {
    expect(pin.artifacts.length).toBeGreaterThan(0);
    const files = pin.artifacts.map((a) => a.file);
    expect(new Set(files).size).toBe(files.length);
    for (const artifact of pin.artifacts) {
      expect(artifact.file).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(artifact.checksumSource.length).toBeGreaterThan(10);
      for (const arch of ARCHITECTURES) {
        const { url, sha256 } = artifactFor(artifact, arch);
        expect(sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(url).toMatch(/^https:\/\/[a-z0-9.-]+\/[A-Za-z0-9._~/-]+$/);
        // The URL names the release (as a path segment or inside a file name), never a moving ref.
        expect(url).toMatch(new RegExp(`[/v-]${pin.version.replace(/\./g, "\\.")}[/.-]`));
        expect(url).not.toMatch(/\/(latest|master|main|HEAD)\//);
      }
      if (typeof artifact.url !== "string" || typeof artifact.sha256 !== "string") {
        // A per-architecture artifact differs per architecture: both URL and checksum are per architecture.
        expect(typeof artifact.url).toBe("object");
        expect(typeof artifact.sha256).toBe("object");
        const sums = ARCHITECTURES.map((a) => artifactFor(artifact, a).sha256);
        expect(new Set(sums).size).toBe(ARCHITECTURES.length);
      }
    }
  });

  it.each(pins)("%s: supports every Kubernetes version the spec accepts", (_name, pin) => {
    expect(compareMinors(pin.kubernetes.min, pin.kubernetes.max)).toBeLessThanOrEqual(0);
    expect(pin.kubernetes.source.length).toBeGreaterThan(10);
    for (const minor of supportedMinors()) {
      expect([minor, supportsKubernetes(pin, `${minor}.0`)]).toEqual([minor, true]);
    }
  });

  it.each(pins)("%s: pins images by tag, never latest, and for every supported minor where it follows Kubernetes", (_name, pin) => {
    for (const [image, tag] of Object.entries(pin.images ?? {})) {
      const tags = typeof tag === "string" ? [tag] : Object.values(tag);
      for (const t of tags) {
        expect([image, t]).toEqual([image, expect.stringMatching(/^v?\d+\.\d+\.\d+$/)]);
      }
      if (typeof tag !== "string") {
        expect(Object.keys(tag).sort()).toEqual(supportedMinors());
        for (const [minor, t] of Object.entries(tag)) {
          expect(t.replace(/^v/, "").startsWith(`${minor}.`)).toBe(true);
        }
      }
    }
  });

  it("accepts exactly the Kubernetes versions of SUPPORTED_KUBERNETES, the default among them, and never refuses the deployed record for it", () => {
    expect(problemsOf({ ...base, kubernetesVersion: "1.32.3", deployedKubernetesVersion: "1.31.9" })).toEqual([]);
    expect(checkSupportedKubernetes(DEFAULT_KUBERNETES_VERSION)).toBeUndefined();
    for (const minor of supportedMinors()) {
      expect(checkSupportedKubernetes(`${minor}.0`)).toBeUndefined();
      expect(checkSupportedKubernetes(`v${minor}.7`)).toBeUndefined();
    }
    const [major, lo] = SUPPORTED_KUBERNETES.min.split(".").map(Number);
    const hi = Number(SUPPORTED_KUBERNETES.max.split(".")[1]);
    expect(checkSupportedKubernetes(`${major}.${lo - 1}.9`)).toMatch(/kopsform runs 1\.\d+ to 1\.\d+/);
    expect(checkSupportedKubernetes(`${major}.${hi + 1}.0`)).toMatch(/kopsform runs/);
    expect(checkSupportedKubernetes("2.0.0")).toMatch(/kopsform runs/);
    // Inside what the boot installs (1.31 to 1.36) but outside what the add-ons support.
    expect(problemsOf({ ...base, kubernetesVersion: "1.31.4" })).toEqual([
      expect.stringMatching(/^kubernetesVersion: 1\.31\.4 is Kubernetes 1\.31; kopsform runs 1\.32 to 1\.34/),
    ]);
    // Outside both: the schema's check says so, once.
    expect(problemsOf({ ...base, kubernetesVersion: "1.28.4" })).toEqual([expect.stringMatching(/^kubernetesVersion: 1\.28\.4 is outside the versions/)]);
  });

  it("is what boot/addons/pins.tsv holds (regenerate with npm run pins)", () => {
    const committed = fs.readFileSync(path.join(__dirname, "..", "boot", "addons", "pins.tsv"), "utf8");
    expect(committed).toBe(renderPinsTsv());
  });

  it("renders the version, then one row per artifact (per architecture where it differs) and per image tag", () => {
    const rows = renderPinsTsv()
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .slice(1)
      .map((l) => l.split("\t"));
    for (const row of rows) {
      expect(row).toHaveLength(6);
    }
    expect(rows.filter(([a, k]) => a === "helm" && k === "tool").map((r) => r[3])).toEqual(["amd64", "arm64"]);
    expect(rows.filter(([a]) => a === "calico").map((r) => r[2])).toEqual(["-", "operator-crds.yaml", "tigera-operator.yaml"]);
    for (const pin of Object.values(ADDON_PINS)) {
      expect(rows.filter(([a, k]) => a === pin.name && k === "version")).toEqual([[pin.name, "version", "-", "all", pin.version, "-"]]);
    }
    expect(rows.filter(([a, k]) => a === "aws-cloud-controller-manager" && k === "image").map((r) => `${r[3]}=${r[4]}`)).toEqual([
      "k8s-1.32=v1.32.8",
      "k8s-1.33=v1.33.4",
      "k8s-1.34=v1.34.3",
    ]);
  });
});

describe("--networking", () => {
  it.each(NETWORKING_OPTIONS.map((n) => [n]))("accepts %s, which it installs", (networking) => {
    const { spec } = validSpec({ ...SEED_1, networking });
    expect(spec.networking).toBe(networking);
    const facts = NETWORKING_FACTS[networking];
    if (facts.addon) {
      expect(ADDON_PINS[facts.addon]).toBeDefined();
      expect(clusterAddons(spec).addons).toContain(facts.addon);
    }
  });

  it.each([
    ["kopeio", "kopeio-vxlan"],
    ["flannel-vxlan", "flannel"],
    ["amazonvpc", "amazon-vpc-routed-eni"],
  ])("takes kops's alias %s for %s", (alias, name) => {
    expect(validSpec({ ...SEED_1, networking: alias }).spec.networking).toBe(name);
  });

  it.each(Object.keys(REFUSED_NETWORKING).map((n) => [n]))("refuses %s with the reason and the supported list", (networking) => {
    const problems = problemsOf({ ...base, networking });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`networking: "${networking}" ${REFUSED_NETWORKING[networking]}`);
    expect(problems[0]).toContain(`kopsform installs ${NETWORKING_OPTIONS.join(", ")}`);
  });

  it("refuses a name kops does not know either, with the supported list", () => {
    expect(problemsOf({ ...base, networking: "ovn" })).toEqual([
      `networking: "ovn" is not a networking option kopsform installs; kopsform installs ${NETWORKING_OPTIONS.join(", ")}.`,
    ]);
  });

  it("warns that weave is unmaintained and names maintained alternatives (seed example 2)", () => {
    const { warnings } = validSpec(SEED_2);
    const weave = warnings.filter((w) => w.field === "networking");
    expect(weave).toHaveLength(1);
    expect(weave[0].message).toMatch(/weave installs weave 2\.8\.1, its last release: it is unmaintained since 2024.*cilium, calico, flannel/);
    expect(validSpec(SEED_1).warnings.filter((w) => w.field === "networking")).toEqual([]);
  });

  it("warns that cni installs no pod network", () => {
    const { warnings } = validSpec({ ...SEED_1, networking: "cni" });
    expect(warnings.find((w) => w.field === "networking")?.message).toMatch(/nodes stay NotReady until you apply your CNI/);
  });

  it("refuses a network CIDR that overlaps the pod CIDR, except for the VPC CNI whose pods take VPC addresses", () => {
    expect(problemsOf({ ...base, networkCidr: "100.96.0.0/16" })).toEqual([
      expect.stringMatching(/^podCidr: 100\.96\.0\.0\/11 \(the pods' network\) overlaps 100\.96\.0\.0\/16 \(the network, networkCidr\)/),
    ]);
    expect(problemsOf({ ...base, networkCidr: "100.96.0.0/16", networking: "amazon-vpc-routed-eni" })).toEqual([]);
  });
});

describe("what the cluster-wide step installs", () => {
  it("installs the cloud controller first, then the pod network, the storage driver and the termination handler", () => {
    expect(clusterAddons({ networking: "kopeio-vxlan" })).toEqual({
      addons: ["aws-cloud-controller-manager", "kopeio-vxlan", "aws-ebs-csi-driver", "aws-node-termination-handler"],
      kubeProxy: true,
    });
    expect(clusterAddons({ networking: "cni" }).addons).toEqual([
      "aws-cloud-controller-manager",
      "aws-ebs-csi-driver",
      "aws-node-termination-handler",
    ]);
  });

  it("installs no kube-proxy where cilium replaces it, and kube-proxy for every other option", () => {
    for (const networking of NETWORKING_OPTIONS) {
      expect([networking, clusterAddons({ networking }).kubeProxy]).toEqual([networking, networking !== "cilium"]);
    }
  });

  it("hands the boot step its facts, the mirror without its trailing slash", () => {
    const { spec } = validSpec({ ...SEED_1, addonsMirror: "https://mirror.example.com/kopsform/" });
    expect(addonFacts(spec)).toEqual({
      networking: "kopeio-vxlan",
      addons: ["aws-cloud-controller-manager", "kopeio-vxlan", "aws-ebs-csi-driver", "aws-node-termination-handler"],
      kubeProxy: true,
      podCidr: "100.96.0.0/11",
      mirror: "https://mirror.example.com/kopsform",
    });
    expect(addonFacts(validSpec(SEED_1).spec).mirror).toBeUndefined();
  });
});

describe("addonsMirror", () => {
  it.each([["https://mirror.example.com/kopsform"], ["http://10.0.0.5:8080/addons"], ["https://mirror.example.com"]])(
    "accepts %s",
    (url) => {
      expect(checkMirrorUrl(url)).toBeUndefined();
    },
  );

  it.each([
    ["mirror.example.com/kopsform", /is not a URL/],
    ["ftp://mirror.example.com/", /uses ftp/],
    ["file:///srv/mirror", /uses file/],
    ["https://user:secret@mirror.example.com/", /carries credentials/],
    ["https://mirror.example.com/?token=x", /query or fragment/],
    ["https://mirror.example.com/a b", /has characters other than letters, digits and \. _ : \/ % -/],
    ['https://mirror.example.com/"$(reboot)"', /has characters other than/],
    ["https://mirror.example.com/~kopsform", /has characters other than/],
  ])("refuses %s", (url, message) => {
    expect(checkMirrorUrl(url)).toMatch(message);
    expect(problemsOf({ ...base, addonsMirror: url })).toEqual([expect.stringMatching(/^addonsMirror: /)]);
  });

  it("refuses cloud labels that would hand the etcd volumes to the EBS CSI driver or the masters to the termination handler", () => {
    expect(problemsOf({ ...base, cloudLabels: { "ebs.csi.aws.com/cluster": "true" } })).toEqual([
      expect.stringMatching(/set by kopsform itself/),
    ]);
    expect(problemsOf({ ...base, cloudLabels: { "aws-node-termination-handler/managed": "" } })).toEqual([
      expect.stringMatching(/set by kopsform itself/),
    ]);
  });
});
