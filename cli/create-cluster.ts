/**
 * `kopsform create cluster`: kops's flags in, a reviewed-in-git spec file out (`clusters/NAME.yaml`).
 * The flags are turned into a spec and validated by the same code as spec files, so a flag and the
 * field it fills are checked alike; messages name the flag.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command, Option } from "commander";
import YAML from "yaml";
import { DEFAULT_CONFIG_DIR } from "../spec/defaults";
import { parseCloudLabels, splitList } from "../spec/flags";
import { haSummaryLine } from "../spec/ha";
import { InvalidInputError, Problem, fieldLabel } from "../spec/problems";
import { ValidatedSpec, validateClusterSpec } from "../spec/validate";
import { Io, UsageError } from "./io";
import { specPath, specYaml, writeAtomically } from "./spec-file";

const CREATED_BY = "written by `kopsform create cluster`";

/** Options as commander collects them: lists accumulate over repeated flags. */
interface CreateClusterOptions {
  readonly name?: string;
  readonly zones?: string[];
  readonly masterZones?: string[];
  readonly controlPlaneZones?: string[];
  readonly masterCount?: string;
  readonly controlPlaneCount?: string;
  readonly nodeCount?: string;
  readonly nodeSize?: string;
  readonly masterSize?: string;
  readonly controlPlaneSize?: string;
  readonly topology?: string;
  readonly networking?: string;
  readonly dnsZone?: string;
  readonly dns?: string;
  readonly nodeSecurityGroups?: string[];
  readonly masterSecurityGroups?: string[];
  readonly controlPlaneSecurityGroups?: string[];
  readonly cloudLabels?: string;
  readonly image?: string;
  readonly networkCidr?: string;
  readonly sshPublicKey?: string;
  readonly sshAccess?: string[];
  readonly allowSshFromAnywhere?: boolean;
  readonly adminAccess?: string[];
  readonly apiLoadbalancerType?: string;
  readonly bastion?: boolean;
  readonly kubernetesVersion?: string;
  readonly masterVolumeSize?: string;
  readonly controlPlaneVolumeSize?: string;
  readonly nodeVolumeSize?: string;
  readonly etcdStorageType?: string;
  readonly encryptEtcdStorage?: boolean;
  readonly vpc?: string;
  readonly networkId?: string;
  readonly subnets?: string[];
  readonly utilitySubnets?: string[];
  readonly cloud?: string;
  readonly state?: string;
  readonly configDir: string;
  readonly yes?: boolean;
}

/**
 * Boolean flags, which kops also takes as `--flag=true|false`: whether each has a `--no-` form (for
 * those that default to false and have none, `=false` simply says the default).
 */
const BOOLEAN_FLAGS: Readonly<Record<string, { readonly negatable: boolean }>> = {
  bastion: { negatable: true },
  "encrypt-etcd-storage": { negatable: true },
  "allow-ssh-from-anywhere": { negatable: false },
  yes: { negatable: false },
};

/** kops writes `--bastion="true"`; commander knows `--bastion` and `--no-bastion`. */
export function normalizeBooleanFlags(argv: readonly string[]): string[] {
  return argv.flatMap((arg) => {
    const m = /^--([a-z-]+)=(true|false)$/i.exec(arg);
    const flag = m ? BOOLEAN_FLAGS[m[1]] : undefined;
    if (!m || !flag) {
      return [arg];
    }
    if (m[2].toLowerCase() === "true") {
      return [`--${m[1]}`];
    }
    return flag.negatable ? [`--no-${m[1]}`] : [];
  });
}

const list = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...splitList(value)];

/** Adds `create cluster` to `create`. */
export function addCreateClusterCommand(create: Command, io: Io): void {
  const cmd = create
    .command("cluster")
    .description("Write a cluster spec from kops create cluster flags (clusters/NAME.yaml by default).")
    .argument("[NAME]", "cluster name, a DNS name such as hacluster.example.com")
    .option("--name <NAME>", "cluster name (instead of the NAME argument)")
    .option("--zones <zones>", "zones in which to run the cluster (comma-separated)", list)
    .option("--master-zones <zones>", "zones in which to run masters (etcd needs an odd number)", list)
    .addOption(new Option("--control-plane-zones <zones>", "alias of --master-zones").argParser(list))
    .option("--master-count <n>", "number of masters (default: one per master zone)")
    .addOption(new Option("--control-plane-count <n>", "alias of --master-count"))
    .option("--node-count <n>", "number of worker nodes (default: one per zone)")
    .option("--node-size <type>", "instance type of the nodes")
    .option("--master-size <type>", "instance type of the masters")
    .addOption(new Option("--control-plane-size <type>", "alias of --master-size"))
    .option("-t, --topology <topology>", "network topology: public or private")
    .option("--networking <cni>", "networking: kubenet, kopeio-vxlan, weave, flannel, calico, canal, cilium, ...")
    .option("--dns-zone <zone>", "hosted zone for api.NAME: a name (example.com) or a zone id (Z...)")
    .option("--dns <type>", "DNS type: public or private")
    .option("--node-security-groups <ids>", "extra security groups for the nodes", list)
    .option("--master-security-groups <ids>", "extra security groups for the masters", list)
    .addOption(new Option("--control-plane-security-groups <ids>", "alias of --master-security-groups").argParser(list))
    .option("--cloud-labels <labels>", 'tags for every resource: "Team=Dev,Owner=John Doe"')
    .option("--image <image>", "image for all instances: ami-... or owner/name")
    .option("--network-cidr <cidr>", "VPC CIDR (default 172.20.0.0/16)")
    .option("--ssh-public-key <path>", "public key file for SSH (stored in the spec)")
    .option("--ssh-access <cidrs>", "CIDRs allowed to SSH (default: none)", list)
    .option("--allow-ssh-from-anywhere", "accept --ssh-access 0.0.0.0/0")
    .option("--admin-access <cidrs>", "CIDRs allowed to reach the API (default: the network CIDR)", list)
    .option("--api-loadbalancer-type <type>", "API load balancer: public or internal")
    .option("--bastion", "add a bastion (private topology)")
    .option("--no-bastion", "no bastion")
    .option("--kubernetes-version <version>", "Kubernetes version")
    .option("--master-volume-size <GiB>", "root volume size of the masters")
    .addOption(new Option("--control-plane-volume-size <GiB>", "alias of --master-volume-size"))
    .option("--node-volume-size <GiB>", "root volume size of the nodes")
    .option("--etcd-storage-type <type>", "etcd volume type: gp3, gp2, io1 or io2")
    .option("--encrypt-etcd-storage", "encrypt etcd volumes (always on in kopsform)")
    .option("--no-encrypt-etcd-storage", "refused: etcd volumes are always encrypted")
    .option("--vpc <id>", "shared VPC to use (then --subnets is required)")
    .addOption(new Option("--network-id <id>", "alias of --vpc"))
    .option("--subnets <ids>", "shared private (or public) subnets, in the order of --zones", list)
    .option("--utility-subnets <ids>", "shared utility subnets, in the order of --zones", list)
    .addOption(new Option("--cloud <cloud>", "cloud provider (aws only)"))
    .addOption(new Option("--state <store>").hideHelp())
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .option("-y, --yes", "overwrite an existing spec")
    .action((positional: string | undefined, options: CreateClusterOptions) => {
      createCluster(positional, options, io);
    });
  cmd.addHelpText(
    "after",
    "\nExample (the first example of the kops HA guide, docs/high-availability.md):\n" +
      "  npx kopsform create cluster --node-count 3 --zones us-west-2a,us-west-2b,us-west-2c \\\n" +
      "    --master-zones us-west-2a,us-west-2b,us-west-2c --node-size t2.medium --master-size t2.medium \\\n" +
      "    --topology private --networking kopeio-vxlan hacluster.example.com",
  );
}

function createCluster(positional: string | undefined, o: CreateClusterOptions, io: Io): void {
  const name = clusterName(positional, o);
  const flags = { kind: "flags" } as const;
  const { raw, problems } = specFromFlags(name, o);
  const file = specPath(o.configDir, name);
  // Overwriting the spec of a deployed cluster keeps its record of what runs, so that the new flags
  // are checked against it like any other upgrade (spec/upgrade.ts).
  const deployed = recordedKubernetesVersion(file);
  if (deployed !== undefined) {
    raw.deployedKubernetesVersion = deployed;
  }
  const previous = fs.existsSync(file) ? recordedEtcdMembers(file) : undefined;
  if (previous && previous.retired.length > 0) {
    // Overwriting keeps the record of retired members: their volumes stay forgotten, never deleted.
    raw.retiredEtcdMembers = previous.retired;
  }
  let validated: ValidatedSpec;
  try {
    validated = validateClusterSpec(raw, flags);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) {
      throw e;
    }
    // A flag that could not be read was left out of `raw`; drop what validation says of its absence.
    const unread = new Set(problems.map((p) => p.field));
    throw new InvalidInputError([...problems, ...e.problems.filter((p) => !unread.has(p.field))], flags);
  }
  if (problems.length > 0) {
    throw new InvalidInputError(problems, flags);
  }
  const text = specYaml(validated.spec, raw, CREATED_BY);
  const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (existing === text) {
    // The same command run again (the README's first example in a clone that ships its spec): nothing to do.
    io.out(`${file} already holds this spec; left as it is.`);
    io.out(haSummaryLine(name, validated.ha));
    validated.warnings.forEach((w) => io.err(`warning: ${fieldLabel(w.field, flags)}: ${w.message}`));
    return;
  }
  if (existing !== undefined && !o.yes) {
    throw new InvalidInputError(
      [{ field: "NAME", message: `${file} already exists with another spec; pass --yes to overwrite it, or choose another name.` }],
      flags,
    );
  }
  const dropped = (previous?.members ?? []).filter((m) => !validated.spec.etcdMembers.includes(m));
  if (dropped.length > 0) {
    throw new InvalidInputError(
      [
        {
          field: "masterZones",
          message:
            `${file} records etcd members ${dropped.join(", ")} that these flags no longer give; create cluster --yes ` +
            "never removes masters. Give flags that keep them, or edit the spec and retire them as the README's " +
            `"Removing a master" says.`,
        },
      ],
      flags,
    );
  }
  writeAtomically(file, text);
  io.out(`Wrote ${file}`);
  io.out(haSummaryLine(name, validated.ha));
  validated.warnings.forEach((w) => io.err(`warning: ${fieldLabel(w.field, flags)}: ${w.message}`));
  io.out(`Next: npx kopsform synth --config-dir ${o.configDir}`);
}

/** The `deployedKubernetesVersion` of an existing spec file, if it has one that reads as a string. */
function recordedKubernetesVersion(file: string): string | undefined {
  try {
    if (!fs.statSync(file).isFile()) {
      return undefined;
    }
    const existing = YAML.parse(fs.readFileSync(file, "utf8")) as { deployedKubernetesVersion?: unknown } | null;
    return typeof existing?.deployedKubernetesVersion === "string" ? existing.deployedKubernetesVersion : undefined;
  } catch {
    return undefined; // no spec there, or not one kopsform can read: nothing recorded
  }
}

function clusterName(positional: string | undefined, o: CreateClusterOptions): string {
  if (positional && o.name && positional !== o.name) {
    throw new UsageError(`the cluster is named twice (${positional} and --name ${o.name}); give one name.`);
  }
  const name = positional ?? o.name;
  if (!name) {
    throw new UsageError("missing cluster name: give it as the last argument, e.g. hacluster.example.com.");
  }
  return name;
}

/** Picks one of a flag and its kops alias; giving both is a usage error. */
function either<T>(flag: string, value: T | undefined, alias: string, aliasValue: T | undefined): T | undefined {
  if (value !== undefined && aliasValue !== undefined) {
    throw new UsageError(`${flag} and ${alias} are the same flag; give only one of them.`);
  }
  return value ?? aliasValue;
}

/**
 * Builds the raw spec object from flags. Values that cannot even be turned into the spec's types
 * (a count that is not a number, an unreadable key file) come back as problems naming the flag.
 */
export function specFromFlags(name: string, o: CreateClusterOptions): { raw: Record<string, unknown>; problems: Problem[] } {
  if (o.state !== undefined) {
    throw new UsageError(
      "--state: kopsform keeps no kops state store; the spec is written to --config-dir (clusters/) " +
        "and Terraform state goes to the backend named in the spec.",
    );
  }
  if (o.cloud !== undefined && o.cloud !== "aws") {
    throw new UsageError(`--cloud: ${JSON.stringify(o.cloud)} is not supported; kopsform builds clusters on aws only.`);
  }
  const problems: Problem[] = [];
  const integer = (field: string, value: string | undefined): number | undefined => {
    if (value === undefined) {
      return undefined;
    }
    if (!/^\d+$/.test(value.trim())) {
      problems.push({ field, message: `${JSON.stringify(value)} is not a whole number.` });
      return undefined;
    }
    return Number(value);
  };
  const raw: Record<string, unknown> = {
    name,
    zones: o.zones,
    masterZones: either("--master-zones", o.masterZones, "--control-plane-zones", o.controlPlaneZones),
    masterCount: integer("masterCount", either("--master-count", o.masterCount, "--control-plane-count", o.controlPlaneCount)),
    nodeCount: integer("nodeCount", o.nodeCount),
    nodeSize: o.nodeSize,
    masterSize: either("--master-size", o.masterSize, "--control-plane-size", o.controlPlaneSize),
    topology: o.topology,
    networking: o.networking,
    dnsZone: o.dnsZone,
    dns: o.dns,
    nodeSecurityGroups: o.nodeSecurityGroups,
    masterSecurityGroups: either(
      "--master-security-groups",
      o.masterSecurityGroups,
      "--control-plane-security-groups",
      o.controlPlaneSecurityGroups,
    ),
    image: o.image,
    networkCidr: o.networkCidr,
    sshAccess: o.sshAccess,
    allowSshFromAnywhere: o.allowSshFromAnywhere,
    adminAccess: o.adminAccess,
    apiLoadBalancerType: o.apiLoadbalancerType,
    bastion: o.bastion,
    kubernetesVersion: o.kubernetesVersion,
    masterVolumeSize: integer(
      "masterVolumeSize",
      either("--master-volume-size", o.masterVolumeSize, "--control-plane-volume-size", o.controlPlaneVolumeSize),
    ),
    nodeVolumeSize: integer("nodeVolumeSize", o.nodeVolumeSize),
    etcdStorageType: o.etcdStorageType,
    encryptEtcdStorage: o.encryptEtcdStorage,
    vpc: either("--vpc", o.vpc, "--network-id", o.networkId),
  };
  if (o.zones === undefined) {
    problems.push({ field: "zones", message: "is required: name the zones to run in, e.g. --zones us-west-2a,us-west-2b,us-west-2c." });
  }
  if (o.cloudLabels !== undefined) {
    const parsed = parseCloudLabels(o.cloudLabels);
    if ("error" in parsed) {
      problems.push({ field: "cloudLabels", message: parsed.error });
    } else {
      raw.cloudLabels = parsed.labels;
    }
  }
  if (o.sshPublicKey !== undefined) {
    const key = readPublicKey(o.sshPublicKey);
    if (typeof key === "string") {
      raw.sshPublicKey = key;
    } else {
      problems.push({ field: "sshPublicKey", message: key.error });
    }
  }
  const subnets = sharedSubnets(o, problems);
  if (subnets.length > 0) {
    raw.subnets = subnets;
  }
  for (const key of Object.keys(raw)) {
    if (raw[key] === undefined) {
      delete raw[key];
    }
  }
  return { raw, problems };
}

/** `--subnets` and `--utility-subnets` give one subnet per zone, in the order of `--zones`. */
function sharedSubnets(o: CreateClusterOptions, problems: Problem[]): Record<string, string>[] {
  const zones = o.zones ?? [];
  const entries: Record<string, string>[] = [];
  const kinds: [string, string[] | undefined, string][] = [
    ["--subnets", o.subnets, o.topology === "private" ? "private" : "public"],
    ["--utility-subnets", o.utilitySubnets, "utility"],
  ];
  for (const [flag, ids, type] of kinds) {
    if (ids === undefined) {
      continue;
    }
    if (ids.length !== zones.length) {
      problems.push({
        field: "subnets",
        message: `${flag} gives ${ids.length} subnets for ${zones.length} zones; give one per zone, in the order of --zones.`,
      });
      continue;
    }
    ids.forEach((id, i) => entries.push({ zone: zones[i], type, id }));
  }
  return entries;
}

/** kops's `--ssh-public-key` is a file; the key itself goes into the spec so synthesis reads no files. */
function readPublicKey(value: string): string | { error: string } {
  if (/^(ssh-|ecdsa-)/.test(value)) {
    return value.trim();
  }
  const file = value.startsWith("~/") ? path.join(os.homedir(), value.slice(2)) : value;
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return { error: `cannot read ${JSON.stringify(value)}; give the path of an OpenSSH public key file (.pub).` };
  }
}

/**
 * The etcd record of an existing spec file (`etcdMembers`, `retiredEtcdMembers`), read leniently: a
 * file that does not parse, or has no record, records nothing.
 */
function recordedEtcdMembers(file: string): { members: string[]; retired: string[] } {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((m): m is string => typeof m === "string") : []);
  try {
    const raw = YAML.parse(fs.readFileSync(file, "utf8")) as { etcdMembers?: unknown; retiredEtcdMembers?: unknown } | null;
    return { members: strings(raw?.etcdMembers), retired: strings(raw?.retiredEtcdMembers) };
  } catch {
    return { members: [], retired: [] };
  }
}
