/**
 * Running the Terraform CLI on a synthesized stack: init, validate, plan, show. Used by
 * `kopsform plan` and by the tests, so that both exercise the same invocation.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UserError } from "../spec/problems";
import { throwIfInterrupted, trackChild } from "./interrupt";

/** The override file that lets `terraform plan` run without AWS credentials or network. */
export const OFFLINE_OVERRIDE_FILE = "kopsform_offline_override.tf.json";

/** Where provider mirrors usually live, tried when no mirror is named. */
const MIRROR_CANDIDATES = [
  "/opt/tf-plugins",
  path.join(os.homedir(), ".terraform.d", "plugins"),
  path.join(os.homedir(), ".local", "share", "terraform", "plugins"),
  "/usr/local/share/terraform/plugins",
  "/usr/share/terraform/plugins",
];

/**
 * The root of a filesystem mirror holding hashicorp/aws (the folder that holds
 * `registry.terraform.io`): `$KOPSFORM_TF_MIRROR` when set, else the first usual location that has it.
 */
export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KOPSFORM_TF_MIRROR) {
    return env.KOPSFORM_TF_MIRROR;
  }
  return MIRROR_CANDIDATES.find((dir) => fs.existsSync(path.join(dir, "registry.terraform.io", "hashicorp", "aws")));
}

/** True when a `terraform` binary answers on PATH. */
export function terraformVersion(): string | undefined {
  const r = spawnSync("terraform", ["version", "-json"], { encoding: "utf8", env: quietEnv({}) });
  if (r.status !== 0) {
    return undefined;
  }
  return (JSON.parse(r.stdout) as { terraform_version: string }).terraform_version;
}

/** Options of a {@link Terraform} runner. */
export interface TerraformOptions {
  /**
   * A filesystem mirror root for providers. When set, Terraform runs with a CLI config that installs
   * hashicorp/aws from it and nothing from the network.
   * @default the user's own Terraform CLI configuration
   */
  readonly mirror?: string;
  /**
   * Terraform's working data directory (`TF_DATA_DIR`): providers, modules and the backend's settings.
   * `kopsform plan --offline` plans in a directory beside the stack with the stack's own data directory.
   * @default `.terraform` in the directory Terraform runs in
   */
  readonly dataDir?: string;
}

/** What a Terraform command printed, and how it ended. */
export interface TerraformResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Thrown when a Terraform command fails unexpectedly; the message carries Terraform's own output. */
export class TerraformError extends Error {
  constructor(
    readonly command: string,
    readonly result: TerraformResult,
  ) {
    super(`terraform ${command} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
    this.name = "TerraformError";
  }
}

/** Terraform's environment: no prompts, no update checks, no colour. */
function quietEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1", ...extra };
}

/** The Terraform CLI, run in one stack directory. */
export class Terraform {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly dir: string,
    options: TerraformOptions = {},
  ) {
    const extra: Record<string, string> = {};
    const dataDir = options.dataDir ? path.resolve(options.dataDir) : path.resolve(dir, ".terraform");
    if (options.dataDir) {
      extra.TF_DATA_DIR = dataDir;
    }
    if (options.mirror) {
      extra.TF_CLI_CONFIG_FILE = writeMirrorConfig(options.mirror, dataDir);
    }
    this.env = quietEnv(extra);
  }

  /** The environment Terraform runs with (for tools that run Terraform themselves, such as the cdktf CLI). */
  environment(): NodeJS.ProcessEnv {
    return { ...this.env };
  }

  /** Runs `terraform ARGS` in the stack directory. */
  run(args: readonly string[]): TerraformResult {
    const r = spawnSync("terraform", [...args], {
      cwd: this.dir,
      env: this.env,
      encoding: "utf8",
      maxBuffer: 512 * 1024 * 1024,
    });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      throw notInstalled();
    }
    if (r.error) {
      throw r.error;
    }
    return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  }

  private check(args: readonly string[]): TerraformResult {
    const result = this.run(args);
    if (result.status !== 0) {
      throw new TerraformError(args[0], result);
    }
    return result;
  }

  /** `terraform init`; `backend: false` skips the backend (for validate-only runs). */
  init(options: { backend?: boolean } = {}): void {
    this.check(initArgs(options));
  }

  /** `terraform validate -json`: whether the configuration is valid, and its diagnostics. */
  validate(): Validation {
    return JSON.parse(this.run(VALIDATE_ARGS).stdout) as Validation;
  }

  /**
   * `terraform plan -detailed-exitcode -out=FILE`: status 0 no changes, 2 changes, 1 error (the
   * result is returned, not thrown, so callers can report Terraform's refusal).
   */
  plan(options: { out: string; refresh?: boolean }): TerraformResult {
    return this.run(planArgs(options));
  }

  /** `terraform show -json PLAN`: the plan as JSON. */
  showJson(planFile: string): PlanJson {
    return JSON.parse(this.check(showArgs(planFile)).stdout) as PlanJson;
  }

  /** `terraform fmt -check -diff`: files that are not formatted (empty when all are). */
  fmtCheck(): TerraformResult {
    return this.run(["fmt", "-check", "-diff", "-no-color"]);
  }
}

/**
 * The commands of {@link Terraform}, run as child processes that do not block: an interrupt of
 * `kopsform plan` is forwarded to the running Terraform (once, as SIGINT, so that it stops cleanly
 * and lets go of the state lock), and {@link Interrupted} is thrown once it has stopped.
 */
export class TerraformProcess {
  constructor(private readonly terraform: Terraform) {}

  /** Runs `terraform ARGS`; Terraform runs in a process group of its own, signalled by kopsform only. */
  run(args: readonly string[]): Promise<TerraformResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("terraform", [...args], { cwd: this.terraform.dir, env: this.terraform.environment(), detached: true });
      const forget = trackChild(child);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => stdout.push(d));
      child.stderr.on("data", (d: Buffer) => stderr.push(d));
      child.on("error", (e: NodeJS.ErrnoException) => {
        forget();
        reject(e.code === "ENOENT" ? notInstalled() : e);
      });
      child.on("close", (code) => {
        forget();
        try {
          throwIfInterrupted();
        } catch (e) {
          reject(e);
          return;
        }
        resolve({ status: code ?? 1, stdout: Buffer.concat(stdout).toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8") });
      });
    });
  }

  private async check(args: readonly string[]): Promise<TerraformResult> {
    const result = await this.run(args);
    if (result.status !== 0) {
      throw new TerraformError(args[0], result);
    }
    return result;
  }

  async init(options: { backend?: boolean } = {}): Promise<void> {
    await this.check(initArgs(options));
  }

  async validate(): Promise<Validation> {
    return JSON.parse((await this.run(VALIDATE_ARGS)).stdout) as Validation;
  }

  /** `terraform plan` (`destroy`: the plan that destroys everything in the state). */
  plan(options: { out: string; refresh?: boolean; destroy?: boolean }): Promise<TerraformResult> {
    return this.run(planArgs(options));
  }

  async showJson(planFile: string): Promise<PlanJson> {
    return JSON.parse((await this.check(showArgs(planFile))).stdout) as PlanJson;
  }

  /** `terraform state pull`: the state as JSON text (read only; no lock is taken). */
  async statePull(): Promise<string> {
    return (await this.check(["state", "pull"])).stdout;
  }
}

/** What `terraform validate -json` says. */
export interface Validation {
  readonly valid: boolean;
  readonly diagnostics: readonly { severity: string; summary: string; detail?: string }[];
}

function notInstalled(): UserError {
  return new UserError(["terraform is not on PATH: install Terraform >= 1.10 to plan (kopsform synth needs no Terraform)."]);
}

function initArgs(options: { backend?: boolean }): string[] {
  return ["init", "-input=false", "-no-color", `-backend=${options.backend ?? true}`];
}

const VALIDATE_ARGS = ["validate", "-json", "-no-color"];

function planArgs(options: { out: string; refresh?: boolean; destroy?: boolean }): string[] {
  return [
    "plan",
    "-input=false",
    "-no-color",
    "-detailed-exitcode",
    ...(options.destroy ? ["-destroy"] : []),
    `-refresh=${options.refresh ?? true}`,
    `-out=${options.out}`,
  ];
}

function showArgs(planFile: string): string[] {
  return ["show", "-json", "-no-color", planFile];
}

/** The parts of `terraform show -json` output that kopsform reads. */
export interface PlanJson {
  readonly format_version: string;
  readonly terraform_version?: string;
  readonly resource_changes?: readonly ResourceChange[];
  readonly planned_values?: { readonly outputs?: Record<string, { readonly value?: unknown }> };
  readonly [key: string]: unknown;
}

/** One entry of a plan's `resource_changes`. */
export interface ResourceChange {
  readonly address: string;
  readonly mode: "managed" | "data";
  readonly type: string;
  readonly name: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before: unknown;
    readonly after: unknown;
    readonly after_unknown?: unknown;
    /** Attribute paths that force a replacement (lists of attribute names, map keys and indexes). */
    readonly replace_paths?: readonly (readonly (string | number)[])[];
  };
  readonly action_reason?: string;
  /** Set for a deposed object (a leftover of create_before_destroy). */
  readonly deposed?: string;
}

/**
 * Writes the provider override that makes `terraform plan` work offline: dummy credentials and no
 * calls to STS or the instance metadata service, as a `*_override.tf.json` file in `dir`, never in the
 * generated configuration. `kopsform plan --offline` writes it only in a directory of its own beside
 * the stack (see cli/plan.ts), never in a stack directory; the tests use it on their own stacks.
 */
export function writeOfflineOverride(dir: string): void {
  fs.writeFileSync(path.join(dir, OFFLINE_OVERRIDE_FILE), offlineOverrideText());
}

/** The text of the offline override file. */
export function offlineOverrideText(): string {
  const override = {
    provider: {
      aws: [
        {
          access_key: "kopsform-offline-plan",
          secret_key: "kopsform-offline-plan",
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
        },
      ],
    },
  };
  return `${JSON.stringify(override, null, 2)}\n`;
}

/**
 * A Terraform CLI config that installs hashicorp/aws from `mirror` only; returns its path. It is
 * written in the stack's own data directory (`.terraform/`), not in a shared temporary folder where
 * another user could plant a configuration of their own.
 */
function writeMirrorConfig(mirror: string, dataDir: string): string {
  const text =
    "provider_installation {\n" +
    "  filesystem_mirror {\n" +
    `    path    = ${JSON.stringify(path.resolve(mirror))}\n` +
    '    include = ["registry.terraform.io/hashicorp/aws"]\n' +
    "  }\n" +
    "  direct {\n" +
    '    exclude = ["registry.terraform.io/hashicorp/aws"]\n' +
    "  }\n" +
    "}\n";
  const file = path.join(dataDir, "kopsform-cli.tfrc");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}
