/**
 * The first steps of a master's boot, branch by branch (boot/steps/volumes.sh, aws-cli.sh,
 * etcd-install.sh and lib.sh's give_up): the scripts themselves, run under bash against a fake
 * AWS that keeps state and enforces the masters' synthesized IAM policy (__tests__/sim), the real
 * AWS CLI, and fakes of blkid, mkfs.ext4 and mount (a real bind mount, in a private mount
 * namespace). Each safety branch has a test that fails when the branch is removed.
 */
import { createHash } from "crypto";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { OneInstance } from "./sim/one-instance";

jest.setTimeout(180_000);

const ATTACH = `
load_cluster_env CLUSTER_NAME ETCD_MEMBER ATTACH_ATTEMPTS ATTACH_DELAY_SECONDS DEVICE_WAIT_ATTEMPTS DEVICE_WAIT_DELAY_SECONDS
load_instance_facts
attach_etcd_volumes
for m in main events; do printf 'mounted %s %s\\n' "$m" "$(findmnt -n -o TARGET --target "$ROOT/mnt/etcd/$m")"; done
`;

let one: OneInstance;

afterEach(async () => {
  await one?.stop();
});

/** Member a's two volumes, blank, plus decoys a script must leave alone. */
function clusterVolumes(): void {
  one.volume("vol-0a0000000000000m1", "main", "a/a,b,c,a-2");
  one.volume("vol-0a0000000000000e1", "events", "a/a,b,c,a-2");
  one.volume("vol-0b0000000000000m1", "main", "b/a,b,c,a-2");
  one.volume("vol-0a2000000000000m1", "main", "a-2/a,b,c,a-2");
  one.volume("vol-0a00000000000zone", "main", "a/a,b,c,a-2", { zone: "us-west-2b" });
  one.volume("vol-0a00000000000othr", "main", "a/a,b,c", { clusterName: "other.example.com" });
}

const fsUuid = (volume: string) => {
  const file = path.join(one.dir, "volumes", volume, "meta", "fs_uuid");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : undefined;
};
const etcdFstab = () =>
  fs
    .readFileSync(path.join(one.root, "etc", "fstab"), "utf8")
    .split("\n")
    .filter((l) => l.includes("/mnt/etcd/"));

describe("attaching and mounting the etcd volumes", () => {
  it("claims member a's blank volumes by tag (never the decoys), formats and mounts them, records the members", async () => {
    one = await OneInstance.create();
    clusterVolumes();
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain(`mounted main ${one.root}/mnt/etcd/main`);
    expect(r.stdout).toContain(`mounted events ${one.root}/mnt/etcd/events`);
    const attached = [...one.aws.volumes.values()].filter((v) => v.attachment).map((v) => [v.id, v.attachment?.device]);
    expect(attached.sort()).toEqual([
      ["vol-0a0000000000000e1", "/dev/xvdv"],
      ["vol-0a0000000000000m1", "/dev/xvdu"],
    ]);
    expect(fsUuid("vol-0a0000000000000m1")).toMatch(/^[0-9a-f-]{36}$/);
    expect(fsUuid("vol-0b0000000000000m1")).toBeUndefined();
    expect(etcdFstab()).toEqual([
      `UUID=${fsUuid("vol-0a0000000000000m1")} /mnt/etcd/main ext4 defaults,nofail 0 2`,
      `UUID=${fsUuid("vol-0a0000000000000e1")} /mnt/etcd/events ext4 defaults,nofail 0 2`,
    ]);
    // The root file system's line is kept, and the new lines start on a line of their own.
    expect(fs.readFileSync(path.join(one.root, "etc", "fstab"), "utf8")).toMatch(/^LABEL=cloudimg-rootfs\t\/\text4\tdefaults\t0 1\nUUID=/);
    expect(fs.readFileSync(path.join(one.root, "var", "lib", "kopsform", "etcd-members"), "utf8")).toBe("a,b,c,a-2\n");
    expect(one.aws.calls.filter((c) => c.denied)).toEqual([]);

    // Run again: nothing attached, formatted or added twice; the same filesystems.
    const uuid = fsUuid("vol-0a0000000000000m1");
    const before = one.aws.calls.length;
    const again = await one.run(["steps/volumes.sh"], ATTACH);
    expect(again.code).toBe(0);
    expect(one.aws.calls.slice(before).map((c) => c.action)).toEqual(["ec2:DescribeVolumes"]);
    expect(fsUuid("vol-0a0000000000000m1")).toBe(uuid);
    expect(etcdFstab()).toHaveLength(2);
    expect(one.log()).toContain("is attached here already");
  });

  it("finds the device under its requested name on Xen instances", async () => {
    one = await OneInstance.create({ deviceStyle: "xvd" });
    clusterVolumes();
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(0);
    expect(one.log()).toMatch(new RegExp(`vol-0a0000000000000m1 is ${one.root}/dev/xvdu `));
  });

  it("keeps an existing filesystem: no mkfs", async () => {
    one = await OneInstance.create();
    clusterVolumes();
    for (const id of ["vol-0a0000000000000m1", "vol-0a0000000000000e1"]) {
      fs.writeFileSync(path.join(one.dir, "volumes", id, "meta", "fs_type"), "ext4\n");
      fs.writeFileSync(path.join(one.dir, "volumes", id, "meta", "fs_uuid"), `1111111${id.slice(-1) === "1" ? "1" : "2"}-2222-3333-4444-55555555555${id.includes("m1") ? "1" : "2"}\n`);
      fs.writeFileSync(path.join(one.dir, "volumes", id, "fs", "etcd-data"), "precious");
    }
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(0);
    expect(one.log()).not.toContain("mkfs");
    expect(one.log()).toContain("has a filesystem (ext4, UUID 11111111-2222-3333-4444-555555555551); keeping it");
    expect(fs.readFileSync(path.join(one.dir, "volumes", "vol-0a0000000000000m1", "fs", "etcd-data"), "utf8")).toBe("precious");
  });

  it("refuses to format a device with a partition table but no filesystem, without asking for a replacement", async () => {
    one = await OneInstance.create();
    clusterVolumes();
    fs.writeFileSync(path.join(one.dir, "volumes", "vol-0a0000000000000m1", "meta", "pttype"), "gpt\n");
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(1);
    expect(one.log()).toContain("has a partition table (gpt) but no filesystem; not formatting it");
    expect(fsUuid("vol-0a0000000000000m1")).toBeUndefined();
    expect(one.instance.health).toBeUndefined();
  });

  it.each([4, 8])("never formats a device blkid fails to probe (exit code %i)", async (code) => {
    one = await OneInstance.create();
    clusterVolumes();
    const bin = one.bin({ blkid: `echo "blkid: probing failed" >&2\nexit ${code}` });
    const r = await one.run(["steps/volumes.sh"], ATTACH, { binFirst: bin });
    expect(r.code).toBe(1);
    expect(one.log()).toContain(`failed with exit code ${code} (blkid: probing failed ); not formatting a device that cannot be probed`);
    expect(fsUuid("vol-0a0000000000000m1")).toBeUndefined();
    expect(one.instance.health).toBeUndefined();
  });

  it("waits while a terminated predecessor still holds a volume, then attaches it", async () => {
    one = await OneInstance.create({ env: { ATTACH_ATTEMPTS: "20" } });
    clusterVolumes();
    one.aws.addInstance({ id: "i-0predecessor00001", ip: "127.0.0.9", zone: "us-west-2a", role: "x", tags: {}, root: path.join(one.dir, "predecessor"), deviceStyle: "nvme" });
    one.aws.attachNow("vol-0a0000000000000m1", "i-0predecessor00001", "/dev/xvdu");
    const release = setTimeout(() => one.aws.detachNow("vol-0a0000000000000m1"), 4000);
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    clearTimeout(release);
    expect(r.code).toBe(0);
    expect(one.log()).toContain("vol-0a0000000000000m1 is still held by i-0predecessor00001 as /dev/xvdu (attachment attached)");
    expect(one.aws.volumes.get("vol-0a0000000000000m1")?.attachment?.instanceId).toBe(one.instanceId);
  });

  it("retries an attach EC2 refuses while a detach settles", async () => {
    one = await OneInstance.create();
    clusterVolumes();
    (one.aws.volumes.get("vol-0a0000000000000e1") as { attachFailures?: number }).attachFailures = 1;
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(0);
    expect(one.log()).toContain("attach-volume of vol-0a0000000000000e1 failed");
    expect(one.log().match(/attaching vol-0a0000000000000e1 as \/dev\/xvdv/g)).toHaveLength(2);
  });

  it("asks its group for a replacement when a predecessor holds a volume beyond the budget", async () => {
    one = await OneInstance.create();
    clusterVolumes();
    one.aws.addInstance({ id: "i-0predecessor00001", ip: "127.0.0.9", zone: "us-west-2a", role: "x", tags: {}, root: path.join(one.dir, "predecessor"), deviceStyle: "nvme" });
    one.aws.attachNow("vol-0a0000000000000m1", "i-0predecessor00001", "/dev/xvdu");
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(1);
    expect(one.instance.health).toBe("Unhealthy respect-grace=false");
    expect(one.log()).toContain("giving up on the etcd volumes after 3 attempts, 3s: etcd-main: vol-0a0000000000000m1 is still held by i-0predecessor00001");
    expect(fs.existsSync(path.join(one.root, "run", "poweroff-requested"))).toBe(false);
  });

  it("powers off when it cannot mark itself Unhealthy (the group replaces a stopped instance too)", async () => {
    one = await OneInstance.create({ withoutStatements: ["ReplaceOwnClusterMasters"] });
    one.volume("vol-0b0000000000000m1", "main", "b/a,b,c");
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(1);
    expect(one.calls()).toContainEqual(expect.stringMatching(/^autoscaling:SetInstanceHealth .* DENIED$/));
    expect(one.log()).toContain("could not mark this instance Unhealthy");
    expect(fs.existsSync(path.join(one.root, "run", "poweroff-requested"))).toBe(true);
  });

  it("asks for a replacement when no volume carries its tag within the budget", async () => {
    one = await OneInstance.create();
    one.volume("vol-0b0000000000000m1", "main", "b/a,b,c");
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(1);
    expect(one.log()).toContain("etcd-main: no volume tagged k8s.io/etcd/main=a/... in us-west-2a yet");
    expect(one.instance.health).toBe("Unhealthy respect-grace=false");
  });

  it("stops without a replacement when two volumes carry its tag (a new instance would meet the same)", async () => {
    one = await OneInstance.create();
    clusterVolumes();
    one.volume("vol-0a000000000000dup", "main", "a/a,b,c");
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(1);
    expect(one.log()).toMatch(/etcd-main: 2 volumes in us-west-2a are tagged k8s.io\/etcd\/main=a\/\.\.\.: .*exactly one may be/);
    expect(one.instance.health).toBeUndefined();
    expect([...one.aws.volumes.values()].filter((v) => v.attachment)).toEqual([]);
  });

  it("asks for a replacement when an attached volume's device never appears", async () => {
    one = await OneInstance.create({ deviceStyle: "none" });
    clusterVolumes();
    const r = await one.run(["steps/volumes.sh"], ATTACH);
    expect(r.code).toBe(1);
    expect(one.log()).toMatch(/neither .*nvme-Amazon_Elastic_Block_Store_vol0a0000000000000m1 nor .*\/dev\/xvdu appeared within 3s of attaching vol-0a0000000000000m1/);
    expect(one.instance.health).toBe("Unhealthy respect-grace=false");
  });

  it("cannot attach another cluster's volume even if its own tags were copied onto it (the IAM condition)", async () => {
    one = await OneInstance.create();
    one.volume("vol-0a00000000000othr", "main", "a/a,b,c", { clusterName: "other.example.com" });
    // A describe filter that matched it anyway would meet the policy: attach is tag-conditioned.
    const r = await one.run(
      [],
      `load_cluster_env CLUSTER_NAME\nload_instance_facts\naws ec2 attach-volume --region us-west-2 --volume-id vol-0a00000000000othr --instance-id "$INSTANCE_ID" --device /dev/xvdu`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("UnauthorizedOperation");
    expect(one.aws.volumes.get("vol-0a00000000000othr")?.attachment).toBeUndefined();
  });
});

describe("the AWS CLI and the instance metadata", () => {
  it("installs the aws-cli snap when the image has no AWS CLI", async () => {
    one = await OneInstance.create();
    const real = path.join(__dirname, "sim", "bin", "aws");
    const bin = one.bin({
      snap: `case "$1" in wait) exit 0 ;; install) mkdir -p "$ROOT/snap/bin" && cp ${JSON.stringify(real)} "$ROOT/snap/bin/aws" && echo "aws-cli installed" ;; *) exit 1 ;; esac`,
    });
    const r = await one.run(["steps/aws-cli.sh"], "load_cluster_env INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS\nensure_aws_cli\ncommand -v aws", { binFirst: bin, pathWithoutAws: true });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").pop()).toBe(`${one.root}/snap/bin/aws`);
    expect(one.log()).toContain("installed the aws-cli snap");
  });

  it("retries a failing snap install within its bound, then powers off for a replacement", async () => {
    one = await OneInstance.create();
    const bin = one.bin({ snap: 'echo "error: cannot reach the snap store" >&2; exit 1' });
    const r = await one.run(["steps/aws-cli.sh"], "load_cluster_env INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS\nINSTANCE_ID=i-0aaaaaaaaaaaaaaa1 REGION=us-west-2\nensure_aws_cli", {
      binFirst: bin,
      pathWithoutAws: true,
    });
    expect(r.code).toBe(1);
    expect(one.log()).toContain("snap install aws-cli: attempt 1/2 failed (error: cannot reach the snap store )");
    expect(one.log()).toContain("snap install aws-cli: failed 2 times");
    expect(one.log()).toContain("powering off so that its group replaces it");
    expect(fs.existsSync(path.join(one.root, "run", "poweroff-requested"))).toBe(true);
  });

  it("asks for a replacement when the instance metadata service does not answer", async () => {
    one = await OneInstance.create();
    const r = await one.run([], "load_instance_facts", { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:9/" } });
    expect(r.code).toBe(1);
    expect(one.log()).toContain("could not read instance-id from the instance metadata service");
    expect(fs.existsSync(path.join(one.root, "run", "poweroff-requested"))).toBe(true);
  });
});

describe("installing etcd", () => {
  const ARCHIVE = "etcd-v3.4.23-linux-amd64";

  function serveRelease(): string {
    const dir = path.join(one.dir, "downloads", "etcd", "v3.4.23");
    fs.mkdirSync(path.join(dir, "staging", ARCHIVE), { recursive: true });
    for (const binary of ["etcd", "etcdctl"]) {
      fs.copyFileSync(execFileSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).trim(), path.join(dir, "staging", ARCHIVE, binary));
    }
    execFileSync("tar", ["-czf", path.join(dir, `${ARCHIVE}.tar.gz`), "-C", path.join(dir, "staging"), ARCHIVE]);
    return createHash("sha256").update(fs.readFileSync(path.join(dir, `${ARCHIVE}.tar.gz`))).digest("hex");
  }

  const INSTALL =
    "load_cluster_env ETCD_VERSION ETCD_SHA256_AMD64 ETCD_SHA256_ARM64 ETCD_DOWNLOAD_URL INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS\n" +
    "load_instance_facts\ninstall_etcd\netcd --version >\"$WORK_DIR/version\"\nhead -n 1 \"$WORK_DIR/version\"";
  const release = (sha: string, url: string) => ({
    ETCD_VERSION: "3.4.23",
    ETCD_SHA256_AMD64: sha,
    ETCD_SHA256_ARM64: "0".repeat(64),
    ETCD_DOWNLOAD_URL: url,
    INSTALL_ATTEMPTS: "2",
    INSTALL_DELAY_SECONDS: "1",
  });

  it("downloads the pinned release, checks its sha256, installs it once", async () => {
    one = await OneInstance.create();
    const sha = serveRelease();
    one.writeEnv(release(sha, `${one.aws.endpoint}/downloads/etcd`));
    const r = await one.run(["steps/etcd-install.sh"], INSTALL);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("etcd Version: 3.4.23");
    expect(fs.readlinkSync(path.join(one.root, "opt", "kopsform", "etcd", "current"))).toBe("v3.4.23");
    const again = await one.run(["steps/etcd-install.sh"], INSTALL);
    expect(again.code).toBe(0);
    expect(one.log().match(/downloading etcd/g)).toHaveLength(1);
    expect(one.log()).toContain("etcd 3.4.23 is installed");
  });

  it("refuses an archive whose sha256 differs, without asking for a replacement", async () => {
    one = await OneInstance.create();
    serveRelease();
    one.writeEnv(release("f".repeat(64), `${one.aws.endpoint}/downloads/etcd`));
    const r = await one.run(["steps/etcd-install.sh"], INSTALL);
    expect(r.code).toBe(1);
    expect(one.log()).toContain(`not the pinned ${"f".repeat(64)}; refusing it`);
    expect(fs.existsSync(path.join(one.root, "opt", "kopsform", "etcd", "v3.4.23", "etcd"))).toBe(false);
    expect(one.instance.health).toBeUndefined();
  });

  it("asks for a replacement when the release cannot be downloaded", async () => {
    one = await OneInstance.create();
    one.writeEnv(release("f".repeat(64), `${one.aws.endpoint}/downloads/missing`));
    const r = await one.run(["steps/etcd-install.sh"], INSTALL);
    expect(r.code).toBe(1);
    expect(one.log()).toContain("failed 2 times, the last with: curl: (22) The requested URL returned error: 404");
    expect(one.log()).toContain("giving up: could not download http://");
    expect(one.instance.health).toBe("Unhealthy respect-grace=false");
  });
});
