import type { ServiceBroker } from "moleculer";
import { startBroker, failure, as, productInput } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../domain/catalog";
import type { Order } from "../../domain/order";
import type { OrderPage } from "../../services/orders.service";
import type { PricedCart } from "../../domain/cart";

describe("orders service", () => {
	let broker: ServiceBroker;
	const admin = as("admin", "admin");
	let seq = 0;
	const newCustomer = () => as(`customer-${++seq}`);
	const product = (overrides: Record<string, unknown> = {}) => broker.call<Product, any>("products.create", productInput(overrides), admin);
	const stockOf = async (id: string) => (await broker.call<Product, any>("products.get", { id })).stock;
	const cartOf = (who: ReturnType<typeof as>) => broker.call<PricedCart, any>("carts.get", {}, who);
	const checkout = (who: ReturnType<typeof as>, paymentToken = "tok_visa", key?: string) =>
		broker.call<Order, any>("orders.checkout", { paymentToken }, { meta: { ...who.meta, ...(key ? { idempotencyKey: key } : {}) } });
	const payments = (orderId: string) => broker.call<any, any>("payments.getByOrder", { orderId });

	beforeAll(async () => (broker = await startBroker(["products", "carts", "payments", "orders"])));
	afterAll(() => broker.stop());

	it("checks out: a paid order with the prices at checkout, stock decremented, cart emptied", async () => {
		const who = newCustomer();
		const p = await product({ price: 2500, stock: 5 });
		await broker.call("carts.addItem", { productId: p.id, quantity: 2 }, who);
		const order = await checkout(who);
		expect(order).toMatchObject({
			customerId: who.meta.customer.id,
			status: "paid",
			items: [{ productId: p.id, sku: p.sku, price: 2500, quantity: 2, lineTotal: 5000 }],
			total: 5000,
			currency: "USD",
			payment: { status: "captured", transactionId: expect.stringMatching(/^txn_/) }
		});
		expect(await stockOf(p.id)).toBe(3);
		expect((await cartOf(who)).items).toEqual([]);
		await broker.call("products.update", { id: p.id, price: 9999 }, admin);
		expect((await broker.call<Order, any>("orders.get", { id: order.id }, who)).total).toBe(5000);
		expect(await payments(order.id)).toMatchObject({ status: "captured", amount: 5000 });
	});

	it("answers 402 for a declined payment: order payment_failed, stock released, cart kept", async () => {
		const who = newCustomer();
		const p = await product({ stock: 4 });
		await broker.call("carts.addItem", { productId: p.id, quantity: 3 }, who);
		const err = await checkout(who, "tok_chargeDeclined").catch(e => e);
		expect(err).toEqual(failure(402, ErrorTypes.PAYMENT_DECLINED));
		expect(err.data.declineCode).toBe("card_declined");
		const order = await broker.call<Order, any>("orders.get", { id: err.data.orderId }, who);
		expect(order).toMatchObject({ status: "payment_failed", payment: { status: "declined", declineCode: "card_declined" } });
		expect(await stockOf(p.id)).toBe(4);
		expect((await cartOf(who)).itemCount).toBe(3);
	});

	it("answers 409 when stock ran out: nothing charged, no stock changed, cart kept", async () => {
		const [who, rival] = [newCustomer(), newCustomer()];
		const scarce = await product({ stock: 2 });
		const plenty = await product({ stock: 50 });
		await broker.call("carts.addItem", { productId: plenty.id, quantity: 5 }, who);
		await broker.call("carts.addItem", { productId: scarce.id, quantity: 2 }, who);
		await broker.call("carts.addItem", { productId: scarce.id, quantity: 1 }, rival);
		await checkout(rival);
		const err = await checkout(who).catch(e => e);
		expect(err).toEqual(expect.objectContaining({ code: 409, type: ErrorTypes.INSUFFICIENT_STOCK, data: { productIds: [scarce.id] } }));
		expect([await stockOf(scarce.id), await stockOf(plenty.id)]).toEqual([1, 50]);
		expect((await cartOf(who)).itemCount).toBe(7);
		expect((await broker.call<OrderPage, any>("orders.list", {}, who)).total).toBe(0);
	});

	it("refuses to check out a cart whose products no longer share one currency", async () => {
		const who = newCustomer();
		const [usd, other] = [await product({ stock: 5 }), await product({ stock: 5 })];
		await broker.call("carts.addItem", { productId: usd.id, quantity: 1 }, who);
		await broker.call("carts.addItem", { productId: other.id, quantity: 1 }, who);
		await broker.call("products.update", { id: other.id, currency: "EUR" }, admin);
		await expect(checkout(who)).rejects.toEqual(failure(409, ErrorTypes.CURRENCY_MISMATCH));
		expect([await stockOf(usd.id), await stockOf(other.id)]).toEqual([5, 5]);
		await broker.call("carts.removeItem", { productId: other.id }, who);
		expect(await checkout(who)).toMatchObject({ status: "paid", currency: "USD" });
	});

	it("answers 422 for an empty cart or a malformed token", async () => {
		const who = newCustomer();
		await expect(checkout(who)).rejects.toEqual(failure(422, ErrorTypes.EMPTY_CART));
		await expect(checkout(who, "4242-4242")).rejects.toEqual(failure(422, ErrorTypes.INVALID_PAYMENT_TOKEN));
		await expect(broker.call("orders.checkout", { paymentToken: { $ne: null } }, who)).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
	});

	it("answers a repeated Idempotency-Key with the first order and charges once", async () => {
		const who = newCustomer();
		const p = await product({ stock: 10 });
		await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, who);
		const first = await checkout(who, "tok_visa", "key-1");
		const again = await checkout(who, "tok_visa", "key-1");
		expect(again.id).toBe(first.id);
		expect(await stockOf(p.id)).toBe(9);
		// Another customer's identical key is theirs alone.
		const other = newCustomer();
		await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, other);
		expect((await checkout(other, "tok_visa", "key-1")).id).not.toBe(first.id);
	});

	it("lists the caller's orders newest first and hides other customers' orders", async () => {
		const [who, stranger] = [newCustomer(), newCustomer()];
		const p = await product({ stock: 10 });
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, who);
			ids.push((await checkout(who)).id);
		}
		const page = await broker.call<OrderPage, any>("orders.list", { pageSize: 2 }, who);
		expect(page).toMatchObject({ total: 3, page: 1, pageSize: 2, totalPages: 2 });
		expect(page.rows.map(o => o.id)).toEqual([ids[2], ids[1]]);
		await expect(broker.call("orders.get", { id: ids[0] }, stranger)).rejects.toEqual(failure(404, ErrorTypes.ORDER_NOT_FOUND));
		await expect(broker.call("orders.cancel", { id: ids[0] }, stranger)).rejects.toEqual(failure(404, ErrorTypes.ORDER_NOT_FOUND));
		expect(await broker.call("orders.get", { id: ids[0] }, admin)).toMatchObject({ id: ids[0] });
		await expect(broker.call("orders.list", {})).rejects.toEqual(failure(401, ErrorTypes.AUTH_REQUIRED));
	});

	it("cancels a paid order once: refund, stock restored; 409 for anything not paid", async () => {
		const who = newCustomer();
		const p = await product({ stock: 6 });
		await broker.call("carts.addItem", { productId: p.id, quantity: 2 }, who);
		const order = await checkout(who);
		const results = await Promise.allSettled([1, 2, 3].map(() => broker.call<Order, any>("orders.cancel", { id: order.id }, who)));
		const done = results.filter(r => r.status === "fulfilled") as PromiseFulfilledResult<Order>[];
		expect(done).toHaveLength(1);
		expect(done[0].value).toMatchObject({ status: "cancelled", payment: { status: "refunded" } });
		expect(results.filter(r => r.status === "rejected").map(r => (r as PromiseRejectedResult).reason)).toEqual([
			failure(409, ErrorTypes.ORDER_NOT_CANCELLABLE),
			failure(409, ErrorTypes.ORDER_NOT_CANCELLABLE)
		]);
		expect(await stockOf(p.id)).toBe(6);
		expect(await payments(order.id)).toMatchObject({ status: "refunded" });
	});
});
