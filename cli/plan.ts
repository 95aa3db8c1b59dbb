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
 *
 * What it touches: only stack directories it can prove are inside the output (the manifest's names
 * are checked as cluster names, each a real directory under `OUTPUT/stacks/`), under the output's
 * lock. `--offline` never puts its fake credentials in a stack directory: it plans a copy of the
 * stack's configuration in a directory of its own beside it (same depth, so that the relative state
 * path is the same; the stack's own `.terraform/` as data directory), which an interrupt removes and
 * the next run cleans up if the process was killed. Terraform runs as a child that an interrupt stops
 * cleanly (cli/interrupt.ts) before the cleanup and the exit. Every stack gets a summary, also when it was
 * not planned (a failure, a lookup that needs AWS offline, a spec that is gone): an old "No changes"
 * never stays behind.
 */
import * as fs from "fs";
import * as path from "path";
import { checkClusterName } from "../spec/checks";
import { parseSpecText, readSpecFile } from "../spec/load";
import { ValidatedSpec } from "../spec/validate";
import { UserError } from "../spec/problems";
import { OFFLINE_DIR_PREFIX, checkOutputDirectory, isCdktfManifest, lockOutput } from "../stacks/output";
import { Io } from "./io";
import { StackReport, countChanges, dangerousChanges, normalizePlan, removalFindsNothing, renderPlanSummary } from "./plan-summary";
import { throwIfInterrupted, watchInterrupts } from "./interrupt";
import { OFFLINE_OVERRIDE_FILE, PlanJson, Terraform, TerraformError, TerraformProcess, findProviderMirror, offlineOverrideText } from "./terraform";

/** Options of `kopsform plan`. */
export interface PlanOptions {
  /** The synthesized output. @default "cdktf.out" */
  readonly output: string;
  /**
   * Plan without AWS credentials: plans each stack's configuration with a credential-free provider
   * override, in a directory beside the stack (never in it), with `-refresh=false` against the state
   * as it is. Stacks with data sources (image or DNS zone lookups) need AWS: they are validated only.
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
  /**
   * Specs that a change removes, as they were before it (CI passes those of a pull request or push,
   * from git). Each cluster's destruction is planned from its old spec: a cluster whose state still
   * holds resources is refused (exit 1), its summary showing what destroying it would do; one whose
   * state holds nothing (deleted with `kopsform delete cluster`) is reported as gone. The summary is
   * `OUTPUT/stacks/NAME/plan-summary.md`.
   * @default none
   */
  readonly removedSpecs?: readonly string[];
}

/** The plan file and summary written into each stack directory. */
export const PLAN_FILE = "kopsform.tfplan";
export const STACK_SUMMARY_FILE = "plan-summary.md";

/** Exit codes of `kopsform plan`, as `terraform plan -detailed-exitcode`. */
export const PLAN_EXIT = { noChanges: 0, error: 1, changes: 2 } as const;

/** The configuration files of a stack that a plan reads (kopsform's, and any the user added). */
const CONFIG_FILE = /\.tf(\.json)?$/;

/**
 * Plans every stack of the output; returns the exit code. An interrupt stops the running Terraform,
 * cleans up, and ends in {@link Interrupted} (see cli/interrupt.ts).
 */
export async function plan(options: PlanOptions, io: Io): Promise<number> {
  const unwatch = watchInterrupts();
  try {
    return await planOutput(options, io);
  } finally {
    unwatch();
  }
}

async function planOutput(options: PlanOptions, io: Io): Promise<number> {
  if (!checkOutputDirectory(options.output)) {
    throw new UserError([`${options.output}: nothing synthesized (no such directory); run npx kopsform synth first.`]);
  }
  checkSummaryPath(options.summary);
  const removed = readRemovedSpecs(options.removedSpecs ?? []);
  const lock = lockOutput(options.output);
  try {
    return await planStacks(options, removed, io);
  } finally {
    lock.release();
  }
}

async function planStacks(options: PlanOptions, removed: readonly ValidatedSpec[], io: Io): Promise<number> {
  const { stacks, orphans } = synthesizedStacks(options.output);
  const mirror = options.providerMirror ?? process.env.KOPSFORM_TF_MIRROR ?? (options.offline ? findProviderMirror() : undefined);
  const reports: StackReport[] = [];
  const failures: string[] = [];
  let changed = false;
  for (const stack of stacks) {
    throwIfInterrupted();
    const dir = path.join(options.output, "stacks", stack);
    // An earlier plan and summary never outlive this run: a failure below leaves none behind.
    fs.rmSync(path.join(dir, PLAN_FILE), { force: true });
    fs.rmSync(path.join(dir, STACK_SUMMARY_FILE), { force: true });
    // Fake credentials never belong in a stack directory (releases before this one could leave them).
    fs.rmSync(path.join(dir, OFFLINE_OVERRIDE_FILE), { force: true });
    const report = (entry: StackReport) => {
      reports.push(entry);
      writeAtomically(path.join(dir, STACK_SUMMARY_FILE), renderPlanSummary([entry]));
    };
    try {
      const lookups = options.offline ? dataSourcesOf(dir) : [];
      if (lookups.length > 0) {
        await validateOnly(dir, mirror);
        report({ stack, validatedOnly: lookups });
        io.out(`${stack}: validated, not planned: offline, it needs AWS for ${lookups.join(", ")}`);
        continue;
      }
      const result = await planStack(dir, options.offline, mirror);
      if ("refused" in result) {
        failures.push(`${stack}: ${result.refused}`);
        report({ stack, failed: result.firstLine });
        continue;
      }
      report({ stack, plan: result.plan });
      changed ||= result.changed;
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
      report({ stack, failed: firstErrorLine(e.result.stderr || e.result.stdout) });
    }
  }
  // Clusters whose spec is gone: their stack directory is left (orphans), or CI names their old spec.
  const removals: [string, { dir: string } | { validated: ValidatedSpec }][] = [
    ...orphans.map((name): [string, { dir: string }] => [name, { dir: path.join(options.output, "stacks", name) }]),
    ...removed
      .filter((r) => !stacks.includes(r.spec.name) && !orphans.includes(r.spec.name))
      .map((validated): [string, { validated: ValidatedSpec }] => [validated.spec.name, { validated }]),
  ];
  for (const [name, source] of removals) {
    throwIfInterrupted();
    const dir = path.join(options.output, "stacks", name);
    fs.mkdirSync(dir, { recursive: true });
    const removal = await planRemoval(options.output, name, source, options.offline, mirror);
    const entry: StackReport = { stack: name, specRemoved: true, ...removal };
    reports.push(entry);
    writeAtomically(path.join(dir, STACK_SUMMARY_FILE), renderPlanSummary([entry]));
    if ("destroy" in removal && removalFindsNothing(removal.destroy)) {
      io.out(
        `${name}: spec removed, and its state holds nothing: the cluster is already deleted` +
          ("dir" in source ? ` (its old stack directory ${source.dir} can go)` : ""),
      );
      continue;
    }
    const why =
      "destroy" in removal
        ? `the cluster still exists (destroying it would destroy ${countChanges(removal.destroy).destroy} resources; see its summary)`
        : `kopsform could not tell whether the cluster still exists (${removal.unknown})`;
    failures.push(
      `${name}: its spec is removed, but ${why}. A removed spec never destroys a cluster: delete it on purpose with ` +
        `kopsform delete cluster ${name} (after the etcd backups you need), then remove the spec; or restore the spec.`,
    );
  }
  if (options.summary) {
    writeAtomically(options.summary, renderPlanSummary(reports));
    io.out(`Wrote the summary to ${options.summary}`);
  }
  failures.forEach((f) => io.err(f));
  if (failures.length > 0) {
    return PLAN_EXIT.error;
  }
  return changed ? PLAN_EXIT.changes : PLAN_EXIT.noChanges;
}

/** The specs of `--removed-spec`, each read and validated; one line per bad file. */
function readRemovedSpecs(files: readonly string[]): ValidatedSpec[] {
  const specs: ValidatedSpec[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      specs.push(parseSpecText(readSpecFile(file), file));
    } catch (e) {
      if (!(e instanceof UserError)) {
        throw e;
      }
      problems.push(...e.lines.map((line) => `--removed-spec: ${line}`));
    }
  }
  if (problems.length > 0) {
    throw new UserError(problems);
  }
  return specs;
}

/**
 * What destroying a cluster whose spec is gone would do: `terraform plan -destroy` of its last
 * configuration (the orphan stack directory's, or its old spec synthesized), run in a directory of its
 * own beside the stacks (same depth, so that a local state is found; its own data directory), never in
 * a stack directory, and its plan discarded: nothing here can be applied.
 */
async function planRemoval(
  output: string,
  name: string,
  source: { dir: string } | { validated: ValidatedSpec },
  offline: boolean,
  mirror: string | undefined,
): Promise<{ destroy: PlanJson } | { unknown: string }> {
  const work = path.join(output, "stacks", `${OFFLINE_DIR_PREFIX}${process.pid}-removed-${name}`);
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work);
  try {
    if ("dir" in source) {
      for (const file of fs.readdirSync(source.dir).filter((f) => CONFIG_FILE.test(f) || f === ".terraform.lock.hcl")) {
        fs.copyFileSync(path.join(source.dir, file), path.join(work, file));
      }
    } else {
      const { synthesizeClusters } = await import("../stacks/app");
      const root = path.join(work, ".synth");
      await synthesizeClusters([source.validated], root, false);
      fs.copyFileSync(path.join(root, "stacks", name, "cdk.tf.json"), path.join(work, "cdk.tf.json"));
      fs.rmSync(root, { recursive: true, force: true });
    }
    fs.rmSync(path.join(work, OFFLINE_OVERRIDE_FILE), { force: true });
    liftPreventDestroy(work);
    // A local state that is not here (CI's fresh checkout, another machine) is not an empty state.
    const localState = localStateOf(work);
    if (localState !== undefined && !fs.existsSync(localState)) {
      return { unknown: `its local state ${localState} does not exist here` };
    }
    if (offline) {
      const lookups = dataSourcesOf(work);
      if (lookups.length > 0) {
        return { unknown: `offline, planning it needs AWS for ${lookups.join(", ")}` };
      }
      fs.writeFileSync(path.join(work, OFFLINE_OVERRIDE_FILE), offlineOverrideText());
    }
    const terraform = new TerraformProcess(new Terraform(work, { mirror }));
    try {
      await terraform.init();
      if (usesCloudBlock(work)) {
        // HCP Terraform runs plans in the workspace, where a saved destroy plan is a run that could be
        // confirmed and applied: the state is read instead, and nothing is started there.
        const text = (await terraform.statePull()).trim();
        try {
          // A workspace without a state version pulls as nothing: nothing was ever applied there.
          return { destroy: destroyFromState(text === "" ? {} : (JSON.parse(text) as unknown)) };
        } catch {
          return { unknown: "terraform state pull gave no state kopsform can read" };
        }
      }
      const planFile = path.join(work, "destroy.tfplan");
      const result = await terraform.plan({ out: planFile, refresh: !offline, destroy: true });
      if (result.status === PLAN_EXIT.error) {
        return { unknown: `terraform plan -destroy failed: ${firstErrorLine(result.stderr || result.stdout)}` };
      }
      return { destroy: normalizePlan((await terraform.showJson(planFile)) as unknown as Record<string, unknown>) };
    } catch (e) {
      if (!(e instanceof TerraformError)) {
        throw e;
      }
      return { unknown: `terraform ${e.command} failed: ${firstErrorLine(e.result.stderr || e.result.stdout)}` };
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** True when a configuration's state is in HCP Terraform (a `cloud` block), in either syntax. */
export function usesCloudBlock(dir: string): boolean {
  const json = path.join(dir, "cdk.tf.json");
  if (fs.existsSync(json)) {
    return (JSON.parse(fs.readFileSync(json, "utf8")) as { terraform?: { cloud?: unknown } }).terraform?.cloud !== undefined;
  }
  const hcl = path.join(dir, "cdk.tf");
  return fs.existsSync(hcl) && /^\s*cloud\s*\{/m.test(fs.readFileSync(hcl, "utf8"));
}

/**
 * What `terraform plan -destroy` without a refresh would list, from a state (`terraform state pull`,
 * format version 4): a delete of every instance of every managed resource.
 */
export function destroyFromState(state: unknown): PlanJson {
  const resources = (state as { resources?: unknown } | null)?.resources;
  const changes = (Array.isArray(resources) ? resources : []).flatMap((r: Record<string, unknown>) => {
    if (r.mode !== "managed" || typeof r.type !== "string" || typeof r.name !== "string") {
      return [];
    }
    const base = `${typeof r.module === "string" ? `${r.module}.` : ""}${r.type}.${r.name}`;
    const instances = Array.isArray(r.instances) ? (r.instances as { index_key?: unknown; attributes?: unknown }[]) : [];
    return instances.map((instance) => ({
      address: instance.index_key === undefined ? base : `${base}[${JSON.stringify(instance.index_key)}]`,
      mode: "managed" as const,
      type: r.type as string,
      name: r.name as string,
      change: { actions: ["delete"], before: instance.attributes ?? null, after: null },
    }));
  });
  return { resource_changes: changes } as unknown as PlanJson;
}

/**
 * The state file of a configuration with a local backend (relative to the working directory of this
 * process), or `undefined` for a remote backend. A local backend whose path cannot be read from the
 * configuration gives a path that does not exist, so that the caller refuses rather than guesses.
 */
function localStateOf(dir: string): string | undefined {
  const json = path.join(dir, "cdk.tf.json");
  let statePath: unknown;
  let local = false;
  if (fs.existsSync(json)) {
    const backend = (JSON.parse(fs.readFileSync(json, "utf8")) as { terraform?: { backend?: { local?: { path?: unknown } } } }).terraform
      ?.backend?.local;
    local = backend !== undefined;
    statePath = backend?.path;
  } else if (fs.existsSync(path.join(dir, "cdk.tf"))) {
    const text = fs.readFileSync(path.join(dir, "cdk.tf"), "utf8");
    local = /^\s*backend\s+"local"\s*\{/m.test(text);
    statePath = /^\s*backend\s+"local"\s*\{\s*\n\s*path\s*=\s*"([^"\\$%]*)"\s*\n/m.exec(text)?.[1];
  }
  if (!local) {
    return undefined;
  }
  // Terraform's default for a local backend without a path.
  return path.normalize(path.join(dir, typeof statePath === "string" ? statePath : "terraform.tfstate"));
}

/**
 * Turns off every `prevent_destroy` in the configuration files of a removal's own directory, so that
 * `terraform plan -destroy` shows what destroying the cluster would do (the etcd volumes among it)
 * instead of stopping at the first protected volume. Safe because that plan is only shown: it is
 * written inside that directory, which is removed right after, and never applied. In HCL (kopsform's
 * writer puts each attribute on a line of its own, and a quoted string never spans lines) only an
 * attribute line matches.
 */
function liftPreventDestroy(dir: string): void {
  for (const file of fs.readdirSync(dir).filter((f) => CONFIG_FILE.test(f))) {
    const full = path.join(dir, file);
    if (file.endsWith(".json")) {
      const config = JSON.parse(fs.readFileSync(full, "utf8")) as {
        resource?: Record<string, Record<string, { lifecycle?: { prevent_destroy?: unknown } }>>;
      };
      for (const byName of Object.values(config.resource ?? {})) {
        for (const body of Object.values(byName)) {
          if (body.lifecycle?.prevent_destroy !== undefined) {
            body.lifecycle.prevent_destroy = false;
          }
        }
      }
      fs.writeFileSync(full, JSON.stringify(config, null, 2));
    } else {
      fs.writeFileSync(full, fs.readFileSync(full, "utf8").replace(/^(\s*prevent_destroy\s*=\s*)true\s*$/gm, "$1false"));
    }
  }
}

/** Refuses, before any planning, a `--summary` that names a directory. */
function checkSummaryPath(summary: string | undefined): void {
  if (summary === undefined) {
    return;
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(summary);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) {
    throw new UserError([`--summary ${summary}: is a directory; give the path of a file to write the summary to.`]);
  }
  const parent = path.dirname(path.resolve(summary));
  if (!fs.existsSync(parent)) {
    throw new UserError([`--summary ${summary}: the directory ${parent} does not exist; create it or give another path.`]);
  }
}

/**
 * The stacks of a synthesized output, from its manifest, each proven to be a directory under
 * `OUTPUT/stacks/` (a manifest naming `../../x` is refused), and the stack directories with a
 * configuration that the manifest does not name (their spec is gone).
 */
function synthesizedStacks(output: string): { stacks: string[]; orphans: string[] } {
  const manifestFile = path.join(output, "manifest.json");
  let text: string;
  try {
    text = fs.readFileSync(manifestFile, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new UserError([`${output}: nothing synthesized (no manifest.json); run npx kopsform synth first.`]);
    }
    throw e;
  }
  if (!isCdktfManifest(text)) {
    throw new UserError([
      `${manifestFile}: is not a manifest kopsform wrote (empty, truncated or changed by hand); run npx kopsform synth again.`,
    ]);
  }
  const names = Object.keys((JSON.parse(text) as { stacks: Record<string, unknown> }).stacks).sort();
  const stacksDir = path.join(output, "stacks");
  const realStacks = fs.existsSync(stacksDir) ? fs.realpathSync(stacksDir) : path.resolve(stacksDir);
  const problems: string[] = [];
  for (const name of names) {
    const dir = path.join(stacksDir, name);
    const bad = checkClusterName(name);
    if (bad) {
      problems.push(`${manifestFile}: names the stack ${JSON.stringify(name)}, which is not a cluster name; run npx kopsform synth again.`);
      continue;
    }
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(dir);
    } catch {
      stat = undefined;
    }
    if (!stat?.isDirectory() || path.dirname(fs.realpathSync(dir)) !== realStacks) {
      problems.push(`${dir}: is not a stack directory of this output (missing, or a link); run npx kopsform synth again.`);
    }
  }
  if (problems.length > 0) {
    throw new UserError(problems);
  }
  const orphans = fs
    .readdirSync(stacksDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !names.includes(e.name))
    .filter((e) => fs.readdirSync(path.join(stacksDir, e.name)).some((f) => CONFIG_FILE.test(f)))
    .map((e) => e.name)
    .sort();
  return { stacks: names, orphans };
}

/**
 * The data sources of a stack's configuration, described for a reader: offline they cannot be read,
 * so the stack is validated, not planned.
 */
function dataSourcesOf(dir: string): string[] {
  const described = (type: string, name: string) =>
    type === "aws_ami"
      ? `the image lookup data.aws_ami.${name}`
      : type === "aws_route53_zone"
        ? `the DNS zone lookup data.aws_route53_zone.${name}`
        : `data.${type}.${name}`;
  const found: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => CONFIG_FILE.test(f)).sort()) {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    if (file.endsWith(".json")) {
      const data = (JSON.parse(text) as { data?: Record<string, Record<string, unknown>> }).data ?? {};
      for (const [type, byName] of Object.entries(data)) {
        Object.keys(byName).forEach((name) => found.push(described(type, name)));
      }
    } else {
      for (const m of text.matchAll(/^data "([^"]+)" "([^"]+)"/gm)) {
        found.push(described(m[1], m[2]));
      }
    }
  }
  return found;
}

/** `terraform init -backend=false` and `terraform validate` in the stack (no credentials needed). */
async function validateOnly(dir: string, mirror: string | undefined): Promise<void> {
  const terraform = new TerraformProcess(new Terraform(dir, { mirror }));
  await terraform.init({ backend: false });
  const result = await terraform.validate();
  if (!result.valid) {
    const errors = result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.summary}${d.detail ? `: ${d.detail}` : ""}`);
    throw new TerraformError("validate", { status: 1, stdout: "", stderr: errors.join("\n") });
  }
}

/** The result of planning one stack. */
type StackResult = { plan: PlanJson; changed: boolean } | { refused: string; firstLine: string };

/** Init and plan one stack; a plan Terraform refuses comes back as a message naming what it protects. */
async function planStack(dir: string, offline: boolean, mirror: string | undefined): Promise<StackResult> {
  if (!offline) {
    return planIn(new TerraformProcess(new Terraform(dir, { mirror })), dir, false);
  }
  // The stack's configuration, copied beside it with the override; the stack's own data directory.
  const offlineDir = path.join(path.dirname(dir), `${OFFLINE_DIR_PREFIX}${process.pid}-${path.basename(dir)}`);
  try {
    fs.mkdirSync(offlineDir);
    for (const file of fs.readdirSync(dir).filter((f) => CONFIG_FILE.test(f) || f === ".terraform.lock.hcl")) {
      fs.copyFileSync(path.join(dir, file), path.join(offlineDir, file));
    }
    fs.writeFileSync(path.join(offlineDir, OFFLINE_OVERRIDE_FILE), offlineOverrideText());
    const result = await planIn(new TerraformProcess(new Terraform(offlineDir, { mirror, dataDir: path.join(dir, ".terraform") })), dir, true);
    const lockFile = path.join(offlineDir, ".terraform.lock.hcl");
    if (!fs.existsSync(path.join(dir, ".terraform.lock.hcl")) && fs.existsSync(lockFile)) {
      fs.copyFileSync(lockFile, path.join(dir, ".terraform.lock.hcl"));
    }
    return result;
  } finally {
    fs.rmSync(offlineDir, { recursive: true, force: true });
  }
}

/** init, plan -out (into the stack directory) and show, with `terraform` run where it was made. */
async function planIn(terraform: TerraformProcess, stackDir: string, offline: boolean): Promise<StackResult> {
  await terraform.init();
  const planFile = path.resolve(stackDir, PLAN_FILE);
  // Offline there is no AWS to refresh existing resources against: plan against the state as it is.
  const result = await terraform.plan({ out: planFile, refresh: !offline });
  if (result.status === PLAN_EXIT.error) {
    fs.rmSync(planFile, { force: true });
    const output = result.stderr || result.stdout;
    return { refused: refusal(output), firstLine: firstErrorLine(output) };
  }
  // Terraform's own verdict: outputs-only changes count as changes, as with -detailed-exitcode.
  return { plan: normalizePlan((await terraform.showJson(planFile)) as unknown as Record<string, unknown>), changed: result.status === PLAN_EXIT.changes };
}

/** Terraform's own error, led by the resources `prevent_destroy` protects when that is the cause. */
function refusal(output: string): string {
  const protectedResources = [...output.matchAll(/Resource (\S+) has\s+lifecycle\.prevent_destroy\s+set/g)].map((m) => m[1]);
  if (protectedResources.length > 0) {
    return (
      `Terraform refuses the plan: it would destroy ${[...new Set(protectedResources)].join(", ")}, ` +
      "protected by prevent_destroy (etcd data): a change of an attribute that cannot change in place (zone, " +
      "encryption key, ...) would replace it; revert that change. To remove a master, retire its member in the " +
      "spec instead (README, \"Removing a master\")."
    );
  }
  return `terraform plan failed:\n${output.trim()}`;
}

/** The first line of Terraform's error (`Error: ...`), for a summary. */
function firstErrorLine(output: string): string {
  const line = output.split("\n").find((l) => /Error: /.test(l)) ?? output.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.replace(/^[│╷╵\s]+/, "").trim().slice(0, 300);
}

/** Writes through a temporary file and a rename, so that a reader never sees half a file. */
function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
