/**
 * A worker thread's share of a fleet's synthesis (see synthesizeClusters in stacks/app.ts): it
 * synthesizes the stacks of the specs it is given and posts back their manifest entries, or the lines
 * of a user error (which the main thread turns back into a UserError, exit 1).
 */
import { parentPort, workerData } from "worker_threads";
import { UserError } from "../spec/problems";
import { ValidatedSpec } from "../spec/validate";
import { synthesizeStacks } from "./app";

const { specs, outdir, hcl } = workerData as { specs: ValidatedSpec[]; outdir: string; hcl: boolean };
try {
  parentPort?.postMessage({ part: synthesizeStacks(specs, outdir, hcl) });
} catch (e) {
  if (!(e instanceof UserError)) {
    throw e;
  }
  parentPort?.postMessage({ userError: e.lines });
}
