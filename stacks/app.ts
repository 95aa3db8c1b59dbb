/**
 * Synthesis of a set of cluster specs: one CDKTF app, one {@link ClusterStack} per cluster, and the HA
 * report beside each stack. `main.ts` (the cdktf CLI's entry) and `kopsform synth` both call this, so
 * that they give the same files.
 */
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { haSummaryLine, renderHaReport } from "../spec/ha";
import { ValidatedSpec } from "../spec/validate";
import { ClusterStack } from "./cluster-stack";
import { tidyCdktfHcl } from "./hcl";

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
  /** One line per cluster (HA summary), then its warnings. */
  readonly summary: readonly string[];
}

/**
 * Synthesizes `specs` into `outdir` (cdktf's layout: `manifest.json`, `stacks/NAME/cdk.tf.json` or
 * `cdk.tf`). Writes `stacks/NAME/ha-report.md`, and removes the other format's file from each stack
 * directory so that Terraform never loads both. Nothing else in a stack directory is touched.
 */
export function synthesizeClusters(specs: readonly ValidatedSpec[], outdir: string, hcl: boolean): SynthesisResult {
  // cdktf decides between JSON and HCL from this variable when a stack is constructed (the cdktf CLI
  // sets it for `cdktf synth --hcl`); set it for the duration of this synthesis only.
  fs.mkdirSync(outdir, { recursive: true });
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  try {
    const app = new App({ outdir, hclOutput: hcl, stackTraces: false });
    for (const { spec } of specs) {
      new ClusterStack(app, { spec });
    }
    app.synth();
  } finally {
    if (previous === undefined) {
      delete process.env.SYNTH_HCL_OUTPUT;
    } else {
      process.env.SYNTH_HCL_OUTPUT = previous;
    }
  }
  const summary: string[] = [];
  for (const { spec, ha, warnings } of specs) {
    const stackDir = path.join(outdir, "stacks", spec.name);
    const lines = warnings.map((w) => `${w.field}: ${w.message}`);
    fs.writeFileSync(path.join(stackDir, STACK_FILES.report), renderHaReport(spec.name, ha, lines));
    if (hcl) {
      const file = path.join(stackDir, STACK_FILES.hcl[0]);
      fs.writeFileSync(file, tidyCdktfHcl(fs.readFileSync(file, "utf8")));
    }
    for (const stale of hcl ? STACK_FILES.json : STACK_FILES.hcl) {
      fs.rmSync(path.join(stackDir, stale), { force: true });
    }
    summary.push(haSummaryLine(spec.name, ha), ...lines.map((l) => `  warning: ${l}`));
  }
  return { stacks: specs.map((s) => s.spec.name), summary };
}
