/**
 * Durations as kops and kubectl take them (Go's syntax): `18h`, `10m`, `1h30m`, `90s`, `500ms`.
 */
import { UsageError } from "./io";

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses a Go-style duration into milliseconds; a usage error names the flag otherwise. */
export function parseDuration(flag: string, value: string): number {
  const text = value.trim();
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (text === "" || parts.map((p) => p[0]).join("") !== text) {
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a duration; write it as 18h, 10m, 1h30m or 90s.`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]], 0);
  if (!(ms > 0)) {
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a positive duration.`);
  }
  return Math.round(ms);
}

/** `5400000` -> `1h30m`: how durations are shown back to the user. */
export function formatDuration(ms: number): string {
  if (ms < 1000) {
    return `${Math.max(0, Math.round(ms))}ms`;
  }
  let seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  seconds -= h * 3600;
  const m = Math.floor(seconds / 60);
  seconds -= m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${seconds || (!h && !m) ? `${seconds}s` : ""}`;
}
