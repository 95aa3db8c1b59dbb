/**
 * A kops cluster's manifest (one Cluster, its InstanceGroups, optionally its SSHCredential) turned into
 * the fields of a kopsform spec, with a report of everything that could not be carried over.
 *
 * convert.ts reads a manifest value only through {@link Doc.take}, which refuses any path that rules.ts
 * does not map; afterwards every value the manifest sets and nothing read is reported under its rule
 * (not carried over, or kops's bookkeeping). So a field is either mapped here, or named in the report:
 * never dropped in silence. Where kopsform's default differs from kops's (an internal API load balancer,
 * no SSH from anywhere, io1 IOPS), the spec states kops's behaviour explicitly and the report says so.
 */
import { planSubnets, SubnetRole } from "../address-plan";
import { isAnywhere } from "../cidr";
import * as D from "../defaults";
import { layMasters } from "../masters";
import { MasterSlot } from "../types";
import { Leaf, ManifestDocument, ManifestProblem, documentLabel, isPlainObject, patternOf } from "./manifest";
import { ImportReport, Text, concat, ours, say } from "./report";
import { ruleFor } from "./rules";

/** The spec's fields, with the report of the import. */
export interface ImportedCluster {
  readonly name: string;
  /** Spec fields, in the order a spec file lists them. */
  readonly raw: Record<string, unknown>;
  readonly report: ImportReport;
}

/** kops's image owner aliases (awsup.ResolveImageOwnerAlias) and the accounts they stand for. */
export const KOPS_IMAGE_OWNER_ALIASES: Readonly<Record<string, string>> = {
  amazon: "137112412989",
  "amazon.com": "137112412989",
  debian: "136693071363",
  debian11: "136693071363",
  flatcar: "075585003325",
  redhat: "309956199498",
  "redhat.com": "309956199498",
  ubuntu: "099720109477",
  rocky: "792107900819",
  rockylinux: "792107900819",
};

/** kops's defaults where a manifest leaves a value out (pkg/model, populate_instancegroup_spec.go). */
const KOPS_DEFAULTS = {
  nodeGroupSize: 2,
  etcdVolumeType: "gp3",
  etcdVolumeSizeGib: 20,
  gp3Iops: 3000,
  gp3ThroughputMibs: 125,
  provisionedIops: 100,
  bastionInstanceType: "t3.micro",
} as const;

/** The bastion kopsform builds (modules/bastion.ts). */
const KOPSFORM_BASTION = { instanceType: "t3.micro", volumeSizeGib: 16 } as const;

const ROLES: Readonly<Record<string, "master" | "node" | "bastion">> = {
  Master: "master",
  ControlPlane: "master",
  Node: "node",
  Bastion: "bastion",
};

const SUBNET_TYPES: Readonly<Record<string, SubnetRole>> = { Public: "public", Private: "private", Utility: "utility" };

const CNI_NAMES: Readonly<Record<string, string>> = {
  kubenet: "kubenet",
  external: "external",
  cni: "cni",
  kopeio: "kopeio-vxlan",
  weave: "weave",
  flannel: "flannel",
  calico: "calico",
  canal: "canal",
  kuberouter: "kube-router",
  amazonvpc: "amazon-vpc-routed-eni",
  cilium: "cilium",
};

/** One kops object, read through the rules: every value read is recorded. */
class Doc {
  private readonly used = new Set<string>();
  private whole = false;

  constructor(readonly d: ManifestDocument) {}

  get where(): string {
    return documentLabel(this.d);
  }

  get name(): string {
    return this.d.name;
  }

  /** The value at `path`, recorded as read. Only paths that rules.ts maps may be read. */
  take(path: string): unknown {
    const found = ruleFor(this.d.kind, patternOf(path));
    if (found?.rule.status !== "mapped") {
      throw new Error(`kopsform bug: the importer reads ${this.d.kind} ${path}, which spec/kops/rules.ts does not map.`);
    }
    this.used.add(path);
    return valueAt(this.d.body, path);
  }

  str(path: string): string | undefined {
    return this.take(path) as string | undefined;
  }
  num(path: string): number | undefined {
    return this.take(path) as number | undefined;
  }
  bool(path: string): boolean | undefined {
    return this.take(path) as boolean | undefined;
  }
  strings(path: string): string[] | undefined {
    const v = this.take(path) as unknown[] | undefined;
    return v?.filter((x): x is string => typeof x === "string");
  }
  map(path: string): Record<string, string> | undefined {
    const v = this.take(path) as Record<string, unknown> | undefined;
    return v ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, String(x)])) : undefined;
  }
  /** The length of a list of objects (reads the list itself). */
  count(path: string): number {
    const v = this.take(path);
    return Array.isArray(v) ? v.length : 0;
  }
  /** Whether the document sets anything at or below `path` (reads nothing). */
  sets(path: string): boolean {
    return this.d.leaves.some((l) => l.path === path || l.path.startsWith(`${path}.`) || l.path.startsWith(`${path}[`));
  }

  /** Marks every value at or below `prefix` (the whole document without one) as dealt with; returns their paths. */
  consume(prefix?: string): string[] {
    if (prefix === undefined) {
      this.whole = true;
      return this.d.leaves.map((l) => l.path);
    }
    const under = this.d.leaves.filter((l) => l.path === prefix || l.path.startsWith(`${prefix}.`) || l.path.startsWith(`${prefix}[`));
    under.forEach((l) => this.used.add(l.path));
    return under.map((l) => l.path);
  }

  /** Values set but not read. */
  leftovers(): Leaf[] {
    return this.whole ? [] : this.d.leaves.filter((l) => !this.used.has(l.path));
  }
}

function valueAt(body: unknown, path: string): unknown {
  let current: unknown = body;
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (current === null || typeof current !== "object") {
      return undefined;
    }
    current = m[2] !== undefined ? (current as unknown[])[Number(m[2])] : (current as Record<string, unknown>)[m[1]];
  }
  return current === null ? undefined : current;
}

/** A cluster subnet of the manifest. */
interface KopsSubnet {
  readonly index: number;
  readonly name: string;
  readonly zone: string;
  readonly role: SubnetRole;
}

/** A control-plane instance group: its zone and how many masters it runs. */
interface MasterGroup {
  readonly doc: Doc;
  readonly zone: string;
  readonly size: number;
  slots: MasterSlot[];
}

/** A node instance group, read. */
interface NodeGroupDraft {
  readonly doc: Doc;
  readonly zones: readonly string[];
  readonly size?: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly volumeSize?: number;
  readonly image?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly string[];
  readonly securityGroups: readonly string[];
}

/** The settings of one etcd volume, as kops would create it (its defaults filled in). */
interface EtcdVolume {
  readonly where: string;
  readonly path: string;
  readonly type: string;
  readonly size: number;
  readonly iops?: number;
  readonly throughput?: number;
  readonly kmsKeyId?: string;
  readonly encrypted: boolean;
}

/**
 * Converts the documents of one kops cluster. Returns every problem found (the import then writes
 * nothing), or the spec's fields and the report.
 */
export function convertManifest(documents: readonly ManifestDocument[]): { imported?: ImportedCluster; problems: ManifestProblem[] } {
  const converter = new Converter(documents);
  return converter.run();
}

class Converter {
  private readonly problems: ManifestProblem[] = [];
  private readonly report = new ImportReport();
  private readonly raw: Record<string, unknown> = {};
  private readonly docs: Doc[];
  private cluster!: Doc;
  private name = "";
  private zones: string[] = [];
  private topology: "public" | "private" = "public";
  private subnetsByName = new Map<string, KopsSubnet>();
  private image?: string;
  private masters: MasterGroup[] = [];

  constructor(documents: readonly ManifestDocument[]) {
    this.docs = documents.map((d) => new Doc(d));
  }

  private problem(where: string, path: string, message: string): void {
    this.problems.push({ where: path ? `${where}: ${path}` : where, message });
  }

  run(): { imported?: ImportedCluster; problems: ManifestProblem[] } {
    const clusters = this.docs.filter((d) => d.d.kind === "Cluster");
    if (clusters.length === 0) {
      this.problem(
        "(input)",
        "",
        "holds no Cluster; give the cluster with its instance groups: `kops get all NAME -o yaml` " +
          "(or `kops get cluster NAME -o yaml` and `kops get ig --name NAME -o yaml`).",
      );
      return { problems: this.problems };
    }
    if (clusters.length > 1) {
      this.problem(
        clusters[1].where,
        "",
        `is a second Cluster (after ${clusters[0].where}); import one cluster at a time, with its own instance groups.`,
      );
      return { problems: this.problems };
    }
    this.cluster = clusters[0];
    const c = this.cluster;
    c.take("apiVersion");
    c.take("kind");
    this.name = c.str("metadata.name") ?? "";
    if (!this.name) {
      this.problem(c.where, "metadata.name", "is missing; the cluster's name (hacluster.example.com) names the spec.");
      return { problems: this.problems };
    }
    this.raw.name = this.name;
    this.report.source("name", c.where, "metadata.name");
    const members = this.checkMembership();
    this.readCloudProvider();
    this.readNetwork();
    this.readMasters(members.filter((d) => this.roleOf(d) === "master"));
    this.readEtcd();
    this.readNodes(members.filter((d) => this.roleOf(d) === "node"));
    this.readBastions(members.filter((d) => this.roleOf(d) === "bastion"));
    this.readOtherRoles(members);
    this.readKubernetesVersion();
    this.readApi();
    this.readDns();
    this.readSsh(this.docs.filter((d) => d.d.kind === "SSHCredential"));
    this.readCloudLabels();
    this.readNetworking();
    this.readIam();
    if (this.problems.length > 0) {
      return { problems: this.problems };
    }
    this.describeDifferences();
    this.reportLeftovers();
    return { imported: { name: this.name, raw: this.ordered(), report: this.report }, problems: [] };
  }

  /** Instance groups and SSH keys must belong to this cluster; each name once. */
  private checkMembership(): Doc[] {
    const igs: Doc[] = [];
    const seen = new Map<string, Doc>();
    for (const doc of this.docs) {
      if (doc.d.kind === "Cluster") {
        continue;
      }
      doc.take("apiVersion");
      doc.take("kind");
      const labels = doc.map("metadata.labels") ?? {};
      const owner = labels["kops.k8s.io/cluster"];
      if (owner !== undefined && owner !== this.name) {
        this.problem(
          doc.where,
          "metadata.labels.kops.k8s.io/cluster",
          `${JSON.stringify(owner)}: this ${doc.d.kind} belongs to another cluster than ${this.name}; ` +
            "import each cluster with its own objects (kops get all NAME -o yaml).",
        );
        continue;
      }
      const others = Object.keys(labels).filter((k) => k !== "kops.k8s.io/cluster");
      if (others.length > 0) {
        this.report.bookkeeping.push({
          where: doc.where,
          paths: others.map((k) => `metadata.labels.${k}`),
          why: ["labels on the kops object, read by kops's tooling only"],
        });
      }
      if (doc.d.kind !== "InstanceGroup") {
        continue;
      }
      const name = doc.str("metadata.name") ?? "";
      if (!name) {
        this.problem(doc.where, "metadata.name", "is missing; every instance group has a name.");
        continue;
      }
      const twice = seen.get(name);
      if (twice) {
        this.problem(doc.where, "metadata.name", `${JSON.stringify(name)} is also the name of ${twice.where}; give each instance group once.`);
        continue;
      }
      seen.set(name, doc);
      igs.push(doc);
    }
    return igs;
  }

  private roleOf(doc: Doc): "master" | "node" | "bastion" | "other" {
    const role = valueAt(doc.d.body, "spec.role");
    return typeof role === "string" ? (ROLES[role] ?? "other") : "other";
  }

  private readCloudProvider(): void {
    const cloud = this.cluster.str("spec.cloudProvider");
    if (cloud !== undefined && cloud !== "aws") {
      this.problem(this.cluster.where, "spec.cloudProvider", `${JSON.stringify(cloud)}: kopsform builds clusters on aws only.`);
    }
  }

  /** Subnets, zones, topology, network CIDR and a shared VPC. */
  private readNetwork(): void {
    const c = this.cluster;
    const networkCidr = c.str("spec.networkCIDR");
    this.raw.networkCidr = networkCidr ?? D.DEFAULT_NETWORK_CIDR;
    if (networkCidr) {
      this.report.source("networkCidr", c.where, "spec.networkCIDR");
    } else {
      this.report.notes.push(say`The manifest names no spec.networkCIDR; the spec takes kops's default, ${D.DEFAULT_NETWORK_CIDR}.`);
    }
    const vpc = c.str("spec.networkID");
    if (vpc) {
      this.raw.vpc = vpc;
      this.report.source("vpc", c.where, "spec.networkID");
    }
    const subnets: (KopsSubnet & { cidr?: string; id?: string })[] = [];
    const count = c.count("spec.subnets");
    for (let i = 0; i < count; i++) {
      const at = (f: string) => `spec.subnets[${i}].${f}`;
      const name = c.str(at("name"));
      const zone = c.str(at("zone"));
      const type = c.str(at("type"));
      const cidr = c.str(at("cidr"));
      const id = c.str(at("id"));
      if (!zone) {
        this.problem(c.where, at("zone"), "is missing; kopsform places every subnet in a zone.");
        continue;
      }
      if (type === "DualStack" || c.sets(at("ipv6CIDR"))) {
        this.problem(c.where, type === "DualStack" ? at("type") : at("ipv6CIDR"), "IPv6 (dual-stack) clusters are not supported: kopsform builds IPv4 networks.");
        continue;
      }
      const role = type === undefined ? undefined : SUBNET_TYPES[type];
      if (!role) {
        this.problem(c.where, at("type"), `${JSON.stringify(type)} is not a subnet type kopsform builds; use Public, Private or Utility.`);
        continue;
      }
      if (!name) {
        this.problem(c.where, at("name"), "is missing; instance groups name the subnets they run in.");
        continue;
      }
      if (this.subnetsByName.has(name)) {
        this.problem(c.where, at("name"), `${JSON.stringify(name)} names two subnets; give each subnet its own name.`);
        continue;
      }
      const subnet = { index: i, name, zone, role, cidr, id };
      this.subnetsByName.set(name, subnet);
      subnets.push(subnet);
    }
    if (count === 0) {
      this.problem(c.where, "spec.subnets", "is empty; kopsform takes the cluster's zones from its subnets.");
      return;
    }
    this.zones = [...new Set(subnets.map((s) => s.zone))];
    this.topology = subnets.some((s) => s.role === "private" || s.role === "utility") ? "private" : "public";
    this.raw.zones = this.zones;
    this.raw.topology = this.topology;
    this.report.source("zones", c.where, "spec.subnets[].zone");
    this.report.source("topology", c.where, "spec.subnets[].type");
    // CIDRs that equal kopsform's address plan need no override; the others are kept as kops has them.
    const plan = planSubnets({ networkCidr: this.raw.networkCidr as string, topology: this.topology, zones: this.zones, overrides: [] });
    const planned = new Map(plan.subnets.map((s) => [`${s.zone}/${s.role}`, s.cidr]));
    const entries: Record<string, string>[] = [];
    const renamed: string[] = [];
    for (const s of subnets) {
      const entry: Record<string, string> = { zone: s.zone, type: s.role };
      if (s.id) {
        entry.id = s.id;
        if (s.cidr) {
          this.report.notes.push(say`Subnet ${s.name} is shared (${s.id}): kops recorded its CIDR ${s.cidr}; kopsform reads nothing of a shared subnet but its id.`);
        }
      } else if (s.cidr && s.cidr !== planned.get(`${s.zone}/${s.role}`)) {
        entry.cidr = s.cidr;
      } else if (!s.cidr) {
        this.report.notes.push(say`Subnet ${s.name} has no CIDR in the manifest; kopsform's address plan gives it one.`);
      }
      if (entry.id || entry.cidr) {
        this.report.source(`subnets[${entries.length}]`, c.where, `spec.subnets[${s.index}]`);
        entries.push(entry);
      }
      const expected = s.role === "utility" ? `utility-${s.zone}` : s.zone;
      if (s.name !== expected) {
        renamed.push(`${s.name} (the ${s.role} subnet of ${s.zone})`);
      }
    }
    if (entries.length > 0) {
      this.raw.subnets = entries;
    }
    const kept = subnets.filter((s) => !s.id && s.cidr).length;
    if (kept > 0) {
      this.report.notes.push(
        entries.some((e) => e.cidr)
          ? say`Subnet CIDRs that differ from kopsform's address plan are kept under subnets; the others equal the plan.`
          : say`Every subnet CIDR of the manifest equals kopsform's address plan, so the spec needs no subnets entries for them.`,
      );
    }
    if (renamed.length > 0) {
      this.report.renamed.push(
        say`Subnets are not named in kopsform (their Terraform names follow the zone: ZONE-CLUSTER and utility-ZONE-CLUSTER): ${renamed}.`,
      );
    }
  }

  /** The zones (and subnet roles) of an instance group, from its subnets (or zones). */
  private groupZones(doc: Doc): { zones: string[]; roles: Set<SubnetRole> } | undefined {
    const names = doc.strings("spec.subnets") ?? [];
    const listed = doc.strings("spec.zones") ?? [];
    const roles = new Set<SubnetRole>();
    let zones: string[] = [];
    names.forEach((n, i) => {
      const s = this.subnetsByName.get(n);
      if (!s) {
        this.problem(
          doc.where,
          `spec.subnets[${i}]`,
          `${JSON.stringify(n)} is not a subnet of the Cluster (it has ${[...this.subnetsByName.keys()].join(", ")}); name one of those.`,
        );
        return;
      }
      zones.push(s.zone);
      roles.add(s.role);
    });
    if (listed.length > 0) {
      const outside = listed.filter((z) => !this.zones.includes(z) || (names.length > 0 && !zones.includes(z)));
      if (outside.length > 0) {
        this.problem(doc.where, "spec.zones", `${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} not among the zones of the group's subnets (${[...new Set(zones)].join(", ") || "none"}).`);
        return undefined;
      }
      zones = names.length > 0 ? zones.filter((z) => listed.includes(z)) : listed;
    }
    if (names.length === 0 && listed.length === 0) {
      this.problem(
        doc.where,
        "spec.subnets",
        "is empty, so the group has no zones; kops places an instance group in the subnets it names: " +
          `add spec.subnets (${[...this.subnetsByName.keys()].slice(0, 3).join(", ")}, ...).`,
      );
      return undefined;
    }
    return { zones: this.zones.filter((z) => zones.includes(z)), roles };
  }

  /** The roles a group's instances run in kopsform: private subnets in private topology, public ones otherwise. */
  private checkSubnetRoles(doc: Doc, roles: ReadonlySet<SubnetRole>, expected: SubnetRole, what: string): void {
    const other = [...roles].filter((r) => r !== expected);
    if (other.length > 0) {
      this.report.omit(
        doc.where,
        ["spec.subnets"],
        say`ran the group in ${ours(other.join(" and "))} subnets`,
        say`${ours(what)} run in the ${ours(expected)} subnets of their zones`,
      );
    }
  }

  /** The control plane: one master slot per kops master, laid over masterZones round-robin as kopsform does. */
  private readMasters(groups: Doc[]): void {
    const c = this.cluster;
    const read: MasterGroup[] = [];
    for (const doc of groups) {
      doc.take("spec.role");
      this.checkManager(doc);
      const placed = this.groupZones(doc);
      const min = doc.num("spec.minSize") ?? 1;
      const max = doc.num("spec.maxSize") ?? 1;
      if (!placed) {
        continue;
      }
      if (placed.zones.length !== 1) {
        this.problem(
          doc.where,
          "spec.subnets",
          `places one control-plane group in ${placed.zones.join(", ")}; kopsform pins each master to one zone ` +
            "(its etcd volumes live there): give each control-plane group the subnet of one zone.",
        );
        continue;
      }
      if (min !== max || min < 1) {
        this.problem(
          doc.where,
          "spec.maxSize",
          `a control-plane group of ${min} to ${max} instances: each master owns etcd volumes, so kopsform runs a fixed ` +
            "number of masters; set minSize and maxSize to the same number (1 per group, as kops creates them).",
        );
        continue;
      }
      this.checkSubnetRoles(doc, placed.roles, this.topology === "private" ? "private" : "public", "masters");
      read.push({ doc, zone: placed.zones[0], size: min, slots: [] });
    }
    if (groups.length === 0) {
      this.problem(
        c.where,
        "",
        "has no control-plane instance group (role Master) in the input; add the instance groups: " +
          "`kops get ig --name NAME -o yaml` (or use `kops get all NAME -o yaml`).",
      );
      return;
    }
    if (read.length < groups.length) {
      return;
    }
    const perZone = new Map<string, number>();
    read.forEach((g) => perZone.set(g.zone, (perZone.get(g.zone) ?? 0) + g.size));
    // Zones with more masters first, so that kopsform's round-robin gives each zone its count.
    const masterZones = [...perZone.keys()].sort((a, b) => (perZone.get(b) ?? 0) - (perZone.get(a) ?? 0) || this.zones.indexOf(a) - this.zones.indexOf(b));
    const masterCount = read.reduce((n, g) => n + g.size, 0);
    const slots = layMasters(masterZones, masterCount);
    const laid = new Map<string, MasterSlot[]>();
    slots.forEach((s) => laid.set(s.zone, [...(laid.get(s.zone) ?? []), s]));
    const mismatch = masterZones.some((z) => (laid.get(z) ?? []).length !== perZone.get(z));
    const where = read.map((g) => g.doc.name).join(", ");
    if (mismatch) {
      this.problem(
        c.where,
        "",
        `the control-plane groups (${where}) put ${masterZones.map((z) => `${perZone.get(z)} in ${z}`).join(", ")}; ` +
          "kopsform lays masters over their zones round-robin (no zone has more than one master more than another), " +
          "so it cannot express this layout. Spread the masters evenly before importing.",
      );
      return;
    }
    const natural = (a: MasterGroup, b: MasterGroup) => a.doc.name.localeCompare(b.doc.name, "en", { numeric: true });
    for (const zone of masterZones) {
      const free = [...(laid.get(zone) ?? [])];
      for (const g of read.filter((x) => x.zone === zone).sort(natural)) {
        g.slots = free.splice(0, g.size);
      }
    }
    this.masters = read;
    this.raw.masterZones = masterZones;
    this.raw.masterCount = masterCount;
    // The record of the cluster's etcd members (spec/etcd-members.ts), under kopsform's names.
    this.raw.etcdMembers = slots.map((s) => s.member);
    for (const field of ["masterZones", "masterCount", "etcdMembers"]) {
      read.forEach((g) => this.report.source(field, g.doc.where, "spec.subnets, spec.minSize"));
    }
    const renamed = read.filter((g) => g.slots.length !== 1 || g.slots[0].name !== g.doc.name);
    if (renamed.length > 0) {
      this.report.renamed.push(
        say`Control-plane groups become kopsform's masters (each its own launch template and auto-scaling group, named after its zone): ${renamed.map(
          (g) => `${g.doc.name} -> ${g.slots.map((s) => s.name).join(" + ")}`,
        )}.`,
      );
    }
    this.readMasterSettings(read);
  }

  /** Machine type, root volume, image and extra security groups of the masters: one value for all in kopsform. */
  private readMasterSettings(groups: readonly MasterGroup[]): void {
    const one = <T>(path: string, field: string, read: (doc: Doc) => T | undefined, describe: (v: T) => string): T | undefined => {
      const values = groups.map((g) => ({ g, v: read(g.doc) }));
      const given = values.filter((x) => x.v !== undefined);
      given.forEach((x) => this.report.source(field, x.g.doc.where, path));
      const distinct = [...new Set(given.map((x) => describe(x.v as T)))];
      if (distinct.length > 1 || (given.length > 0 && given.length < values.length)) {
        this.report.omit(
          `instance groups ${values.map((x) => x.g.doc.name).join(", ")}`,
          [path],
          say`gave the masters different values: ${values.map((x) => `${x.g.doc.name}: ${x.v === undefined ? "(kops's default)" : describe(x.v as T)}`)}`,
          given.length > 0 ? say`every master gets ${describe(given[0].v as T)} (${ours(field)})` : say`every master gets kopsform's default (${ours(field)})`,
        );
      }
      return given[0]?.v;
    };
    const size = one("spec.machineType", "masterSize", (d) => d.str("spec.machineType"), String);
    if (size !== undefined) {
      this.raw.masterSize = size;
    }
    const volume = one("spec.rootVolumeSize", "masterVolumeSize", (d) => d.num("spec.rootVolumeSize"), String);
    if (volume !== undefined) {
      this.raw.masterVolumeSize = volume;
    }
    const image = one("spec.image", "image", (d) => this.imageOf(d), String);
    if (image !== undefined) {
      this.image = image;
      this.raw.image = image;
    }
    const groupsOf = groups.map((g) => ({ g, sgs: g.doc.strings("spec.additionalSecurityGroups") ?? [] }));
    const all = [...new Set(groupsOf.flatMap((x) => x.sgs))];
    if (all.length > 0) {
      this.raw.masterSecurityGroups = all;
      groupsOf.filter((x) => x.sgs.length > 0).forEach((x) => this.report.source("masterSecurityGroups", x.g.doc.where, "spec.additionalSecurityGroups"));
      // Each id's own groups, so that a problem with one id names the groups that list it.
      all.forEach((sg, i) =>
        groupsOf
          .filter((x) => x.sgs.includes(sg))
          .forEach((x) => this.report.source(`masterSecurityGroups[${i}]`, x.g.doc.where, `spec.additionalSecurityGroups[${x.sgs.indexOf(sg)}]`)),
      );
      const partial = groupsOf.filter((x) => all.some((sg) => !x.sgs.includes(sg)));
      if (partial.length > 0) {
        this.report.omit(
          `instance groups ${partial.map((x) => x.g.doc.name).join(", ")}`,
          ["spec.additionalSecurityGroups"],
          say`gave some masters extra security groups that others lack`,
          say`every master gets all of them: ${all}`,
        );
      }
    }
    for (const g of groups) {
      this.checkInstance(g.doc, "master");
      for (const [path, what] of [
        ["spec.nodeLabels", "labelled the masters' nodes"],
        ["spec.taints", "tainted the masters' nodes"],
      ] as const) {
        if (g.doc.sets(path)) {
          g.doc.take(path);
          this.report.omit(g.doc.where, [path], ours(what), say`masters get the labels and taints your Kubernetes install gives control-plane nodes; the spec sets none`);
        }
      }
      const labels = g.doc.map("spec.cloudLabels");
      if (labels && Object.keys(labels).length > 0) {
        this.report.omit(g.doc.where, ["spec.cloudLabels"], say`tagged the masters' resources with ${Object.keys(labels)}`, say`masters carry the cluster's cloudLabels only`);
      }
    }
  }

  /** The image of a group, as kopsform writes it (kops's owner aliases resolved); undefined for kops's default. */
  private imageOf(doc: Doc): string | undefined {
    const value = doc.str("spec.image");
    if (value === undefined || value === "") {
      return undefined;
    }
    if (value.startsWith("ami-")) {
      return value;
    }
    if (value.startsWith("ssm:")) {
      const parameter = value.slice(4);
      const ours = ["amd64", "arm64"].map((arch) => D.DEFAULT_IMAGE_SSM_PARAMETER.replace("%ARCH%", arch));
      if (ours.includes(parameter)) {
        this.report.once(this.report.notes, say`${doc.name} used ${value}: that is kopsform's default image (Canonical's Ubuntu 24.04 LTS, resolved at launch), so the spec names none.`);
      } else {
        this.report.omit(
          doc.where,
          ["spec.image"],
          say`took its image from the SSM parameter ${parameter}`,
          say`the spec's image (an AMI id or owner/name; without one, Ubuntu 24.04 LTS from Canonical's SSM parameter)`,
        );
      }
      return undefined;
    }
    const slash = value.indexOf("/");
    if (slash < 0) {
      this.report.once(this.report.notes, say`The image ${value} has no owner; kops looked it up among your own images, so the spec says ${`self/${value}`}.`);
      return `self/${value}`;
    }
    const owner = value.slice(0, slash);
    const account = KOPS_IMAGE_OWNER_ALIASES[owner];
    if (account) {
      this.report.once(this.report.kept, say`kops's image owner ${owner} is its alias for account ${account}; the spec names the account (${`${account}/${value.slice(slash + 1)}`}).`);
      return `${account}/${value.slice(slash + 1)}`;
    }
    return value;
  }

  /**
   * An instance group's nodeLabels, less kops's own kops.k8s.io/instancegroup (kops-controller sets it;
   * the kubelet refuses labels under k8s.io from its flags), which is said in the report.
   */
  private nodeLabels(doc: Doc): Record<string, string> {
    const labels = { ...(doc.map("spec.nodeLabels") ?? {}) };
    if ("kops.k8s.io/instancegroup" in labels) {
      delete labels["kops.k8s.io/instancegroup"];
      this.report.once(
        this.report.notes,
        say`Node labels kops.k8s.io/instancegroup are left out: kops's controller sets that label, and the kubelet refuses labels under k8s.io (kopsform tags each group's instances with kops.k8s.io/instancegroup instead).`,
      );
    }
    return labels;
  }

  private checkManager(doc: Doc): void {
    const manager = doc.str("spec.manager");
    if (manager !== undefined && manager !== "CloudGroup") {
      this.problem(doc.where, "spec.manager", `${JSON.stringify(manager)}: kopsform runs every instance group as an auto-scaling group (CloudGroup).`);
    }
  }

  /** What every kind of group shares with kopsform's launch templates: gp3, encrypted, IMDSv2, hop limit 1. */
  private checkInstance(doc: Doc, role: "master" | "node" | "bastion"): void {
    const check = (path: string, expected: unknown, did: (value: string) => Text, instead: Text) => {
      const value = doc.take(path);
      if (value !== undefined && value !== expected) {
        this.report.omit(doc.where, [path], did(String(value)), instead);
      }
    };
    check("spec.rootVolumeType", "gp3", (v) => say`used ${v} root volumes`, say`root volumes are gp3`);
    check("spec.rootVolumeIops", KOPS_DEFAULTS.gp3Iops, (v) => say`provisioned ${v} IOPS on root volumes`, say`gp3's baseline of 3000 IOPS`);
    check(
      "spec.rootVolumeThroughput",
      KOPS_DEFAULTS.gp3ThroughputMibs,
      (v) => say`provisioned ${v} MiB/s on root volumes`,
      say`gp3's baseline of 125 MiB/s`,
    );
    check("spec.rootVolumeEncryption", true, () => say`left root volumes unencrypted`, say`root volumes are always encrypted`);
    check("spec.tenancy", "default", (v) => say`ran instances with ${v} tenancy`, say`default (shared) tenancy`);
    check("spec.detailedInstanceMonitoring", false, () => say`turned on detailed (1-minute) instance monitoring`, say`basic monitoring`);
    doc.take("spec.instanceMetadata");
    check(
      "spec.instanceMetadata.httpTokens",
      "required",
      (v) => say`allowed IMDSv1 (httpTokens ${v})`,
      say`IMDSv2 only, enforced at synthesis (KSEC-LT-001)`,
    );
    check(
      "spec.instanceMetadata.httpPutResponseHopLimit",
      1,
      (v) => say`let metadata responses travel ${v} hops (so containers reach the instance role's credentials)`,
      say`a hop limit of 1, enforced at synthesis (KSEC-LT-002)`,
    );
    const publicIp = role === "bastion" || this.topology === "public";
    check(
      "spec.associatePublicIp",
      publicIp,
      () => (publicIp ? say`gave the group's instances no public address` : say`gave the group's instances public addresses`),
      publicIp ? say`public addresses (they follow the topology)` : say`no public addresses (they follow the topology)`,
    );
    if (role !== "node") {
      // A group of fixed size: cluster-autoscaler has nothing to scale, whatever autoscale says.
      doc.take("spec.autoscale");
    }
  }

  /** etcd: the members must be the masters; the volumes' settings become the spec's etcd fields. */
  private readEtcd(): void {
    const c = this.cluster;
    const count = c.count("spec.etcdClusters");
    const byGroup = new Map(this.masters.map((g) => [g.doc.name, g]));
    const volumes: EtcdVolume[] = [];
    const seen = new Set<string>();
    const renamed: string[] = [];
    for (let i = 0; i < count; i++) {
      const at = `spec.etcdClusters[${i}]`;
      const name = c.str(`${at}.name`);
      if (name !== "main" && name !== "events") {
        this.report.omit(
          c.where,
          c.consume(at),
          name ? say`ran a further etcd cluster, ${name}` : say`ran a further etcd cluster`,
          say`kopsform runs etcd main and events only`,
        );
        continue;
      }
      seen.add(name);
      const provider = c.str(`${at}.provider`);
      if (provider !== undefined && provider !== "Manager") {
        this.report.omit(c.where, [`${at}.provider`], say`ran etcd ${name} with the ${provider} provider`, say`etcd runs on every master from kopsform's boot scripts`);
      }
      const memberCount = c.count(`${at}.etcdMembers`);
      const perGroup = new Map<string, { index: number; name: string }[]>();
      for (let j = 0; j < memberCount; j++) {
        const m = `${at}.etcdMembers[${j}]`;
        const memberName = c.str(`${m}.name`) ?? "";
        const group = c.str(`${m}.instanceGroup`);
        const type = c.str(`${m}.volumeType`) ?? KOPS_DEFAULTS.etcdVolumeType;
        const provisioned = type === "io1" || type === "io2" ? KOPS_DEFAULTS.provisionedIops : undefined;
        volumes.push({
          where: c.where,
          path: m,
          type,
          size: c.num(`${m}.volumeSize`) ?? KOPS_DEFAULTS.etcdVolumeSizeGib,
          iops: c.num(`${m}.volumeIops`) ?? (type === "gp3" ? KOPS_DEFAULTS.gp3Iops : provisioned),
          throughput: c.num(`${m}.volumeThroughput`) ?? (type === "gp3" ? KOPS_DEFAULTS.gp3ThroughputMibs : undefined),
          kmsKeyId: c.str(`${m}.kmsKeyId`),
          encrypted: c.bool(`${m}.encryptedVolume`) ?? false,
        });
        if (!group || !byGroup.has(group)) {
          if (this.masters.length > 0) {
            this.problem(
              c.where,
              `${m}.instanceGroup`,
              `${group ? JSON.stringify(group) : "is missing"}: every etcd member runs on a control-plane group of the input ` +
                `(${[...byGroup.keys()].join(", ")}); name one of those.`,
            );
          }
          continue;
        }
        perGroup.set(group, [...(perGroup.get(group) ?? []), { index: j, name: memberName }]);
      }
      for (const g of this.masters) {
        const members = (perGroup.get(g.doc.name) ?? []).sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
        if (members.length !== g.size) {
          this.problem(
            c.where,
            `${at}.etcdMembers`,
            `control-plane group ${g.doc.name} runs ${g.size} ${g.size === 1 ? "master" : "masters"} but has ${members.length} ` +
              `${members.length === 1 ? "member" : "members"} of etcd ${name}; kopsform gives every master one member of main and one of events.`,
          );
          continue;
        }
        members.forEach((m, k) => {
          if (m.name !== g.slots[k].member) {
            renamed.push(`${m.name} -> ${g.slots[k].member}`);
          }
        });
      }
    }
    if (this.masters.length === 0) {
      return;
    }
    for (const missing of ["main", "events"].filter((n) => !seen.has(n))) {
      this.report.notes.push(say`The manifest has no etcd cluster ${missing}; kopsform runs main and events on every master.`);
    }
    if (renamed.length > 0) {
      this.report.renamed.push(say`etcd members (of main and events) are named after their master's zone in kopsform: ${[...new Set(renamed)]}.`);
    }
    this.report.notes.push(
      say`etcd members are recorded in the spec (etcdMembers) under kopsform's names, which follow masterZones and masterCount (a, b, c; a-2 for a zone's second master).`,
    );
    this.readEtcdVolumes(volumes);
  }

  private readEtcdVolumes(volumes: readonly EtcdVolume[]): void {
    if (volumes.length === 0) {
      this.report.notes.push(say`The manifest describes no etcd volumes; kopsform's defaults apply (encrypted gp3, 20 GiB).`);
      return;
    }
    const chosen = volumes[0];
    const describe = (v: EtcdVolume) =>
      `${v.type}, ${v.size} GiB${v.iops ? `, ${v.iops} IOPS` : ""}${v.throughput ? `, ${v.throughput} MiB/s` : ""}` +
      `${v.kmsKeyId ? `, key ${v.kmsKeyId}` : ""}, ${v.encrypted ? "encrypted" : "unencrypted"}`;
    const others = volumes.filter((v) => describe(v) !== describe(chosen));
    if (others.length > 0) {
      this.report.omit(
        chosen.where,
        others.map((v) => v.path),
        say`gave etcd volumes different settings (${[...new Set(volumes.map(describe))]})`,
        say`every etcd volume gets the settings of the first member: ${describe(chosen)}`,
      );
    }
    const field = (name: string) => this.report.source(name, chosen.where, `${chosen.path}`);
    if (["gp3", "gp2", "io1", "io2"].includes(chosen.type)) {
      this.raw.etcdStorageType = chosen.type;
    } else {
      this.report.omit(chosen.where, [`${chosen.path}.volumeType`], say`kept etcd on ${chosen.type} volumes`, say`etcd volumes are gp3 (or gp2, io1, io2)`);
    }
    field("etcdStorageType");
    this.raw.etcdVolumeSize = chosen.size;
    field("etcdVolumeSize");
    const type = (this.raw.etcdStorageType as string | undefined) ?? "gp3";
    if ((type === "io1" || type === "io2") && chosen.iops !== undefined) {
      this.raw.etcdVolumeIops = chosen.iops;
      field("etcdVolumeIops");
      if (chosen.iops === KOPS_DEFAULTS.provisionedIops) {
        this.report.kept.push(
          say`etcd's ${type} volumes keep kops's ${chosen.iops} IOPS (kops's default when none is given; kopsform's own default is 3000, or what the size allows): etcdVolumeIops.`,
        );
      }
    } else if (type === "gp3" && chosen.iops !== undefined && chosen.iops !== KOPS_DEFAULTS.gp3Iops) {
      this.raw.etcdVolumeIops = chosen.iops;
      field("etcdVolumeIops");
    } else if (type === "gp2" && chosen.iops !== undefined) {
      this.report.omit(chosen.where, [`${chosen.path}.volumeIops`], say`asked ${chosen.iops} IOPS of gp2 volumes`, say`gp2 volumes take their IOPS from their size`);
    }
    if (type === "gp3" && chosen.throughput !== undefined && chosen.throughput !== KOPS_DEFAULTS.gp3ThroughputMibs) {
      this.report.omit(
        chosen.where,
        [`${chosen.path}.volumeThroughput`],
        say`provisioned ${chosen.throughput} MiB/s on etcd volumes`,
        say`gp3's baseline of 125 MiB/s`,
      );
    }
    if (chosen.kmsKeyId) {
      this.raw.etcdKmsKeyId = chosen.kmsKeyId;
      field("etcdKmsKeyId");
    }
    if (chosen.encrypted) {
      this.raw.encryptEtcdStorage = true;
      field("encryptEtcdStorage");
    } else {
      this.report.omit(
        chosen.where,
        [`${chosen.path}.encryptedVolume`],
        say`left the etcd volumes unencrypted`,
        say`etcd volumes are always encrypted (they hold every Secret of the cluster); the new volumes are`,
      );
    }
  }

  /** Node groups: kops's per-zone groups fold into kopsform's default `nodes` group when nothing tells them apart. */
  private readNodes(groups: Doc[]): void {
    const drafts: NodeGroupDraft[] = [];
    for (const doc of groups) {
      doc.take("spec.role");
      this.checkManager(doc);
      const placed = this.groupZones(doc);
      const minSize = doc.num("spec.minSize") ?? KOPS_DEFAULTS.nodeGroupSize;
      const maxSize = doc.num("spec.maxSize") ?? KOPS_DEFAULTS.nodeGroupSize;
      const draft: NodeGroupDraft = {
        doc,
        zones: placed?.zones ?? [],
        size: doc.str("spec.machineType"),
        minSize,
        maxSize,
        volumeSize: doc.num("spec.rootVolumeSize"),
        image: this.imageOf(doc),
        labels: this.nodeLabels(doc),
        taints: doc.strings("spec.taints") ?? [],
        securityGroups: doc.strings("spec.additionalSecurityGroups") ?? [],
      };
      if (!placed) {
        continue;
      }
      this.checkSubnetRoles(doc, placed.roles, this.topology === "private" ? "private" : "public", "nodes");
      this.checkInstance(doc, "node");
      this.checkAutoscaling(draft);
      drafts.push(draft);
    }
    if (drafts.length < groups.length) {
      return;
    }
    const plain = (d: NodeGroupDraft) =>
      d.minSize === d.maxSize && Object.keys(d.labels).length === 0 && d.taints.length === 0 && d.image === this.image;
    const same = (a: NodeGroupDraft, b: NodeGroupDraft) =>
      a.size === b.size && a.volumeSize === b.volumeSize && [...a.securityGroups].sort().join() === [...b.securityGroups].sort().join();
    const covers = (zones: readonly string[]) => zones.length === this.zones.length && this.zones.every((z) => zones.includes(z));
    const perZone =
      drafts.length > 1 &&
      drafts.every((d) => d.zones.length === 1) &&
      new Set(drafts.map((d) => d.zones[0])).size === drafts.length &&
      covers(drafts.map((d) => d.zones[0])) &&
      Math.max(...drafts.map((d) => d.minSize)) - Math.min(...drafts.map((d) => d.minSize)) <= 1;
    const whole = drafts.length === 1 && covers(drafts[0].zones);
    let folded: NodeGroupDraft[] = [];
    if (drafts.length > 0 && drafts.every(plain) && drafts.every((d) => same(d, drafts[0])) && (perZone || whole)) {
      folded = drafts;
    } else {
      const named = drafts.find((d) => d.doc.name === "nodes" && plain(d) && covers(d.zones));
      folded = named ? [named] : [];
    }
    const rest = drafts.filter((d) => !folded.includes(d));
    if (folded.length > 0) {
      const first = folded[0];
      const count = folded.reduce((n, d) => n + d.minSize, 0);
      this.raw.nodeCount = count;
      folded.forEach((d) => this.report.source("nodeCount", d.doc.where, "spec.minSize, spec.maxSize"));
      if (first.size) {
        this.raw.nodeSize = first.size;
        folded.forEach((d) => this.report.source("nodeSize", d.doc.where, "spec.machineType"));
      }
      if (first.volumeSize) {
        this.raw.nodeVolumeSize = first.volumeSize;
        folded.forEach((d) => this.report.source("nodeVolumeSize", d.doc.where, "spec.rootVolumeSize"));
      }
      if (first.securityGroups.length > 0) {
        this.raw.nodeSecurityGroups = [...first.securityGroups];
        folded.forEach((d) => this.report.source("nodeSecurityGroups", d.doc.where, "spec.additionalSecurityGroups"));
      }
      if (folded.length > 1 || first.doc.name !== "nodes") {
        this.report.renamed.push(
          concat(
            say`kops's node groups ${folded.map((d) => `${d.doc.name} (${d.minSize})`)} become kopsform's default group nodes over `,
            say`${this.zones} (${count} in all; its auto-scaling group balances them over the zones).`,
          ),
        );
      }
    } else {
      this.raw.nodeCount = 0;
      if (drafts.length > 0) {
        this.report.notes.push(
          say`kopsform always has a default node group, nodes; no kops group matches it (the same min and max, every zone, no labels or taints), so it has 0 instances and the kops groups are nodeGroups.`,
        );
      } else {
        this.report.notes.push(say`The input has no node instance group; kopsform's default group nodes gets 0 instances.`);
      }
    }
    const entries = rest.map((d) => this.nodeGroupEntry(d));
    rest.forEach((d, i) => this.report.source(`nodeGroups[${i}]`, d.doc.where, "spec"));
    if (entries.length > 0) {
      this.raw.nodeGroups = entries;
    }
  }

  private nodeGroupEntry(d: NodeGroupDraft): Record<string, unknown> {
    let name = d.doc.name;
    if (name === "nodes") {
      name = "nodes-kops";
      this.report.renamed.push(say`kops's node group nodes is named nodes-kops: kopsform's default group is called nodes, and this one differs from it.`);
    }
    const entry: Record<string, unknown> = { name, zones: d.zones };
    if (d.size) {
      entry.size = d.size;
    }
    entry.minSize = d.minSize;
    entry.maxSize = d.maxSize;
    if (d.volumeSize) {
      entry.volumeSize = d.volumeSize;
    }
    if (d.image && d.image !== this.image) {
      entry.image = d.image;
    } else if (!d.image && this.image) {
      this.report.notes.push(say`${d.doc.name} names no image (kops took its channel's default); in kopsform it runs the masters' image, ${this.image}.`);
    }
    if (Object.keys(d.labels).length > 0) {
      entry.labels = d.labels;
    }
    if (d.taints.length > 0) {
      entry.taints = d.taints;
    }
    if (d.securityGroups.length > 0) {
      entry.securityGroups = d.securityGroups;
    }
    return entry;
  }

  /**
   * kops's `autoscale` and cluster-autoscaler tags: kopsform tags a group for cluster-autoscaler's discovery
   * when it can scale (minSize < maxSize), and with node templates of its labels and taints.
   */
  private checkAutoscaling(d: NodeGroupDraft): void {
    const doc = d.doc;
    const scales = d.minSize < d.maxSize;
    const autoscale = doc.bool("spec.autoscale");
    if (autoscale === false && scales) {
      this.report.omit(
        doc.where,
        ["spec.autoscale"],
        say`kept cluster-autoscaler away from this group`,
        say`groups with minSize < maxSize carry cluster-autoscaler's discovery tags`,
      );
    }
    const labels = doc.map("spec.cloudLabels") ?? {};
    const discovery = ["k8s.io/cluster-autoscaler/enabled", `k8s.io/cluster-autoscaler/${this.name}`];
    const template = "k8s.io/cluster-autoscaler/node-template/label/";
    const left = Object.keys(labels).filter((key) => {
      if (discovery.includes(key)) {
        return !scales;
      }
      if (key.startsWith(template)) {
        return d.labels[key.slice(template.length)] !== labels[key];
      }
      return true;
    });
    if (left.length > 0) {
      this.report.omit(
        doc.where,
        ["spec.cloudLabels"],
        say`tagged the group's resources with ${left}`,
        say`node groups carry the cluster's cloudLabels, and cluster-autoscaler's tags when they can scale`,
      );
    }
  }

  private readBastions(groups: Doc[]): void {
    const [first, ...more] = groups;
    for (const doc of more) {
      this.report.omit(doc.where, doc.consume(), say`ran a further bastion group`, say`one bastion`);
    }
    if (!first) {
      return;
    }
    first.take("spec.role");
    this.checkManager(first);
    const placed = this.groupZones(first);
    this.raw.bastion = true;
    this.report.source("bastion", first.where, "spec.role");
    if (placed) {
      this.checkSubnetRoles(first, placed.roles, "utility", "the bastion's instances");
      if (placed.zones.length !== this.zones.length) {
        this.report.omit(first.where, ["spec.subnets"], say`ran the bastion in ${placed.zones} only`, say`the bastion's group spans the utility subnets of every zone`);
      }
    }
    this.checkInstance(first, "bastion");
    const type = first.str("spec.machineType") ?? KOPS_DEFAULTS.bastionInstanceType;
    if (type !== KOPSFORM_BASTION.instanceType) {
      this.report.omit(first.where, ["spec.machineType"], say`ran the bastion on ${type}`, say`the bastion is a ${KOPSFORM_BASTION.instanceType}`);
    }
    const min = first.num("spec.minSize") ?? 1;
    const max = first.num("spec.maxSize") ?? 1;
    if (min !== 1 || max !== 1) {
      this.report.omit(first.where, ["spec.minSize", "spec.maxSize"], say`ran ${min} to ${max} bastions`, say`one bastion`);
    }
    const volume = first.num("spec.rootVolumeSize");
    if (volume !== undefined && volume !== KOPSFORM_BASTION.volumeSizeGib) {
      this.report.omit(first.where, ["spec.rootVolumeSize"], say`gave the bastion a ${volume} GiB root volume`, say`${KOPSFORM_BASTION.volumeSizeGib} GiB`);
    }
    const image = this.imageOf(first);
    if (image !== undefined && image !== this.image) {
      this.report.omit(
        first.where,
        ["spec.image"],
        say`ran the bastion on ${image}`,
        this.image ? say`the bastion runs the spec's image, ${this.image}` : say`the bastion runs the spec's image (kopsform's default)`,
      );
    }
    if (first.sets("spec.additionalSecurityGroups")) {
      this.report.omit(first.where, ["spec.additionalSecurityGroups"], say`added security groups to the bastion`, say`the bastion has its own group only`);
      first.take("spec.additionalSecurityGroups");
    }
    for (const path of ["spec.nodeLabels", "spec.taints", "spec.cloudLabels"]) {
      if (first.sets(path)) {
        first.take(path);
        this.report.omit(first.where, [path], say`labelled, tainted or tagged the bastion`, say`the bastion carries the cluster's tags only`);
      }
    }
    if (first.name !== "bastions") {
      this.report.renamed.push(say`The bastion group ${first.name} is kopsform's bastions.`);
    }
  }

  /** Groups of roles kopsform does not have (APIServer and kops's experimental ones), and unknown roles. */
  private readOtherRoles(groups: Doc[]): void {
    for (const doc of groups.filter((d) => this.roleOf(d) === "other")) {
      const role = valueAt(doc.d.body, "spec.role");
      if (role === undefined) {
        this.problem(doc.where, "spec.role", "is missing; give the group's role (Master, Node or Bastion).");
        continue;
      }
      this.report.omit(
        doc.where,
        doc.consume(),
        say`ran a group with role ${String(role)}`,
        say`kopsform has masters (running the API server and etcd), nodes and a bastion; the group is not imported`,
      );
    }
  }

  private readKubernetesVersion(): void {
    const version = this.cluster.str("spec.kubernetesVersion");
    if (version !== undefined) {
      this.raw.kubernetesVersion = version;
      this.report.source("kubernetesVersion", this.cluster.where, "spec.kubernetesVersion");
    } else {
      this.report.notes.push(say`The manifest pins no Kubernetes version; the spec pins kopsform's default, ${D.DEFAULT_KUBERNETES_VERSION}.`);
    }
  }

  /** The API's load balancer and who may reach it. kops's default is internet-facing; the spec says so explicitly. */
  /**
   * An access list: CIDRs, and kops's managed prefix lists (`pl-...`), which kopsform's lists do not take
   * (they are reported).
   */
  private accessList(path: string, who: "the API" | "SSH"): string[] {
    const c = this.cluster;
    const all = [...new Set(c.strings(path) ?? [])];
    const prefixLists = all.filter((a) => a.startsWith("pl-"));
    if (prefixLists.length > 0) {
      this.report.omit(
        c.where,
        [path],
        say`admitted the managed prefix lists ${prefixLists} to ${ours(who)}`,
        say`access lists take CIDRs; add rules for the prefix lists to the security group yourself (they are not in the spec)`,
      );
    }
    return all.filter((a) => !a.startsWith("pl-"));
  }

  private readApi(): void {
    const c = this.cluster;
    const access = this.accessList("spec.kubernetesApiAccess", "the API");
    if (access.length > 0) {
      this.raw.adminAccess = access;
      this.report.source("adminAccess", c.where, "spec.kubernetesApiAccess");
    }
    let type: "public" | "internal" = "public";
    c.take("spec.api");
    if (c.sets("spec.api.loadBalancer") && c.sets("spec.api.dns")) {
      c.take("spec.api.dns");
      this.problem(c.where, "spec.api", "sets both dns and loadBalancer; kops takes one of them, so remove the other.");
    }
    if (c.sets("spec.api.loadBalancer")) {
      c.take("spec.api.loadBalancer");
      const lbType = c.str("spec.api.loadBalancer.type");
      if (lbType !== undefined && lbType !== "Public" && lbType !== "Internal") {
        this.problem(c.where, "spec.api.loadBalancer.type", `${JSON.stringify(lbType)} is not a load balancer type; use Public or Internal.`);
      }
      type = lbType === "Internal" ? "internal" : "public";
      const cls = c.str("spec.api.loadBalancer.class");
      if (cls !== undefined && cls !== "Network") {
        this.report.omit(c.where, ["spec.api.loadBalancer.class"], say`put the API behind a ${cls} load balancer`, say`a network load balancer`);
      }
      const crossZone = c.bool("spec.api.loadBalancer.crossZoneLoadBalancing");
      if (crossZone === false) {
        this.report.omit(c.where, ["spec.api.loadBalancer.crossZoneLoadBalancing"], say`kept cross-zone load balancing off`, say`cross-zone load balancing is on`);
      }
      c.bool("spec.api.loadBalancer.useForInternalApi");
      c.take("spec.api.loadBalancer.accessLog");
      const bucket = c.str("spec.api.loadBalancer.accessLog.bucket");
      if (bucket) {
        this.raw.apiAccessLogsBucket = bucket;
        this.report.source("apiAccessLogsBucket", c.where, "spec.api.loadBalancer.accessLog.bucket");
      }
      const prefix = c.str("spec.api.loadBalancer.accessLog.bucketPrefix");
      if (prefix !== undefined && prefix !== `api/${this.name}`) {
        this.report.omit(c.where, ["spec.api.loadBalancer.accessLog.bucketPrefix"], say`wrote access logs under ${prefix}`, say`access logs go under api/${this.name}`);
      }
    } else if (c.sets("spec.api.dns")) {
      c.take("spec.api.dns");
      this.report.omit(
        c.where,
        ["spec.api.dns"],
        say`published the API's DNS name straight to the masters' addresses (no load balancer)`,
        say`an internet-facing network load balancer in front of the masters, reachable from the same adminAccess`,
      );
    } else {
      this.report.notes.push(say`The manifest has no spec.api; kopsform puts the API behind an internet-facing network load balancer, as kops does for most clusters.`);
    }
    this.raw.apiLoadBalancerType = type;
    this.report.source("apiLoadBalancerType", c.where, "spec.api");
    if (type === "public" && access.length > 0) {
      this.report.kept.push(
        concat(
          say`The API load balancer stays internet-facing and open to ${access}, as in kops (apiLoadBalancerType: public, adminAccess). `,
          say`kopsform's own default is an internal load balancer until adminAccess names who may reach it; narrow adminAccess to your office or VPN.`,
        ),
      );
    } else if (type === "public") {
      this.report.notes.push(
        say`kops admitted nobody from outside to the API (spec.kubernetesApiAccess is empty); the spec keeps the load balancer internet-facing, and kopsform admits only the network CIDR to it.`,
      );
    }
    const publicName = c.str("spec.masterPublicName");
    if (publicName !== undefined && publicName !== `api.${this.name}`) {
      this.report.omit(c.where, ["spec.masterPublicName"], say`published the API as ${publicName}`, say`the API's name is api.${this.name} (in dnsZone), else the load balancer's own name`);
    }
  }

  private readDns(): void {
    const c = this.cluster;
    c.take("spec.topology");
    c.take("spec.topology.bastion");
    c.take("spec.topology.dns");
    const type = c.str("spec.topology.dns.type");
    const zone = c.str("spec.dnsZone");
    if (type === "None") {
      if (zone) {
        this.report.notes.push(say`kops published no DNS records (DNS type None), so the spec names no dnsZone (kops had ${zone}).`);
      }
      return;
    }
    if (zone) {
      this.raw.dnsZone = zone;
      this.report.source("dnsZone", c.where, "spec.dnsZone");
      if (type === "Private") {
        if (/^Z[A-Z0-9]+$/.test(zone)) {
          this.report.notes.push(say`dnsZone ${zone} is a zone id, used as is; the private DNS type needs no field then.`);
        } else {
          this.raw.dns = "private";
          this.report.source("dns", c.where, "spec.topology.dns.type");
        }
      }
    } else if (type === "Private" || type === "Public") {
      this.report.notes.push(say`The manifest names DNS type ${type} but no dnsZone; the API is reached by its load balancer's name.`);
    }
    if (type !== undefined && type !== "Public" && type !== "Private") {
      this.problem(c.where, "spec.topology.dns.type", `${JSON.stringify(type)} is not a DNS type; use Public, Private or None.`);
    }
  }

  private readSsh(credentials: Doc[]): void {
    const c = this.cluster;
    const access = this.accessList("spec.sshAccess", "SSH");
    if (access.length > 0) {
      this.raw.sshAccess = access;
      this.report.source("sshAccess", c.where, "spec.sshAccess");
      const open = access.filter(isAnywhere);
      if (open.length > 0) {
        this.raw.allowSshFromAnywhere = true;
        this.report.source("allowSshFromAnywhere", c.where, "spec.sshAccess");
        this.report.kept.push(
          say`SSH stays open to ${open}, as in kops (allowSshFromAnywhere: true). kopsform refuses that without the flag; narrow sshAccess to your office or VPN.`,
        );
      }
    }
    const [key, ...more] = credentials;
    for (const doc of more) {
      this.report.omit(doc.where, doc.consume(), say`held a further SSH public key`, say`one key pair, from sshPublicKey (the first SSHCredential)`);
    }
    const keyName = c.str("spec.sshKeyName");
    if (key) {
      const publicKey = key.str("spec.publicKey");
      if (publicKey) {
        this.raw.sshPublicKey = publicKey.trim();
        this.report.source("sshPublicKey", key.where, "spec.publicKey");
      }
    }
    if (keyName) {
      this.report.omit(
        c.where,
        ["spec.sshKeyName"],
        say`launched instances with the existing EC2 key pair ${keyName}`,
        say`kopsform creates its key pair from sshPublicKey; set it to that key's public half`,
      );
    } else if (!key && keyName === undefined && access.length > 0) {
      this.report.notes.push(
        say`kops keeps the cluster's SSH public key in its state store, outside this manifest; set sshPublicKey in the spec (or add the SSHCredential to the input) to log in.`,
      );
    }
  }

  private readCloudLabels(): void {
    const labels = this.cluster.map("spec.cloudLabels");
    if (labels && Object.keys(labels).length > 0) {
      this.raw.cloudLabels = labels;
      this.report.source("cloudLabels", this.cluster.where, "spec.cloudLabels");
    }
  }

  private readNetworking(): void {
    const c = this.cluster;
    c.take("spec.networking");
    const networking = valueAt(c.d.body, "spec.networking");
    const chosen = isPlainObject(networking) ? Object.keys(networking).filter((k) => networking[k] !== null) : [];
    if (chosen.length === 0) {
      this.problem(c.where, "spec.networking", "names no networking; kops needs one (cilium, calico, kopeio, ...), and so does the spec.");
      return;
    }
    if (chosen.length > 1) {
      this.problem(c.where, "spec.networking", `names ${chosen.join(" and ")}; a cluster runs one CNI.`);
      return;
    }
    const [cni] = chosen;
    c.take(`spec.networking.${cni}`);
    const name = CNI_NAMES[cni];
    this.raw.networking = name ?? "cni";
    this.report.source("networking", c.where, `spec.networking.${cni}`);
    if (!name) {
      this.report.omit(
        c.where,
        [`spec.networking.${cni}`],
        say`installed ${cni} networking`,
        say`kopsform has no ${cni}; the spec says cni (you install the CNI), so the firewall allows the nodes' traffic without CNI-specific rules`,
      );
    }
  }

  private readIam(): void {
    const c = this.cluster;
    c.take("spec.iam");
    if (c.bool("spec.iam.legacy") === true) {
      this.report.omit(c.where, ["spec.iam.legacy"], say`gave the instances kops's legacy, broad IAM policies`, say`scoped roles: ${INSTEAD_IAM}`);
    }
    if (c.bool("spec.iam.allowContainerRegistry") === true) {
      this.report.omit(
        c.where,
        ["spec.iam.allowContainerRegistry"],
        say`let the instances pull images from ECR`,
        say`the nodes' role has no ECR permissions: attach AmazonEC2ContainerRegistryReadOnly to the role in the output nodes_role_name`,
      );
    }
  }

  /** kopsform's hardening beyond kops, which no field of the manifest can say (so the report does). */
  private describeDifferences(): void {
    const d = this.report.differences;
    if (!this.raw.vpc) {
      d.push(say`kopsform adds VPC flow logs (365 days) and empties the VPC's default security group; kops does neither. flowLogs: false turns the logs off.`);
    }
    d.push(say`The API load balancer has deletion protection on (kops: off); allowApiLoadBalancerDeletion: true turns it off.`);
    if (!this.cluster.sets("spec.api.loadBalancer.crossZoneLoadBalancing")) {
      d.push(say`The API load balancer balances across zones; kops leaves that off unless crossZoneLoadBalancing is set.`);
    }
    d.push(say`Nodes cannot reach the masters' etcd ports (2379-2383, 3994-3997, 4001-4004); kops's rules leave some open to nodes.`);
    d.push(
      say`etcd runs from kopsform's boot scripts as systemd services (docs/runtime.md), not from etcd-manager; its volumes are protected from destruction (prevent_destroy).`,
    );
    d.push(
      say`kopsform's default bootstrap hook installs no Kubernetes: templates/partials/bootstrap.hbs is where your Kubernetes install (and the kops settings for it listed above) goes.`,
    );
  }

  /** Every value the manifest sets and the converter did not read, reported under its rule. */
  private reportLeftovers(): void {
    for (const doc of this.docs) {
      const groups = new Map<string, { paths: string[]; rule: ReturnType<typeof ruleFor> }>();
      for (const leaf of doc.leftovers()) {
        const found = ruleFor(doc.d.kind, leaf.pattern);
        if (!found || found.rule.status === "mapped") {
          throw new Error(`kopsform bug: ${doc.d.kind} ${leaf.path} is ${found ? "mapped but was not read" : "covered by no rule"}.`);
        }
        const group = groups.get(found.key) ?? { paths: [], rule: found };
        group.paths.push(leaf.path);
        groups.set(found.key, group);
      }
      for (const { paths, rule } of groups.values()) {
        const r = rule?.rule;
        if (r?.status === "unsupported") {
          this.report.omit(doc.where, paths, [r.did], [r.instead]);
        } else if (r?.status === "bookkeeping") {
          this.report.bookkeeping.push({ where: doc.where, paths, why: [r.why] });
        }
      }
    }
  }

  /** The spec's fields in the order a spec lists them. */
  private ordered(): Record<string, unknown> {
    const order = [
      "name",
      "zones",
      "kubernetesVersion",
      "masterZones",
      "masterCount",
      "masterSize",
      "masterVolumeSize",
      "nodeCount",
      "nodeSize",
      "nodeVolumeSize",
      "topology",
      "networking",
      "networkCidr",
      "vpc",
      "subnets",
      "dnsZone",
      "dns",
      "apiLoadBalancerType",
      "adminAccess",
      "sshAccess",
      "allowSshFromAnywhere",
      "sshPublicKey",
      "bastion",
      "image",
      "masterSecurityGroups",
      "nodeSecurityGroups",
      "cloudLabels",
      "etcdStorageType",
      "etcdVolumeSize",
      "etcdVolumeIops",
      "encryptEtcdStorage",
      "etcdKmsKeyId",
      "apiAccessLogsBucket",
      "nodeGroups",
    ];
    const out: Record<string, unknown> = {};
    for (const key of [...order, ...Object.keys(this.raw)]) {
      if (this.raw[key] !== undefined && !(key in out)) {
        out[key] = this.raw[key];
      }
    }
    return out;
  }
}

const INSTEAD_IAM = "attach further policies to the roles kopsform outputs (masters_role_name, nodes_role_name)";
