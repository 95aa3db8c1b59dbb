/**
 * `kopsform validate cluster`: the verdict and its exit code against a fake cluster that keeps state
 * (AWS groups through aws-sdk-client-mock, a Kubernetes API on 127.0.0.1): healthy 0, degraded 3
 * (one master down, etcd quorum kept), broken 4 (no quorum, or no API).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kopsform } from "./helpers/cli";
import { FakeCluster } from "./helpers/fake-cluster";
import { OpensslCa, makeCa } from "./helpers/openssl-pki";
import { SEED_1_SPEC, writeSpecs } from "./helpers/specs";

const NAME = SEED_1_SPEC.name;
let work: string;
let ca: OpensslCa;
let cluster: FakeCluster;
let server: string;
let configDir: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-validate-"));
  ca = makeCa(path.join(work, "ca"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

beforeEach(async () => {
  cluster = new FakeCluster(NAME, ca);
  SEED_1_SPEC.zones.forEach((z) => cluster.addGroup({ name: `master-${z}`, role: "master", zones: [z], min: 1, max: 1, desired: 1 }));
  cluster.addGroup({ name: "nodes", role: "node", zones: SEED_1_SPEC.zones, min: 3, max: 3, desired: 3 });
  cluster.mockAws();
  server = await cluster.serve();
  configDir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "specs-")));
});
afterEach(() => cluster.stop());

function validate(...args: string[]) {
  return kopsform(["validate", "cluster", NAME, "--server", server, "--config-dir", configDir, "--poll-interval", "20ms", ...args]);
}
const master = (zone: string) => cluster.group(`master-${zone}`).instances[0];

it("healthy: exit 0, and a report read at a glance", async () => {
  const r = await validate();
  expect(r.code).toBe(0);
  const lines = r.stdout.split("\n");
  expect(lines[0]).toBe("Cluster hacluster.example.com: HEALTHY (exit 0)");
  expect(lines[1]).toMatch(/^ {2}control plane: 3\/3 masters healthy, etcd quorum 2; API ready at https:\/\/127\.0\.0\.1:\d+; etcd ok$/);
  expect(r.stdout).toMatch(/^ {2}NAME\s+ROLE\s+MIN\s+DESIRED\s+MAX\s+IN SERVICE\s+UP TO DATE$/m);
  expect(r.stdout).toMatch(/^ {2}master-us-west-2a\s+master\s+1\s+1\s+1\s+1\s+1$/m);
  expect(r.stdout).toMatch(/^ {2}nodes\s+node\s+3\s+3\s+3\s+3\s+3$/m);
  expect(r.stdout.match(/^ {2}ip-\S+\s+(master|node)\s+True\s/gm)).toHaveLength(6);
  expect(r.stdout).toMatch(/Your cluster hacluster.example.com is ready$/);
});

it("degraded: one master down keeps etcd's quorum: exit 3, naming the master", async () => {
  cluster.crash(master("us-west-2b"));
  const r = await validate();
  expect(r.code).toBe(3);
  expect(r.stdout).toMatch(/^Cluster hacluster.example.com: DEGRADED \(exit 3\)$/m);
  expect(r.stdout).toMatch(/control plane: 2\/3 masters healthy/);
  expect(r.stdout).toMatch(/^ {2}masters: 2 of 3 healthy \(etcd quorum of 2 kept; one more loss breaks it\)$/m);
  expect(r.stdout).toMatch(/^ {2}master-us-west-2b: Node \S+ not Ready$/m);
});

it("degraded: a node not Ready, or a node group short of an instance", async () => {
  cluster.crash(cluster.group("nodes").instances[1]);
  const r = await validate();
  expect(r.code).toBe(3);
  expect(r.stdout).toMatch(/^ {2}node \S+ \(nodes\): not Ready$/m);
});

it("broken: two masters of three down, etcd without quorum: exit 4", async () => {
  cluster.crash(master("us-west-2b"));
  cluster.crash(master("us-west-2c"));
  const r = await validate();
  expect(r.code).toBe(4);
  expect(r.stdout).toMatch(/^Cluster hacluster.example.com: BROKEN \(exit 4\)$/m);
  expect(r.stdout).toMatch(/etcd FAILING/);
  expect(r.stdout).toMatch(/^ {2}etcd: the API server's etcd, etcd-readiness check fails: etcd has no quorum or does not answer$/m);
  expect(r.stdout).toMatch(/^ {2}masters: 0 of 3 healthy; etcd needs 2 for quorum$/m);
});

it("broken: no API server answers: exit 4, saying the API does not answer", async () => {
  for (const z of SEED_1_SPEC.zones) cluster.crash(master(z));
  const r = await validate("--output", "json");
  expect(r.code).toBe(4);
  const report = JSON.parse(r.stdout);
  expect(report).toMatchObject({ verdict: "broken", exitCode: 4, api: { reachable: false } });
  expect(report.problems[0]).toMatch(/^API: the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ does not answer \(ECONNRESET\)$/);
});

it("--output json: the whole report for scripts", async () => {
  cluster.crash(master("us-west-2a"));
  const r = await validate("-o", "json");
  expect(r.code).toBe(3);
  const report = JSON.parse(r.stdout);
  expect(report.verdict).toBe("degraded");
  expect(report.masters).toMatchObject({ expected: 3, healthy: 2, quorum: 2 });
  expect(report.masters.members.find((m: { group: string }) => m.group === "master-us-west-2a")).toMatchObject({ healthy: false, nodeReady: false });
  expect(report.groups.map((g: { name: string }) => g.name)).toEqual(["master-us-west-2a", "master-us-west-2b", "master-us-west-2c", "nodes"]);
  expect(report.api.readyz.checks).toEqual(expect.arrayContaining([{ name: "etcd", ok: true }]));
});

it("--wait: checks again until healthy, within the bound", async () => {
  const g = cluster.group("nodes");
  g.max = 4;
  cluster.timings = { ...cluster.timings, bootMs: 2500 };
  cluster.setDesired({ AutoScalingGroupName: g.asgName, DesiredCapacity: 4 }); // a new node boots
  const r = await validate("--wait", "30s");
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/hacluster.example.com: degraded \(nodes: 3 of 4 instances in service\); checking again/);

  cluster.crash(master("us-west-2a"));
  const began = Date.now();
  const still = await validate("--wait", "300ms");
  expect(still.code).toBe(3);
  expect(Date.now() - began).toBeLessThan(5000);
});
