// Runnable cells of a page: editors, Run / Run all / Stop / Restart, live outputs, status line.
//
// The build (hooks/cells.py) renders each cell as
//   <div class="dp-cell" data-cell-state="idle" [data-expect="error"] data-source="...">
//     <div class="dp-cell-code">highlighted code</div>
//     <div class="dp-cell-output dp-expected">outputs computed at build time</div>
//   </div>
// and one toolbar per page (.dp-toolbar); a cell with parameters also has its controls
// (.dp-controls, see controls.js) before its code. This script swaps the static code for an
// editor, starts the Python worker (worker.js) as soon as the page loads, and runs cells through
// it in order.
// Cells share one namespace per page; a page load (or Restart) gives a fresh one.

import { CellControls, parameterEdits } from "./controls.js";
import { isolate } from "./isolation.js";
import { explainFailure, JAVASCRIPT_TYPES } from "./served.js";
import { safeFragment } from "./safe_html.js";

const SITE_ROOT = new URL("../../", import.meta.url); // this file is assets/dropout/cells.js
const LOAD_TIMEOUT_MS = 60_000; // no loading progress for this long = failure
const STOP_GRACE_MS = 2_000; // an interrupt not honoured by then (C code) = terminate
const KEYS_HINT_ID = "dp-editor-keys"; // the editors' aria-describedby

// --- the Python worker ---------------------------------------------------------------------

class Kernel {
  constructor(config, onStatus) {
    this.config = config;
    this.onStatus = onStatus;
    this.pending = new Map(); // id -> {resolve, onEvent}
    this.nextId = 1;
    this.interrupt = self.crossOriginIsolated ? new SharedArrayBuffer(1) : null;
    const script = new URL("./worker.js", import.meta.url);
    this.worker = new Worker(script, { type: "module" });
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = async (event) => {
      const served = await explainFailure(script.href, JAVASCRIPT_TYPES); // e.g. a wrong MIME type
      this.fail(served ?? `the worker script failed: ${event.message ?? "load error"}`);
    };
    this.ready = this.start();
  }

  async start() {
    this.arm();
    const reply = await this.request({
      type: "init",
      config: { ...this.config, interrupt: this.interrupt },
    });
    this.loaded = true;
    clearTimeout(this.timer);
    if (!reply.ok) throw new Error(reply.error);
  }

  // (Re)start the no-progress timer: a runtime that never finishes loading must not hang silently.
  arm() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.worker.terminate();
      this.fail(`no progress for ${LOAD_TIMEOUT_MS / 1000} s while loading Python`);
    }, LOAD_TIMEOUT_MS);
  }

  fail(message) {
    clearTimeout(this.timer);
    for (const { resolve } of this.pending.values()) resolve({ ok: false, error: message });
    this.pending.clear();
  }

  request(message, onEvent = () => {}) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, onEvent });
      this.worker.postMessage({ ...message, id });
    });
  }

  receive(message) {
    if (message.type === "status") {
      if (!this.loaded && !message.ready) this.arm();
      this.onStatus(message);
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if (message.type === "event") entry.onEvent(message.event);
    if (message.type === "done") {
      this.pending.delete(message.id);
      entry.resolve(message);
    }
  }

  async run(code, number, onEvent) {
    await this.ready;
    // Forget a Stop pressed while nothing ran. Done here, before the request leaves, so that a
    // Stop pressed while the worker has not yet picked the request up (a busy machine) counts.
    if (this.interrupt) new Uint8Array(this.interrupt)[0] = 0;
    return this.request({ type: "run", code, number }, onEvent);
  }

  // Finish the training run that a Stop left in cell `number` (see cell_runtime.Session.resume).
  async resume(number, onEvent) {
    await this.ready;
    if (this.interrupt) new Uint8Array(this.interrupt)[0] = 0;
    return this.request({ type: "resume", number }, onEvent);
  }

  // The bytes of the model file of the namespace's model `name` (reply.bytes).
  async modelFile(name) {
    await this.ready;
    return this.request({ type: "model", name });
  }

  // Write a file the reader gave the page into Python's working folder.
  async putFile(name, bytes) {
    await this.ready;
    return this.request({ type: "file", name, bytes });
  }

  // True if Python was asked to raise KeyboardInterrupt (namespace kept).
  interruptPython() {
    if (!this.interrupt) return false;
    new Uint8Array(this.interrupt)[0] = 2; // SIGINT
    return true;
  }

  terminate() {
    clearTimeout(this.timer);
    this.worker.terminate();
    this.fail("the Python worker was stopped");
  }
}

// --- outputs ---------------------------------------------------------------------------------

// What a terminal shows: a carriage return restarts the line.
const terminalText = (text) =>
  text
    .split("\n")
    .map((line) => line.replace(/\r+$/, "").split("\r").pop())
    .join("\n");

function renderEvent(event) {
  const el = document.createElement(event.type === "display" && event.mime !== "text/plain" ? "div" : "pre");
  el.className = "dp-out";
  if (event.type === "stream") {
    el.classList.add(`dp-${event.name}`);
    el.dataset.raw = event.text;
    el.textContent = terminalText(event.text);
  } else if (event.type === "error") {
    el.classList.add("dp-error");
    el.textContent = event.traceback;
  } else {
    if (event.display_id != null) el.dataset.displayId = event.display_id;
    if (event.mime === "text/plain") {
      el.classList.add("dp-result");
      el.textContent = event.data;
    } else {
      el.classList.add("dp-rich");
      el.append(safeFragment(event.data)); // SVG/HTML from the cell's code, without scripts
    }
  }
  return el;
}

function showEvent(area, event) {
  const last = area.lastElementChild;
  if (event.type === "stream" && last?.classList.contains(`dp-${event.name}`)) {
    last.dataset.raw += event.text; // same stream continues: one block, like a terminal
    last.textContent = terminalText(last.dataset.raw);
    return;
  }
  const el = renderEvent(event);
  if (event.type === "display" && event.display_id != null) {
    const selector = `.dp-cell-output:not(.dp-expected) [data-display-id="${CSS.escape(event.display_id)}"]`;
    const old = document.querySelector(selector);
    if (old) return old.replaceWith(el); // a live figure updated in place
  }
  area.append(el);
}

// --- one cell --------------------------------------------------------------------------------

class Cell {
  constructor(root, number, page) {
    this.root = root;
    this.number = number;
    this.page = page;
    this.original = root.dataset.source;
    this.source = this.original; // the code while no editor holds it
    this.output = root.querySelector(".dp-cell-output");
    this.output.setAttribute("aria-live", "polite"); // read out once the cell is no longer busy
    this.expected = this.output.innerHTML;
    this.editor = null; // until the editor module has loaded, the static code stands in
    const bar = document.createElement("div");
    bar.className = "dp-cell-bar";
    const run = document.createElement("button");
    run.type = "button";
    run.className = "dp-run";
    run.textContent = "Run";
    run.title = "Run this cell (Shift+Enter)";
    run.setAttribute("aria-label", `Run cell ${number}`);
    run.onclick = () => page.runCells([this]);
    this.runButton = run;
    bar.append(run);
    root.querySelector(".dp-cell-code").after(bar);
    const box = root.querySelector(".dp-controls");
    this.controls = box ? new CellControls(box, (changes) => page.controlsMoved(this, changes)) : null;
  }

  // Write new values into the cell's parameter lines; return the names that have no line left.
  setParameters(changes) {
    const { edits, missing } = parameterEdits(this.code, changes);
    if (this.editor) this.editor.edit(edits);
    else {
      for (const { from, to, insert } of edits.toReversed()) {
        this.source = this.source.slice(0, from) + insert + this.source.slice(to);
      }
    }
    return missing;
  }

  // Replace the static, highlighted code by an editor holding the same code.
  attachEditor(createEditor) {
    const host = document.createElement("div");
    host.className = "dp-editor";
    this.root.querySelector(".dp-cell-code").replaceWith(host);
    this.editor = createEditor(host, this.source, {
      onRun: () => this.page.runCells([this], { focusNext: true }),
      onLeave: () => this.runButton.focus(),
      label: `Python cell ${this.number}`,
      describedBy: KEYS_HINT_ID,
    });
  }

  // Focus the editor, with the cursor where the reader clicked on the static code (if known).
  focusAt(x, y) {
    const view = this.editor.view;
    view.focus();
    const pos = x === undefined ? null : view.posAtCoords({ x, y });
    if (pos !== null) view.dispatch({ selection: { anchor: pos } });
  }

  get code() {
    return this.editor ? this.editor.getCode() : this.source;
  }

  get state() {
    return this.root.dataset.cellState;
  }

  set state(value) {
    this.root.dataset.cellState = value;
    if (value === "running") this.output.setAttribute("aria-busy", "true");
    else this.output.removeAttribute("aria-busy");
  }

  get expectsError() {
    return this.root.dataset.expect === "error";
  }

  clearOutput() {
    this.output.classList.remove("dp-expected", "dp-stale");
    this.output.replaceChildren();
  }

  // Python was restarted: what this cell computed is gone, though its output still shows.
  markLost() {
    if (this.state !== "done" && this.state !== "error") return;
    this.state = "lost";
    const note = document.createElement("p");
    note.className = "dp-lost-note";
    note.textContent = `Python was restarted: what cell ${this.number} defined is gone. Run it again.`;
    this.output.prepend(note);
  }

  reset() {
    this.source = this.original;
    this.editor?.setCode(this.original);
    this.controls?.reset();
    // The page's own outputs coming back are nothing new: not read out (live again right after).
    this.output.setAttribute("aria-live", "off");
    setTimeout(() => this.output.setAttribute("aria-live", "polite"));
    this.output.innerHTML = this.expected;
    this.output.classList.remove("dp-stale");
    this.output.classList.add("dp-expected");
    this.state = "idle";
  }
}

// --- the page --------------------------------------------------------------------------------

class Page {
  constructor(toolbar, roots, isolation) {
    this.toolbar = toolbar;
    this.isolation = isolation;
    toolbar.dataset.isolation = isolation.isolated ? isolation.how : "none";
    this.status = toolbar.querySelector(".dp-status");
    this.sources = roots.map((root) => root.dataset.source);
    this.startKernel(); // first: Python loads while the rest of the page is set up
    this.cells = roots.map((root, i) => new Cell(root, i + 1, this));
    this.queue = [];
    this.running = null;
    this.buttons = {
      runAll: toolbar.querySelector(".dp-run-all"),
      stop: toolbar.querySelector(".dp-stop"),
      restart: toolbar.querySelector(".dp-restart"),
    };
    this.buttons.runAll.onclick = () => this.runCells(this.cells, { stopOnError: true });
    this.buttons.stop.onclick = () => this.stop();
    this.buttons.restart.onclick = () => this.restart();
    this.buttons.runAll.disabled = false;
    this.buttons.restart.disabled = false;
    const hint = document.createElement("span");
    hint.id = KEYS_HINT_ID;
    hint.hidden = true; // still read as the editors' description
    hint.textContent =
      "Shift+Enter runs the cell. Tab indents once you type; Escape leaves the editor.";
    toolbar.append(hint);
    acceptFiles(this);
    // The editors (CodeMirror, most of this script's weight) come once Python is ready or the
    // reader reaches for the code, whichever is first: building them earlier slows the start.
    const load = () => this.loadEditors();
    this.kernel.ready.then(load, load);
    for (const cell of this.cells) {
      const code = cell.root.querySelector(".dp-cell-code");
      code.tabIndex = 0;
      code.addEventListener("focus", () => load().then(() => cell.focusAt()), { once: true });
      code.addEventListener("pointerdown", (e) => {
        e.preventDefault();
        load().then(() => cell.focusAt(e.clientX, e.clientY));
      }, { once: true });
    }
  }

  loadEditors() {
    this.editors ??= import("./editor.js").then(({ createEditor }) => {
      for (const cell of this.cells) cell.attachEditor(createEditor);
    });
    return this.editors;
  }

  config() {
    const siteIndex = new URL("pyodide/", SITE_ROOT).href;
    const indexURL = this.toolbar.dataset.pyodideUrl ?? siteIndex; // set when the site uses the CDN
    return {
      indexURL,
      lockURL: new URL("pyodide-lock.json", indexURL).href,
      siteLockURL: new URL("pyodide-lock.json", siteIndex).href,
      wasmGz: indexURL === siteIndex,
      dataURL: new URL("data/mnist/", SITE_ROOT).href,
      prefetch: this.sources.join("\n"),
      preload: this.toolbar.dataset.preload?.split(" ") ?? [],
    };
  }

  startKernel() {
    this.steps = [];
    this.readyText = null;
    this.firstRun = true;
    this.setStatus("Loading Python…");
    this.toolbar.dataset.runtime = "loading";
    this.kernel = new Kernel(this.config(), (message) => this.onStatus(message));
    const kernel = this.kernel;
    kernel.ready.catch((error) => {
      if (kernel !== this.kernel) return; // an old worker that was replaced
      this.toolbar.dataset.runtime = "failed";
      this.setStatus(`Python could not start: ${error.message}`, true);
      for (const cell of this.queue) cell.state = "idle";
      this.queue = [];
    });
  }

  // Loading steps arrive as {text, seconds}; a step without seconds is in progress.
  onStatus({ text, seconds, ready, numpy }) {
    if (numpy) performance.mark("dp-numpy-ready");
    if (ready) {
      performance.mark("dp-ready");
      this.toolbar.dataset.runtime = "ready";
      this.readyText = `Python ready in ${seconds.toFixed(1)} s`;
    } else if (seconds !== undefined) {
      this.steps.push(`${text} ${seconds.toFixed(1)} s`);
    } else if (!text.startsWith("Loading")) {
      return; // Pyodide's chatter ("No new packages to load", "Loaded ...")
    }
    const head = this.readyText ?? "Loading Python…";
    const busy = seconds === undefined ? ` · ${text.replace(/\.*$/, "")}…` : "";
    const steps = this.steps.length ? ` (${this.steps.join(" · ")})` : "";
    this.setStatus(`${head}${steps}${busy}`);
  }

  setStatus(text, failed = false) {
    this.status.textContent = text;
    this.status.classList.toggle("dp-failed", failed);
  }

  // Stop is only enabled while something runs. A disabled button loses the focus: hand it to
  // Run all next to it, so a keyboard user is not thrown back to the top of the page.
  enableStop(enabled) {
    const { stop, runAll } = this.buttons;
    if (!enabled && document.activeElement === stop) runAll.focus();
    stop.disabled = !enabled;
  }

  // Queue cells and run them one after another. With stopOnError, an unexpected error stops the
  // rest of the queue (a cell marked data-expect="error" does not).
  runCells(cells, { stopOnError = false, focusNext = false } = {}) {
    if (!performance.getEntriesByName("dp-first-click").length) performance.mark("dp-first-click");
    for (const cell of cells) {
      if (this.queue.includes(cell) || this.running === cell) continue;
      cell.state = "queued";
      cell.stopOnError = stopOnError;
      cell.cancelled = false;
      cell.stopped = false;
      this.queue.push(cell);
    }
    if (focusNext) {
      const next = this.cells[cells.at(-1).number]; // numbers are 1-based
      next?.editor?.view.focus();
    }
    this.enableStop(true);
    if (!this.running) this.drain();
  }

  async drain() {
    while (this.queue.length) {
      const cell = (this.running = this.queue.shift());
      const kernel = this.kernel;
      const ok = await this.runOne(cell, kernel);
      // Stopped by terminate or restarted meanwhile: whatever replaced the kernel has reset
      // `running`, and may already have started the next drain.
      if (kernel !== this.kernel) return;
      this.running = null;
      if (ok === false && cell.stopOnError && !cell.expectsError && !cell.stopped) {
        for (const rest of this.queue) rest.state = "idle";
        this.queue = [];
        this.setStatus(`Stopped at cell ${cell.number}: it raised an error.`);
      }
    }
    this.enableStop(false);
  }

  // A control of `cell` moved: set the new values in its code and run it again at once. A run of
  // this cell in flight is interrupted and replaced (what it would still print is dropped);
  // without the interrupt (a page that is not cross-origin isolated) the new run follows it. A
  // run merely queued reads the code when its turn comes. Only this cell runs (cells with
  // controls are written to run on their own); the output shown stays until the new run shows
  // something.
  controlsMoved(cell, changes) {
    const missing = cell.setParameters(changes);
    if (missing.length) {
      const lines = missing.map((name) => `"${name} = …"`).join(", ");
      this.setStatus(`Cell ${cell.number} has no line ${lines} left to set: edit its code or press Restart.`);
      return;
    }
    if (this.queue.includes(cell) || (this.running === cell && cell.state !== "running")) return;
    cell.keepOutput = true;
    if (this.running === cell) {
      cell.stopped = cell.cancelled = false;
      this.queue.unshift(cell);
      if (this.kernel.interruptPython()) this.supersede(cell);
      return;
    }
    this.runCells([cell]);
  }

  // The running `cell` was interrupted to run again: drop the rest of that run; if Python does
  // not react, restart it and run the cell in the fresh one.
  supersede(cell) {
    const run = cell.run;
    run.superseded = true;
    setTimeout(() => {
      if (this.running !== cell || cell.run !== run || !run.superseded) return; // or Stop took over
      this.queue = [];
      this.replaceKernel(cell, "it did not react to the new value");
      this.controlsMoved(cell, []);
    }, STOP_GRACE_MS);
  }

  // Run one cell; true/false = it ran without/with an error, null = it did not run.
  async runOne(cell, kernel) {
    try {
      await kernel.ready;
    } catch {
      cell.state = "idle"; // Python failed to load: the status line says why
      return null;
    }
    if (cell.cancelled) return null; // Stop pressed while Python was still loading
    const run = (cell.run = { superseded: false });
    cell.state = "running";
    const resuming = cell.resuming;
    cell.resuming = false;
    // A control's re-run keeps the old output until the new one; a resume keeps what it continues.
    let cleared = resuming || !cell.keepOutput;
    cell.keepOutput = false;
    if (resuming) forgetStop(cell);
    else if (cleared) cell.clearOutput();
    else cell.output.classList.add("dp-stale");
    this.setStatus(`Running cell ${cell.number}…`);
    if (this.firstRun) performance.mark("dp-first-run");
    let first = this.firstRun;
    this.firstRun = false;
    const code = cell.code;
    if (!resuming) cell.controls?.follow(code);
    const onEvent = (event) => {
      if (run.superseded) return;
      if (first) (performance.mark("dp-first-output"), (first = false));
      if (!cleared) (cell.clearOutput(), (cleared = true));
      if (!showTrainingEvent(this, cell, event)) showEvent(cell.output, event);
    };
    const reply = resuming
      ? await kernel.resume(cell.number, onEvent)
      : await kernel.run(code, cell.number, onEvent);
    if (kernel !== this.kernel || run.superseded) return null;
    if (!cleared) cell.clearOutput();
    if (reply.error) showEvent(cell.output, { type: "error", traceback: reply.error });
    cell.state = reply.ok ? "done" : "error";
    const outcome = reply.ok ? "finished" : cell.stopped ? "was stopped" : "raised an error";
    this.setStatus(`Cell ${cell.number} ${outcome}.`);
    return reply.ok;
  }

  // Stop the running cell and forget the queue. With the interrupt buffer Python raises
  // KeyboardInterrupt and keeps its namespace; without it (or if Python does not react, e.g.
  // inside a long C call) the worker is replaced and the namespace is lost.
  stop() {
    for (const cell of this.queue) if (cell !== this.running) cell.state = "idle"; // a control's re-run
    this.queue = [];
    const running = this.running;
    if (!running) return;
    if (running.state !== "running") {
      running.cancelled = true;
      running.state = "idle";
      return;
    }
    running.stopped = true;
    if (running.run) running.run.superseded = false; // Stop wins over a control's replacing run
    if (this.kernel.interruptPython()) {
      const run = running.run; // the same cell may be running again by then (Resume)
      setTimeout(() => {
        if (this.running === running && running.run === run) {
          this.replaceKernel(running, "it did not react to Stop");
        }
      }, STOP_GRACE_MS);
    } else {
      this.replaceKernel(running, `this page cannot interrupt it: ${this.isolation.reason}`);
    }
  }

  replaceKernel(cell, reason) {
    this.kernel.terminate();
    this.running = null;
    cell.state = "error";
    showEvent(cell.output, {
      type: "error",
      traceback: `Stopped. Python was restarted because ${reason}: earlier cells must be run again.` +
        lostTrainingNote(cell),
    });
    for (const other of this.cells) if (other !== cell) other.markLost();
    this.enableStop(false);
    this.startKernel();
  }

  // Back to the page as loaded: fresh Python, original code, expected outputs.
  restart() {
    this.queue = [];
    this.running = null;
    this.kernel.terminate();
    for (const cell of this.cells) cell.reset();
    this.enableStop(false);
    this.startKernel();
  }
}

// --- training: progress, Stop and Resume, files in and out ---------------------------------

// Live events of the cells that train (see cell_runtime.py); true if `event` was one of them.
//   training   where the run stands and how long an epoch takes here: one line, updated in place
//   resumable  a Stop left a model mid-run: say so, and offer a Resume button
//   models     the cell trained models that have a name in the namespace: a download button each
function showTrainingEvent(page, cell, event) {
  if (event.type === "training") {
    let line = cell.output.querySelector(":scope > .dp-training");
    if (!line) {
      line = document.createElement("p");
      line.className = "dp-training";
      cell.output.append(line);
    }
    line.textContent = event.text;
    return true;
  }
  if (event.type === "resumable") {
    const box = document.createElement("div");
    box.className = "dp-resume";
    const note = document.createElement("p");
    note.textContent = event.text;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "md-button dp-resume-button";
    button.textContent = "Resume";
    button.setAttribute("aria-label", `Resume the training of cell ${cell.number}`);
    button.onclick = () => {
      cell.resuming = true;
      page.runCells([cell]);
    };
    box.append(note, button);
    cell.output.append(box);
    return true;
  }
  if (event.type === "models") {
    const bar = document.createElement("p");
    bar.className = "dp-models";
    for (const name of event.names) bar.append(downloadButton(page, name));
    cell.output.append(bar);
    return true;
  }
  return false;
}

// Save the model `name` of the page's Python as NAME.npz, the file `dropout-py evaluate --model`
// and load_model() read natively. The file is made when the button is pressed.
function downloadButton(page, name) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "md-button dp-download";
  button.textContent = `Download ${name}.npz`;
  button.title = `Save the model ${name} as it is now, for load_model() or dropout-py evaluate --model`;
  button.onclick = async () => {
    const reply = await page.kernel.modelFile(name);
    if (!reply.ok) return page.setStatus(`${name} could not be saved: ${reply.error}`, true);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([reply.bytes], { type: "application/octet-stream" }));
    link.download = `${name}.npz`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    page.setStatus(`${name}.npz saved (${(reply.bytes.byteLength / 1024).toFixed(0)} kB)`);
  };
  return button;
}

// A Stop that had to restart Python took the model a cell was training with it: say so.
function lostTrainingNote(cell) {
  if (!cell.output.querySelector(":scope > .dp-training")) return "";
  return " The model it was training is gone too (a Stop keeps it where the page is cross-origin isolated: see the Deploy page).";
}

// The Resume offer and the traceback of the Stop give way to the resumed run's output.
function forgetStop(cell) {
  cell.output.querySelectorAll(":scope > .dp-resume, :scope > .dp-error").forEach((el) => el.remove());
}

// Files the reader drops onto the page or picks are written into Python's working folder,
// where a cell opens them by name (load_model("model.npz")).
function acceptFiles(page) {
  const input = document.createElement("input");
  input.type = "file";
  input.hidden = true;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "md-button dp-upload";
  button.textContent = "Open a file…";
  button.title = "Put a file (a model .npz, data) into Python's working folder; dropping it on the page works too";
  button.onclick = () => input.click();
  input.onchange = () => [...input.files].forEach((file) => putFile(page, file));
  page.buttons.restart.after(button, input);
  document.addEventListener("dragover", (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    [...event.dataTransfer.files].forEach((file) => putFile(page, file));
  });
}

async function putFile(page, file) {
  page.setStatus(`Putting ${file.name} into Python's working folder…`);
  const reply = await page.kernel.putFile(file.name, await file.arrayBuffer());
  page.setStatus(
    reply.ok
      ? `${reply.path} is in Python's working folder (${(file.size / 1024).toFixed(0)} kB): ` +
          `open it by name, e.g. load_model("${reply.path}")`
      : `${file.name} was not put into Python: ${reply.error}`,
    !reply.ok,
  );
}

// Isolation first: on a host without COOP/COEP headers the first visit reloads once (see
// isolation.js), and Python must not start downloading before that.
async function main(toolbar, roots) {
  const isolation = await isolate(SITE_ROOT).catch((error) => ({
    isolated: false,
    reason: `the page could not be isolated (${error.message})`,
  }));
  if (isolation.reloading) {
    toolbar.querySelector(".dp-status").textContent = "Reloading once to let Stop keep Python's state…";
    return;
  }
  window.dropoutPage = new Page(toolbar, roots, isolation);
}

const toolbar = document.querySelector(".dp-toolbar");
const roots = [...document.querySelectorAll(".dp-cell")];
if (toolbar && roots.length) main(toolbar, roots);
