/**
 * `kopsform synth`: the main job. Output is deterministic and portable, addresses are readable, bad
 * input writes nothing, and a stack directory keeps whatever synthesis did not write there.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { kopsform, kopsformProcess } from "./helpers/cli";
import { PARALLEL_FLEET_SIZE } from "../stacks/app";
import { SEED_1, SEED_3, snapshot, specFile, tempDir } from "./helpers/cluster";

const NAME = "hacluster.example.com";

/** A project directory with the given specs under clusters/. */
function project(specs: Record<string, unknown>[]): string {
  const dir = tempDir("synth");
  fs.mkdirSync(path.join(dir, "clusters"));
  for (const spec of specs) {
    fs.writeFileSync(path.join(dir, "clusters", `${spec.name as string}.yaml`), specFile(spec));
  }
  return dir;
}

async function synth(dir: string, ...extra: string[]) {
  return kopsform(["synth", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "cdktf.out"), ...extra]);
}

describe("kopsform synth", () => {
  it("writes cdktf's layout with an HA report, and prints the HA summary", async () => {
    const dir = project([SEED_1]);
    const r = await synth(dir);
    expect(r.code).toBe(0);
    expect(Object.keys(snapshot(path.join(dir, "cdktf.out"))).sort()).toEqual([
      "manifest.json",
      `stacks/${NAME}/cdk.tf.json`,
      `stacks/${NAME}/ha-report.md`,
    ]);
    expect(r.stdout).toMatch(/hacluster.example.com: 3 masters \(us-west-2a: 1, us-west-2b: 1, us-west-2c: 1\); etcd quorum 2 of 3, tolerates 1 master failure; survives the loss of any one zone\./);
    const report = fs.readFileSync(path.join(dir, "cdktf.out", "stacks", NAME, "ha-report.md"), "utf8");
    expect(report).toMatch(/survives the loss of any one zone/);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".kopsform"))).toEqual([]);
  });

  it("reports the seed's statements: 3 masters in one zone survive a master, not the zone; 1 master neither", async () => {
    const dir = project([SEED_3, { name: "single.example.com", zones: ["us-east-1a"] }]);
    const r = await synth(dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hacluster.example.com: 3 masters \(us-east-1a: 3\); etcd quorum 2 of 3, tolerates 1 master failure; does not survive the loss of us-east-1a\./);
    expect(r.stdout).toMatch(/single.example.com: 1 master \(us-east-1a: 1\); etcd quorum 1 of 1, tolerates 0 master failures; does not survive the loss of us-east-1a\./);
    const report = fs.readFileSync(path.join(dir, "cdktf.out", "stacks", NAME, "ha-report.md"), "utf8");
    expect(report).toMatch(/\| us-east-1a \| master-us-east-1a, master-us-east-1a-2, master-us-east-1a-3 \| a, a-2, a-3 \| .* \| API down: quorum lost, 0 of 3 left \|/);
    expect(report).toMatch(/\| us-east-1b \| - \| - \| .* \| API up: quorum kept, 3 of 3 left \|/);
    expect(report).toContain("```mermaid\nflowchart LR\n");
    // The same picture in text, zones as columns, under the cluster's summary line.
    const lines = r.stdout.split("\n");
    const header = lines.indexOf("                 us-east-1a              us-east-1b");
    expect(header).toBe(lines.findIndex((l) => l.startsWith("hacluster.example.com: ")) + 1);
    expect(lines.slice(header).find((l) => l.startsWith("  if zone lost"))).toBe(
      "  if zone lost   API DOWN, 0 of 3 left   API up, 3 of 3 left",
    );
  });

  it("gives byte-identical output for the same specs, with readable addresses and no machine paths", async () => {
    const dir = project([SEED_1]);
    await synth(dir);
    const first = snapshot(path.join(dir, "cdktf.out"));
    await synth(dir);
    expect(snapshot(path.join(dir, "cdktf.out"))).toEqual(first);

    const text = first[`stacks/${NAME}/cdk.tf.json`];
    expect(text).not.toContain(dir);
    expect(text).not.toMatch(/"\/(work|home|root|tmp|Users)\//);
    const json = JSON.parse(text) as { resource: Record<string, Record<string, unknown>> };
    const names = Object.values(json.resource).flatMap((byName) => Object.keys(byName));
    expect(names.length).toBeGreaterThan(50);
    for (const name of names) {
      // cdktf's default ids end in an 8-character upper-case hash; ours are kops-style names.
      expect(name).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    }
    expect(JSON.parse(text).terraform.backend.local.path).toBe("../../../terraform.hacluster.example.com.tfstate");
  });

  it("writes nothing and leaves an existing output as it was when a spec is invalid", async () => {
    const dir = project([SEED_1]);
    await synth(dir);
    fs.writeFileSync(path.join(dir, "cdktf.out", "stacks", NAME, "terraform.tfplan"), "plan");
    const before = snapshot(path.join(dir, "cdktf.out"));
    fs.writeFileSync(
      path.join(dir, "clusters", "broken.example.com.yaml"),
      specFile({ name: "broken.example.com", zones: ["us-west-2a", "us-west-2b"], masterZones: ["us-west-2a", "us-west-2b"] }),
    );
    fs.writeFileSync(path.join(dir, "clusters", `${NAME}.yaml`), specFile({ ...SEED_1, nodeSize: "huge" }));
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").sort()).toEqual([
      expect.stringMatching(/broken.example.com.yaml: masterZones: 2 zones give 2 masters/),
      expect.stringMatching(/hacluster.example.com.yaml: nodeSize: "huge" is not an EC2 instance type/),
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(path.join(dir, "cdktf.out"))).toEqual(before);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".kopsform"))).toEqual([]);
  });

  it("refuses two spec files for one cluster, naming both, and writes nothing", async () => {
    const dir = project([SEED_1]);
    fs.copyFileSync(path.join(dir, "clusters", `${NAME}.yaml`), path.join(dir, "clusters", `${NAME}.yml`));
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hacluster.example.com.yml: name: hacluster.example.com is also the cluster of .*hacluster.example.com.yaml; keep one spec per cluster/);
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });

  it("refuses two clusters whose AWS names would collide (dots written as dashes), naming both", async () => {
    const dir = project([
      { name: "a-b.example.com", zones: ["us-west-2a"] },
      { name: "a.b-example.com", zones: ["us-west-2a"] },
    ]);
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /a\.b-example\.com\.yaml: name: a\.b-example\.com and a-b\.example\.com \(.*a-b\.example\.com\.yaml\) make the same AWS and Terraform names \(api-a-b-example-com, \.\.\.\)/,
    );
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });

  it("refuses two clusters that would share one Terraform state", async () => {
    const backend = { type: "s3", bucket: "state-bucket", key: "shared.tfstate" };
    const dir = project([
      { name: "one.example.com", zones: ["us-west-2a"], backend },
      { name: "two.example.com", zones: ["us-west-2a"], backend },
    ]);
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/two\.example\.com\.yaml: backend: two\.example\.com would keep its Terraform state where one\.example\.com .* keeps its own \(state-bucket\/shared\.tfstate\)/);
  });

  it("reports a file-name mismatch together with the spec's other problems", async () => {
    const dir = project([]);
    fs.writeFileSync(path.join(dir, "clusters", "other.example.com.yaml"), specFile({ ...SEED_1, nodeSize: "huge" }));
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").sort()).toEqual([
      expect.stringMatching(/other.example.com.yaml: name: hacluster.example.com does not match the file name/),
      expect.stringMatching(/other.example.com.yaml: nodeSize: "huge" is not an EC2 instance type/),
    ]);
  });

  it("refuses a spec whose file name does not match its name, and YAML it cannot parse", async () => {
    const dir = project([]);
    fs.writeFileSync(path.join(dir, "clusters", "other.example.com.yaml"), specFile(SEED_1));
    fs.writeFileSync(path.join(dir, "clusters", "bad.example.com.yaml"), "name: [unclosed\n");
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/other.example.com.yaml: name: hacluster.example.com does not match the file name/);
    expect(r.stderr).toMatch(/bad.example.com.yaml: \(YAML\): .*fix the YAML syntax/);
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });

  it("keeps what it did not write in a stack directory (.terraform, state, plans)", async () => {
    const dir = project([SEED_1]);
    await synth(dir);
    const stack = path.join(dir, "cdktf.out", "stacks", NAME);
    fs.mkdirSync(path.join(stack, ".terraform"));
    fs.writeFileSync(path.join(stack, ".terraform", "marker"), "x");
    fs.writeFileSync(path.join(stack, ".terraform.lock.hcl"), "lock");
    fs.writeFileSync(path.join(stack, "terraform.tfstate"), "{}");
    await synth(dir);
    expect(fs.readFileSync(path.join(stack, ".terraform", "marker"), "utf8")).toBe("x");
    expect(fs.existsSync(path.join(stack, ".terraform.lock.hcl"))).toBe(true);
    expect(fs.existsSync(path.join(stack, "terraform.tfstate"))).toBe(true);
  });

  it("writes cdk.tf only with --hcl, removing a stale cdk.tf.json, and back", async () => {
    const dir = project([SEED_1]);
    const stack = path.join(dir, "cdktf.out", "stacks", NAME);
    await synth(dir);
    expect((await synth(dir, "--hcl")).code).toBe(0);
    expect(fs.readdirSync(stack).sort()).toEqual(["cdk.tf", "ha-report.md", "metadata.json"]);
    await synth(dir);
    expect(fs.readdirSync(stack).sort()).toEqual(["cdk.tf.json", "ha-report.md"]);
  });

  it("writes HCL through the built command too (the bundle, as users run it)", () => {
    const dir = project([SEED_1]);
    const r = kopsformProcess(
      ["synth", "--hcl", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "cdktf.out")],
      dir,
    );
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code).toBe(0);
    const hcl = fs.readFileSync(path.join(dir, "cdktf.out", "stacks", NAME, "cdk.tf"), "utf8");
    expect(hcl).toMatch(/^resource "aws_vpc" "hacluster-example-com" \{$/m);
    expect(hcl).toMatch(/^  vpc_id += aws_vpc\.hacluster-example-com\.id$/m);
  });

  it("synthesizes a fleet on several threads to the same files as one cluster at a time", async () => {
    const fleet = Array.from({ length: PARALLEL_FLEET_SIZE }, (_, i) => ({ ...SEED_1, name: `c${i}.example.com` }));
    const dir = project(fleet);
    const r = kopsformProcess(["synth", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "cdktf.out")], dir);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "cdktf.out", "manifest.json"), "utf8"));
    expect(Object.keys(manifest.stacks).sort()).toEqual(fleet.map((f) => f.name).sort());
    for (const one of [fleet[0], fleet[PARALLEL_FLEET_SIZE - 1]]) {
      const alone = project([one]);
      expect((await synth(alone)).code).toBe(0);
      const file = path.join("stacks", one.name, "cdk.tf.json");
      expect(fs.readFileSync(path.join(dir, "cdktf.out", file), "utf8")).toBe(fs.readFileSync(path.join(alone, "cdktf.out", file), "utf8"));
    }
  });

  it("leaves a stack whose spec is gone, and says so", async () => {
    const dir = project([SEED_1, { name: "old.example.com", zones: ["us-west-2a"] }]);
    await synth(dir);
    fs.rmSync(path.join(dir, "clusters", "old.example.com.yaml"));
    const r = await synth(dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/old.example.com has no spec in .* any more; it is left as it was/);
    expect(fs.existsSync(path.join(dir, "cdktf.out", "stacks", "old.example.com", "cdk.tf.json"))).toBe(true);
  });

  it("refuses a layout that drops a master its spec records, and explains the procedure and the lines to write", async () => {
    const dir = project([SEED_1]);
    await synth(dir);
    const before = snapshot(path.join(dir, "cdktf.out"));
    // The record says a, b, c; the layout now gives a alone.
    fs.writeFileSync(
      path.join(dir, "clusters", `${NAME}.yaml`),
      YAML.stringify({ ...SEED_1, masterZones: ["us-west-2a"], masterCount: 1, etcdMembers: ["a", "b", "c"] }),
    );
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/etcdMembers: masterZones\/masterCount no longer give members b, c \(master-us-west-2b, master-us-west-2c\)/);
    expect(r.stderr).toMatch(/etcdctl member remove[\s\S]*"etcdMembers: \[a\]" and "retiredEtcdMembers: \[b, c\]"/);
    expect(snapshot(path.join(dir, "cdktf.out"))).toEqual(before);
    // The flag that accepted a removal before does not skip the record: the record is the spec's own.
    expect((await synth(dir, "--allow-etcd-member-removal")).code).toBe(1);
    // Retired as the message says: synthesized, the retired members' volumes forgotten, not deleted.
    fs.writeFileSync(
      path.join(dir, "clusters", `${NAME}.yaml`),
      YAML.stringify({ ...SEED_1, masterZones: ["us-west-2a"], masterCount: 1, etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"] }),
    );
    expect((await synth(dir)).code).toBe(0);
    const config = JSON.parse(fs.readFileSync(path.join(dir, "cdktf.out", "stacks", NAME, "cdk.tf.json"), "utf8"));
    expect(config.removed.map((r: { from: string }) => r.from)).toEqual(
      ["b", "c"].flatMap((m) => [`aws_ebs_volume.${m}-etcd-main-hacluster-example-com`, `aws_ebs_volume.${m}-etcd-events-hacluster-example-com`]),
    );
  });

  it("refuses, where a previous synthesis exists, a member dropped from both lists instead of retired", async () => {
    const dir = project([SEED_1]);
    await synth(dir);
    fs.writeFileSync(
      path.join(dir, "clusters", `${NAME}.yaml`),
      YAML.stringify({ ...SEED_1, masterZones: ["us-west-2a"], masterCount: 1, etcdMembers: ["a"] }),
    );
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /etcdMembers: b, c are gone from both etcdMembers and retiredEtcdMembers, but the previous synthesis in .* manages their volumes aws_ebs_volume\.b-etcd-main-hacluster-example-com/,
    );
    expect(r.stderr).toMatch(/add b, c to retiredEtcdMembers/);
    expect((await synth(dir, "--allow-etcd-member-removal")).code).toBe(0);
  });

  it("says how to get Terraform when kopsform plan cannot find it, without a stack trace", async () => {
    const dir = project([SEED_1]);
    await synth(dir);
    const r = spawnSync(
      process.execPath,
      [path.join(__dirname, "..", "bin", "kopsform.js"), "plan", "--output", path.join(dir, "cdktf.out")],
      { encoding: "utf8", env: { ...process.env, PATH: path.dirname(process.execPath) } },
    );
    expect(r.stderr.trim()).toBe("terraform is not on PATH: install Terraform >= 1.10 to plan (kopsform synth needs no Terraform).");
    expect(r.status).toBe(1);
  });

  it("refuses an empty or missing config directory with the command that creates a spec", async () => {
    const dir = project([]);
    const r = await synth(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no cluster specs \(\*\.yaml\); create one with: npx kopsform create cluster/);
  });
});
