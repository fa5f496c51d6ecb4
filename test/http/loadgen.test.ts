/**
 * The load generator node (services/loadgen.service.ts) against a gateway in the same process: its control
 * API (lib/loadgen/http.ts) with its errors, a short run that reaches the shop and reports per step, its
 * Prometheus metrics, and its page. The engine alone: test/unit/loadgen.test.ts; the page in chromium:
 * test/browser/loadgen.test.ts.
 */
import type { ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";
import { request } from "node:http";
import { gatewayUrl, startBroker, waitUntil } from "../helpers";
import { loadConfig, ConfigError, LOADGEN_CEILINGS } from "../../lib/config";
import { LOAD_LIMITS } from "../../lib/loadgen/engine";
import { createLoadgenService, type LoadgenStatus } from "../../services/loadgen.service";
import { PAGE_CSP } from "../../lib/web-assets";

describe("the load generator node", () => {
	let broker: ServiceBroker;
	let base: string;

	const post = async (path: string, body: unknown, type = "application/json") => {
		const res = await fetch(`${base}/loadgen/api/${path}`, { method: "POST", headers: { "Content-Type": type }, body: typeof body === "string" ? body : JSON.stringify(body) });
		return { status: res.status, body: (await res.json()) as LoadgenStatus & { type?: string; data?: { field?: string } } };
	};
	const status = async () => (await (await fetch(`${base}/loadgen/api/status`)).json()) as LoadgenStatus;

	beforeAll(async () => {
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments", "notifications"], { seed: true, broker: { metrics: { enabled: true } } });
		const target = gatewayUrl(broker).replace(/\/api$/, "");
		const config = loadConfig({ ...process.env, LOADGEN_TARGET: target, LOADGEN_PORT: "0", LOADGEN_MAX_RATE: "50", LOADGEN_MAX_USERS: "20", LOADGEN_MAX_DURATION: "30" });
		const service = broker.createService(createLoadgenService(config) as never) as unknown as { server: { address(): AddressInfo } | null };
		await waitUntil(() => Boolean(service.server?.address()));
		base = `http://127.0.0.1:${service.server!.address().port}`;
	});
	afterAll(() => broker.stop());

	it("is idle before the first run and names its one target and its bounds", async () => {
		const idle = await status();
		expect(idle).toMatchObject({ state: "idle", target: gatewayUrl(broker).replace(/\/api$/, ""), limits: { maxRate: 50, maxUsers: 20, maxDurationSeconds: 30 }, run: null });
		expect(idle.weights).toMatchObject({ browse: 10, "view product": 10, "view cart": 3, "add to cart": 2, "checkout paid": 1 });
	});

	it("refuses a run beyond its bounds or in a bad shape, with 4xx and no run started", async () => {
		expect(await post("start", { rate: 51, users: 5 })).toMatchObject({ status: 422, body: { type: "INVALID_LOAD_OPTIONS", data: { field: "rate" } } });
		expect(await post("start", { rate: 5, users: 21 })).toMatchObject({ status: 422, body: { type: "INVALID_LOAD_OPTIONS", data: { field: "users" } } });
		expect(await post("start", { rate: 5, users: 5, durationSeconds: 31 })).toMatchObject({ status: 422, body: { type: "INVALID_LOAD_OPTIONS", data: { field: "durationSeconds" } } });
		expect(await post("start", { rate: "fast", users: 5 })).toMatchObject({ status: 422, body: { type: "VALIDATION_ERROR" } });
		expect(await post("start", { rate: 5, users: 5, target: "http://elsewhere.example" })).toMatchObject({ status: 422, body: { type: "VALIDATION_ERROR" } });
		expect((await post("start", "rate=5&users=5", "application/x-www-form-urlencoded")).status).toBe(415);
		expect((await post("start", "{not json")).status).toBe(400);
		expect(await post("adjust", { rate: 2 })).toMatchObject({ status: 409, body: { type: "NO_LOAD_RUN" } });
		expect((await fetch(`${base}/loadgen/api/start`)).status).toBe(405);
		expect((await status()).state).toBe("idle");
	});

	it("refuses what a cross-site page could send: an empty form post, a cross-site fetch, a foreign Host", async () => {
		const raw = (method: string, path: string, headers: Record<string, string>) =>
			new Promise<number>((resolve, reject) => {
				const url = new URL(`${base}${path}`);
				request({ host: url.hostname, port: url.port, path: url.pathname, method, headers }, res => {
					res.resume();
					resolve(res.statusCode!);
				})
					.on("error", reject)
					.end();
			});
		expect(await raw("POST", "/loadgen/api/start", { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "0" })).toBe(415);
		expect(await raw("POST", "/loadgen/api/stop", { "Content-Length": "0" })).toBe(415);
		expect(await raw("POST", "/loadgen/api/stop", { "Content-Type": "application/json", "Sec-Fetch-Site": "cross-site" })).toBe(403);
		expect(await raw("GET", "/loadgen/api/status", { Host: "attacker.example:8089" })).toBe(421);
		expect(await raw("GET", "/loadgen/", { Host: "attacker.example" })).toBe(421);
		expect(await raw("GET", "/loadgen/api/status", { Host: "localhost:8089", "Sec-Fetch-Site": "same-origin" })).toBe(200);
		expect((await status()).state).toBe("idle");
	});

	it("runs bounded journeys against the gateway, reports each step and counts them in Prometheus metrics", async () => {
		const started = await post("start", { rate: 20, users: 5, rampSeconds: 0, durationSeconds: 2 });
		expect(started).toMatchObject({ status: 201, body: { state: "running", run: { options: { ratePerSecond: 20, users: 5, durationSeconds: 2 } } } });
		expect(await post("start", { rate: 1, users: 1 })).toMatchObject({ status: 409, body: { type: "LOAD_RUN_IN_PROGRESS" } });
		expect(await post("adjust", { rate: 25, users: 6 })).toMatchObject({ status: 200, body: { run: { options: { ratePerSecond: 25, users: 6 } } } });
		await waitUntil(async () => (await status()).state === "stopped", 15_000);
		const done = await status();
		expect(done.run!.stopReason).toBe("duration");
		expect(done.run!.totals.started).toBeGreaterThan(10);
		expect(done.run!.stats.totals.total.errors).toBe(0);
		expect(done.run!.stats.steps["GET /products"].total.count).toBeGreaterThan(0);
		expect(done.run!.stats.totals.total.p50).toBeGreaterThan(0);
		const requests = broker.metrics.getMetric("shop.loadgen.requests.total")!.toObject() as unknown as { values: { labels: { step: string; status: string }; value: number }[] };
		const sent = requests.values.reduce((sum, item) => sum + item.value, 0);
		expect(sent).toBe(done.run!.stats.totals.total.count);
		expect(requests.values.find(item => item.labels.step === "GET /products")?.labels.status).toBe("200");
		// Stopping a finished run is a no-op; the last run stays readable.
		expect(await post("stop", {})).toMatchObject({ status: 200, body: { state: "stopped" } });
	});

	it("stops a run on request", async () => {
		expect((await post("start", { rate: 5, users: 2, rampSeconds: 0, durationSeconds: 30 })).status).toBe(201);
		const stopped = await post("stop", {});
		expect(stopped).toMatchObject({ status: 200, body: { state: "stopped", run: { stopReason: "stopped" } } });
	});

	it("serves its page with the own-origin policy, and sends / there", async () => {
		const page = await fetch(`${base}/loadgen/`);
		expect(page.status).toBe(200);
		expect(page.headers.get("content-security-policy")).toBe(PAGE_CSP);
		expect(await page.text()).toContain("<title>Load generator · moleculer-shop</title>");
		const root = await fetch(`${base}/`, { redirect: "manual" });
		expect([root.status, root.headers.get("location")]).toEqual([302, "/loadgen/"]);
		expect((await fetch(`${base}/api/products`)).status).toBe(404);
	});

	it("defaults a run's duration to 60 s, or the node's maximum when lower", async () => {
		const started = await post("start", { rate: 1, users: 1 });
		expect(started).toMatchObject({ status: 201, body: { run: { options: { durationSeconds: 30, rampSeconds: 10 } } } });
		expect((await post("stop", {})).status).toBe(200);
	});

	it("keeps its maxima within the engine's bounds", () => {
		expect(LOADGEN_CEILINGS).toEqual({ durationSeconds: LOAD_LIMITS.durationSeconds[1], ratePerSecond: LOAD_LIMITS.ratePerSecond[1], users: LOAD_LIMITS.users[1] });
		expect(() => loadConfig({ LOADGEN_MAX_RATE: "1001" })).toThrow(/LOADGEN_MAX_RATE must be at most 1000/);
		expect(() => loadConfig({ LOADGEN_MAX_DURATION: "3601" })).toThrow(ConfigError);
		expect(loadConfig({ LOADGEN_MAX_USERS: "1000" }).loadgen.maxUsers).toBe(1000);
	});

	it("takes only an http(s) gateway URL as its target", () => {
		expect(() => loadConfig({ LOADGEN_TARGET: "ftp://shop" })).toThrow(ConfigError);
		expect(() => loadConfig({ LOADGEN_TARGET: "http://shop:3000/api/products" })).toThrow(/LOADGEN_TARGET/);
		expect(loadConfig({ LOADGEN_TARGET: "http://shop:3000/" }).loadgen.target).toBe("http://shop:3000");
		expect(loadConfig({ PORT: "4000" }).loadgen.target).toBe("http://127.0.0.1:4000");
	});
});
