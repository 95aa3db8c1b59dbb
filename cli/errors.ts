/**
 * Failures of the system rather than of kopsform: a full disk, a read-only or unreadable path, a file
 * where a directory belongs. Each becomes one line naming the path and what to do (exit 1), never a
 * stack trace: they are the user's to fix, and what kopsform writes is never left half done (see
 * stacks/output.ts).
 */
import { printable } from "../spec/problems";

/** What to do about each error code, after the path. */
const FIXES: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device; free some space and run the command again",
  EDQUOT: "the disk quota is exceeded; free some space and run the command again",
  EROFS: "the file system is read-only; choose a writable --output",
  EACCES: "permission denied; check the permissions of the path, or choose another one",
  EPERM: "operation not permitted; check the permissions of the path, or choose another one",
  ENOTDIR: "a part of the path is a file, not a directory; fix the path",
  EISDIR: "is a directory where a file was expected; give a file path",
  ENOENT: "does not exist; check the path",
  EEXIST: "already exists; remove it or choose another path",
  ELOOP: "is a symbolic link that loops; fix the link",
  ENAMETOOLONG: "the name is too long; choose a shorter path",
  EMFILE: "too many open files; raise the limit (ulimit -n) and run the command again",
  EBUSY: "is busy (a mount point or in use); choose another path",
  EXDEV: "is on another file system than its staging; report this, it should not happen",
};

/** One line for an error of the operating system (a Node.js error with a `code`), or undefined for anything else. */
export function describeSystemError(e: unknown): string | undefined {
  if (!(e instanceof Error)) {
    return undefined;
  }
  const { code, path, dest, syscall } = e as NodeJS.ErrnoException & { dest?: string };
  if (typeof code !== "string" || !/^E[A-Z]+$/.test(code)) {
    return undefined;
  }
  const where = dest ? `${path} -> ${dest}` : path;
  const fix = FIXES[code] ?? `${syscall ?? "the operation"} failed`;
  return printable(`kopsform: ${where ?? "a file"}: ${fix} (${code}).`);
}
