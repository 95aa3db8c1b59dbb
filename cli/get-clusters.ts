/**
 * `kopsform get clusters [NAME...]`: the clusters of the config directory, as `kops get clusters`
 * lists them (NAME, CLOUD, ZONES), with the masters and the Kubernetes version beside.
 */
import * as path from "path";
import YAML from "yaml";
import { parseSpecText, readSpecFile } from "../spec/load";
import { UserError } from "../spec/problems";
import { ValidatedSpec } from "../spec/validate";
import { listSpecNames, specFileOf } from "./cluster-spec";
import { Io, UsageError } from "./io";
import { table } from "./validate-cluster";

/** Options of `get clusters`. */
export interface GetClustersOptions {
  /** Only these clusters. @default every spec of the directory */
  readonly names: readonly string[];
  readonly output: string;
  readonly configDir: string;
}

/** Lists the clusters; returns 1 when a spec is invalid (listed as such, its problems on stderr). */
export function getClusters(o: GetClustersOptions, io: Io): number {
  if (!["table", "json", "yaml"].includes(o.output)) {
    throw new UsageError(`--output: ${JSON.stringify(o.output)} is not an output format; use table, json or yaml.`);
  }
  const names = o.names.length > 0 ? [...o.names] : listSpecNames(o.configDir);
  if (names.length === 0) {
    throw new UserError([`${o.configDir}: no cluster specs; create one with: npx kopsform create cluster --zones ZONES NAME`]);
  }
  const specs: ValidatedSpec[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    try {
      const file = specFileOf(o.configDir, name);
      specs.push(parseSpecText(readSpecFile(file), file));
    } catch (e) {
      if (!(e instanceof UserError)) {
        throw e;
      }
      invalid.push(name);
      e.lines.forEach((line) => io.err(line));
    }
  }
  const rows = specs.map(({ spec }) => ({
    name: spec.name,
    cloud: "aws",
    region: spec.region,
    zones: spec.zones,
    masters: spec.masters.length,
    masterZones: spec.masterZones,
    kubernetesVersion: spec.kubernetesVersion,
    spec: path.join(o.configDir, `${spec.name}.yaml`),
  }));
  if (o.output === "json") {
    io.out(JSON.stringify(rows, null, 2));
  } else if (o.output === "yaml") {
    io.out(YAML.stringify(rows).trimEnd());
  } else {
    table([
      ["NAME", "CLOUD", "ZONES", "MASTERS", "KUBERNETES"],
      ...rows.map((r) => [r.name, r.cloud, r.zones.join(","), `${r.masters} in ${r.masterZones.join(",")}`, r.kubernetesVersion]),
      ...invalid.map((n) => [n, "-", "-", "-", "(invalid spec: see above)"]),
    ]).forEach((l) => io.out(l));
  }
  return invalid.length > 0 ? 1 : 0;
}
