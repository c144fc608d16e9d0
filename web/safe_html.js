// Rich (SVG/HTML) cell outputs come from code the reader runs: render their markup, never their
// active parts. The page's Content-Security-Policy refuses inline scripts, event handlers and
// javascript: URLs (Chrome reports a handler as soon as the markup is parsed, and never runs it);
// this also drops what the policy does not cover, such as <meta http-equiv="refresh"> or <base>.

const ACTIVE_ELEMENTS =
  "script, iframe, frame, object, embed, applet, base, meta, link, form, animate, set, handler";
const URL_ATTRIBUTES = new Set(["href", "xlink:href", "src", "action", "formaction"]);

// Parsed in a <template>: inert, nothing loads or runs while it is cleaned.
export function safeFragment(markup) {
  const template = document.createElement("template");
  template.innerHTML = markup;
  const root = template.content;
  for (const el of root.querySelectorAll(ACTIVE_ELEMENTS)) el.remove();
  for (const el of root.querySelectorAll("*")) {
    for (const { name, value } of [...el.attributes]) {
      const lower = name.toLowerCase();
      // Browsers ignore control characters and spaces inside a URL's scheme ("java\tscript:").
      const scheme = value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
      const scripted = URL_ATTRIBUTES.has(lower) && /^(javascript|vbscript):/.test(scheme);
      if (lower.startsWith("on") || scripted || lower === "srcdoc") el.removeAttribute(name);
    }
  }
  return root;
}
