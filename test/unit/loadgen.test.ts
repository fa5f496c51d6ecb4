import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LoadOptionsError, LoadRun, validateLoadOptions, type LoadOptions } from "../../lib/loadgen/engine";
import { JOURNEY_NAMES, JOURNEY_WEIGHTS, JOURNEYS, STEP_LABELS, pickJourney } from "../../lib/loadgen/journeys";
import { LoadStats, SERIES_POINTS } from "../../lib/loadgen/stats";
import { waitFor } from "../../scripts/harness";

/** Seeded uniform [0, 1) generator (mulberry32). */
function seeded(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

interface Order {
	id: string;
	status: string;
}

/** A fake gateway with the shop's public API: 45 products, sessions, carts, orders; configurable failures and delay. */
class FakeShop {
	readonly server: Server = createServer((req, res) => void this.handle(req, res));
	readonly products = Array.from({ length: 45 }, (_, i) => ({ id: `p${i}`, name: `${["Vintage", "Bamboo", "Copper", "Linen", "Walnut"][i % 5]} ${["Camera", "Jar", "Kettle", "Towel", "Bowl", "Lamp", "Mug", "Scarf", "Clock"][i % 9]}`, price: 1000 + i, currency: "USD", stock: 1000 }));
	readonly hits = new Map<string, number>();
	readonly emails: string[] = [];
	readonly idempotencyKeys = new Set<string>();
	readonly searches: string[] = [];
	readonly cancelled: string[] = [];
	readonly failures = new Map<string, number>();
	delayMs = 0;
	unauthorized = 0;
	/** When set, every request is answered 302 with this Location. */
	redirectTo: string | null = null;
	logins = 0;
	private readonly passwords = new Map<string, string>();
	private readonly sessions = new Map<string, { cart: number; orders: Order[] }>();
	private next = 0;

	async listen(): Promise<string> {
		await new Promise<void>(resolve => this.server.listen(0, "127.0.0.1", resolve));
		return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
	}

	/** Forgets every session: the next request with an old token is answered 401. */
	expireSessions(): void {
		this.sessions.clear();
	}

	async close(): Promise<void> {
		this.server.closeAllConnections();
		await new Promise(resolve => this.server.close(resolve));
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		let raw = "";
		for await (const chunk of req) raw += chunk;
		const url = new URL(req.url ?? "/", "http://x");
		const route = `${req.method} ${url.pathname.replace(/^\/api\/(products|orders)\/[^/]+/, "/api/$1/:id")}`;
		this.hits.set(route, (this.hits.get(route) ?? 0) + 1);
		if (this.delayMs > 0) await new Promise(resolve => setTimeout(resolve, this.delayMs));
		const send = (status: number, body: unknown) => {
			res.writeHead(status, { "content-type": "application/json" });
			res.end(JSON.stringify(body));
		};
		if (this.redirectTo) {
			res.writeHead(302, { location: this.redirectTo }).end();
			return;
		}
		const failure = this.failures.get(route);
		if (failure !== undefined) return send(failure, { name: "Failure", code: failure, type: "FAKE" });
		const body = raw ? JSON.parse(raw) : undefined;
		if (route === "GET /api/products") {
			const q = url.searchParams.get("q");
			if (q !== null) this.searches.push(q);
			const rows = q === null ? this.products : this.products.filter(p => p.name.toLowerCase().includes(q));
			const page = Number(url.searchParams.get("page") ?? 1);
			const pageSize = Number(url.searchParams.get("pageSize") ?? 20);
			return send(200, { rows: rows.slice((page - 1) * pageSize, page * pageSize), total: rows.length, page, pageSize, totalPages: Math.ceil(rows.length / pageSize) });
		}
		if (route === "GET /api/products/:id") {
			const product = this.products.find(p => url.pathname.endsWith(`/${p.id}`));
			return product ? send(200, product) : send(404, { type: "PRODUCT_NOT_FOUND" });
		}
		if (route === "POST /api/auth/login") {
			if (!this.emails.includes(body.email) || this.passwords.get(body.email) !== body.password) return send(401, { type: "INVALID_CREDENTIALS" });
			const token = `tok-${this.next++}`;
			this.sessions.set(token, { cart: 0, orders: [] });
			this.logins++;
			return send(200, { token, customer: { id: token, email: body.email, name: "again" } });
		}
		if (route === "POST /api/auth/register") {
			this.passwords.set(body.email, body.password);
			if (this.emails.includes(body.email)) return send(409, { type: "EMAIL_TAKEN" });
			this.emails.push(body.email);
			const token = `tok-${this.next++}`;
			// Every new customer comes with an order history: an older paid order and a newer cancelled one.
			this.sessions.set(token, { cart: 0, orders: [{ id: `${token}-new`, status: "cancelled" }, { id: `${token}-old`, status: "paid" }] });
			return send(201, { token, customer: { id: token, email: body.email, name: body.name } });
		}
		const session = this.sessions.get((req.headers.authorization ?? "").replace(/^Bearer /, ""));
		if (!session) {
			this.unauthorized++;
			return send(401, { type: "UNAUTHORIZED" });
		}
		const cart = () => ({ items: [], itemCount: session.cart, total: session.cart * 1000, currency: "USD" });
		switch (route) {
			case "GET /api/cart":
				return send(200, cart());
			case "POST /api/cart/items":
				session.cart += body.quantity;
				return send(200, cart());
			case "POST /api/orders": {
				this.idempotencyKeys.add(String(req.headers["idempotency-key"]));
				if (session.cart === 0) return send(409, { type: "EMPTY_CART" });
				if (body.paymentToken === "tok_chargeDeclined") return send(402, { name: "PaymentDeclinedError", code: 402, type: "PAYMENT_DECLINED" });
				const order = { id: `o${this.next++}`, status: "paid" };
				session.orders.unshift(order);
				session.cart = 0;
				return send(201, order);
			}
			case "GET /api/orders":
				return send(200, { rows: session.orders.slice(0, 20), total: session.orders.length, page: 1, pageSize: 20, totalPages: 1 });
			case "POST /api/orders/:id/cancel": {
				const order = session.orders.find(o => url.pathname === `/api/orders/${o.id}/cancel`);
				if (!order || order.status !== "paid") return send(409, { type: "ORDER_NOT_CANCELLABLE" });
				order.status = "cancelled";
				this.cancelled.push(order.id);
				return send(200, order);
			}
		}
		return send(404, { type: "NOT_FOUND" });
	}
}

const options = (target: string, overrides: Partial<LoadOptions> = {}): LoadOptions => ({ target, ratePerSecond: 20, users: 10, rampSeconds: 0, durationSeconds: 60, random: seeded(7), ...overrides });

describe("loadgen journeys", () => {
	it("picks journeys according to their weights", () => {
		const random = seeded(42);
		const picks = Object.fromEntries(JOURNEY_NAMES.map(name => [name, 0])) as Record<string, number>;
		const n = 62_000;
		for (let i = 0; i < n; i++) picks[pickJourney(random)]++;
		const total = Object.values(JOURNEY_WEIGHTS).reduce((a, b) => a + b, 0);
		for (const name of JOURNEY_NAMES) {
			const expected = (n * JOURNEY_WEIGHTS[name]) / total;
			expect(Math.abs(picks[name] - expected) / expected).toBeLessThan(0.1);
		}
		expect(picks.browse / picks["checkout paid"]).toBeGreaterThan(8.5);
		expect(picks.browse / picks["checkout paid"]).toBeLessThan(11.5);
		// The edges of [0, 1) map to the first and the last journey.
		expect(pickJourney(() => 0)).toBe("browse");
		expect(pickJourney(() => 0.999999)).toBe("cancel");
	});

	it("declares every journey's steps among the step labels", () => {
		for (const name of JOURNEY_NAMES) {
			expect(JOURNEYS[name].weight).toBe(JOURNEY_WEIGHTS[name]);
			for (const step of JOURNEYS[name].steps) expect(STEP_LABELS).toContain(step);
		}
	});
});

describe("loadgen statistics", () => {
	it("reports the last second, the whole run and a bounded series", () => {
		const stats = new LoadStats(1_000_000, ["a"]);
		expect(stats.snapshot().steps.a.total.count).toBe(0);
		for (let ms = 1; ms <= 100; ms++) stats.record("a", ms, ms % 20 !== 0, ms % 20 === 0 ? 500 : 200);
		stats.record("b", 3, false, 0);
		stats.tick(1_001_000);
		let snap = stats.snapshot();
		expect(snap.steps.a.lastSecond).toMatchObject({ count: 100, errors: 5, rps: 100, errorStatuses: { "500": 5 } });
		expect(snap.steps.a.lastSecond.p50).toBeCloseTo(50, 0);
		expect(snap.steps.a.lastSecond.p99).toBeCloseTo(99, 0);
		expect(snap.steps.b.total).toMatchObject({ count: 1, errors: 1, errorStatuses: { "0": 1 }, lastErrorStatus: 0 });
		expect(snap.totals.lastSecond).toMatchObject({ count: 101, errors: 6, errorStatuses: { "0": 1, "500": 5 } });

		stats.tick(1_002_000);
		snap = stats.snapshot();
		expect(snap.steps.a.lastSecond).toMatchObject({ count: 0, p50: null, rps: 0 });
		expect(snap.steps.a.total).toMatchObject({ count: 100, errors: 5, rps: 50, lastErrorStatus: 500 });
		expect(stats.series()).toEqual([
			{ t: 1001, rps: 101, errorsPerSecond: 6, p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) },
			{ t: 1002, rps: 0, errorsPerSecond: 0, p50: null, p95: null, p99: null }
		]);
		for (let i = 3; i <= SERIES_POINTS + 10; i++) stats.tick(1_000_000 + i * 1000);
		expect(stats.series()).toHaveLength(SERIES_POINTS);
		expect(stats.series().at(-1)?.t).toBe(1000 + SERIES_POINTS + 10);
	});
});

describe("loadgen options", () => {
	const target = "http://127.0.0.1:3000";
	it.each([
		["target", { target: "ftp://example.com" }],
		["target", { target: "not a url" }],
		["ratePerSecond", { ratePerSecond: 0 }],
		["ratePerSecond", { ratePerSecond: 1001 }],
		["ratePerSecond", { ratePerSecond: Number.NaN }],
		["users", { users: 0 }],
		["users", { users: 1.5 }],
		["users", { users: 1001 }],
		["rampSeconds", { rampSeconds: -1 }],
		["rampSeconds", { rampSeconds: 601 }],
		["durationSeconds", { durationSeconds: 0 }],
		["durationSeconds", { durationSeconds: 3601 }],
		["requestTimeoutMs", { requestTimeoutMs: 10 }]
	])("refuses a bad %s", (field, bad) => {
		const make = () => new LoadRun(options(target, bad as Partial<LoadOptions>));
		expect(make).toThrow(RangeError);
		expect(make).toThrow(expect.objectContaining({ name: "LoadOptionsError", field, message: expect.stringContaining(field) }));
	});

	it("normalizes the target and keeps no callbacks", () => {
		expect(validateLoadOptions(options("https://shop.example.com/", { onResult: () => undefined }))).toEqual({ target: "https://shop.example.com", ratePerSecond: 20, users: 10, rampSeconds: 0, durationSeconds: 60, requestTimeoutMs: 10_000 });
	});

	it("ramps the rate linearly, also to a new rate", async () => {
		let clock = 5_000_000;
		const run = new LoadRun(options(target, { ratePerSecond: 100, rampSeconds: 10, now: () => clock }));
		expect(run.currentRate()).toBe(0);
		clock += 5000;
		expect(run.currentRate()).toBeCloseTo(50);
		run.setRate(10);
		clock += 5000;
		expect(run.currentRate()).toBeCloseTo(30);
		clock += 10_000;
		expect(run.currentRate()).toBeCloseTo(10);
		expect(() => run.setRate(0)).toThrow(LoadOptionsError);
		expect(() => run.setUsers(0)).toThrow(LoadOptionsError);
		const stopped = run.stop();
		expect(run.state).toBe("stopping");
		await stopped;
		expect(run.status()).toMatchObject({ state: "stopped", stopReason: "stopped", currentRate: 0, totals: { started: 0 } });
	});
});

describe("loadgen engine against a fake gateway", () => {
	let shop: FakeShop;
	let target: string;

	beforeEach(async () => {
		shop = new FakeShop();
		target = await shop.listen();
	});
	afterEach(() => shop.close());

	it("runs every journey and step until its duration", async () => {
		const results: string[] = [];
		const run = new LoadRun(options(target, { ratePerSecond: 200, users: 100, durationSeconds: 2, onResult: (step, seconds, ok) => results.push(`${step}:${ok}:${seconds < 10}`) }));
		await run.done;
		const status = run.status();
		expect(status).toMatchObject({ state: "stopped", stopReason: "duration", activeUsers: 0 });
		expect(status.elapsedSeconds).toBeGreaterThanOrEqual(2);
		expect(JSON.parse(JSON.stringify(status))).toEqual(status);
		// Every step but the sign-in, which only follows a refused session (its own test below).
		expect(STEP_LABELS.filter(step => status.stats.steps[step].total.count === 0)).toEqual(["POST /auth/login"]);
		expect(STEP_LABELS.filter(step => status.stats.steps[step].total.errors > 0)).toEqual([]);
		// A declined payment (402) is the expected answer of its journey.
		expect(shop.hits.get("POST /api/orders")).toBe(status.stats.steps["POST /orders (paid)"].total.count + status.stats.steps["POST /orders (declined)"].total.count);
		expect(status.journeys["checkout declined"]).toMatchObject({ failed: 0 });
		expect(status.journeys["checkout declined"].completed).toBeGreaterThan(0);
		for (const name of JOURNEY_NAMES) {
			const counts = status.journeys[name];
			expect(counts.started).toBe(counts.completed + counts.failed + counts.interrupted);
		}
		expect(status.totals.started).toBeGreaterThan(300);
		expect(status.totals.failed).toBe(0);
		expect(results).toHaveLength(status.stats.totals.total.count);
		expect(results.every(r => r.endsWith(":true:true"))).toBe(true);
		// Sessions: one registration per user at most, the token sent on every customer request, one key per checkout.
		expect(shop.unauthorized).toBe(0);
		expect(shop.emails.length).toBeLessThanOrEqual(100);
		for (const email of shop.emails) expect(email).toMatch(new RegExp(`^loadgen-${run.runToken}-\\d+@example\\.com$`));
		expect(shop.idempotencyKeys.size).toBe(shop.hits.get("POST /api/orders"));
		// Searches use words of the product names; cancels pick the most recent paid order.
		expect(shop.searches.filter(q => q !== "a").every(q => shop.products.some(p => p.name.toLowerCase().includes(q)))).toBe(true);
		expect(shop.cancelled.length).toBeGreaterThan(0);
		expect(shop.cancelled.every(id => !id.endsWith("-new"))).toBe(true);
		expect(status.series.length).toBeGreaterThanOrEqual(2);
		expect(status.series.some(point => point.rps > 0)).toBe(true);
	});

	it("counts an error status, stops the journey there, and reports 429 as an error", async () => {
		shop.failures.set("POST /api/cart/items", 500);
		shop.failures.set("GET /api/cart", 429);
		const run = new LoadRun(options(target, { ratePerSecond: 100, users: 20 }));
		const status = () => run.status();
		await waitFor(() => status().stats.steps["POST /cart/items"].total.errors >= 5 && status().stats.steps["GET /cart"].total.errors >= 3, "failed cart requests");
		await run.stop();
		const { stats, journeys } = status();
		expect(stats.steps["POST /cart/items"].total).toMatchObject({ errors: stats.steps["POST /cart/items"].total.count, errorStatuses: { "500": stats.steps["POST /cart/items"].total.count }, lastErrorStatus: 500 });
		expect(stats.steps["GET /cart"].total).toMatchObject({ errors: stats.steps["GET /cart"].total.count, errorStatuses: { "429": stats.steps["GET /cart"].total.count } });
		// No checkout after a failed add to cart.
		expect(shop.hits.get("POST /api/orders")).toBeUndefined();
		expect(stats.steps["POST /orders (paid)"].total.count).toBe(0);
		for (const name of ["add to cart", "view cart", "checkout paid", "checkout declined"] as const) {
			expect(journeys[name].completed).toBe(0);
		}
		// Each failed journey stopped at its one error.
		const { totals } = status();
		expect(totals.failed).toBe(stats.totals.total.errors);
		expect(totals.failed).toBe(journeys["add to cart"].failed + journeys["view cart"].failed + journeys["checkout paid"].failed + journeys["checkout declined"].failed);
		expect(stats.steps["GET /products"].total.errors).toBe(0);
		expect(stats.totals.total.errors).toBe(stats.steps["POST /cart/items"].total.count + stats.steps["GET /cart"].total.count);
	});

	it("drops arrivals while every user is busy and stops by request", async () => {
		shop.delayMs = 300;
		const run = new LoadRun(options(target, { ratePerSecond: 20, users: 1 }));
		await waitFor(() => run.status().totals.dropped >= 3, "dropped arrivals");
		const during = run.status();
		expect(during.activeUsers).toBe(1);
		expect(during.totals.started).toBeLessThanOrEqual(2);
		const stopped = run.stop();
		expect(run.state).toBe("stopping");
		expect(run.stop()).toBe(stopped);
		await stopped;
		const after = run.status();
		expect(after).toMatchObject({ state: "stopped", stopReason: "stopped", activeUsers: 0 });
		expect(after.stoppedAt).toBeLessThan(after.endsAt);
		expect(after.totals.started).toBe(after.totals.completed + after.totals.failed + after.totals.interrupted);
		const started = after.totals.started;
		// "Nothing starts any more" has no event to await: wait past two scheduler periods (100 ms) and count.
		await new Promise(resolve => setTimeout(resolve, 250));
		expect(run.status().totals.started).toBe(started);
	});

	it("sends load to its target only: a redirect is an error, not followed", async () => {
		const elsewhere = new FakeShop();
		const elsewhereUrl = await elsewhere.listen();
		shop.redirectTo = `${elsewhereUrl}api/products`;
		try {
			const run = new LoadRun(options(target, { ratePerSecond: 50, users: 5 }));
			await waitFor(() => run.status().stats.totals.total.errors >= 5, "redirected requests");
			await run.stop();
			expect(run.status().stats.totals.total.errorStatuses).toEqual({ "302": run.status().stats.totals.total.errors });
			expect(elsewhere.hits.size).toBe(0);
		} finally {
			shop.redirectTo = null;
			await elsewhere.close();
		}
	});

	it("signs a user in again after its session is refused (401)", async () => {
		const run = new LoadRun(options(target, { ratePerSecond: 100, users: 2 }));
		await waitFor(() => shop.emails.length === 2, "both users registered");
		shop.expireSessions();
		await waitFor(() => shop.unauthorized >= 1 && shop.logins >= 1, "a user signed in again after a 401");
		await run.stop();
		const { steps } = run.status().stats;
		expect(shop.emails).toHaveLength(2);
		expect([steps["POST /auth/register"].total.errors, steps["POST /auth/login"].total.errors]).toEqual([0, 0]);
	});

	it("times out a request as status 0 and grows and shrinks the users", async () => {
		shop.delayMs = 400;
		const run = new LoadRun(options(target, { ratePerSecond: 50, users: 2, requestTimeoutMs: 100 }));
		await waitFor(() => run.status().stats.totals.total.errors >= 2, "timed out requests");
		expect(run.status().stats.totals.total.errorStatuses).toEqual({ "0": expect.any(Number) });
		run.setUsers(6);
		await waitFor(() => run.status().activeUsers > 2, "more active users");
		run.setUsers(1);
		await waitFor(() => run.status().activeUsers <= 1, "fewer active users");
		expect(run.status().options.users).toBe(1);
		await run.stop();
		expect(run.state).toBe("stopped");
	});
});
