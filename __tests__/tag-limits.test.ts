/**
 * AWS's tag limits, kopsform's own tags counted (stacks/tag-limits.ts): a spec whose cloud labels and
 * kopsform's tags make more than 50 tags on a resource, or a node label whose tag key would pass 128
 * characters, is refused by kopsform synth (exit 1, one line per resource), and nothing is written.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { kopsform } from "./helpers/cli";
import { snapshot, tempDir } from "./helpers/cluster";
import { withEtcdRecord } from "./helpers/specs";

const NAME = "tags.example.com";

/** `count` cloud labels. */
function labels(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`Label${String(i).padStart(2, "0")}`, "x"]));
}

async function synth(spec: Record<string, unknown>) {
  const dir = tempDir("tag-limits");
  fs.mkdirSync(path.join(dir, "clusters"));
  fs.writeFileSync(path.join(dir, "clusters", `${NAME}.yaml`), YAML.stringify(withEtcdRecord({ name: NAME, zones: ["us-west-2a"], ...spec })));
  const out = path.join(dir, "cdktf.out");
  const r = await kopsform(["synth", "--config-dir", path.join(dir, "clusters"), "--output", out]);
  return { ...r, out, dir };
}

/** The most tags of kopsform's own on any resource or launched instance, from a synthesis without labels. */
async function mostOwnTags(): Promise<number> {
  const r = await synth({});
  expect(r.code).toBe(0);
  const json = JSON.parse(fs.readFileSync(path.join(r.out, "stacks", NAME, "cdk.tf.json"), "utf8"));
  let most = 0;
  for (const byName of Object.values(json.resource as Record<string, Record<string, any>>)) {
    for (const body of Object.values(byName)) {
      const sets = [body.tags, Array.isArray(body.tag) ? Object.fromEntries(body.tag.map((t: any) => [t.key, t.value])) : undefined, ...(body.tag_specifications ?? []).map((t: any) => t.tags)];
      sets.filter(Boolean).forEach((tags) => (most = Math.max(most, Object.keys(tags).length)));
    }
  }
  return most;
}

describe("tag limits", () => {
  let own: number;
  beforeAll(async () => {
    own = await mostOwnTags();
    expect(own).toBeGreaterThanOrEqual(5);
  });

  it("accepts cloud labels up to 50 tags on the most tagged resource, ours included", async () => {
    const r = await synth({ cloudLabels: labels(50 - own) });
    expect(r.stderr).not.toMatch(/tags/);
    expect(r.code).toBe(0);
  });

  it("refuses one more, naming the resources and how many labels to remove, and writes nothing", async () => {
    const r = await synth({ cloudLabels: labels(51 - own) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^tags\.example\.com: aws_\w+\.[\w-]+( \([\w -]+\))? would carry 51 tags \(kopsform's own and the cloud labels\); AWS allows 50 per resource: remove at least 1 from cloudLabels/m,
    );
    expect(r.stderr.split("\n").every((line) => /would carry 51 tags/.test(line))).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(r.out) ? Object.keys(snapshot(r.out)) : []).toEqual([]);
    expect(fs.readdirSync(r.dir).filter((f) => f.startsWith(".kopsform"))).toEqual([]);
  });

  it("refuses a node label whose cluster-autoscaler tag key would pass AWS's 128 characters", async () => {
    const key = `${"p".repeat(60)}.example.com/${"k".repeat(63)}`;
    const r = await synth({ nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 2, labels: { [key]: "x" } }] });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`aws_autoscaling_group\\.gpu \\(tag blocks\\): the tag key "k8s\\.io/cluster-autoscaler/node-template/label/${key}" is 182 characters long; AWS allows 128: shorten the node group's label or taint key`),
    );
  });
});
