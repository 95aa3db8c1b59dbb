/**
 * The GitHub Actions workflow: its structure (triggers, permissions, OIDC, the approval gate on apply)
 * and, run here for real, the two scripts that carry logic: the plan step's exit-code handling (bash,
 * with a stand-in `npx`) and the comment step's marker lookup (github-script, with a stand-in API).
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
  readonly with?: Record<string, unknown>;
}

interface Job {
  readonly if?: string;
  readonly environment?: string | { readonly name: string };
  readonly permissions?: Record<string, string>;
  readonly steps: readonly Step[];
}

interface Workflow {
  readonly on: Record<string, { readonly branches?: readonly string[] } | null>;
  readonly concurrency: { readonly group: string; readonly "cancel-in-progress": unknown };
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

/** Index of a step in its job, to check order. */
function indexOf(job: Job, step: Step): number {
  return job.steps.indexOf(step);
}

describe("triggers", () => {
  it("plans pull requests and applies pushes to main", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
    expect(workflow.on.push?.branches).toEqual(["main"]);
    expect(plan.if).toContain("github.event_name == 'pull_request'");
    expect(apply.if).toContain("github.event_name == 'push'");
    expect(apply.if).toContain("refs/heads/main");
  });

  it("runs one workflow per ref at a time, never cancelling an apply", () => {
    expect(workflow.concurrency.group).toContain("${{ github.ref }}");
    expect(workflow.concurrency["cancel-in-progress"]).toBe("${{ github.event_name == 'pull_request' }}");
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
    const script = stepRunning(plan, "npx kopsform plan").run!;

    /** Runs the step with an `npx` that exits `kopsformExit`, after writing the summary if `writesSummary`. */
    function runPlanStep(
      kopsformExit: number,
      writesSummary = true,
    ): { status: number; output: string; stdout: string } {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-plan-"));
      try {
        const write = writesSummary ? 'echo "<!-- kopsform-plan: x -->" > kopsform-plan.md\n' : "";
        fs.writeFileSync(
          path.join(dir, "npx"),
          `#!/bin/sh\necho "npx $*" >> "${dir}/calls"\n${write}exit ${kopsformExit}\n`,
          {
            mode: 0o755,
          },
        );
        const githubOutput = path.join(dir, "github-output");
        fs.writeFileSync(githubOutput, "");
        // GitHub runs `run:` steps with `bash -e {0}`.
        const r = spawnSync("bash", ["-e", "-c", script], {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GITHUB_OUTPUT: githubOutput },
        });
        expect(fs.readFileSync(path.join(dir, "calls"), "utf8")).toBe("npx kopsform plan --summary kopsform-plan.md\n");
        return { status: r.status ?? -1, output: fs.readFileSync(githubOutput, "utf8"), stdout: r.stdout };
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
  });

  describe("the comment step, run with a stand-in GitHub API", () => {
    const comment = stepUsing(plan, "actions/github-script");

    interface Comment {
      id: number;
      body: string;
      user: { login: string; type: string };
    }

    /** Runs the step's script in a workspace holding `summaries` (stack -> plan-summary.md) among `existing` comments. */
    async function runCommentStep(summaries: Record<string, string>, existing: Comment[]) {
      const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-wf-comment-"));
      for (const [stack, body] of Object.entries(summaries)) {
        fs.mkdirSync(path.join(workspace, "cdktf.out", "stacks", stack), { recursive: true });
        fs.writeFileSync(path.join(workspace, "cdktf.out", "stacks", stack, "plan-summary.md"), body);
      }
      fs.mkdirSync(path.join(workspace, "cdktf.out", "stacks", "no-summary"), { recursive: true });
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
      const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
      const failures: string[] = [];
      const core = { info: () => undefined, setFailed: (m: string) => failures.push(m) };
      const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
      const run = new AsyncFunction("require", "github", "context", "core", comment.with!.script as string);
      const cwd = process.cwd();
      process.chdir(workspace);
      try {
        await run(require, github, context, core);
      } finally {
        process.chdir(cwd);
        fs.rmSync(workspace, { recursive: true, force: true });
      }
      return { calls, failures };
    }

    const bot = { login: "github-actions[bot]", type: "Bot" };
    const human = { login: "someone", type: "User" };

    it("updates the bot's comment holding a stack's marker and creates one for a stack without", async () => {
      const a = "<!-- kopsform-plan: a.example.com -->\n### a\n\nNo changes.\n";
      const b = "<!-- kopsform-plan: b.example.com -->\n### b\n\n**1 to add**\n";
      const { calls, failures } = await runCommentStep({ "a.example.com": a, "b.example.com": b }, [
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

    it("fails the step for a summary without the marker instead of posting it", async () => {
      const { calls, failures } = await runCommentStep({ "c.example.com": "# no marker\n" }, []);
      expect(calls).toEqual([]);
      expect(failures).toEqual([expect.stringContaining("cdktf.out/stacks/c.example.com/plan-summary.md")]);
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

  it("synthesizes, refuses local state, then applies every stack", () => {
    const synth = stepRunning(apply, "npx kopsform synth");
    const guard = stepRunning(apply, "backend?.local");
    const applyStep = stepRunning(apply, "terraform -chdir=");
    expect(applyStep.run).toMatch(/for dir in cdktf\.out\/stacks\/\*\/; do/);
    expect(applyStep.run).toMatch(/apply -input=false .*-auto-approve/);
    expect(indexOf(apply, synth)).toBeLessThan(indexOf(apply, guard));
    expect(indexOf(apply, guard)).toBeLessThan(indexOf(apply, applyStep));
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
});
