/**
 * The API's documentation page at `/api/docs`: Swagger UI (swagger-ui-dist, served from this process, no
 * CDN) rendering `/api/openapi.json`. Three files besides the page: the Swagger UI bundle, its stylesheet and
 * a start script (no inline script, so the page's Content-Security-Policy allows scripts from the shop's own
 * origin only). The rest of /api keeps `default-src 'none'`.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

const DIST = path.dirname(require.resolve("swagger-ui-dist/package.json"));

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>moleculer-shop API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/start.js"></script>
</body>
</html>
`;
const START = `window.addEventListener("load", function () { window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui" }); });\n`;

/** The page's policy: scripts, styles, images and requests from this origin only (Swagger UI sets inline styles). */
export const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** What each path of the page answers: content type and body (files read once, on first use). */
const FILES: Record<string, { type: string; body: () => string | Buffer }> = {
	"/api/docs": { type: "text/html; charset=utf-8", body: () => PAGE },
	"/api/docs/": { type: "text/html; charset=utf-8", body: () => PAGE },
	"/api/docs/start.js": { type: "text/javascript; charset=utf-8", body: () => START },
	"/api/docs/swagger-ui-bundle.js": { type: "text/javascript; charset=utf-8", body: () => fs.readFileSync(path.join(DIST, "swagger-ui-bundle.js")) },
	"/api/docs/swagger-ui.css": { type: "text/css; charset=utf-8", body: () => fs.readFileSync(path.join(DIST, "swagger-ui.css")) }
};
const cache = new Map<string, string | Buffer>();

/** Whether `url` is a file of the documentation page. */
export function isDocsPath(url: string | undefined): boolean {
	return (url ?? "").split("?")[0] in FILES;
}

/** Answers a GET or HEAD of a documentation file (see isDocsPath); 405 for other methods. */
export function serveDocs(req: IncomingMessage, res: ServerResponse): void {
	const name = (req.url ?? "").split("?")[0];
	const file = FILES[name];
	if (req.method !== "GET" && req.method !== "HEAD") {
		res.writeHead(405, { Allow: "GET, HEAD" }).end();
		return;
	}
	const body = cache.get(name) ?? file.body();
	cache.set(name, body);
	res.setHeader("Content-Security-Policy", DOCS_CSP);
	res.setHeader("Cache-Control", "public, max-age=300");
	res.writeHead(200, { "Content-Type": file.type, "Content-Length": Buffer.byteLength(body) });
	res.end(req.method === "HEAD" ? undefined : body);
}
