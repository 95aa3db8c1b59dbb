/**
 * Rendering the Handlebars templates of this folder (user data, HA report, plan summary). They are
 * precompiled by templates/compile.js at build time, so a process loads only the Handlebars runtime
 * and never parses a template.
 */
import Handlebars from "handlebars/runtime";

/** The precompiled templates (templates/precompiled.js, written by templates/compile.js). */
interface Precompiled {
  readonly templates: Readonly<Record<string, TemplateSpecification>>;
  readonly partials: Readonly<Record<string, TemplateSpecification>>;
}

const precompiled = require("./precompiled.js") as Precompiled;

const handlebars = Handlebars.create();
const templates = new Map<string, Handlebars.TemplateDelegate>();

handlebars.registerHelper("join", (items: unknown, separator: unknown) =>
  Array.isArray(items) ? items.join(typeof separator === "string" ? separator : ", ") : "",
);
handlebars.registerHelper("plural", (count: number, singular: string, plural: string) =>
  count === 1 ? singular : plural,
);
for (const [name, spec] of Object.entries(precompiled.partials)) {
  handlebars.registerPartial(name, handlebars.template(spec));
}

/**
 * Renders templates/NAME with `context`. Templates are compiled with `noEscape` because none of them
 * is HTML: they are shell scripts and Markdown whose values are escaped where they are used; and with
 * `strict`, so that a value missing from `context` is an error rather than an empty string.
 */
export function render(name: string, context: object): string {
  let template = templates.get(name);
  if (!template) {
    const spec = precompiled.templates[name];
    if (!spec) {
      throw new Error(`no template ${name} in templates/ (templates/precompiled.js is built by npm run build)`);
    }
    template = handlebars.template(spec);
    templates.set(name, template);
  }
  return template(context);
}
