/**
 * The Handlebars templates under templates/, compiled once per process on first use. Templates are
 * files of this package (not user input), so reading them here is like loading code.
 */
import * as fs from "fs";
import * as path from "path";
import Handlebars from "handlebars";

const handlebars = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate>();
let partialsLoaded = false;

handlebars.registerHelper("eq", (a: unknown, b: unknown) => a === b);
handlebars.registerHelper("join", (items: unknown, separator: unknown) =>
  Array.isArray(items) ? items.join(typeof separator === "string" ? separator : ", ") : "",
);
handlebars.registerHelper("plural", (count: number, singular: string, plural: string) =>
  count === 1 ? singular : plural,
);

/** Registers every templates/partials/NAME.hbs as partial NAME, once. */
function ensurePartials(): void {
  if (partialsLoaded) {
    return;
  }
  const dir = path.join(__dirname, "partials");
  if (fs.existsSync(dir)) {
    for (const file of fs.readdirSync(dir).sort()) {
      if (file.endsWith(".hbs")) {
        handlebars.registerPartial(file.slice(0, -4), fs.readFileSync(path.join(dir, file), "utf8"));
      }
    }
  }
  partialsLoaded = true;
}

/**
 * Renders templates/NAME with `context`. Templates are compiled with `noEscape` because none of them
 * is HTML: they are shell scripts and Markdown whose values are escaped where they are used.
 */
export function render(name: string, context: object): string {
  ensurePartials();
  let template = compiled.get(name);
  if (!template) {
    const source = fs.readFileSync(path.join(__dirname, name), "utf8");
    template = handlebars.compile(source, { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  return template(context);
}
