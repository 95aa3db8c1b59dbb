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
  const validated = validateClusterSpec(raw, origin);
  const expected = path.basename(file).replace(SPEC_FILE, "");
  if (validated.spec.name !== expected) {
    throw new InvalidInputError(
      [
        {
          field: "name",
          message: `${validated.spec.name} does not match the file name ${path.basename(file)}; rename the file to ${validated.spec.name}.yaml or fix the name.`,
        },
      ],
      origin,
    );
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
  for (const file of files) {
    const where = path.join(configDir, file);
    try {
      specs.push(parseSpecText(fs.readFileSync(where, "utf8"), where));
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
