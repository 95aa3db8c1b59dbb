/**
 * The etcd volumes and the record of members: each member's two volumes under stable names, the
 * retired members' volumes forgotten through `removed` blocks (JSON and HCL, from the real synthesis),
 * and the check against a previous synthesis.
 */
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { ETCD_CLUSTERS, etcdVolumeName } from "../modules/etcd-volumes";
import { RemovedBlock } from "../modules/removed-block";
import { previousEtcdMembers, removedMasterProblems } from "../stacks/continuity";
import { SEED_1, resources, synthToDir, synthWritten, tempDir, validSpec } from "./helpers/cluster";

const SLUG = "hacluster-example-com";
const RETIRED = { ...SEED_1, masterZones: ["us-west-2a"], masterCount: 1, etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"] };

describe("etcd volume names", () => {
  it("are kops's, per member and etcd cluster", () => {
    expect(ETCD_CLUSTERS.map((etcd) => etcdVolumeName("a-2", etcd, "hacluster.example.com"))).toEqual([
      `a-2-etcd-main-${SLUG}`,
      `a-2-etcd-events-${SLUG}`,
    ]);
  });
});

describe("retired members", () => {
  it("get a removed block with destroy = false for each of their volumes, and no volume", () => {
    const json = synthWritten(RETIRED);
    expect(json.removed).toEqual(
      ["b", "c"].flatMap((m) => ["main", "events"].map((e) => ({ from: `aws_ebs_volume.${m}-etcd-${e}-${SLUG}`, lifecycle: { destroy: false } }))),
    );
    expect(Object.keys(resources(json, "aws_ebs_volume")).sort()).toEqual([`a-etcd-events-${SLUG}`, `a-etcd-main-${SLUG}`]);
  });

  it("leave the remaining volumes' member lists", () => {
    const volumes = resources(synthWritten({ ...SEED_1, masterCount: 5, etcdMembers: ["a", "b", "c", "a-2", "b-2"], retiredEtcdMembers: ["c-2"] }), "aws_ebs_volume");
    expect((volumes[`b-2-etcd-main-${SLUG}`].tags as Record<string, string>)["k8s.io/etcd/main"]).toBe("b-2/a,b,c,a-2,b-2");
    expect(JSON.stringify(volumes)).not.toContain("c-2");
  });

  it("add nothing when no member is retired", () => {
    expect(synthWritten(SEED_1).removed).toBeUndefined();
  });

  it("are written into the HCL output too, where cdktf's printer would drop them", async () => {
    const dir = tempDir("retired-hcl");
    const stack = (await synthToDir(dir, [RETIRED], true))["hacluster.example.com"];
    const hcl = fs.readFileSync(path.join(stack, "cdk.tf"), "utf8");
    const blocks = [...hcl.matchAll(/^removed \{\n  from = (\S+)\n  lifecycle \{\n    destroy = false\n  \}\n\}$/gm)].map((m) => m[1]);
    expect(blocks).toEqual(["b", "c"].flatMap((m) => [`aws_ebs_volume.${m}-etcd-main-${SLUG}`, `aws_ebs_volume.${m}-etcd-events-${SLUG}`]));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuse an address that is not one", () => {
    const stack = new App().node;
    expect(() => new RemovedBlock(stack.root as never, "x", { from: 'aws_ebs_volume.a"; destroy = true' })).toThrow(/not a resource address/);
  });
});

describe("the check against a previous synthesis (an extra where cdktf.out/ exists)", () => {
  it("reads the members whose volumes a previous JSON or HCL stack manages", async () => {
    for (const hcl of [false, true]) {
      const dir = tempDir("previous");
      const stack = (await synthToDir(dir, [SEED_1], hcl))["hacluster.example.com"];
      expect(previousEtcdMembers(stack, "hacluster.example.com")?.sort()).toEqual(["a", "b", "c"]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(previousEtcdMembers(tempDir("none"), "hacluster.example.com")).toBeUndefined();
  });

  it("refuses members dropped from both lists, and passes retired ones", async () => {
    const dir = tempDir("previous-check");
    await synthToDir(dir, [SEED_1]);
    const out = path.join(dir, "out");
    expect(removedMasterProblems([validSpec(RETIRED)], out)).toEqual([]);
    const dropped = validSpec({ ...RETIRED, retiredEtcdMembers: ["b"] });
    expect(removedMasterProblems([dropped], out)).toEqual([
      expect.stringMatching(
        new RegExp(`^hacluster\\.example\\.com: etcdMembers: c is gone from both etcdMembers and retiredEtcdMembers, .*aws_ebs_volume\\.c-etcd-main-${SLUG}, aws_ebs_volume\\.c-etcd-events-${SLUG}: the apply would destroy them\\. Retire it instead`),
      ),
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
