/**
 * The instances' user data: bash scripts rendered from templates/master-user-data.sh.hbs and
 * templates/node-user-data.sh.hbs. A master's script attaches and mounts its etcd volumes at boot,
 * because Terraform cannot attach a volume to an instance an auto-scaling group launches; every
 * script ends with the bootstrap hook (templates/partials/bootstrap.hbs).
 *
 * Every value put into a script is checked here against a strict pattern (DNS names, member names,
 * tag keys, /dev/xvdX, absolute paths, Kubernetes labels and taints) so that it is a plain word, safe
 * inside the script's single quotes; anything else is refused with an error naming the field, never
 * emitted as a broken script.
 */
import { checkDnsName, checkLabelKey, checkLabelValue, checkTaint, taintKeyAndEffect } from "../spec/checks";
import { render } from "../templates";

/** One etcd volume a master attaches at boot. */
export interface EtcdVolumeAttachment {
  /** The etcd cluster: "main" (client 4001, peer 2380) or "events" (client 4002, peer 2381). */
  readonly etcdCluster: "main" | "events";
  /** The tag whose value names the member: `k8s.io/etcd/main`, value `<member>/<all members>`, e.g. `a/a,b,c`. */
  readonly tagKey: string;
  /** The device name requested in AttachVolume, e.g. /dev/xvdu (main), /dev/xvdv (events). */
  readonly device: string;
  /** Mount point, e.g. /mnt/etcd/main. */
  readonly mountPath: string;
}

/** What a master's user data needs: who it is in etcd and which volumes it attaches. */
export interface MasterUserDataProps {
  /** The cluster's DNS name, e.g. hacluster.example.com; volumes are found by `KubernetesCluster=<name>`. */
  readonly clusterName: string;
  /** The etcd member name, e.g. "a" or "a-2": the master's volumes carry tag values starting `<member>/`. */
  readonly member: string;
  /** The volumes to attach and mount, in order. */
  readonly volumes: readonly EtcdVolumeAttachment[];
  /** The Kubernetes version handed to the bootstrap hook, e.g. 1.33.5. */
  readonly kubernetesVersion: string;
  /**
   * Attempts while a dying predecessor still holds a volume (or the volume is not yet visible), per
   * volume. After the last one the script marks its instance Unhealthy, so that the master's
   * auto-scaling group (EC2 health checks only) replaces it, and exits 1, naming the volume and its
   * holder. The same happens when an attached volume's device never appears.
   * @default 90 ({@link DEFAULT_ATTACH_ATTEMPTS})
   */
  readonly attachAttempts?: number;
  /**
   * Seconds between attempts.
   * @default 10 ({@link DEFAULT_ATTACH_DELAY_SECONDS}), so 15 minutes in all by default
   */
  readonly attachDelaySeconds?: number;
}

/** What the user data of a node or bastion instance group needs. */
export interface NodeUserDataProps {
  /** The cluster's DNS name, e.g. hacluster.example.com. */
  readonly clusterName: string;
  /** The Kubernetes version handed to the bootstrap hook, e.g. 1.33.5. */
  readonly kubernetesVersion: string;
  /** The instance group's role. */
  readonly role: "node" | "bastion";
  /** The instance group name, e.g. nodes, bastions, gpu. */
  readonly instanceGroup: string;
  /**
   * Kubernetes labels for the group's nodes (`[prefix/]name` keys, as kops's instance-group
   * `nodeLabels`). Handed to the bootstrap hook as NODE_LABELS (`key=value,...`, sorted by key, the
   * format of kubelet's `--node-labels`) and as the `node_labels` fact.
   * @default none: NODE_LABELS is empty
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Kubernetes taints for the group's nodes, `key[=value]:Effect` with Effect NoSchedule,
   * PreferNoSchedule or NoExecute. Handed to the bootstrap hook as NODE_TAINTS (comma-separated, in
   * this order, the format of kubelet's `--register-with-taints`) and as the `node_taints` fact.
   * @default none: NODE_TAINTS is empty
   */
  readonly taints?: readonly string[];
}

/**
 * Attempts a master makes to claim each etcd volume. With {@link DEFAULT_ATTACH_DELAY_SECONDS} this
 * waits 15 minutes for a terminated predecessor to let go: EC2 usually detaches within a minute or
 * two, but a stuck shutdown can take many.
 */
export const DEFAULT_ATTACH_ATTEMPTS = 90;
/** Seconds between a master's attempts to claim a volume. */
export const DEFAULT_ATTACH_DELAY_SECONDS = 10;
/** Polls for the block device after an attach (every {@link DEVICE_WAIT_DELAY_SECONDS}: 2 minutes in all). */
export const DEVICE_WAIT_ATTEMPTS = 60;
/** Seconds between polls for the block device. */
export const DEVICE_WAIT_DELAY_SECONDS = 2;
/** Where every user-data script logs, besides stderr (which cloud-init keeps in cloud-init-output.log). */
export const USER_DATA_LOG_PATH = "/var/log/kopsform-user-data.log";
/** The marker the default bootstrap hook writes, listing the instance's role, cluster and version. */
export const BOOTSTRAP_MARKER_PATH = "/var/lib/kopsform/bootstrap-done";
/** EC2 refuses user data over 16 KiB (before base64). */
export const MAX_USER_DATA_BYTES = 16 * 1024;

const ETCD_CLUSTER_NAMES = ["main", "events"];
const MEMBER = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TAG_KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const DEVICE = /^\/dev\/xvd[a-z]$/;
const MOUNT_PATH = /^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/;
const KUBERNETES_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/;
const INSTANCE_GROUP = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** Collects every problem with the props, then throws them together. */
class Problems {
  private readonly lines: string[] = [];

  constructor(private readonly what: string) {}

  add(field: string, value: unknown, fix: string): void {
    this.lines.push(`${field}: ${JSON.stringify(value)} ${fix}`);
  }

  /** A problem whose message already names the value (the spec's checks write them so). */
  report(field: string, message: string): void {
    this.lines.push(`${field}: ${message}`);
  }

  check(ok: boolean, field: string, value: unknown, fix: string): void {
    if (!ok) {
      this.add(field, value, fix);
    }
  }

  throwIfAny(): void {
    if (this.lines.length > 0) {
      throw new Error(`${this.what}:${this.lines.length === 1 ? ` ${this.lines[0]}` : `\n${this.lines.join("\n")}`}`);
    }
  }
}

function matches(pattern: RegExp, value: unknown): boolean {
  return typeof value === "string" && pattern.test(value);
}

function checkCommon(problems: Problems, props: { clusterName: unknown; kubernetesVersion: unknown }): void {
  problems.check(
    typeof props.clusterName === "string" && checkDnsName(props.clusterName, "cluster name") === undefined,
    "clusterName",
    props.clusterName,
    "is not a cluster name: use a lower-case DNS name with at least two labels (for example hacluster.example.com).",
  );
  problems.check(
    matches(KUBERNETES_VERSION, props.kubernetesVersion),
    "kubernetesVersion",
    props.kubernetesVersion,
    "is not a Kubernetes version: use MAJOR.MINOR.PATCH without a leading v (for example 1.33.5).",
  );
}

function checkCount(problems: Problems, field: string, value: number, max: number): void {
  problems.check(
    Number.isInteger(value) && value >= 1 && value <= max,
    field,
    value,
    `must be a whole number from 1 to ${max}.`,
  );
}

function checkUnique(problems: Problems, volumes: readonly EtcdVolumeAttachment[], key: keyof EtcdVolumeAttachment): void {
  const seen = new Map<unknown, number>();
  volumes.forEach((volume, i) => {
    const first = seen.get(volume[key]);
    if (first === undefined) {
      seen.set(volume[key], i);
    } else {
      problems.add(`volumes[${i}].${key}`, volume[key], `is also volumes[${first}].${key}; each volume needs its own.`);
    }
  });
}

function checkVolume(problems: Problems, volume: EtcdVolumeAttachment, i: number): void {
  const at = `volumes[${i}]`;
  problems.check(
    ETCD_CLUSTER_NAMES.includes(volume.etcdCluster),
    `${at}.etcdCluster`,
    volume.etcdCluster,
    'is not an etcd cluster: use "main" or "events".',
  );
  problems.check(
    matches(TAG_KEY, volume.tagKey) && !volume.tagKey.startsWith("aws:"),
    `${at}.tagKey`,
    volume.tagKey,
    "is not a usable tag key: use letters, digits and . _ : / - only (for example k8s.io/etcd/main).",
  );
  problems.check(
    matches(DEVICE, volume.device),
    `${at}.device`,
    volume.device,
    "is not a device name to attach an EBS volume as: use /dev/xvdX with a letter X (for example /dev/xvdu).",
  );
  problems.check(
    matches(MOUNT_PATH, volume.mountPath),
    `${at}.mountPath`,
    volume.mountPath,
    "is not a mount point: use an absolute path of letters, digits and . _ - (for example /mnt/etcd/main).",
  );
}

/**
 * Checks the node labels with the spec's own checks (spec/checks.ts); returns them as
 * `key=value,...`, sorted by key.
 */
function checkLabels(problems: Problems, labels: unknown): string {
  if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
    problems.add("labels", labels, "is not a map of Kubernetes labels: give key: value pairs.");
    return "";
  }
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const keyProblem = checkLabelKey(key);
    const valueProblem = typeof value === "string" ? checkLabelValue(value) : `${JSON.stringify(value)} is not a string.`;
    if (keyProblem) {
      problems.report("labels", keyProblem);
    } else if (valueProblem) {
      problems.report(`labels.${key}`, valueProblem);
    } else {
      pairs.push(`${key}=${value as string}`);
    }
  }
  return pairs.join(",");
}

/** Checks the node taints with the spec's own checks; returns them comma-separated, in order. */
function checkTaints(problems: Problems, taints: unknown): string {
  if (!Array.isArray(taints)) {
    problems.add("taints", taints, "is not a list of taints: give key=value:Effect strings.");
    return "";
  }
  const seen = new Map<string, number>();
  taints.forEach((taint: unknown, i) => {
    const message = typeof taint === "string" ? checkTaint(taint) : `${JSON.stringify(taint)} is not a string.`;
    if (message) {
      problems.report(`taints[${i}]`, message);
      return;
    }
    // Kubernetes refuses a node with two taints of one key and effect.
    const keyEffect = taintKeyAndEffect(taint as string);
    const first = seen.get(keyEffect);
    if (first === undefined) {
      seen.set(keyEffect, i);
    } else {
      problems.add(`taints[${i}]`, taint, `has the key and effect of taints[${first}]; give each key one taint per effect.`);
    }
  });
  return taints.join(",");
}

function resolveMasterProps(props: MasterUserDataProps): Required<MasterUserDataProps> {
  const problems = new Problems("master user data");
  checkCommon(problems, props);
  problems.check(
    matches(MEMBER, props.member),
    "member",
    props.member,
    "is not an etcd member name: use lower-case letters, digits and inner hyphens (for example a or a-2).",
  );
  const attachAttempts = props.attachAttempts ?? DEFAULT_ATTACH_ATTEMPTS;
  const attachDelaySeconds = props.attachDelaySeconds ?? DEFAULT_ATTACH_DELAY_SECONDS;
  checkCount(problems, "attachAttempts", attachAttempts, 10000);
  checkCount(problems, "attachDelaySeconds", attachDelaySeconds, 3600);
  const volumes = Array.isArray(props.volumes) ? props.volumes : [];
  if (volumes.length === 0) {
    problems.add("volumes", props.volumes, "is empty: a master needs its etcd volumes (main and events).");
  }
  volumes.forEach((volume, i) => checkVolume(problems, volume, i));
  for (const key of ["etcdCluster", "tagKey", "device", "mountPath"] as const) {
    checkUnique(problems, volumes, key);
  }
  problems.throwIfAny();
  return { ...props, attachAttempts, attachDelaySeconds };
}

/**
 * The user data of one master: finds this member's etcd volumes by tag (cluster, tag key, zone, value
 * prefix `<member>/`), waits while a terminated predecessor holds them, attaches them, waits for the
 * device (NVMe names included), formats only a blank device, mounts it with a `nofail` fstab line by
 * UUID, then runs the bootstrap hook. Safe to run twice. Throws when a prop is unsafe or invalid.
 */
export function renderMasterUserData(props: MasterUserDataProps): string {
  const resolved = resolveMasterProps(props);
  return render("master-user-data.sh.hbs", {
    ...resolved,
    volumes: resolved.volumes.map((v) => ({ ...v })),
    deviceWaitAttempts: DEVICE_WAIT_ATTEMPTS,
    deviceWaitDelaySeconds: DEVICE_WAIT_DELAY_SECONDS,
    logPath: USER_DATA_LOG_PATH,
    bootstrapMarkerPath: BOOTSTRAP_MARKER_PATH,
  });
}

/**
 * The user data of a node or bastion instance group: logging, then the bootstrap hook, which gets the
 * group's labels and taints (NODE_LABELS, NODE_TAINTS). Throws when a prop is unsafe or invalid.
 */
export function renderNodeUserData(props: NodeUserDataProps): string {
  const problems = new Problems("node user data");
  checkCommon(problems, props);
  problems.check(props.role === "node" || props.role === "bastion", "role", props.role, 'must be "node" or "bastion".');
  problems.check(
    matches(INSTANCE_GROUP, props.instanceGroup),
    "instanceGroup",
    props.instanceGroup,
    "is not an instance group name: use 1-40 lower-case letters, digits and inner hyphens (for example nodes).",
  );
  const nodeLabels = checkLabels(problems, props.labels ?? {});
  const nodeTaints = checkTaints(problems, props.taints ?? []);
  problems.throwIfAny();
  return render("node-user-data.sh.hbs", {
    clusterName: props.clusterName,
    kubernetesVersion: props.kubernetesVersion,
    role: props.role,
    instanceGroup: props.instanceGroup,
    nodeLabels,
    nodeTaints,
    logPath: USER_DATA_LOG_PATH,
    bootstrapMarkerPath: BOOTSTRAP_MARKER_PATH,
  });
}

/**
 * Base64 of the script, as launch templates take it (done in TypeScript so that `${...}` in the script
 * is never read as Terraform interpolation). Throws when the script exceeds EC2's 16 KiB limit, which
 * EC2 would otherwise only report when the launch template is created.
 */
export function toUserData(script: string): string {
  const bytes = Buffer.from(script, "utf8");
  if (bytes.length > MAX_USER_DATA_BYTES) {
    throw new Error(
      `user data is ${bytes.length} bytes; EC2 accepts at most ${MAX_USER_DATA_BYTES} before base64. ` +
        "Shorten the bootstrap hook (download a large installer instead of inlining it).",
    );
  }
  return bytes.toString("base64");
}
