/**
 * The documentation's commands run as written. Every fenced `bash` block of README.md and docs/*.md
 * with an `npx kopsform` command is run, command by command, in a copy of the project's `clusters/`
 * (what a clone holds), with the built command (`npx kopsform` is the project's own bin). Each command
 * must succeed, unless the block is followed by a `text` block: then it is one command that must fail
 * with exit 1 and print exactly that text. A block preceded by `<!-- readme-test: skip: REASON -->`
 * is not run; the test lists those, so that skipping never spreads unnoticed.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./helpers/cluster";

const ROOT = path.join(__dirname, "..");
const BIN = path.join(ROOT, "bin", "kopsform.js");

/** A command block of a Markdown file. */
interface CommandBlock {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly commands: readonly string[];
  /** The text a failing command must print, when the block is followed by a `text` block. */
  readonly expectedError?: string;
  readonly skip?: string;
}

/** The fenced `bash` blocks of a Markdown text that hold `npx kopsform` commands. */
function commandBlocks(file: string, text: string): CommandBlock[] {
  const lines = text.split("\n");
  const blocks: CommandBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) {
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) {
      throw new Error(`${file}:${i + 1}: a code block that never closes`);
    }
    const body = lines.slice(i + 1, end);
    const start = i;
    i = end;
    if (open[1] !== "bash") {
      continue;
    }
    const commands = joinContinuations(body).filter((c) => c !== "" && !c.startsWith("#"));
    if (!commands.some((c) => /^npx kopsform\b/.test(c))) {
      continue;
    }
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === "") {
      before--;
    }
    const skip = /^<!-- readme-test: skip: (.+) -->$/.exec(lines[before] ?? "")?.[1];
    let after = end + 1;
    while (after < lines.length && lines[after].trim() === "") {
      after++;
    }
    let expectedError: string | undefined;
    if (/^```text\s*$/.test(lines[after] ?? "")) {
      const close = lines.findIndex((l, j) => j > after && /^```\s*$/.test(l));
      expectedError = lines.slice(after + 1, close).join("\n");
    }
    blocks.push({ file, line: start + 1, commands, expectedError, skip });
  }
  return blocks;
}

/** Lines joined where they end in a backslash, comments after a command dropped, trimmed. */
function joinContinuations(body: readonly string[]): string[] {
  const out: string[] = [];
  let current = "";
  for (const raw of body) {
    const line = raw.replace(/\s+#\s.*$/, "").trimEnd();
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    out.push(`${current}${line.trim()}`.trim());
    current = "";
  }
  return out;
}

/** Runs one command line with `npx kopsform` as the built command, as a user's shell would. */
function run(command: string, cwd: string): { code: number; stdout: string; stderr: string } {
  const prelude =
    `npx() { if [ "$1" = kopsform ]; then shift; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"; ` +
    `else echo "npx $1: the README test runs npx kopsform only" >&2; return 127; fi; }\n`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KOPSFORM_") && k !== "CDKTF_OUTDIR"));
  const r = spawnSync("bash", ["-c", prelude + command], { cwd, encoding: "utf8", env, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const FILES = [
  path.join(ROOT, "README.md"),
  ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join(ROOT, "docs", f)),
];

describe("the block reader", () => {
  it("joins continued lines, drops comments, and reads skips and expected errors", () => {
    const md = [
      "<!-- readme-test: skip: needs AWS -->",
      "",
      "```bash",
      "# a comment",
      "npx kopsform plan \\",
      "    --offline   # inline comment",
      "```",
      "",
      "```bash",
      "npx kopsform create cluster --bad",
      "```",
      "",
      "```text",
      "error: unknown option '--bad'",
      "```",
      "```bash",
      "npm test",
      "```",
    ].join("\n");
    expect(commandBlocks("x.md", md)).toEqual([
      { file: "x.md", line: 3, commands: ["npx kopsform plan --offline"], expectedError: undefined, skip: "needs AWS" },
      { file: "x.md", line: 9, commands: ["npx kopsform create cluster --bad"], expectedError: "error: unknown option '--bad'", skip: undefined },
    ]);
  });
});

describe.each(FILES.map((f) => [path.relative(ROOT, f), f]))("the npx kopsform commands of %s", (_name, file) => {
  const blocks = commandBlocks(path.relative(ROOT, file), fs.readFileSync(file, "utf8"));
  let dir: string;
  let shipped: Record<string, string>;

  beforeAll(() => {
    // A clone: the shipped cluster specs, nothing synthesized.
    dir = tempDir("readme");
    fs.cpSync(path.join(ROOT, "clusters"), path.join(dir, "clusters"), { recursive: true });
    shipped = Object.fromEntries(fs.readdirSync(path.join(dir, "clusters")).map((f) => [f, fs.readFileSync(path.join(dir, "clusters", f), "utf8")]));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const runnable = blocks.filter((b) => b.skip === undefined);
  if (runnable.length > 0) {
    it.each(runnable.map((b) => [`line ${b.line}`, b] as const))("runs the block at %s as written", (_where, block) => {
      if (block.expectedError !== undefined) {
        expect(block.commands).toHaveLength(1);
        const r = run(block.commands[0], dir);
        expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 1, stderr: block.expectedError.trim() });
        return;
      }
      for (const command of block.commands) {
        const r = run(command, dir);
        expect({ command, code: r.code, stackTrace: /\n\s+at /.test(r.stderr) }).toEqual({ command, code: 0, stackTrace: false });
      }
    });
  }

  it("skips only the blocks it says it skips, and leaves the shipped specs as they were", () => {
    const skipped = blocks.filter((b) => b.skip !== undefined).map((b) => `${b.commands[0]} (${b.skip})`);
    expect(skipped).toEqual(
      path.basename(file) === "README.md"
        ? [
            expect.stringMatching(/^kops get all hacluster\.example\.com -o yaml > kops\.yaml \(needs kops and its cluster;/),
            expect.stringMatching(/^npx kopsform synth \(kopsform plan needs AWS credentials/),
          ]
        : [],
    );
    for (const [name, text] of Object.entries(shipped)) {
      expect([name, fs.readFileSync(path.join(dir, "clusters", name), "utf8")]).toEqual([name, text]);
    }
  });
});

describe("the README's examples", () => {
  it("are found: the three create cluster commands and synth, then the refusal", () => {
    const blocks = commandBlocks("README.md", fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
    const examples = blocks.filter((b) => b.commands.some((c) => c.startsWith("npx kopsform create cluster")));
    expect(examples.map((b) => b.commands.map((c) => c.split(" ").slice(0, 3).join(" ") + " … " + c.split(" ").pop()))).toEqual([
      [
        "npx kopsform create … hacluster.example.com",
        "npx kopsform create … advanced.example.com",
        "npx kopsform create … twozone.example.com",
        "npx kopsform synth … synth",
      ],
      ["npx kopsform create … refused.example.com"],
    ]);
    expect(examples[1].expectedError).toMatch(/i-abcd1234/);
  });
});

describe("the documentation's references", () => {
  // A user's clone holds the project and nothing beside it: a link or path out of it (the
  // development workspace's ../shared/ was one) leads nowhere.
  it.each(FILES.map((f) => [path.relative(ROOT, f), f]))("%s links only to files the project holds, and names no path outside it", (_, file) => {
    const text = fs.readFileSync(file, "utf8");
    expect(text).not.toMatch(/\.\.\/shared\b|\/work\//);
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^(https?:|mailto:|#)/.test(l));
    for (const link of links) {
      const target = path.resolve(path.dirname(file), link.replace(/#.*$/, ""));
      expect({ link, inProject: !path.relative(ROOT, target).startsWith(".."), exists: fs.existsSync(target) }).toEqual({ link, inProject: true, exists: true });
    }
  });
});
