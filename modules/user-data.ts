/**
 * The instances' user data: a cloud-config that writes the loader (boot/loader.sh with boot/lib.sh
 * and boot/steps/aws-cli.sh, verbatim) and the instance's facts (/etc/kopsform/cluster.env), and
 * runs the loader once; the loader fetches the boot scripts from the cluster's bucket, checks them
 * by sha256 (modules/boot-bundle.ts) and starts kopsform-boot.service, which runs boot/master.sh or
 * boot/node.sh at every boot. No script is templated: every value reaches the instance as a
 * KEY=VALUE line of cluster.env, which the scripts read as data (never source or evaluate), and
 * every value is checked here against a strict pattern first. The cloud-config is gzip'd (cloud-init
 * unpacks it) and base64-encoded here, so that no `${` in a script is ever read as Terraform.
 */
import { createHash } from "crypto";
import { gzipSync } from "fflate";
import YAML from "yaml";
import { AddonFacts } from "../spec/addons";
import { checkDnsName, checkLabelValue, checkMirrorUrl, checkNodeLabelKey, checkTaint, taintKeyAndEffect } from "../spec/checks";
import * as D from "../spec/defaults";
import { NETWORKING_OPTIONS } from "../spec/networking";
import { ADDON_NAMES } from "../spec/pins";
import { bootArchive, bootArchiveKey, bootFile } from "./boot-bundle";
import { clusterKeyAlias } from "./cluster-key";

/** EC2 refuses user data over 16 KiB (after base64 decoding: here, the gzip'd cloud-config). */
export const MAX_USER_DATA_BYTES = 16 * 1024;

/** Where the loader, its library and the boot scripts live on an instance. */
export const KOPSFORM_HOME = "/opt/kopsform";

/**
 * How long the boot logic waits for what may take a while on AWS, as attempts x delay. Defaults
 * are for AWS; the cluster simulation shortens them.
 */
export interface BootTiming {
  /** Attempts to claim each etcd volume while a predecessor holds it. @default 90 (x 10 s: 15 min) */
  readonly attachAttempts: number;
  /** @default 10 (s) */
  readonly attachDelaySeconds: number;
  /** Polls for an attached volume's block device. @default 60 (x 2 s) */
  readonly deviceWaitAttempts: number;
  /** @default 2 (s) */
  readonly deviceWaitDelaySeconds: number;
  /** Attempts at installing the AWS CLI and fetching the boot scripts. @default 20 (x 15 s: 5 min) */
  readonly installAttempts: number;
  /** @default 15 (s) */
  readonly installDelaySeconds: number;
  /** Attempts at joining etcd (member add/remove, waiting for a quorum of a created cluster). @default 30 (x 10 s) */
  readonly etcdJoinAttempts: number;
  /** @default 10 (s) */
  readonly etcdJoinDelaySeconds: number;
  /** Attempts at promoting this member from learner. @default 60 (x the join delay) */
  readonly etcdPromoteAttempts: number;
  /** Polls for this member to be running and to have a quorum. @default 180 (x the join delay: 30 min) */
  readonly etcdQuorumWaitAttempts: number;
  /** Validity of the member certificates. @default 365 (days) */
  readonly etcdCertDays: number;
  /** Renew member certificates expiring within this many days. @default 60 */
  readonly etcdCertRenewDays: number;
  /** Polls for a master's own API server to be ready after kubeadm starts it. @default 120 (x 5 s: 10 min) */
  readonly kubeApiWaitAttempts: number;
  /** @default 5 (s) */
  readonly kubeApiWaitDelaySeconds: number;
  /** Polls for the masters' join token, on a node. @default 120 (x 15 s: 30 min) */
  readonly joinWaitAttempts: number;
  /** @default 15 (s) */
  readonly joinWaitDelaySeconds: number;
  /** Attempts at each add-on download and API call (boot/steps/addons.sh). @default 30 (x 10 s: 5 min) */
  readonly addonAttempts: number;
  /** @default 10 (s) */
  readonly addonDelaySeconds: number;
}

/** The defaults of {@link BootTiming}. */
export const DEFAULT_BOOT_TIMING: BootTiming = {
  attachAttempts: 90,
  attachDelaySeconds: 10,
  deviceWaitAttempts: 60,
  deviceWaitDelaySeconds: 2,
  installAttempts: 20,
  installDelaySeconds: 15,
  etcdJoinAttempts: 30,
  etcdJoinDelaySeconds: 10,
  etcdPromoteAttempts: 60,
  etcdQuorumWaitAttempts: 180,
  etcdCertDays: 365,
  etcdCertRenewDays: 60,
  kubeApiWaitAttempts: 120,
  kubeApiWaitDelaySeconds: 5,
  joinWaitAttempts: 120,
  joinWaitDelaySeconds: 15,
  addonAttempts: 30,
  addonDelaySeconds: 10,
};

/** An etcd release: its version, the sha256 of each architecture's archive, where to download it. */
export interface EtcdRelease {
  readonly version: string;
  readonly sha256: { readonly amd64: string; readonly arm64: string };
  /** upstream's layout: URL/vVERSION/etcd-vVERSION-linux-ARCH.tar.gz */
  readonly downloadUrl: string;
}

/** A pinned binary release: its version, the sha256 of each architecture's file, where it is. */
export interface PinnedRelease {
  readonly version: string;
  readonly sha256: { readonly amd64: string; readonly arm64: string };
  /** The base URL of upstream's layout (see spec/defaults.ts for each release's layout). */
  readonly downloadUrl: string;
}

/** What every instance needs to run Kubernetes: the container runtime and the packages. */
export interface KubernetesRuntime {
  /** @default containerd {@link D.CONTAINERD_VERSION} */
  readonly containerd: PinnedRelease;
  /** @default runc {@link D.RUNC_VERSION} */
  readonly runc: PinnedRelease;
  /** The package repositories' base (URL/vMINOR/deb/). @default {@link D.DEFAULT_KUBERNETES_PACKAGE_REPOSITORY} */
  readonly packageRepository: string;
  /** The fingerprint its signing key must have. @default {@link D.KUBERNETES_PACKAGE_KEY_FINGERPRINT} */
  readonly packageKeyFingerprint: string;
}

/** The defaults of {@link KubernetesRuntime}. */
export const DEFAULT_KUBERNETES_RUNTIME: KubernetesRuntime = {
  containerd: { version: D.CONTAINERD_VERSION, sha256: D.CONTAINERD_SHA256, downloadUrl: D.CONTAINERD_DOWNLOAD_URL },
  runc: { version: D.RUNC_VERSION, sha256: D.RUNC_SHA256, downloadUrl: D.RUNC_DOWNLOAD_URL },
  packageRepository: D.DEFAULT_KUBERNETES_PACKAGE_REPOSITORY,
  packageKeyFingerprint: D.KUBERNETES_PACKAGE_KEY_FINGERPRINT,
};

/** What a master's user data needs. */
export interface MasterUserDataProps {
  /** e.g. hacluster.example.com */
  readonly clusterName: string;
  /** The etcd member, e.g. `a` or `a-2`: the master claims the volumes tagged `MEMBER/...`. */
  readonly member: string;
  /** e.g. 1.33.5 */
  readonly kubernetesVersion: string;
  readonly etcd: EtcdRelease;
  /** Minutes between etcd backups (by each etcd cluster's leader). */
  readonly backupIntervalMinutes: number;
  /** @default {@link DEFAULT_KUBERNETES_RUNTIME} */
  readonly runtime?: KubernetesRuntime;
  /** The pods' network. @default {@link D.DEFAULT_POD_CIDR} */
  readonly podCidr?: string;
  /** The services' network. @default {@link D.DEFAULT_SERVICE_CIDR} */
  readonly serviceCidr?: string;
  /** Whether kubeadm installs kube-proxy (false when the pod network replaces it). @default the add-ons' plan, else true */
  readonly kubeProxy?: boolean;
  /**
   * The add-ons the cluster-wide step applies (spec/addons.ts), for boot/steps/addons.sh.
   * @default none: cluster.env then lacks the add-on keys, and apply_addons stops naming them
   */
  readonly addons?: AddonFacts;
  /** @default {@link DEFAULT_BOOT_TIMING} */
  readonly timing?: Partial<BootTiming>;
}

/** What a node's user data needs. */
export interface NodeUserDataProps {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /** The instance group, e.g. nodes, gpu. */
  readonly instanceGroup: string;
  /** Kubernetes labels of the group (kubelet --node-labels). @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Kubernetes taints of the group, key[=value]:Effect (kubelet --register-with-taints). @default none */
  readonly taints?: readonly string[];
  /** @default {@link DEFAULT_KUBERNETES_RUNTIME} */
  readonly runtime?: KubernetesRuntime;
  /** @default {@link DEFAULT_BOOT_TIMING} */
  readonly timing?: Partial<BootTiming>;
}

/** A rendered user data. */
export interface UserData {
  /** What the launch template takes: base64 of the gzip'd cloud-config. */
  readonly base64: string;
  /** The cloud-config itself (for tests and reviews). */
  readonly cloudConfig: string;
  /** The KEY=VALUE facts written to /etc/kopsform/cluster.env. */
  readonly clusterEnv: Readonly<Record<string, string>>;
  /** sha256 of the gzip'd cloud-config. */
  readonly sha256: string;
}

/** Values in cluster.env: plain words (no space, quote, `$`, backslash or newline). */
const ENV_VALUE = /^[A-Za-z0-9._:/@+=,%-]*$/;
const MEMBER = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^\d+\.\d+\.\d+$/;
const SHA256 = /^[0-9a-f]{64}$/;
const URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%/-]*)?$/;
const INSTANCE_GROUP = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** pkgs.k8s.io's base has colons in its path (`/core:/stable:`). */
const REPOSITORY = /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%/:-]*)?$/;
const FINGERPRINT = /^[0-9A-F]{40}$/;
const CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;
/** What boot/steps/addons.sh can apply (helm is its tool, not an add-on). */
const APPLIED_ADDONS: readonly string[] = ADDON_NAMES.filter((name) => name !== "helm");

/** Collects every problem with the props, then throws them together. */
class Problems {
  private readonly lines: string[] = [];

  constructor(private readonly what: string) {}

  check(ok: boolean, field: string, value: unknown, fix: string): void {
    if (!ok) {
      this.lines.push(`${field}: ${JSON.stringify(value)} ${fix}`);
    }
  }

  report(field: string, message: string): void {
    this.lines.push(`${field}: ${message}`);
  }

  throwIfAny(): void {
    if (this.lines.length > 0) {
      throw new Error(`${this.what}:${this.lines.length === 1 ? ` ${this.lines[0]}` : `\n${this.lines.join("\n")}`}`);
    }
  }
}

const matches = (pattern: RegExp, value: unknown): boolean => typeof value === "string" && pattern.test(value);

function checkCommon(problems: Problems, props: { clusterName: unknown; kubernetesVersion: unknown }): void {
  problems.check(
    typeof props.clusterName === "string" && checkDnsName(props.clusterName, "cluster name") === undefined,
    "clusterName",
    props.clusterName,
    "is not a cluster name: use a lower-case DNS name with at least two labels (for example hacluster.example.com).",
  );
  problems.check(
    matches(VERSION, props.kubernetesVersion),
    "kubernetesVersion",
    props.kubernetesVersion,
    "is not a Kubernetes version: use MAJOR.MINOR.PATCH without a leading v (for example 1.33.5).",
  );
}

function resolveTiming(problems: Problems, timing: Partial<BootTiming> | undefined): BootTiming {
  const resolved = { ...DEFAULT_BOOT_TIMING, ...(timing ?? {}) };
  for (const [key, value] of Object.entries(resolved)) {
    problems.check(Number.isInteger(value) && value >= 1 && value <= 100000, `timing.${key}`, value, "must be a whole number from 1 to 100000.");
  }
  return resolved;
}

/** Checks the runtime's values; returns its cluster.env keys. */
function runtimeEnv(problems: Problems, runtime: KubernetesRuntime): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, release] of [
    ["containerd", runtime.containerd],
    ["runc", runtime.runc],
  ] as const) {
    problems.check(matches(VERSION, release?.version), `runtime.${name}.version`, release?.version, "is not a release version (MAJOR.MINOR.PATCH).");
    for (const arch of ["amd64", "arm64"] as const) {
      problems.check(matches(SHA256, release?.sha256?.[arch]), `runtime.${name}.sha256.${arch}`, release?.sha256?.[arch], "is not a sha256 (64 hex digits).");
    }
    problems.check(matches(URL, release?.downloadUrl), `runtime.${name}.downloadUrl`, release?.downloadUrl, "is not an http(s) URL of letters, digits and . _ ~ % / -.");
    const prefix = name.toUpperCase();
    Object.assign(env, {
      [`${prefix}_VERSION`]: release?.version,
      [`${prefix}_SHA256_AMD64`]: release?.sha256?.amd64,
      [`${prefix}_SHA256_ARM64`]: release?.sha256?.arm64,
      [`${prefix}_DOWNLOAD_URL`]: release?.downloadUrl,
    });
  }
  problems.check(
    matches(REPOSITORY, runtime.packageRepository),
    "runtime.packageRepository",
    runtime.packageRepository,
    "is not an http(s) URL of letters, digits and . _ ~ % / : -.",
  );
  problems.check(
    matches(FINGERPRINT, runtime.packageKeyFingerprint),
    "runtime.packageKeyFingerprint",
    runtime.packageKeyFingerprint,
    "is not an OpenPGP fingerprint (40 upper-case hex digits).",
  );
  env.KUBERNETES_PACKAGE_REPOSITORY = runtime.packageRepository;
  env.KUBERNETES_PACKAGE_KEY_FINGERPRINT = runtime.packageKeyFingerprint;
  return env;
}

/** The facts every instance's loader needs. */
function loaderEnv(clusterName: string, role: string, bootScript: string, timing: BootTiming): Record<string, string> {
  return {
    CLUSTER_NAME: clusterName,
    ROLE: role,
    BOOT_SCRIPT: bootScript,
    BOOT_BUNDLE_KEY: bootArchiveKey(clusterName),
    BOOT_BUNDLE_SHA256: bootArchive().sha256,
    INSTALL_ATTEMPTS: String(timing.installAttempts),
    INSTALL_DELAY_SECONDS: String(timing.installDelaySeconds),
  };
}

/**
 * The user data of one master: the loader, then master.sh at every boot (etcd volumes, etcd names,
 * etcd, the container runtime, Kubernetes packages, the control plane by kubeadm's phases). Throws when a prop is invalid.
 */
export function masterUserData(props: MasterUserDataProps): UserData {
  const problems = new Problems("master user data");
  checkCommon(problems, props);
  problems.check(matches(MEMBER, props.member), "member", props.member, "is not an etcd member name (for example a or a-2).");
  problems.check(matches(VERSION, props.etcd?.version), "etcd.version", props.etcd?.version, "is not an etcd version (MAJOR.MINOR.PATCH).");
  for (const arch of ["amd64", "arm64"] as const) {
    problems.check(matches(SHA256, props.etcd?.sha256?.[arch]), `etcd.sha256.${arch}`, props.etcd?.sha256?.[arch], "is not a sha256 (64 hex digits).");
  }
  problems.check(matches(URL, props.etcd?.downloadUrl), "etcd.downloadUrl", props.etcd?.downloadUrl, "is not an http(s) URL of letters, digits and . _ ~ % / -.");
  problems.check(
    Number.isInteger(props.backupIntervalMinutes) && props.backupIntervalMinutes >= 1,
    "backupIntervalMinutes",
    props.backupIntervalMinutes,
    "must be a whole number of minutes.",
  );
  const podCidr = props.podCidr ?? D.DEFAULT_POD_CIDR;
  const serviceCidr = props.serviceCidr ?? D.DEFAULT_SERVICE_CIDR;
  problems.check(matches(CIDR, podCidr), "podCidr", podCidr, "is not an IPv4 CIDR.");
  problems.check(matches(CIDR, serviceCidr), "serviceCidr", serviceCidr, "is not an IPv4 CIDR.");
  const runtime = runtimeEnv(problems, props.runtime ?? DEFAULT_KUBERNETES_RUNTIME);
  if (props.addons) {
    checkAddons(problems, props.addons);
  }
  const timing = resolveTiming(problems, props.timing);
  problems.throwIfAny();
  const env = {
    ...loaderEnv(props.clusterName, "master", "master.sh", timing),
    ETCD_MEMBER: props.member,
    KMS_KEY: clusterKeyAlias(props.clusterName),
    KUBERNETES_VERSION: props.kubernetesVersion,
    ETCD_VERSION: props.etcd.version,
    ETCD_SHA256_AMD64: props.etcd.sha256.amd64,
    ETCD_SHA256_ARM64: props.etcd.sha256.arm64,
    ETCD_DOWNLOAD_URL: props.etcd.downloadUrl,
    ATTACH_ATTEMPTS: String(timing.attachAttempts),
    ATTACH_DELAY_SECONDS: String(timing.attachDelaySeconds),
    DEVICE_WAIT_ATTEMPTS: String(timing.deviceWaitAttempts),
    DEVICE_WAIT_DELAY_SECONDS: String(timing.deviceWaitDelaySeconds),
    ETCD_JOIN_ATTEMPTS: String(timing.etcdJoinAttempts),
    ETCD_JOIN_DELAY_SECONDS: String(timing.etcdJoinDelaySeconds),
    ETCD_PROMOTE_ATTEMPTS: String(timing.etcdPromoteAttempts),
    ETCD_QUORUM_WAIT_ATTEMPTS: String(timing.etcdQuorumWaitAttempts),
    ETCD_CERT_DAYS: String(timing.etcdCertDays),
    ETCD_CERT_RENEW_DAYS: String(timing.etcdCertRenewDays),
    ...runtime,
    POD_CIDR: podCidr,
    SERVICE_CIDR: serviceCidr,
    KUBE_PROXY: String(props.addons ? props.addons.kubeProxy : props.kubeProxy !== false),
    KUBE_API_WAIT_ATTEMPTS: String(timing.kubeApiWaitAttempts),
    KUBE_API_WAIT_DELAY_SECONDS: String(timing.kubeApiWaitDelaySeconds),
    ...(props.addons ? addonEnv(props.addons) : {}),
    ADDONS_ATTEMPTS: String(timing.addonAttempts),
    ADDONS_DELAY_SECONDS: String(timing.addonDelaySeconds),
  };
  return render(`master ${props.member} of ${props.clusterName}`, env, "master.sh", [
    { path: "/etc/systemd/system/kopsform-etcd-backup@.timer.d/interval.conf", content: `[Timer]\nOnUnitActiveSec=${props.backupIntervalMinutes}min\n` },
  ]);
}

/**
 * The user data of a node of instance group `instanceGroup`: the loader, then node.sh at every
 * boot, with the group's labels and taints (NODE_LABELS: key=value pairs sorted by key, comma-
 * separated, as kubelet's --node-labels; NODE_TAINTS: as kubelet's --register-with-taints).
 */
export function nodeUserData(props: NodeUserDataProps): UserData {
  const problems = new Problems("node user data");
  checkCommon(problems, props);
  problems.check(matches(INSTANCE_GROUP, props.instanceGroup), "instanceGroup", props.instanceGroup, "is not an instance group name (for example nodes).");
  const labels = checkLabels(problems, props.labels ?? {});
  const taints = checkTaints(problems, props.taints ?? []);
  const runtime = runtimeEnv(problems, props.runtime ?? DEFAULT_KUBERNETES_RUNTIME);
  const timing = resolveTiming(problems, props.timing);
  problems.throwIfAny();
  const env = {
    ...loaderEnv(props.clusterName, "node", "node.sh", timing),
    KUBERNETES_VERSION: props.kubernetesVersion,
    INSTANCE_GROUP: props.instanceGroup,
    NODE_LABELS: labels,
    NODE_TAINTS: taints,
    ...runtime,
    JOIN_WAIT_ATTEMPTS: String(timing.joinWaitAttempts),
    JOIN_WAIT_DELAY_SECONDS: String(timing.joinWaitDelaySeconds),
  };
  return render(`node of instance group ${props.instanceGroup} of ${props.clusterName}`, env, "node.sh", []);
}

/** The add-on facts, checked: known names, once each; a networking option; a CIDR; a mirror URL. */
function checkAddons(problems: Problems, addons: AddonFacts): void {
  const names = addons.addons ?? [];
  names.forEach((name, i) => {
    problems.check(APPLIED_ADDONS.includes(name) && names.indexOf(name) === i, `addons.addons[${i}]`, name, `is not an add-on kopsform applies once; use one of ${APPLIED_ADDONS.join(", ")}.`);
  });
  problems.check((NETWORKING_OPTIONS as readonly string[]).includes(addons.networking), "addons.networking", addons.networking, `is not a networking option; use one of ${NETWORKING_OPTIONS.join(", ")}.`);
  problems.check(typeof addons.kubeProxy === "boolean", "addons.kubeProxy", addons.kubeProxy, "must be true or false.");
  problems.check(matches(CIDR, addons.podCidr), "addons.podCidr", addons.podCidr, "is not a CIDR (for example 100.96.0.0/11).");
  if (addons.mirror !== undefined) {
    const message = typeof addons.mirror === "string" ? checkMirrorUrl(addons.mirror) : "is not a string.";
    if (message) {
      problems.report("addons.mirror", message);
    }
  }
}

/** The add-on keys of cluster.env, as boot/steps/addons.sh reads them. */
function addonEnv(addons: AddonFacts): Record<string, string> {
  return {
    NETWORKING: addons.networking,
    ADDONS: addons.addons.join(","),
    ADDONS_MIRROR: addons.mirror ?? "",
  };
}

/** Labels checked with the spec's own checks; returned as `key=value,...`, sorted by key. */
function checkLabels(problems: Problems, labels: Readonly<Record<string, string>>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const message = checkNodeLabelKey(key) ?? (typeof value === "string" ? checkLabelValue(value) : `${JSON.stringify(value)} is not a string.`);
    if (message) {
      problems.report(`labels.${key}`, message);
    } else {
      pairs.push(`${key}=${value}`);
    }
  }
  return pairs.join(",");
}

/** Taints checked with the spec's own checks (one per key and effect); returned comma-separated. */
function checkTaints(problems: Problems, taints: readonly string[]): string {
  const seen = new Map<string, number>();
  taints.forEach((taint, i) => {
    const message = typeof taint === "string" ? checkTaint(taint) : `${JSON.stringify(taint)} is not a string.`;
    if (message) {
      problems.report(`taints[${i}]`, message);
      return;
    }
    const keyEffect = taintKeyAndEffect(taint);
    const first = seen.get(keyEffect);
    if (first === undefined) {
      seen.set(keyEffect, i);
    } else {
      problems.check(false, `taints[${i}]`, taint, `has the key and effect of taints[${first}]; give each key one taint per effect.`);
    }
  });
  return taints.join(",");
}

/** A file cloud-init writes. */
interface WrittenFile {
  readonly path: string;
  readonly content: string;
  /** @default "0644" */
  readonly permissions?: string;
}

/** The cloud-config: the loader's files, cluster.env and drop-ins, then the loader. */
function render(what: string, env: Record<string, string>, bootScript: string, dropIns: readonly WrittenFile[]): UserData {
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_VALUE.test(value)) {
      throw new Error(`${what}: ${key}=${JSON.stringify(value)} is not a plain word; cluster.env takes letters, digits and . _ : / @ + = , % - only.`);
    }
  }
  const files: WrittenFile[] = [
    { path: "/etc/kopsform/cluster.env", content: Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join("") },
    ...["lib.sh", "steps/aws-cli.sh", "loader.sh"].map((path) => {
      const file = bootFile(path);
      return { path: `${KOPSFORM_HOME}/${path}`, content: file.content, permissions: file.mode === 0o755 ? "0755" : "0644" };
    }),
    { path: "/etc/systemd/system/kopsform-boot.service.d/role.conf", content: `[Service]\nExecStart=${KOPSFORM_HOME}/${bootScript}\n` },
    ...dropIns,
  ];
  const document = {
    write_files: files.map((f) => ({ path: f.path, owner: "root:root", permissions: f.permissions ?? "0644", content: f.content })),
    runcmd: [[`${KOPSFORM_HOME}/loader.sh`]],
  };
  const cloudConfig =
    "#cloud-config\n" +
    `# kopsform: the ${what}. cloud-init writes the loader and runs it once; the loader fetches the\n` +
    `# boot scripts (${env.BOOT_BUNDLE_KEY}, sha256 checked) and starts kopsform-boot.service.\n` +
    YAML.stringify(document, { lineWidth: 0, blockQuote: "literal", defaultStringType: "PLAIN" });
  const gzip = gzipSync(Buffer.from(cloudConfig, "utf8"), { level: 9, mtime: 0 });
  if (gzip.length > MAX_USER_DATA_BYTES) {
    throw new Error(`${what}: user data is ${gzip.length} bytes gzip'd; EC2 accepts at most ${MAX_USER_DATA_BYTES}.`);
  }
  return {
    base64: Buffer.from(gzip).toString("base64"),
    cloudConfig,
    clusterEnv: env,
    sha256: createHash("sha256").update(gzip).digest("hex"),
  };
}
