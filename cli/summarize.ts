/**
 * `kopsform summarize PLAN.json...`: the pull request summary of plans already shown as JSON, for CI
 * systems that run Terraform themselves (HCP Terraform, Atlantis, a plain `terraform plan`).
 */
import * as fs from "fs";
import * as path from "path";
import { UserError } from "../spec/problems";
import { Io, UsageError } from "./io";
import { StackPlan, normalizePlan, renderPlanSummary, stackNameOf } from "./plan-summary";
import { PlanJson } from "./terraform";

/** How to make the file this command reads, said in every error about one. */
const HOW_TO_MAKE_ONE = "pass the output of `terraform show -json PLANFILE > PLAN.json`";

/**
 * Reads each file as `terraform show -json` output of a plan and writes the summary of all of them to
 * `io.out` (Markdown, one section per stack, in the order given); returns the exit code 0. A plan
 * without a `cluster_name` output is named after its file (`prod.json` -> `prod`). Throws
 * {@link UserError}, one line per bad file naming it and the fix, before writing anything, when a file
 * cannot be read or is not a plan's JSON; {@link UsageError} when no file is given.
 */
export function summarizeFiles(files: readonly string[], io: Io): number {
  if (files.length === 0) {
    throw new UsageError(`summarize needs at least one PLAN.json: ${HOW_TO_MAKE_ONE}.`);
  }
  const plans: StackPlan[] = [];
  const problems: string[] = [];
  for (const file of files) {
    const read = readPlanFile(file);
    if (typeof read === "string") {
      problems.push(read);
    } else {
      plans.push({ stack: stackNameOf(read, path.basename(file).replace(/\.json$/i, "")), plan: read });
    }
  }
  if (problems.length > 0) {
    throw new UserError(problems);
  }
  io.out(renderPlanSummary(plans).trimEnd());
  return 0;
}

/** The plan in `file`, or the line that says what is wrong with the file and how to fix it. */
function readPlanFile(file: string): PlanJson | string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return code === "EISDIR"
      ? `${file}: is a directory; ${HOW_TO_MAKE_ONE}.`
      : `${file}: cannot read the file (${code}); ${HOW_TO_MAKE_ONE}.`;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A binary plan (a zip file) is the usual mistake.
    return `${file}: not JSON (a binary plan file?); ${HOW_TO_MAKE_ONE}.`;
  }
  if (!isPlanJson(json)) {
    return `${file}: JSON, but not a Terraform plan (no format_version with planned_values or resource_changes); ${HOW_TO_MAKE_ONE}.`;
  }
  return normalizePlan(json);
}

/**
 * Whether `json` looks like `terraform show -json` of a plan. State JSON (`terraform show -json`
 * without a plan) has `values` instead of `planned_values`, so it is refused.
 */
function isPlanJson(json: unknown): json is PlanJson {
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    return false;
  }
  const plan = json as Record<string, unknown>;
  return (
    typeof plan.format_version === "string" &&
    ((plan.planned_values !== null && typeof plan.planned_values === "object") ||
      Array.isArray(plan.resource_changes)) &&
    (plan.resource_changes === undefined || Array.isArray(plan.resource_changes))
  );
}
