/**
 * `kopsform rolling-update cluster NAME [--yes]`: replaces instances whose launch template version is
 * not their group's (every instance with `--force`), safely, in kops's order: bastions, masters, nodes.
 *
 * - **Masters, strictly one at a time.** A master's group is min = max = 1 and its replacement must
 *   attach the old instance's etcd volumes, so the old instance goes first (terminated in its group
 *   without lowering the desired capacity); then the roll waits until the replacement is in service,
 *   its Node Ready, its control-plane pods Ready and the API server's readyz (etcd included) passes,
 *   and every master is healthy again, before it touches the next. A master is replaced only while
 *   every other master is healthy, so one replacement never costs etcd its quorum.
 * - **Nodes** are cordoned and drained through the Eviction API (PodDisruptionBudgets honoured, within
 *   --drain-timeout) before their instance is terminated. Where the group's maximum leaves room, a
 *   new instance is started first (a surge of one) and the old one terminated with the desired
 *   capacity lowered back.
 * - **It stops** at the first replacement that does not become healthy in --validation-timeout, or a
 *   drain that does not finish, saying what it saw. What is done stays done; rerunning goes on from
 *   there (an interrupted surge is recognised by a tag on its group).
 */
import * as fs from "fs";
import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import YAML from "yaml";
import { UserError } from "../spec/problems";
import { ClusterSpec } from "../spec/types";
import { parseKubernetesVersion } from "../spec/upgrade";
import { AwsClients, awsCall } from "./aws";
import { AccessOptions, connectToCluster } from "./cluster-access";
import { assessCluster, masterReport, quorumOf, readKube } from "./cluster-health";
import { loadClusterSpec } from "./cluster-spec";
import { GroupState, InstanceState, describeGroups, liveInstances } from "./cluster-state";
import { DrainTimeoutError, drainNode } from "./drain";
import { formatDuration } from "./duration";
import { Io } from "./io";
import { KubeApi, KubeNode, hasCondition, instanceIdOf } from "./kube-api";
import { table } from "./validate-cluster";
import { Check, DEFAULT_TIMING, Timing, WaitTimeoutError, waitFor } from "./wait";

/** Options of `rolling-update cluster`. */
export interface RollingUpdateOptions extends AccessOptions {
  readonly name: string;
  readonly configDir: string;
  /** Do it; without, print the plan. */
  readonly yes: boolean;
  /** Only these instance groups. @default every group */
  readonly instanceGroups?: readonly string[];
  /** Replace every instance, up to date or not. @default false */
  readonly force: boolean;
  /** How long a replacement may take to become healthy. @default 15m (kops's --validation-timeout) */
  readonly validationTimeoutMs: number;
  /** How long a drain may take. @default 15m (kops's --drain-timeout) */
  readonly drainTimeoutMs: number;
  readonly output: "table" | "json";
  /** @default {@link DEFAULT_TIMING} */
  readonly timing?: Timing;
}

/**
 * The tag a group carries while kopsform has raised its desired capacity by one for a surge; its
 * value is the desired capacity before. A rerun after an interruption finds it and does not surge twice.
 */
export const SURGE_TAG = "kopsform.io/rolling-update-surge-from";

/** One group's part of the plan. */
export interface GroupPlan {
  readonly name: string;
  readonly role: string;
  readonly status: "NeedsUpdate" | "Ready";
  readonly needUpdate: readonly string[];
  readonly ready: number;
  readonly min: number;
  readonly target: number;
  readonly max: number;
}

/** One replacement done. */
export interface Replacement {
  readonly group: string;
  readonly old: string;
  readonly new?: string;
  readonly seconds: number;
}

/** The plan: per group, the instances to replace. */
export function planRoll(groups: readonly GroupState[], force: boolean): GroupPlan[] {
  return groups.map((g) => {
    const live = liveInstances(g);
    const needUpdate = live.filter((i) => force || !i.upToDate).map((i) => i.id);
    return {
      name: g.name,
      role: g.role,
      status: needUpdate.length > 0 ? "NeedsUpdate" : "Ready",
      needUpdate,
      ready: live.filter((i) => i.upToDate).length,
      min: g.min,
      target: g.desired,
      max: g.max,
    };
  });
}

/** Runs the command. Throws {@link UserError} when the roll stops (exit 1), saying where and why. */
export async function rollingUpdate(o: RollingUpdateOptions, io: Io, aws?: AwsClients): Promise<void> {
  const { spec, file } = loadClusterSpec(o.configDir, o.name);
  const clients = aws ?? new AwsClients(spec.region);
  const all = await describeGroups(spec.name, clients);
  const groups = selectGroups(all, o.instanceGroups, spec.name);
  const plan = planRoll(groups, o.force);
  const todo = plan.filter((p) => p.needUpdate.length > 0);

  if (!o.yes || todo.length === 0) {
    if (o.output === "json") {
      io.out(JSON.stringify({ cluster: spec.name, applied: false, plan }, null, 2));
    } else {
      renderPlan(plan).forEach((l) => io.out(l));
      io.out("");
      io.out(todo.length === 0 ? "No rolling-update required." : "Must specify --yes to rolling-update.");
    }
    return;
  }

  const roll = new Roll(spec, clients, await connectToCluster(spec, clients, o), o, io);
  try {
    await roll.run(groups.filter((g) => todo.some((t) => t.name === g.name)), plan);
  } catch (e) {
    if (o.output === "json") {
      io.out(JSON.stringify({ cluster: spec.name, applied: true, plan, replaced: roll.replaced, stopped: (e as Error).message }, null, 2));
    }
    throw e;
  } finally {
    roll.close();
  }
  const recorded = o.instanceGroups ? undefined : await roll.recordVersion(file);
  if (o.output === "json") {
    io.out(JSON.stringify({ cluster: spec.name, applied: true, plan, replaced: roll.replaced, recordedVersion: recorded }, null, 2));
  } else {
    io.out(`Rolling update of ${spec.name} done: ${roll.replaced.length} instance${roll.replaced.length === 1 ? "" : "s"} replaced.`);
  }
}

function selectGroups(all: readonly GroupState[], names: readonly string[] | undefined, cluster: string): GroupState[] {
  if (all.length === 0) {
    throw new UserError([`${cluster}: no auto-scaling groups tagged KubernetesCluster=${cluster} in AWS; apply the cluster first (or check the region).`]);
  }
  if (!names || names.length === 0) {
    return [...all];
  }
  const unknown = names.filter((n) => !all.some((g) => g.name === n));
  if (unknown.length > 0) {
    throw new UserError([`--instance-group: ${unknown.join(", ")} ${unknown.length === 1 ? "is not an instance group" : "are not instance groups"} of ${cluster}; it has ${all.map((g) => g.name).join(", ")}.`]);
  }
  return all.filter((g) => names.includes(g.name));
}

/** kops's plan table. */
function renderPlan(plan: readonly GroupPlan[]): string[] {
  return table([
    ["NAME", "STATUS", "NEEDUPDATE", "READY", "MIN", "TARGET", "MAX"],
    ...plan.map((p) => [p.name, p.status, String(p.needUpdate.length), String(p.ready), String(p.min), String(p.target), String(p.max)]),
  ]);
}

/** One rolling update in progress. */
class Roll {
  readonly replaced: Replacement[] = [];
  private readonly timing: Timing;

  constructor(
    private readonly spec: ClusterSpec,
    private readonly aws: AwsClients,
    private readonly kube: KubeApi,
    private readonly o: RollingUpdateOptions,
    private readonly io: Io,
  ) {
    this.timing = o.timing ?? DEFAULT_TIMING;
  }

  close(): void {
    this.kube.close();
  }

  async run(groups: readonly GroupState[], plan: readonly GroupPlan[]): Promise<void> {
    const before = await assessCluster(this.spec, this.aws, this.kube);
    if (before.verdict === "broken") {
      throw new UserError([
        `rolling-update: ${this.spec.name} is broken (${before.problems[0]}); nothing was replaced. A rolling update ` +
          `replaces instances only while the control plane can take it: fix this first (kopsform validate cluster ${this.spec.name}).`,
      ]);
    }
    for (const group of groups) {
      const ids = plan.find((p) => p.name === group.name)?.needUpdate ?? [];
      for (const id of ids) {
        const current = (await this.group(group.name)) ?? group;
        const instance = current.instances.find((i) => i.id === id);
        if (!instance || !liveInstances(current).includes(instance)) {
          this.io.err(`${group.name}: ${id} is gone already; skipping it`);
          continue;
        }
        const start = Date.now();
        this.io.err(
          `${group.name}: replacing ${id} (launch template version ${instance.launchTemplateVersion ?? "?"}; the group's is ${current.launchTemplateVersion ?? "?"})`,
        );
        const replacement =
          current.role === "master"
            ? await this.replaceMaster(current, instance)
            : current.role === "bastion"
              ? await this.replaceBastion(current, instance)
              : await this.replaceNode(current, instance);
        const seconds = Math.round((Date.now() - start) / 1000);
        this.replaced.push({ group: group.name, old: id, new: replacement, seconds });
        this.io.err(`${group.name}: ${id} replaced by ${replacement ?? "(none)"} in ${formatDuration(seconds * 1000)}`);
      }
    }
  }

  private async group(name: string): Promise<GroupState | undefined> {
    return (await describeGroups(this.spec.name, this.aws)).find((g) => g.name === name);
  }

  private async nodeOf(instanceId: string): Promise<KubeNode | undefined> {
    return (await this.kube.listNodes()).find((n) => instanceIdOf(n) === instanceId);
  }

  private async terminate(group: GroupState, instance: InstanceState, decrement: boolean): Promise<void> {
    await awsCall(`terminating ${instance.id}`, () =>
      this.aws.autoscaling.send(
        new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instance.id, ShouldDecrementDesiredCapacity: decrement }),
      ),
    );
    this.io.err(`  terminated ${instance.id}${decrement ? ` (${group.name}'s desired capacity lowered back)` : ""}`);
  }

  /** Removes the Node object of a terminated instance (the cloud controller would, later). */
  private async forgetNode(node: string | undefined): Promise<void> {
    if (node) {
      await this.kube.deleteNode(node);
    }
  }

  /** Stops the roll with what was seen, what was left as it was, and how to go on. */
  private stop(group: GroupState, what: string, e: WaitTimeoutError | DrainTimeoutError, after: string): never {
    throw new UserError([
      `rolling-update stopped at ${group.name}: ${what}: ${e instanceof DrainTimeoutError ? e.cause.message : e.message}.`,
      `  ${after}`,
      `  Instances replaced before this: ${this.replaced.length === 0 ? "none" : this.replaced.map((r) => `${r.old} -> ${r.new ?? "-"}`).join(", ")}. ` +
        `See kopsform validate cluster ${this.spec.name}; rerun kopsform rolling-update cluster ${this.spec.name} --yes to go on from here.`,
    ]);
  }

  private async replaceMaster(group: GroupState, old: InstanceState): Promise<string | undefined> {
    // Only while every other master is healthy: this one's loss must not cost etcd its quorum.
    const view = await readKube(this.kube);
    const all = await describeGroups(this.spec.name, this.aws);
    const others = all.filter((g) => g.role === "master" && g.name !== group.name).map((g) => masterReport(g, view));
    const sick = others.filter((m) => !m.healthy);
    if (!view.reachable || sick.length > 0) {
      throw new UserError([
        `rolling-update stopped before ${group.name}: ${!view.reachable ? `the API does not answer (${view.error})` : `${sick.map((m) => m.group).join(", ")} ${sick.length === 1 ? "is" : "are"} not healthy`}; ` +
          `replacing ${old.id} now could cost etcd its quorum (${quorumOf(this.spec.masters.length)} of ${this.spec.masters.length} needed). Nothing was done to ${group.name}.`,
        `  Wait for the masters to be healthy (kopsform validate cluster ${this.spec.name} --wait 10m), then rerun kopsform rolling-update cluster ${this.spec.name} --yes.`,
      ]);
    }
    if (this.spec.masters.length === 1) {
      this.io.err(`  ${this.spec.name} has one master: the API is down until its replacement is up (etcd data stays on its volumes)`);
    }
    const node = (await this.nodeOf(old.id))?.metadata.name;
    if (node) {
      await this.drain(group, node, old);
    }
    await this.terminate(group, old, false);
    await this.forgetNode(node);
    try {
      return await waitFor(
        `${group.name}'s replacement to be healthy`,
        () => this.masterHealthy(group.name, old.id),
        this.o.validationTimeoutMs,
        this.io,
        this.timing,
      );
    } catch (e) {
      if (e instanceof WaitTimeoutError) {
        const rest = this.spec.masters.length > 1 ? "No other master was touched." : "";
        this.stop(
          group,
          `the replacement of ${old.id} did not become healthy within --validation-timeout ${formatDuration(this.o.validationTimeoutMs)}`,
          e,
          `${rest} ${old.id} is terminated; the group keeps its new instance. Look at it (its boot log: /var/log/kopsform/boot.log).`.trim(),
        );
      }
      throw e;
    }
  }

  /** Healthy: a new instance in service, its Node Ready, its control-plane pods Ready, readyz (etcd) ok, every master healthy. */
  private async masterHealthy(groupName: string, oldId: string): Promise<Check<string>> {
    const group = await this.group(groupName);
    const fresh = group ? liveInstances(group).filter((i) => i.id !== oldId) : [];
    const instance = fresh.find((i) => i.lifecycle === "InService");
    if (!instance) {
      return { done: false, status: fresh.length > 0 ? `${fresh[0].id} is ${fresh[0].lifecycle}` : "no new instance yet" };
    }
    const view = await readKube(this.kube);
    if (!view.reachable) {
      return { done: false, status: `${instance.id} in service; the API does not answer (${view.error})` };
    }
    const me = masterReport(group!, view);
    if (!me.node) {
      return { done: false, status: `${instance.id} in service; no Node yet` };
    }
    if (!me.nodeReady) {
      return { done: false, status: `${instance.id} in service; Node ${me.node} not Ready` };
    }
    const notReady = Object.entries(me.pods).filter(([, ok]) => !ok).map(([c]) => c);
    if (notReady.length > 0) {
      return { done: false, status: `Node ${me.node} Ready; not Ready yet: ${notReady.join(", ")}` };
    }
    const report = await assessCluster(this.spec, this.aws, this.kube);
    if (!report.api.etcdOk || !report.api.readyz?.ok) {
      const failed = (report.api.readyz?.checks ?? []).filter((c) => !c.ok).map((c) => c.name);
      return { done: false, status: `control plane on ${me.node} Ready; readyz fails ${failed.join(", ") || "(no answer)"}` };
    }
    if (report.masters.healthy < report.masters.expected) {
      return { done: false, status: `${report.masters.healthy} of ${report.masters.expected} masters healthy` };
    }
    this.io.err(`  ${instance.id} in service, Node ${me.node} Ready, control plane Ready, readyz ok (etcd ok), all ${report.masters.expected} masters healthy`);
    return { done: true, value: instance.id };
  }

  private async drain(group: GroupState, node: string, instance: InstanceState): Promise<void> {
    try {
      await drainNode(this.kube, node, this.o.drainTimeoutMs, this.io, this.timing);
    } catch (e) {
      if (e instanceof DrainTimeoutError) {
        this.stop(
          group,
          `draining ${node} did not finish within --drain-timeout ${formatDuration(this.o.drainTimeoutMs)}`,
          e,
          `${instance.id} was not terminated; ${node} stays cordoned (kubectl uncordon ${node} puts it back in service). ` +
            "Let the disruption budget allow the eviction (more replicas, a looser budget) or give a longer --drain-timeout.",
        );
      }
      throw e;
    }
  }

  private async replaceBastion(group: GroupState, old: InstanceState): Promise<string | undefined> {
    const known = new Set(group.instances.map((i) => i.id));
    await this.terminate(group, old, false);
    return this.waitForInstance(group, old, known);
  }

  private async replaceNode(group: GroupState, old: InstanceState): Promise<string | undefined> {
    const surgedFrom = group.tags[SURGE_TAG];
    const canSurge = surgedFrom !== undefined || group.desired < group.max;
    let fresh: string | undefined;
    if (canSurge) {
      if (surgedFrom === undefined) {
        // The tag first, so that an interruption between the two calls is still recognised.
        await this.setSurgeTag(group, String(group.desired));
        await awsCall(`raising ${group.asgName}'s desired capacity`, () =>
          this.aws.autoscaling.send(
            new SetDesiredCapacityCommand({ AutoScalingGroupName: group.asgName, DesiredCapacity: group.desired + 1, HonorCooldown: false }),
          ),
        );
        this.io.err(`  surge: ${group.name}'s desired capacity ${group.desired} -> ${group.desired + 1}`);
      } else {
        this.io.err(`  surge: ${group.name} is already one over (${SURGE_TAG}=${surgedFrom}, from an interrupted run)`);
      }
      fresh = await this.waitForInstance(group, old, new Set(group.instances.map((i) => i.id)), true);
    }
    const node = (await this.nodeOf(old.id))?.metadata.name;
    if (node) {
      await this.drain(group, node, old);
    }
    const known = new Set(((await this.group(group.name)) ?? group).instances.map((i) => i.id));
    await this.terminate(group, old, canSurge);
    await this.forgetNode(node);
    if (canSurge) {
      await awsCall(`removing ${SURGE_TAG} from ${group.asgName}`, () =>
        this.aws.autoscaling.send(
          new DeleteTagsCommand({ Tags: [{ ResourceId: group.asgName, ResourceType: "auto-scaling-group", Key: SURGE_TAG }] }),
        ),
      );
      return fresh;
    }
    return this.waitForInstance(group, old, known, true);
  }

  private async setSurgeTag(group: GroupState, value: string): Promise<void> {
    await awsCall(`tagging ${group.asgName}`, () =>
      this.aws.autoscaling.send(
        new CreateOrUpdateTagsCommand({
          Tags: [{ ResourceId: group.asgName, ResourceType: "auto-scaling-group", Key: SURGE_TAG, Value: value, PropagateAtLaunch: false }],
        }),
      ),
    );
  }

  /**
   * Waits for an instance of the group that is not among `known` (the instances before the change)
   * to be in service and, with `node`, its Node Ready.
   */
  private async waitForInstance(group: GroupState, old: InstanceState, known: ReadonlySet<string>, node = false): Promise<string> {
    try {
      return await waitFor(
        `a new instance of ${group.name}${node ? " with its Node Ready" : ""}`,
        async () => {
          const g = await this.group(group.name);
          const candidates = (g ? liveInstances(g) : []).filter((i) => !known.has(i.id));
          const up = candidates.filter((i) => i.lifecycle === "InService" && i.healthy);
          if (up.length === 0) {
            return { done: false, status: candidates.length > 0 ? candidates.map((i) => `${i.id} ${i.lifecycle}`).join(", ") : "no new instance yet" };
          }
          if (!node) {
            return { done: true, value: up[0].id };
          }
          const nodes = await this.kube.listNodes();
          for (const i of up) {
            const n = nodes.find((x) => instanceIdOf(x) === i.id);
            if (n && hasCondition(n, "Ready")) {
              this.io.err(`  ${i.id} in service, Node ${n.metadata.name} Ready`);
              return { done: true, value: i.id };
            }
          }
          return { done: false, status: `${up.map((i) => i.id).join(", ")} in service; Node not Ready yet` };
        },
        this.o.validationTimeoutMs,
        this.io,
        this.timing,
      );
    } catch (e) {
      if (e instanceof WaitTimeoutError) {
        this.stop(
          group,
          `no new instance became ready within --validation-timeout ${formatDuration(this.o.validationTimeoutMs)}`,
          e,
          `${old.id} ${old.lifecycle === "InService" ? "is still running" : "was terminated"}. Look at the group's activity (aws autoscaling describe-scaling-activities --auto-scaling-group-name ${group.asgName}).`,
        );
      }
      throw e;
    }
  }

  /**
   * Moves the spec's `deployedKubernetesVersion` forward once every Node runs the spec's version
   * (spec/upgrade.ts): the committed record of what is deployed. Returns the version written, if any.
   */
  async recordVersion(file: string): Promise<string | undefined> {
    const wanted = this.spec.kubernetesVersion;
    if (this.spec.deployedKubernetesVersion === wanted) {
      return undefined;
    }
    const kube = this.kube;
    const nodes = await kube.listNodes();
    const versions = new Set(nodes.map((n) => n.status?.nodeInfo?.kubeletVersion ?? "unknown"));
    const runs = (v: string) => {
      const a = parseKubernetesVersion(v);
      const b = parseKubernetesVersion(wanted);
      return !!a && !!b && a.major === b.major && a.minor === b.minor && a.patch === b.patch;
    };
    if (nodes.length === 0 || ![...versions].every(runs)) {
      this.io.err(
        `note: deployedKubernetesVersion stays ${this.spec.deployedKubernetesVersion ?? "unset"}: the Nodes run ${[...versions].sort().join(", ")}, not all ${wanted}.`,
      );
      return undefined;
    }
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    doc.set("deployedKubernetesVersion", wanted);
    const tmp = `${file}.kopsform-${process.pid}.tmp`;
    fs.writeFileSync(tmp, doc.toString({ lineWidth: 0 }));
    fs.renameSync(tmp, file);
    this.io.out(
      `${file}: deployedKubernetesVersion ${this.spec.deployedKubernetesVersion ?? "(unset)"} -> ${wanted} (every Node runs v${wanted}); commit this change.`,
    );
    return wanted;
  }
}
