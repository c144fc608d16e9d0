// Live controls of a cell: sliders and selects that set a parameter line and re-run the cell.
//
// The build (hooks/controls.py) renders, above a cell whose code has a line such as
//   keep = 0.5  # slider 0.1..1.0 step 0.1 "keep probability p"
// a <div class="dp-controls"> holding, per parameter, a labelled <input type=range> or <select>
// (data-name = the variable; a slider's data-decimals = the decimals of its step; an option's
// value = its Python literal) and, beside a slider, an <output> showing the value. They come
// disabled; this module enables them.
//
// What a move does, defined here and tested in tests/browser/test_controls.py:
// * the value beside the slider follows at once, and the cell's code gets the new literal in
//   the declaring line (only the value between `=` and the comment changes: whatever else the
//   reader edited in the cell stays, and the editor's undo history has the change), and the
//   cell runs again. Debounced on both edges: the first move after a rest applies at once (one
//   key press runs without delay); moves that follow within DEBOUNCE_MS of each other (a drag,
//   a held key) are applied together once they rest for DEBOUNCE_MS;
// * a line the reader deleted or renamed cannot be set: nothing runs, the page's status says so;
// * when the cell runs by other means (Run, Run all), the controls follow the values its code
//   has, so the controls and the code never disagree about what ran.

export const DEBOUNCE_MS = 100;

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Where the top-level line `name = value  # comment` of `code` holds its value.
 *
 * @param {string} code
 * @param {string} name
 * @returns {{from: number, to: number, value: string} | null} offsets of the value in `code`
 */
export function findValue(code, name) {
  const line = new RegExp(`^(${escapeRegExp(name)}[ \\t]*=(?!=)[ \\t]*)([^#\\n]*?)[ \\t]*(#.*)?$`, "m");
  const match = line.exec(code);
  if (!match) return null;
  const from = match.index + match[1].length;
  return { from, to: from + match[2].length, value: match[2] };
}

/** The Python literal of a slider position: `0.3`, `1.0` (floats stay floats), `5`. */
export function sliderLiteral(value, decimals) {
  const text = String(Number(Number(value).toFixed(decimals)));
  return decimals > 0 && !/[.e]/.test(text) ? `${text}.0` : text;
}

export class CellControls {
  /**
   * @param {HTMLElement} box the cell's .dp-controls
   * @param {(changes: {name: string, literal: string}[]) => void} onChange called with the
   *   parameters moved since the last call: at the first move after a rest, then once the
   *   controls have rested for DEBOUNCE_MS
   */
  constructor(box, onChange) {
    this.onChange = onChange;
    this.fields = [...box.querySelectorAll("[data-name]")];
    this.defaults = this.fields.map((field) => field.value);
    this.moved = new Set();
    for (const field of this.fields) {
      field.disabled = false;
      field.addEventListener("input", () => this.move(field));
    }
  }

  literal(field) {
    return field.type === "range" ? sliderLiteral(field.value, Number(field.dataset.decimals)) : field.value;
  }

  show(field, text) {
    const shown = field.closest(".dp-control").querySelector(".dp-control-value");
    if (shown) shown.textContent = text;
  }

  move(field) {
    this.show(field, this.literal(field));
    this.moved.add(field);
    const resting = this.timer === undefined; // no move within the last DEBOUNCE_MS
    clearTimeout(this.timer);
    if (resting) this.flush();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, DEBOUNCE_MS);
  }

  flush() {
    const changes = [...this.moved].map((field) => ({ name: field.dataset.name, literal: this.literal(field) }));
    this.moved.clear();
    if (changes.length) this.onChange(changes);
  }

  // The cell is about to run `code`: show the values it sets (a slider goes to the nearest
  // position; the number beside it shows the code's own literal). Controls moved but not yet
  // applied keep their position: their run follows.
  follow(code) {
    for (const field of this.fields) {
      if (this.moved.has(field)) continue;
      const found = findValue(code, field.dataset.name);
      const literal = found?.value.trim();
      if (!literal) continue;
      if (field.type === "range") {
        if (!Number.isFinite(Number(literal))) continue;
        field.value = Number(literal);
        this.show(field, literal);
      } else if ([...field.options].some((option) => option.value === literal)) {
        field.value = literal;
      }
    }
  }

  // Back to the page as built (Restart).
  reset() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.moved.clear();
    this.fields.forEach((field, i) => {
      field.value = this.defaults[i];
      this.show(field, this.literal(field));
    });
  }
}

/**
 * Apply `changes` to `code`: the edits (offsets in `code`, in order) and the names without a
 * line to set.
 */
export function parameterEdits(code, changes) {
  const edits = [];
  const missing = [];
  for (const { name, literal } of changes) {
    const found = findValue(code, name);
    if (found) edits.push({ from: found.from, to: found.to, insert: literal });
    else missing.push(name);
  }
  return { edits: edits.sort((a, b) => a.from - b.from), missing };
}
