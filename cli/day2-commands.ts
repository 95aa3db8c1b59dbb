/**
 * The commands that act on a cluster after `create cluster` and the apply, as kops users know them:
 * `export kubecfg`, `validate cluster`, `rolling-update cluster`, `delete cluster`, `get clusters`,
 * `edit cluster`. Each command's module (and the AWS SDK, X.509 and Kubernetes code it needs) is
 * loaded only when that command runs.
 */
import { Command, Option } from "commander";
import { DEFAULT_CONFIG_DIR, DEFAULT_OUTPUT_DIR } from "../spec/defaults";
import { parseDuration } from "./duration";
import { Io, UsageError } from "./io";

/** Finds or adds the sub-command `name` of `program` (`create`, `get`, ... are shared with other commands). */
function verb(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

/** `--output table|json`, checked. */
function outputFormat(value: string): "table" | "json" {
  if (value !== "table" && value !== "json") {
    throw new UsageError(`--output: ${JSON.stringify(value)} is not an output format; use table or json.`);
  }
  return value;
}

const accessOptions = (cmd: Command) =>
  cmd
    .option("--kubeconfig <path>", "use context NAME of this kubeconfig (default: mint a short-lived admin credential in memory)")
    .option("--server <url>", "the API's address when it is not reached by its usual name (e.g. a tunnel: https://127.0.0.1:8443)")
    .option("--tls-server-name <name>", "the name the API server's certificate carries, with --server (e.g. api.NAME)");

/** Adds the day-2 commands to `program`. `setExitCode` carries the exit codes of `validate`. */
export function addDay2Commands(program: Command, io: Io, setExitCode: (code: number) => void): void {
  const exportCmd = verb(program, "export", "Export cluster credentials (kops style).");
  exportCmd
    .command("kubecfg")
    .alias("kubeconfig")
    .description("Write a kubeconfig with a short-lived admin certificate signed by the cluster's CA, merged into ~/.kube/config.")
    .argument("<NAME>", "cluster name")
    .option("--admin", "admin credentials (a client certificate in system:masters); required")
    .option("--ttl <duration>", "lifetime of the client certificate", "18h")
    .option("--internal", "use the internal API load balancer (refused when it is internet-facing)")
    .option("--kubeconfig <path>", "kubeconfig to write (default: the first file of $KUBECONFIG, else ~/.kube/config)")
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .action(async (name: string, o: { admin?: boolean; ttl: string; internal?: boolean; kubeconfig?: string; configDir: string }) => {
      const { exportKubecfg } = await import("./export-kubecfg");
      await exportKubecfg(
        {
          name,
          admin: !!o.admin,
          ttlMs: parseDuration("--ttl", o.ttl),
          internal: !!o.internal,
          kubeconfig: o.kubeconfig,
          configDir: o.configDir,
        },
        io,
      );
    });
  void Option;
  void DEFAULT_OUTPUT_DIR;
  void accessOptions;
  void outputFormat;
  void setExitCode;
}
