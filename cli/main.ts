/**
 * The `kopsform` command. Exit codes: 0 success, 1 invalid input (one line per problem on stderr),
 * 2 usage errors. User errors never print a stack trace; anything else is a bug and does.
 */
import { Command, CommanderError } from "commander";
import { DEFAULT_CONFIG_DIR, DEFAULT_OUTPUT_DIR } from "../spec/defaults";
import { UserError, printable } from "../spec/problems";
import { addCreateClusterCommand, normalizeBooleanFlags } from "./create-cluster";
import { addDay2Commands } from "./day2-commands";
import { addImportKopsCommand } from "./import-kops";
import { describeSystemError } from "./errors";
import { Interrupted } from "./interrupt";
import { Io, UsageError, processIo } from "./io";
import { kopsPointer } from "./kops-pointers";
import { version as VERSION } from "../package.json";

/** Exit codes of the contract in DESIGN.md. */
export const EXIT = { ok: 0, invalidInput: 1, usage: 2 } as const;

/** Builds the program; commands whose exit code carries meaning (plan) report it through `setExitCode`. */
function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command("kopsform")
    .description("kops-style highly available Kubernetes clusters on AWS, as plain Terraform (CDKTF).")
    .version(VERSION, "-V, --version", "print kopsform's version")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, "")),
      writeErr: (s) => io.err(s.replace(/\n$/, "")),
    });

  const create = program.command("create").description("Create a resource (kops style).");
  addCreateClusterCommand(create, io);

  const imports = program.command("import").description("Write a cluster spec from another tool's description of a cluster.");
  addImportKopsCommand(imports, io, setExitCode);

  program
    .command("synth")
    .description("Synthesize every spec of the config directory into Terraform (one stack per cluster).")
    .option("--config-dir <dir>", "directory of cluster specs", DEFAULT_CONFIG_DIR)
    .option("--output <dir>", "output directory (cdktf's layout)", DEFAULT_OUTPUT_DIR)
    .option("--hcl", "write cdk.tf (HCL) instead of cdk.tf.json")
    .option("--allow-etcd-member-removal", "accept etcd members dropped from the spec without being retired (their volumes would be destroyed)")
    .action(async (o: { configDir: string; output: string; hcl?: boolean; allowEtcdMemberRemoval?: boolean }) => {
      // Loaded on use: cdktf and the provider bindings are only needed to synthesize.
      const { synth } = await import("./synth");
      await synth(
        { configDir: o.configDir, output: o.output, hcl: !!o.hcl, allowEtcdMemberRemoval: !!o.allowEtcdMemberRemoval },
        io,
      );
    });

  program
    .command("plan")
    .description("terraform init + plan on every synthesized stack, with a Markdown summary for pull requests.")
    .option("--output <dir>", "the synthesized output", DEFAULT_OUTPUT_DIR)
    .option("--offline", "plan without AWS credentials (adds a credential-free provider override while planning)")
    .option("--summary <file>", "write the summary of all stacks to this file")
    .option("--provider-mirror <dir>", "filesystem mirror of the AWS provider (default $KOPSFORM_TF_MIRROR)")
    .option("--allow-etcd-member-removal", "accept a plan that destroys etcd volumes (retired members' volumes are forgotten and need no flag)")
    .option(
      "--removed-spec <file>",
      "a spec the change removes, as it was before (CI passes those of a pull request or push): the destruction " +
        "of its cluster is planned and shown, and refused (exit 1) unless its state is empty; repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText("after", "\nExit codes (as terraform plan -detailed-exitcode): 0 no changes, 2 changes, 1 error.")
    .action(
      async (o: {
        output: string;
        offline?: boolean;
        summary?: string;
        providerMirror?: string;
        allowEtcdMemberRemoval?: boolean;
        removedSpec?: string[];
      }) => {
        const { plan } = await import("./plan");
        setExitCode(
          await plan(
            {
              output: o.output,
              offline: !!o.offline,
              summary: o.summary,
              providerMirror: o.providerMirror,
              allowEtcdMemberRemoval: !!o.allowEtcdMemberRemoval,
              removedSpecs: o.removedSpec ?? [],
            },
            io,
          ),
        );
      },
    );

  program
    .command("summarize")
    .description("Render the pull-request summary from `terraform show -json` output, to stdout.")
    .argument("<PLAN.json...>", "plans as JSON (terraform show -json PLANFILE > PLAN.json)")
    .action(async (files: string[]) => {
      const { summarizeFiles } = await import("./summarize");
      setExitCode(summarizeFiles(files, io));
    });

  addDay2Commands(program, io, setExitCode);

  return program;
}

/** Runs `kopsform` with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  // kops's words that kopsform answers differently: a pointer, never a wrong "did you mean".
  const pointer = kopsPointer(argv);
  if (pointer) {
    io.err(pointer);
    return EXIT.usage;
  }
  let exitCode: number = EXIT.ok;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(normalizeBooleanFlags(argv), { from: "user" });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof UserError) {
      e.lines.forEach((line) => io.err(printable(line)));
      return EXIT.invalidInput;
    }
    if (e instanceof Interrupted) {
      io.err(`kopsform: ${e.message}: stopped, nothing more planned.`);
      return e.exitCode;
    }
    // A full disk, a read-only output, a path that is a file: the user's to fix, in one line.
    const system = describeSystemError(e);
    if (system) {
      io.err(system);
      return EXIT.invalidInput;
    }
    throw e;
  }
}
