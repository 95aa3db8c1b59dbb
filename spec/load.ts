/**
 * Reading cluster specs from a config directory: YAML in, validated specs out. This is the edge where
 * files are read; everything downstream receives typed values.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { InvalidInputError, UserError } from "./problems";
import { ValidatedSpec, validateClusterSpec } from "./validate";

const SPEC_FILE = /\.ya?ml$/;

/** Parses and validates one spec file's text; `file` is used in messages and for the name check. */
export function parseSpecText(text: string, file: string): ValidatedSpec {
  const origin = { kind: "file", path: file } as const;
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (e) {
    const message = (e as Error).message.split("\n")[0];
    throw new InvalidInputError([{ field: "(YAML)", message: `${message}; fix the YAML syntax.` }], origin);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidInputError(
      [{ field: "(file)", message: "is not a cluster spec: expected a YAML mapping of fields (name, zones, ...)." }],
      origin,
    );
  }
  // The name check joins the others, so that one run reports every problem of the file.
  const expected = path.basename(file).replace(SPEC_FILE, "");
  const name = (raw as { name?: unknown }).name;
  const mismatch =
    typeof name === "string" && name !== expected
      ? [
          {
            field: "name",
            message: `${name} does not match the file name ${path.basename(file)}; rename the file to ${name}.yaml or fix the name.`,
          },
        ]
      : [];
  let validated: ValidatedSpec;
  try {
    validated = validateClusterSpec(raw, origin);
  } catch (e) {
    throw e instanceof InvalidInputError ? new InvalidInputError([...mismatch, ...e.problems], origin) : e;
  }
  if (mismatch.length > 0) {
    throw new InvalidInputError(mismatch, origin);
  }
  return validated;
}

/**
 * Loads every `*.yaml` spec in `configDir`, in name order. Throws a {@link UserError} that lists the
 * problems of every invalid file, so one run shows them all.
 */
export function loadSpecs(configDir: string): ValidatedSpec[] {
  if (!fs.existsSync(configDir) || !fs.statSync(configDir).isDirectory()) {
    throw new UserError([
      `${configDir}: no such directory; create a spec with: npx kopsform create cluster --zones ZONES NAME`,
    ]);
  }
  const files = fs
    .readdirSync(configDir)
    .filter((f) => SPEC_FILE.test(f))
    .sort();
  if (files.length === 0) {
    throw new UserError([
      `${configDir}: no cluster specs (*.yaml); create one with: npx kopsform create cluster --zones ZONES NAME`,
    ]);
  }
  const specs: ValidatedSpec[] = [];
  const lines: string[] = [];
  // x.yaml and x.yml would both become stack x, one overwriting the other.
  const fileOfCluster = new Map<string, string>();
  for (const file of files) {
    const where = path.join(configDir, file);
    try {
      const validated = parseSpecText(fs.readFileSync(where, "utf8"), where);
      const other = fileOfCluster.get(validated.spec.name);
      if (other) {
        lines.push(`${where}: name: ${validated.spec.name} is also the cluster of ${other}; keep one spec per cluster.`);
      }
      fileOfCluster.set(validated.spec.name, where);
      specs.push(validated);
    } catch (e) {
      if (!(e instanceof UserError)) {
        throw e;
      }
      lines.push(...e.lines);
    }
  }
  if (lines.length > 0) {
    throw new UserError(lines);
  }
  return specs;
}
