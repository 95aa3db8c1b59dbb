/**
 * The cluster simulation: masters as processes on this machine, running the boot scripts the
 * instances run, against real etcd and a fake AWS that keeps state.
 *
 * - Synthesis: a real spec is synthesized (the same stack `kopsform synth` writes). From the
 *   configuration come each master's user data (its launch template), its etcd volumes and their
 *   tags, the boot archive (the aws_s3_object), the config parameters and the IAM policies, which
 *   the fake AWS enforces (Terraform references resolved to the fake's bucket and key).
 * - Network: a hub network namespace with a bridge; each instance gets a network namespace of its
 *   own with an address on it (198.18.N.0/24, the benchmarking range), and this process reaches the
 *   bridge through one veth pair. Nothing leaves the machine.
 * - An instance is an init process holding its network namespace and a private mount namespace
 *   (its own /etc/hosts, bind-mounted from its root; its etcd volumes, bind-mounted by the fake
 *   mount). Its files live under its root (ROOT, the scripts' test hook).
 * - Boot: cloud-init is played from the real user data (write_files under ROOT, then runcmd: the
 *   loader), then the loader fetches and checks the boot archive from the fake S3 and starts
 *   kopsform-boot.service through the fake systemctl (__tests__/sim/bin), which runs etcd as the
 *   unit says.
 * - What the simulation changes, as data in cluster.env: the waits (seconds, not minutes), and the
 *   etcd release: Debian's etcd 3.4.23 (production pins 3.5), packed the way upstream packs its
 *   releases and served by the fake with its own sha256, so download and check run for real.
 *
 * - Kubernetes: the container runtime and the packages are downloaded and checked for real (a
 *   containerd archive and a runc of the simulation's own, served with their sha256; a package
 *   repository whose Release.key is a real OpenPGP key made here, its fingerprint pinned in
 *   cluster.env). kubeadm, kubectl, apt and the kernel tools are fakes (__tests__/sim/bin) that keep
 *   the cluster's API state in one directory shared by every instance (KOPSFORM_SIM_SHARED/api):
 *   nodes, bootstrap tokens, the phases each instance ran, the CA the first master brought.
 *
 * Needs root (network and mount namespaces), iproute2, util-linux, etcd and etcdctl, openssl,
 * the AWS CLI, curl, gpg and python3. Every process it starts is killed by stop().
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { ClusterStack } from "../../stacks/cluster-stack";
import { clusterSlug } from "../../modules/names";
import { TerraformJson, resources, validSpec } from "../helpers/cluster";
import { parsePolicy } from "../helpers/json-expression";
import { decodeUserData } from "../helpers/user-data";
import { FakeAws, FakeInstance, IamStatement } from "./fake-aws";

const SIM_BIN = path.join(__dirname, "bin");
const ETCD_VERSION = "3.4.23";
/** The Kubernetes packages the simulation's repository offers (apt's version: upstream-revision). */
export const SIM_PACKAGE_VERSIONS = ["1.33.5-1.1", "1.33.4-1.1"];
const ACCOUNT = "111122223333";
const KEY_ARN = `arn:aws:kms:us-west-2:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

/** The waits of the boot logic in the simulation (cluster.env values). */
export const FAST_TIMING: Record<string, string> = {
  ATTACH_ATTEMPTS: "30",
  ATTACH_DELAY_SECONDS: "1",
  DEVICE_WAIT_ATTEMPTS: "30",
  DEVICE_WAIT_DELAY_SECONDS: "1",
  INSTALL_ATTEMPTS: "3",
  INSTALL_DELAY_SECONDS: "1",
  ETCD_JOIN_ATTEMPTS: "30",
  ETCD_JOIN_DELAY_SECONDS: "2",
  ETCD_PROMOTE_ATTEMPTS: "60",
  ETCD_QUORUM_WAIT_ATTEMPTS: "90",
  KUBE_API_WAIT_ATTEMPTS: "30",
  KUBE_API_WAIT_DELAY_SECONDS: "1",
  JOIN_WAIT_ATTEMPTS: "120",
  JOIN_WAIT_DELAY_SECONDS: "2",
};

/** What a process run on an instance printed and how it ended. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A simulated instance. */
export interface SimInstance {
  readonly member: string;
  readonly index: number;
  readonly fake: FakeInstance;
  readonly netns: string;
  readonly root: string;
  readonly init: ChildProcess;
  readonly initPid: number;
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tryIp(args: readonly string[]): void {
  try {
    sh("ip", args);
  } catch {
    // already gone
  }
}

/** Throws a clear message when the machine cannot run the simulation. */
export function requireSimulationTools(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("the cluster simulation needs root (network and mount namespaces); CI runs .ci/run as root");
  }
  for (const tool of ["ip", "unshare", "nsenter", "etcd", "etcdctl", "openssl", "curl", "/usr/bin/aws", "sha256sum", "findmnt", "gpg", "python3"]) {
    try {
      sh("sh", ["-c", `command -v ${tool}`]);
    } catch {
      throw new Error(`${tool} is missing: the cluster simulation runs it (.ci/run installs etcd-server, etcd-client and awscli from Debian)`);
    }
  }
}

/** A /24 of 198.18.0.0/15 for this simulation, locked against other simulations running at once. */
function claimSubnet(): { octet: number; release: () => void } {
  const dir = path.join(os.tmpdir(), "kopsform-sim-subnets");
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 250; i++) {
    const octet = 10 + ((process.pid + i) % 240);
    const lock = path.join(dir, String(octet));
    try {
      fs.mkdirSync(lock);
    } catch {
      const owner = Number(fs.readFileSync(path.join(lock, "pid"), "utf8") || "0");
      if (owner && isAlive(owner)) {
        continue;
      }
      fs.rmSync(lock, { recursive: true, force: true });
      fs.mkdirSync(lock);
    }
    fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
    return { octet, release: () => fs.rmSync(lock, { recursive: true, force: true }) };
  }
  throw new Error("no free subnet for the simulation");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes namespaces left by simulations whose process died (a crashed test run). */
function removeStaleNamespaces(): void {
  const list = sh("ip", ["netns", "list"]);
  for (const line of list.split("\n")) {
    const m = /^(kfs(\d+)[hm]\d*)\b/.exec(line.trim());
    if (m && !isAlive(Number(m[2]))) {
      for (const pid of sh("ip", ["netns", "pids", m[1]]).split("\n").filter(Boolean)) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
      tryIp(["netns", "delete", m[1]]);
    }
  }
}

/** The instance roles' policies of a synthesized configuration, references resolved, by role name. */
export function rolePolicies(json: TerraformJson, names: { bucket: string }): Record<string, IamStatement[]> {
  const policies: Record<string, IamStatement[]> = {};
  for (const body of Object.values(resources(json, "aws_iam_role_policy"))) {
    const role = /\$\{aws_iam_role\.([^.]+)\.name\}/.exec(String(body.role))?.[1] as string;
    if (/^(masters|nodes)-/.test(role)) {
      policies[role] = parsePolicy(String(body.policy)).Statement.map((s) => ({ ...s, Resource: s.Resource.map((r) => resolveRefs(r, names)) }));
    }
  }
  return policies;
}

/** The DNS name the simulation gives the API load balancer (config/api-endpoint without a DNS zone). */
export const SIM_API_LB_NAME = "api-sim-0123456789.elb.us-west-2.amazonaws.com";

/** The KMS key ARN the simulation gives the cluster's key. */
export const SIM_KEY_ARN = KEY_ARN;

/** Resolves the Terraform references of a synthesized value to the fake's names. */
export function resolveRefs(value: string, names: { bucket: string }): string {
  return value.replace(/\$\{([^}]+)\}/g, (_, ref: string) => {
    if (/^aws_s3_bucket\.[^.]+\.(id|bucket)$/.test(ref)) {
      return names.bucket;
    }
    if (/^aws_s3_bucket\.[^.]+\.arn$/.test(ref)) {
      return `arn:aws:s3:::${names.bucket}`;
    }
    if (/^aws_kms_key\.[^.]+\.arn$/.test(ref)) {
      return KEY_ARN;
    }
    if (/^aws_lb\.[^.]+\.dns_name$/.test(ref)) {
      return SIM_API_LB_NAME;
    }
    // api.NAME with a DNS zone, and the termination handler's queue (config/node-termination-queue-url).
    const named = /^aws_(route53_record|sqs_queue)\.([^.]+)\.(fqdn|url)$/.exec(ref);
    if (named) {
      return named[1] === "sqs_queue" ? `https://sqs.us-west-2.amazonaws.com/111122223333/${named[2]}` : `${named[2]}.sim.internal`;
    }
    throw new Error(`the simulation cannot resolve the reference \${${ref}}`);
  });
}

/** Options of {@link SimCluster.create}. */
export interface SimOptions {
  /** Spec fields (name and zones included). */
  readonly spec: Record<string, unknown>;
  /** "nvme" (Nitro) or "xvd" device names. @default "nvme" */
  readonly deviceStyle?: "nvme" | "xvd";
  /** Milliseconds a terminated instance keeps its volumes. @default 1500 */
  readonly detachDelayMs?: number;
}

/** A simulated cluster. */
export class SimCluster {
  readonly instances = new Map<string, SimInstance>();
  readonly dead: SimInstance[] = [];
  readonly clusterName: string;
  readonly slug: string;
  readonly bucket: string;
  private next = 1;
  private clientCerts?: { ca: string; cert: string; key: string };

  private constructor(
    readonly dir: string,
    readonly json: TerraformJson,
    readonly aws: FakeAws,
    readonly net: { id: string; octet: number; hub: string; release: () => void },
    readonly options: SimOptions,
    /** cluster.env values that point the instances at the simulation's runtime and packages. */
    private readonly kubernetes: Record<string, string>,
  ) {
    this.clusterName = String(options.spec.name);
    this.slug = clusterSlug(this.clusterName);
    this.bucket = `kopsform-${this.slug}-sim`.slice(0, 63);
  }

  /** Synthesizes the spec, builds the network and the fake AWS with what Terraform would create. */
  static async create(options: SimOptions): Promise<SimCluster> {
    requireSimulationTools();
    removeStaleNamespaces();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-sim-"));
    const spec = validSpec(options.spec).spec;
    const app = Testing.app({ stackTraces: false });
    const json = JSON.parse(Testing.synth(new ClusterStack(app, { spec }), true)) as TerraformJson;

    const subnet = claimSubnet();
    const id = String(process.pid);
    const hub = `kfs${id}h`;
    const net = { id, octet: subnet.octet, hub, release: subnet.release };
    const host = `198.18.${subnet.octet}.1`;
    try {
      sh("ip", ["netns", "add", hub]);
      sh("ip", ["netns", "exec", hub, "ip", "link", "add", "br0", "type", "bridge"]);
      sh("ip", ["netns", "exec", hub, "ip", "link", "set", "br0", "up"]);
      sh("ip", ["netns", "exec", hub, "ip", "link", "set", "lo", "up"]);
      sh("ip", ["link", "add", `kfs${id}r`, "type", "veth", "peer", "name", `kfs${id}p`]);
      sh("ip", ["link", "set", `kfs${id}p`, "netns", hub]);
      sh("ip", ["netns", "exec", hub, "ip", "link", "set", `kfs${id}p`, "master", "br0", "up"]);
      sh("ip", ["addr", "add", `${host}/24`, "dev", `kfs${id}r`]);
      sh("ip", ["link", "set", `kfs${id}r`, "up"]);
    } catch (e) {
      tryIp(["link", "delete", `kfs${id}r`]);
      tryIp(["netns", "delete", hub]);
      subnet.release();
      throw e;
    }

    const downloads = path.join(dir, "downloads");
    packEtcdRelease(path.join(downloads, "etcd"));
    const kubernetes = packKubernetesDownloads(downloads, path.join(dir, "gnupg"));
    fs.mkdirSync(path.join(dir, "shared"), { recursive: true });
    fs.writeFileSync(path.join(dir, "shared", "apt-versions"), `${SIM_PACKAGE_VERSIONS.join("\n")}\n`);
    const sim = new SimCluster(
      dir,
      json,
      new FakeAws({
        host,
        region: spec.region,
        account: ACCOUNT,
        policies: {},
        keyAliases: { [`alias/kopsform/${clusterSlug(spec.name)}`]: KEY_ARN },
        buckets: {},
        downloads,
        detachDelayMs: options.detachDelayMs,
      }),
      net,
      options,
      kubernetes,
    );
    try {
      sim.provision();
      await sim.aws.start();
    } catch (e) {
      await sim.stop();
      throw e;
    }
    return sim;
  }

  /** What `terraform apply` would have made: volumes, the boot archive, config, policies. */
  private provision(): void {
    const names = { bucket: this.bucket };
    (this.aws.options.buckets as Record<string, string | undefined>)[this.bucket] = KEY_ARN;
    for (const [name, body] of Object.entries(resources(this.json, "aws_ebs_volume"))) {
      this.addVolume(name, body);
    }
    for (const body of Object.values(resources(this.json, "aws_ssm_parameter"))) {
      this.aws.putParameterAsTerraform(String(body.name), resolveRefs(String(body.value), names));
    }
    for (const body of Object.values(resources(this.json, "aws_s3_object"))) {
      expect(body.server_side_encryption).toBe("AES256");
      this.aws.putObjectAsTerraform(resolveRefs(String(body.bucket), names), String(body.key), Buffer.from(String(body.content_base64), "base64"));
    }
    this.provisionPolicies();
  }

  private provisionPolicies(): void {
    Object.assign(this.aws.options.policies as Record<string, IamStatement[]>, rolePolicies(this.json, { bucket: this.bucket }));
  }

  /**
   * What `terraform apply` of a changed spec does here: re-synthesizes, creates the volumes that are
   * new, updates the tags of the others in place (the member list in the etcd tags), and takes the
   * new launch templates and policies. Running instances are not touched (as with Terraform).
   */
  apply(fields: Record<string, unknown>): void {
    const spec = validSpec(fields).spec;
    const app = Testing.app({ stackTraces: false });
    const json = JSON.parse(Testing.synth(new ClusterStack(app, { spec }), true)) as TerraformJson;
    for (const [name, body] of Object.entries(resources(json, "aws_ebs_volume"))) {
      const tags = body.tags as Record<string, string>;
      const [key, value] = Object.entries(tags).find(([k]) => k.startsWith("k8s.io/etcd/")) as [string, string];
      const member = value.split("/")[0];
      const existing = [...this.aws.volumes.values()].find((v) => v.tags[key]?.startsWith(`${member}/`));
      if (existing) {
        Object.assign(existing.tags, tags);
      } else {
        this.addVolume(name, body);
      }
    }
    (this as { json: TerraformJson }).json = json;
    this.provisionPolicies();
  }

  /** Adds a fake volume for an aws_ebs_volume of the configuration (a blank disk). */
  addVolume(name: string, body: Record<string, unknown>): string {
    const volumeId = `vol-${createHash("sha256").update(`${name}${Date.now()}${Math.random()}`).digest("hex").slice(0, 17)}`;
    this.aws.addVolume({
      id: volumeId,
      zone: String(body.availability_zone),
      tags: { ...(body.tags as Record<string, string>), KubernetesCluster: this.clusterName },
      dir: path.join(this.dir, "volumes", volumeId),
    });
    return volumeId;
  }

  /** The volume of member `member` for etcd `cluster` (main or events). */
  volumeOf(member: string, cluster: "main" | "events"): string {
    const found = [...this.aws.volumes.values()].find((v) => v.tags[`k8s.io/etcd/${cluster}`]?.startsWith(`${member}/`));
    if (!found) {
      throw new Error(`no ${cluster} volume of member ${member}`);
    }
    return found.id;
  }

  /** Replaces member's volume of `cluster` by a blank one with the same tags (its instance must be gone). */
  blankVolume(member: string, cluster: "main" | "events"): void {
    const old = this.aws.volumes.get(this.volumeOf(member, cluster)) as { tags: Record<string, string>; zone: string; id: string };
    this.aws.deleteVolume(old.id);
    this.addVolume(`${member}-${cluster}-blank`, { availability_zone: old.zone, tags: old.tags });
  }

  /** The launch template of a member's master. */
  private template(member: string): Record<string, unknown> {
    const templates = resources(this.json, "aws_launch_template");
    const found = Object.entries(templates).find(([, t]) => decodeUserData(t.user_data).env.ETCD_MEMBER === member);
    if (!found) {
      throw new Error(`no master launch template for member ${member}`);
    }
    return found[1];
  }

  /**
   * Launches an instance for `member` (as its auto-scaling group would) and plays cloud-init: the
   * user data's files, then the loader. Resolves when kopsform-boot.service has finished (or the
   * loader failed), with the instance.
   */
  async launch(member: string, env: Record<string, string> = {}): Promise<SimInstance> {
    const zone = this.aws.volumes.get(this.volumeOf(member, "main"))?.zone as string;
    return this.launchFrom(this.template(member), { member, role: `masters-${this.slug}`, zone }, env);
  }

  /**
   * Launches a node of instance group `group` in `zone` (as the group's auto-scaling group would),
   * like {@link launch}; it is known as `name` in {@link instances}.
   */
  async launchNode(group: string, zone: string, name: string, env: Record<string, string> = {}): Promise<SimInstance> {
    const templates = resources(this.json, "aws_launch_template");
    const template = Object.values(templates).find((t) => decodeUserData(t.user_data).env.INSTANCE_GROUP === group);
    if (!template) {
      throw new Error(`no launch template of node group ${group}`);
    }
    return this.launchFrom(template, { member: name, role: `nodes-${this.slug}`, zone }, env);
  }

  private async launchFrom(
    template: Record<string, unknown>,
    where: { member: string; role: string; zone: string },
    env: Record<string, string>,
  ): Promise<SimInstance> {
    const { member, zone } = where;
    const userData = decodeUserData(template.user_data);
    const index = this.next++;
    const instanceId = `i-0${randomBytes(8).toString("hex")}`;
    const root = path.join(this.dir, "instances", instanceId);
    const netns = `kfs${this.net.id}m${index}`;
    const ip = `198.18.${this.net.octet}.${10 + index}`;
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc", "hosts"), "127.0.0.1\tlocalhost\n");
    fs.writeFileSync(path.join(root, "etc", "fstab"), "LABEL=cloudimg-rootfs\t/\text4\tdefaults\t0 1\n");
    const tagSpec = (template.tag_specifications as { resource_type: string; tags: Record<string, string> }[]).find((t) => t.resource_type === "instance");
    const fake = this.aws.addInstance({
      id: instanceId,
      ip,
      zone,
      role: where.role,
      tags: { ...(tagSpec?.tags ?? {}), KubernetesCluster: this.clusterName, "aws:autoscaling:groupName": String(template.name) },
      root,
      deviceStyle: this.options.deviceStyle ?? "nvme",
    });
    sh("ip", ["netns", "add", netns]);
    sh("ip", ["link", "add", netns, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    sh("ip", ["link", "set", netns, "netns", this.net.hub]);
    sh("ip", ["netns", "exec", this.net.hub, "ip", "link", "set", netns, "master", "br0", "up"]);
    sh("ip", ["netns", "exec", netns, "ip", "addr", "add", `${ip}/24`, "dev", "eth0"]);
    sh("ip", ["netns", "exec", netns, "ip", "link", "set", "eth0", "up"]);
    sh("ip", ["netns", "exec", netns, "ip", "link", "set", "lo", "up"]);
    const init = spawn(
      "ip",
      ["netns", "exec", netns, "unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", 'mount --bind "$0/etc/hosts" /etc/hosts && exec sleep 86400', root],
      { stdio: "ignore", detached: true },
    );
    const instance: SimInstance = { member, index, fake, netns, root, init, initPid: init.pid as number };
    this.instances.set(member, instance);
    await this.waitFor(`the namespaces of ${member}`, 50, 100, () => {
      const mounts = fs.existsSync(`/proc/${instance.initPid}/mountinfo`) ? fs.readFileSync(`/proc/${instance.initPid}/mountinfo`, "utf8") : "";
      return / \/etc\/hosts /.test(mounts);
    });

    // cloud-init: write_files, then runcmd.
    for (const file of userData.files) {
      const target = path.join(root, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content, { mode: parseInt(file.permissions, 8) });
    }
    this.patchClusterEnv(root, { ...FAST_TIMING, ...this.etcdRelease(), ...this.kubernetesEnv(), ...env });
    for (const command of userData.runcmd) {
      const result = await this.run(instance, [path.join(root, command[0]), ...command.slice(1)], 600_000);
      if (result.code === 137) {
        const calls = this.aws.callsOf(instance.fake.id).slice(-5).map((c) => `${c.action} ${c.detail} ${c.outcome ?? "(no answer yet)"}`);
        throw new Error(`cloud-init's ${command[0]} on ${member} was killed after 600 s; its last AWS calls:\n${calls.join("\n")}\n${result.stderr.slice(-3000)}`);
      }
      if (result.code !== 0) {
        return instance;
      }
    }
    await this.waitBoot(instance);
    return instance;
  }

  /** The etcd release the simulation serves instead of the spec's (see the file's header). */
  private etcdRelease(): Record<string, string> {
    const archive = path.join(this.aws.options.downloads, "etcd", `v${ETCD_VERSION}`, `etcd-v${ETCD_VERSION}-linux-amd64.tar.gz`);
    return {
      ETCD_VERSION,
      ETCD_SHA256_AMD64: createHash("sha256").update(fs.readFileSync(archive)).digest("hex"),
      ETCD_DOWNLOAD_URL: `${this.aws.endpoint}/downloads/etcd`,
    };
  }

  /** The runtime and package repository the simulation serves instead of the spec's. */
  private kubernetesEnv(): Record<string, string> {
    return {
      ...this.kubernetes,
      CONTAINERD_DOWNLOAD_URL: `${this.aws.endpoint}/downloads/containerd`,
      RUNC_DOWNLOAD_URL: `${this.aws.endpoint}/downloads/runc`,
      KUBERNETES_PACKAGE_REPOSITORY: `${this.aws.endpoint}/downloads/kubernetes`,
      // No add-on: their artifacts come from their projects' sites, and their step is proven on its
      // own (__tests__/boot-addons.test.ts); here the step runs with an empty list.
      ADDONS: "",
    };
  }

  /** The cluster's API state the fake kubeadm and kubectl keep (see __tests__/sim/bin/kubeadm). */
  get api(): { phases: string[]; tokens: string[]; nodes: Record<string, string>; ca?: string } {
    const dir = path.join(this.dir, "shared", "api");
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "");
    const nodesDir = path.join(dir, "nodes");
    const nodes = fs.existsSync(nodesDir)
      ? Object.fromEntries(fs.readdirSync(nodesDir).map((n) => [n, fs.readFileSync(path.join(nodesDir, n), "utf8").trim().replace(/^labels=/, "")]))
      : {};
    return {
      phases: read("phases.log").split("\n").filter(Boolean),
      tokens: read("tokens").split("\n").filter(Boolean),
      nodes,
      ca: read("ca.crt") || undefined,
    };
  }

  /** Replaces values of an instance's cluster.env (data only: keys must exist already). */
  patchClusterEnv(root: string, values: Record<string, string>): void {
    const file = path.join(root, "etc", "kopsform", "cluster.env");
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const patched = lines.map((line) => {
      const key = line.slice(0, line.indexOf("="));
      return key in values ? `${key}=${values[key]}` : line;
    });
    fs.writeFileSync(file, patched.join("\n"));
  }

  /** Waits (bounded) until the instance's kopsform-boot.service has finished; returns its exit code. */
  async waitBoot(instance: SimInstance, seconds = 240): Promise<number> {
    const result = path.join(instance.root, "run", "fake-systemd", "kopsform-boot.service.result");
    try {
      await this.waitFor(`the boot of ${instance.member}`, seconds * 5, 200, () => fs.existsSync(result));
    } catch (e) {
      const journal = path.join(instance.root, "var", "log", "fake-journal", "kopsform-boot.service.log");
      const tail = (text: string) => text.split("\n").slice(-40).join("\n");
      throw new Error(
        `${(e as Error).message} after ${seconds}s; its boot log ends:\n${tail(this.bootLog(instance))}\n` +
          `and its journal:\n${tail(fs.existsSync(journal) ? fs.readFileSync(journal, "utf8") : "")}`,
      );
    }
    return Number(fs.readFileSync(result, "utf8").trim());
  }

  /** The boot's exit code (undefined while it runs). */
  bootResult(instance: SimInstance): number | undefined {
    const result = path.join(instance.root, "run", "fake-systemd", "kopsform-boot.service.result");
    return fs.existsSync(result) ? Number(fs.readFileSync(result, "utf8").trim()) : undefined;
  }

  /** The instance's boot log. */
  bootLog(instance: SimInstance): string {
    const log = path.join(instance.root, "var", "log", "kopsform", "boot.log");
    return fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
  }

  /** Runs a command on an instance (in its namespaces, with the boot scripts' environment). */
  run(instance: SimInstance, argv: readonly string[], timeoutMs = 300_000): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn("nsenter", ["-t", String(instance.initPid), "-m", "-n", "--", "env", "-i", ...this.envFor(instance), ...argv], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 137, stdout, stderr });
      });
    });
  }

  private envFor(instance: SimInstance): string[] {
    const config = path.join(this.dir, "aws-config");
    if (!fs.existsSync(config)) {
      fs.writeFileSync(config, "[default]\ns3 =\n  addressing_style = path\n");
    }
    return [
      `PATH=${SIM_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      `ROOT=${instance.root}`,
      `HOME=${path.join(instance.root, "root")}`,
      "LANG=C.UTF-8",
      `AWS_EC2_METADATA_SERVICE_ENDPOINT=${this.aws.endpoint}/`,
      `KOPSFORM_SIM_AWS_ENDPOINT=${this.aws.endpoint}`,
      `KOPSFORM_SIM_SHARED=${path.join(this.dir, "shared")}`,
      "KOPSFORM_SIM_AWS_CLI=/usr/bin/aws",
      `AWS_CONFIG_FILE=${config}`,
      "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
    ];
  }

  /** Kills an instance (every process of it, as a terminated instance): its volumes detach. */
  async kill(member: string): Promise<void> {
    const instance = this.instances.get(member);
    if (!instance) {
      throw new Error(`no running instance of ${member}`);
    }
    this.killNamespace(instance.netns);
    this.aws.terminate(instance.fake.id);
    tryIp(["netns", "delete", instance.netns]);
    this.instances.delete(member);
    this.dead.push(instance);
  }

  private killNamespace(netns: string): void {
    for (let i = 0; i < 20; i++) {
      let pids: string[] = [];
      try {
        pids = sh("ip", ["netns", "pids", netns]).split("\n").filter(Boolean);
      } catch {
        return;
      }
      if (pids.length === 0) {
        return;
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
      execFileSync("sleep", ["0.1"]);
    }
  }

  /** Reboots an instance: every process ends (mounts too); the root and its files stay; the boot runs again. */
  async reboot(member: string): Promise<SimInstance> {
    const instance = this.instances.get(member) as SimInstance;
    for (const pid of sh("ip", ["netns", "pids", instance.netns]).split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    fs.rmSync(path.join(instance.root, "run"), { recursive: true, force: true });
    const init = spawn(
      "ip",
      ["netns", "exec", instance.netns, "unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", 'mount --bind "$0/etc/hosts" /etc/hosts && exec sleep 86400', instance.root],
      { stdio: "ignore", detached: true },
    );
    const rebooted: SimInstance = { ...instance, init, initPid: init.pid as number };
    this.instances.set(member, rebooted);
    await this.waitFor(`the namespaces of ${member}`, 50, 100, () => / \/etc\/hosts /.test(fs.readFileSync(`/proc/${rebooted.initPid}/mountinfo`, "utf8")));
    // systemd starts the enabled kopsform-boot.service, which runs the boot scripts again.
    await this.run(rebooted, ["systemctl", "start", "--no-block", "kopsform-boot.service"]);
    await this.waitBoot(rebooted);
    return rebooted;
  }

  /** A client certificate of the etcd clients CA (from the fake store), for etcdctl from here. */
  private client(): { ca: string; cert: string; key: string } {
    if (!this.clientCerts) {
      const store = this.aws.parameters.get(`/kopsform/${this.clusterName}/pki/etcd`)?.value;
      if (!store) {
        throw new Error("no etcd CAs in the store yet");
      }
      const bundle = store.split("# etcd-clients-ca\n")[1]?.split("\n# ")[0] ?? "";
      const dir = path.join(this.dir, "client");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "ca.pem"), bundle);
      const ca = path.join(dir, "ca.crt");
      const caKey = path.join(dir, "ca.key");
      fs.writeFileSync(ca, `${/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(bundle)?.[0] ?? ""}\n`);
      fs.writeFileSync(caKey, `${/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(bundle)?.[0] ?? ""}\n`, { mode: 0o600 });
      const key = path.join(dir, "client.key");
      const cert = path.join(dir, "client.crt");
      sh("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
      sh("openssl", ["req", "-new", "-key", key, "-subj", "/CN=simulation", "-out", `${cert}.csr`]);
      fs.writeFileSync(`${cert}.ext`, "extendedKeyUsage=clientAuth\n");
      sh("openssl", ["x509", "-req", "-in", `${cert}.csr`, "-CA", ca, "-CAkey", caKey, "-set_serial", "0x1234", "-days", "2", "-extfile", `${cert}.ext`, "-out", cert]);
      this.clientCerts = { ca, cert, key };
    }
    return this.clientCerts;
  }

  /** The client URL of a running member's etcd `cluster` by its address. */
  endpoint(member: string, cluster: "main" | "events"): string {
    const instance = this.instances.get(member);
    if (!instance) {
      throw new Error(`${member} is not running`);
    }
    return `https://${instance.fake.ip}:${cluster === "main" ? 4001 : 4002}`;
  }

  /** etcdctl (from this process, through the bridge) against the given members' client URLs. */
  etcdctl(cluster: "main" | "events", members: readonly string[], args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
    const c = this.client();
    const endpoints = members.map((m) => this.endpoint(m, cluster)).join(",");
    return new Promise((resolve) => {
      const child = spawn(
        "etcdctl",
        ["--endpoints", endpoints, "--cacert", c.ca, "--cert", c.cert, "--key", c.key, "--dial-timeout", "3s", "--command-timeout", "5s", ...args],
        { env: { ...process.env, ETCDCTL_API: "3" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 137, stdout, stderr });
      });
    });
  }

  /** `member list` of etcd `cluster`, asked of `member`: name, started, learner, peer URL. */
  async members(cluster: "main" | "events", member: string): Promise<{ id: string; status: string; name: string; peer: string; client: string; learner: boolean }[]> {
    const r = await this.etcdctl(cluster, [member], ["member", "list", "-w", "simple"]);
    if (r.code !== 0) {
      throw new Error(`member list at ${member} failed: ${r.stderr}`);
    }
    return r.stdout
      .trim()
      .split("\n")
      .map((line) => {
        const [id, status, name, peer, client, learner] = line.split(", ");
        return { id, status, name, peer, client, learner: learner === "true" };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** `put KEY VALUE` through the given members (a quorum write). */
  async put(cluster: "main" | "events", members: readonly string[], key: string, value: string): Promise<void> {
    const r = await this.etcdctl(cluster, members, ["put", key, value]);
    if (r.code !== 0 || !r.stdout.includes("OK")) {
      throw new Error(`put ${key} through ${members.join(",")} failed: ${r.stderr}`);
    }
  }

  /** The value of KEY in one member's own data (a serializable read: no quorum needed). */
  async localGet(cluster: "main" | "events", member: string, key: string): Promise<string | undefined> {
    const r = await this.etcdctl(cluster, [member], ["get", key, "--print-value-only", "--consistency=s"]);
    if (r.code !== 0) {
      throw new Error(`get ${key} at ${member} failed: ${r.stderr}`);
    }
    return r.stdout.trim() || undefined;
  }

  /** Each running member's view: id, leader or not, learner or not (endpoint status). */
  async status(cluster: "main" | "events", member: string): Promise<{ id: string; leader: boolean; learner: boolean }> {
    const r = await this.etcdctl(cluster, [member], ["endpoint", "status", "-w", "simple"]);
    if (r.code !== 0) {
      throw new Error(`endpoint status at ${member} failed: ${r.stderr}`);
    }
    const f = r.stdout.trim().split(", ");
    return { id: f[1], leader: f[4] === "true", learner: f[5] === "true" };
  }

  /** Whether every given member answers a quorum read. */
  async healthy(cluster: "main" | "events", members: readonly string[]): Promise<boolean> {
    for (const member of members) {
      const r = await this.etcdctl(cluster, [member], ["endpoint", "health"], 8000);
      if (r.code !== 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Writes a key every 100 ms through the given members for `seconds` (a bounded loop in a child
   * process), and returns the times of the successful writes (ms since the epoch).
   */
  writer(cluster: "main" | "events", members: readonly string[], seconds: number): { done: Promise<number[]> } {
    const c = this.client();
    const endpoints = members.map((m) => this.endpoint(m, cluster)).join(",");
    const script =
      'end=$((SECONDS + $1)); i=0; while ((SECONDS < end)); do i=$((i + 1)); ' +
      'if ETCDCTL_API=3 etcdctl --endpoints "$2" --cacert "$3" --cert "$4" --key "$5" --dial-timeout 1s --command-timeout 2s put writer "$i" >/dev/null 2>&1; ' +
      'then date +%s%3N; fi; sleep 0.1; done';
    const child = spawn("bash", ["-c", script, "writer", String(seconds), endpoints, c.ca, c.cert, c.key], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    return {
      done: new Promise((resolve) => child.on("close", () => resolve(out.split("\n").filter(Boolean).map(Number)))),
    };
  }

  /** The instance's /etc/hosts. */
  hosts(member: string): string {
    return fs.readFileSync(path.join((this.instances.get(member) as SimInstance).root, "etc", "hosts"), "utf8");
  }

  /** Waits (bounded) for a condition. */
  async waitFor(what: string, attempts: number, delayMs: number, ok: () => boolean | Promise<boolean>): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      if (await ok()) {
        return;
      }
      await new Promise((r) => setTimeout(r, delayMs));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Stops everything: every instance's processes, the namespaces, the fake AWS, the files. */
  async stop(keepFiles = false): Promise<void> {
    for (const instance of [...this.instances.values()]) {
      this.killNamespace(instance.netns);
      tryIp(["netns", "delete", instance.netns]);
    }
    this.instances.clear();
    tryIp(["link", "delete", `kfs${this.net.id}r`]);
    this.killNamespace(this.net.hub);
    tryIp(["netns", "delete", this.net.hub]);
    this.net.release();
    await this.aws.stop();
    if (!keepFiles) {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * What the simulation serves for Kubernetes, in upstream's layouts: a containerd archive
 * (bin/containerd: a program that waits), a runc, and a package repository's Release.key, a real
 * OpenPGP key made here (its fingerprint is what the instances pin). Returns the cluster.env values
 * of versions, checksums and the fingerprint.
 */
function packKubernetesDownloads(downloads: string, gnupg: string): Record<string, string> {
  const containerd = "2.3.4";
  const runc = "1.4.3";
  const staging = path.join(downloads, "staging");
  fs.mkdirSync(path.join(staging, "bin"), { recursive: true });
  fs.writeFileSync(path.join(staging, "bin", "containerd"), "#!/bin/sh\n# the simulation's containerd: waits\nexec sleep 3600\n", { mode: 0o755 });
  const archive = path.join(downloads, "containerd", `v${containerd}`, `containerd-${containerd}-linux-amd64.tar.gz`);
  fs.mkdirSync(path.dirname(archive), { recursive: true });
  sh("tar", ["-czf", archive, "-C", staging, "bin"]);
  fs.rmSync(staging, { recursive: true, force: true });
  const runcFile = path.join(downloads, "runc", `v${runc}`, "runc.amd64");
  fs.mkdirSync(path.dirname(runcFile), { recursive: true });
  fs.writeFileSync(runcFile, "#!/bin/sh\n# the simulation's runc\nexit 0\n", { mode: 0o755 });
  fs.mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const gpg = (args: string[]) => execFileSync("gpg", ["--homedir", gnupg, "--batch", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  gpg(["--passphrase", "", "--quick-gen-key", "kopsform simulation <sim@example.com>", "ed25519", "sign", "never"]);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(["--with-colons", "--list-keys"]))?.[1] as string;
  const key = gpg(["--armor", "--export", fingerprint]);
  // Making a key starts a gpg-agent for that home; it must not outlive the test.
  execFileSync("gpgconf", ["--homedir", gnupg, "--kill", "all"], { stdio: "ignore" });
  for (const minor of new Set(SIM_PACKAGE_VERSIONS.map((v) => v.split(".").slice(0, 2).join(".")))) {
    const dir = path.join(downloads, "kubernetes", `v${minor}`, "deb");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Release.key"), key);
  }
  const digest = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  return {
    CONTAINERD_VERSION: containerd,
    CONTAINERD_SHA256_AMD64: digest(archive),
    RUNC_VERSION: runc,
    RUNC_SHA256_AMD64: digest(runcFile),
    KUBERNETES_PACKAGE_KEY_FINGERPRINT: fingerprint,
  };
}

/** Debian's etcd and etcdctl, packed as upstream packs a release: etcd-vVERSION-linux-amd64/. */
function packEtcdRelease(dir: string): void {
  const name = `etcd-v${ETCD_VERSION}-linux-amd64`;
  const staging = path.join(dir, "staging", name);
  fs.mkdirSync(staging, { recursive: true });
  for (const binary of ["etcd", "etcdctl"]) {
    fs.copyFileSync(sh("sh", ["-c", `command -v ${binary}`]).trim(), path.join(staging, binary));
    fs.chmodSync(path.join(staging, binary), 0o755);
  }
  const version = sh("etcd", ["--version"]);
  if (!version.includes(`etcd Version: ${ETCD_VERSION}`)) {
    throw new Error(`the simulation expects Debian's etcd ${ETCD_VERSION}, found: ${version.split("\n")[0]}`);
  }
  fs.mkdirSync(path.join(dir, `v${ETCD_VERSION}`), { recursive: true });
  sh("tar", ["-czf", path.join(dir, `v${ETCD_VERSION}`, `${name}.tar.gz`), "-C", path.join(dir, "staging"), name]);
  fs.rmSync(path.join(dir, "staging"), { recursive: true, force: true });
}
