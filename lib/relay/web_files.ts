/**
 * Serves a directory of static files (the web chat page and its browser
 * bundle) on the relay's WebSocket listener, so that a page and the MSRP
 * WebSocket Server it talks to share one origin (RFC 7977 §7: Origin;
 * RFC 6455 §10.2).
 *
 * Only `GET` and `HEAD`; only files under the directory (no `..`, no
 * dot-files); `/` and directories serve their `index.html`. A file is read
 * whole, so the directory should hold small files (a page, a script, a
 * style sheet).
 *
 * @module
 */

/** Content types by file extension. */
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  map: "application/json",
};

/** The largest file served: 8 MiB (a bundle is about 300 KB). */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...extra },
  });
}

/**
 * A request handler serving the files under `root`.
 *
 * @param root the directory (a path or `file:` URL)
 * @returns a handler for `Deno.serve` or the WebSocket listener's `serveHttp`
 */
export function serveWebFiles(root: string | URL): (request: Request) => Promise<Response> {
  const base = typeof root === "string"
    ? root.replace(/\/+$/, "")
    : root.pathname.replace(/\/+$/, "");
  return async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(405, "GET or HEAD only", { allow: "GET, HEAD" });
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return plain(400, "bad path");
    }
    const parts = path.split("/").filter((p) => p !== "");
    if (parts.some((p) => p.startsWith(".") || p.includes("\\") || p.includes("\0"))) {
      return plain(404, "not found");
    }
    let file = [base, ...parts].join("/");
    try {
      let info = await Deno.stat(file);
      if (info.isDirectory) {
        if (!path.endsWith("/")) {
          return new Response(null, { status: 301, headers: { location: path + "/" } });
        }
        file += "/index.html";
        info = await Deno.stat(file);
      }
      if (!info.isFile) return plain(404, "not found");
      if (info.size > MAX_FILE_BYTES) return plain(403, "too large to serve");
      const ext = file.slice(file.lastIndexOf(".") + 1).toLowerCase();
      const headers = {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      };
      if (request.method === "HEAD") return new Response(null, { headers });
      return new Response(await Deno.readFile(file), { headers });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return plain(404, "not found");
      return plain(500, "cannot read the file");
    }
  };
}
