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

interface AccessFlags {
  readonly kubeconfig?: string;
  readonly server?: string;
  readonly tlsServerName?: string;
  readonly pollInterval: string;
  readonly configDir: string;
  readonly output: "table" | "json";
}

interface ValidateFlags extends AccessFlags {
  readonly wait?: string;
}

interface RollingUpdateFlags extends AccessFlags {
  readonly yes?: boolean;
  readonly instanceGroup?: string[];
  readonly force?: boolean;
  readonly validationTimeout: string;
  readonly drainTimeout: string;
}

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
    .option("--internal", "use the API's internal address (api.internal.NAME, or the internal load balancer's name), from inside the VPC")
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

  const validate = verb(program, "validate", "Check a running cluster (kops style).");
  accessOptions(
    validate
      .command("cluster")
      .description("Check groups, instances, Nodes, control-plane pods and etcd; exit 0 healthy, 3 degraded, 4 broken.")
      .argument("<NAME>", "cluster name")
      .option("--wait <duration>", "keep checking until healthy, at most this long (e.g. 10m)")
      .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(outputFormat))
      .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR),
  )
    .addOption(new Option("--poll-interval <duration>", "time between two checks").default("10s").hideHelp())
    .addHelpText("after", "\nExit codes: 0 healthy; 3 degraded (serving, quorum kept, something missing); 4 broken (API down or etcd without quorum); 1 invalid input.")
    .action(async (name: string, o: ValidateFlags) => {
      const { validateCluster } = await import("./validate-cluster");
      setExitCode(
        await validateCluster(
          {
            name,
            configDir: o.configDir,
            waitMs: o.wait ? parseDuration("--wait", o.wait) : 0,
            output: o.output,
            kubeconfig: o.kubeconfig,
            server: o.server,
            tlsServerName: o.tlsServerName,
            timing: { pollMs: parseDuration("--poll-interval", o.pollInterval), progressMs: 30_000 },
          },
          io,
        ),
      );
    });

  const rollingUpdate = verb(program, "rolling-update", "Replace out-of-date instances (kops style).");
  accessOptions(
    rollingUpdate
      .command("cluster")
      .description("Replace instances whose launch template version is not their group's: masters one at a time, each waited for until healthy; nodes drained first.")
      .argument("<NAME>", "cluster name")
      .option("-y, --yes", "do it (without: print the plan)")
      .option("--instance-group <names>", "only these instance groups (comma-separated, repeatable)", (v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        ...v.split(",").map((x) => x.trim()).filter(Boolean),
      ])
      .option("--force", "replace every instance, up to date or not")
      .option("--validation-timeout <duration>", "how long a replacement may take to become healthy", "15m")
      .option("--drain-timeout <duration>", "how long draining a node may take (PodDisruptionBudgets may hold it)", "15m")
      .addOption(new Option("-o, --output <format>", "table or json").default("table").argParser(outputFormat))
      .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR),
  )
    .addOption(new Option("--poll-interval <duration>", "time between two checks").default("10s").hideHelp())
    .action(async (name: string, o: RollingUpdateFlags) => {
      const { rollingUpdate: run } = await import("./rolling-update");
      await run(
        {
          name,
          configDir: o.configDir,
          yes: !!o.yes,
          instanceGroups: o.instanceGroup,
          force: !!o.force,
          validationTimeoutMs: parseDuration("--validation-timeout", o.validationTimeout),
          drainTimeoutMs: parseDuration("--drain-timeout", o.drainTimeout),
          output: o.output,
          kubeconfig: o.kubeconfig,
          server: o.server,
          tlsServerName: o.tlsServerName,
          timing: { pollMs: parseDuration("--poll-interval", o.pollInterval), progressMs: 30_000 },
        },
        io,
      );
    });

  const del = verb(program, "delete", "Delete a cluster (kops style).");
  del
    .command("cluster")
    .description("Destroy a cluster through Terraform, its etcd safeguards lifted for this run only, and remove what it wrote at run time.")
    .argument("<NAME>", "cluster name")
    .option("-y, --yes", "do it (without: show what goes)")
    .option("--delete-backups", "also delete the etcd backups (kept by default)")
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .option("--output <dir>", "the synthesized output (the temporary stack is made beside it)", DEFAULT_OUTPUT_DIR)
    .option("--provider-mirror <dir>", "filesystem mirror of the AWS provider (default $KOPSFORM_TF_MIRROR)")
    .action(async (name: string, o: { yes?: boolean; deleteBackups?: boolean; configDir: string; output: string; providerMirror?: string }) => {
      const { deleteCluster } = await import("./delete-cluster");
      await deleteCluster(
        { name, yes: !!o.yes, deleteBackups: !!o.deleteBackups, configDir: o.configDir, output: o.output, providerMirror: o.providerMirror },
        io,
      );
    });

  const get = verb(program, "get", "List resources (kops style).");
  get
    .command("clusters")
    .alias("cluster")
    .description("List the clusters of the config directory.")
    .argument("[NAME...]", "only these clusters")
    .addOption(new Option("-o, --output <format>", "table, json or yaml").default("table"))
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .action(async (names: string[], o: { output: string; configDir: string }) => {
      const { getClusters } = await import("./get-clusters");
      setExitCode(getClusters({ names, output: o.output, configDir: o.configDir }, io));
    });

  const edit = verb(program, "edit", "Edit a resource (kops style).");
  edit
    .command("cluster")
    .description("Open the cluster's spec in $EDITOR; the file is replaced only by a spec that validates.")
    .argument("<NAME>", "cluster name")
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .action(async (name: string, o: { configDir: string }) => {
      const { editCluster } = await import("./edit-cluster");
      await editCluster({ name, configDir: o.configDir }, io);
    });
}
