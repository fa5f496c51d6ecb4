/**
 * The browser pages Vite builds into dist/web (web/vite.config.mts): the storefront, which the gateway serves
 * at `/`, and the load generator's page, which the loadgen node serves at `/loadgen/`. Scripts and styles
 * are content-hashed files under `/assets/`, cached for a year (`immutable`: a new build has new names);
 * the pages themselves are revalidated on every visit (`no-cache` with an ETag, 304 when unchanged). Both
 * carry a Content-Security-Policy that allows only the shop's own origin: no inline script or style, no
 * other host, no framing.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import etag from "etag";
import fresh from "fresh";

/** The pages' policy: everything from this origin only (`'self'`), nothing inline, no plugins, no framing. */
export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Cache-Control of a hashed asset: a year, never revalidated. */
export const ASSET_CACHE = "public, max-age=31536000, immutable";

/** A Vite asset name: `<name>-<hash>.<ext>` under /assets/ (nothing else is served from there). */
const ASSET_PATH = /^\/assets\/[A-Za-z0-9_.-]+-[A-Za-z0-9_-]{8,}\.(js|css|svg|png|woff2)$/;

const TYPES: Record<string, string> = {
	".html": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".png": "image/png",
	".woff2": "font/woff2"
};

/** The built pages: dist/web beside dist/lib (compiled), or the project's dist/web (sources, under ts-jest). */
export function webDir(): string {
	return path.resolve(__dirname, __filename.endsWith(".js") ? "../web" : "../dist/web");
}

interface File {
	body: Buffer;
	type: string;
	etag: string;
	cacheControl: string;
}

/**
 * Serves a set of built pages (URL path → HTML file under `dir`) and the hashed assets beside them, read once
 * and kept in memory. `handles(url)` says whether a URL is one of them; `serve` answers GET and HEAD (405
 * otherwise), 404 for an asset that does not exist, 503 when the pages were never built.
 */
export class WebAssets {
	private readonly files = new Map<string, File | null>();

	constructor(
		private readonly pages: Readonly<Record<string, string>>,
		private readonly dir: string = webDir()
	) {}

	/** Whether `url` (path and query) is a page or an asset of this site. */
	handles(url: string | undefined): boolean {
		const pathname = (url ?? "").split("?")[0];
		return Object.hasOwn(this.pages, pathname) || ASSET_PATH.test(pathname);
	}

	/** Answers `req` (a URL `handles` accepted) with the security headers already set on `res`. */
	serve(req: IncomingMessage, res: ServerResponse): void {
		const pathname = (req.url ?? "").split("?")[0];
		if (req.method !== "GET" && req.method !== "HEAD") {
			res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("Method not allowed\n");
			return;
		}
		const page = Object.hasOwn(this.pages, pathname) ? this.pages[pathname] : undefined;
		const file = this.read(page ?? pathname.slice(1), page ? "no-cache" : ASSET_CACHE);
		res.setHeader("Content-Security-Policy", PAGE_CSP);
		if (!file) {
			const built = fs.existsSync(this.dir);
			res.setHeader("Cache-Control", "no-store");
			res.writeHead(page && !built ? 503 : 404, { "Content-Type": "text/plain; charset=utf-8" });
			res.end(page && !built ? "The pages are not built: run `npm run build` (it builds them with Vite into dist/web).\n" : "Not found\n");
			return;
		}
		res.setHeader("Cache-Control", file.cacheControl);
		res.setHeader("ETag", file.etag);
		if (fresh(req.headers, { etag: file.etag })) {
			res.writeHead(304).end();
			return;
		}
		res.writeHead(200, { "Content-Type": file.type, "Content-Length": file.body.length });
		res.end(req.method === "HEAD" ? undefined : file.body);
	}

	private read(relative: string, cacheControl: string): File | null {
		if (this.files.has(relative)) return this.files.get(relative)!;
		let file: File | null = null;
		try {
			const body = fs.readFileSync(path.join(this.dir, relative));
			file = { body, type: TYPES[path.extname(relative)] ?? "application/octet-stream", etag: etag(body), cacheControl };
		} catch {
			// Missing: 404 (an asset) or 503 (pages not built); a later build is seen after a restart.
			return null;
		}
		this.files.set(relative, file);
		return file;
	}
}

/** The storefront's pages, as the gateway serves them. */
export const STOREFRONT_PAGES = { "/": "index.html", "/index.html": "index.html" } as const;
/** The load generator's page, as the loadgen node serves it. */
export const LOADGEN_PAGES = { "/loadgen/": "loadgen/index.html", "/loadgen/index.html": "loadgen/index.html" } as const;
