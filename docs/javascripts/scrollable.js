// Keyboard access to whatever scrolls (WCAG 2.1.1; axe's rule scrollable-region-focusable).
//
// mkdocs-material makes its code blocks focusable when they overflow, but not its table wrappers
// or its display formulas (div.arithmatex, which scroll sideways on a phone), and the runnable
// cells add outputs (wide figures, long lines) while the page is open. Each such element gets
// tabindex="0" while its content is wider or taller than its box, and loses it when the content
// fits again (a wider window, a shorter output), so the Tab order only grows by the regions that
// really scroll. Focus rings: docs/stylesheets/a11y.css.

const SCROLLABLE = ".md-typeset__scrollwrap, div.arithmatex, .dp-out, .dp-out figure";

function update(el) {
  const { overflowX, overflowY } = getComputedStyle(el);
  const scrolls =
    (/auto|scroll/.test(overflowX) && el.scrollWidth > el.clientWidth + 1) ||
    (/auto|scroll/.test(overflowY) && el.scrollHeight > el.clientHeight + 1);
  if (scrolls) el.tabIndex = 0;
  else el.removeAttribute("tabindex");
}

// An element is checked as soon as it is observed, then whenever its box changes size (a resized
// window, an output that grows while a cell runs).
const resizes = new ResizeObserver((entries) => entries.forEach((entry) => update(entry.target)));

function watch(root) {
  if (root.matches(SCROLLABLE)) resizes.observe(root);
  root.querySelectorAll(SCROLLABLE).forEach((el) => resizes.observe(el));
}

const content = document.querySelector(".md-content") ?? document.body;
watch(content);
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) if (node instanceof Element) watch(node);
    const target = record.target;
    if (target instanceof Element && target.matches(SCROLLABLE)) update(target);
  }
}).observe(content, { childList: true, subtree: true });
