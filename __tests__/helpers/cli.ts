/**
 * Running `kopsform` in tests: in process (fast, output captured) or as a real process (exit codes,
 * no stack traces on stderr).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { main } from "../../cli/main";

/** What a command printed and returned. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kopsform ARGS` in this process. */
export async function kopsform(args: readonly string[]): Promise<CommandResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

/** Runs the real `bin/kopsform.js` (the compiled CLI) in `cwd`. */
export function kopsformProcess(args: readonly string[], cwd: string): CommandResult {
  const bin = path.join(__dirname, "..", "..", "bin", "kopsform.js");
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a bash command line with `kopsform` defined as the real CLI (for the seed's examples verbatim). */
export function bash(script: string, cwd: string, env: Record<string, string> = {}): CommandResult {
  const bin = path.join(__dirname, "..", "..", "bin", "kopsform.js");
  const prelude = `kopsform() { ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"; }\n`;
  const r = spawnSync("bash", ["-c", prelude + script], { cwd, encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
