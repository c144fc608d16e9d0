// The code editor of a runnable cell: CodeMirror 6 with Python highlighting.
//
// Tokens get CSS classes (`tok-keyword`, `tok-string`, ...) instead of inline colours; the
// stylesheet maps them to mkdocs-material's code colours, so the editor follows the light/dark
// palette switch without any script.

import { EditorState } from "@codemirror/state";
import { EditorView, keymap, drawSelection, highlightActiveLine } from "@codemirror/view";
import {
  defaultKeymap,
  history,
  historyKeymap,
  indentWithTab,
  simplifySelection,
} from "@codemirror/commands";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { classHighlighter } from "@lezer/highlight";

// Tab indents code, which would trap keyboard users inside an editor. So an editor reached from
// the keyboard (Tab, Shift+Tab, Shift+Enter in the cell above) lets Tab and Shift+Tab move the
// focus on (CodeMirror's tab-focus mode) until the reader presses any other key; from then on, or
// after a click, Tab indents, and Escape leaves the editor.
const NAVIGATING_MS = 3_600_000; // tab-focus mode ends at the next other key, or after an hour
let lastInput = "keyboard";
document.addEventListener("pointerdown", () => (lastInput = "pointer"), true);
document.addEventListener("keydown", () => (lastInput = "keyboard"), true);

/**
 * Create an editor in `parent` holding `code`.
 *
 * Escape first drops a multiple or non-empty selection, then calls onLeave, which moves the
 * focus out of the editor.
 *
 * @param {HTMLElement} parent
 * @param {string} code
 * @param {{onRun: () => void, onLeave: () => void, label: string, describedBy?: string}} options
 *   onRun is called on Shift+Enter, onLeave on Escape; label names the editor for screen
 *   readers and describedBy is the id of a text that explains these keys.
 * @returns {{view: EditorView, getCode: () => string, setCode: (code: string) => void,
 *   edit: (changes: {from: number, to: number, insert: string}[]) => void}}
 *   edit changes parts of the code (offsets in the current code), keeping the rest, the cursor
 *   and the undo history.
 */
export function createEditor(parent, code, { onRun, onLeave, label, describedBy }) {
  const runKey = { key: "Shift-Enter", preventDefault: true, run: () => (onRun(), true) };
  const leaveKey = { key: "Escape", run: (view) => simplifySelection(view) || (onLeave(), true) };
  // tabindex: the content is focusable anyway (contenteditable), but checkers such as axe only
  // count an explicit tabindex when they ask whether the scrolling editor can be reached.
  const attributes = { "aria-label": label, tabindex: "0" };
  if (describedBy) attributes["aria-describedby"] = describedBy;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: code,
      extensions: [
        keymap.of([runKey, leaveKey, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        history(),
        drawSelection(),
        highlightActiveLine(),
        indentOnInput(),
        indentUnit.of("    "),
        bracketMatching(),
        python(),
        syntaxHighlighting(classHighlighter),
        EditorView.contentAttributes.of(attributes),
        EditorView.domEventHandlers({
          focus: (event, view) => {
            if (lastInput === "keyboard") view.setTabFocusMode(NAVIGATING_MS);
          },
        }),
      ],
    }),
  });
  return {
    view,
    getCode: () => view.state.doc.toString(),
    setCode: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    edit: (changes) => view.dispatch({ changes }),
  };
}
