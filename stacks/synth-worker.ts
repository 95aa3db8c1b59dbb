/**
 * A worker thread's share of a fleet's synthesis (see synthesizeClusters in stacks/app.ts): it
 * synthesizes the stacks of the specs it is given and posts back their manifest entries.
 */
import { parentPort, workerData } from "worker_threads";
import { ValidatedSpec } from "../spec/validate";
import { synthesizeStacks } from "./app";

const { specs, outdir, hcl } = workerData as { specs: ValidatedSpec[]; outdir: string; hcl: boolean };
parentPort?.postMessage(synthesizeStacks(specs, outdir, hcl));
