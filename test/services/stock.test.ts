/**
 * Checkout and stock under ordinary use, on one broker (and, in the mongo project, on MongoDB): one cart
 * gives one charge however often it is submitted; only a refusal deletes an order; a reservation that
 * lands after its caller gave up, or whose order is lost, never holds stock for ever; the sweeps finish
 * what a dead attempt left; an admin's stock edit never combines with a hold; `sold` is net of
 * cancellations; documents stay the same size as orders pile up.
 */
import type { ServiceBroker } from "moleculer";
import { as, failure, productInput, startBroker, stopBackgroundJobs, waitUntil } from "../helpers";
import { ErrorTypes } from "../../lib/errors";
import type { Product } from "../../domain/catalog";
import type { Order } from "../../domain/order";
import type { PricedCart } from "../../domain/cart";
import { applyOperation, brokenInvariants, movementId, newMovement, type StockOperation } from "../../domain/stock";
import { placesHold } from "../../scripts/reliability/duplicates";

describe("checkout and stock under ordinary use", () => {
	let broker: ServiceBroker;
	const admin = as("admin", "admin");
	let seq = 0;
	const newCustomer = () => as(`stock-customer-${++seq}`);
	const service = (name: string) => broker.getLocalService(name) as any;
	const movements = () => service("products").stores.movements;
	const product = (stock: number) => broker.call<Product, any>("products.create", productInput({ stock, price: 1200 }), admin);
	const read = (id: string) => broker.call<Product, any>("products.get", { id });
	const raw = (id: string) => service("products").adapter.findById(id);
	const movement = (orderId: string, productId: string) => movements().findById(movementId(orderId, productId));
	const checkout = (who: ReturnType<typeof as>, paymentToken = "tok_visa") => broker.call<Order, any>("orders.checkout", { paymentToken }, who);
	const fill = async (who: ReturnType<typeof as>, p: Product, quantity = 1) => broker.call<PricedCart, any>("carts.addItem", { productId: p.id, quantity }, who);
	const line = (p: Product, quantity: number) => [{ productId: p.id, quantity }];
	const longAgo = () => new Date(Date.now() - 3600_000).toISOString();
	const sweep = () => service("products").sweepStock();

	beforeAll(async () => {
		process.env.ORDER_RECOVERY_AFTER = "1";
		process.env.ORPHAN_SWEEP_AFTER = "2";
		broker = await startBroker(["products", "carts", "payments", "orders"]);
		// The tests run recovery and the sweeps themselves.
		await Promise.all(["orders", "products", "carts"].map(name => stopBackgroundJobs(broker, name)));
	});
	afterAll(async () => {
		delete process.env.ORDER_RECOVERY_AFTER;
		delete process.env.ORPHAN_SWEEP_AFTER;
		await broker.stop();
	});

	/** Holds back every product update that places a hold until `open` is called. */
	function holdBackReservations(): { open: () => void; held: () => number; landed: () => number; restore: () => void } {
		const products = service("products");
		const apply = products.applyStockOperation;
		let open!: () => void;
		const gate = new Promise<void>(resolve => (open = resolve));
		let held = 0;
		let landed = 0;
		products.applyStockOperation = async (op: StockOperation) => {
			if (!placesHold(op)) return apply.call(products, op);
			held += 1;
			await gate;
			const changed = await apply.call(products, op);
			landed += 1;
			return changed;
		};
		return { open, held: () => held, landed: () => landed, restore: () => (products.applyStockOperation = apply) };
	}

	it("makes one order and one charge of one cart submitted 10 times at once without a key; a late duplicate is an empty cart", async () => {
		const who = newCustomer();
		const p = await product(5);
		await fill(who, p);
		const results = await Promise.allSettled(Array.from({ length: 10 }, () => checkout(who)));
		const paid = results.filter(r => r.status === "fulfilled") as PromiseFulfilledResult<Order>[];
		expect(paid).toHaveLength(1);
		const refusals = results.filter(r => r.status === "rejected").map(r => (r as PromiseRejectedResult).reason.type);
		expect(refusals.every(type => type === ErrorTypes.CHECKOUT_IN_PROGRESS || type === ErrorTypes.EMPTY_CART)).toBe(true);
		expect((await broker.call<any, any>("orders.list", {}, who)).total).toBe(1);
		expect(await broker.call("payments.getByOrder", { orderId: paid[0].value.id })).toMatchObject({ status: "captured" });
		expect(await read(p.id)).toMatchObject({ stock: 4, onHand: 4, reserved: 0, sold: 1 });
		expect((await broker.call<PricedCart, any>("carts.get", {}, who)).items).toEqual([]);
		await expect(checkout(who)).rejects.toEqual(failure(422, ErrorTypes.EMPTY_CART));
	});

	it("keeps an order whose reservation did not answer, locks its cart meanwhile, and releases the reservation when it lands", async () => {
		const who = newCustomer();
		const p = await product(10);
		await fill(who, p, 2);
		const gate = holdBackReservations();
		// Calls between services time out after 300 ms here (the checkout itself has no limit).
		broker.options.requestTimeout = 300;
		const err: any = await broker.call("orders.checkout", { paymentToken: "tok_visa" }, { ...who, timeout: 0 }).catch(e => e);
		broker.options.requestTimeout = 0;
		expect(err).toEqual(failure(409, ErrorTypes.CHECKOUT_IN_PROGRESS));
		expect(gate.held()).toBe(1);
		const order = await broker.call<Order, any>("orders.get", { id: err.data.orderId }, who);
		expect(order.status).toBe("pending");
		await expect(fill(who, p)).rejects.toEqual(failure(409, ErrorTypes.CART_BUSY));
		await expect(checkout(who)).rejects.toEqual(failure(409, ErrorTypes.CHECKOUT_IN_PROGRESS));

		// Recovery cannot settle the order while its reservation is still under way…
		await service("orders").adapter.updateMany({ _id: order.id }, { $set: { updatedAt: longAgo() } });
		await service("orders").recoverOrders();
		expect((await broker.call<Order, any>("orders.get", { id: order.id }, who)).status).toBe("pending");
		// …then it lands, late, and recovery releases it.
		gate.open();
		await waitUntil(async () => gate.landed() === 1 && (await movement(order.id, p.id))?.state === "held" && (await raw(p.id)).inFlight === 0);
		gate.restore();
		await service("orders").adapter.updateMany({ _id: order.id }, { $set: { updatedAt: longAgo() } });
		await service("orders").recoverOrders();
		expect(await broker.call("orders.get", { id: order.id }, who)).toMatchObject({ status: "payment_failed", payment: { status: "voided" } });
		expect(await movement(order.id, p.id)).toMatchObject({ state: "released" });
		expect(await raw(p.id)).toMatchObject({ stock: 10, onHand: 10, reserved: 0, inFlight: 0 });
		expect((await fill(who, p)).itemCount).toBe(3);
	});

	it("releases the hold of an order that was never written, once the grace period is over, and the order can no longer be written", async () => {
		const p = await product(6);
		await broker.call("products.reserveStock", { reservationId: "lost-order-1", items: line(p, 2) });
		expect(await read(p.id)).toMatchObject({ stock: 4, reserved: 2 });
		expect(await sweep()).toMatchObject({ holds: 0 });
		await movements().updateMany({ _id: movementId("lost-order-1", p.id) }, { $set: { updatedAt: longAgo() } });
		const [first, second] = await Promise.all([sweep(), sweep()]);
		expect(first.holds + second.holds).toBe(1);
		expect(await read(p.id)).toMatchObject({ stock: 6, onHand: 6, reserved: 0 });
		expect(await movement("lost-order-1", p.id)).toMatchObject({ state: "released" });
		expect(await broker.call("orders.get", { id: "lost-order-1" }, admin)).toMatchObject({ status: "payment_failed", items: [] });
	});

	it("finishes the move of an attempt that died after claiming it, whether or not its change reached the product", async () => {
		const p = await product(5);
		const dead = (orderId: string) => ({ ...newMovement(orderId, p.id, 2, { to: "held", attempt: `dead-${orderId}`, at: longAgo() }) });
		// One died right after its claim, the other after changing the product too.
		await movements().insert(dead("ghost-a"));
		await movements().insert(dead("ghost-b"));
		const landed = applyOperation(p.id, "ghost-b", "none", 2, dead("ghost-b").pending!);
		await service("products").adapter.updateMany(landed.query, landed.update);
		expect(await raw(p.id)).toMatchObject({ stock: 3, reserved: 2, inFlight: 1 });
		// Meanwhile nobody else may move these lines.
		await expect(broker.call("products.releaseStock", { reservationId: "ghost-a", items: line(p, 2) })).rejects.toEqual(failure(409, ErrorTypes.STOCK_BUSY));

		expect(await sweep()).toMatchObject({ moves: 2 });
		expect(await raw(p.id)).toMatchObject({ stock: 1, reserved: 4, onHand: 5, inFlight: 0, moves: {} });
		expect([await movement("ghost-a", p.id), await movement("ghost-b", p.id)]).toMatchObject([{ state: "held" }, { state: "held" }]);
		await movements().updateMany({ productId: p.id }, { $set: { updatedAt: longAgo() } });
		expect(await sweep()).toMatchObject({ holds: 2 });
		expect(await raw(p.id)).toMatchObject({ stock: 5, reserved: 0, onHand: 5 });
	});

	it("drops a marker left behind by a move that finished, and prunes old records of settled lines", async () => {
		const p = await product(5);
		await broker.call("products.reserveStock", { reservationId: "leftover-1", items: line(p, 1) });
		const record = await movement("leftover-1", p.id);
		// As if the node died between finishing the record and dropping the marker.
		await service("products").adapter.updateMany({ _id: p.id }, { $set: { "moves.leftover-1": { to: "held", attempt: record.attempt, at: longAgo() } }, $inc: { inFlight: 1 } });
		expect(await sweep()).toMatchObject({ markers: 1 });
		expect(await raw(p.id)).toMatchObject({ stock: 4, reserved: 1, inFlight: 0, moves: {} });
		// The next move of the line is not held up by such a marker either.
		await service("products").adapter.updateMany({ _id: p.id }, { $set: { "moves.leftover-1": { to: "held", attempt: record.attempt, at: new Date().toISOString() } }, $inc: { inFlight: 1 } });
		await broker.call("products.releaseStock", { reservationId: "leftover-1", items: line(p, 1) });
		expect(await raw(p.id)).toMatchObject({ stock: 5, reserved: 0, inFlight: 0, moves: {} });

		await movements().updateMany({ _id: movementId("leftover-1", p.id) }, { $set: { updatedAt: "2000-01-01T00:00:00.000Z" } });
		expect((await sweep()).pruned).toBeGreaterThanOrEqual(1);
		expect(await movement("leftover-1", p.id)).toBeNull();
	});

	it("ends cart claims after their orders: kept for a lost order, emptied for a paid one, left alone for a pending one", async () => {
		const [lost, paid, pending] = [newCustomer(), newCustomer(), newCustomer()];
		const p = await product(10);
		for (const who of [lost, paid, pending]) await fill(who, p);
		await broker.call("carts.claimCheckout", { orderId: "never-written" }, lost);
		const order = await checkout(paid);
		await broker.call("carts.addItem", { productId: p.id, quantity: 1 }, paid);
		await broker.call("carts.claimCheckout", { orderId: order.id }, paid);
		const stalled = await service("orders").adapter.insert({ _id: "stalled-order", customerId: pending.meta.customer.id, status: "pending", step: "created", items: [], idempotencyScope: "order:stalled-order", createdAt: longAgo(), updatedAt: longAgo() });
		await broker.call("carts.claimCheckout", { orderId: stalled._id }, pending);
		await expect(fill(lost, p)).rejects.toEqual(failure(409, ErrorTypes.CART_BUSY));

		expect(await service("carts").sweepClaims()).toBe(0);
		await service("carts").adapter.updateMany({ "checkout.orderId": { $in: ["never-written", order.id, "stalled-order"] } }, { $set: { "checkout.at": longAgo() } });
		expect(await service("carts").sweepClaims()).toBe(2);
		expect((await fill(lost, p)).itemCount).toBe(2);
		expect((await broker.call<PricedCart, any>("carts.get", {}, paid)).items).toEqual([]);
		await expect(fill(pending, p)).rejects.toEqual(failure(409, ErrorTypes.CART_BUSY));
		// A checkout that stalled between claiming the cart and writing the order can no longer write it.
		expect(await broker.call("orders.get", { id: "never-written" }, admin)).toMatchObject({ status: "payment_failed" });
	});

	it("sets the shelf count during a hold without inventing a unit when the hold is released, or losing one when it is sold", async () => {
		const p = await product(10);
		const hold = (id: string) => broker.call("products.reserveStock", { reservationId: id, items: line(p, 3) });
		await hold("declined-1");
		await broker.call("products.update", { id: p.id, onHand: 10 }, admin);
		expect(await read(p.id)).toMatchObject({ onHand: 10, reserved: 3, stock: 7 });
		await broker.call("products.releaseStock", { reservationId: "declined-1", items: line(p, 3) });
		expect(await read(p.id)).toMatchObject({ onHand: 10, reserved: 0, stock: 10 });

		await hold("paid-1");
		await broker.call("products.update", { id: p.id, onHand: 12, price: 999 }, admin);
		await broker.call("products.commitStock", { reservationId: "paid-1", items: line(p, 3) });
		expect(await read(p.id)).toMatchObject({ onHand: 9, reserved: 0, stock: 9, sold: 3, price: 999 });

		await hold("pending-1");
		await expect(broker.call("products.update", { id: p.id, onHand: 2 }, admin)).rejects.toEqual(failure(409, ErrorTypes.STOCK_BELOW_RESERVED));
		expect(await read(p.id)).toMatchObject({ onHand: 9, reserved: 3, stock: 6 });
	});

	it("never lets stock go negative or counters disagree while reservations, duplicate releases and sales, and admin edits race", async () => {
		const p = await product(30);
		const call = (action: string, id: string) => broker.call(`products.${action}`, { reservationId: id, items: line(p, 2) }).catch((e: { type?: string }) => e.type);
		const reservations: Promise<unknown>[] = [];
		for (let i = 0; i < 20; i++) {
			reservations.push(call("reserveStock", `race-${i}`), call("reserveStock", `race-${i}`));
			if (i % 5 === 0) reservations.push(broker.call("products.update", { id: p.id, onHand: 40 - i }, admin).catch(() => null));
		}
		await Promise.all(reservations);
		const mid = await raw(p.id);
		expect(brokenInvariants(mid)).toEqual([]);
		expect(mid.reserved).toBe((await movements().find({ query: { productId: p.id, state: "held" } })).length * 2);
		// Every release and sale sent twice at once, as a retry after a timeout would.
		const settle = (i: number) => call(i % 2 ? "commitStock" : "releaseStock", `race-${i}`);
		await Promise.all(Array.from({ length: 20 }, (_, i) => [settle(i), settle(i)]).flat());
		const end = await raw(p.id);
		const sold = (await movements().find({ query: { productId: p.id, state: "committed" } })).length * 2;
		expect(brokenInvariants(end)).toEqual([]);
		expect(end).toMatchObject({ reserved: 0, sold, stock: end.onHand, inFlight: 0 });
		expect(end.onHand).toBeGreaterThanOrEqual(0);
	});

	it("counts sold net of cancellations", async () => {
		const who = newCustomer();
		const p = await product(20);
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			await fill(who, p, 2);
			ids.push((await checkout(who)).id);
		}
		await broker.call("orders.cancel", { id: ids[1] }, who);
		expect(await read(p.id)).toMatchObject({ sold: 4, onHand: 16, stock: 16, reserved: 0 });
	});

	it("keeps product and cart documents the same size however many orders a product has", async () => {
		const who = newCustomer();
		const p = await product(1000);
		const sizes = async () => ({
			product: JSON.stringify(await raw(p.id)).length,
			cart: JSON.stringify(await service("carts").adapter.findOne({ customerId: who.meta.customer.id })).length
		});
		const buy = async (n: number) => {
			for (let i = 0; i < n; i++) {
				await fill(who, p);
				await checkout(who, i % 4 === 3 ? "tok_chargeDeclined" : "tok_visa").catch(e => expect(e.type).toBe(ErrorTypes.PAYMENT_DECLINED));
				if (i % 4 === 3) await broker.call("carts.clear", {}, who);
			}
		};
		await buy(12);
		const early = await sizes();
		await buy(48);
		const late = await sizes();
		// Only counters' digits may differ (sold 9 → 45, version 2 digits → 3).
		expect(Math.abs(late.product - early.product)).toBeLessThanOrEqual(4);
		expect(Math.abs(late.cart - early.cart)).toBeLessThanOrEqual(4);
		expect(await movements().count({ query: { productId: p.id } })).toBe(60);
	});
});
