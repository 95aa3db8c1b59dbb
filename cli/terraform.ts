/**
 * Running the Terraform CLI on a synthesized stack: init, validate, plan, show. Used by
 * `kopsform plan` and by the tests, so that both exercise the same invocation.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UserError } from "../spec/problems";

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
    if (options.mirror) {
      extra.TF_CLI_CONFIG_FILE = writeMirrorConfig(options.mirror, dir);
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
      throw new UserError(["terraform is not on PATH: install Terraform >= 1.10 to plan (kopsform synth needs no Terraform)."]);
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
    this.check(["init", "-input=false", "-no-color", `-backend=${options.backend ?? true}`]);
  }

  /** `terraform validate -json`: whether the configuration is valid, and its diagnostics. */
  validate(): { valid: boolean; diagnostics: { severity: string; summary: string; detail?: string }[] } {
    const result = this.run(["validate", "-json", "-no-color"]);
    return JSON.parse(result.stdout) as ReturnType<Terraform["validate"]>;
  }

  /**
   * `terraform plan -detailed-exitcode -out=FILE`: status 0 no changes, 2 changes, 1 error (the
   * result is returned, not thrown, so callers can report Terraform's refusal).
   */
  plan(options: { out: string; refresh?: boolean }): TerraformResult {
    return this.run([
      "plan",
      "-input=false",
      "-no-color",
      "-detailed-exitcode",
      `-refresh=${options.refresh ?? true}`,
      `-out=${options.out}`,
    ]);
  }

  /** `terraform show -json PLAN`: the plan as JSON. */
  showJson(planFile: string): PlanJson {
    return JSON.parse(this.check(["show", "-json", "-no-color", planFile]).stdout) as PlanJson;
  }

  /** `terraform fmt -check -diff`: files that are not formatted (empty when all are). */
  fmtCheck(): TerraformResult {
    return this.run(["fmt", "-check", "-diff", "-no-color"]);
  }
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
 * calls to STS or the instance metadata service. It sits next to the stack as a `*_override.tf.json`
 * file, never in the generated configuration; {@link removeOfflineOverride} takes it away again.
 */
export function writeOfflineOverride(stackDir: string): void {
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
  fs.writeFileSync(path.join(stackDir, OFFLINE_OVERRIDE_FILE), `${JSON.stringify(override, null, 2)}\n`);
}

/** Removes the offline override, so that a later real plan or apply uses real credentials. */
export function removeOfflineOverride(stackDir: string): void {
  fs.rmSync(path.join(stackDir, OFFLINE_OVERRIDE_FILE), { force: true });
}

/**
 * A Terraform CLI config that installs hashicorp/aws from `mirror` only; returns its path. It is
 * written in the stack's own `.terraform/` folder (Terraform's working data), not in a shared
 * temporary folder where another user could plant a configuration of their own.
 */
function writeMirrorConfig(mirror: string, stackDir: string): string {
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
  const file = path.resolve(stackDir, ".terraform", "kopsform-cli.tfrc");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}
