// The Python side of a page: Pyodide in a module Web Worker, so long runs never freeze the page.
//
// Protocol. Every request from the page carries an `id`; the worker answers it with exactly one
// `{id, type: "done", ok, error?}` once it has finished. While it works it may send:
//   {type: "status", text, seconds?}      a loading step (seconds = how long the step took)
//   {id, type: "event", event}            an output of the running cell (see cell_runtime.py)
// Requests:
//   {id, type: "init", config}   load Pyodide, numpy and dropout_py, mount the data, make a session
//       config = {indexURL, lockURL, siteLockURL, dataURL, interrupt: SharedArrayBuffer|null,
//                 prefetch: all cell code of the page (its imports are loaded in the background)}
//   {id, type: "run", code, number}   run one cell in the page's namespace
// Stop uses the shared interrupt buffer (written by the page, read by Python) when the page is
// cross-origin isolated; otherwise the page terminates this worker and starts a new one.

import runtimeSource from "./cell_runtime.py";

const DATA_MOUNT = "/data/mnist";
let pyodide = null;
let session = null;
let interrupt = null;
let currentId = null;

const post = (message) => self.postMessage(message);
const seconds = (start) => Math.round(performance.now() - start) / 1000;

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    let ok = true;
    if (type === "init") await init(data.config);
    else if (type === "run") ok = await run(id, data.code, data.number);
    else throw new Error(`unknown request type ${type}`);
    post({ id, type: "done", ok });
  } catch (error) {
    post({ id, type: "done", ok: false, error: error?.message ?? String(error) });
  }
};

// A wrong MIME type or a missing file can make loadPyodide hang or fail obscurely: check the
// biggest file first and name the problem.
async function preflight(indexURL) {
  const url = new URL("pyodide.asm.wasm", indexURL);
  let response;
  try {
    response = await fetch(url, { method: "HEAD" });
  } catch (error) {
    throw new Error(`cannot reach ${url}: ${error.message}`);
  }
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/wasm")) {
    throw new Error(`${url} is served as "${type}"; the server must send application/wasm`);
  }
}

async function fetchManifest(dataURL) {
  try {
    const response = await fetch(new URL("manifest.json", dataURL));
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// Make every file of the data bundle appear under DATA_MOUNT without downloading anything: each
// is an Emscripten lazy file, fetched (one synchronous request, fine inside a worker) the first
// time Python reads it.
function mountData(manifest, dataURL) {
  const FS = pyodide.FS;
  for (const relpath of Object.keys(manifest.files)) {
    const parts = relpath.split("/");
    const name = parts.pop();
    const folder = [DATA_MOUNT, ...parts].join("/");
    FS.mkdirTree(folder);
    FS.createLazyFile(folder, name, new URL(relpath, dataURL).href, true, false);
  }
  FS.writeFile(`${DATA_MOUNT}/manifest.json`, JSON.stringify(manifest));
}

// The Pyodide module. From the site, a plain import. From the CDN, every file is pinned by the
// Subresource Integrity digest the build put in the site's cdn-integrity.json (digests of the
// copies it verified, the same bytes the CDN serves): GET requests carry it as `integrity`, and
// the two scripts, which import() cannot check, are fetched checked and run from those bytes.
// Resolves to {loadPyodide, pinFailure}: pinFailure rejects as soon as a pinned file fails (Pyodide
// itself only logs a failed wasm download and waits forever).
async function importPyodide(config) {
  const pinFailure = new Promise(() => {});
  if (config.lockURL === config.siteLockURL) {
    const { loadPyodide } = await import(new URL("pyodide.mjs", config.indexURL).href);
    return { loadPyodide, pinFailure };
  }
  const pins = await (await fetch(new URL("cdn-integrity.json", config.siteLockURL))).json();
  const integrity = new Map(
    Object.entries(pins.files).map(([name, sri]) => [new URL(name, config.indexURL).href, sri]),
  );
  let fail;
  const failed = new Promise((_, reject) => (fail = reject));
  failed.catch(() => {}); // reported through init, if it is still waiting
  const plainFetch = self.fetch.bind(self);
  self.fetch = (resource, options = {}) => {
    const request = resource instanceof Request ? resource : null;
    const url = new URL(request ? request.url : resource, self.location).href;
    const method = (options.method ?? request?.method ?? "GET").toUpperCase();
    const sri = method === "GET" && !options.integrity ? integrity.get(url) : undefined;
    if (!sri) return plainFetch(resource, options);
    return plainFetch(resource, { ...options, integrity: sri }).catch((error) => {
      const problem = new Error(`${url} does not match its pinned digest, or could not be fetched (${error.message})`);
      fail(problem);
      throw problem;
    });
  };
  const checkedImport = async (name) => {
    const response = await self.fetch(new URL(name, config.indexURL));
    if (!response.ok) throw new Error(`${response.url} answered HTTP ${response.status}`);
    const blob = URL.createObjectURL(new Blob([await response.text()], { type: "text/javascript" }));
    try {
      return await import(blob);
    } finally {
      URL.revokeObjectURL(blob);
    }
  };
  await checkedImport("pyodide.asm.js"); // defines _createPyodideModule, so Pyodide does not load it
  const { loadPyodide } = await checkedImport("pyodide.mjs");
  return { loadPyodide, pinFailure: failed };
}

// numpy and dropout_py are always loaded. From the site's own lock dropout_py loads by name; with
// the CDN's lock (which does not know it) it loads by the URL of the wheel the site hosts.
async function preloads(config) {
  if (config.lockURL === config.siteLockURL) return ["numpy", "dropout-py"];
  const lock = await (await fetch(config.siteLockURL)).json();
  return ["numpy", new URL(lock.packages["dropout-py"].file_name, config.siteLockURL).href];
}

async function init(config) {
  const start = performance.now();
  const manifest = fetchManifest(config.dataURL);
  const checked = preflight(config.indexURL);
  const { loadPyodide, pinFailure } = await importPyodide(config);
  // The preloaded packages download while the interpreter boots; a failed check ends the wait.
  const packages = await preloads(config);
  const options = { indexURL: config.indexURL, lockFileURL: config.lockURL, packages };
  [pyodide] = await Promise.race([Promise.all([loadPyodide(options), checked]), pinFailure]);
  post({ type: "status", text: "Python, numpy, dropout_py", seconds: seconds(start), numpy: true });
  const step = performance.now();
  const bundle = await manifest;
  if (bundle) {
    mountData(bundle, config.dataURL);
    pyodide.runPython(`import os; os.environ["DROPOUT_PY_DATA"] = "${DATA_MOUNT}"`);
  }
  pyodide.FS.writeFile("/home/pyodide/cell_runtime.py", runtimeSource);
  session = pyodide.runPython(`
import json, sys
sys.path.insert(0, "/home/pyodide")
import cell_runtime
lambda post: cell_runtime.Session(lambda event: post(json.dumps(event)))
`)((text) => post({ id: currentId, type: "event", event: JSON.parse(text) }));
  if (config.interrupt) {
    interrupt = new Uint8Array(config.interrupt);
    pyodide.setInterruptBuffer(interrupt);
  }
  post({ type: "status", text: bundle ? "data mounted" : "session", seconds: seconds(step) });
  post({ type: "status", text: "ready", seconds: seconds(start), ready: true });
  prefetch(config.prefetch).catch((error) => post({ type: "status", text: `Loading failed: ${error.message}` }));
}

// Packages the page's cells import beyond the preloaded ones (scipy on one page) start loading
// now, in the background; a cell that needs them waits for them in run().
async function prefetch(code) {
  const start = performance.now();
  const loaded = await pyodide.loadPackagesFromImports(code, { messageCallback: () => {} });
  if (loaded.length) {
    const names = loaded.map((p) => p.name).join(", ");
    post({ type: "status", text: names, seconds: seconds(start) });
  }
}

async function run(id, code, number) {
  currentId = id;
  try {
    await pyodide.loadPackagesFromImports(code, {
      messageCallback: (text) => post({ type: "status", text }),
    });
  } catch (error) {
    post({ id, type: "event", event: { type: "error", ename: "ImportError", traceback: String(error) } });
    return false;
  }
  if (interrupt) interrupt[0] = 0; // forget a Stop pressed while nothing was running
  const ok = session.run(code, number);
  currentId = null;
  return ok;
}
