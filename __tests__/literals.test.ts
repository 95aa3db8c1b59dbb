/**
 * Every literal of a stack is data (stacks/literals.ts) and the HCL writer (stacks/hcl.ts) says the
 * same as the JSON: strings, map keys, strings inside cdktf expressions (Fn.jsonencode) and text
 * around references, planned by the real Terraform CLI in both syntaxes and compared with what was
 * written. The whole-spec walk with a cluster is in hostile-values.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { App, Fn, LocalBackend, TerraformLocal, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { PlanJson } from "../cli/terraform";
import { renderConfig, singleInterpolation, templateToHcl, writeStackHcl } from "../stacks/hcl";
import { escapeTemplateText, hclQuotedText, withEscapedLiterals } from "../stacks/literals";
import { tempDir } from "./helpers/cluster";
import { CONTROL_CHARACTERS, HOSTILE_STRINGS } from "./helpers/hostile";

/** A stack that writes its configuration as ClusterStack does. */
class LiteralStack extends TerraformStack {
  /** As ClusterStack: no cross-stack preparation pass. */
  prepareStack(): void {
    this.ensureBackendExists();
  }

  toTerraform(): any {
    return withEscapedLiterals(this, () => super.toTerraform());
  }

  toHclTerraform(): { hcl: string; metadata: Record<string, unknown> } {
    return writeStackHcl(this);
  }
}

const VALUES = [...HOSTILE_STRINGS, ...CONTROL_CHARACTERS];

/** Outputs holding every hostile value in every position; returns what each output must plan to. */
function hostileOutputs(stack: Construct): Record<string, unknown> {
  const local = new TerraformLocal(stack, "prefix", "P");
  const expected: Record<string, unknown> = {};
  VALUES.forEach((value, i) => {
    const out = (name: string, v: unknown, planned: unknown) => {
      new TerraformOutput(stack, `${name}_${i}`, { value: v });
      expected[`${name}_${i}`] = planned;
    };
    out("plain", value, value);
    out("key", { [value]: "v" }, { [value]: "v" });
    out("list", [value, "x"], [value, "x"]);
    out("around_reference", `${value}${local.asString}${value}`, `${value}P${value}`);
    out("jsonencode", Fn.jsonencode({ [value]: value, list: [value, `${local.asString}${value}`] }), { [value]: value, list: [value, `P${value}`] });
  });
  return expected;
}

/** Synthesizes the hostile outputs into `dir` (JSON or HCL) and returns the stack directory. */
function synthesize(dir: string, hcl: boolean): { stackDir: string; expected: Record<string, unknown> } {
  const previous = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = String(hcl);
  try {
    const app = new App({ outdir: dir, hclOutput: hcl, stackTraces: false });
    const stack = new LiteralStack(app, "literals");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    const expected = hostileOutputs(stack);
    app.synth();
    return { stackDir: path.join(dir, "stacks", "literals"), expected };
  } finally {
    if (previous === undefined) {
      delete process.env.SYNTH_HCL_OUTPUT;
    } else {
      process.env.SYNTH_HCL_OUTPUT = previous;
    }
  }
}

/** `terraform plan` of a configuration without providers, and its planned output values. */
function plannedOutputs(stackDir: string): Record<string, unknown> {
  const env = { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
  const run = (...args: string[]) => {
    const r = spawnSync("terraform", args, { cwd: stackDir, env, encoding: "utf8" });
    if (r.status !== 0 && !(args[0] === "plan" && r.status === 2)) {
      throw new Error(`terraform ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
    }
    if (process.env.KOPSFORM_TERRAFORM_LOG) {
      fs.appendFileSync(process.env.KOPSFORM_TERRAFORM_LOG, `terraform ${args[0]}\n`);
    }
    return r.stdout;
  };
  run("init", "-input=false", "-no-color");
  run("plan", "-input=false", "-no-color", "-detailed-exitcode", "-out=p.tfplan");
  const plan = JSON.parse(run("show", "-json", "p.tfplan")) as PlanJson;
  return Object.fromEntries(Object.entries(plan.planned_values?.outputs ?? {}).map(([name, o]) => [name, o.value]));
}

describe("literals in a stack, planned by Terraform", () => {
  it.each([
    ["JSON", false],
    ["HCL", true],
  ])("plan to exactly what was written (%s)", (_syntax, hcl) => {
    const dir = tempDir("literals");
    const { stackDir, expected } = synthesize(dir, hcl as boolean);
    if (hcl) {
      const text = fs.readFileSync(path.join(stackDir, "cdk.tf"), "utf8");
      expect(text).not.toMatch(/=\s*<</);
    }
    const planned = plannedOutputs(stackDir);
    // jsonencode's text is compared as the JSON it holds (Terraform escapes < > & and sorts keys).
    const decoded = Object.fromEntries(
      Object.entries(planned).map(([name, value]) => [name, name.startsWith("jsonencode_") ? JSON.parse(value as string) : value]),
    );
    expect(decoded).toEqual(expected);
  });
});

describe("escapeTemplateText", () => {
  it.each([
    ["${x}", "$${x}"],
    ["%{x}", "%%{x}"],
    ["$${x}", "$$${x}"],
    ["%%{x}", "%%%{x}"],
    ["plain $ and % and {}", "plain $ and % and {}"],
  ])("escapes %j as %j", (text, escaped) => {
    expect(escapeTemplateText(text)).toBe(escaped);
  });

  it("writes a $ right before an interpolation as an interpolation, not as half of an escape", () => {
    expect(escapeTemplateText("cost: $", true)).toBe('cost: ${"$"}');
    expect(escapeTemplateText("cost: $", false)).toBe("cost: $");
  });
});

describe("hclQuotedText", () => {
  it("escapes backslashes, quotes, control characters and template sequences", () => {
    expect(hclQuotedText('a\\b"c\nd\re\tf\u0007g${h}%{i}')).toBe('a\\\\b\\"c\\nd\\re\\tf\\u0007g$${h}%%{i}');
  });
});

describe("the HCL writer", () => {
  it("copies interpolations, keeps escapes, escapes literal text", () => {
    expect(templateToHcl('a"${jsonencode({"k" = "v}"})}\\$${x}%%{y}\n')).toBe('a\\"${jsonencode({"k" = "v}"})}\\\\$${x}%%{y}\\n');
  });

  it.each([
    ["${aws_vpc.main.id}", "aws_vpc.main.id"],
    ['${jsonencode({ "a" = "}" })}', 'jsonencode({ "a" = "}" })'],
    ["${a}${b}", undefined],
    ["${a}-suffix", undefined],
    ["$${a}", undefined],
  ])("writes %j as the bare expression %j when it is one interpolation", (template, expression) => {
    expect(singleInterpolation(template)).toBe(expression);
  });

  it("writes references bare, blocks from the schema, maps as values, and never a heredoc", () => {
    const config = {
      resource: {
        aws_x: {
          y: {
            tags: { "kubernetes.io/cluster/a": "owned", Name: "line1\nEOF" },
            root_block_device: { volume_size: 8 },
            depends_on: ["aws_vpc.main"],
            provider: "aws.west",
            lifecycle: { prevent_destroy: true, ignore_changes: ["tags"] },
          },
        },
      },
    };
    const text = renderConfig(config, new Set(["resource.aws_x.root_block_device"]));
    expect(text).toBe(
      [
        'resource "aws_x" "y" {',
        "  tags = {",
        '    "kubernetes.io/cluster/a" = "owned"',
        '    Name = "line1\\nEOF"',
        "  }",
        "  root_block_device {",
        "    volume_size = 8",
        "  }",
        "  depends_on = [",
        "    aws_vpc.main,",
        "  ]",
        "  provider = aws.west",
        "  lifecycle {",
        "    prevent_destroy = true",
        "    ignore_changes = [",
        "      tags,",
        "    ]",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("refuses to write what it does not understand rather than write it wrong", () => {
    expect(() => renderConfig({ module: { m: {} } }, new Set())).toThrow(/does not support top-level module/);
    expect(() => renderConfig({ resource: { aws_x: { y: { depends_on: ["${file(\"x\")}"] } } } }, new Set())).toThrow(/not a reference/);
  });
});
