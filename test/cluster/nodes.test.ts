/**
 * Seven nodes in one process over the real NATS and Redis, sharing MongoDB (the Mongo-wire test server
 * unless MONGO_URI is set): discovery, balancing over two products nodes, Redis cache hits, cross-node
 * cache invalidation (Redis, and two gateways' response caches), errors that keep their code and type
 * across a hop, and the purchase walk over HTTP.
 */
import type { ServiceBroker } from "moleculer";
import { Errors } from "moleculer";
import { deleteStreams, startNode, uniqueNamespace, waitFor } from "./support";
import { as, gatewayUrl, productInput } from "../helpers";
import { client } from "../http/client";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../domain/catalog";

describe("a cluster of nodes over NATS and Redis", () => {
	const namespace = uniqueNamespace("nodes");
	const nodes: Record<string, ServiceBroker> = {};
	let http: ReturnType<typeof client>;
	let http2: ReturnType<typeof client>;
	const admin = as("admin-1", "admin");

	beforeAll(async () => {
		const start = (id: string, services: Parameters<typeof startNode>[1]) => startNode(`${namespace}-${id}`, services, { namespace });
		// The stores first, so the dependants find them; both products nodes share one MongoDB database.
		Object.assign(nodes, {
			products1: await start("products-1", ["products"]),
			products2: await start("products-2", ["products"]),
			customers: await start("customers", ["customers"]),
			payments: await start("payments", ["payments"]),
			notifications: await start("notifications", ["notifications"])
		});
		Object.assign(nodes, { carts: await start("carts", ["carts"]) });
		Object.assign(nodes, { orders: await start("orders", ["orders"]), api: await start("api", ["api"]), api2: await start("api-2", ["api"]) });
		const gateway = (node: ServiceBroker) => client(gatewayUrl(node));
		[http, http2] = [gateway(nodes.api), gateway(nodes.api2)];
		for (const each of [http, http2]) await waitFor(async () => (await each("GET", "/health")).body.services?.length === 7, "each gateway to see all seven services");
	});
	afterAll(async () => {
		await Promise.all(Object.values(nodes).map(node => node.stop()));
		await deleteStreams(namespace);
	});

	const productsStore = (node: ServiceBroker) => (node.getLocalService("products") as any).adapter;

	it("discovers every node and service", async () => {
		const { body } = await http("GET", "/health");
		expect(body.services).toEqual(["api", "carts", "customers", "notifications", "orders", "payments", "products"]);
		const productNodes = nodes.api.registry.getServiceList({ onlyAvailable: true }).filter((s: any) => s.name === "products").map((s: any) => s.nodeID);
		expect(productNodes.sort()).toEqual([nodes.products1.nodeID, nodes.products2.nodeID].sort());
	});

	it("balances calls over the two products nodes", async () => {
		const spies = [jest.spyOn(productsStore(nodes.products1), "findByIds"), jest.spyOn(productsStore(nodes.products2), "findByIds")];
		// NATS picks a queue-group member at random: with 40 calls, fewer than 8 on one node has odds ~1e-5.
		for (let i = 0; i < 40; i++) await nodes.carts.call("products.getMany", { ids: [`id-${i}`] });
		const counts = spies.map(spy => spy.mock.calls.length);
		spies.forEach(spy => spy.mockRestore());
		expect(counts[0] + counts[1]).toBe(40);
		expect(Math.min(...counts)).toBeGreaterThanOrEqual(8);
	});

	it("serves a repeated read from Redis, whichever node answers, and cleans it on every node after a write", async () => {
		const product = await nodes.api.call<Product, any>("products.create", productInput({ price: 1000 }), admin);
		const spies = [jest.spyOn(productsStore(nodes.products1), "findById"), jest.spyOn(productsStore(nodes.products2), "findById")];
		const reads = () => spies.reduce((n, spy) => n + spy.mock.calls.length, 0);
		for (let i = 0; i < 4; i++) expect(await nodes.carts.call("products.get", { id: product.id })).toMatchObject({ price: 1000 });
		expect(reads()).toBe(1);

		await nodes.orders.call("products.update", { id: product.id, price: 1500 }, admin);
		for (let i = 0; i < 4; i++) expect(await nodes.carts.call("products.get", { id: product.id })).toMatchObject({ price: 1500 });
		spies.forEach(spy => spy.mockRestore());
		expect((await http("GET", `/products/${product.id}`)).body.price).toBe(1500);
	});

	it("shows a write on another node at the next read through either gateway's response cache", async () => {
		const product = await nodes.api.call<Product, any>("products.create", productInput({ price: 1000 }), admin);
		const gateways = [http, http2];
		const computed = [nodes.api, nodes.api2].map(node => jest.spyOn((node.getLocalService("api") as any).responses, "set"));
		for (const each of gateways) for (let i = 0; i < 3; i++) expect((await each("GET", `/products/${product.id}`)).body.price).toBe(1000);
		expect(computed.map(spy => spy.mock.calls.length)).toEqual([1, 1]);

		await nodes.orders.call("products.update", { id: product.id, price: 1750 }, admin);
		for (const each of gateways) expect((await each("GET", `/products/${product.id}`)).body.price).toBe(1750);
		computed.forEach(spy => spy.mockRestore());
	});

	it("keeps an error's class, code and type across a hop", async () => {
		const err = await nodes.carts.call("products.get", { id: "missing" }).catch(e => e);
		expect(err).toBeInstanceOf(Errors.MoleculerClientError);
		expect(err).toMatchObject({ code: 404, type: ErrorTypes.PRODUCT_NOT_FOUND, data: { productId: "missing" } });
		expect((await http("GET", "/products/missing")).status).toBe(404);
	});

	it("counts failed logins in Redis, so the lock holds across nodes", async () => {
		const email = `locked-${namespace}@example.com`;
		const statuses: number[] = [];
		for (let i = 0; i < 6; i++) statuses.push((await http("POST", "/auth/login", { body: { email, password: "wrong-password" } })).status);
		expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
		const redis = (nodes.customers.cacher as any).client;
		// One count per account, one per account and client address.
		const keys: string[] = (await redis.keys(`shop-login-attempts:${namespace}:*`)).sort();
		expect(keys).toHaveLength(2);
		expect(keys[1].startsWith(`${keys[0]}:`)).toBe(true);
		expect(await Promise.all(keys.map(key => redis.get(key).then(Number)))).toEqual([6, 6]);
		expect(await redis.ttl(keys[0])).toBeGreaterThan(0);
		await redis.del(...keys);
	});

	it("walks a purchase through the gateway across nodes", async () => {
		const product = await nodes.api.call<Product, any>("products.create", productInput({ price: 700, stock: 3 }), admin);
		const reg = await http("POST", "/auth/register", { body: { email: `${namespace}@example.com`, password: "cluster-pass", name: "C" } });
		expect(reg.status).toBe(201);
		const token = reg.body.token;
		expect((await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 4 } })).status).toBe(409);
		expect((await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 2 } })).status).toBe(200);
		const paid = await http("POST", "/orders", { token, body: { paymentToken: "tok_visa" } });
		expect(paid).toMatchObject({ status: 201, body: { status: "paid", total: 1400 } });
		await http("POST", "/cart/items", { token, body: { productId: product.id, quantity: 1 } });
		const declined = await http("POST", "/orders", { token, body: { paymentToken: "tok_chargeDeclined" } });
		expect(declined).toMatchObject({ status: 402, body: { type: ErrorTypes.PAYMENT_DECLINED } });
		expect((await http("GET", `/products/${product.id}`)).body.stock).toBe(1);
		expect(await http("POST", `/orders/${paid.body.id}/cancel`, { token })).toMatchObject({ status: 200, body: { status: "cancelled" } });
		expect((await http("GET", `/products/${product.id}`)).body.stock).toBe(3);
	});
});
