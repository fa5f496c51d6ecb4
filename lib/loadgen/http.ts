/**
 * The load generator's own HTTP server (the loadgen node, LOADGEN_HOST:LOADGEN_PORT): its live page at
 * `/loadgen/` (web/loadgen, built by Vite; lib/web-assets.ts) and the page's JSON control API, which calls
 * the node's `loadgen.*` actions:
 *
 *   GET  /loadgen/api/status   → 200 LoadgenStatus
 *   POST /loadgen/api/start    { rate, users, rampSeconds?, durationSeconds? } → 201 LoadgenStatus; 409, 422
 *   POST /loadgen/api/adjust   { rate?, users? } → 200 LoadgenStatus; 409 NO_LOAD_RUN, 422
 *   POST /loadgen/api/stop     → 200 LoadgenStatus
 *
 * Errors answer the gateway's error body `{ name, message, code, type, data }`. Against cross-site use: every
 * POST must be JSON (415 otherwise, an empty body included), at most 4 KB, so a cross-site form cannot send
 * one and a cross-origin script would need a CORS preflight, which this server never grants; a request a
 * browser marks cross-site (`Sec-Fetch-Site`) is refused (403); and only a loopback Host (localhost,
 * 127.0.0.1, [::1]) or LOADGEN_HOST is answered (421 otherwise), so a DNS-rebinding page cannot reach it.
 * Not published by the gateway: reach it on the node (kubectl port-forward in Kubernetes).
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ShopConfig } from "../config";
import { securityHeaderSet } from "../http-security";
import { LOADGEN_PAGES, WebAssets } from "../web-assets";

/** Calls a `loadgen` action with params (the broker's `call`, bound to the node). */
export type ActionCaller = (action: "start" | "adjust" | "stop" | "status", params?: object) => Promise<unknown>;

const ACTIONS: Record<string, { method: "GET" | "POST"; action: "start" | "adjust" | "stop" | "status"; status: number }> = {
	"/loadgen/api/status": { method: "GET", action: "status", status: 200 },
	"/loadgen/api/start": { method: "POST", action: "start", status: 201 },
	"/loadgen/api/adjust": { method: "POST", action: "adjust", status: 200 },
	"/loadgen/api/stop": { method: "POST", action: "stop", status: 200 }
};
const BODY_LIMIT = 4096;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) }).end(text);
}

function errorBody(code: number, type: string, message: string, data?: unknown) {
	return { name: "LoadgenError", message, code, type, data };
}

/** The request's JSON body (an empty one is `{}`). @throws an error body object (415, 413, 400) for what cannot be read. */
async function readJson(req: IncomingMessage): Promise<object> {
	if (!/^application\/json\b/i.test(String(req.headers["content-type"] ?? ""))) throw errorBody(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
	let size = 0;
	const chunks: Buffer[] = [];
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > BODY_LIMIT) throw errorBody(413, "PAYLOAD_TOO_LARGE", `The body is limited to ${BODY_LIMIT} bytes`);
		chunks.push(chunk);
	}
	if (size === 0) return {};
	try {
		const value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
		if (value && typeof value === "object" && !Array.isArray(value)) return value;
	} catch {
		// answered below
	}
	throw errorBody(400, "INVALID_JSON", "The body must be a JSON object");
}

/** The host names this server answers: loopback ones, and LOADGEN_HOST unless it is a wildcard address. */
function allowedHosts(host: string): Set<string> {
	const hosts = new Set(["localhost", "127.0.0.1", "[::1]"]);
	if (host !== "0.0.0.0" && host !== "::") hosts.add(host.includes(":") ? `[${host}]` : host.toLowerCase());
	return hosts;
}

/** The Host header's name without its port (`[::1]:8089` → `[::1]`), lower-cased. */
function hostName(header: string | undefined): string {
	return (header ?? "").toLowerCase().replace(/:\d+$/, "");
}

/** An HTTP server for the page and the control API; not listening yet. */
export function createLoadgenServer(call: ActionCaller, config: Pick<ShopConfig, "production" | "loadgen">): Server {
	const headers = Object.entries(securityHeaderSet(config.production));
	const page = new WebAssets(LOADGEN_PAGES);
	const hosts = allowedHosts(config.loadgen.host);
	return http.createServer(async (req, res) => {
		for (const [name, value] of headers) res.setHeader(name, value);
		if (!hosts.has(hostName(req.headers.host))) return sendJson(res, 421, errorBody(421, "HOST_NOT_ALLOWED", `Reach the load generator as localhost (kubectl port-forward), or set LOADGEN_HOST to the name you use`));
		const site = req.headers["sec-fetch-site"];
		if (typeof site === "string" && site !== "same-origin" && site !== "none") return sendJson(res, 403, errorBody(403, "CROSS_SITE_REQUEST", "Requests from other sites are refused"));
		const pathname = (req.url ?? "").split("?")[0];
		if (pathname === "/" || pathname === "/loadgen") {
			res.writeHead(302, { Location: "/loadgen/" }).end();
			return;
		}
		if (page.handles(req.url)) return page.serve(req, res);
		const route = ACTIONS[pathname];
		if (!route) return sendJson(res, 404, errorBody(404, "NOT_FOUND", "Not found"));
		if (req.method !== route.method) {
			res.setHeader("Allow", route.method);
			return sendJson(res, 405, errorBody(405, "METHOD_NOT_ALLOWED", `Use ${route.method}`));
		}
		try {
			const params = route.method === "POST" ? await readJson(req) : undefined;
			sendJson(res, route.status, await call(route.action, params));
		} catch (err) {
			const e = err as { name?: string; code?: number; type?: string; message?: string; data?: unknown };
			const code = typeof e.code === "number" && e.code >= 400 && e.code < 600 ? e.code : 500;
			const body = errorBody(code, e.type ?? "INTERNAL", code < 500 ? (e.message ?? "Bad request") : "Internal error", code < 500 ? e.data : undefined);
			sendJson(res, code, code < 500 && e.name ? { ...body, name: e.name } : body);
		}
	});
}
