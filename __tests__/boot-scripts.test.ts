/**
 * What instances are given: the boot scripts (shellcheck, systemd's own unit checker), the boot
 * archive (deterministic, exactly boot/, unpacked by the real tar), and the user data (cloud-config
 * that cloud-init's YAML reader reads back byte for byte, within EC2's 16 KiB, no secret, every
 * value checked). The scripts' behaviour is tested in boot-volumes.test.ts and the cluster
 * simulation (cluster-sim-*.test.ts).
 */
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gunzipSync } from "zlib";
import { BOOT_FILES, bootArchive, bootArchiveKey, bootFile } from "../modules/boot-bundle";
import { MAX_USER_DATA_BYTES, masterUserData, nodeUserData } from "../modules/user-data";
import { addonFacts } from "../spec/addons";
import { CONTAINERD_SHA256, CONTAINERD_VERSION, DEFAULT_ETCD_DOWNLOAD_URL, DEFAULT_ETCD_SHA256, DEFAULT_ETCD_VERSION, RUNC_SHA256, RUNC_VERSION } from "../spec/defaults";
import { decodeUserData } from "./helpers/user-data";

const BOOT = path.join(__dirname, "..", "boot");
const SIM_BIN = path.join(__dirname, "sim", "bin");
const ETCD = { version: DEFAULT_ETCD_VERSION, sha256: DEFAULT_ETCD_SHA256, downloadUrl: DEFAULT_ETCD_DOWNLOAD_URL };
const MASTER = { clusterName: "hacluster.example.com", member: "a", kubernetesVersion: "1.33.5", etcd: ETCD, backupIntervalMinutes: 15 };
const NODE = { clusterName: "hacluster.example.com", kubernetesVersion: "1.33.5", instanceGroup: "nodes" };

function requireTool(tool: string, pkg: string): void {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is missing; install the Debian package ${pkg} (.ci/run does)`);
  }
}

describe("the boot scripts", () => {
  const scripts = BOOT_FILES.filter((f) => !f.path.startsWith("systemd/") && !f.path.startsWith("addons/")).map((f) => path.join(BOOT, f.path));

  it("are every script and unit of boot/ and the add-ons' pins, packed as they are in git", () => {
    const onDisk = execFileSync("find", [BOOT, "-type", "f", "(", "-name", "*.sh", "-o", "-path", "*/bin/*", "-o", "-name", "*.service", "-o", "-name", "*.timer", "-o", "-path", "*/addons/pins.tsv", ")"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((f) => path.relative(BOOT, f))
      .sort();
    expect(BOOT_FILES.map((f) => f.path)).toEqual(onDisk);
    for (const file of BOOT_FILES) {
      expect(file.content).toBe(fs.readFileSync(path.join(BOOT, file.path), "utf8"));
      expect(file.mode).toBe(fs.statSync(path.join(BOOT, file.path)).mode & 0o111 ? 0o755 : 0o644);
    }
  });

  it("are shellcheck-clean at style level, and so are the simulation's fakes", () => {
    requireTool("shellcheck", "shellcheck");
    const r = spawnSync("shellcheck", ["-x", "-P", "SCRIPTDIR", "-S", "style", ...scripts, ...fs.readdirSync(SIM_BIN).map((f) => path.join(SIM_BIN, f))], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("executables run under bash strict mode and call main only when executed", () => {
    for (const file of BOOT_FILES.filter((f) => f.mode === 0o755)) {
      expect({ file: file.path, shebang: file.content.split("\n")[0] }).toEqual({ file: file.path, shebang: "#!/bin/bash" });
      expect(file.content).toContain("set -euo pipefail");
      expect(file.content).toMatch(/\nif \[\[ \$\{BASH_SOURCE\[0\]\} == "\$0" \]\]; then\n {2}main "\$@"\nfi\n$/);
    }
    for (const file of BOOT_FILES.filter((f) => f.path.startsWith("steps/"))) {
      // Steps only define: sourcing one runs nothing.
      expect({ file: file.path, main: /^main\b|\nmain\b/.test(file.content) }).toEqual({ file: file.path, main: false });
    }
  });

  it("call only functions defined in the files each entry point sources", () => {
    const defined = (content: string) => [...content.matchAll(/^([a-z_][a-z0-9_]*)\(\) \{$/gm)].map((m) => m[1]);
    const everywhere = new Set(BOOT_FILES.flatMap((f) => defined(f.content)));
    const sources = (file: string, seen = new Set<string>()): Set<string> => {
      seen.add(file);
      for (const m of (BOOT_FILES.find((f) => f.path === file)?.content ?? "").matchAll(/^\s*source "\$HERE\/([^"]+)"/gm)) {
        const next = m[1].replace(/^\.\.\//, "");
        if (!seen.has(next)) {
          sources(next, seen);
        }
      }
      return seen;
    };
    for (const entry of BOOT_FILES.filter((f) => f.mode === 0o755)) {
      const files = [...sources(entry.path)].map((p) => BOOT_FILES.find((f) => f.path === p)?.content ?? "");
      const available = new Set(files.flatMap(defined));
      const code = files.join("\n").replace(/^\s*#.*$/gm, "");
      // A call is the function's name in a command position: a line's start, after ; & | ( $( or a keyword.
      const called = (fn: string) => new RegExp(`(^|[;&|(]|\\$\\(|\\b(?:if|then|do|else|while|until)\\s|!\\s)\\s*${fn}\\b(?![(-])`, "m").test(code);
      const missing = [...everywhere].filter((fn) => !available.has(fn) && called(fn));
      expect({ entry: entry.path, missing }).toEqual({ entry: entry.path, missing: [] });
    }
  });

  it("never install the AWS CLI with apt: Ubuntu 24.04 has no awscli package, and the CLI comes from its snap", () => {
    // An `apt-get install awscli` fallback fails on Ubuntu 24.04 every time, so a boot that reached it
    // would stop instead of retrying the snap and asking for a replacement (steps/aws-cli.sh).
    const code = BOOT_FILES.map((f) => f.content.replace(/^\s*#.*$/gm, "")).join("\n");
    expect(code).not.toMatch(/\bawscli\b/);
    expect(code).not.toMatch(/\bapt(-get)?\b[^\n]*\binstall\b[^\n]*\baws/);
    expect(code).toContain("snap install aws-cli --classic");
  });

  it("never put a secret in a command's arguments: values go to aws through files", () => {
    // Continuation lines belong to their command.
    const all = BOOT_FILES.map((f) => f.content)
      .join("\n")
      .replace(/\\\n\s*/g, " ");
    for (const line of all.split("\n").filter((l) => /aws ssm put-parameter/.test(l))) {
      expect(line).toMatch(/--value "file:\/\//);
    }
    expect(all).not.toMatch(/--value "\$\(/);
  });

  it("units pass systemd's own checks", () => {
    requireTool("systemd-analyze", "systemd");
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-units-"));
    try {
      const units = path.join(root, "etc", "systemd", "system");
      fs.mkdirSync(units, { recursive: true });
      for (const file of BOOT_FILES) {
        const target = file.path.startsWith("systemd/") ? path.join(units, path.basename(file.path)) : path.join(root, "opt", "kopsform", file.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, file.content, { mode: file.mode });
      }
      fs.mkdirSync(path.join(root, "opt", "kopsform", "etcd", "current"), { recursive: true });
      fs.writeFileSync(path.join(root, "opt", "kopsform", "etcd", "current", "etcd"), "#!/bin/sh\n", { mode: 0o755 });
      // The drop-ins the user data writes.
      for (const file of decodeUserData(masterUserData(MASTER).base64).files.filter((f) => f.path.startsWith("/etc/systemd/"))) {
        fs.mkdirSync(path.dirname(path.join(root, file.path)), { recursive: true });
        fs.writeFileSync(path.join(root, file.path), file.content);
      }
      const names = ["kopsform-boot.service", "kopsform-etcd@main.service", "kopsform-hosts.timer", "kopsform-hosts.service", "kopsform-etcd-backup@events.timer", "kopsform-etcd-backup@events.service", "kopsform-maintenance.timer", "kopsform-maintenance.service"];
      const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...names.map((n) => path.join(units, n.replace(/@[a-z]+\./, "@."))).filter((v, i, a) => a.indexOf(v) === i)], {
        encoding: "utf8",
        env: { ...process.env, SYSTEMD_LOG_LEVEL: "warning" },
      });
      // Checks about the machine itself (no running systemd, missing system units) are not the units'.
      const problems = (r.stderr ?? "")
        .split("\n")
        .filter((l) => l.trim() && /kopsform/.test(l) && !/Failed to (connect|create)|No such file or directory.*\.(target|slice)/.test(l));
      expect(problems).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the boot archive", () => {
  it("is deterministic, named by its sha256, and unpacks with tar into exactly boot/", () => {
    const { gzip, sha256 } = bootArchive();
    expect(createHash("sha256").update(gzip).digest("hex")).toBe(sha256);
    expect(bootArchiveKey("hacluster.example.com")).toBe(`hacluster.example.com/boot/${sha256}.tar.gz`);
    // gzip with no timestamp, so equal content gives equal bytes.
    expect(gzip.slice(4, 8)).toEqual(new Uint8Array([0, 0, 0, 0]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-archive-"));
    try {
      fs.writeFileSync(path.join(dir, "boot.tar.gz"), gzip);
      fs.mkdirSync(path.join(dir, "x"));
      execFileSync("tar", ["-xzf", path.join(dir, "boot.tar.gz"), "-C", path.join(dir, "x")]);
      const listing = execFileSync("tar", ["-tvzf", path.join(dir, "boot.tar.gz")], { encoding: "utf8" });
      expect(listing).toMatch(/^-rwxr-xr-x root\/root +\d+ 1970-01-01 00:00 master\.sh$/m);
      expect(listing).toMatch(/^-rw-r--r-- root\/root +\d+ 1970-01-01 00:00 lib\.sh$/m);
      for (const file of BOOT_FILES) {
        expect(fs.readFileSync(path.join(dir, "x", file.path), "utf8")).toBe(file.content);
      }
      expect(gunzipSync(gzip).length % 512).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the user data", () => {
  it("is a gzip'd cloud-config that writes the loader verbatim and the facts, and runs the loader once", () => {
    const data = masterUserData(MASTER);
    const decoded = decodeUserData(data.base64);
    expect(decoded.text.startsWith("#cloud-config\n")).toBe(true);
    expect(decoded.runcmd).toEqual([["/opt/kopsform/loader.sh"]]);
    for (const name of ["lib.sh", "steps/aws-cli.sh", "loader.sh"]) {
      const file = decoded.files.find((f) => f.path === `/opt/kopsform/${name}`);
      expect(file?.content).toBe(bootFile(name).content);
      expect(file?.permissions).toBe(name === "loader.sh" ? "0755" : "0644");
    }
    expect(decoded.env).toEqual({
      CLUSTER_NAME: "hacluster.example.com",
      ROLE: "master",
      BOOT_SCRIPT: "master.sh",
      BOOT_BUNDLE_KEY: bootArchiveKey("hacluster.example.com"),
      BOOT_BUNDLE_SHA256: bootArchive().sha256,
      INSTALL_ATTEMPTS: "20",
      INSTALL_DELAY_SECONDS: "15",
      ETCD_MEMBER: "a",
      KMS_KEY: "alias/kopsform/hacluster-example-com",
      KUBERNETES_VERSION: "1.33.5",
      ETCD_VERSION: DEFAULT_ETCD_VERSION,
      ETCD_SHA256_AMD64: DEFAULT_ETCD_SHA256.amd64,
      ETCD_SHA256_ARM64: DEFAULT_ETCD_SHA256.arm64,
      ETCD_DOWNLOAD_URL: DEFAULT_ETCD_DOWNLOAD_URL,
      ATTACH_ATTEMPTS: "90",
      ATTACH_DELAY_SECONDS: "10",
      DEVICE_WAIT_ATTEMPTS: "60",
      DEVICE_WAIT_DELAY_SECONDS: "2",
      ETCD_JOIN_ATTEMPTS: "30",
      ETCD_JOIN_DELAY_SECONDS: "10",
      ETCD_PROMOTE_ATTEMPTS: "60",
      ETCD_QUORUM_WAIT_ATTEMPTS: "180",
      ETCD_CERT_DAYS: "365",
      ETCD_CERT_RENEW_DAYS: "60",
      CONTAINERD_VERSION: CONTAINERD_VERSION,
      CONTAINERD_SHA256_AMD64: CONTAINERD_SHA256.amd64,
      CONTAINERD_SHA256_ARM64: CONTAINERD_SHA256.arm64,
      CONTAINERD_DOWNLOAD_URL: "https://github.com/containerd/containerd/releases/download",
      RUNC_VERSION: RUNC_VERSION,
      RUNC_SHA256_AMD64: RUNC_SHA256.amd64,
      RUNC_SHA256_ARM64: RUNC_SHA256.arm64,
      RUNC_DOWNLOAD_URL: "https://github.com/opencontainers/runc/releases/download",
      KUBERNETES_PACKAGE_REPOSITORY: "https://pkgs.k8s.io/core:/stable:",
      KUBERNETES_PACKAGE_KEY_FINGERPRINT: "DE15B14486CD377B9E876E1A234654DA9A296436",
      POD_CIDR: "100.96.0.0/11",
      SERVICE_CIDR: "100.64.0.0/13",
      KUBE_PROXY: "true",
      KUBE_API_WAIT_ATTEMPTS: "120",
      KUBE_API_WAIT_DELAY_SECONDS: "5",
      ADDONS_ATTEMPTS: "30",
      ADDONS_DELAY_SECONDS: "10",
    });
    expect(decoded.files.find((f) => f.path.endsWith("kopsform-boot.service.d/role.conf"))?.content).toBe("[Service]\nExecStart=/opt/kopsform/master.sh\n");
    expect(decoded.files.find((f) => f.path.endsWith("kopsform-etcd-backup@.timer.d/interval.conf"))?.content).toBe("[Timer]\nOnUnitActiveSec=15min\n");
  });

  it("reads back byte for byte with the YAML reader cloud-init uses (Python's PyYAML)", () => {
    const cloudConfig = masterUserData(MASTER).cloudConfig;
    const r = spawnSync(
      "/usr/bin/python3",
      ["-c", "import json,sys,yaml; d=yaml.safe_load(sys.stdin.read()); print(json.dumps([[f['path'], f['content'], f['permissions']] for f in d['write_files']]))"],
      { input: cloudConfig, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    const files = JSON.parse(r.stdout) as [string, string, string][];
    for (const name of ["lib.sh", "steps/aws-cli.sh", "loader.sh"]) {
      expect(files.find(([p]) => p === `/opt/kopsform/${name}`)?.[1]).toBe(bootFile(name).content);
    }
  });

  it("fits EC2's 16 KiB for the longest cluster names, and carries no secret (KSEC-LT-005)", () => {
    const longName = `${"a".repeat(40)}.${"b".repeat(39)}`;
    for (const data of [masterUserData({ ...MASTER, clusterName: longName, member: "a-7" }), nodeUserData({ ...NODE, clusterName: longName })]) {
      expect(decodeUserData(data.base64).bytes).toBeLessThan(MAX_USER_DATA_BYTES);
      const text = decodeUserData(data.base64).text;
      for (const pattern of [/AKIA[0-9A-Z]{16}/, /aws_secret_access_key/i, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/]) {
        expect(text).not.toMatch(pattern);
      }
    }
  });

  it("is the same bytes for the same props (no launch template changes by itself)", () => {
    expect(masterUserData(MASTER).base64).toBe(masterUserData({ ...MASTER }).base64);
    expect(nodeUserData(NODE).base64).toBe(nodeUserData({ ...NODE }).base64);
    expect(masterUserData({ ...MASTER, member: "b" }).base64).not.toBe(masterUserData(MASTER).base64);
  });

  it("gives a node its group's labels and taints as data", () => {
    const env = decodeUserData(
      nodeUserData({ ...NODE, instanceGroup: "gpu", labels: { team: "ml", "nvidia.com/gpu": "true" }, taints: ["dedicated=gpu:NoSchedule"] }).base64,
    ).env;
    expect(env).toMatchObject({ ROLE: "node", BOOT_SCRIPT: "node.sh", INSTANCE_GROUP: "gpu", NODE_LABELS: "nvidia.com/gpu=true,team=ml", NODE_TAINTS: "dedicated=gpu:NoSchedule" });
  });

  it.each([
    ["a cluster name with a quote", { clusterName: "a'b.example.com" }, /clusterName: "a'b.example.com" is not a cluster name/],
    ["a member with a command", { member: "a$(id)" }, /member: "a\$\(id\)" is not an etcd member name/],
    ["a version with a newline", { kubernetesVersion: "1.33.5\nX=1" }, /kubernetesVersion: .* is not a Kubernetes version/],
    ["a download URL with a query", { etcd: { ...ETCD, downloadUrl: "https://x.example.com/e?$(id)" } }, /etcd\.downloadUrl: .* is not an http\(s\) URL/],
    ["a sha256 that is not one", { etcd: { ...ETCD, sha256: { ...ETCD.sha256, arm64: "abc" } } }, /etcd\.sha256\.arm64: "abc" is not a sha256/],
    ["a timing that is not a count", { timing: { attachAttempts: 0 } }, /timing\.attachAttempts: 0 must be a whole number/],
  ])("refuses %s, naming the field", (_, change, message) => {
    expect(() => masterUserData({ ...MASTER, ...change } as typeof MASTER)).toThrow(message);
  });

  it("gives a master the add-ons the spec decides, as boot/steps/addons.sh reads them", () => {
    const addons = { networking: "cilium", addons: addonFacts({ networking: "cilium", kubernetes: { podCidr: "100.96.0.0/11", serviceCidr: "100.64.0.0/13", packageRepository: "https://pkgs.k8s.io/core:/stable:" } }).addons, kubeProxy: false, podCidr: "100.96.0.0/11", mirror: "https://mirror.example.com/k" };
    const env = decodeUserData(masterUserData({ ...MASTER, addons }).base64).env;
    expect(env).toMatchObject({
      NETWORKING: "cilium",
      ADDONS: "aws-cloud-controller-manager,cilium,aws-ebs-csi-driver,aws-node-termination-handler",
      KUBE_PROXY: "false",
      POD_CIDR: "100.96.0.0/11",
      ADDONS_MIRROR: "https://mirror.example.com/k",
      ADDONS_ATTEMPTS: "30",
      ADDONS_DELAY_SECONDS: "10",
    });
    expect(decodeUserData(masterUserData({ ...MASTER, addons: { ...addons, mirror: undefined } }).base64).env.ADDONS_MIRROR).toBe("");
    // The keys the step loads are all there.
    const step = bootFile("steps/addons.sh").content;
    const loaded = /load_cluster_env ([A-Z_ ]+)\n/.exec(step)?.[1].trim().split(" ") ?? [];
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((key) => !(key in env))).toEqual([]);
  });

  it("refuses add-on facts that are not kopsform's, naming the field", () => {
    const addons = { networking: "calico", addons: ["aws-cloud-controller-manager", "calico"], kubeProxy: true, podCidr: "100.96.0.0/11" } as const;
    expect(() => masterUserData({ ...MASTER, addons: { ...addons, addons: ["calico", "kube-router", "calico"] } } as never)).toThrow(
      /addons\.addons\[1\]: "kube-router" is not an add-on kopsform applies once[^\n]*\naddons\.addons\[2\]: "calico" is not an add-on kopsform applies once/,
    );
    expect(() => masterUserData({ ...MASTER, addons: { ...addons, podCidr: "100.96.0.0/11 x" } })).toThrow(/addons\.podCidr: "100\.96\.0\.0\/11 x" is not a CIDR/);
    expect(() => masterUserData({ ...MASTER, addons: { ...addons, mirror: "https://u:p@mirror.example.com" } })).toThrow(/addons\.mirror: .* carries credentials/);
    expect(() => masterUserData({ ...MASTER, addons: { ...addons, networking: "kubenet" } as never })).toThrow(/addons\.networking: "kubenet" is not a networking option/);
  });

  it("refuses node labels and taints that are not Kubernetes', naming them", () => {
    expect(() => nodeUserData({ ...NODE, labels: { "a b": "c" } })).toThrow(/labels\.a b: "a b" is not a Kubernetes label key/);
    expect(() => nodeUserData({ ...NODE, labels: { team: "ml;rm -rf /" } })).toThrow(/is not a Kubernetes label value/);
    expect(() => nodeUserData({ ...NODE, taints: ["x=y:NoSchedule", "x=z:NoSchedule"] })).toThrow(/taints\[1\]: .* has the key and effect of taints\[0\]/);
  });
});
