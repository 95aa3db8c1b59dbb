/**
 * Cluster spec files for the tests of the day-2 commands, written as a user would commit them
 * (without loading cdktf: these tests never synthesize).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { validateClusterSpec } from "../../spec/validate";

/** The seed's first example as a committed spec (what `create cluster` writes, trimmed). */
export const SEED_1_SPEC = {
  name: "hacluster.example.com",
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  kubernetesVersion: "1.33.5",
  deployedKubernetesVersion: "1.33.5",
  masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterCount: 3,
  etcdMembers: ["a", "b", "c"],
  nodeCount: 3,
  topology: "private",
  networking: "kopeio-vxlan",
};

/**
 * Spec fields with their etcd record: `etcdMembers` as the layout gives it when the fields name none
 * (what `kopsform create cluster` writes), so that fixtures describe a cluster as a committed spec
 * does. Only the layout fields decide it, so that a fixture with other problems keeps exactly those;
 * fields that already name `etcdMembers`, or whose layout is invalid, are returned as they are.
 */
export function withEtcdRecord(fields: Record<string, unknown>): Record<string, unknown> {
  if ("etcdMembers" in fields) {
    return fields;
  }
  const layout = Object.fromEntries(["name", "zones", "masterZones", "masterCount"].filter((k) => k in fields).map((k) => [k, fields[k]]));
  try {
    const { spec } = validateClusterSpec(layout, { kind: "flags" });
    return { ...fields, etcdMembers: [...spec.etcdMembers] };
  } catch {
    return fields;
  }
}

/** Writes `DIR/NAME.yaml` for each spec (with its etcd record) into a fresh config directory; returns the directory. */
export function writeSpecs(specs: readonly Record<string, unknown>[], dir?: string): string {
  const configDir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-specs-"));
  fs.mkdirSync(configDir, { recursive: true });
  for (const spec of specs) {
    fs.writeFileSync(path.join(configDir, `${String(spec.name)}.yaml`), `# committed spec\n${YAML.stringify(withEtcdRecord(spec))}`);
  }
  return configDir;
}
