/**
 * The instances' user data: the TypeScript API (validation, base64), shellcheck on the rendered
 * scripts, and the master script run under bash against stub commands (fixtures/user-data/bin) that
 * fake IMDS, EC2, the block devices, mkfs and mount. Nothing here is skipped: without shellcheck the
 * tests fail and say how to install it.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BOOTSTRAP_MARKER_PATH,
  DEVICE_WAIT_ATTEMPTS,
  EtcdVolumeAttachment,
  MAX_USER_DATA_BYTES,
  MasterUserDataProps,
  NodeUserDataProps,
  USER_DATA_LOG_PATH,
  renderMasterUserData,
  renderNodeUserData,
  toUserData,
} from "../modules/user-data";

const STUBS = path.join(__dirname, "fixtures", "user-data", "bin");
/** The real commands the scripts and stubs may use; everything else on their PATH is a stub. */
const HOST_TOOLS = ["mkdir", "mktemp", "rm", "tr", "readlink", "grep", "tail", "mv", "ln", "cp"];
const BASH = "/bin/bash";

const CLUSTER = "hacluster.example.com";
const ZONE = "us-west-2a";
const REGION = "us-west-2";
const INSTANCE = "i-0123456789abcdef0";
const PREDECESSOR = "i-0fedcba9876543210";

const MAIN: EtcdVolumeAttachment = {
  etcdCluster: "main",
  tagKey: "k8s.io/etcd/main",
  device: "/dev/xvdu",
  mountPath: "/mnt/etcd/main",
};
const EVENTS: EtcdVolumeAttachment = {
  etcdCluster: "events",
  tagKey: "k8s.io/etcd/events",
  device: "/dev/xvdv",
  mountPath: "/mnt/etcd/events",
};
const MASTER_A: MasterUserDataProps = {
  clusterName: CLUSTER,
  member: "a",
  volumes: [MAIN, EVENTS],
  kubernetesVersion: "1.33.5",
};
const NODES: NodeUserDataProps = {
  clusterName: CLUSTER,
  kubernetesVersion: "1.33.5",
  role: "node",
  instanceGroup: "nodes",
};
/** A node group with labels (given out of key order) and taints, as the spec's nodeGroups carry them. */
const GPU_NODES: NodeUserDataProps = {
  ...NODES,
  instanceGroup: "gpu",
  labels: { "nvidia.com/gpu": "true", team: "ml", "example.com/empty": "" },
  taints: ["dedicated=gpu:NoSchedule", "nvidia.com/gpu:NoExecute", "spot=:PreferNoSchedule"],
};

/** Volume ids: the ones member `a` must take, then decoys. */
const VOL = {
  mainA: "vol-0a000000000000001",
  eventsA: "vol-0a000000000000002",
  mainB: "vol-0b000000000000001",
  mainA2: "vol-0a200000000000001",
  eventsA2: "vol-0a200000000000002",
  mainAOtherZone: "vol-0a0b0000000000001",
  mainAOtherCluster: "vol-0c000000000000001",
  mainADuplicate: "vol-0a000000000000009",
};

/** A fake EBS volume as the aws stub keeps it (see fixtures/user-data/README.md). */
interface FakeVolume {
  readonly id: string;
  readonly tagKey: string;
  readonly tagValue: string;
  readonly zone?: string;
  readonly cluster?: string;
  /** Held by another instance (in-use, attached) when set. */
  readonly holder?: string;
  /** The holder lets go after this many describe-volumes calls. */
  readonly releaseAfter?: number;
  /** The next N attach-volume calls fail with VolumeInUse. */
  readonly attachFails?: number;
  /** An ext4 filesystem with this UUID is on the volume already. */
  readonly fsUuid?: string;
  /** A partition table (and no filesystem) is on the volume. */
  readonly pttype?: string;
}

/**
 * The volumes of the cluster as a master in us-west-2a sees them: member a's two, plus decoys that pass
 * some filters but not all: another member in the same zone (b/), a member whose name starts with
 * "a" (a-2/), member a's tag in another zone and in another cluster.
 */
function clusterVolumes(overrides: Partial<Record<keyof typeof VOL, Partial<FakeVolume>>> = {}): FakeVolume[] {
  const volumes: FakeVolume[] = [
    { id: VOL.mainA, tagKey: MAIN.tagKey, tagValue: "a/a,b,c,a-2" },
    { id: VOL.eventsA, tagKey: EVENTS.tagKey, tagValue: "a/a,b,c,a-2" },
    { id: VOL.mainB, tagKey: MAIN.tagKey, tagValue: "b/a,b,c,a-2" },
    { id: VOL.mainA2, tagKey: MAIN.tagKey, tagValue: "a-2/a,b,c,a-2" },
    { id: VOL.eventsA2, tagKey: EVENTS.tagKey, tagValue: "a-2/a,b,c,a-2" },
    { id: VOL.mainAOtherZone, tagKey: MAIN.tagKey, tagValue: "a/a,b,c,a-2", zone: "us-west-2b" },
    { id: VOL.mainAOtherCluster, tagKey: MAIN.tagKey, tagValue: "a/a,b,c", cluster: "other.example.com" },
  ];
  return volumes.map((v) => {
    const key = (Object.keys(VOL) as (keyof typeof VOL)[]).find((k) => VOL[k] === v.id);
    return key && overrides[key] ? { ...v, ...overrides[key] } : v;
  });
}

let scratch: string;
let toolsDir: string;
let masterScript: string;

/** A directory of links to the few real commands the scripts may run. */
function linkHostTools(dir: string): void {
  fs.mkdirSync(dir);
  for (const tool of HOST_TOOLS) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (!found.startsWith("/")) {
      throw new Error(`${tool} is not installed; the user-data tests run the scripts with it`);
    }
    fs.symlinkSync(found, path.join(dir, tool));
  }
}

beforeAll(() => {
  if (!fs.existsSync(BASH)) {
    throw new Error(`${BASH} is missing; the user-data scripts are bash scripts (#!/bin/bash)`);
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-user-data-"));
  toolsDir = path.join(scratch, "host-tools");
  linkHostTools(toolsDir);
  masterScript = renderMasterUserData(MASTER_A);
});

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

let instanceCount = 0;

/** A fake instance: a root directory for the script's files and the stubs' state. */
class FakeInstance {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  private readonly bin: string;

  constructor(options: { volumes?: FakeVolume[]; deviceStyle?: "xvd" | "nvme"; withAws?: boolean } = {}) {
    this.dir = path.join(scratch, `instance-${++instanceCount}`);
    this.root = path.join(this.dir, "root");
    this.state = path.join(this.dir, "state");
    this.bin = path.join(this.dir, "bin");
    for (const dir of [this.bin, path.join(this.root, "dev"), path.join(this.root, "etc"), this.state]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    for (const stub of fs.readdirSync(STUBS)) {
      if (stub !== "aws" || options.withAws !== false) {
        fs.copyFileSync(path.join(STUBS, stub), path.join(this.bin, stub));
        fs.chmodSync(path.join(this.bin, stub), 0o755);
      }
    }
    fs.writeFileSync(path.join(this.root, "etc", "fstab"), "LABEL=cloudimg-rootfs\t/\text4\tdiscard,errors=remount-ro\t0 1\n");
    this.write("imds/instance-id", INSTANCE);
    this.write("imds/placement/availability-zone", ZONE);
    this.write("imds/placement/region", REGION);
    this.write("device-style", options.deviceStyle ?? "xvd");
    for (const volume of options.volumes ?? clusterVolumes()) {
      this.addVolume(volume);
    }
  }

  /** Writes a stub state file. */
  write(name: string, content: string | number): void {
    const file = path.join(this.state, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${content}\n`);
  }

  addVolume(v: FakeVolume): void {
    const at = (name: string, value: string | number | undefined) => {
      if (value !== undefined) {
        this.write(`volumes/${v.id}/${name}`, value);
      }
    };
    at("cluster", v.cluster ?? CLUSTER);
    at("zone", v.zone ?? ZONE);
    at("tag_key", v.tagKey);
    at("tag_value", v.tagValue);
    at("state", v.holder ? "in-use" : "available");
    at("holder", v.holder);
    at("device", v.holder ? "/dev/xvdu" : undefined);
    at("attach_state", v.holder ? "detaching" : undefined);
    at("release_after", v.releaseAfter);
    at("attach_fails", v.attachFails);
    at("fs_type", v.fsUuid ? "ext4" : undefined);
    at("fs_uuid", v.fsUuid);
    at("pttype", v.pttype);
  }

  /** Runs a script as user data (bash, as root would), with the stubs first on PATH. */
  run(script: string): SpawnSyncReturns<string> {
    const file = path.join(this.dir, "user-data.sh");
    fs.writeFileSync(file, script);
    const tmp = path.join(this.dir, "tmp");
    fs.mkdirSync(tmp, { recursive: true });
    return spawnSync(BASH, [file], {
      encoding: "utf8",
      timeout: 60_000,
      env: {
        PATH: `${this.bin}:${toolsDir}`,
        KOPSFORM_ROOT: this.root,
        STUB_STATE: this.state,
        TMPDIR: tmp,
        HOME: this.dir,
        LC_ALL: "C",
      },
    });
  }

  /** Stub invocations, in order, as `command args...`. */
  calls(command?: string): string[] {
    const file = path.join(this.state, "calls.log");
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
    return command ? lines.filter((l) => l.startsWith(`${command} `)) : lines;
  }

  /** Every `aws autoscaling set-instance-health` call. */
  healthCalls(): string[] {
    return this.calls("aws autoscaling set-instance-health");
  }

  /** `volume-id device` of every attach-volume call. */
  attaches(): string[] {
    return this.calls("aws ec2 attach-volume").map((call) => {
      const arg = (flag: string) => call.split(" ")[call.split(" ").indexOf(flag) + 1];
      return `${arg("--volume-id")} ${arg("--device")}`;
    });
  }

  /** The device of every mkfs.ext4 call, relative to the fake root. */
  mkfsDevices(): string[] {
    return this.calls("mkfs.ext4").map((call) => this.unroot(call.split(" ").pop() ?? ""));
  }

  describeCalls(tagKey: string): number {
    return this.calls("aws ec2 describe-volumes").filter((c) => c.includes(`Name=tag-key,Values=${tagKey} `)).length;
  }

  fstab(): string[] {
    return fs.readFileSync(path.join(this.root, "etc", "fstab"), "utf8").split("\n").filter(Boolean);
  }

  /** `mount point device type` of every mount, relative to the fake root. */
  mounts(): string[] {
    const file = path.join(this.state, "mounts");
    return fs.existsSync(file)
      ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => line.split(" ").map((w) => this.unroot(w)).join(" "))
      : [];
  }

  volume(id: string, name: string): string | undefined {
    const file = path.join(this.state, "volumes", id, name);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : undefined;
  }

  /** What set-instance-health recorded for this instance (`Unhealthy --no-should-respect-grace-period`). */
  health(): string | undefined {
    const file = path.join(this.state, "health", INSTANCE);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : undefined;
  }

  marker(): string | undefined {
    const file = path.join(this.root, BOOTSTRAP_MARKER_PATH);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  }

  log(): string[] {
    return fs.readFileSync(path.join(this.root, USER_DATA_LOG_PATH), "utf8").split("\n").filter(Boolean);
  }

  private unroot(p: string): string {
    return p.startsWith(this.root) ? p.slice(this.root.length) : p;
  }
}

/** Fails with the script's output when it did not exit 0. */
function expectSuccess(result: SpawnSyncReturns<string>): void {
  expect({ status: result.status, signal: result.signal, stderr: result.stderr }).toMatchObject({ status: 0, signal: null });
}

function expectFailure(result: SpawnSyncReturns<string>, message: RegExp): void {
  expect(result.signal).toBeNull();
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(message);
}

/**
 * The script asked this instance's auto-scaling group to replace it (once, ignoring the grace period)
 * and logged so, just before its FATAL line.
 */
function expectReplacementAsked(instance: FakeInstance): void {
  expect(instance.healthCalls()).toEqual([
    `aws autoscaling set-instance-health --region ${REGION} --instance-id ${INSTANCE} --health-status Unhealthy --no-should-respect-grace-period`,
  ]);
  expect(instance.health()).toBe("Unhealthy --no-should-respect-grace-period");
  const log = instance.log();
  expect(log.at(-2)).toMatch(new RegExp(`giving up: marked ${INSTANCE} Unhealthy so that its auto-scaling group replaces it$`));
  expect(log.at(-1)).toMatch(/FATAL: /);
}

const uuidLine = (uuid: string, mountPath: string) => `UUID=${uuid} ${mountPath} ext4 defaults,nofail 0 2`;
/** The UUID the mkfs.ext4 stub gives a volume. */
const stubUuid = (volumeId: string) => `e7cd0000-0000-4000-8000-${volumeId.slice(-12)}`;

describe("shellcheck", () => {
  function shellcheck(script: string, name: string): void {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, script);
    const result = spawnSync("shellcheck", ["--shell=bash", "--format=gcc", file], { encoding: "utf8" });
    if (result.error) {
      throw new Error(
        `shellcheck could not run (${result.error.message}). Install it (Debian/Ubuntu: apt-get install -y shellcheck); ` +
          "these tests never skip it.",
      );
    }
    expect({ status: result.status, findings: result.stdout + result.stderr }).toEqual({ status: 0, findings: "" });
  }

  test("the master script is clean", () => {
    shellcheck(masterScript, "master-user-data.sh");
  });

  test.each(["node", "bastion"] as const)("the %s script is clean", (role) => {
    shellcheck(renderNodeUserData({ ...NODES, role, instanceGroup: role === "node" ? "nodes" : "bastions" }), `${role}-user-data.sh`);
  });

  test("the script of a node group with labels and taints is clean", () => {
    shellcheck(renderNodeUserData(GPU_NODES), "gpu-user-data.sh");
  });
});

describe("renderMasterUserData", () => {
  test("starts as a bash script with strict mode and carries the defaults", () => {
    expect(masterScript.split("\n").slice(0, 2)).toEqual(["#!/bin/bash", "set -euo pipefail"]);
    expect(masterScript).toContain("readonly ATTACH_ATTEMPTS=90\n");
    expect(masterScript).toContain("readonly ATTACH_DELAY_SECONDS=10\n");
    expect(masterScript).toContain("prepare_volume 'main' 'k8s.io/etcd/main' '/dev/xvdu' '/mnt/etcd/main'\n");
    expect(masterScript).toContain("prepare_volume 'events' 'k8s.io/etcd/events' '/dev/xvdv' '/mnt/etcd/events'\n");
  });

  test("holds no credentials (KSEC-LT-005)", () => {
    expect(masterScript).not.toMatch(/AKIA|ASIA|aws_access_key_id|aws_secret_access_key|AWS_SECRET|PRIVATE KEY/i);
  });

  test("fits EC2's 16 KiB user-data limit", () => {
    expect(Buffer.byteLength(masterScript)).toBeLessThan(MAX_USER_DATA_BYTES);
    expect(() => toUserData(masterScript)).not.toThrow();
  });

  test("refuses unsafe values, naming the field", () => {
    const cases: [Partial<MasterUserDataProps>, RegExp][] = [
      [{ clusterName: "hacluster.example.com'; reboot; '" }, /clusterName: .*is not a cluster name/],
      [{ clusterName: "$(reboot).example.com" }, /clusterName/],
      [{ member: "a/b" }, /member: "a\/b" is not an etcd member name/],
      [{ member: "a'" }, /member/],
      [{ member: "" }, /member/],
      [{ kubernetesVersion: "v1.33.5" }, /kubernetesVersion: "v1.33.5"/],
      [{ kubernetesVersion: "1.33.5`reboot`" }, /kubernetesVersion/],
      [{ attachAttempts: 0 }, /attachAttempts: 0 must be a whole number/],
      [{ attachAttempts: 2.5 }, /attachAttempts/],
      [{ attachDelaySeconds: -1 }, /attachDelaySeconds/],
      [{ volumes: [] }, /volumes: \[\] is empty/],
      [{ volumes: [{ ...MAIN, tagKey: "k8s.io/etcd/main'" }] }, /volumes\[0\]\.tagKey/],
      [{ volumes: [{ ...MAIN, tagKey: "k8s.io/etcd main" }] }, /volumes\[0\]\.tagKey/],
      [{ volumes: [{ ...MAIN, tagKey: "aws:etcd" }] }, /volumes\[0\]\.tagKey/],
      [{ volumes: [MAIN, { ...EVENTS, device: "/dev/sdf" }] }, /volumes\[1\]\.device: "\/dev\/sdf"/],
      [{ volumes: [{ ...MAIN, device: "/dev/xvdu; reboot" }] }, /volumes\[0\]\.device/],
      [{ volumes: [{ ...MAIN, mountPath: "mnt/etcd/main" }] }, /volumes\[0\]\.mountPath/],
      [{ volumes: [{ ...MAIN, mountPath: "/mnt/../etc" }] }, /volumes\[0\]\.mountPath/],
      [{ volumes: [{ ...MAIN, mountPath: "/mnt/etcd main" }] }, /volumes\[0\]\.mountPath/],
      [{ volumes: [{ ...MAIN, mountPath: "/" }] }, /volumes\[0\]\.mountPath/],
      [{ volumes: [{ ...MAIN, etcdCluster: "cilium" as "main" }] }, /volumes\[0\]\.etcdCluster/],
      [{ volumes: [MAIN, { ...EVENTS, device: MAIN.device }] }, /volumes\[1\]\.device: "\/dev\/xvdu" is also volumes\[0\]\.device/],
      [{ volumes: [MAIN, { ...EVENTS, mountPath: MAIN.mountPath }] }, /volumes\[1\]\.mountPath/],
    ];
    for (const [override, message] of cases) {
      expect(() => renderMasterUserData({ ...MASTER_A, ...override })).toThrow(message);
    }
  });

  test("reports every problem at once", () => {
    expect(() => renderMasterUserData({ ...MASTER_A, member: "A", attachAttempts: 0, volumes: [{ ...MAIN, device: "sdf" }] })).toThrow(
      /master user data:\nmember: .*\nattachAttempts: .*\nvolumes\[0\]\.device: /,
    );
  });
});

describe("renderNodeUserData", () => {
  test("refuses unsafe values, naming the field", () => {
    const cases: [Partial<NodeUserDataProps>, RegExp][] = [
      [{ role: "master" as "node" }, /role: "master" must be "node" or "bastion"/],
      [{ instanceGroup: "nodes; reboot" }, /instanceGroup: "nodes; reboot"/],
      [{ instanceGroup: "Nodes" }, /instanceGroup/],
      [{ clusterName: "example" }, /clusterName: "example"/],
      [{ kubernetesVersion: "latest" }, /kubernetesVersion/],
      [{ labels: { "team'; reboot; '": "ml" } }, /labels: "team'; reboot; '" is not a Kubernetes label key/],
      [{ labels: { "team name": "ml" } }, /labels: "team name" is not a Kubernetes label key/],
      [{ labels: { "Example.com/gpu": "true" } }, /labels: "Example\.com\/gpu"/],
      [{ labels: { "a/b/c": "x" } }, /labels: "a\/b\/c"/],
      [{ labels: { ["x".repeat(64)]: "x" } }, /labels: "x{64}"/],
      [{ labels: { "-team": "ml" } }, /labels: "-team"/],
      [{ labels: { team: "$(reboot)" } }, /labels\.team: "\$\(reboot\)" is not a Kubernetes label value/],
      [{ labels: { team: "m l" } }, /labels\.team: "m l"/],
      [{ labels: { team: "ml,x=y" } }, /labels\.team: "ml,x=y"/],
      [{ labels: { team: "ml\n" } }, /labels\.team/],
      [{ labels: { team: "x".repeat(64) } }, /labels\.team/],
      [{ labels: { team: 1 as unknown as string } }, /labels\.team: 1/],
      [{ labels: ["team=ml"] as unknown as Record<string, string> }, /labels: \["team=ml"\] is not a map/],
      [{ taints: ["dedicated=gpu:NoSchedule; reboot"] }, /taints\[0\]: "dedicated=gpu:NoSchedule; reboot" is not a taint/],
      [{ taints: ["dedicated=gpu"] }, /taints\[0\]: "dedicated=gpu" is not a taint/],
      [{ taints: ["dedicated=gpu:Never"] }, /taints\[0\]/],
      [{ taints: ["dedicated=g'pu:NoSchedule"] }, /taints\[0\]/],
      [{ taints: ["dedicated=a=b:NoSchedule"] }, /taints\[0\]/],
      [{ taints: ["ded icated:NoSchedule"] }, /taints\[0\]/],
      [{ taints: ["a:NoSchedule,b:NoSchedule"] }, /taints\[0\]/],
      [{ taints: ["a:NoSchedule", "$(reboot):NoSchedule"] }, /taints\[1\]: "\$\(reboot\):NoSchedule" is not a taint/],
      [{ taints: ["a=x:NoSchedule", "a=y:NoSchedule"] }, /taints\[1\]: "a=y:NoSchedule" has the key and effect of taints\[0\]/],
      [{ taints: "a:NoSchedule" as unknown as string[] }, /taints: "a:NoSchedule" is not a list/],
    ];
    for (const [override, message] of cases) {
      expect(() => renderNodeUserData({ ...NODES, ...override })).toThrow(message);
    }
  });

  test("accepts the labels and taints Kubernetes accepts", () => {
    const script = renderNodeUserData({
      ...NODES,
      labels: { a: "", "A.b_c-9": "Z.y_x-0", "k8s.example-1.com/x": "1", ["l".repeat(63)]: "v".repeat(63) },
      taints: ["a:NoSchedule", "a:NoExecute", "b=:PreferNoSchedule", "node.example.com/x=Y_1:NoExecute"],
    });
    expect(script).toContain(`readonly NODE_LABELS='A.b_c-9=Z.y_x-0,a=,k8s.example-1.com/x=1,${"l".repeat(63)}=${"v".repeat(63)}'\n`);
    expect(script).toContain("readonly NODE_TAINTS='a:NoSchedule,a:NoExecute,b=:PreferNoSchedule,node.example.com/x=Y_1:NoExecute'\n");
  });

  test("gives nodes without labels or taints empty NODE_LABELS and NODE_TAINTS", () => {
    const script = renderNodeUserData(NODES);
    expect(script).toContain("readonly NODE_LABELS=''\n");
    expect(script).toContain("readonly NODE_TAINTS=''\n");
    expect(renderNodeUserData({ ...NODES, labels: {}, taints: [] })).toBe(script);
  });

  test("hands a node group's labels and taints to the bootstrap hook, in the marker's facts", () => {
    const instance = new FakeInstance({ volumes: [] });
    const result = instance.run(renderNodeUserData(GPU_NODES));
    expectSuccess(result);
    expect(instance.calls()).toEqual([]);
    expect(instance.marker()).toMatch(
      new RegExp(
        "^installer=none\nrole=node\ncluster=hacluster\\.example\\.com\nkubernetes_version=1\\.33\\.5\ninstance_group=gpu\n" +
          "node_labels=example\\.com/empty=,nvidia\\.com/gpu=true,team=ml\n" +
          "node_taints=dedicated=gpu:NoSchedule,nvidia\\.com/gpu:NoExecute,spot=:PreferNoSchedule\nfinished_at=\\S+\n$",
      ),
    );
  });

  test("runs the bootstrap hook, which logs that no installer is configured and writes the marker", () => {
    const instance = new FakeInstance({ volumes: [] });
    const result = instance.run(renderNodeUserData({ ...NODES, role: "bastion", instanceGroup: "bastions" }));
    expectSuccess(result);
    expect(instance.calls()).toEqual([]);
    expect(result.stderr).toMatch(/no Kubernetes installer is configured: this bastion of hacluster\.example\.com \(Kubernetes 1\.33\.5\)/);
    expect(instance.marker()).toMatch(
      /^installer=none\nrole=bastion\ncluster=hacluster\.example\.com\nkubernetes_version=1\.33\.5\ninstance_group=bastions\nnode_labels=\nnode_taints=\nfinished_at=\S+\n$/,
    );
    expect(instance.log()[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} kopsform bastion: starting: instance group bastions/);
  });
});

describe("toUserData", () => {
  test("is the script in base64, so Terraform never sees the script's ${...}", () => {
    const encoded = toUserData(masterScript);
    expect(Buffer.from(encoded, "base64").toString("utf8")).toBe(masterScript);
    expect(masterScript).toContain("${");
    expect(encoded).not.toContain("${");
    expect(encoded).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  test("round-trips non-ASCII text", () => {
    const script = "#!/bin/bash\necho 'étcd ✓'\n";
    expect(Buffer.from(toUserData(script), "base64").toString("utf8")).toBe(script);
  });

  test("refuses a script over EC2's 16 KiB limit", () => {
    expect(() => toUserData("#".repeat(MAX_USER_DATA_BYTES + 1))).toThrow(/16385 bytes; EC2 accepts at most 16384/);
  });
});

describe("the master script on a fake instance", () => {
  test("attaches exactly member a's volumes in its zone and cluster, formats the blank ones, mounts them", () => {
    const instance = new FakeInstance();
    const result = instance.run(masterScript);
    expectSuccess(result);
    // Decoys: b/ and a-2/ pass the stub's filters and must be rejected by the script's prefix match;
    // the other zone's and other cluster's volume would make a second match if a filter were missing.
    expect(instance.attaches()).toEqual([`${VOL.mainA} /dev/xvdu`, `${VOL.eventsA} /dev/xvdv`]);
    for (const decoy of [VOL.mainB, VOL.mainA2, VOL.eventsA2, VOL.mainAOtherZone, VOL.mainAOtherCluster]) {
      expect(instance.volume(decoy, "state")).toBe("available");
    }
    expect(instance.calls("curl")[0]).toMatch(/-X PUT -H X-aws-ec2-metadata-token-ttl-seconds: \d+ http:\/\/169\.254\.169\.254\/latest\/api\/token$/);
    expect(instance.mkfsDevices()).toEqual(["/dev/xvdu", "/dev/xvdv"]);
    expect(instance.volume(VOL.mainA, "fs_label")).toBe("etcd-main");
    expect(instance.volume(VOL.eventsA, "fs_label")).toBe("etcd-events");
    expect(instance.mounts()).toEqual(["/mnt/etcd/main /dev/xvdu ext4", "/mnt/etcd/events /dev/xvdv ext4"]);
    expect(instance.fstab().slice(1)).toEqual([
      uuidLine(stubUuid(VOL.mainA), "/mnt/etcd/main"),
      uuidLine(stubUuid(VOL.eventsA), "/mnt/etcd/events"),
    ]);
    expect(instance.healthCalls()).toEqual([]);
  });

  test("takes member a-2's volumes, not member a's, for member a-2", () => {
    const instance = new FakeInstance();
    expectSuccess(instance.run(renderMasterUserData({ ...MASTER_A, member: "a-2" })));
    expect(instance.attaches()).toEqual([`${VOL.mainA2} /dev/xvdu`, `${VOL.eventsA2} /dev/xvdv`]);
    expect(instance.volume(VOL.mainA, "state")).toBe("available");
  });

  test("never formats a device that has a filesystem; mounts it by its own UUID", () => {
    const existing = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
    const instance = new FakeInstance({ volumes: clusterVolumes({ eventsA: { fsUuid: existing } }) });
    const result = instance.run(masterScript);
    expectSuccess(result);
    expect(instance.mkfsDevices()).toEqual(["/dev/xvdu"]);
    expect(instance.volume(VOL.eventsA, "fs_label")).toBeUndefined();
    expect(result.stderr).toMatch(/etcd-events: \S+\/dev\/xvdv has a filesystem \(ext4, UUID 0b1c2d3e-[^)]*\); keeping it, no mkfs/);
    expect(instance.fstab()).toContain(uuidLine(existing, "/mnt/etcd/events"));
  });

  test("refuses to format a device with a partition table but no filesystem", () => {
    const instance = new FakeInstance({ volumes: clusterVolumes({ mainA: { pttype: "gpt" } }) });
    expectFailure(instance.run(masterScript), /FATAL: etcd-main: \S+\/dev\/xvdu has a partition table \(gpt\) but no filesystem; not formatting it/);
    expect(instance.mkfsDevices()).toEqual([]);
    expect(instance.marker()).toBeUndefined();
  });

  test("finds the NVMe device a Nitro instance gives the volume", () => {
    const instance = new FakeInstance({ deviceStyle: "nvme" });
    expectSuccess(instance.run(masterScript));
    const nvmeMain = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0a000000000000001";
    const nvmeEvents = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0a000000000000002";
    expect(fs.existsSync(path.join(instance.root, "dev", "xvdu"))).toBe(false);
    expect(instance.mkfsDevices()).toEqual([nvmeMain, nvmeEvents]);
    expect(instance.mounts()).toEqual([`/mnt/etcd/main ${nvmeMain} ext4`, `/mnt/etcd/events ${nvmeEvents} ext4`]);
    expect(instance.fstab()).toContain(uuidLine(stubUuid(VOL.mainA), "/mnt/etcd/main"));
  });

  test("waits for the device to appear after the attach", () => {
    const instance = new FakeInstance();
    const result = instance.run(masterScript);
    expectSuccess(result);
    expect(result.stderr).toMatch(/etcd-main: waiting for the device of vol-0a000000000000001 \(1\/60\)/);
  });

  test("gives up with a message when the device never appears, and has the group replace the instance", () => {
    const instance = new FakeInstance();
    instance.write("no-devices", 1);
    expectFailure(instance.run(masterScript), /FATAL: etcd-main: neither \S+nvme-Amazon_Elastic_Block_Store_vol0a000000000000001 nor \S+\/dev\/xvdu appeared within 120s/);
    expect(instance.calls("sleep")).toHaveLength(DEVICE_WAIT_ATTEMPTS - 1);
    expect(instance.mkfsDevices()).toEqual([]);
    expectReplacementAsked(instance);
  });

  test("waits while a terminated predecessor holds a volume and attaches once it is released", () => {
    const instance = new FakeInstance({
      volumes: clusterVolumes({
        mainA: { holder: PREDECESSOR, releaseAfter: 3 },
        // The detach finishes between describe-volumes and attach-volume: the attach fails once.
        eventsA: { attachFails: 1 },
      }),
    });
    const result = instance.run(masterScript);
    expectSuccess(result);
    expect(result.stderr).toMatch(
      /etcd-main: attempt 3\/90: vol-0a000000000000001 is still held by i-0fedcba9876543210 as \/dev\/xvdu \(attachment detaching\); retrying in 10s/,
    );
    expect(result.stderr).toMatch(/etcd-events: attempt 1\/90: attach-volume of vol-0a000000000000002 failed: An error occurred \(VolumeInUse\)/);
    expect(instance.describeCalls(MAIN.tagKey)).toBe(4);
    expect(instance.healthCalls()).toEqual([]);
    expect(instance.attaches()).toEqual([`${VOL.mainA} /dev/xvdu`, `${VOL.eventsA} /dev/xvdv`, `${VOL.eventsA} /dev/xvdv`]);
    expect(instance.calls("sleep").slice(0, 3)).toEqual(["sleep 10", "sleep 10", "sleep 10"]);
    expect(instance.volume(VOL.mainA, "holder")).toBe(INSTANCE);
    expect(instance.mounts()).toHaveLength(2);
  });

  test("gives up, exit 1, naming the volume and its holder when the predecessor never lets go", () => {
    const instance = new FakeInstance({ volumes: clusterVolumes({ mainA: { holder: PREDECESSOR } }) });
    const result = instance.run(renderMasterUserData({ ...MASTER_A, attachAttempts: 3, attachDelaySeconds: 5 }));
    expectFailure(
      result,
      /FATAL: etcd-main: giving up after 3 attempts, 15s: vol-0a000000000000001 is still held by i-0fedcba9876543210/,
    );
    expect(instance.describeCalls(MAIN.tagKey)).toBe(3);
    expect(instance.attaches()).toEqual([]);
    expect(instance.mkfsDevices()).toEqual([]);
    expect(instance.marker()).toBeUndefined();
    expect(instance.log().pop()).toMatch(/FATAL: etcd-main: giving up/);
    expectReplacementAsked(instance);
  });

  test("still exits 1 with its reason when it cannot mark itself Unhealthy", () => {
    const instance = new FakeInstance({ volumes: clusterVolumes({ mainA: { holder: PREDECESSOR } }) });
    instance.write("set-health-fails", 1);
    const result = instance.run(renderMasterUserData({ ...MASTER_A, attachAttempts: 2, attachDelaySeconds: 5 }));
    expectFailure(result, /FATAL: etcd-main: giving up after 2 attempts, 10s: vol-0a000000000000001 is still held by i-0fedcba9876543210/);
    expect(instance.healthCalls()).toHaveLength(1);
    expect(instance.health()).toBeUndefined();
    const log = instance.log();
    expect(log.at(-2)).toMatch(
      new RegExp(`giving up, but could not mark ${INSTANCE} Unhealthy \\(An error occurred \\(AccessDenied\\) .*\\); terminate it to get a new master$`),
    );
    expect(log.at(-1)).toMatch(/FATAL: etcd-main: giving up after 2 attempts/);
  });

  test("retries while no volume carries the member's tag yet, then gives up", () => {
    const instance = new FakeInstance({ volumes: clusterVolumes().filter((v) => v.id !== VOL.mainA) });
    const result = instance.run(renderMasterUserData({ ...MASTER_A, attachAttempts: 3, attachDelaySeconds: 1 }));
    expectFailure(result, /FATAL: etcd-main: giving up after 3 attempts, 3s: no volume tagged k8s\.io\/etcd\/main=a\/\.\.\. in us-west-2a yet/);
    expect(instance.describeCalls(MAIN.tagKey)).toBe(3);
    expectReplacementAsked(instance);
  });

  test("stops at once when two volumes carry the member's tag", () => {
    const volumes = [...clusterVolumes(), { id: VOL.mainADuplicate, tagKey: MAIN.tagKey, tagValue: "a/a,b,c" }];
    const instance = new FakeInstance({ volumes });
    const result = instance.run(masterScript);
    expectFailure(result, /FATAL: etcd-main: 2 volumes in us-west-2a are tagged k8s\.io\/etcd\/main=a\/\.\.\.: vol-0a000000000000001 .*vol-0a000000000000009 .*exactly one may be/);
    expect(instance.describeCalls(MAIN.tagKey)).toBe(1);
    expect(instance.attaches()).toEqual([]);
    // A replacement would find the same two volumes: the instance is left for an operator.
    expect(instance.healthCalls()).toEqual([]);
    expect(instance.health()).toBeUndefined();
  });

  test.each(["xvd", "nvme"] as const)("is safe to run twice (%s devices): no second attach, mkfs, mount or fstab line", (deviceStyle) => {
    const instance = new FakeInstance({ deviceStyle });
    expectSuccess(instance.run(masterScript));
    const fstab = instance.fstab();
    const second = instance.run(masterScript);
    expectSuccess(second);
    expect(instance.attaches()).toHaveLength(2);
    expect(instance.mkfsDevices()).toHaveLength(2);
    expect(instance.calls("mount")).toHaveLength(2);
    expect(instance.fstab()).toEqual(fstab);
    expect(second.stderr).toMatch(/etcd-main: vol-0a000000000000001 is attached here already as \/dev\/xvdu/);
    expect(second.stderr).toMatch(/etcd-events: \/mnt\/etcd\/events is mounted already/);
    // After a reboot without the mounts (say the fstab line was lost to a failed boot), a rerun mounts
    // again and still adds nothing twice.
    fs.rmSync(path.join(instance.state, "mounts"));
    expectSuccess(instance.run(masterScript));
    expect(instance.mounts()).toHaveLength(2);
    expect(instance.mkfsDevices()).toHaveLength(2);
    expect(instance.fstab().filter((l) => l.includes(" /mnt/etcd/main "))).toHaveLength(1);
    expect(instance.fstab().filter((l) => l.includes(" /mnt/etcd/events "))).toHaveLength(1);
  });

  test("runs the bootstrap hook after the mounts, with the instance's facts", () => {
    const instance = new FakeInstance();
    expectSuccess(instance.run(masterScript));
    const log = instance.log();
    const lastMount = log.findIndex((l) => l.includes("etcd-events: mounted "));
    const bootstrap = log.findIndex((l) => l.includes("bootstrap: no Kubernetes installer is configured"));
    expect(lastMount).toBeGreaterThan(0);
    expect(bootstrap).toBeGreaterThan(lastMount);
    expect(log[bootstrap]).toMatch(/this master of hacluster\.example\.com \(Kubernetes 1\.33\.5\)/);
    expect(instance.marker()).toMatch(
      new RegExp(
        "^installer=none\nrole=master\ncluster=hacluster\\.example\\.com\nkubernetes_version=1\\.33\\.5\netcd_member=a\n" +
          `instance_id=${INSTANCE}\nzone=${ZONE}\nregion=${REGION}\netcd_mounts=/mnt/etcd/main,/mnt/etcd/events\nfinished_at=\\S+\n$`,
      ),
    );
    for (const line of log) {
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} kopsform master: /);
    }
  });

  test("installs the AWS CLI with snap when the image lacks it", () => {
    const instance = new FakeInstance({ withAws: false });
    instance.write("snap-works", path.join(STUBS, "aws"));
    const result = instance.run(masterScript);
    expectSuccess(result);
    expect(instance.calls("snap")).toEqual(["snap wait system seed.loaded", "snap install aws-cli --classic"]);
    expect(instance.attaches()).toHaveLength(2);
  });

  test("fails clearly when the AWS CLI is missing and cannot be installed", () => {
    const instance = new FakeInstance({ withAws: false });
    expectFailure(instance.run(masterScript), /FATAL: the AWS CLI is not installed and neither snap nor apt-get could install it/);
    expect(instance.calls("apt-get")).toEqual(["apt-get update -q", "apt-get install -y -q awscli"]);
    expect(instance.calls("mkfs.ext4")).toEqual([]);
  });

  test("fails clearly when the metadata service does not answer", () => {
    const instance = new FakeInstance();
    instance.write("imds-down", 1);
    expectFailure(instance.run(masterScript), /FATAL: could not get an IMDSv2 token from http:\/\/169\.254\.169\.254/);
    expect(instance.calls("aws")).toEqual([]);
  });
});
