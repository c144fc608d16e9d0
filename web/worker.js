// The Python side of a page: Pyodide in a module Web Worker, so long runs never freeze the page.
//
// Protocol. Every request from the page carries an `id`; the worker answers it with exactly one
// `{id, type: "done", ok, error?}` once it has finished. While it works it may send:
//   {type: "status", text, seconds?}      a loading step (seconds = how long the step took)
//   {id, type: "event", event}            an output of the running cell (see cell_runtime.py)
// Requests:
//   {id, type: "init", config}   load Pyodide, numpy and dropout_py, mount the data, make a session
//       config = {indexURL, lockURL, siteLockURL, dataURL, interrupt: SharedArrayBuffer|null,
//                 wasmGz: the runtime's .wasm is hosted gzipped (true unless it comes from the CDN),
//                 prefetch: all cell code of the page (its imports are loaded in the background),
//                 preload: packages to load in the background as well (["scipy"] on pages that
//                 train: the engines' products then use its BLAS, see dropout_py/nn/products.py)}
//   {id, type: "run", code, number}   run one cell in the page's namespace
//   {id, type: "resume", number}      finish the training run a Stop left in that cell
//   {id, type: "file", name, bytes}   write a file the reader gave the page into Python's working
//       folder; answered {ok, path} (the name it was saved under)
//   {id, type: "model", name}         the model file (.npz) of the namespace's model `name`;
//       answered {ok, bytes} (an ArrayBuffer)
// Stop uses the shared interrupt buffer (written by the page, read by Python) when the page is
// cross-origin isolated; otherwise the page terminates this worker and starts a new one.

import runtimeSource from "./cell_runtime.py";
import { explainFailure, JAVASCRIPT_TYPES, servedWrongly } from "./served.js";

const DATA_MOUNT = "/data/mnist";

let pyodide = null;
let session = null;
let currentId = null;
let background = Promise.resolve(); // the packages loading in the background (see prefetch)

const post = (message) => self.postMessage(message);
const seconds = (start) => Math.round(performance.now() - start) / 1000;

self.onmessage = async ({ data }) => {
  const { id, type } = data;
  try {
    let ok = true;
    if (type === "init") await init(data.config);
    else if (type === "run") ok = await run(id, data.code, data.number);
    else if (type === "resume") ok = resume(id, data.number);
    else if (type === "file") return post({ id, type: "done", ok: true, path: putFile(data.name, data.bytes) });
    else if (type === "model") return postModelFile(id, data.name);
    else throw new Error(`unknown request type ${type}`);
    post({ id, type: "done", ok });
  } catch (error) {
    post({ id, type: "done", ok: false, error: error?.message ?? String(error) });
  }
};

// Pyodide fetches pyodide.asm.wasm, 10 MB. The site hosts it gzipped (pyodide.asm.wasm.gz, 3 MB)
// and this worker unpacks it as it arrives, so that on any static host it costs 3 MB, is kept by
// the browser's in-memory HTTP cache (Chromium's, used by private windows, did not keep the
// 10 MB file: a host without compression sent it again on every page), and no longer depends on
// the server knowing the .wasm MIME type. From the CDN (config.wasmGz false) the .wasm is fetched
// as it is, and its response is checked instead: a .wasm not served as application/wasm makes
// Pyodide hang.
// Either way a missing file or a wrong type ends the loading with a message naming the cause.
function interceptWasm(indexURL, gzipped) {
  const wasmURL = new URL("pyodide.asm.wasm", indexURL).href;
  let reject;
  const problem = new Promise((_, no) => (reject = no));
  const fetchFromNetwork = self.fetch.bind(self);
  self.fetch = async (resource, options) => {
    if (String(resource) !== wasmURL) return fetchFromNetwork(resource, options);
    const url = gzipped ? `${wasmURL}.gz` : wasmURL;
    const response = await fetchFromNetwork(url, options);
    const message = servedWrongly(url, response, gzipped ? null : ["application/wasm"]);
    if (message) reject(new Error(message));
    if (!gzipped || !response.ok) return response;
    // A host that labels .gz files Content-Encoding: gzip has had the browser unpack it already.
    const packed = !(response.headers.get("content-encoding") ?? "").includes("gzip");
    const body = packed ? response.body.pipeThrough(new DecompressionStream("gzip")) : response.body;
    return new Response(body, { headers: { "Content-Type": "application/wasm" } });
  };
  return problem; // rejects (never resolves): race it against loading
}

// Import one of the runtime's scripts; if that fails, say whether the server is the cause.
async function importScript(url) {
  try {
    return await import(url);
  } catch (error) {
    throw new Error((await explainFailure(url, JAVASCRIPT_TYPES)) ?? `${url}: ${error.message}`);
  }
}

async function startPyodide(config, packages) {
  const { loadPyodide, pinFailure } = await importPyodide(config);
  const wasmProblem = interceptWasm(config.indexURL, config.wasmGz);
  const options = { indexURL: config.indexURL, lockFileURL: config.lockURL, packages };
  try {
    return await Promise.race([loadPyodide(options), wasmProblem, pinFailure]);
  } catch (error) {
    const core = new URL("pyodide.asm.js", config.indexURL).href; // imported by loadPyodide
    throw new Error((await explainFailure(core, JAVASCRIPT_TYPES)) ?? error.message);
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

// Pyodide's loader. Its classic build, pyodide.js, sets globalThis.loadPyodide; the ES-module twin
// pyodide.mjs would do as well, but not every stock MIME table knows .mjs (nginx's does not).
// From the site, a plain import (a failure is explained by the file's status and MIME type).
// From the CDN, every file is pinned by the
// Subresource Integrity digest the build put in the site's cdn-integrity.json (digests of the
// copies it verified, the same bytes the CDN serves): GET requests carry it as `integrity`, and
// the two scripts, which import() cannot check, are fetched checked and run from those bytes.
// Resolves to {loadPyodide, pinFailure}: pinFailure rejects as soon as a pinned file fails (Pyodide
// itself only logs a failed wasm download and waits forever).
async function importPyodide(config) {
  const pinFailure = new Promise(() => {});
  if (config.lockURL === config.siteLockURL) {
    await importScript(new URL("pyodide.js", config.indexURL).href);
    return { loadPyodide: globalThis.loadPyodide, pinFailure };
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
  await checkedImport("pyodide.js");
  return { loadPyodide: globalThis.loadPyodide, pinFailure: failed };
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
  // The preloaded packages download while the interpreter boots.
  pyodide = await startPyodide(config, await preloads(config));
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
lambda post: cell_runtime.Session(lambda event: post(json.dumps(event)), live=True)
`)((text) => post({ id: currentId, type: "event", event: JSON.parse(text) }));
  if (config.interrupt) pyodide.setInterruptBuffer(new Uint8Array(config.interrupt));
  post({ type: "status", text: bundle ? "data mounted" : "session", seconds: seconds(step) });
  post({ type: "status", text: "ready", seconds: seconds(start), ready: true });
  background = prefetch(config.prefetch, config.preload ?? []).catch((error) =>
    post({ type: "status", text: `Loading failed: ${error.message}` }),
  );
}

// Packages the page's cells import beyond the preloaded ones, and those the page asks for
// (scipy where cells train), start loading now, in the background; every cell waits for them
// in run(), so that `import dropout_py` finds SciPy where the page meant it to.
async function prefetch(code, packages) {
  const start = performance.now();
  const quiet = { messageCallback: () => {} };
  const loaded = [
    ...(await pyodide.loadPackagesFromImports(code, quiet)),
    ...(packages.length ? await pyodide.loadPackage(packages, quiet) : []),
  ];
  if (loaded.length) {
    const names = loaded.map((p) => p.name).join(", ");
    post({ type: "status", text: names, seconds: seconds(start) });
  }
}

async function run(id, code, number) {
  currentId = id;
  await background;
  try {
    await pyodide.loadPackagesFromImports(code, {
      messageCallback: (text) => post({ type: "status", text }),
    });
  } catch (error) {
    post({ id, type: "event", event: { type: "error", ename: "ImportError", traceback: String(error) } });
    return false;
  }
  const ok = session.run(code, number);
  currentId = null;
  return ok;
}

function resume(id, number) {
  currentId = id;
  const ok = session.resume(number);
  currentId = null;
  return ok;
}

// A file from the reader: only its base name counts, and it must be a plain name (no folder, no
// "..", no control character); at most MAX_FILE_BYTES.
const MAX_FILE_BYTES = 512 * 2 ** 20;
function putFile(name, bytes) {
  const base = String(name).split(/[\\/]/).pop();
  if (!base || base === "." || base === ".." || /[\x00-\x1f]/.test(base)) {
    throw new Error(`"${name}" is not a usable file name`);
  }
  if (bytes.byteLength > MAX_FILE_BYTES) {
    throw new Error(`${base} has ${bytes.byteLength} bytes; at most ${MAX_FILE_BYTES} are accepted`);
  }
  const folder = pyodide.runPython("import os; os.getcwd()");
  pyodide.FS.writeFile(`${folder}/${base}`, new Uint8Array(bytes));
  return base;
}

function postModelFile(id, name) {
  const proxy = session.model_file(name);
  const bytes = proxy.toJs().slice().buffer; // a copy of the bytes, out of the wasm memory
  proxy.destroy();
  post({ id, type: "done", ok: true, bytes });
}
