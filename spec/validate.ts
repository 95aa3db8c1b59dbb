/**
 * Turns a parsed spec (from YAML or from kops flags) into a {@link ClusterSpec}: schema first, then the
 * rules that span fields, then defaults. Every problem is collected in one pass and reported together.
 */
import { z } from "zod";
import { PlannedSubnet, SubnetOverride, planSubnets, rolesFor } from "./address-plan";
import { coverTheInternet, isAnywhere, overlaps, parseIpv4Cidr } from "./cidr";
import { checkDnsName, checkStrings, checkSupportedKubernetes, regionOf } from "./checks";
import * as D from "./defaults";
import { etcdMemberProblems } from "./etcd-members";
import { HaAnalysis, analyseHa, quorumWarnings } from "./ha";
import { layMasters } from "./masters";
import { InputOrigin, InvalidInputError, Problem, Warning, nearest, show } from "./problems";
import {
  BACKEND_FIELDS,
  BackendInput,
  ClusterSpecInput,
  NODE_GROUP_FIELDS,
  NodeGroupInput,
  SPEC_FIELDS,
  SUBNET_FIELDS,
  clusterSpecSchema,
} from "./schema";
import { NETWORKING_FACTS, Networking } from "./networking";
import { ADDON_PINS } from "./pins";
import { BackendSpec, ClusterSpec, ImageRef, NodeGroupSpec } from "./types";
import { upgradeProblem } from "./upgrade";

/** A valid spec with what synthesis reports about it. */
export interface ValidatedSpec {
  readonly spec: ClusterSpec;
  readonly warnings: readonly Warning[];
  readonly ha: HaAnalysis;
}

/** Names of the instance groups kopsform makes itself; node groups may not take them. */
const RESERVED_GROUP_NAMES = ["nodes", "bastions"];

/** Smallest root volume an Ubuntu or Debian image boots from. */
const MIN_ROOT_VOLUME_GIB = 8;

/** Route 53 hosted zone ids: `Z` then upper-case letters and digits. */
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

/**
 * Validates and defaults a spec. Throws {@link InvalidInputError} with every problem found; returns
 * the spec, its warnings and its HA analysis otherwise.
 */
export function validateClusterSpec(raw: unknown, origin: InputOrigin): ValidatedSpec {
  // Characters no field may hold, over every string of the input (new fields included).
  const refused: Problem[] = checkStrings(raw).map((p) => ({ field: formatPath(p.path), message: p.message }));
  const parsed = clusterSpecSchema.safeParse(raw);
  const problems: Problem[] = [
    ...refused,
    ...(parsed.success ? [] : parsed.error.issues.map((i) => describeIssue(i, raw))).filter(
      (p) => !refused.some((r) => r.field === p.field),
    ),
  ];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(problems, origin);
  }
  // Cross-field rules run on the fields the schema accepted, so one pass reports everything.
  const failed = new Set(problems.map((p) => p.field.split(/[.[]/)[0]));
  // The parsed data when the schema accepted everything (aliases resolved), else the raw input, of
  // which the rules below read only the fields that passed.
  const input = parsed.success ? parsed.data : (raw as ClusterSpecInput);
  const ok = (...fields: (keyof ClusterSpecInput)[]) => fields.every((f) => !failed.has(f));
  const rules = new CrossFieldRules(input, ok, origin.kind);
  problems.push(...rules.problems);
  if (problems.length > 0) {
    throw new InvalidInputError(problems, origin);
  }
  const spec = rules.build();
  const ha = analyseHa(spec.masters, spec.zones);
  const warnings: Warning[] = [
    ...quorumWarnings(ha).map((message) => ({ field: "masterZones", message })),
    ...rules.warnings,
  ];
  return { spec, warnings, ha };
}

/** One problem line for a schema issue, naming the bad value. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): Problem {
  const value = valueAt(raw, issue.path);
  const field = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const parent = formatPath(issue.path);
      const known = knownFieldsAt(issue.path);
      const key = issue.keys[0];
      const suggestion = nearest(key, known);
      const others = issue.keys.slice(1);
      const more = others.length > 5 ? ` and ${others.length - 5} more` : "";
      const extra = others.length > 0 ? ` (also: ${others.slice(0, 5).join(", ")}${more})` : "";
      return {
        field: parent ? `${parent}.${key}` : key,
        message:
          `unknown field${extra}; kopsform refuses what it would otherwise ignore.` +
          (suggestion ? ` Did you mean ${suggestion}?` : " See the README for the spec's fields."),
      };
    }
    case "invalid_type":
      if (value === undefined) {
        return { field, message: `is required (${issue.expected}).` };
      }
      return { field, message: `${show(value)} is not a ${describeType(issue.expected)}.` };
    case "invalid_value":
      return { field, message: `${show(value)} is not one of: ${issue.values.map(String).join(", ")}.` };
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      return {
        field,
        message: options
          ? `${show(value)} is not one of: ${options.map(String).join(", ")}.`
          : `${show(value)} is not valid here.`,
      };
    }
    case "too_small":
      if (!issue.message.startsWith("Too small")) {
        return { field, message: issue.message };
      }
      if (issue.origin === "array") {
        return { field, message: `needs at least ${String(issue.minimum)} ${Number(issue.minimum) === 1 ? "entry" : "entries"}.` };
      }
      return { field, message: `${show(value)} is too small; it must be ${issue.inclusive ? "at least" : "more than"} ${String(issue.minimum)}.` };
    case "invalid_format":
      return { field, message: `${show(value)} ${issue.message}` };
    case "custom":
      return { field, message: issue.message };
    default:
      return { field, message: `${show(value)}: ${issue.message}` };
  }
}

/** The field names the schema knows where an unknown key was found (for "did you mean"). */
function knownFieldsAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) {
    return SPEC_FIELDS;
  }
  switch (path[0]) {
    case "nodeGroups":
      return NODE_GROUP_FIELDS;
    case "subnets":
      return SUBNET_FIELDS;
    case "backend":
      return BACKEND_FIELDS;
    default:
      return [];
  }
}

function describeType(expected: string): string {
  return expected === "int" ? "whole number" : expected === "array" ? "list" : expected;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of path) {
    if (current === null || typeof current !== "object") {
      return undefined;
    }
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** `["nodeGroups", 0, "size"]` -> `nodeGroups[0].size`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join("");
}

/**
 * The rules between fields, and the defaults that depend on other fields. Each rule runs only when
 * the fields it reads passed the schema.
 */
class CrossFieldRules {
  readonly problems: Problem[] = [];
  readonly warnings: Warning[] = [];
  private readonly region?: string;
  private readonly masterZones: readonly string[] = [];
  private readonly masterCount: number = 1;
  private subnets: PlannedSubnet[] = [];

  constructor(
    private readonly input: ClusterSpecInput,
    private readonly ok: (...fields: (keyof ClusterSpecInput)[]) => boolean,
    private readonly origin: "file" | "flags",
  ) {
    const s = input;
    let zonesOk = false;
    if (ok("zones")) {
      const before = this.problems.length;
      this.region = this.checkRegion();
      this.checkDuplicates("zones", s.zones);
      zonesOk = this.problems.length === before;
    }
    if (ok("zones", "masterZones", "masterCount")) {
      const before = this.problems.length;
      this.masterZones = this.checkMasterZones();
      this.masterCount = this.checkMasterCount();
      // The record is compared with a layout that is itself valid only.
      if (zonesOk && this.problems.length === before && ok("etcdMembers", "retiredEtcdMembers")) {
        this.problems.push(
          ...etcdMemberProblems({
            layout: layMasters(this.masterZones, this.masterCount),
            recorded: s.etcdMembers,
            retired: s.retiredEtcdMembers ?? [],
            region: this.region as string,
            origin: this.origin,
          }),
        );
      }
    }
    // The address plan of zones from two regions (or listed twice) would only repeat that problem.
    if (zonesOk && ok("topology", "networkCidr", "subnets", "vpc")) {
      this.checkNetwork();
    }
    if (ok("name", "dnsZone")) {
      this.checkDnsZone();
    }
    if (ok("sshAccess", "allowSshFromAnywhere", "bastion", "topology", "sshPublicKey")) {
      this.checkSsh();
    }
    if (ok("encryptEtcdStorage", "etcdKmsKeyId", "etcdStorageType", "etcdVolumeSize", "etcdVolumeIops", "etcdVersion", "etcdSha256")) {
      this.checkEtcd();
    }
    if (ok("masterVolumeSize", "nodeVolumeSize")) {
      this.checkRootVolumes();
    }
    if (ok("nodeGroups", "zones", "nodeVolumeSize")) {
      this.checkNodeGroups();
    }
    if (ok("vpc", "flowLogs", "flowLogRetentionDays", "flowLogKmsKeyArn")) {
      this.checkFlowLogs();
    }
    if (ok("backend")) {
      this.checkBackend();
    }
    if (ok("adminAccess", "apiLoadBalancerType")) {
      this.checkApiAccess();
    }
    if (ok("name", "kubernetesVersion", "deployedKubernetesVersion")) {
      this.checkUpgrade();
    }
    if (ok("networking", "networkCidr")) {
      this.checkNetworking();
    }
    if (ok("kubernetesVersion")) {
      const message = checkSupportedKubernetes(this.input.kubernetesVersion ?? D.DEFAULT_KUBERNETES_VERSION);
      if (message) {
        this.problem("kubernetesVersion", message);
      }
    }
    if (ok("networkCidr", "podCidr", "serviceCidr", "networking")) {
      this.checkClusterNetworks();
    }
  }

  /**
   * The pods' and services' networks are Kubernetes' own addresses: they may overlap neither each
   * other nor the VPC (routes to pods and services would then shadow instances). A network that
   * gives pods VPC addresses (amazon-vpc-routed-eni) uses no pod network, so only the services'
   * is checked then.
   */
  private checkClusterNetworks(): void {
    const s = this.input;
    const usesPodCidr = NETWORKING_FACTS[(s.networking ?? D.DEFAULT_NETWORKING) as Networking].usesPodCidr;
    const blocks = [
      { field: "networkCidr" as const, label: "the network", cidr: s.networkCidr ?? D.DEFAULT_NETWORK_CIDR },
      { field: "podCidr" as const, label: "the pods' network", cidr: s.podCidr ?? D.DEFAULT_POD_CIDR },
      { field: "serviceCidr" as const, label: "the services' network", cidr: s.serviceCidr ?? D.DEFAULT_SERVICE_CIDR },
    ].map((b) => ({ ...b, block: parseIpv4Cidr(b.cidr) }));
    const pairs = usesPodCidr
      ? [
          [1, 0],
          [2, 0],
          [2, 1],
        ]
      : [[2, 0]];
    for (const [i, j] of pairs) {
      const a = blocks[i];
      const b = blocks[j];
      if (a.block && b.block && overlaps(a.block, b.block)) {
        this.problem(
          a.field,
          `${a.cidr} (${a.label}) overlaps ${b.cidr} (${b.label}, ${b.field}); choose a block outside it (kops's defaults are ` +
            `${D.DEFAULT_POD_CIDR} for pods and ${D.DEFAULT_SERVICE_CIDR} for services).`,
        );
      }
    }
  }

  /** A version change against the committed record of what runs (spec/upgrade.ts). */
  private checkUpgrade(): void {
    const s = this.input;
    if (s.deployedKubernetesVersion === undefined) {
      return;
    }
    const wanted = s.kubernetesVersion ?? D.DEFAULT_KUBERNETES_VERSION;
    const problem = upgradeProblem(s.name, wanted.replace(/^v/, ""), s.deployedKubernetesVersion.replace(/^v/, ""));
    if (problem) {
      this.problem("kubernetesVersion", problem);
    }
  }

  /**
   * The pod network: options that need a word of warning get one (an unmaintained network, or none
   * at all). Overlaps of the pods' addresses are checkClusterNetworks'.
   */
  private checkNetworking(): void {
    const s = this.input;
    const networking = (s.networking ?? D.DEFAULT_NETWORKING) as Networking;
    const addon = NETWORKING_FACTS[networking].addon;
    const unmaintained = addon ? ADDON_PINS[addon].unmaintained : undefined;
    if (addon && unmaintained) {
      this.warnings.push({
        field: "networking",
        message:
          `${networking} installs ${addon} ${ADDON_PINS[addon].version}, its last release: it is unmaintained since ` +
          `${unmaintained.since} and gets no security fixes. Prefer a maintained option: ${unmaintained.alternatives.join(", ")}.`,
      });
    }
    if (networking === "cni") {
      this.warnings.push({
        field: "networking",
        message:
          "cni installs no pod network: nodes stay NotReady until you apply your CNI (kube-proxy is installed). " +
          "Choose cilium, calico or flannel to have kopsform install one.",
      });
    }
  }

  /**
   * Who reaches the API. Without `adminAccess` the load balancer is internal, reachable from the
   * network only (kops makes it internet-facing and open to 0.0.0.0/0; kopsform does so only when
   * asked). An internet-facing load balancer sees public source addresses only, so one that admits
   * only the network CIDR would admit nobody from outside.
   */
  private checkApiAccess(): void {
    const s = this.input;
    const network = s.networkCidr ?? D.DEFAULT_NETWORK_CIDR;
    if (s.adminAccess !== undefined) {
      return;
    }
    if (s.apiLoadBalancerType === "public") {
      this.warnings.push({
        field: "adminAccess",
        message:
          `not set, so the internet-facing API load balancer admits only the network (${network}), and ` +
          "connections from the internet never come from it: nobody outside could reach the API. " +
          "Add --admin-access with your office or VPN range (or 0.0.0.0/0), or use --api-loadbalancer-type internal.",
      });
      return;
    }
    this.warnings.push({
      field: "adminAccess",
      message:
        `not set: the API load balancer is internal, reachable from the network (${network}: masters, ` +
        "nodes, a VPN or the bastion). kops makes it internet-facing and open to 0.0.0.0/0; kopsform does " +
        "that only when asked: add --admin-access with your office or VPN range (or 0.0.0.0/0).",
    });
  }

  private problem(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  private checkRegion(): string | undefined {
    const s = this.input;
    const zones = [
      ...s.zones,
      ...(this.ok("masterZones") ? (s.masterZones ?? []) : []),
      ...(this.ok("subnets") ? (s.subnets ?? []).map((e) => e.zone) : []),
      ...(this.ok("nodeGroups") ? (s.nodeGroups ?? []).flatMap((g) => g.zones ?? []) : []),
    ];
    const region = regionOf(s.zones[0]);
    const foreign = [...new Set(zones.filter((z) => regionOf(z) !== region))];
    if (foreign.length > 0) {
      this.problem(
        "zones",
        `${foreign.join(", ")} ${foreign.length === 1 ? "is" : "are"} not in ${region}, the region of ${s.zones[0]}; ` +
          "a cluster lives in one region, so use zones of one region only.",
      );
    }
    return region;
  }

  private checkDuplicates(field: string, values: readonly string[]): void {
    const dupes = [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
    if (dupes.length > 0) {
      this.problem(field, `${dupes.join(", ")} ${dupes.length === 1 ? "is" : "are"} listed twice; list each zone once.`);
    }
  }

  /** Master zones default to the first zones of the cluster, one per master (kops). */
  private checkMasterZones(): readonly string[] {
    const s = this.input;
    if (!s.masterZones) {
      return s.zones.slice(0, Math.min(s.masterCount ?? 1, s.zones.length));
    }
    this.checkDuplicates("masterZones", s.masterZones);
    const outside = s.masterZones.filter((z) => !s.zones.includes(z));
    if (outside.length > 0) {
      this.problem(
        "masterZones",
        `${outside.join(", ")} ${outside.length === 1 ? "is" : "are"} not among the cluster's zones ` +
          `(${s.zones.join(",")}); masters run in the cluster's subnets, so add ${outside.join(",")} to --zones.`,
      );
    }
    return [...new Set(s.masterZones)];
  }

  /** The seed's quorum rule: an odd number of masters, at least one per master zone. */
  private checkMasterCount(): number {
    const s = this.input;
    const zones = this.masterZones;
    const count = s.masterCount ?? (s.masterZones ? zones.length : 1);
    if (s.masterCount !== undefined && s.masterCount < zones.length) {
      this.problem(
        "masterCount",
        `${s.masterCount} masters cannot cover ${zones.length} master zones (${zones.join(",")}); ` +
          `set --master-count to at least ${zones.length} (an odd number), or list fewer --master-zones.`,
      );
    } else if (count % 2 === 0) {
      if (s.masterCount === undefined) {
        this.problem(
          "masterZones",
          `${zones.length} zones give ${count} masters; etcd needs an odd number (1, 3 or 5). ` +
            `Add a zone or set --master-count ${count + 1}.`,
        );
      } else {
        this.problem(
          "masterCount",
          `${count} masters cannot keep etcd quorum through a failure any better than ${count - 1}; ` +
            `etcd needs an odd number (1, 3 or 5). Set --master-count ${count - 1} or ${count + 1}.`,
        );
      }
    } else if (count > D.MAX_MASTER_COUNT) {
      this.problem(
        "masterCount",
        `${count} masters is more than etcd should run (at most ${D.MAX_MASTER_COUNT}); use 3 or 5.`,
      );
    }
    return count;
  }

  private checkNetwork(): void {
    const s = this.input;
    const topology = s.topology ?? D.DEFAULT_TOPOLOGY;
    const roles = rolesFor(topology);
    const overrides: SubnetOverride[] = [];
    (s.subnets ?? []).forEach((entry, i) => {
      const field = `subnets[${i}]`;
      if (!s.zones.includes(entry.zone)) {
        this.problem(field, `zone ${entry.zone} is not among the cluster's zones (${s.zones.join(",")}).`);
      }
      if (!roles.includes(entry.type)) {
        this.problem(
          field,
          `type ${entry.type} does not exist in ${topology} topology; use ${roles.join(" or ")}.`,
        );
      }
      if (entry.cidr && entry.id) {
        this.problem(field, `gives both cidr and id; a shared subnet (id) already has its CIDR, so drop one.`);
      }
      if (overrides.some((o) => o.zone === entry.zone && o.role === entry.type)) {
        this.problem(field, `is a second ${entry.type} subnet for ${entry.zone}; give one per zone and type.`);
      }
      overrides.push({ zone: entry.zone, role: entry.type, cidr: entry.cidr, id: entry.id });
    });
    const shared = overrides.filter((o) => o.id);
    if (s.vpc) {
      const missing = s.zones.flatMap((zone) =>
        roles.filter((role) => !shared.some((o) => o.zone === zone && o.role === role)).map((r) => `${r} in ${zone}`),
      );
      if (missing.length > 0) {
        this.problem(
          "subnets",
          `with a shared VPC (${s.vpc}) every subnet must be a shared one; missing: ${missing.join(", ")}. ` +
            "Give their ids with --subnets (and --utility-subnets for private topology), in the order of --zones.",
        );
      }
      if (s.networkCidr === undefined) {
        this.problem(
          "networkCidr",
          `is required with a shared VPC (${s.vpc}): give the VPC's CIDR, so that security rules and the API's ` +
            "default access list use it.",
        );
      }
    } else if (shared.length > 0) {
      this.problem(
        "subnets",
        `subnet ids (${shared.map((o) => o.id).join(", ")}) need the VPC they belong to; add --vpc.`,
      );
    }
    const plan = planSubnets({
      networkCidr: s.networkCidr ?? D.DEFAULT_NETWORK_CIDR,
      topology,
      zones: [...new Set(s.zones)],
      overrides,
    });
    plan.problems.forEach((p) => this.problems.push(p));
    this.subnets = plan.subnets;
  }

  private checkDnsZone(): void {
    const s = this.input;
    if (this.ok("dns") && s.dns !== undefined && (s.dnsZone === undefined || HOSTED_ZONE_ID.test(s.dnsZone))) {
      this.problem(
        "dns",
        `${s.dns} only chooses whether the hosted zone named by dnsZone is looked up among public or private ` +
          `zones; ${s.dnsZone === undefined ? "there is no dnsZone" : `dnsZone ${s.dnsZone} is a zone id, used as is`}, ` +
          "so it would have no effect. Remove --dns, or give --dns-zone as a zone name.",
      );
    }
    if (s.dnsZone === undefined || HOSTED_ZONE_ID.test(s.dnsZone)) {
      return;
    }
    const message = checkDnsName(s.dnsZone, "DNS zone (a hosted zone name or a Z... zone id)");
    if (message) {
      this.problem("dnsZone", message);
    } else if (s.name !== s.dnsZone && !s.name.endsWith(`.${s.dnsZone}`)) {
      this.problem(
        "dnsZone",
        `${s.dnsZone} does not contain the cluster name ${s.name}, so api.${s.name} cannot be a record in it; ` +
          "use the hosted zone the cluster name belongs to.",
      );
    }
  }

  private checkSsh(): void {
    const s = this.input;
    const open = (s.sshAccess ?? []).filter(isAnywhere);
    if (open.length > 0 && !s.allowSshFromAnywhere) {
      this.problem(
        "sshAccess",
        `${open.join(", ")} opens SSH (port 22) to the whole internet; give your office or VPN range instead, ` +
          "or set allowSshFromAnywhere: true (--allow-ssh-from-anywhere) to accept the risk.",
      );
    } else if (!s.allowSshFromAnywhere && coverTheInternet(s.sshAccess ?? [])) {
      this.problem(
        "sshAccess",
        `${(s.sshAccess ?? []).join(", ")} together open SSH (port 22) to the whole internet, as 0.0.0.0/0 would; ` +
          "give your office or VPN range instead, or set allowSshFromAnywhere: true (--allow-ssh-from-anywhere) to accept the risk.",
      );
    }
    if (s.bastion && (s.topology ?? D.DEFAULT_TOPOLOGY) !== "private") {
      this.problem("bastion", "a bastion only applies to private topology (as in kops); add --topology private.");
    }
    if (s.bastion && (s.sshAccess ?? []).length === 0) {
      this.problem(
        "bastion",
        "the bastion accepts SSH only from sshAccess, which is empty, so nobody could reach it; add --ssh-access CIDR.",
      );
    }
    if ((s.sshAccess ?? []).length > 0 && !s.sshPublicKey) {
      this.warnings.push({
        field: "sshPublicKey",
        message: "sshAccess opens port 22 but no key pair is set; add --ssh-public-key ~/.ssh/id_ed25519.pub to log in.",
      });
    }
  }

  private checkEtcd(): void {
    const s = this.input;
    if (s.encryptEtcdStorage === false) {
      this.problem(
        "encryptEtcdStorage",
        "false is refused: etcd volumes hold every Secret of the cluster and are always encrypted; remove the field.",
      );
    }
    if (s.etcdVersion !== undefined && s.etcdVersion !== D.DEFAULT_ETCD_VERSION && s.etcdSha256 === undefined) {
      this.problem(
        "etcdSha256",
        `is required with etcdVersion ${s.etcdVersion}: kopsform pins the sha256 of ${D.DEFAULT_ETCD_VERSION} only. ` +
          `Give the sha256 of etcd-v${s.etcdVersion}-linux-amd64.tar.gz and -arm64.tar.gz (etcdSha256: {amd64: ..., arm64: ...}), ` +
          "from the release's SHA256SUMS.",
      );
    }
    const type = s.etcdStorageType ?? D.DEFAULT_ETCD_STORAGE_TYPE;
    const size = s.etcdVolumeSize ?? D.DEFAULT_ETCD_VOLUME_SIZE_GIB;
    if ((type === "io1" || type === "io2") && size < 4) {
      this.problem("etcdVolumeSize", `${size} GiB is below the 4 GiB minimum of ${type} volumes.`);
    }
    if (s.etcdVolumeIops !== undefined) {
      const message = checkVolumeIops(type, size, s.etcdVolumeIops);
      if (message) {
        this.problem("etcdVolumeIops", message);
      }
    }
  }

  private checkRootVolumes(): void {
    const s = this.input;
    for (const field of ["masterVolumeSize", "nodeVolumeSize"] as const) {
      this.checkRootVolume(field, s[field]);
    }
  }

  /** A root volume must hold the image: Ubuntu's and Debian's need 8 GiB. */
  private checkRootVolume(field: string, size: number | undefined): void {
    if (size !== undefined && size < MIN_ROOT_VOLUME_GIB) {
      this.problem(field, `${size} GiB is too small for a root volume; use at least ${MIN_ROOT_VOLUME_GIB} GiB.`);
    }
  }

  private checkNodeGroups(): void {
    const s = this.input;
    const names = new Set<string>();
    (s.nodeGroups ?? []).forEach((group, i) => {
      const field = `nodeGroups[${i}]`;
      if (RESERVED_GROUP_NAMES.includes(group.name) || group.name.startsWith("master-")) {
        this.problem(`${field}.name`, `${group.name} is the name of a group kopsform makes itself; choose another.`);
      }
      if (names.has(group.name)) {
        this.problem(`${field}.name`, `${group.name} is used by two node groups; names must be unique.`);
      }
      names.add(group.name);
      const outside = (group.zones ?? []).filter((z) => !s.zones.includes(z));
      if (outside.length > 0) {
        this.problem(`${field}.zones`, `${outside.join(", ")} not among the cluster's zones (${s.zones.join(",")}).`);
      }
      if (group.minSize > group.maxSize) {
        this.problem(`${field}.minSize`, `${group.minSize} is larger than maxSize ${group.maxSize}.`);
      }
      this.checkRootVolume(`${field}.volumeSize`, group.volumeSize);
    });
  }

  private checkFlowLogs(): void {
    const s = this.input;
    if (s.vpc && s.flowLogs === true) {
      this.problem(
        "flowLogs",
        `kopsform does not manage the shared VPC ${s.vpc}, so it cannot add its flow logs; remove flowLogs or manage them with the VPC.`,
      );
    }
    if (s.flowLogs === false && (s.flowLogRetentionDays !== undefined || s.flowLogKmsKeyArn !== undefined)) {
      this.problem("flowLogs", "is false, yet flowLogRetentionDays or flowLogKmsKeyArn is set; remove one or the other.");
    }
  }

  private checkBackend(): void {
    const b = this.input.backend;
    if (b?.type === "cloud" && (b.workspace === undefined) === (b.workspaceTags === undefined)) {
      this.problem("backend", "a cloud backend needs exactly one of workspace or workspaceTags.");
    }
  }

  /** The spec with every default filled in. Call only when there are no problems. */
  build(): ClusterSpec {
    const s = this.input;
    const image = imageRef(s.image);
    const nodeSize = s.nodeSize ?? D.DEFAULT_NODE_SIZE;
    const nodeVolumeSize = s.nodeVolumeSize ?? D.DEFAULT_NODE_VOLUME_SIZE_GIB;
    const nodeCount = s.nodeCount ?? D.DEFAULT_NODES_PER_ZONE * s.zones.length;
    const defaultGroup: NodeGroupSpec = {
      name: "nodes",
      zones: s.zones,
      size: nodeSize,
      minSize: nodeCount,
      maxSize: nodeCount,
      volumeSize: nodeVolumeSize,
      image,
      labels: {},
      taints: [],
      securityGroups: s.nodeSecurityGroups ?? [],
    };
    const networkCidr = s.networkCidr ?? D.DEFAULT_NETWORK_CIDR;
    const masters = layMasters(this.masterZones, this.masterCount);
    return {
      name: s.name,
      region: this.region as string,
      kubernetesVersion: (s.kubernetesVersion ?? D.DEFAULT_KUBERNETES_VERSION).replace(/^v/, ""),
      deployedKubernetesVersion: s.deployedKubernetesVersion?.replace(/^v/, ""),
      zones: s.zones,
      masterZones: this.masterZones,
      masterCount: this.masterCount,
      masters,
      etcdMembers: masters.map((m) => m.member),
      retiredEtcdMembers: s.retiredEtcdMembers ?? [],
      masterSize: s.masterSize ?? D.DEFAULT_MASTER_SIZE,
      masterVolumeSize: s.masterVolumeSize ?? D.DEFAULT_MASTER_VOLUME_SIZE_GIB,
      masterSecurityGroups: s.masterSecurityGroups ?? [],
      image,
      nodeGroups: [defaultGroup, ...(s.nodeGroups ?? []).map((g) => nodeGroupSpec(g, defaultGroup))],
      topology: s.topology ?? D.DEFAULT_TOPOLOGY,
      networking: (s.networking ?? D.DEFAULT_NETWORKING) as Networking,
      addonsMirror: s.addonsMirror?.replace(/\/+$/, ""),
      networkCidr,
      vpc: s.vpc,
      subnets: this.subnets,
      dnsZone: s.dnsZone === undefined ? undefined : HOSTED_ZONE_ID.test(s.dnsZone) ? { id: s.dnsZone } : { name: s.dnsZone },
      dns: s.dns ?? D.DEFAULT_DNS_TYPE,
      // Internet-facing (kops's default) once someone is named to reach it; internal until then.
      apiLoadBalancerType: s.apiLoadBalancerType ?? (s.adminAccess ? "public" : "internal"),
      adminAccess: s.adminAccess ?? [networkCidr],
      sshAccess: s.sshAccess ?? [],
      sshPublicKey: s.sshPublicKey?.trim(),
      bastion: s.bastion ?? false,
      cloudLabels: s.cloudLabels ?? {},
      etcd: {
        storageType: s.etcdStorageType ?? D.DEFAULT_ETCD_STORAGE_TYPE,
        volumeSize: s.etcdVolumeSize ?? D.DEFAULT_ETCD_VOLUME_SIZE_GIB,
        iops: s.etcdVolumeIops,
        kmsKeyId: s.etcdKmsKeyId,
        release: {
          version: s.etcdVersion ?? D.DEFAULT_ETCD_VERSION,
          sha256: s.etcdSha256 ?? D.DEFAULT_ETCD_SHA256,
          downloadUrl: s.etcdDownloadUrl ?? D.DEFAULT_ETCD_DOWNLOAD_URL,
        },
        backups: {
          intervalMinutes: s.etcdBackupIntervalMinutes ?? D.DEFAULT_ETCD_BACKUP_INTERVAL_MINUTES,
          retentionDays: s.etcdBackupRetentionDays ?? D.DEFAULT_ETCD_BACKUP_RETENTION_DAYS,
          bucket: s.etcdBackupBucket,
        },
      },
      kubernetes: {
        podCidr: s.podCidr ?? D.DEFAULT_POD_CIDR,
        serviceCidr: s.serviceCidr ?? D.DEFAULT_SERVICE_CIDR,
        packageRepository: s.kubernetesPackageRepository ?? D.DEFAULT_KUBERNETES_PACKAGE_REPOSITORY,
      },
      flowLogs: {
        enabled: s.vpc ? false : (s.flowLogs ?? D.DEFAULT_FLOW_LOGS),
        retentionDays: s.flowLogRetentionDays ?? D.DEFAULT_FLOW_LOG_RETENTION_DAYS,
        kmsKeyArn: s.flowLogKmsKeyArn,
      },
      apiLoadBalancerDeletionProtection: !(s.allowApiLoadBalancerDeletion ?? false),
      apiAccessLogsBucket: s.apiAccessLogsBucket,
      backend: backendSpec(s.backend, s.name, this.region as string),
    };
  }
}

/**
 * The IOPS AWS lets a volume of each type provision: a range, and a ceiling per GiB of size (io2's is
 * kept at 500, as modules/etcd-volumes.ts computes its defaults).
 */
const VOLUME_IOPS: Readonly<Record<string, { min: number; max: number; perGib: number }>> = {
  gp3: { min: 3000, max: 16000, perGib: 500 },
  io1: { min: 100, max: 64000, perGib: 50 },
  io2: { min: 100, max: 256000, perGib: 500 },
};

/** Why `iops` does not suit a volume of `type` and `size`, or undefined. */
function checkVolumeIops(type: string, size: number, iops: number): string | undefined {
  const limits = VOLUME_IOPS[type];
  if (!limits) {
    return `${iops} cannot be provisioned on ${type} volumes, which take their IOPS from their size; use gp3, io1 or io2, or remove etcdVolumeIops.`;
  }
  if (iops < limits.min || iops > limits.max) {
    return `${iops} is outside what ${type} volumes take (${limits.min} to ${limits.max} IOPS).`;
  }
  // gp3's 3000 baseline needs no size; above it, AWS allows 500 IOPS per GiB.
  if (iops > Math.max(type === "gp3" ? limits.min : 0, limits.perGib * size)) {
    return (
      `${iops} is more than a ${size} GiB ${type} volume may have (${limits.perGib} IOPS per GiB, so at most ` +
      `${Math.max(type === "gp3" ? limits.min : 0, limits.perGib * size)}); raise etcdVolumeSize or lower etcdVolumeIops.`
    );
  }
  return undefined;
}

function imageRef(image: string | undefined): ImageRef {
  if (image === undefined) {
    return { kind: "default" };
  }
  if (image.startsWith("ami-")) {
    return { kind: "ami", id: image };
  }
  const slash = image.indexOf("/");
  return { kind: "lookup", owner: image.slice(0, slash), name: image.slice(slash + 1) };
}

function nodeGroupSpec(g: NodeGroupInput, defaults: NodeGroupSpec): NodeGroupSpec {
  return {
    name: g.name,
    zones: g.zones ?? defaults.zones,
    size: g.size ?? defaults.size,
    minSize: g.minSize,
    maxSize: g.maxSize,
    volumeSize: g.volumeSize ?? defaults.volumeSize,
    image: g.image ? imageRef(g.image) : defaults.image,
    labels: g.labels ?? {},
    taints: g.taints ?? [],
    securityGroups: g.securityGroups ?? [],
  };
}

function backendSpec(b: BackendInput | undefined, name: string, region: string): BackendSpec {
  switch (b?.type) {
    case undefined:
      return { type: "local", path: `terraform.${name}.tfstate` };
    case "local":
      return { type: "local", path: b.path ?? `terraform.${name}.tfstate` };
    case "s3":
      return {
        type: "s3",
        bucket: b.bucket,
        key: b.key ?? `kopsform/${name}/terraform.tfstate`,
        region: b.region ?? region,
        kmsKeyId: b.kmsKeyId,
        useLockfile: b.useLockfile ?? true,
        dynamodbTable: b.dynamodbTable,
      };
    case "cloud":
      return {
        type: "cloud",
        organization: b.organization,
        workspace: b.workspace,
        workspaceTags: b.workspaceTags,
        project: b.project,
        hostname: b.hostname,
      };
  }
}
