/**
 * The import report: what of a kops manifest became which spec field, what was not carried over (what it
 * did in kops, what kopsform does instead), where the spec keeps kops's behaviour although kopsform's
 * default differs, and which names change. Rendered as Markdown (`NAME.import.md`) and as plain lines
 * (stdout).
 *
 * Every value from the manifest is data: sentences are built with {@link say}, whose literal parts are
 * ours and whose interpolated values are escaped when rendered as Markdown, so that a name, a CIDR or a
 * label can never become a link, a heading, a table cell boundary or HTML in the report.
 */

/** A value from the user's manifest, kept apart from our own words. */
export interface Value {
  readonly value: string;
}

/** A sentence: our words (trusted Markdown) and the user's values (escaped when rendered). */
export type Text = readonly (string | Value)[];

/**
 * Builds a {@link Text}: literal parts are ours, `${...}` parts are values. A Text is spliced in as is;
 * a list gives one value per item, separated by commas; numbers are written as they are.
 */
export function say(strings: TemplateStringsArray, ...values: unknown[]): Text {
  const out: (string | Value)[] = text();
  strings.forEach((s, i) => {
    out.push(s);
    if (i < values.length) {
      const v = values[i];
      if (isText(v)) {
        out.push(...v);
      } else if (Array.isArray(v)) {
        v.forEach((item, k) => out.push(...(k > 0 ? [", "] : []), { value: String(item) }));
      } else if (typeof v === "number") {
        out.push(String(v));
      } else {
        out.push({ value: String(v) });
      }
    }
  });
  return out;
}

/** Marks the arrays that are Texts, so that {@link say} splices them and takes any other list as values. */
const TEXT = Symbol("kopsform.text");

function text(): (string | Value)[] {
  const out: (string | Value)[] = [];
  Object.defineProperty(out, TEXT, { value: true });
  return out;
}

/** Our own words computed at run time (a role, a count's noun): trusted, never escaped. */
export function ours(words: string): Text {
  const out = text();
  out.push(words);
  return out;
}

/** Texts one after the other. */
export function concat(...texts: readonly Text[]): Text {
  const out = text();
  texts.forEach((t) => out.push(...t));
  return out;
}

function isText(v: unknown): v is Text {
  return Array.isArray(v) && (v as unknown as Record<symbol, unknown>)[TEXT] === true;
}

/**
 * Escapes text for Markdown: every ASCII punctuation character that CommonMark or GitHub could read as
 * syntax (emphasis, links, autolinks, mentions, HTML, table cells) gets a backslash, and line breaks
 * become spaces, so the text renders as itself.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r\n|\r|\n/g, " ").replace(/[\\`*_{}[\]()<>#+\-.!|~&:@]/g, (c) => `\\${c}`);
}

/**
 * Escapes our own sentences that quote the user's values (validation warnings): emphasis, links,
 * autolinks, mentions, HTML and table pipes are neutralised, and plain punctuation is left readable.
 */
export function escapeProse(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, " ")
    .replace(/[\\`*_{}[\]<>|~@#!]/g, (c) => `\\${c}`)
    .replace(/\b(https?|ftp):/gi, "$1\\:")
    .replace(/\bwww\./gi, "www\\.");
}

/**
 * A value as Markdown: a code span, which renders literally (no emphasis, links, mentions or HTML),
 * unless the value holds what a code span cannot (a backtick, a line break, a table's pipe); then escaped.
 */
export function markdownValue(value: string): string {
  if (value === "") {
    return "(empty)";
  }
  return /[`\r\n|]/.test(value) ? escapeMarkdown(value) : `\`${value}\``;
}

/** A Text as Markdown. */
export function markdown(text: Text): string {
  return text.map((p) => (typeof p === "string" ? p : markdownValue(p.value))).join("");
}

/** A Text as plain text (stdout): values as they are, our backticks dropped. */
export function plain(text: Text): string {
  return text.map((p) => (typeof p === "string" ? p.replace(/`/g, "") : p.value)).join("");
}

/** Settings of the manifest that the spec does not carry over. */
export interface OmittedItem {
  /** The document (`cluster.yaml: document 1 (Cluster NAME)`), a value. */
  readonly where: string;
  /** Paths in the document (field names from kops's API, list positions). */
  readonly paths: readonly string[];
  readonly did: Text;
  readonly instead: Text;
}

/** Values that are kops's bookkeeping, with nothing to carry. */
export interface BookkeepingItem {
  readonly where: string;
  readonly paths: readonly string[];
  readonly why: Text;
}

/** Where a spec field came from. */
export interface Source {
  readonly where: string;
  readonly path: string;
}

/** Everything the report says. */
export class ImportReport {
  readonly omitted: OmittedItem[] = [];
  /** kops's behaviour that the spec keeps explicitly, where kopsform's default differs. */
  readonly kept: Text[] = [];
  /** Names that change (instance groups, etcd members, subnets). */
  readonly renamed: Text[] = [];
  /** Where kopsform's output differs from kops's without any field to say so (hardening). */
  readonly differences: Text[] = [];
  readonly notes: Text[] = [];
  readonly bookkeeping: BookkeepingItem[] = [];
  /** Spec field -> where in the manifest it came from. */
  readonly sources = new Map<string, Source[]>();

  omit(where: string, paths: readonly string[], did: Text, instead: Text): void {
    this.omitted.push({ where, paths, did, instead });
  }

  /** Adds a sentence to a list unless it is there already (the same note for several groups). */
  once(list: Text[], text: Text): void {
    if (!list.some((t) => plain(t) === plain(text))) {
      list.push(text);
    }
  }

  source(field: string, where: string, path: string): void {
    const list = this.sources.get(field) ?? [];
    if (!list.some((s) => s.where === where && s.path === path)) {
      list.push({ where, path });
    }
    this.sources.set(field, list);
  }

  /** How many fields of the manifest are not carried over. */
  get omittedFieldCount(): number {
    return this.omitted.reduce((n, item) => n + item.paths.length, 0);
  }
}

/** What the report is about. */
export interface ReportContext {
  readonly name: string;
  readonly specFile: string;
  readonly inputs: readonly string[];
  readonly exitCode: number;
  /** Warnings of the spec's validation (our words with the user's values; escaped as a whole). */
  readonly warnings: readonly string[];
}

/**
 * A path of the manifest in a table cell: a code span (a label key may end one, so backticks are
 * dropped, and a pipe is escaped, which tables read even inside code spans).
 */
const code = (path: string) => `\`${path.replace(/`/g, "").replace(/\|/g, "\\|").replace(/[\r\n]/g, " ")}\``;

/** The report as Markdown, for `NAME.import.md`. */
export function renderMarkdown(report: ImportReport, ctx: ReportContext): string {
  const lines: string[] = [];
  // With one input, documents are named without it ("document 2 (InstanceGroup nodes)").
  const prefix = ctx.inputs.length === 1 ? `${ctx.inputs[0]}: ` : undefined;
  const where = (w: string) => markdownValue(prefix && w.startsWith(prefix) ? w.slice(prefix.length) : w);
  lines.push(`# Import of ${markdownValue(ctx.name)} from kops`, "");
  lines.push(
    `Written by \`kopsform import kops\` from ${ctx.inputs.map(markdownValue).join(", ")}, with the spec ` +
      `${markdownValue(ctx.specFile)}. Review both before \`kopsform synth\`.`,
    "",
  );
  const count = report.omittedFieldCount;
  lines.push(
    count === 0
      ? `**Every setting of the manifest is carried over** (exit code ${ctx.exitCode}).`
      : `**${count} ${count === 1 ? "setting" : "settings"} of the manifest ${count === 1 ? "is" : "are"} not carried over** ` +
          `(exit code ${ctx.exitCode}); each is listed below with what it did in kops and what kopsform does instead.`,
    "",
  );
  if (report.omitted.length > 0) {
    lines.push("## Not carried over", "", "| where | kops fields | what it did in kops | what kopsform does instead |", "| --- | --- | --- | --- |");
    for (const item of report.omitted) {
      lines.push(
        `| ${where(item.where)} | ${item.paths.map(code).join(", ")} | ${markdown(item.did)} | ${markdown(item.instead)} |`,
      );
    }
    lines.push("");
  }
  const section = (title: string, items: readonly Text[]) => {
    if (items.length > 0) {
      lines.push(`## ${title}`, "", ...items.map((t) => `- ${markdown(t)}`), "");
    }
  };
  section("kops's behaviour kept (kopsform's default differs)", report.kept);
  section("Names that change", report.renamed);
  if (ctx.warnings.length > 0) {
    lines.push("## Warnings", "", ...ctx.warnings.map((w) => `- ${escapeProse(w)}`), "");
  }
  section("Notes", report.notes);
  section("Where kopsform differs from kops (no field of the manifest says so)", report.differences);
  if (report.bookkeeping.length > 0) {
    lines.push("## kops's bookkeeping (nothing to carry)", "", "| where | kops fields | why |", "| --- | --- | --- |");
    // The same fields for the same reason in several documents make one row.
    const rows = new Map<string, { wheres: string[]; item: BookkeepingItem }>();
    for (const item of report.bookkeeping) {
      const key = `${item.paths.join(",")}|${markdown(item.why)}`;
      const row = rows.get(key) ?? { wheres: [], item };
      row.wheres.push(where(item.where));
      rows.set(key, row);
    }
    for (const { wheres, item } of rows.values()) {
      lines.push(`| ${wheres.join(", ")} | ${item.paths.map(code).join(", ")} | ${markdown(item.why)} |`);
    }
    lines.push("");
  }
  if (report.sources.size > 0) {
    lines.push("## Where each spec field comes from", "", "| spec field | from |", "| --- | --- |");
    for (const [field, sources] of report.sources) {
      // An item's own sources (masterSecurityGroups[1]) serve messages; the table shows the field's.
      if (/\[\d+\]$/.test(field) && report.sources.has(field.replace(/\[\d+\]$/, ""))) {
        continue;
      }
      lines.push(`| ${code(field)} | ${sources.map((s) => `${where(s.where)}: ${code(s.path)}`).join("; ")} |`);
    }
    lines.push("");
  }
  lines.push(
    "## The running cluster",
    "",
    "This spec describes the same cluster; it does not adopt the running one. Terraform would create new " +
      "resources next to kops's. See \"Importing from kops\" in kopsform's README for what moving a running " +
      "cluster involves.",
    "",
  );
  return lines.join("\n");
}

/** The report as lines for stdout (plain text, values as they are). */
export function renderText(report: ImportReport, ctx: ReportContext): string[] {
  const lines: string[] = [];
  const count = report.omittedFieldCount;
  if (count === 0) {
    lines.push("Every setting of the manifest is carried over.");
  } else {
    lines.push(`Not carried over (${count} ${count === 1 ? "setting" : "settings"}):`);
    for (const item of report.omitted) {
      lines.push(`  ${item.where}: ${item.paths.join(", ")}: in kops, ${plain(item.did)}; instead, ${plain(item.instead)}.`);
    }
  }
  const section = (title: string, items: readonly Text[]) => {
    if (items.length > 0) {
      lines.push(`${title}:`, ...items.map((t) => `  ${plain(t)}`));
    }
  };
  section("Kept from kops (kopsform's default differs)", report.kept);
  section("Names that change", report.renamed);
  section("Notes", report.notes);
  lines.push(`Details, kops's bookkeeping and where each field came from: ${ctx.specFile.replace(/\.yaml$/, ".import.md")}`);
  return lines;
}
