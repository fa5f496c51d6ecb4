/**
 * The stock sweep of the products service, run every minute on every products node (PeriodicMixin, at a
 * random offset), so no unit stays held for ever and the movement records stay bounded:
 *
 * 1. a move claimed longer than ORPHAN_SWEEP_AFTER ago and not finished (its attempt stopped: a crash, a
 *    lost connection) is driven to its end with the same attempt id (`completeMove`);
 * 2. markers whose move finished, older than ORPHAN_SWEEP_AFTER, are dropped from the product;
 * 3. holds older than ORPHAN_SWEEP_AFTER whose order is missing or settled are settled after the order:
 *    sold for a paid order, released otherwise (a missing order, payment_failed, cancelled); holds of
 *    pending orders are left to the orders service's recovery, which always comes first;
 * 4. records of settled order lines older than ORDER_RECORD_RETENTION_DAYS are pruned.
 *
 * Every step is a compare-and-set, so sweeps on several nodes, and live checkouts, may run at once.
 */
import type { ServiceSchema } from "moleculer";
import { FINAL_MOVEMENT_STATES, dropMarkerOperation, markerOf, movementId, type MoveMarker, type StockMovement } from "../domain/stock";
import type { ShopConfig } from "../lib/config";
import { SWEEP_BATCH, settleAfterOrders, staleBefore, sweepIntervalMs } from "../lib/sweep";
import { PeriodicMixin } from "./periodic.mixin";
import type { StockThis } from "./stock-movements.mixin";

/** What one sweep did: moves driven to their end, markers dropped, holds settled, records pruned. */
export interface SweepResult {
	moves: number;
	markers: number;
	holds: number;
	pruned: number;
}

type SweepThis = StockThis & { config: ShopConfig };

export const StockSweepMixin: Partial<ServiceSchema> = {
	mixins: [PeriodicMixin({ method: "sweepStock", intervalMs: service => sweepIntervalMs((service as SweepThis).config), jitter: true })],

	methods: {
		/** One sweep (see above). Answers what it did. */
		async sweepStock(this: SweepThis): Promise<SweepResult> {
			const cutoff = staleBefore(this.config.orphanSweepAfterSeconds);
			const result: SweepResult = { moves: 0, markers: 0, holds: 0, pruned: 0 };
			const movements = this.stores.movements;

			const stalled = (await movements.find({ query: { "pending.at": { $lt: cutoff } }, sort: ["pending.at"], limit: SWEEP_BATCH })) as StockMovement[];
			for (const record of stalled) {
				await this.completeMove(record.orderId, record.productId, record.state, record.quantity, record.pending!).then(
					() => (result.moves += 1),
					err => this.logger.warn(`Sweep could not finish the stock move of order ${record.orderId} on ${record.productId}; next time.`, err)
				);
			}

			for (const product of await this.adapter.find({ query: { inFlight: { $gt: 0 } }, limit: SWEEP_BATCH })) {
				for (const [orderId, marker] of Object.entries((product.moves ?? {}) as Record<string, MoveMarker>)) {
					if (marker.at >= cutoff || markerOf(marker, (await movements.findById(movementId(orderId, product._id))) as StockMovement | null) !== "left over") continue;
					result.markers += await this.applyStockOperation(dropMarkerOperation(product._id, orderId, marker.attempt));
				}
			}

			const held = (await movements.find({ query: { state: "held", updatedAt: { $lt: cutoff } }, sort: ["updatedAt"], limit: SWEEP_BATCH })) as StockMovement[];
			result.holds = await settleAfterOrders(
				this,
				held.filter(record => !record.pending),
				record => record.orderId,
				async (record, status) => {
					const to = status === "paid" ? "committed" : "released";
					this.logger.warn(`Sweeping the stock hold of order ${record.orderId} on ${record.productId} (order ${status}): ${to}.`);
					return (await this.moveLines(record.orderId, [{ productId: record.productId, quantity: record.quantity }], to))[0] === "moved";
				},
				// Held for a pending order: its recovery decides; to the back of the next sweep.
				record => movements.updateMany({ _id: record._id, state: "held", pending: { $exists: false } }, { $set: { updatedAt: new Date().toISOString() } })
			);

			const retention = staleBefore(this.config.orderRecordRetentionDays * 86_400);
			result.pruned = Number(await movements.removeMany({ state: { $in: FINAL_MOVEMENT_STATES }, updatedAt: { $lt: retention } }));
			return result;
		}
	}
} as unknown as Partial<ServiceSchema>;
