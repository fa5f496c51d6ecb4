/**
 * Reliability scenarios: each runs real nodes (NATS, Redis, MongoDB or the Mongo-wire server), puts a load
 * and faults on them, and counts what came out of the stores afterwards: orders by status, captured
 * charges, stock, stock holds left behind, stuck orders and double charges. Used by `npm run reliability`
 * (RELIABILITY.md) and asserted by the cluster tests; no figure is assumed.
 */
import type { ServiceBroker } from "moleculer";
import { deleteStreams, startNode, startRedis, uniqueNamespace, waitFor, type ServiceName } from "../harness";
import type { Product } from "../../domain/catalog";
import type { Order } from "../../domain/order";

/** What a scenario observed. Counts are read from the stores after the run, not from the answers alone. */
export interface Outcome {
	scenario: string;
	load: string;
	faults: string;
	/** Orders by status, from the orders store. */
	paid: number;
	failed: number;
	pending: number;
	/** Checkouts refused with 409 (stock). */
	refused: number;
	/** Answers with a 5xx code (server faults), and other failures. */
	serverErrors: number;
	/** Captured payments, and captured payments without a paid order. */
	captured: number;
	capturedWithoutPaidOrder: number;
	/** Payments per order above one (the unique index should keep this 0). */
	doubleCharges: number;
	/** Units sold + units left − units at the start, summed over the products: 0 when no unit is lost or invented. */
	stockDrift: number;
	/** Stock still held after the run: movement records in `held`, and stock markers left in flight. */
	holdsLeft: number;
}

/** MONGO_URI (the run's MongoDB server) with a database of `namespace`'s own. */
export function databaseFor(namespace: string): string {
	const uri = new URL(process.env.MONGO_URI!);
	uri.pathname = `/${namespace.replace(/-/g, "_")}`;
	return uri.toString();
}

/** The store counts of an outcome. */
export type Counts = Omit<Outcome, "scenario" | "load" | "faults" | "refused" | "serverErrors">;

/**
 * Counts orders by status, payments (captured, captured without a paid order, more than one per order),
 * stock drift against `initialStock` (product id → units on hand at the start; a broken counter invariant
 * of `domain/stock.ts` counts as drift too) and stock still held, with `find(collection, query)` reading the
 * orders, payments, products and stock_movements collections.
 */
export async function countStores(find: (collection: string, query: object) => Promise<any[]>, initialStock: Map<string, number>): Promise<Counts> {
	// Orders written as abandoned by a sweep (their checkout never wrote them) belong to no customer.
	const orders = (await find("orders", {})).filter(o => !o.abandoned);
	const payments = await find("payments", {});
	const paidOrders = orders.filter(o => o.status === "paid");
	const paidIds = new Set(paidOrders.map(o => o._id));
	const perOrder = new Map<string, number>();
	for (const p of payments) perOrder.set(p.orderId, (perOrder.get(p.orderId) ?? 0) + 1);
	let stockDrift = 0;
	let holdsLeft = 0;
	for (const [id, initial] of initialStock) {
		const [doc] = await find("products", { _id: id });
		const sold = paidOrders.flatMap(o => o.items).filter(i => i.productId === id).reduce((n, i) => n + i.quantity, 0);
		stockDrift += Math.abs(sold + doc.stock - initial) + Math.abs(doc.stock - (doc.onHand - doc.reserved)) + Math.abs(doc.sold - sold);
		holdsLeft += (await find("stock_movements", { productId: id, state: "held" })).length + (doc.inFlight ?? 0);
	}
	const captured = payments.filter(p => p.status === "captured");
	return {
		paid: paidIds.size,
		failed: orders.filter(o => o.status === "payment_failed").length,
		pending: orders.filter(o => o.status === "pending").length,
		captured: captured.length,
		capturedWithoutPaidOrder: captured.filter(p => !paidIds.has(p.orderId)).length,
		doubleCharges: [...perOrder.values()].reduce((n, c) => n + Math.max(0, c - 1), 0),
		stockDrift,
		holdsLeft
	};
}

const ADMIN = { meta: { customer: { id: "reliability-admin", email: "admin@reliability.test", role: "admin" as const } } };
const customer = (id: string) => ({ meta: { customer: { id, email: `${id}@reliability.test`, role: "customer" as const } } });

/** A set of nodes, one per service, in a namespace and a database of their own. */
export class Shop {
	readonly nodes: ServiceBroker[] = [];
	private constructor(readonly namespace: string) {}

	/**
	 * Starts one node per entry of `services` (a service may be listed twice for two replicas), with
	 * `cacher` overriding the Redis URL and `env` the nodes' settings. MONGO_URI must name the run's MongoDB.
	 */
	static async start(label: string, options: { cacher?: string; services?: ServiceName[]; env?: NodeJS.ProcessEnv } = {}): Promise<Shop> {
		const shop = new Shop(uniqueNamespace(label));
		const saved = process.env.MONGO_URI;
		process.env.MONGO_URI = databaseFor(shop.namespace);
		try {
			for (const [i, service] of (options.services ?? (["products", "payments", "carts", "notifications", "orders"] as ServiceName[])).entries()) {
				shop.nodes.push(await startNode(`${shop.namespace}-${service}-${i}`, [service], { namespace: shop.namespace, cacher: options.cacher, env: options.env }));
			}
		} finally {
			process.env.MONGO_URI = saved;
		}
		await shop.caller.waitForServices(["products", "payments", "carts", "orders"], 15_000);
		return shop;
	}

	get caller(): ServiceBroker {
		return this.nodes[this.nodes.length - 1];
	}

	/** The first local instance of `service` (its methods and stores). */
	service(name: string): any {
		return this.nodes.find(node => node.getLocalService(name))!.getLocalService(name);
	}

	/** The adapter of a collection: a service's own, or `stock_movements` (kept by the products service). */
	store(collection: string): any {
		return collection === "stock_movements" ? this.service("products").stores.movements : this.service(collection).adapter;
	}

	product(stock: number): Promise<Product> {
		return this.caller.call("products.create", { sku: `R-${Math.random().toString(36).slice(2, 10)}`, name: "Lantern", category: "Gear", price: 2500, stock }, ADMIN);
	}

	/** A new customer (its call options) whose cart holds one unit of each of `products`. */
	async shopper(products: Product[]) {
		const who = customer(`shopper-${Math.random().toString(36).slice(2, 12)}`);
		for (const p of products) await this.caller.call("carts.addItem", { productId: p.id, quantity: 1 }, who);
		return who;
	}

	checkout(who: ReturnType<typeof customer>, idempotencyKey?: string): Promise<Order> {
		return this.caller.call("orders.checkout", { paymentToken: "tok_visa" }, { meta: { ...who.meta, idempotencyKey } });
	}

	/** Counts the stores (see `countStores`). */
	count(initialStock: Map<string, number>): Promise<Counts> {
		return countStores((collection, query) => this.store(collection).find({ query }), initialStock);
	}

	async stop(): Promise<void> {
		await Promise.all(this.nodes.map(node => node.stop()));
		await deleteStreams(this.namespace);
	}
}

/** Tallies settled checkouts: refusals with 409 and server errors (5xx or no code). */
export function tally(results: PromiseSettledResult<unknown>[]) {
	const errors = results.filter(r => r.status === "rejected").map(r => (r as PromiseRejectedResult).reason);
	return { refused: errors.filter(e => e?.code === 409).length, serverErrors: errors.filter(e => !(e?.code >= 400 && e?.code < 500)).length };
}

/** `buyers` concurrent checkouts of one unit each for a product with `units` in stock. */
export async function raceForLastUnits(buyers = 200, units = 50): Promise<Outcome> {
	const shop = await Shop.start("race");
	try {
		const p = await shop.product(units);
		const shoppers = [];
		for (let i = 0; i < buyers; i++) shoppers.push(await shop.shopper([p]));
		const results = await Promise.allSettled(shoppers.map(who => shop.checkout(who)));
		return { scenario: "Race for the last units", load: `${buyers} concurrent checkouts, ${units} units`, faults: "none", ...tally(results), ...(await shop.count(new Map([[p.id, units]]))) };
	} finally {
		await shop.stop();
	}
}

/** Two-product orders racing single-product ones for two products with `units` each. */
export async function multiLineRace(groups = 10, units = 5): Promise<Outcome> {
	const shop = await Shop.start("multiline");
	try {
		const [x, y] = [await shop.product(units), await shop.product(units)];
		const shoppers = [];
		for (let i = 0; i < groups; i++) shoppers.push(await shop.shopper([x, y]), await shop.shopper([x]), await shop.shopper([y]));
		const results = await Promise.allSettled(shoppers.map(who => shop.checkout(who)));
		const load = `${groups * 3} concurrent checkouts (${groups} for X+Y, ${groups} X, ${groups} Y), ${units}+${units} units`;
		return { scenario: "Two-product orders racing single-product orders", load, faults: "none", ...tally(results), ...(await shop.count(new Map([[x.id, units], [y.id, units]]))) };
	} finally {
		await shop.stop();
	}
}

/** The same Idempotency-Key sent `copies` times at once. */
export async function sameKeyTwenty(copies = 20): Promise<Outcome & { distinctOrders: number }> {
	const shop = await Shop.start("idempotency");
	try {
		const p = await shop.product(10);
		const who = await shop.shopper([p]);
		const results = await Promise.allSettled(Array.from({ length: copies }, () => shop.checkout(who, "reliability-key")));
		const ids = new Set(results.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<Order>).value.id));
		return { scenario: "Same Idempotency-Key sent at once", load: `${copies} concurrent requests, 1 customer`, faults: "none", distinctOrders: ids.size, ...tally(results), ...(await shop.count(new Map([[p.id, 10]]))) };
	} finally {
		await shop.stop();
	}
}

/**
 * Checkouts and product reads while Redis is killed and restarted: `rounds` rounds of 20 reads and 5
 * checkouts; Redis is down for the middle third.
 */
export async function redisOutageUnderLoad(rounds = 15): Promise<Outcome & { reads: number; readErrors: number }> {
	let redis = await startRedis();
	const shop = await Shop.start("redis", { cacher: redis.url });
	try {
		const p = await shop.product(rounds * 5);
		const results: PromiseSettledResult<unknown>[] = [];
		let reads = 0;
		let readErrors = 0;
		for (let round = 0; round < rounds; round++) {
			if (round === Math.floor(rounds / 3)) await redis.kill();
			if (round === Math.floor((2 * rounds) / 3)) redis = await startRedis(redis.port);
			const shoppers = await Promise.all(Array.from({ length: 5 }, () => shop.shopper([p])));
			const readResults = await Promise.allSettled(Array.from({ length: 20 }, () => shop.caller.call("products.get", { id: p.id })));
			reads += readResults.length;
			readErrors += readResults.filter(r => r.status === "rejected").length;
			results.push(...(await Promise.allSettled(shoppers.map(who => shop.checkout(who)))));
		}
		await waitFor(() => (shop.nodes[0].cacher as any).connected === true, "the cacher to reconnect");
		const load = `${rounds} rounds of 20 product reads + 5 checkouts`;
		const counted = tally(results);
		return {
			scenario: "Redis down during load",
			load,
			faults: `Redis killed for rounds ${Math.floor(rounds / 3) + 1}–${Math.floor((2 * rounds) / 3)}, then restarted`,
			reads,
			readErrors,
			refused: counted.refused,
			serverErrors: counted.serverErrors + readErrors,
			...(await shop.count(new Map([[p.id, rounds * 5]])))
		};
	} finally {
		await shop.stop();
		await redis.kill();
	}
}

/**
 * `orders` paid checkouts while the notifications node is down; it is started again afterwards and must
 * record exactly one confirmation per order (the events wait in JetStream meanwhile).
 */
export async function consumerDown(orders = 10): Promise<Outcome & { confirmations: number }> {
	const shop = await Shop.start("consumer", { services: ["products", "payments", "carts", "orders"] });
	try {
		const p = await shop.product(orders);
		const results: PromiseSettledResult<Order>[] = [];
		for (let i = 0; i < orders; i++) results.push(...(await Promise.allSettled([shop.checkout(await shop.shopper([p]))])));
		const paidIds = results.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<Order>).value.id);
		shop.nodes.unshift(await startNode(`${shop.namespace}-notifications`, ["notifications"], { namespace: shop.namespace }));
		const notifications = shop.store("notifications");
		await waitFor(async () => (await notifications.count({ query: { kind: "order.paid" } })) >= paidIds.length, "the confirmations", 30_000);
		const perOrder = await Promise.all(paidIds.map(orderId => notifications.count({ query: { orderId, kind: "order.paid" } })));
		return {
			scenario: "Notifications node down during checkouts",
			load: `${orders} checkouts, then the node starts`,
			faults: "notifications node not running while the events are published",
			confirmations: perOrder.filter(n => n === 1).length,
			...tally(results),
			...(await shop.count(new Map([[p.id, orders]])))
		};
	} finally {
		await shop.stop();
	}
}
