/**
 * How commands talk to the user, injectable so that tests run commands in process.
 */

/** Output streams of a command: results on `out`, problems and warnings on `err`. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** The process's own stdout and stderr. */
export const processIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** A command used wrongly (exit code 2): a flag that does not exist, a missing argument. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
