/**
 * The output directory (`cdktf.out/`) as one set: a synthesis replaces the whole set of files it
 * writes (every stack's configuration and HA report, and `manifest.json`) or none of them, and two
 * runs never mix their files. What else lives in a stack directory (`.terraform/`, lock files, plans,
 * summaries) is never touched.
 *
 * How:
 * - **A lock** (`OUTPUT/.kopsform.lock`, created exclusively, holding the owner's pid and host) for
 *   every command that writes or plans the output. A lock whose process is gone (same host) is
 *   taken over; a live one is refused with one line naming its pid.
 * - **Staging inside the output** (`OUTPUT/.kopsform-staging-*`): the new set is synthesized there,
 *   on the same file system as the files it replaces, so that moving it is a rename even when the
 *   output is a mount point of its own (staging beside the output failed across devices).
 * - **A switch journal** (`OUTPUT/.kopsform-switch.json`): the list of renames and removals that turn
 *   the old set into the new one, written (synced, then renamed into place) before the first of them.
 *   Its appearance is the commit point: a run killed before it leaves the old set; a run killed after
 *   it is finished by the next kopsform command on that output (synth or plan), under the lock,
 *   before anything else. Renames come before removals, and the manifest comes last.
 * - **Cleanup**: staging directories and offline-plan directories of dead runs are removed under the
 *   lock; so are those of the runs before this design (`.kopsform-synth-*` beside the output), once
 *   an hour old.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UserError } from "../spec/problems";

/** The lock file in an output directory. */
export const LOCK_FILE = ".kopsform.lock";
/** The journal of a switch in progress. */
export const JOURNAL_FILE = ".kopsform-switch.json";
/** The prefix of staging directories inside the output. */
export const STAGING_PREFIX = ".kopsform-staging-";
/**
 * The prefix of the directories `kopsform plan` works in beside the stack directories (an offline
 * plan's copy of a stack, a removed cluster's destroy plan).
 */
export const OFFLINE_DIR_PREFIX = ".kopsform-plan-";

/** One step of a switch, with paths relative to the output directory. */
type Operation = { readonly rename: [string, string] } | { readonly remove: string };

/** A switch: the staging directory it moves from, and its steps in order. */
interface Journal {
  readonly staging: string;
  readonly operations: readonly Operation[];
}

/** A held lock on an output directory; {@link release} gives it back. */
export interface OutputLock {
  readonly output: string;
  release(): void;
}

/**
 * Checks that `output` is a directory or does not exist yet (`what` names the flag in messages).
 * Returns whether it exists.
 */
export function checkOutputDirectory(output: string, what = "--output"): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(output);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      return false;
    }
    if (code === "ENOTDIR") {
      throw new UserError([`${what} ${output}: a part of the path is a file, not a directory; give a directory.`]);
    }
    throw e;
  }
  if (!stat.isDirectory()) {
    throw new UserError([`${what} ${output}: is a file, not a directory; give the output directory (the default is cdktf.out).`]);
  }
  return true;
}

/**
 * Takes the lock of `output` (which must exist), finishing an interrupted switch and removing what
 * dead runs left. Throws {@link UserError} when another live kopsform holds it.
 */
export function lockOutput(output: string): OutputLock {
  const file = path.join(output, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: "wx" });
      const lock = {
        output,
        release: () => {
          try {
            if (fs.readFileSync(file, "utf8") === mine) {
              fs.rmSync(file, { force: true });
            }
          } catch {
            // Already gone.
          }
        },
      };
      try {
        recover(output);
      } catch (e) {
        lock.release();
        throw e;
      }
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw e;
      }
    }
    const holder = readLock(file);
    if (holder && isAlive(holder)) {
      throw new UserError([
        `${output}: another kopsform (pid ${holder.pid}${holder.host === os.hostname() ? "" : ` on ${holder.host}`}) is writing or ` +
          `planning this output since ${holder.since ?? "a moment ago"}; wait for it to finish. If no such process runs, remove ${file}.`,
      ]);
    }
    // A dead run's lock: move it aside atomically (only one taker wins), then try again.
    try {
      fs.renameSync(file, `${file}.stale-${process.pid}`);
      fs.rmSync(`${file}.stale-${process.pid}`, { force: true });
    } catch {
      // Another run took it over first; try again.
    }
  }
  throw new UserError([`${output}: could not take ${LOCK_FILE}; try again.`]);
}

function readLock(file: string): { pid: number; host: string; since?: string } | undefined {
  try {
    const lock = JSON.parse(fs.readFileSync(file, "utf8")) as { pid?: unknown; host?: unknown; since?: unknown };
    return typeof lock.pid === "number" && typeof lock.host === "string"
      ? { pid: lock.pid, host: lock.host, since: typeof lock.since === "string" ? lock.since : undefined }
      : undefined;
  } catch {
    // Empty or half written (a run killed while taking it): treat as dead.
    return undefined;
  }
}

/** A lock of another host is taken as live: its process cannot be checked from here. */
function isAlive(lock: { pid: number; host: string }): boolean {
  if (lock.host !== os.hostname()) {
    return true;
  }
  try {
    process.kill(lock.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Finishes a switch that a killed run left half done, then removes staging and offline-plan
 * directories of dead runs. Call with the lock held.
 */
function recover(output: string): void {
  const journalFile = path.join(output, JOURNAL_FILE);
  if (fs.existsSync(journalFile)) {
    let journal: Journal | undefined;
    try {
      journal = JSON.parse(fs.readFileSync(journalFile, "utf8")) as Journal;
    } catch {
      // A journal that never got complete was never renamed into place: this cannot be one of ours.
      journal = undefined;
    }
    if (journal && Array.isArray(journal.operations)) {
      apply(output, journal);
    }
    fs.rmSync(journalFile, { force: true });
  }
  for (const entry of safeReaddir(output)) {
    if (entry.startsWith(STAGING_PREFIX)) {
      fs.rmSync(path.join(output, entry), { recursive: true, force: true });
    }
  }
  const stacks = path.join(output, "stacks");
  for (const entry of safeReaddir(stacks)) {
    if (entry.startsWith(OFFLINE_DIR_PREFIX)) {
      fs.rmSync(path.join(stacks, entry), { recursive: true, force: true });
    }
  }
  // Staging of the kopsform releases before this design, beside the output, once surely dead.
  const parent = path.dirname(path.resolve(output));
  for (const entry of safeReaddir(parent)) {
    const dir = path.join(parent, entry);
    if (entry.startsWith(".kopsform-synth-") && Date.now() - fs.statSync(dir).mtimeMs > 3600_000) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Creates a staging directory inside `output` (locked) for a new set. */
export function createStaging(output: string): string {
  return fs.mkdtempSync(path.join(output, STAGING_PREFIX));
}

/** What a new set holds: the files of each stack (relative to its directory) and the other format's files to remove. */
export interface NewSet {
  readonly stacks: readonly string[];
  readonly files: readonly string[];
  readonly stale: readonly string[];
}

/**
 * Switches `output` to the set synthesized in `staging`: writes the journal (the commit point), then
 * renames each stack's new files into place, removes the other format's files, renames the manifest
 * last, and removes the journal and the staging directory.
 */
export function switchTo(output: string, staging: string, set: NewSet): void {
  const relativeStaging = path.relative(output, staging);
  const operations: Operation[] = [];
  for (const stack of set.stacks) {
    for (const file of set.files) {
      operations.push({ rename: [path.join(relativeStaging, "stacks", stack, file), path.join("stacks", stack, file)] });
    }
  }
  for (const stack of set.stacks) {
    for (const file of set.stale) {
      operations.push({ remove: path.join("stacks", stack, file) });
    }
  }
  operations.push({ rename: [path.join(relativeStaging, "manifest.json"), "manifest.json"] });
  const journal: Journal = { staging: relativeStaging, operations };
  const journalFile = path.join(output, JOURNAL_FILE);
  const pending = `${journalFile}.${process.pid}`;
  const fd = fs.openSync(pending, "w");
  try {
    fs.writeSync(fd, JSON.stringify(journal));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(pending, journalFile);
  apply(output, journal, faultAfterRenames());
  fs.rmSync(journalFile, { force: true });
}

/**
 * A test hook: `KOPSFORM_FAULT_AFTER_RENAMES=N` makes a switch kill its own process (SIGKILL) after
 * N renames, so that the tests can prove that the next run finishes what a killed one started.
 */
function faultAfterRenames(): number | undefined {
  const value = process.env.KOPSFORM_FAULT_AFTER_RENAMES;
  return value === undefined ? undefined : Number(value);
}

/** Carries out a journal's operations; each is done at most once however often this runs. */
function apply(output: string, journal: Journal, faultAfter?: number): void {
  let renames = 0;
  for (const operation of journal.operations) {
    if ("rename" in operation) {
      const [from, to] = operation.rename.map((p) => inside(output, p));
      if (fs.existsSync(from)) {
        fs.mkdirSync(path.dirname(to), { recursive: true });
        move(from, to);
        if (++renames === faultAfter) {
          process.kill(process.pid, "SIGKILL");
        }
      }
    } else {
      fs.rmSync(inside(output, operation.remove), { force: true });
    }
  }
  if (typeof journal.staging === "string" && journal.staging.startsWith(STAGING_PREFIX)) {
    fs.rmSync(inside(output, journal.staging), { recursive: true, force: true });
  }
}

/** A journal's path, made absolute; one that would leave the output is refused. */
function inside(output: string, relative: string): string {
  const full = path.resolve(output, relative);
  if (path.relative(path.resolve(output), full).startsWith("..") || path.isAbsolute(relative)) {
    throw new UserError([`${path.join(output, JOURNAL_FILE)}: names ${JSON.stringify(relative)}, outside the output; remove the file.`]);
  }
  return full;
}

/**
 * Renames `from` onto `to`. Where `to`'s directory is on another file system (a stack directory that
 * is a mount point of its own), the file is copied beside `to` first and renamed there, so that `to`
 * is still replaced whole.
 */
function move(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") {
      throw e;
    }
    const beside = `${to}.kopsform-${process.pid}`;
    fs.copyFileSync(from, beside);
    fs.renameSync(beside, to);
    fs.rmSync(from, { force: true });
  }
}

/**
 * Refuses to replace a `manifest.json` that neither kopsform nor cdktf wrote (`synth --output .` in a
 * directory of one's own): a manifest of theirs has a version and only stacks in `stacks/NAME`.
 */
export function checkManifestIsOurs(output: string): void {
  const file = path.join(output, "manifest.json");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      return;
    }
    throw e;
  }
  if (!isCdktfManifest(text)) {
    throw new UserError([
      `${file}: exists and is not a manifest that kopsform or cdktf wrote; kopsform would replace it. ` +
        "Choose another --output (the default is cdktf.out), or move the file away if it is a broken one of kopsform's.",
    ]);
  }
}

/** True for the text of a cdktf manifest: `{version, stacks: {NAME: {workingDirectory: "stacks/NAME", ...}}}`. */
export function isCdktfManifest(text: string): boolean {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return false;
  }
  if (!manifest || typeof manifest !== "object" || Array.isArray(manifest)) {
    return false;
  }
  const { version, stacks } = manifest as { version?: unknown; stacks?: unknown };
  return (
    typeof version === "string" &&
    !!stacks &&
    typeof stacks === "object" &&
    !Array.isArray(stacks) &&
    Object.entries(stacks).every(
      ([name, stack]) => !!stack && typeof stack === "object" && (stack as { workingDirectory?: unknown }).workingDirectory === `stacks/${name}`,
    )
  );
}
