/**
 * The claim sweep of the carts service, run every minute on every carts node (PeriodicMixin, at a random
 * offset): a checkout claim older than ORPHAN_SWEEP_AFTER is settled after its order: a paid or cancelled
 * order completes it (the cart is emptied, as the checkout would have), a missing or failed order releases
 * it (the cart is kept). A missing order is written as abandoned by the orders service first, so a checkout
 * that stalled between claiming the cart and writing its order can never write it later. A pending order is
 * left to the orders service's recovery, which ends the claim itself. Every step is a compare-and-set on the
 * claim's order id.
 */
import type { Service, ServiceSchema } from "moleculer";
import type { StoredCart } from "../domain/cart";
import type { ShopConfig } from "../lib/config";
import type { StoreAdapter } from "../lib/store";
import { SWEEP_BATCH, settleAfterOrders, staleBefore, sweepIntervalMs } from "../lib/sweep";
import { PeriodicMixin } from "./periodic.mixin";

type ClaimSweepThis = Service & {
	config: ShopConfig;
	adapter: StoreAdapter;
	endClaim(params: { customerId: string; orderId: string }, set: Partial<StoredCart>): Promise<boolean>;
};

export const ClaimSweepMixin: Partial<ServiceSchema> = {
	mixins: [PeriodicMixin({ method: "sweepClaims", intervalMs: service => sweepIntervalMs((service as ClaimSweepThis).config), jitter: true })],

	methods: {
		/** One sweep (see above). Answers how many claims it ended. */
		async sweepClaims(this: ClaimSweepThis): Promise<number> {
			const stale = (await this.adapter.find({ query: { "checkout.at": { $lt: staleBefore(this.config.orphanSweepAfterSeconds) } }, sort: ["checkout.at"], limit: SWEEP_BATCH })) as StoredCart[];
			return settleAfterOrders(
				this,
				stale,
				cart => cart.checkout!.orderId,
				async (cart, status) => {
					const paid = status === "paid" || status === "cancelled";
					this.logger.warn(`Sweeping the checkout claim of order ${cart.checkout!.orderId} on the cart of ${cart.customerId} (order ${status}).`);
					return this.endClaim({ customerId: cart.customerId, orderId: cart.checkout!.orderId }, paid ? { items: [] } : {});
				},
				// The order is pending: its recovery ends the claim; to the back of the next sweep.
				cart => this.adapter.updateMany({ _id: cart._id, "checkout.orderId": cart.checkout!.orderId }, { $set: { "checkout.at": new Date().toISOString() } })
			);
		}
	}
} as unknown as Partial<ServiceSchema>;
