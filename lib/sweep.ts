/**
 * What the orphan sweeps of the products and carts services share: when something is stale, how often a
 * sweep runs, and settling things after the order they belong to. Every sweep is safe to run on several
 * nodes at once (each step is a compare-and-set), and sweeps start at a random offset so replicas do not
 * run in lockstep.
 */
import type { Service } from "moleculer";
import type { OrderStatus } from "../domain/order";
import type { ShopConfig } from "./config";

/** How many things one sweep looks at; the next sweep takes the rest. */
export const SWEEP_BATCH = 100;

/** The ISO 8601 time `seconds` ago: anything last touched before it is stale. */
export function staleBefore(seconds: number): string {
	return new Date(Date.now() - seconds * 1000).toISOString();
}

/** How often (ms) a sweep runs: every minute, or as often as the grace period ORPHAN_SWEEP_AFTER when shorter. */
export function sweepIntervalMs(config: ShopConfig): number {
	return Math.min(60_000, config.orphanSweepAfterSeconds * 1000);
}

/**
 * Settles `items` after their orders. Asks `orders.abandonMissing` for the orders' statuses (an order that
 * does not exist is written as abandoned there, so a checkout stalled before writing it can never write it
 * later), then for each item: a pending order → `keep` (its own recovery comes first; `keep` moves the item
 * to the back of the next sweep), otherwise `settle` with the status. Each item on its own: an error is
 * logged and the item comes again next time. Answers how many `settle` reported done.
 */
export async function settleAfterOrders<T>(
	service: Service,
	items: readonly T[],
	orderIdOf: (item: T) => string,
	settle: (item: T, status: OrderStatus) => Promise<boolean>,
	keep: (item: T) => Promise<unknown>
): Promise<number> {
	if (items.length === 0) return 0;
	const statuses: Record<string, OrderStatus> = await service.broker.call("orders.abandonMissing", { ids: [...new Set(items.map(orderIdOf))] });
	let settled = 0;
	for (const item of items) {
		const orderId = orderIdOf(item);
		try {
			if (statuses[orderId] === "pending") await keep(item);
			else if (await settle(item, statuses[orderId])) settled += 1;
		} catch (err) {
			service.logger.warn(`Sweep could not settle what order ${orderId} left; it comes again next time.`, err);
		}
	}
	return settled;
}
