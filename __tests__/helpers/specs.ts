/**
 * Cluster spec files for the tests of the day-2 commands, written as a user would commit them
 * (without loading cdktf: these tests never synthesize).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";

/** The seed's first example as a committed spec (what `create cluster` writes, trimmed). */
export const SEED_1_SPEC = {
  name: "hacluster.example.com",
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  kubernetesVersion: "1.33.5",
  deployedKubernetesVersion: "1.33.5",
  masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterCount: 3,
  nodeCount: 3,
  topology: "private",
  networking: "kopeio-vxlan",
};

/** Writes `DIR/NAME.yaml` for each spec into a fresh config directory; returns the directory. */
export function writeSpecs(specs: readonly Record<string, unknown>[], dir?: string): string {
  const configDir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-specs-"));
  fs.mkdirSync(configDir, { recursive: true });
  for (const spec of specs) {
    fs.writeFileSync(path.join(configDir, `${String(spec.name)}.yaml`), `# committed spec\n${YAML.stringify(spec)}`);
  }
  return configDir;
}
