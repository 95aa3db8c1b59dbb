/**
 * The GitHub Actions workflow, run here as far as it can be without GitHub: its `if:` conditions and
 * `${{ }}` values are evaluated (a small evaluator of the expression syntax the workflow uses, with
 * GitHub's rule that a condition without a status function means `success() && ...`), its shell steps
 * run in bash with stand-in `npx` and `terraform`, and its github-script runs with a stand-in API.
 * What is checked is behaviour: which job runs for which event, that the apply job applies only the
 * saved plans of a `kopsform plan` that passed, that a refused plan still gets its comments and fails
 * the job, that only a manual run can allow an etcd member's removal, that PR plans take no state lock.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

const WORKFLOW = path.join(__dirname, "..", ".github", "workflows", "kopsform.yml");

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly id?: string;
  readonly if?: string;
  readonly env?: Record<string, string>;
  readonly with?: Record<string, unknown>;
  readonly "continue-on-error"?: unknown;
}

interface Job {
  readonly if?: string;
  readonly environment?: string | { readonly name: string };
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly steps: readonly Step[];
}

interface Input {
  readonly type?: string;
  readonly default?: unknown;
  readonly description?: string;
}

interface Workflow {
  readonly on: Record<string, { readonly branches?: readonly string[]; readonly inputs?: Record<string, Input> } | null>;
  readonly concurrency: { readonly group: string; readonly "cancel-in-progress": string };
  readonly permissions?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

const workflow = parse(fs.readFileSync(WORKFLOW, "utf8")) as Workflow;
const { plan, apply } = workflow.jobs;

function stepUsing(job: Job, action: string): Step {
  const step = job.steps.find((s) => s.uses?.startsWith(`${action}@`));
  if (!step) {
    throw new Error(`no step uses ${action}`);
  }
  return step;
}

function stepRunning(job: Job, command: string): Step {
  const step = job.steps.find((s) => s.run?.includes(command));
  if (!step) {
    throw new Error(`no step runs ${command}`);
  }
  return step;
}

function stepNamed(job: Job, name: string): Step {
  const step = job.steps.find((s) => s.name === name);
  if (!step) {
    throw new Error(`no step named ${name}`);
  }
  return step;
}

/** Index of a step in its job, to check order. */
function indexOf(job: Job, step: Step): number {
  return job.steps.indexOf(step);
}

// ---------------------------------------------------------------------------------------------------
// GitHub Actions expressions, as far as this workflow uses them: literals, context paths, ==, !=, !, &&,
// ||, parentheses and the status functions. && and || return an operand, as GitHub's do; strings
// compare case-insensitively; a missing property is null; an unknown context or function is an error.

type Status = "success" | "failure" | "cancelled";

interface ExpressionContext {
  /** The outcome so far of the job (for a step's `if`) or of the jobs it needs (for a job's). @default "success" */
  readonly status?: Status;
  readonly github?: Record<string, unknown>;
  readonly inputs?: Record<string, unknown>;
  readonly steps?: Record<string, unknown>;
  readonly vars?: Record<string, unknown>;
  readonly secrets?: Record<string, unknown>;
}

const TOKEN = /\s*(\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*|\d+)/y;

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length && source.slice(TOKEN.lastIndex).trim() !== "") {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(source);
    if (!m) {
      throw new Error(`cannot read the expression ${JSON.stringify(source)} at ${at}`);
    }
    tokens.push(m[1]);
  }
  return tokens;
}

function truthy(v: unknown): boolean {
  return !(v === false || v === null || v === undefined || v === 0 || v === "");
}

/** Evaluates one expression (with or without `${{ }}`); `usesStatus` tells whether it called a status function. */
function evaluate(expression: string, ctx: ExpressionContext): { value: unknown; usesStatus: boolean } {
  const source = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
  const tokens = tokenize(source);
  const status = ctx.status ?? "success";
  let pos = 0;
  let usesStatus = false;
  const next = (): string => {
    if (pos >= tokens.length) {
      throw new Error(`unexpected end of ${JSON.stringify(source)}`);
    }
    return tokens[pos++];
  };
  const expect = (token: string): void => {
    const t = next();
    if (t !== token) {
      throw new Error(`expected ${token}, got ${t} in ${JSON.stringify(source)}`);
    }
  };
  const lookup = (dotted: string): unknown => {
    const [root, ...rest] = dotted.split(".");
    if (!["github", "inputs", "steps", "vars", "secrets"].includes(root)) {
      throw new Error(`unknown context ${root} in ${JSON.stringify(source)}`);
    }
    let v: unknown = ctx[root as keyof ExpressionContext] ?? {};
    for (const key of rest) {
      v = v !== null && typeof v === "object" ? ((v as Record<string, unknown>)[key] ?? null) : null;
    }
    return v;
  };
  const call = (fn: string): boolean => {
    usesStatus = true;
    switch (fn) {
      case "always":
        return true;
      case "success":
        return status === "success";
      case "failure":
        return status === "failure";
      case "cancelled":
        return status === "cancelled";
      default:
        throw new Error(`unknown function ${fn}() in ${JSON.stringify(source)}`);
    }
  };
  const primary = (): unknown => {
    const t = next();
    if (t === "(") {
      const v = or();
      expect(")");
      return v;
    }
    if (t.startsWith("'")) {
      return t.slice(1, -1).replace(/''/g, "'");
    }
    if (/^\d+$/.test(t)) {
      return Number(t);
    }
    if (t === "true" || t === "false") {
      return t === "true";
    }
    if (t === "null") {
      return null;
    }
    if (tokens[pos] === "(") {
      pos++;
      expect(")");
      return call(t);
    }
    if (/^[!()|&=]/.test(t)) {
      throw new Error(`unexpected ${t} in ${JSON.stringify(source)}`);
    }
    return lookup(t);
  };
  const comparison = (): unknown => {
    const left = primary();
    if (tokens[pos] === "==" || tokens[pos] === "!=") {
      const op = next();
      const right = primary();
      const equal =
        typeof left === "string" && typeof right === "string" ? left.toLowerCase() === right.toLowerCase() : left === right;
      return op === "==" ? equal : !equal;
    }
    return left;
  };
  const not = (): unknown => {
    if (tokens[pos] === "!") {
      pos++;
      return !truthy(not());
    }
    return comparison();
  };
  const and = (): unknown => {
    let v = not();
    while (tokens[pos] === "&&") {
      pos++;
      const right = not();
      v = truthy(v) ? right : v;
    }
    return v;
  };
  const or = (): unknown => {
    let v = and();
    while (tokens[pos] === "||") {
      pos++;
      const right = and();
      v = truthy(v) ? v : right;
    }
    return v;
  };
  const value = or();
  if (pos !== tokens.length) {
    throw new Error(`unexpected ${tokens[pos]} in ${JSON.stringify(source)}`);
  }
  return { value, usesStatus };
}

/** Whether a job or step with this `if:` runs: no condition, or none naming a status, means `success() && ...`. */
function runs(condition: string | undefined, ctx: ExpressionContext): boolean {
  const success = (ctx.status ?? "success") === "success";
  if (condition === undefined) {
    return success;
  }
  const { value, usesStatus } = evaluate(condition, ctx);
  return usesStatus ? truthy(value) : success && truthy(value);
}

/** A value with `${{ }}` in it, as GitHub renders it into a string (env, with). */
function interpolate(template: string, ctx: ExpressionContext): string {
  return String(template).replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => {
    const { value } = evaluate(e, ctx);
    return value === null || value === undefined ? "" : String(value);
  });
}

/** A step's environment as GitHub renders it. */
function stepEnv(step: Step, ctx: ExpressionContext): Record<string, string> {
  return Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(String(v), ctx)]));
}

const REPOSITORY = "acme/clusters";

/** The contexts of an event on this repository. */
function on(
  eventName: "pull_request" | "push" | "workflow_dispatch",
  ref: string,
  options: { headRepo?: string; inputs?: Record<string, unknown>; base?: string; before?: string } = {},
): ExpressionContext {
  const event: Record<string, unknown> =
    eventName === "pull_request"
      ? { pull_request: { head: { repo: { full_name: options.headRepo ?? REPOSITORY } }, base: { sha: options.base ?? "b".repeat(40) } } }
      : eventName === "push"
        ? { before: options.before ?? "a".repeat(40) }
        : {};
  if (eventName === "workflow_dispatch") {
    event.inputs = options.inputs ?? {};
  }
  return {
    github: { event_name: eventName, ref, repository: REPOSITORY, event },
    // The inputs context is empty for every event but workflow_dispatch.
    inputs: eventName === "workflow_dispatch" ? (options.inputs ?? {}) : {},
    secrets: { TF_API_TOKEN: "hcp-token" },
  };
}

/** The jobs that run for an event. */
function jobsFor(ctx: ExpressionContext): string[] {
  return Object.entries(workflow.jobs)
    .filter(([, job]) => runs(job.if, ctx))
    .map(([name]) => name)
    .sort();
}

/** An environment for a step run here: the machine's, without anything that would change what is tested. */
function baseEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("TF_CLI_ARGS") && !k.startsWith("TF_TOKEN_") && k !== "ALLOW_ETCD_MEMBER_REMOVAL" && k !== "GITHUB_STEP_SUMMARY") {
      env[k] = v;
    }
  }
  env.PATH = `${dir}:${process.env.PATH}`;
  return env;
}

/** Writes an executable stand-in. */
function standIn(file: string, script: string): void {
  fs.writeFileSync(file, `#!/bin/sh\n${script}`, { mode: 0o755 });
}

/** Runs a step's shell as GitHub does (`bash -e {0}`). */
function bash(script: string, cwd: string, env: Record<string, string>) {
  return spawnSync("bash", ["-e", "-c", script], { cwd, encoding: "utf8", env });
}

function evaluatorSelfTest(): void {
  // The evaluator itself, on what the workflow's expressions rely on.
  expect(runs("!cancelled()", { status: "failure" })).toBe(true);
  expect(runs("!cancelled()", { status: "cancelled" })).toBe(false);
  expect(runs("github.event_name == 'push'", { status: "failure", github: { event_name: "push" } })).toBe(false);
  expect(evaluate("github.event_name == 'x' && inputs.a", { github: { event_name: "x" }, inputs: { a: true } }).value).toBe(true);
  expect(evaluate("github.event_name == 'x' && inputs.a", { github: { event_name: "y" }, inputs: {} }).value).toBe(false);
  expect(evaluate("(false || 'b') == 'B'", {}).value).toBe(true);
  expect(() => evaluate("input.a", {})).toThrow(/unknown context/);
  expect(() => evaluate("hashFiles()", {})).toThrow(/unknown function/);
}

describe("the expression evaluator these tests use", () => {
  it("follows GitHub's rules where the workflow depends on them", evaluatorSelfTest);
});

describe("triggers", () => {
  it("plans pull requests, applies pushes to main, and takes manual runs of main", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push", "workflow_dispatch"]);
    expect(workflow.on.push?.branches).toEqual(["main"]);
  });

  it.each<[string, ExpressionContext, string[]]>([
    ["a pull request", on("pull_request", "refs/pull/7/merge"), ["plan"]],
    ["a pull request from a fork (no OIDC token, no comment rights)", on("pull_request", "refs/pull/7/merge", { headRepo: "someone/clusters" }), []],
    ["a push to main", on("push", "refs/heads/main"), ["apply"]],
    ["a push to another branch", on("push", "refs/heads/topic"), []],
    ["a manual run on main", on("workflow_dispatch", "refs/heads/main"), ["apply"]],
    ["a manual run on another branch", on("workflow_dispatch", "refs/heads/topic"), []],
  ])("%s runs %j", (_, ctx, jobs) => {
    expect(jobsFor(ctx)).toEqual(jobs);
  });

  it("runs one workflow per ref at a time, cancelling outdated plans but never an apply", () => {
    const group = (ctx: ExpressionContext) => interpolate(workflow.concurrency.group, ctx);
    expect(group(on("push", "refs/heads/main"))).toBe(group(on("workflow_dispatch", "refs/heads/main")));
    expect(group(on("pull_request", "refs/pull/7/merge"))).not.toBe(group(on("pull_request", "refs/pull/8/merge")));
    const cancels = (ctx: ExpressionContext) => interpolate(workflow.concurrency["cancel-in-progress"], ctx);
    expect(cancels(on("pull_request", "refs/pull/7/merge"))).toBe("true");
    expect(cancels(on("push", "refs/heads/main"))).toBe("false");
    expect(cancels(on("workflow_dispatch", "refs/heads/main"))).toBe("false");
  });

  it("offers the etcd member removal switch only as a manual run's input, off by default", () => {
    const input = workflow.on.workflow_dispatch?.inputs?.allow_etcd_member_removal;
    expect(input).toMatchObject({ type: "boolean", default: false });
    expect(input?.description).toContain("--allow-etcd-member-removal");
  });
});

describe("the plan job", () => {
  it("gets an OIDC token, reads the code and writes pull request comments, nothing more", () => {
    expect(plan.permissions).toEqual({ "id-token": "write", contents: "read", "pull-requests": "write" });
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("sets up Node 20 with the npm cache, installs with npm ci, and Terraform without its wrapper", () => {
    const checkout = stepUsing(plan, "actions/checkout");
    const node = stepUsing(plan, "actions/setup-node");
    expect(node.with).toMatchObject({ "node-version": 20, cache: "npm" });
    const install = plan.steps.find((s) => s.run === "npm ci")!;
    expect(install).toBeDefined();
    expect(stepUsing(plan, "hashicorp/setup-terraform").with).toMatchObject({ terraform_wrapper: false });
    expect(indexOf(plan, checkout)).toBeLessThan(indexOf(plan, node));
    expect(indexOf(plan, node)).toBeLessThan(indexOf(plan, install));
  });

  it("assumes the plan role through OIDC before synthesizing and planning", () => {
    const aws = stepUsing(plan, "aws-actions/configure-aws-credentials");
    expect(aws.with?.["role-to-assume"]).toBe("${{ vars.KOPSFORM_PLAN_ROLE_ARN }}");
    expect(aws.with).not.toHaveProperty("aws-access-key-id");
    const synth = stepRunning(plan, "npx kopsform synth");
    const planStep = stepRunning(plan, "npx kopsform plan --summary kopsform-plan.md");
    expect(indexOf(plan, aws)).toBeLessThan(indexOf(plan, synth));
    expect(indexOf(plan, synth)).toBeLessThan(indexOf(plan, planStep));
  });

  describe("the plan step, run by bash with a stand-in npx", () => {
    const step = stepRunning(plan, "npx kopsform plan");

    /** Runs the step with an `npx` that exits `kopsformExit`, after writing the summary if `writesSummary`. */
    function runPlanStep(
      kopsformExit: number,
      writesSummary = true,
      removed?: string,
    ): { status: number; output: string; stdout: string; tfCliArgsPlan: string; token: string; calls: string } {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-plan-"));
      try {
        const write = writesSummary ? 'echo "<!-- kopsform-plan: x -->" > kopsform-plan.md\n' : "";
        standIn(
          path.join(dir, "npx"),
          `echo "npx $*" >> "${dir}/calls"\nprintf %s "$TF_CLI_ARGS_plan" > "${dir}/tf-cli-args-plan"\nprintf %s "$TF_TOKEN_app_terraform_io" > "${dir}/token"\n${write}exit ${kopsformExit}\n`,
        );
        if (removed !== undefined) {
          fs.writeFileSync(path.join(dir, "kopsform-removed.txt"), removed);
        }
        const githubOutput = path.join(dir, "github-output");
        fs.writeFileSync(githubOutput, "");
        const env = { ...baseEnv(dir), ...stepEnv(step, on("pull_request", "refs/pull/7/merge")), GITHUB_OUTPUT: githubOutput };
        const r = bash(step.run!, dir, env);
        const calls = fs.readFileSync(path.join(dir, "calls"), "utf8");
        if (removed === undefined) {
          expect(calls).toBe("npx kopsform plan --summary kopsform-plan.md\n");
        }
        return {
          status: r.status ?? -1,
          output: fs.readFileSync(githubOutput, "utf8"),
          stdout: r.stdout,
          tfCliArgsPlan: fs.readFileSync(path.join(dir, "tf-cli-args-plan"), "utf8"),
          token: fs.readFileSync(path.join(dir, "token"), "utf8"),
          calls,
        };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    it.each([
      [0, 0],
      [2, 0],
      [1, 1],
      [70, 70],
    ])("kopsform plan exiting %i ends the step with %i", (kopsformExit, stepExit) => {
      const r = runPlanStep(kopsformExit);
      expect(r.status).toBe(stepExit);
      expect(r.output).toBe(`exit-code=${kopsformExit}\n`);
    });

    it("fails on exit 2 without a summary: kopsform's usage errors exit 2 too", () => {
      const r = runPlanStep(2, false);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain("without writing kopsform-plan.md");
    });

    it("plans without the state lock, so that the plan role needs no write (terraform reads TF_CLI_ARGS_plan)", () => {
      expect(runPlanStep(2).tfCliArgsPlan).toBe("-lock=false");
    });

    it("gives HCP Terraform's token to kopsform plan, for cloud backends", () => {
      expect(runPlanStep(2).token).toBe("hcp-token");
    });

    it("passes each spec the pull request removes, as it was, to kopsform plan", () => {
      const r = runPlanStep(1, true, "kopsform-removed/gone.example.com.yaml\nkopsform-removed/old example.yml\n");
      expect(r.calls).toBe(
        "npx kopsform plan --summary kopsform-plan.md --removed-spec kopsform-removed/gone.example.com.yaml --removed-spec kopsform-removed/old example.yml\n",
      );
      expect(r.status).toBe(1);
    });
  });

  describe("the step that finds the specs a change removes, run by bash in a real git repository", () => {
    const step = stepNamed(plan, "Clusters whose spec this change removes");

    /** A repository with two specs at `base`, then a commit that removes one, renames one (a new name) and adds one. */
    function repository(): { dir: string; base: string } {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-removed-"));
      const git = (...args: string[]) => {
        const r = spawnSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: dir, encoding: "utf8" });
        expect(r.status).toBe(0);
        return r.stdout.trim();
      };
      git("init", "-q");
      fs.mkdirSync(path.join(dir, "clusters"));
      for (const name of ["gone.example.com", "renamed.example.com", "kept.example.com"]) {
        fs.writeFileSync(path.join(dir, "clusters", `${name}.yaml`), `name: ${name}\n`);
      }
      // Not specs: kopsform reads clusters/*.yaml (and .yml) only.
      fs.writeFileSync(path.join(dir, "clusters", "notes.md"), "notes\n");
      fs.mkdirSync(path.join(dir, "clusters", "old"));
      fs.writeFileSync(path.join(dir, "clusters", "old", "x.example.com.yaml"), "name: x.example.com\n");
      git("add", ".");
      git("commit", "-q", "-m", "base");
      const base = git("rev-parse", "HEAD");
      fs.rmSync(path.join(dir, "clusters", "gone.example.com.yaml"));
      fs.rmSync(path.join(dir, "clusters", "notes.md"));
      fs.rmSync(path.join(dir, "clusters", "old"), { recursive: true });
      fs.renameSync(path.join(dir, "clusters", "renamed.example.com.yaml"), path.join(dir, "clusters", "new-name.example.com.yaml"));
      fs.writeFileSync(path.join(dir, "clusters", "added.example.com.yaml"), "name: added.example.com\n");
      git("add", "-A");
      git("commit", "-q", "-m", "change");
      return { dir, base };
    }

    /** What the step wrote: the list, and each listed file's content. */
    function found(dir: string): { list: string; specs: string[] } {
      const list = fs.readFileSync(path.join(dir, "kopsform-removed.txt"), "utf8");
      return { list, specs: list.split("\n").filter(Boolean).map((f) => fs.readFileSync(path.join(dir, f), "utf8")) };
    }

    it("writes the removed and renamed-away specs of a pull request, as they were at its base", () => {
      const { dir, base } = repository();
      try {
        const r = bash(step.run!, dir, { ...baseEnv(dir), ...stepEnv(step, on("pull_request", "refs/pull/7/merge", { base })) });
        expect(r.status).toBe(0);
        expect(found(dir)).toEqual({
          list: "kopsform-removed/gone.example.com.yaml\nkopsform-removed/renamed.example.com.yaml\n",
          specs: ["name: gone.example.com\n", "name: renamed.example.com\n"],
        });
        expect(r.stdout).toContain("::warning::this change removes the spec of: gone.example.com renamed.example.com");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("does the same for a push in the apply job, and nothing for a manual run", () => {
      const applyStep = stepNamed(apply, "Clusters whose spec this change removes");
      const { dir, base } = repository();
      try {
        expect(bash(applyStep.run!, dir, { ...baseEnv(dir), ...stepEnv(applyStep, on("push", "refs/heads/main", { before: base })) }).status).toBe(0);
        expect(found(dir)).toEqual({
          list: "kopsform-removed/gone.example.com.yaml\nkopsform-removed/renamed.example.com.yaml\n",
          specs: ["name: gone.example.com\n", "name: renamed.example.com\n"],
        });
        expect(bash(applyStep.run!, dir, { ...baseEnv(dir), ...stepEnv(applyStep, on("workflow_dispatch", "refs/heads/main")) }).status).toBe(0);
        expect(found(dir)).toEqual({ list: "", specs: [] });
        expect(fs.existsSync(path.join(dir, "kopsform-removed"))).toBe(false);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("runs before the plan, which reads what it found", () => {
      expect(indexOf(plan, step)).toBeLessThan(indexOf(plan, stepRunning(plan, "npx kopsform plan")));
      expect(stepRunning(plan, "npx kopsform plan").run).toContain("kopsform-removed.txt");
      expect(stepUsing(plan, "actions/checkout").with).toMatchObject({ "fetch-depth": 0 });
      expect(stepUsing(apply, "actions/checkout").with).toMatchObject({ "fetch-depth": 0 });
    });
  });

  describe("one path per backend", () => {
    it.each([
      ["plan", plan],
      ["apply", apply],
    ])("the %s job refuses a stack with the local backend, run by bash", (_name, job) => {
      const script = stepNamed(job, "Refuse local state").run!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-local-"));
      try {
        const stack = (name: string, backend: object) => {
          fs.mkdirSync(path.join(dir, "cdktf.out", "stacks", name), { recursive: true });
          fs.writeFileSync(path.join(dir, "cdktf.out", "stacks", name, "cdk.tf.json"), JSON.stringify({ terraform: { backend } }));
        };
        stack("s3.example.com", { s3: { bucket: "b", key: "k", region: "us-east-1" } });
        fs.mkdirSync(path.join(dir, "cdktf.out", "stacks", "cloud.example.com"), { recursive: true });
        fs.writeFileSync(
          path.join(dir, "cdktf.out", "stacks", "cloud.example.com", "cdk.tf.json"),
          JSON.stringify({ terraform: { cloud: { organization: "acme", workspaces: { name: "w" } } } }),
        );
        expect(bash(script, dir, baseEnv(dir)).status).toBe(0);
        stack("local.example.com", { local: { path: "../../../terraform.local.example.com.tfstate" } });
        const r = bash(script, dir, baseEnv(dir));
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("cdktf.out/stacks/local.example.com/cdk.tf.json: local backend");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("runs synthesis, the local-state refusal and the plan in that order in both jobs", () => {
      for (const job of [plan, apply]) {
        const synth = stepRunning(job, "npx kopsform synth");
        const local = stepNamed(job, "Refuse local state");
        const planStep = stepRunning(job, "npx kopsform plan");
        expect(indexOf(job, synth)).toBeLessThan(indexOf(job, local));
        expect(indexOf(job, local)).toBeLessThan(indexOf(job, planStep));
      }
    });

    it("gives HCP Terraform's token only to the steps that run Terraform (cloud backends)", () => {
      for (const job of [plan, apply]) {
        const withToken = job.steps.filter((s) => s.env?.TF_TOKEN_app_terraform_io !== undefined);
        expect(withToken).toEqual([stepRunning(job, "npx kopsform plan")]);
        expect(withToken[0].env?.TF_TOKEN_app_terraform_io).toBe("${{ secrets.TF_API_TOKEN }}");
      }
    });
  });

  describe("a failed plan (kopsform plan's etcd refusal, exit 1)", () => {
    const planStep = stepRunning(plan, "npx kopsform plan");
    const later = plan.steps.slice(indexOf(plan, planStep) + 1);

    it("still gets its job summary and comments, then fails the job", () => {
      expect(later.map((s) => s.name)).toEqual(["Job summary", "Comment the plan of each stack"]);
      for (const step of later) {
        // The plan step failed: the job's status is failure from then on.
        expect(runs(step.if, { status: "failure" })).toBe(true);
        expect(runs(step.if, { status: "success" })).toBe(true);
        // An outdated run cancelled by a newer push must not overwrite the newer run's comments.
        expect(runs(step.if, { status: "cancelled" })).toBe(false);
      }
      // The failure is not swallowed: the plan step's non-zero exit (see above) fails the job.
      expect(plan.steps.filter((s) => s["continue-on-error"] !== undefined)).toEqual([]);
    });

    it("the job summary step succeeds without a summary file and appends it when there is one", () => {
      const script = stepNamed(plan, "Job summary").run!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-summary-"));
      try {
        const summary = path.join(dir, "step-summary.md");
        fs.writeFileSync(summary, "");
        const env = { ...baseEnv(dir), GITHUB_STEP_SUMMARY: summary };
        expect(bash(script, dir, env).status).toBe(0);
        expect(fs.readFileSync(summary, "utf8")).toBe("");
        fs.writeFileSync(path.join(dir, "kopsform-plan.md"), "<!-- kopsform-plan: a -->\nplan\n");
        expect(bash(script, dir, env).status).toBe(0);
        expect(fs.readFileSync(summary, "utf8")).toBe("<!-- kopsform-plan: a -->\nplan\n");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("the comment step, run with a stand-in GitHub API", () => {
    const comment = stepUsing(plan, "actions/github-script");

    interface Comment {
      id: number;
      body: string;
      user: { login: string; type: string };
    }

    /**
     * Runs the step's script in a workspace holding `summaries` (stack -> plan-summary.md, null for a
     * stack directory without one) among `existing` comments, after a plan step that wrote `exitCode`
     * (undefined: the plan step did not run).
     */
    async function runCommentStep(
      summaries: Record<string, string | null> | undefined,
      existing: Comment[],
      exitCode: string | undefined = "2",
    ) {
      const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-comment-"));
      if (summaries) {
        for (const [stack, body] of Object.entries(summaries)) {
          fs.mkdirSync(path.join(workspace, "cdktf.out", "stacks", stack), { recursive: true });
          if (body !== null) {
            fs.writeFileSync(path.join(workspace, "cdktf.out", "stacks", stack, "plan-summary.md"), body);
          }
        }
      }
      const calls: { method: string; args: Record<string, unknown> }[] = [];
      const record = (method: string) => async (args: Record<string, unknown>) => {
        calls.push({ method, args });
        return {};
      };
      const listComments = record("listComments");
      const github = {
        rest: {
          issues: { listComments, updateComment: record("updateComment"), createComment: record("createComment") },
        },
        paginate: async (method: unknown, args: Record<string, unknown>) => {
          expect(method).toBe(listComments);
          expect(args).toMatchObject({ owner: "o", repo: "r", issue_number: 7 });
          return existing;
        },
      };
      const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 }, serverUrl: "https://github.com", runId: 42 };
      const failures: string[] = [];
      const core = { info: () => undefined, setFailed: (m: string) => failures.push(m) };
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
      const run = new AsyncFunction("require", "github", "context", "core", comment.with!.script as string);
      const env = stepEnv(comment, {
        ...on("pull_request", "refs/pull/7/merge"),
        steps: exitCode === undefined ? {} : { plan: { outputs: { "exit-code": exitCode } } },
      });
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      const cwd = process.cwd();
      Object.assign(process.env, env);
      process.chdir(workspace);
      try {
        await run(require, github, context, core);
      } finally {
        process.chdir(cwd);
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) {
            delete process.env[k];
          } else {
            process.env[k] = v;
          }
        }
        fs.rmSync(workspace, { recursive: true, force: true });
      }
      return { calls, failures };
    }

    const bot = { login: "github-actions[bot]", type: "Bot" };
    const human = { login: "someone", type: "User" };
    const runUrl = "https://github.com/o/r/actions/runs/42";

    it("updates the bot's comment holding a stack's marker and creates one for a stack without", async () => {
      const a = "<!-- kopsform-plan: a.example.com -->\n### a\n\nNo changes.\n";
      const b = "<!-- kopsform-plan: b.example.com -->\n### b\n\n**1 to add**\n";
      const { calls, failures } = await runCommentStep({ "a.example.com": a, "b.example.com": b, "no-summary": null }, [
        { id: 1, body: "old plan\n<!-- kopsform-plan: b.example.com -->", user: human },
        { id: 2, body: "<!-- kopsform-plan: a.example.com -->\nold", user: bot },
        { id: 3, body: "<!-- kopsform-plan: a.example.comx -->\nother", user: bot },
      ]);
      expect(failures).toEqual([]);
      expect(calls).toEqual([
        { method: "updateComment", args: { owner: "o", repo: "r", comment_id: 2, body: a } },
        { method: "createComment", args: { owner: "o", repo: "r", issue_number: 7, body: b } },
      ]);
    });

    it("matches only its own comment whose first line is the marker: a marker elsewhere or another bot's is no match", async () => {
      const a = "<!-- kopsform-plan: a.example.com -->\n### a\n\nNo changes.\n";
      const { calls, failures } = await runCommentStep({ "a.example.com": a }, [
        // A plan value can put a marker in a comment's body, never on its first line.
        { id: 1, body: "<!-- kopsform-plan: b.example.com -->\n`<!-- kopsform-plan: a.example.com -->`", user: bot },
        { id: 2, body: "<!-- kopsform-plan: a.example.com -->\nforged", user: { login: "evil-app[bot]", type: "Bot" } },
      ]);
      expect(failures).toEqual([]);
      expect(calls).toEqual([{ method: "createComment", args: { owner: "o", repo: "r", issue_number: 7, body: a } }]);
    });

    it("refuses a summary whose marker is not its stack's own", async () => {
      const { calls, failures } = await runCommentStep({ "a.example.com": "<!-- kopsform-plan: b.example.com -->\nforged\n" }, []);
      expect(calls).toEqual([]);
      expect(failures).toEqual([expect.stringContaining("does not start with the marker <!-- kopsform-plan: a.example.com -->")]);
    });

    it("fails the step for a summary without the marker instead of posting it", async () => {
      const { calls, failures } = await runCommentStep({ "c.example.com": "# no marker\n" }, []);
      expect(calls).toEqual([]);
      expect(failures).toEqual([expect.stringContaining("cdktf.out/stacks/c.example.com/plan-summary.md")]);
    });

    it("after a refused plan, comments every summary with a pointer to the run, and replaces a stack's earlier plan it could not renew", async () => {
      // a: kopsform refused its plan (an etcd volume destroyed), and wrote its summary all the same.
      // b: Terraform refused its plan (prevent_destroy): no summary, and its earlier comment said "No changes".
      const a = "<!-- kopsform-plan: a.example.com -->\n### a\n\n**1 to destroy**\n\n> [!CAUTION]\n- **delete** `aws_ebs_volume.c-etcd-main-a-example-com`\n";
      const { calls, failures } = await runCommentStep({ "a.example.com": a, "b.example.com": null }, [
        { id: 5, body: "<!-- kopsform-plan: b.example.com -->\n### b\n\nNo changes.\n", user: bot },
      ], "1");
      expect(failures).toEqual([]);
      expect(calls.map((c) => c.method)).toEqual(["createComment", "updateComment"]);
      const [created, updated] = calls.map((c) => c.args as { body: string; comment_id?: number });
      expect(created.body.startsWith(a)).toBe(true);
      expect(created.body).toContain("`kopsform plan` failed (exit 1)");
      expect(created.body).toContain(runUrl);
      expect(updated.comment_id).toBe(5);
      expect(updated.body.split("\n", 1)[0]).toBe("<!-- kopsform-plan: b.example.com -->");
      expect(updated.body).toContain("Not planned");
      expect(updated.body).not.toContain("No changes");
      expect(updated.body).toContain(runUrl);
    });

    it("keeps a summary at GitHub's comment limit whole rather than add the note", async () => {
      const marker = "<!-- kopsform-plan: a.example.com -->\n";
      const a = marker + "x".repeat(65_536 - marker.length);
      const { calls } = await runCommentStep({ "a.example.com": a }, [], "1");
      expect(calls).toEqual([{ method: "createComment", args: { owner: "o", repo: "r", issue_number: 7, body: a } }]);
    });

    it("does nothing, and does not fail, when nothing was synthesized (synthesis failed, the plan step never ran)", async () => {
      const { calls, failures } = await runCommentStep(undefined, [], undefined);
      expect(calls).toEqual([]);
      expect(failures).toEqual([]);
    });
  });
});

describe("the apply job", () => {
  it("waits for the production environment's approval", () => {
    const environment = typeof apply.environment === "string" ? apply.environment : apply.environment?.name;
    expect(environment).toBe("production");
  });

  it("assumes the apply role through OIDC and writes nothing to GitHub", () => {
    expect(apply.permissions).toEqual({ "id-token": "write", contents: "read" });
    expect(stepUsing(apply, "aws-actions/configure-aws-credentials").with?.["role-to-assume"]).toBe(
      "${{ vars.KOPSFORM_APPLY_ROLE_ARN }}",
    );
  });

  it("synthesizes, refuses local state, then plans and applies in one step, the only one that runs Terraform", () => {
    const synth = stepRunning(apply, "npx kopsform synth");
    const guard = stepRunning(apply, "backend?.local");
    const planAndApply = stepRunning(apply, "npx kopsform plan");
    expect(indexOf(apply, synth)).toBeLessThan(indexOf(apply, guard));
    expect(indexOf(apply, guard)).toBeLessThan(indexOf(apply, planAndApply));
    expect(apply.steps.filter((s) => /(^|[\s;|&(])terraform\s/m.test(s.run ?? "") || /\bcdktf (deploy|apply)\b/.test(s.run ?? ""))).toEqual([
      planAndApply,
    ]);
    // A failure of any earlier step (the local-state refusal among them) skips it: it runs on success only.
    expect(runs(planAndApply.if, { status: "failure" })).toBe(false);
    expect(planAndApply["continue-on-error"]).toBeUndefined();
  });

  it("records what it planned in the job summary, after a refusal too", () => {
    const summary = stepNamed(apply, "Job summary");
    expect(indexOf(apply, summary)).toBeGreaterThan(indexOf(apply, stepRunning(apply, "npx kopsform plan")));
    expect(runs(summary.if, { status: "failure" })).toBe(true);
    expect(runs(summary.if, { status: "cancelled" })).toBe(false);
  });

  it("stops on a stack with the local backend, run by bash", () => {
    const script = stepRunning(apply, "backend?.local").run!;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-apply-"));
    try {
      const stack = (name: string, backend: object) => {
        fs.mkdirSync(path.join(dir, "cdktf.out", "stacks", name), { recursive: true });
        fs.writeFileSync(
          path.join(dir, "cdktf.out", "stacks", name, "cdk.tf.json"),
          JSON.stringify({ terraform: { backend } }),
        );
      };
      stack("remote.example.com", { s3: { bucket: "b", key: "k", region: "us-east-1" } });
      expect(spawnSync("bash", ["-e", "-c", script], { cwd: dir, encoding: "utf8" }).status).toBe(0);
      stack("local.example.com", { local: { path: "../../../terraform.local.example.com.tfstate" } });
      const r = spawnSync("bash", ["-e", "-c", script], { cwd: dir, encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stdout).toContain("cdktf.out/stacks/local.example.com/cdk.tf.json: local backend");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("the plan-and-apply step, run by bash with stand-in npx and terraform", () => {
    const step = stepRunning(apply, "npx kopsform plan");

    interface StackSetup {
      /** What `terraform show -json kopsform.tfplan` prints: `applyable` true/false, or raw JSON. */
      readonly show: boolean | string;
      readonly showFails?: boolean;
      readonly applyFails?: boolean;
      /** kopsform plan left no kopsform.tfplan here. */
      readonly noPlan?: boolean;
    }

    /**
     * Runs the step in a workspace where `kopsform plan` (the stand-in npx) left a kopsform.tfplan in
     * each of `stacks`, as it does even for a plan it refuses, and exits `kopsformExit`. Every command
     * the stand-ins get is recorded in order.
     */
    function runApplyStep(
      kopsformExit: number,
      stacks: Record<string, StackSetup>,
      options: { writesSummary?: boolean; event?: ExpressionContext; removed?: string } = {},
    ): { status: number; calls: string[]; stdout: string; tfCliArgsPlan: string } {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-apply-"));
      try {
        if (options.removed !== undefined) {
          fs.writeFileSync(path.join(dir, "kopsform-removed.txt"), options.removed);
        }
        for (const [name, setup] of Object.entries(stacks)) {
          const stackDir = path.join(dir, "cdktf.out", "stacks", name);
          fs.mkdirSync(stackDir, { recursive: true });
          if (!setup.noPlan) {
            fs.writeFileSync(path.join(stackDir, "kopsform.tfplan"), "a saved plan");
          }
          const json =
            typeof setup.show === "string" ? setup.show : JSON.stringify({ format_version: "1.2", applyable: setup.show, complete: true });
          fs.writeFileSync(path.join(stackDir, "show.json"), json);
          if (setup.showFails) {
            fs.writeFileSync(path.join(stackDir, "show-fails"), "");
          }
          if (setup.applyFails) {
            fs.writeFileSync(path.join(stackDir, "apply-fails"), "");
          }
        }
        const calls = path.join(dir, "calls");
        const write = options.writesSummary === false ? "" : 'echo "<!-- kopsform-plan: x -->" > kopsform-plan.md\n';
        standIn(
          path.join(dir, "npx"),
          `echo "npx $*" >> "${calls}"\nprintf %s "$TF_CLI_ARGS_plan" > "${dir}/tf-cli-args-plan"\n${write}exit ${kopsformExit}\n`,
        );
        // terraform -chdir=DIR show -json kopsform.tfplan | terraform -chdir=DIR apply ... PLAN
        standIn(
          path.join(dir, "terraform"),
          [
            `echo "terraform $*" >> "${calls}"`,
            'dir="${1#-chdir=}"',
            'case "$2" in',
            '  show) if [ -f "${dir}/show-fails" ]; then echo "show failed" >&2; exit 1; fi; cat "${dir}/show.json" ;;',
            '  apply) if [ -f "${dir}/apply-fails" ]; then echo "apply failed" >&2; exit 1; fi ;;',
            "esac",
            "exit 0",
            "",
          ].join("\n"),
        );
        const env = { ...baseEnv(dir), ...stepEnv(step, options.event ?? on("push", "refs/heads/main")) };
        const r = bash(step.run!, dir, env);
        return {
          status: r.status ?? -1,
          calls: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [],
          stdout: r.stdout,
          tfCliArgsPlan: fs.existsSync(path.join(dir, "tf-cli-args-plan")) ? fs.readFileSync(path.join(dir, "tf-cli-args-plan"), "utf8") : "",
        };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    const PLAN = "npx kopsform plan --summary kopsform-plan.md";
    const show = (stack: string) => `terraform -chdir=cdktf.out/stacks/${stack}/ show -json kopsform.tfplan`;
    const applyOf = (stack: string) => `terraform -chdir=cdktf.out/stacks/${stack}/ apply -input=false -no-color kopsform.tfplan`;
    // b's plan deletes a removed master's etcd volume: kopsform plan refuses it, but its plan file is there.
    const three = { "a.example.com": { show: true }, "b.example.com": { show: true }, "c.example.com": { show: false } };

    it.each([1, 70])("kopsform plan exiting %i stops the step before Terraform runs at all", (exit) => {
      const r = runApplyStep(exit, three);
      expect(r.status).toBe(exit);
      expect(r.calls).toEqual([PLAN]);
      expect(r.stdout).toContain("nothing applied");
    });

    it("exit 2 without a summary (a usage error) applies nothing", () => {
      const r = runApplyStep(2, three, { writesSummary: false });
      expect(r.status).toBe(1);
      expect(r.calls).toEqual([PLAN]);
    });

    it("exit 0 applies nothing and succeeds", () => {
      const r = runApplyStep(0, three);
      expect(r.status).toBe(0);
      expect(r.calls).toEqual([PLAN]);
    });

    it("exit 2 applies the saved kopsform.tfplan of each stack whose plan changes something, and only those", () => {
      const r = runApplyStep(2, three);
      expect(r.status).toBe(0);
      expect(r.calls).toEqual([
        PLAN,
        show("a.example.com"),
        applyOf("a.example.com"),
        show("b.example.com"),
        applyOf("b.example.com"),
        show("c.example.com"),
      ]);
    });

    it("passes each spec the push removes to kopsform plan, whose refusal applies nothing", () => {
      const r = runApplyStep(1, three, { removed: "kopsform-removed/gone.example.com.yaml\n" });
      expect(r.calls).toEqual([`${PLAN} --removed-spec kopsform-removed/gone.example.com.yaml`]);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain("nothing applied");
    });

    it("plans with the state lock (the apply role may write it)", () => {
      expect(runApplyStep(0, three).tfCliArgsPlan).toBe("");
    });

    it("stops at the first stack whose apply fails", () => {
      const r = runApplyStep(2, { ...three, "a.example.com": { show: true, applyFails: true } });
      expect(r.status).not.toBe(0);
      expect(r.calls).toEqual([PLAN, show("a.example.com"), applyOf("a.example.com")]);
    });

    it.each<[string, StackSetup]>([
      ["terraform show fails", { show: true, showFails: true }],
      ["terraform show gives no applyable", { show: '{"format_version":"1.0"}' }],
      ["terraform show gives no JSON", { show: "" }],
    ])("applies nothing when %s", (_, setup) => {
      const r = runApplyStep(2, { ...three, "a.example.com": setup });
      expect(r.status).not.toBe(0);
      expect(r.calls).toEqual([PLAN, show("a.example.com")]);
    });

    it("fails when kopsform plan reported changes but no saved plan has any", () => {
      const r = runApplyStep(2, { "a.example.com": { show: false } });
      expect(r.status).toBe(1);
      expect(r.calls).toEqual([PLAN, show("a.example.com")]);
    });

    it("fails, applying nothing more, when a stack has no saved plan", () => {
      const r = runApplyStep(2, { ...three, "a.example.com": { show: true, noPlan: true } });
      expect(r.status).toBe(1);
      expect(r.calls).toEqual([PLAN]);
    });

    describe("--allow-etcd-member-removal", () => {
      it.each<[string, ExpressionContext]>([
        ["a push to main", on("push", "refs/heads/main")],
        ["a manual run that leaves the input off", on("workflow_dispatch", "refs/heads/main", { inputs: { allow_etcd_member_removal: false } })],
      ])("is not passed on %s", (_, event) => {
        const r = runApplyStep(2, three, { event });
        expect(r.calls[0]).toBe(PLAN);
      });

      it("is passed on a manual run that ticks the input, with a warning in the log", () => {
        const event = on("workflow_dispatch", "refs/heads/main", { inputs: { allow_etcd_member_removal: true } });
        const r = runApplyStep(2, three, { event });
        expect(r.status).toBe(0);
        expect(r.calls[0]).toBe(`${PLAN} --allow-etcd-member-removal`);
        expect(r.stdout).toContain("::warning::");
      });
    });
  });
});
