/**
 * The boot step's fetch-verify-apply path (boot/addons.sh), run for real: bash, curl against a file
 * server on 127.0.0.1, real sha256sum and tar, a pinned helm that the step fetches and verifies itself
 * (a recording helm inside the tarball), and a recording kubectl that keeps what was applied. A
 * tampered artifact is refused with nothing applied; a mirror is used when set; every value the spec
 * decides reaches the add-ons as JSON data.
 */
import { execFile, execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { tempDir } from "./helpers/cluster";

const REPO = path.join(__dirname, "..");
const SCRIPT = path.join(REPO, "boot", "addons.sh");
const FAKES = path.join(__dirname, "fixtures", "addons", "bin");

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** A file server on loopback: path -> bytes; it records every request path. */
class FileServer {
  readonly files = new Map<string, Buffer>();
  readonly requests: string[] = [];
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const url = req.url ?? "";
      this.requests.push(url);
      const body = this.files.get(url);
      if (!body) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  url(p: string): string {
    return `http://127.0.0.1:${this.port}${p}`;
  }
}

/** The recording helm the test's helm tarball holds: keeps its arguments and values, prints a manifest. */
const RECORDING_HELM = `#!/usr/bin/env bash
set -euo pipefail
state="\${FAKE_KUBECTL_STATE:?}"
printf '%s\\n' "$0 $*" >>"$state/helm-calls"
values=""
while [ $# -gt 0 ]; do
  case "$1" in --values) values="$2"; shift ;; esac
  shift
done
cp "$values" "$state/helm-values-$(basename "$(dirname "$values")").json"
echo "apiVersion: v1"
echo "kind: ConfigMap"
echo "metadata: {name: rendered-by-pinned-helm}"
`;

interface Artifact {
  readonly addon: string;
  readonly kind: string;
  readonly file: string;
  readonly select: string;
  /** The path it is published at (upstream, or under the mirror). */
  readonly path: string;
  readonly body: Buffer;
}

/** The artifacts of the tests' pins: small stand-ins, published at paths that name their versions. */
function makeArtifacts(work: string): Artifact[] {
  const helmDir = path.join(work, "helm-build");
  for (const arch of ["amd64", "arm64"]) {
    fs.mkdirSync(path.join(helmDir, `linux-${arch}`), { recursive: true });
    fs.writeFileSync(path.join(helmDir, `linux-${arch}`, "helm"), RECORDING_HELM.replace("set -euo", `# ${arch}\nset -euo`), { mode: 0o755 });
    execFileSync("tar", ["-czf", path.join(work, `helm-${arch}.tar.gz`), "-C", helmDir, `linux-${arch}`]);
  }
  const manifest = (name: string) => Buffer.from(`# ${name}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`);
  const chart = (name: string) => Buffer.from(`${name} chart bytes\n`);
  return [
    { addon: "helm", kind: "tool", file: "helm.tar.gz", select: "amd64", path: "/helm/helm-v3.18.4-linux-amd64.tar.gz", body: fs.readFileSync(path.join(work, "helm-amd64.tar.gz")) },
    { addon: "helm", kind: "tool", file: "helm.tar.gz", select: "arm64", path: "/helm/helm-v3.18.4-linux-arm64.tar.gz", body: fs.readFileSync(path.join(work, "helm-arm64.tar.gz")) },
    { addon: "calico", kind: "manifest", file: "operator-crds.yaml", select: "all", path: "/calico/v3.31.7/operator-crds.yaml", body: manifest("crds") },
    { addon: "calico", kind: "manifest", file: "tigera-operator.yaml", select: "all", path: "/calico/v3.31.7/tigera-operator.yaml", body: manifest("operator") },
    { addon: "cilium", kind: "chart", file: "cilium.tgz", select: "all", path: "/cilium/cilium-1.18.12.tgz", body: chart("cilium") },
    { addon: "flannel", kind: "manifest", file: "kube-flannel.yml", select: "all", path: "/flannel/v0.28.9/kube-flannel.yml", body: manifest("flannel") },
    { addon: "amazon-vpc-routed-eni", kind: "chart", file: "aws-vpc-cni.tgz", select: "all", path: "/eks/aws-vpc-cni-1.22.4.tgz", body: chart("vpc-cni") },
    { addon: "kopeio-vxlan", kind: "manifest", file: "kopeio-networking.yaml", select: "all", path: "/kopeio/84442054/kopeio-networking.yaml", body: manifest("kopeio") },
    { addon: "weave", kind: "manifest", file: "weave-daemonset-k8s-1.11.yaml", select: "all", path: "/weave/v2.8.1/weave.yaml", body: manifest("weave") },
    { addon: "aws-cloud-controller-manager", kind: "chart", file: "aws-cloud-controller-manager.tgz", select: "all", path: "/ccm/0.0.9/ccm.tgz", body: chart("ccm") },
    { addon: "aws-ebs-csi-driver", kind: "chart", file: "aws-ebs-csi-driver.tgz", select: "all", path: "/ebs/2.64.0/ebs.tgz", body: chart("ebs") },
    { addon: "aws-node-termination-handler", kind: "chart", file: "aws-node-termination-handler.tgz", select: "all", path: "/eks/nth-0.21.0.tgz", body: chart("nth") },
  ];
}

/** The image rows of the tests' pins (as spec/pins.ts renders them). */
const IMAGE_ROWS = [
  "kopeio-vxlan\timage\tkopeio/networking-agent\tall\t1.0.20181028\t-",
  "weave\timage\tweaveworks/weave-kube\tall\t2.8.1\t-",
  "weave\timage\tweaveworks/weave-npc\tall\t2.8.1\t-",
  "aws-cloud-controller-manager\timage\tregistry.k8s.io/provider-aws/cloud-controller-manager\tk8s-1.32\tv1.32.8\t-",
  "aws-cloud-controller-manager\timage\tregistry.k8s.io/provider-aws/cloud-controller-manager\tk8s-1.33\tv1.33.4\t-",
];

/** A pins table for the test's artifacts, each at BASE + its path. */
function pinsTsv(artifacts: readonly Artifact[], base: string, override: Partial<Record<string, string>> = {}): string {
  const rows = artifacts.map((a) => [a.addon, a.kind, a.file, a.select, `${base}${a.path}`, override[a.path] ?? sha256(a.body)].join("\t"));
  return ["# test pins", "addon\tkind\tkey\tselect\tvalue\tsha256", ...rows, ...IMAGE_ROWS, ""].join("\n");
}

interface Run {
  readonly status: number;
  readonly log: string;
  readonly stderr: string;
  readonly root: string;
  readonly state: string;
}

let server: FileServer;
let artifacts: Artifact[];
let work: string;

beforeAll(async () => {
  work = tempDir("addons");
  artifacts = makeArtifacts(work);
  server = new FileServer();
  await server.start();
  for (const a of artifacts) {
    server.files.set(a.path, a.body);
    server.files.set(`/mirror/upstream.example.com${a.path}`, a.body);
  }
});

afterAll(async () => {
  await server.stop();
});

const DEFAULT_ENV = {
  CLUSTER_NAME: "hacluster.example.com",
  REGION: "us-west-2",
  KUBERNETES_VERSION: "1.33.5",
  POD_CIDR: "100.96.0.0/11",
  API_HOST: "api.hacluster.example.com",
  NODE_TERMINATION_QUEUE_URL: "https://sqs.us-west-2.amazonaws.com/123456789012/hacluster-example-com-nth",
  ARCH: "x86_64",
};

/** Runs `COMMANDS` (bash) with boot/addons.sh sourced, minimal log/die, the fakes first on PATH. */
async function runAddons(
  commands: string,
  options: { env?: Record<string, string>; pins?: string; root?: string } = {},
): Promise<Run> {
  const root = options.root ?? fs.mkdtempSync(path.join(work, "root-"));
  const state = path.join(root, "fake-state");
  fs.mkdirSync(path.join(root, "opt", "kopsform", "addons"), { recursive: true });
  fs.mkdirSync(state, { recursive: true });
  fs.writeFileSync(path.join(root, "opt", "kopsform", "addons", "pins.tsv"), options.pins ?? pinsTsv(artifacts, server.url("")));
  const logFile = path.join(root, "boot.log");
  const harness = `
log() { printf '%s\\n' "$*" >>"$BOOT_LOG"; }
die() { printf 'FATAL %s\\n' "$*" >>"$BOOT_LOG"; exit 1; }
source "${SCRIPT}"
${commands}
`;
  const env = {
    PATH: `${FAKES}:${process.env.PATH}`,
    HOME: root,
    ROOT: root,
    BOOT_LOG: logFile,
    FAKE_KUBECTL_STATE: state,
    ADDONS_FETCH_ATTEMPTS: "1",
    ADDONS_FETCH_DELAY_SECONDS: "0",
    ...DEFAULT_ENV,
    ...(options.env ?? {}),
  };
  return new Promise((resolve) => {
    execFile("bash", ["-c", harness], { env, timeout: 60000 }, (error, _stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
      resolve({ status, log, stderr, root, state });
    });
  });
}

/** The directories kubectl applied, in order (their names). */
function applied(run: Run): string[] {
  const dir = path.join(run.state, "applied");
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function appliedFile(run: Run, entry: string, file: string): string {
  return fs.readFileSync(path.join(run.state, "applied", entry, file), "utf8");
}

function kubectlCalls(run: Run): string[] {
  const file = path.join(run.state, "calls");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

function helmValues(run: Run, addon: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(run.state, `helm-values-${addon}.json`), "utf8")) as Record<string, unknown>;
}

describe("boot/addons.sh", () => {
  it("is shellcheck-clean", () => {
    expect(execFileSync("shellcheck", ["-x", "-S", "style", SCRIPT], { encoding: "utf8" })).toBe("");
  });

  it("does nothing when sourced (its main runs only when executed)", async () => {
    const run = await runAddons("true");
    expect(run.status).toBe(0);
    expect(kubectlCalls(run)).toEqual([]);
  });

  describe("seed example 1 (kopeio-vxlan): the cloud controller, the network, the storage driver, the termination handler", () => {
    let run: Run;

    beforeAll(async () => {
      run = await runAddons(
        'ADDONS="aws-cloud-controller-manager kopeio-vxlan aws-ebs-csi-driver aws-node-termination-handler" addons_install_all',
      );
    });

    it("applies each add-on once, server-side, in the planned order", () => {
      expect(run.log).not.toMatch(/FATAL/);
      expect(run.status).toBe(0);
      expect(applied(run)).toEqual([
        "00-aws-cloud-controller-manager",
        "01-kopeio-vxlan",
        "02-aws-ebs-csi-driver",
        "03-aws-node-termination-handler",
      ]);
      for (const call of kubectlCalls(run)) {
        expect(call).toMatch(/^apply --server-side --force-conflicts --field-manager=kopsform-addons -k \//);
      }
    });

    it("applies the verified upstream manifest byte for byte, with its image pinned by tag", () => {
      const kopeio = artifacts.find((a) => a.addon === "kopeio-vxlan") as Artifact;
      expect(appliedFile(run, "01-kopeio-vxlan", "kopeio-networking.yaml")).toBe(kopeio.body.toString());
      expect(appliedFile(run, "01-kopeio-vxlan", "kustomization.yaml")).toBe(
        [
          "apiVersion: kustomize.config.k8s.io/v1beta1",
          "kind: Kustomization",
          "resources:",
          "  - kopeio-networking.yaml",
          "images:",
          "  - name: kopeio/networking-agent",
          '    newTag: "1.0.20181028"',
          "",
        ].join("\n"),
      );
    });

    it("renders each chart with the helm it fetched and verified, for the cluster's Kubernetes version", () => {
      const calls = fs.readFileSync(path.join(run.state, "helm-calls"), "utf8").trim().split("\n");
      expect(calls).toHaveLength(3);
      for (const call of calls) {
        expect(call).toMatch(
          new RegExp(`^${run.root}/var/lib/kopsform/addons/helm/linux-amd64/helm template \\S+ ${run.root}/var/lib/kopsform/addons/\\S+\\.tgz --namespace kube-system --values \\S+/values.json --kube-version 1\\.33\\.5 --include-crds$`),
        );
      }
      expect(appliedFile(run, "00-aws-cloud-controller-manager", "rendered.yaml")).toMatch(/rendered-by-pinned-helm/);
    });

    it("runs the cloud controller of the cluster's Kubernetes minor on the masters' host network, routes left to the network", () => {
      expect(helmValues(run, "aws-cloud-controller-manager")).toMatchObject({
        image: { repository: "registry.k8s.io/provider-aws/cloud-controller-manager", tag: "v1.33.4" },
        args: ["--v=2", "--cloud-provider=aws", "--configure-cloud-routes=false", "--cluster-name=hacluster.example.com"],
        hostNetworking: true,
        nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
      });
    });

    it("gives the EBS CSI driver the region, the cluster's tag and a default encrypted gp3 StorageClass, its controller on the masters' host network", () => {
      expect(helmValues(run, "aws-ebs-csi-driver")).toMatchObject({
        controller: { region: "us-west-2", k8sTagClusterId: "hacluster.example.com" },
        storageClasses: [
          {
            name: "gp3",
            annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
            parameters: { type: "gp3", encrypted: "true" },
          },
        ],
      });
      expect(JSON.parse(appliedFile(run, "02-aws-ebs-csi-driver", "host-network-patch.json"))).toMatchObject({
        kind: "Deployment",
        metadata: { name: "ebs-csi-controller", namespace: "kube-system" },
        spec: { template: { spec: { hostNetwork: true } } },
      });
      expect(appliedFile(run, "02-aws-ebs-csi-driver", "kustomization.yaml")).toMatch(/patches:\n {2}- path: host-network-patch\.json\n/);
    });

    it("runs the termination handler in queue mode on the cluster's queue, draining only instances with the managed tag", () => {
      expect(helmValues(run, "aws-node-termination-handler")).toMatchObject({
        enableSqsTerminationDraining: true,
        queueURL: DEFAULT_ENV.NODE_TERMINATION_QUEUE_URL,
        awsRegion: "us-west-2",
        checkTagBeforeDraining: true,
        managedTag: "aws-node-termination-handler/managed",
      });
    });

    it("logs each step", () => {
      expect(run.log).toMatch(/addons: installing aws-cloud-controller-manager\n/);
      expect(run.log).toMatch(/addons: applied aws-node-termination-handler\n/);
    });

    it("uses its verified cache when run again, and fetches nothing", async () => {
      const before = server.requests.length;
      const again = await runAddons('ADDONS="kopeio-vxlan" addons_install_all', { root: run.root });
      expect(again.status).toBe(0);
      expect(server.requests.length).toBe(before);
    });
  });

  it("refuses a tampered artifact: a clear log line, a non-zero exit, nothing applied and nothing kept", async () => {
    const kopeio = artifacts.find((a) => a.addon === "kopeio-vxlan") as Artifact;
    const pinned = sha256(Buffer.from("the bytes upstream released\n"));
    const run = await runAddons('ADDONS="kopeio-vxlan aws-ebs-csi-driver" addons_install_all', {
      pins: pinsTsv(artifacts, server.url(""), { [kopeio.path]: pinned }),
    });
    expect(run.status).not.toBe(0);
    expect(run.log).toContain(
      `FATAL addons: refusing ${server.url(kopeio.path)}: its sha256 is ${sha256(kopeio.body)}, the pinned one is ${pinned} (tampered or wrong artifact); nothing applied`,
    );
    expect(kubectlCalls(run)).toEqual([]);
    expect(fs.readdirSync(path.join(run.root, "var", "lib", "kopsform", "addons", "cache"))).toEqual([]);
  });

  it("refuses a tampered helm: no chart is rendered", async () => {
    const helm = artifacts.find((a) => a.addon === "helm" && a.select === "amd64") as Artifact;
    const run = await runAddons('ADDONS="aws-ebs-csi-driver" addons_install_all', {
      pins: pinsTsv(artifacts, server.url(""), { [helm.path]: "0".repeat(64) }),
    });
    expect(run.status).not.toBe(0);
    expect(run.log).toMatch(/FATAL addons: refusing .*helm-v3\.18\.4-linux-amd64\.tar\.gz: its sha256 is/);
    expect(fs.existsSync(path.join(run.state, "helm-calls"))).toBe(false);
    expect(kubectlCalls(run)).toEqual([]);
  });

  it("fetches from the mirror when one is set, at MIRROR/HOST/PATH, verified against the same pins", async () => {
    const before = server.requests.length;
    const run = await runAddons('ADDONS="kopeio-vxlan" addons_install_all', {
      pins: pinsTsv(artifacts, "https://upstream.example.com"),
      env: { ADDONS_MIRROR: server.url("/mirror/") },
    });
    expect(run.log).not.toMatch(/FATAL/);
    expect(run.status).toBe(0);
    expect(server.requests.slice(before)).toEqual(["/mirror/upstream.example.com/kopeio/84442054/kopeio-networking.yaml"]);
    expect(run.log).toContain(`addons: fetching ${server.url("/mirror/upstream.example.com/kopeio/84442054/kopeio-networking.yaml")}`);
    expect(applied(run)).toEqual(["00-kopeio-vxlan"]);
  });

  it("fails with a bounded retry and a clear message when an artifact cannot be fetched", async () => {
    const run = await runAddons('ADDONS="kopeio-vxlan" addons_install_all', {
      pins: pinsTsv(artifacts, server.url("/nowhere")),
    });
    expect(run.status).not.toBe(0);
    expect(run.log).toMatch(/FATAL addons: could not fetch .*\/nowhere\/kopeio\/84442054\/kopeio-networking\.yaml after 1 retries/);
    expect(kubectlCalls(run)).toEqual([]);
  });

  it("installs cilium with kube-proxy replacement, talking to the API by its name", async () => {
    const run = await runAddons('ADDONS="cilium" addons_install_all');
    expect(run.status).toBe(0);
    expect(helmValues(run, "cilium")).toMatchObject({
      kubeProxyReplacement: true,
      k8sServiceHost: "api.hacluster.example.com",
      k8sServicePort: 443,
      routingMode: "tunnel",
      tunnelProtocol: "vxlan",
    });
  });

  it("installs calico's operator, waits for its CRD, then the Installation with the pod CIDR", async () => {
    const run = await runAddons('ADDONS="calico" addons_install_all');
    expect(run.status).toBe(0);
    expect(applied(run)).toEqual(["00-calico", "01-calico-installation"]);
    expect(kubectlCalls(run)[1]).toBe("wait --for=condition=established --timeout=180s crd/installations.operator.tigera.io");
    expect(appliedFile(run, "00-calico", "kustomization.yaml")).toMatch(/resources:\n {2}- operator-crds\.yaml\n {2}- tigera-operator\.yaml\n/);
    expect(JSON.parse(appliedFile(run, "01-calico-installation", "installation.json"))).toMatchObject({
      kind: "Installation",
      spec: { calicoNetwork: { bgp: "Enabled", ipPools: [{ cidr: "100.96.0.0/11", encapsulation: "IPIP" }] } },
    });
  });

  it("installs flannel with the pod CIDR in its net-conf.json, and weave with IPALLOC_RANGE and its 2.8.1 images", async () => {
    const run = await runAddons('ADDONS="flannel weave" addons_install_all');
    expect(run.status).toBe(0);
    const patch = JSON.parse(appliedFile(run, "00-flannel", "net-conf-patch.json")) as { data: Record<string, string> };
    expect(JSON.parse(patch.data["net-conf.json"])).toEqual({ Network: "100.96.0.0/11", EnableNFTables: false, Backend: { Type: "vxlan" } });
    const weave = JSON.parse(appliedFile(run, "01-weave", "ipalloc-patch.json"));
    expect(weave.spec.template.spec.containers[0].env).toEqual([{ name: "IPALLOC_RANGE", value: "100.96.0.0/11" }]);
    expect(appliedFile(run, "01-weave", "kustomization.yaml")).toContain(
      '  - name: weaveworks/weave-kube\n    newTag: "2.8.1"\n  - name: weaveworks/weave-npc\n    newTag: "2.8.1"\n',
    );
    expect(run.log).toMatch(/Weave Net 2\.8\.1, unmaintained since 2024/);
  });

  it("installs the VPC CNI from Amazon's public registry with the cluster's name", async () => {
    const run = await runAddons('ADDONS="amazon-vpc-routed-eni" addons_install_all');
    expect(run.status).toBe(0);
    expect(helmValues(run, "amazon-vpc-routed-eni")).toMatchObject({
      image: { overrideRepository: "public.ecr.aws/eks/amazon-k8s-cni" },
      env: { CLUSTER_NAME: "hacluster.example.com" },
    });
  });

  it("picks the arm64 helm on arm64, and the cloud controller of Kubernetes 1.32 for a 1.32 cluster", async () => {
    const run = await runAddons('ADDONS="aws-cloud-controller-manager" addons_install_all', {
      env: { ARCH: "aarch64", KUBERNETES_VERSION: "1.32.9" },
    });
    expect(run.status).toBe(0);
    expect(fs.readFileSync(path.join(run.state, "helm-calls"), "utf8")).toMatch(/linux-arm64\/helm template/);
    expect(helmValues(run, "aws-cloud-controller-manager")).toMatchObject({ image: { tag: "v1.32.8" } });
  });

  it("refuses a Kubernetes minor it has no cloud controller for", async () => {
    const run = await runAddons('ADDONS="aws-cloud-controller-manager" addons_install_all', { env: { KUBERNETES_VERSION: "1.30.2" } });
    expect(run.status).not.toBe(0);
    expect(run.log).toMatch(/FATAL addons: no cloud controller image pinned for Kubernetes 1\.30/);
    expect(kubectlCalls(run)).toEqual([]);
  });

  it("refuses an unknown add-on, and an unknown architecture", async () => {
    const unknown = await runAddons('ADDONS="kube-router" addons_install_all');
    expect(unknown.status).not.toBe(0);
    expect(unknown.log).toMatch(/FATAL addons: unknown add-on kube-router/);
    const arch = await runAddons('ADDONS="kopeio-vxlan" addons_install_all', { env: { ARCH: "riscv64" } });
    expect(arch.status).not.toBe(0);
    expect(arch.log).toMatch(/FATAL addons: unsupported architecture riscv64/);
  });

  it("writes values as JSON data, whatever they hold, and refuses control characters", async () => {
    const tricky = `a"b\\c $(touch pwned) \`id\` ';`;
    const run = await runAddons(`addons_json_string "$TRICKY" >"$ROOT/out.json"`, { env: { TRICKY: tricky } });
    expect(run.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(run.root, "out.json"), "utf8"))).toBe(tricky);
    expect(fs.existsSync(path.join(run.root, "pwned"))).toBe(false);
    const values = await runAddons('ADDONS="cilium" addons_install_all', { env: { API_HOST: tricky } });
    expect(values.status).toBe(0);
    expect(helmValues(values, "cilium").k8sServiceHost).toBe(tricky);
    const control = await runAddons(`addons_json_string "$(printf 'a\\nb')"`);
    expect(control.status).not.toBe(0);
    expect(control.log).toMatch(/FATAL addons: a value holds a control character/);
  });
});
