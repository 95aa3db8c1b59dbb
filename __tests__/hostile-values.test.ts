/**
 * Every string field of the spec, found by walking the zod schema (a field added later is walked
 * too), given hostile values: each value is either refused at the spec, the problem naming the
 * field, or planned by the real Terraform CLI, in JSON and in HCL, to exactly what was written.
 *
 * How "exactly" is checked: one cluster is planned with a distinct harmless marker in every field
 * that accepts some hostile value, and again with the hostile values in place of the markers; the
 * second plan must equal the first with each marker replaced by its hostile value, in every planned
 * value, map key and (decoded) user data. Data sources are planned as deferred reads so that their
 * arguments show offline. The backend, which no plan shows, is read back from cdk.tf.json (Terraform
 * reads its strings as they are) and, for HCL, by Terraform itself from the written text.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import YAML from "yaml";
import { z } from "zod";
import { PlanJson } from "../cli/terraform";
import { bootArchive } from "../modules/boot-bundle";
import { InvalidInputError, Problem } from "../spec/problems";
import { clusterSpecSchema } from "../spec/schema";
import { validateClusterSpec } from "../spec/validate";
import { kopsform } from "./helpers/cli";
import { tempDir } from "./helpers/cluster";
import { CONTROL_CHARACTERS, HOSTILE_STRINGS } from "./helpers/hostile";
import { requireTerraform, terraformIn } from "./helpers/terraform";

const NAME = "hostile.example.com";
const SLUG = "hostile-example-com";
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3Yh0bT3t4w1V0Yb0K2fJQm6V2Gm4cFQ0cX1u2t3v4";

/** Values that pass strict validators and still matter (a heredoc terminator, tag punctuation). */
const TRICKY_BUT_VALID = ["EOF", "Doe John", "a/b:c=d+e-f_g.h @i", "it's (a) [b] @c"];

/** Every hostile fragment at once: a field that takes this takes each of them. */
const ALL_AT_ONCE = [...HOSTILE_STRINGS, ...TRICKY_BUT_VALID].join(" ");

/** The tricky values at once, as tags and as AMI names take them. */
const TRICKY_AT_ONCE = ["EOF Doe John a/b:c=d+e-f_g.h @i", "EOF Doe John it's (a) [b] @c"];

/** A step of a field's path: a property, the first element of a list, a map's key or value, or a union variant. */
type Step = { prop: string } | { index: 0 } | { mapKey: true } | { mapValue: true } | { variant: { key: string; value: string } };

/** A string field of the schema: where it is, and how the walk labels it. */
interface StringField {
  readonly steps: readonly Step[];
  readonly label: string;
}

/** The string fields of a zod schema (strings, enums; map keys and values; through lists, unions and optionals). */
function stringFields(schema: z.ZodType, steps: Step[] = []): StringField[] {
  const def = (schema as unknown as { _zod: { def: Record<string, any> } })._zod.def;
  const label = (s: readonly Step[]) =>
    s
      .map((step) =>
        "prop" in step ? `.${step.prop}` : "index" in step ? "[]" : "mapKey" in step ? ".<key>" : "mapValue" in step ? ".<value>" : `{${step.variant.key}=${step.variant.value}}`,
      )
      .join("")
      .replace(/^\./, "");
  switch (def.type) {
    case "optional":
      return stringFields(def.innerType, steps);
    case "pipe":
      return stringFields(def.out, steps);
    case "string":
    case "enum":
      return [{ steps, label: label(steps) }];
    case "object":
      return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, value]) => stringFields(value, [...steps, { prop: key }]));
    case "array":
      return stringFields(def.element, [...steps, { index: 0 }]);
    case "record":
      return [
        ...stringFields(def.keyType, [...steps, { mapKey: true }]),
        ...stringFields(def.valueType, [...steps, { mapValue: true }]),
      ];
    case "union": {
      if (!def.discriminator) {
        throw new Error(`the walk does not know the union at ${label(steps)}; teach it`);
      }
      return (def.options as z.ZodType[]).flatMap((option) => {
        const shape = (option as unknown as { _zod: { def: { shape: Record<string, z.ZodType> } } })._zod.def.shape;
        const value = String((shape[def.discriminator] as unknown as { _zod: { def: { values: unknown[] } } })._zod.def.values[0]);
        const variant: Step = { variant: { key: def.discriminator, value } };
        return stringFields(option, [...steps, variant]).filter((f) => !f.label.endsWith(`.${def.discriminator}`));
      });
    }
    case "literal":
    case "number":
    case "boolean":
      return [];
    default:
      throw new Error(`the walk does not know zod type ${def.type} at ${label(steps)}; teach it`);
  }
}

/** The spec every case starts from: small, valid, with each optional section present. */
function baseSpec(): Record<string, any> {
  return {
    name: NAME,
    zones: ["us-west-2a"],
    etcdMembers: ["a"],
    sshPublicKey: `${SSH_KEY} admin@example.com`,
    cloudLabels: { Team: "Dev" },
    nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 1, labels: { role: "gpu" } }],
    flowLogs: false,
  };
}

/** What a container must hold to be valid when the walk creates it for a field inside it. */
const CONTAINERS: Record<string, unknown> = {
  subnets: { zone: "us-west-2a", type: "public", cidr: "172.20.32.0/19" },
  nodeGroups: { name: "gpu", minSize: 0, maxSize: 1 },
  "backend{type=local}": { type: "local" },
  "backend{type=s3}": { type: "s3", bucket: "kopsform-state" },
  "backend{type=cloud}": { type: "cloud", organization: "acme", workspace: "kopsform" },
};

/** Containers that a field needs different (a cloud backend takes a workspace or tags, not both). */
const CONTAINERS_FOR_FIELD: Record<string, unknown> = {
  "backend{type=cloud}.workspaceTags[]": { type: "cloud", organization: "acme" },
};

/** A valid key and value for each map, for the case that varies the other. */
const MAP_ENTRIES: Record<string, [string, string]> = {
  cloudLabels: ["Team", "Dev"],
  "nodeGroups[].labels": ["role", "gpu"],
};

/** Fields whose values have a fixed start, before the part the walk varies. */
const PREFIXES: Record<string, string> = {
  sshPublicKey: `${SSH_KEY} `,
  image: "123456789012/",
  "nodeGroups[].image": "123456789012/group-",
};

/**
 * A copy of `spec` with `value` at the field; returns the spec and the concrete path of the value
 * (how problems name it).
 */
function withValue(spec: Record<string, any>, field: StringField, value: string): { spec: Record<string, any>; at: string } {
  const copy = JSON.parse(JSON.stringify(spec)) as Record<string, any>;
  let holder: any = copy;
  let at = "";
  let done = "";
  const steps = field.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const last = i === steps.length - 1;
    if ("prop" in step) {
      done = done ? `${done}.${step.prop}` : step.prop;
      at = at ? `${at}.${step.prop}` : step.prop;
      if (last) {
        holder[step.prop] = (PREFIXES[field.label] ?? "") + value;
        break;
      }
      const next = steps[i + 1];
      if ("variant" in next) {
        const container = CONTAINERS_FOR_FIELD[field.label] ?? CONTAINERS[`${done}{${next.variant.key}=${next.variant.value}}`];
        holder[step.prop] = JSON.parse(JSON.stringify(container ?? fail(`no container template for ${done}`)));
        holder = holder[step.prop];
        i++;
        continue;
      }
      if ("index" in next) {
        if (!Array.isArray(holder[step.prop])) {
          holder[step.prop] = [];
        }
        if (i + 1 === steps.length - 1) {
          holder[step.prop][0] = (PREFIXES[field.label] ?? "") + value;
          at = `${at}[0]`;
          break;
        }
        holder[step.prop][0] ??= JSON.parse(JSON.stringify(CONTAINERS[done] ?? fail(`no container template for ${done}[]`)));
        holder = holder[step.prop][0];
        at = `${at}[0]`;
        done = `${done}[]`;
        i++;
        continue;
      }
      if ("mapKey" in next || "mapValue" in next) {
        const [key, mapValue] = MAP_ENTRIES[done] ?? fail(`no map entry for ${done}`);
        holder[step.prop] = { ...(holder[step.prop] ?? {}), ...("mapKey" in next ? { [value]: mapValue } : { [key]: value }) };
        at = `${at}.${"mapKey" in next ? value : key}`;
        break;
      }
      holder[step.prop] ??= {};
      holder = holder[step.prop];
    }
  }
  return { spec: copy, at };
}

function fail(message: string): never {
  throw new Error(`${message}: the hostile walk needs it for a new field; add it to the tables at the top`);
}

/** The problems of a spec, or none. */
function problemsOf(spec: Record<string, unknown>): Problem[] {
  try {
    validateClusterSpec(spec, { kind: "file", path: `clusters/${NAME}.yaml` });
    return [];
  } catch (e) {
    if (e instanceof InvalidInputError) {
      return [...e.problems];
    }
    throw e;
  }
}

const FIELDS = stringFields(clusterSpecSchema as unknown as z.ZodType);
const HOSTILE = [...new Set([ALL_AT_ONCE, ...TRICKY_AT_ONCE, ...HOSTILE_STRINGS, ...CONTROL_CHARACTERS, ...TRICKY_BUT_VALID])];

/** The hostile values a field accepts in the base spec (validation only: cheap, and independent of test order). */
const acceptedCache = new Map<string, string[]>();
function accepted(field: StringField): string[] {
  let values = acceptedCache.get(field.label);
  if (!values) {
    values = HOSTILE.filter((value) => problemsOf(withValue(baseSpec(), field, value).spec).length === 0);
    acceptedCache.set(field.label, values);
  }
  return values;
}

describe("the walk over the schema", () => {
  it("finds the string fields, those inside lists, maps and the backend's variants included", () => {
    const labels = FIELDS.map((f) => f.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        "name",
        "zones[]",
        "cloudLabels.<key>",
        "cloudLabels.<value>",
        "sshPublicKey",
        "nodeGroups[].labels.<value>",
        "nodeGroups[].image",
        "subnets[].id",
        "backend{type=s3}.key",
        "backend{type=local}.path",
        "backend{type=cloud}.project",
        "etcdKmsKeyId",
        "etcdVersion",
        "etcdSha256.amd64",
        "etcdSha256.arm64",
        "etcdDownloadUrl",
        "etcdBackupBucket",
      ]),
    );
    expect(problemsOf(baseSpec())).toEqual([]);
  });
});

describe.each(FIELDS.map((f) => [f.label, f] as const))("%s", (_label, field) => {
  it("refuses each hostile value naming the field, or accepts it as it is", () => {
    for (const value of HOSTILE) {
      const { spec, at } = withValue(baseSpec(), field, value);
      const problems = problemsOf(spec);
      if (problems.length > 0) {
        expect({ value, problems: problems.map((p) => p.field) }).toEqual({ value, problems: expect.arrayContaining([at]) });
      }
    }
    // Control characters are never accepted, whatever the field.
    expect(accepted(field).filter((v) => CONTROL_CHARACTERS.includes(v))).toEqual([]);
  });
});

/**
 * The values a field accepts that are worth planning: the first of the combined values it takes (all
 * hostile fragments at once, else the tricky ones), and whatever else it takes that this one lacks.
 */
function toPlan(field: StringField): string[] {
  const values = accepted(field);
  const combined = [ALL_AT_ONCE, ...TRICKY_AT_ONCE].find((v) => values.includes(v));
  return combined ? [combined, ...values.filter((v) => !combined.includes(v))] : values;
}

/** A distinct harmless marker for a field, valid where its hostile values were. */
function marker(index: number): string {
  return `kfzq${index}mark`;
}

/** Writes specs into a project and synthesizes them (JSON or HCL) with the real command; returns the stack dir. */
async function synthesize(dir: string, spec: Record<string, unknown>, hcl: boolean): Promise<string> {
  const clusters = path.join(dir, "clusters");
  fs.mkdirSync(clusters, { recursive: true });
  fs.writeFileSync(path.join(clusters, `${NAME}.yaml`), YAML.stringify(spec));
  const out = path.join(dir, "out");
  const r = await kopsform(["synth", "--config-dir", clusters, "--output", out, ...(hcl ? ["--hcl"] : [])]);
  expect(r.stderr.split("\n").filter((l) => l && !l.startsWith("warning:"))).toEqual([]);
  expect(r.code).toBe(0);
  return path.join(out, "stacks", NAME);
}

/** Makes data sources deferred reads (their arguments then show in the plan), in either syntax. */
function deferDataSources(stackDir: string): void {
  const json = path.join(stackDir, "cdk.tf.json");
  if (fs.existsSync(json)) {
    const config = JSON.parse(fs.readFileSync(json, "utf8"));
    for (const byName of Object.values((config.data ?? {}) as Record<string, Record<string, any>>)) {
      for (const body of Object.values(byName)) {
        body.depends_on = [`aws_vpc.${SLUG}`];
      }
    }
    fs.writeFileSync(json, JSON.stringify(config));
  } else {
    const file = path.join(stackDir, "cdk.tf");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^(data "[^"]+" "[^"]+" \{)$/gm, `$1\n  depends_on = [aws_vpc.${SLUG}]`));
  }
}

/** The planned values of a plan: every change's type and values (user data decoded), and the outputs. */
function plannedValues(plan: PlanJson): unknown[] {
  const decode = (value: unknown, key?: string): unknown => {
    if (typeof value === "string" && (key === "user_data" || key === "content_base64")) {
      // User data is gzip'd cloud-config; compared as text, so that a marker inside it is found.
      const bytes = Buffer.from(value, "base64");
      return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
    }
    if (Array.isArray(value)) {
      return value.map((v) => decode(v));
    }
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v, k)]));
    }
    return value;
  };
  return [...(plan.resource_changes ?? []).map((c) => [c.type, decode(c.change.after)]), plan.planned_values?.outputs ?? {}];
}

/** `value` with every marker replaced by its hostile value, in strings and map keys. */
function substitute(value: unknown, replacements: ReadonlyMap<string, string>): unknown {
  const text = (s: string) => [...replacements].reduce((out, [from, to]) => out.split(from).join(to), s);
  if (typeof value === "string") {
    return text(value);
  }
  if (Array.isArray(value)) {
    return value.map((v) => substitute(v, replacements));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), substitute(v, replacements)]));
  }
  return value;
}

/**
 * JSON with sorted keys and sorted list elements, to compare values whatever the order of their maps
 * and sets (Terraform orders a set, such as an auto-scaling group's tags, by its elements' values).
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).sort().join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Plans a stack offline and returns its planned values. */
function plan(stackDir: string): unknown[] {
  deferDataSources(stackDir);
  const tf = terraformIn(stackDir);
  fs.writeFileSync(
    path.join(stackDir, "kopsform_offline_override.tf.json"),
    JSON.stringify({ provider: { aws: [{ access_key: "x", secret_key: "x", skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true }] } }),
  );
  tf.init();
  const result = tf.plan({ out: "hostile.tfplan", refresh: false });
  if (result.status === 1) {
    throw new Error(result.stderr);
  }
  const shown = tf.showJson("hostile.tfplan");
  expectGeneratedLiteralsExact(shown);
  return plannedValues(shown);
}

/**
 * The literals kopsform generates itself, which the escaping of stacks/literals.ts also passes
 * through, plan to exactly what the modules made: the boot archive object to the archive's bytes,
 * every launch template's user data to gzip'd cloud-config, the run-time parameters to their values.
 */
function expectGeneratedLiteralsExact(shown: PlanJson): void {
  const after = (type: string) => (shown.resource_changes ?? []).filter((c) => c.type === type).map((c) => c.change.after as Record<string, unknown>);
  expect(after("aws_s3_object").map((o) => o.content_base64)).toEqual([Buffer.from(bootArchive().gzip).toString("base64")]);
  const userData = after("aws_launch_template").map((t) => gunzipSync(Buffer.from(t.user_data as string, "base64")).toString("utf8"));
  expect(userData.length).toBeGreaterThan(1);
  userData.forEach((text) => expect(text).toMatch(/^#cloud-config\n# kopsform: the (master|node) /));
  const parameters = after("aws_ssm_parameter");
  expect(parameters.map((p) => p.name)).toEqual(expect.arrayContaining([`/kopsform/${NAME}/config/backup-bucket`, `/kopsform/${NAME}/config/bucket`]));
  parameters.forEach((p) => expect(p.name).toMatch(new RegExp(`^/kopsform/${NAME.replace(/\./g, "\\.")}/config/[a-z-]+$`)));
}

/** Where each backend field of the spec is in Terraform's backend or cloud block. */
const BACKEND_KEYS: Record<string, string[]> = {
  path: ["path"],
  bucket: ["bucket"],
  key: ["key"],
  region: ["region"],
  kmsKeyId: ["kms_key_id"],
  dynamodbTable: ["dynamodb_table"],
  organization: ["organization"],
  hostname: ["hostname"],
  workspace: ["workspaces", "name"],
  workspaceTags: ["workspaces", "tags"],
  project: ["workspaces", "project"],
};

/** Fields that only the backend block holds, which no plan shows. */
const isBackend = (label: string) => label.startsWith("backend");

describe("accepted hostile values, planned", () => {
  beforeAll(() => {
    // One provider installation for the many plans of this file (Terraform links it from the cache).
    process.env.TF_PLUGIN_CACHE_DIR ??= tempDir("plugin-cache");
  });

  it("plan to exactly what was written outside the backend, in JSON and in HCL", async () => {
    requireTerraform();
    const planned = FIELDS.filter((f) => !isBackend(f.label) && toPlan(f).length > 0);
    // The walk must have found values to plan, or this test proves nothing.
    expect(planned.map((f) => f.label)).toEqual(expect.arrayContaining(["sshPublicKey", "cloudLabels.<value>", "image"]));
    const rounds = Math.max(...planned.map((f) => toPlan(f).length));
    let benign = baseSpec();
    const markers = new Map<string, string>();
    planned.forEach((field, i) => {
      benign = withValue(benign, field, marker(i)).spec;
      markers.set(field.label, marker(i));
    });
    expect(problemsOf(benign)).toEqual([]);
    const dir = tempDir("hostile");
    const benignPlan = plan(await synthesize(path.join(dir, "benign"), benign, false));
    const benignText = canonical(benignPlan);
    for (const field of planned) {
      expect({ field: field.label, planned: benignText.includes(markers.get(field.label) as string) }).toEqual({ field: field.label, planned: true });
    }
    for (let round = 0; round < rounds; round++) {
      let spec = baseSpec();
      const replacements = new Map<string, string>();
      // Each field takes its values in turn, and fields with the same start take different values
      // where they can (two images of one name would be one lookup, where the markers made two).
      const used = new Set<string>();
      planned.forEach((field, i) => {
        const values = toPlan(field);
        const prefix = PREFIXES[field.label] ?? "";
        const candidates = values.map((_, k) => values[(round + k) % values.length]);
        const value = candidates.find((v) => !used.has(prefix + v)) ?? candidates[0];
        used.add(prefix + value);
        spec = withValue(spec, field, value).spec;
        replacements.set(marker(i), value);
      });
      expect(problemsOf(spec)).toEqual([]);
      const expected = benignPlan.map((v) => canonical(substitute(v, replacements))).sort();
      for (const hcl of [false, true]) {
        const hostilePlan = plan(await synthesize(path.join(dir, `round-${round}-${hcl ? "hcl" : "json"}`), spec, hcl));
        expect({ hcl, planned: hostilePlan.map(canonical).sort() }).toEqual({ hcl, planned: expected });
      }
    }
  });

  it("reach the backend exactly as written, in JSON and as Terraform reads the HCL", async () => {
    requireTerraform();
    const fields = FIELDS.filter((f) => isBackend(f.label) && toPlan(f).length > 0);
    expect(fields.map((f) => f.label)).toEqual(expect.arrayContaining(["backend{type=local}.path", "backend{type=cloud}.project"]));
    const dir = tempDir("hostile-backend");
    let n = 0;
    for (const field of fields) {
      for (const value of toPlan(field)) {
        const spec = withValue(baseSpec(), field, value).spec;
        const list = "index" in field.steps[field.steps.length - 1];
        const prop = (field.steps[field.steps.length - (list ? 2 : 1)] as { prop: string }).prop;
        const where = BACKEND_KEYS[prop] ?? fail(`no backend key for ${prop}`);
        const type = String((spec.backend as { type: string }).type);
        const written = prop === "path" ? `../../../${value}` : value;
        const expected = list ? [written] : written;
        const at = (block: Record<string, any>) => where.reduce((v: any, key) => v?.[key], block);
        const json = JSON.parse(fs.readFileSync(path.join(await synthesize(path.join(dir, `json-${n}`), spec, false), "cdk.tf.json"), "utf8"));
        const block = type === "cloud" ? json.terraform.cloud : json.terraform.backend[type];
        expect({ field: field.label, value: at(block) }).toEqual({ field: field.label, value: expected });
        const hcl = fs.readFileSync(path.join(await synthesize(path.join(dir, `hcl-${n}`), spec, true), "cdk.tf"), "utf8");
        const decoded = terraformBlockAsRead(hcl, path.join(dir, `read-${n}`));
        const read = type === "cloud" ? decoded.cloud : decoded[`backend_${type}`];
        expect({ field: field.label, value: at(read) }).toEqual({ field: field.label, value: expected });
        n++;
      }
    }
  });
});

/**
 * The `terraform` block of an HCL file as Terraform reads it: its text, with each block header turned
 * into an object attribute (`backend "s3" {` -> `backend_s3 = {`), becomes an output's value, which
 * Terraform plans (quoted strings are templates in both places, with the same escapes).
 */
function terraformBlockAsRead(hcl: string, dir: string): Record<string, any> {
  const start = hcl.indexOf("terraform {");
  const end = hcl.indexOf("\n}\n", start);
  const body = hcl
    .slice(start + "terraform {".length, end)
    .replace(/^(\s*)(\w+)(?: "([\w-]+)")? \{$/gm, (_m, indent: string, name: string, label?: string) => `${indent}${name}${label ? `_${label}` : ""} = {`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "main.tf"), `output "terraform" {\n  value = {${body}\n  }\n}\n`);
  const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
  const run = (...args: string[]) => spawnSync("terraform", args, { cwd: dir, env, encoding: "utf8" });
  const init = run("init", "-input=false", "-no-color", "-backend=false");
  expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  const planned = run("plan", "-input=false", "-no-color", "-out=p.tfplan");
  expect({ status: planned.status, stderr: planned.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
  return (JSON.parse(run("show", "-json", "p.tfplan").stdout) as PlanJson).planned_values?.outputs?.terraform?.value as Record<string, any>;
}
