/**
 * Reliability scenarios of ordinary use, not exotic faults: one cart checked out many times at once without
 * an Idempotency-Key (a double-click, two tabs, a client retry), across two orders nodes; and stock
 * reservations that land after the checkout gave up on them (a slow products node), one order of which is
 * then lost. Counts come from the stores, like the other scenarios.
 */
import type { ServiceBroker } from "moleculer";
import { waitFor } from "../harness";
import { Shop, tally, type Outcome } from "./scenarios";
import type { StockOperation } from "../../domain/stock";

/** `copies` identical checkouts of one cart (one unit) sent at once without a key, spread over two orders nodes. */
export async function doubleSubmit(copies = 20): Promise<Outcome & { distinctOrders: number; inProgress: number; emptyCart: number }> {
	const shop = await Shop.start("double-submit", { services: ["products", "payments", "carts", "notifications", "orders", "orders"] });
	try {
		const p = await shop.product(10);
		const who = await shop.shopper([p]);
		// From the products node, which hosts no orders service: NATS spreads the calls over both orders nodes.
		const client: ServiceBroker = shop.nodes[0];
		const results = await Promise.allSettled(Array.from({ length: copies }, () => client.call<{ id: string }, object>("orders.checkout", { paymentToken: "tok_visa" }, who)));
		const errors = results.filter(r => r.status === "rejected").map(r => (r as PromiseRejectedResult).reason);
		const ids = new Set(results.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<{ id: string }>).value.id));
		const load = `${copies} concurrent checkouts of one cart, no Idempotency-Key, 2 orders nodes`;
		const inProgress = errors.filter(e => e?.type === "CHECKOUT_IN_PROGRESS").length;
		const emptyCart = errors.filter(e => e?.type === "EMPTY_CART").length;
		const faults = `none; ${inProgress} × 409 CHECKOUT_IN_PROGRESS, ${emptyCart} × 422 EMPTY_CART`;
		const counted = tally(results);
		return { scenario: "Double submit of one cart", load, faults, distinctOrders: ids.size, inProgress, emptyCart, ...counted, ...(await shop.count(new Map([[p.id, 10]]))) };
	} finally {
		await shop.stop();
	}
}

/** True when `op` is the product update of a stock hold (a `none → held` move, step 2 of `domain/stock.ts`). */
export function placesHold(op: StockOperation): boolean {
	const set = (op.update.$set ?? {}) as Record<string, { to?: string }>;
	return Object.entries(set).some(([field, value]) => field.startsWith("moves.") && value?.to === "held");
}

/**
 * `checkouts` checkouts whose stock reservations are held back on the products node until every checkout
 * gave up on them (the orders node's request timeout lowered to 500 ms), then let through; and one hold for
 * an order that does not exist (its document lost). Recovery (ORDER_RECOVERY_AFTER=1) and the stock sweep
 * (ORPHAN_SWEEP_AFTER=3) must leave no unit held.
 */
export async function lateReservations(checkouts = 5): Promise<Outcome & { lateAttempts: number }> {
	const shop = await Shop.start("late-reservation", { env: { ORDER_RECOVERY_AFTER: "1", ORPHAN_SWEEP_AFTER: "3" } });
	try {
		const p = await shop.product(checkouts * 2);
		const shoppers = await Promise.all(Array.from({ length: checkouts }, () => shop.shopper([p])));
		const products = shop.service("products");
		const apply = products.applyStockOperation.bind(products);
		let open!: () => void;
		const gate = new Promise<void>(resolve => (open = resolve));
		let lateAttempts = 0;
		products.applyStockOperation = async (op: StockOperation) => {
			if (placesHold(op)) {
				lateAttempts += 1;
				await gate;
			}
			return apply(op);
		};
		// The orders node gives up on a reservation after 500 ms (three attempts) instead of 10 s.
		shop.nodes.find(node => node.getLocalService("orders"))!.options.requestTimeout = 500;
		const results = await Promise.allSettled(shoppers.map(who => shop.checkout(who)));
		open();
		await shop.caller.call("products.reserveStock", { reservationId: `lost-order-${Date.now()}`, items: [{ productId: p.id, quantity: 1 }] });
		const movements = shop.store("stock_movements");
		await waitFor(
			async () =>
				(await shop.store("orders").count({ query: { status: "pending" } })) === 0 &&
				(await movements.count({ query: { state: "held" } })) === 0 &&
				(await movements.count({ query: { pending: { $exists: true } } })) === 0 &&
				((await shop.store("products").findById(p.id)).inFlight ?? 0) === 0,
			"recovery and the sweep to settle every late reservation",
			30_000
		).catch(async err => {
			const state = {
				pending: await shop.store("orders").find({ query: { status: "pending" } }),
				held: await movements.find({ query: { state: "held" } }),
				product: await shop.store("products").findById(p.id)
			};
			throw new Error(`${err.message}: ${JSON.stringify(state)}`);
		});
		const load = `${checkouts} checkouts whose reservations land after the checkout gave up on them`;
		const faults = `${lateAttempts} reservation attempts held back past the caller's timeout, then let through; 1 hold whose order document is missing`;
		return { scenario: "Reservations landing after the checkout gave up", load, faults, lateAttempts, ...tally(results), ...(await shop.count(new Map([[p.id, checkouts * 2]]))) };
	} finally {
		await shop.stop();
	}
}
