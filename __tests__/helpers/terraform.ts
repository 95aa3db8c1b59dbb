/**
 * The real Terraform CLI on synthesized stacks, offline: a CLI config with the provider mirror, the
 * credential-free override, then init, validate, plan and show. These tests never skip: without
 * Terraform or the mirror they fail and say what to install or set.
 */
import * as fs from "fs";
import * as path from "path";
import {
  PlanJson,
  Terraform,
  TerraformResult,
  findProviderMirror,
  terraformVersion,
  writeOfflineOverride,
} from "../../cli/terraform";

let checked: string | undefined;

/** The provider mirror; throws a clear message when Terraform or the mirror is missing. */
export function requireTerraform(): string {
  if (checked) {
    return checked;
  }
  if (!terraformVersion()) {
    throw new Error(
      "terraform is not on PATH. Install Terraform >= 1.10 (the tests run terraform validate and plan); .ci/run checks for it.",
    );
  }
  const mirror = findProviderMirror();
  if (!mirror) {
    throw new Error(
      "no filesystem mirror of the hashicorp/aws provider found. Set KOPSFORM_TF_MIRROR to the folder that " +
        "holds registry.terraform.io/hashicorp/aws (.ci/run finds it with find / -name 'terraform-provider-aws*').",
    );
  }
  checked = mirror;
  return mirror;
}

/** The Terraform CLI as the tests run it: every command is recorded for the run's summary. */
class RecordedTerraform extends Terraform {
  run(args: readonly string[]): TerraformResult {
    const log = process.env.KOPSFORM_TERRAFORM_LOG;
    if (log) {
      fs.appendFileSync(log, `terraform ${args[0]}\n`);
    }
    return super.run(args);
  }
}

/** A Terraform runner on a stack directory, using the offline mirror. */
export function terraformIn(stackDir: string): Terraform {
  return new RecordedTerraform(stackDir, { mirror: requireTerraform() });
}

/** init (without backend) + validate; returns the diagnostics. */
export function validateStack(stackDir: string): ReturnType<Terraform["validate"]> {
  const tf = terraformIn(stackDir);
  tf.init({ backend: false });
  return tf.validate();
}

/** init + offline plan + show; returns the plan JSON and the plan command's result. */
export function planOffline(stackDir: string, options: { refresh?: boolean } = {}): { plan?: PlanJson; result: TerraformResult } {
  const tf = terraformIn(stackDir);
  writeOfflineOverride(stackDir);
  tf.init();
  const out = path.join(stackDir, "test.tfplan");
  const result = tf.plan({ out, refresh: options.refresh });
  if (result.status === 1) {
    return { result };
  }
  return { plan: tf.showJson(out), result };
}

/** Resource changes of a plan, by address. */
export function changesByAddress(plan: PlanJson): Record<string, readonly string[]> {
  return Object.fromEntries((plan.resource_changes ?? []).map((c) => [c.address, c.change.actions]));
}
