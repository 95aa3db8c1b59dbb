/**
 * Scenario 5 of the cluster simulation (see __tests__/cluster-sim-etcd.test.ts and
 * __tests__/sim/cluster.ts): the seed's migration from one master to three. The spec grows from one
 * master zone to three; Terraform creates b's and c's volumes and updates a's tags in place; the new
 * masters join a's etcd clusters as learners, one at a time, and are promoted, with a's data.
 */
import { SimCluster, SimInstance } from "./sim/cluster";

const ONE = {
  name: "grow.example.com",
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterZones: ["us-west-2a"],
  topology: "private",
};
const THREE = { ...ONE, masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"] };

jest.setTimeout(900_000);

let sim: SimCluster;

beforeAll(async () => {
  sim = await SimCluster.create({ spec: ONE });
});

afterAll(async () => {
  await sim?.stop(!!process.env.KOPSFORM_SIM_KEEP);
});

/** The time of the first log line of `instance` matching `pattern`. */
function when(instance: SimInstance, pattern: RegExp): number {
  const line = sim.bootLog(instance).split("\n").find((l) => pattern.test(l));
  if (!line) {
    throw new Error(`${instance.member}'s log has no line matching ${pattern}:\n${sim.bootLog(instance)}`);
  }
  return Date.parse(line.slice(0, 24).replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
}

it("5. grows from one master to three: b and c join a's clusters as learners, one at a time, with a's data", async () => {
  const a = await sim.launch("a");
  expect(sim.bootResult(a)).toBe(0);
  for (const cluster of ["main", "events"] as const) {
    expect((await sim.members(cluster, "a")).map((m) => m.name)).toEqual(["a"]);
  }
  const idA = (await sim.members("main", "a"))[0].id;
  for (let i = 0; i < 10; i++) {
    await sim.put("main", ["a"], `before-growth-${i}`, String(i));
  }
  await sim.put("events", ["a"], "event", "before-growth");

  sim.apply(THREE);
  // a's volumes now list every member; a keeps running, untouched.
  expect(sim.aws.volumes.get(sim.volumeOf("a", "main"))?.tags["k8s.io/etcd/main"]).toBe("a/a,b,c");
  const [b, c] = await Promise.all(["b", "c"].map((m) => sim.launch(m)));
  for (const m of [b, c]) {
    expect({ member: m.member, result: sim.bootResult(m), log: sim.bootResult(m) === 0 ? "" : sim.bootLog(m) }).toEqual({ member: m.member, result: 0, log: "" });
    expect(sim.bootLog(m)).toMatch(/etcd-main: added [bc] as a learner/);
    expect(sim.bootLog(m)).toMatch(/etcd-main: promoted [bc] \([0-9a-f]+\) to a voting member/);
  }
  // One learner at a time: the second joins only after the first is promoted.
  const [first, second] = [b, c].sort((x, y) => when(x, /etcd-main: added . as a learner/) - when(y, /etcd-main: added . as a learner/));
  expect(when(second, /etcd-main: added . as a learner/)).toBeGreaterThanOrEqual(when(first, /etcd-main: promoted/));
  for (const cluster of ["main", "events"] as const) {
    const members = await sim.members(cluster, "b");
    expect(members.map((m) => [m.name, m.status, m.learner])).toEqual([
      ["a", "started", false],
      ["b", "started", false],
      ["c", "started", false],
    ]);
  }
  expect((await sim.members("main", "c")).find((m) => m.name === "a")?.id).toBe(idA);
  expect(await sim.healthy("main", ["a", "b", "c"])).toBe(true);
  for (const m of ["b", "c"]) {
    expect(await sim.localGet("main", m, "before-growth-9")).toBe("9");
    expect(await sim.localGet("events", m, "event")).toBe("before-growth");
  }
  // The new members formed no cluster of their own: one marker each, written when a came up.
  expect(sim.aws.calls.filter((x) => x.action === "ssm:PutParameter" && x.detail.endsWith("/etcd/main/created") && x.outcome === "ok")).toHaveLength(1);
  expect(sim.aws.calls.filter((x) => x.denied)).toEqual([]);
});
