/**
 * The checkout saga's recovery and idempotency, on one broker: orders left unfinished by a crash at each
 * step are driven to a terminal state, with stock and payments agreeing.
 */
import type { ServiceBroker } from "moleculer";
import { startBroker, failure, as, productInput, stopBackgroundJobs } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../domain/catalog";
import type { Order } from "../../domain/order";

describe("checkout saga", () => {
	let broker: ServiceBroker;
	const admin = as("admin", "admin");
	const ann = as("ann");
	let seq = 0;
	const orders = () => broker.getLocalService("orders") as any;
	const product = (stock = 10) => broker.call<Product, any>("products.create", productInput({ stock, price: 1500 }), admin);
	const stockOf = async (id: string) => (await broker.call<Product, any>("products.get", { id })).stock;
	const payment = (orderId: string) => broker.call<any, any>("payments.getByOrder", { orderId });
	const longAgo = () => new Date(Date.now() - 3600_000).toISOString();

	/** An order as a crash would leave it: pending at `step`, its stock held, optionally charged. */
	async function interrupted(p: Product, step: "created" | "stock_reserved", charge?: string) {
		const id = `crashed-${++seq}`;
		const items = [{ productId: p.id, sku: p.sku, name: p.name, price: p.price, quantity: 2, lineTotal: p.price * 2 }];
		await orders().adapter.insert({
			_id: id, customerId: "ann", status: "pending", step, items, total: p.price * 2, currency: "USD",
			payment: { status: "pending" }, idempotencyScope: `order:${id}`, requestHash: "x", createdAt: longAgo(), updatedAt: longAgo()
		});
		await broker.call("products.reserveStock", { reservationId: id, items: [{ productId: p.id, quantity: 2 }] });
		if (charge) await broker.call("payments.charge", { orderId: id, amount: p.price * 2, currency: "USD", paymentToken: charge });
		return id;
	}

	beforeAll(async () => {
		process.env.ORDER_RECOVERY_AFTER = "1";
		broker = await startBroker(["products", "carts", "payments", "orders"]);
		// The tests drive recovery themselves; the background run would race their hand-built orders.
		await stopBackgroundJobs(broker, "orders");
	});
	afterAll(async () => {
		delete process.env.ORDER_RECOVERY_AFTER;
		await broker.stop();
	});

	it("fails an order interrupted before the charge: stock released, and no later charge can capture", async () => {
		const p = await product(10);
		const id = await interrupted(p, "stock_reserved");
		expect(await stockOf(p.id)).toBe(8);
		expect(await orders().recoverOrders()).toBeGreaterThanOrEqual(1);
		expect(await broker.call("orders.get", { id }, admin)).toMatchObject({ status: "payment_failed", payment: { status: "voided" } });
		expect(await stockOf(p.id)).toBe(10);
		const late = await broker.call<any, any>("payments.charge", { orderId: id, amount: 3000, currency: "USD", paymentToken: "tok_visa" });
		expect(late.status).toBe("voided");
	});

	it("pays an order interrupted after a captured charge: the stock stays sold", async () => {
		const p = await product(10);
		const id = await interrupted(p, "stock_reserved", "tok_visa");
		await orders().recoverOrders();
		expect(await broker.call("orders.get", { id }, admin)).toMatchObject({ status: "paid", payment: { status: "captured" } });
		expect(await stockOf(p.id)).toBe(8);
		await broker.call("products.releaseStock", { reservationId: id, items: [{ productId: p.id, quantity: 2 }] });
		expect(await stockOf(p.id)).toBe(8);
	});

	it("fails an order interrupted after a declined charge, releasing its stock", async () => {
		const p = await product(10);
		const id = await interrupted(p, "stock_reserved", "tok_chargeDeclined");
		await orders().recoverOrders();
		expect(await broker.call("orders.get", { id }, admin)).toMatchObject({ status: "payment_failed", payment: { status: "declined" } });
		expect(await stockOf(p.id)).toBe(10);
	});

	it("finishes a cancellation interrupted after it was claimed", async () => {
		const p = await product(10);
		const id = await interrupted(p, "stock_reserved", "tok_visa");
		await orders().recoverOrders();
		await orders().adapter.updateMany({ _id: id }, { $set: { step: "cancelling", updatedAt: longAgo() } });
		await orders().recoverOrders();
		expect(await broker.call("orders.get", { id }, admin)).toMatchObject({ status: "cancelled" });
		expect((await payment(id)).status).toBe("refunded");
		expect(await stockOf(p.id)).toBe(10);
	});

	it("keeps an outbox pending when the order changed after it was read, and recovery sends the newer one", async () => {
		const p = await product(10);
		await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, ann);
		const order = await broker.call<Order, any>("orders.checkout", { paymentToken: "tok_visa" }, ann);
		const stale = await orders().adapter.findById(order.id);
		// Another node rewrites the outbox (as a cancellation does) after `stale` was read.
		await orders().adapter.updateMany({ _id: order.id }, { $set: { outboxPending: true, updatedAt: longAgo() } });
		const send = jest.spyOn(orders(), "publishOutbox");
		try {
			await orders().publishOutbox({ ...stale, outboxPending: true });
			expect((await orders().adapter.findById(order.id)).outboxPending).toBe(true);
			await orders().recoverOrders();
			// Recovery read the order again: it published the stored one and marked it sent.
			expect(send).toHaveBeenLastCalledWith(expect.objectContaining({ _id: order.id, updatedAt: expect.any(String), outboxPending: true }));
			expect((send.mock.calls.at(-1)![0] as { updatedAt: string }).updatedAt).not.toBe(stale.updatedAt);
			expect((await orders().adapter.findById(order.id)).outboxPending).toBe(false);
		} finally {
			send.mockRestore();
		}
	});

	it("leaves recent unfinished orders alone (their checkout may still be running)", async () => {
		const p = await product(10);
		const id = await interrupted(p, "created");
		await orders().adapter.updateMany({ _id: id }, { $set: { updatedAt: new Date().toISOString() } });
		await orders().recoverOrders();
		expect(await broker.call("orders.get", { id }, admin)).toMatchObject({ status: "pending" });
	});

	it("answers the same Idempotency-Key sent 20 times at once with one order and one charge", async () => {
		const p = await product(5);
		await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, ann);
		const meta = { ...ann.meta, idempotencyKey: "same-key-20" };
		const results = await Promise.allSettled(Array.from({ length: 20 }, () => broker.call<Order, any>("orders.checkout", { paymentToken: "tok_visa" }, { meta })));
		const ids = new Set(results.map(r => (r.status === "fulfilled" ? r.value.id : `rejected:${(r as PromiseRejectedResult).reason.type}`)));
		expect([...ids]).toHaveLength(1);
		const [orderId] = [...ids];
		expect(await payment(orderId)).toMatchObject({ status: "captured" });
		expect(await stockOf(p.id)).toBe(4);
		await expect(broker.call("orders.checkout", { paymentToken: "tok_other" }, { meta })).rejects.toEqual(failure(422, ErrorTypes.IDEMPOTENCY_KEY_REUSED));
	});

	it("answers a repeated declined checkout with the same 402 and order", async () => {
		const p = await product(5);
		const bob = as("bob");
		await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, bob);
		const meta = { ...bob.meta, idempotencyKey: "declined-once" };
		const first: any = await broker.call("orders.checkout", { paymentToken: "tok_chargeDeclined" }, { meta }).catch((e: unknown) => e);
		const again: any = await broker.call("orders.checkout", { paymentToken: "tok_chargeDeclined" }, { meta }).catch((e: unknown) => e);
		expect(first).toEqual(failure(402, ErrorTypes.PAYMENT_DECLINED));
		expect(again.data.orderId).toBe(first.data.orderId);
	});
});
