// How the site's files must be served, and a message that names what a server did instead.
//
// Used only to explain a failure (or by watching responses that were fetched anyway): nothing is
// requested twice on a page that works.

// The MIME types a browser runs as JavaScript (module scripts and workers need one of them).
export const JAVASCRIPT_TYPES = [
  "text/javascript",
  "application/javascript",
  "application/x-javascript",
  "application/ecmascript",
  "application/x-ecmascript",
  "text/ecmascript",
  "text/x-javascript",
  "text/x-ecmascript",
  "text/jscript",
];

// null if `response` is fine for `url`, else what is wrong, e.g.
// '.../pyodide.js is served as "application/octet-stream"; the server must send
// text/javascript (see the Deploy page)'. `types` null: any type will do.
export function servedWrongly(url, response, types) {
  if (!response.ok) return `${url} answered HTTP ${response.status}`;
  if (!types) return null;
  const type = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (types.includes(type)) return null;
  return (
    `${url} is served as "${type || "no type"}"; the server must send ${types[0]}` +
    " (see the Deploy page)"
  );
}

// Fetch `url` again, bypassing the cache, to explain why loading it failed; null if it looks fine.
export async function explainFailure(url, types) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (error) {
    return `cannot reach ${url}: ${error.message}`;
  }
  return servedWrongly(url, response, types);
}
