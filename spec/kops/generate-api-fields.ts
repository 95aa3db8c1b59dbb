/**
 * Writes spec/kops/api-fields.ts, the field tree of kops's `kops.k8s.io/v1alpha2` API, from the Go types
 * in kops's `pkg/apis/kops/v1alpha2/`. The importer checks every key of a manifest against this tree,
 * so that "unknown field" means a field kops itself does not have.
 *
 * Usage (from the repository root, after `npm run build`):
 *   node spec/kops/generate-api-fields.js DIR SOURCE > spec/kops/api-fields.ts
 * where DIR holds the `.go` files of `pkg/apis/kops/v1alpha2` and SOURCE names them
 * (`kubernetes/kops@<commit>`). Generated files (`zz_generated.*`) and tests are skipped.
 *
 * Only what the JSON encoding shows is read: exported fields with a `json:"name"` tag (fields tagged
 * `json:"-"` are not part of the manifest), and inline embedding (`json:",inline"`).
 */
import * as fs from "fs";
import * as path from "path";

/** Types from outside the package, by their Go name. ObjectMeta's fields are Kubernetes's (apimachinery metav1). */
const EXTERNAL: Readonly<Record<string, string | Record<string, string>>> = {
  "metav1.TypeMeta": { apiVersion: "string", kind: "string" },
  "metav1.ObjectMeta": {
    name: "string",
    generateName: "string",
    namespace: "string",
    selfLink: "string",
    uid: "string",
    resourceVersion: "string",
    generation: "int",
    creationTimestamp: "any",
    deletionTimestamp: "any",
    deletionGracePeriodSeconds: "int",
    labels: "map[string]",
    annotations: "map[string]",
    ownerReferences: "[]any",
    finalizers: "[]string",
    managedFields: "[]any",
  },
  "metav1.ListMeta": { selfLink: "string", resourceVersion: "string", continue: "string", remainingItemCount: "int" },
  // Scalars in JSON: "15m0s", "100Mi", 5 or "10%", a timestamp.
  "metav1.Duration": "any",
  "metav1.Time": "any",
  "resource.Quantity": "any",
  "intstr.IntOrString": "any",
};

const SCALARS: Readonly<Record<string, string>> = {
  string: "string",
  bool: "bool",
  int: "int",
  int16: "int",
  int32: "int",
  int64: "int",
  uint8: "int",
  uint16: "int",
  uint32: "int",
  uint64: "int",
  float32: "float",
  float64: "float",
  byte: "int",
};

interface GoField {
  readonly json: string;
  readonly type: string;
  readonly inline: boolean;
}

/** Struct types (name -> fields) and named scalar types (`type SubnetType string`). */
function parse(sources: readonly string[]): { structs: Map<string, GoField[]>; named: Map<string, string> } {
  const structs = new Map<string, GoField[]>();
  const named = new Map<string, string>();
  for (const source of sources) {
    const lines = source.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const alias = /^type (\w+) (\S+)\s*$/.exec(lines[i]);
      if (alias && alias[2] !== "struct" && alias[2] !== "struct{}") {
        named.set(alias[1], alias[2]);
        continue;
      }
      const start = /^type (\w+) struct ?\{\s*(\})?\s*$/.exec(lines[i]);
      if (!start) {
        continue;
      }
      const fields: GoField[] = [];
      structs.set(start[1], fields);
      if (start[2]) {
        continue;
      }
      for (i++; i < lines.length && !/^\}/.test(lines[i]); i++) {
        const line = lines[i].replace(/^\s+/, "");
        if (line.startsWith("//")) {
          continue;
        }
        const field = /^(?:(\w+)\s+)?(\S+)\s+`[^`]*json:"([^"]*)"[^`]*`/.exec(line);
        if (!field) {
          continue;
        }
        const [name, ...options] = field[3].split(",");
        if (name === "-") {
          continue;
        }
        // An embedded type is written without a field name: `metav1.TypeMeta `json:",inline"``.
        fields.push({ json: name, type: field[2], inline: options.includes("inline") || (name === "" && !field[1]) });
      }
    }
  }
  return { structs, named };
}

/** A Go type as a reference in the tree: `string`, `[]T`, `map[string]T`, a struct name, or `any`. */
function ref(goType: string, named: ReadonlyMap<string, string>, structs: ReadonlyMap<string, unknown>, used: Set<string>): string {
  const t = goType.replace(/^\*/, "");
  if (t === "[]byte") {
    return "string";
  }
  if (t.startsWith("[]")) {
    return `[]${ref(t.slice(2), named, structs, used)}`;
  }
  const map = /^map\[(\w+)\](.+)$/.exec(t);
  if (map) {
    return `map[${ref(map[2], named, structs, used)}]`;
  }
  if (SCALARS[t]) {
    return SCALARS[t];
  }
  if (named.has(t)) {
    return ref(named.get(t) as string, named, structs, used);
  }
  const external = EXTERNAL[t];
  if (typeof external === "string") {
    return external;
  }
  if (external) {
    used.add(t);
    return t;
  }
  if (t === "interface{}" || t === "any" || /^(corev1|runtime)\./.test(t)) {
    // Kubernetes core types (tolerations, affinity) and free-form values: accepted as they are.
    return "any";
  }
  if (structs.has(t)) {
    used.add(t);
    return t;
  }
  throw new Error(`unknown Go type ${goType}`);
}

/** The field tree reachable from the manifest kinds the importer reads. */
export function buildTree(sources: readonly string[], roots: readonly string[]): Record<string, Record<string, string>> {
  const { structs, named } = parse(sources);
  const tree: Record<string, Record<string, string>> = {};
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (tree[name]) {
      continue;
    }
    const external = EXTERNAL[name];
    if (external && typeof external === "object") {
      tree[name] = { ...external };
      continue;
    }
    const fields = structs.get(name);
    if (!fields) {
      throw new Error(`struct ${name} not found`);
    }
    const out: Record<string, string> = {};
    const addFields = (list: readonly GoField[]) => {
      for (const f of list) {
        if (f.inline) {
          const inner = EXTERNAL[f.type];
          if (inner && typeof inner === "object") {
            Object.assign(out, inner);
          } else {
            addFields(structs.get(f.type.replace(/^\*/, "")) ?? []);
          }
          continue;
        }
        const used = new Set<string>();
        out[f.json] = ref(f.type, named, structs, used);
        pending.push(...used);
      }
    };
    addFields(fields);
    tree[name] = out;
  }
  return tree;
}

function main(): void {
  const [dir, source] = process.argv.slice(2);
  if (!dir || !source) {
    process.stderr.write("usage: node spec/kops/generate-api-fields.js DIR kubernetes/kops@COMMIT > spec/kops/api-fields.ts\n");
    process.exit(2);
  }
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".go") && !f.startsWith("zz_generated") && !f.endsWith("_test.go"))
    .sort();
  const sources = files.map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
  const tree = buildTree(sources, ["Cluster", "InstanceGroup", "SSHCredential"]);
  const sorted = Object.fromEntries(Object.keys(tree).sort().map((k) => [k, tree[k]]));
  process.stdout.write(
    "/**\n" +
      ` * The field tree of kops's kops.k8s.io/v1alpha2 API, generated from ${source}\n` +
      " * (pkg/apis/kops/v1alpha2, the Go types' JSON names) by spec/kops/generate-api-fields.ts. Do not edit;\n" +
      " * regenerate it. A reference is a struct name, `string`, `int`, `bool`, `float`, `any` (a scalar or\n" +
      " * Kubernetes core value accepted as is), `[]T` (a list) or `map[T]` (a map with string keys).\n" +
      " */\n" +
      `export const KOPS_API_SOURCE = ${JSON.stringify(`${source} pkg/apis/kops/v1alpha2`)};\n\n` +
      "/** Struct name -> JSON field name -> type reference. */\n" +
      "export const KOPS_V1ALPHA2_TYPES: Readonly<Record<string, Readonly<Record<string, string>>>> = " +
      JSON.stringify(sorted, null, 2) +
      ";\n",
  );
}

if (require.main === module) {
  main();
}
