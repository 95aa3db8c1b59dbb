/**
 * The benchmark's floor: an empty cdktf app in the same node_modules (one empty stack, synthesized),
 * so that kopsform's figures can be read as ratios to what any cdktf app costs.
 */
import { App, TerraformStack } from "cdktf";

const app = new App({ outdir: process.argv[2] ?? "cdktf.out" });
new TerraformStack(app, "empty");
app.synth();
