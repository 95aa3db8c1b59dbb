/**
 * `kopsform import kops FILE...`: a kops cluster's manifest in (`kops get all NAME -o yaml`), a spec
 * (`DIR/NAME.yaml`) and an import report (`DIR/NAME.import.md`, also on stdout) out. The spec is
 * validated by the same code as `create cluster` and spec files, and written by the same writer.
 *
 * Exit codes: 0 every setting carried over; 3 the spec is written, but the report lists settings that
 * are not carried over; 1 invalid input (nothing written); 2 usage.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { DEFAULT_CONFIG_DIR } from "../spec/defaults";
import { haSummaryLine } from "../spec/ha";
import type { ManifestInput, ManifestProblem } from "../spec/kops/manifest";
import type { ImportReport } from "../spec/kops/report";
import { InvalidInputError, Problem, UserError } from "../spec/problems";
import { ValidatedSpec, validateClusterSpec } from "../spec/validate";
import { Io, UsageError } from "./io";
import { existingFiles, specPath, specYaml, writeAtomically } from "./spec-file";

/** Exit code when the spec is written but the report lists settings that are not carried over. */
export const EXIT_NOT_ALL_CARRIED = 3;

/** Options of `import kops`. */
export interface ImportKopsOptions {
  readonly configDir: string;
  readonly yes?: boolean;
}

/** Adds `import kops` to `import`. */
export function addImportKopsCommand(parent: Command, io: Io, setExitCode: (code: number) => void): void {
  parent
    .command("kops")
    .description("Write a cluster spec from a kops cluster's manifest, with a report of what is not carried over.")
    .argument("<FILE...>", "kops manifests (kops get all NAME -o yaml); - reads stdin")
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .option("-y, --yes", "overwrite an existing spec and report")
    .addHelpText(
      "after",
      "\nExample:\n" +
        "  kops get all hacluster.example.com -o yaml > kops.yaml\n" +
        "  npx kopsform import kops kops.yaml\n" +
        "\nExit codes: 0 every setting carried over; 3 spec written, some settings not carried over (see the report);\n" +
        "1 invalid input (nothing written); 2 usage.",
    )
    .action(async (files: string[], options: ImportKopsOptions) => {
      setExitCode(await importKops(files, options, io));
    });
}

/** Runs the import; returns the exit code (0 or 3), or throws a user error (1) or usage error (2). */
export async function importKops(
  files: readonly string[],
  o: ImportKopsOptions,
  io: Io,
  readStdin: () => string = () => fs.readFileSync(0, "utf8"),
): Promise<number> {
  if (files.filter((f) => f === "-").length > 1) {
    throw new UsageError("- (stdin) is given twice; read it once.");
  }
  // Loaded on use: kops's field tree and the rules are only needed to import.
  const [{ readManifests }, { convertManifest }, { renderMarkdown, renderText }] = await Promise.all([
    import("../spec/kops/manifest"),
    import("../spec/kops/convert"),
    import("../spec/kops/report"),
  ]);
  const inputs = readInputs(files, readStdin);
  const { documents, problems } = readManifests(inputs);
  if (problems.length > 0) {
    throw new UserError(problems.map(line));
  }
  const converted = convertManifest(documents);
  if (!converted.imported) {
    throw new UserError(converted.problems.map(line));
  }
  const { name, raw, report } = converted.imported;
  const file = specPath(o.configDir, name);
  const reportFile = path.join(o.configDir, `${name}.import.md`);
  let validated: ValidatedSpec;
  try {
    validated = validateClusterSpec(raw, { kind: "file", path: file });
  } catch (e) {
    if (e instanceof InvalidInputError) {
      throw new UserError(e.problems.map((p) => line(fromManifest(p, report))));
    }
    throw e;
  }
  const existing = existingFiles([file, reportFile], o.yes);
  if (existing) {
    throw new UserError([`${existing}, or import into another --config-dir.`]);
  }
  const exitCode = report.omittedFieldCount > 0 ? EXIT_NOT_ALL_CARRIED : 0;
  const context = {
    name,
    specFile: file,
    inputs: inputs.map((i) => i.source),
    exitCode,
    warnings: validated.warnings.map((w) => `${w.field}: ${w.message}`),
  };
  writeAtomically(file, specYaml(validated.spec, raw, "written by `kopsform import kops` from a kops manifest; see " + `${name}.import.md`));
  writeAtomically(reportFile, renderMarkdown(report, context));
  io.out(`Wrote ${file}`);
  io.out(`Wrote ${reportFile}`);
  io.out(haSummaryLine(name, validated.ha));
  renderText(report, context).forEach((l) => io.out(l));
  validated.warnings.forEach((w) => io.err(`warning: ${w.field}: ${w.message}`));
  io.out(`Next: review both files, then npx kopsform synth --config-dir ${o.configDir}`);
  return exitCode;
}

/** Files (or stdin, once) as manifest inputs; an unreadable file is invalid input. */
function readInputs(files: readonly string[], readStdin: () => string): ManifestInput[] {
  const problems: string[] = [];
  const inputs: ManifestInput[] = [];
  for (const f of files) {
    if (f === "-") {
      inputs.push({ source: "stdin", text: readStdin() });
      continue;
    }
    try {
      inputs.push({ source: f, text: fs.readFileSync(f, "utf8") });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push(
        `${f}: cannot be read (${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory" : code}); ` +
          "give the file kops wrote (kops get all NAME -o yaml > FILE).",
      );
    }
  }
  if (problems.length > 0) {
    throw new UserError(problems);
  }
  return inputs;
}

/** `f: document 2 (...)`, `f: document 3 (...)` -> `f: document 2 (...), document 3 (...)`. */
function joinWheres(wheres: readonly string[]): string {
  const file = wheres[0].slice(0, wheres[0].indexOf(": document "));
  const sameFile = file !== "" && wheres.every((w) => w.startsWith(`${file}: document `));
  return sameFile ? `${file}: ${wheres.map((w) => w.slice(file.length + 2)).join(", ")}` : wheres.join("; ");
}

function line(p: ManifestProblem): string {
  return `${p.where}: ${p.message}`;
}

/**
 * A problem of the spec, told in the manifest's terms: the document and path it came from, then the
 * spec field and the same message `create cluster` and spec files give.
 */
function fromManifest(p: Problem, report: ImportReport): ManifestProblem {
  const parts = p.field.split(/(?=[.[])/);
  for (let n = parts.length; n > 0; n--) {
    const sources = report.sources.get(parts.slice(0, n).join(""));
    if (sources && sources.length > 0) {
      const where = joinWheres(sources.map((s) => s.where));
      const paths = [...new Set(sources.map((s) => s.path))].join(", ");
      return { where: `${where}: ${paths} (the spec's ${p.field})`, message: p.message };
    }
  }
  return { where: `the imported spec: ${p.field}`, message: p.message };
}
