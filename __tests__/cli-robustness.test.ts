/**
 * Every failure is one line and exit 1, and the output switches as a whole. The command runs as a real
 * process (bin/kopsform.js, the bundle users run), so that exit codes, stack traces and signals are
 * the real ones. File systems that are full, read-only or a mount point of their own are real tmpfs
 * mounts in a mount namespace of the test's own (unshare); an unreadable spec is read by an
 * unprivileged user (setpriv) when the tests run as root.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { CommandResult } from "./helpers/cli";
import { SEED_1, snapshot, tempDir } from "./helpers/cluster";
import { JOURNAL_FILE, LOCK_FILE, STAGING_PREFIX } from "../stacks/output";
import { MAX_SPEC_BYTES } from "../spec/load";
import { withEtcdRecord } from "./helpers/specs";

const BIN = path.join(__dirname, "..", "bin", "kopsform.js");
const NAME = "hacluster.example.com";
const isRoot = process.getuid?.() === 0;

/** Runs the real command; a hung read would end at the timeout, and fail the test. */
function run(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; asNobody?: boolean } = {}): CommandResult {
  const command = options.asNobody && isRoot ? "setpriv" : process.execPath;
  const prefix = options.asNobody && isRoot ? ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath] : [];
  const r = spawnSync(command, [...prefix, BIN, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A project with `specs` in clusters/; returns its directory. */
function project(specs: Record<string, unknown>[] = [SEED_1]): string {
  const dir = tempDir("robust");
  fs.mkdirSync(path.join(dir, "clusters"));
  for (const spec of specs) {
    fs.writeFileSync(path.join(dir, "clusters", `${spec.name as string}.yaml`), YAML.stringify(withEtcdRecord(spec)));
  }
  return dir;
}

function synth(dir: string, ...extra: string[]): CommandResult {
  return run(["synth", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "cdktf.out"), ...extra]);
}

/** One line on stderr, exit 1, no stack trace. */
function expectOneLine(r: CommandResult, pattern: RegExp): void {
  expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 1, stderr: expect.stringMatching(pattern) });
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at |unexpected error/);
}

/** Runs `script` as root in a mount namespace of its own (so that its mounts vanish with it). */
function inMountNamespace(script: string): { code: number; stdout: string; stderr: string } {
  const args = isRoot ? ["-m", "sh", "-c", script] : ["-m", "-r", "sh", "-c", script];
  const r = spawnSync("unshare", args, { encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const sh = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
const kopsformSh = `${sh(process.execPath)} ${sh(BIN)}`;

describe("a config directory holding what is not a spec", () => {
  it("skips hidden files (editor lock files are dangling links named .#x.yaml)", () => {
    const dir = project();
    fs.symlinkSync("root@host.1234:1700000000", path.join(dir, "clusters", ".#hacluster.example.com.yaml"));
    fs.writeFileSync(path.join(dir, "clusters", ".backup.yaml"), "not: a spec");
    expect(synth(dir).code).toBe(0);
  });

  it.each([
    ["a directory", (file: string) => fs.mkdirSync(file), /is a directory, not a spec file; rename or move it/],
    ["a dangling link", (file: string) => fs.symlinkSync("gone.yaml", file), /is a symbolic link to "gone\.yaml", which does not exist; fix or remove the link/],
    ["a link that loops", (file: string) => fs.symlinkSync(path.basename(file), file), /is a symbolic link that loops/],
    ["a FIFO (reading it would hang)", (file: string) => spawnSync("mkfifo", [file]), /is a FIFO, not a spec file/],
    ["a link to /dev/zero (reading it would never end)", (file: string) => fs.symlinkSync("/dev/zero", file), /is a device, not a spec file/],
    ["a file over the size limit", (file: string) => fs.writeFileSync(file, `name: x\n#${"x".repeat(MAX_SPEC_BYTES)}\n`), /is \d+ bytes; .*files over 1048576 bytes are refused/],
  ])("refuses %s named *.yaml in one line, exit 1", (_what, make, pattern) => {
    const dir = project();
    make(path.join(dir, "clusters", "other.example.com.yaml"));
    const r = synth(dir);
    expectOneLine(r, new RegExp(`other\\.example\\.com\\.yaml: ${pattern.source}`));
    expect(fs.existsSync(path.join(dir, "cdktf.out"))).toBe(false);
  });

  it("refuses a spec it cannot read, in one line", () => {
    const dir = project();
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, "clusters"), 0o755);
    fs.chmodSync(path.join(dir, "clusters", `${NAME}.yaml`), 0o000);
    const r = run(["synth", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "cdktf.out")], { asNobody: true });
    expectOneLine(r, /hacluster\.example\.com\.yaml: cannot be read \(permission denied\); check its permissions\./);
  });

  it("does not echo a file that is not a spec (a link to a credentials file)", () => {
    const dir = project([]);
    const secret = path.join(dir, "credentials");
    fs.writeFileSync(secret, "aws_access_key_id: AKIAIOSFODNN7EXAMPLE\naws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    fs.symlinkSync(secret, path.join(dir, "clusters", "a.example.com.yaml"));
    const r = synth(dir);
    expectOneLine(r, /a\.example\.com\.yaml: \(file\): is not a cluster spec: none of its 2 top-level keys is a spec field .*its content is not shown/);
    expect(r.stderr).not.toMatch(/AKIA|wJalr|aws_/);
  });

  it("bounds the work of a spec with a hundred thousand keys, duplicates found in linear time", () => {
    const dir = project([]);
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`);
    fs.writeFileSync(path.join(dir, "clusters", "big.example.com.yaml"), ["name: big.example.com", "zones: [us-west-2a]", ...keys, "k7: 2", ""].join("\n"));
    const started = Date.now();
    const r = synth(dir);
    expectOneLine(r, /\(YAML\): key "k7" appears twice in one mapping \(line 100003\); keep one\./);
    expect(Date.now() - started).toBeLessThan(30_000);
    fs.writeFileSync(path.join(dir, "clusters", "big.example.com.yaml"), ["name: big.example.com", "zones: [us-west-2a]", "etcdMembers: [a]", ...keys, ""].join("\n"));
    const unknown = synth(dir);
    expectOneLine(unknown, /k0: unknown field \(also: k1, k2, k3, k4, k5 and 99994 more\)/);
  });

  it.each([
    ["--config-dir", (dir: string) => ["synth", "--config-dir", path.join(dir, "file"), "--output", path.join(dir, "out")], /file: is a file, not a directory; give --config-dir/],
    ["--output", (dir: string) => ["synth", "--config-dir", path.join(dir, "clusters"), "--output", path.join(dir, "file")], /--output .*file: is a file, not a directory/],
    ["plan --output", (dir: string) => ["plan", "--output", path.join(dir, "file")], /--output .*file: is a file, not a directory/],
  ])("refuses %s that is a file", (_what, args, pattern) => {
    const dir = project();
    fs.writeFileSync(path.join(dir, "file"), "x");
    expectOneLine(run(args(dir)), pattern);
  });
});

describe("an existing output that is damaged", () => {
  it.each([
    ["truncated", '{"resource": {"aws_autoscaling_group": {'],
    ["null", "null"],
    ["empty", ""],
  ])("refuses a previous cdk.tf.json that is %s, naming it", (_what, text) => {
    const dir = project();
    expect(synth(dir).code).toBe(0);
    fs.writeFileSync(path.join(dir, "cdktf.out", "stacks", NAME, "cdk.tf.json"), text);
    expectOneLine(synth(dir), /cdk\.tf\.json: is not a Terraform configuration kopsform wrote \(empty, truncated or not JSON\)/);
  });

  it("does not replace a manifest.json of someone else's (synth --output .)", () => {
    const dir = project();
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ name: "my-app", version: 3 }));
    const r = run(["synth", "--config-dir", "clusters", "--output", "."], { cwd: dir });
    expectOneLine(r, /manifest\.json: exists and is not a manifest that kopsform or cdktf wrote; kopsform would replace it/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"))).toEqual({ name: "my-app", version: 3 });
    expect(fs.existsSync(path.join(dir, "stacks"))).toBe(false);
    fs.rmSync(path.join(dir, "manifest.json"));
    expect(run(["synth", "--config-dir", "clusters", "--output", "."], { cwd: dir }).code).toBe(0);
    expect(run(["synth", "--config-dir", "clusters", "--output", "."], { cwd: dir }).code).toBe(0);
  });
});

describe("the output switches as a whole", () => {
  it("finishes a switch that a killed run left half done, so that the set is the new one whole", () => {
    const dir = project([SEED_1, { ...SEED_1, name: "second.example.com" }]);
    expect(synth(dir).code).toBe(0);
    const out = path.join(dir, "cdktf.out");
    // Killed after the first rename of the switch to HCL: a mixed set on disk, and the journal.
    const killed = run(["synth", "--hcl", "--config-dir", path.join(dir, "clusters"), "--output", out], {
      env: { KOPSFORM_FAULT_AFTER_RENAMES: "1" },
    });
    expect(killed.code).toBe(-1);
    expect(fs.existsSync(path.join(out, JOURNAL_FILE))).toBe(true);
    const mixed = fs.readdirSync(path.join(out, "stacks", NAME)).sort();
    expect(mixed).toEqual(["cdk.tf", "cdk.tf.json", "ha-report.md"]);
    // The next run, even one refused for an invalid spec, first finishes the switch.
    fs.writeFileSync(path.join(dir, "clusters", "broken.example.com.yaml"), "name: broken.example.com\n");
    expect(synth(dir).code).toBe(1);
    for (const stack of [NAME, "second.example.com"]) {
      expect(fs.readdirSync(path.join(out, "stacks", stack)).sort()).toEqual(["cdk.tf", "ha-report.md", "metadata.json"]);
    }
    expect(fs.readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("refuses to run while another live kopsform holds the output, and takes over the lock of a dead one", () => {
    const dir = project();
    expect(synth(dir).code).toBe(0);
    const lock = path.join(dir, "cdktf.out", LOCK_FILE);
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), since: "2026-01-01T00:00:00Z" }));
    expectOneLine(synth(dir), new RegExp(`another kopsform \\(pid ${process.pid}\\) is writing or planning this output since 2026-01-01T00:00:00Z; wait for it to finish`));
    expectOneLine(run(["plan", "--output", path.join(dir, "cdktf.out")]), /another kopsform/);
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid;
    fs.writeFileSync(lock, JSON.stringify({ pid: dead, host: os.hostname() }));
    fs.mkdirSync(path.join(dir, "cdktf.out", `${STAGING_PREFIX}dead`));
    expect(synth(dir).code).toBe(0);
    expect(fs.readdirSync(path.join(dir, "cdktf.out")).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("lets two concurrent runs end with one whole set, never a mix", async () => {
    const fleet = Array.from({ length: 6 }, (_, i) => ({ ...SEED_1, name: `c${i}.example.com` }));
    const dir = project(fleet);
    const out = path.join(dir, "cdktf.out");
    expect(synth(dir).code).toBe(0);
    const start = (hcl: boolean) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [BIN, "synth", ...(hcl ? ["--hcl"] : []), "--config-dir", path.join(dir, "clusters"), "--output", out], { stdio: "ignore" });
        child.on("exit", (code) => resolve(code ?? -1));
      });
    const codes = await Promise.all([start(true), start(false), start(true)]);
    expect(codes.every((c) => c === 0 || c === 1)).toBe(true);
    expect(codes).toContain(0);
    const formats = fleet.map((c) => fs.readdirSync(path.join(out, "stacks", c.name)).sort().join(","));
    expect(new Set(formats).size).toBe(1);
    expect(["cdk.tf,ha-report.md,metadata.json", "cdk.tf.json,ha-report.md"]).toContain(formats[0]);
  });
});

describe("file systems", () => {
  it("synthesizes into an output that is a mount point of its own (staging on the same device)", () => {
    const dir = project();
    const out = path.join(dir, "cdktf.out");
    fs.mkdirSync(out);
    const r = inMountNamespace(
      `mount -t tmpfs -o size=64m none ${sh(out)} && ${kopsformSh} synth --config-dir ${sh(path.join(dir, "clusters"))} --output ${sh(out)} && ls ${sh(path.join(out, "stacks", NAME))}`,
    );
    expect(r.stderr).not.toMatch(/EXDEV|unexpected/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cdk\.tf\.json\nha-report\.md/);
  });

  it("says a full disk in one line, and keeps the old set whole", () => {
    const dir = project();
    const out = path.join(dir, "cdktf.out");
    fs.mkdirSync(out);
    const r = inMountNamespace(
      [
        `mount -t tmpfs -o size=2m none ${sh(out)}`,
        `${kopsformSh} synth --config-dir ${sh(path.join(dir, "clusters"))} --output ${sh(out)} >/dev/null 2>&1 || exit 90`,
        `cat ${sh(path.join(out, "stacks", NAME, "cdk.tf.json"))} | sha256sum > ${sh(path.join(dir, "before"))}`,
        `dd if=/dev/zero of=${sh(path.join(out, "filler"))} bs=64k 2>/dev/null; true`,
        `${kopsformSh} synth --hcl --config-dir ${sh(path.join(dir, "clusters"))} --output ${sh(out)}; echo "exit=$?"`,
        `rm -f ${sh(path.join(out, "filler"))}`,
        `ls -a ${sh(path.join(out, "stacks", NAME))} ${sh(out)}`,
        `cat ${sh(path.join(out, "stacks", NAME, "cdk.tf.json"))} | sha256sum | cmp - ${sh(path.join(dir, "before"))} && echo same`,
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/exit=1/);
    expect(r.stderr.trim()).toMatch(/^kopsform: .*: no space left on the device; free some space and run the command again \(ENOSPC\)\.$/);
    expect(r.stdout).toMatch(/same$/m);
    expect(r.stdout).not.toMatch(/cdk\.tf\n|\.kopsform-staging|\.kopsform-switch/);
  });

  it("says a read-only output in one line", () => {
    const dir = project();
    const out = path.join(dir, "cdktf.out");
    fs.mkdirSync(out);
    const r = inMountNamespace(
      [
        `mount -t tmpfs -o size=64m none ${sh(out)}`,
        `${kopsformSh} synth --config-dir ${sh(path.join(dir, "clusters"))} --output ${sh(out)} >/dev/null 2>&1 || exit 90`,
        `mount -o remount,ro ${sh(out)}`,
        `${kopsformSh} synth --config-dir ${sh(path.join(dir, "clusters"))} --output ${sh(out)}; echo "exit=$?"`,
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/exit=1/);
    expect(r.stderr.trim()).toMatch(/^kopsform: .*cdktf\.out.*: the file system is read-only; choose a writable --output \(EROFS\)\.$/);
  });
});

describe("kopsform plan touches only what it can prove is its own", () => {
  it("refuses a manifest that names a stack outside the output, before running anything", () => {
    const dir = project();
    expect(synth(dir).code).toBe(0);
    const manifest = path.join(dir, "cdktf.out", "manifest.json");
    const json = JSON.parse(fs.readFileSync(manifest, "utf8"));
    json.stacks["../../x"] = { ...json.stacks[NAME], workingDirectory: "stacks/../../x" };
    fs.writeFileSync(manifest, JSON.stringify(json));
    // No terraform on PATH: the refusal comes before any would run.
    const r = run(["plan", "--output", path.join(dir, "cdktf.out")], { env: { PATH: path.dirname(process.execPath) } });
    expectOneLine(r, /manifest\.json: names the stack "\.\.\/\.\.\/x", which is not a cluster name; run npx kopsform synth again/);
    json.stacks = { "x.example.com": { workingDirectory: "stacks/x.example.com" } };
    fs.writeFileSync(manifest, JSON.stringify(json));
    fs.symlinkSync(os.tmpdir(), path.join(dir, "cdktf.out", "stacks", "x.example.com"));
    expectOneLine(run(["plan", "--output", path.join(dir, "cdktf.out")], { env: { PATH: path.dirname(process.execPath) } }), /x\.example\.com: is not a stack directory of this output \(missing, or a link\)/);
  });

  it.each([
    ["truncated", '{"version": "0.21.0", "stacks": {'],
    ["null", "null"],
  ])("refuses a %s manifest.json in one line", (_what, text) => {
    const dir = project();
    expect(synth(dir).code).toBe(0);
    fs.writeFileSync(path.join(dir, "cdktf.out", "manifest.json"), text);
    expectOneLine(run(["plan", "--output", path.join(dir, "cdktf.out")]), /manifest\.json: is not a manifest kopsform wrote \(empty, truncated or changed by hand\); run npx kopsform synth again/);
  });

  it("refuses --summary naming a directory before planning", () => {
    const dir = project();
    expect(synth(dir).code).toBe(0);
    const r = run(["plan", "--output", path.join(dir, "cdktf.out"), "--summary", dir], { env: { PATH: path.dirname(process.execPath) } });
    expectOneLine(r, /--summary .*: is a directory; give the path of a file/);
  });
});

describe("kopsform --version", () => {
  it("prints the version of package.json", () => {
    const r = run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).version);
  });
});

describe("after a successful run", () => {
  it("leaves no lock, journal or staging behind", () => {
    const dir = project();
    expect(synth(dir).code).toBe(0);
    expect(Object.keys(snapshot(path.join(dir, "cdktf.out"))).sort()).toEqual([
      "manifest.json",
      `stacks/${NAME}/cdk.tf.json`,
      `stacks/${NAME}/ha-report.md`,
    ]);
    expect(fs.readdirSync(path.join(dir, "cdktf.out")).filter((f) => f.startsWith("."))).toEqual([]);
  });
});
