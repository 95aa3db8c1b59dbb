/**
 * `kopsform validate cluster NAME [--wait 10m]`: the cluster's health at a glance, with an exit code
 * for scripts (0 healthy, 3 degraded, 4 broken; see cluster-health.ts for what each means).
 */
import { AwsClients } from "./aws";
import { AccessOptions, connectToCluster } from "./cluster-access";
import { ClusterReport, VERDICT_EXIT, assessCluster } from "./cluster-health";
import { loadClusterSpec } from "./cluster-spec";
import { formatDuration } from "./duration";
import { Io } from "./io";
import { DEFAULT_TIMING, Timing } from "./wait";

/** Options of `validate cluster`. */
export interface ValidateOptions extends AccessOptions {
  readonly name: string;
  readonly configDir: string;
  /** Keep checking until healthy or this long has passed. @default 0 (check once) */
  readonly waitMs: number;
  readonly output: "table" | "json";
  /** @default {@link DEFAULT_TIMING} */
  readonly timing?: Timing;
}

/** Validates the cluster and returns the exit code of its verdict. */
export async function validateCluster(o: ValidateOptions, io: Io, aws?: AwsClients): Promise<number> {
  const { spec } = loadClusterSpec(o.configDir, o.name);
  const clients = aws ?? new AwsClients(spec.region);
  const timing = o.timing ?? DEFAULT_TIMING;
  const kube = await connectToCluster(spec, clients, o);
  try {
    const start = Date.now();
    let report = await assessCluster(spec, clients, kube);
    // Bounded by --wait; progress on stderr so that stdout stays the report alone.
    while (report.verdict !== "healthy" && Date.now() - start + timing.pollMs <= o.waitMs) {
      io.err(`${spec.name}: ${report.verdict} (${report.problems[0]}); checking again (${formatDuration(Date.now() - start)} of ${formatDuration(o.waitMs)})`);
      await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
      report = await assessCluster(spec, clients, kube);
    }
    if (o.output === "json") {
      io.out(JSON.stringify({ ...report, exitCode: VERDICT_EXIT[report.verdict] }, null, 2));
    } else {
      renderReport(report).forEach((line) => io.out(line));
    }
    return VERDICT_EXIT[report.verdict];
  } finally {
    kube.close();
  }
}

/** Columns padded to their widest cell. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd());
}

/** The report as a person reads it: the verdict first, then groups, masters, nodes and problems. */
export function renderReport(r: ClusterReport): string[] {
  const lines: string[] = [];
  const verdict = r.verdict.toUpperCase();
  lines.push(`Cluster ${r.cluster}: ${verdict} (exit ${VERDICT_EXIT[r.verdict]})`);
  const etcd = !r.api.reachable ? "unknown" : r.api.etcdOk ? "ok" : "FAILING";
  lines.push(
    `  control plane: ${r.masters.healthy}/${r.masters.expected} masters healthy, etcd quorum ${r.masters.quorum}; ` +
      `API ${r.api.reachable ? (r.api.readyz?.ok ? "ready" : "NOT READY") : "NOT ANSWERING"} at ${r.api.server}; etcd ${etcd}`,
  );
  lines.push("");
  lines.push("INSTANCE GROUPS");
  lines.push(
    ...table([
      ["NAME", "ROLE", "MIN", "DESIRED", "MAX", "IN SERVICE", "UP TO DATE"],
      ...r.groups.map((g) => [g.name, g.role, String(g.min), String(g.desired), String(g.max), String(g.inService), String(g.upToDate)]),
    ]).map((l) => `  ${l}`),
  );
  if (r.api.reachable) {
    lines.push("");
    lines.push("NODES");
    lines.push(
      ...table([
        ["NAME", "ROLE", "READY", "GROUP", "INSTANCE", "VERSION"],
        ...r.nodes.map((n) => [
          n.name,
          n.role,
          n.ready ? (n.unschedulable ? "True,SchedulingDisabled" : "True") : "False",
          n.group ?? "-",
          n.instanceId ?? "-",
          n.kubeletVersion ?? "-",
        ]),
      ]).map((l) => `  ${l}`),
    );
  }
  lines.push("");
  if (r.problems.length === 0) {
    lines.push(`Your cluster ${r.cluster} is ready`);
  } else {
    lines.push("PROBLEMS");
    lines.push(...r.problems.map((p) => `  ${p}`));
  }
  return lines;
}
