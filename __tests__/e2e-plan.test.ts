/**
 * `kopsform plan` with the real Terraform CLI, offline, on the edges: interrupted and killed offline
 * plans never leave fake credentials in a stack directory; stacks with lookups are validated, not
 * planned, and say so; a failed plan leaves no earlier summary that looks current; a cluster whose
 * spec is gone is refused, never silently skipped.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { OFFLINE_OVERRIDE_FILE } from "../cli/terraform";
import { LOCK_FILE, OFFLINE_DIR_PREFIX } from "../stacks/output";
import { kopsform } from "./helpers/cli";
import { tempDir } from "./helpers/cluster";
import { requireTerraform } from "./helpers/terraform";
import { withEtcdRecord } from "./helpers/specs";

const BIN = path.join(__dirname, "..", "bin", "kopsform.js");
const SMALL = { name: "small.example.com", zones: ["us-west-2a"], flowLogs: false };

/** A project with `specs`, synthesized; returns its directory and output. */
async function synthesized(specs: Record<string, unknown>[]): Promise<{ dir: string; out: string }> {
  const dir = tempDir("e2e-plan");
  fs.mkdirSync(path.join(dir, "clusters"));
  for (const spec of specs) {
    fs.writeFileSync(path.join(dir, "clusters", `${spec.name as string}.yaml`), YAML.stringify(withEtcdRecord(spec)));
  }
  const out = path.join(dir, "cdktf.out");
  const r = await kopsform(["synth", "--config-dir", path.join(dir, "clusters"), "--output", out]);
  expect(r.code).toBe(0);
  return { dir, out };
}

async function plan(out: string, ...flags: string[]) {
  return kopsform(["plan", "--offline", "--output", out, "--provider-mirror", requireTerraform(), ...flags]);
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, seconds = 120): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (check()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The offline plan's own directories beside the stacks. */
function offlineDirs(out: string): string[] {
  return fs.readdirSync(path.join(out, "stacks")).filter((f) => f.startsWith(OFFLINE_DIR_PREFIX));
}

/**
 * Stops the processes working in `dir` (their working directory is inside it): the Terraform that a
 * killed kopsform leaves running in its own process group, as it would on a user's machine.
 */
async function stopProcessesIn(dir: string): Promise<void> {
  const inside = (pid: string) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(fs.realpathSync(dir));
    } catch {
      return false;
    }
  };
  const pids = () => fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && inside(p));
  for (const pid of pids()) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  await until(() => pids().length === 0, "the processes in the output to stop", 30);
}

/** Starts `kopsform plan --offline` as a process group of its own; resolves its exit code and signal. */
function startPlan(out: string) {
  const child = spawn(process.execPath, [BIN, "plan", "--offline", "--output", out, "--provider-mirror", requireTerraform()], {
    detached: true,
    stdio: "ignore",
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

describe("an interrupted offline plan", () => {
  it("never has its fake credentials in a stack directory, even killed (SIGKILL), and the next run cleans up", async () => {
    const { out } = await synthesized([SMALL]);
    const stack = path.join(out, "stacks", SMALL.name);
    const { child, exited } = startPlan(out);
    try {
      await until(() => offlineDirs(out).some((d) => fs.existsSync(path.join(out, "stacks", d, OFFLINE_OVERRIDE_FILE))), "the offline plan's override");
      expect(fs.existsSync(path.join(stack, OFFLINE_OVERRIDE_FILE))).toBe(false);
    } finally {
      process.kill(-(child.pid as number), "SIGKILL");
    }
    expect((await exited).signal).toBe("SIGKILL");
    // Terraform, in a process group of its own, outlives kopsform; this test stops it.
    await stopProcessesIn(out);
    expect(fs.existsSync(path.join(stack, OFFLINE_OVERRIDE_FILE))).toBe(false);
    const again = await plan(out);
    expect(again.code).toBe(2);
    expect(offlineDirs(out)).toEqual([]);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
  });

  it("on Ctrl-C (SIGINT) removes its directory, gives the lock back and exits 130", async () => {
    const { out } = await synthesized([SMALL]);
    const { child, exited } = startPlan(out);
    try {
      await until(() => offlineDirs(out).length > 0, "the offline plan's directory");
      process.kill(child.pid as number, "SIGINT");
    } catch (e) {
      process.kill(-(child.pid as number), "SIGKILL");
      await stopProcessesIn(out);
      throw e;
    }
    expect(await exited).toEqual({ code: 130, signal: null });
    await stopProcessesIn(out);
    expect(offlineDirs(out)).toEqual([]);
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    expect(fs.existsSync(path.join(out, "stacks", SMALL.name, OFFLINE_OVERRIDE_FILE))).toBe(false);
  });
});

describe("offline, a stack with lookups", () => {
  it("is validated, not planned, and its summary says what needs AWS", async () => {
    const spec = { ...SMALL, name: "lookups.example.com", image: "123456789012/my-image", dnsZone: "example.com" };
    const { dir, out } = await synthesized([spec]);
    const r = await plan(out, "--summary", path.join(dir, "summary.md"));
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      /lookups\.example\.com: validated, not planned: offline, it needs AWS for the image lookup data\.aws_ami\.image-123456789012-my-image, the DNS zone lookup data\.aws_route53_zone\.zone-example-com/,
    );
    expect(r.code).toBe(0);
    const summary = fs.readFileSync(path.join(out, "stacks", spec.name, "plan-summary.md"), "utf8");
    expect(summary).toMatch(/^<!-- kopsform-plan: lookups\.example\.com -->\n/);
    expect(summary).toContain("Validated, not planned: planning this stack needs AWS for `the image lookup data.aws_ami.image-123456789012-my-image`");
    expect(fs.readFileSync(path.join(dir, "summary.md"), "utf8")).toBe(summary);
    expect(fs.existsSync(path.join(out, "stacks", spec.name, "kopsform.tfplan"))).toBe(false);
  });
});

describe("a plan that fails", () => {
  it("leaves no earlier plan or summary that looks current", async () => {
    const { dir, out } = await synthesized([SMALL]);
    const stack = path.join(out, "stacks", SMALL.name);
    const first = await plan(out, "--summary", path.join(dir, "summary.md"));
    expect(first.code).toBe(2);
    expect(fs.readFileSync(path.join(stack, "plan-summary.md"), "utf8")).toMatch(/to add/);
    const config = JSON.parse(fs.readFileSync(path.join(stack, "cdk.tf.json"), "utf8"));
    config.resource.aws_vpc["small-example-com"].no_such_argument = true;
    fs.writeFileSync(path.join(stack, "cdk.tf.json"), JSON.stringify(config));
    const failed = await plan(out, "--summary", path.join(dir, "summary.md"));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/small\.example\.com: terraform (init|plan) failed/);
    expect(fs.existsSync(path.join(stack, "kopsform.tfplan"))).toBe(false);
    for (const file of [path.join(stack, "plan-summary.md"), path.join(dir, "summary.md")]) {
      const text = fs.readFileSync(file, "utf8");
      expect(text).toMatch(/Not planned: Terraform could not plan this stack \(`Error: [^`]+`\)/);
      expect(text).not.toMatch(/to add|No changes/);
    }
  });
});

/** A local state (version 4) holding `resources` (type, name, id), as the local backend writes it. */
function writeState(file: string, resources: readonly [string, string, string][]): void {
  const provider = 'provider["registry.terraform.io/hashicorp/aws"]';
  fs.writeFileSync(
    file,
    JSON.stringify({
      version: 4,
      terraform_version: "1.11.0",
      serial: 1,
      lineage: "3f1d2c4b-0000-4000-8000-000000000000",
      outputs: {},
      resources: resources.map(([type, name, id]) => ({
        mode: "managed",
        type,
        name,
        provider,
        instances: [{ schema_version: 0, attributes: { id }, sensitive_attributes: [] }],
      })),
      check_results: null,
    }),
  );
}

/** The Terraform name of the first `type` resource of a synthesized stack. */
function firstOfType(stackDir: string, type: string): string {
  const config = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as { resource: Record<string, Record<string, unknown>> };
  return Object.keys(config.resource[type])[0];
}

/** The spec of OLD as CI writes a removed one: kopsform-removed/NAME.yaml. */
function oldSpecFile(dir: string): string {
  fs.mkdirSync(path.join(dir, "kopsform-removed"));
  const file = path.join(dir, "kopsform-removed", "old.example.com.yaml");
  fs.writeFileSync(file, YAML.stringify(withEtcdRecord({ ...SMALL, name: "old.example.com" })));
  return file;
}

describe("a cluster whose spec is gone", () => {
  const OLD = { ...SMALL, name: "old.example.com" };

  it("is refused when its stack directory is left and no state says it is gone, never skipped", async () => {
    const gone = { ...SMALL, name: "gone.example.com" };
    const { dir, out } = await synthesized([SMALL, gone]);
    fs.rmSync(path.join(dir, "clusters", "gone.example.com.yaml"));
    expect((await kopsform(["synth", "--config-dir", path.join(dir, "clusters"), "--output", out])).code).toBe(0);
    const r = await plan(out, "--summary", path.join(dir, "summary.md"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /gone\.example\.com: its spec is removed, but kopsform could not tell whether the cluster still exists \(its local state \S*terraform\.gone\.example\.com\.tfstate does not exist here\)\. A removed spec never destroys a cluster/,
    );
    const summary = fs.readFileSync(path.join(dir, "summary.md"), "utf8");
    expect(summary).toMatch(
      /<!-- kopsform-plan: gone\.example\.com -->\n### Terraform plan: `gone\.example\.com`\n\n> \[!CAUTION\]\n> Refused: this cluster's spec is removed, and kopsform could not tell/,
    );
    expect(summary).toMatch(/<!-- kopsform-plan: small\.example\.com -->/);
    expect(offlineDirs(out)).toEqual([]);
  });

  it("from CI's --removed-spec: its destruction is planned and shown, and refused while its state holds resources", async () => {
    const { dir, out } = await synthesized([SMALL]);
    const old = await synthesized([OLD]);
    const volume = firstOfType(path.join(old.out, "stacks", OLD.name), "aws_ebs_volume");
    const vpc = firstOfType(path.join(old.out, "stacks", OLD.name), "aws_vpc");
    const removedSpec = oldSpecFile(dir);
    writeState(path.join(dir, `terraform.${OLD.name}.tfstate`), [
      ["aws_ebs_volume", volume, "vol-0123456789abcdef0"],
      ["aws_vpc", vpc, "vpc-0123456789abcdef0"],
    ]);
    const r = await plan(out, "--removed-spec", removedSpec, "--summary", path.join(dir, "summary.md"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^old\.example\.com: its spec is removed, but the cluster still exists \(destroying it would destroy 2 resources; see its summary\)\. A removed spec never destroys a cluster: delete it on purpose with kopsform delete cluster old\.example\.com/m,
    );
    const own = fs.readFileSync(path.join(out, "stacks", OLD.name, "plan-summary.md"), "utf8");
    expect(own).toMatch(/^<!-- kopsform-plan: old\.example\.com -->\n### Terraform plan: `old\.example\.com`\n\n\*\*0 to add, 0 to change, 2 to destroy, 0 to replace\.\*\*/);
    // The etcd volume (prevent_destroy lifted in the throw-away copy only) is in the danger section.
    expect(own).toContain(`- **destroy** \`aws_ebs_volume.${volume}\``);
    expect(own).toMatch(/> Refused: this cluster's spec is removed, but the cluster still exists; above is what destroying it would do\./);
    expect(fs.readFileSync(path.join(dir, "summary.md"), "utf8")).toContain(own.trim());
    // Nothing of it can be applied: no plan file is left, the stack directory holds the summary only.
    expect(fs.readdirSync(path.join(out, "stacks", OLD.name))).toEqual(["plan-summary.md"]);
    expect(offlineDirs(out)).toEqual([]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, `terraform.${OLD.name}.tfstate`), "utf8")).resources).toHaveLength(2);
  });

  it("from CI's --removed-spec: reported as already deleted when its state holds nothing", async () => {
    const { dir, out } = await synthesized([SMALL]);
    const removedSpec = oldSpecFile(dir);
    writeState(path.join(dir, `terraform.${OLD.name}.tfstate`), []);
    const r = await plan(out, "--removed-spec", removedSpec);
    // The remaining stack's changes decide the exit code: 2, not a refusal.
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: "" });
    expect(r.stdout).toMatch(/^old\.example\.com: spec removed, and its state holds nothing: the cluster is already deleted$/m);
    expect(fs.readFileSync(path.join(out, "stacks", OLD.name, "plan-summary.md"), "utf8")).toMatch(
      /^<!-- kopsform-plan: old\.example\.com -->\n### Terraform plan: `old\.example\.com`\n\n> \[!NOTE\]\n> This cluster's spec is removed, and its state holds nothing: the cluster is already deleted\./,
    );
  });

  it("refuses a --removed-spec that is not a spec, one line naming the option and the file", async () => {
    const { dir, out } = await synthesized([SMALL]);
    const bad = await plan(out, "--removed-spec", path.join(dir, "missing.yaml"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^--removed-spec: \S*missing\.yaml: cannot be read \(ENOENT\)\.?$/);
  });
});
