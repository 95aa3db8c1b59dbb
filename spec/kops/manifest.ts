/**
 * Reading kops manifests: the multi-document YAML (or JSON) that `kops get cluster NAME -o yaml`,
 * `kops get ig --name NAME -o yaml` and `kops get all NAME -o yaml` print. Each document is checked
 * against kops's own `kops.k8s.io/v1alpha2` field tree (api-fields.ts): an unknown field, a value of the
 * wrong type, another apiVersion or another kind is a problem naming the file, the document and the path
 * in it. What passes is returned with every value it sets (its leaves), so that the importer can prove
 * that each one was either carried over or reported.
 */
import YAML from "yaml";
import { nearest } from "../problems";
import { KOPS_API_SOURCE, KOPS_V1ALPHA2_TYPES } from "./api-fields";

/** The only apiVersion the importer reads: the version kops stores and prints. */
export const KOPS_API_VERSION = "kops.k8s.io/v1alpha2";

/** The kinds the importer reads, each with the root type of its field tree. */
export const KOPS_KINDS = { Cluster: "Cluster", InstanceGroup: "InstanceGroup", SSHCredential: "SSHCredential" } as const;
export type KopsKind = keyof typeof KOPS_KINDS;

/** One input: a file's name as the user gave it (`-` is shown as `stdin`) and its text. */
export interface ManifestInput {
  readonly source: string;
  readonly text: string;
}

/** A value the document sets: its path (`spec.subnets[0].cidr`) and that path's pattern (`spec.subnets[].cidr`). */
export interface Leaf {
  readonly path: string;
  readonly pattern: string;
}

/** A kops object read from a manifest. */
export interface ManifestDocument {
  readonly source: string;
  /** 1-based position of the document in its source (items of a list count one by one). */
  readonly index: number;
  readonly kind: KopsKind;
  /** `metadata.name` ("" when missing; the importer reports that). */
  readonly name: string;
  readonly body: Readonly<Record<string, unknown>>;
  /** Every value the document sets: scalars, lists of scalars, maps, empty lists and empty objects. */
  readonly leaves: readonly Leaf[];
}

/** A problem in a manifest, located by source, document and path. */
export interface ManifestProblem {
  readonly where: string;
  readonly message: string;
}

/** `cluster.yaml: document 2 (InstanceGroup nodes)`: where a document is, for messages and the report. */
export function documentLabel(doc: { source: string; index: number; kind?: string; name?: string }): string {
  const what = doc.kind ? ` (${doc.kind}${doc.name ? ` ${doc.name}` : ""})` : "";
  return `${doc.source}: document ${doc.index}${what}`;
}

/** `spec.subnets[0].cidr` -> `spec.subnets[].cidr`. */
export function patternOf(path: string): string {
  return path.replace(/\[\d+\]/g, "[]");
}

/**
 * Parses every input into kops objects. Problems are collected over all inputs and documents, so one
 * run names them all; a document with a problem is left out of the result.
 */
export function readManifests(inputs: readonly ManifestInput[]): { documents: ManifestDocument[]; problems: ManifestProblem[] } {
  const documents: ManifestDocument[] = [];
  const problems: ManifestProblem[] = [];
  for (const input of inputs) {
    let index = 0;
    const parsed = YAML.parseAllDocuments(input.text, { uniqueKeys: true, prettyErrors: true });
    for (const doc of Array.isArray(parsed) ? parsed : []) {
      if (doc.errors.length > 0) {
        index++;
        problems.push(...doc.errors.map((e) => ({ where: `${input.source}: document ${index}`, message: yamlErrorMessage(e) })));
        continue;
      }
      const value: unknown = doc.toJS();
      for (const object of expandLists(value)) {
        index++;
        const read = readObject(object, input.source, index);
        if ("problems" in read) {
          problems.push(...read.problems);
        } else {
          documents.push(read);
        }
      }
    }
    if (index === 0) {
      problems.push({ where: input.source, message: "holds no document; give the output of `kops get all NAME -o yaml`." });
    }
  }
  return { documents, problems };
}

/** One line for a YAML syntax error; the common one of `cmd1 > f; cmd2 >> f` (no `---` between) gets a hint. */
function yamlErrorMessage(e: YAML.YAMLError): string {
  const first = e.message.split("\n")[0];
  if (e.code === "DUPLICATE_KEY") {
    return (
      `${first}. Two objects without a document separator between them? kops prints none between the outputs of ` +
      "two commands: put a line `---` between them, or give them as two files."
    );
  }
  return `${first}; fix the YAML syntax.`;
}

/** A top-level list (`-o json` of several objects) or a `List`/`...List` object with `items` gives its items. */
function expandLists(value: unknown): unknown[] {
  if (value === null || value === undefined) {
    return [];
  }
  if (Array.isArray(value)) {
    return value.flatMap(expandLists);
  }
  const object = value as Record<string, unknown>;
  if (isPlainObject(value) && typeof object.kind === "string" && object.kind.endsWith("List") && Array.isArray(object.items)) {
    return object.items.flatMap(expandLists);
  }
  return [value];
}

function readObject(value: unknown, source: string, index: number): ManifestDocument | { problems: ManifestProblem[] } {
  const where = `${source}: document ${index}`;
  if (!isPlainObject(value)) {
    return { problems: [{ where, message: "is not a kops object (a YAML mapping with apiVersion, kind, metadata and spec)." }] };
  }
  const apiVersion = value.apiVersion;
  const kind = value.kind;
  const name = isPlainObject(value.metadata) && typeof value.metadata.name === "string" ? value.metadata.name : "";
  const label = documentLabel({ source, index, kind: typeof kind === "string" ? kind : undefined, name });
  if (apiVersion === undefined && kind === undefined) {
    const dump = ["resources", "instances", "loadBalancers", "subnets", "vpc"].some((k) => k in value);
    return {
      problems: [
        {
          where: label,
          message: dump
            ? "is the output of `kops toolbox dump` (the cloud resources kops found), not the cluster's manifest; " +
              "give `kops get all NAME -o yaml` (or `kops get cluster NAME -o yaml` and `kops get ig --name NAME -o yaml`)."
            : "has no apiVersion and kind; give kops objects as `kops get all NAME -o yaml` prints them.",
        },
      ],
    };
  }
  if (apiVersion !== KOPS_API_VERSION) {
    return {
      problems: [
        {
          where: label,
          message:
            `apiVersion: ${JSON.stringify(apiVersion)} is not supported; kopsform reads ${KOPS_API_VERSION}, the version ` +
            "kops stores and prints (`kops get ... -o yaml` converts to it).",
        },
      ],
    };
  }
  if (typeof kind !== "string" || !(kind in KOPS_KINDS)) {
    return {
      problems: [
        {
          where: label,
          message:
            `kind: ${JSON.stringify(kind)} is not imported; kopsform reads a Cluster, its InstanceGroups and an SSHCredential. ` +
            "Remove other objects from the input (apply add-on objects to the running cluster yourself).",
        },
      ],
    };
  }
  const leaves: Leaf[] = [];
  const problems: ManifestProblem[] = [];
  walk(value, KOPS_KINDS[kind as KopsKind], "", leaves, (path, message) => problems.push({ where: `${label}: ${path}`, message }));
  if (problems.length > 0) {
    return { problems };
  }
  return { source, index, kind: kind as KopsKind, name, body: value, leaves };
}

const SCALAR_REFS = ["string", "int", "bool", "float", "any"];

/** Checks `value` against a type reference of the field tree, collecting leaves and problems. */
function walk(
  value: unknown,
  ref: string,
  path: string,
  leaves: Leaf[],
  problem: (path: string, message: string) => void,
): void {
  // A null is an unset field, as kops's JSON decoding reads it.
  if (value === null || value === undefined) {
    return;
  }
  const leaf = () => leaves.push({ path, pattern: patternOf(path) });
  if (SCALAR_REFS.includes(ref)) {
    const message = scalarProblem(value, ref);
    if (message) {
      problem(path, message);
    } else {
      leaf();
    }
    return;
  }
  if (ref.startsWith("[]")) {
    const inner = ref.slice(2);
    if (!Array.isArray(value)) {
      problem(path, `${describe(value)} is not a list; kops expects a list here.`);
      return;
    }
    if (value.length === 0 || SCALAR_REFS.includes(inner)) {
      value.forEach((v, i) => {
        const message = SCALAR_REFS.includes(inner) && v !== null ? scalarProblem(v, inner) : undefined;
        if (message) {
          problem(`${path}[${i}]`, message);
        }
      });
      leaf();
      return;
    }
    value.forEach((v, i) => walk(v, inner, `${path}[${i}]`, leaves, problem));
    return;
  }
  if (ref.startsWith("map[")) {
    const inner = ref.slice(4, -1);
    if (!isPlainObject(value)) {
      problem(path, `${describe(value)} is not a mapping; kops expects keys and values here.`);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      const message =
        v === null
          ? undefined
          : inner.startsWith("[]")
            ? Array.isArray(v)
              ? undefined
              : `${describe(v)} is not a list.`
            : scalarProblem(v, inner);
      if (message) {
        problem(`${path}.${key}`, message);
      }
    }
    leaf();
    return;
  }
  const fields = KOPS_V1ALPHA2_TYPES[ref];
  if (!fields) {
    throw new Error(`kops field tree: no type ${ref}`);
  }
  if (!isPlainObject(value)) {
    problem(path || "(document)", `${describe(value)} is not a mapping; kops expects the fields of ${ref} here.`);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length === 0 && path !== "") {
    leaf();
    return;
  }
  for (const key of keys) {
    const child = path ? `${path}.${key}` : key;
    const childRef = fields[key];
    if (childRef === undefined) {
      const suggestion = nearest(key, Object.keys(fields));
      problem(
        child,
        `unknown field: ${KOPS_API_VERSION} ${ref} has no field ${JSON.stringify(key)} (checked against kops's Go types, ` +
          `${KOPS_API_SOURCE}).` +
          (suggestion ? ` Did you mean ${suggestion}?` : " Remove it, or correct its name.") +
          " (kops itself ignores fields it does not know, so it had no effect there either.)",
      );
      continue;
    }
    walk(value[key], childRef, child, leaves, problem);
  }
}

/** Why a scalar does not fit its type, as kops's JSON decoding would refuse it. */
function scalarProblem(value: unknown, ref: string): string | undefined {
  switch (ref) {
    case "string":
      return typeof value === "string" ? undefined : `${describe(value)} is not a string; quote it.`;
    case "int":
      return Number.isInteger(value) ? undefined : `${describe(value)} is not a whole number.`;
    case "float":
      return typeof value === "number" ? undefined : `${describe(value)} is not a number.`;
    case "bool":
      return typeof value === "boolean" ? undefined : `${describe(value)} is not true or false.`;
    default:
      // `any`: durations, quantities, timestamps and Kubernetes core values, taken as they are.
      return undefined;
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) {
    return "a list";
  }
  if (isPlainObject(value)) {
    return "a mapping";
  }
  return JSON.stringify(value) ?? String(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
