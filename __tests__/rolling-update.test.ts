/**
 * `kopsform rolling-update cluster`: against a fake cluster that keeps state (AWS groups and
 * instances through aws-sdk-client-mock, a Kubernetes API on 127.0.0.1 with mutual TLS), masters are
 * replaced strictly one at a time with health waited for in between, a replacement that never becomes
 * healthy stops the roll before the next master, and a drain honours a PodDisruptionBudget's refusal
 * within its bound.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { SURGE_TAG } from "../cli/rolling-update";
import { kopsform } from "./helpers/cli";
import { FakeCluster } from "./helpers/fake-cluster";
import { OpensslCa, makeCa } from "./helpers/openssl-pki";
import { SEED_1_SPEC, writeSpecs } from "./helpers/specs";

const NAME = SEED_1_SPEC.name;
const ZONES = SEED_1_SPEC.zones;
const MASTERS = ZONES.map((z) => `master-${z}`);

let work: string;
let ca: OpensslCa;
let cluster: FakeCluster;
let server: string;
let configDir: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-roll-"));
  ca = makeCa(path.join(work, "ca"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The seed's first cluster: three masters, three nodes, every group on launch template version 1. */
async function seedCluster(): Promise<void> {
  cluster = new FakeCluster(NAME, ca);
  ZONES.forEach((z) => cluster.addGroup({ name: `master-${z}`, role: "master", zones: [z], min: 1, max: 1, desired: 1 }));
  cluster.addGroup({ name: "nodes", role: "node", zones: ZONES, min: 3, max: 3, desired: 3 });
  cluster.mockAws();
  server = await cluster.serve();
  configDir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "specs-")));
}

afterEach(async () => {
  await cluster.stop();
});

/** `kopsform rolling-update cluster NAME ...` against the fake, with short waits. */
function roll(...args: string[]) {
  return kopsform(["rolling-update", "cluster", NAME, "--server", server, "--config-dir", configDir, "--poll-interval", "20ms", ...args]);
}

describe("the plan (without --yes)", () => {
  beforeEach(seedCluster);

  it("lists what needs an update, as kops does, and replaces nothing", async () => {
    cluster.bumpVersion("master-us-west-2b");
    const r = await roll();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+NEEDUPDATE\s+READY\s+MIN\s+TARGET\s+MAX$/m);
    expect(r.stdout).toMatch(/^master-us-west-2a\s+Ready\s+0\s+1\s+1\s+1\s+1$/m);
    expect(r.stdout).toMatch(/^master-us-west-2b\s+NeedsUpdate\s+1\s+0\s+1\s+1\s+1$/m);
    expect(r.stdout).toMatch(/^nodes\s+Ready\s+0\s+3\s+3\s+3\s+3$/m);
    expect(r.stdout).toMatch(/Must specify --yes to rolling-update\.$/);
    expect(cluster.eventsOf("terminate")).toEqual([]);

    const json = await roll("--output", "json", "--force", "--instance-group", "nodes");
    const plan = JSON.parse(json.stdout);
    expect(plan.applied).toBe(false);
    expect(plan.plan).toEqual([expect.objectContaining({ name: "nodes", status: "NeedsUpdate", needUpdate: expect.arrayContaining([expect.stringMatching(/^i-/)]) })]);
    expect(plan.plan[0].needUpdate).toHaveLength(3);
  });

  it("says when nothing needs an update, and refuses an unknown instance group naming the known ones", async () => {
    const r = await roll("--yes");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No rolling-update required\./);
    const bad = await roll("--instance-group", "master-us-west-2d");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--instance-group: master-us-west-2d is not an instance group of hacluster.example.com; it has master-us-west-2a, master-us-west-2b, master-us-west-2c, nodes\./);
  });
});

describe("masters", () => {
  beforeEach(seedCluster);

  it("replaces three masters strictly one at a time, each waited for until the control plane and etcd are healthy", async () => {
    MASTERS.forEach((m) => cluster.bumpVersion(m));
    const old = MASTERS.map((m) => cluster.group(m).instances[0]);
    const r = await roll("--yes", "--validation-timeout", "20s");
    expect(r.stderr).not.toMatch(/stopped/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 instances replaced/);

    const terminations = cluster.eventsOf("terminate");
    expect(terminations.map((e) => e.subject)).toEqual(old);
    // Each master went only while all three were healthy, and the next only after its replacement
    // had joined and all three were healthy again.
    expect(terminations.map((e) => e.healthyMasters)).toEqual([3, 3, 3]);
    const joins = cluster.eventsOf("joined").filter((e) => e.t > 0);
    for (let i = 0; i < terminations.length; i++) {
      const replacementJoined = joins.find((j) => j.t >= terminations[i].t);
      expect(replacementJoined).toBeDefined();
      if (i + 1 < terminations.length) {
        expect(replacementJoined!.t).toBeLessThanOrEqual(terminations[i + 1].t);
      }
    }
    // Never two masters down at once.
    expect(Math.min(...cluster.events.filter((e) => e.t >= terminations[0].t).map((e) => e.healthyMasters))).toBe(2);
    // Every master runs the group's version now, and the old Nodes are gone.
    for (const m of MASTERS) {
      const g = cluster.group(m);
      expect(g.instances).toHaveLength(1);
      expect(cluster.instances.get(g.instances[0])!.launchTemplateVersion).toBe("2");
    }
    expect(cluster.eventsOf("deleteNode")).toHaveLength(3);
    // Progress said what it waited for.
    expect(r.stderr).toMatch(/master-us-west-2a: replacing i-\w+ \(launch template version 1; the group's is 2\)/);
    expect(r.stderr).toMatch(/in service, Node \S+ Ready, control plane Ready, readyz ok \(etcd ok\), all 3 masters healthy/);
  });

  it("stops when a replacement never becomes healthy, before touching the next master, and says how to go on", async () => {
    MASTERS.forEach((m) => cluster.bumpVersion(m));
    cluster.group("master-us-west-2b").breakReplacements = true;
    const third = cluster.group("master-us-west-2c").instances[0];
    const r = await roll("--yes", "--validation-timeout", "1s");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^rolling-update stopped at master-us-west-2b: the replacement of i-\w+ did not become healthy within --validation-timeout 1s: .*not reached within 1s \(last seen: Node \S+ Ready; not Ready yet: kube-apiserver, kube-controller-manager, kube-scheduler\)\.$/m,
    );
    expect(r.stderr).toMatch(/No other master was touched\..*boot log: \/var\/log\/kopsform\/boot\.log/);
    expect(r.stderr).toMatch(/rerun kopsform rolling-update cluster hacluster.example.com --yes to go on from here/);
    expect(cluster.eventsOf("terminate")).toHaveLength(2);
    expect(cluster.instances.get(third)!.lifecycle).toBe("InService");

    // Rerun: master-us-west-2b's group is up to date (its new instance is just not healthy), and the
    // roll refuses to take master-us-west-2c while it is sick.
    const again = await roll("--yes", "--validation-timeout", "1s");
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/rolling-update stopped before master-us-west-2c: master-us-west-2b is not healthy; replacing i-\w+ now could cost etcd its quorum \(2 of 3 needed\)\. Nothing was done to master-us-west-2c\./);
    expect(cluster.instances.get(third)!.lifecycle).toBe("InService");
  });

  it("refuses to start on a broken cluster", async () => {
    cluster.bumpVersion("master-us-west-2a");
    cluster.crash(cluster.group("master-us-west-2b").instances[0]);
    cluster.crash(cluster.group("master-us-west-2c").instances[0]);
    const r = await roll("--yes");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^rolling-update: hacluster.example.com is broken \(.*\); nothing was replaced/);
    expect(cluster.eventsOf("terminate")).toEqual([]);
  });
});

describe("nodes", () => {
  beforeEach(seedCluster);

  it("drains each node (evictions honouring budgets) before terminating it; the budget's refusal is retried until the replacement pod is up", async () => {
    cluster.bumpVersion("nodes");
    // Two replicas, at least one available: evicting both at once is refused until one is back.
    const nodes = cluster.group("nodes").instances.map((id) => cluster.nodeOf(id)!);
    cluster.addReplicaSet("default", "web", 2, { app: "web" }, [nodes[0], nodes[0]]);
    cluster.addPdb({ namespace: "default", name: "web", selector: { app: "web" }, minAvailable: 1 });
    const r = await roll("--yes", "--validation-timeout", "20s", "--drain-timeout", "20s");
    expect(r.stderr).not.toMatch(/stopped/);
    expect(r.code).toBe(0);
    expect(cluster.eventsOf("evictionRefused").length).toBeGreaterThan(0);
    expect(cluster.eventsOf("evicted").map((e) => e.subject)).toEqual(expect.arrayContaining(["default/web-0", "default/web-1"]));
    // Each node was cordoned and drained before its instance was terminated.
    for (const term of cluster.eventsOf("terminate")) {
      const cordon = cluster.eventsOf("cordon").find((c) => c.t <= term.t);
      expect(cordon).toBeDefined();
    }
    // Every eviction from a node came before that node's instance was terminated.
    for (const term of cluster.eventsOf("terminate")) {
      const fromIt = cluster.eventsOf("evicted").filter((e) => e.node === term.node);
      expect(fromIt.every((e) => e.t <= term.t)).toBe(true);
    }
    expect(cluster.eventsOf("evicted").filter((e) => e.node === nodes[0]).map((e) => e.subject).sort()).toEqual(["default/web-0", "default/web-1"]);
    const live = cluster.group("nodes").instances.map((id) => cluster.instances.get(id)!).filter((i) => i.lifecycle !== "Terminating");
    expect(live.map((i) => i.launchTemplateVersion)).toEqual(["2", "2", "2"]);
  });

  it("stops when a budget keeps refusing past --drain-timeout: the node stays cordoned, its instance is not terminated", async () => {
    cluster.bumpVersion("nodes");
    const first = cluster.group("nodes").instances[0];
    const node = cluster.nodeOf(first)!;
    cluster.addReplicaSet("default", "db", 1, { app: "db" }, [node]);
    cluster.addPdb({ namespace: "default", name: "db", selector: { app: "db" }, minAvailable: 1 });
    const began = Date.now();
    const r = await roll("--yes", "--instance-group", "nodes", "--drain-timeout", "500ms");
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /rolling-update stopped at nodes: draining \S+ did not finish within --drain-timeout 500ms: .*1 pod left: default\/db-0 \(eviction refused: Cannot evict pod as it would violate the pod's disruption budget\.\)/,
    );
    expect(r.stderr).toMatch(new RegExp(`${first} was not terminated; ${node.replace(/\./g, "\\.")} stays cordoned \\(kubectl uncordon`));
    expect(cluster.eventsOf("terminate")).toEqual([]);
    expect(cluster.nodes.get(node)!.unschedulable).toBe(true);
    expect(cluster.pods.has("default/db-0")).toBe(true);
  });

  it("surges where the group's maximum allows it: a new node first, then the old one drained and terminated with the capacity lowered back", async () => {
    const g = cluster.group("nodes");
    g.max = 4;
    cluster.bumpVersion("nodes");
    const r = await roll("--yes", "--validation-timeout", "20s", "--drain-timeout", "20s", "--output", "json");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.replaced).toHaveLength(3);
    expect(cluster.eventsOf("setDesired").map((e) => e.subject)).toEqual(["nodes=4", "nodes=4", "nodes=4"]);
    // Each surge instance joined before the old one was terminated.
    const terms = cluster.eventsOf("terminate");
    const joins = cluster.eventsOf("joined").filter((e) => e.t > 0);
    terms.forEach((t, i) => expect(joins[i].t).toBeLessThanOrEqual(t.t));
    expect(g.desired).toBe(3);
    expect(g.tags[SURGE_TAG]).toBeUndefined();
    expect(g.instances.filter((id) => cluster.instances.get(id)!.lifecycle !== "Terminating")).toHaveLength(3);
  });
});

describe("the upgrade record", () => {
  beforeEach(seedCluster);

  it("moves deployedKubernetesVersion forward in the spec once every Node runs the new version, keeping the file's comments", async () => {
    const file = path.join(configDir, `${NAME}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("kubernetesVersion: 1.33.5", "kubernetesVersion: 1.34.1"));
    cluster.kubeletVersion = "v1.34.1";
    for (const g of cluster.groups.values()) cluster.bumpVersion(g.name);
    const r = await roll("--yes", "--validation-timeout", "20s", "--drain-timeout", "20s");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/deployedKubernetesVersion 1\.33\.5 -> 1\.34\.1 \(every Node runs v1\.34\.1\); commit this change\./);
    const text = fs.readFileSync(file, "utf8");
    expect(text.startsWith("# committed spec\n")).toBe(true);
    expect(YAML.parse(text).deployedKubernetesVersion).toBe("1.34.1");
  });

  it("leaves the record alone while some Node still runs the old version", async () => {
    const file = path.join(configDir, `${NAME}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("kubernetesVersion: 1.33.5", "kubernetesVersion: 1.34.1"));
    cluster.kubeletVersion = "v1.34.1";
    cluster.bumpVersion("master-us-west-2a");
    const r = await roll("--yes", "--validation-timeout", "20s");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: deployedKubernetesVersion stays 1\.33\.5: the Nodes run v1\.33\.5, v1\.34\.1, not all 1\.34\.1\./);
    expect(YAML.parse(fs.readFileSync(file, "utf8")).deployedKubernetesVersion).toBe("1.33.5");
  });
});
