/**
 * Building specs and synthesizing them in tests, in process.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import YAML from "yaml";
import { ClusterStack } from "../../stacks/cluster-stack";
import { synthesizeClusters, synthesizeStacks } from "../../stacks/app";
import { ValidatedSpec, validateClusterSpec } from "../../spec/validate";
import { withEtcdRecord } from "./specs";

export { withEtcdRecord };

/** The seed's first example, as spec fields. */
export const SEED_1 = {
  name: "hacluster.example.com",
  nodeCount: 3,
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  nodeSize: "t2.medium",
  masterSize: "t2.medium",
  topology: "private",
  networking: "kopeio-vxlan",
};

/** The seed's second example, with a real security group in place of `i-abcd1234`. */
export const SEED_2 = {
  name: "hacluster.example.com",
  nodeCount: 3,
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  dnsZone: "example.com",
  nodeSize: "t2.medium",
  masterSize: "t2.medium",
  nodeSecurityGroups: ["sg-12345678"],
  masterSecurityGroups: ["sg-12345678", "sg-abcd1234"],
  topology: "private",
  networking: "weave",
  cloudLabels: { Team: "Dev", Owner: "John Doe" },
  image: "293135079892/k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16",
};

/** The seed's third example: three masters in one zone of a two-zone region. */
export const SEED_3 = {
  name: "hacluster.example.com",
  masterCount: 3,
  masterZones: ["us-east-1a"],
  zones: ["us-east-1a", "us-east-1b"],
};

/** A spec file's text for `fields`, with its etcd record (see {@link withEtcdRecord}). */
export function specFile(fields: Record<string, unknown>): string {
  return YAML.stringify(withEtcdRecord(fields));
}

/** Validates spec fields as if they came from a file (with their etcd record, see {@link withEtcdRecord}); throws on invalid input. */
export function validSpec(fields: Record<string, unknown>): ValidatedSpec {
  return validateClusterSpec(withEtcdRecord(fields), { kind: "file", path: "test.yaml" });
}

/** Synthesizes one cluster's stack to a JSON object (cdktf's Testing, full validation on). */
export function synthJson(fields: Record<string, unknown>): TerraformJson {
  const app = Testing.app({ stackTraces: false });
  const stack = new ClusterStack(app, { spec: validSpec(fields).spec });
  return JSON.parse(Testing.synth(stack, true)) as TerraformJson;
}

/**
 * Synthesizes one cluster's stack as the product does (an App, the stack's own preparation and every
 * validation, written to disk), and returns the written cdk.tf.json. Slower than {@link synthJson};
 * use it where what the real synthesis adds matters (stack-level blocks, prepareStack).
 */
export function synthWritten(fields: Record<string, unknown>): TerraformJson {
  const dir = tempDir("written");
  try {
    const validated = validSpec(fields);
    synthesizeStacks([validated], dir, false);
    return JSON.parse(fs.readFileSync(path.join(dir, "stacks", validated.spec.name, "cdk.tf.json"), "utf8")) as TerraformJson;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A synthesized configuration: resource type -> name -> body. */
export interface TerraformJson {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output: Record<string, { value: unknown }>;
  readonly [key: string]: unknown;
}

/** The bodies of every resource of a type, by name. */
export function resources(json: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return json.resource[type] ?? {};
}

/** A fresh temporary directory, removed by the caller (or left for inspection on failure). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kopsform-${prefix}-`));
}

/** Synthesizes specs into `<dir>/out` as the product does; returns each stack's directory by name. */
export async function synthToDir(dir: string, specs: Record<string, unknown>[], hcl = false): Promise<Record<string, string>> {
  const outdir = path.join(dir, "out");
  const validated = specs.map(validSpec);
  await synthesizeClusters(validated, outdir, hcl);
  return Object.fromEntries(validated.map((v) => [v.spec.name, path.join(outdir, "stacks", v.spec.name)]));
}

/** Every file under a directory, relative path -> content (to compare two outputs file by file). */
export function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
      } else {
        files[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
      }
    }
  };
  walk(dir);
  return files;
}
