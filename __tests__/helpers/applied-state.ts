/**
 * An "as-if-applied" Terraform state, so that tests can plan a changed configuration against a
 * cluster that exists, without AWS: updates, replacements (with Terraform's `action_reason`),
 * deletes and `prevent_destroy` refusals all come from the real Terraform CLI and aws provider.
 *
 * How: plan the stack fresh; build a state (format version 4) from the plan's `planned_values`,
 * filling what is only "known after apply" (ids, ARNs, ...) with deterministic placeholders of the
 * type the provider schema gives; then plan with `-refresh=false` against that state and copy every
 * value the plan still wants to change into the state, until the plan is empty. The state is written
 * where the stack's local backend reads it, so any later `terraform plan` in the stack sees it.
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PlanJson, ResourceChange, Terraform, TerraformError, writeOfflineOverride } from "../../cli/terraform";
import { planOffline, terraformIn } from "./terraform";

/** Options of {@link applyAsIf}. */
export interface ApplyAsIfOptions {
  /**
   * The stack's fresh plan (`terraform show -json` of a plan without state), when the caller already
   * has one: it saves a plan and a show (about 7 s).
   * @default planned here, after removing any existing state
   */
  readonly plan?: PlanJson;
  /**
   * How many plans against the state may still show changes before giving up. Each round costs a
   * plan and a show (about 7 s). Exact references and tags_all are resolved up front, so kopsform's
   * stacks need one at most (a jsonencode()d IAM policy that embeds an ARN).
   * @default 6
   */
  readonly maxRounds?: number;
}

/** What {@link applyAsIf} did. */
export interface AppliedState {
  /** The absolute path of the state file written (the stack's local backend path). */
  readonly statePath: string;
  /** How many plans against the state showed changes that were copied in (0 when the first state was exact). */
  readonly rounds: number;
  /** The state written, as Terraform reads it. */
  readonly state: StateV4;
}

/** A Terraform state file, format version 4 (the parts written here). */
export interface StateV4 {
  version: 4;
  terraform_version: string;
  serial: number;
  lineage: string;
  outputs: Record<string, { value: unknown; type: unknown; sensitive?: boolean }>;
  resources: StateResource[];
  check_results: null;
}

interface StateResource {
  module?: string;
  mode: "managed";
  type: string;
  name: string;
  provider: string;
  instances: StateInstance[];
}

interface StateInstance {
  index_key?: string | number;
  schema_version: number;
  attributes: Record<string, unknown>;
  sensitive_attributes: unknown[];
  dependencies?: string[];
}

/**
 * Writes a state for `stackDir` as if its current configuration had been applied, so that
 * `terraform plan -refresh=false` on the same configuration shows no changes and a plan of a changed
 * configuration shows only the real differences. Runs offline: writes the credential-free provider
 * override and runs `terraform init` in the stack. Any existing state at the backend path is replaced.
 * Throws when the plan does not converge, listing what still changes.
 */
export function applyAsIf(stackDir: string, options: ApplyAsIfOptions = {}): AppliedState {
  if (options.plan) {
    assertFresh(options.plan);
  }
  const statePath = path.resolve(stackDir, localStatePath(stackDir));
  // Replaced in any case; removed first because init reads it and the fresh plan must not see it.
  fs.rmSync(statePath, { force: true });
  const tf = terraformIn(stackDir);
  writeOfflineOverride(stackDir);
  tf.init();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-asif-"));
  try {
    const planFile = path.join(scratch, "asif.tfplan");
    const fresh = options.plan ?? planFresh(tf, planFile);
    const schemas = providerSchemas(tf);
    const state = stateFromPlan(fresh, schemas);
    const maxRounds = options.maxRounds ?? 6;
    for (let round = 0; ; round++) {
      state.serial += 1;
      fs.mkdirSync(path.dirname(statePath), { recursive: true });
      fs.writeFileSync(statePath, `${JSON.stringify(state, null, 2)}\n`);
      const result = tf.plan({ out: planFile, refresh: false });
      if (result.status === 0) {
        return { statePath, rounds: round, state };
      }
      if (result.status !== 2) {
        throw new Error(
          `applyAsIf(${stackDir}): terraform refused the plan against the as-if state:\n${result.stderr}`,
        );
      }
      const plan = tf.showJson(planFile);
      const before = JSON.stringify(state);
      copyPlannedChanges(state, plan);
      if (round + 1 >= maxRounds || JSON.stringify(state) === before) {
        throw new Error(
          `applyAsIf(${stackDir}): the plan against the as-if state still shows changes after ${round + 1} ` +
            `round(s):\n${describeChanges(plan).join("\n")}\nGive the resource's placeholder a better value ` +
            "in __tests__/helpers/applied-state.ts, or raise maxRounds.",
        );
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The resources and outputs of a test stack, as in cdk.tf.json (`"${aws_vpc.main.id}"` references). */
export interface TestStackBody {
  readonly resource: Record<string, Record<string, object>>;
  readonly output?: Record<string, { readonly value: unknown }>;
}

/**
 * Writes (or rewrites) a small stack laid out as kopsform synthesizes one: `ROOT/cdktf.out/stacks/NAME/cdk.tf.json`
 * with the aws provider pinned as kopsform pins it, a `cluster_name` output, and the local backend's state
 * at `ROOT/terraform.NAME.tfstate` (the path is relative to the stack, as kopsform writes it). Returns
 * the stack directory.
 */
export function writeTestStack(root: string, name: string, body: TestStackBody): string {
  const stackDir = path.join(root, "cdktf.out", "stacks", name);
  fs.mkdirSync(stackDir, { recursive: true });
  const config = {
    terraform: {
      backend: { local: { path: `../../../terraform.${name}.tfstate` } },
      required_providers: { aws: { source: "aws", version: "5.100.0" } },
    },
    provider: { aws: [{ region: "us-west-2" }] },
    resource: body.resource,
    output: { cluster_name: { value: name }, ...body.output },
  };
  fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), `${JSON.stringify(config, null, 2)}\n`);
  return stackDir;
}

/**
 * The local backend's state path as written in the stack's cdk.tf.json (relative to the stack
 * directory); Terraform's default `terraform.tfstate` when there is no backend block.
 */
export function localStatePath(stackDir: string): string {
  const file = path.join(stackDir, "cdk.tf.json");
  if (!fs.existsSync(file)) {
    throw new Error(`${file} does not exist: applyAsIf needs a synthesized JSON stack (not --hcl).`);
  }
  const backend = (
    JSON.parse(fs.readFileSync(file, "utf8")) as { terraform?: { backend?: Record<string, { path?: string }> } }
  ).terraform?.backend;
  if (!backend) {
    return "terraform.tfstate";
  }
  if (!backend.local) {
    throw new Error(`${file}: applyAsIf needs the local backend, found ${Object.keys(backend).join(", ")}.`);
  }
  return backend.local.path ?? "terraform.tfstate";
}

/** The fresh plan of the stack (there is no state when this runs). */
function planFresh(tf: Terraform, planFile: string): PlanJson {
  const result = tf.plan({ out: planFile, refresh: false });
  if (result.status === 1) {
    throw new TerraformError("plan (the fresh plan of applyAsIf)", result);
  }
  return tf.showJson(planFile);
}

/** A plan made with prior state would carry that state's values into ours; refuse it. */
function assertFresh(plan: PlanJson): void {
  const notCreate = (plan.resource_changes ?? []).filter(
    (c) => c.mode === "managed" && !(c.change.actions.length === 1 && c.change.actions[0] === "create"),
  );
  if (notCreate.length > 0) {
    throw new Error(
      `applyAsIf: the plan given is not a fresh plan (${notCreate.map((c) => c.address).join(", ")} ` +
        "are not creates). Plan the stack without state first, or let applyAsIf plan it.",
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Provider schemas: attribute types, so that placeholders have the type Terraform will decode.

/** A cty type in Terraform's JSON notation: "string", ["list", T], ["object", {...}], ... */
type CtyType = string | [string, unknown];

interface SchemaBlock {
  readonly attributes?: Record<string, SchemaAttribute>;
  readonly block_types?: Record<string, { readonly nesting_mode: string; readonly block: SchemaBlock }>;
}

interface SchemaAttribute {
  readonly type?: CtyType;
  readonly sensitive?: boolean;
  readonly nested_type?: { readonly attributes: Record<string, SchemaAttribute>; readonly nesting_mode: string };
}

/** Resource types of one provider: schema version and the object type of their attributes. */
interface ResourceSchemas {
  readonly provider: string;
  version(type: string): number;
  objectType(type: string): CtyType;
  /**
   * The state's marks of the type's sensitive top-level attributes (an SSM parameter's value), as
   * Terraform records them: a state without them plans an update that only changes sensitivity.
   */
  sensitiveAttributes(type: string): unknown[];
}

const schemaCache = new Map<string, ResourceSchemas>();

/**
 * The aws provider's resource schemas, from `terraform providers schema -json` (about 4 s and 14 MB,
 * so it is cached per process, keyed by the provider version locked in the stack).
 */
function providerSchemas(tf: Terraform): ResourceSchemas {
  const lock = fs.readFileSync(path.join(tf.dir, ".terraform.lock.hcl"), "utf8");
  const key = /provider "([^"]+)" \{\s*version\s*=\s*"([^"]+)"/.exec(lock)?.slice(1).join("@") ?? lock;
  const cached = schemaCache.get(key);
  if (cached) {
    return cached;
  }
  const result = tf.run(["providers", "schema", "-json"]);
  if (result.status !== 0) {
    throw new TerraformError("providers schema", result);
  }
  const all = (
    JSON.parse(result.stdout) as {
      provider_schemas: Record<string, { resource_schemas: Record<string, { version: number; block: SchemaBlock }> }>;
    }
  ).provider_schemas;
  const provider = Object.keys(all).find((p) => p.endsWith("/aws")) ?? Object.keys(all)[0];
  const resources = all[provider].resource_schemas;
  const types = new Map<string, CtyType>();
  const schemas: ResourceSchemas = {
    provider,
    version: (type) => resources[type]?.version ?? 0,
    objectType: (type) => {
      let t = types.get(type);
      if (!t) {
        if (!resources[type]) {
          throw new Error(`applyAsIf: ${provider} has no resource type ${type}.`);
        }
        t = blockType(resources[type].block);
        types.set(type, t);
      }
      return t;
    },
    sensitiveAttributes: (type) =>
      Object.entries(resources[type]?.block.attributes ?? {})
        .filter(([, attribute]) => attribute.sensitive)
        .map(([name]) => [{ type: "get_attr", value: name }]),
  };
  schemaCache.set(key, schemas);
  return schemas;
}

function blockType(block: SchemaBlock): CtyType {
  const members: Record<string, CtyType> = {};
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    members[name] = attributeType(attribute);
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    members[name] = wrap(nested.nesting_mode, blockType(nested.block));
  }
  return ["object", members];
}

function attributeType(attribute: SchemaAttribute): CtyType {
  if (attribute.type !== undefined) {
    return attribute.type;
  }
  const nested = attribute.nested_type!;
  return wrap(nested.nesting_mode, blockType({ attributes: nested.attributes }));
}

/** The collection type of a nested block or nested attribute; "single" and "group" are the object itself. */
function wrap(nestingMode: string, object: CtyType): CtyType {
  return nestingMode === "list" || nestingMode === "set" || nestingMode === "map" ? [nestingMode, object] : object;
}

/** The type of member `key` (an attribute name or an element index) inside a value of type `type`. */
function memberType(type: CtyType, key: string | number): CtyType {
  if (!Array.isArray(type)) {
    return "dynamic";
  }
  const [kind, inner] = type;
  if (kind === "object") {
    return (inner as Record<string, CtyType>)[key] ?? "dynamic";
  }
  if (kind === "tuple") {
    return (inner as CtyType[])[key as number] ?? "dynamic";
  }
  return inner as CtyType;
}

// ---------------------------------------------------------------------------------------------
// Building the state from a fresh plan.

interface PlannedResource {
  readonly address: string;
  /** Set here, not by Terraform: the address of the child module holding the resource. */
  readonly module?: string;
  readonly mode: string;
  readonly type: string;
  readonly name: string;
  readonly index?: string | number;
  readonly values?: Record<string, unknown>;
}

interface PlannedModule {
  readonly address?: string;
  readonly resources?: readonly PlannedResource[];
  readonly child_modules?: readonly PlannedModule[];
}

interface ConfigResource {
  readonly address: string;
  readonly mode: string;
  readonly provider_config_key?: string;
  readonly expressions?: Record<string, unknown>;
  readonly depends_on?: readonly string[];
}

interface ConfigModule {
  readonly resources?: readonly ConfigResource[];
  readonly outputs?: Record<string, { readonly expression?: Expression }>;
}

/** An expression of the plan's `configuration`: a constant (JSON syntax keeps `${...}` in it) and what it references. */
interface Expression {
  readonly constant_value?: unknown;
  readonly references?: readonly string[];
}

/** Hands out deterministic placeholder values, numbered in the order the state is built. */
class Placeholders {
  private count = 0;

  /**
   * A value of `type` for attribute `name` of a `resourceType`; ids and ARNs look like AWS's. Inside a
   * nested block (`nested`), scalars are the zero values the provider reads as "not set": a made-up
   * `health_check.matcher` would trip the provider's own checks of a TCP target group.
   */
  value(type: CtyType, name: string, resourceType: string, id: () => string, nested: boolean): unknown {
    const isArn = name === "arn" || name.endsWith("_arn");
    if (nested && name !== "id" && !isArn && (type === "string" || type === "number" || type === "bool")) {
      return { string: "", number: 0, bool: false }[type];
    }
    if (type === "string") {
      if (name === "id") {
        return id();
      }
      if (isArn) {
        return arnFor(resourceType, id());
      }
      if (name === "owner_id" || name.endsWith("account_id")) {
        return "000000000000";
      }
      if (name === "public_ip" || name === "private_ip") {
        // An address, since configurations build CIDRs from it (`${aws_eip.x.public_ip}/32`); from the
        // documentation ranges, so that it can never be mistaken for a real one.
        const n = Number(this.next());
        return `${name === "public_ip" ? "203.0.113" : "10.255.255"}.${(n % 254) + 1}`;
      }
      return `kopsform-${name.replace(/_/g, "-")}-${this.next()}`;
    }
    if (type === "number") {
      return 1;
    }
    if (type === "bool") {
      return false;
    }
    if (!Array.isArray(type)) {
      return null;
    }
    const [kind, inner] = type;
    if (kind === "list" || kind === "set" || kind === "tuple") {
      return [];
    }
    if (kind === "map") {
      return {};
    }
    const object: Record<string, unknown> = {};
    for (const [member, memberTy] of Object.entries(inner as Record<string, CtyType>)) {
      object[member] = this.value(memberTy, member, resourceType, id, true);
    }
    return object;
  }

  /** The next id of a resource type: `vpc-0kopsform0001`, `sg-0kopsform0002`, ... */
  id(resourceType: string): string {
    const prefix = ID_PREFIXES[resourceType] ?? resourceType.replace(/^aws_/, "").replace(/_/g, "-");
    return `${prefix}-0kopsform${this.next()}`;
  }

  private next(): string {
    this.count += 1;
    return String(this.count).padStart(4, "0");
  }
}

/** AWS's id prefixes for the resource types kopsform makes, so that placeholders read like real ids. */
const ID_PREFIXES: Readonly<Record<string, string>> = {
  aws_vpc: "vpc",
  aws_subnet: "subnet",
  aws_security_group: "sg",
  aws_security_group_rule: "sgrule",
  aws_vpc_security_group_ingress_rule: "sgr",
  aws_vpc_security_group_egress_rule: "sgr",
  aws_ebs_volume: "vol",
  aws_internet_gateway: "igw",
  aws_egress_only_internet_gateway: "eigw",
  aws_nat_gateway: "nat",
  aws_eip: "eipalloc",
  aws_route_table: "rtb",
  aws_route_table_association: "rtbassoc",
  aws_route: "r-rtb",
  aws_launch_template: "lt",
  aws_instance: "i",
  aws_key_pair: "key",
  aws_vpc_dhcp_options: "dopt",
  aws_vpc_dhcp_options_association: "dopt-assoc",
  aws_network_acl: "acl",
  aws_vpc_endpoint: "vpce",
};

/** An ARN that parses as one (providers validate ARNs they are given through references). */
function arnFor(resourceType: string, id: string): string {
  const service = /^aws_(iam|lb|alb|autoscaling|route53|kms|s3|sqs|sns|cloudwatch)/.exec(resourceType)?.[1] ?? "ec2";
  const arnService = service === "lb" || service === "alb" ? "elasticloadbalancing" : service;
  const region = ["iam", "route53", "s3"].includes(service) ? "" : "us-east-1";
  return `arn:aws:${arnService}:${region}:000000000000:${resourceType.replace(/^aws_/, "")}/${id}`;
}

/** A state with every resource of the fresh plan, unknowns resolved through exact references or placeholders. */
function stateFromPlan(plan: PlanJson, schemas: ResourceSchemas): StateV4 {
  const changes = new Map((plan.resource_changes ?? []).map((c) => [c.address, c]));
  const providers =
    (plan.configuration as { provider_config?: Record<string, ProviderConfig> } | undefined)?.provider_config ?? {};
  const configuration = (plan.configuration as { root_module?: ConfigModule } | undefined)?.root_module ?? {};
  const configByAddress = new Map((configuration.resources ?? []).map((r) => [r.address, r]));
  const dependencies = transitiveDependencies(configuration.resources ?? []);
  const planned = plannedResources((plan.planned_values as { root_module?: PlannedModule } | undefined)?.root_module);
  const placeholders = new Placeholders();
  const valuesByAddress = new Map<string, Record<string, unknown>>();

  for (const resource of orderByReferences(planned, configByAddress)) {
    const objectType = schemas.objectType(resource.type);
    const values: Record<string, unknown> = { ...(resource.values ?? {}) };
    const unknown = (changes.get(resource.address)?.change.after_unknown ?? {}) as Record<string, unknown>;
    const config = configByAddress.get(configAddress(resource.address));
    let id: string | undefined;
    const idOf = (): string => (id ??= placeholders.id(resource.type));
    for (const [name, marks] of Object.entries(unknown)) {
      const resolved = resolveReferences(config?.expressions?.[name], marks, valuesByAddress);
      values[name] = fillUnknown(
        values[name],
        marks,
        resolved,
        memberType(objectType, name),
        name,
        false,
        (ty, attr, nested) => placeholders.value(ty, attr, resource.type, idOf, nested),
      );
    }
    if (unknown.tags_all === true) {
      // What the aws provider computes: the provider's default_tags overridden by the resource's tags.
      values.tags_all = {
        ...defaultTags(providers, config?.provider_config_key),
        ...((values.tags as object | null) ?? {}),
      };
    }
    valuesByAddress.set(resource.address, values);
  }

  const state: StateV4 = {
    version: 4,
    terraform_version: plan.terraform_version ?? "1.11.0",
    serial: 0,
    lineage: randomUUID(),
    outputs: {},
    resources: [],
    check_results: null,
  };
  for (const resource of planned) {
    const configAddr = configAddress(resource.address);
    const moduleAddress = resource.module;
    const alias = configByAddress.get(configAddr)?.provider_config_key?.split(".")[1];
    let entry = state.resources.find(
      (r) => r.module === moduleAddress && r.type === resource.type && r.name === resource.name,
    );
    if (!entry) {
      entry = {
        ...(moduleAddress ? { module: moduleAddress } : {}),
        mode: "managed",
        type: resource.type,
        name: resource.name,
        provider: `provider["${schemas.provider}"]${alias ? `.${alias}` : ""}`,
        instances: [],
      };
      state.resources.push(entry);
    }
    const deps = dependencies.get(configAddr) ?? [];
    entry.instances.push({
      ...(resource.index !== undefined ? { index_key: resource.index } : {}),
      schema_version: schemas.version(resource.type),
      attributes: valuesByAddress.get(resource.address)!,
      sensitive_attributes: schemas.sensitiveAttributes(resource.type),
      ...(deps.length > 0 ? { dependencies: deps } : {}),
    });
  }

  const outputs =
    (plan.planned_values as { outputs?: Record<string, { value?: unknown; type?: unknown; sensitive?: boolean }> })
      .outputs ?? {};
  for (const [name, output] of Object.entries(outputs)) {
    let value = output.value;
    let type = output.type;
    if (!("value" in output)) {
      value = resolveReferences(configuration.outputs?.[name]?.expression, true, valuesByAddress);
      type = impliedType(value);
    }
    if (type !== undefined) {
      state.outputs[name] = { value, type, ...(output.sensitive ? { sensitive: true } : {}) };
    }
  }
  return state;
}

interface ProviderConfig {
  readonly expressions?: { readonly default_tags?: readonly { readonly tags?: Expression }[] };
}

/** The constant `default_tags` of a provider configuration (`aws` or `aws.ALIAS`), empty when there are none. */
function defaultTags(providers: Record<string, ProviderConfig>, key: string | undefined): object {
  const tags = providers[key ?? "aws"]?.expressions?.default_tags?.[0]?.tags?.constant_value;
  return tags && typeof tags === "object" ? tags : {};
}

/**
 * The type Terraform gives a value written in JSON configuration: `["a", "b"]` is a tuple, `{...}` an
 * object; `undefined` for what cannot be typed (null, unresolved).
 */
function impliedType(value: unknown): CtyType | undefined {
  if (typeof value === "string" || typeof value === "number") {
    return typeof value;
  }
  if (typeof value === "boolean") {
    return "bool";
  }
  if (Array.isArray(value)) {
    const items = value.map(impliedType);
    return items.includes(undefined) ? undefined : ["tuple", items];
  }
  if (value && typeof value === "object") {
    const members = Object.entries(value).map(([k, v]) => [k, impliedType(v)] as const);
    return members.some(([, t]) => t === undefined) ? undefined : ["object", Object.fromEntries(members)];
  }
  return undefined;
}

/** Every managed resource of the planned values, child modules included, in address order. */
function plannedResources(module: PlannedModule | undefined): PlannedResource[] {
  if (!module) {
    return [];
  }
  return [
    ...(module.resources ?? []).filter((r) => r.mode === "managed").map((r) => ({ ...r, module: module.address })),
    ...(module.child_modules ?? []).flatMap(plannedResources),
  ];
}

/** `aws_subnet.a[0]` -> `aws_subnet.a`: the address of the resource block in the configuration. */
function configAddress(address: string): string {
  return address.replace(/\[[^\]]*\]$/, "");
}

/** The resource (`type.name`) a reference such as `aws_vpc.main.id` points at, if it is a managed resource. */
function referencedResource(reference: string): string | undefined {
  const parts = reference.split(".");
  if (
    parts.length < 2 ||
    ["var", "local", "module", "data", "count", "each", "path", "terraform", "self"].includes(parts[0])
  ) {
    return undefined;
  }
  return `${parts[0]}.${parts[1].replace(/\[.*$/, "")}`;
}

/** Every reference string in an expression tree of the plan's configuration. */
function referencesIn(node: unknown): string[] {
  if (Array.isArray(node)) {
    return node.flatMap(referencesIn);
  }
  if (!node || typeof node !== "object") {
    return [];
  }
  const own = Array.isArray((node as Expression).references) ? [...(node as Expression).references!] : [];
  return [
    ...own,
    ...Object.entries(node)
      .filter(([key]) => key !== "references" && key !== "constant_value")
      .flatMap(([, child]) => referencesIn(child)),
  ];
}

/** The resources each resource depends on, directly or not, as Terraform records them in state. */
function transitiveDependencies(resources: readonly ConfigResource[]): Map<string, string[]> {
  const known = new Set(resources.filter((r) => r.mode === "managed").map((r) => r.address));
  const direct = new Map<string, Set<string>>();
  for (const r of resources) {
    const refs = [...referencesIn(r.expressions), ...(r.depends_on ?? [])]
      .map(referencedResource)
      .filter((a): a is string => a !== undefined && a !== r.address && known.has(a));
    direct.set(r.address, new Set(refs));
  }
  const all = new Map<string, string[]>();
  const visit = (address: string, seen: Set<string>): void => {
    for (const dep of direct.get(address) ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        visit(dep, seen);
      }
    }
  };
  for (const address of direct.keys()) {
    const seen = new Set<string>();
    visit(address, seen);
    all.set(address, [...seen].sort());
  }
  return all;
}

/** Resources ordered so that what a resource references comes before it (the configuration is acyclic). */
function orderByReferences(
  planned: readonly PlannedResource[],
  config: ReadonlyMap<string, ConfigResource>,
): PlannedResource[] {
  const byConfig = new Map<string, PlannedResource[]>();
  for (const r of planned) {
    const list = byConfig.get(configAddress(r.address)) ?? [];
    list.push(r);
    byConfig.set(configAddress(r.address), list);
  }
  const ordered: PlannedResource[] = [];
  const done = new Set<string>();
  const visit = (address: string): void => {
    if (done.has(address)) {
      return;
    }
    done.add(address);
    for (const ref of referencesIn(config.get(address)?.expressions)) {
      const target = referencedResource(ref);
      if (target && byConfig.has(target)) {
        visit(target);
      }
    }
    ordered.push(...(byConfig.get(address) ?? []));
  };
  [...byConfig.keys()].forEach(visit);
  return ordered;
}

/**
 * Where the unknown marks of an attribute meet an exact reference in the configuration (`"${aws_vpc.main.id}"`
 * in JSON syntax), the referenced value, already in the state being built. Returns a tree shaped like the
 * marks, with `undefined` where nothing resolved. Anything fancier (interpolations, functions, HCL syntax)
 * is left to a placeholder and corrected by the convergence rounds.
 */
function resolveReferences(
  expression: unknown,
  marks: unknown,
  values: ReadonlyMap<string, Record<string, unknown>>,
): unknown {
  if (expression === undefined || marks === false || marks === undefined) {
    return undefined;
  }
  if (Array.isArray(expression)) {
    // A nested block: one expression map per block, the marks a list of objects.
    return Array.isArray(marks) ? marks.map((m, i) => resolveReferences(expression[i], m, values)) : undefined;
  }
  if (!expression || typeof expression !== "object") {
    return undefined;
  }
  const keys = Object.keys(expression);
  if (keys.every((k) => k === "constant_value" || k === "references")) {
    return resolveConstant((expression as Expression).constant_value, marks, values);
  }
  if (typeof marks !== "object" || marks === null) {
    return undefined;
  }
  return Object.fromEntries(
    Object.entries(marks).map(([k, m]) => [
      k,
      resolveReferences((expression as Record<string, unknown>)[k], m, values),
    ]),
  );
}

function resolveConstant(
  constant: unknown,
  marks: unknown,
  values: ReadonlyMap<string, Record<string, unknown>>,
): unknown {
  if (marks === true) {
    return resolveWhole(constant, values);
  }
  if (Array.isArray(marks) && Array.isArray(constant)) {
    return marks.map((m, i) => resolveConstant(constant[i], m, values));
  }
  if (marks && typeof marks === "object" && constant && typeof constant === "object") {
    return Object.fromEntries(
      Object.entries(marks).map(([k, m]) => [k, resolveConstant((constant as Record<string, unknown>)[k], m, values)]),
    );
  }
  return undefined;
}

/**
 * A constant whose every reference is exact, with the references replaced by their values (a set of
 * security group ids is unknown as a whole); `undefined` when any part cannot be resolved.
 */
function resolveWhole(constant: unknown, values: ReadonlyMap<string, Record<string, unknown>>): unknown {
  if (typeof constant === "string") {
    const match = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/.exec(constant);
    if (match) {
      return values.get(`${match[1]}.${match[2]}`)?.[match[3]];
    }
    return constant.includes("${") ? undefined : constant;
  }
  if (Array.isArray(constant)) {
    const items = constant.map((item) => resolveWhole(item, values));
    return items.includes(undefined) ? undefined : items;
  }
  if (constant && typeof constant === "object") {
    const entries = Object.entries(constant).map(([k, v]) => [k, resolveWhole(v, values)] as const);
    return entries.some(([, v]) => v === undefined) ? undefined : Object.fromEntries(entries);
  }
  return constant;
}

/**
 * `value` with every place its unknown marks say `true` filled: by the resolved reference when there is
 * one of a fitting type, else by a placeholder of the attribute's type. `nested` is true below the
 * resource's own attributes (in a block or an object).
 */
function fillUnknown(
  value: unknown,
  marks: unknown,
  resolved: unknown,
  type: CtyType,
  name: string,
  nested: boolean,
  placeholder: (type: CtyType, name: string, nested: boolean) => unknown,
): unknown {
  if (marks === true) {
    if (type === "string" && (typeof resolved === "number" || typeof resolved === "boolean")) {
      return String(resolved); // Terraform converts a number or bool given to a string attribute
    }
    return fits(type, resolved) ? resolved : placeholder(type, name, nested);
  }
  if (Array.isArray(marks)) {
    const list = Array.isArray(value) ? [...(value as unknown[])] : [];
    marks.forEach((m, i) => {
      list[i] = fillUnknown(
        list[i],
        m,
        (resolved as unknown[] | undefined)?.[i],
        memberType(type, i),
        name,
        nested,
        placeholder,
      );
    });
    return list;
  }
  if (marks && typeof marks === "object") {
    const object = value && typeof value === "object" ? { ...(value as Record<string, unknown>) } : {};
    for (const [k, m] of Object.entries(marks)) {
      const fitted = fillUnknown(
        object[k],
        m,
        (resolved as Record<string, unknown> | undefined)?.[k],
        memberType(type, k),
        k,
        true,
        placeholder,
      );
      if (fitted !== undefined) {
        object[k] = fitted;
      }
    }
    return object;
  }
  return value;
}

/** Whether `value` (not null) can be decoded as `type`, roughly: enough to never write a state Terraform rejects. */
function fits(type: CtyType, value: unknown): boolean {
  if (value === undefined || value === null) {
    return false;
  }
  if (type === "string" || type === "number" || type === "bool") {
    return typeof value === { string: "string", number: "number", bool: "boolean" }[type];
  }
  if (!Array.isArray(type)) {
    return false;
  }
  const [kind, inner] = type;
  if (kind === "list" || kind === "set") {
    return Array.isArray(value) && value.every((item) => fits(inner as CtyType, item));
  }
  if (kind === "map") {
    return (
      typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => fits(inner as CtyType, v))
    );
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Convergence: copy what a plan against the state still changes into the state.

/** Applies the known part of every change of `plan` to `state`, and takes its known outputs. */
function copyPlannedChanges(state: StateV4, plan: PlanJson): void {
  for (const change of plan.resource_changes ?? []) {
    if (change.mode !== "managed" || isNoop(change)) {
      continue;
    }
    if (change.change.actions.includes("delete") && !change.change.actions.includes("create")) {
      removeInstance(state, change);
      continue;
    }
    const instance = findInstance(state, change);
    if (!instance) {
      throw new Error(
        `applyAsIf: the plan against the as-if state creates ${change.address}, which the fresh plan did not have.`,
      );
    }
    const after = (change.change.after ?? {}) as Record<string, unknown>;
    const marks = (change.change.after_unknown ?? {}) as Record<string, unknown>;
    instance.attributes = mergeKnown(after, marks, instance.attributes) as Record<string, unknown>;
  }
  const outputs =
    (plan.planned_values as { outputs?: Record<string, { value?: unknown; type?: unknown; sensitive?: boolean }> })
      .outputs ?? {};
  for (const [name, output] of Object.entries(outputs)) {
    if ("value" in output && output.type !== undefined) {
      state.outputs[name] = {
        value: output.value,
        type: output.type,
        ...(output.sensitive ? { sensitive: true } : {}),
      };
    }
  }
}

function isNoop(change: ResourceChange): boolean {
  return change.change.actions.every((a) => a === "no-op" || a === "read");
}

function addressParts(change: ResourceChange): { module?: string; index?: string | number } {
  const extra = change as unknown as { module_address?: string; index?: string | number };
  return { module: extra.module_address, index: extra.index };
}

function findInstance(state: StateV4, change: ResourceChange): StateInstance | undefined {
  const { module, index } = addressParts(change);
  const resource = state.resources.find((r) => r.module === module && r.type === change.type && r.name === change.name);
  return resource?.instances.find((i) => i.index_key === index);
}

function removeInstance(state: StateV4, change: ResourceChange): void {
  const { module, index } = addressParts(change);
  for (const resource of state.resources) {
    if (resource.module === module && resource.type === change.type && resource.name === change.name) {
      resource.instances = resource.instances.filter((i) => i.index_key !== index);
    }
  }
  state.resources = state.resources.filter((r) => r.instances.length > 0);
}

/** `after` where it is known, `prior` where the plan marks it unknown. */
function mergeKnown(after: unknown, marks: unknown, prior: unknown): unknown {
  if (marks === true) {
    return prior;
  }
  if (Array.isArray(after) && Array.isArray(marks)) {
    return after.map((a, i) => mergeKnown(a, marks[i], (prior as unknown[] | undefined)?.[i]));
  }
  if (after && typeof after === "object" && !Array.isArray(after) && marks && typeof marks === "object") {
    const merged: Record<string, unknown> = { ...(after as Record<string, unknown>) };
    for (const [k, m] of Object.entries(marks)) {
      merged[k] = mergeKnown(merged[k], m, (prior as Record<string, unknown> | undefined)?.[k]);
    }
    return merged;
  }
  if (after === undefined && marks && typeof marks === "object") {
    return prior;
  }
  return after;
}

/** One line per change of a plan: address, actions and the top-level attributes that differ. */
function describeChanges(plan: PlanJson): string[] {
  const lines = (plan.resource_changes ?? [])
    .filter((c) => c.mode === "managed" && !isNoop(c))
    .map((c) => {
      const before = (c.change.before ?? {}) as Record<string, unknown>;
      const after = (c.change.after ?? {}) as Record<string, unknown>;
      const unknown = (c.change.after_unknown ?? {}) as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
        (k) => unknown[k] === true || JSON.stringify(before[k]) !== JSON.stringify(after[k]),
      );
      return `  ${c.address} (${c.change.actions.join(", ")}): ${keys.join(", ") || "no attribute differs"}`;
    });
  const outputChanges = (plan.output_changes ?? {}) as Record<string, { actions: string[] }>;
  for (const [name, change] of Object.entries(outputChanges)) {
    if (!change.actions.every((a) => a === "no-op")) {
      lines.push(`  output.${name} (${change.actions.join(", ")})`);
    }
  }
  return lines;
}

/**
 * A small network like kopsform's, for tests of applied states and plan summaries: a VPC, a subnet and
 * a security group rule that reference each other, and an etcd-like volume with prevent_destroy.
 */
export function testNetwork(
  cluster: string,
  options: { cidr?: string; volume?: boolean; volumeZone?: string } = {},
): TestStackBody {
  const cidr = options.cidr ?? "172.20.0.0/16";
  return {
    resource: {
      aws_vpc: { main: { cidr_block: cidr, enable_dns_hostnames: true, tags: { Name: cluster } } },
      aws_subnet: {
        "us-west-2a": {
          vpc_id: "${aws_vpc.main.id}",
          cidr_block: cidr.replace(/\.0\.0\/16$/, ".32.0/19"),
          availability_zone: "us-west-2a",
        },
      },
      aws_security_group: { masters: { name: `masters.${cluster}`, vpc_id: "${aws_vpc.main.id}" } },
      aws_security_group_rule: {
        "https-from-vpc": {
          type: "ingress",
          from_port: 443,
          to_port: 443,
          protocol: "tcp",
          cidr_blocks: ["${aws_vpc.main.cidr_block}"],
          security_group_id: "${aws_security_group.masters.id}",
        },
      },
      ...(options.volume === false
        ? {}
        : {
            aws_ebs_volume: {
              "a-etcd-main": {
                availability_zone: options.volumeZone ?? "us-west-2a",
                size: 20,
                type: "gp3",
                encrypted: true,
                lifecycle: { prevent_destroy: true },
              },
            },
          }),
    },
    output: { vpc_id: { value: "${aws_vpc.main.id}" } },
  };
}

/** A test network planned fresh and applied as if: where it lives, and its fresh plan. */
export interface AppliedTestNetwork {
  /** The temporary root: the stack is `root/cdktf.out/stacks/<cluster>`, its state `root/terraform.<cluster>.tfstate`. */
  readonly root: string;
  readonly stackDir: string;
  /** The fresh plan the state was built from. */
  readonly fresh: PlanJson;
}

/** Writes {@link testNetwork} for `cluster` into a temporary root, plans it fresh and applies it as if. */
export function appliedTestNetwork(cluster: string): AppliedTestNetwork {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-applied-"));
  const stackDir = writeTestStack(root, cluster, testNetwork(cluster));
  const { plan: fresh, result } = planOffline(stackDir, { refresh: false });
  if (!fresh || result.status !== 2) {
    throw new Error(`the fresh plan of the test network planned no changes (exit ${result.status}):\n${result.stderr}`);
  }
  applyAsIf(stackDir, { plan: fresh });
  return { root, stackDir, fresh };
}
