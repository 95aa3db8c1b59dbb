/**
 * A running cluster, faked where it cannot run here and keeping state like the real thing:
 *
 * - **AWS** (answered through aws-sdk-client-mock): auto-scaling groups with launch template
 *   versions and instances that go Pending -> InService, and Terminating -> gone; a group that
 *   loses an instance without a lower desired capacity launches a replacement on its current
 *   version, after the old instance is gone (a master's etcd volumes are free only then).
 * - **Kubernetes** (an HTTPS server on 127.0.0.1 with mutual TLS against the cluster CA, admitting
 *   `system:masters` only): Nodes that register once their instance has booted and go NotReady when
 *   it is terminated; the control-plane mirror pods of each master; etcd as one member per master,
 *   whose quorum decides the API server's etcd checks and its pods' readiness; workload pods,
 *   PodDisruptionBudgets and the Eviction API (HTTP 429 when a budget allows no disruption), with
 *   ReplicaSet pods recreated on another schedulable Node; /readyz and /livez in their verbose form.
 *   With no API server up the load balancer has no target: connections are reset.
 *
 * Every change is logged in `events`, with the number of healthy masters at that moment, so that
 * tests can check the order of a roll.
 */
import * as https from "https";
import { AddressInfo } from "net";
import { TLSSocket } from "tls";
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { OpensslCa, makeServerCert } from "./openssl-pki";

export type Role = "master" | "node" | "bastion";

export interface FakeInstance {
  readonly id: string;
  readonly asgName: string;
  readonly zone: string;
  readonly launchTemplateVersion: string;
  lifecycle: "Pending" | "InService" | "Terminating";
  /** The Node registered (the kubelet joined). */
  joined: boolean;
  nodeName?: string;
  /** A master whose boot never gets its control plane Ready (its etcd member never joins). */
  broken: boolean;
  /** This master's etcd member runs. */
  etcdUp: boolean;
}

export interface FakeGroup {
  readonly asgName: string;
  readonly name: string;
  readonly role: Role;
  readonly zones: readonly string[];
  min: number;
  max: number;
  desired: number;
  readonly launchTemplateId: string;
  launchTemplateVersion: string;
  tags: Record<string, string>;
  instances: string[];
  /** Replacements launched from now on never become healthy. */
  breakReplacements: boolean;
}

export interface FakePod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  nodeName?: string;
  readonly labels: Record<string, string>;
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly mirrorOf?: string;
  started: boolean;
  deleting: boolean;
}

export interface FakePdb {
  readonly namespace: string;
  readonly name: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly minAvailable: number;
}

export interface FakeEvent {
  readonly t: number;
  readonly kind: string;
  readonly subject: string;
  /** The Node the subject was on (evictions, terminations). */
  readonly node?: string;
  readonly healthyMasters: number;
}

/** How long things take in the fake, in ms. */
export interface FakeTimings {
  readonly bootMs: number;
  readonly joinMs: number;
  readonly terminateMs: number;
  readonly podStopMs: number;
  readonly podStartMs: number;
}

export const FAST: FakeTimings = { bootMs: 40, joinMs: 60, terminateMs: 40, podStopMs: 20, podStartMs: 40 };

const CONTROL_PLANE = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

export class FakeCluster {
  readonly groups = new Map<string, FakeGroup>();
  readonly instances = new Map<string, FakeInstance>();
  readonly nodes = new Map<string, { name: string; instanceId: string; unschedulable: boolean; kubeletVersion: string; role: Role }>();
  readonly pods = new Map<string, FakePod>();
  readonly pdbs: FakePdb[] = [];
  readonly events: FakeEvent[] = [];
  /** The kubelet version new instances report. */
  kubeletVersion = "v1.33.5";
  private seq = 0;
  private timers = new Set<NodeJS.Timeout>();
  private server?: https.Server;
  private mocks: AwsClientStub<AutoScalingClient | SSMClient>[] = [];
  private readonly start = Date.now();

  constructor(
    readonly name: string,
    readonly ca: OpensslCa,
    public timings: FakeTimings = FAST,
  ) {}

  // ---- building the cluster ----

  /** Adds a group whose instances run its launch template version `version`, booted and joined. */
  addGroup(g: { name: string; role: Role; zones: string[]; min: number; max: number; desired: number; version?: string }): FakeGroup {
    const asgName = g.role === "master" ? `${g.name}.masters.${this.name}` : `${g.name}.${this.name}`;
    const roleTag = g.role === "master" ? "k8s.io/role/master" : g.role === "bastion" ? "k8s.io/role/bastion" : "k8s.io/role/node";
    const group: FakeGroup = {
      asgName,
      name: g.name,
      role: g.role,
      zones: g.zones,
      min: g.min,
      max: g.max,
      desired: g.desired,
      launchTemplateId: `lt-${(++this.seq).toString(16).padStart(17, "0")}`,
      launchTemplateVersion: g.version ?? "1",
      tags: { KubernetesCluster: this.name, [`kubernetes.io/cluster/${this.name}`]: "owned", "kops.k8s.io/instancegroup": g.name, [roleTag]: "1" },
      instances: [],
      breakReplacements: false,
    };
    this.groups.set(asgName, group);
    for (let i = 0; i < g.desired; i++) {
      const inst = this.newInstance(group);
      inst.lifecycle = "InService";
      this.join(inst);
    }
    return group;
  }

  /** A new launch template version for a group (what an apply of a changed spec does). */
  bumpVersion(groupName: string): void {
    const g = this.group(groupName);
    g.launchTemplateVersion = String(Number(g.launchTemplateVersion) + 1);
  }

  group(name: string): FakeGroup {
    const g = [...this.groups.values()].find((x) => x.name === name);
    if (!g) throw new Error(`no group ${name}`);
    return g;
  }

  /** Workload pods of a ReplicaSet, spread over the Ready nodes of role node. */
  addReplicaSet(namespace: string, name: string, replicas: number, labels: Record<string, string>, nodes?: string[]): void {
    const targets = nodes ?? this.schedulableNodes();
    for (let i = 0; i < replicas; i++) {
      this.addPod({ namespace, name: `${name}-${i}`, nodeName: targets[i % targets.length], labels, owner: { kind: "ReplicaSet", name }, started: true });
    }
  }

  addPdb(pdb: FakePdb): void {
    this.pdbs.push(pdb);
  }

  /** Stops an instance's machine without its group knowing yet (a crashed master). */
  crash(instanceId: string): void {
    const inst = this.instances.get(instanceId)!;
    inst.etcdUp = false;
    inst.joined = false;
    this.log("crash", instanceId);
  }

  // ---- state, as the fake's API and AWS report it ----

  private nodeOfInstance(id: string) {
    return [...this.nodes.values()].find((n) => n.instanceId === id);
  }

  private masters(): FakeInstance[] {
    return [...this.instances.values()].filter((i) => this.groups.get(i.asgName)?.role === "master");
  }

  /** etcd has quorum among the cluster's master groups. */
  quorum(): boolean {
    const members = [...this.groups.values()].filter((g) => g.role === "master").length;
    const up = this.masters().filter((m) => m.etcdUp).length;
    return up >= Math.floor(members / 2) + 1;
  }

  private nodeReady(instanceId: string): boolean {
    const inst = this.instances.get(instanceId);
    return !!inst && inst.lifecycle === "InService" && inst.joined;
  }

  private apiserverReady(inst: FakeInstance): boolean {
    return this.nodeReady(inst.id) && inst.etcdUp && this.quorum();
  }

  healthyMasters(): number {
    return this.masters().filter((m) => this.apiserverReady(m)).length;
  }

  private podReady(pod: FakePod): boolean {
    if (!pod.nodeName || pod.deleting || !pod.started) return false;
    const node = this.nodes.get(pod.nodeName);
    if (!node || !this.nodeReady(node.instanceId)) return false;
    if (pod.mirrorOf === "kube-apiserver") return this.apiserverReady(this.instances.get(node.instanceId)!);
    if (pod.mirrorOf) return this.instances.get(node.instanceId)!.etcdUp;
    return true;
  }

  private schedulableNodes(): string[] {
    return [...this.nodes.values()].filter((n) => n.role === "node" && !n.unschedulable && this.nodeReady(n.instanceId)).map((n) => n.name);
  }

  private log(kind: string, subject: string, node?: string): void {
    this.events.push({ t: Date.now() - this.start, kind, subject, node, healthyMasters: this.healthyMasters() });
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      f();
    }, ms);
    this.timers.add(t);
  }

  private newInstance(group: FakeGroup): FakeInstance {
    const n = ++this.seq;
    const inst: FakeInstance = {
      id: `i-${n.toString(16).padStart(17, "0")}`,
      asgName: group.asgName,
      zone: group.zones[n % group.zones.length],
      launchTemplateVersion: group.launchTemplateVersion,
      lifecycle: "Pending",
      joined: false,
      broken: false,
      etcdUp: false,
    };
    this.instances.set(inst.id, inst);
    group.instances.push(inst.id);
    return inst;
  }

  private addPod(p: Omit<FakePod, "uid" | "deleting">): FakePod {
    const pod: FakePod = { ...p, uid: `uid-${++this.seq}`, deleting: false };
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
    return pod;
  }

  /** The instance's kubelet joins: its Node, and on a master the control plane and etcd member. */
  private join(inst: FakeInstance): void {
    const group = this.groups.get(inst.asgName)!;
    if (group.role === "bastion") return;
    inst.joined = true;
    inst.nodeName = `ip-10-0-${Number.parseInt(inst.id.slice(2), 16)}.${this.name.split(".")[0]}.internal`;
    this.nodes.set(inst.nodeName, { name: inst.nodeName, instanceId: inst.id, unschedulable: false, kubeletVersion: this.kubeletVersion, role: group.role });
    this.addPod({ namespace: "kube-system", name: `kube-proxy-${inst.id.slice(-5)}`, nodeName: inst.nodeName, labels: { "k8s-app": "kube-proxy" }, owner: { kind: "DaemonSet", name: "kube-proxy" }, started: true });
    if (group.role === "master") {
      inst.etcdUp = !inst.broken;
      for (const component of CONTROL_PLANE) {
        this.addPod({ namespace: "kube-system", name: `${component}-${inst.nodeName}`, nodeName: inst.nodeName, labels: { component, tier: "control-plane" }, mirrorOf: component, started: true });
      }
    }
    this.log("joined", inst.id);
  }

  private launch(group: FakeGroup): void {
    const inst = this.newInstance(group);
    inst.broken = group.breakReplacements;
    this.log("launch", inst.id);
    this.later(this.timings.bootMs, () => {
      inst.lifecycle = "InService";
      this.log("inService", inst.id);
      this.later(this.timings.joinMs, () => this.join(inst));
    });
  }

  private live(group: FakeGroup): FakeInstance[] {
    return group.instances.map((id) => this.instances.get(id)!).filter((i) => i.lifecycle !== "Terminating");
  }

  // ---- the AWS API ----

  describeAutoScalingGroups(input: { Filters?: { Name?: string; Values?: string[] }[] }) {
    const filter = input.Filters?.find((f) => f.Name === "tag:KubernetesCluster");
    const groups = [...this.groups.values()].filter((g) => !filter || filter.Values?.includes(g.tags.KubernetesCluster));
    return {
      AutoScalingGroups: groups.map((g) => ({
        AutoScalingGroupName: g.asgName,
        MinSize: g.min,
        MaxSize: g.max,
        DesiredCapacity: g.desired,
        LaunchTemplate: { LaunchTemplateId: g.launchTemplateId, LaunchTemplateName: g.asgName, Version: g.launchTemplateVersion },
        Tags: Object.entries(g.tags).map(([Key, Value]) => ({ Key, Value, ResourceId: g.asgName })),
        Instances: g.instances.map((id) => {
          const i = this.instances.get(id)!;
          return {
            InstanceId: i.id,
            AvailabilityZone: i.zone,
            LifecycleState: i.lifecycle,
            HealthStatus: "Healthy",
            LaunchTemplate: { LaunchTemplateId: g.launchTemplateId, LaunchTemplateName: g.asgName, Version: i.launchTemplateVersion },
          };
        }),
      })),
    };
  }

  terminate(input: { InstanceId?: string; ShouldDecrementDesiredCapacity?: boolean }) {
    const inst = this.instances.get(input.InstanceId ?? "");
    if (!inst || inst.lifecycle === "Terminating") {
      throw Object.assign(new Error(`Instance Id not found - No managed instance found for instance ID: ${input.InstanceId}`), { name: "ValidationError" });
    }
    const group = this.groups.get(inst.asgName)!;
    if (input.ShouldDecrementDesiredCapacity) {
      if (group.desired - 1 < group.min) {
        throw Object.assign(new Error("Currently, desiredSize equals minSize"), { name: "ValidationError" });
      }
      group.desired -= 1;
    }
    // Logged first: the healthy masters at the moment of the call.
    this.log("terminate", inst.id, inst.nodeName);
    inst.lifecycle = "Terminating";
    inst.etcdUp = false;
    this.later(this.timings.terminateMs, () => {
      group.instances = group.instances.filter((id) => id !== inst.id);
      this.instances.delete(inst.id);
      this.log("terminated", inst.id);
      if (this.live(group).length < group.desired) this.launch(group);
    });
    return { Activity: { ActivityId: `act-${inst.id}`, StatusCode: "InProgress" } };
  }

  setDesired(input: { AutoScalingGroupName?: string; DesiredCapacity?: number }) {
    const group = this.groups.get(input.AutoScalingGroupName ?? "")!;
    const desired = input.DesiredCapacity ?? group.desired;
    if (desired > group.max || desired < group.min) {
      throw Object.assign(new Error(`New SetDesiredCapacity value ${desired} is above max value ${group.max}`), { name: "ValidationError" });
    }
    group.desired = desired;
    this.log("setDesired", `${group.name}=${desired}`);
    while (this.live(group).length < group.desired) this.launch(group);
    return {};
  }

  /** Answers the cluster's AWS calls through aws-sdk-client-mock; `caBundle` is what SSM holds. */
  mockAws(): void {
    const asg = mockClient(AutoScalingClient);
    asg.on(DescribeAutoScalingGroupsCommand).callsFake((input) => this.describeAutoScalingGroups(input));
    asg.on(TerminateInstanceInAutoScalingGroupCommand).callsFake((input) => this.terminate(input));
    asg.on(SetDesiredCapacityCommand).callsFake((input) => this.setDesired(input));
    asg.on(CreateOrUpdateTagsCommand).callsFake((input) => {
      for (const t of input.Tags ?? []) {
        const g = this.groups.get(t.ResourceId ?? "")!;
        g.tags[t.Key!] = t.Value ?? "";
      }
      return {};
    });
    asg.on(DeleteTagsCommand).callsFake((input) => {
      for (const t of input.Tags ?? []) {
        delete this.groups.get(t.ResourceId ?? "")!.tags[t.Key!];
      }
      return {};
    });
    const ssm = mockClient(SSMClient);
    ssm.on(GetParameterCommand, { Name: `/kopsform/${this.name}/pki/kubernetes-ca` }).resolves({ Parameter: { Value: this.ca.bundle } });
    this.mocks = [asg as AwsClientStub<AutoScalingClient | SSMClient>, ssm as AwsClientStub<AutoScalingClient | SSMClient>];
  }

  // ---- the Kubernetes API ----

  /** Starts the API server on 127.0.0.1; returns its URL. */
  async serve(): Promise<string> {
    const cert = makeServerCert(this.ca, [`api.${this.name}`]);
    this.server = https.createServer({ key: cert.keyPem, cert: cert.certPem, ca: this.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Stops timers, the server and the AWS mocks. */
  async stop(): Promise<void> {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    this.mocks.forEach((m) => m.restore());
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
  }

  private nodeJson(n: { name: string; instanceId: string; unschedulable: boolean; kubeletVersion: string; role: Role }) {
    const inst = this.instances.get(n.instanceId);
    return {
      metadata: { name: n.name, labels: n.role === "master" ? { "node-role.kubernetes.io/control-plane": "" } : {} },
      spec: { providerID: `aws:///${inst?.zone ?? "us-west-2a"}/${n.instanceId}`, unschedulable: n.unschedulable || undefined },
      status: {
        conditions: [{ type: "Ready", status: this.nodeReady(n.instanceId) ? "True" : "Unknown" }],
        nodeInfo: { kubeletVersion: n.kubeletVersion },
      },
    };
  }

  private podJson(p: FakePod) {
    const ready = this.podReady(p);
    return {
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        labels: p.labels,
        annotations: p.mirrorOf ? { "kubernetes.io/config.mirror": "hash" } : {},
        ownerReferences: p.owner ? [{ kind: p.owner.kind, name: p.owner.name, controller: true }] : [],
        deletionTimestamp: p.deleting ? new Date().toISOString() : undefined,
      },
      spec: { nodeName: p.nodeName },
      status: { phase: p.nodeName && p.started ? "Running" : "Pending", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    };
  }

  private health(kind: "readyz" | "livez") {
    const etcd = this.quorum();
    const checks = ["ping", "log", "etcd", ...(kind === "readyz" ? ["etcd-readiness", "informer-sync"] : []), "poststarthook/start-apiserver-admission-initializer"];
    const lines = checks.map((c) => (c.startsWith("etcd") && !etcd ? `[-]${c} failed: reason withheld` : `[+]${c} ok`));
    return { status: etcd ? 200 : 500, text: `${lines.join("\n")}\n${kind} check ${etcd ? "passed" : "failed"}\n` };
  }

  private evict(pod: FakePod): { status: number; body: unknown } {
    for (const pdb of this.pdbs.filter((b) => b.namespace === pod.namespace && Object.entries(b.selector).every(([k, v]) => pod.labels[k] === v))) {
      const healthy = [...this.pods.values()].filter(
        (p) => p.namespace === pdb.namespace && Object.entries(pdb.selector).every(([k, v]) => p.labels[k] === v) && this.podReady(p),
      ).length;
      if (healthy - (this.podReady(pod) ? 1 : 0) < pdb.minAvailable) {
        this.log("evictionRefused", `${pod.namespace}/${pod.name}`);
        return {
          status: 429,
          body: { kind: "Status", status: "Failure", reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.", code: 429 },
        };
      }
    }
    pod.deleting = true;
    this.log("evicted", `${pod.namespace}/${pod.name}`, pod.nodeName);
    this.later(this.timings.podStopMs, () => {
      this.pods.delete(`${pod.namespace}/${pod.name}`);
      if (pod.owner?.kind === "ReplicaSet") {
        const target = this.schedulableNodes()[0];
        const fresh = this.addPod({ namespace: pod.namespace, name: `${pod.owner.name}-${++this.seq}`, nodeName: target, labels: pod.labels, owner: pod.owner, started: false });
        this.later(this.timings.podStartMs, () => {
          fresh.started = true;
        });
      }
    });
    return { status: 201, body: { kind: "Status", status: "Success" } };
  }

  private handle(req: import("http").IncomingMessage, res: import("http").ServerResponse): void {
    // The load balancer has a target only while some master's API server runs.
    if (!this.masters().some((m) => this.nodeReady(m.id))) {
      req.socket.destroy();
      return;
    }
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const groups = ([] as string[]).concat(peer?.subject?.O ?? []);
    const send = (status: number, body: unknown, type = "application/json") => {
      res.writeHead(status, { "Content-Type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (!groups.includes("system:masters")) {
      send(403, { kind: "Status", message: "forbidden", code: 403 });
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "https://fake");
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
      const p = url.pathname;
      let m: RegExpExecArray | null;
      if (p === "/readyz" || p === "/livez") {
        const h = this.health(p.slice(1) as "readyz" | "livez");
        send(h.status, h.text, "text/plain");
      } else if (req.method === "GET" && p === "/api/v1/nodes") {
        send(200, { items: [...this.nodes.values()].map((n) => this.nodeJson(n)) });
      } else if ((m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(p))) {
        const node = this.nodes.get(decodeURIComponent(m[1]));
        if (!node) return send(404, { kind: "Status", code: 404, message: "not found" });
        if (req.method === "PATCH") {
          if (body?.spec?.unschedulable !== undefined) node.unschedulable = !!body.spec.unschedulable;
          this.log("cordon", node.name);
          send(200, this.nodeJson(node));
        } else if (req.method === "DELETE") {
          this.nodes.delete(node.name);
          this.log("deleteNode", node.name);
          send(200, { kind: "Status", status: "Success" });
        } else send(405, {});
      } else if (req.method === "GET" && (p === "/api/v1/pods" || (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(p)))) {
        const ns = m?.[1];
        const field = url.searchParams.get("fieldSelector");
        const label = url.searchParams.get("labelSelector");
        const items = [...this.pods.values()].filter(
          (pod) =>
            (!ns || pod.namespace === ns) &&
            (!field || `spec.nodeName=${pod.nodeName}` === field) &&
            (!label || label.split(",").every((kv) => pod.labels[kv.split("=")[0]] === kv.split("=")[1])),
        );
        send(200, { items: items.map((pod) => this.podJson(pod)) });
      } else if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(p))) {
        const pod = this.pods.get(`${m[1]}/${m[2]}`);
        if (!pod) return send(404, { kind: "Status", code: 404, message: "not found" });
        if (m[3] && req.method === "POST") {
          const r = this.evict(pod);
          send(r.status, r.body);
        } else if (!m[3] && req.method === "GET") send(200, this.podJson(pod));
        else send(405, {});
      } else {
        send(404, { kind: "Status", code: 404, message: `no route ${req.method} ${p}` });
      }
    });
  }

  /** The events of one kind, in order. */
  eventsOf(kind: string): FakeEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  nodeOf(instanceId: string): string | undefined {
    return this.nodeOfInstance(instanceId)?.name;
  }
}
