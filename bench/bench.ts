/**
 * `npm run bench`: wall time and peak memory of kopsform's synthesis and of the tools around it, side
 * by side in one run, as medians of several runs and as ratios to the floor (an empty cdktf app).
 * Writes BENCHMARKS.md. A report, not a test: nothing fails on timing.
 *
 *   npm run bench                 all scenarios, then the test suite's duration
 *   npm run bench -- --no-tests   scenarios only
 *   BENCH_RUNS=9 npm run bench    more runs per scenario (default 5)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { Terraform, findProviderMirror, writeOfflineOverride } from "../cli/terraform";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SEED_SPEC = path.join(ROOT, "clusters", "hacluster.example.com.yaml");

/** One measured run: wall seconds and peak resident memory in MiB (from /usr/bin/time). */
interface Sample {
  readonly seconds: number;
  readonly mib: number;
}

/** A scenario's medians. */
interface Result {
  readonly name: string;
  readonly what: string;
  readonly seconds: number;
  readonly mib: number;
  readonly runs: number;
}

/** Runs `command` under /usr/bin/time and returns its wall time and peak RSS. */
function measure(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Sample {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", command, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  }
  const [seconds, kib] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { seconds, mib: kib / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The medians of a scenario's samples. */
function summarize(name: string, what: string, samples: readonly Sample[]): Result {
  const result = {
    name,
    what,
    runs: samples.length,
    seconds: median(samples.map((s) => s.seconds)),
    mib: median(samples.map((s) => s.mib)),
  };
  process.stderr.write(`bench: ${name}: ${result.seconds.toFixed(2)} s, ${result.mib.toFixed(0)} MiB\n`);
  return result;
}

/** Runs a scenario `runs` times and keeps the medians. */
function scenario(name: string, what: string, runs: number, run: (i: number) => Sample): Result {
  return summarize(name, what, Array.from({ length: runs }, (_, i) => run(i)));
}

/** A config directory holding `count` copies of the seed's first example under different names. */
function fleet(dir: string, count: number): string {
  const configDir = path.join(dir, `fleet-${count}`);
  fs.mkdirSync(configDir, { recursive: true });
  const seed = YAML.parse(fs.readFileSync(SEED_SPEC, "utf8")) as Record<string, unknown>;
  for (let i = 0; i < count; i++) {
    const name = `cluster-${String(i).padStart(2, "0")}.example.com`;
    fs.writeFileSync(path.join(configDir, `${name}.yaml`), YAML.stringify({ ...seed, name }));
  }
  return configDir;
}


function main(): void {
  const withTests = !process.argv.includes("--no-tests");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-bench-"));
  const node = process.execPath;
  const kopsform = path.join(ROOT, "bin", "kopsform.js");
  const seedDir = path.join(work, "seed");
  fs.mkdirSync(seedDir);
  fs.copyFileSync(SEED_SPEC, path.join(seedDir, path.basename(SEED_SPEC)));
  const fleet10 = fleet(work, 10);
  const fleet50 = fleet(work, 50);
  fs.mkdirSync(path.join(work, "out"));
  const out = (name: string, i: number) => path.join(work, "out", `${name}-${i}`);

  // The synthesis scenarios run in rounds (floor, seed, 10, 50, floor, ...), so that a machine
  // whose speed drifts during the run affects every scenario alike and the ratios stay fair.
  const synth = (configDir: string) => (i: number, name: string) =>
    measure(node, [kopsform, "synth", "--config-dir", configDir, "--output", out(name, i)], work);
  const rounds = [
    { name: "floor", what: "an empty cdktf app (one empty stack) in the same node_modules", run: (i: number, name: string) => measure(node, [path.join(ROOT, "dist", "floor.js"), out(name, i)], work) },
    { name: "kopsform synth", what: "the seed's first example (3 masters, private)", run: synth(seedDir) },
    { name: "kopsform synth, 10 clusters", what: "a fleet of 10 such clusters in one config directory", run: synth(fleet10) },
    { name: "kopsform synth, 50 clusters", what: "a fleet of 50", run: synth(fleet50) },
  ];
  const samples = rounds.map(() => [] as Sample[]);
  for (let i = 0; i < RUNS; i++) {
    rounds.forEach((r, k) => samples[k].push(r.run(i, `s${k}`)));
  }
  const [floor, seed, ten, fifty] = rounds.map((r, k) => summarize(r.name, r.what, samples[k]));
  const results: Result[] = [floor, seed, ten, fifty];

  const cdktfCli = path.join(ROOT, "node_modules", "cdktf-cli", "bundle", "bin", "cdktf");
  results.push(
    scenario("npx cdktf synth", "the default clusters/ through the cdktf CLI (its app command builds first)", Math.min(RUNS, 3), (i) =>
      measure(node, [cdktfCli, "synth", "--output", out("cdktf", i)], ROOT, { CI: "1" }),
    ),
  );

  const stack = path.join(out("s1", 0), "stacks", "hacluster.example.com");
  const mirror = findProviderMirror();
  if (!mirror) {
    throw new Error("no hashicorp/aws provider mirror found: set KOPSFORM_TF_MIRROR (see README)");
  }
  // The same Terraform set-up as kopsform plan --offline and the tests: mirror config and override.
  const tfEnv = new Terraform(stack, { mirror }).environment();
  writeOfflineOverride(stack);
  measure("terraform", ["init", "-input=false", "-no-color"], stack, tfEnv);
  results.push(
    scenario("terraform validate", "of the seed's first example (after init)", Math.min(RUNS, 3), () =>
      measure("terraform", ["validate", "-no-color"], stack, tfEnv),
    ),
    scenario("terraform plan (offline)", "of the seed's first example, 77 resources", Math.min(RUNS, 3), () =>
      measure("terraform", ["plan", "-input=false", "-no-color", "-refresh=false"], stack, { ...tfEnv, TF_CLI_ARGS_plan: "" }),
    ),
  );

  const tests: { name: string; seconds: number }[] = [];
  if (withTests) {
    for (const [name, args] of [
      ["npm run test:unit (no Terraform)", ["run", "test:unit"]],
      ["npm test (everything)", ["test"]],
    ] as const) {
      const start = process.hrtime.bigint();
      const r = spawnSync("npm", [...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true" } });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (r.status !== 0) {
        throw new Error(`${name} failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
      }
      tests.push({ name, seconds });
      process.stderr.write(`bench: ${name}: ${seconds.toFixed(1)} s\n`);
    }
  }

  writeReport(report(results, floor, seed, ten, fifty, tests));
  fs.rmSync(work, { recursive: true, force: true });
  process.stderr.write("bench: wrote BENCHMARKS.md\n");
}

const START = "<!-- bench:start (written by npm run bench; edit outside these markers) -->";
const END = "<!-- bench:end -->";

/** Replaces the measured part of BENCHMARKS.md, keeping what is written around it (the history). */
function writeReport(measured: string): void {
  const file = path.join(ROOT, "BENCHMARKS.md");
  const previous = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const start = previous.indexOf(START);
  const end = previous.indexOf(END);
  const block = `${START}\n${measured}${END}`;
  const text =
    start >= 0 && end > start
      ? previous.slice(0, start) + block + previous.slice(end + END.length)
      : `# Benchmarks\n\n${block}\n`;
  fs.writeFileSync(file, text);
}

function report(
  results: readonly Result[],
  floor: Result,
  seed: Result,
  ten: Result,
  fifty: Result,
  tests: readonly { name: string; seconds: number }[],
): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.what} | ${r.runs} | ${r.seconds.toFixed(2)} | ${(r.seconds / floor.seconds).toFixed(2)}x | ${r.mib.toFixed(0)} | ${(r.mib / floor.mib).toFixed(2)}x |`,
  );
  const perCluster = ((fifty.seconds - seed.seconds) / 49) * 1000;
  const perClusterFleet = ((fifty.seconds - ten.seconds) / 40) * 1000;
  const check = (ok: boolean) => (ok ? "met" : "**not met**");
  const targets = [
    `| one HA cluster within 1.5x the floor's wall time | ${(seed.seconds / floor.seconds).toFixed(2)}x | ${check(seed.seconds <= 1.5 * floor.seconds)} |`,
    `| one HA cluster within 1.5x the floor's peak memory | ${(seed.mib / floor.mib).toFixed(2)}x | ${check(seed.mib <= 1.5 * floor.mib)} |`,
    `| each extra cluster at most 60 ms (50 vs 1; 50 vs 10) | ${perCluster.toFixed(0)} ms; ${perClusterFleet.toFixed(0)} ms | ${check(Math.max(perCluster, perClusterFleet) <= 60)} |`,
    `| 50 clusters under 1 GiB peak | ${fifty.mib.toFixed(0)} MiB | ${check(fifty.mib < 1024)} |`,
  ];
  const testRows = tests.map((t) => `| ${t.name} | ${t.seconds.toFixed(1)} s |`);
  return [
    "Written by `npm run bench` (bench/bench.ts). Medians of the runs shown; wall time and peak resident",
    "memory from `/usr/bin/time`; ratios to the floor, an empty cdktf app in the same node_modules.",
    "",
    `- date: ${new Date().toISOString().slice(0, 10)}`,
    `- machine: ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? "unknown"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- node ${process.version}, ${spawnSync("terraform", ["version"], { encoding: "utf8" }).stdout.split("\n")[0]}`,
    "- the synthesis scenarios run in interleaved rounds (floor, seed, 10, 50, floor, ...)",
    "",
    "| scenario | what | runs | wall (s) | vs floor | peak (MiB) | vs floor |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "## Targets",
    "",
    "| target | measured | |",
    "| --- | --- | --- |",
    ...targets,
    ...(testRows.length > 0 ? ["", "## Test suite", "", "| command | wall |", "| --- | --- |", ...testRows] : []),
    "",
  ].join("\n");
}

main();
