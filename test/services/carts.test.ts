import type { ServiceBroker } from "moleculer";
import { startBroker, failure, as, productInput } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../domain/catalog";
import type { PricedCart } from "../../domain/cart";

describe("carts service", () => {
	let broker: ServiceBroker;
	let boots: Product;
	let socks: Product;
	const admin = as("admin", "admin");
	const ann = as("ann");
	const add = (productId: string, quantity: number, who = ann) => broker.call<PricedCart, any>("carts.addItem", { productId, quantity }, who);

	beforeAll(async () => {
		broker = await startBroker(["products", "carts"]);
		boots = await broker.call("products.create", productInput({ name: "Boots", price: 5000, stock: 10 }), admin);
		socks = await broker.call("products.create", productInput({ name: "Socks", price: 450, stock: 200 }), admin);
	});
	afterAll(() => broker.stop());
	afterEach(() => broker.call("carts.clear", {}, ann));

	it("starts empty", async () => {
		expect(await broker.call("carts.get", {}, as("newcomer"))).toEqual({ items: [], itemCount: 0, total: 0, currency: "USD" });
	});

	it("adds to an existing line and prices lines with current prices", async () => {
		await add(boots.id, 1);
		await add(socks.id, 3);
		const cart = await add(boots.id, 2);
		expect(cart.items).toEqual([
			{ productId: boots.id, sku: boots.sku, name: "Boots", price: 5000, quantity: 3, lineTotal: 15000 },
			{ productId: socks.id, sku: socks.sku, name: "Socks", price: 450, quantity: 3, lineTotal: 1350 }
		]);
		expect(cart).toMatchObject({ itemCount: 6, total: 16350, currency: "USD" });
		await broker.call("products.update", { id: socks.id, price: 500 }, admin);
		expect((await broker.call<PricedCart, any>("carts.get", {}, ann)).total).toBe(16500);
	});

	it("keeps each customer's cart apart", async () => {
		await add(boots.id, 1);
		expect((await broker.call<PricedCart, any>("carts.get", {}, as("bob"))).items).toEqual([]);
	});

	it("refuses unknown products, more than the stock, and more than 100 units", async () => {
		await expect(add("no-such-product", 1)).rejects.toEqual(failure(404, ErrorTypes.PRODUCT_NOT_FOUND));
		await add(boots.id, 8);
		await expect(add(boots.id, 3)).rejects.toEqual(expect.objectContaining({ code: 409, type: ErrorTypes.INSUFFICIENT_STOCK, data: { productIds: [boots.id] } }));
		await add(socks.id, 100);
		await expect(add(socks.id, 1)).rejects.toEqual(failure(422, ErrorTypes.LINE_QUANTITY_LIMIT));
		expect((await broker.call<PricedCart, any>("carts.get", {}, ann)).itemCount).toBe(108);
	});

	it.each([0, 101, -1, 1.5, "2"])("rejects quantity %p with 422", async quantity => {
		await expect(broker.call("carts.addItem", { productId: boots.id, quantity }, ann)).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
	});

	it("sets a line's quantity, 0 removing it, and 404s for a product not in the cart", async () => {
		await add(boots.id, 1);
		expect((await broker.call<PricedCart, any>("carts.updateItem", { productId: boots.id, quantity: 4 }, ann)).itemCount).toBe(4);
		await expect(broker.call("carts.updateItem", { productId: boots.id, quantity: 11 }, ann)).rejects.toEqual(failure(409, ErrorTypes.INSUFFICIENT_STOCK));
		expect((await broker.call<PricedCart, any>("carts.updateItem", { productId: boots.id, quantity: 0 }, ann)).items).toEqual([]);
		await expect(broker.call("carts.updateItem", { productId: socks.id, quantity: 1 }, ann)).rejects.toEqual(failure(404, ErrorTypes.CART_ITEM_NOT_FOUND));
	});

	it("removes a line and clears the cart", async () => {
		await add(boots.id, 1);
		await add(socks.id, 1);
		expect((await broker.call<PricedCart, any>("carts.removeItem", { productId: boots.id }, ann)).items.map(i => i.productId)).toEqual([socks.id]);
		expect(await broker.call("carts.clear", {}, ann)).toMatchObject({ items: [], total: 0 });
		expect((await broker.call<PricedCart, any>("carts.get", {}, ann)).items).toEqual([]);
	});

	it("holds one currency per cart", async () => {
		const euro: Product = await broker.call("products.create", productInput({ currency: "EUR" }), admin);
		await add(boots.id, 1);
		await expect(add(euro.id, 1)).rejects.toEqual(failure(409, ErrorTypes.CURRENCY_MISMATCH));
	});

	it("loses no line when one customer changes the cart concurrently", async () => {
		await Promise.all(Array.from({ length: 10 }, () => add(socks.id, 1)));
		expect((await broker.call<PricedCart, any>("carts.get", {}, ann)).itemCount).toBe(10);
	});

	it("holds at most 100 line items", async () => {
		const full = as("full-cart");
		for (let i = 0; i < 100; i++) {
			const p: Product = await broker.call("products.create", productInput({ stock: 5 }), admin);
			await add(p.id, 1, full);
		}
		const extra: Product = await broker.call("products.create", productInput({ stock: 5 }), admin);
		await expect(add(extra.id, 1, full)).rejects.toEqual(failure(422, ErrorTypes.CART_FULL));
		const first = (await broker.call<PricedCart, any>("carts.get", {}, full)).items[0];
		expect((await add(first.productId, 1, full)).items).toHaveLength(100);
	});

	it("needs a customer", async () => {
		await expect(broker.call("carts.get", {})).rejects.toEqual(failure(401, ErrorTypes.AUTH_REQUIRED));
	});
});
