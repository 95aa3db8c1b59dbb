/**
 * `kopsform plan`: `terraform init` and `terraform plan` on every synthesized stack, and the Markdown
 * summary a pull request shows. Exit codes follow `terraform plan -detailed-exitcode`: 0 no changes,
 * 2 changes, 1 an error, so that CI can tell the cases apart.
 *
 * etcd data is guarded twice. Terraform refuses a plan that destroys a volume whose configuration
 * still has `prevent_destroy` (a replacement); but when the volume's resource is gone from the
 * configuration (a member dropped from the spec's record instead of retired), Terraform plans the
 * delete, as it documents. So `kopsform plan` itself refuses any plan that destroys or replaces an etcd
 * volume (exit 1, the volume named), unless `--allow-etcd-member-removal` accepts it. A retired member's
 * volumes are forgotten, not destroyed (`removed` blocks), and pass.
 */
import * as fs from "fs";
import * as path from "path";
import { UserError } from "../spec/problems";
import { Io } from "./io";
import { StackPlan, countChanges, dangerousChanges, renderPlanSummary } from "./plan-summary";
import {
  PlanJson,
  Terraform,
  TerraformError,
  findProviderMirror,
  removeOfflineOverride,
  writeOfflineOverride,
} from "./terraform";

/** Options of `kopsform plan`. */
export interface PlanOptions {
  /** The synthesized output. @default "cdktf.out" */
  readonly output: string;
  /**
   * Plan without AWS credentials: adds the credential-free provider override next to each stack for
   * the duration of the plan (and removes it after), and plans with `-refresh=false` against the
   * state as it is. Data sources still need AWS.
   * @default false
   */
  readonly offline: boolean;
  /** Write the summary of every stack to this file. @default none (each stack still gets plan-summary.md) */
  readonly summary?: string;
  /**
   * Accept a plan that destroys or replaces etcd volumes (after the manual member-removal procedure).
   * @default false
   */
  readonly allowEtcdMemberRemoval?: boolean;
  /**
   * A filesystem mirror root for the AWS provider (the folder holding registry.terraform.io).
   * @default $KOPSFORM_TF_MIRROR; with --offline, a usual mirror location if one exists; else your
   * own Terraform configuration
   */
  readonly providerMirror?: string;
}

/** The plan file and summary written into each stack directory. */
export const PLAN_FILE = "kopsform.tfplan";
export const STACK_SUMMARY_FILE = "plan-summary.md";

/** Exit codes of `kopsform plan`, as `terraform plan -detailed-exitcode`. */
export const PLAN_EXIT = { noChanges: 0, error: 1, changes: 2 } as const;

/** Plans every stack of the output; returns the exit code. */
export function plan(options: PlanOptions, io: Io): number {
  const stacks = synthesizedStacks(options.output);
  const mirror = options.providerMirror ?? process.env.KOPSFORM_TF_MIRROR ?? (options.offline ? findProviderMirror() : undefined);
  const plans: StackPlan[] = [];
  const failures: string[] = [];
  let changed = false;
  for (const stack of stacks) {
    const dir = path.join(options.output, "stacks", stack);
    try {
      const result = planStack(dir, stack, options.offline, mirror);
      if ("refused" in result) {
        failures.push(result.refused);
        continue;
      }
      plans.push({ stack, plan: result.plan });
      changed ||= result.changed;
      fs.writeFileSync(path.join(dir, STACK_SUMMARY_FILE), renderPlanSummary([{ stack, plan: result.plan }]));
      const c = countChanges(result.plan);
      io.out(
        `${stack}: ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy, ${c.replace} to replace ` +
          `(plan: ${path.join(dir, PLAN_FILE)})`,
      );
      const etcd = dangerousChanges(result.plan).filter((d) => d.type === "aws_ebs_volume");
      if (etcd.length > 0 && !options.allowEtcdMemberRemoval) {
        failures.push(
          `${stack}: the plan would ${etcd.map((d) => `${d.action} ${d.address}`).join(", ")}: etcd data. ` +
            "To remove a master, retire its member in the spec (etcdctl member remove first, then move it from " +
            "etcdMembers to retiredEtcdMembers; README, \"Removing a master\"): Terraform then forgets its volumes " +
            "instead of destroying them. To have them destroyed anyway, rerun with --allow-etcd-member-removal.",
        );
      }
    } catch (e) {
      if (!(e instanceof TerraformError)) {
        throw e;
      }
      failures.push(`${stack}: ${e.message.trim()}`);
    }
  }
  if (options.summary && plans.length > 0) {
    fs.writeFileSync(options.summary, renderPlanSummary(plans));
    io.out(`Wrote the summary to ${options.summary}`);
  }
  failures.forEach((f) => io.err(f));
  if (failures.length > 0) {
    return PLAN_EXIT.error;
  }
  return changed ? PLAN_EXIT.changes : PLAN_EXIT.noChanges;
}

/** The stacks of a synthesized output, from its manifest. */
function synthesizedStacks(output: string): string[] {
  const manifest = path.join(output, "manifest.json");
  if (!fs.existsSync(manifest)) {
    throw new UserError([`${output}: nothing synthesized (no manifest.json); run npx kopsform synth first.`]);
  }
  return Object.keys((JSON.parse(fs.readFileSync(manifest, "utf8")) as { stacks: Record<string, unknown> }).stacks).sort();
}

/** Init and plan one stack; a plan Terraform refuses comes back as a message naming what it protects. */
function planStack(
  dir: string,
  stack: string,
  offline: boolean,
  mirror: string | undefined,
): { plan: PlanJson; changed: boolean } | { refused: string } {
  const terraform = new Terraform(dir, { mirror });
  if (offline) {
    writeOfflineOverride(dir);
  }
  try {
    terraform.init();
    // Offline there is no AWS to refresh existing resources against: plan against the state as it is.
    const result = terraform.plan({ out: PLAN_FILE, refresh: !offline });
    if (result.status === PLAN_EXIT.error) {
      return { refused: refusal(stack, result.stderr || result.stdout) };
    }
    // Terraform's own verdict: outputs-only changes count as changes, as with -detailed-exitcode.
    return { plan: terraform.showJson(PLAN_FILE), changed: result.status === PLAN_EXIT.changes };
  } finally {
    if (offline) {
      // Never leave fake credentials next to a stack that someone will apply.
      removeOfflineOverride(dir);
    }
  }
}

/** Terraform's own error, led by the resources `prevent_destroy` protects when that is the cause. */
function refusal(stack: string, output: string): string {
  const protectedResources = [...output.matchAll(/Resource (\S+) has\s+lifecycle\.prevent_destroy\s+set/g)].map((m) => m[1]);
  if (protectedResources.length > 0) {
    return (
      `${stack}: Terraform refuses the plan: it would destroy ${[...new Set(protectedResources)].join(", ")}, ` +
      "protected by prevent_destroy (etcd data): a change of an attribute that cannot change in place (zone, " +
      "encryption key, ...) would replace it; revert that change. To remove a master, retire its member in the " +
      "spec instead (README, \"Removing a master\")."
    );
  }
  return `${stack}: terraform plan failed:\n${output.trim()}`;
}
