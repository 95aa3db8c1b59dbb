/**
 * The add-on step (boot/steps/addons.sh), run for real as a master runs it: bash with boot/lib.sh and
 * steps/store.sh, the instance's facts from the fake AWS's instance metadata, the run-time store's
 * config/ parameters read with the real AWS CLI under the masters' synthesized IAM policy
 * (__tests__/sim), artifacts served over HTTP on loopback and checked with the real sha256sum, a
 * pinned helm the step fetches, verifies and unpacks itself (a recording helm inside the tarball),
 * and a fake kubectl that keeps the API server's state in files (what was applied, in order, and
 * the records the step reads back). Each safety branch has a test that fails without it: a tampered
 * artifact is refused with nothing applied, an add-on is applied once per version, every retry is
 * bounded.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CLUSTER, OneInstance } from "./sim/one-instance";

jest.setTimeout(180_000);

const FAKES = path.join(__dirname, "fixtures", "addons", "bin");
const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** The recording helm the test's helm tarball holds: keeps its arguments and values, prints a manifest. */
const RECORDING_HELM = `#!/bin/bash
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
  /** The path it is published at, under the release server (or the mirror's HOST/). */
  readonly path: string;
  readonly body: Buffer;
}

/** Small stand-ins for the artifacts, published at paths that name their versions. */
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
    { addon: "cilium", kind: "chart", file: "cilium.tgz", select: "all", path: "/cilium/cilium-1.19.6.tgz", body: chart("cilium") },
    { addon: "flannel", kind: "manifest", file: "kube-flannel.yml", select: "all", path: "/flannel/v0.28.9/kube-flannel.yml", body: manifest("flannel") },
    { addon: "amazon-vpc-routed-eni", kind: "chart", file: "aws-vpc-cni.tgz", select: "all", path: "/eks/aws-vpc-cni-1.22.4.tgz", body: chart("vpc-cni") },
    { addon: "kopeio-vxlan", kind: "manifest", file: "kopeio-networking.yaml", select: "all", path: "/kopeio/84442054/kopeio-networking.yaml", body: manifest("kopeio") },
    { addon: "weave", kind: "manifest", file: "weave-daemonset-k8s-1.11.yaml", select: "all", path: "/weave/v2.8.1/weave.yaml", body: manifest("weave") },
    { addon: "aws-cloud-controller-manager", kind: "chart", file: "aws-cloud-controller-manager.tgz", select: "all", path: "/ccm/0.0.9/ccm.tgz", body: chart("ccm") },
    { addon: "aws-ebs-csi-driver", kind: "chart", file: "aws-ebs-csi-driver.tgz", select: "all", path: "/ebs/2.64.0/ebs.tgz", body: chart("ebs") },
    { addon: "aws-node-termination-handler", kind: "chart", file: "aws-node-termination-handler.tgz", select: "all", path: "/eks/nth-0.21.0.tgz", body: chart("nth") },
  ];
}

/** The version and image rows of the tests' pins (as spec/pins.ts renders them). */
const VERSIONS: Record<string, string> = {
  helm: "3.18.4",
  calico: "3.31.7",
  cilium: "1.19.6",
  flannel: "0.28.9",
  "amazon-vpc-routed-eni": "1.22.4",
  "kopeio-vxlan": "84442054",
  weave: "2.8.1",
  "aws-cloud-controller-manager": "0.0.9",
  "aws-ebs-csi-driver": "2.64.0",
  "aws-node-termination-handler": "0.21.0",
};
const IMAGE_ROWS = [
  "kopeio-vxlan\timage\tkopeio/networking-agent\tall\t1.0.20181028\t-",
  "weave\timage\tweaveworks/weave-kube\tall\t2.8.1\t-",
  "weave\timage\tweaveworks/weave-npc\tall\t2.8.1\t-",
  "aws-cloud-controller-manager\timage\tregistry.k8s.io/provider-aws/cloud-controller-manager\tk8s-1.32\tv1.32.8\t-",
  "aws-cloud-controller-manager\timage\tregistry.k8s.io/provider-aws/cloud-controller-manager\tk8s-1.33\tv1.33.4\t-",
];

/** A pins table of the artifacts, each at BASE + its path; `sha` overrides a pinned sha256 by path. */
function pinsTsv(artifacts: readonly Artifact[], base: string, change: { sha?: Record<string, string>; versions?: Record<string, string> } = {}): string {
  const versions = { ...VERSIONS, ...(change.versions ?? {}) };
  const rows = [
    ...Object.entries(versions).map(([addon, version]) => [addon, "version", "-", "all", version, "-"].join("\t")),
    ...artifacts.map((a) => [a.addon, a.kind, a.file, a.select, `${base}${a.path}`, change.sha?.[a.path] ?? sha256(a.body)].join("\t")),
  ];
  return ["# test pins", "addon\tkind\tkey\tselect\tvalue\tsha256", ...rows, ...IMAGE_ROWS, ""].join("\n");
}

const QUEUE_URL = "https://sqs.us-west-2.amazonaws.com/111122223333/unit-example-com-nth";
const SEED_ADDONS = "aws-cloud-controller-manager,kopeio-vxlan,aws-ebs-csi-driver,aws-node-termination-handler";
const ADDON_ENV = {
  KUBERNETES_VERSION: "1.33.5",
  ADDONS: SEED_ADDONS,
  POD_CIDR: "100.96.0.0/11",
  ADDONS_MIRROR: "",
  ADDONS_ATTEMPTS: "2",
  ADDONS_DELAY_SECONDS: "1",
};
const APPLY = 'load_instance_facts\napply_addons "$ROOT/etc/kubernetes/admin.conf"';

let one: OneInstance;
let artifacts: Artifact[];

afterEach(async () => {
  await one?.stop();
});

/** A master whose API answers (the fake kubectl), with the artifacts published and the config parameters written. */
async function master(options: { env?: Record<string, string>; parameters?: Record<string, string> } = {}): Promise<OneInstance> {
  one = await OneInstance.create({ env: { ...ADDON_ENV, ...(options.env ?? {}) } });
  artifacts = makeArtifacts(one.dir);
  for (const a of artifacts) {
    for (const where of ["releases", "mirror/upstream.example.com"]) {
      fs.mkdirSync(path.dirname(path.join(one.dir, "downloads", where, a.path)), { recursive: true });
      fs.writeFileSync(path.join(one.dir, "downloads", where, a.path), a.body);
    }
  }
  writePins(pinsTsv(artifacts, releases()));
  fs.mkdirSync(path.join(one.root, "etc", "kubernetes"), { recursive: true });
  fs.writeFileSync(path.join(one.root, "etc", "kubernetes", "admin.conf"), "apiVersion: v1\nkind: Config\n", { mode: 0o600 });
  const parameters = options.parameters ?? { "api-endpoint": "api.unit.example.com", "node-termination-queue-url": QUEUE_URL };
  for (const [name, value] of Object.entries(parameters)) {
    one.aws.putParameterAsTerraform(`/kopsform/${CLUSTER}/config/${name}`, value);
  }
  return one;
}

const releases = () => `${one.aws.endpoint}/downloads/releases`;
const state = () => path.join(one.dir, "kube");

function writePins(text: string): void {
  fs.mkdirSync(path.join(one.root, "opt", "kopsform", "addons"), { recursive: true });
  fs.writeFileSync(path.join(one.root, "opt", "kopsform", "addons", "pins.tsv"), text);
}

function apply(body = APPLY, env: Record<string, string> = {}) {
  return one.run(["steps/store.sh", "steps/addons.sh"], body, { binFirst: FAKES, env: { FAKE_KUBECTL_STATE: state(), ...env } });
}

/** The kustomizations kubectl applied, in order (their directories' names). */
function applied(): string[] {
  const dir = path.join(state(), "applied");
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function appliedFile(entry: string, file: string): string {
  return fs.readFileSync(path.join(state(), "applied", entry, file), "utf8");
}

function kubectlCalls(): string[] {
  const file = path.join(state(), "calls");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

function helmValues(addon: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(state(), `helm-values-${addon}.json`), "utf8")) as Record<string, unknown>;
}

function helmCalls(): string[] {
  const file = path.join(state(), "helm-calls");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

/** The record of an add-on the step keeps in the cluster (kube-system/kopsform-addon-NAME). */
function record(addon: string): Record<string, unknown> | undefined {
  const file = path.join(state(), "objects", "kube-system", "configmap", `kopsform-addon-${addon}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : undefined;
}

const cache = () => path.join(one.root, "var", "lib", "kopsform", "addons", "cache");

describe("the add-ons of the seed's first example (kopeio-vxlan)", () => {
  it("are fetched, verified and applied once each, server-side, in order, with the values the spec decides", async () => {
    await master();
    const r = await apply();
    expect({ code: r.code, log: r.code === 0 ? "" : one.log() }).toEqual({ code: 0, log: "" });
    expect(applied()).toEqual(["00-aws-cloud-controller-manager", "01-kopeio-vxlan", "02-aws-ebs-csi-driver", "03-aws-node-termination-handler"]);
    const applies = kubectlCalls().filter((c) => / apply /.test(c));
    for (const call of applies) {
      expect(call).toMatch(new RegExp(`^--kubeconfig ${one.root}/etc/kubernetes/admin.conf apply --server-side --force-conflicts --field-manager=kopsform-addons --(kustomize|filename) /`));
    }
    // The verified upstream manifest byte for byte, its image pinned by tag.
    const kopeio = artifacts.find((a) => a.addon === "kopeio-vxlan") as Artifact;
    expect(appliedFile("01-kopeio-vxlan", "kopeio-networking.yaml")).toBe(kopeio.body.toString());
    expect(appliedFile("01-kopeio-vxlan", "kustomization.yaml")).toBe(
      ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - kopeio-networking.yaml", "images:", "  - name: kopeio/networking-agent", '    newTag: "1.0.20181028"', ""].join("\n"),
    );
    // Charts rendered by the helm the step fetched and verified, for the cluster's Kubernetes version.
    expect(helmCalls()).toHaveLength(3);
    for (const call of helmCalls()) {
      expect(call).toMatch(
        new RegExp(`^${one.root}/var/lib/kopsform/addons/helm/linux-amd64/helm template \\S+ ${one.root}/var/lib/kopsform/addons/\\S+\\.tgz --namespace kube-system --values \\S+/values.json --kube-version 1\\.33\\.5 --include-crds$`),
      );
    }
    expect(appliedFile("00-aws-cloud-controller-manager", "rendered.yaml")).toMatch(/rendered-by-pinned-helm/);
    // The cloud controller of the cluster's Kubernetes minor, on the masters' host network, routes left to the network.
    expect(helmValues("aws-cloud-controller-manager")).toMatchObject({
      image: { repository: "registry.k8s.io/provider-aws/cloud-controller-manager", tag: "v1.33.4" },
      args: ["--v=2", "--cloud-provider=aws", "--configure-cloud-routes=false", `--cluster-name=${CLUSTER}`],
      hostNetworking: true,
      nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
    });
    // The EBS CSI driver: the region, the cluster's tag, a default encrypted gp3 StorageClass.
    expect(helmValues("aws-ebs-csi-driver")).toMatchObject({
      controller: { region: "us-west-2", k8sTagClusterId: CLUSTER },
      storageClasses: [{ name: "gp3", annotations: { "storageclass.kubernetes.io/is-default-class": "true" }, parameters: { type: "gp3", encrypted: "true" } }],
    });
    expect(JSON.parse(appliedFile("02-aws-ebs-csi-driver", "host-network-patch.json"))).toMatchObject({
      kind: "Deployment",
      metadata: { name: "ebs-csi-controller", namespace: "kube-system" },
      spec: { template: { spec: { hostNetwork: true } } },
    });
    // The termination handler in queue mode, on the queue Terraform wrote into the run-time store.
    expect(helmValues("aws-node-termination-handler")).toMatchObject({
      enableSqsTerminationDraining: true,
      queueURL: QUEUE_URL,
      awsRegion: "us-west-2",
      checkTagBeforeDraining: true,
      managedTag: "aws-node-termination-handler/managed",
    });
    // Each add-on recorded with its version; the masters' policy allowed every AWS call.
    expect(record("kopeio-vxlan")).toMatchObject({
      metadata: { name: "kopsform-addon-kopeio-vxlan", namespace: "kube-system", labels: { "app.kubernetes.io/managed-by": "kopsform" } },
      data: { addon: "kopeio-vxlan", version: "84442054", fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(one.calls().filter((c) => c.endsWith("DENIED"))).toEqual([]);
    expect(one.calls().filter((c) => c.startsWith("ssm:GetParameter"))).toEqual([
      `ssm:GetParameter /kopsform/${CLUSTER}/config/node-termination-queue-url`,
    ]);
    expect(one.log()).toContain("addons: installing aws-cloud-controller-manager 0.0.9 (fingerprint ");
    expect(one.log()).toContain("addons: applied aws-node-termination-handler 0.21.0");
  });

  it("are applied once per version: a second run, even on a new master with no cache and no network, applies nothing", async () => {
    await master();
    expect((await apply()).code).toBe(0);
    const firstApplies = applied();
    // A new master: nothing cached, and the release server gone; the cluster's records stay.
    fs.rmSync(cache(), { recursive: true, force: true });
    fs.rmSync(path.join(one.dir, "downloads", "releases"), { recursive: true, force: true });
    fs.rmSync(path.join(state(), "helm-calls"), { force: true });
    const before = kubectlCalls().length;
    const again = await apply();
    expect({ code: again.code, log: again.code === 0 ? "" : one.log() }).toEqual({ code: 0, log: "" });
    expect(applied()).toEqual(firstApplies);
    expect(kubectlCalls().slice(before).every((c) => / get configmap kopsform-addon-/.test(c))).toBe(true);
    expect(helmCalls()).toEqual([]);
    expect(one.log()).toMatch(/addons: kopeio-vxlan 84442054 is applied already \(fingerprint [0-9a-f]{64}\); nothing to do/);
  });

  it("applies again exactly the add-on whose pin changed, and records its new version", async () => {
    await master();
    expect((await apply()).code).toBe(0);
    const old = record("kopeio-vxlan")?.data as Record<string, string>;
    const kopeio = artifacts.find((a) => a.addon === "kopeio-vxlan") as Artifact;
    const newer = Buffer.from("# kopeio, a newer commit\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kopeio}\n");
    fs.mkdirSync(path.join(one.dir, "downloads", "releases", "kopeio", "aaaabbbb"), { recursive: true });
    fs.writeFileSync(path.join(one.dir, "downloads", "releases", "kopeio", "aaaabbbb", "kopeio-networking.yaml"), newer);
    writePins(pinsTsv(artifacts, releases(), { versions: { "kopeio-vxlan": "aaaabbbb" } }).replace(`${releases()}${kopeio.path}\t${sha256(kopeio.body)}`, `${releases()}/kopeio/aaaabbbb/kopeio-networking.yaml\t${sha256(newer)}`));
    const r = await apply();
    expect(r.code).toBe(0);
    expect(applied().slice(4)).toEqual(["04-kopeio-vxlan"]);
    expect(appliedFile("04-kopeio-vxlan", "kopeio-networking.yaml")).toBe(newer.toString());
    expect(record("kopeio-vxlan")?.data).toMatchObject({ version: "aaaabbbb", fingerprint: expect.not.stringMatching(old.fingerprint) });
  });

  it("applies again an add-on whose values changed (a new pod CIDR reaches flannel)", async () => {
    await master({ env: { ADDONS: "flannel" } });
    expect((await apply()).code).toBe(0);
    one.writeEnv({ ...envOf(one), POD_CIDR: "100.64.0.0/13" });
    expect((await apply()).code).toBe(0);
    expect(applied()).toEqual(["00-flannel", "01-flannel"]);
    const patch = JSON.parse(appliedFile("01-flannel", "net-conf-patch.json")) as { data: Record<string, string> };
    expect(JSON.parse(patch.data["net-conf.json"])).toMatchObject({ Network: "100.64.0.0/13" });
  });
});

/** The instance's cluster.env as written. */
function envOf(instance: OneInstance): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(path.join(instance.root, "etc", "kopsform", "cluster.env"), "utf8")
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("what the step refuses", () => {
  it("a tampered artifact: a clear log line, a non-zero exit, nothing applied, recorded or kept", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan,aws-ebs-csi-driver" } });
    const kopeio = artifacts.find((a) => a.addon === "kopeio-vxlan") as Artifact;
    const pinned = sha256("the bytes upstream released\n");
    writePins(pinsTsv(artifacts, releases(), { sha: { [kopeio.path]: pinned } }));
    const r = await apply();
    expect(r.code).toBe(1);
    expect(one.log()).toContain(
      `FATAL: addons: refusing ${releases()}${kopeio.path}: its sha256 is ${sha256(kopeio.body)}, the pinned one is ${pinned} (tampered or wrong artifact); nothing of it applied`,
    );
    expect(applied()).toEqual([]);
    expect(record("kopeio-vxlan")).toBeUndefined();
    expect(fs.readdirSync(cache())).toEqual([]);
    // A new instance would fetch the same bytes: no replacement is asked for.
    expect(one.instance.health).toBeUndefined();
  });

  it("a tampered helm: no chart is rendered", async () => {
    await master({ env: { ADDONS: "aws-ebs-csi-driver" } });
    const helm = artifacts.find((a) => a.addon === "helm" && a.select === "amd64") as Artifact;
    writePins(pinsTsv(artifacts, releases(), { sha: { [helm.path]: "0".repeat(64) } }));
    const r = await apply();
    expect(r.code).toBe(1);
    expect(one.log()).toMatch(/FATAL: addons: refusing .*helm-v3\.18\.4-linux-amd64\.tar\.gz: its sha256 is/);
    expect(helmCalls()).toEqual([]);
    expect(applied()).toEqual([]);
  });

  it("a cached artifact that no longer verifies: it is fetched again", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan" } });
    const kopeio = artifacts.find((a) => a.addon === "kopeio-vxlan") as Artifact;
    fs.mkdirSync(cache(), { recursive: true });
    fs.writeFileSync(path.join(cache(), sha256(kopeio.body)), "tampered on disk\n");
    expect((await apply()).code).toBe(0);
    expect(appliedFile("00-kopeio-vxlan", "kopeio-networking.yaml")).toBe(kopeio.body.toString());
  });

  it("a Kubernetes minor without a pinned cloud controller, an unknown add-on, a missing kubeconfig", async () => {
    await master({ env: { KUBERNETES_VERSION: "1.30.2", ADDONS: "aws-cloud-controller-manager" } });
    expect((await apply()).code).toBe(1);
    expect(one.log()).toContain("FATAL: addons: no cloud controller image is pinned for Kubernetes 1.30");
    one.writeEnv({ ...envOf(one), ADDONS: "kopeio-vxlan,kube-router" });
    expect((await apply()).code).toBe(1);
    expect(one.log()).toContain("FATAL: addons: ADDONS names 'kube-router', which kopsform cannot install");
    expect((await apply('load_instance_facts\napply_addons "$ROOT/etc/kubernetes/missing.conf"')).code).toBe(1);
    expect(one.log()).toMatch(/FATAL: addons: the kubeconfig '.*\/missing\.conf' is not readable/);
    expect(applied()).toEqual([]);
  });

  it("a config parameter that is not what Terraform writes, and one that never appears (bounded)", async () => {
    await master({ env: { ADDONS: "cilium,aws-node-termination-handler" }, parameters: { "api-endpoint": "api.example.com; $(touch /tmp/x)" } });
    expect((await apply()).code).toBe(1);
    expect(one.log()).toContain(`FATAL: addons: /kopsform/${CLUSTER}/config/api-endpoint holds 'api.example.com; $(touch /tmp/x)', which is not what kopsform writes there`);
    one.writeEnv({ ...envOf(one), ADDONS: "aws-node-termination-handler" });
    expect((await apply()).code).toBe(1);
    expect(one.log()).toContain(`reading /kopsform/${CLUSTER}/config/node-termination-queue-url: failed 2 times`);
    expect(one.log()).toContain(`FATAL: addons: could not read /kopsform/${CLUSTER}/config/node-termination-queue-url`);
    expect(applied()).toEqual([]);
  });

  it("writes values as JSON data whatever they hold, and refuses control characters", async () => {
    const tricky = `a"b\\c $(touch pwned) \`id\` ';`;
    await master({ env: { ADDONS: "flannel", POD_CIDR: tricky } });
    expect((await apply()).code).toBe(0);
    const patch = JSON.parse(appliedFile("00-flannel", "net-conf-patch.json")) as { data: Record<string, string> };
    expect(JSON.parse(patch.data["net-conf.json"]).Network).toBe(tricky);
    expect(fs.existsSync(path.join(one.root, "pwned"))).toBe(false);
    const control = await apply(`addons_json_string "$(printf 'a\\nb')"`);
    expect(control.code).toBe(1);
    expect(one.log()).toContain("FATAL: addons: a value holds a control character");
  });
});

describe("bounded retries", () => {
  it("retries an API server that is still starting, then applies", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan" } });
    const r = await apply(APPLY, { FAKE_KUBECTL_DOWN_CALLS: "1" });
    expect({ code: r.code, log: r.code === 0 ? "" : one.log() }).toEqual({ code: 0, log: "" });
    expect(one.log()).toContain("reading the record of kopeio-vxlan: attempt 1/2 failed (The connection to the server api.internal:443 was refused");
    expect(applied()).toEqual(["00-kopeio-vxlan"]);
  });

  it("stops after ADDONS_ATTEMPTS when the API never answers: nothing applied", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan" } });
    const r = await apply(APPLY, { FAKE_KUBECTL_DOWN_CALLS: "1000" });
    expect(r.code).toBe(1);
    expect(kubectlCalls()).toHaveLength(2);
    expect(one.log()).toContain("reading the record of kopeio-vxlan: failed 2 times");
    expect(one.log()).toContain("FATAL: addons: could not read the record of kopeio-vxlan from the API");
  });

  it("stops after ADDONS_ATTEMPTS when an apply keeps failing, and records nothing", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan" } });
    // The record is read (call 1); every apply after it fails.
    const bin = one.bin({
      kubectl: `case " $* " in *" apply "*) echo "Error from server (InternalError): etcdserver: request timed out" >&2; exit 1 ;; esac\nexec ${JSON.stringify(path.join(FAKES, "kubectl"))} "$@"`,
    });
    const r = await one.run(["steps/store.sh", "steps/addons.sh"], APPLY, { binFirst: bin, env: { FAKE_KUBECTL_STATE: state() } });
    expect(r.code).toBe(1);
    expect(one.log()).toContain("kubectl apply of kopeio-vxlan: attempt 1/2 failed (Error from server (InternalError): etcdserver: request timed out");
    expect(one.log()).toContain("FATAL: addons: could not apply kopeio-vxlan (2 attempts)");
    expect(record("kopeio-vxlan")).toBeUndefined();
  });

  it("stops after ADDONS_ATTEMPTS downloads when an artifact cannot be fetched", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan" } });
    writePins(pinsTsv(artifacts, `${one.aws.endpoint}/downloads/nowhere`));
    const r = await apply();
    expect(r.code).toBe(1);
    expect(one.log()).toMatch(/download of .*\/nowhere\/kopeio\/84442054\/kopeio-networking\.yaml: attempt 1\/2 failed \(curl: \(22\)/);
    expect(one.log()).toMatch(/FATAL: addons: could not fetch .*\/nowhere\/kopeio\/84442054\/kopeio-networking\.yaml \(2 attempts\); check the network, or the mirror/);
    expect(applied()).toEqual([]);
  });
});

describe("each networking option and the mirror", () => {
  it("fetches from the mirror when one is set, at MIRROR/HOST/PATH, verified against the same pins", async () => {
    await master({ env: { ADDONS: "kopeio-vxlan" } });
    one.writeEnv({ ...envOf(one), ADDONS_MIRROR: `${one.aws.endpoint}/downloads/mirror/` });
    writePins(pinsTsv(artifacts, "https://upstream.example.com"));
    const r = await apply();
    expect({ code: r.code, log: r.code === 0 ? "" : one.log() }).toEqual({ code: 0, log: "" });
    expect(one.log()).toContain(`addons: fetching ${one.aws.endpoint}/downloads/mirror/upstream.example.com/kopeio/84442054/kopeio-networking.yaml`);
    expect(applied()).toEqual(["00-kopeio-vxlan"]);
  });

  it("installs cilium with kube-proxy replacement, talking to the API by the name Terraform wrote", async () => {
    await master({ env: { ADDONS: "cilium" } });
    expect((await apply()).code).toBe(0);
    expect(helmValues("cilium")).toMatchObject({ kubeProxyReplacement: true, k8sServiceHost: "api.unit.example.com", k8sServicePort: 443, routingMode: "tunnel", tunnelProtocol: "vxlan" });
    expect(one.calls()).toContain(`ssm:GetParameter /kopsform/${CLUSTER}/config/api-endpoint`);
  });

  it("installs calico's operator, waits for its CRD, then the Installation with the pod CIDR", async () => {
    await master({ env: { ADDONS: "calico" } });
    expect((await apply()).code).toBe(0);
    expect(applied()).toEqual(["00-calico", "01-installation"]);
    expect(kubectlCalls().find((c) => / wait /.test(c))).toMatch(/ wait --for=condition=established --timeout=180s crd\/installations\.operator\.tigera\.io$/);
    expect(appliedFile("00-calico", "kustomization.yaml")).toMatch(/resources:\n {2}- operator-crds\.yaml\n {2}- tigera-operator\.yaml\n/);
    expect(JSON.parse(appliedFile("01-installation", "installation.json"))).toMatchObject({
      kind: "Installation",
      spec: { calicoNetwork: { bgp: "Enabled", ipPools: [{ cidr: "100.96.0.0/11", encapsulation: "IPIP" }] } },
    });
  });

  it("installs flannel with the pod CIDR in its net-conf.json, and weave with IPALLOC_RANGE, its 2.8.1 images and a warning", async () => {
    await master({ env: { ADDONS: "flannel,weave" } });
    expect((await apply()).code).toBe(0);
    const patch = JSON.parse(appliedFile("00-flannel", "net-conf-patch.json")) as { data: Record<string, string> };
    expect(JSON.parse(patch.data["net-conf.json"])).toEqual({ Network: "100.96.0.0/11", EnableNFTables: false, Backend: { Type: "vxlan" } });
    const weave = JSON.parse(appliedFile("01-weave", "ipalloc-patch.json"));
    expect(weave.spec.template.spec.containers[0].env).toEqual([{ name: "IPALLOC_RANGE", value: "100.96.0.0/11" }]);
    expect(appliedFile("01-weave", "kustomization.yaml")).toContain('  - name: weaveworks/weave-kube\n    newTag: "2.8.1"\n  - name: weaveworks/weave-npc\n    newTag: "2.8.1"\n');
    expect(one.log()).toMatch(/Weave Net 2\.8\.1, unmaintained since 2024/);
  });

  it("installs the VPC CNI from Amazon's public registry with the cluster's name", async () => {
    await master({ env: { ADDONS: "amazon-vpc-routed-eni" } });
    expect((await apply()).code).toBe(0);
    expect(helmValues("amazon-vpc-routed-eni")).toMatchObject({ image: { overrideRepository: "public.ecr.aws/eks/amazon-k8s-cni" }, env: { CLUSTER_NAME: CLUSTER } });
  });

  it("picks the arm64 helm on arm64, and the cloud controller of Kubernetes 1.32 for a 1.32 cluster", async () => {
    await master({ env: { ADDONS: "aws-cloud-controller-manager", KUBERNETES_VERSION: "1.32.9" } });
    expect((await apply('load_instance_facts\nARCH=arm64\napply_addons "$ROOT/etc/kubernetes/admin.conf"')).code).toBe(0);
    expect(helmCalls().join("\n")).toMatch(/linux-arm64\/helm template/);
    expect(helmValues("aws-cloud-controller-manager")).toMatchObject({ image: { tag: "v1.32.8" } });
  });
});
