/**
 * The CDKTF app entry, run by the cdktf CLI (`npx cdktf synth|diff|deploy`, see cdktf.json): loads
 * every spec of the config directory and synthesizes one stack per cluster into the CLI's output
 * directory. `kopsform synth` does the same in process, without the CLI.
 */
import { DEFAULT_CONFIG_DIR, DEFAULT_OUTPUT_DIR } from "./spec/defaults";
import { UserError, printable } from "./spec/problems";
import { describeSystemError } from "./cli/errors";
import { synthesizeOutput } from "./cli/synth";

async function main(): Promise<void> {
  // The cdktf CLI passes its output directory and format in these variables; the rest are kopsform's
  // equivalents of `kopsform synth --config-dir` and `--allow-etcd-member-removal`.
  const configDir = process.env.KOPSFORM_CONFIG_DIR ?? DEFAULT_CONFIG_DIR;
  const outdir = process.env.CDKTF_OUTDIR ?? DEFAULT_OUTPUT_DIR;
  const hcl = process.env.SYNTH_HCL_OUTPUT === "true";
  const allowEtcdMemberRemoval = process.env.KOPSFORM_ALLOW_ETCD_MEMBER_REMOVAL === "true";
  try {
    (await synthesizeOutput(configDir, outdir, hcl, allowEtcdMemberRemoval)).summary.forEach((line) => console.log(line));
  } catch (e) {
    if (e instanceof UserError) {
      e.lines.forEach((line) => console.error(printable(line)));
      process.exit(1);
    }
    const system = describeSystemError(e);
    if (system) {
      console.error(system);
      process.exit(1);
    }
    throw e;
  }
}

void main();
