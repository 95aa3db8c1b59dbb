/**
 * The repairs of cdktf's HCL output (stacks/hcl.ts): exactly what `terraform fmt` and `terraform
 * validate` want changed, and nothing else. The end-to-end HCL test runs the real `terraform fmt
 * -check` on a whole cluster; these cases pin the edges.
 */
import { tidyCdktfHcl } from "../stacks/hcl";

const block = (body: string) => `resource "aws_x" "y" {\n${body}\n}`;

describe("tidyCdktfHcl", () => {
  it.each([
    ["a whole-value reference", '  vpc_id = "${aws_vpc.main.id}"', "  vpc_id = aws_vpc.main.id"],
    [
      "a whole-value function call with nested strings and interpolations",
      '  policy = "${jsonencode({ "Resource" = ["${aws_log.x.arn}:*"], "B" = "}" })}"',
      '  policy = jsonencode({ "Resource" = ["${aws_log.x.arn}:*"], "B" = "}" })',
    ],
    ["braces inside a string argument", '  g = "${replace("a}b", "}", "")}"', '  g = replace("a}b", "}", "")'],
    ["an escaped quote inside a string argument", '  h = "${format("say \\"hi\\" %s", x)}"', '  h = format("say \\"hi\\" %s", x)'],
  ])("unwraps %s, as terraform fmt does", (_what, before, after) => {
    expect(tidyCdktfHcl(block(before))).toBe(block(after));
  });

  it.each([
    ["a template with text around the interpolation", '  name = "${var.x}-suffix"'],
    ["two interpolations", '  name = "${var.x}${var.y}"'],
    ["a plain string", '  name = "plain"'],
  ])("leaves %s alone", (_what, line) => {
    expect(tidyCdktfHcl(block(line))).toBe(block(line));
  });

  it("leaves object items and list elements alone, which terraform fmt does not rewrite either", () => {
    const text = block('  tags = {\n    Name = "${var.name}"\n  }\n  ids = [\n    "${aws_vpc.main.id}",\n  ]');
    expect(tidyCdktfHcl(text)).toBe(text);
  });

  it("unwraps attributes of nested blocks", () => {
    expect(tidyCdktfHcl(block('  launch_template {\n    id = "${aws_launch_template.x.id}"\n  }'))).toBe(
      block("  launch_template {\n    id = aws_launch_template.x.id\n  }"),
    );
  });

  it("writes depends_on entries as references, not quoted strings", () => {
    expect(tidyCdktfHcl(block('  depends_on = [\n    "aws_internet_gateway.main",\n  ]'))).toBe(
      block("  depends_on = [\n    aws_internet_gateway.main,\n  ]"),
    );
  });
});
