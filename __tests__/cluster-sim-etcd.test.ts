/**
 * The etcd half of a cluster, proven with real etcd: three masters of a synthesized cluster run the
 * boot scripts the instances run (user data, loader, boot archive, master.sh) as processes in their
 * own network and mount namespaces, against a fake AWS that keeps state and enforces the
 * synthesized IAM policies (see __tests__/sim/cluster.ts). One cluster lives through the scenarios
 * in order, as a production cluster would:
 *
 *   1. three blank masters boot at once: one cluster per etcd, 3 voters each, CAs and markers once;
 *   8. certificates: chains and names checked with openssl;
 *   2. keys written; master b (the leader) killed: writes go on with 2 of 3; a replacement on a new
 *      address with b's volumes rejoins as the same member, with the data, no membership change;
 *   3. c's volumes replaced by blank ones: c rejoins as a learner, is promoted, has the data;
 *   6. a reboots: nothing re-formatted, no new member;
 *   8. an expired member certificate is renewed, and etcd serves the new one without a restart;
 *   7. a backup, taken by each etcd cluster's leader only;
 *   4. every master lost, two volumes blank while the cluster was created: no new cluster, the logs
 *      say how to restore, the third member's data untouched;
 *   7. the backup restored into three blank volumes brings the data back.
 * Scenario 5 (growing from one master to three) is __tests__/cluster-sim-growth.test.ts.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SimCluster, SimInstance } from "./sim/cluster";
import { scenarioSequence } from "./sim/scenarios";

const NAME = "sim.example.com";
const SPEC = {
  name: NAME,
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  topology: "private",
};
const CLUSTERS = ["main", "events"] as const;

jest.setTimeout(900_000);

let sim: SimCluster;
/** Member ids by etcd cluster and name, as first formed. */
const ids: Record<string, Record<string, string>> = { main: {}, events: {} };
/** Figures for BENCHMARKS.md. */
const measured: Record<string, number> = {};

const openssl = (args: readonly string[]) => execFileSync("openssl", [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const pki = (instance: SimInstance, file: string) => path.join(instance.root, "etc", "kopsform", "pki", "etcd", file);
const running = () => [...sim.instances.keys()].sort();

async function expectMembers(cluster: "main" | "events", askedOf: string, names: readonly string[]): Promise<Record<string, string>> {
  const members = await sim.members(cluster, askedOf);
  expect(members.map((m) => [m.name, m.status, m.learner])).toEqual(names.map((n) => [n, "started", false]));
  return Object.fromEntries(members.map((m) => [m.name, m.id]));
}

const scenario = scenarioSequence();

/** etcd's own account of a member's main data on its volume (read from the file; etcd must be stopped). */
function dbStatus(member: string): { hash: string; revision: number; keys: number } {
  const db = path.join(sim.aws.volumes.get(sim.volumeOf(member, "main"))?.dir as string, "fs", "data", "member", "snap", "db");
  const copy = path.join(sim.dir, `db-${member}-${Date.now()}`);
  fs.copyFileSync(db, copy);
  const status = JSON.parse(execFileSync("etcdctl", ["snapshot", "status", copy, "-w", "json"], { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } })) as {
    hash: number;
    revision: number;
    totalKey: number;
  };
  return { hash: String(status.hash), revision: status.revision, keys: status.totalKey };
}

/** What a member's boot log gained since `before` (its length). */
const logSince = (instance: SimInstance, before: number) => sim.bootLog(instance).slice(before);

beforeAll(async () => {
  sim = await SimCluster.create({ spec: SPEC });
});

afterAll(async () => {
  for (const [what, value] of Object.entries(measured)) {
    console.log(`cluster simulation: ${what}: ${value}`);
  }
  await sim?.stop(!!process.env.KOPSFORM_SIM_KEEP);
});

describe("etcd on the masters' volumes", () => {
  scenario("1. three blank masters booting at once form one cluster per etcd, 3 voters each; CAs and markers are created once", async () => {
    const started = Date.now();
    const masters = await Promise.all(["a", "b", "c"].map((m) => sim.launch(m)));
    measured["first boot of three masters, to both etcd clusters healthy (s)"] = Math.round((Date.now() - started) / 1000);
    for (const m of masters) {
      expect({ member: m.member, result: sim.bootResult(m), log: sim.bootResult(m) === 0 ? "" : sim.bootLog(m) }).toEqual({
        member: m.member,
        result: 0,
        log: "",
      });
    }
    for (const cluster of CLUSTERS) {
      ids[cluster] = await expectMembers(cluster, "a", ["a", "b", "c"]);
      expect(await sim.healthy(cluster, ["a", "b", "c"])).toBe(true);
    }
    // One successful create of each run-time parameter, whoever won the races.
    const creates = (name: string) =>
      sim.aws.calls.filter((c) => c.action === "ssm:PutParameter" && c.detail === `/kopsform/${NAME}/${name}` && c.outcome === "ok");
    for (const name of ["pki/etcd", "etcd/main/created", "etcd/events/created"]) {
      expect({ name, creates: creates(name).length }).toEqual({ name, creates: 1 });
      expect(sim.aws.parameters.get(`/kopsform/${NAME}/${name}`)?.version).toBe(1);
    }
    expect(sim.aws.parameters.get(`/kopsform/${NAME}/pki/etcd`)).toMatchObject({ type: "SecureString", keyId: `alias/kopsform/sim-example-com` });
    // Every master trusts the same CAs: the store's.
    const store = sim.aws.parameters.get(`/kopsform/${NAME}/pki/etcd`)?.value as string;
    for (const m of masters) {
      for (const ca of ["etcd-clients-ca", "etcd-peers-ca-main", "etcd-peers-ca-events"]) {
        expect(store).toContain(fs.readFileSync(pki(m, `${ca}.crt`), "utf8"));
      }
      // No CA key on disk, ever.
      expect(fs.readdirSync(path.dirname(pki(m, "x"))).filter((f) => f.includes("-ca") && f.endsWith(".key"))).toEqual([]);
    }
    // Every call the scripts made was allowed by the policy kopsform synthesized for the masters.
    expect(sim.aws.calls.filter((c) => c.denied)).toEqual([]);
  });

  scenario("8. issues member certificates that chain to the CAs and name the member, its address and localhost", () => {
    for (const m of sim.instances.values()) {
      const ip = m.fake.ip;
      const checks: [string, string, RegExp[]][] = [
        ["server", "etcd-clients-ca", [new RegExp(`DNS:etcd-${m.member}\\.internal\\.sim\\.example\\.com`), new RegExp(`DNS:etcd-events-${m.member}\\.internal`), /DNS:localhost/, /IP Address:127\.0\.0\.1/, new RegExp(`IP Address:${ip.replace(/\./g, "\\.")}\\b`)]],
        ["peer-main", "etcd-peers-ca-main", [new RegExp(`DNS:etcd-${m.member}\\.internal\\.sim\\.example\\.com`), new RegExp(`IP Address:${ip.replace(/\./g, "\\.")}\\b`)]],
        ["peer-events", "etcd-peers-ca-events", [new RegExp(`DNS:etcd-events-${m.member}\\.internal`), new RegExp(`IP Address:${ip.replace(/\./g, "\\.")}\\b`)]],
        ["client", "etcd-clients-ca", []],
      ];
      for (const [cert, ca, sans] of checks) {
        expect(openssl(["verify", "-CAfile", pki(m, `${ca}.crt`), pki(m, `${cert}.crt`)])).toContain(": OK");
        const text = openssl(["x509", "-in", pki(m, `${cert}.crt`), "-noout", "-text"]);
        for (const san of sans) {
          expect(text).toMatch(san);
        }
        // A peer certificate signed by the other cluster's CA is refused.
        if (cert === "peer-main") {
          expect(() => openssl(["verify", "-CAfile", pki(m, "etcd-peers-ca-events.crt"), pki(m, "peer-main.crt")])).toThrow();
        }
        expect((fs.statSync(pki(m, `${cert}.key`)).mode & 0o077) === 0).toBe(true);
      }
    }
  });

  scenario("2. loses the leader b: writes go on with 2 of 3; a replacement on a new address rejoins as the same member with the data", async () => {
    for (let i = 0; i < 20; i++) {
      await sim.put("main", running(), `key-${i}`, `value-${i}`);
    }
    await sim.put("events", running(), "event-0", "happened");
    // Make b the leader of main, so that losing it costs an election (the worst case).
    const leader = (await Promise.all(running().map(async (m) => [m, await sim.status("main", m)] as const))).find(([, s]) => s.leader);
    if (leader?.[0] !== "b") {
      const r = await sim.etcdctl("main", [leader?.[0] as string], ["move-leader", ids.main.b]);
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
    }
    expect((await sim.status("main", "b")).leader).toBe(true);
    const oldIp = sim.instances.get("b")?.fake.ip;

    const writes = sim.writer("main", ["a", "c"], 12);
    await new Promise((r) => setTimeout(r, 3000));
    const killedAt = Date.now();
    await sim.kill("b");
    const times = await writes.done;
    const after = times.filter((t) => t > killedAt);
    expect(after.length).toBeGreaterThan(10);
    const gaps = [killedAt, ...after].slice(1).map((t, i) => t - [killedAt, ...after][i]);
    measured["longest write unavailability after the leader's master was killed (ms)"] = Math.max(...gaps);
    // One election: etcd's election timeout is 1 s by default; a write every 100 ms, each up to 2 s.
    expect(Math.max(...gaps)).toBeLessThan(3000);
    await sim.put("main", ["a", "c"], "while-b-is-gone", "written");

    const started = Date.now();
    const b = await sim.launch("b");
    expect(sim.bootResult(b)).toBe(0);
    expect(b.fake.ip).not.toBe(oldIp);
    expect(sim.bootLog(b)).toContain("etcd-main: data on the volume: starting member b as is");
    for (const cluster of CLUSTERS) {
      // No membership change: the same members with the same ids.
      expect(await expectMembers(cluster, "a", ["a", "b", "c"])).toEqual(ids[cluster]);
    }
    await sim.waitFor("3/3 healthy", 60, 500, () => sim.healthy("main", ["a", "b", "c"]));
    measured["replacement master's boot to a healthy 3/3 cluster (s)"] = Math.round((Date.now() - started) / 1000);
    expect(await sim.localGet("main", "b", "key-7")).toBe("value-7");
    expect(await sim.localGet("main", "b", "while-b-is-gone")).toBe("written");
    expect(await sim.localGet("events", "b", "event-0")).toBe("happened");
    // The others reach b by name at its new address (their hosts timer, every 15 s).
    await sim.waitFor("b's new address on a and c", 60, 1000, () =>
      ["a", "c"].every((m) => new RegExp(`^${b.fake.ip.replace(/\./g, "\\.")}\\tetcd-b\\.internal\\.${NAME.replace(/\./g, "\\.")} `, "m").test(sim.hosts(m))),
    );
  });

  scenario("3. c's volumes replaced by blank ones: c rejoins as a learner, is promoted, and has the data", async () => {
    await sim.kill("c");
    await sim.waitFor("c's volumes to be released", 40, 250, () =>
      CLUSTERS.every((cl) => sim.aws.volumes.get(sim.volumeOf("c", cl))?.state === "available"),
    );
    for (const cluster of CLUSTERS) {
      sim.blankVolume("c", cluster);
    }
    const c = await sim.launch("c");
    expect({ result: sim.bootResult(c), log: sim.bootResult(c) === 0 ? "" : sim.bootLog(c) }).toEqual({ result: 0, log: "" });
    const log = sim.bootLog(c);
    expect(log).toContain("etcd-main: member " + ids.main.c + " (c) ran before and this volume is blank: removing it, then adding this member as a learner");
    expect(log).toMatch(/etcd-main: promoted c \([0-9a-f]+\) to a voting member/);
    expect(log).toContain("is blank: mkfs.ext4");
    for (const cluster of CLUSTERS) {
      const now = await expectMembers(cluster, "a", ["a", "b", "c"]);
      expect(now.a).toBe(ids[cluster].a);
      expect(now.b).toBe(ids[cluster].b);
      expect(now.c).not.toBe(ids[cluster].c);
      ids[cluster] = now;
    }
    expect(await sim.localGet("main", "c", "key-19")).toBe("value-19");
    expect(await sim.localGet("events", "c", "event-0")).toBe("happened");
  });

  scenario("6. a reboot runs the whole boot again: nothing re-formatted, no new member, nothing added twice", async () => {
    const before = sim.bootLog(sim.instances.get("a") as SimInstance).length;
    const a = await sim.reboot("a");
    expect(sim.bootResult(a)).toBe(0);
    const log = logSince(a, before);
    expect(log).not.toContain("mkfs");
    expect(log).not.toContain("attaching vol-");
    expect(log).toMatch(/etcd-main: .* has a filesystem \(ext4/);
    expect(log).toContain("etcd-main: data on the volume: starting member a as is");
    expect(log).toContain("etcd-events: data on the volume: starting member a as is");
    expect(log).not.toContain("created etcd's certificate authorities");
    for (const cluster of CLUSTERS) {
      expect(await expectMembers(cluster, "b", ["a", "b", "c"])).toEqual(ids[cluster]);
    }
    const fstab = fs.readFileSync(path.join(a.root, "etc", "fstab"), "utf8");
    expect(fstab.split("\n").filter((l) => l.includes("/mnt/etcd/"))).toHaveLength(2);
    expect(await sim.localGet("main", "a", "key-3")).toBe("value-3");
  });

  scenario("8. renews an expired member certificate, and etcd serves the new one without a restart", async () => {
    const a = sim.instances.get("a") as SimInstance;
    // An expired certificate of the right CA, in place of the server certificate.
    const dir = path.join(sim.dir, "expired");
    fs.mkdirSync(path.join(dir, "newcerts"), { recursive: true });
    fs.writeFileSync(path.join(dir, "index.txt"), "");
    fs.writeFileSync(path.join(dir, "ca.cnf"), `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\nnew_certs_dir=${dir}/newcerts\nserial=${dir}/serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n`);
    fs.writeFileSync(path.join(dir, "serial"), "1000\n");
    const store = sim.aws.parameters.get(`/kopsform/${NAME}/pki/etcd`)?.value as string;
    const clientsCa = store.split("# etcd-clients-ca\n")[1].split("\n# ")[0];
    fs.writeFileSync(path.join(dir, "ca.crt"), `${/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(clientsCa)?.[0]}\n`);
    fs.writeFileSync(path.join(dir, "ca.key"), `${/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(clientsCa)?.[0]}\n`);
    openssl(["req", "-new", "-key", pki(a, "server.key"), "-subj", "/CN=etcd-a", "-out", path.join(dir, "server.csr")]);
    openssl(["ca", "-batch", "-config", path.join(dir, "ca.cnf"), "-cert", path.join(dir, "ca.crt"), "-keyfile", path.join(dir, "ca.key"), "-in", path.join(dir, "server.csr"), "-startdate", "20240101000000Z", "-enddate", "20240102000000Z", "-out", path.join(dir, "server.crt"), "-notext"]);
    fs.copyFileSync(path.join(dir, "server.crt"), pki(a, "server.crt"));
    expect(() => openssl(["x509", "-in", pki(a, "server.crt"), "-noout", "-checkend", "0"])).toThrow();

    const r = await sim.run(a, ["systemctl", "start", "kopsform-maintenance.service"]);
    expect(r.code).toBe(0);
    expect(openssl(["x509", "-in", pki(a, "server.crt"), "-noout", "-checkend", String(300 * 86400)])).toContain("will not expire");
    expect(openssl(["verify", "-CAfile", pki(a, "etcd-clients-ca.crt"), pki(a, "server.crt")])).toContain(": OK");
    const serial = openssl(["x509", "-in", pki(a, "server.crt"), "-noout", "-serial"]).trim();
    const served = execFileSync("sh", ["-c", `openssl s_client -connect ${a.fake.ip}:4001 -cert "$1" -key "$2" </dev/null 2>/dev/null | openssl x509 -noout -serial`, "s", pki(a, "client.crt"), pki(a, "client.key")], { encoding: "utf8" }).trim();
    expect(served).toBe(serial);
    expect(await sim.healthy("main", ["a", "b", "c"])).toBe(true);
  });

  scenario("7. backs up each etcd cluster by its leader only, to the cluster's bucket", async () => {
    await sim.put("main", running(), "backed-up", "yes");
    await sim.put("events", running(), "backed-up-event", "yes");
    // The timers would back up on their own (5 minutes after boot, a loaded machine gets there):
    // stopped, so that what is counted below is what one start on every master does.
    for (const m of running()) {
      const r = await sim.run(sim.instances.get(m) as SimInstance, ["systemctl", "stop", ...CLUSTERS.map((c) => `kopsform-etcd-backup@${c}.timer`)]);
      expect(r.code).toBe(0);
    }
    for (const cluster of CLUSTERS) {
      const prefix = `${sim.bucket}/${NAME}/backups/etcd/${cluster}/`;
      const before = new Set([...sim.aws.objects.keys()].filter((k) => k.startsWith(prefix)));
      const logsBefore = running().map((m) => sim.bootLog(sim.instances.get(m) as SimInstance));
      await Promise.all(running().map((m) => sim.run(sim.instances.get(m) as SimInstance, ["systemctl", "start", `kopsform-etcd-backup@${cluster}.service`])));
      const keys = [...sim.aws.objects.keys()].filter((k) => k.startsWith(prefix) && !before.has(k)).sort();
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(new RegExp(`/backups/etcd/${cluster}/\\d{8}T\\d{6}Z/snapshot\\.db$`));
      expect(keys[1]).toBe(`${keys[0]}.sha256`);
      // Encrypted with the cluster's key, through S3 (the bucket's default).
      expect(sim.aws.objects.get(keys[0])?.kmsKey).toMatch(/^arn:aws:kms:/);
      const snapshot = sim.aws.objects.get(keys[0])?.body as Buffer;
      const sha = require("crypto").createHash("sha256").update(snapshot).digest("hex");
      expect(sim.aws.objects.get(keys[1])?.body.toString()).toBe(`${sha}  snapshot.db\n`);
      const logs = running().map((m, i) => sim.bootLog(sim.instances.get(m) as SimInstance).slice(logsBefore[i].length));
      expect(logs.filter((l) => l.includes(`etcd-${cluster}: backed up to`))).toHaveLength(1);
      expect(logs.filter((l) => l.includes(`etcd-${cluster}: this member is not the leader`))).toHaveLength(2);
    }
    expect(sim.aws.calls.filter((c) => c.denied)).toEqual([]);
  });

  scenario("4. with every master lost and two volumes blank, forms no new cluster, says how to restore, leaves the third member's data alone", async () => {
    for (const m of running()) {
      await sim.kill(m);
    }
    await sim.waitFor("the volumes to be released", 40, 250, () => [...sim.aws.volumes.values()].every((v) => v.state === "available"));
    const before = dbStatus("a");
    for (const m of ["b", "c"]) {
      for (const cluster of CLUSTERS) {
        sim.blankVolume(m, cluster);
      }
    }
    const short = { ETCD_JOIN_ATTEMPTS: "4", ETCD_QUORUM_WAIT_ATTEMPTS: "5" };
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((m) => sim.launch(m, short)));
    for (const m of [b, c]) {
      expect(sim.bootResult(m)).toBe(1);
      const log = sim.bootLog(m);
      expect(log).toContain("Refusing to start a new etcd-main cluster: it would lose every write of the old one");
      expect(log).toContain("/opt/kopsform/bin/kopsform-etcd-restore main --list");
      expect(log).not.toContain("bootstrapping member");
      // etcd never ran on the blank volumes.
      const volume = sim.aws.volumes.get(sim.volumeOf(m.member, "main"));
      expect(fs.existsSync(path.join(volume?.dir as string, "fs", "data", "member"))).toBe(false);
    }
    // a started on its data, has no quorum (etcd serves no client then), and keeps its data.
    expect(sim.bootResult(a)).toBe(1);
    expect(sim.bootLog(a)).toContain("etcd-main: data on the volume: starting member a as is");
    expect(sim.bootLog(a)).toContain("etcd-main: member a runs but has no quorum");
    await sim.kill("a");
    expect(dbStatus("a")).toEqual(before);
    expect(before.keys).toBeGreaterThan(20);
  });

  scenario("7. restores the backup into three blank volumes: the data is back, every master boots", async () => {
    await sim.waitFor("a's volumes to be released", 40, 250, () => CLUSTERS.every((cl) => sim.aws.volumes.get(sim.volumeOf("a", cl))?.state === "available"));
    for (const cluster of CLUSTERS) {
      sim.blankVolume("a", cluster);
    }
    const a = await sim.launch("a", { ETCD_JOIN_ATTEMPTS: "4", ETCD_QUORUM_WAIT_ATTEMPTS: "5" });
    expect(sim.bootResult(a)).toBe(1);
    expect(sim.bootLog(a)).toContain("Refusing to start a new etcd-main cluster");

    const masters = running().map((m) => sim.instances.get(m) as SimInstance);
    for (const cluster of CLUSTERS) {
      const list = await sim.run(a, [path.join(a.root, "opt/kopsform/bin/kopsform-etcd-restore"), cluster, "--list"]);
      expect(list.code).toBe(0);
      const backups = list.stdout.trim().split("\n");
      expect(backups).toHaveLength(1);
      const restores = await Promise.all(masters.map((m) => sim.run(m, [path.join(m.root, "opt/kopsform/bin/kopsform-etcd-restore"), cluster, backups[0], "--yes"])));
      expect(restores.map((r) => [r.code, r.code === 0 ? "" : r.stderr])).toEqual(masters.map(() => [0, ""]));
    }
    for (const m of masters) {
      expect(await sim.waitBoot(m)).toBe(0);
    }
    for (const cluster of CLUSTERS) {
      const members = await expectMembers(cluster, "a", ["a", "b", "c"]);
      expect(Object.values(members).some((id) => Object.values(ids[cluster]).includes(id))).toBe(false);
    }
    expect(await sim.localGet("main", "b", "backed-up")).toBe("yes");
    expect(await sim.localGet("main", "c", "key-11")).toBe("value-11");
    expect(await sim.localGet("events", "a", "backed-up-event")).toBe("yes");
    await sim.put("main", running(), "after-restore", "writable");
    expect(sim.aws.calls.filter((c) => c.denied)).toEqual([]);
  });
});
