/**
 * The gateway's response cache for anonymous catalog reads (lib/catalog-cache.ts) in one process: a repeated
 * read is answered from it, ETag / If-None-Match give a 304, and a write (an update, a stock move) is visible
 * at the very next read. Across nodes: test/cluster/nodes.test.ts.
 */
import type { ServiceBroker } from "moleculer";
import { get } from "node:http";
import type { AddressInfo } from "node:net";
import { as, productInput, startBroker } from "../helpers";
import { client } from "./client";
import type { Product } from "../../domain/catalog";

/**
 * A conditional GET with node:http: fetch() adds `Cache-Control: no-cache` to any request that carries
 * If-None-Match (the Fetch standard's cache mode), which asks the server for a full answer.
 */
function conditionalGet(url: string, etag: string): Promise<{ status: number; etag: string | undefined; body: string }> {
	return new Promise((resolve, reject) => {
		get(url, { headers: { "If-None-Match": etag } }, res => {
			let body = "";
			res.on("data", chunk => (body += chunk));
			res.on("end", () => resolve({ status: res.statusCode!, etag: res.headers.etag, body }));
		}).on("error", reject);
	});
}

describe("the gateway's catalog response cache", () => {
	let broker: ServiceBroker;
	let base: string;
	let http: ReturnType<typeof client>;
	let computed: jest.SpyInstance;
	const admin = as("admin-1", "admin");

	beforeAll(async () => {
		broker = await startBroker(["api", "customers", "products", "carts", "orders", "payments", "notifications"]);
		const api = broker.getLocalService("api") as any;
		base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}/api`;
		http = client(base);
		computed = jest.spyOn(api.responses, "set");
	});
	afterAll(async () => {
		computed.mockRestore();
		await broker.stop();
	});
	beforeEach(() => computed.mockClear());

	it("answers a repeated anonymous read from the cache, and revalidates with ETag / 304", async () => {
		const product = await broker.call<Product, any>("products.create", productInput({ price: 1000 }), admin);
		const first = await http("GET", `/products/${product.id}`);
		const second = await http("GET", `/products/${product.id}`);
		expect(second.body).toEqual(first.body);
		expect(computed).toHaveBeenCalledTimes(1);
		const etag = first.headers.get("etag")!;
		expect(second.headers.get("etag")).toBe(etag);
		expect(first.headers.get("cache-control")).toBe("no-cache");
		expect(await conditionalGet(`${base}/products/${product.id}`, etag)).toEqual({ status: 304, etag, body: "" });
	});

	it("shows an update at the next read, with a new ETag", async () => {
		const product = await broker.call<Product, any>("products.create", productInput({ price: 1000 }), admin);
		const before = await http("GET", `/products/${product.id}`);
		await http("GET", `/products?pageSize=100`);
		await broker.call("products.update", { id: product.id, price: 1250 }, admin);
		const after = await conditionalGet(`${base}/products/${product.id}`, before.headers.get("etag")!);
		expect(after.status).toBe(200);
		expect(JSON.parse(after.body)).toMatchObject({ price: 1250 });
		expect(after.etag).not.toBe(before.headers.get("etag"));
		const list = await http("GET", `/products?pageSize=100`);
		expect(list.body.rows.find((p: Product) => p.id === product.id).price).toBe(1250);
	});

	it("shows the stock a checkout took at the next read", async () => {
		const product = await broker.call<Product, any>("products.create", productInput({ price: 500, stock: 5 }), admin);
		expect((await http("GET", `/products/${product.id}`)).body.stock).toBe(5);
		const buyer = as("cache-buyer");
		await broker.call("carts.addItem", { productId: product.id, quantity: 2 }, buyer);
		await broker.call("orders.checkout", { paymentToken: "tok_visa" }, buyer);
		expect((await http("GET", `/products/${product.id}`)).body.stock).toBe(3);
	});

	it("keeps authenticated and unknown-query reads out of the cache", async () => {
		const product = await broker.call<Product, any>("products.create", productInput(), admin);
		const token = (await http("POST", "/auth/register", { body: { email: "cache-reader@example.com", password: "cache-password", name: "R" } })).body.token;
		expect((await http("GET", `/products/${product.id}`, { token })).status).toBe(200);
		expect((await http("GET", `/products?pageSize=0`)).status).toBe(422);
		expect(computed).not.toHaveBeenCalled();
	});
});
