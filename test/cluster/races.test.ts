/**
 * Checkouts racing for the last units, on nodes over the real NATS and Redis with MongoDB: exactly as many
 * succeed as there were units, stock never goes below 0, every captured payment has a paid order, and no
 * stock hold survives a refused multi-line order.
 */
import type { ServiceBroker } from "moleculer";
import { deleteStreams, startNode, uniqueNamespace } from "./support";
import { as, productInput } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../services/products.service";
import type { Order } from "../../services/orders.service";

describe("checkout races across nodes", () => {
	const namespace = uniqueNamespace("races");
	const nodes: ServiceBroker[] = [];
	let caller: ServiceBroker;
	const admin = as("admin", "admin");
	let customerSeq = 0;

	beforeAll(async () => {
		for (const service of ["products", "payments", "carts", "orders"] as const) nodes.push(await startNode(`${namespace}-${service}`, [service], { namespace }));
		caller = await startNode(`${namespace}-caller`, [], { namespace });
		nodes.push(caller);
		await caller.waitForServices(["products", "payments", "carts", "orders"], 10_000);
	});
	afterAll(async () => {
		await Promise.all(nodes.map(node => node.stop()));
		await deleteStreams(namespace);
	});

	const storeOf = (service: string) => (nodes.find(n => n.getLocalService(service))!.getLocalService(service) as any).adapter;
	const stockOf = async (id: string) => (await storeOf("products").findById(id)).stock as number;
	const holdsOf = async (id: string) => Object.keys((await storeOf("products").findById(id)).holds ?? {});

	/** A new customer whose cart holds one unit of each product. */
	async function shopper(products: Product[]) {
		const who = as(`racer-${++customerSeq}`);
		for (const p of products) await caller.call("carts.addItem", { productId: p.id, quantity: 1 }, who);
		return who;
	}

	async function checkoutAll(shoppers: ReturnType<typeof as>[]) {
		return Promise.allSettled(shoppers.map(who => caller.call<Order, any>("orders.checkout", { paymentToken: "tok_visa" }, who)));
	}

	it("sells exactly 50 units to 200 concurrent checkouts, and charges exactly 50 times", async () => {
		const p = await caller.call<Product, any>("products.create", productInput({ stock: 50 }), admin);
		const shoppers: ReturnType<typeof as>[] = [];
		for (let i = 0; i < 200; i++) shoppers.push(await shopper([p]));
		const results = await checkoutAll(shoppers);
		const paid = results.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<Order>).value);
		const refused = results.filter(r => r.status === "rejected").map(r => (r as PromiseRejectedResult).reason);
		expect(paid).toHaveLength(50);
		expect(paid.every(o => o.status === "paid")).toBe(true);
		expect(refused).toHaveLength(150);
		expect(refused.every(err => err.code === 409 && err.type === ErrorTypes.INSUFFICIENT_STOCK)).toBe(true);
		expect(await stockOf(p.id)).toBe(0);
		expect(await holdsOf(p.id)).toEqual([]);
		const charges = await storeOf("payments").find({ query: { orderId: { $in: paid.map(o => o.id) } } });
		expect(charges.filter((c: any) => c.status === "captured")).toHaveLength(50);
		expect(await storeOf("payments").count({ query: { status: "captured" } })).toBe(50);
	}, 120_000);

	it("lets no partial reservation survive when two-product orders race single-product ones", async () => {
		const x = await caller.call<Product, any>("products.create", productInput({ stock: 5 }), admin);
		const y = await caller.call<Product, any>("products.create", productInput({ stock: 5 }), admin);
		const shoppers = [];
		for (let i = 0; i < 10; i++) shoppers.push(await shopper([x, y]), await shopper([x]), await shopper([y]));
		const results = await checkoutAll(shoppers);
		const paid = results.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<Order>).value);
		const soldX = paid.flatMap(o => o.items).filter(i => i.productId === x.id).length;
		const soldY = paid.flatMap(o => o.items).filter(i => i.productId === y.id).length;
		// Every unit is either still in stock or in a paid order; none is lost to a refused order's hold.
		expect(soldX + (await stockOf(x.id))).toBe(5);
		expect(soldY + (await stockOf(y.id))).toBe(5);
		expect(soldX + soldY).toBeGreaterThan(0);
		expect([...(await holdsOf(x.id)), ...(await holdsOf(y.id))]).toEqual([]);
		expect(results.filter(r => r.status === "rejected").every(r => (r as PromiseRejectedResult).reason.code === 409)).toBe(true);
	}, 120_000);
});
