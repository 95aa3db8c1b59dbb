/**
 * `kopsform delete cluster NAME [--yes] [--delete-backups]`: the documented, safe way to remove a
 * cluster. It shows what goes, then (with --yes) runs the destroy through Terraform and removes what
 * the cluster wrote at run time that Terraform does not own.
 *
 * The safeguards (the etcd volumes' `prevent_destroy`, the API load balancer's deletion protection)
 * are lifted for this run only: the cluster is synthesized into a temporary stack beside the output
 * directory (so that a local backend's relative state path still points at the cluster's state),
 * with those settings overridden there. The committed spec and the output directory are not touched.
 *
 * The etcd backups are kept unless --delete-backups: their bucket, and the cluster's KMS key that
 * encrypts them, are taken out of Terraform's state before the destroy (so they stay, readable), and
 * the command says how to remove them later.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DeleteParametersCommand, DescribeParametersCommand, ParameterMetadata } from "@aws-sdk/client-ssm";
import { UserError } from "../spec/problems";
import { ClusterSpec } from "../spec/types";
import { ValidatedSpec } from "../spec/validate";
import { AwsClients, awsCall } from "./aws";
import { loadClusterSpec } from "./cluster-spec";
import { Io } from "./io";
import { Terraform, TerraformError, findProviderMirror } from "./terraform";

/** Options of `delete cluster`. */
export interface DeleteClusterOptions {
  readonly name: string;
  /** Do it; without, show what goes. */
  readonly yes: boolean;
  /** Delete the etcd backups too. @default false (kept, with their bucket and key) */
  readonly deleteBackups: boolean;
  readonly configDir: string;
  /** The synthesized output; the temporary stack is made beside it. @default "cdktf.out" */
  readonly output: string;
  /** @default $KOPSFORM_TF_MIRROR, else the user's Terraform configuration */
  readonly providerMirror?: string;
}

/** The run-time store of a cluster (docs/runtime.md); the trailing slash keeps `NAME.other` out. */
export function runtimePrefix(name: string): string {
  return `/kopsform/${name}/`;
}

/**
 * The parameters of `names` that cluster `name` wrote at run time: under `/kopsform/NAME/` exactly
 * (never `/kopsform/NAME.other/` or `/kopsform/NAME-2/`), except Terraform's own `config/` ones.
 */
export function ownRuntimeParameters(names: readonly string[], name: string): string[] {
  const prefix = runtimePrefix(name);
  return names.filter((n) => n.startsWith(prefix) && !n.startsWith(`${prefix}config/`) && n.length > prefix.length).sort();
}

/** What lifting the safeguards changed in the temporary stack. */
export interface LiftedSafeguards {
  /** Addresses whose `prevent_destroy` was turned off. */
  readonly preventDestroy: readonly string[];
  /** Load balancers whose deletion protection is off in the copy. */
  readonly deletionProtection: readonly string[];
  /** Buckets given `force_destroy` (with --delete-backups). */
  readonly forceDestroy: readonly string[];
}

type TfJson = { resource?: Record<string, Record<string, Record<string, unknown>>> };

/**
 * Turns off, in a synthesized `cdk.tf.json`, every `prevent_destroy` and the load balancers'
 * deletion protection; with `deleteBackups`, gives the buckets `force_destroy` (a versioned bucket
 * is emptied, old versions included). Only the temporary copy is changed.
 */
export function liftSafeguards(file: string, deleteBackups: boolean): LiftedSafeguards {
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as TfJson;
  const preventDestroy: string[] = [];
  const deletionProtection: string[] = [];
  const forceDestroy: string[] = [];
  for (const [type, byName] of Object.entries(config.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const lifecycle = body.lifecycle as { prevent_destroy?: boolean } | undefined;
      if (lifecycle?.prevent_destroy) {
        lifecycle.prevent_destroy = false;
        preventDestroy.push(`${type}.${name}`);
      }
      if (type === "aws_lb") {
        body.enable_deletion_protection = false;
        deletionProtection.push(`${type}.${name}`);
      }
      if (type === "aws_s3_bucket" && deleteBackups) {
        body.force_destroy = true;
        forceDestroy.push(`${type}.${name}`);
      }
    }
  }
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return { preventDestroy, deletionProtection, forceDestroy };
}

/**
 * Synthesizes `spec` into a temporary output beside `output` with the safeguards lifted; returns the
 * stack directory (inside the temporary directory `root`, which the caller removes).
 */
export async function prepareDestroyStack(
  validated: ValidatedSpec,
  output: string,
  deleteBackups: boolean,
): Promise<{ root: string; stackDir: string; lifted: LiftedSafeguards }> {
  // Loaded here: cdktf and the provider bindings are needed by this command only once it runs.
  const { synthesizeClusters } = await import("../stacks/app");
  const parent = path.dirname(path.resolve(output));
  fs.mkdirSync(parent, { recursive: true });
  const root = fs.mkdtempSync(path.join(parent, `.kopsform-delete-`));
  try {
    const spec: ClusterSpec = { ...validated.spec, apiLoadBalancerDeletionProtection: false };
    await synthesizeClusters([{ ...validated, spec }], root, false);
    const stackDir = path.join(root, "stacks", spec.name);
    const lifted = liftSafeguards(path.join(stackDir, "cdk.tf.json"), deleteBackups);
    return { root, stackDir, lifted };
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** One resource in Terraform's state, as `terraform show -json` gives it. */
interface StateResource {
  readonly address: string;
  readonly mode: string;
  readonly type: string;
  readonly name: string;
  readonly values?: Record<string, unknown>;
}

function stateResources(show: unknown): StateResource[] {
  const out: StateResource[] = [];
  const walk = (module: { resources?: StateResource[]; child_modules?: unknown[] } | undefined) => {
    if (!module) return;
    out.push(...(module.resources ?? []).filter((r) => r.mode === "managed"));
    (module.child_modules ?? []).forEach((m) => walk(m as typeof module));
  };
  walk((show as { values?: { root_module?: { resources?: StateResource[] } } }).values?.root_module);
  return out;
}

/** Types that hold the backups: the bucket and its settings, and the key that encrypts them. */
function holdsBackups(r: StateResource): boolean {
  return r.type.startsWith("aws_s3_bucket") || r.type === "aws_kms_key" || r.type === "aws_kms_alias";
}

function isEtcdVolume(r: StateResource): boolean {
  const tags = (r.values?.tags ?? {}) as Record<string, string>;
  return r.type === "aws_ebs_volume" && Object.keys(tags).some((k) => k.startsWith("k8s.io/etcd/"));
}

/** Runs `delete cluster`. */
export async function deleteCluster(o: DeleteClusterOptions, io: Io, aws?: AwsClients): Promise<void> {
  const validated = loadClusterSpec(o.configDir, o.name);
  const { spec } = validated;
  const clients = aws ?? new AwsClients(spec.region);
  const { root, stackDir, lifted } = await prepareDestroyStack(validated, o.output, o.deleteBackups);
  try {
    const tf = new Terraform(stackDir, { mirror: o.providerMirror ?? findProviderMirror() });
    terraformStep("init", () => tf.init());
    const shown = terraformStep("show", () => tf.run(["show", "-json", "-no-color"]));
    const resources = stateResources(shown.stdout.trim() ? JSON.parse(shown.stdout) : {});
    const parameters = await listRuntimeParameters(spec.name, clients);
    const backups = await describeBackups(spec.name, resources, clients);

    renderWhatGoes(spec, o, resources, lifted, parameters, backups).forEach((l) => io.out(l));
    if (!o.yes) {
      io.out("");
      io.out("Must specify --yes to delete the cluster.");
      return;
    }

    const kept = o.deleteBackups ? [] : resources.filter(holdsBackups).map((r) => r.address);
    if (kept.length > 0) {
      await stream(tf, ["state", "rm", ...kept], io);
      io.err(`kept (taken out of Terraform's state, left in AWS): ${kept.join(", ")}`);
    }
    const protectedLbs = resources.filter((r) => r.type === "aws_lb" && r.values?.enable_deletion_protection === true).map((r) => r.address);
    if (protectedLbs.length > 0) {
      io.err(`lifting the deletion protection of ${protectedLbs.join(", ")} (an update of this run's copy only)`);
      await stream(tf, ["apply", "-input=false", "-no-color", "-auto-approve", ...protectedLbs.map((a) => `-target=${a}`)], io);
    }
    io.err("terraform destroy:");
    await stream(tf, ["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"], io);

    const removed = await deleteParameters(parameters, clients);
    io.out(`Deleted ${spec.name}: ${resources.length - kept.length} Terraform resources destroyed, ${removed} run-time parameters removed.`);
    if (kept.length > 0) {
      io.out(
        `Kept: the etcd backups${backups.buckets.length > 0 ? ` in s3://${backups.buckets.join(", s3://")}` : ""} and the cluster's KMS key that ` +
          "encrypts them. Remove them when no longer needed: empty and delete the bucket, then schedule the key's deletion (aws kms schedule-key-deletion).",
      );
    }
    io.out(`The spec ${validated.file} is unchanged: remove it in git when you are done, or the next synth and apply recreate the cluster.`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** A Terraform step whose failure the user must see in Terraform's own words (exit 1). */
function terraformStep<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof TerraformError) {
      throw new UserError([`delete cluster: terraform ${what} failed; nothing was deleted:`, ...e.message.split("\n").slice(1).filter(Boolean)]);
    }
    throw e;
  }
}

/** Runs Terraform with its output passed on line by line (a destroy takes minutes). */
function stream(tf: Terraform, args: readonly string[], io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("terraform", [...args], { cwd: tf.dir, env: tf.environment(), stdio: ["ignore", "pipe", "pipe"] });
    const forward = (chunk: Buffer, rest: { text: string }) => {
      const lines = (rest.text + chunk.toString("utf8")).split("\n");
      rest.text = lines.pop() ?? "";
      lines.filter((l) => l.trim() !== "").forEach((l) => io.err(`  ${l}`));
    };
    const out = { text: "" };
    const err = { text: "" };
    child.stdout.on("data", (c: Buffer) => forward(c, out));
    child.stderr.on("data", (c: Buffer) => forward(c, err));
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "ENOENT" ? new UserError(["terraform is not on PATH: install Terraform >= 1.10 to delete a cluster."]) : e),
    );
    child.on("close", (code) => {
      [out.text, err.text].filter((l) => l.trim() !== "").forEach((l) => io.err(`  ${l}`));
      if (code === 0) {
        resolve();
      } else {
        reject(
          new UserError([
            `delete cluster: terraform ${args[0]} failed (exit ${code}); see its output above. What was destroyed is gone; ` +
              "the run-time parameters were not removed. Fix the cause and rerun kopsform delete cluster --yes: it goes on from Terraform's state.",
          ]),
        );
      }
    });
  });
}

/** Every parameter name under the cluster's path, from SSM's metadata (values are never read). */
async function listRuntimeParameters(name: string, aws: AwsClients): Promise<string[]> {
  const names: string[] = [];
  let token: string | undefined;
  // Bounded: 50 names a page, 200 pages.
  for (let page = 0; page < 200; page++) {
    const out = await awsCall(`listing the parameters under ${runtimePrefix(name)}`, () =>
      aws.ssm.send(
        new DescribeParametersCommand({
          // SSM's path filter matches whole levels: /kopsform/NAME does not match /kopsform/NAME.other.
          ParameterFilters: [{ Key: "Path", Option: "Recursive", Values: [`/kopsform/${name}`] }],
          MaxResults: 50,
          NextToken: token,
        }),
      ),
    );
    names.push(...(out.Parameters ?? []).map((p: ParameterMetadata) => p.Name ?? ""));
    token = out.NextToken;
    if (!token) {
      break;
    }
  }
  // And checked here again, so that nothing of another cluster is ever deleted.
  return ownRuntimeParameters(names, name);
}

/** Deletes parameters, ten at a time (SSM's limit); returns how many are gone (one already gone counts). */
async function deleteParameters(names: readonly string[], aws: AwsClients): Promise<number> {
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    await awsCall("deleting run-time parameters", () => aws.ssm.send(new DeleteParametersCommand({ Names: batch })));
  }
  return names.length;
}

/** The etcd backups: the stack's buckets, and how many objects each holds under the cluster's prefix. */
async function describeBackups(name: string, resources: readonly StateResource[], aws: AwsClients): Promise<{ buckets: string[]; counts: string[] }> {
  const buckets = resources.filter((r) => r.type === "aws_s3_bucket").map((r) => String(r.values?.bucket ?? r.values?.id ?? ""));
  const counts: string[] = [];
  for (const bucket of buckets.filter(Boolean)) {
    try {
      let count = 0;
      let token: string | undefined;
      let more = false;
      // Bounded: ten pages of 1000 keys; beyond that the count is a lower bound.
      for (let page = 0; page < 10; page++) {
        const out = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${name}/backups/etcd/`, ContinuationToken: token }));
        count += out.KeyCount ?? (out.Contents ?? []).length;
        token = out.NextContinuationToken;
        more = !!token;
        if (!token) break;
      }
      counts.push(`s3://${bucket}/${name}/backups/etcd/: ${count}${more ? "+" : ""} objects`);
    } catch (e) {
      counts.push(`s3://${bucket}/${name}/backups/etcd/: could not be listed (${(e as Error).name}: ${(e as Error).message})`);
    }
  }
  return { buckets: buckets.filter(Boolean), counts };
}

function renderWhatGoes(
  spec: ClusterSpec,
  o: DeleteClusterOptions,
  resources: readonly StateResource[],
  lifted: LiftedSafeguards,
  parameters: readonly string[],
  backups: { buckets: string[]; counts: string[] },
): string[] {
  const lines = [`Deleting cluster ${spec.name} (${spec.region}) removes:`];
  const etcd = resources.filter(isEtcdVolume);
  const kept = o.deleteBackups ? [] : resources.filter(holdsBackups);
  const destroyed = resources.filter((r) => !kept.includes(r));
  if (resources.length === 0) {
    lines.push("  Terraform: nothing (the cluster's state is empty: never applied, or destroyed already)");
  } else {
    lines.push(`  Terraform: ${destroyed.length} resources in the cluster's state, among them:`);
    lines.push(`    etcd volumes (the cluster's data, gone for good; prevent_destroy lifted for this run only):`);
    lines.push(...(etcd.length > 0 ? etcd.map((r) => `      ${r.address} (${String(r.values?.id ?? "?")})`) : ["      none"]));
    for (const r of destroyed.filter((x) => x.type === "aws_lb")) {
      lines.push(`    API load balancer ${r.address} (deletion protection lifted for this run only)`);
    }
    for (const r of destroyed.filter((x) => x.type === "aws_autoscaling_group")) {
      lines.push(`    instance group ${r.address}`);
    }
  }
  lines.push(
    `  Run-time parameters under ${runtimePrefix(spec.name)} (the cluster's CAs, markers, join token; not Terraform's): ` +
      (parameters.length > 0 ? "" : "none"),
  );
  lines.push(...parameters.map((p) => `    ${p}`));
  if (backups.buckets.length === 0) {
    lines.push("  etcd backups: no backup bucket in the cluster's state (a bucket you named yourself is never touched)");
  } else if (o.deleteBackups) {
    lines.push("  etcd backups: DELETED with their bucket (--delete-backups):", ...backups.counts.map((c) => `    ${c}`));
  } else {
    lines.push(
      "  etcd backups: KEPT, with their bucket and the cluster's KMS key (taken out of Terraform's state); --delete-backups deletes them:",
      ...backups.counts.map((c) => `    ${c}`),
      ...kept.map((r) => `    kept: ${r.address}`),
    );
  }
  lines.push(
    `  Safeguards lifted in this run's temporary copy only: ${[...lifted.preventDestroy, ...lifted.deletionProtection].join(", ") || "none"}; ` +
      "the committed spec and the output directory are unchanged.",
  );
  return lines;
}
