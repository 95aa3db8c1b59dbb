/**
 * One simulated master for the boot scripts' unit tests: a fake AWS on loopback (one per test, so
 * that its instance metadata answers for 127.0.0.1), the masters' IAM policy as kopsform
 * synthesizes it, a root directory, and a bash driver that sources boot/lib.sh and the steps under
 * test, run in a private mount namespace (the fake mount bind-mounts) with the simulation's fakes
 * first on PATH and the real AWS CLI, openssl, curl and tar behind them.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { ClusterStack } from "../../stacks/cluster-stack";
import { TerraformJson, resources, validSpec } from "../helpers/cluster";
import { FakeAws, FakeInstance, FakeVolume, IamStatement } from "./fake-aws";
import { RunResult, SIM_KEY_ARN, rolePolicies } from "./cluster";

export const CLUSTER = "unit.example.com";
export const ZONE = "us-west-2a";
export const BOOT = path.join(__dirname, "..", "..", "boot");
const SIM_BIN = path.join(__dirname, "bin");

let synthesized: TerraformJson | undefined;

/** The configuration of a one-master cluster (synthesized once per test file). */
export function unitClusterJson(): TerraformJson {
  if (!synthesized) {
    const spec = validSpec({ name: CLUSTER, zones: [ZONE, "us-west-2b"], topology: "private" }).spec;
    synthesized = JSON.parse(Testing.synth(new ClusterStack(Testing.app({ stackTraces: false }), { spec }), true)) as TerraformJson;
  }
  return synthesized;
}

/** Options of {@link OneInstance.create}. */
export interface OneInstanceOptions {
  /** @default "nvme" */
  readonly deviceStyle?: FakeInstance["deviceStyle"];
  /** Sids of the masters' policy to leave out (a policy missing a right). @default none */
  readonly withoutStatements?: readonly string[];
  /** Values of cluster.env. */
  readonly env?: Record<string, string>;
}

export class OneInstance {
  readonly instanceId = "i-0aaaaaaaaaaaaaaa1";

  private constructor(
    readonly dir: string,
    readonly root: string,
    readonly aws: FakeAws,
    readonly instance: FakeInstance,
  ) {}

  static async create(options: OneInstanceOptions = {}): Promise<OneInstance> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-boot-"));
    const root = path.join(dir, "root");
    fs.mkdirSync(path.join(root, "etc", "kopsform"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc", "fstab"), "LABEL=cloudimg-rootfs\t/\text4\tdefaults\t0 1");
    fs.writeFileSync(path.join(root, "etc", "hosts"), "127.0.0.1\tlocalhost\n");
    const json = unitClusterJson();
    const policies = rolePolicies(json, { bucket: "unit-bucket" });
    const masters = Object.keys(policies).find((r) => r.startsWith("masters-")) as string;
    policies[masters] = policies[masters].filter((s: IamStatement) => !(options.withoutStatements ?? []).includes(s.Sid ?? ""));
    const downloads = path.join(dir, "downloads");
    fs.mkdirSync(downloads);
    const aws = new FakeAws({
      host: "127.0.0.1",
      region: "us-west-2",
      account: "111122223333",
      policies,
      keyAliases: { "alias/kopsform/unit-example-com": SIM_KEY_ARN },
      buckets: { "unit-bucket": SIM_KEY_ARN },
      downloads,
      detachDelayMs: 200,
    });
    await aws.start();
    const template = resources(json, "aws_launch_template")["master-us-west-2a"];
    const tags = (template.tag_specifications as { resource_type: string; tags: Record<string, string> }[]).find((t) => t.resource_type === "instance")?.tags ?? {};
    const instance = aws.addInstance({
      id: "i-0aaaaaaaaaaaaaaa1",
      ip: "127.0.0.1",
      zone: ZONE,
      role: masters,
      tags: { ...tags, KubernetesCluster: CLUSTER },
      root,
      deviceStyle: options.deviceStyle ?? "nvme",
    });
    const one = new OneInstance(dir, root, aws, instance);
    one.writeEnv({
      CLUSTER_NAME: CLUSTER,
      ROLE: "master",
      ETCD_MEMBER: "a",
      KMS_KEY: "alias/kopsform/unit-example-com",
      ATTACH_ATTEMPTS: "3",
      ATTACH_DELAY_SECONDS: "1",
      DEVICE_WAIT_ATTEMPTS: "3",
      DEVICE_WAIT_DELAY_SECONDS: "1",
      INSTALL_ATTEMPTS: "2",
      INSTALL_DELAY_SECONDS: "1",
      ...(options.env ?? {}),
    });
    return one;
  }

  /** Writes cluster.env. */
  writeEnv(values: Record<string, string>): void {
    fs.writeFileSync(
      path.join(this.root, "etc", "kopsform", "cluster.env"),
      Object.entries(values)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
    );
  }

  /** A fake EBS volume of this cluster in this zone (unless told otherwise), tagged for etcd `cluster`. */
  volume(id: string, cluster: "main" | "events", value: string, extra: Partial<{ zone: string; clusterName: string }> = {}): FakeVolume {
    return this.aws.addVolume({
      id,
      zone: extra.zone ?? ZONE,
      tags: {
        KubernetesCluster: extra.clusterName ?? CLUSTER,
        [`k8s.io/etcd/${cluster}`]: value,
        "k8s.io/role/master": "1",
      },
      dir: path.join(this.dir, "volumes", id),
    });
  }

  /**
   * Runs a bash driver: `sources` (paths under boot/) are sourced after lib.sh, then `body` runs,
   * in a private mount namespace. `binFirst` is a directory put before the simulation's fakes.
   */
  run(
    sources: readonly string[],
    body: string,
    options: { binFirst?: string; pathWithoutAws?: boolean; timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<RunResult> {
    const script = [
      "set -euo pipefail",
      `source ${JSON.stringify(path.join(BOOT, "lib.sh"))}`,
      ...sources.map((s) => `source ${JSON.stringify(path.join(BOOT, s))}`),
      body,
    ].join("\n");
    const system = options.pathWithoutAws ? this.binWithoutAws() : `${SIM_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
    const env = {
      PATH: `${options.binFirst ? `${options.binFirst}:` : ""}${system}`,
      ROOT: this.root,
      HOME: path.join(this.root, "root"),
      LANG: "C.UTF-8",
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `${this.aws.endpoint}/`,
      KOPSFORM_SIM_AWS_ENDPOINT: this.aws.endpoint,
      KOPSFORM_SIM_AWS_CLI: "/usr/bin/aws",
      AWS_CONFIG_FILE: this.awsConfig(),
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      ...(options.env ?? {}),
    };
    return new Promise((resolve) => {
      const child = spawn("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", "-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 137, stdout, stderr });
      });
    });
  }

  /**
   * A PATH of one directory, as on an image without the AWS CLI: the simulation's fakes but its aws,
   * and links to every command of the system's bin directories but aws.
   */
  private binWithoutAws(): string {
    const dir = path.join(this.dir, "bin-without-aws");
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir);
      for (const f of fs.readdirSync(SIM_BIN).filter((f) => f !== "aws")) {
        fs.symlinkSync(path.join(SIM_BIN, f), path.join(dir, f));
      }
      for (const system of ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
        for (const f of fs.existsSync(system) ? fs.readdirSync(system) : []) {
          if (f !== "aws" && !fs.existsSync(path.join(dir, f))) {
            fs.symlinkSync(path.join(system, f), path.join(dir, f));
          }
        }
      }
    }
    return dir;
  }

  private awsConfig(): string {
    const file = path.join(this.dir, "aws-config");
    if (!fs.existsSync(file)) {
      fs.writeFileSync(file, "[default]\ns3 =\n  addressing_style = path\n");
    }
    return file;
  }

  /** A directory of extra commands for one test (written as executable scripts). */
  bin(commands: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(this.dir, "bin-"));
    for (const [name, body] of Object.entries(commands)) {
      fs.writeFileSync(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    }
    return dir;
  }

  /** The boot log. */
  log(): string {
    const file = path.join(this.root, "var", "log", "kopsform", "boot.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  }

  /** The AWS calls made, as "action detail" lines, in order. */
  calls(): string[] {
    return this.aws.calls.map((c) => `${c.action} ${c.detail}${c.denied ? " DENIED" : ""}`);
  }

  async stop(): Promise<void> {
    await this.aws.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
