/**
 * Reading cluster specs from a config directory: YAML in, validated specs out. This is the edge where
 * files are read; everything downstream receives typed values.
 *
 * Whatever sits in the directory, reading it is bounded and ends in specs or in one line per problem:
 * hidden files (editor lock files such as `.#x.yaml`) are skipped; anything that is not a regular file
 * (a directory, a dangling link, a FIFO, a device such as /dev/zero behind a link) is refused without
 * being opened for reading; a file larger than {@link MAX_SPEC_BYTES} is refused; duplicate keys are
 * found in linear time; and a file that does not look like a spec at all is reported in one line that
 * echoes none of its content (a link to a credentials file must not end up in a CI log).
 */
import * as fs from "fs";
import * as path from "path";
import YAML, { isScalar, visit } from "yaml";
import { clusterSlug } from "../modules/names";
import { InvalidInputError, UserError } from "./problems";
import { SPEC_FIELDS } from "./schema";
import { ValidatedSpec, validateClusterSpec } from "./validate";

const SPEC_FILE = /\.ya?ml$/;

/** A spec and the file it came from. */
interface LoadedSpec {
  readonly validated: ValidatedSpec;
  readonly file: string;
}

/**
 * The largest spec file read, in bytes. A spec is a few KiB (a hundred node groups with labels stay
 * under 100 KiB); the limit bounds the work and memory of a mistaken or hostile file.
 */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** The most aliases a spec may expand (a "billion laughs" file expands aliases of aliases). */
const MAX_ALIAS_COUNT = 100;

/** Parses and validates one spec file's text; `file` is used in messages and for the name check. */
export function parseSpecText(text: string, file: string): ValidatedSpec {
  const origin = { kind: "file", path: file } as const;
  const raw = parseYaml(text, file);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidInputError(
      [{ field: "(file)", message: "is not a cluster spec: expected a YAML mapping of fields (name, zones, ...)." }],
      origin,
    );
  }
  const keys = Object.keys(raw);
  if (keys.length > 0 && !keys.some((key) => SPEC_FIELDS.includes(key))) {
    // Not a spec with typos, but some other file: say so without echoing what it holds.
    throw new InvalidInputError(
      [
        {
          field: "(file)",
          message:
            `is not a cluster spec: none of its ${keys.length} top-level keys is a spec field (name, zones, ...). ` +
            "If it is a symbolic link, check where it points; its content is not shown.",
        },
      ],
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
 * The YAML of a spec as plain values. Duplicate keys are refused (a later key would silently win):
 * found here with one set per mapping, in linear time, where the YAML library's own check compares
 * every pair of keys.
 */
function parseYaml(text: string, file: string): unknown {
  const origin = { kind: "file", path: file } as const;
  const yamlProblem = (message: string) => new InvalidInputError([{ field: "(YAML)", message }], origin);
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { uniqueKeys: false, prettyErrors: true, lineCounter });
  if (doc.errors.length > 0) {
    throw yamlProblem(`${doc.errors[0].message.split("\n")[0]}; fix the YAML syntax.`);
  }
  let duplicate: string | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) {
          continue;
        }
        if (seen.has(key)) {
          const offset = isScalar(pair.key) && pair.key.range ? pair.key.range[0] : 0;
          duplicate = `key ${JSON.stringify(key)} appears twice in one mapping (line ${lineCounter.linePos(offset).line}); keep one.`;
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  if (duplicate) {
    throw yamlProblem(duplicate);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw yamlProblem(`${(e as Error).message.split("\n")[0]}; fix the YAML.`);
  }
}

/**
 * Loads every `*.yaml` spec in `configDir`, in name order. Throws a {@link UserError} that lists the
 * problems of every invalid file, so one run shows them all.
 */
export function loadSpecs(configDir: string): ValidatedSpec[] {
  const loaded: LoadedSpec[] = [];
  const lines: string[] = [];
  for (const file of specFiles(configDir)) {
    const where = path.join(configDir, file);
    try {
      loaded.push({ validated: parseSpecText(readSpecFile(where), where), file: where });
    } catch (e) {
      if (!(e instanceof UserError)) {
        throw e;
      }
      lines.push(...e.lines);
    }
  }
  lines.push(...collisions(loaded));
  if (lines.length > 0) {
    throw new UserError(lines);
  }
  return loaded.map((l) => l.validated);
}

/** The spec files of a config directory, sorted; hidden files (editor lock files) left out. */
function specFiles(configDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(configDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new UserError([`${configDir}: no such directory; create a spec with: npx kopsform create cluster --zones ZONES NAME`]);
    }
    if (code === "ENOTDIR") {
      throw new UserError([`${configDir}: is a file, not a directory; give --config-dir the directory that holds the cluster specs.`]);
    }
    throw new UserError([`${configDir}: cannot read the directory (${code ?? String(e)}); check its permissions.`]);
  }
  const files = entries.filter((f) => SPEC_FILE.test(f) && !f.startsWith(".")).sort();
  if (files.length === 0) {
    throw new UserError([`${configDir}: no cluster specs (*.yaml); create one with: npx kopsform create cluster --zones ZONES NAME`]);
  }
  return files;
}

/**
 * The text of a spec file, read only when it is a regular file of at most {@link MAX_SPEC_BYTES}
 * (links are followed). Opened without blocking, and checked again once open, so that a FIFO put in
 * its place meanwhile cannot hang the read.
 */
export function readSpecFile(file: string): string {
  const refuse = (message: string): never => {
    throw new UserError([`${file}: ${message}`]);
  };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && isSymlink(file)) {
      refuse(`is a symbolic link to ${JSON.stringify(fs.readlinkSync(file))}, which does not exist; fix or remove the link.`);
    }
    refuse(code === "ELOOP" ? "is a symbolic link that loops; fix or remove it." : `cannot be read (${code ?? String(e)}).`);
  }
  const kind = (s: fs.Stats) =>
    s.isDirectory() ? "a directory" : s.isFIFO() ? "a FIFO" : s.isSocket() ? "a socket" : s.isCharacterDevice() || s.isBlockDevice() ? "a device" : "not a regular file";
  if (!stat!.isFile()) {
    refuse(`is ${kind(stat!)}, not a spec file; rename or move it out of the config directory (specs are *.yaml files).`);
  }
  const tooLarge = (size: number) =>
    `is ${size} bytes; a cluster spec is a few KiB, and files over ${MAX_SPEC_BYTES} bytes are refused. Is it the right file?`;
  if (stat!.size > MAX_SPEC_BYTES) {
    refuse(tooLarge(stat!.size));
  }
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return refuse(code === "EACCES" || code === "EPERM" ? "cannot be read (permission denied); check its permissions." : `cannot be read (${code ?? String(e)}).`);
  }
  try {
    const opened = fs.fstatSync(fd);
    if (!opened.isFile()) {
      refuse(`is ${kind(opened)}, not a spec file; rename or move it out of the config directory.`);
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) {
        break;
      }
      chunks.push(chunk.subarray(0, read));
      length += read;
      if (length > MAX_SPEC_BYTES) {
        refuse(tooLarge(length));
      }
    }
    return Buffer.concat(chunks, length).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Clusters that would clash in AWS or in Terraform state: two specs of one cluster (x.yaml and
 * x.yml), names that make the same AWS names (kopsform writes dots as dashes: `a-b.example.com` and
 * `a.b-example.com` both name their API load balancer `api-a-b-example-com`), and two clusters that
 * would share one state.
 */
function collisions(loaded: readonly LoadedSpec[]): string[] {
  const lines: string[] = [];
  const firstBy = new Map<string, LoadedSpec>();
  const fileOf = (l: LoadedSpec | undefined) => l?.file;
  const claim = (key: string, spec: LoadedSpec, describe: (other: ValidatedSpec) => string) => {
    const other = firstBy.get(key);
    if (other) {
      lines.push(`${spec.file}: ${describe(other.validated)}`);
    } else {
      firstBy.set(key, spec);
    }
  };
  for (const entry of loaded) {
    const spec = entry.validated;
    const name = spec.spec.name;
    claim(`name:${name}`, entry, () => `name: ${name} is also the cluster of ${fileOf(firstBy.get(`name:${name}`))}; keep one spec per cluster.`);
    if (loaded.filter((l) => l.validated.spec.name === name).length > 1) {
      continue;
    }
    claim(
      `slug:${clusterSlug(name)}`,
      entry,
      (other) =>
        `name: ${name} and ${other.spec.name} (${fileOf(firstBy.get(`slug:${clusterSlug(name)}`))}) make the same AWS and Terraform names ` +
        `(api-${clusterSlug(name)}, ...): kopsform writes the dots of a cluster name as dashes. Rename one of the clusters.`,
    );
    const backend = spec.spec.backend;
    const state =
      backend.type === "local"
        ? `local:${path.normalize(backend.path)}`
        : backend.type === "s3"
          ? `s3:${backend.bucket}/${backend.key}`
          : `cloud:${backend.hostname ?? "app.terraform.io"}/${backend.organization}/${backend.workspace ?? (backend.workspaceTags ?? []).join(",")}`;
    claim(
      `state:${state}`,
      entry,
      (other) =>
        `backend: ${name} would keep its Terraform state where ${other.spec.name} (${fileOf(firstBy.get(`state:${state}`))}) keeps its own ` +
        `(${state.replace(/^\w+:/, "")}); give each cluster its own state (path, key or workspace).`,
    );
  }
  return lines;
}
