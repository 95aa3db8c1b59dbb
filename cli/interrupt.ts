/**
 * Interrupts of `kopsform plan`: Ctrl-C (SIGINT), SIGTERM (CI cancelling a job) and SIGHUP. The
 * running Terraform is asked to stop (one SIGINT: it stops cleanly and lets go of the state lock),
 * and once it has, {@link Interrupted} is thrown, so that the command's own cleanup runs (the offline
 * plan's directory, the output's lock) and it exits with 128 + the signal's number, as a shell reports
 * it. SIGKILL cannot be handled: what it leaves behind is found and removed by the next run (see
 * stacks/output.ts), and the offline plan's credentials are never in a stack directory anyway.
 */
import { ChildProcess } from "child_process";
import * as os from "os";

/** Thrown once a command has stopped what it ran after an interrupt. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted (${signal})`);
    this.name = "Interrupted";
  }

  /** The exit code a shell reports for the signal. */
  get exitCode(): number {
    return 128 + (os.constants.signals[this.signal] ?? 0);
  }
}

const children = new Set<ChildProcess>();
let interruptedBy: NodeJS.Signals | undefined;
let watchers = 0;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** What this module does on a signal: see the module's comment. */
function onSignal(signal: NodeJS.Signals): void {
  if (interruptedBy) {
    // A second interrupt: stop waiting for Terraform.
    children.forEach((child) => signalGroup(child, "SIGKILL"));
    process.exit(new Interrupted(interruptedBy).exitCode);
  }
  interruptedBy = signal;
  // Terraform stops; the command notices when it returns (or at its next step).
  children.forEach((child) => signalGroup(child, "SIGINT"));
}

/**
 * Handles interrupts (instead of dying at once) until the returned function is called: the command
 * then runs with the default behaviour again, as does a process that runs it in process (the tests).
 */
export function watchInterrupts(): () => void {
  if (watchers++ === 0) {
    interruptedBy = undefined;
    SIGNALS.forEach((signal) => process.on(signal, onSignal));
  }
  return () => {
    if (--watchers === 0) {
      SIGNALS.forEach((signal) => process.off(signal, onSignal));
    }
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) {
      process.kill(-child.pid, signal);
    }
  } catch {
    // Already gone.
  }
}

/** Tracks a child (spawned in a process group of its own) to forward an interrupt to; returns the untracking function. */
export function trackChild(child: ChildProcess): () => void {
  children.add(child);
  return () => children.delete(child);
}

/** Throws {@link Interrupted} when an interrupt came. */
export function throwIfInterrupted(): void {
  if (interruptedBy) {
    throw new Interrupted(interruptedBy);
  }
}
