/**
 * Strings an attacker or an unlucky user could put in a spec, for the tests that prove every value
 * reaches Terraform as data: template interpolations and directives, escapes, quotes, backslashes,
 * heredoc terminators, text that cdktf or Markdown would read as code.
 */

/** Values that must come back exactly as written (no control characters: see CONTROL_CHARACTERS). */
export const HOSTILE_STRINGS: readonly string[] = [
  '${file("/etc/hostname")}',
  "${env.HOME}",
  "%{ if true }yes%{ endif }",
  "$${x}",
  "%%{x}",
  "$$${x}",
  'say "hi" \\ \\n \\" \\\\',
  "EOF",
  "<<EOF",
  "tail$",
  "$",
  "%",
  "{}",
  '"quoted whole"',
  '" + file("/etc/hostname") + "',
  "a}b{c",
  "emoji 🚀 and ü",
];

/** Characters no AWS name, id or tag accepts; refused at the spec. */
export const CONTROL_CHARACTERS: readonly string[] = ["line1\nEOF\nline2", "tab\there", "bell\u0007", "cr\rx", "nul\u0000"];
