// Render TeX to HTML with KaTeX, for hooks/maths.py (build time: the pages need no maths script).
//
// stdin:  a JSON list of {"tex": string, "display": boolean}
// stdout: {"html": [string, ...]} in the same order, or {"error": string, "index": number} for
//         the first expression KaTeX cannot parse (exit code 1).
// The HTML carries MathML beside the drawn glyphs, so screen readers read the formula.
import katex from "katex";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const items = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const html = [];
for (const [index, { tex, display }] of items.entries()) {
  try {
    html.push(
      katex.renderToString(tex, {
        displayMode: display,
        output: "htmlAndMathml",
        throwOnError: true,
        strict: "error",
        trust: false,
      }),
    );
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error.message ?? error), index }));
    process.exit(1);
  }
}
process.stdout.write(JSON.stringify({ html, version: katex.version }));
