/**
 * Golden files: expected outputs kept under __tests__/golden/, compared byte for byte. They are
 * regenerated on purpose, never blindly: `KOPSFORM_UPDATE_GOLDEN=1 npx jest FILE` rewrites the files a
 * test compares, and the diff is reviewed like code. CI never rewrites them.
 */
import * as fs from "fs";
import * as path from "path";

/** The folder of the golden files. */
export const GOLDEN_DIR = path.join(__dirname, "..", "golden");

/** Expects `actual` to equal the golden file `name`, or writes it when asked to (not in CI). */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.KOPSFORM_UPDATE_GOLDEN === "1" && process.env.CI !== "true") {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
  }
  if (!fs.existsSync(file)) {
    throw new Error(`no golden file ${path.relative(process.cwd(), file)}; write it with KOPSFORM_UPDATE_GOLDEN=1 and review it`);
  }
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}

/** Every Mermaid diagram (the text inside a ```mermaid fence) of the golden Markdown files, by file. */
export function goldenDiagrams(): { file: string; diagram: string }[] {
  const found: { file: string; diagram: string }[] = [];
  for (const file of fs.readdirSync(GOLDEN_DIR).filter((f) => f.endsWith(".md")).sort()) {
    const text = fs.readFileSync(path.join(GOLDEN_DIR, file), "utf8");
    for (const match of text.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)) {
      found.push({ file, diagram: match[1] });
    }
  }
  return found;
}
