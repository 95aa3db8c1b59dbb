/**
 * The smaller day-2 commands: `get clusters`, `edit cluster` (a real editor process, scripted), kops's
 * words answered with a pointer (never a wrong "did you mean"), the upgrade rules against the
 * committed record, and the names the day-2 commands share with the synthesized stack.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { apiLoadBalancerName } from "../cli/cluster-access";
import { GROUP_TAGS } from "../cli/cluster-state";
import { editCluster } from "../cli/edit-cluster";
import { CLUSTER_TAG, CONTROL_PLANE_TAGS, MASTER_ROLE_TAG } from "../modules/tags";
import { upgradeProblem } from "../spec/upgrade";
import { kopsform, kopsformProcess } from "./helpers/cli";
import { SEED_1_SPEC, writeSpecs } from "./helpers/specs";
import { synthJson } from "./helpers/cluster";

const NAME = SEED_1_SPEC.name;
let work: string;
beforeAll(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-day2-"))));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("get clusters", () => {
  it("lists the specs as kops does (NAME, CLOUD, ZONES), with masters and version; json for scripts", async () => {
    const dir = writeSpecs([SEED_1_SPEC, { name: "small.example.com", zones: ["eu-west-1a"] }], fs.mkdtempSync(path.join(work, "get-")));
    const r = await kopsform(["get", "clusters", "--config-dir", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "NAME                   CLOUD  ZONES                             MASTERS                                KUBERNETES",
      "hacluster.example.com  aws    us-west-2a,us-west-2b,us-west-2c  3 in us-west-2a,us-west-2b,us-west-2c  1.33.5",
      "small.example.com      aws    eu-west-1a                        1 in eu-west-1a                        1.33.5",
    ]);
    const json = JSON.parse((await kopsform(["get", "clusters", "small.example.com", "-o", "json", "--config-dir", dir])).stdout);
    expect(json).toEqual([expect.objectContaining({ name: "small.example.com", region: "eu-west-1", masters: 1 })]);
  });

  it("shows an invalid spec as such, with its problems, and exits 1", async () => {
    const dir = writeSpecs([SEED_1_SPEC, { name: "bad.example.com", zones: ["us-west-2a"], masterCount: 2 }], fs.mkdtempSync(path.join(work, "get-bad-")));
    const r = await kopsform(["get", "clusters", "--config-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^bad.example.com\s+-\s+-\s+-\s+\(invalid spec: see above\)$/m);
    expect(r.stdout).toMatch(/^hacluster.example.com\s+aws/m);
    expect(r.stderr).toMatch(/bad.example.com.yaml: masterCount: /);
  });
});

describe("edit cluster", () => {
  /** An "editor": a script that makes one `from => to` change (at a line's start) per run to the file it is given. */
  function scriptedEditor(dir: string, edits: string[]): string {
    const state = path.join(dir, "edits.json");
    fs.writeFileSync(state, JSON.stringify(edits));
    const script = path.join(dir, "editor.js");
    fs.writeFileSync(
      script,
      `const fs = require("fs");
const edits = JSON.parse(fs.readFileSync(${JSON.stringify(state)}, "utf8"));
const [from, to] = edits.shift().split(" => ");
const file = process.argv[2];
fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(new RegExp("^" + from, "m"), to));
fs.appendFileSync(${JSON.stringify(path.join(dir, "seen.log"))}, fs.readFileSync(file, "utf8") + "\\n---\\n");
fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify(edits));
`,
    );
    return `${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`;
  }

  it("writes a valid edit, keeping the rest of the file", async () => {
    const dir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "edit-")));
    const out: string[] = [];
    await editCluster({ name: NAME, configDir: dir }, { out: (l) => out.push(l), err: (l) => out.push(l) }, async () => false, {
      ...process.env,
      EDITOR: scriptedEditor(dir, ["nodeCount: 3 => nodeCount: 6"]),
    });
    const text = fs.readFileSync(path.join(dir, `${NAME}.yaml`), "utf8");
    expect(text.startsWith("# committed spec\n")).toBe(true);
    expect(YAML.parse(text).nodeCount).toBe(6);
    expect(out.join("\n")).toMatch(/^Wrote .*hacluster.example.com.yaml\. Next: npx kopsform synth/m);
  });

  it("keeps the old file on an invalid edit, reopens it with the problems on top, and writes the fixed edit", async () => {
    const dir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "edit-again-")));
    const file = path.join(dir, `${NAME}.yaml`);
    const before = fs.readFileSync(file, "utf8");
    const asked: string[] = [];
    const err: string[] = [];
    // Five masters need their two new etcd members recorded (spec/etcd-members.ts).
    const editor = scriptedEditor(dir, [
      "masterCount: 3 => masterCount: 2",
      "masterCount: 2\netcdMembers: => masterCount: 5\netcdMembers:\n  - a-2\n  - b-2",
    ]);
    let fileDuringSecondEdit = "";
    await editCluster(
      { name: NAME, configDir: dir },
      { out: () => undefined, err: (l) => err.push(l) },
      async (q) => {
        asked.push(q);
        fileDuringSecondEdit = fs.readFileSync(file, "utf8");
        return true;
      },
      { ...process.env, EDITOR: editor },
    );
    expect(asked).toEqual(["Edit again?"]);
    expect(fileDuringSecondEdit).toBe(before);
    expect(err.join("\n")).toMatch(/masterCount: 2 masters/);
    expect(err.join("\n")).toMatch(/hacluster.example.com.yaml is unchanged\./);
    // The second round opened the copy with the problems on top.
    const seen = fs.readFileSync(path.join(dir, "seen.log"), "utf8").split("\n---\n");
    expect(seen[1]).toMatch(/^# kopsform: .*masterCount: 2 masters/);
    const after = fs.readFileSync(file, "utf8");
    expect(YAML.parse(after).masterCount).toBe(5);
    expect(after).not.toMatch(/# kopsform:/);
  });

  it("refused again: the file stays, the edit is kept in a copy, exit 1", async () => {
    const dir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "edit-no-")));
    const file = path.join(dir, `${NAME}.yaml`);
    const before = fs.readFileSync(file, "utf8");
    // An editor that downgrades Kubernetes; the answer to "edit again?" is no.
    const env = { ...process.env, EDITOR: scriptedEditor(dir, ["kubernetesVersion: 1.33.5 => kubernetesVersion: 1.32.0"]) };
    await expect(editCluster({ name: NAME, configDir: dir }, { out: () => undefined, err: () => undefined }, async () => false, env)).rejects.toThrow(
      /the edit is not valid; .* is unchanged, your edit is kept in .*kopsform-edit-/,
    );
    expect(fs.readFileSync(file, "utf8")).toBe(before);
  });

  it("an unchanged file is a cancelled edit", async () => {
    const dir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "edit-same-")));
    const out: string[] = [];
    await editCluster({ name: NAME, configDir: dir }, { out: (l) => out.push(l), err: (l) => out.push(l) }, async () => false, { ...process.env, EDITOR: "true" });
    expect(out).toEqual([`Edit cancelled, no changes made to ${path.join(dir, `${NAME}.yaml`)}.`]);
  });
});

describe("kops's words that kopsform answers differently", () => {
  it.each([
    [["update", "cluster", NAME, "--yes"], /^kopsform has no update: Terraform applies the changes\. .*npx kopsform synth/],
    [["create", "-f", "cluster.yaml"], /^kopsform create takes kops's flags .*kopsform import kops FILE/],
    [["update", "cluster", NAME, "--target=terraform", "--out=."], /^--target: kopsform always writes Terraform/],
    [["create", "cluster", "--zones", "us-west-2a", "--target=terraform", NAME], /^--target: kopsform always writes Terraform: `npx kopsform synth`/],
    [["get", "ig", "--name", NAME], /^kopsform has no get instancegroups: instance groups are fields of the spec/],
    [["get", "instancegroups"], /^kopsform has no get instancegroups/],
    [["edit", "ig", "nodes"], /^kopsform has no edit instancegroup: .*kopsform edit cluster NAME/],
    [["upgrade", "cluster", NAME], /^kopsform has no upgrade: set kubernetesVersion .*rolling-update cluster NAME --yes/],
    [["rolling-update", "cluster", NAME, "--cloudonly"], /^--cloudonly: kopsform always confirms health/],
    [["delete", "instance", "i-0123"], /^kopsform has no delete instance: .*--force --yes/],
  ])("%j: one line pointing to the kopsform way, exit 2", async (argv, pointer) => {
    const r = await kopsform(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(pointer);
    expect(r.stderr).not.toMatch(/did you mean/i);
  });

  it("the built command answers the same, without a stack trace", () => {
    const r = kopsformProcess(["update", "cluster", NAME, "--yes"], work);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^kopsform has no update/);
  });
});

describe("upgrades against the committed record (deployedKubernetesVersion)", () => {
  it.each([
    ["1.33.5", "1.33.5", undefined],
    ["1.33.7", "1.33.5", undefined],
    ["1.34.0", "1.33.5", undefined],
    ["1.33.4", "1.33.5", /1\.33\.4 is older than the deployed 1\.33\.5 .*does not support downgrades/],
    ["1.32.9", "1.33.5", /older than the deployed/],
    ["1.35.0", "1.33.5", /1\.35\.0 skips minor version 1\.34 from the deployed 1\.33\.5 .*one minor version at a time: set 1\.34\.x/],
    ["2.0.0", "1.33.5", /changes the major version/],
  ])("%s over a deployed %s", (wanted, deployed, problem) => {
    const message = upgradeProblem(NAME, wanted, deployed);
    if (problem) expect(message).toMatch(problem);
    else expect(message).toBeUndefined();
  });

  it("synth refuses a spec that skips a minor version, naming the field and the fix; nothing is written", async () => {
    const dir = writeSpecs([{ ...SEED_1_SPEC, kubernetesVersion: "1.35.1" }], fs.mkdtempSync(path.join(work, "upgrade-")));
    const out = path.join(dir, "out");
    const r = await kopsform(["synth", "--config-dir", dir, "--output", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hacluster.example.com.yaml: kubernetesVersion: 1\.35\.1 skips minor version 1\.34 from the deployed 1\.33\.5/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("create cluster records the version it writes, and an overwrite keeps the deployed record", async () => {
    const dir = fs.mkdtempSync(path.join(work, "create-"));
    const create = (...extra: string[]) => kopsform(["create", "cluster", "--zones", "us-west-2a", "--config-dir", dir, ...extra, NAME]);
    expect((await create("--kubernetes-version", "1.33.5")).code).toBe(0);
    expect(YAML.parse(fs.readFileSync(path.join(dir, `${NAME}.yaml`), "utf8")).deployedKubernetesVersion).toBe("1.33.5");
    const downgrade = await create("--kubernetes-version", "1.31.0", "--yes");
    expect(downgrade.code).toBe(1);
    expect(downgrade.stderr).toMatch(/^--kubernetes-version: 1\.31\.0 is older than the deployed 1\.33\.5/);
    expect((await create("--kubernetes-version", "1.34.2", "--yes")).code).toBe(0);
    const spec = YAML.parse(fs.readFileSync(path.join(dir, `${NAME}.yaml`), "utf8"));
    expect([spec.kubernetesVersion, spec.deployedKubernetesVersion]).toEqual(["1.34.2", "1.33.5"]);
  });
});

describe("names shared with the synthesized stack", () => {
  it("the group tags and the API load balancer's name are the ones the stack emits", () => {
    expect(GROUP_TAGS.cluster).toBe(CLUSTER_TAG);
    expect(GROUP_TAGS.master).toBe(MASTER_ROLE_TAG);
    expect(CONTROL_PLANE_TAGS[GROUP_TAGS.master]).toBe("1");
    const json = synthJson({ ...SEED_1_SPEC, bastion: true, sshAccess: ["203.0.113.0/24"], topology: "private" });
    const groups = json.resource.aws_autoscaling_group;
    const tagsOf = (name: string) => Object.fromEntries((groups[name].tag as { key: string; value: string }[]).map((t) => [t.key, t.value]));
    expect(tagsOf("master-us-west-2a")).toMatchObject({ [GROUP_TAGS.cluster]: NAME, [GROUP_TAGS.instanceGroup]: "master-us-west-2a", [GROUP_TAGS.master]: "1" });
    expect(tagsOf("nodes")).toMatchObject({ [GROUP_TAGS.cluster]: NAME, [GROUP_TAGS.instanceGroup]: "nodes", [GROUP_TAGS.node]: "1" });
    expect(tagsOf("bastions")).toMatchObject({ [GROUP_TAGS.instanceGroup]: "bastions", [GROUP_TAGS.bastion]: "1" });
    expect(Object.values(json.resource.aws_lb)[0].name).toBe(apiLoadBalancerName(NAME));
  });
});
