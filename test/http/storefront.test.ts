/**
 * The storefront as the gateway serves it (lib/web-assets.ts, the pages Vite builds into dist/web): the page
 * at `/` revalidated with ETag / 304, its hashed assets cached for a year, a Content-Security-Policy that
 * allows the shop's own origin only on both, while /api keeps `default-src 'none'`. The page in a real
 * browser: test/browser (npm run test:browser).
 */
import type { ServiceBroker } from "moleculer";
import { request } from "node:http";
import { gatewayUrl, startBroker } from "../helpers";
import { ASSET_CACHE, PAGE_CSP } from "../../lib/web-assets";

/** A request with node:http (fetch() would add Cache-Control: no-cache to a conditional request). */
function send(url: string, method = "GET", headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
	return new Promise((resolve, reject) => {
		request(url, { method, headers }, res => {
			let body = "";
			res.on("data", chunk => (body += chunk));
			res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
		})
			.on("error", reject)
			.end();
	});
}

describe("the storefront at /", () => {
	let broker: ServiceBroker;
	let origin: string;

	beforeAll(async () => {
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments", "notifications"]);
		origin = gatewayUrl(broker).replace(/\/api$/, "");
	});
	afterAll(() => broker.stop());

	it("serves the page with an own-origin CSP, revalidated by ETag", async () => {
		const page = await send(`${origin}/`);
		expect(page.status).toBe(200);
		expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
		expect(page.body).toContain("<title>moleculer-shop</title>");
		expect(page.headers["content-security-policy"]).toBe(PAGE_CSP);
		expect(PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
		expect(page.headers["cache-control"]).toBe("no-cache");
		expect(page.headers["x-content-type-options"]).toBe("nosniff");
		expect(page.headers["x-request-id"]).toBeTruthy();
		// No inline script or style: the policy would block it.
		expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/);
		const again = await send(`${origin}/`, "GET", { "If-None-Match": String(page.headers.etag) });
		expect(again.status).toBe(304);
	});

	it("serves every asset the page names under a content hash, cached for a year", async () => {
		const page = await send(`${origin}/`);
		const assets = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(match => match[1]);
		expect(assets.some(asset => asset.endsWith(".js"))).toBe(true);
		expect(assets.some(asset => asset.endsWith(".css"))).toBe(true);
		for (const asset of assets) {
			const answer = await send(`${origin}${asset}`);
			expect([asset, answer.status]).toEqual([asset, 200]);
			expect(answer.headers["cache-control"]).toBe(ASSET_CACHE);
			expect(answer.headers["content-type"]).toMatch(asset.endsWith(".js") ? /^text\/javascript/ : /^text\/css/);
			expect(answer.headers["content-security-policy"]).toBe(PAGE_CSP);
		}
	});

	it("answers HEAD, refuses other methods, and 404s what was not built", async () => {
		const head = await send(`${origin}/`, "HEAD");
		expect([head.status, head.body]).toEqual([200, ""]);
		expect(Number(head.headers["content-length"])).toBeGreaterThan(100);
		expect((await send(`${origin}/`, "POST")).status).toBe(405);
		expect((await send(`${origin}/assets/storefront-00000000.js`)).status).toBe(404);
		expect((await send(`${origin}/assets/../../package.json`)).status).toBe(404);
		expect((await send(`${origin}/loadgen/`)).status).toBe(404);
	});

	it("leaves /api as it was: JSON, default-src 'none', no-store", async () => {
		const api = await send(`${origin}/api/health`);
		expect(api.status).toBe(200);
		expect(api.headers["content-security-policy"]).toMatch(/^default-src 'none'/);
		expect(api.headers["cache-control"]).toBe("no-store");
	});
});
