// Parses Mermaid diagrams with Mermaid itself (the library GitHub renders them with), for the tests of
// the cluster pictures. Mermaid is an ES module that needs a DOM (its label sanitizer, DOMPurify), so
// it runs here, in a Node process of its own with jsdom's window, and not inside jest.
//
// Input (stdin): a JSON array of diagram texts. Output (stdout): a JSON object
// `{ loadMs, results: [...] }`, one result per diagram: `{ ok: false, error }` when Mermaid refuses
// it, else `{ ok: true, type, vertices, subgraphs, edges }` as Mermaid's flowchart parser understood
// them, with every label's entity codes decoded as Mermaid shows them.
import { JSDOM } from "jsdom";

const dom = new JSDOM("");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
// GitHub renders with the strict security level.
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
// Milliseconds since the process started: loading jsdom and Mermaid.
const loadMs = Math.round(performance.now());

/**
 * Mermaid replaces `#35;` with `ﬂ°°35¶ß` and `#quot;` with `ﬂ°quot¶ß` while parsing and turns them
 * into HTML entities when drawing; decode both as the browser would.
 */
function decode(text) {
  const entity = (html) => {
    const element = dom.window.document.createElement("textarea");
    element.innerHTML = html;
    return element.value;
  };
  return String(text ?? "")
    .replace(/ﬂ°°(\d+)¶ß/g, (_, code) => String.fromCodePoint(Number(code)))
    .replace(/ﬂ°(\w+)¶ß/g, (_, name) => entity(`&${name};`));
}

async function check(text) {
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    const db = diagram.db;
    return {
      ok: true,
      type: diagram.type,
      vertices: [...db.getVertices().values()].map((v) => ({
        id: v.id,
        text: decode(v.text),
        shape: v.type,
        classes: v.classes ?? [],
      })),
      subgraphs: db.getSubGraphs().map((s) => ({ id: s.id, title: decode(s.title), nodes: s.nodes })),
      edges: db.getEdges().map((e) => ({ start: e.start, end: e.end, stroke: e.stroke })),
      classes: Object.fromEntries([...db.getClasses().entries()].map(([name, c]) => [name, c.styles])),
    };
  } catch (error) {
    return { ok: false, error: String(error && error.message ? error.message : error) };
  }
}

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const diagrams = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const text of diagrams) {
  results.push(await check(text));
}
process.stdout.write(JSON.stringify({ loadMs, results }));
// jsdom's window keeps timers; close it so that the process ends on its own.
dom.window.close();
