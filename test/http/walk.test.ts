/**
 * The purchase walk through the gateway over HTTP: register → login → browse → cart → checkout paid →
 * checkout declined → cancel, checking every status code of the API table at least once.
 */
import type { ServiceBroker } from "moleculer";
import { get } from "node:http";
import type { AddressInfo } from "node:net";
import { gatewayUrl, startBroker } from "../helpers";
import { client } from "./client";
import { ErrorTypes } from "../../lib/errors";
import * as catalogCache from "../../lib/catalog-cache";

describe("HTTP walk through the gateway", () => {
	let broker: ServiceBroker;
	let http: ReturnType<typeof client>;
	let customer: string;
	let adminToken: string;

	beforeAll(async () => {
		process.env.ADMIN_EMAIL = "admin@shop.test";
		process.env.ADMIN_PASSWORD = "admin-password";
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments", "notifications"], { seed: true, broker: { metrics: { enabled: true } } });
		const { port } = (broker.getLocalService("api") as any).server.address() as AddressInfo;
		http = client(`http://127.0.0.1:${port}/api`);
	});
	afterAll(async () => {
		delete process.env.ADMIN_EMAIL;
		delete process.env.ADMIN_PASSWORD;
		await broker.stop();
	});

	it("reports health", async () => {
		const { status, body } = await http("GET", "/health");
		expect(status).toBe(200);
		expect(body).toEqual({ status: "ok", nodeID: broker.nodeID, services: ["api", "carts", "customers", "notifications", "orders", "payments", "products"] });
	});

	it("registers and logs in", async () => {
		const reg = await http("POST", "/auth/register", { body: { email: "walker@example.com", password: "walk-password", name: "Walker" } });
		expect(reg.status).toBe(201);
		expect(reg.body.customer).toMatchObject({ email: "walker@example.com", role: "customer" });
		expect((await http("POST", "/auth/register", { body: { email: "WALKER@example.com", password: "walk-password", name: "W" } })).status).toBe(409);
		const invalid = await http("POST", "/auth/register", { body: { email: "nope", password: "short", name: "" } });
		expect(invalid.status).toBe(422);
		expect(invalid.body).toMatchObject({ name: "ValidationError", code: 422, type: ErrorTypes.VALIDATION_ERROR });
		expect(invalid.body.stack).toBeUndefined();

		const bad = await http("POST", "/auth/login", { body: { email: "walker@example.com", password: "wrong-password" } });
		expect(bad).toMatchObject({ status: 401, body: { type: ErrorTypes.INVALID_CREDENTIALS } });
		const login = await http("POST", "/auth/login", { body: { email: "walker@example.com", password: "walk-password" } });
		expect(login.status).toBe(200);
		customer = login.body.token;
		adminToken = (await http("POST", "/auth/login", { body: { email: "admin@shop.test", password: "admin-password" } })).body.token;
	});

	it("shows and renames the profile", async () => {
		expect((await http("GET", "/customers/me")).status).toBe(401);
		expect((await http("GET", "/customers/me", { token: "garbage.token.here" })).status).toBe(401);
		expect(await http("GET", "/customers/me", { token: customer })).toMatchObject({ status: 200, body: { email: "walker@example.com" } });
		expect(await http("PATCH", "/customers/me", { token: customer, body: { name: "Walker Two" } })).toMatchObject({ status: 200, body: { name: "Walker Two" } });
		expect((await http("PATCH", "/customers/me", { token: customer, body: { role: "admin" } })).status).toBe(422);
	});

	it("browses and manages the catalog", async () => {
		const list = await http("GET", "/products?page=1&pageSize=5&category=Coffee&sort=-price");
		expect(list.status).toBe(200);
		expect(list.body).toMatchObject({ page: 1, pageSize: 5, total: 4, totalPages: 1 });
		expect((await http("GET", "/products?pageSize=500")).status).toBe(422);
		expect((await http("GET", `/products/${list.body.rows[0].id}`)).status).toBe(200);
		expect((await http("GET", "/products/does-not-exist")).status).toBe(404);

		const input = { sku: "WALK-1", name: "Walking Stick", category: "Trekking", price: 3500, stock: 3 };
		expect((await http("POST", "/products", { body: input })).status).toBe(401);
		expect((await http("POST", "/products", { token: customer, body: input })).status).toBe(403);
		const created = await http("POST", "/products", { token: adminToken, body: input });
		expect(created.status).toBe(201);
		expect((await http("POST", "/products", { token: adminToken, body: input })).status).toBe(409);
		expect(await http("PATCH", `/products/${created.body.id}`, { token: adminToken, body: { price: 3200 } })).toMatchObject({ status: 200, body: { price: 3200 } });
		expect((await http("DELETE", `/products/${created.body.id}`, { token: adminToken })).status).toBe(200);
		expect((await http("GET", `/products/${created.body.id}`)).status).toBe(404);
	});

	it("buys, is declined, and cancels", async () => {
		const products = (await http("GET", "/products?pageSize=100&sort=price")).body.rows.filter((p: any) => p.stock < 100);
		const [cheap, other] = products;
		expect(await http("GET", "/cart", { token: customer })).toMatchObject({ status: 200, body: { items: [] } });
		expect((await http("POST", "/orders", { token: customer, body: { paymentToken: "tok_visa" } })).status).toBe(422);
		expect((await http("POST", "/cart/items", { token: customer, body: { productId: "nope", quantity: 1 } })).status).toBe(404);
		expect((await http("POST", "/cart/items", { token: customer, body: { productId: cheap.id, quantity: cheap.stock + 1 } })).status).toBe(409);
		expect((await http("POST", "/cart/items", { token: customer, body: { productId: cheap.id, quantity: 0 } })).status).toBe(422);
		expect((await http("PATCH", `/cart/items/${cheap.id}`, { token: customer, body: { quantity: 1 } })).status).toBe(404);

		await http("POST", "/cart/items", { token: customer, body: { productId: other.id, quantity: 1 } });
		expect((await http("DELETE", `/cart/items/${other.id}`, { token: customer })).status).toBe(200);
		const added = await http("POST", "/cart/items", { token: customer, body: { productId: cheap.id, quantity: 1 } });
		expect(added).toMatchObject({ status: 200, body: { itemCount: 1 } });
		expect(await http("PATCH", `/cart/items/${cheap.id}`, { token: customer, body: { quantity: 2 } })).toMatchObject({ status: 200, body: { itemCount: 2, total: cheap.price * 2 } });

		expect((await http("POST", "/orders", { token: customer, body: { paymentToken: "not a token" } })).status).toBe(422);
		const paid = await http("POST", "/orders", { token: customer, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": "walk-1" } });
		expect(paid).toMatchObject({ status: 201, body: { status: "paid", total: cheap.price * 2 } });
		expect(paid.headers.get("x-request-id")).toEqual(expect.any(String));
		expect(paid.headers.get("location")).toBe(`/api/orders/${paid.body.id}`);
		const replay = await http("POST", "/orders", { token: customer, body: { paymentToken: "tok_visa" }, headers: { "Idempotency-Key": "walk-1" } });
		expect(replay).toMatchObject({ status: 201, body: { id: paid.body.id } });
		expect((await http("GET", `/products/${cheap.id}`)).body.stock).toBe(cheap.stock - 2);

		await http("POST", "/cart/items", { token: customer, body: { productId: cheap.id, quantity: 1 } });
		const declined = await http("POST", "/orders", { token: customer, body: { paymentToken: "tok_chargeDeclined" } });
		expect(declined).toMatchObject({ status: 402, body: { type: ErrorTypes.PAYMENT_DECLINED, data: { declineCode: "card_declined" } } });
		expect(await http("GET", `/orders/${declined.body.data.orderId}`, { token: customer })).toMatchObject({ status: 200, body: { status: "payment_failed" } });

		// The admin sets the shelf count; available stock follows (`stock` itself is not writable).
		expect((await http("PATCH", "/products/" + cheap.id, { token: adminToken, body: { stock: 0 } })).status).toBe(422);
		expect(await http("PATCH", "/products/" + cheap.id, { token: adminToken, body: { onHand: 0 } })).toMatchObject({ status: 200, body: { onHand: 0, reserved: 0, stock: 0 } });
		const short = await http("POST", "/orders", { token: customer, body: { paymentToken: "tok_visa" } });
		expect(short).toMatchObject({ status: 409, body: { type: ErrorTypes.INSUFFICIENT_STOCK, data: { productIds: [cheap.id] } } });
		expect((await http("DELETE", "/cart", { token: customer })).body).toMatchObject({ items: [] });

		const orders = await http("GET", "/orders?page=1&pageSize=10", { token: customer });
		expect(orders).toMatchObject({ status: 200, body: { total: 2 } });
		expect(orders.body.rows.map((o: any) => o.status)).toEqual(["payment_failed", "paid"]);
		expect((await http("GET", "/orders/not-an-order", { token: customer })).status).toBe(404);

		const cancelled = await http("POST", `/orders/${paid.body.id}/cancel`, { token: customer });
		expect(cancelled).toMatchObject({ status: 200, body: { status: "cancelled", payment: { status: "refunded" } } });
		expect((await http("POST", `/orders/${paid.body.id}/cancel`, { token: customer })).status).toBe(409);
		expect((await http("GET", `/products/${cheap.id}`)).body.stock).toBe(2);
	});

	it.each([
		["GET", "/~node/options"],
		["GET", "/$node/options"],
		["GET", "/$node/list"],
		["POST", "/payments/charge"],
		["GET", "/products/getMany"],
		["POST", "/products/reserveStock"]
	])("publishes no route for %s %s", async (method, path) => {
		const { status } = await http(method, path, { token: adminToken });
		expect([404, 405]).toContain(status);
	});

	/** A metric's rows in the registry, and the row of one label set. */
	type Row = { labels: Record<string, string>; value?: number; count?: number };
	const rows = (name: string) => (broker.metrics.getMetric(name) as unknown as { snapshot(): Row[] }).snapshot();
	const find = (name: string, labels: Record<string, string>) => rows(name).find(row => Object.entries(labels).every(([k, v]) => row.labels[k] === v));

	it("counts the walk in the shop's metrics: HTTP by route and status, orders by outcome, payments by status", () => {
		const value = (name: string, labels: Record<string, string>) => find(name, labels)?.value ?? 0;
		expect(value("shop.http.requests.total", { route: "/api/orders", method: "POST", status: "201" })).toBeGreaterThanOrEqual(1);
		expect(value("shop.http.requests.total", { route: "/api/orders/:id/cancel", method: "POST", status: "200" })).toBeGreaterThanOrEqual(1);
		// An unknown path is counted under one label, whatever it was.
		expect(rows("shop.http.requests.total").filter(row => row.labels.route.startsWith("/api/") === false).map(row => row.labels.route)).toEqual(expect.arrayContaining(["unmatched"]));
		for (const outcome of ["paid", "payment_failed", "cancelled"]) expect(value("shop.orders.total", { outcome })).toBeGreaterThanOrEqual(1);
		expect(rows("shop.checkout.duration.seconds").reduce((sum, row) => sum + (row.count ?? 0), 0)).toBeGreaterThanOrEqual(2);
		for (const status of ["captured", "declined", "refunded"]) expect(value("shop.payments.total", { status, currency: "USD" })).toBeGreaterThanOrEqual(1);
		expect(value("shop.payments.amount.minor.units.total", { status: "captured", currency: "USD" })).toBeGreaterThan(0);
		expect(rows("shop.http.request.duration.seconds").length).toBeGreaterThan(0);
	});

	it("counts each catalog read once, the response cache's answers and 304s included, at the next turn of the event loop", async () => {
		const route = { route: "/api/products/:id", method: "GET" };
		const counted = () => [find("shop.http.requests.total", { ...route, status: "200" })?.value ?? 0, find("shop.http.requests.total", { ...route, status: "304" })?.value ?? 0, find("shop.http.request.duration.seconds", route)?.count ?? 0];
		const id = (await http("GET", "/products?pageSize=1")).body.rows[0].id;
		await new Promise(resolve => setImmediate(resolve));
		const [ok, notModified, timed] = counted();
		const fromCache = jest.spyOn(catalogCache, "sendCached");
		const first = await http("GET", `/products/${id}`);
		for (let i = 0; i < 4; i++) expect((await http("GET", `/products/${id}`)).headers.get("etag")).toBe(first.headers.get("etag"));
		// node:http, not fetch: fetch adds Cache-Control: no-cache to a conditional request, which rules out a 304.
		const { port } = (broker.getLocalService("api") as any).server.address() as AddressInfo;
		const revalidated = await new Promise<number>((resolve, reject) => get(`http://127.0.0.1:${port}/api/products/${id}`, { headers: { "If-None-Match": first.headers.get("etag")! } }, res => resolve((res.resume(), res.statusCode!))).on("error", reject));
		expect(revalidated).toBe(304);
		await new Promise(resolve => setImmediate(resolve));
		expect(counted()).toEqual([ok + 5, notModified + 1, timed + 6]);
		// At least the four repeated reads and the 304 were the response cache's answers, counted where it sent them.
		expect(fromCache.mock.calls.length).toBeGreaterThanOrEqual(5);
		fromCache.mockRestore();
	});

	it("reports a degraded health, naming the missing service, once a routed service has no node", async () => {
		await broker.destroyService(broker.getLocalService("products")!);
		const { status, body } = await http("GET", "/health");
		expect(status).toBe(503);
		expect(body).toMatchObject({ status: "degraded", missing: ["products"] });
		// A route whose service has no node: 503 SERVICE_UNAVAILABLE with Retry-After, not Moleculer's 404.
		const away = await http("GET", "/products");
		expect([away.status, away.headers.get("retry-after"), away.body]).toEqual([503, "1", expect.objectContaining({ code: 503, type: "SERVICE_UNAVAILABLE", data: { service: "products" } })]);
	});
});

describe("HTTP input the gateway refuses before any action", () => {
	let broker: ServiceBroker;
	let base: string;
	beforeAll(async () => {
		// The gateway opens its port once every service its routes call has started.
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments"]);
		base = gatewayUrl(broker);
	});
	afterAll(() => broker.stop());

	const post = (body: string) => fetch(`${base}/auth/register`, { method: "POST", headers: { "Content-Type": "application/json" }, body });

	it("answers malformed JSON with a 4xx JSON error", async () => {
		const res = await post('{"email": ');
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ code: 400 });
	});

	it("answers a body over 64 KB with 413", async () => {
		const res = await post(JSON.stringify({ email: "a@b.io", password: "x".repeat(70_000), name: "A" }));
		expect(res.status).toBe(413);
	});
});
