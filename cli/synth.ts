/**
 * `kopsform synth`: the same synthesis as `npm run synth` and `cdktf synth`, in process. All specs are
 * validated before anything is written; the new set is synthesized inside the output and switched
 * into place as a whole (stacks/output.ts), under the output's lock, so that a failed, killed or
 * concurrent run never leaves a mix of two sets. Whatever else lives in a stack directory
 * (`.terraform/`, plans, lock files) stays.
 */
import * as fs from "fs";
import * as path from "path";
import { loadForSynthesis, synthesizeInto } from "../stacks/app";
import { OutputLock, checkManifestIsOurs, checkOutputDirectory, lockOutput } from "../stacks/output";
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
  const result = await synthesizeOutput(options.configDir, options.output, options.hcl, options.allowEtcdMemberRemoval);
  result.summary.forEach((line) => (line.startsWith("  warning:") ? io.err(line.trim()) : io.out(line)));
  io.out(`Synthesized ${result.stacks.length} ${result.stacks.length === 1 ? "stack" : "stacks"} into ${options.output}/stacks/`);
  for (const orphan of orphanStacks(options.output, result.stacks)) {
    io.err(
      `note: ${path.join(options.output, "stacks", orphan)} has no spec in ${options.configDir} any more; ` +
        "it is left as it was (it may hold plans or state). kopsform plan shows what destroying that cluster would do " +
        "and refuses while its state holds resources: delete the cluster with kopsform delete cluster (from its spec), " +
        "then remove that directory.",
    );
  }
}

/**
 * Validates the specs of `configDir` and synthesizes them into `output` as one set: the shared path of
 * `kopsform synth` and of the cdktf app (main.ts). An output that does not exist is created only once
 * the specs are valid.
 */
export async function synthesizeOutput(configDir: string, output: string, hcl: boolean, allowEtcdMemberRemoval: boolean) {
  // Killed (Ctrl-C included), a run leaves its lock and staging directory: the next run sees the
  // lock's process gone, takes it over and removes them (stacks/output.ts).
  let lock: OutputLock | undefined = checkOutputDirectory(output) ? lockOutput(output) : undefined;
  try {
    const specs = loadForSynthesis(configDir, output, allowEtcdMemberRemoval);
    if (!lock) {
      fs.mkdirSync(output, { recursive: true });
      lock = lockOutput(output);
    }
    checkManifestIsOurs(output);
    return await synthesizeInto(output, specs, hcl);
  } finally {
    lock?.release();
  }
}

/** Stack directories of the output with a configuration that no spec made (a cluster whose spec was removed). */
export function orphanStacks(output: string, stacks: readonly string[]): string[] {
  const dir = path.join(output, "stacks");
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !stacks.includes(e.name))
    .filter((e) => fs.readdirSync(path.join(dir, e.name)).some((f) => /\.tf(\.json)?$/.test(f)))
    .map((e) => e.name)
    .sort();
}
