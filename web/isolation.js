// Cross-origin isolation, which lets Stop interrupt Python and keep its variables.
//
// Stop writes to a SharedArrayBuffer that Python polls, and browsers offer SharedArrayBuffer only
// to pages that are cross-origin isolated: served with the headers
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
// Our scripts/serve.py sends them; most static hosts (GitHub Pages, a plain nginx, python -m
// http.server) cannot. There the service worker of the npm package coi-serviceworker, which the
// build puts at the site root, adds them to every response of the site. A service worker only
// shapes the pages it controls, and a page is controlled only from its next load on, so the first
// visit reloads once. Never more: a flag in sessionStorage says that this load is that reload,
// and if it still is not isolated the page goes on without (Stop then restarts Python).
//
// isolate(siteRoot) resolves to one of
//   {isolated: true, how: "headers" | "service worker"}
//   {isolated: false, reloading: true}            the page is about to reload; start nothing
//   {isolated: false, reason: "..."}              why not (shown when Stop has to restart Python)

const SERVICE_WORKER = "coi-serviceworker.js";
const RELOADED_KEY = "dropout-py-isolation-reload";
const NO_HEADERS = "the server sends no COOP/COEP headers";
const SETTLE_MS = 5_000;

// The flag survives the reload (same tab, same origin) and is used once.
function reloadedJustNow() {
  try {
    const flagged = sessionStorage.getItem(RELOADED_KEY) === location.href;
    sessionStorage.removeItem(RELOADED_KEY);
    return flagged;
  } catch {
    return true; // no storage: no way to tell a reload from a loop, so never reload
  }
}

function flagReload() {
  try {
    sessionStorage.setItem(RELOADED_KEY, location.href);
    return true;
  } catch {
    return false;
  }
}

export async function isolate(siteRoot) {
  const reloaded = reloadedJustNow();
  const workers = navigator.serviceWorker;
  if (self.crossOriginIsolated) {
    return { isolated: true, how: workers?.controller ? "service worker" : "headers" };
  }
  if (!self.isSecureContext) {
    return { isolated: false, reason: `${NO_HEADERS}, and a service worker needs https or localhost` };
  }
  if (!workers) {
    return { isolated: false, reason: `${NO_HEADERS}, and this browser allows no service worker here` };
  }
  let registration;
  try {
    registration = await withTimeout(
      workers.register(new URL(SERVICE_WORKER, siteRoot), { scope: siteRoot.href }),
    );
    if (!(registration instanceof ServiceWorkerRegistration)) throw new Error("blocked");
  } catch (error) {
    return {
      isolated: false,
      reason: `${NO_HEADERS}, and the service worker could not be registered (${error.message})`,
    };
  }
  if (workers.controller || reloaded) {
    // Controlled (or reloaded for it) and still not isolated: reloading again would not help.
    return { isolated: false, reason: `${NO_HEADERS}, and the service worker did not isolate the page` };
  }
  try {
    await withTimeout(untilActive(registration));
  } catch (error) {
    return { isolated: false, reason: `${NO_HEADERS}, and the service worker ${error.message}` };
  }
  if (!flagReload()) {
    return { isolated: false, reason: `${NO_HEADERS}, and the page cannot reload safely` };
  }
  location.reload();
  return { isolated: false, reloading: true };
}

function untilActive(registration) {
  if (registration.active) return Promise.resolve();
  const worker = registration.installing ?? registration.waiting;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (worker.state === "activated") resolve();
      if (worker.state === "redundant") reject(new Error("failed to install"));
    };
    worker.addEventListener("statechange", check);
    check();
  });
}

// A registration normally settles in milliseconds; never let the page wait long for one.
function withTimeout(promise, ms = SETTLE_MS) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
