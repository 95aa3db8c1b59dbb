/**
 * Bounded waits with progress: every wait of the day-2 commands has a deadline, says what it waits
 * for while it waits, and fails with the last thing it saw.
 */
import { formatDuration } from "./duration";
import { Io } from "./io";
import { KubeUnreachableError } from "./kube-api";

/** How often and how long to poll. */
export interface Timing {
  /** Between two checks. @default 10 s */
  readonly pollMs: number;
  /** At least this long between two progress lines that say the same. @default 30 s */
  readonly progressMs: number;
}

/** @default poll every 10 s, repeat an unchanged progress line every 30 s */
export const DEFAULT_TIMING: Timing = { pollMs: 10_000, progressMs: 30_000 };

/** A wait ran out of time; `status` is the last thing seen. */
export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly status: string,
    readonly waitedMs: number,
  ) {
    super(`${what}: not reached within ${formatDuration(waitedMs)} (last seen: ${status})`);
    this.name = "WaitTimeoutError";
  }
}

/** One look at what is being waited for: done with a value, or not yet with what was seen. */
export type Check<T> = { readonly done: true; readonly value: T } | { readonly done: false; readonly status: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it is done or `timeoutMs` has passed. An API server that does not answer is a
 * state to wait through (a master is being replaced), not an error. Progress goes to stderr.
 */
export async function waitFor<T>(what: string, check: () => Promise<Check<T>>, timeoutMs: number, io: Io, timing: Timing): Promise<T> {
  const start = Date.now();
  let lastStatus = "not checked yet";
  let lastPrinted = "";
  let lastPrintedAt = 0;
  for (;;) {
    let result: Check<T>;
    try {
      result = await check();
    } catch (e) {
      if (!(e instanceof KubeUnreachableError)) {
        throw e;
      }
      result = { done: false, status: `the API does not answer (${e.reason})` };
    }
    if (result.done) {
      return result.value;
    }
    lastStatus = result.status;
    const elapsed = Date.now() - start;
    if (elapsed >= timeoutMs) {
      throw new WaitTimeoutError(what, lastStatus, elapsed);
    }
    if (lastStatus !== lastPrinted || Date.now() - lastPrintedAt >= timing.progressMs) {
      io.err(`  waiting for ${what}: ${lastStatus} (${formatDuration(elapsed)} of ${formatDuration(timeoutMs)})`);
      lastPrinted = lastStatus;
      lastPrintedAt = Date.now();
    }
    await sleep(Math.min(timing.pollMs, Math.max(0, timeoutMs - elapsed)));
  }
}
