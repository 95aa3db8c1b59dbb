/**
 * `kopsform edit cluster NAME`: the spec in $EDITOR, as `kops edit cluster`. The spec file is
 * replaced only by an edit that validates (the same checks as synth, the upgrade rules included);
 * an invalid edit leaves the file as it was and offers to edit again, with the problems written at
 * the top of the copy being edited, so that nothing typed is lost.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { parseSpecText } from "../spec/load";
import { UserError } from "../spec/problems";
import { specFileOf } from "./cluster-spec";
import { Io } from "./io";

/** Options of `edit cluster`. */
export interface EditClusterOptions {
  readonly name: string;
  readonly configDir: string;
}

/** Asks the user a yes/no question; false without a terminal. */
export type Ask = (question: string) => Promise<boolean>;

/** The editor command: $VISUAL, $EDITOR, else vi (as kubectl and kops). */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || "vi";
}

const PROBLEM_MARK = "# kopsform: ";

/** Asks on the terminal; without one (a script, CI) the answer is no. */
export const terminalAsk: Ask = async (question) => {
  if (!process.stdin.isTTY) {
    return false;
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [Y/n] `, resolve));
    return !/^n/i.test(answer.trim());
  } finally {
    rl.close();
  }
};

/** Edits the spec; throws {@link UserError} (exit 1) when the edit is abandoned invalid. */
export async function editCluster(o: EditClusterOptions, io: Io, ask: Ask = terminalAsk, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = specFileOf(o.configDir, o.name);
  const original = fs.readFileSync(file, "utf8");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-edit-"));
  // The same base name, so that editors pick YAML highlighting.
  const copy = path.join(dir, path.basename(file));
  fs.writeFileSync(copy, original, { mode: 0o600 });
  let keepCopy = false;
  try {
    // Bounded by the user: each round is one edit, and a "no" ends it.
    for (;;) {
      const editor = editorCommand(env);
      // Through the shell, as git and kubectl run $EDITOR ("code --wait" works); the file is an
      // argument of the shell, never part of the command text.
      const r = spawnSync("/bin/sh", ["-c", `${editor} "$1"`, "sh", copy], { stdio: "inherit", env });
      if (r.error || r.status !== 0) {
        keepCopy = true;
        throw new UserError([`edit cluster: the editor (${editor}) failed${r.status ? ` with exit ${r.status}` : ""}; ${file} is unchanged (your edit, if any, is in ${copy}).`]);
      }
      const edited = stripProblems(fs.readFileSync(copy, "utf8"));
      if (edited === stripProblems(original)) {
        io.out(`Edit cancelled, no changes made to ${file}.`);
        return;
      }
      let problems: readonly string[] = [];
      try {
        parseSpecText(edited, file);
      } catch (e) {
        if (!(e instanceof UserError)) {
          throw e;
        }
        problems = e.lines;
      }
      if (problems.length === 0) {
        const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
        fs.writeFileSync(tmp, edited, { mode: fs.statSync(file).mode & 0o777 });
        fs.renameSync(tmp, file);
        io.out(`Wrote ${file}. Next: npx kopsform synth, review the plan, apply.`);
        return;
      }
      problems.forEach((p) => io.err(p));
      io.err(`${file} is unchanged.`);
      if (!(await ask("Edit again?"))) {
        keepCopy = true;
        throw new UserError([`edit cluster: the edit is not valid; ${file} is unchanged, your edit is kept in ${copy}.`]);
      }
      // Reopen the edit with the problems on top, as kops and kubectl do.
      fs.writeFileSync(copy, `${problems.map((p) => `${PROBLEM_MARK}${p}`).join("\n")}\n${edited}`);
    }
  } finally {
    if (!keepCopy) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Removes the problem lines kopsform put at the top of a copy. */
function stripProblems(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.startsWith(PROBLEM_MARK))
    .join("\n");
}
