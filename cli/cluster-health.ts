/**
 * The health of a running cluster, from AWS (groups and instances) and from its Kubernetes API
 * (Nodes, control-plane pods, the API server's readyz and livez with their etcd checks), and the
 * verdict `validate` and `rolling-update` act on:
 *
 * - **broken**: the API does not answer, etcd fails the API server's checks, or fewer masters are
 *   healthy than etcd's quorum needs;
 * - **degraded**: serving, but something is missing (a master down with quorum kept, a Node not
 *   Ready, a group short of instances, a control-plane pod not Ready);
 * - **healthy**: everything the spec asks for runs and is Ready.
 *
 * A master is healthy when its instance is in service, its Node is Ready and its kube-apiserver pod
 * is Ready: that pod's readiness probe is the API server's own /readyz, which checks the master's
 * local etcd member (each API server talks to etcd on 127.0.0.1, docs/runtime.md).
 */
import { ClusterSpec } from "../spec/types";
import { AwsClients } from "./aws";
import { GroupRole, GroupState, describeGroups, liveInstances } from "./cluster-state";
import { HealthReport, KubeApi, KubeNode, KubePod, KubeUnreachableError, hasCondition, instanceIdOf } from "./kube-api";

/** The three verdicts, and their exit codes for `validate cluster`. */
export const VERDICT_EXIT = { healthy: 0, degraded: 3, broken: 4 } as const;
export type Verdict = keyof typeof VERDICT_EXIT;

/** The static pods kubeadm runs on every master (label `component`, with `tier=control-plane`). */
export const CONTROL_PLANE_COMPONENTS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

/** The label that marks a control-plane Node. */
export const CONTROL_PLANE_NODE_LABEL = "node-role.kubernetes.io/control-plane";

/** A Node as the report shows it. */
export interface NodeReport {
  readonly name: string;
  readonly role: "master" | "node";
  readonly ready: boolean;
  readonly unschedulable: boolean;
  readonly instanceId?: string;
  /** The instance group whose instance this Node runs on. */
  readonly group?: string;
  readonly kubeletVersion?: string;
}

/** One master (one master group) and what makes it healthy. */
export interface MasterReport {
  readonly group: string;
  readonly instanceId?: string;
  readonly node?: string;
  readonly nodeReady: boolean;
  /** Component -> Ready, for the control-plane pods on this master's Node. */
  readonly pods: Readonly<Record<string, boolean>>;
  readonly healthy: boolean;
}

/** What the API server said about itself. */
export interface ApiReport {
  readonly server: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly readyz?: HealthReport;
  readonly livez?: HealthReport;
  /** Every etcd check of readyz and livez passed. */
  readonly etcdOk: boolean;
}

/** The whole picture, as `validate --output json` prints it. */
export interface ClusterReport {
  readonly cluster: string;
  readonly verdict: Verdict;
  readonly api: ApiReport;
  readonly masters: {
    readonly expected: number;
    readonly healthy: number;
    readonly quorum: number;
    readonly members: readonly MasterReport[];
  };
  readonly groups: readonly GroupReport[];
  readonly nodes: readonly NodeReport[];
  /** One line per thing that is not as it should be, most serious first. */
  readonly problems: readonly string[];
}

/** A group as the report shows it. */
export interface GroupReport {
  readonly name: string;
  readonly role: GroupRole;
  readonly min: number;
  readonly desired: number;
  readonly max: number;
  readonly inService: number;
  readonly upToDate: number;
  readonly instances: readonly string[];
}

/** etcd's quorum for `n` members. */
export function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** What the Kubernetes API shows, read in one go (or why it could not be read). */
export interface KubeView {
  readonly reachable: boolean;
  readonly error?: string;
  readonly nodes: readonly KubeNode[];
  readonly controlPlanePods: readonly KubePod[];
  readonly readyz?: HealthReport;
  readonly livez?: HealthReport;
}

/** Reads Nodes, control-plane pods, readyz and livez; an API that does not answer is a finding. */
export async function readKube(kube: KubeApi): Promise<KubeView> {
  try {
    const readyz = await kube.readyz();
    const livez = await kube.livez();
    const [nodes, controlPlanePods] = await Promise.all([
      kube.listNodes(),
      kube.listPods({ namespace: "kube-system", labelSelector: "tier=control-plane" }),
    ]);
    return { reachable: true, nodes, controlPlanePods, readyz, livez };
  } catch (e) {
    if (e instanceof KubeUnreachableError) {
      return { reachable: false, error: e.message, nodes: [], controlPlanePods: [] };
    }
    throw e;
  }
}

/** True when a pod is Running and Ready. */
export function podReady(pod: KubePod): boolean {
  return pod.status?.phase === "Running" && hasCondition(pod, "Ready") && !pod.metadata.deletionTimestamp;
}

/** The etcd checks of a health report (`etcd`, `etcd-readiness`, ...), and whether all passed. */
export function etcdChecksOk(report: HealthReport | undefined): boolean {
  const checks = (report?.checks ?? []).filter((c) => c.name.startsWith("etcd"));
  return checks.length > 0 && checks.every((c) => c.ok);
}

/** How one master stands, from its group and the API's view. */
export function masterReport(group: GroupState, view: KubeView): MasterReport {
  const instance = liveInstances(group).find((i) => i.lifecycle === "InService") ?? liveInstances(group)[0];
  const node = instance ? view.nodes.find((n) => instanceIdOf(n) === instance.id) : undefined;
  const pods: Record<string, boolean> = {};
  if (node) {
    for (const component of CONTROL_PLANE_COMPONENTS) {
      const pod = view.controlPlanePods.find((p) => p.spec?.nodeName === node.metadata.name && p.metadata.labels?.component === component);
      pods[component] = !!pod && podReady(pod);
    }
  }
  const nodeReady = !!node && hasCondition(node, "Ready");
  return {
    group: group.name,
    instanceId: instance?.id,
    node: node?.metadata.name,
    nodeReady,
    pods,
    healthy: instance?.lifecycle === "InService" && nodeReady && pods["kube-apiserver"] === true,
  };
}

/** Assesses the cluster: groups from AWS, the rest from the API. */
export async function assessCluster(spec: ClusterSpec, aws: AwsClients, kube: KubeApi | { unreachable: string; server: string }): Promise<ClusterReport> {
  const groups = await describeGroups(spec.name, aws);
  const view: KubeView = kube instanceof KubeApi ? await readKube(kube) : { reachable: false, error: kube.unreachable, nodes: [], controlPlanePods: [] };
  const server = kube instanceof KubeApi ? kube.endpoint.server : kube.server;
  return judge(spec, groups, view, server);
}

/** The verdict and the report, from what was read (pure: the tests of the rules call it directly). */
export function judge(spec: ClusterSpec, groups: readonly GroupState[], view: KubeView, server: string): ClusterReport {
  const broken: string[] = [];
  const degraded: string[] = [];
  const expected = spec.masters.length;
  const quorum = quorumOf(expected);

  const masterGroups = groups.filter((g) => g.role === "master");
  const members = masterGroups.map((g) => masterReport(g, view));
  const healthy = members.filter((m) => m.healthy).length;
  for (const master of spec.masters) {
    if (!masterGroups.some((g) => g.name === master.name)) {
      degraded.push(`${master.name}: no auto-scaling group in AWS (is the spec applied?)`);
    }
  }

  const livezHasEtcd = (view.livez?.checks ?? []).some((c) => c.name.startsWith("etcd"));
  const etcdOk = view.reachable && etcdChecksOk(view.readyz) && (!livezHasEtcd || etcdChecksOk(view.livez));
  if (!view.reachable) {
    broken.push(`API: ${view.error ?? "does not answer"}`);
  } else {
    if (!etcdOk) {
      const failed = [...(view.readyz?.checks ?? []), ...(view.livez?.checks ?? [])].filter((c) => c.name.startsWith("etcd") && !c.ok).map((c) => c.name);
      broken.push(`etcd: the API server's ${failed.length > 0 ? [...new Set(failed)].join(", ") : "etcd"} check fails: etcd has no quorum or does not answer`);
    }
    if (view.readyz && !view.readyz.ok) {
      const failed = view.readyz.checks.filter((c) => !c.ok && !c.name.startsWith("etcd")).map((c) => c.name);
      if (failed.length > 0) {
        degraded.push(`API: readyz fails ${failed.join(", ")}`);
      }
    }
    if (healthy < quorum) {
      broken.push(`masters: ${healthy} of ${expected} healthy; etcd needs ${quorum} for quorum`);
    } else if (healthy < expected) {
      degraded.push(`masters: ${healthy} of ${expected} healthy (etcd quorum of ${quorum} kept; one more loss ${healthy - 1 < quorum ? "breaks it" : "is survivable"})`);
    }
    for (const m of members.filter((x) => !x.healthy)) {
      const why = !m.instanceId
        ? "no instance"
        : !m.node
          ? `instance ${m.instanceId} has no Node yet`
          : !m.nodeReady
            ? `Node ${m.node} not Ready`
            : `control-plane pods not Ready: ${Object.entries(m.pods).filter(([, ok]) => !ok).map(([c]) => c).join(", ")}`;
      degraded.push(`${m.group}: ${why}`);
    }
    for (const m of members.filter((x) => x.healthy)) {
      const notReady = Object.entries(m.pods).filter(([, ok]) => !ok).map(([c]) => c);
      if (notReady.length > 0) {
        degraded.push(`${m.group}: ${notReady.join(", ")} not Ready on ${m.node}`);
      }
    }
  }

  const groupOfInstance = new Map<string, string>();
  groups.forEach((g) => g.instances.forEach((i) => groupOfInstance.set(i.id, g.name)));
  const nodes: NodeReport[] = view.nodes.map((n) => ({
    name: n.metadata.name,
    role: n.metadata.labels?.[CONTROL_PLANE_NODE_LABEL] !== undefined ? "master" : "node",
    ready: hasCondition(n, "Ready"),
    unschedulable: !!n.spec?.unschedulable,
    instanceId: instanceIdOf(n),
    group: groupOfInstance.get(instanceIdOf(n) ?? ""),
    kubeletVersion: n.status?.nodeInfo?.kubeletVersion,
  }));

  const groupReports: GroupReport[] = groups.map((g) => ({
    name: g.name,
    role: g.role,
    min: g.min,
    desired: g.desired,
    max: g.max,
    inService: g.instances.filter((i) => i.lifecycle === "InService" && i.healthy).length,
    upToDate: g.instances.filter((i) => i.upToDate).length,
    instances: g.instances.map((i) => i.id),
  }));
  for (const g of groupReports) {
    if (g.inService < g.desired) {
      degraded.push(`${g.name}: ${g.inService} of ${g.desired} instances in service`);
    }
  }
  if (view.reachable) {
    for (const g of groups.filter((x) => x.role === "node")) {
      for (const i of g.instances.filter((x) => x.lifecycle === "InService")) {
        if (!nodes.some((n) => n.instanceId === i.id)) {
          degraded.push(`${g.name}: instance ${i.id} has not joined the cluster (no Node)`);
        }
      }
    }
    for (const n of nodes.filter((x) => x.role === "node" && !x.ready)) {
      degraded.push(`node ${n.name}${n.group ? ` (${n.group})` : ""}: not Ready`);
    }
  }

  const verdict: Verdict = broken.length > 0 ? "broken" : degraded.length > 0 ? "degraded" : "healthy";
  return {
    cluster: spec.name,
    verdict,
    api: { server, reachable: view.reachable, error: view.error, readyz: view.readyz, livez: view.livez, etcdOk },
    masters: { expected, healthy, quorum, members },
    groups: groupReports,
    nodes,
    problems: [...broken, ...degraded],
  };
}
