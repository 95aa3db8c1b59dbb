/**
 * `kopsform synth`: the same synthesis as `npm run synth` and `cdktf synth`, in process. All specs are
 * validated before anything is written; the output is synthesized into a temporary directory beside
 * the output and moved into place only when every stack succeeded, file by file, so that whatever
 * else lives in a stack directory (`.terraform/`, plans, lock files) stays.
 */
import * as fs from "fs";
import * as path from "path";
import { STACK_FILES, loadForSynthesis, synthesizeClusters } from "../stacks/app";
import { Io } from "./io";

/** Options of `kopsform synth`. */
export interface SynthOptions {
  /** @default "clusters" */
  readonly configDir: string;
  /** @default "cdktf.out" */
  readonly output: string;
  /** Write `cdk.tf` (HCL, `terraform fmt` clean) instead of `cdk.tf.json`. @default false */
  readonly hcl: boolean;
  /** Accept a spec that removes masters (after the manual etcd procedure). @default false */
  readonly allowEtcdMemberRemoval: boolean;
}

/** Runs the synthesis; throws {@link UserError} on invalid input, before writing anything. */
export async function synth(options: SynthOptions, io: Io): Promise<void> {
  const specs = loadForSynthesis(options.configDir, options.output, options.allowEtcdMemberRemoval);
  const parent = path.dirname(path.resolve(options.output));
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, ".kopsform-synth-"));
  try {
    const result = await synthesizeClusters(specs, staging, options.hcl);
    moveIntoPlace(staging, options.output, result.stacks, options.hcl);
    result.summary.forEach((line) => (line.startsWith("  warning:") ? io.err(line.trim()) : io.out(line)));
    io.out(`Synthesized ${result.stacks.length} ${result.stacks.length === 1 ? "stack" : "stacks"} into ${options.output}/stacks/`);
    for (const orphan of orphanStacks(options.output, result.stacks)) {
      io.err(
        `note: ${path.join(options.output, "stacks", orphan)} has no spec in ${options.configDir} any more; ` +
          "it is left as it was (it may hold plans or state). Destroy the cluster with Terraform before deleting it.",
      );
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Moves the synthesized files of each stack into `output/stacks/NAME/`, replacing only the files
 * synthesis writes and removing the other format's file, then the manifest.
 */
function moveIntoPlace(staging: string, output: string, stacks: readonly string[], hcl: boolean): void {
  const written = [...(hcl ? STACK_FILES.hcl : STACK_FILES.json), STACK_FILES.report];
  const stale = hcl ? STACK_FILES.json : STACK_FILES.hcl;
  for (const name of stacks) {
    const from = path.join(staging, "stacks", name);
    const to = path.join(output, "stacks", name);
    fs.mkdirSync(to, { recursive: true });
    for (const file of written) {
      fs.renameSync(path.join(from, file), path.join(to, file));
    }
    for (const file of stale) {
      fs.rmSync(path.join(to, file), { force: true });
    }
  }
  fs.renameSync(path.join(staging, "manifest.json"), path.join(output, "manifest.json"));
}

function orphanStacks(output: string, stacks: readonly string[]): string[] {
  const dir = path.join(output, "stacks");
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !stacks.includes(e.name))
    .map((e) => e.name)
    .sort();
}
