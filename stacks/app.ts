/**
 * Synthesis of a set of cluster specs: one {@link ClusterStack} per cluster in cdktf's output layout,
 * and the HA report beside each stack. `main.ts` (the cdktf CLI's entry) and `kopsform synth` both call this, so
 * that they give the same files.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Worker } from "worker_threads";
import { App } from "cdktf";
import stableStringify from "json-stable-stringify";
import { haSummaryLine, renderHaReport } from "../spec/ha";
import { specPicture, textPicture } from "../spec/ha-picture";
import { loadSpecs } from "../spec/load";
import { UserError } from "../spec/problems";
import { ValidatedSpec } from "../spec/validate";
import { ClusterStack } from "./cluster-stack";
import { removedMasterProblems } from "./continuity";
import { JOURNAL_FILE, createStaging, switchTo } from "./output";

/** The files synthesis writes into a stack directory, by output format. */
export const STACK_FILES = {
  json: ["cdk.tf.json"],
  hcl: ["cdk.tf", "metadata.json"],
  report: "ha-report.md",
} as const;

/** What synthesis produced, for the caller to print. */
export interface SynthesisResult {
  /** Stack names, in spec order. */
  readonly stacks: readonly string[];
  /** Per cluster: its HA summary line, its picture as a text table (indented), then its warnings. */
  readonly summary: readonly string[];
}

/**
 * The specs of `configDir`, ready to synthesize into `outdir`: each validated, and refused together
 * when the new specs drop a master that the previous synthesis in `outdir` had (see continuity.ts),
 * unless `allowEtcdMemberRemoval`. Throws {@link UserError} before anything is written.
 */
export function loadForSynthesis(configDir: string, outdir: string, allowEtcdMemberRemoval: boolean): ValidatedSpec[] {
  const specs = loadSpecs(configDir);
  unreadablePreviousOutput(specs, outdir);
  const problems = allowEtcdMemberRemoval ? [] : removedMasterProblems(specs, outdir);
  if (problems.length > 0) {
    throw new UserError(problems);
  }
  return specs;
}

/**
 * Refuses a previous `cdk.tf.json` that is not a JSON object (truncated by a full disk, emptied,
 * `null`): the guard against removing masters compares with it, and cannot vouch for a file it
 * cannot read.
 */
function unreadablePreviousOutput(specs: readonly ValidatedSpec[], outdir: string): void {
  const lines: string[] = [];
  for (const { spec } of specs) {
    const file = path.join(outdir, "stacks", spec.name, "cdk.tf.json");
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue;
    }
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch {
      config = undefined;
    }
    if (!config || typeof config !== "object" || Array.isArray(config)) {
      lines.push(
        `${file}: is not a Terraform configuration kopsform wrote (empty, truncated or not JSON), so the etcd guard ` +
          "cannot compare the new masters with it. Restore it from version control, or remove it if you are sure no master was removed.",
      );
    }
  }
  if (lines.length > 0) {
    throw new UserError(lines);
  }
}

/**
 * Synthesizes `specs` into `output` as one set (see stacks/output.ts): into a staging directory
 * inside the output, then switched into place through the journal. Hold the output's lock. A switch
 * that stops after its commit point keeps its staging directory and journal, so that the next run
 * finishes it.
 */
export async function synthesizeInto(output: string, specs: readonly ValidatedSpec[], hcl: boolean): Promise<SynthesisResult> {
  const staging = createStaging(output);
  try {
    const result = await synthesizeClusters(specs, staging, hcl);
    switchTo(output, staging, {
      stacks: result.stacks,
      files: [...(hcl ? STACK_FILES.hcl : STACK_FILES.json), STACK_FILES.report],
      // The other format's files, and the offline plan's credential-free override that kopsform
      // releases before this one left in a stack directory when interrupted.
      stale: [...(hcl ? STACK_FILES.json : STACK_FILES.hcl), "kopsform_offline_override.tf.json"],
    });
    return result;
  } finally {
    if (!fs.existsSync(path.join(output, JOURNAL_FILE))) {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
}

/** The part of cdktf's manifest that synthesizing some stacks produced. */
export interface ManifestPart {
  readonly version: string;
  readonly stacks: Record<string, unknown>;
}

/**
 * Fleets at least this large are synthesized on every core: below it, starting a worker (loading
 * cdktf and the bindings again, about 0.4 s of CPU) costs more than it saves (measured: 10 clusters
 * take longer on two threads than on one).
 */
export const PARALLEL_FLEET_SIZE = 16;

/**
 * Synthesizes `specs` into `outdir` (cdktf's layout: `manifest.json`, `stacks/NAME/cdk.tf.json` or
 * `cdk.tf`). Writes `stacks/NAME/ha-report.md`, and removes the other format's file from each stack
 * directory so that Terraform never loads both. Nothing else in a stack directory is touched.
 *
 * A fleet of {@link PARALLEL_FLEET_SIZE} clusters or more is shared between this thread and worker
 * threads, one per further core; clusters are independent, and the output is the same either way.
 */
export async function synthesizeClusters(
  specs: readonly ValidatedSpec[],
  outdir: string,
  hcl: boolean,
): Promise<SynthesisResult> {
  fs.mkdirSync(outdir, { recursive: true });
  const threads =
    specs.length >= PARALLEL_FLEET_SIZE ? Math.min(os.availableParallelism(), Math.ceil(specs.length / PARALLEL_FLEET_SIZE) + 1) : 1;
  // Cluster i goes to thread i mod threads; this thread takes share 0, workers the others.
  const shares = Array.from({ length: threads }, (_, t) => specs.filter((_, i) => i % threads === t));
  const inWorkers = shares.slice(1).map((share) => synthesizeInWorker(share, outdir, hcl));
  const parts = [synthesizeStacks(shares[0], outdir, hcl), ...(await Promise.all(inWorkers))];
  // What one app with every stack would have written, in cdktf's own serialization.
  const manifest = { version: parts[0].version, stacks: Object.assign({}, ...parts.map((p) => p.stacks)) };
  fs.writeFileSync(path.join(outdir, "manifest.json"), stableStringify(manifest, { space: 2 }) as string);

  const summary: string[] = [];
  for (const { spec, ha, warnings } of specs) {
    const stackDir = path.join(outdir, "stacks", spec.name);
    const lines = warnings.map((w) => `${w.field}: ${w.message}`);
    fs.writeFileSync(path.join(stackDir, STACK_FILES.report), renderHaReport(spec, ha, lines, {
        etcdVersion: spec.etcd.release.version,
        backupIntervalMinutes: spec.etcd.backups.intervalMinutes,
      }));
    if (hcl) {
      const file = path.join(stackDir, STACK_FILES.hcl[0]);
      fs.writeFileSync(file, await formatHcl(fs.readFileSync(file, "utf8")));
    }
    for (const stale of hcl ? STACK_FILES.json : STACK_FILES.hcl) {
      fs.rmSync(path.join(stackDir, stale), { force: true });
    }
    summary.push(haSummaryLine(spec.name, ha), ...textPicture(specPicture(spec, ha)), ...lines.map((l) => `  warning: ${l}`));
  }
  return { stacks: specs.map((s) => s.spec.name), summary };
}

/**
 * Synthesizes the stacks of `specs` into `outdir/stacks/`, one cdktf app per cluster (clusters share
 * nothing, and each cluster's construct tree can be collected once it is written), and returns their
 * manifest entries. Runs in this thread or in a worker (stacks/synth-worker.ts).
 */
export function synthesizeStacks(specs: readonly ValidatedSpec[], outdir: string, hcl: boolean): ManifestPart {
  const stacks: Record<string, unknown> = {};
  let version = "";
  // cdktf decides between JSON and HCL from this variable when a stack is constructed (the cdktf CLI
  // sets it for `cdktf synth --hcl`); set it for the duration of this synthesis only.
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  try {
    withoutTokenStackTraces(() => {
      for (const { spec } of specs) {
        const app = new App({ outdir, hclOutput: hcl, stackTraces: false });
        new ClusterStack(app, { spec });
        app.synth();
        const manifest = app.manifest.buildManifest();
        Object.assign(stacks, manifest.stacks);
        version = manifest.version;
      }
    });
  } finally {
    if (previous === undefined) {
      delete process.env.SYNTH_HCL_OUTPUT;
    } else {
      process.env.SYNTH_HCL_OUTPUT = previous;
    }
  }
  return { version, stacks };
}

/**
 * Runs {@link synthesizeStacks} in a worker thread: dist/synth-worker.js, the bundle `npm run build`
 * makes beside dist/kopsform.js and dist/main.js (this module runs from dist/ there, and from its
 * TypeScript source under the tests).
 */
function synthesizeInWorker(specs: readonly ValidatedSpec[], outdir: string, hcl: boolean): Promise<ManifestPart> {
  return new Promise((resolve, reject) => {
    const dist = path.basename(__dirname) === "dist" ? __dirname : path.join(__dirname, "..", "dist");
    const worker = new Worker(path.join(dist, "synth-worker.js"), { workerData: { specs, outdir, hcl } });
    worker.once("message", (message: { part: ManifestPart } | { userError: string[] }) =>
      "part" in message ? resolve(message.part) : reject(new UserError(message.userError)),
    );
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`a synthesis worker stopped with exit code ${code}`));
      }
    });
  });
}

/**
 * Runs `synthesize` without formatting the stack traces cdktf captures for debugging. cdktf records a
 * complete stack trace for every token it creates (some 400 per cluster, each 40 frames deep, on a
 * plain object) and shows it only in the message of a token error; formatting them is a third of a
 * cluster's synthesis time. Real errors thrown meanwhile keep their stack traces.
 */
function withoutTokenStackTraces(synthesize: () => void): void {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = (error: unknown, frames: NodeJS.CallSite[]) =>
    error instanceof Error ? [String(error), ...frames.map((frame) => `    at ${String(frame)}`)].join("\n") : "";
  try {
    synthesize();
  } finally {
    Error.prepareStackTrace = previous;
  }
}

/**
 * Lays HCL out as `terraform fmt` does, with hclwrite (the formatter the cdktf CLI uses, compiled to
 * WebAssembly). Required only here: starting it costs a quarter second. A plain require, not
 * import(): the bundled command runs in a V8 script (for its code cache), where import() is not
 * available.
 */
async function formatHcl(text: string): Promise<string> {
  const { format } = require("@cdktf/hcl-tools") as typeof import("@cdktf/hcl-tools");
  return format(text);
}
