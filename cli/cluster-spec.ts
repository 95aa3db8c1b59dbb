/**
 * The spec of one named cluster, for the commands that act on a running cluster (`export kubecfg`,
 * `validate`, `rolling-update`, `delete`, `edit`): they read the committed spec for its region, its
 * masters and its API endpoint, and never change it unless they say so.
 */
import * as fs from "fs";
import * as path from "path";
import { parseSpecText, readSpecFile } from "../spec/load";
import { UserError } from "../spec/problems";
import { ValidatedSpec } from "../spec/validate";

/** The spec file of cluster `name` in `configDir` (`NAME.yaml`, or `NAME.yml`). */
export function specFileOf(configDir: string, name: string): string {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(name)) {
    throw new UserError([`NAME: ${JSON.stringify(name)} is not a cluster name; give the name of a spec in ${configDir}/, e.g. hacluster.example.com.`]);
  }
  for (const ext of [".yaml", ".yml"]) {
    const file = path.join(configDir, `${name}${ext}`);
    if (fs.existsSync(file)) {
      return file;
    }
  }
  const known = listSpecNames(configDir);
  throw new UserError([
    `NAME: no spec for ${name} in ${configDir}/` +
      (known.length > 0 ? ` (it has ${known.join(", ")})` : "") +
      "; give the cluster's name, or --config-dir for specs kept elsewhere.",
  ]);
}

/** The cluster names of the spec files in `configDir`, sorted (none when the directory is missing). */
export function listSpecNames(configDir: string): string[] {
  let files: fs.Dirent[];
  try {
    files = fs.readdirSync(configDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return files
    .filter((f) => f.isFile() && /\.ya?ml$/.test(f.name) && !f.name.startsWith("."))
    .map((f) => f.name.replace(/\.ya?ml$/, ""))
    .sort();
}

/** Reads and validates the spec of cluster `name`; a {@link UserError} names every problem. */
export function loadClusterSpec(configDir: string, name: string): ValidatedSpec & { readonly file: string } {
  const file = specFileOf(configDir, name);
  // Bounded and one line per problem: a FIFO, a device or a huge file is refused unread (spec/load.ts).
  return { ...parseSpecText(readSpecFile(file), file), file };
}
