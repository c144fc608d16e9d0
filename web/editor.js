// The code editor of a runnable cell: CodeMirror 6 with Python highlighting.
//
// Tokens get CSS classes (`tok-keyword`, `tok-string`, ...) instead of inline colours; the
// stylesheet maps them to mkdocs-material's code colours, so the editor follows the light/dark
// palette switch without any script.

import { EditorState } from "@codemirror/state";
import { EditorView, keymap, drawSelection, highlightActiveLine } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { classHighlighter } from "@lezer/highlight";

/**
 * Create an editor in `parent` holding `code`.
 *
 * @param {HTMLElement} parent
 * @param {string} code
 * @param {{onRun: () => void, label: string}} options  onRun is called on Shift+Enter.
 * @returns {{view: EditorView, getCode: () => string, setCode: (code: string) => void}}
 */
export function createEditor(parent, code, { onRun, label }) {
  const runKey = { key: "Shift-Enter", preventDefault: true, run: () => (onRun(), true) };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: code,
      extensions: [
        keymap.of([runKey, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        history(),
        drawSelection(),
        highlightActiveLine(),
        indentOnInput(),
        indentUnit.of("    "),
        bracketMatching(),
        python(),
        syntaxHighlighting(classHighlighter),
        EditorView.contentAttributes.of({ "aria-label": label }),
      ],
    }),
  });
  return {
    view,
    getCode: () => view.state.doc.toString(),
    setCode: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
  };
}
